package license

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"github.com/relkey/relkey/internal/testenv"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/user"
)

// clock is the injected now of every test.
var clock = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// at is clock moved by d.
func at(d time.Duration) *time.Time { t := clock.Add(d); return &t }

func n(v int64) *int64    { return &v }
func s(v string) *string  { return &v }
func b(v bool) *bool      { return &v }
func days(d int64) *int64 { return n(d * 24 * 3600) }

const day = 24 * time.Hour

// The records every world starts with. Ids have the shape of UUIDs, so the
// stores treat them as ids rather than keys.
const (
	acct      = "a0000000-0000-4000-8000-000000000000"
	productA  = "b0000000-0000-4000-8000-00000000000a"
	productB  = "b0000000-0000-4000-8000-00000000000b"
	policyA   = "c0000000-0000-4000-8000-00000000000a" // productA's
	policyB   = "c0000000-0000-4000-8000-00000000000b" // productB's
	policyT   = "c0000000-0000-4000-8000-0000000000aa" // productA's, a transfer target
	owner     = "d0000000-0000-4000-8000-000000000001" // owns licenseA
	licensee  = "d0000000-0000-4000-8000-000000000002" // attached to licenseA
	stranger  = "d0000000-0000-4000-8000-000000000003" // holds nothing
	staff     = "d0000000-0000-4000-8000-000000000009"
	licenseA  = "e0000000-0000-4000-8000-00000000000a" // policyA, owned by owner
	licenseB  = "e0000000-0000-4000-8000-00000000000b" // policyB, unowned
	licenseT  = "e0000000-0000-4000-8000-0000000000aa" // policyT's, when a case adds it
	unknownID = "f0000000-0000-4000-8000-000000000000"
	keyA      = "ALPHA-KEY-0001"
	keyB      = "BRAVO-KEY-0001"
)

// Principals of the account.
func admin() *access.Principal {
	return access.NewPrincipal(acct, access.RoleAdmin, access.BearerUser, staff, "tok", nil)
}

func readOnly() *access.Principal {
	return access.NewPrincipal(acct, access.RoleReadOnly, access.BearerUser, staff, "tok", nil)
}

func asProduct(id string) *access.Principal {
	return access.NewPrincipal(acct, access.RoleProduct, access.BearerProduct, id, "tok", nil)
}

func asUser(id string) *access.Principal {
	return access.NewPrincipal(acct, access.RoleUser, access.BearerUser, id, "tok", nil)
}

// asLicense is the bearer of licenseA or licenseB, as auth.go builds it.
func asLicense(id string) *access.Principal {
	p := access.NewPrincipal(acct, access.RoleLicense, access.BearerLicense, id, "tok", nil)
	p.ProductID, p.PolicyID = productA, policyA
	if id == licenseB {
		p.ProductID, p.PolicyID = productB, policyB
	}
	return p
}

// want is an expected outcome: success when code is empty, else an error
// of the kind and code, about the field (nil: about no field).
type want struct {
	kind apperr.Kind
	code string
	at   *apperr.Field
}

var (
	ok           = want{}
	tokenMissing = want{kind: apperr.Unauthenticated, code: "TOKEN_MISSING"}
	denied       = want{kind: apperr.Forbidden, code: "ACCESS_DENIED"}
	notFound     = want{kind: apperr.NotFound, code: "NOT_FOUND"}
)

func fail(kind apperr.Kind, code string, f apperr.Field) want { return want{kind, code, &f} }

// unprocessable is a rule violation about a field.
func unprocessable(code string, f apperr.Field) want { return fail(apperr.Unprocessable, code, f) }

// paramsInvalid is a PARAMETERS_INVALID about a field.
func paramsInvalid(f apperr.Field) want { return fail(apperr.Invalid, "PARAMETERS_INVALID", f) }

// expect checks err against w and reports whether the call succeeded as
// wanted, so that the caller goes on to check what it returned.
func expect(t *testing.T, err error, w want) bool {
	t.Helper()
	if w.code == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return true
	}
	if err == nil {
		t.Fatalf("succeeded, want %s", w.code)
	}
	var e *apperr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *apperr.Error, want %s", err, w.code)
	}
	if e.Kind != w.kind || e.Code != w.code {
		t.Fatalf("error %s (kind %d), want %s (kind %d): %v", e.Code, e.Kind, w.code, w.kind, err)
	}
	var got *apperr.Field
	if e.Source != nil {
		got = e.Source.Field
	}
	if !reflect.DeepEqual(got, w.at) {
		t.Fatalf("%s about %s, want about %s", e.Code, describe(got), describe(w.at))
	}
	return false
}

