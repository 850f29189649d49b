package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/testenv"
)

// TestWindowsFeedsEdges: Velopack's feed for a platform without packages is
// empty, Squirrel.Windows has no RELEASES for an arch without one, and a
// RELEASES artifact that is not one, or is over artifact.MaxContent, is
// refused with a clear error rather than served.
func TestWindowsFeedsEdges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		files := func(v string) [][3]string {
			return [][3]string{{"app-" + v + "-full.nupkg", "win32", "x64"}, {"RELEASES", "win32", "x64"}}
		}
		velopack := seedLine(t, e, "velopack", files)
		license := []header{{"Authorization", "License " + velopack.key}}
		base := "/v1/accounts/acme/engines/"
		if r := velopack.get(base+"velopack/app/releases.linux.json", license); r.status != 200 || string(r.body) != `{"Assets":[]}` {
			t.Fatalf("Velopack feed without packages: %d %s", r.status, r.body)
		}
		if r := velopack.get(base+"velopack/app/releases.nightly.json", license); r.status != 400 {
			t.Fatalf("Velopack feed of an unknown channel: %d %s", r.status, r.body)
		}
		if r := velopack.get(base+"velopack/app/app-1.0.0.zip", license); r.status != 404 {
			t.Fatalf("Velopack file that is not a package: %d %s", r.status, r.body)
		}

		// The same line served to Squirrel.Windows.
		e.admin("PATCH", "/v1/accounts/acme/packages/"+velopack.pkg, `{"data":{"type":"packages","attributes":{"engine":"squirrel"}}}`)
		win := base + "squirrel/app/win32/"
		if r := velopack.get(win+"arm64/RELEASES", license); r.status != 404 || !strings.Contains(string(r.body), "RELEASES") {
			t.Fatalf("RELEASES for an arch without one: %d %s", r.status, r.body)
		}
		if r := velopack.get(win+"x64/setup.exe", license); r.status != 404 {
			t.Fatalf("Squirrel.Windows file that is not a package: %d %s", r.status, r.body)
		}
		for _, tt := range []struct {
			version string
			content []byte
			code    string
		}{
			{"1.5.0", []byte("this is not a RELEASES file\n"), "RELEASES_INVALID"},
			{"1.6.0", bytes.Repeat([]byte("0"), artifact.MaxContent+1), "ARTIFACT_TOO_LARGE"},
		} {
			id := velopack.release(tt.version, "stable", `,"status":"PUBLISHED"`, func(string) [][3]string { return nil })
			velopack.uploadBytes(id, "RELEASES", "win32", "x64", tt.content)
			r := velopack.get(win+"x64/RELEASES", license)
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), tt.code) {
				t.Fatalf("RELEASES of %s: %d %s", tt.version, r.status, r.body)
			}
		}
	})
}
