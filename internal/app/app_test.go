package app_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/relkey/relkey/internal/app"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/onboard"
	"github.com/relkey/relkey/internal/password"
	"github.com/relkey/relkey/internal/testenv"
)

// TestPasswordsUseTheProductionCostByDefault is the one test that pays for
// production-strength hashing: every other suite runs at the minimum cost.
func TestPasswordsUseTheProductionCostByDefault(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.FromEnv(func(name string) string {
		if name == "RELKEY_DATA_DIR" {
			return dir
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	testenv.SQLiteFile(t, cfg.SQLitePath())
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	out, err := a.Onboard(context.Background(), onboard.Onboarding{Slug: "acme", Name: "Acme", Email: "admin@acme.test", Password: "password-acme"})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := a.Users.Authenticate(context.Background(), out.Account.ID, "admin@acme.test", "password-acme", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(*admin.PasswordDigest)); err != nil || cost != password.DefaultCost || cost < 12 {
		t.Fatalf("stored digest cost %d (%v), want the default %d, at least Keygen's 12", cost, err, password.DefaultCost)
	}
}

// TestRunJobsReturnsWhenEveryJobHasStopped: serve waits for RunJobs before
// it closes the database, so RunJobs must return, and only then.
func TestRunJobsReturnsWhenEveryJobHasStopped(t *testing.T) {
	cfg := config.Config{DataDir: t.TempDir(), SecretKey: strings.Repeat("k", 32), PasswordCost: password.MinCost}
	testenv.SQLiteFile(t, cfg.SQLitePath())
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.RunJobs(ctx) }()
	select {
	case <-done:
		t.Fatal("RunJobs returned while its context was live")
	default:
	}
	cancel()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("RunJobs did not return after its context ended")
	}
}
