package artifact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/storage"
)

var (
	clock = time.Date(2024, 5, 6, 12, 0, 0, 0, time.UTC)

	admin    = access.NewPrincipal("acct", access.RoleAdmin, access.BearerUser, "u-admin", "t1", nil)
	readOnly = access.NewPrincipal("acct", access.RoleReadOnly, access.BearerUser, "u-ro", "t2", nil)
	prod     = access.NewPrincipal("acct", access.RoleProduct, access.BearerProduct, "prod1", "t3", nil)
	member   = access.NewPrincipal("acct", access.RoleUser, access.BearerUser, "u-user", "t4", nil)
	noRead   = access.NewPrincipal("acct", access.RoleUser, access.BearerUser, "u-narrow", "t5", []string{"release.read", "release.download"})
	lic      = func() *access.Principal {
		p := access.NewPrincipal("acct", access.RoleLicense, access.BearerLicense, "lic1", "", nil)
		p.ProductID, p.PolicyID = "prod1", "pol1"
		return p
	}()
	errDown = apperr.New(apperr.Unavailable, "SERVICE_UNAVAILABLE", "the database is down")
)

// in is the request's account: acct unless another is named.
func in(accountID string) *account.Tenant {
	if accountID == "" {
		accountID = "acct"
	}
	return &account.Tenant{Account: &account.Account{ID: accountID}}
}

func key(id, filename string) string { return "accounts/acct/artifacts/" + id + "/" + filename }

type fixture struct {
	svc       *Service
	records   *fakeRecords
	releases  *fakeReleases
	downloads *fakeDownloads
	catalog   *fakeCatalog
	blobs     *fakeBlobs
}

// newFixture serves, in account acct, release r1 (version 1.0.0) of
// prod1 with an uploaded app.dmg (its object stored), a waiting app.zip
// (10 minutes old, no object yet) and a failed app.exe; and an uploaded
// app.dmg in another account. notifies is the local store's mode.
func newFixture(notifies bool) *fixture {
	r1 := &release.Release{ID: "r1", AccountID: "acct", ProductID: "prod1"}
	at := func(id, account, filename, status string, age time.Duration) *Artifact {
		return &Artifact{ID: id, AccountID: account, ReleaseID: "r1", ProductID: "prod1", Filename: filename,
			Status: status, StorageKey: key(id, filename), CreatedAt: clock.Add(-age)}
	}
	f := &fixture{
		records: &fakeRecords{arts: []*Artifact{
			at("b-up", "other", "app.dmg", Uploaded, 4*time.Hour),
			at("a-up", "acct", "app.dmg", Uploaded, 3*time.Hour),
			at("a-wait", "acct", "app.zip", Waiting, 10*time.Minute),
			at("a-failed", "acct", "app.exe", Failed, 5*time.Hour),
		}},
		releases:  &fakeReleases{byRef: map[string]*release.Release{"r1": r1, "1.0.0": r1}, refuse: map[string]error{}},
		downloads: &fakeDownloads{},
		catalog:   &fakeCatalog{},
		blobs:     &fakeBlobs{sizes: map[string]int64{key("a-up", "app.dmg"): 100}},
	}
	f.svc = NewService(f.records, f.releases, f.downloads, f.catalog, f.blobs, notifies)
	f.svc.now = func() time.Time { return clock }
	return f
}

// wantErr checks an error's kind, code and (when given) what it is about:
// "parameter:NAME", "attribute:NAME" or "relationship:NAME".
func wantErr(t *testing.T, err error, kind apperr.Kind, code, about string) {
	t.Helper()
	e := apperr.As(err)
	if err == nil || e.Kind != kind || e.Code != code {
		t.Fatalf("err = %v, want kind %d %s", err, kind, code)
	}
	var got string
	switch src := e.Source; {
	case src == nil:
	case src.Parameter != "":
		got = "parameter:" + src.Parameter
	case src.Field != nil:
		got = map[apperr.Part]string{apperr.InAttribute: "attribute:", apperr.InRelationship: "relationship:"}[src.Field.Part] + src.Field.Name
	}
	if got != about {
		t.Fatalf("%s is about %q, want %q", code, got, about)
	}
}

// want is an expected outcome: an artifact (by id) or an error.
type want struct {
	id    string
	kind  apperr.Kind
	code  string
	about string
	errIs error
}

func (w want) check(t *testing.T, a *Artifact, err error) {
	t.Helper()
	switch {
	case w.errIs != nil:
		if !errors.Is(err, w.errIs) {
			t.Fatalf("err = %v, want %v", err, w.errIs)
		}
	case w.code != "":
		wantErr(t, err, w.kind, w.code, w.about)
	case err != nil:
		t.Fatal(err)
	case a == nil || a.ID != w.id:
		t.Fatalf("artifact %+v, want %s", a, w.id)
	}
}

