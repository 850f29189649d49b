package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/testenv"
)

// seededLicenses is how many licenses the benchmark's account holds.
const seededLicenses = 100_000

// seedID is the id of the n-th seeded license (ids ascend with n).
func seedID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// seedLicenses is the statement that adds licenses 0 … last, per engine,
// named "Seat <n>" (text the search's trigram indexes hold).
var seedLicenses = map[database.Engine]string{
	database.SQLite: `WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
		INSERT INTO licenses (id, account_id, product_id, policy_id, name, key_digest, key_sealed, metadata, created_at, updated_at)
		SELECT printf('00000000-0000-4000-8000-%012d', n), ?, ?, ?, 'Seat ' || n, 'seed-' || n, ?, '{}', ?, ? FROM seq`,
	database.Postgres: `INSERT INTO licenses (id, account_id, product_id, policy_id, name, key_digest, key_sealed, metadata, created_at, updated_at)
		SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, ?, ?, ?, 'Seat ' || n, 'seed-' || n, ?, '{}', ?, ?
		FROM generate_series(0, ?::int) AS n`,
}

// BenchmarkPagesAt100000Licenses times the console's pages (the whole
// round trip through the server) on each engine with 100 000 licenses:
// go test ./internal/console -run X -bench Pages. Every page must stay
// under 50 ms.
func BenchmarkPagesAt100000Licenses(b *testing.B) {
	for _, backend := range testenv.Backends(b) {
		b.Run(backend.Name, func(b *testing.B) {
			s := newSite(b, backend)
			f := s.fixture(s.tenant, "fp-bench")
			now := database.Now()
			// Every seeded license carries the fixture's sealed key (their digests differ).
			var sealed string
			if err := s.app.DB.Gorm.Raw(`SELECT key_sealed FROM licenses WHERE id = ?`, f.license.ID).Scan(&sealed).Error; err != nil {
				b.Fatal(err)
			}
			args := []any{seededLicenses - 2, s.tenant.ID, f.product.ID, f.policy.ID, sealed, now, now}
			if s.app.DB.Engine == database.Postgres {
				args = append(args[1:], args[0])
			}
			err := s.app.DB.Gorm.Transaction(func(tx *gorm.DB) error {
				if s.app.DB.Engine == database.Postgres {
					// The seed takes longer than a request may.
					if err := tx.Exec(`SET LOCAL statement_timeout = 0`).Error; err != nil {
						return err
					}
				}
				return tx.Exec(seedLicenses[s.app.DB.Engine], args...).Error
			})
			if err == nil && s.app.DB.Engine == database.Postgres {
				err = s.app.DB.Gorm.Exec(`VACUUM ANALYZE licenses`).Error
			}
			if err != nil {
				b.Fatal(err)
			}
			br := s.browser()
			br.login("acme", "admin@acme.test", "password-acme")
			for name, path := range map[string]string{
				"overview":        "/console/acme/",
				"licenses":        "/console/acme/licenses",
				"licenses-by-pol": "/console/acme/licenses?policy=" + url.QueryEscape(f.policy.ID),
				"licenses-deep":   "/console/acme/licenses?after=" + seedID(30),
				"licenses-oldest": "/console/acme/licenses?last",
				"license":         "/console/acme/licenses/" + f.license.ID,
				"machines":        "/console/acme/machines",
				"users":           "/console/acme/users",
				"search":          "/console/acme/search?q=Customer",
				"search-many":     "/console/acme/search?q=Seat+42",
			} {
				b.Run(name, func(b *testing.B) {
					for b.Loop() {
						if p := br.get(path); p.status != http.StatusOK {
							b.Fatalf("%s: %d %s", path, p.status, p.body)
						}
					}
				})
			}
		})
	}
}
