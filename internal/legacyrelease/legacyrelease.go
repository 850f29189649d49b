// Package legacyrelease serves Keygen-Version 1.0's releases, which had one
// file each: a release is upserted with its file's attributes, its file
// is uploaded, downloaded and deleted through the release, and upgrades
// are asked by product, platform, filetype and version. Releases and
// artifacts keep their own rules; this package composes them.
package legacyrelease

import (
	"context"
	"errors"
	"strings"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/release"
)

// Releases are the release rules the 1.0 routes go through.
type Releases interface {
	Create(ctx context.Context, who *access.Principal, t *account.Tenant, rel release.Relations, p release.Params) (*release.Release, error)
	Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, n release.Narrowing) (*release.Release, error)
	Update(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p release.Params) (*release.Release, error)
	Publish(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*release.Release, error)
	Yank(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*release.Release, error)
	UpgradeFile(ctx context.Context, who *access.Principal, t *account.Tenant, q release.FileUpgrade) (current, next *release.Release, err error)
	Upgraded(who *access.Principal, current, next *release.Release)
}

// Artifacts are the artifact rules the 1.0 routes go through.
type Artifacts interface {
	Create(ctx context.Context, who *access.Principal, t *account.Tenant, releaseRef string, p artifact.Params) (*artifact.Artifact, string, error)
	Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, f artifact.Filter) (*artifact.Artifact, error)
	List(ctx context.Context, who *access.Principal, t *account.Tenant, f artifact.Filter, p page.Request) ([]artifact.Artifact, int64, error)
	Update(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, f artifact.Filter, p artifact.Params) (*artifact.Artifact, error)
	Download(ctx context.Context, who *access.Principal, t *account.Tenant, req artifact.DownloadRequest) (*artifact.Artifact, string, error)
	UploadAgain(ctx context.Context, who *access.Principal, a *artifact.Artifact) (string, error)
	Yank(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, f artifact.Filter) error
}

// Service holds the Keygen-Version 1.0 release rules.
type Service struct {
	releases  Releases
	artifacts Artifacts
	events    artifact.Events
	hot       artifact.Hot
}

// NewService returns the 1.0 release rules over the release and artifact
// rules; events makes an upsert one transaction and records uploads, hot
// records downloads off the request path.
func NewService(releases Releases, artifacts Artifacts, events artifact.Events, hot artifact.Hot) *Service {
	return &Service{releases: releases, artifacts: artifacts, events: events, hot: hot}
}

// Upserted is the release an upsert created or found, and its file (nil
// when the upsert named none).
type Upserted struct {
	Release *release.Release
	File    *artifact.Artifact
	Created bool
}

