package release

import (
	"context"
	"errors"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/testenv"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/catalog"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
)

// clock is the injected now: not UTC and finer than a millisecond, so that
// what the rules store of it shows how they normalize it.
var clock = time.Date(2024, 5, 6, 14, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))

const day = 24 * time.Hour

func str(s string) *string { return &s }

// licensed is a license bearer of lic1 (prod1's, entitled to e1) as mod
// changes it.
func licensed(mod func(*access.Principal)) *access.Principal {
	p := access.NewPrincipal("acct", access.RoleLicense, access.BearerLicense, "lic1", "", nil)
	p.ProductID, p.PolicyID = "prod1", "pol1"
	mod(p)
	return p
}

// Principals of account acct, and one of another account.
var (
	admin       = access.NewPrincipal("acct", access.RoleAdmin, access.BearerUser, "u-admin", "t1", nil)
	readOnly    = access.NewPrincipal("acct", access.RoleReadOnly, access.BearerUser, "u-ro", "t2", nil)
	prod1Bearer = access.NewPrincipal("acct", access.RoleProduct, access.BearerProduct, "prod1", "t3", nil)
	prod2Bearer = access.NewPrincipal("acct", access.RoleProduct, access.BearerProduct, "prod2", "t4", nil)
	member      = access.NewPrincipal("acct", access.RoleUser, access.BearerUser, "u-user", "t5", nil) // holds lic1
	lonely      = access.NewPrincipal("acct", access.RoleUser, access.BearerUser, "u-sus", "t6", nil)  // holds only a suspended license
	noRead      = access.NewPrincipal("acct", access.RoleUser, access.BearerUser, "u-user", "t7", []string{"release.download"})
	noAttach    = access.NewPrincipal("acct", access.RoleAdmin, access.BearerUser, "u-admin", "t8", []string{"release.create"})
	stranger    = access.NewPrincipal("other", access.RoleAdmin, access.BearerUser, "u-other", "t9", nil)
	lic         = licensed(func(*access.Principal) {})
	licSusp     = licensed(func(p *access.Principal) { p.LicenseSuspended = true })
	licBanned   = licensed(func(p *access.Principal) { p.LicenseSuspended, p.LicenseBanned = true, true })
)

func acct() *account.Tenant { return &account.Tenant{Account: &account.Account{ID: "acct"}} }

// rel is a stored release, its semver columns as Create fills them.
func rel(id, accountID, productID, channel, version, status string, age time.Duration) *Release {
	v, sv, err := ParseVersion(version, channel)
	if err != nil {
		panic(err)
	}
	return &Release{
		ID: id, AccountID: accountID, ProductID: productID, Channel: channel, Status: status, Version: v,
		SemverMajor: sv.Major, SemverMinor: sv.Minor, SemverPatch: sv.Patch, SemverPreWord: sv.PreWord, SemverPreNum: sv.PreNum,
		SemverBuildWord: sv.BuildWord, SemverBuildNum: sv.BuildNum, Metadata: map[string]any{}, CreatedAt: clock.Add(-age),
	}
}

func withPackage(r *Release, pkg string) *Release { r.PackageID = &pkg; return r }
func withTag(r *Release, tag string) *Release     { r.Tag = &tag; return r }

type fixture struct {
	svc         *Service
	store       *fakeStore
	packages    *fakePackages
	downloads   *fakeDownloads
	constraints *fakeConstraints
	catalog     *fakeCatalog
}

// newFixture is account acct with a LICENSED product prod1 (packages cli
// and, of prod2, gui) and an OPEN product prod2:
//
//	prod1: r1 1.0.0, r2 1.1.0 "latest", r3 1.2.0-beta.1, r4 2.0.0 DRAFT,
//	       r5 1.2.0 (constrained by e2), r6 1.0.0 and r7 1.5.0 in cli,
//	       r8 1.3.0-dev.1, y1 0.9.0 YANKED
//	prod2: o1 1.0.0 (the account's oldest), o2 1.1.0 (constrained by e1)
//
// and x1 in another account. lic1 (prod1's, entitled to e1) is held by
// u-user; u-sus holds only lic-sus, which is suspended.
func newFixture() *fixture {
	yanked := rel("y1", "acct", "prod1", "stable", "0.9.0", Yanked, 11*day)
	yanked.YankedAt = new(clock.Add(-day))
	f := &fixture{
		store: &fakeStore{
			releases: []*Release{
				rel("o1", "acct", "prod2", "stable", "1.0.0", Published, 12*day),
				yanked,
				rel("r1", "acct", "prod1", "stable", "1.0.0", Published, 10*day),
				withTag(rel("r2", "acct", "prod1", "stable", "1.1.0", Published, 9*day), "latest"),
				rel("r3", "acct", "prod1", "beta", "1.2.0-beta.1", Published, 8*day),
				rel("r4", "acct", "prod1", "stable", "2.0.0", Draft, 7*day),
				rel("r5", "acct", "prod1", "stable", "1.2.0", Published, 6*day),
				withPackage(rel("r6", "acct", "prod1", "stable", "1.0.0", Published, 5*day), "pkg1"),
				withPackage(rel("r7", "acct", "prod1", "stable", "1.5.0", Published, 4*day), "pkg1"),
				rel("r8", "acct", "prod1", "dev", "1.3.0-dev.1", Published, 3*day),
				rel("o2", "acct", "prod2", "stable", "1.1.0", Published, 2*day),
				rel("x1", "other", "prodX", "stable", "1.0.0", Published, 20*day),
			},
			products:    map[string]string{"prod1": "LICENSED", "prod2": "OPEN"},
			packages:    map[string]string{"cli": "pkg1", "gui": "pkg2"},
			constraints: map[string][]string{"r5": {"e2"}, "o2": {"e1"}},
			licenses: map[string]fakeLicense{
				"lic1":    {productID: "prod1", entitlements: []string{"e1"}},
				"lic-sus": {productID: "prod1", entitlements: []string{"e1"}, suspendedFor: true},
			},
			users: map[string][]string{"u-user": {"lic1"}, "u-sus": {"lic-sus"}},
		},
		packages:    &fakePackages{product: map[string]string{"pkg1": "prod1", "pkg2": "prod2"}, keys: map[string]string{"cli": "pkg1", "gui": "pkg2"}},
		downloads:   &fakeDownloads{},
		constraints: &fakeConstraints{known: map[string]bool{"e1": true, "e2": true}},
		catalog:     &fakeCatalog{},
	}
	products := fakeProducts{"prod1": "prod1", "app": "prod1", "prod2": "prod2"}
	f.svc = NewService(f.store, products, f.packages, f.downloads, f.constraints, f.catalog, testenv.Unrecorded{}, discarded{})
	f.svc.now = func() time.Time { return clock }
	return f
}

