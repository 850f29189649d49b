package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/identity"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/serializer"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/token"
)

var tokenResource = document.Resource{Singular: "token", Plural: "tokens"}

type tokenParams struct {
	Name             optional.Value[*string]    `json:"name"`
	Expiry           optional.Value[*time.Time] `json:"expiry"`
	Permissions      optional.Value[[]string]   `json:"permissions"`
	MaxActivations   optional.Value[*int64]     `json:"max_activations"`
	MaxDeactivations optional.Value[*int64]     `json:"max_deactivations"`
}

// Password attempts: 5 a minute per account and email, from any address,
// and 30 a minute per account and address, whatever the emails.
const (
	passwordAttempts      = 5
	passwordWindow        = time.Minute
	addressAttemptsFactor = 6
)

// subjectAndAddress are the quotas of a password-like attempt at subject
// (an email or a user): allowed per subject, from any address, and
// addressAttemptsFactor times that per client address, whatever the subject.
func subjectAndAddress(c echo.Context, name string, allowed int, window time.Duration, accountID, subject string) []quota {
	return []quota{
		{name: name, allowed: allowed, window: window, parts: []string{accountID, "subject", strings.ToLower(subject)}},
		{name: name, allowed: allowed * addressAttemptsFactor, window: window, parts: []string{accountID, "address", c.RealIP()}},
	}
}

// tokenOptions decodes a token request document (optional body).
func (s *Server) tokenOptions(c echo.Context) (token.Options, *document.Request, error) {
	p, req, err := attributesOf[tokenParams](s, c, tokenResource, false)
	if err != nil {
		return token.Options{}, nil, err
	}
	if err := req.PermitRelationships("bearer"); err != nil {
		return token.Options{}, nil, err
	}
	return token.Options{Name: p.Name.V, Expiry: p.Expiry.V, ExpirySet: p.Expiry.Set, Permissions: p.Permissions.V,
		MaxActivations: p.MaxActivations.V, MaxDeactivations: p.MaxDeactivations.V}, req, nil
}

// createToken issues a token: with HTTP Basic email:password for that user
// (rate limited), or with a token for its own bearer or, through
// relationships.bearer, for a user or product the principal may see.
func (s *Server) createToken(c echo.Context) error {
	cred, ok, err := parseCredentials(c, false)
	if err != nil {
		return err
	}
	if ok && cred.basicPassword {
		return s.createTokenWithPassword(c, cred.email, cred.password)
	}
	if principalOf(c) == nil {
		return access.ErrTokenMissing
	}
	opts, req, err := s.tokenOptions(c)
	if err != nil {
		return err
	}
	var to identity.For
	link, err := req.ToOne("bearer", userResource, productResource)
	if err != nil {
		return err
	}
	if link != nil {
		to = identity.For{Type: link.Type, Ref: link.ID}
	}
	return s.issue(c, to, opts)
}

// tokenMeta is the meta of a token request: the code of the user's second
// factor for an HTTP Basic sign-in.
type tokenMeta struct {
	OTP optional.Value[string] `json:"otp"`
}

func (s *Server) createTokenWithPassword(c echo.Context, email, password string) error {
	ctx, t := c.Request().Context(), tenantOf(c)
	if err := s.limitAll(c, subjectAndAddress(c, "password", passwordAttempts, passwordWindow, t.ID, email)...); err != nil {
		return err
	}
	opts, req, err := s.bearerlessTokenOptions(c)
	if err != nil {
		return err
	}
	var m tokenMeta
	if err := req.DecodeMeta(&m); err != nil {
		return err
	}
	var otp *string
	if m.OTP.Set {
		otp = &m.OTP.V
	}
	u, err := s.Identity.Password(ctx, t, email, password, otp)
	if err != nil {
		return err
	}
	tok, raw, err := s.Issuing.IssueToUser(ctx, t, u, opts)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.Token(tok, raw), nil)
}

// bearerlessTokenOptions decodes a token request whose bearer the route
// names: it may not carry relationships.bearer.
func (s *Server) bearerlessTokenOptions(c echo.Context) (token.Options, *document.Request, error) {
	opts, req, err := s.tokenOptions(c)
	if err != nil {
		return opts, nil, err
	}
	if len(req.Relationships) > 0 {
		return opts, nil, apperr.AtPointer(apperr.Invalid, document.CodeParametersInvalid, "unpermitted parameter", "/data/relationships/bearer")
	}
	return opts, req, nil
}

// generateToken is POST /<bearers>/:id/tokens: a token for the user,
// product or license the path names, which the principal may see.
func (s *Server) generateToken(c echo.Context, bearerType string) error {
	opts, _, err := s.bearerlessTokenOptions(c)
	if err != nil {
		return err
	}
	return s.issue(c, identity.For{Type: bearerType, Ref: pathRef(c)}, opts)
}

func (s *Server) issue(c echo.Context, to identity.For, opts token.Options) error {
	tok, raw, err := s.Issuing.Issue(c.Request().Context(), principalOf(c), tenantOf(c), to, opts)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.Token(tok, raw), nil)
}

func (s *Server) listTokens(c echo.Context) error {
	f, err := tokenFilter(c.QueryParams())
	if err != nil {
		return err
	}
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]token.Token, int64, error) {
		return s.Tokens.ListWhere(ctx, who, t, f, p)
	}, listedToken)
}

// renderBearerTokens lists the tokens of one bearer.
func (s *Server) renderBearerTokens(c echo.Context, target token.Target) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]token.Token, int64, error) {
		return s.Tokens.ListForBearer(ctx, who, t, target, p)
	}, listedToken)
}

// listedToken renders a token of a list, never with its raw value.
func listedToken(t *token.Token) *jsonapi.Node { return serializer.Token(t, "") }

func (s *Server) showToken(c echo.Context) error {
	tok, err := s.Tokens.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Token(tok, ""), nil)
}

func (s *Server) regenerateToken(c echo.Context) error {
	tok, raw, err := s.Tokens.Regenerate(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Token(tok, raw), nil)
}

// regenerateCurrentToken is PUT /tokens (Keygen's deprecated
// tokens#regenerate_current): the bearer's own token, regenerated as PUT
// /tokens/:id does; a bearer authenticated by a license key has no token
// (404).
func (s *Server) regenerateCurrentToken(c echo.Context) error {
	who := principalOf(c)
	if who == nil {
		return access.ErrTokenMissing
	}
	if who.TokenID == "" {
		return apperr.New(apperr.NotFound, "NOT_FOUND", "The requested token resource was not found")
	}
	tok, raw, err := s.Tokens.Regenerate(c.Request().Context(), who, tenantOf(c), who.TokenID)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Token(tok, raw), nil)
}

func (s *Server) revokeToken(c echo.Context) error {
	if err := s.Tokens.Revoke(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c)); err != nil {
		return err
	}
	return noContent(c)
}
