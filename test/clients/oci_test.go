package clients

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// stores are the object stores the push suite runs on: the local folder,
// and S3 when the environment names one (make test's MinIO).
func stores() map[string][]string {
	out := map[string][]string{"local folder": nil}
	if url := os.Getenv("RELKEY_TEST_STORAGE_URL"); url != "" {
		out["S3"] = []string{"RELKEY_STORAGE_URL=" + url}
	}
	return out
}

// TestCranePush pushes images with crane push through the distribution
// API, an admin token as the credential (through the token flow): a
// version tag creates its release; a second tag of the same image reuses
// the blobs the package holds; a multi-platform index carries its
// platform's manifest. A license key pulls them and may not push.
func TestCranePush(t *testing.T) {
	tools := t.TempDir()
	craneBin := crane(t, tools)
	for name, settings := range stores() {
		t.Run(name, func(t *testing.T) {
			r := startRelkey(t, "", nil, settings...)
			s := r.seedRegistry("oci", "relkey-pushed")
			host := strings.TrimPrefix(r.URL, "http://")
			run := func(user, secret string, args ...string) (string, error) {
				config := t.TempDir()
				env := append(relkeyEnv(), "DOCKER_CONFIG="+config, "HOME="+config)
				login := exec.Command(craneBin, "auth", "login", host, "-u", user, "-p", secret)
				login.Env = env
				if out, err := login.CombinedOutput(); err != nil {
					t.Fatalf("crane auth login: %v\n%s", err, out)
				}
				cmd := exec.Command(craneBin, append(args, "--insecure")...)
				cmd.Env = env
				out, err := cmd.CombinedOutput()
				return string(out), err
			}
			layoutOf := func(add func(p layout.Path) error) string {
				dir := filepath.Join(t.TempDir(), "layout")
				p, err := layout.Write(dir, empty.Index)
				if err == nil {
					err = add(p)
				}
				if err != nil {
					t.Fatal(err)
				}
				return dir
			}
			img, err := random.Image(4096, 3)
			if err != nil {
				t.Fatal(err)
			}
			digest, _ := img.Digest()
			src := layoutOf(func(p layout.Path) error { return p.AppendImage(img) })
			for _, tag := range []string{"1.2.0", "1.3.0-beta.1"} {
				if out, err := run("token", r.AdminToken, "push", src, host+"/relkey-pushed:"+tag); err != nil || !strings.Contains(out, digest.String()) {
					t.Fatalf("crane push :%s: %v\n%s", tag, err, out)
				}
			}
			idx, err := random.Index(2048, 2, 1)
			if err != nil {
				t.Fatal(err)
			}
			idxSrc := layoutOf(func(p layout.Path) error { return p.AppendIndex(idx) })
			idxBlobs, _ := os.ReadDir(filepath.Join(idxSrc, "blobs", "sha256"))
			// crane push --index pushes the layout's index.json, which lists
			// the index: one more manifest than the layout's blobs.
			out, err := run("token", r.AdminToken, "push", "--index", idxSrc, host+"/"+r.AccountID+"/relkey-pushed:2.0.0")
			digests := regexp.MustCompile(`sha256:[0-9a-f]{64}`).FindAllString(out, -1)
			if err != nil || len(digests) == 0 {
				t.Fatalf("crane push --index: %v\n%s", err, out)
			}
			idxDigest := digests[len(digests)-1]
			// The releases the tags created, with the image's artifacts.
			for tag, want := range map[string]int{"1.2.0": 5, "1.3.0-beta.1": 5, "2.0.0": len(idxBlobs) + 1} {
				rel := r.must("release "+tag, 200, "GET", "/v1/releases/"+tag, "")
				if rel.attr("status") != "PUBLISHED" {
					t.Fatalf("release %s: %v", tag, rel.attr("status"))
				}
				var list struct{ Data []any }
				if err := json.Unmarshal(r.must("artifacts of "+tag, 200, "GET", "/v1/artifacts?release="+rel.id(), "").body, &list); err != nil {
					t.Fatal(err)
				}
				if n := len(list.Data); n != want {
					t.Fatalf("release %s has %d artifacts, want %d", tag, n, want)
				}
			}
			for ref, want := range map[string]string{host + "/relkey-pushed:1.3.0-beta.1": digest.String(), host + "/relkey-pushed:2.0.0": idxDigest} {
				if out, err := run("license", s.key, "digest", ref); err != nil || strings.TrimSpace(out) != want {
					t.Fatalf("crane digest %s with the license key: %v %s, want %s", ref, err, out, want)
				}
			}
			dest := filepath.Join(t.TempDir(), "pulled")
			if out, err := run("license", s.key, "pull", "--format=oci", host+"/relkey-pushed:1.2.0", dest); err != nil {
				t.Fatalf("crane pull of the pushed image: %v\n%s", err, out)
			}
			if pulled, err := layout.ImageIndexFromPath(dest); err != nil {
				t.Fatal(err)
			} else if got, err := pulled.Image(digest); err != nil || got == nil {
				t.Fatalf("pulled layout lacks %s: %v", digest, err)
			}
			if out, err := run("license", s.key, "push", src, host+"/relkey-pushed:1.4.0"); err == nil || !strings.Contains(out, "ACCESS_DENIED") {
				t.Fatalf("crane push with a license key: %v\n%s", err, out)
			}
		})
	}
}

// TestOras pushes a file as an OCI artifact with the oras CLI (the
// version test/clients/go.mod pins as a tool), an admin token as the
// credential through the token flow, and pulls it with a license key;
// refused with no credentials, a suspended and an unentitled license.
func TestOras(t *testing.T) {
	tools := t.TempDir()
	orasBin := filepath.Join(tools, "oras")
	if out, err := exec.Command("go", "build", "-o", orasBin, "oras.land/oras/cmd/oras").CombinedOutput(); err != nil {
		t.Fatalf("building oras: %v\n%s", err, out)
	}
	r := startRelkey(t, "", nil)
	s := r.seedRegistry("oci", "relkey-notes")
	host := strings.TrimPrefix(r.URL, "http://")
	oras := func(user, secret, dir string, args ...string) (string, error) {
		home := t.TempDir()
		env := append(relkeyEnv(), "HOME="+home, "DOCKER_CONFIG="+home)
		if secret != "" {
			login := exec.Command(orasBin, "login", "--plain-http", "-u", user, "-p", secret, host)
			login.Env = env
			if out, err := login.CombinedOutput(); err != nil {
				return string(out), err
			}
		}
		cmd := exec.Command(orasBin, append(args, "--plain-http")...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "notes.txt"), []byte("relkey notes 1.0.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := host + "/relkey-notes:1.0.0"
	if out, err := oras("token", r.AdminToken, src, "push", ref, "notes.txt:text/plain"); err != nil {
		t.Fatalf("oras push: %v\n%s", err, out)
	}
	dest := t.TempDir()
	if out, err := oras("license", s.key, dest, "pull", ref); err != nil {
		t.Fatalf("oras pull with the license key: %v\n%s", err, out)
	}
	if got, err := os.ReadFile(filepath.Join(dest, "notes.txt")); err != nil || string(got) != "relkey notes 1.0.0\n" {
		t.Fatalf("oras pulled %q (%v)", got, err)
	}
	refused(t, "oras pull", func(key string) (string, error) { return oras("license", key, t.TempDir(), "pull", ref) },
		s.refusedCredentials("", ""), "401", "403", "404", "unauthorized", "not found", "denied", "license suspended", "token missing")
}