func describe(f *apperr.Field) string {
	if f == nil {
		return "nothing"
	}
	s := []string{[]string{"", "record", "attribute", "relationship", "meta"}[f.Part], f.Name}
	if f.Index != nil {
		s = append(s, "item", itoa(int64(*f.Index)))
	}
	if f.Key != "" {
		s = append(s, "member", f.Key)
	}
	return strings.Join(s, " ")
}

// sameTime fails unless got and want are both nil or the same instant.
func sameTime(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	if (got == nil) != (want == nil) || got != nil && !got.Equal(*want) {
		t.Errorf("%s = %v, want %v", what, fmtTime(got), fmtTime(want))
	}
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "nil"
	}
	return t.Format(time.RFC3339Nano)
}

// memDB is the state the fakes share: an account's licenses, policies and
// users, in memory.
type memDB struct {
	mu          sync.Mutex
	licenses    map[string]*License       // by id, as stored: no Key, no OwnerBanned
	policies    map[string]*policy.Policy // by id
	users       map[string]*user.User     // by id
	licensees   map[string][]string       // license id -> attached user ids, in order
	reads       int                       // licenses read with their policy
	policyGets  int                       // policies read by id
	machines    map[string]Totals         // license id -> its machine totals
	totalsReads int                       // StatsOf calls
}

// fakeStore is the license store in memory. Where *Store enforces a rule in
// SQL (uses within limits, licensees within max users, expiry set once) the
// fake models the contract its doc comment states.
type fakeStore struct{ *memDB }

var _ Records = fakeStore{}

func isID(ref string) bool { return len(ref) == 36 && uuid.Validate(ref) == nil }

// holds reports whether a user owns or is attached to a license (the
// store's LicensesOfUser).
func (db *memDB) holds(userID string, l *License) bool {
	return l.OwnerID != nil && *l.OwnerID == userID || slices.Contains(db.licensees[l.ID], userID)
}

// inScope is the store's scope rule: staff all, a product its product's
// licenses, a license itself, a user those it holds, anonymous none.
func (db *memDB) inScope(l *License, sc access.Scope) bool {
	switch {
	case sc.All:
		return true
	case sc.ProductID != "":
		return l.ProductID == sc.ProductID
	case sc.LicenseID != "":
		return l.ID == sc.LicenseID
	case sc.UserID != "":
		return db.holds(sc.UserID, l)
	}
	return false
}

// read is a stored license as the store returns it: a copy, with its
// owner's ban joined in and its key still sealed.
func (db *memDB) read(l *License) *License {
	c := *l
	c.Metadata = map[string]any{}
	for k, v := range l.Metadata {
		c.Metadata[k] = v
	}
	c.OwnerBanned = l.OwnerID != nil && db.users[*l.OwnerID] != nil && db.users[*l.OwnerID].BannedAt != nil
	return &c
}

func (db *memDB) write(l *License) {
	c := *db.read(l)
	c.Key, c.OwnerBanned = "", false
	db.licenses[l.ID] = &c
}

func (f fakeStore) Create(_ context.Context, l *License) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.licenses {
		if o.AccountID == l.AccountID && o.KeyDigest == l.KeyDigest {
			return apperr.Attribute("key", "TAKEN", "has already been taken")
		}
	}
	f.write(l)
	return nil
}

func (f fakeStore) Save(_ context.Context, l *License) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.write(l)
	return nil
}

func (f fakeStore) Delete(_ context.Context, l *License) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.licenses, l.ID)
	return nil
}

func (f fakeStore) Find(_ context.Context, accountID, ref, digest string, sc access.Scope) (*License, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.licenses {
		match := l.KeyDigest == digest
		if isID(ref) {
			match = l.ID == ref
		}
		if match && l.AccountID == accountID && f.inScope(l, sc) {
			return f.read(l), nil
		}
	}
	return nil, apperr.NotFoundResource("license", ref)
}

func (f fakeStore) List(_ context.Context, accountID string, sc access.Scope, fl Filter, p page.Request) ([]License, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []License
	for _, l := range f.licenses {
		switch {
		case l.AccountID != accountID, !f.inScope(l, sc),
			fl.ProductID != "" && l.ProductID != fl.ProductID,
			fl.PolicyID != "" && l.PolicyID != fl.PolicyID,
			fl.OwnerID != "" && (l.OwnerID == nil || *l.OwnerID != fl.OwnerID):
			continue
		}
		out = append(out, *f.read(l))
	}
	slices.SortFunc(out, func(a, b License) int { return strings.Compare(a.ID, b.ID) })
	total := int64(len(out))
	out = out[min(p.Offset, len(out)):]
	if p.Limit > 0 {
		out = out[:min(p.Limit, len(out))]
	}
	return out, total, nil
}

