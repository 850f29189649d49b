package search

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/testenv"
)

const (
	accountID = "00000000-0000-4000-8000-00000000000a"
	product   = "00000000-0000-4000-8000-00000000000b"
	policy    = "00000000-0000-4000-8000-00000000000c"
)

// seed adds an account with a product and a policy.
func seed(t *testing.T, db *database.DB) {
	t.Helper()
	now := database.Now()
	exec(t, db, `INSERT INTO accounts (id, slug, name, ed25519_public_key, ed25519_private_key, secret_key, created_at, updated_at)
		VALUES (?, 'acme', 'Acme', 'pub', 'priv', 'secret', ?, ?)`, accountID, now, now)
	exec(t, db, `INSERT INTO products (id, account_id, name, distribution_strategy, created_at, updated_at)
		VALUES (?, ?, 'App', 'LICENSED', ?, ?)`, product, accountID, now, now)
	strategies := []string{"heartbeat_basis", "heartbeat_cull_strategy", "heartbeat_resurrection_strategy", "machine_uniqueness_strategy",
		"machine_matching_strategy", "component_uniqueness_strategy", "component_matching_strategy", "expiration_strategy", "expiration_basis",
		"renewal_basis", "transfer_strategy", "authentication_strategy", "machine_leasing_strategy", "process_leasing_strategy", "overage_strategy"}
	exec(t, db, `INSERT INTO policies (id, account_id, product_id, name, created_at, updated_at, `+strings.Join(strategies, ", ")+`)
		VALUES (?, ?, ?, 'Pro', ?, ?`+strings.Repeat(", 'X'", len(strategies))+`)`, policy, accountID, product, now, now)
}

func exec(t *testing.T, db *database.DB, sql string, args ...any) {
	t.Helper()
	if err := db.Gorm.Exec(sql, args...).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func addUser(t *testing.T, db *database.DB, n int, email, first, last string) string {
	t.Helper()
	id := fmt.Sprintf("00000000-0000-4000-9000-%012d", n)
	now := database.Now()
	exec(t, db, `INSERT INTO users (id, account_id, email, first_name, last_name, role, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'user', ?, ?)`, id, accountID, email, first, last, now, now)
	return id
}

func searchUsers(t *testing.T, s *Store, or bool, terms ...Term) []string {
	t.Helper()
	ids, total, err := s.IDs(t.Context(), accountID, nil, Plan{Type: lookup("users"), Or: or, Terms: terms}, page.Request{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if total != int64(len(ids)) {
		t.Fatalf("total %d, ids %v", total, ids)
	}
	slices.Sort(ids)
	return ids
}

// TestIndexedSubstrings: the indexed text columns match as LIKE/ILIKE
// '%term%' did, through the trigram indexes the triggers (SQLite) keep.
func TestIndexedSubstrings(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			seed(t, db)
			s := NewStore(db)
			john := addUser(t, db, 1, "john.doe@example.com", "John", "Doe")
			sale := addUser(t, db, 2, "100%_off@sale.test", "Ünïcode", `Say "hi"`)
			other := addUser(t, db, 3, "1000xoff@sale.test", "Ana", "Lee")
			// Beyond ASCII, case folds as the engine's LIKE (never on SQLite,
			// whose FTS5 MATCH would fold it) or ILIKE (by the database's locale).
			var folds bool
			cond, args := db.Contains(`'Ünïcode'`, "ÜNÏ")
			if err := db.Gorm.Raw("SELECT "+cond, args...).Scan(&folds).Error; err != nil || folds && db.Engine == database.SQLite {
				t.Fatalf("folds %v, err %v", folds, err)
			}
			for _, tt := range []struct {
				name  string
				terms []Term
				want  []string
			}{
				{"middle of a value", []Term{{"email", "doe@exa"}}, []string{john}},
				{"ASCII case", []Term{{"email", "EXAMPLE.COM"}}, []string{john}},
				{"% is literal", []Term{{"email", "100%"}}, []string{sale}},
				{"_ is literal", []Term{{"email", "0_o"}}, nil},
				{"% and _ together", []Term{{"email", "%_off"}}, []string{sale}},
				{"a quote", []Term{{"last_name", `"hi"`}}, []string{sale}},
				{"non-ASCII, same case", []Term{{"first_name", "nïco"}}, []string{sale}},
				{"non-ASCII case folds as the engine's LIKE/ILIKE", []Term{{"first_name", "ÜNÏ"}}, map[bool][]string{true: {sale}}[folds]},
				{"two characters scan", []Term{{"first_name", "Ün"}}, []string{sale}},
				{"one-character first name scans", []Term{{"full_name", "J Doe"}}, []string{john}},
				{"no match", []Term{{"email", "nowhere"}}, nil},
				{"any of two columns", []Term{{"email", "sale.test"}, {"last_name", "lee"}}, []string{sale, other}},
			} {
				t.Run(tt.name, func(t *testing.T) {
					if got := searchUsers(t, s, len(tt.terms) > 1, tt.terms...); !slices.Equal(got, tt.want) {
						t.Fatalf("found %v, want %v", got, tt.want)
					}
				})
			}
			// The index follows updates and deletes.
			exec(t, db, `UPDATE users SET email = 'new.address@sale.test' WHERE id = ?`, other)
			if got := searchUsers(t, s, false, Term{"email", "1000xoff"}); len(got) != 0 {
				t.Errorf("old email still found: %v", got)
			}
			if got := searchUsers(t, s, false, Term{"email", "ADDRESS"}); !slices.Equal(got, []string{other}) {
				t.Errorf("new email found %v", got)
			}
			for _, set := range []string{`role = 'admin'`, `email = email, first_name = first_name`} { // another column; the same text
				exec(t, db, `UPDATE users SET `+set+` WHERE id = ?`, other)
				if got := searchUsers(t, s, false, Term{"email", "address"}); !slices.Equal(got, []string{other}) {
					t.Errorf("after SET %s: %v", set, got)
				}
			}
			exec(t, db, `DELETE FROM users WHERE id = ?`, john)
			if got := searchUsers(t, s, false, Term{"email", "doe@exa"}); len(got) != 0 {
				t.Errorf("deleted user found: %v", got)
			}
			if got := searchUsers(t, s, false, Term{"first_name", "ana"}); !slices.Equal(got, []string{other}) {
				t.Errorf("after a delete: %v", got)
			}
		})
	}
}