// stored is the release as the store holds it (nil when it holds none).
func (f *fixture) stored(id string) *Release {
	if i := f.store.index(id); i >= 0 {
		return f.store.releases[i]
	}
	return nil
}

// checkSights checks that every sight the rules took was at the clock.
func (f *fixture) checkSights(t *testing.T) {
	t.Helper()
	for _, s := range f.store.sights {
		if !strings.HasSuffix(s, "|"+clock.Format(time.RFC3339Nano)) {
			t.Errorf("sight %s not taken at the injected clock", s)
		}
	}
}

// want is an expected outcome: a release (by id; any when id is "") or
// an error of a kind and code about a field or a query parameter, or
// exactly errIs.
type want struct {
	id    string
	kind  apperr.Kind
	code  string
	field apperr.Field
	param string
	errIs error
}

func (w want) fails() bool { return w.code != "" || w.errIs != nil }

func (w want) check(t *testing.T, r *Release, err error) {
	t.Helper()
	if w.errIs != nil && !errors.Is(err, w.errIs) {
		t.Fatalf("err = %v, want %v", err, w.errIs)
	}
	if !w.fails() {
		if err != nil {
			t.Fatalf("err = %v", err)
		}
		if r == nil || w.id != "" && r.ID != w.id {
			t.Fatalf("release %+v, want %s", r, w.id)
		}
		return
	}
	e := apperr.As(err)
	if err == nil || w.code != "" && (e.Kind != w.kind || e.Code != w.code) {
		t.Fatalf("err = %v, want kind %d %s", err, w.kind, w.code)
	}
	var field apperr.Field
	var param string
	if e.Source != nil {
		if e.Source.Field != nil {
			field = *e.Source.Field
		}
		param = e.Source.Parameter
	}
	if !reflect.DeepEqual(field, w.field) || param != w.param {
		t.Fatalf("%s is about field %+v parameter %q, want %+v %q", e.Code, field, param, w.field, w.param)
	}
}

var (
	notFound     = want{kind: apperr.NotFound, code: "NOT_FOUND"}
	denied       = want{kind: apperr.Forbidden, code: "ACCESS_DENIED"}
	tokenMissing = want{kind: apperr.Unauthenticated, code: "TOKEN_MISSING"}
	tokenInvalid = want{kind: apperr.Unauthenticated, code: "TOKEN_INVALID"}
	suspended    = want{kind: apperr.Forbidden, code: "LICENSE_SUSPENDED"}
	banned       = want{kind: apperr.Forbidden, code: "LICENSE_BANNED"}
	down         = want{kind: apperr.Unavailable, code: "SERVICE_UNAVAILABLE"}
	noUpgrade    = want{errIs: ErrNoUpgrade}
)

func attrErr(attr, code string) want {
	return want{kind: apperr.Unprocessable, code: code, field: apperr.Attr(attr)}
}

func relErr(name, code string) want {
	return want{kind: apperr.Unprocessable, code: code, field: apperr.Rel(name)}
}