func (f fakeStore) withPolicy(match func(*License) bool) (*License, *policy.Policy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	for _, l := range f.licenses {
		if match(l) {
			pol := *f.policies[l.PolicyID]
			return f.read(l), &pol, nil
		}
	}
	return nil, nil, apperr.NotFoundResource("license", "")
}

func (f fakeStore) FindByDigestWithPolicy(_ context.Context, accountID, digest string) (*License, *policy.Policy, error) {
	return f.withPolicy(func(l *License) bool { return l.AccountID == accountID && l.KeyDigest == digest })
}

// FindBearerByDigest leaves zero what the store's narrow read does not read.
func (f fakeStore) FindBearerByDigest(ctx context.Context, accountID, digest string) (*License, *policy.Policy, error) {
	l, pol, err := f.FindByDigestWithPolicy(ctx, accountID, digest)
	if err != nil {
		return nil, nil, err
	}
	return &License{ID: l.ID, AccountID: l.AccountID, ProductID: l.ProductID, PolicyID: l.PolicyID, OwnerID: l.OwnerID,
			Expiry: l.Expiry, Suspended: l.Suspended, OwnerBanned: l.OwnerBanned, ProductDistribution: l.ProductDistribution, AnyOpenProduct: l.AnyOpenProduct},
		&policy.Policy{AuthenticationStrategy: pol.AuthenticationStrategy, ExpirationStrategy: pol.ExpirationStrategy, ExpirationBasis: pol.ExpirationBasis, Duration: pol.Duration}, nil
}

// FindForValidation leaves Totals unread: the fake holds no machines.
func (f fakeStore) FindForValidation(ctx context.Context, accountID, digest string, _ bool) (*License, *policy.Policy, error) {
	return f.FindByDigestWithPolicy(ctx, accountID, digest)
}

func (f fakeStore) FindWithPolicy(_ context.Context, accountID, id string) (*License, *policy.Policy, error) {
	return f.withPolicy(func(l *License) bool { return l.AccountID == accountID && l.ID == id })
}

// ChangeUses models Store.ChangeUses, one conditional UPDATE: reset sets 0;
// otherwise uses+delta must stay within 0 (else USES_INVALID) and max (else
// USES_LIMIT_EXCEEDED); a license that is gone is NOT_FOUND.
func (f fakeStore) ChangeUses(_ context.Context, l *License, delta int64, reset bool, max *int64) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	stored := f.licenses[l.ID]
	switch {
	case stored == nil:
		return 0, apperr.NotFoundResource("license", l.ID)
	case reset:
		stored.Uses = 0
	case stored.Uses+delta < 0:
		return 0, apperr.Attribute("uses", "INVALID", "usage cannot be negative")
	case max != nil && stored.Uses+delta > *max:
		return 0, apperr.Attribute("uses", "LIMIT_EXCEEDED", "usage exceeds maximum allowed for license ("+itoa(*max)+")")
	default:
		stored.Uses += delta
	}
	return stored.Uses, nil
}

// StartExpiry models Store.StartExpiry: it sets the expiry only while it is
// unset, and reports whether it did.
func (f fakeStore) StartExpiry(_ context.Context, l *License, at time.Time) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	stored := f.licenses[l.ID]
	if stored == nil || stored.Expiry != nil {
		return false, nil
	}
	stored.Expiry = &at
	return true, nil
}

// Transfer saves the license (the store also moves its machines, which the
// license rules do not see).
func (f fakeStore) Transfer(ctx context.Context, l *License) error { return f.Save(ctx, l) }

// AttachUsers models Store.AttachUsers, one transaction: each user must
// exist (USER_NOT_FOUND) and not be attached yet (USER_TAKEN), at its item;
// then the users, owner included, must not exceed max (USER_LIMIT_EXCEEDED);
// a failure attaches none.
func (f fakeStore) AttachUsers(_ context.Context, l *License, userIDs []string, max *int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	attached := slices.Clone(f.licensees[l.ID])
	for i, uid := range userIDs {
		u := f.users[uid]
		switch {
		case u == nil || u.AccountID != l.AccountID:
			return apperr.At(apperr.Unprocessable, "USER_NOT_FOUND", "user must exist", apperr.Record().Item(i))
		case slices.Contains(attached, uid):
			return apperr.At(apperr.Unprocessable, "USER_TAKEN", "is already attached", apperr.Record().Item(i))
		}
		attached = append(attached, uid)
	}
	count := int64(len(attached))
	if l.OwnerID != nil {
		count++
	}
	if max != nil && count > *max {
		return apperr.At(apperr.Unprocessable, "USER_LIMIT_EXCEEDED", "user count has exceeded maximum allowed for license ("+itoa(*max)+")", apperr.Record())
	}
	f.licensees[l.ID] = attached
	return nil
}

