package key

import (
	"context"
	"testing"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/testenv"
)

// fakeRecords holds keys in memory; licenseKeys are the digests of the
// account's license keys.
type fakeRecords struct {
	keys        []Key
	licenseKeys map[string]bool
}

func (f *fakeRecords) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return fn(ctx)
}
func (f *fakeRecords) Create(_ context.Context, k *Key) error {
	for _, have := range f.keys {
		if have.KeyDigest == k.KeyDigest {
			return errTaken
		}
	}
	f.keys = append(f.keys, *k)
	return nil
}
func (f *fakeRecords) Save(context.Context, *Key) error { return nil }
func (f *fakeRecords) Delete(_ context.Context, k *Key) error {
	for i := range f.keys {
		if f.keys[i].ID == k.ID {
			f.keys = append(f.keys[:i], f.keys[i+1:]...)
			return nil
		}
	}
	return apperr.NotFoundResource("key", k.ID)
}
func (f *fakeRecords) Find(context.Context, string, string, access.Scope) (*Key, error) {
	return nil, apperr.NotFoundResource("key", "")
}
func (f *fakeRecords) List(context.Context, string, access.Scope, Filter, page.Request) ([]Key, int64, error) {
	return f.keys, int64(len(f.keys)), nil
}
func (f *fakeRecords) Oldest(context.Context, string, string) (*Key, error) {
	if len(f.keys) == 0 {
		return nil, apperr.NotFoundResource("key", "")
	}
	k := f.keys[0]
	return &k, nil
}
func (f *fakeRecords) LicenseKeyTaken(_ context.Context, _, digest, _ string) (bool, error) {
	return f.licenseKeys[digest], nil
}

type fakePolicies map[string]*policy.Policy

func (f fakePolicies) Visible(_ context.Context, _ *access.Principal, _ *account.Tenant, ref string) (*policy.Policy, error) {
	if p, ok := f[ref]; ok {
		return p, nil
	}
	return nil, apperr.NotFoundResource("policy", ref)
}

type plainSealer struct{}

func (plainSealer) Seal(b []byte) (string, error) { return string(b), nil }
func (plainSealer) Open(s string) ([]byte, error) { return []byte(s), nil }

func TestCreateAndTake(t *testing.T) {
	tenant := &account.Tenant{Account: &account.Account{ID: "acct"}, Keys: account.Keys{Secret: []byte("secret")}}
	admin := access.NewPrincipal("acct", access.RoleAdmin, access.BearerUser, "admin", "", nil)
	user := access.NewPrincipal("acct", access.RoleUser, access.BearerUser, "someone", "", nil)
	store := &fakeRecords{licenseKeys: map[string]bool{license.Digest(tenant.Keys.Secret, "LICENSE-KEY-1"): true}}
	svc := NewService(store, fakePolicies{"pooled": {ID: "pooled", UsePool: true}, "plain": {ID: "plain"}}, plainSealer{}, testenv.Unrecorded{})
	ctx := context.Background()
	for _, c := range []struct {
		name, policy, key string
		who               *access.Principal
		code              string
	}{
		{"first key", "pooled", "POOLED-1", admin, ""},
		{"second key", "pooled", "POOLED-2", admin, ""},
		{"taken", "pooled", "POOLED-1", admin, "KEY_TAKEN"},
		{"a license's key", "pooled", "LICENSE-KEY-1", admin, "KEY_CONFLICT"},
		{"too short", "pooled", "SHORT", admin, "KEY_TOO_SHORT"},
		{"blank", "pooled", " ", admin, "KEY_MISSING"},
		{"unpooled policy", "plain", "POOLED-3", admin, "POLICY_NOT_SUPPORTED"},
		{"no policy", "", "POOLED-3", admin, "POLICY_NOT_FOUND"},
		{"unknown policy", "nope", "POOLED-3", admin, "POLICY_NOT_FOUND"},
		{"a user", "pooled", "POOLED-3", user, "ACCESS_DENIED"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := svc.Create(ctx, c.who, tenant, c.policy, Params{Key: optional.Of(c.key)})
			var code string
			if e, ok := err.(*apperr.Error); ok {
				code = e.Code
			} else if err != nil {
				t.Fatal(err)
			}
			if code != c.code {
				t.Fatalf("code %q, want %q (%v)", code, c.code, err)
			}
		})
	}
	for _, want := range []string{"POOLED-1", "POOLED-2"} {
		if got, err := svc.Take(ctx, "acct", "pooled"); err != nil || got != want {
			t.Fatalf("take: %q %v, want %q", got, err, want)
		}
	}
	if _, err := svc.Take(ctx, "acct", "pooled"); err == nil || err.(*apperr.Error).Code != "POLICY_POOL_EMPTY" {
		t.Fatalf("take from an empty pool: %v", err)
	}
}
