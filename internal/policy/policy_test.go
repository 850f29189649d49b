package policy

import (
	"context"
	"github.com/relkey/relkey/internal/testenv"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
)

// memStore keeps policies in memory and reads scopes as Store does.
type memStore struct {
	policies     map[string]*Policy
	licensed     map[string]bool     // policies that have licenses
	userPolicies map[string][]string // user → the policies of the licenses it holds
	saves        int
}

func (m *memStore) Create(_ context.Context, p *Policy) error {
	m.policies[p.ID] = p
	return nil
}

func (m *memStore) Save(_ context.Context, p *Policy) error {
	m.saves++
	m.policies[p.ID] = p
	return nil
}

func (m *memStore) inScope(p *Policy, sc access.Scope) bool {
	return sc.All || sc.ProductID != "" && p.ProductID == sc.ProductID || sc.LicenseID != "" && p.ID == sc.LicensePolicyID ||
		sc.UserID != "" && slices.Contains(m.userPolicies[sc.UserID], p.ID)
}

func (m *memStore) Find(_ context.Context, accountID, ref string, sc access.Scope) (*Policy, error) {
	p, ok := m.policies[ref]
	if !ok || p.AccountID != accountID || !m.inScope(p, sc) {
		return nil, apperr.NotFoundResource("policy", ref)
	}
	found := *p
	return &found, nil
}

func (m *memStore) List(_ context.Context, accountID string, sc access.Scope, productID string, _ page.Request) ([]Policy, int64, error) {
	var out []Policy
	for _, p := range m.policies {
		if p.AccountID == accountID && m.inScope(p, sc) && (productID == "" || p.ProductID == productID) {
			out = append(out, *p)
		}
	}
	slices.SortFunc(out, func(a, b Policy) int { return strings.Compare(a.ID, b.ID) })
	return out, int64(len(out)), nil
}

func (m *memStore) DeleteUnused(_ context.Context, p *Policy) (bool, error) {
	if m.licensed[p.ID] {
		return false, nil
	}
	delete(m.policies, p.ID)
	return true, nil
}

// memProducts resolves product refs (code or id) of the account; a product
// bearer sees only its own, "down" is an outage.
type memProducts map[string]string

var errDown = apperr.New(apperr.Unavailable, "SERVICE_UNAVAILABLE", "the database is down")

func (m memProducts) VisibleID(_ context.Context, who *access.Principal, _ *account.Tenant, ref string) (string, error) {
	if ref == "down" {
		return "", errDown
	}
	productID, ok := m[ref]
	if !ok || who.BearerType == access.BearerProduct && who.BearerID != productID {
		return "", apperr.NotFoundResource("product", ref)
	}
	return productID, nil
}

const acct = "acct"

// tenant is the account acct as requests work in it, protected or not.
func tenant(protected bool) *account.Tenant {
	return &account.Tenant{Account: &account.Account{ID: acct, Protected: protected}}
}

// The bearers of the tests: staff, a product, a user holding a license of
// pol-app and that license, and an admin token narrowed to policy.read.
var (
	admin    = access.NewPrincipal(acct, access.RoleAdmin, access.BearerUser, "admin", "t1", nil)
	readOnly = access.NewPrincipal(acct, access.RoleReadOnly, access.BearerUser, "reader", "t2", nil)
	product  = access.NewPrincipal(acct, access.RoleProduct, access.BearerProduct, "prod-app", "t3", nil)
	customer = access.NewPrincipal(acct, access.RoleUser, access.BearerUser, "u1", "t4", nil)
	licensee = func() *access.Principal {
		p := access.NewPrincipal(acct, access.RoleLicense, access.BearerLicense, "lic1", "", nil)
		p.PolicyID, p.ProductID = "pol-app", "prod-app"
		return p
	}()
	narrowed = access.NewPrincipal(acct, access.RoleAdmin, access.BearerUser, "admin", "t5", []string{"policy.read"})
)

// The errors of the sight and permission rules.
var (
	errAnonymous = access.ErrTokenMissing
	errDenied    = apperr.New(apperr.Forbidden, "ACCESS_DENIED", "")
	errNotFound  = apperr.New(apperr.NotFound, "NOT_FOUND", "")
)

func attrErr(code, attr string) *apperr.Error {
	return apperr.At(apperr.Unprocessable, code, "", apperr.Attr(attr))
}