// DetachUsers models Store.DetachUsers: each user must be attached
// (USER_NOT_FOUND at its item); a failure detaches none.
func (f fakeStore) Licensees(_ context.Context, licenseIDs []string) (map[string]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int64{}
	for _, id := range licenseIDs {
		out[id] = int64(len(f.licensees[id]))
	}
	return out, nil
}

func (f fakeStore) DetachUsers(_ context.Context, l *License, userIDs []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	attached := slices.Clone(f.licensees[l.ID])
	for i, uid := range userIDs {
		at := slices.Index(attached, uid)
		if at < 0 {
			return apperr.At(apperr.Unprocessable, "USER_NOT_FOUND", "user is not attached", apperr.Record().Item(i))
		}
		attached = slices.Delete(attached, at, at+1)
	}
	f.licensees[l.ID] = attached
	return nil
}

// fakePolicies are the policies in memory, seen as the policy store scopes
// them: staff all, a product its own, a license its own, a user those of the
// licenses it holds.
type fakePolicies struct{ *memDB }

func (f fakePolicies) Get(_ context.Context, accountID, policyID string) (*policy.Policy, error) {
	f.mu.Lock()
	f.policyGets++
	f.mu.Unlock()
	return f.find(accountID, policyID, access.Scope{All: true})
}

// fakeTotals sums the machines the world gives licenses.
type fakeTotals struct{ *memDB }

func (f fakeTotals) StatsOf(_ context.Context, ids []string) (map[string]Totals, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.totalsReads++
	out := map[string]Totals{}
	for _, id := range ids {
		out[id] = f.machines[id]
	}
	return out, nil
}

func (f fakePolicies) Visible(_ context.Context, who *access.Principal, t *account.Tenant, ref string) (*policy.Policy, error) {
	return f.find(t.ID, ref, access.ScopeOf(who))
}

func (f fakePolicies) find(accountID, ref string, sc access.Scope) (*policy.Policy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pol := f.policies[ref]
	if pol == nil || pol.AccountID != accountID || !f.policyInScope(pol, sc) {
		return nil, apperr.NotFoundResource("policy", ref)
	}
	c := *pol
	return &c, nil
}

func (db *memDB) policyInScope(pol *policy.Policy, sc access.Scope) bool {
	if sc.LicenseID != "" {
		return pol.ID == sc.LicensePolicyID
	}
	if sc.ProductID != "" {
		return pol.ProductID == sc.ProductID
	}
	return sc.All || db.anyLicense(func(l *License) bool { return l.PolicyID == pol.ID && db.inScope(l, sc) })
}

func (db *memDB) anyLicense(match func(*License) bool) bool {
	for _, l := range db.licenses {
		if match(l) {
			return true
		}
	}
	return false
}

// fakeOwners are the users in memory, seen as the user store scopes them:
// staff all, a user itself, a product or a license the users of its
// licenses.
type fakeOwners struct{ *memDB }

func (f fakeOwners) VisibleID(_ context.Context, who *access.Principal, t *account.Tenant, ref string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sc := access.ScopeOf(who)
	for _, u := range f.users {
		if u.AccountID == t.ID && (u.ID == ref || u.Email == ref) && f.userInScope(u.ID, sc) {
			return u.ID, nil
		}
	}
	return "", apperr.NotFoundResource("user", ref)
}

func (db *memDB) userInScope(userID string, sc access.Scope) bool {
	if sc.All || sc.UserID != "" {
		return sc.All || sc.UserID == userID
	}
	return db.anyLicense(func(l *License) bool { return db.inScope(l, sc) && db.holds(userID, l) })
}

func (f fakeOwners) OfLicense(_ context.Context, _, licenseID string, ownerID *string, _ page.Request) ([]user.User, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	if ownerID != nil {
		ids = append(ids, *ownerID)
	}
	var out []user.User
	for _, id := range append(ids, f.licensees[licenseID]...) {
		out = append(out, *f.users[id])
	}
	return out, int64(len(out)), nil
}

