package httpapi

import (
	"net/http"
	"time"

	"github.com/relkey/relkey/internal/serializer"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
)

var tokenResource = document.Resource{Singular: "token", Plural: "tokens"}

type tokenParams struct {
	Name             optional.Value[*string]    `json:"name"`
	Expiry           optional.Value[*time.Time] `json:"expiry"`
	Permissions      optional.Value[[]string]   `json:"permissions"`
	MaxActivations   optional.Value[*int64]     `json:"max_activations"`
	MaxDeactivations optional.Value[*int64]     `json:"max_deactivations"`
}

// Password attempts: 5 a minute per account, address and email.
const (
	passwordAttempts = 5
	passwordWindow   = time.Minute
)

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
	cred, ok, err := parseCredentials(c)
	if err != nil {
		return err
	}
	if ok && cred.basicPassword {
		return s.createTokenWithPassword(c, cred.email, cred.password)
	}
	who := principalOf(c)
	if who == nil {
		return access.ErrTokenMissing
	}
	opts, req, err := s.tokenOptions(c)
	if err != nil {
		return err
	}
	target := token.Target{Type: who.BearerType, ID: who.BearerID, Role: who.Role}
	link, err := req.ToOne("bearer", userResource, productResource)
	if err != nil {
		return err
	}
	if link != nil {
		if target, err = s.visibleBearer(c, link); err != nil {
			return err
		}
	}
	return s.issue(c, target, opts)
}

// visibleBearer resolves a bearer linkage the principal may see.
func (s *Server) visibleBearer(c echo.Context, link *document.Linkage) (token.Target, error) {
	ctx, who := c.Request().Context(), principalOf(c)
	if link.Type == token.BearerProduct {
		p, err := s.Products.Find(ctx, who, link.ID)
		if err != nil {
			return token.Target{}, err
		}
		return token.Target{Type: token.BearerProduct, ID: p.ID, Role: access.RoleProduct}, nil
	}
	u, err := s.Users.Find(ctx, who, link.ID)
	if err != nil {
		return token.Target{}, err
	}
	return userTarget(u), nil
}

func userTarget(u *user.User) token.Target {
	return token.Target{Type: token.BearerUser, ID: u.ID, Role: u.Role}
}

func (s *Server) createTokenWithPassword(c echo.Context, email, password string) error {
	ctx, t := c.Request().Context(), tenantOf(c)
	if err := s.limit(c, passwordAttempts, passwordWindow, "password", t.ID, c.RealIP(), email); err != nil {
		return err
	}
	u, err := s.Identity.Password(ctx, t.ID, email, password)
	if err != nil {
		return err
	}
	opts, req, err := s.tokenOptions(c)
	if err != nil {
		return err
	}
	if len(req.Relationships) > 0 {
		return apperr.AtPointer(apperr.Invalid, document.CodeParametersInvalid, "unpermitted parameter", "/data/relationships/bearer")
	}
	tok, raw, err := s.Tokens.IssueFor(ctx, t.ID, t.Keys.Secret, userTarget(u), opts)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.Token(tok, raw), nil)
}

// generateToken issues a token for a target the principal may see.
func (s *Server) generateToken(c echo.Context, target token.Target) error {
	opts, req, err := s.tokenOptions(c)
	if err != nil {
		return err
	}
	if len(req.Relationships) > 0 {
		return apperr.AtPointer(apperr.Invalid, document.CodeParametersInvalid, "unpermitted parameter", "/data/relationships/bearer")
	}
	return s.issue(c, target, opts)
}

func (s *Server) issue(c echo.Context, target token.Target, opts token.Options) error {
	t := tenantOf(c)
	tok, raw, err := s.Tokens.Generate(c.Request().Context(), principalOf(c), t.Keys.Secret, target, opts)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.Token(tok, raw), nil)
}

func (s *Server) listTokens(c echo.Context) error {
	paging, err := document.ParsePaging(c.QueryParams())
	if err != nil {
		return err
	}
	tokens, total, err := s.Tokens.List(c.Request().Context(), principalOf(c), paging.Request)
	if err != nil {
		return err
	}
	return s.renderTokens(c, tokens, paging, total)
}

func (s *Server) renderTokens(c echo.Context, tokens []token.Token, paging document.Paging, total int64) error {
	nodes := make([]*jsonapi.Node, len(tokens))
	for i := range tokens {
		nodes[i] = serializer.Token(&tokens[i], "")
	}
	return s.renderMany(c, nodes, paging.Links(c.Request().URL.Path, c.QueryParams(), total))
}

// renderBearerTokens lists the tokens of one bearer.
func (s *Server) renderBearerTokens(c echo.Context, target token.Target) error {
	paging, err := document.ParsePaging(c.QueryParams())
	if err != nil {
		return err
	}
	tokens, total, err := s.Tokens.ListForBearer(c.Request().Context(), principalOf(c), target, paging.Request)
	if err != nil {
		return err
	}
	return s.renderTokens(c, tokens, paging, total)
}

func (s *Server) showToken(c echo.Context) error {
	tok, err := s.Tokens.Find(c.Request().Context(), principalOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Token(tok, ""), nil)
}

func (s *Server) regenerateToken(c echo.Context) error {
	tok, raw, err := s.Tokens.Regenerate(c.Request().Context(), principalOf(c), tenantOf(c).Keys.Secret, pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Token(tok, raw), nil)
}

func (s *Server) revokeToken(c echo.Context) error {
	if err := s.Tokens.Revoke(c.Request().Context(), principalOf(c), pathRef(c)); err != nil {
		return err
	}
	return noContent(c)
}
