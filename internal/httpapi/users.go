package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/identity"
	"github.com/relkey/relkey/internal/serializer"
	"github.com/relkey/relkey/internal/token"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/user"
)

var userResource = document.Resource{Singular: "user", Plural: "users"}

// Password actions: 5 per 10 minutes per account and user (30 per address);
// reset requests 5 an hour per email (30 per address).
const (
	passwordActionAttempts = 5
	passwordActionWindow   = 10 * time.Minute
	resetRequestWindow     = time.Hour
)

func (s *Server) listUsers(c echo.Context) error {
	f, err := userFilter(c.QueryParams())
	if err != nil {
		return err
	}
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]user.User, int64, error) {
		return s.Users.List(ctx, who, t, f, p)
	}, serializer.User)
}

func (s *Server) showUser(c echo.Context) error {
	u, err := s.Users.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.User(u), nil)
}

func (s *Server) createUser(c echo.Context) error {
	t := tenantOf(c)
	if principalOf(c) == nil && t.Protected {
		return access.ErrTokenMissing
	}
	params, req, err := attributesOf[user.Params](s, c, userResource, true)
	if err != nil {
		return err
	}
	if err := req.PermitRelationships("group"); err != nil {
		return err
	}
	if params.Group, err = groupOf(req); err != nil {
		return err
	}
	u, err := s.Users.Create(c.Request().Context(), principalOf(c), t, params)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.User(u), nil)
}

func (s *Server) updateUser(c echo.Context) error {
	params, err := attributesOnly[user.Params](s, c, userResource)
	if err != nil {
		return err
	}
	u, err := s.Users.Update(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), params)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.User(u), nil)
}

func (s *Server) deleteUser(c echo.Context) error { return deleteRecord(c, s.Users.Delete) }

func (s *Server) banUser(c echo.Context) error   { return s.setBanned(c, true) }
func (s *Server) unbanUser(c echo.Context) error { return s.setBanned(c, false) }

func (s *Server) setBanned(c echo.Context, banned bool) error {
	u, err := s.Users.SetBanned(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), banned)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.User(u), nil)
}

func (s *Server) listUserTokens(c echo.Context) error {
	u, err := s.Users.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderBearerTokens(c, identity.UserTarget(u))
}

func (s *Server) createUserToken(c echo.Context) error { return s.generateToken(c, token.BearerUser) }

// passwordMeta is the meta of the password actions.
type passwordMeta struct {
	OldPassword        optional.Value[string] `json:"old_password"`
	NewPassword        optional.Value[string] `json:"new_password"`
	PasswordResetToken optional.Value[string] `json:"password_reset_token"`
	Email              optional.Value[string] `json:"email"`
	// Deliver false keeps POST /passwords from mailing the token.
	Deliver optional.Value[bool] `json:"deliver"`
}

func (s *Server) passwordMeta(c echo.Context, required ...string) (passwordMeta, error) {
	m, err := meta[passwordMeta](s, c, userResource)
	if err != nil {
		return m, err
	}
	set := map[string]bool{"old_password": m.OldPassword.Set, "new_password": m.NewPassword.Set,
		"password_reset_token": m.PasswordResetToken.Set, "email": m.Email.Set}
	for _, name := range required {
		if !set[name] {
			return m, missingMeta(name)
		}
	}
	return m, nil
}

func (s *Server) updatePassword(c echo.Context) error {
	t := tenantOf(c)
	if err := s.limitAll(c, subjectAndAddress(c, "update-password", passwordActionAttempts, passwordActionWindow, t.ID, pathRef(c))...); err != nil {
		return err
	}
	m, err := s.passwordMeta(c, "old_password", "new_password")
	if err != nil {
		return err
	}
	u, err := s.Users.UpdatePassword(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), m.OldPassword.V, m.NewPassword.V)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.User(u), nil)
}

func (s *Server) resetPassword(c echo.Context) error {
	t := tenantOf(c)
	if err := s.limitAll(c, subjectAndAddress(c, "reset-password", passwordActionAttempts, passwordActionWindow, t.ID, pathRef(c))...); err != nil {
		return err
	}
	m, err := s.passwordMeta(c, "password_reset_token", "new_password")
	if err != nil {
		return err
	}
	u, err := s.Users.ResetPassword(c.Request().Context(), principalOf(c), t, pathRef(c), m.PasswordResetToken.V, m.NewPassword.V)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.User(u), nil)
}

// requestPasswordReset answers 204 whether or not the email is known.
func (s *Server) requestPasswordReset(c echo.Context) error {
	t := tenantOf(c)
	m, err := s.passwordMeta(c, "email")
	if err != nil {
		return err
	}
	if err := s.limitAll(c, subjectAndAddress(c, "password-reset", passwordActionAttempts, resetRequestWindow, t.ID, m.Email.V)...); err != nil {
		return err
	}
	if err := s.Users.RequestPasswordReset(c.Request().Context(), t, m.Email.V, m.Deliver.Or(true)); err != nil {
		return err
	}
	return noContent(c)
}

// me renders the current bearer.
func (s *Server) me(c echo.Context) error {
	b, err := s.Identity.Me(c.Request().Context(), principalOf(c), tenantOf(c))
	switch {
	case err != nil:
		return err
	case b.License != nil:
		return s.renderLicenseValue(c, http.StatusOK, b.License)
	case b.Product != nil:
		return s.renderOne(c, http.StatusOK, serializer.Product(b.Product), nil)
	}
	return s.renderOne(c, http.StatusOK, serializer.User(b.User), nil)
}