func TestFindAndShow(t *testing.T) {
	prod1, prod2, cli, none := Narrowing{Product: "prod1"}, Narrowing{Product: "prod2"}, str("cli"), str("")
	tests := []struct {
		name     string
		who      *access.Principal
		ref      string
		n        Narrowing
		show     bool
		sightErr error
		want     want
	}{
		{name: "staff see a draft", who: admin, ref: "r4", want: want{id: "r4"}},
		{name: "staff see a constrained release", who: admin, ref: "r5", want: want{id: "r5"}},
		{name: "staff see a yanked release", who: readOnly, ref: "y1", want: want{id: "y1"}},
		{name: "a product sees its own draft", who: prod1Bearer, ref: "r4", want: want{id: "r4"}},
		{name: "a product does not see another's", who: prod2Bearer, ref: "r1", want: notFound},
		{name: "a version names the account's oldest", who: admin, ref: "1.0.0", want: want{id: "o1"}},
		{name: "narrowed to a product", who: admin, ref: "1.0.0", n: prod1, want: want{id: "r1"}},
		{name: "narrowed to another product", who: admin, ref: "1.2.0", n: prod2, want: notFound},
		{name: "narrowed to a package by key", who: admin, ref: "1.0.0", n: Narrowing{Product: "prod1", Package: cli}, want: want{id: "r6"}},
		{name: "narrowed to a package by id", who: admin, ref: "1.0.0", n: Narrowing{Product: "prod1", Package: str("pkg1")}, want: want{id: "r6"}},
		{name: "narrowed to no package", who: admin, ref: "1.5.0", n: Narrowing{Product: "prod1", Package: none}, want: notFound},
		{name: "a license finds its product's release by version", who: lic, ref: "1.0.0", n: prod1, want: want{id: "r1"}},
		{name: "a license finds by tag", who: lic, ref: "latest", want: want{id: "r2"}},
		{name: "a license does not see drafts", who: lic, ref: "r4", want: notFound},
		{name: "a license does not see yanked releases", who: lic, ref: "y1", want: notFound},
		{name: "a license lacking a constraint's entitlement", who: lic, ref: "r5", want: notFound},
		{name: "a license sees an OPEN product's release", who: lic, ref: "o1", want: want{id: "o1"}},
		{name: "an OPEN product's constrained release is its licenses' only", who: lic, ref: "o2", want: notFound},
		{name: "a user sees through the license it holds", who: member, ref: "latest", want: want{id: "r2"}},
		{name: "anonymous sees an OPEN product's release", ref: "o1", want: want{id: "o1"}},
		{name: "anonymous does not see a licensed product's", ref: "r1", want: notFound},
		{name: "another account's release", who: admin, ref: "x1", want: notFound},
		{name: "a principal of another account", who: stranger, ref: "r1", want: tokenInvalid},
		{name: "in sight without release.read", who: noRead, ref: "r1", want: denied},
		{name: "out of sight without release.read is a 404", who: noRead, ref: "r4", want: notFound},
		{name: "the sight fails", who: admin, ref: "r1", sightErr: errDown, want: down},
		{name: "find does not refuse a suspended license", who: licSusp, ref: "r1", want: want{id: "r1"}},
		{name: "show to a license", who: lic, ref: "r1", show: true, want: want{id: "r1"}},
		{name: "show refuses a suspended license", who: licSusp, ref: "r1", show: true, want: suspended},
		{name: "show refuses a banned license as banned", who: licBanned, ref: "r1", show: true, want: banned},
		{name: "show is a 404 before a 403", who: licSusp, ref: "r4", show: true, want: notFound},
		{name: "show refuses a user whose licenses are all suspended", who: lonely, ref: "r1", show: true, want: suspended},
		{name: "show to a user with a usable license", who: member, ref: "r1", show: true, want: want{id: "r1"}},
		{name: "show an OPEN product's release to a user without its licenses", who: lonely, ref: "o1", show: true, want: want{id: "o1"}},
		{name: "show to anonymous", ref: "o1", show: true, want: want{id: "o1"}},
		{name: "show to staff", who: admin, ref: "r4", show: true, want: want{id: "r4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture()
			f.store.sightErr = tt.sightErr
			lookup := f.svc.Find
			if tt.show {
				lookup = f.svc.Show
			}
			r, err := lookup(context.Background(), tt.who, acct(), tt.ref, tt.n)
			tt.want.check(t, r, err)
			f.checkSights(t)
			if tt.who == stranger && len(f.store.sights) != 0 {
				t.Errorf("a stranger's lookup reached the store: %v", f.store.sights)
			}
		})
	}
}

