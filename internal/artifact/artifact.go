// Package artifact is a file of a release (an installer, an archive, an
// update manifest). Files go straight to object storage through presigned
// URLs: an artifact waits for its upload, and is served only once uploaded,
// through a short-lived presigned download URL.
package artifact

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/catalog"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/storage"
)

// Statuses.
const (
	Waiting  = "WAITING"
	Uploaded = "UPLOADED"
	Failed   = "FAILED"
	Yanked   = "YANKED"
)

// Windows of the upload and download URLs.
const (
	UploadWindow    = time.Hour
	DefaultDownload = 15 * time.Minute
)

// Artifact is a stored artifact.
type Artifact struct {
	ID        string `gorm:"primaryKey"`
	AccountID string
	ReleaseID string
	ProductID string
	Filename  string
	Filetype  *string
	Filesize  *int64
	Platform  *string
	Arch      *string
	Checksum  *string
	Signature *string
	Status    string
	// Failure says why the artifact FAILED, or why its last upload was
	// refused while it waits; nil when nothing went wrong.
	Failure    *string
	StorageKey string
	Metadata   map[string]any `gorm:"serializer:json"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Params are the writable attributes of an artifact.
type Params struct {
	Filename  optional.Value[string]         `json:"filename"`
	Filetype  optional.Value[*string]        `json:"filetype"`
	Filesize  optional.Value[*int64]         `json:"filesize"`
	Platform  optional.Value[*string]        `json:"platform"`
	Arch      optional.Value[*string]        `json:"arch"`
	Checksum  optional.Value[*string]        `json:"checksum"`
	Signature optional.Value[*string]        `json:"signature"`
	Metadata  optional.Value[map[string]any] `json:"metadata"`
}

// Releases finds the releases artifacts belong to, as who sees them.
type Releases interface {
	Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, n release.Narrowing) (*release.Release, error)
	Refuse(ctx context.Context, who *access.Principal, t *account.Tenant, productID string) error
}

// Records persists artifacts: what the rules ask of the store (*Store is
// the database's).
type Records interface {
	Create(ctx context.Context, a *Artifact, then func(context.Context) error) error
	// WaitingByKey returns the waiting artifact stored under key, nil
	// when none waits.
	WaitingByKey(ctx context.Context, key string) (*Artifact, error)
	// Settle moves a waiting artifact to UPLOADED, or to FAILED for the
	// failure given; a.Status changes only if it still waited.
	Settle(ctx context.Context, a *Artifact, failure string) error
	// Refuse records why an upload of a waiting artifact was refused.
	Refuse(ctx context.Context, a *Artifact, reason string) error
	Yank(ctx context.Context, a *Artifact) error
	Find(ctx context.Context, accountID, ref string, who *access.Principal, uploadedOnly bool, f Filter, now time.Time) (*Artifact, error)
	List(ctx context.Context, accountID string, who *access.Principal, uploadedOnly bool, f Filter, now time.Time, p page.Request) ([]Artifact, int64, error)
	Waiting(ctx context.Context, since time.Time, limit int) ([]Artifact, error)
	CountDownload(ctx context.Context, releaseID string) error
	// Update writes an artifact's filesize, checksum, signature and metadata.
	Update(ctx context.Context, a *Artifact) error
}

var _ Records = (*Store)(nil)

// Service holds the artifact rules.
type Service struct {
	store     Records
	releases  Releases
	downloads release.Downloads
	catalog   catalog.Recorder
	storage   storage.Store
	// notifiesUploads: the store tells relkey about uploads (the local
	// folder); otherwise relkey checks the object (S3).
	notifiesUploads bool
	events          Events
	hot             Hot
	log             *slog.Logger
	now             func() time.Time
}

// Events records what the artifact rules change: in the transaction of
// the change, except downloads (a hot path), recorded off it by Downloads.
type Events interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	event.Emitter
}

// Hot records the events of hot paths off the request path.
type Hot interface {
	Emit(event.Occurrence)
}

// NewService returns the artifact rules.
func NewService(store Records, releases Releases, downloads release.Downloads, recorder catalog.Recorder, blobs storage.Store, notifiesUploads bool) *Service {
	return &Service{store: store, releases: releases, downloads: downloads, catalog: recorder, storage: blobs, notifiesUploads: notifiesUploads,
		events: unrecorded{}, hot: unrecordedHot{}, log: slog.New(slog.DiscardHandler), now: time.Now}
}

// Logging makes the service log refused uploads and failed artifacts
// (at WARN, with the reason) to l.
func (s *Service) Logging(l *slog.Logger) *Service {
	s.log = l
	return s
}

// Recording makes the service record its events: changes through events,
// downloads through hot.
func (s *Service) Recording(events Events, hot Hot) *Service {
	s.events, s.hot = events, hot
	return s
}

// unrecorded records nothing: the events of a service not Recording.
type unrecorded struct{}

func (unrecorded) InTx(ctx context.Context, fn func(ctx context.Context) error) error { return fn(ctx) }
func (unrecorded) Emit(context.Context, event.Occurrence) error                       { return nil }
func (unrecorded) Change(ctx context.Context, change func(ctx context.Context) error, _ func() event.Occurrence) error {
	return change(ctx)
}

type unrecordedHot struct{}

func (unrecordedHot) Emit(event.Occurrence) {}

func occurred(who *access.Principal, name string, a *Artifact) event.Occurrence {
	return event.Occurrence{Event: name, AccountID: a.AccountID, Resource: a, Who: who}
}

func lower(p *string) *string {
	if p == nil {
		return nil
	}
	v := strings.ToLower(strings.TrimSpace(*p))
	return &v
}

// Create records an artifact of a release who may see, and returns the
// presigned URL to PUT its bytes to within the upload window.
func (s *Service) Create(ctx context.Context, who *access.Principal, t *account.Tenant, releaseRef string, p Params) (*Artifact, string, error) {
	if err := who.Require("artifact.create"); err != nil {
		return nil, "", err
	}
	notFound := apperr.At(apperr.Unprocessable, "RELEASE_NOT_FOUND", "must exist", apperr.Rel("release"))
	if releaseRef == "" {
		return nil, "", notFound
	}
	r, err := s.releases.Find(ctx, who, t, releaseRef, release.Narrowing{})
	if apperr.Is(err, apperr.NotFound) {
		return nil, "", notFound
	}
	if err != nil {
		return nil, "", err
	}
	name := strings.TrimSpace(p.Filename.V)
	switch {
	case name == "":
		return nil, "", apperr.Attribute("filename", "MISSING", "can't be blank")
	case len(name) > 255 || strings.ContainsAny(name, "/\\\x00") || name == "." || name == "..":
		return nil, "", apperr.Attribute("filename", "INVALID", "must be a file name of at most 255 characters, without slashes")
	}
	if p.Filesize.V != nil && *p.Filesize.V < 0 {
		return nil, "", apperr.Attribute("filesize", "INVALID", "must be greater than or equal to 0")
	}
	a := &Artifact{
		ID: id.New(), AccountID: r.AccountID, ReleaseID: r.ID, ProductID: r.ProductID, Filename: name,
		Filesize: p.Filesize.V, Platform: lower(p.Platform.V), Arch: lower(p.Arch.V),
		Checksum: p.Checksum.V, Signature: p.Signature.V, Status: Waiting, Metadata: map[string]any{},
	}
	if ft := lower(p.Filetype.V); ft != nil {
		trimmed := strings.TrimPrefix(*ft, ".")
		a.Filetype = &trimmed
	}
	p.Metadata.Apply(&a.Metadata)
	if a.Metadata == nil {
		a.Metadata = map[string]any{}
	}
	a.StorageKey = "accounts/" + a.AccountID + "/artifacts/" + a.ID + "/" + a.Filename
	if err := s.store.Create(ctx, a, func(ctx context.Context) error {
		for kind, key := range map[string]*string{catalog.Platforms: a.Platform, catalog.Arches: a.Arch} {
			if key != nil && *key != "" {
				if err := s.catalog.Use(ctx, a.AccountID, kind, *key); err != nil {
					return err
				}
			}
		}
		return s.events.Emit(ctx, occurred(who, event.ArtifactCreated, a))
	}); err != nil {
		return nil, "", err
	}
	u, err := s.presignUpload(ctx, a, UploadWindow)
	if err != nil {
		return nil, "", err
	}
	return a, u, nil
}

// presignUpload is an upload URL of a for within, with the declared
// filesize signed in.
func (s *Service) presignUpload(ctx context.Context, a *Artifact, within time.Duration) (string, error) {
	var length []storage.Length
	if a.Filesize != nil {
		length = append(length, storage.Length(*a.Filesize))
	}
	u, err := s.storage.PresignPut(ctx, s.UploadKey(a), within, length...)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// UploadAgain presigns another upload of a waiting artifact who found,
// for what is left of its upload window (Keygen-Version 1.0 uploads
// through the release, after creating it).
func (s *Service) UploadAgain(ctx context.Context, who *access.Principal, a *Artifact) (string, error) {
	if err := who.Require("artifact.create"); err != nil {
		return "", err
	}
	left := a.CreatedAt.Add(UploadWindow).Sub(s.now())
	switch {
	case a.Status != Waiting:
		return "", apperr.New(apperr.Unprocessable, "ARTIFACT_NOT_WAITING", "artifact is "+strings.ToLower(a.Status)+", not waiting for its upload")
	case left <= 0:
		return "", apperr.New(apperr.Unprocessable, "ARTIFACT_NOT_WAITING", "the artifact's upload window has passed")
	}
	return s.presignUpload(ctx, a, left)
}

// settled records how the upload of an artifact this pass moved out of
// WAITING ended, as Keygen does: upload.succeeded and (for older
// receivers) uploaded, or upload.failed.
func (s *Service) settled(ctx context.Context, a *Artifact) error {
	var names []string
	switch a.Status {
	case Uploaded:
		names = []string{event.ArtifactUploadSucceeded, event.ArtifactUploaded}
	case Failed:
		names = []string{event.ArtifactUploadFailed}
		s.log.Warn("artifact upload failed", "account", a.AccountID, "artifact", a.ID, "reason", *a.Failure)
	}
	for _, name := range names {
		if err := s.events.Emit(ctx, occurred(nil, name, a)); err != nil {
			return err
		}
	}
	return nil
}

// settle decides a waiting artifact and records the decision in one
// transaction with its events; the object store is asked before the
// transaction. Inline (on a request's path) it leaves objects too big to
// check quickly to the background pass.
func (s *Service) settle(ctx context.Context, a *Artifact, inline bool) error {
	if a.Status != Waiting {
		return nil
	}
	failure, decided, err := s.decide(ctx, a, inline)
	if err != nil || !decided {
		return err
	}
	err = s.events.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.Settle(ctx, a, failure); err != nil {
			return err
		}
		return s.settled(ctx, a)
	})
	if err != nil || s.notifiesUploads {
		return err
	}
	// Kept (on success) under its storage key: the upload's object goes,
	// and a later PUT to the upload URL lands where nothing is served.
	return s.storage.Delete(ctx, s.UploadKey(a))
}

// Settle decides a waiting artifact now, whatever its size, as the
// background pass would (an importer that just stored its bytes).
func (s *Service) Settle(ctx context.Context, a *Artifact) error { return s.settle(ctx, a, false) }

// decide decides a waiting artifact: uploaded once its object exists and
// matches what was declared, failed (for the reason returned) when it does
// not or when the window passed without one, else not decided yet. On S3
// an uploaded object is copied from its upload key to its storage key.
func (s *Service) decide(ctx context.Context, a *Artifact, inline bool) (failure string, decided bool, err error) {
	expired := s.now().Sub(a.CreatedAt) > UploadWindow
	const late = "no upload arrived within the upload window"
	if s.notifiesUploads {
		// The store reports each upload as it lands, and its upload URLs
		// expire with the window: one still missing never will land.
		return late, expired, nil
	}
	obj, err := s.storage.Stat(ctx, s.UploadKey(a))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return late, expired, nil
	case err != nil:
		return "", false, err
	case inline && obj.Size > MaxVerifiedRead:
		return "", false, nil
	}
	if failure, err = s.verify(ctx, a, obj); err != nil || failure != "" {
		return failure, err == nil, err
	}
	copying, cancel := context.WithTimeout(context.WithoutCancel(ctx), copyAllowance(obj.Size))
	defer cancel()
	if err := s.storage.Copy(copying, obj.Key, a.StorageKey); err != nil {
		return "", false, err
	}
	return "", true, nil
}

// copyAllowance is how long a server-side copy of size bytes may take
// (a minute, and a second per 50 MB): longer than a pass's interval.
func copyAllowance(size int64) time.Duration {
	return time.Minute + time.Duration(size/50e6)*time.Second
}

// UploadKey is where a PUT to an artifact's upload URL stores its bytes.
// The local store puts them in place itself (see Receive); on S3 they land
// aside and are copied to the storage key once checked, so that reusing
// the URL never changes what is served.
func (s *Service) UploadKey(a *Artifact) string {
	if s.notifiesUploads {
		return a.StorageKey
	}
	return "accounts/" + a.AccountID + "/uploads/" + a.ID + "/" + a.Filename
}

// privileged bearers see artifacts in every status.
func privileged(who *access.Principal) bool {
	return who != nil && (who.Staff() || who.BearerType == access.BearerProduct)
}

// Filter narrows artifact lookups and lists: Release by id, version or
// tag, Package by id or key ("" for releases without a package, nil for
// any).
type Filter struct {
	Release, Product, Channel, Platform, Arch string
	Package                                   *string
	// Status and Filetype match as given (case-insensitively); Engine is
	// the engine of the release's package ("" for releases without one).
	Status, Filetype string
	Engine           *string
}

// resolve turns the filter's release reference into the release's id.
func (s *Service) resolve(ctx context.Context, who *access.Principal, t *account.Tenant, f Filter) (Filter, error) {
	if f.Release == "" {
		return f, nil
	}
	r, err := s.releases.Find(ctx, who, t, f.Release, release.Narrowing{Product: f.Product, Package: f.Package})
	if err != nil {
		return f, err
	}
	f.Release = r.ID
	return f, nil
}

// Find returns an artifact by id, or the newest visible one with a
// filename, that who may see; others see only uploaded ones.
func (s *Service) Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, f Filter) (*Artifact, error) {
	if err := who.In(t.ID); err != nil {
		return nil, err
	}
	f, err := s.resolve(ctx, who, t, f)
	if err != nil {
		return nil, err
	}
	a, err := s.store.Find(ctx, t.ID, ref, who, !privileged(who), f, s.now())
	if err != nil {
		return nil, err
	}
	if err := s.settle(ctx, a, true); err != nil {
		return nil, err
	}
	if a.Status != Uploaded && !privileged(who) {
		return nil, apperr.NotFoundResource("artifact", ref)
	}
	if who != nil {
		if err := who.Require("artifact.read"); err != nil {
			return nil, err
		}
	}
	return a, s.releases.Refuse(ctx, who, t, a.ProductID)
}

// List returns a page of the artifacts who may see.
func (s *Service) List(ctx context.Context, who *access.Principal, t *account.Tenant, f Filter, p page.Request) ([]Artifact, int64, error) {
	if err := who.In(t.ID); err != nil {
		return nil, 0, err
	}
	if who != nil {
		if err := who.Require("artifact.read"); err != nil {
			return nil, 0, err
		}
	}
	f, err := s.resolve(ctx, who, t, f)
	if err != nil {
		return nil, 0, err
	}
	return s.store.List(ctx, t.ID, who, !privileged(who), f, s.now(), p)
}

// Download limits: how long a presigned download URL may last when a
// privileged bearer asks (seconds).
const (
	MinDownloadTTL = 60
	MaxDownloadTTL = 7 * 24 * 3600
)

// DownloadRequest names an artifact to download: by id or filename (Ref),
// narrowed by Filter. Filename, when set beside an id, must be the
// artifact's. TTL (seconds, 0 for the default) is honoured for privileged
// bearers. Redirect false asks for the artifact without a download.
type DownloadRequest struct {
	Ref, Filename string
	Filter        Filter
	TTL           int
	Redirect      bool
}

// Download finds an artifact who may see and, when it is uploaded and the
// request wants it, presigns its download (counted for its release,
// starting a FROM_FIRST_DOWNLOAD license's clock). The URL is empty when
// the artifact is only shown.
func (s *Service) Download(ctx context.Context, who *access.Principal, t *account.Tenant, req DownloadRequest) (*Artifact, string, error) {
	if req.TTL != 0 && (req.TTL < MinDownloadTTL || req.TTL > MaxDownloadTTL) {
		return nil, "", apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", "ttl must be 60 to 604800 seconds", "ttl")
	}
	a, err := s.Find(ctx, who, t, req.Ref, req.Filter)
	if err != nil {
		return nil, "", err
	}
	if req.Filename != "" && req.Filename != a.Filename {
		return nil, "", apperr.NotFoundResource("artifact", req.Filename)
	}
	if a.Status != Uploaded || !req.Redirect {
		return a, "", nil
	}
	ttl := DefaultDownload
	if req.TTL != 0 && privileged(who) {
		ttl = time.Duration(req.TTL) * time.Second
	}
	u, err := s.storage.PresignGet(ctx, a.StorageKey, ttl)
	if err != nil {
		return nil, "", err
	}
	if err := s.store.CountDownload(ctx, a.ReleaseID); err != nil {
		return nil, "", err
	}
	s.hot.Emit(occurred(who, event.ArtifactDownloaded, a))
	return a, u.String(), s.downloads.Downloaded(ctx, who, t)
}

// MaxContent is the largest artifact Content reads (an index file such
// as Squirrel's RELEASES, never a package).
const MaxContent = 1 << 20

// Content reads the bytes of an uploaded artifact the caller found (so
// visible to it), refusing one over MaxContent.
func (s *Service) Content(ctx context.Context, a *Artifact) ([]byte, error) {
	data, err := s.storage.Read(ctx, a.StorageKey, MaxContent)
	switch {
	case errors.Is(err, storage.ErrTooLarge):
		return nil, apperr.New(apperr.Unprocessable, "ARTIFACT_TOO_LARGE", fmt.Sprintf("artifact %s is over %d bytes and cannot be read as an index", a.Filename, MaxContent))
	case errors.Is(err, storage.ErrNotFound):
		return nil, apperr.NotFoundResource("artifact", a.ID)
	}
	return data, err
}

// Yank withdraws an artifact and deletes its object. Anonymous callers are
// asked to authenticate before anything is looked up.
func (s *Service) Yank(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, f Filter) error {
	if who == nil {
		return access.ErrTokenMissing
	}
	a, err := s.Find(ctx, who, t, ref, f)
	if err != nil {
		return err
	}
	if err := who.Require("artifact.delete"); err != nil {
		return err
	}
	upload := s.UploadKey(a)
	err = s.events.Change(ctx, func(ctx context.Context) error { return s.store.Yank(ctx, a) },
		func() event.Occurrence { return occurred(who, event.ArtifactDeleted, a) })
	if err != nil {
		return err
	}
	if upload != a.StorageKey {
		if err := s.storage.Delete(ctx, upload); err != nil {
			return err
		}
	}
	return s.storage.Delete(ctx, a.StorageKey)
}

// SettleWaiting runs one pass over the waiting artifacts: on S3, whose
// uploads relkey is not told about, it finds them uploaded; on any store
// it fails those past the window. Every replica may run it at once (each
// change is conditional on the status it read).
func (s *Service) SettleWaiting(ctx context.Context) error {
	waiting, err := s.store.Waiting(ctx, s.now().Add(-2*UploadWindow), 100)
	if err != nil {
		return err
	}
	var errs []error
	for i := range waiting {
		errs = append(errs, s.settle(ctx, &waiting[i], false))
	}
	return errors.Join(errs...)
}
