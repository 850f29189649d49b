package oci

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/httpapi"
)

// The distribution token flow: a client without credentials is answered
// 401 with a Bearer challenge naming the token endpoint (/v2/token); it
// sends its credentials there (Basic license:<key>, or a token) with the
// repositories and actions it wants (scope=repository:<name>:pull,push)
// and gets a bearer token for them, which it presents from then on.
//
// A registry token seals, with a key of its own derived from the master
// key, the Authorization the client presented with the account, the
// packages and actions granted and an expiry: every request it carries is
// authenticated with what it seals, so a license suspended or a token
// revoked stops it at once, and it names nothing a client could not read
// off its own request.

// TokenLifetime is how long a registry token is good for (the expires_in
// the token endpoint answers).
const TokenLifetime = 5 * time.Minute

// tokenPrefix marks a registry token among the bearer credentials.
const tokenPrefix = "rkoci."

// Sealer encrypts and authenticates what a registry token holds
// (*keyring.Keyring).
type Sealer interface {
	Seal(plaintext []byte) (string, error)
	Open(sealed string) ([]byte, error)
}

// Tokens issues and reads registry tokens.
type Tokens struct {
	sealer Sealer
	now    func() time.Time
}

// NewTokens returns the registry tokens sealed by sealer.
func NewTokens(sealer Sealer) *Tokens { return &Tokens{sealer: sealer, now: time.Now} }

// SetClock replaces the clock that issues and expires tokens (tests).
func (tk *Tokens) SetClock(now func() time.Time) { tk.now = now }

// Grant is what a registry token allows: the actions on packages of an
// account, until it expires, as the credential it seals.
type Grant struct {
	Account       string              `json:"a"`
	Packages      map[string][]string `json:"p"`
	Expires       int64               `json:"e"`
	Authorization string              `json:"h,omitempty"`
}

// Allows reports whether the grant covers an action on a package of an
// account.
func (g *Grant) Allows(accountID, pkg, action string) bool {
	return g.Account == accountID && slices.Contains(g.Packages[pkg], action)
}

var errTokenInvalid = apperr.New(apperr.Unauthenticated, "TOKEN_INVALID", "Token format is invalid or the token does not exist")

// Issue seals a grant good for TokenLifetime from now.
func (tk *Tokens) Issue(g Grant) (string, error) {
	g.Expires = tk.now().Add(TokenLifetime).Unix()
	raw, err := json.Marshal(g)
	if err != nil {
		return "", err
	}
	sealed, err := tk.sealer.Seal(raw)
	if err != nil {
		return "", err
	}
	return tokenPrefix + sealed, nil
}

// Open reads a registry token: TOKEN_INVALID when it is not one relkey
// sealed, TOKEN_EXPIRED once its lifetime is over.
func (tk *Tokens) Open(token string) (*Grant, error) {
	sealed, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return nil, errTokenInvalid
	}
	raw, err := tk.sealer.Open(sealed)
	if err != nil {
		return nil, errTokenInvalid
	}
	var g Grant
	if err := json.Unmarshal(raw, &g); err != nil || g.Account == "" {
		return nil, errTokenInvalid
	}
	if tk.now().Unix() >= g.Expires {
		return nil, apperr.New(apperr.Unauthenticated, "TOKEN_EXPIRED", "Token is expired")
	}
	return &g, nil
}

// registryToken is a request's registry token; "" when it has none.
func registryToken(r *http.Request) string {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !strings.HasPrefix(strings.TrimSpace(raw), tokenPrefix) {
		return ""
	}
	return strings.TrimSpace(raw)
}

// action is what a request does to a repository: pull, or push for what
// writes.
func action(r *http.Request) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		return "pull"
	}
	return "push"
}

// credentials turns a registry token into the credential it seals, when
// it grants the request's action on the package it addresses.
func (tk *Tokens) credentials(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		token := registryToken(c.Request())
		if token == "" {
			return next(c)
		}
		g, err := tk.Open(token)
		if err != nil {
			return err
		}
		if !g.Allows(httpapi.Exchange{}.Tenant(c).ID, c.Param("package"), action(c.Request())) {
			return apperr.New(apperr.Unauthenticated, "TOKEN_INVALID", "the registry token does not grant "+action(c.Request())+" on "+c.Param("package"))
		}
		if g.Authorization == "" {
			c.Request().Header.Del("Authorization")
		} else {
			c.Request().Header.Set("Authorization", g.Authorization)
		}
		return next(c)
	}
}

