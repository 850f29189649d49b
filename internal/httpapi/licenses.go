package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/relkey/relkey/internal/serializer"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/token"
)

var licenseResource = document.Resource{Singular: "license", Plural: "licenses"}

func (s *Server) renderLicense(c echo.Context, status int, ref string) error {
	l, err := s.Licenses.Find(c.Request().Context(), principalOf(c), tenantOf(c), ref)
	if err != nil {
		return err
	}
	return s.renderLicenseValue(c, status, l, nil)
}

func (s *Server) listLicenses(c echo.Context) error {
	paging, err := document.ParsePaging(c.QueryParams())
	if err != nil {
		return err
	}
	q := c.QueryParams()
	ids, err := document.IDFilters(q, "product", "policy", "owner")
	if err != nil {
		return err
	}
	f := license.Filter{ProductID: ids["product"], PolicyID: ids["policy"], OwnerID: ids["owner"]}
	licenses, total, err := s.Licenses.List(c.Request().Context(), principalOf(c), f, paging.Request)
	if err != nil {
		return err
	}
	pc := s.licenseRenderer(c.Request().Context())
	if err := pc.prefetch(licenses); err != nil {
		return err
	}
	nodes := make([]*jsonapi.Node, len(licenses))
	for i := range licenses {
		if nodes[i], err = pc.node(&licenses[i]); err != nil {
			return err
		}
	}
	return s.renderMany(c, nodes, paging.Links(c.Request().URL.Path, q, total))
}

func (s *Server) showLicense(c echo.Context) error {
	return s.renderLicense(c, http.StatusOK, pathRef(c))
}

func (s *Server) createLicense(c echo.Context) error {
	p, req, err := attributes[license.Params](s, c, licenseResource)
	if err != nil {
		return err
	}
	if err := req.PermitRelationships("policy", "owner", "user"); err != nil {
		return err
	}
	var rel license.Relationships
	if link, err := req.ToOne("policy", policyResource); err != nil {
		return err
	} else if link != nil {
		rel.Policy = link.ID
	}
	for _, name := range []string{"owner", "user"} {
		if link, err := req.ToOne(name, userResource); err != nil {
			return err
		} else if link != nil {
			rel.Owner = link.ID
		}
	}
	l, err := s.Licenses.Create(c.Request().Context(), principalOf(c), tenantOf(c), rel, p)
	if err != nil {
		return err
	}
	return s.renderLicenseValue(c, http.StatusCreated, l, nil)
}

func (s *Server) updateLicense(c echo.Context) error {
	p, req, err := attributes[license.Params](s, c, licenseResource)
	if err != nil {
		return err
	}
	if err := req.PermitRelationships(); err != nil {
		return err
	}
	l, err := s.Licenses.Update(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), p)
	if err != nil {
		return err
	}
	return s.renderLicenseValue(c, http.StatusOK, l, nil)
}

func (s *Server) deleteLicense(c echo.Context) error { return s.removeLicense(c, "license.delete") }
func (s *Server) revokeLicense(c echo.Context) error { return s.removeLicense(c, "license.revoke") }

func (s *Server) removeLicense(c echo.Context, permission string) error {
	if err := s.Licenses.Revoke(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), permission); err != nil {
		return err
	}
	return noContent(c)
}

// licenseAction runs an action that returns the changed license.
func (s *Server) licenseAction(c echo.Context, act func(context.Context, *access.Principal, string) (*license.License, error)) error {
	l, err := act(c.Request().Context(), principalOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderLicenseValue(c, http.StatusOK, l, nil)
}

func (s *Server) suspendLicense(c echo.Context) error   { return s.setSuspended(c, true) }
func (s *Server) reinstateLicense(c echo.Context) error { return s.setSuspended(c, false) }

func (s *Server) setSuspended(c echo.Context, suspended bool) error {
	return s.licenseAction(c, func(ctx context.Context, who *access.Principal, ref string) (*license.License, error) {
		return s.Licenses.SetSuspended(ctx, who, tenantOf(c), ref, suspended)
	})
}

func (s *Server) renewLicense(c echo.Context) error {
	return s.licenseAction(c, func(ctx context.Context, who *access.Principal, ref string) (*license.License, error) {
		return s.Licenses.Renew(ctx, who, tenantOf(c), ref)
	})
}

func (s *Server) checkInLicense(c echo.Context) error {
	return s.licenseAction(c, func(ctx context.Context, who *access.Principal, ref string) (*license.License, error) {
		return s.Licenses.CheckIn(ctx, who, tenantOf(c), ref)
	})
}

type usageMeta struct {
	Increment optional.Value[int64] `json:"increment"`
	Decrement optional.Value[int64] `json:"decrement"`
}

func (s *Server) incrementUsage(c echo.Context) error { return s.changeUsage(c, 1, false) }
func (s *Server) decrementUsage(c echo.Context) error { return s.changeUsage(c, -1, false) }
func (s *Server) resetUsage(c echo.Context) error     { return s.changeUsage(c, 0, true) }

func (s *Server) changeUsage(c echo.Context, sign int64, reset bool) error {
	var m usageMeta
	req, err := s.decode(c, licenseResource, false)
	if err != nil {
		return err
	}
	if err := req.DecodeMeta(&m); err != nil {
		return err
	}
	by := int64(1)
	if v, pointer := m.Increment, "/meta/increment"; sign > 0 && v.Set || sign < 0 && m.Decrement.Set {
		if sign < 0 {
			v, pointer = m.Decrement, "/meta/decrement"
		}
		if v.V < 1 {
			return apperr.AtPointer(apperr.Invalid, document.CodeParametersInvalid, "must be greater than 0", pointer)
		}
		by = v.V
	}
	return s.licenseAction(c, func(ctx context.Context, who *access.Principal, ref string) (*license.License, error) {
		return s.Licenses.ChangeUsage(ctx, who, tenantOf(c), ref, sign*by, reset)
	})
}

func (s *Server) listLicenseTokens(c echo.Context) error {
	l, err := s.Licenses.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderBearerTokens(c, token.Target{Type: token.BearerLicense, ID: l.ID, Role: access.RoleLicense})
}

// createLicenseToken issues an activation token for a license.
func (s *Server) createLicenseToken(c echo.Context) error {
	l, err := s.Licenses.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	req, err := s.decode(c, tokenResource, false)
	if err != nil {
		return err
	}
	var p struct {
		Name             optional.Value[*string]    `json:"name"`
		Expiry           optional.Value[*time.Time] `json:"expiry"`
		Permissions      optional.Value[[]string]   `json:"permissions"`
		MaxActivations   optional.Value[*int64]     `json:"max_activations"`
		MaxDeactivations optional.Value[*int64]     `json:"max_deactivations"`
	}
	if err := req.DecodeAttributes(&p); err != nil {
		return err
	}
	if err := req.PermitRelationships(); err != nil {
		return err
	}
	return s.issue(c, token.Target{Type: token.BearerLicense, ID: l.ID, Role: access.RoleLicense}, token.Options{
		Name: p.Name.V, Expiry: p.Expiry.V, ExpirySet: p.Expiry.Set, Permissions: p.Permissions.V,
		MaxActivations: p.MaxActivations.V, MaxDeactivations: p.MaxDeactivations.V,
	})
}

// showLicenseOwner renders the license's owner, or null.
func (s *Server) showLicenseOwner(c echo.Context) error {
	l, err := s.Licenses.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOwner(c, l.AccountID, l.OwnerID)
}

// renderOwner renders the owning user of a license or machine, or data null.
func (s *Server) renderOwner(c echo.Context, accountID string, ownerID *string) error {
	if ownerID == nil {
		return s.render(c, http.StatusOK, &jsonapi.OnePayload{Data: nil})
	}
	u, err := s.Users.Bearer(c.Request().Context(), accountID, *ownerID)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.User(u), nil)
}

