package session

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/user"
)

// What a portal session may let a customer do, as POST /portal-sessions
// names it in `permissions`.
const (
	MachineRead     = "machine.read"
	MachineCreate   = "machine.create"
	MachineDelete   = "machine.delete"
	ReleaseDownload = "release.download"
)

// PortalPermissions are the permissions a portal session can grant.
var PortalPermissions = []string{MachineRead, MachineCreate, MachineDelete, ReleaseDownload}

// ActivationFields are the machine attributes a portal can ask for when
// the customer activates a machine (besides its fingerprint).
var ActivationFields = []string{"name", "hostname", "platform"}

const (
	// PortalLinkTTL is how long a link lasts unless its expiry says otherwise.
	PortalLinkTTL = 15 * time.Minute
	// maxPortalLinkTTL bounds a link's expiry: it is a bearer credential.
	maxPortalLinkTTL   = 24 * time.Hour
	maxFingerprintName = 64
	maxReturnURL       = 2048
)

// Grant is what a portal session lets the customer do and see.
type Grant struct {
	Permissions      []string `json:"permissions"`
	ReturnURL        string   `json:"returnUrl,omitempty"`
	ProductID        string   `json:"productId,omitempty"`
	ActivationFields []string `json:"activationFields,omitempty"`
	FingerprintLabel string   `json:"fingerprintLabel,omitempty"`
}

// signInGrant is what a customer who signs in with their license key may
// do: see and deactivate their machines and download their releases.
var signInGrant = Grant{Permissions: []string{MachineRead, MachineDelete, ReleaseDownload}}

// Effective is the grant that applies: g, or the sign-in grant when nil.
func (g *Grant) Effective() *Grant {
	if g == nil {
		return &signInGrant
	}
	return g
}

// Allows reports whether the grant includes permission.
func (g *Grant) Allows(permission string) bool {
	return slices.Contains(g.Effective().Permissions, permission)
}

// Label is what the portal calls a machine's fingerprint.
func (g *Grant) Label() string {
	if l := g.Effective().FingerprintLabel; l != "" {
		return l
	}
	return "Fingerprint"
}

// Asks reports whether activating a machine in the portal asks for field.
func (g *Grant) Asks(field string) bool {
	return slices.Contains(g.Effective().ActivationFields, field)
}

// PortalParams are a portal session's attributes and relationships as a
// vendor asks for them: for a license or a user, optionally one product.
type PortalParams struct {
	LicenseID        string
	UserID           string
	ProductID        string
	ReturnURL        string
	Permissions      []string // nil: machine.read
	ActivationFields []string
	FingerprintLabel string
	Expiry           *time.Time // nil: PortalLinkTTL from now
}

// PortalLink is a one-time link into the portal: its session row (bearer,
// grant, expiry) and the secret the link carries, shown only now.
type PortalLink struct {
	*Session
	Secret string
}

// PortalLinks makes portal links for the customers a bearer may see.
type PortalLinks struct {
	Sessions *Sessions
	Changes  event.Changer
	Licenses *license.Service
	Users    *user.Service
	Products *product.Service
}