func TestList(t *testing.T) {
	licenseSees := []string{"o1", "r1", "r2", "r3", "r6", "r7", "r8"}
	tests := []struct {
		name   string
		who    *access.Principal
		filter Filter
		ids    []string // listed, in order
		want   want     // when the list fails
	}{
		{name: "staff list the account's releases", who: admin, ids: []string{"o1", "o2", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "y1"}},
		{name: "a product lists its own in every status", who: prod1Bearer, ids: []string{"r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "y1"}},
		{name: "a license lists what it is entitled to", who: lic, ids: licenseSees},
		{name: "a suspended license still lists", who: licSusp, ids: licenseSees},
		{name: "a user lists through its license", who: member, ids: licenseSees},
		{name: "anonymous lists OPEN products' unconstrained releases", ids: []string{"o1"}},
		{name: "a channel includes the more stable ones", who: admin, filter: Filter{ProductID: "prod1", Channel: "beta"},
			ids: []string{"r1", "r2", "r3", "r4", "r5", "r6", "r7", "y1"}},
		{name: "dev stands apart", who: admin, filter: Filter{Channel: "dev"}, ids: []string{"r8"}},
		{name: "an unknown channel lists nothing", who: admin, filter: Filter{Channel: "nightly"}},
		{name: "by status", who: admin, filter: Filter{Status: Draft}, ids: []string{"r4"}},
		{name: "by product", who: admin, filter: Filter{ProductID: "prod2"}, ids: []string{"o1", "o2"}},
		{name: "by package", who: lic, filter: Filter{Package: str("cli")}, ids: []string{"r6", "r7"}},
		{name: "without a package", who: lic, filter: Filter{ProductID: "prod1", Package: str("")}, ids: []string{"r1", "r2", "r3", "r8"}},
		{name: "within no entitlements", who: admin, filter: Filter{ProductID: "prod1", Entitlements: &[]string{}},
			ids: []string{"r1", "r2", "r3", "r4", "r6", "r7", "r8", "y1"}},
		{name: "within entitlements", who: admin, filter: Filter{Entitlements: &[]string{"e2"}},
			ids: []string{"o1", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "y1"}},
		{name: "without release.read", who: noRead, want: denied},
		{name: "a principal of another account", who: stranger, want: tokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture()
			got, count, err := f.svc.List(context.Background(), tt.who, acct(), tt.filter, page.Request{Limit: 10})
			if tt.want.fails() {
				tt.want.check(t, nil, err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			if !slices.Equal(ids, tt.ids) || count != int64(len(tt.ids)) {
				t.Fatalf("listed %v (count %d), want %v", ids, count, tt.ids)
			}
			f.checkSights(t)
			if tt.ids == nil && len(f.store.sights) != 0 {
				t.Errorf("an empty list reached the store")
			}
		})
	}
}

// createdAs is the draft Create makes of a version in a channel of prod1,
// as mod changes it.
func createdAs(channel, version string, mod func(*Release)) *Release {
	r := rel("", "acct", "prod1", channel, version, Draft, 0)
	r.CreatedAt = time.Time{} // the database's to set
	mod(r)
	return r
}

// created is the release Create makes of 2.1 in stable, as mod changes it.
func created(mod func(*Release)) *Release { return createdAs("stable", "2.1.0", mod) }

func TestCreate(t *testing.T) {
	base := func(p *Params) { p.Channel, p.Version = optional.Of("stable"), optional.Of("2.1") }
	past := clock.Add(-time.Hour)
	tests := []struct {
		name     string
		who      *access.Principal
		rel      Relations
		params   func(*Params)
		catalog  error
		want     want
		release  *Release // the release made, when it is made
		packages []string
		attached string // with <id> for the release's
	}{
		{name: "a draft in stable by default", who: admin, rel: Relations{Product: "prod1"}, release: created(func(*Release) {})},
		{name: "every attribute, the product by code", who: admin, rel: Relations{Product: "app"},
			params: func(p *Params) {
				p.Status, p.Name, p.Description = optional.Of(Published), optional.Of(str("App")), optional.Of(str("notes"))
				p.Tag, p.Backdated = optional.Of(str("  edge  ")), optional.Of(&past)
				p.Metadata = optional.Of(map[string]any{"k": "v"})
			},
			release: created(func(r *Release) {
				r.Status, r.Name, r.Description, r.Tag, r.BackdatedTo = Published, str("App"), str("notes"), str("edge"), &past
				r.Metadata = map[string]any{"k": "v"}
			})},
		{name: "a pre-release with build metadata", who: admin, rel: Relations{Product: "prod1"},
			params:  func(p *Params) { p.Channel, p.Version = optional.Of("beta"), optional.Of("3.0.0-beta.2+build.7") },
			release: createdAs("beta", "3.0.0-beta.2+build.7", func(*Release) {})},
		{name: "in a package by key", who: admin, rel: Relations{Product: "prod1", Package: "cli"}, packages: []string{"prod1|cli"},
			release: created(func(r *Release) { r.PackageID = str("pkg1") })},
		{name: "in another product's package", who: admin, rel: Relations{Product: "prod1", Package: "gui"}, packages: []string{"prod1|gui"},
			want: relErr("package", "PACKAGE_NOT_FOUND")},
		{name: "a version the product has", who: admin, rel: Relations{Product: "prod1"}, params: func(p *Params) { p.Version = optional.Of("1.1") },
			want: attrErr("version", "VERSION_TAKEN")},
		{name: "a version the product has, in a package without it", who: admin, rel: Relations{Product: "prod1", Package: "cli"},
			params: func(p *Params) { p.Version = optional.Of("1.1.0") }, packages: []string{"prod1|cli"},
			release: createdAs("stable", "1.1.0", func(r *Release) { r.PackageID = str("pkg1") })},
		{name: "a version the package has", who: admin, rel: Relations{Product: "prod1", Package: "cli"},
			params: func(p *Params) { p.Version = optional.Of("1.0.0") }, packages: []string{"prod1|cli"},
			want: attrErr("version", "VERSION_TAKEN")},
		{name: "a tag the product has", who: admin, rel: Relations{Product: "prod1"}, params: func(p *Params) { p.Tag = optional.Of(str("latest")) },
			want: attrErr("tag", "TAG_TAKEN")},
		{name: "a tag another product has", who: admin, rel: Relations{Product: "prod2"}, params: func(p *Params) { p.Tag = optional.Of(str("latest")) },
			release: created(func(r *Release) { r.ProductID, r.Tag = "prod2", str("latest") })},
		{name: "a product in its own", who: prod1Bearer, rel: Relations{Product: "prod1"}, release: created(func(*Release) {})},
		{name: "a product in another's", who: prod2Bearer, rel: Relations{Product: "prod1"}, want: relErr("product", "PRODUCT_NOT_FOUND")},
		{name: "no product", who: admin, want: relErr("product", "PRODUCT_NOT_FOUND")},
		{name: "an unknown product", who: admin, rel: Relations{Product: "nope"}, want: relErr("product", "PRODUCT_NOT_FOUND")},
		{name: "the products are down", who: admin, rel: Relations{Product: "down"}, want: down},
		{name: "read-only staff", who: readOnly, rel: Relations{Product: "prod1"}, want: denied},
		{name: "a license", who: lic, rel: Relations{Product: "prod1"}, want: denied},
		{name: "anonymous", rel: Relations{Product: "prod2"}, want: tokenMissing},
		{name: "no channel", who: admin, rel: Relations{Product: "prod1"}, params: func(p *Params) { p.Channel = optional.Value[string]{} },
			want: attrErr("channel", "CHANNEL_NOT_ALLOWED")},
		{name: "an unknown channel", who: admin, rel: Relations{Product: "prod1"}, params: func(p *Params) { p.Channel = optional.Of("nightly") },
			want: attrErr("channel", "CHANNEL_NOT_ALLOWED")},
		{name: "no version", who: admin, rel: Relations{Product: "prod1"}, params: func(p *Params) { p.Version = optional.Value[string]{} },
			want: attrErr("version", "VERSION_MISSING")},
		{name: "a v-prefixed version", who: admin, rel: Relations{Product: "prod1"}, params: func(p *Params) { p.Version = optional.Of("v2.1.0") },
			want: attrErr("version", "VERSION_INVALID")},
		{name: "a pre-release in stable", who: admin, rel: Relations{Product: "prod1"}, params: func(p *Params) { p.Version = optional.Of("2.1.0-beta.1") },
			want: attrErr("version", "VERSION_CHANNEL_INVALID")},
		{name: "created yanked", who: admin, rel: Relations{Product: "prod1"}, params: func(p *Params) { p.Status = optional.Of(Yanked) },
			want: want{kind: apperr.Invalid, code: "PARAMETERS_INVALID", field: apperr.Attr("status")}},
		{name: "the longest description", who: admin, rel: Relations{Product: "prod1"},
			params:  func(p *Params) { p.Description = optional.Of(str(strings.Repeat("d", 16384))) },
			release: created(func(r *Release) { r.Description = str(strings.Repeat("d", 16384)) })},
		{name: "too long a description", who: admin, rel: Relations{Product: "prod1"},
			params: func(p *Params) { p.Description = optional.Of(str(strings.Repeat("d", 16385))) },
			want:   attrErr("description", "DESCRIPTION_TOO_LONG")},
		{name: "a blank tag", who: admin, rel: Relations{Product: "prod1"}, params: func(p *Params) { p.Tag = optional.Of(str(" \t")) },
			want: attrErr("tag", "TAG_INVALID")},
		{name: "too long a tag", who: admin, rel: Relations{Product: "prod1"}, params: func(p *Params) { p.Tag = optional.Of(str(strings.Repeat("t", 256))) },
			want: attrErr("tag", "TAG_INVALID")},
		{name: "the longest tag", who: admin, rel: Relations{Product: "prod1"}, params: func(p *Params) { p.Tag = optional.Of(str(strings.Repeat("t", 255))) },
			release: created(func(r *Release) { r.Tag = str(strings.Repeat("t", 255)) })},
		{name: "a null tag", who: admin, rel: Relations{Product: "prod1"}, params: func(p *Params) { p.Tag = optional.Of[*string](nil) },
			release: created(func(*Release) {})},
		{name: "backdated to now", who: admin, rel: Relations{Product: "prod1"}, params: func(p *Params) { p.Backdated = optional.Of(new(clock)) },
			release: created(func(r *Release) { r.BackdatedTo = new(clock) })},
		{name: "backdated to the future", who: admin, rel: Relations{Product: "prod1"},
			params: func(p *Params) { p.Backdated = optional.Of(new(clock.Add(time.Millisecond))) },
			want:   attrErr("backdated", "BACKDATED_INVALID")},
		{name: "null metadata", who: admin, rel: Relations{Product: "prod1"}, params: func(p *Params) { p.Metadata = optional.Of[map[string]any](nil) },
			release: created(func(*Release) {})},
		{name: "with constraints", who: admin, rel: Relations{Product: "prod1", Constraints: []string{"e1", "e2"}},
			release:  created(func(*Release) {}),
			attached: "release.constraints.attach|release_entitlement_constraints:<id>|e1,e2"},
		{name: "with an unknown constraint", who: admin, rel: Relations{Product: "prod1", Constraints: []string{"e1", "nope"}},
			want: want{kind: apperr.Unprocessable, code: "CONSTRAINTS_ENTITLEMENT_NOT_FOUND", field: apperr.Rel("constraints").Item(1)}},
		{name: "constraints without release.constraints.attach", who: noAttach, rel: Relations{Product: "prod1", Constraints: []string{"e1"}},
			want: denied},
		{name: "recording the channel fails", who: admin, rel: Relations{Product: "prod1"}, catalog: errDown, want: down},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture()
			f.catalog.err = tt.catalog
			var p Params
			base(&p)
			if tt.params != nil {
				tt.params(&p)
			}
			before := len(f.store.releases)
			r, err := f.svc.Create(context.Background(), tt.who, acct(), tt.rel, p)
			if !slices.Equal(f.packages.calls, tt.packages) {
				t.Errorf("packages asked %v, want %v", f.packages.calls, tt.packages)
			}
			if tt.want.fails() {
				tt.want.check(t, nil, err)
				if len(f.store.releases) != before || len(f.constraints.attached) != 0 {
					t.Fatalf("a failed create kept %d releases (from %d), attached %v", len(f.store.releases), before, f.constraints.attached)
				}
				return
			}
			tt.want.check(t, r, err)
			want := *tt.release
			want.ID = r.ID
			if r.ID == "" || !reflect.DeepEqual(*r, want) || !reflect.DeepEqual(f.stored(r.ID), &want) {
				t.Fatalf("created %+v\nstored  %+v\nwant    %+v", r, f.stored(r.ID), want)
			}
			if used := map[string][]string{catalog.Channels: {want.Channel}}; !reflect.DeepEqual(f.catalog.used, used) {
				t.Errorf("catalog used %v, want %v", f.catalog.used, used)
			}
			var attached []string
			if tt.attached != "" {
				attached = []string{strings.ReplaceAll(tt.attached, "<id>", r.ID)}
			}
			if !slices.Equal(f.constraints.attached, attached) {
				t.Errorf("attached %v, want %v", f.constraints.attached, attached)
			}
		})
	}
}

// changed is a fixture release as a change leaves it.
func changed(r *Release, mod func(*Release)) *Release {
	c := *r
	mod(&c)
	return &c
}

func TestUpdate(t *testing.T) {
	past := clock.Add(-time.Hour)
	r1, r2, r4 := newFixture().stored("r1"), newFixture().stored("r2"), newFixture().stored("r4")
	tests := []struct {
		name    string
		who     *access.Principal
		ref     string
		params  Params
		want    want
		release *Release // as stored after
	}{
		{name: "every permitted attribute", who: admin, ref: "r1",
			params: Params{Name: optional.Of(str("One")), Description: optional.Of(str("notes")), Tag: optional.Of(str(" one ")),
				Backdated: optional.Of(&past), Metadata: optional.Of(map[string]any{"k": 1})},
			release: changed(r1, func(r *Release) {
				r.Name, r.Description, r.Tag, r.BackdatedTo, r.Metadata = str("One"), str("notes"), str("one"), &past, map[string]any{"k": 1}
			})},
		{name: "by tag, clearing it and the metadata", who: admin, ref: "latest",
			params:  Params{Tag: optional.Of[*string](nil), Metadata: optional.Of[map[string]any](nil)},
			release: changed(r2, func(r *Release) { r.Tag = nil })},
		{name: "a product its own draft", who: prod1Bearer, ref: "r4", params: Params{Name: optional.Of(str("Two"))},
			release: changed(r4, func(r *Release) { r.Name = str("Two") })},
		{name: "the version", who: admin, ref: "r1", params: Params{Version: optional.Of("1.0.1")},
			want: want{kind: apperr.Invalid, code: "PARAMETERS_INVALID", field: apperr.Attr("version")}},
		{name: "the channel", who: admin, ref: "r1", params: Params{Channel: optional.Of("stable")},
			want: want{kind: apperr.Invalid, code: "PARAMETERS_INVALID", field: apperr.Attr("channel")}},
		{name: "the status", who: admin, ref: "r1", params: Params{Status: optional.Of(Published)},
			want: want{kind: apperr.Invalid, code: "PARAMETERS_INVALID", field: apperr.Attr("status")}},
		{name: "status and version name the version", who: admin, ref: "r1", params: Params{Status: optional.Of(Draft), Version: optional.Of("1.0.0")},
			want: want{kind: apperr.Invalid, code: "PARAMETERS_INVALID", field: apperr.Attr("version")}},
		{name: "a tag taken", who: admin, ref: "r1", params: Params{Tag: optional.Of(str("latest"))}, want: attrErr("tag", "TAG_TAKEN")},
		{name: "too long a description", who: admin, ref: "r1", params: Params{Description: optional.Of(str(strings.Repeat("d", 16385)))},
			want: attrErr("description", "DESCRIPTION_TOO_LONG")},
		{name: "backdated to the future", who: admin, ref: "r1", params: Params{Backdated: optional.Of(new(clock.Add(time.Second)))},
			want: attrErr("backdated", "BACKDATED_INVALID")},
		{name: "a license", who: lic, ref: "r1", params: Params{Name: optional.Of(str("x"))}, want: denied},
		{name: "a license, out of its sight", who: lic, ref: "r4", params: Params{Name: optional.Of(str("x"))}, want: notFound},
		{name: "another product's", who: prod2Bearer, ref: "r1", params: Params{Name: optional.Of(str("x"))}, want: notFound},
		{name: "anonymous", ref: "o1", params: Params{Name: optional.Of(str("x"))}, want: tokenMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture()
			r, err := f.svc.Update(context.Background(), tt.who, acct(), tt.ref, tt.params)
			if tt.want.fails() {
				tt.want.check(t, r, err)
				if len(f.store.saved) != 0 {
					t.Fatalf("a failed update saved %v", f.store.saved)
				}
				return
			}
			tt.want.check(t, r, err)
			if !reflect.DeepEqual(r, tt.release) || !reflect.DeepEqual(f.stored(r.ID), tt.release) {
				t.Fatalf("updated %+v\nstored  %+v\nwant    %+v", r, f.stored(r.ID), tt.release)
			}
			f.checkSights(t)
		})
	}
}

