package artifact

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/storage"
)

// fakeRecords keeps artifacts in memory and logs what the rules ask of it.
// Like the database's store, it finds by id in every status and by
// filename among the uploaded ones when told to, and hands out copies.
type fakeRecords struct {
	arts      []*Artifact
	createErr error
	finds     []string // "account|ref|uploadedOnly|release"
	lists     []string // "account|uploadedOnly|release|limit"
	settled   []string // "id|failure"
	refused   []string // "id|reason"
	yanked    []string
	counted   []string
	since     []time.Time
	limits    []int
}

var _ Records = (*fakeRecords)(nil)

func (f *fakeRecords) get(id string) *Artifact {
	for _, a := range f.arts {
		if a.ID == id {
			return a
		}
	}
	return nil
}

func (f *fakeRecords) Create(ctx context.Context, a *Artifact, then func(context.Context) error) error {
	if f.createErr != nil {
		return f.createErr
	}
	if err := then(ctx); err != nil {
		return err // rolled back
	}
	c := *a
	f.arts = append(f.arts, &c)
	return nil
}

func (f *fakeRecords) WaitingByKey(_ context.Context, key string) (*Artifact, error) {
	for _, a := range f.arts {
		if a.StorageKey == key && a.Status == Waiting {
			c := *a
			return &c, nil
		}
	}
	return nil, nil
}

// move changes a stored status and failure from the expected status, as
// setStatus does.
func (f *fakeRecords) move(a *Artifact, from, to string, failure *string) {
	if s := f.get(a.ID); s != nil && s.Status == from {
		s.Status, a.Status, s.Failure, a.Failure = to, to, failure, failure
	}
}

func (f *fakeRecords) Settle(_ context.Context, a *Artifact, failure string) error {
	f.settled = append(f.settled, a.ID+"|"+failure)
	if failure == "" {
		f.move(a, Waiting, Uploaded, nil)
	} else {
		f.move(a, Waiting, Failed, &failure)
	}
	return nil
}

func (f *fakeRecords) Refuse(_ context.Context, a *Artifact, reason string) error {
	f.refused = append(f.refused, a.ID+"|"+reason)
	f.move(a, Waiting, Waiting, &reason)
	return nil
}

func (f *fakeRecords) Yank(_ context.Context, a *Artifact) error {
	f.yanked = append(f.yanked, a.ID)
	f.move(a, a.Status, Yanked, a.Failure)
	return nil
}

func (f *fakeRecords) Find(_ context.Context, accountID, ref string, _ *access.Principal, uploadedOnly bool, flt Filter, _ time.Time) (*Artifact, error) {
	f.finds = append(f.finds, fmt.Sprintf("%s|%s|%v|%s", accountID, ref, uploadedOnly, flt.Release))
	for _, a := range slices.Backward(f.arts) { // newest first
		byName := a.Filename == ref && (!uploadedOnly || a.Status == Uploaded)
		if a.AccountID == accountID && (a.ID == ref || byName) && (flt.Release == "" || a.ReleaseID == flt.Release) {
			c := *a
			return &c, nil
		}
	}
	return nil, apperr.NotFoundResource("artifact", ref)
}

func (f *fakeRecords) List(_ context.Context, accountID string, _ *access.Principal, uploadedOnly bool, flt Filter, _ time.Time, p page.Request) ([]Artifact, int64, error) {
	f.lists = append(f.lists, fmt.Sprintf("%s|%v|%s|%d", accountID, uploadedOnly, flt.Release, p.Limit))
	var out []Artifact
	for _, a := range f.arts {
		if a.AccountID == accountID && (!uploadedOnly || a.Status == Uploaded) {
			out = append(out, *a)
		}
	}
	return out, int64(len(out)), nil
}

func (f *fakeRecords) Waiting(_ context.Context, since time.Time, limit int) ([]Artifact, error) {
	f.since, f.limits = append(f.since, since), append(f.limits, limit)
	var out []Artifact
	for _, a := range f.arts {
		if a.Status == Waiting && !a.CreatedAt.Before(since) {
			out = append(out, *a)
		}
	}
	return out, nil
}

func (f *fakeRecords) Update(_ context.Context, a *Artifact) error {
	if stored := f.get(a.ID); stored != nil {
		*stored = *a
	}
	return nil
}