var notFound = want{kind: apperr.NotFound, code: "NOT_FOUND"}

func TestFind(t *testing.T) {
	tests := []struct {
		name      string
		who       *access.Principal
		accountID string // the request's account ("" for acct)
		ref       string
		filter    Filter
		refuse    error // the release's Refuse of prod1
		want      want
		finds     []string // the store's lookups
		refused   []string
	}{
		{name: "user sees uploaded", who: member, ref: "a-up", want: want{id: "a-up"},
			finds: []string{"acct|a-up|true|"}, refused: []string{"u-user|prod1"}},
		{name: "by filename", who: lic, ref: "app.dmg", want: want{id: "a-up"},
			finds: []string{"acct|app.dmg|true|"}, refused: []string{"lic1|prod1"}},
		{name: "anonymous in the account it names", accountID: "acct", ref: "a-up", want: want{id: "a-up"},
			finds: []string{"acct|a-up|true|"}, refused: []string{"anonymous|prod1"}},
		{name: "anonymous in another account", accountID: "other", ref: "b-up", want: want{id: "b-up"},
			finds: []string{"other|b-up|true|"}, refused: []string{"anonymous|prod1"}},
		{name: "a principal of another account does not authenticate", who: admin, accountID: "other", ref: "b-up",
			want: want{kind: apperr.Unauthenticated, code: "TOKEN_INVALID"}, finds: []string{}},
		{name: "waiting hidden from a user", who: member, ref: "a-wait", want: notFound},
		{name: "waiting hidden from a license", who: lic, ref: "a-wait", want: notFound},
		{name: "waiting hidden from anonymous", accountID: "acct", ref: "a-wait", want: notFound},
		{name: "waiting hidden before the permission is asked", who: noRead, ref: "a-wait", want: notFound},
		{name: "failed hidden from a user", who: member, ref: "a-failed", want: notFound},
		{name: "waiting shown to an admin", who: admin, ref: "a-wait", want: want{id: "a-wait"},
			finds: []string{"acct|a-wait|false|"}, refused: []string{"u-admin|prod1"}},
		{name: "waiting shown to read-only staff", who: readOnly, ref: "a-wait", want: want{id: "a-wait"}},
		{name: "waiting shown to a product", who: prod, ref: "a-wait", want: want{id: "a-wait"}},
		{name: "failed shown to a product", who: prod, ref: "a-failed", want: want{id: "a-failed"}},
		{name: "artifact.read required", who: noRead, ref: "a-up", want: want{kind: apperr.Forbidden, code: "ACCESS_DENIED"}},
		{name: "the release refuses", who: lic, ref: "a-up", refuse: access.Denied("license is suspended"),
			want: want{kind: apperr.Forbidden, code: "ACCESS_DENIED"}, refused: []string{"lic1|prod1"}},
		{name: "unknown", who: admin, ref: "nope", want: notFound},
		{name: "release filter resolved to its id", who: member, ref: "app.dmg", filter: Filter{Release: "1.0.0", Product: "prod1"},
			want: want{id: "a-up"}, finds: []string{"acct|app.dmg|true|r1"}},
		{name: "release filter of no release", who: member, ref: "app.dmg", filter: Filter{Release: "9.9.9"}, want: notFound, finds: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(false)
			if tt.refuse != nil {
				f.releases.refuse["prod1"] = tt.refuse
			}
			a, err := f.svc.Find(context.Background(), tt.who, in(tt.accountID), tt.ref, tt.filter)
			tt.want.check(t, a, err)
			if tt.want.code == "NOT_FOUND" && !strings.Contains(apperr.As(err).Detail, "'") {
				t.Errorf("not found %q names nothing", apperr.As(err).Detail)
			}
			if tt.finds != nil && !slices.Equal(f.records.finds, tt.finds) {
				t.Errorf("store asked %v, want %v", f.records.finds, tt.finds)
			}
			if tt.refused != nil && !slices.Equal(f.releases.refused, tt.refused) {
				t.Errorf("refusals asked %v, want %v", f.releases.refused, tt.refused)
			}
			if tt.want.code == "NOT_FOUND" && len(f.releases.refused) != 0 {
				t.Errorf("a hidden artifact was put to its release: %v", f.releases.refused)
			}
		})
	}
	t.Run("release filter narrowed by product and package", func(t *testing.T) {
		f := newFixture(false)
		pkg := "pkg1"
		if _, err := f.svc.Find(context.Background(), member, in("acct"), "app.dmg", Filter{Release: "r1", Product: "prod1", Package: &pkg}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(f.releases.finds, []string{"acct|r1|prod1|pkg1"}) {
			t.Errorf("releases asked %v", f.releases.finds)
		}
	})
}

