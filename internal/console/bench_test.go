package console_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/testenv"
)

// BenchmarkPagesAt100000Licenses times the console's pages (the whole
// round trip through the server) on the embedded engine with 100 000
// licenses: go test ./internal/console -run X -bench Pages.
func BenchmarkPagesAt100000Licenses(b *testing.B) {
	s := newSite(b, testenv.Backend{Name: "embedded"})
	f := s.fixture(s.tenant, "fp-bench")
	now := database.Now()
	// Every seeded license carries the fixture's sealed key (their digests differ).
	var sealed string
	if err := s.app.DB.Gorm.Raw(`SELECT key_sealed FROM licenses WHERE id = ?`, f.license.ID).Scan(&sealed).Error; err != nil {
		b.Fatal(err)
	}
	if err := s.app.DB.Gorm.Exec(`WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
		INSERT INTO licenses (id, account_id, product_id, policy_id, key_digest, key_sealed, metadata, created_at, updated_at)
		SELECT printf('00000000-0000-4000-8000-%012d', n), ?, ?, ?, 'seed-' || n, ?, '{}', ?, ? FROM seq`,
		100_000-1, s.tenant.ID, f.product.ID, f.policy.ID, sealed, now, now).Error; err != nil {
		b.Fatal(err)
	}
	br := s.browser()
	br.login("acme", "admin@acme.test", "password-acme")
	for name, path := range map[string]string{
		"overview":        "/console/acme/",
		"licenses":        "/console/acme/licenses",
		"licenses-by-pol": "/console/acme/licenses?policy=" + url.QueryEscape(f.policy.ID),
		"licenses-last":   "/console/acme/licenses?page=4000",
		"license":         "/console/acme/licenses/" + f.license.ID,
		"machines":        "/console/acme/machines",
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if p := br.get(path); p.status != http.StatusOK {
					b.Fatalf("%s: %d", path, p.status)
				}
			}
		})
	}
}
