package release

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/page"
)

var errDown = apperr.New(apperr.Unavailable, "SERVICE_UNAVAILABLE", "the database is down")

// fakeLicense is what the store reads of a license to resolve its sight.
type fakeLicense struct {
	productID    string
	entitlements []string // its own and its policy's
	suspendedFor bool     // OnlySuspended holds for its user
}

// fakeStore keeps releases in memory and hands out copies.
//
// Visibility is decided in SQL by the real Store (Sight, Find, Next,
// List); this fake models the contract those methods document, not their
// SQL, so that the tests exercise the rules of release.go:
//   - Sight: staff see every release of the account; a product bearer its
//     product's in any status; everyone else only PUBLISHED ones: those of
//     OPEN products without constraints, and a license (or a user through
//     the licenses it holds) those of its product whose constraints it is
//     entitled to. (Expiry windows and CLOSED products are the SQL's
//     business and tested against the database.) The fake's Sight carries
//     the scope and clock it was given, which the other methods read.
//   - Find: by id, else the oldest with the version or tag, narrowed to a
//     product and a package (nil any, "" none, else id or key).
//   - Next: the newest PUBLISHED release in sight of current's product and
//     package, in the channels, greater than current, within the
//     constraint; else ErrNoUpgrade.
//   - Upgrade: Find, then Next in the channels the channel includes (the
//     current release's by default); no next release is not an error.
//   - List: the releases in sight matching the filter, by id.
//   - Create, Save: VERSION_TAKEN and TAG_TAKEN per product and package,
//     as the unique indexes do; Create runs then and keeps
//     nothing when it fails (the transaction rolls back).
type fakeStore struct {
	releases    []*Release
	products    map[string]string   // product id → distribution strategy
	packages    map[string]string   // package key → id
	constraints map[string][]string // release id → entitlement ids (their codes, for List)
	licenses    map[string]fakeLicense
	users       map[string][]string // user → the licenses it holds
	sightErr    error

	sights  []string // "account|scope|now"
	nexts   []string // "current|channels|constraint"
	saved   []string
	deleted []string
}

var _ Records = (*fakeStore)(nil)

func (f *fakeStore) Sight(_ context.Context, accountID string, sc access.Scope, now time.Time) (Sight, error) {
	f.sights = append(f.sights, fmt.Sprintf("%s|%+v|%s", accountID, sc, now.Format(time.RFC3339Nano)))
	if f.sightErr != nil {
		return Sight{}, f.sightErr
	}
	return Sight{accountID: accountID, where: "fake", args: []any{sc}}, nil
}

// entitled reports whether the license holds every constraint of r.
func (f *fakeStore) entitled(l fakeLicense, r *Release) bool {
	for _, c := range f.constraints[r.ID] {
		if !slices.Contains(l.entitlements, c) {
			return false
		}
	}
	return true
}

// sees reports whether r is in sight, as the store's contract states.
func (f *fakeStore) sees(v Sight, r *Release) bool {
	sc := v.args[0].(access.Scope)
	switch {
	case r.AccountID != v.accountID:
		return false
	case sc.All:
		return true
	case sc.ProductID != "":
		return r.ProductID == sc.ProductID
	case r.Status != Published:
		return false
	case f.products[r.ProductID] == "OPEN" && len(f.constraints[r.ID]) == 0:
		return true
	}
	licenses := f.users[sc.UserID]
	if sc.LicenseID != "" {
		licenses = []string{sc.LicenseID}
	}
	return slices.ContainsFunc(licenses, func(id string) bool {
		l, ok := f.licenses[id]
		return ok && l.productID == r.ProductID && f.entitled(l, r)
	})
}

// inPackage is the package narrowing: "" none, else id or key.
func (f *fakeStore) inPackage(r *Release, ref string) bool {
	if ref == "" {
		return r.PackageID == nil
	}
	return r.PackageID != nil && (*r.PackageID == ref || *r.PackageID == f.packages[ref])
}

func (f *fakeStore) Find(_ context.Context, v Sight, ref string, n Narrowing) (*Release, error) {
	var found *Release
	for _, r := range f.releases {
		match := r.ID == ref || r.Version == ref || r.Tag != nil && *r.Tag == ref
		if !match || !f.sees(v, r) || n.Product != "" && r.ProductID != n.Product || n.Package != nil && !f.inPackage(r, *n.Package) {
			continue
		}
		if r.ID == ref {
			found = r
			break
		}
		if found == nil || r.CreatedAt.Before(found.CreatedAt) {
			found = r
		}
	}
	if found == nil {
		return nil, apperr.NotFoundResource("release", ref)
	}
	c := *found
	return &c, nil
}