// seedLicenses adds licenses 1 … n, named "Seat <n>", per engine.
var seedLicenses = map[database.Engine]string{
	database.SQLite: `WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < ?)
		INSERT INTO licenses (id, account_id, product_id, policy_id, name, key_digest, key_sealed, created_at, updated_at)
		SELECT printf('00000000-0000-4000-8000-%012d', n), ?, ?, ?, 'Seat ' || n, 'seed-' || n, 'sealed', ?, ? FROM seq`,
	database.Postgres: `INSERT INTO licenses (id, account_id, product_id, policy_id, name, key_digest, key_sealed, created_at, updated_at)
		SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, ?, ?, ?, 'Seat ' || n, 'seed-' || n, 'sealed', ?, ?
		FROM generate_series(1, ?::int) AS n`,
}

// accountScan is a plan's read of every license (of the account): a
// sequential scan, or a walk of an index by account alone.
var accountScan = regexp.MustCompile(`(?m)Seq Scan on licenses|^SCAN licenses( |$)|SEARCH licenses USING (COVERING )?INDEX \w+ \(account_id=\?\)$|Index (Only )?Scan using licenses_account_(created_)?idx`)

// TestLicenseSearchUsesIndexes: the console's license search (key, name,
// owner or user, any of them) at 100 000 licenses reads no license but
// through an index on PostgreSQL, and through the FTS5 table and the
// relationship indexes on SQLite: neither the count nor the page scans
// the account's licenses. SQLite, without statistics, plans the same at
// any size: 10 000 licenses do there.
func TestLicenseSearchUsesIndexes(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			seed(t, db)
			licenses := 10_000
			if db.Engine == database.Postgres {
				licenses = 100_000
			}
			matches := 0
			for n := 1; n <= licenses; n++ {
				if strings.HasPrefix(fmt.Sprint(n), "4242") { // "Seat 4242" in "Seat <n>"
					matches++
				}
			}
			now := database.Now()
			args := []any{licenses, accountID, product, policy, now, now}
			if db.Engine == database.Postgres {
				args = append(args[1:], args[0])
			}
			err := db.Gorm.Transaction(func(tx *gorm.DB) error {
				if db.Engine == database.Postgres {
					// The seed takes longer than a statement may.
					if err := tx.Exec(`SET LOCAL statement_timeout = 0`).Error; err != nil {
						return err
					}
				}
				return tx.Exec(seedLicenses[db.Engine], args...).Error
			})
			if err != nil {
				t.Fatal(err)
			}
			addUser(t, db, 1, "customer@example.com", "Cus", "Tomer")
			if db.Engine == database.Postgres {
				exec(t, db, `ANALYZE`) // as autovacuum would; relkey never analyzes SQLite
			}

			plan, err := Check(Query{Type: "licenses", Op: &[]string{"OR"}[0],
				Terms: map[string]any{"key": "Seat 4242", "name": "Seat 4242", "owner": "Seat 4242", "user": "Seat 4242"}})
			if err != nil {
				t.Fatal(err)
			}
			s := NewStore(db)
			ids, total, err := s.IDs(t.Context(), accountID, []byte("secret"), plan, page.Request{Limit: 10})
			if err != nil || total != int64(matches) || len(ids) != min(matches, 10) {
				t.Fatalf("ids %v total %d (want %d) err %v", ids, total, matches, err)
			}
			where, whereArgs := s.where(accountID, []byte("secret"), plan)
			for _, sql := range []string{
				`SELECT count(*) FROM licenses WHERE ` + where,
				`SELECT licenses.id FROM licenses WHERE ` + where + ` ORDER BY licenses.created_at DESC, licenses.id DESC LIMIT 10`,
			} {
				explain := "EXPLAIN "
				if db.Engine == database.SQLite {
					explain = "EXPLAIN QUERY PLAN "
				}
				var lines []string
				if db.Engine == database.Postgres {
					err = db.Gorm.Raw(explain+sql, whereArgs...).Scan(&lines).Error
				} else {
					var rows []struct{ Detail string }
					err = db.Gorm.Raw(explain+sql, whereArgs...).Scan(&rows).Error
					for _, r := range rows {
						lines = append(lines, r.Detail)
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				text := strings.Join(lines, "\n")
				if scan := accountScan.FindString(text); scan != "" {
					t.Errorf("%s: plan has %q:\n%s", sql, scan, text)
				}
			}
		})
	}
}
