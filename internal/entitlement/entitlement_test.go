package entitlement

import (
	"context"
	"github.com/relkey/relkey/internal/testenv"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
)

const acct = "acct"

// tenant is the account acct as requests work in it.
var tenant = &account.Tenant{Account: &account.Account{ID: acct}}

// The seeded entitlements, and when everything was created: PRO, SUPPORT
// and BETA in that order, then PRO on pol1, SUPPORT on lic1 (of pol1),
// and BETA then PRO on rel1.
var (
	epoch                = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock                = epoch.Add(time.Hour + 1500*time.Microsecond)
	proID, supID, betaID = "0b6f1c36-0000-4000-8000-000000000001", "0b6f1c36-0000-4000-8000-000000000002", "0b6f1c36-0000-4000-8000-000000000003"
)

func at(minutes int) time.Time { return epoch.Add(time.Duration(minutes) * time.Minute) }

func seeded() (*Service, *memStore, *memTargets) {
	store := &memStore{
		entitlements: []Entitlement{
			{ID: proID, AccountID: acct, Name: "Pro", Code: "PRO", CreatedAt: at(0)},
			{ID: supID, AccountID: acct, Name: "Support", Code: "SUPPORT", CreatedAt: at(1)},
			{ID: betaID, AccountID: acct, Name: "Beta", Code: "BETA", CreatedAt: at(2)},
		},
		attached: map[string][]Attachment{
			key(PolicyTarget("pol1")):          {{ID: "pa1", AccountID: acct, OwnerID: "pol1", EntitlementID: proID, CreatedAt: at(3)}},
			key(LicenseTarget("lic1", "pol1")): {{ID: "la1", AccountID: acct, OwnerID: "lic1", EntitlementID: supID, CreatedAt: at(4)}},
			key(ReleaseTarget("rel1")): {
				{ID: "rc1", AccountID: acct, OwnerID: "rel1", EntitlementID: betaID, CreatedAt: at(5)},
				{ID: "rc2", AccountID: acct, OwnerID: "rel1", EntitlementID: proID, CreatedAt: at(6)},
			},
		},
		userLicenses: map[string]Target{"u1": LicenseTarget("lic1", "pol1")},
	}
	targets := &memTargets{}
	s := NewService(store, targets, testenv.Unrecorded{})
	s.now = func() time.Time { return clock }
	return s, store, targets
}

// as is a bearer of role: the product prod1, the license lic1 (of pol1
// and prod1), else the user u1 (who holds lic1); a token that carries
// permissions narrows the role's.
func as(role access.Role, permissions ...string) *access.Principal {
	bearers := map[access.Role][2]string{access.RoleProduct: {access.BearerProduct, "prod1"}, access.RoleLicense: {access.BearerLicense, "lic1"}}
	bearer, ok := bearers[role]
	if !ok {
		bearer = [2]string{access.BearerUser, "u1"}
	}
	if len(permissions) == 0 {
		permissions = nil
	}
	p := access.NewPrincipal(acct, role, bearer[0], bearer[1], "token", permissions)
	if role == access.RoleLicense {
		p.PolicyID, p.ProductID = "pol1", "prod1"
	}
	return p
}

var (
	admin, readOnly, product = as(access.RoleAdmin), as(access.RoleReadOnly), as(access.RoleProduct)
	customer, licensee       = as(access.RoleUser), as(access.RoleLicense)
	// admin tokens narrowed to one permission
	readsEntitlements, readsLicenses = as(access.RoleAdmin, "entitlement.read"), as(access.RoleAdmin, "license.read")
)

var (
	errAnonymous = access.ErrTokenMissing
	errDenied    = apperr.New(apperr.Forbidden, "ACCESS_DENIED", "")
	errNotFound  = apperr.New(apperr.NotFound, "NOT_FOUND", "")
	errBatch     = apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "", apperr.Record())
)

func itemErr(code string, i int) *apperr.Error {
	return apperr.At(apperr.Unprocessable, code, "", apperr.Record().Item(i))
}

// attachErr is an attach error, which points at
// /data/relationships/entitlement as in Keygen.
func attachErr(code string) *apperr.Error {
	return apperr.At(apperr.Unprocessable, code, "", apperr.Rel("entitlement"))
}

// matches reports whether err is want by kind, code and source; a nil
// want is no error.
func matches(err error, want *apperr.Error) bool {
	e := apperr.As(err)
	if err == nil || want == nil {
		return err == nil && want == nil
	}
	return e.Kind == want.Kind && e.Code == want.Code && reflect.DeepEqual(e.Source, want.Source)
}