// challenge is a 401's WWW-Authenticate: Basic to a request that sent
// Basic credentials (they are wrong), else a Bearer challenge naming the
// token endpoint and the scope the request needs.
func challenge(c echo.Context, x httpapi.Exchange) string {
	scheme, _, _ := strings.Cut(c.Request().Header.Get("Authorization"), " ")
	if strings.EqualFold(scheme, "Basic") {
		return `Basic realm="keygen"`
	}
	realm := x.URL(c, "/v2/token")
	v := fmt.Sprintf(`Bearer realm=%q,service=%q`, realm, service(realm))
	if pkg := c.Param("package"); pkg != "" {
		name := pkg
		if account := c.Param("account"); account != "" {
			name = account + "/" + pkg
		}
		v += fmt.Sprintf(`,scope="repository:%s:%s"`, name, strings.Join(actions(action(c.Request())), ","))
	}
	if registryToken(c.Request()) != "" {
		v += `,error="invalid_token"`
	}
	return v
}

// actions are the actions a request asks a token for: a push needs pull
// too (a client checks what the registry holds).
func actions(a string) []string {
	if a == "push" {
		return []string{"pull", "push"}
	}
	return []string{"pull"}
}

// service is the token service's name: relkey's host.
func service(realm string) string {
	if u, err := url.Parse(realm); err == nil && u.Host != "" {
		return u.Host
	}
	return "relkey"
}

// scope is one repository a token request asks for.
type scope struct {
	account, pkg string
	actions      []string
}

// Repository splits a repository name into the account (by id or slug;
// "" for the default account) and package it addresses, in each layout
// relkey serves: <package>, <account>/<package>,
// v1/engines/oci/<package> and v1/accounts/<account>/engines/oci/<package>.
func Repository(name string) (account, pkg string, ok bool) {
	segs := strings.Split(name, "/")
	switch {
	case len(segs) == 1:
		return "", segs[0], segs[0] != ""
	case len(segs) == 2:
		return segs[0], segs[1], segs[0] != "" && segs[1] != ""
	case len(segs) == 4 && segs[0] == "v1" && segs[1] == "engines" && segs[2] == engine:
		return "", segs[3], segs[3] != ""
	case len(segs) == 6 && segs[0] == "v1" && segs[1] == "accounts" && segs[3] == "engines" && segs[4] == engine:
		return segs[2], segs[5], segs[2] != "" && segs[5] != ""
	}
	return "", "", false
}

// scopes are the repository scopes of a token request (scope parameters,
// each one or several separated by spaces), pull and push only.
func scopes(values []string) []scope {
	var out []scope
	for _, v := range values {
		for _, item := range strings.Fields(v) {
			rest, ok := strings.CutPrefix(item, "repository:")
			at := strings.LastIndex(rest, ":")
			if !ok || at < 0 {
				continue
			}
			account, pkg, ok := Repository(rest[:at])
			if !ok {
				continue
			}
			s := scope{account: account, pkg: pkg}
			for _, a := range strings.Split(rest[at+1:], ",") {
				if (a == "pull" || a == "push" || a == "*") && !slices.Contains(s.actions, a) {
					s.actions = append(s.actions, a)
				}
			}
			if slices.Contains(s.actions, "*") {
				s.actions = []string{"pull", "push"}
			}
			out = append(out, s)
		}
	}
	return out
}

// TokenAnswer is the token endpoint's answer (token and access_token are
// the same, for the clients of either name).
type TokenAnswer struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	IssuedAt    string `json:"issued_at"`
}

// root serves /v2/ itself: the handshake and the token endpoint.
type root struct {
	x      httpapi.Exchange
	tokens *Tokens
}

// handshake is the distribution API's version check: 200 to a request
// with credentials (a registry token must be good), else 401 with the
// challenge that starts the token flow.
func (h root) handshake(c echo.Context) error {
	c.Response().Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
	if c.Request().Header.Get("Authorization") == "" {
		return access.ErrTokenMissing
	}
	if token := registryToken(c.Request()); token != "" {
		if _, err := h.tokens.Open(token); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, map[string]any{})
}

// token trades the request's credentials for a registry token granting
// the scopes asked for in the account the first names (the default
// account when none does): wrong credentials are a 401, none an anonymous
// token, which reads what anyone may.
func (h root) token(c echo.Context) error {
	asked := scopes(c.QueryParams()["scope"])
	accountRef := ""
	if len(asked) > 0 {
		accountRef = asked[0].account
	}
	t, _, err := h.x.Authenticate(c, accountRef)
	if err != nil {
		return err
	}
	g := Grant{Account: t.ID, Packages: map[string][]string{}, Authorization: c.Request().Header.Get("Authorization")}
	for _, s := range asked {
		if s.account == accountRef {
			for _, a := range s.actions {
				if !slices.Contains(g.Packages[s.pkg], a) {
					g.Packages[s.pkg] = append(g.Packages[s.pkg], a)
				}
			}
		}
	}
	token, err := h.tokens.Issue(g)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, TokenAnswer{Token: token, AccessToken: token, ExpiresIn: int(TokenLifetime / time.Second),
		IssuedAt: h.tokens.now().UTC().Format(time.RFC3339)})
}
