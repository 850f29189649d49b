package httpapi

import (
	"context"
	"encoding/base64"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
)

// Bearer is who a request authenticated as.
type Bearer struct {
	Token *token.Token
	User  *user.User
}

// credentials are what a request presented.
type credentials struct {
	token           string
	email, password string
	basicPassword   bool
}

// parseCredentials reads the Authorization header, or ?auth= / ?token= for
// shareable links. ok is false when nothing was presented.
func parseCredentials(c echo.Context) (cred credentials, ok bool, err error) {
	header := strings.TrimSpace(c.Request().Header.Get("Authorization"))
	if header == "" {
		raw := c.QueryParam("auth")
		if raw == "" {
			raw = c.QueryParam("token")
		}
		if raw == "" {
			return cred, false, nil
		}
		cred.token = strings.TrimPrefix(raw, "token:")
		return cred, true, nil
	}
	scheme, value, _ := strings.Cut(header, " ")
	value = strings.TrimSpace(value)
	switch strings.ToLower(scheme) {
	case "bearer", "token":
		cred.token = value
	case "basic":
		decoded, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return cred, true, apperr.AtHeader(apperr.Unauthenticated, "TOKEN_INVALID", "Authorization header is malformed", "Authorization")
		}
		username, password, _ := strings.Cut(string(decoded), ":")
		switch {
		case username == "token":
			cred.token = password
		case strings.Contains(username, "@"):
			cred.email, cred.password, cred.basicPassword = username, password, true
		default:
			cred.token = username
		}
	default:
		return cred, true, apperr.AtHeader(apperr.Unauthenticated, "TOKEN_INVALID",
			"Authorization scheme is not supported (use Bearer, Token, Basic or License)", "Authorization")
	}
	if !cred.basicPassword && cred.token == "" {
		return cred, true, apperr.New(apperr.Unauthenticated, "TOKEN_MISSING", "You must be authenticated to complete the request")
	}
	return cred, true, nil
}

// authenticate resolves a presented token into the request's bearer. Any
// presented credential that is wrong is a 401, even on routes where
// authentication is optional. Email and password are left to POST /tokens.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		cred, ok, err := parseCredentials(c)
		if err != nil {
			return err
		}
		if !ok || cred.basicPassword {
			return next(c)
		}
		b, err := s.bearerForToken(c.Request().Context(), c, cred.token)
		if err != nil {
			return err
		}
		c.Set(ctxBearer, b)
		return next(c)
	}
}

func (s *Server) bearerForToken(ctx context.Context, c echo.Context, raw string) (*Bearer, error) {
	t := tenantOf(c)
	tok, err := s.Tokens.Authenticate(ctx, t.ID, t.Keys.Secret, raw)
	if err != nil {
		return nil, err
	}
	b := &Bearer{Token: tok}
	if tok.BearerType == token.BearerUser {
		u, err := s.Users.Find(ctx, t.ID, tok.BearerID)
		if apperr.Is(err, apperr.NotFound) {
			return nil, apperr.New(apperr.Unauthenticated, "TOKEN_INVALID", "Token format is invalid or the token does not exist")
		}
		if err != nil {
			return nil, err
		}
		if u.BannedAt != nil {
			return nil, apperr.New(apperr.Forbidden, "USER_BANNED", "User is banned")
		}
		b.User = u
	}
	return b, nil
}

func bearerOf(c echo.Context) *Bearer {
	b, _ := c.Get(ctxBearer).(*Bearer)
	return b
}

var errTokenMissing = apperr.New(apperr.Unauthenticated, "TOKEN_MISSING", "You must be authenticated to complete the request")

// requireAdmin returns the bearer when it is an administrator of the
// account; account management is theirs alone until roles arrive.
func requireAdmin(c echo.Context) (*Bearer, error) {
	b := bearerOf(c)
	if b == nil {
		return nil, errTokenMissing
	}
	if b.User == nil || b.User.Role != user.RoleAdmin {
		return nil, apperr.New(apperr.Forbidden, "ACCESS_DENIED", "You do not have permission to complete the request (bearer lacks permission to perform action)")
	}
	return b, nil
}
