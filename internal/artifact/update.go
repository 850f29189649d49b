package artifact

import (
	"context"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
)

// Update changes an artifact's filesize, checksum, signature and metadata
// (Keygen's release_artifacts#update: the filename, filetype, platform and
// arch are not writable): admins, developers and the artifact's product
// (ReleaseArtifactPolicy#update?). It emits artifact.updated.
func (s *Service) Update(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, f Filter, p Params) (*Artifact, error) {
	if who == nil {
		return nil, access.ErrTokenMissing
	}
	a, err := s.Find(ctx, who, t, ref, f)
	if err != nil {
		return nil, err
	}
	if err := who.Require("artifact.update"); err != nil {
		return nil, err
	}
	if who.Role != access.RoleAdmin && who.Role != access.RoleDeveloper && who.BearerType != access.BearerProduct {
		return nil, access.Denied("only admins, developers and the artifact's product may change it")
	}
	for attr, set := range map[string]bool{"filename": p.Filename.Set, "filetype": p.Filetype.Set, "platform": p.Platform.Set, "arch": p.Arch.Set} {
		if set {
			return nil, apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "unpermitted parameter", apperr.Attr(attr))
		}
	}
	if p.Filesize.V != nil && *p.Filesize.V < 0 {
		return nil, apperr.Attribute("filesize", "INVALID", "must be greater than or equal to 0")
	}
	p.Filesize.Apply(&a.Filesize)
	p.Checksum.Apply(&a.Checksum)
	p.Signature.Apply(&a.Signature)
	if p.Metadata.Set {
		a.Metadata = p.Metadata.V
		if a.Metadata == nil {
			a.Metadata = map[string]any{}
		}
	}
	err = s.events.Change(ctx, func(ctx context.Context) error { return s.store.Update(ctx, a) },
		func() event.Occurrence {
			return event.Occurrence{Event: event.ArtifactUpdated, AccountID: a.AccountID, Resource: a, Who: who}
		})
	if err != nil {
		return nil, err
	}
	return a, nil
}
