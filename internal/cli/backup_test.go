package cli

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/relkey/relkey/internal/keyring"
	"github.com/relkey/relkey/internal/storage"
	"github.com/relkey/relkey/internal/testenv"
)

// writeLoad is what the writers of a load got acknowledged, each write
// marked with whether its acknowledgement came before the backup started.
type writeLoad struct {
	mu        sync.Mutex
	licenses  map[string]acked[string] // id: key
	artifacts map[string]acked[[]byte] // id: uploaded bytes
}

type acked[T any] struct {
	value  T
	before bool
}

// TestBackupUnderLoadRestoresEveryAcknowledgedWrite backs up a serving
// store while writers create licenses and upload artifacts through the API,
// restores it into a fresh data dir and serves it: every write acknowledged
// before the backup began is there, byte for byte; of those acknowledged
// during it, each is there whole or not at all.
func TestBackupUnderLoadRestoresEveryAcknowledgedWrite(t *testing.T) {
	t.Parallel()
	env := storeEnv(t, testenv.Backend{Name: "embedded"})
	server := serveLive(t, env)
	onboarded := server.onboard("acme")
	admin := onboarded.RawToken
	productID := server.create("/v1/accounts/acme/products", `{"data":{"type":"products","attributes":{"name":"App"}}}`, admin)
	policyID := server.create("/v1/accounts/acme/policies", `{"data":{"type":"policies","attributes":{"name":"P"},
		"relationships":{"product":{"data":{"type":"products","id":"`+productID+`"}}}}}`, admin)
	releaseID := server.create("/v1/accounts/acme/releases", `{"data":{"type":"releases","attributes":{"channel":"stable","version":"1.0.0"},
		"relationships":{"product":{"data":{"type":"products","id":"`+productID+`"}}}}}`, admin)

	load := &writeLoad{licenses: map[string]acked[string]{}, artifacts: map[string]acked[[]byte]{}}
	var started atomic.Bool
	stop := make(chan struct{})
	var writers sync.WaitGroup
	post := func(path, body string, header ...string) (*http.Response, []byte, error) {
		req, _ := http.NewRequest("POST", server.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/vnd.api+json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := server.srv.Client().Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		return resp, raw, err
	}
	licenseBody := `{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"` + policyID + `"}}}}}`
	writeLicense := func(int) bool {
		resp, raw, err := post("/v1/accounts/acme/licenses", licenseBody)
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Errorf("license write: %v %v %s", resp, err, raw)
			return false
		}
		before := !started.Load()
		d := reply{body: raw}.data(t)
		load.mu.Lock()
		defer load.mu.Unlock()
		load.licenses[d["id"].(string)] = acked[string]{d["attributes"].(map[string]any)["key"].(string), before}
		return true
	}
	uploadArtifact := func(writer int) func(int) bool {
		return func(i int) bool {
			content := make([]byte, 32<<10+i)
			rand.Read(content)
			resp, raw, err := post("/v1/accounts/acme/artifacts", fmt.Sprintf(`{"data":{"type":"artifacts","attributes":{"filename":"app-%d-%d.bin","filesize":%d},
				"relationships":{"release":{"data":{"type":"releases","id":"%s"}}}}}`, writer, i, len(content), releaseID), "Prefer", "no-redirect")
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("artifact write: %v %v %s", resp, err, raw)
				return false
			}
			location, err := resp.Location()
			if err != nil {
				t.Errorf("artifact write without a Location: %v", err)
				return false
			}
			req, _ := http.NewRequest("PUT", location.String(), bytes.NewReader(content))
			up, err := server.srv.Client().Do(req)
			if err != nil || up.StatusCode != http.StatusOK {
				t.Errorf("upload: %v %v", up, err)
				return false
			}
			up.Body.Close()
			before := !started.Load()
			load.mu.Lock()
			defer load.mu.Unlock()
			load.artifacts[reply{body: raw}.data(t)["id"].(string)] = acked[[]byte]{content, before}
			return true
		}
	}
	for w := range 2 {
		writers.Go(func() { until(stop, writeLicense) })
		writers.Go(func() { until(stop, uploadArtifact(w)) })
	}
	waitFor(t, "writes before the backup", func() bool {
		load.mu.Lock()
		defer load.mu.Unlock()
		return len(load.licenses) >= 20 && len(load.artifacts) >= 6
	})
	archive := filepath.Join(t.TempDir(), "relkey-backup.tar.gz")
	started.Store(true)
	out := must(t, env, "backup", archive)
	close(stop)
	writers.Wait()
	if !strings.Contains(out, "the master key") || !strings.Contains(out, "objects") {
		t.Fatalf("backup summary: %s", out)
	}

	restoredEnv := map[string]string{"RELKEY_DATA_DIR": filepath.Join(t.TempDir(), "restored"), "RELKEY_PASSWORD_COST": "4"}
	out = must(t, restoredEnv, "restore", archive)
	if !strings.Contains(out, "relkey serve") {
		t.Fatalf("restore summary: %s", out)
	}
	restored := serveLive(t, restoredEnv)
	restored.expectSignedBy(admin, onboarded.PublicKey)
	var during [2]int
	for id, l := range load.licenses {
		got := restored.do("GET", "/v1/accounts/acme/licenses/"+id, "", admin)
		switch {
		case got.status == http.StatusOK && got.data(t)["attributes"].(map[string]any)["key"] == l.value:
			during[0] += boolInt(!l.before)
		case got.status == http.StatusNotFound && !l.before:
		default:
			t.Fatalf("license %s (acknowledged before the backup: %v) restored as %d %s", id, l.before, got.status, got.body)
		}
	}
	for id, a := range load.artifacts {
		got := restored.do("GET", "/v1/accounts/acme/artifacts/"+id, "", admin)
		switch {
		case got.status == http.StatusSeeOther:
			if body := fetch(t, restored, got); !bytes.Equal(body, a.value) {
				t.Fatalf("artifact %s: %d bytes restored, want the %d uploaded", id, len(body), len(a.value))
			}
			during[1] += boolInt(!a.before)
		case a.before:
			t.Fatalf("artifact %s, uploaded before the backup, restored as %d %s", id, got.status, got.body)
		}
	}
	// Whatever the restored store holds is whole: each object is the one
	// uploaded, each license one a writer was told of.
	objects := 0
	err := storage.WalkLocal(filepath.Join(restoredEnv["RELKEY_DATA_DIR"], "blobs"), func(key, path string) error {
		objects++
		id := strings.Split(key, "/")[3]
		body, err := os.ReadFile(path)
		if a, ok := load.artifacts[id]; !ok || err != nil || !bytes.Equal(body, a.value) {
			t.Errorf("restored object %s is not what was uploaded", key)
		}
		return nil
	})
	var licenses int
	restored.app.DB.Gorm.Raw("SELECT COUNT(*) FROM licenses").Scan(&licenses)
	if err != nil || licenses > len(load.licenses) || objects > len(load.artifacts) {
		t.Fatalf("restored %d licenses and %d objects of %d and %d written (%v)", licenses, objects, len(load.licenses), len(load.artifacts), err)
	}
	t.Logf("%d licenses and %d artifacts written, %d and %d of them during the backup and restored; %d licenses and %d objects restored",
		len(load.licenses), len(load.artifacts), during[0], during[1], licenses, objects)
}

