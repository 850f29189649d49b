package feed

import (
	"context"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
)

// MaxVersions is how many of a package's newest versions a registry's
// index lists: two queries answer it however many releases there are.
const MaxVersions = 10000

// everyChannel is what a package registry lists: its clients choose
// among the versions themselves (pip's --pre, npm's dist-tags).
var everyChannel = []string{"stable", "rc", "beta", "alpha", "dev"}

// Index lists what a package registry serves of a package: the newest
// MaxVersions releases who may see, on every channel, that have an
// artifact of the pick (drafts, yanked releases and what the bearer's
// constraints or expiry window hide are left out), newest first, with
// their uploaded files.
func (s *Service) Index(ctx context.Context, who *access.Principal, t *account.Tenant, engine, pkgRef string, pick artifact.Pick) (*Feed, error) {
	f, err := s.Listed(ctx, who, t, engine, pkgRef, pick)
	if err != nil {
		return nil, err
	}
	return f, s.files(ctx, t, f)
}

// Listed is Index without the releases' files (a registry's list of
// tags): one query fewer, and no artifact rows read.
func (s *Service) Listed(ctx context.Context, who *access.Principal, t *account.Tenant, engine, pkgRef string, pick artifact.Pick) (*Feed, error) {
	pkg, err := s.served(ctx, who, t, engine, pkgRef)
	if err != nil {
		return nil, unauthenticated(who, err)
	}
	if err := access.MayReadPublic(who, "release.read"); err != nil {
		return nil, err
	}
	if err := s.releases.Refuse(ctx, who, t, pkg.ProductID); err != nil {
		return nil, err
	}
	line := release.Line{ProductID: pkg.ProductID, PackageID: &pkg.ID, Channels: everyChannel}
	f := &Feed{Package: pkg, Files: map[string][]artifact.Artifact{}}
	f.Releases, err = s.offers.Offered(ctx, who, t, artifact.Offering{Line: line, Pick: pick, Limit: MaxVersions})
	if err != nil {
		return nil, err
	}
	for _, r := range f.Releases {
		if r.UpdatedAt.After(f.Modified) {
			f.Modified = r.UpdatedAt
		}
	}
	return f, nil
}

// Download finds an uploaded artifact by id among the releases of a
// package who may see and presigns its download (counted as the API's
// download route counts it); the URL is relative to relkey when storage
// is its own folder.
func (s *Service) Download(ctx context.Context, who *access.Principal, t *account.Tenant, engine, pkgRef, artifactRef, filename string) (string, error) {
	pkg, err := s.served(ctx, who, t, engine, pkgRef)
	if err != nil {
		return "", unauthenticated(who, err)
	}
	a, location, err := s.artifacts.Download(ctx, who, t, artifact.DownloadRequest{Ref: artifactRef, Filename: filename,
		Filter: artifact.Filter{Product: pkg.ProductID, Package: &pkg.ID}, Redirect: true})
	if err != nil {
		return "", err
	}
	if location == "" {
		return "", apperr.NotFoundResource("artifact", a.Filename)
	}
	return location, nil
}

// Packages lists the packages of an engine who may see, by key (a
// registry's list of names).
func (s *Service) Packages(ctx context.Context, who *access.Principal, t *account.Tenant, engine string) ([]releasepackage.Package, error) {
	return s.packages.ByEngine(ctx, who, t, engine)
}

// unauthenticated turns a package an anonymous request cannot find into
// a 401, for the package managers that ask for credentials only then
// (pip, gem, composer); a bearer still gets the 404.
func unauthenticated(who *access.Principal, err error) error {
	if who == nil && apperr.Is(err, apperr.NotFound) {
		return access.ErrTokenMissing
	}
	return err
}
