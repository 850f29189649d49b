package machine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/testenv"
)

func exec(t *testing.T, db *database.DB, sql string, args ...any) {
	t.Helper()
	if err := db.Gorm.Exec(sql, args...).Error; err != nil {
		t.Fatal(err)
	}
}

// seedAccount makes an account with a product.
func seedAccount(t *testing.T, db *database.DB) (acct, product string) {
	t.Helper()
	now := database.Now()
	acct, product = id.New(), id.New()
	exec(t, db, `INSERT INTO accounts (id, slug, name, ed25519_public_key, ed25519_private_key, secret_key, created_at, updated_at) VALUES (?, ?, 'A', 'pk', 'sk', 'sec', ?, ?)`, acct, "a"+acct[24:], now, now)
	exec(t, db, `INSERT INTO products (id, account_id, name, distribution_strategy, metadata, created_at, updated_at) VALUES (?, ?, 'P', 'LICENSED', '{}', ?, ?)`, product, acct, now, now)
	return acct, product
}

// seedPolicy makes a policy of the product with the given heartbeat
// strategies and defaults for the others.
func seedPolicy(t *testing.T, db *database.DB, acct, product, cull, revive string, require bool) string {
	t.Helper()
	now, policy := database.Now(), id.New()
	exec(t, db, `INSERT INTO policies (id, account_id, product_id, name, require_heartbeat, heartbeat_duration, heartbeat_basis, heartbeat_cull_strategy,
		heartbeat_resurrection_strategy, machine_uniqueness_strategy, machine_matching_strategy, component_uniqueness_strategy, component_matching_strategy,
		expiration_strategy, expiration_basis, renewal_basis, transfer_strategy, authentication_strategy, machine_leasing_strategy, process_leasing_strategy,
		overage_strategy, metadata, created_at, updated_at)
		VALUES (?, ?, ?, 'P', ?, 60, 'FROM_FIRST_PING', ?, ?, 'UNIQUE_PER_LICENSE', 'MATCH_ANY', 'UNIQUE_PER_MACHINE', 'MATCH_ANY', 'RESTRICT_ACCESS',
		'FROM_CREATION', 'FROM_EXPIRY', 'KEEP_EXPIRY', 'TOKEN', 'PER_LICENSE', 'PER_MACHINE', 'NO_OVERAGE', '{}', ?, ?)`,
		policy, acct, product, require, cull, revive, now, now)
	return policy
}

// seedLicense makes a license of the policy.
func seedLicense(t *testing.T, db *database.DB, acct, product, policy string) string {
	t.Helper()
	now, license := database.Now(), id.New()
	exec(t, db, `INSERT INTO licenses (id, account_id, product_id, policy_id, key_digest, key_sealed, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'v1:x', '{}', ?, ?)`,
		license, acct, product, policy, "d"+license, now, now)
	return license
}

// seedMachines adds machines with the given last heartbeats (nil: never
// pinged) to the license, created an hour ago.
func seedMachines(t *testing.T, db *database.DB, acct, product, policy, license string, heartbeats ...*time.Time) {
	t.Helper()
	now := database.Now()
	for i, hb := range heartbeats {
		exec(t, db, `INSERT INTO machines (id, account_id, license_id, policy_id, product_id, fingerprint, last_heartbeat_at, metadata, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, '{}', ?, ?)`, id.New(), acct, license, policy, product, fmt.Sprintf("fp-%d", i), hb, now.Add(-time.Hour), now)
	}
}

// seed makes an account, product, a policy with the given strategies, a
// license, and machines with the given last heartbeats (nil: never pinged).
func seed(t *testing.T, db *database.DB, cull, revive string, require bool, heartbeats ...*time.Time) string {
	t.Helper()
	acct, product := seedAccount(t, db)
	policy := seedPolicy(t, db, acct, product, cull, revive, require)
	license := seedLicense(t, db, acct, product, policy)
	seedMachines(t, db, acct, product, policy, license, heartbeats...)
	return license
}

func remaining(t *testing.T, db *database.DB, license string) int64 {
	var n int64
	db.Gorm.Raw("SELECT COUNT(*) FROM machines WHERE license_id = ?", license).Scan(&n)
	return n
}

func TestCullerDeactivatesDeadMachinesOnce(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			now := database.Now()
			alive, dead, recentlyDead := now.Add(-10*time.Second), now.Add(-10*time.Minute), now.Add(-90*time.Second)
			deactivate := seed(t, db, policy.DeactivateDead, policy.NoRevive, true, &alive, &dead, nil)
			keep := seed(t, db, policy.KeepDead, policy.NoRevive, true, &dead)
			revive := seed(t, db, policy.DeactivateDead, "5_MINUTE_REVIVE", false, &recentlyDead, &dead, nil)

			// Two replicas cull at once: each dead machine goes exactly once.
			var wg sync.WaitGroup
			counts := make([]int64, 2)
			for i := range counts {
				wg.Go(func() {
					n, err := machine.NewCuller(db).Cull(context.Background())
					if err != nil {
						t.Error(err)
					}
					counts[i] = n
				})
			}
			wg.Wait()
			if counts[0]+counts[1] != 3 {
				t.Fatalf("culled %v, want 3 in all", counts)
			}
			// Alive stays; dead and never-pinged-but-required go.
			if n := remaining(t, db, deactivate); n != 1 {
				t.Fatalf("DEACTIVATE_DEAD left %d machines, want 1", n)
			}
			if n := remaining(t, db, keep); n != 1 {
				t.Fatalf("KEEP_DEAD left %d machines, want 1", n)
			}
			// Within the revival window stays; unmonitored (not required, never pinged) stays.
			if n := remaining(t, db, revive); n != 2 {
				t.Fatalf("revivable policy left %d machines, want 2", n)
			}
			if n, _ := machine.NewCuller(db).Cull(context.Background()); n != 0 {
				t.Fatalf("a second pass culled %d", n)
			}
		})
	}
}
