package clients

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// crane builds the crane pinned by this module's go.mod (its tool
// directive) into dir.
func crane(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "crane")
	build := exec.Command("go", "build", "-o", bin, "github.com/google/go-containerregistry/cmd/crane")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building crane: %v\n%s", err, out)
	}
	return bin
}

// TestCranePull pushes an image layout with relkey image push and pulls
// it with crane, a license key as the registry credential (crane auth
// login), from the default account's /v2/<package> and the account's
// /v2/<account>/<package>; refused with no credentials, a suspended and
// an unentitled license.
func TestCranePull(t *testing.T) {
	tools := t.TempDir()
	craneBin := crane(t, tools)
	r := startRelkey(t, "", nil)
	s := r.seedRegistry("oci", "relkey-image")
	release := r.must("create release", 201, "POST", "/v1/releases", `{"data":{"type":"releases","attributes":{"version":"1.2.0","channel":"stable","status":"PUBLISHED","tag":"lts"},
		"relationships":{"product":{"data":{"type":"products","id":"`+s.product+`"}},"package":{"data":{"type":"packages","id":"`+s.pkg+`"}}}}}`).id()

	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(src, empty.Index)
	if err == nil {
		err = p.AppendImage(img)
	}
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := img.Digest()
	push := exec.Command(binary, "image", "push", "--url", r.URL, "--token", r.AdminToken, "--release", release, src)
	push.Env = relkeyEnv()
	if out, err := push.CombinedOutput(); err != nil || !strings.Contains(string(out), "pushed 4 blobs") {
		t.Fatalf("relkey image push: %v\n%s", err, out)
	}

	host := strings.TrimPrefix(r.URL, "http://")
	pull := func(key, ref string) (string, string, error) {
		config := t.TempDir()
		env := append(relkeyEnv(), "DOCKER_CONFIG="+config, "HOME="+config)
		if key != "" {
			login := exec.Command(craneBin, "auth", "login", host, "-u", "license", "-p", key)
			login.Env = env
			if out, err := login.CombinedOutput(); err != nil {
				t.Fatalf("crane auth login: %v\n%s", err, out)
			}
		}
		dest := filepath.Join(t.TempDir(), "pulled")
		cmd := exec.Command(craneBin, "pull", "--insecure", "--format=oci", ref, dest)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return dest, string(out), err
	}
	for _, ref := range []string{host + "/relkey-image:1.2.0", host + "/" + r.AccountID + "/relkey-image:lts"} {
		dest, out, err := pull(s.key, ref)
		if err != nil {
			t.Fatalf("crane pull %s with the license key: %v\n%s", ref, err, out)
		}
		pulled, err := layout.ImageIndexFromPath(dest)
		if err == nil {
			var m, _ = pulled.IndexManifest()
			if m == nil || len(m.Manifests) != 1 || m.Manifests[0].Digest != digest {
				t.Fatalf("crane pull %s wrote %+v, want image %s", ref, m, digest)
			}
			var got, _ = pulled.Image(digest)
			if got == nil {
				t.Fatalf("pulled layout lacks image %s", digest)
			}
			layers, _ := got.Layers()
			for _, l := range layers {
				if _, err := l.Compressed(); err != nil {
					t.Fatalf("pulled layer: %v", err)
				}
			}
		}
		if err != nil {
			t.Fatalf("pulled layout: %v", err)
		}
	}
	refused(t, "crane pull", func(key string) (string, error) {
		_, out, err := pull(key, host+"/relkey-image:1.2.0")
		return out, err
	}, s.refusedCredentials("", ""), "UNAUTHORIZED", "TOKEN_MISSING", "LICENSE_SUSPENDED", "NOT_FOUND")
}
