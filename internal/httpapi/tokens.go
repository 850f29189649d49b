package httpapi

import (
	"net/http"
	"time"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
)

var tokenResource = document.Resource{Singular: "token", Plural: "tokens"}

type tokenParams struct {
	Name   optional.Value[*string]    `json:"name"`
	Expiry optional.Value[*time.Time] `json:"expiry"`
}

// createToken issues a token for the user whose email and password come in
// HTTP Basic credentials, or for the bearer of the presented token.
func (s *Server) createToken(c echo.Context) error {
	ctx := c.Request().Context()
	t := tenantOf(c)
	var u *user.User
	cred, ok, err := parseCredentials(c)
	switch {
	case err != nil:
		return err
	case ok && cred.basicPassword:
		if u, err = s.Users.Authenticate(ctx, t.ID, cred.email, cred.password); err != nil {
			return err
		}
	case bearerOf(c) != nil && bearerOf(c).User != nil:
		u = bearerOf(c).User
	default:
		return errTokenMissing
	}
	req, err := s.decode(c, tokenResource, false)
	if err != nil {
		return err
	}
	var p tokenParams
	if err := req.DecodeAttributes(&p); err != nil {
		return err
	}
	if err := req.PermitRelationships(); err != nil {
		return err
	}
	kind := token.KindForRole(string(u.Role))
	expiry := p.Expiry.V
	if !p.Expiry.Set && kind == token.KindUser {
		at := time.Now().UTC().Add(token.DefaultUserTokenLifetime).Truncate(time.Millisecond)
		expiry = &at
	}
	tok, raw, err := s.Tokens.Issue(ctx, token.Issue{
		AccountID: t.ID, Secret: t.Keys.Secret, BearerType: token.BearerUser, BearerID: u.ID,
		Kind: kind, Name: p.Name.V, Expiry: expiry,
	})
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, tokenNode(tok, raw), nil)
}

// tokenNode renders a token; raw is shown only when the token was just issued.
func tokenNode(t *token.Token, raw string) *jsonapi.Node {
	base := document.AccountPath(t.AccountID)
	attrs := map[string]any{
		"kind":    t.Kind,
		"token":   nil,
		"name":    t.Name,
		"expiry":  document.OptionalTime(t.Expiry),
		"created": document.Time(t.CreatedAt),
		"updated": document.Time(t.UpdatedAt),
	}
	if raw != "" {
		attrs["token"] = raw
	}
	return &jsonapi.Node{
		Type:       "tokens",
		ID:         t.ID,
		Attributes: attrs,
		Relationships: map[string]any{
			"account": document.ToOne("accounts", t.AccountID, base),
			"bearer":  document.ToOne(t.BearerType, t.BearerID, base+"/"+t.BearerType+"/"+t.BearerID),
		},
		Links: &jsonapi.Links{"self": base + "/tokens/" + t.ID},
	}
}
