package httpapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

func packageBody(productID, attrs string) string {
	return `{"data":{"type":"packages","attributes":{` + attrs + `},"relationships":{"product":{"data":{"type":"products","id":"` + productID + `"}}}}}`
}

// packagedRelease creates a published release in a package (by id or key).
func (e *env) packagedRelease(productID, packageRef, version string) *response {
	return e.admin("POST", "/v1/accounts/acme/releases", `{"data":{"type":"releases","attributes":{"version":"`+version+`","channel":"stable","status":"PUBLISHED"},`+
		`"relationships":{"product":{"data":{"type":"products","id":"`+productID+`"}},"package":{"data":{"type":"packages","id":"`+packageRef+`"}}}}}`)
}

// sortedAttribute lists one attribute of every item of a page, sorted and
// joined with commas.
func sortedAttribute(t *testing.T, r *response, name string) string {
	t.Helper()
	var out []string
	for _, item := range list(t, r) {
		out = append(out, item.(map[string]any)["attributes"].(map[string]any)[name].(string))
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// versions lists the versions of a releases page, sorted.
func versions(t *testing.T, r *response) string { return sortedAttribute(t, r, "version") }

func TestPackages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		otherProduct := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Other"`)))
		base := "/v1/accounts/acme/packages"

		cli := e.admin("POST", base, packageBody(productID, `"name":"CLI","key":"cli","engine":"RAW"`))
		if cli.status != 201 || attrs(t, cli)["engine"] != "raw" || attrs(t, cli)["key"] != "cli" {
			t.Fatalf("create: %d %s", cli.status, cli.body)
		}
		cliID := e.id(cli)
		plugin := e.id(e.admin("POST", base, packageBody(productID, `"name":"Plugin","key":"plugin"`)))
		foreign := e.id(e.admin("POST", base, packageBody(otherProduct, `"name":"Foreign","key":"foreign"`)))
		if py := e.admin("POST", base, packageBody(productID, `"name":"Py","key":"My_Package.Name","engine":"pypi"`)); attrs(t, py)["key"] != "my-package-name" {
			t.Fatalf("pypi keys are normalized: %s", py.body)
		}
		for _, c := range []struct {
			body, code, pointer string
		}{
			{packageBody(productID, `"name":"Again","key":"cli"`), "KEY_TAKEN", "/data/attributes/key"},
			{packageBody(productID, `"name":"Id","key":"7e0b1f4e-1c1d-4b7a-9a8e-000000000000"`), "KEY_INVALID", "/data/attributes/key"},
			{packageBody(productID, `"name":"Bad","key":"bad","engine":"apt"`), "ENGINE_NOT_ALLOWED", "/data/attributes/engine"},
			{packageBody(productID, `"name":"","key":"blank"`), "NAME_MISSING", "/data/attributes/name"},
			{packageBody("7e0b1f4e-1c1d-4b7a-9a8e-000000000000", `"name":"Orphan","key":"orphan"`), "PRODUCT_NOT_FOUND", "/data/relationships/product"},
		} {
			e.admin("POST", base, c.body).expectError(t, 422, c.code, "pointer", c.pointer)
		}
		if r := e.admin("GET", base+"/cli", ""); e.id(r) != cliID {
			t.Fatalf("lookup by key: %d %s", r.status, r.body)
		}
		if r := e.admin("GET", base+"?product="+otherProduct, ""); len(list(t, r)) != 1 {
			t.Fatalf("filter by product: %s", r.body)
		}
		if r := e.admin("GET", base+"?engine=raw", ""); len(list(t, r)) != 1 {
			t.Fatalf("filter by engine: %s", r.body)
		}
		if r := e.admin("PATCH", base+"/"+cliID, `{"data":{"type":"packages","attributes":{"name":"Command line"}}}`); attrs(t, r)["name"] != "Command line" {
			t.Fatalf("update: %d %s", r.status, r.body)
		}

		// Versions are unique per product and package.
		cli1 := e.id(e.packagedRelease(productID, cliID, "1.0.0"))
		e.packagedRelease(productID, "cli", "1.1.0")
		e.packagedRelease(productID, "cli", "1.1.0").expectError(t, 422, "VERSION_TAKEN", "pointer", "/data/attributes/version")
		plugin1 := e.id(e.packagedRelease(productID, plugin, "1.0.0"))
		e.packagedRelease(productID, plugin, "2.0.0")
		unpackaged := e.publish(productID, "stable", "1.0.0")
		e.publish(productID, "stable", "3.0.0")
		e.packagedRelease(productID, foreign, "9.0.0").expectError(t, 422, "PACKAGE_NOT_FOUND", "pointer", "/data/relationships/package")
		if r := e.admin("GET", "/v1/accounts/acme/releases/"+cli1, ""); data(t, r)["relationships"].(map[string]any)["package"].(map[string]any)["data"].(map[string]any)["id"] != cliID {
			t.Fatalf("package relationship: %s", r.body)
		}

		// Filters, lookups and upgrades stay within a package.
		for query, want := range map[string]string{
			"package=cli":                   "1.0.0,1.1.0",
			"package=" + plugin:             "1.0.0,2.0.0",
			"package=":                      "1.0.0,3.0.0",
			"package=nope":                  "",
			"product=" + productID:          "1.0.0,1.0.0,1.0.0,1.1.0,2.0.0,3.0.0",
			"package=cli&product=" + plugin: "",
		} {
			if got := versions(t, e.admin("GET", "/v1/accounts/acme/releases?"+query, "")); got != want {
				t.Errorf("releases?%s = %q, want %q", query, got, want)
			}
		}
		for query, want := range map[string]string{"?package=plugin": plugin1, "?package=": unpackaged, "?package=cli": cli1} {
			if r := e.admin("GET", "/v1/accounts/acme/releases/1.0.0"+query, ""); e.id(r) != want {
				t.Errorf("release 1.0.0%s: %d %s", query, r.status, r.body)
			}
		}
		for path, want := range map[string]string{
			cli1 + "/upgrade":                 "1.1.0",
			plugin1 + "/upgrade":              "2.0.0",
			unpackaged + "/upgrade":           "3.0.0",
			"1.0.0/upgrade?package=cli":       "1.1.0",
			"1.0.0/upgrade?package=" + plugin: "2.0.0",
			"1.0.0/upgrade?package=":          "3.0.0",
		} {
			if r := e.admin("GET", "/v1/accounts/acme/releases/"+path, ""); r.status != 200 || attrs(t, r)["version"] != want {
				t.Errorf("upgrade %s: %d %s", path, r.status, r.body)
			}
		}
		// ?package= narrows the lookup of the current release.
		e.admin("GET", "/v1/accounts/acme/releases/"+cli1+"/upgrade?package=plugin", "").expectError(t, 404, "NOT_FOUND")

		// The release's package: shown, moved, removed.
		if r := e.admin("GET", "/v1/accounts/acme/releases/"+cli1+"/package", ""); e.id(r) != cliID {
			t.Fatalf("release package: %d %s", r.status, r.body)
		}
		if r := e.admin("GET", "/v1/accounts/acme/releases/"+unpackaged+"/package", ""); r.status != 200 || r.doc(t)["data"] != nil {
			t.Fatalf("no package is data null: %d %s", r.status, r.body)
		}
		move := func(id, body string) *response {
			return e.admin("PUT", "/v1/accounts/acme/releases/"+id+"/package", body)
		}
		move(cli1, `{"data":{"type":"packages","id":"plugin"}}`).expectError(t, 422, "VERSION_TAKEN", "pointer", "/data/attributes/version")
		move(cli1, `{"data":{"type":"packages","id":"foreign"}}`).expectError(t, 422, "PACKAGE_NOT_FOUND", "pointer", "/data/relationships/package")
		move(cli1, `{"data":{"type":"products","id":"plugin"}}`).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/type")
		move(cli1, ``).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data")
		move(cli1, `{"data":null}`).expectError(t, 422, "VERSION_TAKEN", "pointer", "/data/attributes/version")
		if r := move(e.id(e.packagedRelease(productID, "cli", "4.0.0")), `{"data":{"type":"packages","id":"plugin"}}`); e.id(r) != plugin {
			t.Fatalf("move: %d %s", r.status, r.body)
		}
		if got := versions(t, e.admin("GET", "/v1/accounts/acme/releases?package=plugin", "")); got != "1.0.0,2.0.0,4.0.0" {
			t.Fatalf("after the move the plugin has %s", got)
		}

		// Who sees packages: a license of the product, not of another one;
		// anonymous callers only OPEN products'.
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"P","authenticationStrategy":"LICENSE"`)))
		key := attrs(t, e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))["key"].(string)
		licenseAuth := header{"Authorization", "License " + key}
		if r := e.do("GET", base, "", licenseAuth); len(list(t, r)) != 3 {
			t.Fatalf("a license sees its product's packages: %s", r.body)
		}
		e.do("GET", base+"/foreign", "", licenseAuth).expectError(t, 404, "NOT_FOUND")
		e.do("DELETE", base+"/cli", "", licenseAuth).expectError(t, 403, "ACCESS_DENIED")
		if r := e.do("GET", base, ""); r.status != 200 || len(list(t, r)) != 0 {
			t.Fatalf("anonymous sees no LICENSED product's packages: %d %s", r.status, r.body)
		}

		// Deleting a package deletes its releases.
		if r := e.admin("DELETE", base+"/"+plugin, ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		e.admin("GET", "/v1/accounts/acme/releases/"+plugin1, "").expectError(t, 404, "NOT_FOUND")
		if got := versions(t, e.admin("GET", "/v1/accounts/acme/releases?product="+productID, "")); got != "1.0.0,1.0.0,1.1.0,3.0.0" {
			t.Fatalf("after deleting the plugin package: %s", got)
		}
	})
}

func TestCatalog(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		licensed := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		hidden := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Hidden"`)))
		e.admin("POST", "/v1/accounts/acme/packages", packageBody(licensed, `"name":"Py","key":"py","engine":"pypi"`))
		e.admin("POST", "/v1/accounts/acme/packages", packageBody(hidden, `"name":"Npm","key":"npm","engine":"npm"`))
		artifact := func(releaseID, filename, platform, arch string) {
			r := e.admin("POST", "/v1/accounts/acme/artifacts", `{"data":{"type":"artifacts","attributes":{"filename":"`+filename+`","platform":"`+platform+`","arch":"`+arch+`"},`+
				`"relationships":{"release":{"data":{"type":"releases","id":"`+releaseID+`"}}}}}`, header{"Prefer", "no-redirect"})
			if r.status != 200 {
				t.Fatalf("artifact: %d %s", r.status, r.body)
			}
		}
		stable := e.publish(licensed, "stable", "1.0.0")
		artifact(stable, "app-linux", "Linux", "AMD64")
		artifact(stable, "app-mac", "macOS", "arm64")
		artifact(e.publish(licensed, "stable", "1.0.1"), "app-linux", "linux", "amd64")
		artifact(e.publish(hidden, "beta", "1.0.0-beta.1"), "hidden-win", "windows", "x86")
		e.publish(licensed, "dev", "2.0.0-dev.1")

		keys := func(r *response) string { return sortedAttribute(t, r, "key") }
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(licensed, `"name":"P","authenticationStrategy":"LICENSE"`)))
		licenseAuth := header{"Authorization", "License " + attrs(t, e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))["key"].(string)}
		for _, c := range []struct {
			kind, admin, license string
		}{
			{"channels", "beta,dev,stable", "dev,stable"},
			{"platforms", "linux,macos,windows", "linux,macos"},
			{"arches", "amd64,arm64,x86", "amd64,arm64"},
			{"engines", "npm,pypi", "pypi"},
		} {
			if got := keys(e.admin("GET", "/v1/accounts/acme/"+c.kind, "")); got != c.admin {
				t.Errorf("admin %s = %q, want %q", c.kind, got, c.admin)
			}
			if got := keys(e.do("GET", "/v1/accounts/acme/"+c.kind, "", licenseAuth)); got != c.license {
				t.Errorf("license %s = %q, want %q", c.kind, got, c.license)
			}
			if got := keys(e.do("GET", "/v1/accounts/acme/"+c.kind, "")); got != "" {
				t.Errorf("anonymous %s = %q, want none", c.kind, got)
			}
		}
		for query, want := range map[string]int{"package=": 4, "package=py": 0, "platform=linux": 2} {
			if r := e.admin("GET", "/v1/accounts/acme/artifacts?"+query, ""); len(list(t, r)) != want {
				t.Errorf("artifacts?%s: %d, want %d", query, len(list(t, r)), want)
			}
		}
		linux := e.admin("GET", "/v1/accounts/acme/platforms/linux", "")
		if linux.status != 200 || data(t, linux)["type"] != "platforms" {
			t.Fatalf("platform by key: %d %s", linux.status, linux.body)
		}
		if r := e.admin("GET", "/v1/accounts/acme/platforms/"+e.id(linux), ""); attrs(t, r)["key"] != "linux" {
			t.Fatalf("platform by id: %d %s", r.status, r.body)
		}
		e.do("GET", "/v1/accounts/acme/platforms/windows", "", licenseAuth).expectError(t, 404, "NOT_FOUND")
		e.admin("GET", "/v1/accounts/acme/arches/sparc", "").expectError(t, 404, "NOT_FOUND")
	})
}