func TestPublishYankDelete(t *testing.T) {
	yankedAt := clock.UTC().Truncate(time.Millisecond)
	tests := []struct {
		name    string
		who     *access.Principal
		action  string // publish, yank or delete
		ref     string
		want    want
		status  string     // stored after ("" when deleted)
		yanked  *time.Time // stored after
		deleted []string
	}{
		{name: "publish a draft", who: admin, action: "publish", ref: "r4", status: Published},
		{name: "publish a yanked release clears its yank", who: admin, action: "publish", ref: "y1", status: Published},
		{name: "yank at the clock, in UTC to the millisecond", who: admin, action: "yank", ref: "r1", status: Yanked, yanked: &yankedAt},
		{name: "yank by tag", who: prod1Bearer, action: "yank", ref: "latest", status: Yanked, yanked: &yankedAt},
		{name: "delete", who: admin, action: "delete", ref: "r1", deleted: []string{"r1"}},
		{name: "a product deletes its own draft", who: prod1Bearer, action: "delete", ref: "r4", deleted: []string{"r4"}},
		{name: "read-only staff publish", who: readOnly, action: "publish", ref: "r4", want: denied},
		{name: "a license yanks", who: lic, action: "yank", ref: "r1", want: denied},
		{name: "a license deletes out of its sight", who: lic, action: "delete", ref: "r4", want: notFound},
		{name: "another product deletes", who: prod2Bearer, action: "delete", ref: "r1", want: notFound},
		{name: "anonymous deletes", action: "delete", ref: "o1", want: tokenMissing},
		{name: "anonymous publishes", action: "publish", ref: "o1", want: tokenMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture()
			ctx, who := context.Background(), tt.who
			var r *Release
			var err error
			switch tt.action {
			case "publish":
				r, err = f.svc.Publish(ctx, who, acct(), tt.ref)
			case "yank":
				r, err = f.svc.Yank(ctx, who, acct(), tt.ref)
			default:
				err = f.svc.Delete(ctx, who, acct(), tt.ref)
			}
			if !slices.Equal(f.store.deleted, tt.deleted) {
				t.Fatalf("deleted %v, want %v", f.store.deleted, tt.deleted)
			}
			if tt.want.fails() || tt.action == "delete" {
				if tt.want.fails() {
					tt.want.check(t, r, err)
				} else if err != nil || f.stored(tt.ref) != nil {
					t.Fatalf("delete: %v, still stored %+v", err, f.stored(tt.ref))
				}
				if len(f.store.saved) != 0 {
					t.Fatalf("saved %v", f.store.saved)
				}
				return
			}
			tt.want.check(t, r, err)
			s := f.stored(r.ID)
			if r.Status != tt.status || s.Status != tt.status || !reflect.DeepEqual(r.YankedAt, tt.yanked) || !reflect.DeepEqual(s.YankedAt, tt.yanked) {
				t.Fatalf("status %s yanked %v (stored %s %v), want %s %v", r.Status, r.YankedAt, s.Status, s.YankedAt, tt.status, tt.yanked)
			}
		})
	}
}

