package httpapi_test

import (
	"archive/zip"
	"regexp"
	"strconv"
	"time"

	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/database"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

// fetchPackage downloads a registry's file link: one 303 from relkey to
// the presigned URL, which needs no credentials.
func (l *line) fetchPackage(t *testing.T, link string, h ...header) []byte {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, l.e.srv.URL) {
		t.Fatalf("file link %q is not relkey's", link)
	}
	r := l.e.do("GET", u.RequestURI(), "", h...)
	if r.status != http.StatusSeeOther {
		t.Fatalf("file link %s: %d %s", link, r.status, r.body)
	}
	status, body := rawRequest(t, "GET", r.header.Get("Location"), nil)
	if status != 200 {
		t.Fatalf("presigned download of %s: %d", link, status)
	}
	return body
}

// TestPyPISimpleRepository serves pip's simple API from a package's
// releases: only what the bearer may see, both serializations, hashes
// from the checksums, downloads through a presigned 303, and refusals.
func TestPyPISimpleRepository(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		l := seedLine(t, e, "pypi", func(v string) [][3]string {
			return [][3]string{{"app-" + v + "-py3-none-any.whl", "", ""}, {"app-" + v + ".exe", "", ""}}
		})
		base := "/v1/accounts/acme/engines/pypi/simple/"
		license := basic("license", l.key)
		asJSON := header{"Accept", "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"}

		index := l.get(base, []header{license, asJSON})
		if index.status != 200 || index.header.Get("Content-Type") != "application/vnd.pypi.simple.v1+json" ||
			!strings.Contains(string(index.body), `"name": "app"`) {
			t.Fatalf("index: %d %s %s", index.status, index.header.Get("Content-Type"), index.body)
		}
		project := l.get(base+"app/", []header{license, asJSON})
		var doc struct {
			Files []struct {
				Filename, URL string
				Hashes        map[string]string
			}
			Versions []string
		}
		if err := json.Unmarshal(project.body, &doc); err != nil || project.status != 200 {
			t.Fatalf("project: %d %v %s", project.status, err, project.body)
		}
		if want := []string{"1.0.0", "1.1.0", "1.2.0-beta.1"}; !slices.Equal(doc.Versions, want) {
			t.Fatalf("license sees versions %v, want %v (no draft, yanked or unentitled one)", doc.Versions, want)
		}
		if len(doc.Files) != 3 || !strings.HasSuffix(doc.Files[0].Filename, ".whl") {
			t.Fatalf("files (wheels only): %+v", doc.Files)
		}
		wheel := doc.Files[0]
		content := l.content[wheel.Filename]
		sum := sha512.Sum512(content)
		if wheel.Hashes["sha512"] != hex.EncodeToString(sum[:]) {
			t.Fatalf("hashes %v, want the artifact's sha512", wheel.Hashes)
		}
		if got := l.fetchPackage(t, wheel.URL, license); !bytes.Equal(got, content) {
			t.Fatal("downloaded wheel differs")
		}

		html := l.get(base+"app/", []header{license})
		if html.status != 200 || !strings.HasPrefix(html.header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(html.body), "#sha512="+hex.EncodeToString(sum[:])+`" data-dist-info-metadata="true" data-core-metadata="true">`+wheel.Filename+"</a>") {
			t.Fatalf("PEP 503 page: %d %s", html.status, html.body)
		}
		if r := l.get(base+"app", []header{license}); r.status != http.StatusMovedPermanently || !strings.HasSuffix(r.header.Get("Location"), "/simple/app/") {
			t.Fatalf("without a slash: %d %s", r.status, r.header.Get("Location"))
		}
		admin := l.get(base+"app/", []header{bearer(e.token), asJSON})
		if !strings.Contains(string(admin.body), `"2.0.0"`) {
			t.Fatalf("admin sees the constrained 2.0.0: %s", admin.body)
		}
		// Any user name with the key as password, and ?auth=, authenticate too.
		for _, h := range [][]header{{basic("__token__", l.key), asJSON}, {asJSON}} {
			q := ""
			if len(h) == 1 {
				q = "?auth=license:" + l.key
			}
			if r := l.get(base+"app/"+q, h); r.status != 200 || !strings.Contains(string(r.body), `"1.1.0"`) {
				t.Fatalf("authenticated by %v%s: %d %s", h, q, r.status, r.body)
			}
		}

		// PEP 658: a wheel's core metadata beside it, read from the wheel;
		// declared where links carry no credentials.
		metadata := "Metadata-Version: 2.1\nName: app\nVersion: 1.1.0\n"
		real := "app-1.1.0-py2-none-any.whl"
		l.uploadBytes(e.id(e.admin("GET", "/v1/accounts/acme/releases/1.1.0", "")), real, "", "", zipped(t, "app-1.1.0.dist-info/METADATA", metadata))
		page := l.get(base+"app/", []header{license})
		link := regexp.MustCompile(`href="` + regexp.QuoteMeta(e.srv.URL) + `([^"#]*` + regexp.QuoteMeta(real) + `)#[^"]*" data-dist-info-metadata="true" data-core-metadata="true"`).FindStringSubmatch(string(page.body))
		if link == nil {
			t.Fatalf("no core metadata declared for %s: %s", real, page.body)
		}
		if r := e.do("GET", link[1]+".metadata", "", license); r.status != 200 || string(r.body) != metadata || r.header.Get("ETag") == "" {
			t.Fatalf("core metadata: %d %s", r.status, r.body)
		}
		if r := e.do("GET", strings.TrimPrefix(wheel.URL, e.srv.URL)+".metadata", "", license); r.status != 404 {
			t.Fatalf("core metadata of a file that is no wheel: %d %s", r.status, r.body)
		}
		if r := l.get(base+"app/?auth=license:"+l.key, nil); r.status != 200 || strings.Contains(string(r.body), "data-core-metadata") {
			t.Fatalf("core metadata declared beside links with credentials: %d %s", r.status, r.body)
		}
		if r := e.do("GET", link[1]+".metadata", ""); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
			t.Fatalf("anonymous core metadata: %d %v", r.status, r.header)
		}

		l.refusals(t, base+"app/", true, licenseBasic)
		if r := l.e.do("GET", strings.TrimPrefix(wheel.URL, l.e.srv.URL), "", license); r.status != 403 {
			t.Fatalf("suspended download: %d %s", r.status, r.body)
		}
		if r := e.do("GET", link[1]+".metadata", "", license); r.status != 403 {
			t.Fatalf("suspended core metadata: %d %s", r.status, r.body)
		}
	})
}

