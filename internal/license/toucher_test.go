package license

import (
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/testenv"
)

// TestToucherRecordsValidationsInBatches: one flush records every touched
// license (more than one statement's worth), keeps the latest time of each,
// never moves a stored time backwards, replaces the version only when a
// touch names one, and leaves other accounts' licenses alone.
func TestToucherRecordsValidationsInBatches(t *testing.T) {
	for _, be := range testenv.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			db := be.OpenDB(t)
			acct, product, policy := seedToucherRows(t, db)
			other, _, _ := seedToucherRows(t, db)
			base := database.Now().Add(-time.Hour)

			licenses := make([]string, touchChunk+20)
			for i := range licenses {
				licenses[i] = seedToucherLicense(t, db, acct, product, policy)
			}
			ahead, versioned := licenses[0], licenses[1]
			mustExec(t, db, `UPDATE licenses SET last_validated_at = ?, last_validated_version = '0.9.0' WHERE id = ?`, base.Add(time.Hour), ahead)
			mustExec(t, db, `UPDATE licenses SET last_validated_version = '0.9.0' WHERE id = ?`, versioned)

			toucher := NewToucher(db, 4*len(licenses), slog.New(slog.NewTextHandler(io.Discard, nil)))
			for i, l := range licenses {
				toucher.Touch(acct, l, base.Add(time.Duration(i)*time.Second), "")
			}
			toucher.Touch(acct, versioned, base.Add(-time.Minute), "1.2.0") // older than its other touch
			toucher.Touch(acct, ahead, base, "1.0.0")                       // older than the stored time
			toucher.Touch(other, licenses[2], base.Add(time.Hour), "9.9.9") // not that account's license
			toucher.Close()

			stored := map[string]struct {
				at      *time.Time
				version *string
			}{}
			rows, err := db.Gorm.Raw(`SELECT id, last_validated_at, last_validated_version FROM licenses WHERE account_id = ?`, acct).Rows()
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var lid string
				var at sql.NullTime
				var version *string
				if err := rows.Scan(&lid, &at, &version); err != nil {
					t.Fatal(err)
				}
				var atp *time.Time
				if at.Valid {
					atp = &at.Time
				}
				stored[lid] = struct {
					at      *time.Time
					version *string
				}{atp, version}
			}
			if len(stored) != len(licenses) {
				t.Fatalf("%d licenses stored, want %d", len(stored), len(licenses))
			}
			for i, l := range licenses {
				want, wantVersion := base.Add(time.Duration(i)*time.Second), ""
				switch l {
				case ahead:
					want, wantVersion = base.Add(time.Hour), "1.0.0"
				case versioned:
					wantVersion = "1.2.0"
				}
				got := stored[l]
				if got.at == nil || !got.at.Equal(want) {
					t.Fatalf("license %d: last validated %v, want %v", i, got.at, want)
				}
				if v := deref(got.version); v != wantVersion {
					t.Fatalf("license %d: version %q, want %q", i, v, wantVersion)
				}
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func mustExec(t *testing.T, db *database.DB, statement string, args ...any) {
	t.Helper()
	if err := db.Gorm.Exec(statement, args...).Error; err != nil {
		t.Fatal(err)
	}
}

// seedToucherRows makes an account, a product and a policy.
func seedToucherRows(t *testing.T, db *database.DB) (acct, product, policy string) {
	t.Helper()
	now := database.Now()
	acct, product, policy = id.New(), id.New(), id.New()
	mustExec(t, db, `INSERT INTO accounts (id, slug, name, ed25519_public_key, ed25519_private_key, secret_key, created_at, updated_at) VALUES (?, ?, 'A', 'pk', 'sk', 'sec', ?, ?)`, acct, "a"+acct[24:], now, now)
	mustExec(t, db, `INSERT INTO products (id, account_id, name, distribution_strategy, metadata, created_at, updated_at) VALUES (?, ?, 'P', 'LICENSED', '{}', ?, ?)`, product, acct, now, now)
	mustExec(t, db, `INSERT INTO policies (id, account_id, product_id, name, heartbeat_basis, heartbeat_cull_strategy,
		heartbeat_resurrection_strategy, machine_uniqueness_strategy, machine_matching_strategy, component_uniqueness_strategy, component_matching_strategy,
		expiration_strategy, expiration_basis, renewal_basis, transfer_strategy, authentication_strategy, machine_leasing_strategy, process_leasing_strategy,
		overage_strategy, metadata, created_at, updated_at)
		VALUES (?, ?, ?, 'P', 'FROM_FIRST_PING', 'DEACTIVATE_DEAD', 'NO_REVIVE', 'UNIQUE_PER_LICENSE', 'MATCH_ANY', 'UNIQUE_PER_MACHINE', 'MATCH_ANY',
		'RESTRICT_ACCESS', 'FROM_CREATION', 'FROM_EXPIRY', 'KEEP_EXPIRY', 'TOKEN', 'PER_LICENSE', 'PER_MACHINE', 'NO_OVERAGE', '{}', ?, ?)`, policy, acct, product, now, now)
	return acct, product, policy
}

func seedToucherLicense(t *testing.T, db *database.DB, acct, product, policy string) string {
	t.Helper()
	now, license := database.Now(), id.New()
	mustExec(t, db, `INSERT INTO licenses (id, account_id, product_id, policy_id, key_digest, key_sealed, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'v1:x', '{}', ?, ?)`,
		license, acct, product, policy, fmt.Sprintf("d%s", license), now, now)
	return license
}
