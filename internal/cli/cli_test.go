package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/db"
)

func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(Command{Args: args, Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Stderr: &stderr})
	return code, stdout.String(), stderr.String()
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		output string
	}{
		{"no command", nil, nil, 2, "Usage"},
		{"unknown command", nil, []string{"frobnicate"}, 2, "unknown command"},
		{"version", nil, []string{"version"}, 0, "relkey"},
		{"bad listen", map[string]string{"RELKEY_LISTEN": "nope"}, []string{"serve"}, 2, "RELKEY_LISTEN"},
		{"postgres without secret", map[string]string{"RELKEY_DATABASE_URL": "postgres://h/db"}, []string{"migrate"}, 2, "RELKEY_SECRET_KEY"},
		{"bad storage", map[string]string{"RELKEY_STORAGE_URL": "s3://h/b"}, []string{"serve"}, 2, "RELKEY_STORAGE_URL"},
		{"account without create", map[string]string{"RELKEY_DATA_DIR": dir}, []string{"account"}, 2, "usage"},
		{"account bad flag", map[string]string{"RELKEY_DATA_DIR": dir}, []string{"account", "create", "--nope"}, 2, "flag provided but not defined"},
		{"invalid slug", map[string]string{"RELKEY_DATA_DIR": dir}, []string{"account", "create", "--slug", "Bad Slug", "--name", "x", "--email", "a@b.co", "--password", "secret123"}, 1, "--slug"},
		{"short password", map[string]string{"RELKEY_DATA_DIR": dir}, []string{"account", "create", "--slug", "ok", "--name", "x", "--email", "a@b.co", "--password", "123"}, 1, "--password"},
		{"migrate bad action", map[string]string{"RELKEY_DATA_DIR": dir}, []string{"migrate", "sideways"}, 2, "unknown action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.env, tt.args...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.output) {
				t.Fatalf("exit %d (want %d), output %q (want %q)", code, tt.code, stdout+stderr, tt.output)
			}
		})
	}
}

