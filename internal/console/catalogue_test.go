package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/group"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/internal/user"
)

// fieldError matches the rule's message beside the named field.
func fieldError(name string) *regexp.Regexp {
	return regexp.MustCompile(`id="` + name + `"[^>]*aria-invalid="true"[^>]*>(<option[^<]*</option>)*(</select>)?<span id="` + name + `-error" class="field-error">[^<]+</span>`)
}

// whodunnit is who the event log says made the account's last event of type name.
func (s *site) whodunnit(name string) string {
	s.t.Helper()
	rows, _, err := s.app.EventLog.List(context.Background(), s.operator(), s.tenant, event.LogFilter{Event: name}, page.Request{Limit: 1})
	if err != nil || len(rows) != 1 || rows[0].WhodunnitID == nil {
		s.t.Fatalf("event %s: %v %v", name, rows, err)
	}
	return *rows[0].WhodunnitID
}

func (s *site) admin() *user.User {
	s.t.Helper()
	u, err := s.app.Users.Find(context.Background(), s.operator(), s.tenant, "admin@acme.test")
	if err != nil {
		s.t.Fatal(err)
	}
	return u
}

func TestEntitlementPages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		br := s.browser()
		br.login("acme", "admin@acme.test", "password-acme")
		token := br.csrf("/console/acme/entitlements")
		p := br.post("/console/acme/entitlements", url.Values{"csrf": {token}, "name": {"Pro features"}, "code": {""}})
		if p.status != http.StatusUnprocessableEntity || !fieldError("code").MatchString(p.body) || !strings.Contains(p.body, `value="Pro features"`) {
			t.Fatalf("blank code: %d %s", p.status, p.body)
		}
		if p := br.post("/console/acme/entitlements", url.Values{"csrf": {token}, "name": {"Pro features"}, "code": {"PRO"}}); p.status != http.StatusSeeOther {
			t.Fatalf("create: %d %s", p.status, p.body)
		}
		if who := s.whodunnit(event.EntitlementCreated); who != s.admin().ID {
			t.Errorf("entitlement.created by %q, not the signed-in user", who)
		}
		list, _, err := s.app.Entitlements.List(context.Background(), s.operator(), s.tenant, page.Request{Limit: 10})
		if err != nil || len(list) != 1 {
			t.Fatalf("entitlements: %v %v", list, err)
		}
		e := list[0]
		if p := br.get("/console/acme/entitlements"); p.status != http.StatusOK || !strings.Contains(p.body, "PRO") {
			t.Fatalf("list: %d %s", p.status, p.body)
		}
		if p := br.get("/console/acme/entitlements?q=feat"); p.status != http.StatusOK || !strings.Contains(p.body, "PRO") || !strings.Contains(p.body, "1 entitlements matching") {
			t.Fatalf("search by name: %d %s", p.status, p.body)
		}
		if p := br.get("/console/acme/entitlements?q=nothing"); p.status != http.StatusOK || strings.Contains(p.body, ">PRO<") {
			t.Fatalf("search for nothing: %d %s", p.status, p.body)
		}
		if p := br.get("/console/acme/entitlements?q=x"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "too small") {
			t.Fatalf("a too short search is the API's error: %d %s", p.status, p.body)
		}
		p = br.post("/console/acme/entitlements/"+e.ID, url.Values{"csrf": {token}, "name": {""}, "code": {"PRO"}})
		if p.status != http.StatusUnprocessableEntity || !fieldError("name").MatchString(p.body) {
			t.Fatalf("blank name on edit: %d %s", p.status, p.body)
		}
		if p := br.post("/console/acme/entitlements/"+e.ID, url.Values{"csrf": {token}, "name": {"Professional"}, "code": {"PRO2"}}); p.status != http.StatusSeeOther {
			t.Fatalf("edit: %d %s", p.status, p.body)
		}
		if p := br.get("/console/acme/entitlements/" + e.ID); p.status != http.StatusOK || !strings.Contains(p.body, `value="PRO2"`) {
			t.Fatalf("edited: %d %s", p.status, p.body)
		}
		if s.whodunnit(event.EntitlementUpdated) != s.admin().ID {
			t.Error("entitlement.updated not by the signed-in user")
		}
		if p := br.post("/console/acme/entitlements/"+e.ID+"/delete", url.Values{"csrf": {token}}); p.status != http.StatusSeeOther {
			t.Fatalf("delete: %d", p.status)
		}
		if p := br.get("/console/acme/entitlements/" + e.ID); p.status != http.StatusNotFound {
			t.Fatalf("deleted: %d", p.status)
		}
	})
}