// until calls write with 0, 1, 2... until stop is closed or write fails.
func until(stop <-chan struct{}, write func(i int) bool) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if !write(i) {
			return
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fetch follows a redirect of the server (to a presigned download) and
// returns the body.
func fetch(t *testing.T, l *live, redirect reply) []byte {
	t.Helper()
	location, err := redirect.req.URL.Parse(redirect.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := l.srv.Client().Get(location.String())
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %v", location, resp, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return body
}

// TestBackupAndRestoreRefusals: PostgreSQL is pointed at its procedure, a
// non-empty data dir needs --force, and a damaged archive changes nothing.
func TestBackupAndRestoreRefusals(t *testing.T) {
	t.Parallel()
	postgres := map[string]string{"RELKEY_DATABASE_URL": "postgres://h/db", "RELKEY_SECRET_KEY": strings.Repeat("k", 32)}
	for _, args := range [][]string{{"backup", "x.tar.gz"}, {"restore", "x.tar.gz"}} {
		if code, _, stderr := run(t, postgres, args...); code != exitUsage || !strings.Contains(stderr, "pg_dump") || !strings.Contains(stderr, "Backups and restore") {
			t.Fatalf("%s on PostgreSQL: %d %s", args[0], code, stderr)
		}
	}
	nothing := map[string]string{"RELKEY_DATA_DIR": filepath.Join(t.TempDir(), "none")}
	if code, _, stderr := run(t, nothing, "backup", filepath.Join(t.TempDir(), "x.tar.gz")); code != exitFailure || !strings.Contains(stderr, "no store to back up") {
		t.Fatalf("backup of no store: %d %s", code, stderr)
	}
	if _, err := os.Stat(nothing["RELKEY_DATA_DIR"]); err == nil {
		t.Fatal("a backup of no store created one")
	}
	env := storeEnv(t, testenv.Backend{Name: "embedded"})
	serveLive(t, env).onboard("acme")
	archive := filepath.Join(t.TempDir(), "b.tar.gz")
	must(t, env, "backup", archive)
	for _, args := range [][]string{{"backup"}, {"restore"}, {"backup", "a", "b"}, {"restore", archive, "--replace"}} {
		if code, _, _ := run(t, env, args...); code != exitUsage {
			t.Fatalf("relkey %v: exit %d, want 2", args, code)
		}
	}
	if code, _, stderr := run(t, env, "restore", archive); code != exitFailure || !strings.Contains(stderr, "not empty") || !strings.Contains(stderr, "--force") {
		t.Fatalf("restore over the live data dir: %d %s", code, stderr)
	}
	raw, _ := os.ReadFile(archive)
	damaged := filepath.Join(t.TempDir(), "damaged.tar.gz")
	os.WriteFile(damaged, raw[:len(raw)-len(raw)/3], 0o600)
	fresh := map[string]string{"RELKEY_DATA_DIR": filepath.Join(t.TempDir(), "fresh")}
	if code, _, stderr := run(t, fresh, "restore", damaged); code != exitFailure || !strings.Contains(stderr, "damaged archive") {
		t.Fatalf("restore of a cut archive: %d %s", code, stderr)
	}
	if entries, _ := os.ReadDir(fresh["RELKEY_DATA_DIR"]); len(entries) != 0 {
		t.Fatalf("a refused restore left %d entries", len(entries))
	}
	other := map[string]string{"RELKEY_DATA_DIR": t.TempDir()}
	os.WriteFile(filepath.Join(other["RELKEY_DATA_DIR"], "relkey.db"), []byte("an old store"), 0o600)
	must(t, other, "restore", "--force", archive)
	if out := must(t, other, "product", "list", "--account", "acme"); !strings.HasPrefix(out, "ID") {
		t.Fatalf("the store restored with --force does not serve: %s", out)
	}
}

// TestSecretRotate rotates the master key of a stopped store on both
// backends: the restarted server signs with the same account keys and
// shows the same license keys, and every sealed value in the database
// opens with the new key only.
func TestSecretRotate(t *testing.T) {
	forEachStore(t, func(t *testing.T, b testenv.Backend, env map[string]string, server *live) {
		onboarded := server.onboard("acme")
		admin := onboarded.RawToken
		productID := server.create("/v1/accounts/acme/products", `{"data":{"type":"products","attributes":{"name":"App"}}}`, admin)
		var licenses []string
		for _, scheme := range []string{`null`, `"RSA_2048_JWT_RS256"`, `"ED25519_SIGN"`} {
			policyID := server.create("/v1/accounts/acme/policies", `{"data":{"type":"policies","attributes":{"name":"P","scheme":`+scheme+`},
				"relationships":{"product":{"data":{"type":"products","id":"`+productID+`"}}}}}`, admin)
			licenses = append(licenses, server.create("/v1/accounts/acme/licenses",
				`{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"`+policyID+`"}}}}}`, admin))
		}
		keys := map[string]any{}
		for _, id := range licenses {
			keys[id] = server.do("GET", "/v1/accounts/acme/licenses/"+id, "", admin).data(t)["attributes"].(map[string]any)["key"]
		}
		oldKey := env["RELKEY_SECRET_KEY"]
		if oldKey == "" {
			oldKey, _ = keyring.Read(filepath.Join(env["RELKEY_DATA_DIR"], "secret.key"))
		}
		server.stop()

		next := map[string]string{}
		for k, v := range env {
			next[k] = v
		}
		var newKey string
		if b.Postgres {
			keyFile := filepath.Join(t.TempDir(), "next.key")
			if code, _, stderr := run(t, env, "secret", "rotate"); code != exitUsage || !strings.Contains(stderr, "--new-key-file") {
				t.Fatalf("rotate without --new-key-file under RELKEY_SECRET_KEY: %d %s", code, stderr)
			}
			out := must(t, env, "secret", "rotate", "--new-key-file", keyFile)
			newKey, _ = keyring.Read(keyFile)
			if !strings.Contains(out, keyFile) || !strings.Contains(out, "RELKEY_SECRET_KEY") {
				t.Fatalf("rotate: %s", out)
			}
			next["RELKEY_SECRET_KEY"] = newKey
		} else {
			keyFile := filepath.Join(env["RELKEY_DATA_DIR"], "secret.key")
			if code, _, _ := run(t, env, "secret", "rotate", "--new-key-file", "x"); code != exitUsage {
				t.Fatalf("--new-key-file in embedded mode: exit %d", code)
			}
			out := must(t, env, "secret", "rotate")
			newKey, _ = keyring.Read(keyFile)
			if !strings.Contains(out, "re-sealed 3 account keys, 3 license keys") {
				t.Fatalf("rotate: %s", out)
			}
			for _, leftover := range []string{keyFile + ".old", keyFile + ".new"} {
				if _, err := os.Stat(leftover); err == nil {
					t.Fatalf("%s left behind", leftover)
				}
			}
		}
		if newKey == "" || newKey == oldKey {
			t.Fatalf("the master key did not change: %q", newKey)
		}

		restarted := serveLive(t, next)
		restarted.expectSignedBy(admin, onboarded.PublicKey)
		for id, key := range keys {
			if got := restarted.do("GET", "/v1/accounts/acme/licenses/"+id, "", admin).data(t)["attributes"].(map[string]any)["key"]; got != key {
				t.Fatalf("license %s shows key %v after rotation, want %v", id, got, key)
			}
		}
		sealed := sealedValues(t, restarted)
		if len(sealed) < 3+3 {
			t.Fatalf("found %d sealed values, want at least the account's 3 and the licenses' 3", len(sealed))
		}
		oldRing, _ := keyring.New(oldKey)
		newRing, _ := keyring.New(newKey)
		for where, v := range sealed {
			if _, err := newRing.Open(v); err != nil {
				t.Fatalf("%s does not open with the new key", where)
			}
			if _, err := oldRing.Open(v); err == nil {
				t.Fatalf("%s still opens with the old key", where)
			}
		}
	})
}

// sealedValues finds every value sealed with a master key in the database,
// whatever its table and column (so that a store that seals a new kind of
// value and is not rotated fails TestSecretRotate), by place.
func sealedValues(t *testing.T, l *live) map[string]string {
	t.Helper()
	var columns []struct{ Table, Column string }
	if l.app.DB.Engine == "postgres" {
		l.app.DB.Gorm.Raw(`SELECT table_name AS "table", column_name AS "column" FROM information_schema.columns
			WHERE table_schema = current_schema() AND data_type = 'text'`).Scan(&columns)
	} else {
		l.app.DB.Gorm.Raw(`SELECT m.name AS "table", p.name AS "column" FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND lower(p.type) = 'text'`).Scan(&columns)
	}
	if len(columns) < 20 {
		t.Fatalf("found only %d text columns", len(columns))
	}
	out := map[string]string{}
	for _, c := range columns {
		var values []string
		err := l.app.DB.Gorm.Raw(`SELECT "` + c.Column + `" FROM "` + c.Table + `" WHERE "` + c.Column + `" LIKE 'v1:%'`).Scan(&values).Error
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range values {
			out[fmt.Sprintf("%s.%s #%d", c.Table, c.Column, i)] = v
		}
	}
	return out
}
