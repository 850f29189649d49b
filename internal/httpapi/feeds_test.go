package httpapi_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"gopkg.in/yaml.v3"

	"github.com/relkey/relkey/internal/testenv"
)

// line is a package's releases as every feed test seeds them.
type line struct {
	e         *env
	productID string
	pkg       string
	key       string // a license of the product
	licenseID string
	content   map[string][]byte // by filename
	query     string            // added to every feed request (auth=…)
}

// get requests a feed, with the line's query.
func (l *line) get(path string, h []header) *response {
	if l.query != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + l.query
	}
	return l.e.do("GET", path, "", h...)
}

// upload creates an uploaded artifact of a release with random bytes; a
// RELEASES file lists the line's packages uploaded so far, as Squirrel.Windows
// builds write it (older releases first).
func (l *line) upload(releaseID, filename, platform, arch string) {
	content := make([]byte, 512+len(l.content))
	rand.Read(content)
	if filename == "RELEASES" {
		content = squirrelReleases(l.content)
	}
	l.uploadBytes(releaseID, filename, platform, arch, content)
}

// uploadBytes creates an uploaded artifact of a release with content.
func (l *line) uploadBytes(releaseID, filename, platform, arch string, content []byte) {
	t := l.e.t
	sum := sha512.Sum512(content)
	created := l.e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(releaseID, fmt.Sprintf(
		`"filename":%q,"filesize":%d,"platform":%q,"arch":%q,"checksum":%q,"signature":"sig-of-%s"`,
		filename, len(content), platform, arch, base64.StdEncoding.EncodeToString(sum[:]), filename)), header{"Prefer", "no-redirect"})
	id := l.e.id(created)
	if status, _ := rawRequest(t.(*testing.T), "PUT", created.header.Get("Location"), content); status != 200 {
		t.Fatalf("upload %s: %d", filename, status)
	}
	eventually(t.(*testing.T), filename+" to be uploaded", func() bool {
		return attrs(t, l.e.admin("GET", "/v1/accounts/acme/artifacts/"+id, "", header{"Prefer", "no-download"}))["status"] == "UPLOADED"
	})
	l.content[filename] = content
}

// squirrelReleases is a RELEASES file listing the .nupkg files of content
// in version order.
func squirrelReleases(content map[string][]byte) []byte {
	var names []string
	for name := range content {
		if strings.HasSuffix(name, ".nupkg") {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		return semver.MustParse(versionIn.FindStringSubmatch(a)[1]).Compare(semver.MustParse(versionIn.FindStringSubmatch(b)[1]))
	})
	var out bytes.Buffer
	for _, name := range names {
		fmt.Fprintf(&out, "%X %s %d\r\n", sha1.Sum(content[name]), name, len(content[name]))
	}
	return out.Bytes()
}

// release creates a release of the line's package.
func (l *line) release(version, channel, attrs string, files func(version string) [][3]string) string {
	r := l.e.admin("POST", "/v1/accounts/acme/releases", `{"data":{"type":"releases","attributes":{"version":"`+version+`","channel":"`+channel+`"`+attrs+`},`+
		`"relationships":{"product":{"data":{"type":"products","id":"`+l.productID+`"}},"package":{"data":{"type":"packages","id":"`+l.pkg+`"}}}}}`)
	id := l.e.id(r)
	for _, f := range files(version) {
		l.upload(id, f[0], f[1], f[2])
	}
	return id
}

