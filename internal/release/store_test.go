package release

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/testenv"
)

// ascending is a release line in the stored order, oldest version first:
// pre-releases by word then number, a release above its pre-releases,
// build metadata counting (by word, then number) above the bare version.
var ascending = []string{
	"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.2", "1.0.0-beta", "1.0.0-beta.1", "1.0.0-beta.1+b", "1.0.0-beta.2", "1.0.0-rc.1",
	"1.0.0", "1.0.0+build", "1.0.0+build.1", "1.0.0+build.2", "1.0.0+other", "1.0.1", "1.1.0", "1.10.0", "2.0.0-dev.1", "2.0.0",
}

type storeFixture struct {
	db        *database.DB
	store     *Store
	accountID string
	productID string
	ids       map[string]string // version → release id
}

// newStoreFixture stores the ascending line as PUBLISHED releases of one
// product, each in the channel its pre-release names (stable otherwise).
func newStoreFixture(t *testing.T, be testenv.Backend) *storeFixture {
	db := be.OpenDB(t)
	f := &storeFixture{db: db, store: NewStore(db), accountID: id.New(), productID: id.New(), ids: map[string]string{}}
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, st := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO accounts (id, slug, name, ed25519_public_key, ed25519_private_key, secret_key, created_at, updated_at) VALUES (?, ?, 'A', '', '', '', ?, ?)",
			[]any{f.accountID, "a" + f.accountID[:8], now, now}},
		{"INSERT INTO products (id, account_id, name, distribution_strategy, metadata, created_at, updated_at) VALUES (?, ?, 'P', 'LICENSED', '{}', ?, ?)",
			[]any{f.productID, f.accountID, now, now}},
	} {
		if err := db.Gorm.Exec(st.sql, st.args...).Error; err != nil {
			t.Fatal(err)
		}
	}
	for i, version := range ascending {
		v, err := ClientVersion(version)
		if err != nil {
			t.Fatal(err)
		}
		channel := "stable"
		if v.SemverPreWord != nil {
			channel = *v.SemverPreWord
		}
		r := &Release{ID: id.New(), AccountID: f.accountID, ProductID: f.productID, Channel: channel, Status: Published, Version: version,
			SemverMajor: v.SemverMajor, SemverMinor: v.SemverMinor, SemverPatch: v.SemverPatch, SemverPreWord: v.SemverPreWord, SemverPreNum: v.SemverPreNum,
			SemverBuildWord: v.SemverBuildWord, SemverBuildNum: v.SemverBuildNum, Metadata: map[string]any{},
			// Created newest first, so that the creation order decides nothing.
			CreatedAt: now.Add(-time.Duration(i) * time.Minute), UpdatedAt: now}
		if err := f.store.Create(context.Background(), r, func(context.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
		f.ids[version] = r.ID
	}
	return f
}

// greaterOf lists the versions the statement's condition holds for, in
// ascending order.
func (f *storeFixture) greaterOf(t *testing.T, cond piece, from string, args ...any) []string {
	t.Helper()
	var got []string
	err := f.db.Gorm.Raw("SELECT releases.version FROM "+from+" WHERE releases.account_id = ? AND "+cond.SQL,
		slices.Concat([]any{f.accountID}, cond.Args, args)...).Scan(&got).Error
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b string) int { return slices.Index(ascending, a) - slices.Index(ascending, b) })
	return got
}

// TestGreaterFollowsTheStoredOrder: for every version of the line, the
// versions greater than it, compared with a version known here (Next,
// feeds) and with the columns of a row (Upgrade), are those after it.
func TestGreaterFollowsTheStoredOrder(t *testing.T) {
	for _, be := range testenv.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			f := newStoreFixture(t, be)
			for i, version := range ascending {
				want := ascending[i+1:]
				v, _ := ClientVersion(version)
				if got := f.greaterOf(t, greater(values{version: v}), "releases"); !slices.Equal(got, want) {
					t.Errorf("above %s (a version): %v, want %v", version, got, want)
				}
				cond := and(aboveCur, piece{SQL: "cur.id = ?", Args: nil})
				if got := f.greaterOf(t, cond, "releases CROSS JOIN releases cur", f.ids[version]); !slices.Equal(got, want) {
					t.Errorf("above %s (a row): %v, want %v", version, got, want)
				}
			}
		})
	}
}

// TestUpgradeStatement reads current and next releases in one statement
// as Find and Next read them apart.
func TestUpgradeStatement(t *testing.T) {
	for _, be := range testenv.Backends(t) {
		t.Run(be.Name, func(t *testing.T) {
			f := newStoreFixture(t, be)
			ctx := context.Background()
			v, err := f.store.Sight(ctx, f.accountID, access.Scope{All: true}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			eleven := int64(11)
			for _, tt := range []struct {
				from, channel string
				c             *Constraint
				want          string // "" for none
			}{
				{"1.0.0", "", nil, "2.0.0"},
				{"2.0.0", "", nil, ""},
				{"1.0.0", "", &Constraint{Major: 1}, "1.10.0"},
				{"1.0.0", "", &Constraint{Major: 1, Minor: &eleven}, ""},
				{"1.0.0-alpha", "", nil, "2.0.0"}, // alpha includes every channel but dev
				{"1.0.0-alpha", "", &Constraint{Major: 1, Minor: new(int64), Patch: new(int64)}, "1.0.1"},
				{"1.0.0-beta.1", "beta", &Constraint{Major: 1, Minor: new(int64), Patch: new(int64)}, "1.0.1"},
				{"1.0.0", "dev", nil, "2.0.0-dev.1"},
				{"2.0.0-dev.1", "", nil, ""}, // dev only from dev
				{"1.0.0", "nightly", nil, ""},
			} {
				current, next, err := f.store.Upgrade(ctx, v, tt.from, Narrowing{Product: f.productID}, tt.channel, tt.c)
				if err != nil || current.ID != f.ids[tt.from] {
					t.Fatalf("upgrade from %s: current %+v, %v", tt.from, current, err)
				}
				if got := ""; next != nil {
					got = next.Version
					if got != tt.want {
						t.Errorf("upgrade from %s (%q, %+v): %s, want %q", tt.from, tt.channel, tt.c, got, tt.want)
					}
				} else if tt.want != "" {
					t.Errorf("upgrade from %s (%q, %+v): none, want %s", tt.from, tt.channel, tt.c, tt.want)
				}
				channel := tt.channel
				if channel == "" {
					channel = current.Channel
				}
				apart, err := f.store.Next(ctx, v, current, Includes(channel), tt.c, nil)
				if (apart == nil) != (next == nil) || apart != nil && apart.ID != next.ID || apart == nil && err != ErrNoUpgrade {
					t.Errorf("upgrade from %s: Next finds %+v (%v), the statement %+v", tt.from, apart, err, next)
				}
			}
			if _, _, err := f.store.Upgrade(ctx, v, "9.9.9", Narrowing{}, "", nil); err == nil {
				t.Fatal("an unknown version has an upgrade")
			}
		})
	}
}
