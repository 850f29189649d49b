package clients

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestElectron publishes with electron-builder's keygen publisher
// (electron-publish 26.16.0) and updates with electron-updater 6.8.10's
// KeygenProvider, from Node, against relkey serving TLS itself on
// 127.0.0.1:443: the only port electron-publish speaks to.
func TestElectron(t *testing.T) {
	dir := electronClients(t)

	cert := newTestTLS(t)
	r := startRelkey(t, "127.0.0.1:443", cert)
	product := r.must("create product", 201, "POST", "/v1/products", `{"data":{"type":"products","attributes":{"name":"Electron app"}}}`).id()
	token := r.must("create product token", 201, "POST", "/v1/products/"+product+"/tokens", "").attr("token").(string)
	policy := r.must("create policy", 201, "POST", "/v1/policies", `{"data":{"type":"policies","attributes":{"name":"Desktop","authenticationStrategy":"LICENSE"},
		"relationships":{"product":{"data":{"type":"products","id":"`+product+`"}}}}}`).id()
	key := r.must("create license", 201, "POST", "/v1/licenses", `{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"`+policy+`"}}}}}`).attr("key").(string)

	run := exec.Command("node", "test.js")
	run.Dir = dir
	run.Env = append(relkeyEnv(), "RELKEY_ACCOUNT_ID="+r.AccountID, "RELKEY_PRODUCT_ID="+product, "KEYGEN_TOKEN="+token,
		"RELKEY_LICENSE_KEY="+key, "NODE_EXTRA_CA_CERTS="+cert.certFile)
	out, err := run.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "sha512 matches") {
		t.Fatalf("electron clients against relkey: %v\n%s", err, out)
	}
	t.Log(strings.TrimSpace(string(out)))

	// What the publisher left: one published release with both files.
	release := r.must("published release", 200, "GET", "/v1/releases/4.0.0?product="+product, "")
	if release.attr("status") != "PUBLISHED" {
		t.Fatalf("electron-publish left the release %v", release.attr("status"))
	}
	if got := r.must("artifacts", 200, "GET", "/v1/artifacts?release="+release.id(), ""); len(got.doc["data"].([]any)) != 2 {
		t.Fatalf("electron-publish uploaded %s", got.body)
	}
}

// electronClients installs the pinned Node clients (electron-publish,
// electron-updater, builder-util-runtime) and returns their folder.
func electronClients(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the electron clients need %s (Node.js with npm) on PATH: %v", tool, err)
		}
	}
	dir, err := filepath.Abs("electron")
	if err != nil {
		t.Fatal(err)
	}
	install := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm ci (electron-publish, electron-updater, builder-util-runtime at their pinned versions): %v\n%s", err, out)
	}
	return dir
}