func TestList(t *testing.T) {
	tests := []struct {
		name      string
		who       *access.Principal
		accountID string
		filter    Filter
		want      want
		ids       []string
		lists     []string
	}{
		{name: "user: uploaded only", who: member, ids: []string{"a-up"}, lists: []string{"acct|true||25"}},
		{name: "anonymous: uploaded only, in the named account", accountID: "acct", ids: []string{"a-up"}, lists: []string{"acct|true||25"}},
		{name: "admin: every status", who: admin, ids: []string{"a-up", "a-wait", "a-failed"}, lists: []string{"acct|false||25"}},
		{name: "a principal of another account does not authenticate", who: admin, accountID: "other",
			want: want{kind: apperr.Unauthenticated, code: "TOKEN_INVALID"}},
		{name: "product: every status", who: prod, ids: []string{"a-up", "a-wait", "a-failed"}, lists: []string{"acct|false||25"}},
		{name: "release filter resolved", who: member, filter: Filter{Release: "1.0.0"}, ids: []string{"a-up"}, lists: []string{"acct|true|r1|25"}},
		{name: "release filter of no release", who: member, filter: Filter{Release: "2.0.0"}, want: notFound},
		{name: "artifact.read required", who: noRead, want: want{kind: apperr.Forbidden, code: "ACCESS_DENIED"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(false)
			got, n, err := f.svc.List(context.Background(), tt.who, in(tt.accountID), tt.filter, page.Request{Limit: 25})
			if tt.want.code != "" {
				tt.want.check(t, nil, err)
				if len(f.records.lists) != 0 {
					t.Errorf("listed %v after a refusal", f.records.lists)
				}
				return
			}
			var ids []string
			for _, a := range got {
				ids = append(ids, a.ID)
			}
			if err != nil || !slices.Equal(ids, tt.ids) || n != int64(len(tt.ids)) || !slices.Equal(f.records.lists, tt.lists) {
				t.Errorf("%v (%d), %v after %v; want %v after %v", ids, n, err, f.records.lists, tt.ids, tt.lists)
			}
		})
	}
}

type downloadCase struct {
	name    string
	who     *access.Principal
	req     DownloadRequest
	presign error
	want    want
	url     string // the presigned GET, "" for none
}

// ttlCases download app.dmg: privileged bearers get the TTL they ask
// for, others the default.
func ttlCases() []downloadCase {
	var out []downloadCase
	for _, c := range []struct {
		name   string
		who    *access.Principal
		ttl    int
		expiry time.Duration
	}{
		{"admin, default ttl", admin, 0, DefaultDownload},
		{"admin, shortest ttl", admin, 60, time.Minute},
		{"admin, longest ttl", admin, 604800, 7 * 24 * time.Hour},
		{"read-only staff, its ttl", readOnly, 3600, time.Hour},
		{"product, its ttl", prod, 120, 2 * time.Minute},
		{"user, the default", member, 3600, DefaultDownload},
		{"license, the default", lic, 604800, DefaultDownload},
		{"anonymous, the default", nil, 600, DefaultDownload},
	} {
		out = append(out, downloadCase{name: c.name, who: c.who, req: DownloadRequest{Ref: "app.dmg", TTL: c.ttl, Redirect: true},
			want: want{id: "a-up"}, url: "get " + key("a-up", "app.dmg") + " " + c.expiry.String()})
	}
	return out
}