func (f *fakeRecords) CountDownload(_ context.Context, releaseID string) error {
	f.counted = append(f.counted, releaseID)
	return nil
}

// fakeReleases finds releases by id or version and refuses the products
// of refuse.
type fakeReleases struct {
	byRef   map[string]*release.Release
	err     error // every Find fails
	refuse  map[string]error
	finds   []string // "account|ref|narrowing product|package"
	refused []string // "bearer|product"
}

func (f *fakeReleases) Find(_ context.Context, _ *access.Principal, t *account.Tenant, ref string, n release.Narrowing) (*release.Release, error) {
	pkg := "<any>"
	if n.Package != nil {
		pkg = *n.Package
	}
	f.finds = append(f.finds, t.ID+"|"+ref+"|"+n.Product+"|"+pkg)
	if f.err != nil {
		return nil, f.err
	}
	if r, ok := f.byRef[ref]; ok && r.AccountID == t.ID {
		return r, nil
	}
	return nil, apperr.NotFoundResource("release", ref)
}

func (f *fakeReleases) Refuse(_ context.Context, who *access.Principal, _ *account.Tenant, productID string) error {
	bearer := "anonymous"
	if who != nil {
		bearer = who.BearerID
	}
	f.refused = append(f.refused, bearer+"|"+productID)
	return f.refuse[productID]
}

// fakeDownloads records whose downloads started a clock.
type fakeDownloads struct{ whos []*access.Principal }

func (f *fakeDownloads) Downloaded(_ context.Context, who *access.Principal, _ *account.Tenant) error {
	f.whos = append(f.whos, who)
	return nil
}

// fakeCatalog records the keys used, as "kind:key".
type fakeCatalog struct {
	used []string
	err  error
}

func (f *fakeCatalog) Use(_ context.Context, _, kind string, keys ...string) error {
	for _, k := range keys {
		f.used = append(f.used, kind+":"+k)
	}
	return f.err
}

// fakeBlobs is an object store of sizes by key (its objects are zeros); its presigned URLs name
// the operation, key and expiry.
type fakeBlobs struct {
	sizes    map[string]int64
	statErr  error // every Stat fails with it
	presign  error // every presign fails with it
	presigns []string
	deleted  []string
}

var _ storage.Store = (*fakeBlobs)(nil)

func (f *fakeBlobs) url(op, key string, expiry time.Duration) (*url.URL, error) {
	if f.presign != nil {
		return nil, f.presign
	}
	f.presigns = append(f.presigns, op+" "+key+" "+expiry.String())
	return &url.URL{Scheme: "https", Host: "blobs.test", Path: "/" + key, RawQuery: "op=" + op + "&expires=" + expiry.String()}, nil
}

// PresignPut names a signed length as "put=N".
func (f *fakeBlobs) PresignPut(_ context.Context, key string, expiry time.Duration, length ...storage.Length) (*url.URL, error) {
	op := "put"
	for _, n := range length {
		op = fmt.Sprintf("put=%d", n)
	}
	return f.url(op, key, expiry)
}

func (f *fakeBlobs) PresignGet(_ context.Context, key string, expiry time.Duration) (*url.URL, error) {
	return f.url("get", key, expiry)
}

func (f *fakeBlobs) Stat(_ context.Context, key string) (storage.Object, error) {
	if f.statErr != nil {
		return storage.Object{}, f.statErr
	}
	if size, ok := f.sizes[key]; ok {
		return storage.Object{Key: key, Size: size}, nil
	}
	return storage.Object{}, storage.ErrNotFound
}

func (f *fakeBlobs) Read(ctx context.Context, key string, limit int64) ([]byte, error) {
	obj, err := f.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	if obj.Size > limit {
		return nil, storage.ErrTooLarge
	}
	return make([]byte, obj.Size), nil
}

func (f *fakeBlobs) Copy(ctx context.Context, from, to string) error {
	obj, err := f.Stat(ctx, from)
	if err != nil {
		return err
	}
	f.sizes[to] = obj.Size
	return nil
}

func (f *fakeBlobs) Delete(_ context.Context, key string) error {
	f.deleted = append(f.deleted, key)
	return nil
}