func TestGroupPages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		dev, err := s.app.Users.Create(context.Background(), s.operator(), s.tenant, user.Params{Email: optional.Of("dev@acme.test"), Role: optional.Of("user")})
		if err != nil {
			t.Fatal(err)
		}
		br := s.browser()
		br.login("acme", "admin@acme.test", "password-acme")
		token := br.csrf("/console/acme/groups")
		for field, form := range map[string]url.Values{
			"max_users":    {"name": {"Team"}, "max_users": {"0"}},
			"max_machines": {"name": {"Team"}, "max_machines": {"many"}},
			"name":         {"name": {" "}},
		} {
			form.Set("csrf", token)
			if p := br.post("/console/acme/groups", form); p.status != http.StatusUnprocessableEntity || !fieldError(field).MatchString(p.body) {
				t.Fatalf("bad %s: %d %s", field, p.status, p.body)
			}
		}
		if p := br.post("/console/acme/groups", url.Values{"csrf": {token}, "name": {"Team"}, "max_users": {"5"}}); p.status != http.StatusSeeOther {
			t.Fatalf("create: %d %s", p.status, p.body)
		}
		groups, _, err := s.app.Groups.List(context.Background(), s.operator(), s.tenant, page.Request{Limit: 10})
		if err != nil || len(groups) != 1 || groups[0].MaxUsers == nil || *groups[0].MaxUsers != 5 {
			t.Fatalf("groups: %+v %v", groups, err)
		}
		g := groups[0]
		if s.whodunnit(event.GroupCreated) != s.admin().ID {
			t.Error("group.created not by the signed-in user")
		}
		if p := br.get("/console/acme/groups?q=tea"); p.status != http.StatusOK || !strings.Contains(p.body, "/console/acme/groups/"+g.ID) {
			t.Fatalf("search: %d %s", p.status, p.body)
		}
		base := "/console/acme/groups/" + g.ID
		if p := br.post(base+"/save", url.Values{"csrf": {token}, "name": {"Team A"}, "max_users": {""}}); p.status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", p.status, p.body)
		}
		if got, _ := s.app.Groups.Find(context.Background(), s.operator(), s.tenant, g.ID); got.Name != "Team A" || got.MaxUsers != nil {
			t.Fatalf("saved: %+v", got)
		}
		if p := br.post(base+"/owners", url.Values{"csrf": {token}, "owner": {"nobody@acme.test"}}); p.status != http.StatusUnprocessableEntity || !fieldError("owner").MatchString(p.body) {
			t.Fatalf("unknown owner: %d %s", p.status, p.body)
		}
		if p := br.post(base+"/owners", url.Values{"csrf": {token}, "owner": {"dev@acme.test"}}); p.status != http.StatusSeeOther {
			t.Fatalf("add owner: %d %s", p.status, p.body)
		}
		if p := br.post(base+"/owners", url.Values{"csrf": {token}, "owner": {"dev@acme.test"}}); p.status != http.StatusUnprocessableEntity || !fieldError("owner").MatchString(p.body) {
			t.Fatalf("owner twice: %d %s", p.status, p.body)
		}
		if p := br.get(base); p.status != http.StatusOK || !strings.Contains(p.body, "dev@acme.test") {
			t.Fatalf("group page: %d %s", p.status, p.body)
		}
		if p := br.post(base+"/remove-owner", url.Values{"csrf": {token}, "user": {dev.ID}}); p.status != http.StatusSeeOther {
			t.Fatalf("remove owner: %d %s", p.status, p.body)
		}
		if owners, _, _ := s.app.Groups.Owners(context.Background(), s.operator(), s.tenant, g.ID, page.Request{Limit: 10}); len(owners) != 0 {
			t.Fatalf("owners after removal: %v", owners)
		}
		if p := br.post(base+"/delete", url.Values{"csrf": {token}}); p.status != http.StatusSeeOther {
			t.Fatalf("delete: %d", p.status)
		}
		if s.whodunnit(event.GroupDeleted) != s.admin().ID {
			t.Error("group.deleted not by the signed-in user")
		}
	})
}