// codesOf lists the codes of entitlements by id, in their order.
func (m *memStore) codesOf(ids ...string) string {
	var codes []string
	for _, id := range ids {
		if i := slices.IndexFunc(m.entitlements, func(e Entitlement) bool { return e.ID == id }); i >= 0 {
			codes = append(codes, m.entitlements[i].Code)
		}
	}
	return strings.Join(codes, ",")
}

// attachedCodes lists the codes attached to a target, oldest first.
func (m *memStore) attachedCodes(t Target) string {
	var ids []string
	for _, a := range m.attached[key(t)] {
		ids = append(ids, a.EntitlementID)
	}
	return m.codesOf(ids...)
}

func TestCreateAndUpdate(t *testing.T) {
	str := optional.Of[string]
	tests := []struct {
		name   string
		who    *access.Principal
		update string // the entitlement to update; create when empty
		p      Params
		want   *apperr.Error
		check  func(*Entitlement) bool
	}{
		{name: "create", who: admin, p: Params{Name: str(" Enterprise "), Code: str(" ENTERPRISE ")},
			check: func(e *Entitlement) bool {
				return e.Name == "Enterprise" && e.Code == "ENTERPRISE" && e.Metadata != nil
			}},
		{name: "create: null metadata", who: admin, p: Params{Name: str("E"), Code: str("E"), Metadata: optional.Of[map[string]any](nil)},
			check: func(e *Entitlement) bool { return e.Metadata != nil && len(e.Metadata) == 0 }},
		{name: "create: no name", who: admin, p: Params{Code: str("E")}, want: apperr.Attribute("name", "MISSING", "")},
		{name: "create: blank code", who: admin, p: Params{Name: str("E"), Code: str("  ")}, want: apperr.Attribute("code", "MISSING", "")},
		{name: "create: long name", who: admin, p: Params{Name: str(strings.Repeat("n", 256)), Code: str("E")}, want: apperr.Attribute("name", "TOO_LONG", "")},
		{name: "create: long code", who: admin, p: Params{Name: str("E"), Code: str(strings.Repeat("C", 256))}, want: apperr.Attribute("code", "TOO_LONG", "")},
		{name: "create: anonymous", who: nil, p: Params{Name: str("E"), Code: str("E")}, want: errAnonymous},
		{name: "create: read-only", who: readOnly, p: Params{Name: str("E"), Code: str("E")}, want: errDenied},
		{name: "create: a product", who: product, p: Params{Name: str("E"), Code: str("E")}, want: errDenied},
		{name: "create: a user", who: customer, p: Params{Name: str("E"), Code: str("E")}, want: errDenied},
		{name: "create: a license", who: licensee, p: Params{Name: str("E"), Code: str("E")}, want: errDenied},
		{name: "update by code keeps absent attributes", who: admin, update: "PRO", p: Params{Name: str("Professional")},
			check: func(e *Entitlement) bool { return e.Name == "Professional" && e.Code == "PRO" }},
		{name: "update: blank code", who: admin, update: "PRO", p: Params{Code: str("")}, want: apperr.Attribute("code", "MISSING", "")},
		{name: "update: anonymous", who: nil, update: "PRO", want: errAnonymous},
		{name: "update: missing", who: admin, update: "NOPE", want: errNotFound},
		{name: "update: read-only", who: readOnly, update: "PRO", want: errDenied},
		{name: "update: a license, held", who: licensee, update: "PRO", want: errDenied},
		{name: "update: a license, not held", who: licensee, update: "BETA", want: errNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store, _ := seeded()
			var e *Entitlement
			var err error
			if tt.update == "" {
				e, err = s.Create(context.Background(), tt.who, tenant, tt.p)
			} else {
				e, err = s.Update(context.Background(), tt.who, tenant, tt.update, tt.p)
			}
			if !matches(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			switch pro := store.entitlements[0]; {
			case tt.want != nil && (len(store.entitlements) != 3 || pro.Name != "Pro" || pro.Code != "PRO"):
				t.Fatalf("a failed change was stored: %+v", store.entitlements)
			case tt.want == nil && (!tt.check(e) || e.AccountID != acct):
				t.Fatalf("changed %+v", e)
			}
		})
	}
}