// compareVersions orders releases as LatestFirst does, ascending: a
// release after its pre-releases, build metadata counting.
func compareVersions(a, b *Release) int {
	word := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	num := func(n *int64) int64 {
		if n == nil {
			return -1
		}
		return *n
	}
	return cmp.Or(
		cmp.Compare(a.SemverMajor, b.SemverMajor), cmp.Compare(a.SemverMinor, b.SemverMinor), cmp.Compare(a.SemverPatch, b.SemverPatch),
		boolCompare(a.SemverPreWord == nil, b.SemverPreWord == nil),
		strings.Compare(word(a.SemverPreWord), word(b.SemverPreWord)), cmp.Compare(num(a.SemverPreNum), num(b.SemverPreNum)),
		strings.Compare(word(a.SemverBuildWord), word(b.SemverBuildWord)), cmp.Compare(num(a.SemverBuildNum), num(b.SemverBuildNum)),
	)
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// within reports whether r meets the constraint, as ParseConstraint
// documents it.
func within(r *Release, c *Constraint) bool {
	if c == nil {
		return true
	}
	eq := func(col *string, want *string) bool { return want == nil || col != nil && *col == *want }
	eqNum := func(col *int64, want *int64) bool { return want == nil || col != nil && *col == *want }
	ok := r.SemverMajor == c.Major
	switch {
	case c.Patch != nil:
		ok = ok && r.SemverMinor == *c.Minor && r.SemverPatch >= *c.Patch
	case c.Minor != nil:
		ok = ok && r.SemverMinor >= *c.Minor
	}
	return ok && eq(r.SemverPreWord, c.PreWord) && eq(r.SemverBuildWord, c.BuildWord) &&
		eqNum(r.SemverPreNum, c.PreNum) && eqNum(r.SemverBuildNum, c.BuildNum)
}

func (f *fakeStore) Next(_ context.Context, v Sight, current *Release, channels []string, c *Constraint, _ *Files) (*Release, error) {
	f.nexts = append(f.nexts, fmt.Sprintf("%s|%s|%v", current.ID, strings.Join(channels, ","), c != nil))
	var next *Release
	for _, r := range f.releases {
		samePackage := deref(r.PackageID) == deref(current.PackageID)
		if !f.sees(v, r) || r.ID == current.ID || r.ProductID != current.ProductID || !samePackage || r.Status != Published ||
			!slices.Contains(channels, r.Channel) || compareVersions(r, current) <= 0 || !within(r, c) {
			continue
		}
		if next == nil || compareVersions(r, next) > 0 {
			next = r
		}
	}
	if next == nil {
		return nil, ErrNoUpgrade
	}
	n := *next
	return &n, nil
}

func (f *fakeStore) Upgrade(ctx context.Context, v Sight, ref string, n Narrowing, channel string, c *Constraint) (current, next *Release, err error) {
	if current, err = f.Find(ctx, v, ref, n); err != nil {
		return nil, nil, err
	}
	if channel == "" {
		channel = current.Channel
	}
	next, err = f.Next(ctx, v, current, Includes(channel), c, nil)
	if errors.Is(err, ErrNoUpgrade) {
		return current, nil, nil
	}
	return current, next, err
}

func (f *fakeStore) List(_ context.Context, accountID string, sc access.Scope, flt Filter, now time.Time, _ page.Request) ([]Release, int64, error) {
	v, err := f.Sight(context.Background(), accountID, sc, now)
	if err != nil {
		return nil, 0, err
	}
	var out []Release
	for _, r := range f.releases {
		keep := f.sees(v, r) && (flt.ProductID == "" || r.ProductID == flt.ProductID) &&
			(flt.Channel == "" || slices.Contains(Includes(flt.Channel), r.Channel)) && (flt.Status == "" || r.Status == flt.Status) &&
			(flt.Package == nil || f.inPackage(r, *flt.Package))
		if flt.Entitlements != nil {
			keep = keep && f.entitled(fakeLicense{entitlements: *flt.Entitlements}, r)
		}
		if keep {
			out = append(out, *r)
		}
	}
	slices.SortFunc(out, func(a, b Release) int { return strings.Compare(a.ID, b.ID) })
	return out, int64(len(out)), nil
}

// unique is the error of the unique index r breaks, if any.
func (f *fakeStore) unique(r *Release) error {
	for _, o := range f.releases {
		switch {
		case o.ID == r.ID:
		case o.AccountID == r.AccountID && o.ProductID == r.ProductID && deref(o.PackageID) == deref(r.PackageID) && o.Version == r.Version:
			return apperr.Attribute("version", "TAKEN", "has already been taken")
		case o.AccountID == r.AccountID && o.ProductID == r.ProductID && deref(o.PackageID) == deref(r.PackageID) && r.Tag != nil && o.Tag != nil && *o.Tag == *r.Tag:
			return apperr.Attribute("tag", "TAKEN", "has already been taken")
		}
	}
	return nil
}

func (f *fakeStore) Create(ctx context.Context, r *Release, then func(context.Context) error) error {
	if err := f.unique(r); err != nil {
		return err
	}
	if err := then(ctx); err != nil {
		return err
	}
	c := *r
	f.releases = append(f.releases, &c)
	return nil
}

func (f *fakeStore) index(id string) int {
	return slices.IndexFunc(f.releases, func(r *Release) bool { return r.ID == id })
}

func (f *fakeStore) Save(_ context.Context, r *Release) error {
	if err := f.unique(r); err != nil {
		return err
	}
	f.saved = append(f.saved, r.ID)
	c := *r
	f.releases[f.index(r.ID)] = &c
	return nil
}

func (f *fakeStore) Delete(_ context.Context, r *Release) error {
	f.deleted = append(f.deleted, r.ID)
	f.releases = slices.Delete(f.releases, f.index(r.ID), f.index(r.ID)+1)
	return nil
}

// OnlySuspended holds when the user holds licenses of the product and all
// of them are marked suspendedFor.
func (f *fakeStore) OnlySuspended(_ context.Context, _, userID, productID string) (bool, error) {
	held, usable := 0, 0
	for _, id := range f.users[userID] {
		if l := f.licenses[id]; l.productID == productID {
			held++
			if !l.suspendedFor {
				usable++
			}
		}
	}
	return held > 0 && usable == 0, nil
}

// fakeProducts resolves product refs (id or code) of the account, as a
// product bearer sees them: only its own; "down" is an outage.
type fakeProducts map[string]string

func (f fakeProducts) VisibleID(_ context.Context, who *access.Principal, _ *account.Tenant, ref string) (string, error) {
	own := access.ScopeOf(who).ProductID
	switch id := f[ref]; {
	case ref == "down":
		return "", errDown
	case id == "" || own != "" && own != id:
		return "", apperr.NotFoundResource("product", ref)
	default:
		return id, nil
	}
}

// fakePackages resolves packages (id or key) to their product, and
// answers PACKAGE_NOT_FOUND for another product's, as releasepackage does.
type fakePackages struct {
	product map[string]string // package id → product id
	keys    map[string]string // key → package id
	calls   []string          // "product|ref"
}

func (f *fakePackages) IDOf(_ context.Context, _ *access.Principal, _ *account.Tenant, productID, ref string) (string, error) {
	f.calls = append(f.calls, productID+"|"+ref)
	id := cmp.Or(f.keys[ref], ref)
	if f.product[id] != productID {
		return "", apperr.At(apperr.Unprocessable, "PACKAGE_NOT_FOUND", "must exist", apperr.Rel("package"))
	}
	return id, nil
}

// fakeDownloads records who started a download clock.
type fakeDownloads struct{ whos []*access.Principal }

func (f *fakeDownloads) Downloaded(_ context.Context, who *access.Principal, _ *account.Tenant) error {
	f.whos = append(f.whos, who)
	return nil
}

// fakeConstraints attaches known entitlements, answering for an unknown
// one the code and field entitlement.Attach derives from the target.
type fakeConstraints struct {
	known    map[string]bool
	attached []string // "permission|release|ids"
}

func (f *fakeConstraints) Attach(_ context.Context, _ *access.Principal, _ *account.Tenant, permission string, target entitlement.Target, ids []string) ([]entitlement.Attachment, error) {
	for i, id := range ids {
		if !f.known[id] {
			return nil, apperr.At(apperr.Unprocessable, target.Code+"ENTITLEMENT_NOT_FOUND", "entitlement must exist", target.Field.Item(i))
		}
	}
	f.attached = append(f.attached, permission+"|"+target.Table+":"+target.ID+"|"+strings.Join(ids, ","))
	return nil, nil
}

// fakeCatalog records the keys of each kind used; err fails every use.
type fakeCatalog struct {
	used map[string][]string
	err  error
}

func (f *fakeCatalog) Use(_ context.Context, _, kind string, keys ...string) error {
	if f.used == nil {
		f.used = map[string][]string{}
	}
	f.used[kind] = append(f.used[kind], keys...)
	return f.err
}
