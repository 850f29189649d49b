package feed

import (
	"context"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
)

// Release finds a release of a package an engine serves by id, version or
// tag (a registry's reference) among those who may see, with its
// uploaded files (Feed.Next and Files). A package an anonymous request
// cannot see is a 401; a reference missing from a package it sees, a 404.
func (s *Service) Release(ctx context.Context, who *access.Principal, t *account.Tenant, engine, pkgRef, ref string) (*Feed, error) {
	pkg, err := s.served(ctx, who, t, engine, pkgRef)
	if err != nil {
		return nil, unauthenticated(who, err)
	}
	if err := s.releases.Refuse(ctx, who, t, pkg.ProductID); err != nil {
		return nil, err
	}
	r, err := s.releases.Find(ctx, who, t, ref, release.Narrowing{Product: pkg.ProductID, Package: &pkg.ID})
	if err != nil {
		return nil, err
	}
	f := &Feed{Package: pkg, Next: r, Files: map[string][]artifact.Artifact{}}
	return f, s.files(ctx, t, f)
}

// Named finds the newest uploaded artifact with a filename among the
// releases of a package an engine serves who may see (a registry's blob
// by digest); a package an anonymous request cannot see is a 401.
func (s *Service) Named(ctx context.Context, who *access.Principal, t *account.Tenant, engine, pkgRef, filename string) (*artifact.Artifact, error) {
	pkg, err := s.served(ctx, who, t, engine, pkgRef)
	if err != nil {
		return nil, unauthenticated(who, err)
	}
	return s.artifacts.Find(ctx, who, t, filename, artifact.Filter{Product: pkg.ProductID, Package: &pkg.ID})
}

// Package finds a package an engine serves that who may see (a registry
// being pushed to); a package an anonymous request cannot see is a 401.
func (s *Service) Package(ctx context.Context, who *access.Principal, t *account.Tenant, engine, ref string) (*releasepackage.Package, error) {
	pkg, err := s.served(ctx, who, t, engine, ref)
	return pkg, unauthenticated(who, err)
}