// releaseAndEntitlement is a release of the fixture's product and an
// entitlement, PRO.
func (s *site) releaseAndEntitlement(f fixture) (*release.Release, *entitlement.Entitlement) {
	s.t.Helper()
	ctx := context.Background()
	r, err := s.app.Releases.Create(ctx, s.operator(), s.tenant, release.Relations{Product: f.product.ID},
		release.Params{Version: optional.Of("1.0.0"), Channel: optional.Of("stable")})
	if err != nil {
		s.t.Fatal(err)
	}
	e, err := s.app.Entitlements.Create(ctx, s.operator(), s.tenant, entitlement.Params{Name: optional.Of("Pro"), Code: optional.Of("PRO")})
	if err != nil {
		s.t.Fatal(err)
	}
	return r, e
}

func TestReleaseConstraintPages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		f := s.fixture(s.tenant, "fp-1")
		ctx := context.Background()
		r, e := s.releaseAndEntitlement(f)
		br := s.browser()
		br.login("acme", "admin@acme.test", "password-acme")
		base := "/console/acme/releases/" + r.ID
		token := br.csrf(base)
		if p := br.post(base+"/constraints", url.Values{"csrf": {token}}); p.status != http.StatusUnprocessableEntity || !fieldError("entitlement").MatchString(p.body) {
			t.Fatalf("no entitlement: %d %s", p.status, p.body)
		}
		if p := br.post(base+"/constraints", url.Values{"csrf": {token}, "entitlement": {e.ID}}); p.status != http.StatusSeeOther {
			t.Fatalf("attach: %d %s", p.status, p.body)
		}
		if p := br.post(base+"/constraints", url.Values{"csrf": {token}, "entitlement": {e.ID}}); p.status != http.StatusUnprocessableEntity || !fieldError("entitlement").MatchString(p.body) {
			t.Fatalf("attach twice: %d %s", p.status, p.body)
		}
		if p := br.get(base); p.status != http.StatusOK || !strings.Contains(p.body, `<td class="constraint-code">PRO</td>`) {
			t.Fatalf("release page: %d %s", p.status, p.body)
		}
		if s.whodunnit(event.ReleaseConstraintsAttached) != s.admin().ID {
			t.Error("release.constraints.attached not by the signed-in user")
		}
		if p := br.post(base+"/remove-constraint", url.Values{"csrf": {token}, "entitlement": {e.ID}}); p.status != http.StatusSeeOther {
			t.Fatalf("detach: %d %s", p.status, p.body)
		}
		if got, _, _ := s.app.Entitlements.Attached(ctx, s.operator(), s.tenant, entitlement.OnRelease, entitlement.Ref{ID: r.ID}, page.Request{Limit: 10}); len(got) != 0 {
			t.Fatalf("constraints after detach: %v", got)
		}
	})
}