// listLicenseMachines is GET /licenses/:id/machines.
func (s *Server) listLicenseMachines(c echo.Context) error {
	l, err := s.Licenses.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	paging, err := document.ParsePaging(c.QueryParams())
	if err != nil {
		return err
	}
	machines, total, err := s.Machines.List(c.Request().Context(), principalOf(c), machine.Filter{LicenseID: l.ID}, paging.Request)
	if err != nil {
		return err
	}
	nodes, err := s.machineNodes(c.Request().Context(), machines)
	if err != nil {
		return err
	}
	return s.renderMany(c, nodes, paging.Links(c.Request().URL.Path, c.QueryParams(), total))
}

// showLicensePolicy is GET /licenses/:id/policy.
func (s *Server) showLicensePolicy(c echo.Context) error {
	ctx, who := c.Request().Context(), principalOf(c)
	if who == nil {
		return access.ErrTokenMissing
	}
	_, pol, err := s.Licenses.Visible(ctx, who, tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	if err := who.Require("policy.read"); err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Policy(pol), nil)
}

// transferLicense is PUT /licenses/:id/policy {"data":{"type":"policies","id":…}};
// like Keygen, it answers with the license.
func (s *Server) transferLicense(c echo.Context) error {
	if principalOf(c) == nil {
		return access.ErrTokenMissing
	}
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	req, err := document.Decode(body, policyResource, true)
	if err != nil {
		return err
	}
	if len(req.Attributes) > 0 || len(req.Relationships) > 0 || req.ID == "" {
		return apperr.AtPointer(apperr.Invalid, document.CodeParametersInvalid, "must be a policy identifier {type, id}", "/data")
	}
	l, _, err := s.Licenses.Transfer(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), req.ID)
	if err != nil {
		return err
	}
	return s.renderLicenseValue(c, http.StatusOK, l, nil)
}

// listLicenseUsers is GET /licenses/:id/users: the owner, then the licensees.
func (s *Server) listLicenseUsers(c echo.Context) error {
	ctx := c.Request().Context()
	if principalOf(c) == nil {
		return access.ErrTokenMissing
	}
	ids, err := s.Licenses.UserIDs(ctx, principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	nodes := make([]*jsonapi.Node, 0, len(ids))
	for _, uid := range ids {
		u, err := s.Users.Bearer(ctx, tenantOf(c).ID, uid)
		if err != nil {
			return err
		}
		nodes = append(nodes, serializer.User(u))
	}
	return s.renderMany(c, nodes, nil)
}

func (s *Server) attachLicenseUsers(c echo.Context) error { return s.licensees(c, true) }
func (s *Server) detachLicenseUsers(c echo.Context) error { return s.licensees(c, false) }

// licensees attaches or detaches users ({"data":[{"type":"users","id":…}]}).
func (s *Server) licensees(c echo.Context, attach bool) error {
	if principalOf(c) == nil {
		return access.ErrTokenMissing
	}
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	ids, err := document.DecodeLinkages(body, userResource)
	if err != nil {
		return err
	}
	ctx, who, t := c.Request().Context(), principalOf(c), tenantOf(c)
	if attach {
		err = s.Licenses.AttachUsers(ctx, who, t, pathRef(c), ids)
	} else {
		err = s.Licenses.DetachUsers(ctx, who, t, pathRef(c), ids)
	}
	if err != nil {
		return err
	}
	if !attach {
		return noContent(c)
	}
	return s.listLicenseUsers(c)
}