func TestAccountCreateJSONAndDuplicate(t *testing.T) {
	env := map[string]string{"RELKEY_DATA_DIR": t.TempDir(), "RELKEY_PASSWORD_COST": "4"}
	args := []string{"account", "create", "--slug", "acme", "--name", "Acme", "--email", "admin@acme.test", "--password", "secret123", "--json"}
	code, stdout, stderr := run(t, env, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	var out map[string]string
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("stdout is not JSON: %q", stdout)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON object: %q", stdout)
	}
	keys := []string{"account_id", "account_slug", "admin_user_id", "admin_token", "public_key"}
	for _, k := range keys {
		if out[k] == "" {
			t.Fatalf("missing %s in %v", k, out)
		}
	}
	if len(out) != len(keys) || out["account_slug"] != "acme" || !strings.HasPrefix(out["admin_token"], "admin-") || len(out["public_key"]) != 64 {
		t.Fatalf("unexpected output %v", out)
	}
	code, _, stderr = run(t, env, args...)
	if code == 0 || !strings.Contains(stderr, "--slug has already been taken") {
		t.Fatalf("duplicate slug: exit %d, %q", code, stderr)
	}
	code, stdout, _ = run(t, env, "account", "create", "--slug", "globex", "--name", "Globex", "--email", "a@globex.test", "--password", "secret123")
	if code != 0 || !strings.Contains(stdout, `Account "globex" created.`) || !strings.Contains(stdout, "admin token:") {
		t.Fatalf("friendly summary: %d %q", code, stdout)
	}
	code, stdout, _ = run(t, env, "migrate", "version")
	if code != 0 || strings.TrimSpace(stdout) != latestMigration(t) {
		t.Fatalf("migrate version: %d %q, want %s", code, stdout, latestMigration(t))
	}
	if info, err := os.Stat(filepath.Join(env["RELKEY_DATA_DIR"], "secret.key")); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("secret key file: %v %v", info, err)
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveInBackground runs serve with env (RELKEY_LISTEN set) until stop
// ends, waits for it to answer its health probe, and returns where its
// exit code will come.
func serveInBackground(t *testing.T, env map[string]string, stdout io.Writer, stop context.Context) <-chan int {
	t.Helper()
	exited := make(chan int, 1)
	go func() {
		exited <- Run(Command{Args: []string{"serve"}, Getenv: func(k string) string { return env[k] },
			Stdout: stdout, Stderr: io.Discard, Signals: stop})
	}()
	waitFor(t, "the server to become ready", func() bool {
		resp, err := http.Get("http://" + env["RELKEY_LISTEN"] + "/v1/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return exited
}

// TestServeDrainsInFlightRequestsOnShutdown starts a slow upload, asks the
// server to stop, and expects the upload to finish and serve to exit 0.
func TestServeDrainsInFlightRequestsOnShutdown(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	env := map[string]string{"RELKEY_DATA_DIR": dir, "RELKEY_LISTEN": addr}
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout bytes.Buffer
	exited := serveInBackground(t, env, &stdout, stop)
	base := "http://" + addr

	waitFor(t, "the server to answer", func() bool {
		resp, err := http.Get(base + "/v1/health")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	upload, artifact, token := waitingArtifact(t, env, base)
	body, writer := io.Pipe()
	req, _ := http.NewRequest("PUT", upload, body)
	req.ContentLength = 4
	result := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			result <- -1
			return
		}
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	writer.Write([]byte("ab"))
	// The server has the upload once it writes its temporary file.
	waitFor(t, "the upload to reach the server", func() bool {
		partial := false
		_ = filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
			partial = partial || err == nil && strings.HasPrefix(d.Name(), ".upload-")
			return nil
		})
		return partial
	})
	cancel() // SIGTERM
	// The drain has begun once the listener no longer takes connections.
	waitFor(t, "the listener to close", func() bool {
		resp, err := http.Get(base + "/v1/health")
		if err == nil {
			resp.Body.Close()
		}
		return err != nil
	})
	writer.Write([]byte("cd"))
	writer.Close()
	if status := <-result; status != 200 {
		t.Fatalf("in-flight upload finished with %d, want 200", status)
	}
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("serve exited %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not exit after the drain")
	}
	// Served again, the artifact is uploaded whole.
	again, cancelAgain := context.WithCancel(context.Background())
	defer cancelAgain()
	exitedAgain := serveInBackground(t, env, io.Discard, again)
	var shown struct {
		Data struct {
			Attributes struct {
				Status   string `json:"status"`
				Filesize int64  `json:"filesize"`
			} `json:"attributes"`
		} `json:"data"`
	}
	waitFor(t, "the artifact to be shown", func() bool {
		return call(t, "GET", base+"/v1/accounts/demo/artifacts/"+artifact, token, "", http.StatusOK, &shown) == nil
	})
	if a := shown.Data.Attributes; a.Status != "UPLOADED" || a.Filesize != 4 {
		t.Fatalf("upload not stored whole: %+v", a)
	}
	cancelAgain()
	<-exitedAgain
	if _, err := http.Get(base + "/v1/health"); err == nil {
		t.Fatal("server still answers after shutdown")
	}
	// The test binary lies outside the working directory: named absolutely.
	binary, _ := os.Executable()
	wd, _ := os.Getwd()
	if !strings.Contains(stdout.String(), "Next step: create an account") ||
		!strings.Contains(stdout.String(), "in "+wd+" with the same RELKEY_* settings") ||
		!strings.Contains(stdout.String(), "\n  "+binary+" account create --slug demo") {
		t.Fatalf("serve did not print the next step with this binary's path (%s): %q", binary, stdout.String())
	}
}

// waitingArtifact makes an account (its admin token returned), a product,
// a release and an artifact of 4 bytes waiting for its upload, whose URL it
// returns.
func waitingArtifact(t *testing.T, env map[string]string, base string) (upload, artifactID, token string) {
	t.Helper()
	code, stdout, stderr := run(t, env, "account", "create", "--slug", "demo", "--name", "Demo", "--email", "admin@demo.test", "--password", "secret123", "--json")
	var acct map[string]string
	if code != 0 || json.Unmarshal([]byte(stdout), &acct) != nil {
		t.Fatalf("account create: %d %s %s", code, stdout, stderr)
	}
	token = acct["admin_token"]
	api := base + "/v1/accounts/demo"
	var doc struct {
		Data struct{ ID string } `json:"data"`
	}
	create := func(path, body string) string {
		if err := call(t, "POST", api+path, token, body, http.StatusCreated, &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Data.ID
	}
	product := create("/products", `{"data":{"type":"products","attributes":{"name":"App"}}}`)
	release := create("/releases", `{"data":{"type":"releases","attributes":{"version":"1.0.0","channel":"stable"},"relationships":{"product":{"data":{"type":"products","id":"`+product+`"}}}}}`)
	req, _ := http.NewRequest("POST", api+"/artifacts", strings.NewReader(`{"data":{"type":"artifacts","attributes":{"filename":"app.bin","filesize":4},"relationships":{"release":{"data":{"type":"releases","id":"`+release+`"}}}}}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/vnd.api+json")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != http.StatusTemporaryRedirect {
		t.Fatalf("artifact create: %d %v", resp.StatusCode, err)
	}
	location, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	return location.String(), doc.Data.ID, token
}

// call sends an API request with the token and decodes the answer into
// out, or says why it was not the status wanted.
func call(t *testing.T, method, url, token, body string, want int, out any) error {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/vnd.api+json")
	req.Header.Set("Prefer", "no-download")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, raw)
	}
	return json.Unmarshal(raw, out)
}

// TestServeProfilesOnTheirOwnListener: RELKEY_DEBUG_LISTEN serves pprof
// apart from the API, which does not serve it.
func TestServeProfilesOnTheirOwnListener(t *testing.T) {
	addr, debugAddr := freePort(t), freePort(t)
	env := map[string]string{"RELKEY_DATA_DIR": t.TempDir(), "RELKEY_LISTEN": addr, "RELKEY_DEBUG_LISTEN": debugAddr}
	stop, cancel := context.WithCancel(context.Background())
	exited := make(chan int, 1)
	go func() {
		exited <- Run(Command{Args: []string{"serve"}, Getenv: func(k string) string { return env[k] },
			Stdout: io.Discard, Stderr: io.Discard, Signals: stop})
	}()
	status := func(u string) int {
		resp, err := http.Get(u)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(t, "the profiles to be served", func() bool { return status("http://"+debugAddr+"/debug/pprof/goroutine?debug=1") == 200 })
	if got := status("http://" + addr + "/debug/pprof/"); got != 404 {
		t.Fatalf("the API listener answers /debug/pprof/ with %d, want 404", got)
	}
	cancel()
	if code := <-exited; code != 0 {
		t.Fatalf("serve exited %d", code)
	}
	if got := status("http://" + debugAddr + "/debug/pprof/"); got != 0 {
		t.Fatalf("profiles still served after shutdown: %d", got)
	}
}

// waitFor polls ok until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
	}
}

// latestMigration is the version of the newest embedded SQLite migration.
func latestMigration(t *testing.T) string {
	t.Helper()
	files, err := fs.Glob(db.Migrations, "migrations/sqlite/*.up.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("embedded migrations: %v %v", files, err)
	}
	version, _, _ := strings.Cut(path.Base(files[len(files)-1]), "_")
	return strings.TrimLeft(version, "0")
}

func TestNextStepNamesTheBinaryByItsPath(t *testing.T) {
	for _, tt := range []struct{ binary, dir, want string }{
		{"/src/relkey/bin/relkey", "/src/relkey", "  bin/relkey account create"},
		{"/src/relkey/relkey", "/src/relkey", "  ./relkey account create"},
		{"/usr/local/bin/relkey", "/srv/relkey", "  /usr/local/bin/relkey account create"},
		{"/src/relkey/bin/relkey", "/src/relkey/bin/other", "  /src/relkey/bin/relkey account create"},
	} {
		got := nextStep(tt.binary, tt.dir)
		if !strings.Contains(got, "\n"+tt.want) || !strings.Contains(got, "in "+tt.dir+" with") {
			t.Errorf("nextStep(%q, %q) = %q, want %q", tt.binary, tt.dir, got, tt.want)
		}
	}
}
