package checkout

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/user"
)

// fakeLicenses sees the licenses of byRef and records check-outs.
type fakeLicenses struct {
	byRef      map[string]*license.License
	policy     *policy.Policy
	checkedOut []string
	failCheck  error // what CheckedOut answers
}

func (f *fakeLicenses) Visible(_ context.Context, _ *access.Principal, _ *account.Tenant, ref string) (*license.License, *policy.Policy, error) {
	if l, ok := f.byRef[ref]; ok {
		return l, f.policy, nil
	}
	return nil, nil, apperr.NotFoundResource("license", ref)
}

func (f *fakeLicenses) CheckedOut(_ context.Context, _ *access.Principal, l *license.License) error {
	f.checkedOut = append(f.checkedOut, l.ID)
	return f.failCheck
}

// fakeMachines sees the machines of byRef, each with components.
type fakeMachines struct {
	byRef        map[string]*machine.Machine
	components   []machine.Component
	componentsOf []string
}

func (f *fakeMachines) Visible(_ context.Context, _ *access.Principal, _ *account.Tenant, ref string) (*machine.Machine, error) {
	if m, ok := f.byRef[ref]; ok {
		return m, nil
	}
	return nil, apperr.NotFoundResource("machine", ref)
}

func (f *fakeMachines) Components(_ context.Context, _ *access.Principal, _ *account.Tenant, machineRef string) ([]machine.Component, error) {
	f.componentsOf = append(f.componentsOf, machineRef)
	return f.components, nil
}

func (f *fakeMachines) CheckedOut(context.Context, *access.Principal, *machine.Machine, *policy.Policy) error {
	return nil
}

// fakeRelated answers every lookup and records it as "what:args"; err
// fails the lookups named in failing.
type fakeRelated struct {
	calls   []string
	failing string
	err     error
}

func (f *fakeRelated) record(call string) error {
	f.calls = append(f.calls, call)
	if f.failing != "" && strings.HasPrefix(call, f.failing) {
		return f.err
	}
	return nil
}

func (f *fakeRelated) Product(_ context.Context, accountID, id string) (*product.Product, error) {
	return &product.Product{ID: id, AccountID: accountID}, f.record("product:" + accountID + "/" + id)
}

func (f *fakeRelated) Owner(_ context.Context, accountID, id string) (*user.User, error) {
	return &user.User{ID: id, AccountID: accountID}, f.record("owner:" + accountID + "/" + id)
}

func (f *fakeRelated) Entitlements(_ context.Context, accountID, licenseID, policyID string) ([]entitlement.Entitlement, error) {
	ents := []entitlement.Entitlement{{ID: "ent1", AccountID: accountID, Code: "PRO"}}
	return ents, f.record("entitlements:" + accountID + "/" + licenseID + "/" + policyID)
}

var (
	clock  = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))
	issued = time.Date(2024, 5, 6, 5, 8, 9, 123000000, time.UTC) // clock in UTC, to the millisecond
	tenant = &account.Tenant{Account: &account.Account{ID: "acct"}}
)

type fixture struct {
	svc      *Service
	licenses *fakeLicenses
	machines *fakeMachines
	related  *fakeRelated
}

// newFixture serves license lic1 (owned by u9 unless ownerless) and
// machine m1 of it.
func newFixture(ownerless bool) *fixture {
	owner := new("u9")
	if ownerless {
		owner = nil
	}
	lic := &license.License{ID: "lic1", AccountID: "acct", ProductID: "prod1", PolicyID: "pol1", OwnerID: owner, Key: "KEY-123"}
	f := &fixture{
		licenses: &fakeLicenses{byRef: map[string]*license.License{"lic1": lic}, policy: &policy.Policy{ID: "pol1"}},
		machines: &fakeMachines{
			byRef:      map[string]*machine.Machine{"m1": {ID: "m1", AccountID: "acct", LicenseID: "lic1", Fingerprint: "FP-9"}},
			components: []machine.Component{{ID: "c1", MachineID: "m1", Fingerprint: "cpu"}},
		},
		related: &fakeRelated{},
	}
	f.svc = NewService(f.licenses, f.machines, f.related)
	f.svc.now = func() time.Time { return clock }
	return f
}