func sha256Of(b []byte) []byte {
	sum := sha256.Sum256(b)
	return sum[:]
}

// zipped is a zip archive of one file.
func zipped(t *testing.T, name, content string) []byte {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, err := z.Create(name)
	if err == nil {
		_, err = w.Write([]byte(content))
	}
	if err == nil {
		err = z.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// refusals checks a registry path's answers to what may not install:
// anonymous 401 (with a Basic challenge when challenged), a license of
// another product 404, the line's license once suspended 403.
func (l *line) refusals(t *testing.T, path string, challenged bool, credential func(key string) header) {
	t.Helper()
	if r := l.get(path, nil); r.status != 401 || challenged && r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("anonymous: %d %q %s", r.status, r.header.Get("WWW-Authenticate"), r.body)
	}
	if r := l.get(path, []header{credential(otherProductLicense(t, l.e))}); r.status != 404 {
		t.Fatalf("license of another product: %d %s", r.status, r.body)
	}
	l.e.admin("POST", "/v1/accounts/acme/licenses/"+l.licenseID+"/actions/suspend", "")
	if r := l.get(path, []header{credential(l.key)}); r.status != 403 {
		t.Fatalf("suspended: %d %s", r.status, r.body)
	}
}

func licenseBasic(key string) header { return basic("license", key) }

// otherProductLicense is a license key of a second, licensed product.
func otherProductLicense(t *testing.T, e *env) string {
	t.Helper()
	productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Other","code":"other"`)))
	policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"O","authenticationStrategy":"LICENSE"`)))
	return attrs(t, e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))["key"].(string)
}

// TestNpmRegistry serves npm's packument: dist-tags, integrity from the
// checksum, tarballs under the registry's path, the /-/npm/* calls, and
// refusals.
func TestNpmRegistry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		l := seedLine(t, e, "npm", func(v string) [][3]string { return [][3]string{{"app-" + v + ".tgz", "", ""}} })
		token := []header{bearer(l.key)}
		r := l.get("/v1/accounts/acme/engines/npm/app", token)
		var doc struct {
			DistTags map[string]string `json:"dist-tags"`
			Versions map[string]struct {
				Dist struct{ Tarball, Integrity string }
			}
		}
		if err := json.Unmarshal(r.body, &doc); err != nil || r.status != 200 {
			t.Fatalf("packument: %d %v %s", r.status, err, r.body)
		}
		if doc.DistTags["latest"] != "1.1.0" || doc.DistTags["beta"] != "1.2.0-beta.1" || len(doc.Versions) != 3 {
			t.Fatalf("dist-tags %v, %d versions", doc.DistTags, len(doc.Versions))
		}
		v := doc.Versions["1.1.0"].Dist
		sum := sha512.Sum512(l.content["app-1.1.0.tgz"])
		if v.Integrity != "sha512-"+base64.StdEncoding.EncodeToString(sum[:]) ||
			!strings.HasPrefix(v.Tarball, e.srv.URL+"/v1/accounts/acme/engines/npm/app/-/") {
			t.Fatalf("dist %+v", v)
		}
		if got := l.fetchPackage(t, v.Tarball, token...); !bytes.Equal(got, l.content["app-1.1.0.tgz"]) {
			t.Fatal("tarball differs")
		}
		if r := l.get("/v1/accounts/acme/engines/npm/-/npm/v1/security/advisories/bulk", token); r.status != http.StatusGone {
			t.Fatalf("audit: %d", r.status)
		}
		l.refusals(t, "/v1/accounts/acme/engines/npm/app", false, func(key string) header { return bearer(key) })
	})
}

// TestRubyGemsSource serves gem's full index and Bundler's compact index
// from a package's releases: only what the bearer may see, gem files by
// name through a presigned 303, and refusals.
func TestRubyGemsSource(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		l := seedLine(t, e, "rubygems", func(v string) [][3]string {
			return [][3]string{{"app-" + strings.Replace(v, "-", ".pre.", 1) + ".gem", "", ""}}
		})
		base := "/v1/accounts/acme/engines/rubygems/"
		license := []header{basic("license", l.key)}
		if r := l.e.do("HEAD", base, "", license...); r.status != 200 {
			t.Fatalf("ping: %d", r.status)
		}
		if r := l.get(base+"names", license); r.status != 200 || string(r.body) != "---\napp\n" {
			t.Fatalf("names: %d %q", r.status, r.body)
		}
		if r := l.get(base+"info/app", license); r.status != 200 || string(r.body) != "---\n1.0.0 |\n1.1.0 |\n1.2.0.pre.beta.1 |\n" {
			t.Fatalf("info (no draft, yanked or unentitled version): %d %q", r.status, r.body)
		}
		if r := l.get(base+"versions", license); r.status != 200 || !strings.Contains(string(r.body), "\napp 1.0.0,1.1.0,1.2.0.pre.beta.1 ") {
			t.Fatalf("versions: %d %q", r.status, r.body)
		} // Bundler keeps the compact index's files and checks them against
		// the ETag (their MD5) and Repr-Digest (their SHA-256).
		if r := l.get(base+"versions", license); r.header.Get("ETag") != fmt.Sprintf(`"%x"`, md5.Sum(r.body)) ||
			r.header.Get("Repr-Digest") != "sha-256=:"+base64.StdEncoding.EncodeToString(sha256Of(r.body))+":" {
			t.Fatalf("compact index validators: %v", r.header)
		}

		for _, name := range []string{"specs.4.8.gz", "latest_specs.4.8.gz", "prerelease_specs.4.8.gz", "quick/Marshal.4.8/app-1.1.0.gemspec.rz"} {
			if r := l.get(base+name, license); r.status != 200 || r.header.Get("Content-Type") != "application/octet-stream" || len(r.body) < 20 {
				t.Fatalf("%s: %d %s", name, r.status, r.body)
			}
		}
		if r := l.get(base+"quick/Marshal.4.8/app-2.0.0.gemspec.rz", license); r.status != 404 {
			t.Fatalf("gemspec of the unentitled 2.0.0: %d", r.status)
		}
		if got := l.fetchPackage(t, e.srv.URL+base+"gems/app-1.1.0.gem", license...); !bytes.Equal(got, l.content["app-1.1.0.gem"]) {
			t.Fatal("gem differs")
		}
		if r := l.get(base+"specs.4.8.gz", nil); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
			t.Fatalf("anonymous full index: %d %s", r.status, r.body)
		}
		l.refusals(t, base+"info/app", true, licenseBasic)
		if r := l.get(base+"specs.4.8.gz", []header{license[0]}); r.status != 403 {
			t.Fatalf("suspended full index: %d %s", r.status, r.body)
		}
	})
}

// registryIndex is an index of a registry engine, over a package of the
// engine whose artifacts end in ext.
type registryIndex struct{ engine, ext, path, key string }

var registryIndexes = []registryIndex{
	{"pypi", ".zip", "pypi/simple/app/", "app"}, {"npm", ".tgz", "npm/app", "app"},
	{"rubygems", ".gem", "rubygems/info/app", "app"}, {"rubygems", ".gem", "rubygems/specs.4.8.gz", "app"},
	{"rubygems", ".gem", "rubygems/versions", "app"}, {"composer", ".zip", "composer/p2/acme/app.json", "acme/app"},
	{"oci", ".zip", "oci/app/tags/list", "app"},
}

// registryIndexFixture is an account with a package of ix's engine of n
// published versions and a license that sees them (its key returned).
func registryIndexFixture(t testing.TB, ix registryIndex, n int) (*env, string) {
	e := newEnv(t, testenv.Backend{Name: "embedded"}, func(c *config.Config) { c.RequestTimeout = time.Minute })
	productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Desk","code":"desk"`)))
	pkg := e.id(e.admin("POST", "/v1/accounts/acme/packages", packageBody(productID, `"name":"App","key":"`+ix.key+`","engine":"`+ix.engine+`"`)))
	policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"P","authenticationStrategy":"LICENSE"`)))
	key := attrs(t, e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))["key"].(string)
	seedPackageReleases(t, e, productID, pkg, n, false)
	if err := e.app.DB.Gorm.Exec("UPDATE artifacts SET filename = replace(filename, '.zip', ?)", ix.ext).Error; err != nil {
		t.Fatal(err)
	}
	return e, key
}

// BenchmarkRegistryIndexes serves every registry index of a package of
// 10 000 versions (SQLite): statements and CPU per index request.
func BenchmarkRegistryIndexes(b *testing.B) {
	for _, ix := range registryIndexes {
		b.Run(strings.ReplaceAll(ix.path, "/", "_"), func(b *testing.B) {
			e, key := registryIndexFixture(b, ix, 10_000)
			c, counter := counted(b, e)
			h := &hotPath{e: c, counter: counter}
			measure(b, func(int) int64 {
				return h.statements(b, "GET", "/v1/accounts/acme/engines/"+ix.path, "", basic("license", key))
			})
		})
	}
}

// TestRegistryIndexesRunAFixedNumberOfQueries lists a package of 10 and of
// 2 000 versions through every registry index: as many statements either
// way, few of them, and (SQLite) no plan step reads a table whole.
func TestRegistryIndexesRunAFixedNumberOfQueries(t *testing.T) {
	indexes := registryIndexes
	counts := map[int][]int64{}
	for _, n := range []int{10, 2_000} {
		for _, ix := range indexes {
			e, key := registryIndexFixture(t, ix, n)
			c, recorder := countedBy(t, e, database.NewStatementRecorder())
			before, started := len(recorder.Statements()), time.Now()
			r := c.do("GET", "/v1/accounts/acme/engines/"+ix.path, "", basic("license", key))
			if r.status != 200 || !strings.Contains(string(r.body), "1."+strconv.Itoa(n)+".0") && !strings.HasSuffix(ix.path, ".gz") && !strings.HasSuffix(ix.path, "/tags/list") {
				t.Fatalf("%s at %d versions: %d %.300s", ix.path, n, r.status, r.body)
			}
			t.Logf("%s at %d versions: %v, %d bytes", ix.path, n, time.Since(started), len(r.body))
			statements := recorder.Statements()[before:]
			counts[n] = append(counts[n], int64(len(statements)))
			for _, st := range statements {
				if strings.HasPrefix(st.SQL, "SELECT") && (strings.Contains(st.SQL, "releases") || strings.Contains(st.SQL, "artifacts")) {
					if step := sqliteFeedWideRead(t, e, st); step != "" {
						t.Errorf("%s: %q in the plan of %s", ix.path, step, st.SQL)
					}
				}
			}
		}
	}
	for i, ix := range indexes {
		if counts[10][i] != counts[2_000][i] || counts[10][i] > 12 {
			t.Errorf("%s: %d statements at 10 versions, %d at 2 000 (budget 12)", ix.path, counts[10][i], counts[2_000][i])
		}
	}
	t.Logf("statements per index: %v", counts[2_000])
}

// TestComposerRepository serves packages.json and p2 files from a
// package's releases: only what the bearer may see, zips through a
// presigned 303, and refusals.
func TestComposerRepository(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		l := seedLine(t, e, "composer", func(v string) [][3]string { return [][3]string{{"app-" + v + ".zip", "", ""}} })
		e.admin("PATCH", "/v1/accounts/acme/packages/"+l.pkg, `{"data":{"type":"packages","attributes":{"key":"acme/app"}}}`)
		base := "/v1/accounts/acme/engines/composer/"
		license := []header{basic("license", l.key)}
		var root struct {
			MetadataURL       string   `json:"metadata-url"`
			AvailablePackages []string `json:"available-packages"`
		}
		r := l.get(base+"packages.json", license)
		if err := json.Unmarshal(r.body, &root); err != nil || r.status != 200 || root.MetadataURL != e.srv.URL+base+"p2/%package%.json" ||
			!slices.Equal(root.AvailablePackages, []string{"acme/app"}) {
			t.Fatalf("packages.json: %d %v %s", r.status, err, r.body)
		}
		var p2 struct {
			Packages map[string][]struct {
				Version string
				Dist    struct{ URL string }
			}
		}
		r = l.get(base+"p2/acme/app.json", license)
		if err := json.Unmarshal(r.body, &p2); err != nil || r.status != 200 {
			t.Fatalf("p2: %d %v %s", r.status, err, r.body)
		}
		var versions []string
		for _, v := range p2.Packages["acme/app"] {
			versions = append(versions, v.Version)
		}
		if want := []string{"1.2.0-beta.1", "1.1.0", "1.0.0"}; !slices.Equal(versions, want) {
			t.Fatalf("versions %v, want %v", versions, want)
		}
		if got := l.fetchPackage(t, p2.Packages["acme/app"][1].Dist.URL, license...); !bytes.Equal(got, l.content["app-1.1.0.zip"]) {
			t.Fatal("zip differs")
		}
		if r := l.get(base+"p2/acme/app~dev.json", license); r.status != 200 || !strings.Contains(string(r.body), `"acme/app": []`) {
			t.Fatalf("dev versions: %d %s", r.status, r.body)
		}
		l.refusals(t, base+"p2/acme/app.json", true, licenseBasic)
	})
}