func TestDownload(t *testing.T) {
	tests := append(ttlCases(), []downloadCase{
		{name: "ttl under a minute", who: admin, req: DownloadRequest{Ref: "a-up", TTL: 59, Redirect: true},
			want: want{kind: apperr.Invalid, code: "PARAMETERS_INVALID", about: "parameter:ttl"}},
		{name: "ttl over a week", who: admin, req: DownloadRequest{Ref: "a-up", TTL: 604801, Redirect: true},
			want: want{kind: apperr.Invalid, code: "PARAMETERS_INVALID", about: "parameter:ttl"}},
		{name: "ttl negative", who: member, req: DownloadRequest{Ref: "a-up", TTL: -60, Redirect: true},
			want: want{kind: apperr.Invalid, code: "PARAMETERS_INVALID", about: "parameter:ttl"}},
		{name: "ttl out of range even where it would be ignored", who: lic, req: DownloadRequest{Ref: "a-up", TTL: 30, Redirect: true},
			want: want{kind: apperr.Invalid, code: "PARAMETERS_INVALID", about: "parameter:ttl"}},
		{name: "id with its filename", who: member, req: DownloadRequest{Ref: "a-up", Filename: "app.dmg", Redirect: true},
			want: want{id: "a-up"}, url: "get " + key("a-up", "app.dmg") + " 15m0s"},
		{name: "id with another filename", who: admin, req: DownloadRequest{Ref: "a-up", Filename: "app.zip", Redirect: true}, want: notFound},
		{name: "filenames are exact", who: admin, req: DownloadRequest{Ref: "a-up", Filename: "APP.DMG", Redirect: true}, want: notFound},
		{name: "not uploaded: shown, not downloaded", who: admin, req: DownloadRequest{Ref: "a-wait", TTL: 600, Redirect: true}, want: want{id: "a-wait"}},
		{name: "failed: shown, not downloaded", who: prod, req: DownloadRequest{Ref: "a-failed", Redirect: true}, want: want{id: "a-failed"}},
		{name: "not uploaded: hidden from a user", who: member, req: DownloadRequest{Ref: "a-wait", Redirect: true}, want: notFound},
		{name: "no redirect: shown, not downloaded", who: member, req: DownloadRequest{Ref: "a-up"}, want: want{id: "a-up"}},
		{name: "artifact.read required", who: noRead, req: DownloadRequest{Ref: "a-up", Redirect: true}, want: want{kind: apperr.Forbidden, code: "ACCESS_DENIED"}},
		{name: "presigning fails", who: member, req: DownloadRequest{Ref: "a-up", Redirect: true}, presign: errDown, want: want{errIs: errDown}},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(false)
			f.blobs.presign = tt.presign
			a, u, err := f.svc.Download(context.Background(), tt.who, in("acct"), tt.req)
			tt.want.check(t, a, err)
			if tt.want.about == "parameter:ttl" && len(f.records.finds) != 0 {
				t.Errorf("an invalid ttl still looked up %v", f.records.finds)
			}
			if tt.url == "" {
				if u != "" || len(f.blobs.presigns)+len(f.records.counted)+len(f.downloads.whos) != 0 {
					t.Errorf("url %q, presigned %v, counted %v, clocks of %v; want no download", u, f.blobs.presigns, f.records.counted, f.downloads.whos)
				}
				return
			}
			if !slices.Equal(f.blobs.presigns, []string{tt.url}) || !strings.HasPrefix(u, "https://blobs.test/"+key("a-up", "app.dmg")+"?op=get") {
				t.Errorf("presigned %v, url %q; want %s", f.blobs.presigns, u, tt.url)
			}
			if !slices.Equal(f.records.counted, []string{"r1"}) || len(f.downloads.whos) != 1 || f.downloads.whos[0] != tt.who {
				t.Errorf("counted %v, clocks of %v; want r1 once, and the principal's clock", f.records.counted, f.downloads.whos)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	s := func(v string) optional.Value[*string] { return optional.Of(&v) }
	size := func(v int64) optional.Value[*int64] { return optional.Of(&v) }
	named := func(name string) Params { return Params{Filename: optional.Of(name)} }
	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	tests := []struct {
		name       string
		who        *access.Principal
		release    string
		p          Params
		releaseErr error
		createErr  error
		catalogErr error
		want       want
		check      func(t *testing.T, a *Artifact)
		used       []string // catalog keys, sorted
	}{
		{name: "anonymous", release: "r1", p: named("app.dmg"), want: want{kind: apperr.Unauthenticated, code: "TOKEN_MISSING"}},
		{name: "license lacks artifact.create", who: lic, release: "r1", p: named("app.dmg"), want: want{kind: apperr.Forbidden, code: "ACCESS_DENIED"}},
		{name: "user lacks artifact.create", who: member, release: "r1", p: named("app.dmg"), want: want{kind: apperr.Forbidden, code: "ACCESS_DENIED"}},
		{name: "no release", who: admin, p: named("app.dmg"),
			want: want{kind: apperr.Unprocessable, code: "RELEASE_NOT_FOUND", about: "relationship:release"}},
		{name: "release of no record", who: admin, release: "2.0.0", p: named("app.dmg"),
			want: want{kind: apperr.Unprocessable, code: "RELEASE_NOT_FOUND", about: "relationship:release"}},
		{name: "release lookup fails", who: admin, release: "r1", p: named("app.dmg"), releaseErr: errDown, want: want{errIs: errDown}},
		{name: "filename missing", who: admin, release: "r1", want: want{kind: apperr.Unprocessable, code: "FILENAME_MISSING", about: "attribute:filename"}},
		{name: "filename blank", who: admin, release: "r1", p: named(" \t "), want: want{kind: apperr.Unprocessable, code: "FILENAME_MISSING", about: "attribute:filename"}},
		{name: "filename too long", who: prod, release: "r1", p: named(strings.Repeat("a", 256)),
			want: want{kind: apperr.Unprocessable, code: "FILENAME_INVALID", about: "attribute:filename"}},
		{name: "filename with a slash", who: admin, release: "r1", p: named("bin/app"),
			want: want{kind: apperr.Unprocessable, code: "FILENAME_INVALID", about: "attribute:filename"}},
		{name: "filename with a backslash", who: admin, release: "r1", p: named(`bin\app`),
			want: want{kind: apperr.Unprocessable, code: "FILENAME_INVALID", about: "attribute:filename"}},
		{name: "filename with a NUL", who: admin, release: "r1", p: named("app\x00.exe"),
			want: want{kind: apperr.Unprocessable, code: "FILENAME_INVALID", about: "attribute:filename"}},
		{name: "filename dot", who: admin, release: "r1", p: named(" . "), want: want{kind: apperr.Unprocessable, code: "FILENAME_INVALID", about: "attribute:filename"}},
		{name: "filename dot dot", who: admin, release: "r1", p: named(".."), want: want{kind: apperr.Unprocessable, code: "FILENAME_INVALID", about: "attribute:filename"}},
		{name: "negative filesize", who: admin, release: "r1", p: Params{Filename: optional.Of("a"), Filesize: size(-1)},
			want: want{kind: apperr.Unprocessable, code: "FILESIZE_INVALID", about: "attribute:filesize"}},
		{name: "filename taken", who: admin, release: "r1", p: named("app.dmg"), createErr: apperr.Attribute("filename", "TAKEN", "has already been taken"),
			want: want{kind: apperr.Unprocessable, code: "FILENAME_TAKEN", about: "attribute:filename"}},
		{name: "recording the platform fails", who: admin, release: "r1", p: Params{Filename: optional.Of("a"), Platform: s("linux")},
			catalogErr: errDown, want: want{errIs: errDown}},
		{name: "the longest filename, trimmed", who: admin, release: "r1", p: named(" " + strings.Repeat("a", 255) + " "), check: func(t *testing.T, a *Artifact) {
			if a.Filename != strings.Repeat("a", 255) {
				t.Errorf("filename %q", a.Filename)
			}
		}},
		{name: "defaults", who: prod, release: "1.0.0", p: named("app.dmg"), check: func(t *testing.T, a *Artifact) {
			if a.AccountID != "acct" || a.ReleaseID != "r1" || a.ProductID != "prod1" || a.Filename != "app.dmg" || a.Status != Waiting ||
				a.StorageKey != key(a.ID, "app.dmg") || len(a.ID) != 36 || a.Metadata == nil || len(a.Metadata) != 0 ||
				a.Filetype != nil || a.Filesize != nil || a.Platform != nil || a.Arch != nil || a.Checksum != nil || a.Signature != nil {
				t.Errorf("artifact %+v", a)
			}
		}},
		{name: "attributes normalised", who: admin, release: "r1", p: Params{Filename: optional.Of("App.DMG"), Filetype: s(" .DMG "),
			Filesize: size(0), Platform: s(" MacOS "), Arch: s("ARM64"), Checksum: s("Sha=="), Signature: s("Sig=="),
			Metadata: optional.Of(map[string]any{"Channel": "Beta"})},
			used: []string{"arches:arm64", "platforms:macos"}, check: func(t *testing.T, a *Artifact) {
				if a.Filename != "App.DMG" || str(a.Filetype) != "dmg" || *a.Filesize != 0 || str(a.Platform) != "macos" || str(a.Arch) != "arm64" ||
					str(a.Checksum) != "Sha==" || str(a.Signature) != "Sig==" || a.Metadata["Channel"] != "Beta" {
					t.Errorf("artifact %+v", a)
				}
			}},
		{name: "compound filetype keeps its inner dot", who: admin, release: "r1", p: Params{Filename: optional.Of("a"), Filetype: s("Tar.GZ")},
			check: func(t *testing.T, a *Artifact) {
				if str(a.Filetype) != "tar.gz" {
					t.Errorf("filetype %q", str(a.Filetype))
				}
			}},
		{name: "blank platform and arch not recorded", who: admin, release: "r1", p: Params{Filename: optional.Of("a"), Platform: s(" "), Arch: s("")},
			check: func(t *testing.T, a *Artifact) {
				if str(a.Platform) != "" || str(a.Arch) != "" {
					t.Errorf("platform %q arch %q", str(a.Platform), str(a.Arch))
				}
			}},
		{name: "null metadata is empty", who: admin, release: "r1", p: Params{Filename: optional.Of("a"), Metadata: optional.Of[map[string]any](nil)},
			check: func(t *testing.T, a *Artifact) {
				if a.Metadata == nil || len(a.Metadata) != 0 {
					t.Errorf("metadata %#v", a.Metadata)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(false)
			f.releases.err, f.records.createErr, f.catalog.err = tt.releaseErr, tt.createErr, tt.catalogErr
			before := len(f.records.arts)
			a, u, err := f.svc.Create(context.Background(), tt.who, in("acct"), tt.release, tt.p)
			if tt.check == nil {
				tt.want.check(t, a, err)
				if a != nil || u != "" || len(f.records.arts) != before || len(f.blobs.presigns) != 0 {
					t.Errorf("a refused create returned %+v, %q, stored %d, presigned %v", a, u, len(f.records.arts)-before, f.blobs.presigns)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, a)
			if stored := f.records.get(a.ID); stored == nil || stored.Status != Waiting {
				t.Errorf("not stored waiting: %+v", stored)
			}
			op := "put" // a declared filesize is signed into the URL
			if a.Filesize != nil {
				op = fmt.Sprintf("put=%d", *a.Filesize)
			}
			upload := "accounts/acct/uploads/" + a.ID + "/" + a.Filename // S3's: aside from the storage key
			if !slices.Equal(f.blobs.presigns, []string{op + " " + upload + " 1h0m0s"}) || u != "https://blobs.test/"+upload+"?op="+op+"&expires=1h0m0s" {
				t.Errorf("presigned %v, url %q; want one PUT for the upload window", f.blobs.presigns, u)
			}
			if slices.Sort(f.catalog.used); !slices.Equal(f.catalog.used, tt.used) {
				t.Errorf("catalog %v, want %v", f.catalog.used, tt.used)
			}
			if want := []string{"acct|" + tt.release + "||<any>"}; !slices.Equal(f.releases.finds, want) {
				t.Errorf("releases asked %v, want %v", f.releases.finds, want)
			}
		})
	}
}

// TestReceive: a PUT to the local store lands only for a waiting artifact,
// only at its declared filesize and checksum (hex or base64, SHA-256 or
// SHA-512); a refusal is recorded and leaves the stored object alone.
func TestReceive(t *testing.T) {
	body := []byte("hello")
	s256, s512 := sha256.Sum256(body), sha512.Sum512(body)
	md5ish := hex.EncodeToString(make([]byte, 16))
	size := int64(len(body))
	tests := []struct {
		name     string
		ref      string // the artifact whose key the PUT goes to
		filesize *int64
		checksum string
		sent     int64 // the declared Content-Length
		code     string
		refused  string
	}{
		{name: "waiting, nothing declared", ref: "a-wait", sent: size},
		{name: "the declared filesize", ref: "a-wait", filesize: &size, sent: size},
		{name: "hex sha256", ref: "a-wait", checksum: hex.EncodeToString(s256[:]), sent: size},
		{name: "0x-prefixed upper-case hex sha256", ref: "a-wait", checksum: "0x" + strings.ToUpper(hex.EncodeToString(s256[:])), sent: size},
		{name: "base64 sha512", ref: "a-wait", checksum: base64.StdEncoding.EncodeToString(s512[:]), sent: size},
		{name: "another algorithm is not verified", ref: "a-wait", checksum: md5ish, sent: size},
		{name: "a second PUT", ref: "a-up", sent: size, code: "UPLOAD_URL_USED"},
		{name: "a failed artifact", ref: "a-failed", sent: size, code: "UPLOAD_URL_USED"},
		{name: "another size than declared", ref: "a-wait", filesize: &size, sent: 3 << 20, code: "FILESIZE_MISMATCH",
			refused: "a-wait|an upload of 3145728 bytes was refused: the declared filesize is 5"},
		{name: "another sha256", ref: "a-wait", checksum: hex.EncodeToString(make([]byte, 32)), sent: size, code: "CHECKSUM_MISMATCH",
			refused: "a-wait|an upload was refused: its sha256 does not match the declared checksum"},
		{name: "another sha512", ref: "a-wait", checksum: base64.StdEncoding.EncodeToString(make([]byte, 64)), sent: size, code: "CHECKSUM_MISMATCH",
			refused: "a-wait|an upload was refused: its sha512 does not match the declared checksum"},
		{name: "a body shorter than its length", ref: "a-wait", sent: size + 1, code: "UPLOAD_INCOMPLETE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(true)
			local, err := storage.NewLocal(t.TempDir(), []byte("k"), nil)
			if err != nil {
				t.Fatal(err)
			}
			a := f.records.get(tt.ref)
			a.Filesize = tt.filesize
			if tt.checksum != "" {
				a.Checksum = &tt.checksum
			}
			if err := local.Write(a.StorageKey, strings.NewReader("old"), -1); err != nil {
				t.Fatal(err)
			}
			err = f.svc.Receive(context.Background(), local, a.StorageKey, bytes.NewReader(body), tt.sent)
			stored, _ := local.Read(context.Background(), a.StorageKey, 100)
			if tt.code != "" {
				if e := apperr.As(err); e == nil || e.Code != tt.code {
					t.Fatalf("err = %v, want %s", err, tt.code)
				}
				if string(stored) != "old" || a.Status == Uploaded && len(f.records.settled) != 0 {
					t.Errorf("a refused PUT stored %q, settled %v", stored, f.records.settled)
				}
				if tt.refused != "" && (!slices.Equal(f.records.refused, []string{tt.refused}) || a.Status != Waiting || *a.Failure != tt.refused[len("a-wait|"):]) {
					t.Errorf("refused %v, status %s; want %q recorded, still waiting", f.records.refused, a.Status, tt.refused)
				}
				return
			}
			if err != nil || a.Status != Uploaded || string(stored) != "hello" || !slices.Equal(f.records.settled, []string{"a-wait|"}) {
				t.Fatalf("err %v, status %s, stored %q, settled %v; want UPLOADED with the body", err, a.Status, stored, f.records.settled)
			}
			// The URL is used: a second PUT is refused and the bytes stay.
			err = f.svc.Receive(context.Background(), local, a.StorageKey, strings.NewReader("HACKD"), 5)
			if stored, _ := local.Read(context.Background(), a.StorageKey, 100); apperr.As(err) == nil || apperr.As(err).Code != "UPLOAD_URL_USED" || string(stored) != "hello" {
				t.Fatalf("second PUT: %v, stored %q", err, stored)
			}
		})
	}
}

func TestYank(t *testing.T) {
	tests := []struct {
		name string
		who  *access.Principal
		ref  string
		want want
	}{
		{name: "admin yanks", who: admin, ref: "a-up", want: want{id: "a-up"}},
		{name: "product yanks a waiting one", who: prod, ref: "a-wait", want: want{id: "a-wait"}},
		{name: "by filename", who: admin, ref: "app.exe", want: want{id: "a-failed"}},
		{name: "user lacks artifact.delete", who: member, ref: "a-up", want: want{kind: apperr.Forbidden, code: "ACCESS_DENIED"}},
		{name: "read-only lacks artifact.delete", who: readOnly, ref: "a-up", want: want{kind: apperr.Forbidden, code: "ACCESS_DENIED"}},
		{name: "license lacks artifact.delete", who: lic, ref: "a-up", want: want{kind: apperr.Forbidden, code: "ACCESS_DENIED"}},
		{name: "hidden from a user", who: member, ref: "a-wait", want: notFound},
		{name: "anonymous", ref: "a-up", want: want{kind: apperr.Unauthenticated, code: "TOKEN_MISSING"}},
		{name: "unknown", who: admin, ref: "nope", want: notFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(false)
			err := f.svc.Yank(context.Background(), tt.who, in("acct"), tt.ref, Filter{})
			if tt.want.id == "" {
				tt.want.check(t, nil, err)
				if len(f.records.yanked)+len(f.blobs.deleted) != 0 {
					t.Errorf("a refused yank yanked %v and deleted %v", f.records.yanked, f.blobs.deleted)
				}
				return
			}
			a := f.records.get(tt.want.id)
			if err != nil || a.Status != Yanked || !slices.Equal(f.blobs.deleted, []string{f.svc.UploadKey(a), a.StorageKey}) {
				t.Errorf("%v: status %s, deleted %v; want YANKED and its object deleted", err, a.Status, f.blobs.deleted)
			}
		})
	}
}

func TestSettle(t *testing.T) {
	zeros := sha256.Sum256(make([]byte, 100))
	const late = "w|no upload arrived within the upload window"
	tests := []struct {
		name     string
		notifies bool
		age      time.Duration
		object   bool  // its object is stored (100 zero bytes)
		big      bool  // its object is over MaxVerifiedRead
		statErr  error // Stat fails
		filesize int64 // declared, when not 0
		checksum string
		status   string
		settled  []string
		errIs    error
	}{
		{name: "s3: object landed", age: 10 * time.Minute, object: true, status: Uploaded, settled: []string{"w|"}},
		{name: "s3: object landed, window passed", age: 2 * time.Hour, object: true, status: Uploaded, settled: []string{"w|"}},
		{name: "s3: object of the declared size and checksum", age: time.Minute, object: true, filesize: 100,
			checksum: base64.StdEncoding.EncodeToString(zeros[:]), status: Uploaded, settled: []string{"w|"}},
		{name: "s3: object of another size", age: time.Minute, object: true, filesize: 5, status: Failed,
			settled: []string{"w|the stored object is 100 bytes: the declared filesize is 5"}},
		{name: "s3: object of another checksum", age: time.Minute, object: true, checksum: hex.EncodeToString(make([]byte, 32)), status: Failed,
			settled: []string{"w|the stored object's sha256 does not match the declared checksum"}},
		{name: "s3: a big object", age: time.Minute, object: true, big: true, checksum: hex.EncodeToString(make([]byte, 32)), status: Uploaded, settled: []string{"w|"}},
		{name: "s3: no object yet", age: 59 * time.Minute, status: Waiting},
		{name: "s3: no object at the window's end", age: UploadWindow, status: Waiting},
		{name: "s3: no object past the window", age: UploadWindow + time.Second, status: Failed, settled: []string{late}},
		{name: "s3: stat fails", age: 2 * time.Hour, statErr: errDown, status: Waiting, errIs: errDown},
		{name: "local: within the window", notifies: true, age: 59 * time.Minute, object: true, status: Waiting},
		{name: "local: at the window's end", notifies: true, age: UploadWindow, status: Waiting},
		{name: "local: past the window", notifies: true, age: UploadWindow + time.Millisecond, object: true, status: Failed, settled: []string{late}},
	}
	for _, tt := range tests {
		for _, via := range []string{"SettleWaiting", "Find"} {
			t.Run(tt.name+" via "+via, func(t *testing.T) {
				f := newFixture(tt.notifies)
				w := &Artifact{ID: "w", AccountID: "acct", ReleaseID: "r1", ProductID: "prod1", Filename: "w.bin", Status: Waiting,
					StorageKey: key("w", "w.bin"), CreatedAt: clock.Add(-tt.age)}
				f.records.arts = []*Artifact{w}
				if tt.filesize != 0 {
					w.Filesize = &tt.filesize
				}
				if tt.checksum != "" {
					w.Checksum = &tt.checksum
				}
				size := int64(100)
				if tt.big {
					size = MaxVerifiedRead + 1
				}
				if tt.object {
					f.blobs.sizes[f.svc.UploadKey(w)] = size
				}
				f.blobs.statErr = tt.statErr
				var err error
				if via == "Find" {
					_, err = f.svc.Find(context.Background(), admin, in("acct"), "w", Filter{})
				} else {
					err = f.svc.SettleWaiting(context.Background())
				}
				if tt.errIs != nil && !errors.Is(err, tt.errIs) || tt.errIs == nil && err != nil {
					t.Fatalf("err = %v, want %v", err, tt.errIs)
				}
				status, settled := tt.status, tt.settled
				if tt.big && via == "Find" {
					status, settled = Waiting, nil // left to the pass
				}
				if w.Status != status || !slices.Equal(f.records.settled, settled) {
					t.Errorf("status %s, settled %v; want %s, %v", w.Status, f.records.settled, status, settled)
				}
				// On S3 an upload is served from its storage key once
				// checked; its upload key goes once it is decided.
				_, served := f.blobs.sizes[w.StorageKey]
				if !tt.notifies && served != (w.Status == Uploaded) || !tt.notifies && w.Status != Waiting && !slices.Equal(f.blobs.deleted, []string{f.svc.UploadKey(w)}) {
					t.Errorf("status %s: served %v, deleted %v", w.Status, served, f.blobs.deleted)
				}
			})
		}
	}
}

func TestSettleWaitingPass(t *testing.T) {
	f := newFixture(false)
	old := func(id string, age time.Duration, status string) *Artifact {
		return &Artifact{ID: id, AccountID: "acct", Status: status, StorageKey: key(id, "f"), CreatedAt: clock.Add(-age)}
	}
	f.records.arts = []*Artifact{
		old("landed", 30*time.Minute, Waiting),
		old("late", 90*time.Minute, Waiting),
		old("fresh", 5*time.Minute, Waiting),
		old("too-old", 2*UploadWindow+time.Second, Waiting), // beyond what a pass reads
		old("done", 3*time.Hour, Uploaded),
	}
	f.blobs.sizes[f.svc.UploadKey(f.records.get("landed"))] = 7
	if err := f.svc.SettleWaiting(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.records.since, []time.Time{clock.Add(-2 * UploadWindow)}) || !slices.Equal(f.records.limits, []int{100}) {
		t.Errorf("read waiting since %v, %v at a time; want two windows back, 100", f.records.since, f.records.limits)
	}
	var statuses []string
	for _, a := range f.records.arts {
		statuses = append(statuses, a.ID+":"+a.Status)
	}
	want := []string{"landed:UPLOADED", "late:FAILED", "fresh:WAITING", "too-old:WAITING", "done:UPLOADED"}
	if !slices.Equal(statuses, want) || !slices.Equal(f.records.settled, []string{"landed|", "late|no upload arrived within the upload window"}) {
		t.Errorf("statuses %v, settled %v; want %v", statuses, f.records.settled, want)
	}

	// One failing Stat does not stop the pass; its error is reported.
	f = newFixture(false)
	f.records.arts = []*Artifact{old("a", 2*time.Hour, Waiting), old("b", 2*time.Hour, Waiting)}
	f.blobs.statErr = errDown
	if err := f.svc.SettleWaiting(context.Background()); !errors.Is(err, errDown) || strings.Count(err.Error(), "SERVICE_UNAVAILABLE") != 2 {
		t.Errorf("err = %v, want both Stat errors joined", err)
	}
}