// subject is the fixture's license or machine.
func subject(kind Kind) string { return map[Kind]string{License: "lic1", Machine: "m1"}[kind] }

func (f *fixture) checkOut(kind Kind, who *access.Principal, ref string, req Request) (*File, error) {
	if kind == Machine {
		return f.svc.CheckOutMachine(context.Background(), who, tenant, ref, req)
	}
	return f.svc.CheckOutLicense(context.Background(), who, tenant, ref, req)
}

var (
	admin    = access.NewPrincipal("acct", access.RoleAdmin, access.BearerUser, "u1", "t1", nil)
	readOnly = access.NewPrincipal("acct", access.RoleReadOnly, access.BearerUser, "u2", "t2", nil)
	// A license token narrowed to check out machines but not itself.
	machinesOnly = access.NewPrincipal("acct", access.RoleLicense, access.BearerLicense, "lic1", "t3", []string{"machine.check-out", "machine.read"})
)

// wantErr checks an error's kind and code, and its parameter when given.
func wantErr(t *testing.T, err error, kind apperr.Kind, code, parameter string) {
	t.Helper()
	if e := apperr.As(err); err == nil || e.Kind != kind || e.Code != code || parameter != "" && (e.Source == nil || e.Source.Parameter != parameter) {
		t.Fatalf("err = %v, want kind %d %s at parameter %q", err, kind, code, parameter)
	}
}

func TestCheckOutRefusals(t *testing.T) {
	tests := []struct {
		name       string
		kind       Kind
		who        *access.Principal
		ref        string
		errKind    apperr.Kind
		code, text string
	}{
		{"license, anonymous", License, nil, "lic1", apperr.Unauthenticated, "TOKEN_MISSING", ""},
		{"license, out of sight", License, admin, "other", apperr.NotFound, "NOT_FOUND", "license 'other'"},
		{"license, read-only lacks license.check-out", License, readOnly, "lic1", apperr.Forbidden, "ACCESS_DENIED", "license.check-out"},
		{"license, token narrowed to machines", License, machinesOnly, "lic1", apperr.Forbidden, "ACCESS_DENIED", "license.check-out"},
		{"machine, anonymous", Machine, nil, "m1", apperr.Unauthenticated, "TOKEN_MISSING", ""},
		{"machine, out of sight", Machine, admin, "other", apperr.NotFound, "NOT_FOUND", "machine 'other'"},
		{"machine, read-only lacks machine.check-out", Machine, readOnly, "m1", apperr.Forbidden, "ACCESS_DENIED", "machine.check-out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(false)
			file, err := f.checkOut(tt.kind, tt.who, tt.ref, Request{})
			wantErr(t, err, tt.errKind, tt.code, "")
			if file != nil || !strings.Contains(apperr.As(err).Detail, tt.text) {
				t.Errorf("file = %v, detail %q, want none and a detail naming %q", file, apperr.As(err).Detail, tt.text)
			}
			if len(f.licenses.checkedOut)+len(f.related.calls)+len(f.machines.componentsOf) != 0 {
				t.Errorf("a refused check-out recorded %v, loaded %v and components of %v", f.licenses.checkedOut, f.related.calls, f.machines.componentsOf)
			}
		})
	}
	t.Run("machine whose license is out of sight", func(t *testing.T) {
		f := newFixture(false)
		f.machines.byRef["m1"].LicenseID = "gone"
		_, err := f.checkOut(Machine, machinesOnly, "m1", Request{})
		wantErr(t, err, apperr.NotFound, "NOT_FOUND", "")
	})
}