// TestSetPackage moves releases between the packages of their product.
func TestSetPackage(t *testing.T) {
	tests := []struct {
		name, ref string
		who       *access.Principal
		pkg       *string // the package moved into, by id or key (nil: out of any)
		want      want
		packaged  *string // the stored package after
		packages  []string
	}{
		{name: "into a package by key", who: admin, ref: "r2", pkg: str("cli"), packaged: str("pkg1"), packages: []string{"prod1|cli"}},
		{name: "into a package by id", who: prod1Bearer, ref: "r2", pkg: str("pkg1"), packaged: str("pkg1"), packages: []string{"prod1|pkg1"}},
		{name: "out of its package", who: admin, ref: "r7", packaged: nil},
		{name: "into a package with the version", who: admin, ref: "r1", pkg: str("cli"), packages: []string{"prod1|cli"},
			want: attrErr("version", "VERSION_TAKEN")},
		{name: "out to where the version is", who: admin, ref: "r6", want: attrErr("version", "VERSION_TAKEN")},
		{name: "into another product's package", who: admin, ref: "r2", pkg: str("gui"), packages: []string{"prod1|gui"},
			want: relErr("package", "PACKAGE_NOT_FOUND")},
		{name: "into an unknown package", who: admin, ref: "r2", pkg: str("nope"), packages: []string{"prod1|nope"},
			want: relErr("package", "PACKAGE_NOT_FOUND")},
		{name: "a license", who: lic, ref: "r2", pkg: str("cli"), want: denied},
		{name: "read-only staff", who: readOnly, ref: "r2", pkg: str("cli"), want: denied},
		{name: "another product", who: prod2Bearer, ref: "r2", pkg: str("cli"), want: notFound},
		{name: "anonymous", ref: "o1", pkg: str("gui"), want: tokenMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture()
			before := *f.stored(tt.ref)
			r, err := f.svc.SetPackage(context.Background(), tt.who, acct(), tt.ref, tt.pkg)
			tt.want.check(t, r, err)
			if !slices.Equal(f.packages.calls, tt.packages) {
				t.Errorf("packages asked %v, want %v", f.packages.calls, tt.packages)
			}
			if tt.want.fails() {
				if s := f.stored(tt.ref); !reflect.DeepEqual(*s, before) {
					t.Fatalf("a failed move changed the release to %+v", s)
				}
				return
			}
			if s := f.stored(tt.ref); !reflect.DeepEqual(s.PackageID, tt.packaged) || !reflect.DeepEqual(r.PackageID, tt.packaged) {
				t.Fatalf("package %v (stored %v), want %v", r.PackageID, s.PackageID, tt.packaged)
			}
		})
	}
}