// TestSight checks who finds, lists and deletes which entitlement: staff
// and products every one, licenses and users those their licenses hold.
func TestSight(t *testing.T) {
	ctx := context.Background()
	type method func(s *Service, who *access.Principal, ref string) (string, error)
	var (
		find method = func(s *Service, who *access.Principal, ref string) (string, error) {
			e, err := s.Find(ctx, who, tenant, ref)
			if err != nil {
				return "", err
			}
			return e.Code, nil
		}
		list method = func(s *Service, who *access.Principal, _ string) (string, error) {
			items, _, err := s.List(ctx, who, tenant, page.Request{Limit: 10, Ascending: true})
			var codes []string
			for _, e := range items {
				codes = append(codes, e.Code)
			}
			return strings.Join(codes, ","), err
		}
		del method = func(s *Service, who *access.Principal, ref string) (string, error) {
			return "", s.Delete(ctx, who, tenant, ref)
		}
	)
	tests := []struct {
		name   string
		method method
		who    *access.Principal
		ref    string
		want   *apperr.Error
		got    string
		gone   bool
	}{
		{"find: admin, by id", find, admin, betaID, nil, "BETA", false},
		{"find: a product", find, product, "BETA", nil, "BETA", false},
		{"find: a license, through its policy", find, licensee, "PRO", nil, "PRO", false},
		{"find: a license, its own", find, licensee, supID, nil, "SUPPORT", false},
		{"find: a license, not held", find, licensee, "BETA", errNotFound, "", false},
		{"find: a user, held", find, customer, "SUPPORT", nil, "SUPPORT", false},
		{"find: a user, not held", find, customer, "BETA", errNotFound, "", false},
		{"find: a token without entitlement.read", find, readsLicenses, "PRO", errDenied, "", false},
		{"find: anonymous", find, nil, "PRO", errAnonymous, "", false},
		{"list: admin", list, admin, "", nil, "PRO,SUPPORT,BETA", false},
		{"list: a license", list, licensee, "", nil, "PRO,SUPPORT", false},
		{"list: a user", list, customer, "", nil, "PRO,SUPPORT", false},
		{"list: a token without entitlement.read", list, readsLicenses, "", errDenied, "", false},
		{"list: anonymous", list, nil, "", errAnonymous, "", false},
		{"delete: admin", del, admin, "BETA", nil, "", true},
		{"delete: read-only", del, readOnly, "BETA", errDenied, "", false},
		{"delete: a product", del, product, "BETA", errDenied, "", false},
		{"delete: a license, not held", del, licensee, "BETA", errNotFound, "", false},
		{"delete: anonymous", del, nil, "BETA", errAnonymous, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store, _ := seeded()
			got, err := tt.method(s, tt.who, tt.ref)
			if !matches(err, tt.want) || got != tt.got {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tt.got, tt.want)
			}
			if gone := len(store.entitlements) == 2; gone != tt.gone {
				t.Fatalf("entitlements left: %+v", store.entitlements)
			}
		})
	}
}

