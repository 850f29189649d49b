package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/secondfactor"
	"github.com/relkey/relkey/internal/serializer"
)

// secondFactorResource accepts every spelling of the type Keygen does.
var secondFactorResource = document.Resource{Singular: "second-factor", Plural: "second-factors",
	Aliases: []string{"secondFactor", "secondFactors", "second_factor", "second_factors"}}

// Second factor changes prove themselves with a password or a code; those
// that offer one count 5 a minute per account, address and user, as
// password sign-ins do.

func (s *Server) secondFactorRoutes(g *echo.Group) {
	g.GET("/users/:id/second-factors", s.listSecondFactors)
	g.POST("/users/:id/second-factors", s.createSecondFactor)
	g.GET("/users/:id/second-factors/:factor", s.showSecondFactor)
	g.PATCH("/users/:id/second-factors/:factor", s.updateSecondFactor)
	g.PUT("/users/:id/second-factors/:factor", s.updateSecondFactor)
	g.DELETE("/users/:id/second-factors/:factor", s.deleteSecondFactor)
}

func factorRef(c echo.Context) string {
	ref, err := url.PathUnescape(c.Param("factor"))
	if err != nil {
		return c.Param("factor")
	}
	return ref
}

func (s *Server) listSecondFactors(c echo.Context) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]secondfactor.SecondFactor, int64, error) {
		return s.SecondFactors.List(ctx, who, t, pathRef(c), p)
	}, serializer.SecondFactor)
}

func (s *Server) showSecondFactor(c echo.Context) error {
	f, err := s.SecondFactors.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), factorRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.SecondFactor(f), nil)
}

// secondFactorMeta is the meta of second factor changes.
type secondFactorMeta struct {
	Password optional.Value[string] `json:"password"`
	OTP      optional.Value[string] `json:"otp"`
}

func (m secondFactorMeta) credentials() secondfactor.Credentials {
	var c secondfactor.Credentials
	if m.Password.Set {
		c.Password = &m.Password.V
	}
	if m.OTP.Set {
		c.OTP = &m.OTP.V
	}
	return c
}

// factorRequest decodes a second factor request (authenticated, within
// the attempts limit) and its meta.
func (s *Server) factorRequest(c echo.Context, dataRequired bool) (*document.Request, secondFactorMeta, error) {
	var m secondFactorMeta
	if principalOf(c) == nil {
		return nil, m, access.ErrTokenMissing
	}
	req, err := s.decode(c, secondFactorResource, dataRequired)
	if err != nil {
		return nil, m, err
	}
	if err := req.PermitRelationships(); err != nil {
		return nil, m, err
	}
	if err := req.DecodeMeta(&m); err != nil {
		return nil, m, err
	}
	if m.Password.Set || m.OTP.Set {
		t := tenantOf(c)
		if err := s.limit(c, passwordAttempts, passwordWindow, "second-factor", t.ID, c.RealIP(), pathRef(c)); err != nil {
			return nil, m, err
		}
	}
	return req, m, nil
}

func (s *Server) createSecondFactor(c echo.Context) error {
	req, m, err := s.factorRequest(c, false)
	if err != nil {
		return err
	}
	if len(req.Attributes) > 0 {
		return apperr.AtPointer(apperr.Invalid, document.CodeParametersInvalid, "unpermitted parameter", "/data/attributes")
	}
	if req.Meta == nil {
		return apperr.AtPointer(apperr.Invalid, document.CodeParametersInvalid, "is missing", "/meta")
	}
	f, err := s.SecondFactors.Create(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), m.credentials())
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.SecondFactor(f), nil)
}

type secondFactorParams struct {
	Enabled optional.Value[bool] `json:"enabled"`
}

func (s *Server) updateSecondFactor(c echo.Context) error {
	req, m, err := s.factorRequest(c, true)
	if err != nil {
		return err
	}
	var p secondFactorParams
	if err := req.DecodeAttributes(&p); err != nil {
		return err
	}
	switch {
	case !p.Enabled.Set:
		return apperr.AtPointer(apperr.Invalid, document.CodeParametersInvalid, "is missing", "/data/attributes/enabled")
	case req.Meta == nil:
		return apperr.AtPointer(apperr.Invalid, document.CodeParametersInvalid, "is missing", "/meta")
	case !m.OTP.Set:
		return missingMeta("otp")
	}
	f, err := s.SecondFactors.Update(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), factorRef(c), p.Enabled.V, &m.OTP.V)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.SecondFactor(f), nil)
}

func (s *Server) deleteSecondFactor(c echo.Context) error {
	req, m, err := s.factorRequest(c, false)
	if err != nil {
		return err
	}
	if req.Meta != nil && !m.OTP.Set {
		return missingMeta("otp")
	}
	if err := s.SecondFactors.Delete(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), factorRef(c), m.credentials().OTP); err != nil {
		return err
	}
	return noContent(c)
}