// seedLine makes a package of the engine with: 1.0.0 and 1.1.0 stable
// (backdated three and two days), 1.2.0-beta.1, a draft 1.3.0, a yanked
// 1.4.0 and 2.0.0 constrained by an entitlement the license lacks. The
// license's policy restricts access after expiry (it has none).
func seedLine(t *testing.T, e *env, engine string, files func(version string) [][3]string) *line {
	productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Desk","code":"desk"`)))
	pkg := e.id(e.admin("POST", "/v1/accounts/acme/packages", packageBody(productID, `"name":"App","key":"app","engine":"`+engine+`"`)))
	policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID,
		`"name":"P","authenticationStrategy":"LICENSE","expirationStrategy":"RESTRICT_ACCESS"`)))
	lic := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, ""))
	l := &line{e: e, productID: productID, pkg: pkg, key: attrs(t, lic)["key"].(string), licenseID: e.id(lic), content: map[string][]byte{}}
	days := func(n int) string {
		return `,"backdated":"` + time.Now().Add(-time.Duration(n)*24*time.Hour).UTC().Format(time.RFC3339) + `"`
	}
	published := `,"status":"PUBLISHED"`
	l.release("1.0.0", "stable", published+days(3), files)
	l.release("1.1.0", "stable", published+days(2)+`,"description":"bar","metadata":{"critical":true}`, files)
	l.release("1.2.0-beta.1", "beta", published, files)
	l.release("1.3.0", "stable", "", files)
	yanked := l.release("1.4.0", "stable", published, files)
	e.admin("POST", "/v1/accounts/acme/releases/"+yanked+"/actions/yank", "")
	pro := e.id(e.admin("POST", "/v1/accounts/acme/entitlements", `{"data":{"type":"entitlements","attributes":{"name":"Pro","code":"PRO"}}}`))
	constrained := l.release("2.0.0", "stable", published, files)
	e.admin("POST", "/v1/accounts/acme/releases/"+constrained+"/constraints", constraintsBody(pro))
	return l
}

// versionIn reads the version a feed offers out of a file name app-<version>.<ext>.
var versionIn = regexp.MustCompile(`app-(\d+\.\d+\.\d+(?:-[a-z]+\.\d+)?)[._-]`)

func offered(t *testing.T, link string) string {
	t.Helper()
	m := versionIn.FindStringSubmatch(link)
	if m == nil {
		t.Fatalf("no version in %q", link)
	}
	return m[1]
}

// follow downloads a feed's link through relkey's 303s (the feed's own
// file route, then the API's download route) and the presigned URL.
func (l *line) follow(t *testing.T, link string, headers ...header) []byte {
	t.Helper()
	for hops := 0; ; hops++ {
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		if hops > 2 || !strings.HasPrefix(link, l.e.srv.URL) {
			t.Fatalf("download link %s leaves relkey before its download route", link)
		}
		r := l.e.do("GET", u.RequestURI(), "", headers...)
		if r.status != http.StatusSeeOther {
			t.Fatalf("download link %s: %d %s", link, r.status, r.body)
		}
		if strings.HasPrefix(u.Path, "/v1/accounts/"+l.e.acct.Account.ID+"/artifacts/") {
			status, body := rawRequest(t, "GET", r.header.Get("Location"), nil)
			if status != 200 {
				t.Fatalf("presigned download: %d", status)
			}
			return body
		}
		link = r.header.Get("Location")
	}
}

// feedCase is one engine's way to ask for an update: the link to the
// offered file ("" when none) for a bearer, a current version and a channel.
type feedCase struct {
	name   string // the case's name when the engine has several formats
	engine string
	files  func(version string) [][3]string
	ask    func(t *testing.T, l *line, h []header, current, channel string) (link string, r *response)
	// stateless formats answer the newest release whatever the client runs.
	stateless bool
}