// TestAttachAndDetach attaches to and detaches from each kind of record.
func TestAttachAndDetach(t *testing.T) {
	tooMany := make([]string, 101)
	for i := range tooMany {
		tooMany[i] = proID
	}
	cli := "cli"
	narrowed := Ref{ID: "2.0.0", Product: "prod1", Package: &cli}
	tests := []struct {
		detach bool
		name   string
		who    *access.Principal
		on     Kind
		ref    Ref
		ids    []string
		want   *apperr.Error
		// the codes attached to the target afterwards
		target Target
		after  string
	}{
		{name: "to a policy", who: admin, on: OnPolicy, ref: Ref{ID: "pol1"}, ids: []string{supID, betaID},
			target: PolicyTarget("pol1"), after: "PRO,SUPPORT,BETA"},
		{name: "by its product", who: product, on: OnPolicy, ref: Ref{ID: "pol1"}, ids: []string{betaID}, target: PolicyTarget("pol1"), after: "PRO,BETA"},
		{name: "to a license", who: admin, on: OnLicense, ref: Ref{ID: "lic1"}, ids: []string{betaID}, target: LicenseTarget("lic1", "pol1"), after: "SUPPORT,BETA"},
		{name: "to a release", who: admin, on: OnRelease, ref: narrowed, ids: []string{supID}, target: ReleaseTarget("2.0.0"), after: "SUPPORT"},
		{name: "anonymous", who: nil, on: OnPolicy, ref: Ref{ID: "pol1"}, ids: []string{betaID}, want: errAnonymous, target: PolicyTarget("pol1"), after: "PRO"},
		{name: "out of sight", who: admin, on: OnPolicy, ref: Ref{ID: "hidden"}, ids: []string{betaID}, want: errNotFound, target: PolicyTarget("hidden")},
		{name: "out of sight before the batch is judged", who: admin, on: OnLicense, ref: Ref{ID: "hidden"}, want: errNotFound, target: LicenseTarget("hidden", "pol1")},
		{name: "read-only", who: readOnly, on: OnPolicy, ref: Ref{ID: "pol1"}, ids: []string{betaID}, want: errDenied, target: PolicyTarget("pol1"), after: "PRO"},
		{name: "a license to itself", who: licensee, on: OnLicense, ref: Ref{ID: "lic1"}, ids: []string{betaID}, want: errDenied, target: LicenseTarget("lic1", "pol1"), after: "SUPPORT"},
		{name: "a user to its license", who: customer, on: OnLicense, ref: Ref{ID: "lic1"}, ids: []string{betaID}, want: errDenied, target: LicenseTarget("lic1", "pol1"), after: "SUPPORT"},
		{name: "a token without release.constraints.attach", who: readsEntitlements, on: OnRelease, ref: Ref{ID: "rel1"}, ids: []string{supID}, want: errDenied,
			target: ReleaseTarget("rel1"), after: "BETA,PRO"},
		{name: "none", who: admin, on: OnPolicy, ref: Ref{ID: "pol1"}, ids: nil, want: errBatch, target: PolicyTarget("pol1"), after: "PRO"},
		{name: "101", who: admin, on: OnPolicy, ref: Ref{ID: "pol2"}, ids: tooMany, want: errBatch, target: PolicyTarget("pol2")},
		{name: "100", who: admin, on: OnPolicy, ref: Ref{ID: "pol2"}, ids: tooMany[:100], want: attachErr("ENTITLEMENT_TAKEN"), target: PolicyTarget("pol2")},
		{name: "unknown", who: admin, on: OnPolicy, ref: Ref{ID: "pol1"}, ids: []string{supID, "0b6f1c36-0000-4000-8000-00000000000f"}, want: attachErr("ENTITLEMENT_NOT_FOUND"),
			target: PolicyTarget("pol1"), after: "PRO"},
		{name: "not an id", who: admin, on: OnRelease, ref: Ref{ID: "rel1"}, ids: []string{"PRO"}, want: attachErr("ENTITLEMENT_NOT_FOUND"), target: ReleaseTarget("rel1"), after: "BETA,PRO"},
		{name: "attached already", who: admin, on: OnPolicy, ref: Ref{ID: "pol1"}, ids: []string{supID, proID}, want: attachErr("ENTITLEMENT_TAKEN"),
			target: PolicyTarget("pol1"), after: "PRO"},
		{name: "twice in one batch", who: admin, on: OnLicense, ref: Ref{ID: "lic1"}, ids: []string{betaID, betaID}, want: attachErr("ENTITLEMENT_TAKEN"),
			target: LicenseTarget("lic1", "pol1"), after: "SUPPORT"},
		{name: "a constraint already", who: admin, on: OnRelease, ref: Ref{ID: "rel1"}, ids: []string{betaID}, want: attachErr("ENTITLEMENT_TAKEN"), target: ReleaseTarget("rel1"), after: "BETA,PRO"},
		{name: "on the license's policy", who: admin, on: OnLicense, ref: Ref{ID: "lic1"}, ids: []string{betaID, proID}, want: attachErr("ENTITLEMENT_CONFLICT"),
			target: LicenseTarget("lic1", "pol1"), after: "SUPPORT"},
		{detach: true, name: "detach: by entitlement id", who: admin, on: OnRelease, ref: Ref{ID: "rel1"}, ids: []string{proID}, target: ReleaseTarget("rel1"), after: "BETA"},
		{detach: true, name: "detach: by attachment id", who: product, on: OnRelease, ref: Ref{ID: "rel1"}, ids: []string{"rc1", proID}, target: ReleaseTarget("rel1")},
		{detach: true, name: "detach: from a license", who: admin, on: OnLicense, ref: Ref{ID: "lic1"}, ids: []string{supID}, target: LicenseTarget("lic1", "pol1")},
		{detach: true, name: "detach: its policy's from a license", who: admin, on: OnLicense, ref: Ref{ID: "lic1"}, ids: []string{supID, proID}, want: apperr.At(apperr.Forbidden, "ACCESS_DENIED", "", apperr.Record().Item(1)),
			target: LicenseTarget("lic1", "pol1"), after: "SUPPORT"},
		{detach: true, name: "detach: not attached", who: admin, on: OnPolicy, ref: Ref{ID: "pol1"}, ids: []string{proID, betaID}, want: itemErr("ENTITLEMENT_NOT_FOUND", 1),
			target: PolicyTarget("pol1"), after: "PRO"},
		{detach: true, name: "detach: none", who: admin, on: OnPolicy, ref: Ref{ID: "pol1"}, want: errBatch, target: PolicyTarget("pol1"), after: "PRO"},
		{detach: true, name: "detach: 101", who: admin, on: OnPolicy, ref: Ref{ID: "pol1"}, ids: make([]string, 101), want: errBatch, target: PolicyTarget("pol1"), after: "PRO"},
		{detach: true, name: "detach: anonymous", who: nil, on: OnPolicy, ref: Ref{ID: "pol1"}, ids: []string{proID}, want: errAnonymous, target: PolicyTarget("pol1"), after: "PRO"},
		{detach: true, name: "detach: out of sight", who: admin, on: OnRelease, ref: Ref{ID: "hidden"}, ids: []string{proID}, want: errNotFound, target: ReleaseTarget("rel1"), after: "BETA,PRO"},
		{detach: true, name: "detach: read-only", who: readOnly, on: OnRelease, ref: Ref{ID: "rel1"}, ids: []string{proID}, want: errDenied, target: ReleaseTarget("rel1"), after: "BETA,PRO"},
		{detach: true, name: "detach: a license from itself", who: licensee, on: OnLicense, ref: Ref{ID: "lic1"}, ids: []string{supID}, want: errDenied,
			target: LicenseTarget("lic1", "pol1"), after: "SUPPORT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store, targets := seeded()
			var attachments []Attachment
			var err error
			if tt.detach {
				err = s.DetachFrom(context.Background(), tt.who, tenant, tt.on, tt.ref, tt.ids)
			} else {
				attachments, err = s.AttachTo(context.Background(), tt.who, tenant, tt.on, tt.ref, tt.ids)
			}
			if !matches(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if got := store.attachedCodes(tt.target); got != tt.after {
				t.Fatalf("attached %s, want %s", got, tt.after)
			}
			if tt.want != nil {
				return
			}
			for _, a := range attachments {
				if a.AccountID != acct || a.OwnerID != tt.target.ID || !a.CreatedAt.Equal(clock.Truncate(time.Millisecond)) || a.ID == "" {
					t.Fatalf("attachment %+v", a)
				}
			}
			if tt.on == OnRelease && !reflect.DeepEqual(targets.asked, []Ref{tt.ref}) {
				t.Fatalf("the release lookup got %+v, want %+v", targets.asked, tt.ref)
			}
		})
	}
}

