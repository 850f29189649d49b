package httpapi

import (
	"context"
	"net/http"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/serializer"

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
	e, err := s.Entitlements.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
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
	e, err := s.Entitlements.Create(c.Request().Context(), principalOf(c), tenantOf(c), p)
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

// listAttached lists a policy's or release's entitlements, or a license's
// own and its policy's.
func (s *Server) listAttached(on entitlement.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]entitlement.Entitlement, int64, error) {
			return s.Entitlements.Attached(ctx, who, t, on, attachedRef(c), p)
		}, serializer.Entitlement)
	}
}

func (s *Server) listReleaseConstraints(c echo.Context) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]entitlement.Attachment, int64, error) {
		return s.Entitlements.Constraints(ctx, who, t, attachedRef(c), p)
	}, serializer.Attachment(entitlement.OnRelease))
}

// constraintResource is a release's entitlement constraint.
var constraintResource = document.Resource{Singular: "constraint", Plural: "constraints"}

// entitlementIDs decodes the entitlement ids of an authenticated attach or
// detach: resource identifiers of entitlements, or for releases embedded
// constraints on attach and constraint identifiers on detach.
func (s *Server) entitlementIDs(c echo.Context, on entitlement.Kind, attach bool) ([]string, error) {
	switch {
	case on != entitlement.OnRelease:
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

// attach attaches entitlements to the record of a kind the path names.
func (s *Server) attach(on entitlement.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		ids, err := s.entitlementIDs(c, on, true)
		if err != nil {
			return err
		}
		attachments, err := s.Entitlements.AttachTo(c.Request().Context(), principalOf(c), tenantOf(c), on, attachedRef(c), ids)
		if err != nil {
			return err
		}
		return s.renderMany(c, nodesOf(attachments, serializer.Attachment(on)), nil)
	}
}

// detach detaches entitlements from the record of a kind the path names.
func (s *Server) detach(on entitlement.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		ids, err := s.entitlementIDs(c, on, false)
		if err != nil {
			return err
		}
		if err := s.Entitlements.DetachFrom(c.Request().Context(), principalOf(c), tenantOf(c), on, attachedRef(c), ids); err != nil {
			return err
		}
		return noContent(c)
	}
}
