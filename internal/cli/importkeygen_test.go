package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/testserver"
	"github.com/relkey/relkey/pkg/relkey"
)

// keygenSource serves a relkey standing for a Keygen account, with a
// product, a policy, a license and a user.
func keygenSource(t *testing.T) *testserver.Server {
	t.Helper()
	s, err := testserver.Start(testserver.Embedded(t.TempDir()), "keygen", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	c, ctx := s.Admin(), context.Background()
	p, err := c.Products.Create(ctx, relkey.ProductAttributes{Name: "App"})
	if err == nil {
		var pol *relkey.Policy
		if pol, err = c.Policies.Create(ctx, relkey.PolicyAttributes{ProductID: p.ID, Name: "Pro"}); err == nil {
			_, err = c.Licenses.Create(ctx, relkey.LicenseAttributes{PolicyID: pol.ID, Key: "APP-KEY-0001"})
		}
	}
	if err == nil {
		_, err = c.Users.Create(ctx, relkey.UserAttributes{Email: "dana@example.com"})
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// countsLine matches a summary row: kind, created, skipped, failed.
func countsLine(kind string, created, skipped, failed int) *regexp.Regexp {
	return regexp.MustCompile(fmt.Sprintf(`(?m)^%s +%d +%d +%d$`, kind, created, skipped, failed))
}

func TestImportKeygen(t *testing.T) {
	source := keygenSource(t)
	sourceURL := source.URL
	env := map[string]string{"RELKEY_DATA_DIR": t.TempDir(), "RELKEY_PASSWORD_COST": "4", "KEYGEN_TOKEN": source.Account.RawToken}
	resets := filepath.Join(t.TempDir(), "resets.jsonl")
	if code, _, stderr := run(t, env, "import", "keygen", "--url", sourceURL, "--account", "keygen"); code != 1 || !strings.Contains(stderr, "account create") {
		t.Fatalf("without a target account: exit %d, %s", code, stderr)
	}
	if code, _, stderr := run(t, env, "account", "create", "--slug", "acme", "--name", "Acme", "--email", "admin@acme.test", "--password", "secret123"); code != 0 {
		t.Fatal(stderr)
	}
	args := []string{"import", "keygen", "--url", sourceURL + "/v1", "--account", "keygen", "--public-key", source.Account.PublicKey, "--reset-tokens", resets}
	code, stdout, stderr := run(t, env, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stdout, stderr)
	}
	for kind, n := range map[string]int{"products": 1, "policies": 1, "licenses": 1, "users": 2} {
		if !countsLine(kind, n, 0, 0).MatchString(stdout) {
			t.Errorf("%s: summary\n%s", kind, stdout)
		}
	}
	if !strings.Contains(stderr, "importing licenses      1/1 (created 1, skipped 0, failed 0)") || !strings.Contains(stdout, "password resets requested: 2") {
		t.Errorf("progress:\n%s\nsummary:\n%s", stderr, stdout)
	}
	info, err := os.Stat(resets)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("reset tokens file: %v, %v", info, err)
	}
	f, _ := os.Open(resets)
	defer f.Close()
	emails := map[string]bool{}
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var line struct{ Email, Token string }
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Token == "" {
			t.Fatalf("reset line %q: %v", sc.Text(), err)
		}
		emails[line.Email] = true
	}
	if !emails["dana@example.com"] || !emails["admin@keygen.test"] || len(emails) != 2 {
		t.Errorf("resets sent to %v", emails)
	}

	code, stdout, stderr = run(t, env, args...)
	if code != 0 || !countsLine("licenses", 0, 1, 0).MatchString(stdout) || !strings.Contains(stdout, "password resets requested: 0") {
		t.Fatalf("again: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestImportKeygenErrors(t *testing.T) {
	env := map[string]string{"RELKEY_DATA_DIR": t.TempDir(), "RELKEY_PASSWORD_COST": "4"}
	if code, _, stderr := run(t, env, "account", "create", "--slug", "acme", "--name", "Acme", "--email", "admin@acme.test", "--password", "secret123"); code != 0 {
		t.Fatal(stderr)
	}
	source := keygenSource(t)
	sourceURL := source.URL
	tests := []struct {
		name   string
		args   []string
		code   int
		output string
	}{
		{"no source", []string{"import", "keygen"}, 2, "--url, --account and --token are required"},
		{"not keygen", []string{"import", "stripe"}, 2, "usage: relkey import keygen"},
		{"bad url", []string{"import", "keygen", "--url", "ftp://x", "--account", "a", "--token", "t"}, 2, "http or https URL"},
		{"bad public key", []string{"import", "keygen", "--url", sourceURL, "--account", "a", "--token", "t", "--public-key", "zz"}, 2, "64 hex digits"},
		{"wrong token", []string{"import", "keygen", "--url", sourceURL, "--account", "keygen", "--token", "admin-nope"}, 1, "import stopped: listing products on the source: relkey: 401 TOKEN_INVALID"},
		{"another account's key", []string{"import", "keygen", "--url", sourceURL, "--account", "keygen", "--token", source.Account.RawToken,
			"--public-key", strings.Repeat("ab", 32)}, 1, "response signature is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, env, tt.args...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.output) {
				t.Fatalf("exit %d (want %d), output %q (want %q)", code, tt.code, stdout+stderr, tt.output)
			}
		})
	}
}