// is reports whether err is want by kind, code and source (nil: no error).
func is(err error, want *apperr.Error) bool {
	if want == nil || err == nil {
		return err == nil && want == nil
	}
	e := apperr.As(err)
	return e.Kind == want.Kind && e.Code == want.Code && reflect.DeepEqual(e.Source, want.Source)
}

// newService is the policy rules over two products' policies, pol-app
// (which has licenses) and pol-other.
func newService() (*Service, *memStore) {
	one := int64(1)
	store := &memStore{
		policies: map[string]*Policy{
			"pol-app":   withDefaults(&Policy{ID: "pol-app", AccountID: acct, ProductID: "prod-app", Name: "App", MaxMachines: &one}),
			"pol-other": withDefaults(&Policy{ID: "pol-other", AccountID: acct, ProductID: "prod-other", Name: "Other", MaxMachines: &one}),
		},
		licensed:     map[string]bool{"pol-app": true},
		userPolicies: map[string][]string{"u1": {"pol-app"}},
	}
	return NewService(store, memProducts{"prod-app": "prod-app", "app": "prod-app", "prod-other": "prod-other"}, testenv.Unrecorded{}), store
}

func i64(n int64) *int64   { return &n }
func str(s string) *string { return &s }

func TestCreate(t *testing.T) {
	named := func(p Params) Params { p.Name = optional.Of("Pro"); return p }
	tests := []struct {
		name      string
		who       *access.Principal
		product   string
		protected bool
		p         Params
		want      *apperr.Error
		check     func(*Policy) bool
	}{
		{name: "anonymous", who: nil, product: "app", p: named(Params{}), want: errAnonymous},
		{name: "read-only", who: readOnly, product: "app", p: named(Params{}), want: errDenied},
		{name: "user", who: customer, product: "app", p: named(Params{}), want: errDenied},
		{name: "license", who: licensee, product: "app", p: named(Params{}), want: errDenied},
		{name: "no product", who: admin, p: named(Params{}), want: apperr.At(apperr.Unprocessable, "PRODUCT_NOT_FOUND", "", apperr.Rel("product"))},
		{name: "unknown product", who: admin, product: "nope", p: named(Params{}), want: apperr.At(apperr.Unprocessable, "PRODUCT_NOT_FOUND", "", apperr.Rel("product"))},
		{name: "another product's bearer", who: product, product: "prod-other", p: named(Params{}), want: apperr.At(apperr.Unprocessable, "PRODUCT_NOT_FOUND", "", apperr.Rel("product"))},
		{name: "products unavailable", who: admin, product: "down", p: named(Params{}), want: errDown},
		{name: "its own product's bearer", who: product, product: "app", p: named(Params{}), check: func(p *Policy) bool { return p.ProductID == "prod-app" }},
		{name: "no name", who: admin, product: "app", want: attrErr("NAME_MISSING", "name")},
		{name: "blank name", who: admin, product: "app", p: Params{Name: optional.Of("  ")}, want: attrErr("NAME_MISSING", "name")},
		{name: "long name", who: admin, product: "app", p: Params{Name: optional.Of(strings.Repeat("n", 256))}, want: attrErr("NAME_TOO_LONG", "name")},
		{name: "Keygen's defaults", who: admin, product: "app", p: named(Params{}), check: func(p *Policy) bool {
			return p.Name == "Pro" && *p.MaxMachines == 1 && !p.Floating && !p.Protected && p.Scheme == nil && p.Metadata != nil &&
				p.HeartbeatCullStrategy == DeactivateDead && p.HeartbeatResurrectionStrategy == NoRevive && p.HeartbeatBasis == HeartbeatFromFirstPing &&
				p.MachineUniquenessStrategy == UniquePerLicense && p.MachineMatchingStrategy == MatchAny &&
				p.ComponentUniquenessStrategy == UniquePerMachine && p.ComponentMatchingStrategy == MatchAny &&
				p.ExpirationStrategy == RestrictAccess && p.ExpirationBasis == FromCreation && p.RenewalBasis == RenewFromExpiry &&
				p.TransferStrategy == KeepExpiry && p.AuthenticationStrategy == AuthToken &&
				p.MachineLeasingStrategy == PerLicense && p.ProcessLeasingStrategy == PerMachine && p.OverageStrategy == NoOverage
		}},
		{name: "protected account", who: admin, product: "app", protected: true, p: named(Params{}), check: func(p *Policy) bool { return p.Protected }},
		{name: "unprotected policy of a protected account", who: admin, product: "app", protected: true, p: named(Params{Protected: optional.Of(false)}),
			check: func(p *Policy) bool { return !p.Protected }},
		{name: "floating has no machine limit", who: admin, product: "app", p: named(Params{Floating: optional.Of(true)}), check: func(p *Policy) bool { return p.MaxMachines == nil }},
		{name: "required heartbeat starts at creation", who: admin, product: "app", p: named(Params{RequireHeartbeat: optional.Of(true)}),
			check: func(p *Policy) bool { return p.HeartbeatBasis == HeartbeatFromCreation }},
		{name: "required heartbeat from first ping when told", who: admin, product: "app",
			p:     named(Params{RequireHeartbeat: optional.Of(true), HeartbeatBasis: optional.Of(HeartbeatFromFirstPing)}),
			check: func(p *Policy) bool { return p.HeartbeatBasis == HeartbeatFromFirstPing }},
		{name: "every strategy given", who: admin, product: "app", p: named(Params{
			Floating: optional.Of(true), MaxMachines: optional.Of(i64(4)),
			HeartbeatCullStrategy: optional.Of(KeepDead), HeartbeatResurrectionStrategy: optional.Of(AlwaysRevive),
			MachineUniquenessStrategy: optional.Of(UniquePerAccount), MachineMatchingStrategy: optional.Of(MatchAll),
			ComponentUniquenessStrategy: optional.Of(UniquePerProduct), ComponentMatchingStrategy: optional.Of(MatchMost),
			ExpirationStrategy: optional.Of(MaintainAccess), ExpirationBasis: optional.Of(FromFirstDownload), RenewalBasis: optional.Of(RenewFromNowIfExpired),
			TransferStrategy: optional.Of(ResetExpiry), AuthenticationStrategy: optional.Of(AuthMixed),
			MachineLeasingStrategy: optional.Of(PerUser), ProcessLeasingStrategy: optional.Of(PerUser), OverageStrategy: optional.Of(Allow125xOverage),
		}), check: func(p *Policy) bool {
			return p.HeartbeatCullStrategy == KeepDead && p.HeartbeatResurrectionStrategy == AlwaysRevive &&
				p.MachineUniquenessStrategy == UniquePerAccount && p.MachineMatchingStrategy == MatchAll &&
				p.ComponentUniquenessStrategy == UniquePerProduct && p.ComponentMatchingStrategy == MatchMost &&
				p.ExpirationStrategy == MaintainAccess && p.ExpirationBasis == FromFirstDownload && p.RenewalBasis == RenewFromNowIfExpired &&
				p.TransferStrategy == ResetExpiry && p.AuthenticationStrategy == AuthMixed &&
				p.MachineLeasingStrategy == PerUser && p.ProcessLeasingStrategy == PerUser && p.OverageStrategy == Allow125xOverage
		}},
		{name: "a revive window", who: admin, product: "app", p: named(Params{HeartbeatResurrectionStrategy: optional.Of("5_MINUTE_REVIVE")}),
			check: func(p *Policy) bool { return p.HeartbeatResurrectionStrategy == "5_MINUTE_REVIVE" }},
		{name: "lowercase strategy", who: admin, product: "app", p: named(Params{AuthenticationStrategy: optional.Of("license")}),
			want: attrErr("AUTHENTICATION_STRATEGY_NOT_ALLOWED", "authentication_strategy")},
		{name: "unknown overage", who: admin, product: "app", p: named(Params{OverageStrategy: optional.Of("ALLOW_3X_OVERAGE")}),
			want: attrErr("OVERAGE_STRATEGY_NOT_ALLOWED", "overage_strategy")},
		{name: "UNIQUE_PER_MACHINE is not for machines", who: admin, product: "app", p: named(Params{MachineUniquenessStrategy: optional.Of(UniquePerMachine)}),
			want: attrErr("MACHINE_UNIQUENESS_STRATEGY_NOT_ALLOWED", "machine_uniqueness_strategy")},
		{name: "PER_MACHINE is not for machine leasing", who: admin, product: "app", p: named(Params{MachineLeasingStrategy: optional.Of(PerMachine)}),
			want: attrErr("MACHINE_LEASING_STRATEGY_NOT_ALLOWED", "machine_leasing_strategy")},
		{name: "scheme", who: admin, product: "app", p: named(Params{Scheme: optional.Of(str(SchemeED25519))}), check: func(p *Policy) bool { return *p.Scheme == SchemeED25519 }},
		{name: "null scheme", who: admin, product: "app", p: named(Params{Scheme: optional.Of[*string](nil)}), check: func(p *Policy) bool { return p.Scheme == nil }},
		{name: "unsupported scheme", who: admin, product: "app", p: named(Params{Scheme: optional.Of(str("LEGACY_ENCRYPT"))}), want: attrErr("SCHEME_NOT_ALLOWED", "scheme")},
		{name: "short duration", who: admin, product: "app", p: named(Params{Duration: optional.Of(i64(86399))}), want: attrErr("DURATION_INVALID", "duration")},
		{name: "null duration", who: admin, product: "app", p: named(Params{Duration: optional.Of[*int64](nil)}), check: func(p *Policy) bool { return p.Duration == nil }},
		{name: "node-locked with two machines", who: admin, product: "app", p: named(Params{MaxMachines: optional.Of(i64(2))}), want: attrErr("MAX_MACHINES_INVALID", "max_machines")},
		{name: "floating with no machines", who: admin, product: "app", p: named(Params{Floating: optional.Of(true), MaxMachines: optional.Of(i64(0))}),
			want: attrErr("MAX_MACHINES_INVALID", "max_machines")},
		{name: "no processes", who: admin, product: "app", p: named(Params{MaxProcesses: optional.Of(i64(0))}), want: attrErr("MAX_PROCESSES_INVALID", "max_processes")},
		{name: "cores beyond 32 bits", who: admin, product: "app", p: named(Params{MaxCores: optional.Of(i64(1 << 31))}), want: attrErr("MAX_CORES_INVALID", "max_cores")},
		{name: "memory beyond 32 bits", who: admin, product: "app", p: named(Params{MaxMemory: optional.Of(i64(1 << 40))}), check: func(p *Policy) bool { return *p.MaxMemory == 1<<40 }},
		{name: "short heartbeat", who: admin, product: "app", p: named(Params{HeartbeatDuration: optional.Of(i64(59))}), want: attrErr("HEARTBEAT_DURATION_INVALID", "heartbeat_duration")},
		{name: "check-in without interval", who: admin, product: "app", p: named(Params{RequireCheckIn: optional.Of(true)}), want: attrErr("CHECK_IN_INTERVAL_MISSING", "check_in_interval")},
		{name: "check-in interval", who: admin, product: "app", p: named(Params{RequireCheckIn: optional.Of(true), CheckInInterval: optional.Of(str("week")), CheckInIntervalCount: optional.Of(i64(2))}),
			check: func(p *Policy) bool {
				return p.RequireCheckIn && *p.CheckInInterval == "week" && *p.CheckInIntervalCount == 2
			}},
		{name: "unknown check-in interval", who: admin, product: "app", p: named(Params{CheckInInterval: optional.Of(str("fortnight"))}), want: attrErr("CHECK_IN_INTERVAL_NOT_ALLOWED", "check_in_interval")},
		{name: "check-in count above a year", who: admin, product: "app", p: named(Params{CheckInIntervalCount: optional.Of(i64(366))}),
			want: attrErr("CHECK_IN_INTERVAL_COUNT_INVALID", "check_in_interval_count")},
		{name: "always revive culls", who: admin, product: "app", p: named(Params{HeartbeatResurrectionStrategy: optional.Of(AlwaysRevive)}),
			want: attrErr("HEARTBEAT_CULL_STRATEGY_NOT_ALLOWED", "heartbeat_cull_strategy")},
		{name: "fractional overage on a node-locked policy", who: admin, product: "app", p: named(Params{OverageStrategy: optional.Of(Allow15xOverage)}),
			want: attrErr("OVERAGE_STRATEGY_NOT_ALLOWED", "overage_strategy")},
		{name: "1.5x overage of an odd limit", who: admin, product: "app", p: named(Params{Floating: optional.Of(true), MaxMachines: optional.Of(i64(3)), OverageStrategy: optional.Of(Allow15xOverage)}),
			want: attrErr("OVERAGE_STRATEGY_NOT_ALLOWED", "overage_strategy")},
		{name: "2x overage of an odd limit", who: admin, product: "app", p: named(Params{Floating: optional.Of(true), MaxMachines: optional.Of(i64(3)), OverageStrategy: optional.Of(Allow2xOverage)}),
			check: func(p *Policy) bool { return p.OverageStrategy == Allow2xOverage }},
		{name: "null metadata", who: admin, product: "app", p: named(Params{Metadata: optional.Of[map[string]any](nil)}), check: func(p *Policy) bool { return p.Metadata != nil && len(p.Metadata) == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store := newService()
			pol, err := s.Create(context.Background(), tt.who, tenant(tt.protected), tt.product, tt.p)
			if !is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				if pol != nil || len(store.policies) != 2 {
					t.Fatalf("a failed create stored %+v", pol)
				}
				return
			}
			if stored := store.policies[pol.ID]; stored == nil || pol.AccountID != acct || !tt.check(stored) {
				t.Fatalf("stored %+v", stored)
			}
		})
	}
}