func feedCases() []feedCase {
	base := "/v1/accounts/acme/engines/"
	return []feedCase{
		{engine: "tauri", files: func(v string) [][3]string {
			return [][3]string{{"app-" + v + ".AppImage", "linux", "x86_64"}, {"app-" + v + ".AppImage.sig", "linux", "x86_64"}}
		}, ask: func(t *testing.T, l *line, h []header, current, channel string) (string, *response) {
			r := l.get(base+"tauri/app?platform=linux&arch=x86_64&version="+current+"&channel="+channel, h)
			if r.status != 200 {
				return "", r
			}
			return r.doc(t)["url"].(string), r
		}},
		{engine: "electron", stateless: true, files: func(v string) [][3]string {
			return [][3]string{{"app-" + v + ".AppImage", "linux", "x64"}}
		}, ask: func(t *testing.T, l *line, h []header, _, channel string) (string, *response) {
			name := "latest-linux.yml"
			if channel != "" {
				name = channel + "-linux.yml"
			}
			r := l.get(base+"electron/app/"+name, h)
			if r.status != 200 {
				return "", r
			}
			var info struct{ Path string }
			if err := yaml.Unmarshal(r.body, &info); err != nil {
				t.Fatalf("%s: %v\n%s", name, err, r.body)
			}
			link := l.e.srv.URL + base + "electron/app/" + info.Path
			if l.query != "" {
				link += "?" + l.query // electron-updater carries the base URL's query to files
			}
			return link, r
		}},
		{engine: "squirrel", files: func(v string) [][3]string {
			return [][3]string{{"app-" + v + "-mac.zip", "darwin", "x64"}}
		}, ask: func(t *testing.T, l *line, h []header, current, channel string) (string, *response) {
			r := l.get(base+"squirrel/app/darwin/x64/"+current+"?channel="+channel, h)
			if r.status != 200 {
				return "", r
			}
			return r.doc(t)["url"].(string), r
		}},
		{engine: "sparkle", stateless: true, files: func(v string) [][3]string {
			return [][3]string{{"app-" + v + ".zip", "macos", "universal"}}
		}, ask: func(t *testing.T, l *line, h []header, _, channel string) (string, *response) {
			r := l.get(base+"sparkle/app/appcast.xml?channel="+channel, h)
			if r.status != 200 {
				return "", r
			}
			var doc struct {
				Items []struct {
					Enclosure struct {
						URL string `xml:"url,attr"`
					} `xml:"enclosure"`
				} `xml:"channel>item"`
			}
			if err := xml.Unmarshal(r.body, &doc); err != nil || len(doc.Items) == 0 {
				t.Fatalf("appcast (%v): %s", err, r.body)
			}
			return doc.Items[0].Enclosure.URL, r
		}},
		{name: "squirrel-windows", engine: "squirrel", stateless: true, files: func(v string) [][3]string {
			return [][3]string{{"app-" + v + "-full.nupkg", "win32", "x64"}, {"app-" + v + "-delta.nupkg", "win32", "x64"}, {"RELEASES", "win32", "x64"}}
		}, ask: func(t *testing.T, l *line, h []header, _, channel string) (string, *response) {
			r := l.get(base+"squirrel/app/win32/x64/RELEASES?id=app&localVersion=1.0.0&arch=amd64&channel="+channel, h)
			if r.status != 200 {
				return "", r
			}
			entries := parseSquirrelReleases(t, r)
			return entries[len(entries)-1].link, r
		}},
		{engine: "velopack", stateless: true, files: func(v string) [][3]string {
			return [][3]string{{"app-" + v + "-delta.nupkg", "win32", "x64"}, {"app-" + v + "-full.nupkg", "win32", "x64"}, {"app-" + v + "-osx-full.nupkg", "darwin", "arm64"}}
		}, ask: func(t *testing.T, l *line, h []header, current, channel string) (string, *response) {
			name := "releases.win.json?"
			if channel != "" {
				name = "releases." + channel + ".json?os=win&"
			}
			r := l.get(base+"velopack/app/"+name+"arch=x64&rid=win-x64&id=app&localVersion="+current, h)
			if r.status != 200 {
				return "", r
			}
			assets := parseVelopackFeed(t, l, r)
			if len(assets) == 0 {
				return "", r
			}
			link := l.e.srv.URL + base + "velopack/app/" + assets[0].FileName
			if l.query != "" {
				link += "?" + l.query // Velopack keeps the base URL's query on downloads
			}
			return link, r
		}},
		{engine: "faynosync", files: func(v string) [][3]string {
			return [][3]string{{"app-" + v + ".deb", "linux", "amd64"}}
		}, ask: func(t *testing.T, l *line, h []header, current, channel string) (string, *response) {
			r := l.get(base+"faynosync/checkVersion?app_name=app&version="+current+"&channel="+channel+"&platform=linux&arch=amd64&owner=admin", h)
			if r.status != 200 || r.doc(t)["update_available"] != true {
				return "", r
			}
			return r.doc(t)["update_url_deb"].(string), r
		}},
	}
}