func TestFileOptions(t *testing.T) {
	ttl := func(v int64) optional.Value[*int64] { return optional.Of(&v) }
	includes := func(v ...string) optional.Value[[]string] { return optional.Of(v) }
	tests := []struct {
		name     string
		kind     Kind
		req      Request
		ttl      *int64   // want, nil for no expiry
		includes []string // want
		code     string   // want error, at parameter
		param    string
	}{
		{name: "defaults", kind: License, ttl: new(int64(DefaultTTL)), includes: []string{}},
		{name: "machine defaults", kind: Machine, ttl: new(int64(2629746)), includes: []string{}},
		{name: "ttl null never expires", kind: License, req: Request{TTL: optional.Of[*int64](nil)}, includes: []string{}},
		{name: "ttl at the minimum", kind: License, req: Request{TTL: ttl(3600)}, ttl: new(int64(3600)), includes: []string{}},
		{name: "ttl a year", kind: Machine, req: Request{TTL: ttl(31556952)}, ttl: new(int64(31556952)), includes: []string{}},
		{name: "ttl under an hour", kind: License, req: Request{TTL: ttl(3599)}, code: "CHECKOUT_TTL_INVALID", param: "ttl"},
		{name: "ttl zero", kind: Machine, req: Request{TTL: ttl(0)}, code: "CHECKOUT_TTL_INVALID", param: "ttl"},
		{name: "ttl negative", kind: License, req: Request{TTL: ttl(-7200)}, code: "CHECKOUT_TTL_INVALID", param: "ttl"},
		{name: "every license include", kind: License, req: Request{Include: includes("entitlements", "product", "policy", "owner")},
			ttl: new(int64(DefaultTTL)), includes: []string{"entitlements", "product", "policy", "owner"}},
		{name: "blank includes skipped, others trimmed", kind: License, req: Request{Include: includes("", " product ", "   ")},
			ttl: new(int64(DefaultTTL)), includes: []string{"product"}},
		{name: "include null", kind: License, req: Request{Include: optional.Of[[]string](nil)}, ttl: new(int64(DefaultTTL)), includes: []string{}},
		{name: "unknown license include", kind: License, req: Request{Include: includes("product", "machines")}, code: "CHECKOUT_INCLUDE_INVALID", param: "include"},
		{name: "machine include in a license file", kind: License, req: Request{Include: includes("license.product")}, code: "CHECKOUT_INCLUDE_INVALID", param: "include"},
		{name: "license include in a machine file", kind: Machine, req: Request{Include: includes("product")}, code: "CHECKOUT_INCLUDE_INVALID", param: "include"},
		{name: "includes are case sensitive", kind: License, req: Request{Include: includes("Product")}, code: "CHECKOUT_INCLUDE_INVALID", param: "include"},
		{name: "bad ttl reported before bad include", kind: License, req: Request{TTL: ttl(1), Include: includes("nope")}, code: "CHECKOUT_TTL_INVALID", param: "ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(false)
			file, err := f.checkOut(tt.kind, admin, subject(tt.kind), tt.req)
			if tt.code != "" {
				wantErr(t, err, apperr.Invalid, tt.code, tt.param)
				if len(f.licenses.checkedOut) != 0 {
					t.Errorf("an invalid request recorded a check-out of %v", f.licenses.checkedOut)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if file.Kind != tt.kind || !file.Issued.Equal(issued) || file.Issued.Location() != time.UTC {
				t.Errorf("kind %s issued %v, want %s issued %v (UTC, to the millisecond)", file.Kind, file.Issued, tt.kind, issued)
			}
			switch {
			case tt.ttl == nil && (file.TTL != nil || file.Expiry != nil):
				t.Errorf("ttl %v expiry %v, want neither", file.TTL, file.Expiry)
			case tt.ttl != nil && (file.TTL == nil || *file.TTL != *tt.ttl || file.Expiry == nil || !file.Expiry.Equal(issued.Add(time.Duration(*tt.ttl)*time.Second))):
				t.Errorf("ttl %v expiry %v, want %d and issued + ttl", file.TTL, file.Expiry, *tt.ttl)
			}
			if !slices.Equal(file.Includes, tt.includes) || file.Includes == nil {
				t.Errorf("includes %#v, want %#v", file.Includes, tt.includes)
			}
		})
	}
}

func TestFileAlgorithm(t *testing.T) {
	rsaPSS, jwt := policy.SchemeRSAPSSSignV2, policy.SchemeJWTRS256
	tests := []struct {
		encrypt   bool
		algorithm string
		scheme    *string
		wantEnc   bool
		signing   string
		err       string // the detail of CHECKOUT_ALGORITHM_INVALID
	}{
		{false, "base64+ed25519", nil, false, "ed25519", ""},
		{false, "aes-256-gcm+ed25519", nil, true, "ed25519", ""}, // the algorithm decides, as Keygen's
		{true, "base64+rsa-sha256", nil, false, "rsa-sha256", ""},
		{false, "aes-256-gcm+rsa-pss-sha256", nil, true, "rsa-pss-sha256", ""},
		{false, "base64+ecdsa-p256", nil, false, "ecdsa-p256", ""},
		{false, "", &rsaPSS, false, "rsa-pss-sha256", ""}, // empty: the default
		{true, "", &jwt, true, "rsa-sha256", ""},
		{false, "foo+ed25519", nil, false, "", "invalid encoding algorithm"},
		{false, "base64+foo", nil, false, "", "invalid signing algorithm"},
		{false, "base64", nil, false, "", "invalid signing algorithm"},
		{false, "ed25519", nil, false, "", "invalid encoding algorithm"},
		{false, "BASE64+ED25519", nil, false, "", "invalid encoding algorithm"},
	}
	for _, tt := range tests {
		for _, kind := range []Kind{License, Machine} {
			f := newFixture(false)
			f.licenses.policy.Scheme = tt.scheme
			file, err := f.checkOut(kind, admin, subject(kind), Request{Encrypt: optional.Of(tt.encrypt), Algorithm: optional.Of(tt.algorithm)})
			if tt.err != "" {
				wantErr(t, err, apperr.Invalid, "CHECKOUT_ALGORITHM_INVALID", "algorithm")
				if err != nil && !strings.Contains(err.Error(), tt.err) {
					t.Errorf("%q: %v, want %q", tt.algorithm, err, tt.err)
				}
				continue
			}
			if err != nil || file.Encrypt != tt.wantEnc || file.Signing != tt.signing {
				t.Errorf("%s file, encrypt %v, algorithm %q: file %+v, %v", kind, tt.encrypt, tt.algorithm, file, err)
			}
		}
	}
	// Without an algorithm, either encryption is accepted, signed by the
	// policy's scheme (Ed25519 without one).
	for _, encrypt := range []bool{false, true} {
		if file, err := newFixture(false).checkOut(License, admin, "lic1", Request{Encrypt: optional.Of(encrypt)}); err != nil || file.Encrypt != encrypt || file.Signing != "ed25519" {
			t.Errorf("encrypt %v without an algorithm: %+v, %v", encrypt, file, err)
		}
	}
}

// loaded summarises what a file carries of its related records.
func loaded(file *File) []string {
	var out []string
	if file.Product != nil {
		out = append(out, "product:"+file.Product.ID)
	}
	if file.Owner != nil {
		out = append(out, "owner:"+file.Owner.ID)
	}
	for _, e := range file.Entitlements {
		out = append(out, "entitlement:"+e.Code)
	}
	for _, c := range file.Components {
		out = append(out, "component:"+c.ID)
	}
	return out
}

type includeCase struct {
	name      string
	kind      Kind
	ownerless bool
	include   []string
	calls     []string // to Related, in order
	loaded    []string
}

// includeCases are the license file's cases, each again as a machine
// file including the same of its license ("license."), and the machine
// file's own.
func includeCases() []includeCase {
	cases := []includeCase{
		{name: "nothing"},
		{name: "product", include: []string{"product"}, calls: []string{"product:acct/prod1"}, loaded: []string{"product:prod1"}},
		{name: "owner", include: []string{"owner"}, calls: []string{"owner:acct/u9"}, loaded: []string{"owner:u9"}},
		{name: "no owner to load", ownerless: true, include: []string{"owner"}},
		{name: "entitlements", include: []string{"entitlements"}, calls: []string{"entitlements:acct/lic1/pol1"}, loaded: []string{"entitlement:PRO"}},
		{name: "policy, the license's, loaded by nobody", include: []string{"policy"}},
		{name: "all", include: []string{"owner", "entitlements", "product", "policy"},
			calls:  []string{"owner:acct/u9", "entitlements:acct/lic1/pol1", "product:acct/prod1"},
			loaded: []string{"product:prod1", "owner:u9", "entitlement:PRO"}},
	}
	var out []includeCase
	for _, c := range cases {
		c.kind, c.name = License, "license: "+c.name
		m := c
		m.kind, m.name, m.include = Machine, "machine, of its "+c.name, nil
		for _, inc := range c.include {
			m.include = append(m.include, "license."+inc)
		}
		out = append(out, c, m)
	}
	return append(out,
		includeCase{name: "machine: license alone", kind: Machine, include: []string{"license"}},
		includeCase{name: "machine: components", kind: Machine, include: []string{"components"}, loaded: []string{"component:c1"}},
		includeCase{name: "machine: all", kind: Machine, include: slices.Clone(MachineIncludes),
			calls:  []string{"entitlements:acct/lic1/pol1", "product:acct/prod1", "owner:acct/u9"},
			loaded: []string{"product:prod1", "owner:u9", "entitlement:PRO", "component:c1"}},
	)
}

func TestCheckOutLoadsIncludes(t *testing.T) {
	for _, tt := range includeCases() {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(tt.ownerless)
			file, err := f.checkOut(tt.kind, admin, subject(tt.kind), Request{Include: optional.Of(tt.include)})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.related.calls, tt.calls) {
				t.Errorf("related lookups %v, want %v", f.related.calls, tt.calls)
			}
			if got := loaded(file); !slices.Equal(got, tt.loaded) {
				t.Errorf("file carries %v, want %v", got, tt.loaded)
			}
			if wantComponents := slices.Contains(tt.include, "components"); wantComponents != (len(f.machines.componentsOf) == 1) {
				t.Errorf("components looked up for %v", f.machines.componentsOf)
			}
			if !slices.Equal(file.Includes, append([]string{}, tt.include...)) || file.License.ID != "lic1" || file.Policy.ID != "pol1" {
				t.Errorf("file of license %s policy %s including %v, want lic1 and pol1 including %v", file.License.ID, file.Policy.ID, file.Includes, tt.include)
			}
		})
	}
}