func TestUpdate(t *testing.T) {
	tests := []struct {
		name  string
		ref   string
		who   *access.Principal
		p     Params
		want  *apperr.Error
		check func(*Policy) bool
	}{
		{name: "anonymous", who: nil, ref: "pol-app", want: errAnonymous},
		{name: "missing", who: admin, ref: "nope", want: errNotFound},
		{name: "read-only", who: readOnly, ref: "pol-app", want: errDenied},
		{name: "its product's bearer", who: product, ref: "pol-app", p: Params{Name: optional.Of("Renamed")}, check: func(p *Policy) bool { return p.Name == "Renamed" }},
		{name: "another product's bearer", who: product, ref: "pol-other", want: errNotFound},
		{name: "a user sees its license's policy", who: customer, ref: "pol-app", want: errDenied},
		{name: "a user does not see others", who: customer, ref: "pol-other", want: errNotFound},
		{name: "a license sees its policy", who: licensee, ref: "pol-app", want: errDenied},
		{name: "a license does not see others", who: licensee, ref: "pol-other", want: errNotFound},
		{name: "a narrowed token", who: narrowed, ref: "pol-app", want: errDenied},
		{name: "scheme is fixed at creation", who: admin, ref: "pol-app", p: Params{Scheme: optional.Of(str(SchemeED25519))},
			want: apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "", apperr.Attr("scheme"))},
		{name: "absent attributes are kept", who: admin, ref: "pol-app", p: Params{Strict: optional.Of(true)},
			check: func(p *Policy) bool {
				return p.Strict && p.Name == "App" && *p.MaxMachines == 1 && p.ExpirationStrategy == RestrictAccess
			}},
		{name: "blank name", who: admin, ref: "pol-app", p: Params{Name: optional.Of("")}, want: attrErr("NAME_MISSING", "name")},
		{name: "going floating keeps the limit", who: admin, ref: "pol-app", p: Params{Floating: optional.Of(true)}, check: func(p *Policy) bool { return p.Floating && *p.MaxMachines == 1 }},
		{name: "rules span the stored attributes", who: admin, ref: "pol-app", p: Params{MaxMachines: optional.Of(i64(5))}, want: attrErr("MAX_MACHINES_INVALID", "max_machines")},
		{name: "unknown strategy", who: admin, ref: "pol-app", p: Params{TransferStrategy: optional.Of("KEEP")}, want: attrErr("TRANSFER_STRATEGY_NOT_ALLOWED", "transfer_strategy")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store := newService()
			pol, err := s.Update(context.Background(), tt.who, tenant(false), tt.ref, tt.p)
			if !is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				if store.saves != 0 {
					t.Fatalf("a failed update saved %+v", pol)
				}
				return
			}
			if store.saves != 1 || !tt.check(pol) || !tt.check(store.policies[tt.ref]) {
				t.Fatalf("saved %+v", store.policies[tt.ref])
			}
		})
	}
}

