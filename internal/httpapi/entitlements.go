package httpapi

import (
	"context"
	"net/http"

	"github.com/relkey/relkey/internal/serializer"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/page"
)

var entitlementResource = document.Resource{Singular: "entitlement", Plural: "entitlements"}

func (s *Server) listEntitlements(c echo.Context) error {
	return renderPage(s, c, s.Entitlements.List, serializer.Entitlement)
}

func (s *Server) showEntitlement(c echo.Context) error {
	e, err := s.Entitlements.Find(c.Request().Context(), principalOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Entitlement(e), nil)
}

func (s *Server) createEntitlement(c echo.Context) error {
	p, err := attributesOnly[entitlement.Params](s, c, entitlementResource)
	if err != nil {
		return err
	}
	e, err := s.Entitlements.Create(c.Request().Context(), principalOf(c), p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.Entitlement(e), nil)
}

func (s *Server) updateEntitlement(c echo.Context) error {
	return updateRecord(s, c, entitlementResource, s.Entitlements.Update, serializer.Entitlement)
}

func (s *Server) deleteEntitlement(c echo.Context) error {
	return deleteRecord(c, s.Entitlements.Delete)
}

// attachedRef is the policy, license or release an entitlements or
// constraints route names.
func attachedRef(c echo.Context) entitlement.Ref {
	n := releaseNarrowing(c)
	return entitlement.Ref{ID: pathRef(c), Product: n.Product, Package: n.Package}
}

// attachedTo is a kind of record entitlements attach to, with the rendered
// type of its attachments and their owner relationship.
type attachedTo struct {
	kind       entitlement.Kind
	typ, owner string
}

// The kinds of record the entitlements and constraints routes name.
var (
	onPolicy  = attachedTo{entitlement.OnPolicy, "policy-entitlements", "policy"}
	onLicense = attachedTo{entitlement.OnLicense, "license-entitlements", "license"}
	onRelease = attachedTo{entitlement.OnRelease, "constraints", "release"}
)

func (s *Server) listPolicyEntitlements(c echo.Context) error  { return s.listAttached(c, onPolicy) }
func (s *Server) listLicenseEntitlements(c echo.Context) error { return s.listAttached(c, onLicense) }
func (s *Server) listReleaseEntitlements(c echo.Context) error { return s.listAttached(c, onRelease) }

// listAttached lists a policy's or release's entitlements, or a license's
// own and its policy's.
func (s *Server) listAttached(c echo.Context, on attachedTo) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, p page.Request) ([]entitlement.Entitlement, int64, error) {
		return s.Entitlements.Attached(ctx, who, tenantOf(c), on.kind, attachedRef(c), p)
	}, serializer.Entitlement)
}

func (s *Server) listReleaseConstraints(c echo.Context) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, p page.Request) ([]entitlement.Attachment, int64, error) {
		return s.Entitlements.Constraints(ctx, who, attachedRef(c), p)
	}, attachmentNode(onRelease))
}

func (s *Server) attachPolicyEntitlements(c echo.Context) error  { return s.attach(c, onPolicy) }
func (s *Server) attachLicenseEntitlements(c echo.Context) error { return s.attach(c, onLicense) }
func (s *Server) attachReleaseConstraints(c echo.Context) error  { return s.attach(c, onRelease) }

// constraintResource is a release's entitlement constraint.
var constraintResource = document.Resource{Singular: "constraint", Plural: "constraints"}

// entitlementIDs decodes the entitlement ids of an authenticated attach or
// detach: resource identifiers of entitlements, or for releases embedded
// constraints on attach and constraint identifiers on detach.
func (s *Server) entitlementIDs(c echo.Context, on attachedTo, attach bool) ([]string, error) {
	switch {
	case on.kind != entitlement.OnRelease:
		return s.linkages(c, entitlementResource)
	case !attach:
		return s.linkages(c, constraintResource)
	}
	if principalOf(c) == nil {
		return nil, access.ErrTokenMissing
	}
	body, err := s.readBody(c)
	if err != nil {
		return nil, err
	}
	return document.DecodeEmbedded(body, "/data", constraintResource, "entitlement", entitlementResource)
}

func (s *Server) attach(c echo.Context, on attachedTo) error {
	ids, err := s.entitlementIDs(c, on, true)
	if err != nil {
		return err
	}
	attachments, err := s.Entitlements.AttachTo(c.Request().Context(), principalOf(c), tenantOf(c), on.kind, attachedRef(c), ids)
	if err != nil {
		return err
	}
	return s.renderMany(c, nodesOf(attachments, attachmentNode(on)), nil)
}

// attachmentNode renders the attachments of a kind of record.
func attachmentNode(on attachedTo) func(*entitlement.Attachment) *jsonapi.Node {
	kind := string(on.kind)
	return func(a *entitlement.Attachment) *jsonapi.Node {
		base := document.AccountPath(a.AccountID)
		return &jsonapi.Node{
			Type: on.typ, ID: a.ID,
			Attributes: map[string]any{"created": document.Time(a.CreatedAt), "updated": document.Time(a.UpdatedAt)},
			Relationships: map[string]any{
				"account":     document.ToOne("accounts", a.AccountID, base),
				"entitlement": document.ToOne("entitlements", a.EntitlementID, base+"/entitlements/"+a.EntitlementID),
				on.owner:      document.ToOne(kind, a.OwnerID, base+"/"+kind+"/"+a.OwnerID),
			},
		}
	}
}

func (s *Server) detachPolicyEntitlements(c echo.Context) error  { return s.detach(c, onPolicy) }
func (s *Server) detachLicenseEntitlements(c echo.Context) error { return s.detach(c, onLicense) }
func (s *Server) detachReleaseConstraints(c echo.Context) error  { return s.detach(c, onRelease) }

func (s *Server) detach(c echo.Context, on attachedTo) error {
	ids, err := s.entitlementIDs(c, on, false)
	if err != nil {
		return err
	}
	if err := s.Entitlements.DetachFrom(c.Request().Context(), principalOf(c), tenantOf(c), on.kind, attachedRef(c), ids); err != nil {
		return err
	}
	return noContent(c)
}