// Create makes a one-time portal link for the license or user of p, within
// what who may see. The link is a credential of that license or user, so it
// takes the portal-session.create permission (admins, products, sales).
func (pl *PortalLinks) Create(ctx context.Context, who *access.Principal, t *account.Tenant, p PortalParams) (*PortalLink, error) {
	if err := who.Require("portal-session.create"); err != nil {
		return nil, err
	}
	grant, err := p.grant()
	if err != nil {
		return nil, err
	}
	now := pl.Sessions.Now().UTC()
	expires := now.Add(PortalLinkTTL)
	if p.Expiry != nil {
		if !p.Expiry.After(now) || p.Expiry.After(now.Add(maxPortalLinkTTL)) {
			return nil, apperr.Attribute("expiry", "INVALID", "must be in the future and at most 24 hours away")
		}
		expires = *p.Expiry
	}
	if p.ProductID != "" {
		prod, err := pl.Products.Find(ctx, who, t, p.ProductID)
		if err != nil {
			return nil, relationshipNotFound("product", err)
		}
		grant.ProductID = prod.ID
	}
	var bearerType, bearerID string
	switch {
	case p.LicenseID != "" && p.UserID != "":
		return nil, apperr.At(apperr.Unprocessable, "BEARER_CONFLICT", "a portal session is for a license or a user, not both", apperr.Rel("user"))
	case p.LicenseID != "":
		l, err := pl.Licenses.Find(ctx, who, t, p.LicenseID)
		if err != nil {
			return nil, relationshipNotFound("license", err)
		}
		if grant.ProductID != "" && l.ProductID != grant.ProductID {
			return nil, apperr.At(apperr.Unprocessable, "LICENSE_INVALID", "the license is not of the session's product", apperr.Rel("license"))
		}
		bearerType, bearerID = access.BearerLicense, l.ID
	case p.UserID != "":
		u, err := pl.Users.Find(ctx, who, t, p.UserID)
		if err != nil {
			return nil, relationshipNotFound("user", err)
		}
		if u.Role != access.RoleUser {
			return nil, apperr.At(apperr.Unprocessable, "USER_INVALID", "the portal is for customers: the user must have the user role", apperr.Rel("user"))
		}
		bearerType, bearerID = access.BearerUser, u.ID
	default:
		return nil, apperr.At(apperr.Unprocessable, "BEARER_BLANK", "a portal session needs a license or a user relationship", apperr.Rel("license"))
	}
	link := &PortalLink{}
	err = pl.Changes.Change(ctx, func(ctx context.Context) error {
		link.Session, link.Secret, err = pl.Sessions.startUntil(ctx, t.ID, KindPortalLink, bearerType, bearerID, expires, grant)
		return err
	}, func() event.Occurrence {
		return event.Occurrence{Event: event.PortalSessionCreated, AccountID: t.ID, Resource: link, Who: who}
	})
	if err != nil {
		return nil, err
	}
	return link, nil
}

// relationshipNotFound turns a lookup's not-found into a refusal of the
// relationship that named it; other errors pass.
func relationshipNotFound(rel string, err error) error {
	if apperr.Is(err, apperr.NotFound) {
		return apperr.At(apperr.Unprocessable, "NOT_FOUND", "must exist", apperr.Rel(rel))
	}
	return err
}

// grant checks the attributes and makes the grant they ask for.
func (p PortalParams) grant() (*Grant, error) {
	u, err := url.Parse(p.ReturnURL)
	switch {
	case strings.TrimSpace(p.ReturnURL) == "":
		return nil, apperr.Attribute("return_url", "BLANK", "cannot be blank")
	case len(p.ReturnURL) > maxReturnURL || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return nil, apperr.Attribute("return_url", "INVALID", "must be an absolute http or https URL")
	}
	g := &Grant{ReturnURL: u.String(), Permissions: []string{MachineRead}, ActivationFields: []string{}}
	if p.Permissions != nil {
		g.Permissions = []string{}
		for i, perm := range p.Permissions {
			if !slices.Contains(PortalPermissions, perm) {
				return nil, apperr.At(apperr.Unprocessable, "PERMISSIONS_NOT_ALLOWED", "unsupported permission "+quote(perm)+": one of "+strings.Join(PortalPermissions, ", "), apperr.Attr("permissions").Item(i))
			}
			if !slices.Contains(g.Permissions, perm) {
				g.Permissions = append(g.Permissions, perm)
			}
		}
	}
	for i, f := range p.ActivationFields {
		if !slices.Contains(ActivationFields, f) {
			return nil, apperr.At(apperr.Unprocessable, "ACTIVATION_FIELDS_INVALID", "unsupported field "+quote(f)+": one of "+strings.Join(ActivationFields, ", "), apperr.Attr("activation_fields").Item(i))
		}
		if !slices.Contains(g.ActivationFields, f) {
			g.ActivationFields = append(g.ActivationFields, f)
		}
	}
	if n := utf8.RuneCountInString(p.FingerprintLabel); n > maxFingerprintName {
		return nil, apperr.Attribute("fingerprint_label", "TOO_LONG", "is too long (maximum is 64 characters)")
	}
	g.FingerprintLabel = strings.TrimSpace(p.FingerprintLabel)
	return g, nil
}

func quote(s string) string { return "'" + s + "'" }