// TestFeedsOfferWhatTheBearerMaySee runs every feed through the rules:
// the newest visible release for the platform (drafts, yanked releases
// and unentitled ones hidden), channels with inclusion, no update for a
// client that has the newest, the expiry window, suspended and anonymous
// bearers, and links that download the exact bytes.
func TestFeedsOfferWhatTheBearerMaySee(t *testing.T) {
	for _, fc := range feedCases() {
		name := fc.name
		if name == "" {
			name = fc.engine
		}
		t.Run(name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, be testenv.Backend) {
				e := newEnv(t, be)
				l := seedLine(t, e, fc.engine, fc.files)
				license := []header{{"Authorization", "License " + l.key}}
				ask := func(h []header, current, channel string) string {
					link, r := fc.ask(t, l, h, current, channel)
					if link == "" && r.status >= 300 {
						t.Fatalf("%s from %s on %q: %d %s", fc.engine, current, channel, r.status, r.body)
					}
					if link == "" {
						return ""
					}
					return offered(t, link)
				}
				if got := ask(license, "1.0.0", ""); got != "1.1.0" {
					t.Fatalf("license from 1.0.0: offered %q, want 1.1.0 (no draft, yanked or unentitled release)", got)
				}
				if got := ask(license, "1.0.0", "beta"); got != "1.2.0-beta.1" {
					t.Fatalf("license on beta: offered %q, want 1.2.0-beta.1", got)
				}
				if got := ask([]header{bearer(e.token)}, "1.0.0", ""); got != "2.0.0" {
					t.Fatalf("admin: offered %q, want 2.0.0", got)
				}
				if !fc.stateless {
					if got := ask(license, "1.1.0", ""); got != "" {
						t.Fatalf("license on the newest: offered %q, want no update", got)
					}
				}

				// The link downloads the exact bytes, with the header and with ?auth=.
				link, _ := fc.ask(t, l, license, "1.0.0", "")
				name := path(link)
				if got := l.follow(t, link, license...); !bytes.Equal(got, l.content[name]) {
					t.Fatalf("download of %s: %d bytes differ", name, len(got))
				}
				if anonymous, r := fc.ask(t, l, nil, "1.0.0", ""); anonymous != "" || r.status != 404 {
					t.Fatalf("anonymous: %d %s", r.status, r.body)
				}
				byQuery := *l
				byQuery.query = url.Values{"auth": {"license:" + l.key}}.Encode()
				link, _ = fc.ask(t, &byQuery, nil, "1.0.0", "")
				if got := l.follow(t, link); !bytes.Equal(got, l.content[path(link)]) {
					t.Fatalf("download of %s through ?auth=: bytes differ", link)
				}
				if !strings.Contains(link, byQuery.query) && fc.engine != "electron" {
					t.Fatalf("link of a feed fetched with ?auth= lacks it: %s", link)
				}
				headerLink, r := fc.ask(t, l, license, "1.0.0", "")
				if strings.Contains(headerLink, "auth=") {
					t.Fatalf("link of a feed fetched with a header carries a credential: %s", headerLink)
				}
				etag := r.header.Get("ETag")
				if _, r := fc.ask(t, l, append(license, header{"If-None-Match", etag}), "1.0.0", ""); etag == "" || r.status != http.StatusNotModified ||
					len(r.body) != 0 || !strings.HasPrefix(r.header.Get("Cache-Control"), "private") {
					t.Fatalf("If-None-Match %s: %d %q", etag, r.status, r.header.Get("Cache-Control"))
				}

				// Expired two and a half days ago: only 1.0.0 is in the window.
				e.admin("PATCH", "/v1/accounts/acme/licenses/"+l.licenseID, `{"data":{"type":"licenses","attributes":{"expiry":"`+
					time.Now().Add(-60*time.Hour).UTC().Format(time.RFC3339)+`"}}}`)
				if fc.stateless {
					if got := ask(license, "1.0.0", ""); got != "1.0.0" {
						t.Fatalf("expired license: offered %q, want 1.0.0", got)
					}
				} else if got := ask(license, "1.0.0", ""); got != "" {
					t.Fatalf("expired license: offered %q, want nothing", got)
				}
				e.admin("POST", "/v1/accounts/acme/licenses/"+l.licenseID+"/actions/suspend", "")
				if _, r := fc.ask(t, l, license, "1.0.0", ""); r.status != 403 {
					t.Fatalf("suspended license: %d %s", r.status, r.body)
				}
			})
		})
	}
}