// TestAttachNamesTheRequestsField checks that a target's Field and Code
// locate the errors, as release creation embeds its constraints.
func TestAttachNamesTheRequestsField(t *testing.T) {
	target := ReleaseTarget("rel1")
	target.Field, target.Code = apperr.Rel("constraints"), "CONSTRAINTS_"
	for _, tt := range []struct {
		ids  []string
		want *apperr.Error
	}{
		{[]string{supID, "nope"}, apperr.At(apperr.Unprocessable, "CONSTRAINTS_ENTITLEMENT_NOT_FOUND", "", apperr.Rel("constraints").Item(1))},
		{[]string{supID, betaID}, apperr.At(apperr.Unprocessable, "CONSTRAINTS_ENTITLEMENT_TAKEN", "", apperr.Rel("constraints").Item(1))},
		{[]string{supID}, nil},
	} {
		s, _, _ := seeded()
		if _, err := s.Attach(context.Background(), admin, tenant, "release.constraints.attach", target, tt.ids); !matches(err, tt.want) {
			t.Errorf("attach %v: %v, want %v", tt.ids, err, tt.want)
		}
	}
}

func TestAttached(t *testing.T) {
	all := page.Request{Limit: 10}
	tests := []struct {
		name  string
		who   *access.Principal
		on    Kind
		ref   Ref
		p     page.Request
		want  *apperr.Error
		codes string
		total int64
	}{
		{name: "a policy's", who: admin, on: OnPolicy, ref: Ref{ID: "pol1"}, p: all, codes: "PRO", total: 1},
		{name: "a license's own and its policy's, oldest first", who: admin, on: OnLicense, ref: Ref{ID: "lic1"}, p: all, codes: "PRO,SUPPORT", total: 2},
		{name: "a release's", who: admin, on: OnRelease, ref: Ref{ID: "rel1", Product: "prod1"}, p: all, codes: "PRO,BETA", total: 2},
		{name: "oldest first whatever the order asked", who: admin, on: OnRelease, ref: Ref{ID: "rel1"}, p: page.Request{Limit: 10, Ascending: false}, codes: "PRO,BETA", total: 2},
		{name: "a page", who: admin, on: OnLicense, ref: Ref{ID: "lic1"}, p: page.Request{Limit: 1, Offset: 1, Count: true}, codes: "SUPPORT", total: 2},
		{name: "a license its own", who: licensee, on: OnLicense, ref: Ref{ID: "lic1"}, p: all, codes: "PRO,SUPPORT", total: 2},
		{name: "read-only", who: readOnly, on: OnPolicy, ref: Ref{ID: "pol1"}, p: all, codes: "PRO", total: 1},
		{name: "anonymous", who: nil, on: OnPolicy, ref: Ref{ID: "pol1"}, p: all, want: errAnonymous},
		{name: "out of sight", who: admin, on: OnLicense, ref: Ref{ID: "hidden"}, p: all, want: errNotFound},
		{name: "out of sight without entitlement.read", who: readsLicenses, on: OnRelease, ref: Ref{ID: "hidden"}, p: all, want: errNotFound},
		{name: "without entitlement.read", who: readsLicenses, on: OnRelease, ref: Ref{ID: "rel1"}, p: all, want: errDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, store, _ := seeded()
			items, total, err := s.Attached(context.Background(), tt.who, tenant, tt.on, tt.ref, tt.p)
			if !matches(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var ids []string
			for _, e := range items {
				ids = append(ids, e.ID)
			}
			if got := store.codesOf(ids...); got != tt.codes || total != tt.total {
				t.Fatalf("listed %s of %d, want %s of %d", got, total, tt.codes, tt.total)
			}
		})
	}
}

