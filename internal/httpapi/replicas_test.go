package httpapi_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/ratelimit"
	"github.com/relkey/relkey/internal/testenv"
)

// TestTwoReplicasBehaveAsOne: two relkey instances (each with its own
// server, pool, store clients and jobs) on one PostgreSQL and one MinIO,
// behind a round-robin client: parallel activations split across both
// respect maxMachines exactly, the login and key-guessing limits are
// shared, and a background pass runs on one replica at a time.
func TestTwoReplicasBehaveAsOne(t *testing.T) {
	t.Parallel()
	for _, b := range testenv.Backends(t) {
		if !b.Postgres {
			continue // replicas need a shared server; SQLite serves one process
		}
		e := newEnv(t, b, func(c *config.Config) {
			c.RequestTimeout = 2 * time.Minute
			c.Edge.TrustedProxies = cidrs(t, "127.0.0.0/8")
		})
		replicas := []*env{e, serveEnvShared(t, e, e.cfg)}
		var turn atomic.Int64
		next := func() *env { return replicas[turn.Add(1)%2] }

		// Activations: 60 at once against a limit of 5, then 20 at once of
		// one fingerprint.
		licenseID, key := e.licensed(`"name":"Five","floating":true,"maxMachines":5,"authenticationStrategy":"LICENSE"`)
		activate := func(n int, fingerprint func(i int) string) map[int]int {
			var wg sync.WaitGroup
			var mu sync.Mutex
			counts := map[int]int{}
			for i := range n {
				wg.Go(func() {
					r := next().do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"`+fingerprint(i)+`"`),
						header{"Authorization", "License " + key})
					mu.Lock()
					counts[r.status]++
					mu.Unlock()
				})
			}
			wg.Wait()
			return counts
		}
		if counts := activate(60, func(i int) string { return fmt.Sprintf("par-%d", i) }); counts[201] != 5 || counts[422] != 55 {
			t.Fatalf("60 activations across two replicas: %v, want 5×201 and 55×422", counts)
		}
		if n := len(list(t, e.admin("GET", "/v1/accounts/acme/machines?license="+licenseID+"&limit=100", ""))); n != 5 {
			t.Fatalf("%d machines exist, want 5", n)
		}
		licenseID, key = e.licensed(`"name":"Many","floating":true,"maxMachines":100,"authenticationStrategy":"LICENSE"`)
		if counts := activate(20, func(int) string { return "same" }); counts[201] != 1 || counts[422] != 19 {
			t.Fatalf("20 activations of one fingerprint across two replicas: %v, want 1×201", counts)
		}

		// Logins: the per-email limit (5) counts attempts on either replica.
		refused := 0
		for i := range 10 {
			r := next().do("POST", "/v1/accounts/acme/tokens", "", basic("admin@acme.test", "wrong"), header{"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i)})
			if r.status == 429 {
				refused++
			}
		}
		if refused != 5 {
			t.Fatalf("10 wrong logins of one email across two replicas: %d refused, want 5", refused)
		}

		// Key guessing: an address's failures on both replicas add up once
		// each replica has shared its counts (every second in production).
		from := header{"X-Forwarded-For", "198.51.100.1"}
		for i := range ratelimit.AddressGuesses {
			if r := next().do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"GUESS-`+fmt.Sprint(i)+`"}}`, from); r.status == 429 {
				t.Fatalf("guess %d refused before the limit", i)
			}
		}
		for _, r := range []*env{replicas[0], replicas[1], replicas[0]} {
			if err := r.app.Guesses.Sync(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		for _, r := range replicas {
			r.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"`+key+`"}}`, from).expectError(t, 429, "TOO_MANY_REQUESTS")
		}

		// Background passes: both replicas start each pass at once; it runs
		// on one of them.
		for _, pass := range []string{"settle_uploads", "cull_machines", "prune_sessions"} {
			var ran atomic.Int64
			var wg sync.WaitGroup
			for _, r := range replicas {
				wg.Go(func() {
					if _, err := r.app.RunPass(context.Background(), pass, time.Minute, func(context.Context) error { ran.Add(1); return nil }); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if ran.Load() != 1 {
				t.Fatalf("%s ran %d times across two replicas, want once", pass, ran.Load())
			}
		}
	}
}

// TestOneFingerprintOnManyLicensesDoesNotQueue: while an activation of a
// fingerprint holds its locks, the same fingerprint activates on another
// license at once (per-license uniqueness needs only each license's row;
// before, every activation of a fingerprint in the account queued behind
// the others, and got 503 past the lock timeout).
func TestOneFingerprintOnManyLicensesDoesNotQueue(t *testing.T) {
	t.Parallel()
	for _, b := range testenv.Backends(t) {
		if !b.Postgres {
			continue // SQLite's write transactions are serial by design
		}
		e := newEnv(t, b)
		held, _ := e.licensed(`"name":"Held","floating":true,"maxMachines":5,"authenticationStrategy":"LICENSE"`)
		other, key := e.licensed(`"name":"Other","floating":true,"maxMachines":5,"authenticationStrategy":"LICENSE"`)
		locked, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- e.app.DB.InTx(context.Background(), func(ctx context.Context) error {
				// What an activation of "shared" on the held license takes.
				err := e.app.DB.Conn(ctx).Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0)) FROM licenses WHERE id = ? FOR UPDATE`,
					e.acct.Account.ID+"/shared", held).Error
				close(locked)
				<-release
				return err
			})
		}()
		<-locked
		start := time.Now()
		r := e.do("POST", "/v1/accounts/acme/machines", machineBody(other, `"fingerprint":"shared"`), header{"Authorization", "License " + key})
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if r.status != 201 || time.Since(start) > 2*time.Second {
			t.Fatalf("the fingerprint on another license: %d after %v (%s)", r.status, time.Since(start), r.body)
		}
	}
}
