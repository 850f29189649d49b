package httpapi

import (
	"net/http"

	"github.com/relkey/relkey/internal/serializer"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/entitlement"
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

// attachmentTarget resolves the policy, license or release of an
// entitlements or constraints route.
func (s *Server) attachmentTarget(c echo.Context, kind string) (entitlement.Target, error) {
	ctx, who := c.Request().Context(), principalOf(c)
	if who == nil {
		return entitlement.Target{}, access.ErrTokenMissing
	}
	switch kind {
	case "releases":
		r, err := s.Releases.Find(ctx, who, tenantOf(c).ID, pathRef(c), releaseNarrowing(c))
		if err != nil {
			return entitlement.Target{}, err
		}
		return entitlement.ReleaseTarget(r.ID), nil
	case "policies":
		pol, err := s.Policies.Visible(ctx, who, pathRef(c))
		if err != nil {
			return entitlement.Target{}, err
		}
		return entitlement.PolicyTarget(pol.ID), nil
	}
	l, _, err := s.Licenses.Visible(ctx, who, tenantOf(c), pathRef(c))
	if err != nil {
		return entitlement.Target{}, err
	}
	return entitlement.LicenseTarget(l.ID, l.PolicyID), nil
}

func (s *Server) listPolicyEntitlements(c echo.Context) error  { return s.listAttached(c, "policies") }
func (s *Server) listLicenseEntitlements(c echo.Context) error { return s.listAttached(c, "licenses") }
func (s *Server) listReleaseEntitlements(c echo.Context) error { return s.listAttached(c, "releases") }

// listAttached lists a policy's or release's entitlements, or a license's
// own and its policy's.
func (s *Server) listAttached(c echo.Context, kind string) error {
	t, err := s.attachmentTarget(c, kind)
	if err != nil {
		return err
	}
	if err := principalOf(c).Require("entitlement.read"); err != nil {
		return err
	}
	var items []entitlement.Entitlement
	if t.PolicyID != "" {
		items, err = s.Entitlements.Of(c.Request().Context(), tenantOf(c).ID, t.ID, t.PolicyID)
	} else {
		items, err = s.Entitlements.Attached(c.Request().Context(), tenantOf(c).ID, t)
	}
	if err != nil {
		return err
	}
	return s.renderMany(c, nodesOf(items, serializer.Entitlement), nil)
}

func (s *Server) attachPolicyEntitlements(c echo.Context) error  { return s.attach(c, "policies") }
func (s *Server) attachLicenseEntitlements(c echo.Context) error { return s.attach(c, "licenses") }
func (s *Server) attachReleaseConstraints(c echo.Context) error  { return s.attach(c, "releases") }

// constraintResource is a release's entitlement constraint.
var constraintResource = document.Resource{Singular: "constraint", Plural: "constraints"}

// linkageRequest resolves the target of an attach or detach and the
// entitlement ids of its body: resource identifiers of entitlements, or for
// releases embedded constraints on attach and constraint identifiers on detach.
func (s *Server) linkageRequest(c echo.Context, kind string, attach bool) (entitlement.Target, []string, error) {
	t, err := s.attachmentTarget(c, kind)
	if err != nil {
		return t, nil, err
	}
	body, err := s.readBody(c)
	if err != nil {
		return t, nil, err
	}
	var ids []string
	switch {
	case kind != "releases":
		ids, err = document.DecodeLinkages(body, entitlementResource)
	case attach:
		ids, err = document.DecodeEmbedded(body, "/data", constraintResource, "entitlement", entitlementResource)
	default:
		ids, err = document.DecodeLinkages(body, constraintResource)
	}
	return t, ids, err
}

// attachmentKinds names, per target kind, the attach permission, the
// rendered type of an attachment and its owner relationship.
var attachmentKinds = map[string]struct{ permission, typ, owner string }{
	"policies": {"policy.entitlements", "policy-entitlements", "policy"},
	"licenses": {"license.entitlements", "license-entitlements", "license"},
	"releases": {"release.constraints", "constraints", "release"},
}

func (s *Server) attach(c echo.Context, kind string) error {
	t, ids, err := s.linkageRequest(c, kind, true)
	if err != nil {
		return err
	}
	attachments, err := s.Entitlements.Attach(c.Request().Context(), principalOf(c), attachmentKinds[kind].permission+".attach", t, ids)
	if err != nil {
		return err
	}
	return s.renderMany(c, attachmentNodes(attachments, kind), nil)
}

func (s *Server) listReleaseConstraints(c echo.Context) error {
	t, err := s.attachmentTarget(c, "releases")
	if err != nil {
		return err
	}
	if err := principalOf(c).Require("constraint.read"); err != nil {
		return err
	}
	attachments, err := s.Entitlements.Attachments(c.Request().Context(), tenantOf(c).ID, t)
	if err != nil {
		return err
	}
	return s.renderMany(c, attachmentNodes(attachments, "releases"), nil)
}

func attachmentNodes(attachments []entitlement.Attachment, kind string) []*jsonapi.Node {
	typ, owner := attachmentKinds[kind].typ, attachmentKinds[kind].owner
	nodes := make([]*jsonapi.Node, len(attachments))
	for i, a := range attachments {
		base := document.AccountPath(a.AccountID)
		nodes[i] = &jsonapi.Node{
			Type: typ, ID: a.ID,
			Attributes: map[string]any{"created": document.Time(a.CreatedAt), "updated": document.Time(a.UpdatedAt)},
			Relationships: map[string]any{
				"account":     document.ToOne("accounts", a.AccountID, base),
				"entitlement": document.ToOne("entitlements", a.EntitlementID, base+"/entitlements/"+a.EntitlementID),
				owner:         document.ToOne(kind, a.OwnerID, base+"/"+kind+"/"+a.OwnerID),
			},
		}
	}
	return nodes
}

func (s *Server) detachPolicyEntitlements(c echo.Context) error  { return s.detach(c, "policies") }
func (s *Server) detachLicenseEntitlements(c echo.Context) error { return s.detach(c, "licenses") }
func (s *Server) detachReleaseConstraints(c echo.Context) error  { return s.detach(c, "releases") }

func (s *Server) detach(c echo.Context, kind string) error {
	t, ids, err := s.linkageRequest(c, kind, false)
	if err != nil {
		return err
	}
	if err := s.Entitlements.Detach(c.Request().Context(), principalOf(c), attachmentKinds[kind].permission+".detach", t, ids); err != nil {
		return err
	}
	return noContent(c)
}
