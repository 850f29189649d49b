package httpapi_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/testenv"
)

func portalSessionBody(attrs, rels string) string {
	return `{"data":{"type":"portal-sessions","attributes":{` + attrs + `},"relationships":{` + rels + `}}}`
}

func toOne(typ, id string) string { return `{"data":{"type":"` + typ + `","id":"` + id + `"}}` }

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) send(method, target string, form url.Values) (int, http.Header, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(body)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestPortalSessions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		const sessions = "/v1/accounts/acme/portal-sessions"
		lic := `"license":` + toOne("licenses", b.licenseID)

		// Refusals: each a 4xx with its source, none makes a link.
		e.admin("POST", sessions, portalSessionBody(``, lic)).expectError(t, 422, "RETURN_URL_BLANK", "pointer", "/data/attributes/returnUrl")
		e.admin("POST", sessions, portalSessionBody(`"returnUrl":"javascript:alert(1)"`, lic)).expectError(t, 422, "RETURN_URL_INVALID", "pointer", "/data/attributes/returnUrl")
		e.admin("POST", sessions, portalSessionBody(`"returnUrl":"https://vendor.test","permissions":["machine.read","license.delete"]`, lic)).
			expectError(t, 422, "PERMISSIONS_NOT_ALLOWED", "pointer", "/data/attributes/permissions/1")
		e.admin("POST", sessions, portalSessionBody(`"returnUrl":"https://vendor.test","activationFields":["ip"]`, lic)).
			expectError(t, 422, "ACTIVATION_FIELDS_INVALID", "pointer", "/data/attributes/activationFields/0")
		e.admin("POST", sessions, portalSessionBody(`"returnUrl":"https://vendor.test","permissions":"machine.read"`, lic)).
			expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/attributes/permissions")
		e.admin("POST", sessions, portalSessionBody(`"returnUrl":"https://vendor.test"`, ``)).expectError(t, 422, "BEARER_BLANK", "pointer", "/data/relationships/license")
		e.admin("POST", sessions, portalSessionBody(`"returnUrl":"https://vendor.test"`, lic+`,"user":`+toOne("users", b.userID))).
			expectError(t, 422, "BEARER_CONFLICT", "pointer", "/data/relationships/user")
		e.admin("POST", sessions, portalSessionBody(`"returnUrl":"https://vendor.test"`, `"license":`+toOne("licenses", e.acct.Account.ID))).
			expectError(t, 422, "NOT_FOUND", "pointer", "/data/relationships/license")
		past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		e.admin("POST", sessions, portalSessionBody(`"returnUrl":"https://vendor.test","expiry":"`+past+`"`, lic)).expectError(t, 422, "EXPIRY_INVALID", "pointer", "/data/attributes/expiry")
		e.admin("POST", sessions, portalSessionBody(`"returnUrl":"https://vendor.test","bogus":1`, lic)).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/attributes/bogus")
		// The customer's own credentials and read-only staff make no links;
		// another product's token does not see the license.
		e.do("POST", sessions, portalSessionBody(`"returnUrl":"https://vendor.test"`, lic), header{"Authorization", "License " + b.license}).expectError(t, 403, "ACCESS_DENIED")
		e.do("POST", sessions, portalSessionBody(`"returnUrl":"https://vendor.test"`, lic), bearer(b.readOnly)).expectError(t, 403, "ACCESS_DENIED")
		e.do("POST", sessions, portalSessionBody(`"returnUrl":"https://vendor.test"`, lic)).expectError(t, 401, "TOKEN_MISSING")
		otherProduct := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Other"`)))
		otherToken := e.rawToken(e.admin("POST", "/v1/accounts/acme/products/"+otherProduct+"/tokens", ""))
		e.do("POST", sessions, portalSessionBody(`"returnUrl":"https://vendor.test"`, lic), bearer(otherToken)).expectError(t, 422, "NOT_FOUND", "pointer", "/data/relationships/license")

		// A license's session, made by its product, with the default grant.
		machineID := e.id(e.do("POST", "/v1/accounts/acme/machines", machineBody(b.licenseID, `"fingerprint":"fp-portal"`), header{"Authorization", "License " + b.license}))
		created := e.do("POST", sessions, portalSessionBody(`"returnUrl":"https://vendor.test/account"`, lic), bearer(b.product))
		if created.status != 201 {
			t.Fatalf("create: %d %s", created.status, created.body)
		}
		a := attrs(t, created)
		if a["returnUrl"] != "https://vendor.test/account" || len(a["permissions"].([]any)) != 1 || a["permissions"].([]any)[0] != "machine.read" || a["fingerprintLabel"] != "Fingerprint" {
			t.Fatalf("attributes: %v", a)
		}
		expiry, _ := time.Parse(time.RFC3339, a["expiry"].(string))
		if d := time.Until(expiry); d < 14*time.Minute || d > 16*time.Minute {
			t.Fatalf("expiry %v is not 15 minutes away", expiry)
		}
		rels := data(t, created)["relationships"].(map[string]any)
		if rels["license"].(map[string]any)["data"].(map[string]any)["id"] != b.licenseID || rels["user"] != nil {
			t.Fatalf("relationships: %v", rels)
		}
		link := data(t, created)["links"].(map[string]any)["portal"].(string)
		if !strings.HasPrefix(link, e.srv.URL+"/portal/acme/open?token=") {
			t.Fatalf("portal link %q", link)
		}

		customer := newBrowser(t)
		if status, h, _ := customer.send("GET", link, nil); status != http.StatusSeeOther || h.Get("Location") != "/portal/acme/" {
			t.Fatalf("open link: %d %v", status, h)
		}
		status, _, home := customer.send("GET", e.srv.URL+"/portal/acme/", nil)
		if status != 200 || !strings.Contains(home, "fp-portal") || !strings.Contains(home, `href="https://vendor.test/account"`) {
			t.Fatalf("portal home: %d %s", status, home)
		}
		// machine.read only: no deactivation, no downloads, no activation.
		if strings.Contains(home, "Deactivate") || strings.Contains(home, "Downloads") || strings.Contains(home, "Activate a machine") {
			t.Fatalf("read-only portal offers more: %s", home)
		}
		csrf := csrfField.FindStringSubmatch(home)[1]
		if status, _, _ := customer.send("POST", e.srv.URL+"/portal/acme/machines/"+machineID+"/deactivate", url.Values{"csrf": {csrf}}); status != http.StatusNotFound {
			t.Fatalf("deactivate without machine.delete: %d", status)
		}
		if r := e.admin("GET", "/v1/accounts/acme/machines/"+machineID, ""); r.status != 200 {
			t.Fatalf("the machine is gone: %d", r.status)
		}
		// The link works once.
		if status, _, _ := customer.send("GET", link, nil); status != http.StatusGone {
			t.Fatalf("reused link: %d", status)
		}

		// A user's session over every license of theirs, with activation
		// and deactivation, a custom label and the fields it asks for.
		e.admin("POST", "/v1/accounts/acme/licenses/"+b.licenseID+"/users", `{"data":[{"type":"users","id":"`+b.userID+`"}]}`)
		second := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(b.policyID, `"name":"Second seat"`)))
		e.admin("POST", "/v1/accounts/acme/licenses/"+second+"/users", `{"data":[{"type":"users","id":"`+b.userID+`"}]}`)
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		created = e.admin("POST", sessions, portalSessionBody(`"returnUrl":"https://vendor.test","permissions":["machine.read","machine.create","machine.delete"],"activationFields":["name"],"fingerprintLabel":"Device ID","expiry":"`+future+`"`,
			`"user":`+toOne("users", b.userID)+`,"product":`+toOne("products", b.productID)))
		if created.status != 201 || !strings.HasPrefix(attrs(t, created)["expiry"].(string), strings.TrimSuffix(future, "Z")) || attrs(t, created)["fingerprintLabel"] != "Device ID" {
			t.Fatalf("user session: %d %s", created.status, created.body)
		}
		user := newBrowser(t)
		user.send("GET", data(t, created)["links"].(map[string]any)["portal"].(string), nil)
		status, _, home = user.send("GET", e.srv.URL+"/portal/acme/", nil)
		if status != 200 || !strings.Contains(home, "Second seat") || !strings.Contains(home, "Device ID") || !strings.Contains(home, "fp-portal") {
			t.Fatalf("user portal: %d %s", status, home)
		}
		csrf = csrfField.FindStringSubmatch(home)[1]
		status, h, _ := user.send("POST", e.srv.URL+"/portal/acme/licenses/"+second+"/machines", url.Values{"csrf": {csrf}, "fingerprint": {"fp-new"}, "name": {"Desk"}, "hostname": {"ignored"}})
		if status != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "activated") {
			t.Fatalf("activate: %d %v", status, h)
		}
		machines := list(t, e.admin("GET", "/v1/accounts/acme/machines?license="+second, ""))
		if len(machines) != 1 || machines[0].(map[string]any)["attributes"].(map[string]any)["name"] != "Desk" || machines[0].(map[string]any)["attributes"].(map[string]any)["hostname"] != nil {
			t.Fatalf("activated machines: %v", machines)
		}
		// Not one of theirs: the page is not there.
		other := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(b.policyID, "")))
		if status, _, _ := user.send("POST", e.srv.URL+"/portal/acme/licenses/"+other+"/machines", url.Values{"csrf": {csrf}, "fingerprint": {"fp-x"}}); status != http.StatusNotFound {
			t.Fatalf("activate another's license: %d", status)
		}
		if status, _, _ := user.send("POST", e.srv.URL+"/portal/acme/machines/"+machineID+"/deactivate", url.Values{"csrf": {csrf}}); status != http.StatusSeeOther {
			t.Fatalf("deactivate: %d", status)
		}
		e.admin("GET", "/v1/accounts/acme/machines/"+machineID, "").expectError(t, 404, "NOT_FOUND")

		// Each link made is one event, which never carries the link.
		logged := e.admin("GET", "/v1/accounts/acme/event-logs?events[]=portal-session.created", "")
		if n := len(list(t, logged)); n != 2 || strings.Contains(string(logged.body), "token=") {
			t.Fatalf("%d portal-session.created events: %s", n, logged.body)
		}
	})
}
