package console_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/analytics"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/internal/user"
)

var pagerLink = regexp.MustCompile(`<a href="([^"]+)"(?: rel="[a-z]+")?>(Newest|Previous|Next|Oldest)</a>`)

// pager is a list page's links by name.
func pager(body string) map[string]string {
	links := map[string]string{}
	for _, m := range pagerLink.FindAllStringSubmatch(body, -1) {
		links[m[2]] = html.UnescapeString(m[1])
	}
	return links
}

var licenseLink = regexp.MustCompile(`<a href="/console/acme/licenses/([0-9a-f-]{36})">`)

func licenseIDs(body string) []string {
	var ids []string
	for _, m := range licenseLink.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func TestListsPageByCursor(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		f := s.fixture(s.tenant, "fp-1")
		for range 29 {
			if _, err := s.app.Licenses.Create(context.Background(), s.operator(), s.tenant, license.Relationships{Policy: f.policy.ID}, license.Params{}); err != nil {
				t.Fatal(err)
			}
		}
		br := s.browser()
		br.login("acme", "admin@acme.test", "password-acme")
		base := "/console/acme/licenses"
		first := br.get(base + "?policy=" + f.policy.ID)
		firstIDs, links := licenseIDs(first.body), pager(first.body)
		if first.status != http.StatusOK || len(firstIDs) != 25 || links["Next"] == "" || links["Previous"] != "" || links["Newest"] != "" {
			t.Fatalf("first page: %d, %d rows, links %v", first.status, len(firstIDs), links)
		}
		if !strings.Contains(links["Next"], "policy="+f.policy.ID) {
			t.Errorf("the next link drops the filter: %s", links["Next"])
		}
		second := br.get(base + links["Next"])
		secondIDs, links2 := licenseIDs(second.body), pager(second.body)
		if len(secondIDs) != 5 || links2["Next"] != "" || links2["Previous"] == "" || links2["Newest"] == "" {
			t.Fatalf("second page: %d rows, links %v", len(secondIDs), links2)
		}
		for _, id := range secondIDs {
			if strings.Contains(strings.Join(firstIDs, " "), id) {
				t.Fatalf("license %s on both pages", id)
			}
		}
		if back := licenseIDs(br.get(base + links2["Previous"]).body); strings.Join(back, " ") != strings.Join(firstIDs, " ") {
			t.Fatalf("previous of the second page is not the first:\n%v\n%v", back, firstIDs)
		}
		if oldest := licenseIDs(br.get(base + links["Oldest"]).body); strings.Join(oldest, " ") != strings.Join(append(firstIDs[5:], secondIDs...), " ") {
			t.Fatalf("the oldest page is not the last 25, newest first:\n%v", oldest)
		}
		if p := br.get(base + "?after=00000000-0000-4000-8000-000000000000"); p.status != http.StatusOK || len(licenseIDs(p.body)) != 0 {
			t.Fatalf("an unknown cursor is an empty page: %d %d", p.status, len(licenseIDs(p.body)))
		}
		if p := br.get(base + "?after=not-an-id&policy=" + f.policy.ID); p.status != http.StatusOK || strings.Join(licenseIDs(p.body), " ") != strings.Join(firstIDs, " ") {
			t.Fatalf("a cursor that is no id reads as the first page: %d", p.status)
		}
		for _, list := range []string{"/console/acme/machines", "/console/acme/users", "/console/acme/products?last", "/console/acme/events?before=" + f.license.ID} {
			if p := br.get(list); p.status != http.StatusOK {
				t.Errorf("%s: %d", list, p.status)
			}
		}
	})
}

func TestSearchPage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		f := s.fixture(s.tenant, "fp-searched")
		theirs := s.fixture(s.onboard("globex"), "fp-theirs")
		if _, err := s.app.Users.Create(context.Background(), s.operator(), s.tenant, user.Params{Email: optional.Of("buyer@customer.test"), Role: optional.Of("user")}); err != nil {
			t.Fatal(err)
		}
		br := s.browser()
		br.login("acme", "admin@acme.test", "password-acme")
		if p := br.get("/console/acme/"); !strings.Contains(p.body, `action="/console/acme/search" role="search"`) {
			t.Fatalf("no search box in the header: %s", p.body)
		}
		for query, want := range map[string]string{
			f.license.Key: "/console/acme/licenses/" + f.license.ID,
			"custom":      "/console/acme/licenses/" + f.license.ID, // the license's name
			"buyer@":      "buyer@customer.test",
			"fp-search":   "fp-searched",
			"App":         `/console/acme/products">App</a>`,
			"Pro":         "/console/acme/licenses?policy=" + f.policy.ID,
		} {
			p := br.get("/console/acme/search?q=" + query)
			if p.status != http.StatusOK || !strings.Contains(p.body, want) {
				t.Errorf("search %q: %d, want %q in %s", query, p.status, want, p.body)
			}
		}
		if p := br.get("/console/acme/search?q=" + theirs.license.Key); strings.Contains(p.body, theirs.license.ID) || strings.Contains(p.body, "<li>") {
			t.Errorf("another account's license found by key: %s", p.body)
		}
		if p := br.get("/console/acme/search?q=ab"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "too small") {
			t.Errorf("a short search: %d %s", p.status, p.body)
		}
	})
}

func TestOverviewCharts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b, func(c *config.Config) { c.Analytics = true })
		f := s.fixture(s.tenant, "fp-1")
		now := time.Now().UTC()
		for i, sig := range []analytics.Signal{
			{Kind: analytics.Validation, Result: "VALID", Device: "dev-a", Version: "1.0.0"},
			{Kind: analytics.Validation, Result: "VALID", Device: "dev-b", Version: "1.1.0"},
			{Kind: analytics.Validation, Result: "EXPIRED", Device: "dev-b", Version: "1.1.0", At: now.AddDate(0, 0, -3)},
		} {
			sig.AccountID, sig.ProductID, sig.PolicyID, sig.LicenseID = s.tenant.ID, f.product.ID, f.policy.ID, f.license.ID
			if sig.At.IsZero() {
				sig.At = now.Add(-time.Duration(i) * time.Second)
			}
			s.app.Usage.Record(sig)
		}
		if err := s.app.FlushAnalytics(context.Background()); err != nil {
			t.Fatal(err)
		}
		br := s.browser()
		br.login("acme", "admin@acme.test", "password-acme")
		p := br.get("/console/acme/")
		if p.status != http.StatusOK {
			t.Fatalf("overview: %d", p.status)
		}
		for _, want := range []string{
			`<svg role="img" aria-labelledby="chart-active-title chart-active-desc"`,
			`<title id="chart-validations-title">Validations by code</title>`,
			`<desc id="chart-versions-desc">`,
			`<tr><td>VALID</td><td>2</td></tr>`, `<tr><td>EXPIRED</td><td>1</td></tr>`,
			`<tr><td>1.1.0</td><td>1 (50%)</td></tr>`,
			`<tr><td>` + now.Format(time.DateOnly) + `</td><td>2</td></tr>`,
			`<strong>2</strong> today`,
		} {
			if !strings.Contains(p.body, want) {
				t.Errorf("overview lacks %s", want)
			}
		}
		if strings.Contains(p.body, "<script>") || strings.Contains(p.body, " style=") {
			t.Error("the charts need inline script or style")
		}
		if t.Failed() {
			t.Log(p.body)
		}
	})
}