// squirrelEntry is a line of a RELEASES file.
type squirrelEntry struct {
	sha1, link string
	size       int
}

// parseSquirrelReleases reads RELEASES line by line as Squirrel.Windows'
// ReleaseEntry does (SHA1, file name or URL, size) and checks each
// package's link: an absolute relkey URL that downloads the bytes the line
// describes.
func parseSquirrelReleases(t *testing.T, r *response) []squirrelEntry {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("RELEASES served as %q", ct)
	}
	var out []squirrelEntry
	for i, line := range strings.Split(strings.TrimSpace(string(r.body)), "\n") {
		fields := strings.Fields(line)
		if len(fields) != 3 || len(fields[0]) != 40 {
			t.Fatalf("RELEASES line %d is not 'SHA1 filename size': %q", i+1, line)
		}
		size, err := strconv.Atoi(fields[2])
		u, perr := url.Parse(fields[1])
		if err != nil || perr != nil || !u.IsAbs() || !strings.HasSuffix(u.Path, ".nupkg") {
			t.Fatalf("RELEASES line %d: %q", i+1, line)
		}
		out = append(out, squirrelEntry{sha1: fields[0], link: fields[1], size: size})
	}
	if len(out) == 0 {
		t.Fatalf("empty RELEASES: %q", r.body)
	}
	return out
}

// velopackAsset is an asset of Velopack's feed.
type velopackAsset struct {
	PackageID, Version, Type, FileName, SHA1, SHA256 string `json:",omitempty"`
	Size                                             int64
	NotesMarkdown                                    string
}

// parseVelopackFeed reads releases.<channel>.json as Velopack's
// VelopackAssetFeed: every asset a Full or Delta package of the package,
// newest first, with its SHA-1 or SHA-256 when the upload had one.
func parseVelopackFeed(t *testing.T, l *line, r *response) []velopackAsset {
	t.Helper()
	var doc struct{ Assets []velopackAsset }
	if err := json.Unmarshal(r.body, &doc); err != nil || doc.Assets == nil {
		t.Fatalf("Velopack feed (%v): %s", err, r.body)
	}
	for i, a := range doc.Assets {
		if a.PackageID != "app" || a.Type != "Full" && a.Type != "Delta" || a.Type == "Delta" != strings.HasSuffix(a.FileName, "-delta.nupkg") ||
			a.Size <= 0 || strings.Contains(a.FileName, "osx") || i > 0 && semver.MustParse(a.Version).GreaterThan(semver.MustParse(doc.Assets[i-1].Version)) {
			t.Fatalf("Velopack asset %d: %+v", i, a)
		}
	}
	return doc.Assets
}

func path(link string) string {
	u, _ := url.Parse(link)
	return u.Path[strings.LastIndex(u.Path, "/")+1:]
}
