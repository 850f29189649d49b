package httpapi

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
)

// credentials are what a request presented: a token, a license key, or an
// email and password (only POST /tokens accepts those).
type credentials struct {
	token           string
	license         string
	email, password string
	basicPassword   bool
	// keyOrToken: the token may be a license key instead (the package
	// managers' single secret).
	keyOrToken bool
}

// credentialValue splits "token:<t>", "license:<k>" or a bare token.
func credentialValue(v string) credentials {
	if key, ok := strings.CutPrefix(v, "license:"); ok {
		return credentials{license: key}
	}
	return credentials{token: strings.TrimPrefix(v, "token:")}
}

// parseCredentials reads the Authorization header, or ?auth= / ?token= for
// shareable links. ok is false when nothing was presented.
// Under lenient (the engines' routes), a Bearer value or a Basic password
// beside any other user name is a token or a license key.
func parseCredentials(c echo.Context, lenient bool) (cred credentials, ok bool, err error) {
	header := strings.TrimSpace(c.Request().Header.Get("Authorization"))
	if header == "" {
		raw := c.QueryParam("auth")
		if raw == "" {
			raw = c.QueryParam("token")
		}
		if raw == "" {
			return cred, false, nil
		}
		cred = credentialValue(raw)
	} else {
		scheme, value, _ := strings.Cut(header, " ")
		value = strings.TrimSpace(value)
		switch strings.ToLower(scheme) {
		case "bearer", "token":
			cred.token, cred.keyOrToken = value, lenient
		case "license":
			cred.license = value
		case "basic":
			decoded, err := base64.StdEncoding.DecodeString(value)
			if err != nil {
				return cred, true, apperr.AtHeader(apperr.Unauthenticated, "TOKEN_INVALID", "Authorization header is malformed", "Authorization")
			}
			username, password, _ := strings.Cut(string(decoded), ":")
			switch {
			case username == "token" || username == "license":
				cred = credentialValue(username + ":" + password)
			case lenient && password != "":
				cred = credentials{token: password, keyOrToken: true}
			case strings.Contains(username, "@"):
				cred = credentials{email: username, password: password, basicPassword: true}
			default:
				cred.token = username
			}
		default:
			return cred, true, apperr.AtHeader(apperr.Unauthenticated, "TOKEN_INVALID",
				"Authorization scheme is not supported (use Bearer, Token, Basic or License)", "Authorization")
		}
	}
	if !cred.basicPassword && cred.token == "" && cred.license == "" {
		return cred, true, access.ErrTokenMissing
	}
	return cred, true, nil
}

// authenticate turns presented credentials into the request's principal.
// Wrong credentials are a 401 even where authentication is optional.
// An email and password are left to POST /tokens.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return s.authenticating(false, next)
}

// authenticateEngine is authenticate with the engines' lenient reading of
// credentials.
func (s *Server) authenticateEngine(next echo.HandlerFunc) echo.HandlerFunc {
	return s.authenticating(true, next)
}

func (s *Server) authenticating(lenient bool, next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := malformedOf(c); err != nil {
			return err
		}
		cred, ok, err := parseCredentials(c, lenient)
		if err != nil {
			return err
		}
		if !ok || cred.basicPassword {
			return next(c)
		}
		if err := s.guessAllowed(c); err != nil {
			return err
		}
		ctx, t := c.Request().Context(), tenantOf(c)
		// A license bearer's reads (releases, artifacts, feeds) mostly need
		// only its principal, so only that is read (one acting on its own
		// license reads it again); its writes act on its own license,
		// which the principal then keeps.
		keep := !safeMethod(c.Request().Method)
		var who *access.Principal
		if cred.license != "" {
			who, err = s.Identity.LicenseKey(ctx, t, cred.license, keep)
		} else {
			who, err = s.Identity.Token(ctx, t, cred.token)
			if cred.keyOrToken && apperr.Is(err, apperr.Unauthenticated) {
				// The token's error stands unless the value is a license key.
				if byKey, keyErr := s.Identity.LicenseKey(ctx, t, cred.token, keep); !apperr.Is(keyErr, apperr.Unauthenticated) {
					who, err = byKey, keyErr
				}
			}
		}
		if failedGuess(err) {
			return s.guessFailed(c, err)
		}
		if err != nil {
			return err
		}
		c.Set(ctxPrincipal, who)
		return next(c)
	}
}

// safeMethod reports a method that only reads.
func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead
}

// principalOf is the request's principal; nil when anonymous.
func principalOf(c echo.Context) *access.Principal {
	p, _ := c.Get(ctxPrincipal).(*access.Principal)
	return p
}
