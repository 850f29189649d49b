package httpapi

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/serializer"
	"github.com/relkey/relkey/internal/session"
)

var portalSessionResource = document.Resource{Singular: "portal-session", Plural: "portal-sessions"}

// portalSessionAttributes are what POST /portal-sessions takes.
type portalSessionAttributes struct {
	ReturnURL        string                   `json:"return_url"`
	Permissions      optional.Value[[]string] `json:"permissions"`
	ActivationFields []string                 `json:"activation_fields"`
	FingerprintLabel string                   `json:"fingerprint_label"`
	Expiry           *time.Time               `json:"expiry"`
}

// createPortalSession makes a one-time link into the customer portal for a
// license or a user, like Anystack's contact sessions.
func (s *Server) createPortalSession(c echo.Context) error {
	if principalOf(c) == nil {
		return access.ErrTokenMissing
	}
	a, req, err := attributes[portalSessionAttributes](s, c, portalSessionResource)
	if err != nil {
		return err
	}
	if err := req.PermitRelationships("license", "user", "product"); err != nil {
		return err
	}
	p := session.PortalParams{ReturnURL: a.ReturnURL, ActivationFields: a.ActivationFields,
		FingerprintLabel: a.FingerprintLabel, Expiry: a.Expiry}
	if a.Permissions.Set {
		p.Permissions = append([]string{}, a.Permissions.V...)
	}
	for name, into := range map[string]*string{"license": &p.LicenseID, "user": &p.UserID, "product": &p.ProductID} {
		link, err := req.ToOne(name, document.Resource{Singular: name, Plural: name + "s"})
		if err != nil {
			return err
		}
		if link != nil {
			*into = link.ID
		}
	}
	link, err := s.PortalLinks.Create(c.Request().Context(), principalOf(c), tenantOf(c), p)
	if err != nil {
		return err
	}
	// The secret rides in the query, which the access log leaves out.
	portal := s.absolute(c, "/portal/"+url.PathEscape(tenantOf(c).Slug)+"/open?"+url.Values{"token": {link.Secret}}.Encode())
	return s.renderOne(c, http.StatusCreated, serializer.PortalSession(link, portal), nil)
}