func TestCataloguePagesReadOnlyAndIsolated(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		ctx := context.Background()
		f := s.fixture(s.tenant, "fp-1")
		r, e := s.releaseAndEntitlement(f)
		g, err := s.app.Groups.Create(ctx, s.operator(), s.tenant, group.Params{Name: optional.Of("Team")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.app.Users.Create(ctx, s.operator(), s.tenant, user.Params{
			Email: optional.Of("ro@acme.test"), Password: optional.Of(ptr("password-ro")), Role: optional.Of("read-only")}); err != nil {
			t.Fatal(err)
		}
		ro := s.browser()
		ro.login("acme", "ro@acme.test", "password-ro")
		for _, path := range []string{"/console/acme/entitlements", "/console/acme/entitlements/" + e.ID, "/console/acme/groups/" + g.ID, "/console/acme/releases/" + r.ID} {
			if p := ro.get(path); p.status != http.StatusOK {
				t.Errorf("read-only GET %s: %d %s", path, p.status, p.body)
			}
		}
		token := ro.csrf("/console/acme/entitlements")
		for path, form := range map[string]url.Values{
			"/console/acme/entitlements":                      {"name": {"New"}, "code": {"NEW"}},
			"/console/acme/entitlements/" + e.ID:              {"name": {"Changed"}, "code": {"PRO"}},
			"/console/acme/entitlements/" + e.ID + "/delete":  {},
			"/console/acme/groups":                            {"name": {"New"}},
			"/console/acme/groups/" + g.ID + "/save":          {"name": {"Changed"}},
			"/console/acme/groups/" + g.ID + "/owners":        {"owner": {"ro@acme.test"}},
			"/console/acme/groups/" + g.ID + "/delete":        {},
			"/console/acme/releases/" + r.ID + "/constraints": {"entitlement": {e.ID}},
		} {
			form.Set("csrf", token)
			if p := ro.post(path, form); p.status != http.StatusForbidden {
				t.Errorf("read-only POST %s: %d %s", path, p.status, p.body)
			}
		}
		if got, _ := s.app.Entitlements.Find(ctx, s.operator(), s.tenant, e.ID); got == nil || got.Name != "Pro" {
			t.Fatalf("entitlement after read-only posts: %+v", got)
		}
		if got, _ := s.app.Groups.Find(ctx, s.operator(), s.tenant, g.ID); got == nil || got.Name != "Team" {
			t.Fatalf("group after read-only posts: %+v", got)
		}
		if list, _, _ := s.app.Entitlements.List(ctx, s.operator(), s.tenant, page.Request{Limit: 10}); len(list) != 1 {
			t.Fatalf("entitlements after read-only posts: %d", len(list))
		}

		// Malformed references are refusals, never failures.
		admin := s.browser()
		admin.login("acme", "admin@acme.test", "password-acme")
		adminToken := admin.csrf("/console/acme/groups")
		for _, path := range []string{"/console/acme/groups/nope", "/console/acme/entitlements/nope", "/console/acme/releases/nope"} {
			if p := admin.get(path); p.status != http.StatusNotFound {
				t.Errorf("GET %s: %d", path, p.status)
			}
		}
		for path, form := range map[string]url.Values{
			"/console/acme/groups/" + g.ID + "/remove-owner":        {"user": {"nope"}},
			"/console/acme/releases/" + r.ID + "/remove-constraint": {"entitlement": {"nope"}},
			"/console/acme/releases/" + r.ID + "/constraints":       {"entitlement": {"nope"}},
			"/console/acme/groups/" + g.ID + "/owners":              {"owner": {"nope"}},
			"/console/acme/groups/" + g.ID + "/nope":                {},
		} {
			form.Set("csrf", adminToken)
			if p := admin.post(path, form); p.status < 400 || p.status >= 500 {
				t.Errorf("POST %s %v: %d %s", path, form, p.status, p.body)
			}
		}

		// Another account's records are not found through ours.
		s.onboard("globex")
		other := s.browser()
		other.login("globex", "admin@globex.test", "password-globex")
		otherToken := other.csrf("/console/globex/entitlements")
		for _, path := range []string{"/console/globex/entitlements/" + e.ID, "/console/globex/groups/" + g.ID, "/console/globex/releases/" + r.ID} {
			if p := other.get(path); p.status != http.StatusNotFound {
				t.Errorf("GET %s from another account: %d", path, p.status)
			}
		}
		for _, path := range []string{"/console/globex/entitlements/" + e.ID + "/delete", "/console/globex/groups/" + g.ID + "/delete", "/console/globex/releases/" + r.ID + "/constraints"} {
			if p := other.post(path, url.Values{"csrf": {otherToken}, "entitlement": {e.ID}}); p.status != http.StatusNotFound {
				t.Errorf("POST %s from another account: %d", path, p.status)
			}
		}
		if p := other.get("/console/globex/entitlements?q=PRO"); p.status != http.StatusOK || strings.Contains(p.body, e.ID) {
			t.Errorf("another account's search finds ours: %d", p.status)
		}
	})
}