func TestCheckOutSubjectAndSecret(t *testing.T) {
	f := newFixture(false)
	file, err := f.checkOut(License, admin, "lic1", Request{Encrypt: optional.Of(true)})
	if err != nil {
		t.Fatal(err)
	}
	if file.Secret != "KEY-123" || file.Machine != nil || !file.Encrypt || !slices.Equal(f.licenses.checkedOut, []string{"lic1"}) {
		t.Errorf("license file: secret %q machine %v encrypt %v, checked out %v; want the key, no machine, encrypted, lic1 once",
			file.Secret, file.Machine, file.Encrypt, f.licenses.checkedOut)
	}

	f = newFixture(false)
	file, err = f.checkOut(Machine, machinesOnly, "m1", Request{})
	if err != nil {
		t.Fatal(err)
	}
	if file.Secret != "KEY-123FP-9" || file.Machine == nil || file.Machine.ID != "m1" || file.License.ID != "lic1" || file.Encrypt {
		t.Errorf("machine file: secret %q machine %v license %s encrypt %v; want key+fingerprint, m1, lic1, unencrypted",
			file.Secret, file.Machine, file.License.ID, file.Encrypt)
	}
}

func TestCheckOutRelatedErrorsPassThrough(t *testing.T) {
	boom := errors.New("database down")
	for _, tt := range []struct {
		kind    Kind
		include string
	}{{License, "product"}, {License, "owner"}, {License, "entitlements"}, {Machine, "license.product"}, {Machine, "license.entitlements"}} {
		f := newFixture(false)
		f.related.failing, f.related.err = strings.TrimPrefix(tt.include, "license."), boom
		if file, err := f.checkOut(tt.kind, admin, subject(tt.kind), Request{Include: optional.Of([]string{tt.include})}); !errors.Is(err, boom) || file != nil || len(f.licenses.checkedOut) != 0 {
			t.Errorf("%s file including %s: %v, %v, checked out %v; want the lookup's error, no file, nothing recorded", tt.kind, tt.include, file, err, f.licenses.checkedOut)
		}
	}
	f := newFixture(false)
	f.licenses.failCheck = boom
	if file, err := f.checkOut(License, admin, "lic1", Request{}); !errors.Is(err, boom) || file != nil {
		t.Errorf("recording the check-out failed: %v, %v; want its error and no file", file, err)
	}
}
