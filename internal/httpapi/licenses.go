package httpapi

import (
	"context"
	"net/http"

	"github.com/relkey/relkey/internal/identity"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/serializer"
	"github.com/relkey/relkey/internal/user"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
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
	return s.renderLicenseValue(c, status, l)
}

func (s *Server) listLicenses(c echo.Context) error {
	f, err := licenseFilter(c.QueryParams())
	if err != nil {
		return err
	}
	return s.pageLicenses(c, f)
}

// pageLicenses renders a page of the licenses f picks.
func (s *Server) pageLicenses(c echo.Context, f license.Filter) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]license.Shown, int64, error) {
		licenses, total, err := s.Licenses.List(ctx, who, t, f, p)
		return s.showListed(c, licenses, total, err)
	}, serializer.License)
}

// showListed reads what the documents of a page of licenses show.
func (s *Server) showListed(c echo.Context, licenses []license.License, total int64, err error) ([]license.Shown, int64, error) {
	if err != nil {
		return nil, 0, err
	}
	shown := make([]*license.License, len(licenses))
	for i := range licenses {
		shown[i] = &licenses[i]
	}
	listed, err := s.showLicenses(c, nil, shown...)
	return listed, total, err
}

func (s *Server) showLicense(c echo.Context) error {
	return s.renderLicense(c, http.StatusOK, pathRef(c))
}

func (s *Server) createLicense(c echo.Context) error {
	p, req, err := attributes[license.Params](s, c, licenseResource)
	if err != nil {
		return err
	}
	if err := req.PermitRelationships("policy", "owner", "user", "group"); err != nil {
		return err
	}
	var rel license.Relationships
	if rel.Group, err = groupOf(req); err != nil {
		return err
	}
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
	return s.renderLicenseValue(c, http.StatusCreated, l)
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
	return s.renderLicenseValue(c, http.StatusOK, l)
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
func (s *Server) licenseAction(c echo.Context, act pathAction[license.License]) error {
	l, err := act(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderLicenseValue(c, http.StatusOK, l)
}

func (s *Server) suspendLicense(c echo.Context) error   { return s.setSuspended(c, true) }
func (s *Server) reinstateLicense(c echo.Context) error { return s.setSuspended(c, false) }

func (s *Server) setSuspended(c echo.Context, suspended bool) error {
	return s.licenseAction(c, func(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*license.License, error) {
		return s.Licenses.SetSuspended(ctx, who, t, ref, suspended)
	})
}

func (s *Server) renewLicense(c echo.Context) error {
	return s.licenseAction(c, s.Licenses.Renew)
}

func (s *Server) checkInLicense(c echo.Context) error {
	return s.licenseAction(c, s.Licenses.CheckIn)
}

func (s *Server) incrementUsage(c echo.Context) error { return s.changeUsage(c, license.Increment) }
func (s *Server) decrementUsage(c echo.Context) error { return s.changeUsage(c, license.Decrement) }
func (s *Server) resetUsage(c echo.Context) error     { return s.changeUsage(c, license.Reset) }

func (s *Server) changeUsage(c echo.Context, action license.UsageAction) error {
	m, err := meta[struct {
		Increment optional.Value[int64] `json:"increment"`
		Decrement optional.Value[int64] `json:"decrement"`
	}](s, c, licenseResource)
	if err != nil {
		return err
	}
	change := license.UsageChange{Action: action, By: m.Increment}
	if action == license.Decrement {
		change.By = m.Decrement
	}
	return s.licenseAction(c, func(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*license.License, error) {
		return s.Licenses.ChangeUsage(ctx, who, t, ref, change)
	})
}

func (s *Server) listLicenseTokens(c echo.Context) error {
	l, err := s.Licenses.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderBearerTokens(c, identity.LicenseTarget(l))
}

// createLicenseToken issues an activation token for a license.
func (s *Server) createLicenseToken(c echo.Context) error {
	return s.generateToken(c, token.BearerLicense)
}

// showLicenseOwner renders the license's owner, or null.
func (s *Server) showLicenseOwner(c echo.Context) error {
	u, err := s.Licenses.Owner(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderUser(c, u)
}

// renderUser renders a license's or machine's owner, or data null.
func (s *Server) renderUser(c echo.Context, u *user.User) error {
	if u == nil {
		return s.render(c, http.StatusOK, &jsonapi.OnePayload{Data: nil})
	}
	return s.renderOne(c, http.StatusOK, serializer.User(u), nil)
}

// listLicenseMachines is GET /licenses/:id/machines.
func (s *Server) listLicenseMachines(c echo.Context) error {
	l, err := s.Licenses.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.pageMachines(c, machine.Filter{LicenseID: l.ID})
}

// showLicensePolicy is GET /licenses/:id/policy.
func (s *Server) showLicensePolicy(c echo.Context) error {
	pol, err := s.Licenses.Policy(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Policy(pol), nil)
}

// transferLicense is PUT /licenses/:id/policy {"data":{"type":"policies","id":…}};
// like Keygen, it answers with the license.
func (s *Server) transferLicense(c echo.Context) error {
	ref, err := s.identifier(c, policyResource, false)
	if err != nil {
		return err
	}
	l, _, err := s.Licenses.Transfer(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), *ref)
	if err != nil {
		return err
	}
	return s.renderLicenseValue(c, http.StatusOK, l)
}

// listLicenseUsers is GET /licenses/:id/users: the owner, then the licensees.
func (s *Server) listLicenseUsers(c echo.Context) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]user.User, int64, error) {
		return s.Licenses.Users(ctx, who, t, pathRef(c), p)
	}, serializer.User)
}

func (s *Server) attachLicenseUsers(c echo.Context) error { return s.licensees(c, true) }
func (s *Server) detachLicenseUsers(c echo.Context) error { return s.licensees(c, false) }

// licensees attaches or detaches users ({"data":[{"type":"users","id":…}]});
// an attach answers with the license's users.
func (s *Server) licensees(c echo.Context, attach bool) error {
	ids, err := s.linkages(c, userResource)
	if err != nil {
		return err
	}
	ctx, who, t := c.Request().Context(), principalOf(c), tenantOf(c)
	if !attach {
		if err := s.Licenses.DetachUsers(ctx, who, t, pathRef(c), ids); err != nil {
			return err
		}
		return noContent(c)
	}
	if err := s.Licenses.AttachUsers(ctx, who, t, pathRef(c), ids); err != nil {
		return err
	}
	return s.listLicenseUsers(c)
}
