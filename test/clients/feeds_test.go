package clients

import (
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// feedRelease publishes a release of a package and uploads its files
// (name, platform, arch), returning nothing: the feeds find them.
func (r *relkey) feedRelease(productID, pkg, version string, files [][3]string) {
	r.t.Helper()
	release := r.must("create release "+version, 201, "POST", "/v1/releases", fmt.Sprintf(`{"data":{"type":"releases",
		"attributes":{"version":%q,"channel":"stable","status":"PUBLISHED"},
		"relationships":{"product":{"data":{"type":"products","id":%q}},"package":{"data":{"type":"packages","id":%q}}}}}`, version, productID, pkg)).id()
	for i, f := range files {
		content := make([]byte, 4096+i)
		_, _ = rand.Read(content)
		sum := sha512.Sum512(content)
		created := r.must("create artifact "+f[0], 307, "POST", "/v1/artifacts", fmt.Sprintf(`{"data":{"type":"artifacts","attributes":{"filename":%q,
			"filesize":%d,"platform":%q,"arch":%q,"checksum":%q},"relationships":{"release":{"data":{"type":"releases","id":%q}}}}}`,
			f[0], len(content), f[1], f[2], base64.StdEncoding.EncodeToString(sum[:]), release))
		if status := put(r.t, r.client, created.header.Get("Location"), content); status != 200 {
			r.t.Fatalf("upload %s: PUT answered %d", f[0], status)
		}
		r.waitUploaded(created.id())
	}
}

// TestElectronGenericProvider: electron-updater 6.8.10's GenericProvider,
// pointed at relkey's electron engine, finds 1.1.0 in latest-mac.yml,
// latest.yml and latest-linux.yml, resolves the files and downloads them
// (and the Windows installer's .blockmap) through relkey's 303s with the
// sha512 checked, with a License header and with ?auth= in the base URL.
func TestElectronGenericProvider(t *testing.T) {
	dir := electronClients(t)
	r := startRelkey(t, "", nil)
	product := r.must("create product", 201, "POST", "/v1/products", `{"data":{"type":"products","attributes":{"name":"Desk"}}}`).id()
	pkg := r.must("create package", 201, "POST", "/v1/packages", `{"data":{"type":"packages","attributes":{"name":"Desk","key":"desk","engine":"electron"},
		"relationships":{"product":{"data":{"type":"products","id":"`+product+`"}}}}}`).id()
	policy := r.must("create policy", 201, "POST", "/v1/policies", `{"data":{"type":"policies","attributes":{"name":"Desktop","authenticationStrategy":"LICENSE"},
		"relationships":{"product":{"data":{"type":"products","id":"`+product+`"}}}}}`).id()
	key := r.must("create license", 201, "POST", "/v1/licenses", `{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"`+policy+`"}}}}}`).attr("key").(string)
	for _, version := range []string{"1.0.0", "1.1.0"} {
		r.feedRelease(product, pkg, version, [][3]string{
			{"Desk-" + version + "-arm64-mac.zip", "darwin", "arm64"}, {"Desk-" + version + "-mac.zip", "darwin", "x64"}, {"Desk-" + version + ".dmg", "darwin", "x64"},
			{"Desk Setup " + version + ".exe", "win32", "x64"}, {"Desk Setup " + version + ".exe.blockmap", "win32", "x64"},
			{"Desk-" + version + ".AppImage", "linux", "x64"},
		})
	}
	run := exec.Command("node", "generic.js")
	run.Dir = dir
	run.Env = append(relkeyEnv(), "RELKEY_FEED_URL="+r.URL+"/v1/engines/electron/desk", "RELKEY_LICENSE_KEY="+key, "RELKEY_VERSION=1.1.0")
	out, err := run.CombinedOutput()
	if err != nil || strings.Count(string(out), "sha512 matches") != 4 || !strings.Contains(string(out), "blockmap fetched") {
		t.Fatalf("electron-updater GenericProvider against relkey: %v\n%s", err, out)
	}
	t.Log(strings.TrimSpace(string(out)))
}