func TestUpgrade(t *testing.T) {
	prod1 := Narrowing{Product: "prod1"}
	tests := []struct {
		name       string
		who        *access.Principal
		ref        string
		n          Narrowing
		channel    string
		constraint string
		sightErr   error
		current    string // on success
		want       want   // the next release or the error
		// The store's lookups of a next release, "current|channels|constrained":
		// made with the current release's, also for whom it is then refused.
		nexts []string
	}{
		{name: "a license to its newest", who: lic, ref: "1.0.0", n: prod1, current: "r1", want: want{id: "r2"}, nexts: []string{"r1|stable|false"}},
		{name: "staff see past constraints", who: admin, ref: "1.0.0", n: prod1, current: "r1", want: want{id: "r5"}, nexts: []string{"r1|stable|false"}},
		{name: "a user through its license", who: member, ref: "r1", current: "r1", want: want{id: "r2"}, nexts: []string{"r1|stable|false"}},
		{name: "a channel includes the more stable", who: lic, ref: "r1", channel: "beta", current: "r1", want: want{id: "r3"},
			nexts: []string{"r1|stable,rc,beta|false"}},
		{name: "a release beats its pre-release", who: admin, ref: "r1", channel: "beta", current: "r1", want: want{id: "r5"},
			nexts: []string{"r1|stable,rc,beta|false"}},
		{name: "alpha includes beta", who: lic, ref: "r1", channel: "alpha", current: "r1", want: want{id: "r3"},
			nexts: []string{"r1|stable,rc,beta,alpha|false"}},
		{name: "the current release's channel by default", who: admin, ref: "r3", current: "r3", want: want{id: "r5"},
			nexts: []string{"r3|stable,rc,beta|false"}},
		{name: "dev only from dev", who: lic, ref: "r1", channel: "dev", current: "r1", want: want{id: "r8"}, nexts: []string{"r1|dev|false"}},
		{name: "nothing newer in dev", who: lic, ref: "r8", want: noUpgrade, nexts: []string{"r8|dev|false"}},
		{name: "an unknown channel has no upgrade", who: lic, ref: "r1", channel: "nightly", want: noUpgrade, nexts: []string{"r1||false"}},
		{name: "a patch constraint", who: admin, ref: "r1", constraint: "1.1.0", current: "r1", want: want{id: "r2"}, nexts: []string{"r1|stable|true"}},
		{name: "a minor constraint", who: admin, ref: "r1", constraint: "1.1", current: "r1", want: want{id: "r5"}, nexts: []string{"r1|stable|true"}},
		{name: "an operator is ignored", who: lic, ref: "r1", constraint: "~> 1", current: "r1", want: want{id: "r2"}, nexts: []string{"r1|stable|true"}},
		{name: "a constraint nothing meets", who: admin, ref: "r1", constraint: "2", want: noUpgrade, nexts: []string{"r1|stable|true"}},
		{name: "a malformed constraint", who: lic, ref: "r1", constraint: "1.x",
			want: want{kind: apperr.Invalid, code: "CONSTRAINT_INVALID", param: "constraint"}},
		{name: "too many parts in a constraint", who: lic, ref: "r1", constraint: "1.2.3.4",
			want: want{kind: apperr.Invalid, code: "CONSTRAINT_INVALID", param: "constraint"}},
		{name: "within its package", who: lic, ref: "1.0.0", n: Narrowing{Product: "prod1", Package: str("cli")}, current: "r6",
			want: want{id: "r7"}, nexts: []string{"r6|stable|false"}},
		{name: "outside any package", who: lic, ref: "1.0.0", n: Narrowing{Product: "prod1", Package: str("")}, current: "r1",
			want: want{id: "r2"}, nexts: []string{"r1|stable|false"}},
		{name: "nothing newer in sight", who: lic, ref: "latest", want: noUpgrade, nexts: []string{"r2|stable|false"}},
		{name: "anonymous from an OPEN product's release", ref: "o1", want: noUpgrade, nexts: []string{"o1|stable|false"}},
		{name: "anonymous from a licensed product's", ref: "r1", want: notFound},
		{name: "a suspended license", who: licSusp, ref: "r1", want: suspended, nexts: []string{"r1|stable|false"}},
		{name: "a banned license", who: licBanned, ref: "r1", want: banned, nexts: []string{"r1|stable|false"}},
		{name: "the sight fails", who: lic, ref: "r1", sightErr: errDown, want: down},
		{name: "a user whose licenses are all suspended", who: lonely, ref: "r1", want: suspended, nexts: []string{"r1|stable|false"}},
		{name: "out of sight", who: lic, ref: "r4", want: notFound},
		{name: "without release.upgrade", who: noRead, ref: "r1", want: denied, nexts: []string{"r1|stable|false"}},
		{name: "a principal of another account", who: stranger, ref: "r1", want: tokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture()
			f.store.sightErr = tt.sightErr
			current, next, err := f.svc.Upgrade(context.Background(), tt.who, acct(), tt.ref, tt.n, tt.channel, tt.constraint)
			tt.want.check(t, next, err)
			if tt.want.fails() && current != nil || !tt.want.fails() && (current == nil || current.ID != tt.current) {
				t.Fatalf("current %+v, want %q", current, tt.current)
			}
			if !slices.Equal(f.store.nexts, tt.nexts) {
				t.Errorf("upgrade lookups %v, want %v", f.store.nexts, tt.nexts)
			}
			var downloaded []*access.Principal
			if !tt.want.fails() {
				downloaded = []*access.Principal{tt.who}
			}
			if !slices.Equal(f.downloads.whos, downloaded) {
				t.Errorf("downloads started for %v, want %v", f.downloads.whos, downloaded)
			}
			f.checkSights(t)
			if len(f.store.sights) > 1 {
				t.Errorf("an upgrade took %d sights, want one", len(f.store.sights))
			}
		})
	}
}

// discarded drops the events of hot paths.
type discarded struct{}

func (discarded) Emit(event.Occurrence) {}