func TestConstraints(t *testing.T) {
	pkg := ""
	tests := []struct {
		name  string
		who   *access.Principal
		ref   Ref
		p     page.Request
		want  *apperr.Error
		ids   string
		total int64
	}{
		{name: "oldest first", who: admin, ref: Ref{ID: "rel1"}, p: page.Request{Limit: 10}, ids: "rc1,rc2", total: 2},
		{name: "a page", who: product, ref: Ref{ID: "rel1"}, p: page.Request{Limit: 1, Offset: 1, Ascending: true, Count: true}, ids: "rc2", total: 2},
		{name: "narrowed to a product and no package", who: licensee, ref: Ref{ID: "1.0.0", Product: "prod1", Package: &pkg}, p: page.Request{Limit: 10}},
		{name: "anonymous", who: nil, ref: Ref{ID: "rel1"}, want: errAnonymous},
		{name: "out of sight", who: admin, ref: Ref{ID: "hidden"}, want: errNotFound},
		{name: "without constraint.read", who: readsEntitlements, ref: Ref{ID: "rel1"}, want: errDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, targets := seeded()
			items, total, err := s.Constraints(context.Background(), tt.who, tenant, tt.ref, tt.p)
			if !matches(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var ids []string
			for _, a := range items {
				ids = append(ids, a.ID)
			}
			if got := strings.Join(ids, ","); got != tt.ids || total != tt.total {
				t.Fatalf("listed %s of %d, want %s of %d", got, total, tt.ids, tt.total)
			}
			if tt.who != nil && !reflect.DeepEqual(targets.asked, []Ref{tt.ref}) {
				t.Fatalf("the release lookup got %+v, want %+v", targets.asked, tt.ref)
			}
		})
	}
}

func TestHeldByLicenses(t *testing.T) {
	s, _, _ := seeded()
	ctx := context.Background()
	held, err := s.Of(ctx, acct, "lic1", "pol1")
	if err != nil || len(held) != 2 || held[0].Code != "PRO" || held[1].Code != "SUPPORT" {
		t.Fatalf("of = %+v, %v", held, err)
	}
	for _, tt := range []struct {
		codes []string
		want  bool
	}{
		{[]string{"PRO", "SUPPORT"}, true},
		{[]string{"SUPPORT"}, true},
		{[]string{"PRO", "BETA"}, false},
	} {
		if got, err := s.HasCodes(ctx, acct, "lic1", "pol1", tt.codes); err != nil || got != tt.want {
			t.Errorf("has %v = %v, %v; want %v", tt.codes, got, err, tt.want)
		}
	}
}
