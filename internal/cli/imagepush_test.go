package cli

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/ociimage/ocitest"
	"github.com/relkey/relkey/internal/testenv"
)

// TestImagePush stores an image layout (a directory, then the same
// image as a tar again) as artifacts of a release, which the OCI engine
// serves by version; a second push skips what is there.
func TestImagePush(t *testing.T) {
	forEachStore(t, func(t *testing.T, _ testenv.Backend, env map[string]string, server *live) {
		token := server.onboard("acme").RawToken
		product := server.create("/v1/accounts/acme/products", `{"data":{"type":"products","attributes":{"name":"Desk","code":"desk","distributionStrategy":"OPEN"}}}`, token)
		pkg := func(key, engine string) string {
			return server.create("/v1/accounts/acme/packages", fmt.Sprintf(`{"data":{"type":"packages","attributes":{"name":%q,"key":%q,"engine":%q},`+
				`"relationships":{"product":{"data":{"type":"products","id":%q}}}}}`, key, key, engine, product), token)
		}
		release := func(pkgID, version string) {
			server.create("/v1/accounts/acme/releases", fmt.Sprintf(`{"data":{"type":"releases","attributes":{"version":%q,"channel":"stable","status":"PUBLISHED"},`+
				`"relationships":{"product":{"data":{"type":"products","id":%q}},"package":{"data":{"type":"packages","id":%q}}}}}`, version, product, pkgID), token)
		}
		release(pkg("app", "oci"), "1.0.0")
		release(pkg("wheel", "pypi"), "9.0.0")
		img := ocitest.New(t, "1.0.0", true)
		dir := t.TempDir()
		img.WriteLayout(t, filepath.Join(dir, "layout"), "1.0.0")
		img.WriteTar(t, filepath.Join(dir, "image.tar"), "1.0.0")
		pushEnv := map[string]string{"RELKEY_URL": server.srv.URL, "RELKEY_TOKEN": token, "RELKEY_ACCOUNT": "acme"}

		out := must(t, pushEnv, "image", "push", "--release", "1.0.0", filepath.Join(dir, "layout"))
		host := strings.TrimPrefix(server.srv.URL, "http://")
		if !strings.Contains(out, "pushed 4 blobs") || !strings.Contains(out, "pull it as "+host+"/acme/app:1.0.0") {
			t.Fatalf("push: %s", out)
		}
		if out := must(t, pushEnv, "image", "push", "--release", "1.0.0", filepath.Join(dir, "image.tar")); !strings.Contains(out, "pushed 0 blobs") ||
			!strings.Contains(out, "(4 already there)") {
			t.Fatalf("second push: %s", out)
		}
		r := server.do("GET", "/v2/acme/app/manifests/1.0.0", "", "")
		if r.status != 200 || !bytes.Equal(r.body, img.Index.Content) || r.header.Get("Docker-Content-Digest") != img.Index.Digest() {
			t.Fatalf("pushed image's tag: %d %s", r.status, r.body)
		}
		for _, c := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"image", "push", "--release", "9.0.0", filepath.Join(dir, "layout")}, exitFailure, "not of a package of engine oci"},
			{[]string{"image", "push", "--release", "1.0.0", dir}, exitFailure, "not an OCI image layout"},
			{[]string{"image", "push", filepath.Join(dir, "layout")}, exitUsage, "--release are required"},
			{[]string{"image", "pull"}, exitUsage, "usage: relkey image push"},
		} {
			if code, stdout, stderr := run(t, pushEnv, c.args...); code != c.code || !strings.Contains(stdout+stderr, c.want) {
				t.Errorf("%v: exit %d %s%s, want %d %q", c.args, code, stdout, stderr, c.code, c.want)
			}
		}
	})
}