func (f fakeOwners) Bearer(_ context.Context, accountID, id string) (*user.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.users[id]
	if u == nil || u.AccountID != accountID {
		return nil, apperr.NotFoundResource("user", id)
	}
	c := *u
	return &c, nil
}

func (f fakeOwners) LicenseUserID(_ context.Context, accountID, licenseID, ref string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, l := f.users[ref], f.licenses[licenseID]
	if u == nil || l == nil || u.AccountID != accountID || !f.holds(u.ID, l) {
		return "", nil
	}
	return u.ID, nil
}

// fakeSealer seals reversibly, and refuses to open what it did not seal.
type fakeSealer struct{}

func (fakeSealer) Seal(p []byte) (string, error) { return "sealed:" + string(p), nil }

func (fakeSealer) Open(sealed string) ([]byte, error) {
	p, ok := strings.CutPrefix(sealed, "sealed:")
	if !ok {
		return nil, errors.New("not sealed")
	}
	return []byte(p), nil
}

// rsaKey is the account's RSA key, made once per test binary.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// ecdsaKey is the account's ECDSA key, made once per test binary.
var ecdsaKey = sync.OnceValue(func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

type fakeRSA struct{}

func (fakeRSA) ECDSAKey(context.Context, *account.Tenant) (*ecdsa.PrivateKey, error) {
	return ecdsaKey(), nil
}

func (fakeRSA) RSAKey(context.Context, *account.Tenant) (*rsa.PrivateKey, error) {
	return rsaKey(), nil
}

// world is a Service over the fakes, judging at clock, with two products,
// each with a policy and a license, and three users: licenseA's owner and
// licensee, and a stranger.
type world struct {
	db     *memDB
	tenant *account.Tenant
	svc    *Service
}

func newWorld(t *testing.T) *world {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	w := &world{
		db: &memDB{licenses: map[string]*License{}, policies: map[string]*policy.Policy{}, users: map[string]*user.User{}, licensees: map[string][]string{}, machines: map[string]Totals{}},
		tenant: &account.Tenant{
			Account: &account.Account{ID: acct, Slug: "acme"},
			Keys:    account.Keys{Signing: ed25519.NewKeyFromSeed(seed), Secret: []byte("account secret")},
		},
	}
	w.svc = NewService(fakeStore{w.db}, fakePolicies{w.db}, fakeOwners{w.db}, fakeSealer{}, fakeRSA{}, fakeTotals{w.db}, nil, nil, testenv.Unrecorded{})
	w.svc.now = func() time.Time { return clock }
	for _, p := range [][2]string{{policyA, productA}, {policyB, productB}, {policyT, productA}} {
		w.db.policies[p[0]] = &policy.Policy{
			ID: p[0], AccountID: acct, ProductID: p[1], Name: "Policy",
			MachineUniquenessStrategy: policy.UniquePerLicense, ComponentUniquenessStrategy: policy.UniquePerMachine,
			ExpirationStrategy: policy.RestrictAccess, ExpirationBasis: policy.FromCreation,
			RenewalBasis: policy.RenewFromExpiry, TransferStrategy: policy.KeepExpiry,
			AuthenticationStrategy: policy.AuthToken,
		}
	}
	for _, id := range []string{owner, licensee, stranger} {
		w.addUser(id)
	}
	w.addLicense(licenseA, policyA, keyA, s(owner))
	w.addLicense(licenseB, policyB, keyB, nil)
	w.db.licensees[licenseA] = []string{licensee}
	return w
}

func (w *world) addUser(id string) {
	w.db.users[id] = &user.User{ID: id, AccountID: acct, Email: id[len(id)-4:] + "@acme.test", Role: access.RoleUser}
}

func (w *world) addLicense(id, policyID, key string, ownerID *string) {
	w.db.licenses[id] = &License{
		ID: id, AccountID: acct, ProductID: w.db.policies[policyID].ProductID, PolicyID: policyID, OwnerID: ownerID,
		KeyDigest: Digest(w.tenant.Keys.Secret, key), KeySealed: "sealed:" + key, Metadata: map[string]any{},
		CreatedAt: clock.Add(-day), UpdatedAt: clock.Add(-day),
	}
}

// license is a stored license, to arrange a case or check what was written.
func (w *world) license(id string) *License { return w.db.licenses[id] }

// policy is a stored policy, to arrange a case.
func (w *world) policy(id string) *policy.Policy { return w.db.policies[id] }

func (w *world) ban(userID string) { w.db.users[userID].BannedAt = at(-day) }