// TestSight checks who finds, sees and deletes which policy.
func TestSight(t *testing.T) {
	ctx := context.Background()
	type method func(s *Service, who *access.Principal, ref string) error
	var (
		find method = func(s *Service, who *access.Principal, ref string) error {
			_, err := s.Find(ctx, who, tenant(false), ref)
			return err
		}
		visible method = func(s *Service, who *access.Principal, ref string) error {
			_, err := s.Visible(ctx, who, tenant(false), ref)
			return err
		}
		del method = func(s *Service, who *access.Principal, ref string) error {
			return s.Delete(ctx, who, tenant(false), ref)
		}
	)
	inUse := apperr.At(apperr.Unprocessable, "POLICY_IN_USE", "", apperr.Record())
	tests := []struct {
		name   string
		method method
		ref    string
		who    *access.Principal
		want   *apperr.Error
		gone   bool
	}{
		{"find: admin", find, "pol-other", admin, nil, false},
		{"find: read-only", find, "pol-other", readOnly, nil, false},
		{"find: narrowed token", find, "pol-other", narrowed, nil, false},
		{"find: its product", find, "pol-app", product, nil, false},
		{"find: another product", find, "pol-other", product, errNotFound, false},
		{"find: a user without policy.read", find, "pol-app", customer, errDenied, false},
		{"find: a user, out of sight", find, "pol-other", customer, errNotFound, false},
		{"find: a license without policy.read", find, "pol-app", licensee, errDenied, false},
		{"find: a license, out of sight", find, "pol-other", licensee, errNotFound, false},
		{"find: anonymous", find, "pol-app", nil, errAnonymous, false},
		{"find: missing", find, "nope", admin, errNotFound, false},
		{"visible: a user", visible, "pol-app", customer, nil, false},
		{"visible: a license", visible, "pol-app", licensee, nil, false},
		{"visible: a license, out of sight", visible, "pol-other", licensee, errNotFound, false},
		{"visible: another product", visible, "pol-other", product, errNotFound, false},
		{"visible: anonymous", visible, "pol-app", nil, errAnonymous, false},
		{"delete: anonymous", del, "pol-other", nil, errAnonymous, false},
		{"delete: read-only", del, "pol-other", readOnly, errDenied, false},
		{"delete: narrowed token", del, "pol-other", narrowed, errDenied, false},
		{"delete: a user", del, "pol-app", customer, errDenied, false},
		{"delete: another product", del, "pol-other", product, errNotFound, false},
		{"delete: in use", del, "pol-app", admin, inUse, false},
		{"delete: its product, in use", del, "pol-app", product, inUse, false},
		{"delete: unused", del, "pol-other", admin, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store := newService()
			if err := tt.method(s, tt.who, tt.ref); !is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			kept := 2
			if tt.gone {
				kept = 1
			}
			if _, left := store.policies[tt.ref]; len(store.policies) != kept || tt.gone && left {
				t.Fatalf("policies left: %v", store.policies)
			}
		})
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		name    string
		who     *access.Principal
		product string
		want    *apperr.Error
		ids     string
	}{
		{name: "admin", who: admin, ids: "pol-app,pol-other"},
		{name: "admin, of a product", who: admin, product: "app", ids: "pol-app"},
		{name: "admin, of an unknown product", who: admin, product: "nope", ids: ""},
		{name: "a product", who: product, ids: "pol-app"},
		{name: "a product, of another product", who: product, product: "prod-other", ids: ""},
		{name: "products unavailable", who: admin, product: "down", want: errDown},
		{name: "a user", who: customer, want: errDenied},
		{name: "a license", who: licensee, want: errDenied},
		{name: "anonymous", who: nil, want: errAnonymous},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newService()
			items, total, err := s.List(context.Background(), tt.who, tenant(false), tt.product, page.Request{Limit: 10})
			if !is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var ids []string
			for _, p := range items {
				ids = append(ids, p.ID)
			}
			if got := strings.Join(ids, ","); got != tt.ids || total != int64(len(ids)) {
				t.Fatalf("listed %s (%d), want %s", got, total, tt.ids)
			}
		})
	}
}

func TestGetIgnoresSight(t *testing.T) {
	s, _ := newService()
	if pol, err := s.Get(context.Background(), acct, "pol-other"); err != nil || pol.ID != "pol-other" {
		t.Fatalf("get = %+v, %v", pol, err)
	}
	if _, err := s.Get(context.Background(), "another-account", "pol-other"); !is(err, errNotFound) {
		t.Fatalf("another account's policy: %v", err)
	}
}
