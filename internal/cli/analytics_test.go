package cli

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/database"
)

// TestServeFlushesAnalyticsOnShutdown: the usage signals a server holds in
// its buffer are written when it is told to stop (SIGTERM), not lost.
func TestServeFlushesAnalyticsOnShutdown(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	env := map[string]string{"RELKEY_DATA_DIR": dir, "RELKEY_LISTEN": addr, "RELKEY_PASSWORD_COST": "4"}
	if code, _, stderr := run(t, env, "account", "create", "--slug", "acme", "--name", "Acme", "--email", "admin@acme.test", "--password", "secret123"); code != 0 {
		t.Fatalf("account create: %s", stderr)
	}
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	exited := serveInBackground(t, env, io.Discard, stop)
	base := "http://" + addr
	for range 3 {
		resp, err := http.Post(base+"/v1/accounts/acme/licenses/actions/validate-key", "application/vnd.api+json", strings.NewReader(`{"meta":{"key":"no-such-key"}}`))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("validate-key: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	cancel() // SIGTERM, well within the first flush interval
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("serve exited %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit")
	}
	db, err := database.Open(context.Background(), database.Options{SQLitePath: filepath.Join(dir, "relkey.db"), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var validations int64
	if err := db.Gorm.Raw("SELECT COALESCE(SUM(count), 0) FROM analytics_days WHERE kind = 'validation' AND dim = 'result'").Scan(&validations).Error; err != nil {
		t.Fatal(err)
	}
	if validations != 3 {
		t.Fatalf("%d validations written at shutdown, want 3", validations)
	}
}