// Upsert is PUT /releases: the release of the product (and package) with
// the version, created unless it exists (then its name, description and
// metadata are updated), and its file by filename, created unless the
// release has it (then its filesize, checksum and signature are updated).
// Keygen 1.0 kept one release per file; relkey keeps one per version, so
// the files of a version are the artifacts of its release. All of it is
// one transaction.
func (s *Service) Upsert(ctx context.Context, who *access.Principal, t *account.Tenant, rel release.Relations, rp release.Params, fp artifact.Params) (*Upserted, error) {
	if who == nil {
		return nil, access.ErrTokenMissing
	}
	var u *Upserted
	err := s.events.InTx(ctx, func(ctx context.Context) error {
		r, err := s.existing(ctx, who, t, rel, rp)
		if err != nil {
			return err
		}
		u = &Upserted{Release: r}
		switch {
		case r == nil:
			u.Created = true
			if u.Release, err = s.releases.Create(ctx, who, t, rel, rp); err != nil {
				return err
			}
		case rp.Name.Set || rp.Description.Set || rp.Metadata.Set:
			changes := release.Params{Name: rp.Name, Description: rp.Description, Metadata: rp.Metadata}
			if u.Release, err = s.releases.Update(ctx, who, t, r.ID, changes); err != nil {
				return err
			}
		}
		if strings.TrimSpace(fp.Filename.V) == "" {
			return nil
		}
		u.File, err = s.file(ctx, who, t, u.Release, fp)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// existing is the release an upsert names: of the product and package
// with the version, nil when there is none (or the version is malformed,
// which creating it reports).
func (s *Service) existing(ctx context.Context, who *access.Principal, t *account.Tenant, rel release.Relations, rp release.Params) (*release.Release, error) {
	version, _, err := release.ParseVersion(rp.Version.V, rp.Channel.Or("stable"))
	if err != nil || rel.Product == "" {
		return nil, nil
	}
	pkg := rel.Package
	r, err := s.releases.Find(ctx, who, t, version, release.Narrowing{Product: rel.Product, Package: &pkg})
	switch {
	case apperr.Is(err, apperr.NotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case r.Version != version:
		return nil, nil // a tag that reads as the version
	}
	return r, nil
}

// file is the release's artifact with the filename, created unless it
// exists, else updated with the attributes a file may change.
func (s *Service) file(ctx context.Context, who *access.Principal, t *account.Tenant, r *release.Release, fp artifact.Params) (*artifact.Artifact, error) {
	a, err := s.artifacts.Find(ctx, who, t, strings.TrimSpace(fp.Filename.V), artifact.Filter{Release: r.ID})
	switch {
	case apperr.Is(err, apperr.NotFound):
		a, _, err = s.artifacts.Create(ctx, who, t, r.ID, fp)
		return a, err
	case err != nil:
		return nil, err
	}
	changes := artifact.Params{Filesize: fp.Filesize, Checksum: fp.Checksum, Signature: fp.Signature}
	if !changes.Filesize.Set && !changes.Checksum.Set && !changes.Signature.Set {
		return a, nil
	}
	return s.artifacts.Update(ctx, who, t, a.ID, artifact.Filter{}, changes)
}

// errYanked refuses the file routes of a yanked release.
var errYanked = apperr.New(apperr.Unprocessable, "RELEASE_YANKED", "has been yanked")

// sole is the one live file of a release who may see (of the kind, when
// files is set): 404 without one, 422 with several.
func (s *Service) sole(ctx context.Context, who *access.Principal, t *account.Tenant, r *release.Release, files *release.Files) (*artifact.Artifact, error) {
	f := artifact.Filter{Release: r.ID}
	if files != nil {
		f.Platform, f.Filetype = strings.ToLower(files.Platform), strings.ToLower(strings.TrimPrefix(files.Filetype, "."))
	}
	list, _, err := s.artifacts.List(ctx, who, t, f, page.Request{Limit: 10})
	if err != nil {
		return nil, err
	}
	var live []artifact.Artifact
	for _, a := range list {
		if a.Status == artifact.Waiting || a.Status == artifact.Uploaded {
			live = append(live, a)
		}
	}
	switch len(live) {
	case 0:
		return nil, apperr.New(apperr.NotFound, "NOT_FOUND", "artifact does not exist (ensure it has been uploaded)")
	case 1:
		return &live[0], nil
	}
	return nil, apperr.New(apperr.Unprocessable, "ARTIFACTS_MULTIPLE",
		"multiple artifacts are not supported by this release (see upgrading from v1.0 to v1.1)")
}

// releaseFile is the release ref names and its one file.
func (s *Service) releaseFile(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*release.Release, *artifact.Artifact, error) {
	r, err := s.releases.Find(ctx, who, t, ref, release.Narrowing{})
	if err != nil {
		return nil, nil, err
	}
	if r.Status == release.Yanked {
		return nil, nil, errYanked
	}
	a, err := s.sole(ctx, who, t, r, nil)
	return r, a, err
}

// download presigns the download of a file (ttl seconds, honoured for
// privileged bearers; 0 for the default): 404 until it is uploaded.
func (s *Service) download(ctx context.Context, who *access.Principal, t *account.Tenant, a *artifact.Artifact, ttl int) (*artifact.Artifact, string, error) {
	a, location, err := s.artifacts.Download(ctx, who, t, artifact.DownloadRequest{Ref: a.ID, TTL: ttl, Redirect: true})
	if err == nil && location == "" {
		err = apperr.New(apperr.NotFound, "NOT_FOUND", "artifact is unavailable (ensure it has been fully uploaded)")
	}
	return a, location, err
}

// Download is GET /releases/:id/artifact: the release's one file and the
// presigned URL to download it from (release.downloaded, of the file).
func (s *Service) Download(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, ttl int) (a *artifact.Artifact, location string, err error) {
	_, a, err = s.releaseFile(ctx, who, t, ref)
	if err != nil {
		return nil, "", err
	}
	if a, location, err = s.download(ctx, who, t, a, ttl); err != nil {
		return nil, "", err
	}
	s.hot.Emit(event.Occurrence{Event: event.ReleaseDownloaded, AccountID: a.AccountID, Resource: a, Who: who})
	return a, location, nil
}

// Upload is PUT /releases/:id/artifact: the presigned URL to upload the
// release's waiting file to. The release is published, as Keygen 1.0's,
// and release.uploaded recorded.
func (s *Service) Upload(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*artifact.Artifact, string, error) {
	if who == nil {
		return nil, "", access.ErrTokenMissing
	}
	r, a, err := s.releaseFile(ctx, who, t, ref)
	if err != nil {
		return nil, "", err
	}
	location, err := s.artifacts.UploadAgain(ctx, who, a)
	if err != nil {
		return nil, "", err
	}
	err = s.events.InTx(ctx, func(ctx context.Context) error {
		if r.Status != release.Published {
			if r, err = s.releases.Publish(ctx, who, t, r.ID); err != nil {
				return err
			}
		}
		return s.events.Emit(ctx, event.Occurrence{Event: event.ReleaseUploaded, AccountID: r.AccountID, Resource: r, Who: who})
	})
	if err != nil {
		return nil, "", err
	}
	return a, location, nil
}

// Delete is DELETE /releases/:id/artifact: the release's file is deleted
// and the release yanked, as Keygen 1.0's.
func (s *Service) Delete(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) error {
	if who == nil {
		return access.ErrTokenMissing
	}
	r, a, err := s.releaseFile(ctx, who, t, ref)
	if err != nil {
		return err
	}
	if err := s.artifacts.Yank(ctx, who, t, a.ID, artifact.Filter{}); err != nil {
		return err
	}
	_, err = s.releases.Yank(ctx, who, t, r.ID)
	return err
}

// Upgrade is an upgrade and the file it offers: Next is nil when there is
// none (Keygen's 204), Current when no release has the current version.
type Upgrade struct {
	Current, Next *release.Release
	File          *artifact.Artifact
	Location      string
}

// upgradeTTL is how long an upgrade's download URL lasts (seconds), for
// bearers whose downloads may last that long.
const upgradeTTL = 3600

// UpgradeBy is GET /releases/actions/upgrade: the newest release above
// the version with a file for the platform and filetype, and the file.
// An upgrade whose file is not uploaded yet is none.
func (s *Service) UpgradeBy(ctx context.Context, who *access.Principal, t *account.Tenant, q release.FileUpgrade) (*Upgrade, error) {
	current, next, err := s.releases.UpgradeFile(ctx, who, t, q)
	if errors.Is(err, release.ErrNoUpgrade) {
		return &Upgrade{Current: current}, nil
	}
	if err != nil {
		return nil, err
	}
	a, err := s.sole(ctx, who, t, next, &release.Files{Platform: q.Platform, Filetype: q.Filetype})
	if apperr.Is(err, apperr.NotFound) {
		return &Upgrade{Current: current}, nil
	}
	if err != nil {
		return nil, err
	}
	a, location, err := s.download(ctx, who, t, a, upgradeTTL)
	if apperr.Is(err, apperr.NotFound) {
		return &Upgrade{Current: current}, nil
	}
	if err != nil {
		return nil, err
	}
	s.releases.Upgraded(who, current, next)
	return &Upgrade{Current: current, Next: next, File: a, Location: location}, nil
}

// UpgradeOf is GET /releases/:id/actions/upgrade: UpgradeBy from the
// release's version, platform and filetype (those of its one file).
func (s *Service) UpgradeOf(ctx context.Context, who *access.Principal, t *account.Tenant, ref, channel, constraint string) (*Upgrade, error) {
	r, err := s.releases.Find(ctx, who, t, ref, release.Narrowing{})
	if err != nil {
		return nil, err
	}
	a, err := s.sole(ctx, who, t, r, nil)
	if apperr.Is(err, apperr.NotFound) || err == nil && (a.Platform == nil || a.Filetype == nil) {
		return nil, apperr.New(apperr.Unprocessable, "UPGRADE_FILE_INVALID", "the release's artifact must have a platform and a filetype")
	}
	if err != nil {
		return nil, err
	}
	return s.UpgradeBy(ctx, who, t, release.FileUpgrade{Product: r.ProductID, Platform: *a.Platform, Filetype: *a.Filetype,
		Version: r.Version, Channel: channel, Constraint: constraint})
}
