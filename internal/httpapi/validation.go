package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/serializer"
	"github.com/relkey/relkey/internal/validation"
)

type validationMeta struct {
	Key   optional.Value[string]          `json:"key"`
	Nonce optional.Value[int64]           `json:"nonce"`
	Scope optional.Value[json.RawMessage] `json:"scope"`
}

// validationRequest decodes meta {key?, nonce?, scope?}.
func (s *Server) validationRequest(c echo.Context) (validationMeta, validation.Scope, error) {
	var sc validation.Scope
	m, err := meta[validationMeta](s, c, licenseResource)
	if err != nil {
		return m, sc, err
	}
	if m.Scope.Set && string(m.Scope.V) != "null" {
		if err := document.DecodeObject(m.Scope.V, &sc, "/meta/scope"); err != nil {
			return m, sc, err
		}
	}
	return m, sc, nil
}

// quickValidate is GET /licenses/:id/actions/validate: no scope checks.
func (s *Server) quickValidate(c echo.Context) error { return s.validateVisible(c, true) }

// validateLicense is POST /licenses/:id/actions/validate.
func (s *Server) validateLicense(c echo.Context) error { return s.validateVisible(c, false) }

// validateVisible validates a license by id or key.
func (s *Server) validateVisible(c echo.Context, quick bool) error {
	var m validationMeta
	var sc validation.Scope
	if !quick {
		var err error
		if m, sc, err = s.validationRequest(c); err != nil {
			return err
		}
		if m.Key.Set {
			return apperr.AtPointer(apperr.Invalid, document.CodeParametersInvalid, "unpermitted parameter", "/meta/key")
		}
	}
	out, err := s.Validations.Validate(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), sc, quick)
	if err != nil {
		return err
	}
	s.recordValidation(c, out, sc)
	return s.renderValidation(c, out, m)
}

// validateKey is POST /licenses/actions/validate-key; anonymous callers
// may use it, and an unknown key is a 200 with data null.
func (s *Server) validateKey(c echo.Context) error {
	m, sc, err := s.validationRequest(c)
	if err != nil {
		return err
	}
	if !m.Key.Set || m.Key.V == "" {
		return missingMeta("key")
	}
	if err := s.guessAllowed(c); err != nil {
		return err
	}
	out, err := s.Validations.ValidateKey(c.Request().Context(), principalOf(c), tenantOf(c), m.Key.V, sc)
	if err != nil {
		return err
	}
	s.recordValidation(c, out, sc)
	if out.License == nil {
		_ = s.guessFailed(c, nil)
	}
	return s.renderValidation(c, out, m)
}

// renderValidation renders the validated license (or data null) with the
// verdict as meta.
func (s *Server) renderValidation(c echo.Context, out validation.Outcome, m validationMeta) error {
	meta := validationMetaDoc(c, out.Result, m)
	if out.License == nil {
		return s.render(c, http.StatusOK, &jsonapi.OnePayload{Data: nil, Meta: meta})
	}
	if m := out.Result.Machines; m != nil {
		return s.renderOne(c, http.StatusOK, serializer.License(&license.Shown{License: out.License, Policy: out.Policy, Machines: *m}), meta)
	}
	shown, err := s.showLicenses(c, out.Policy, out.License)
	if err != nil {
		return err
	}
	node := serializer.License(&shown[0])
	return s.renderOne(c, http.StatusOK, node, meta)
}

// validationMetaDoc is the meta of a validation; API 1.0 named its code
// "constant", as the older example clients read it.
func validationMetaDoc(c echo.Context, r validation.Result, m validationMeta) *jsonapi.Meta {
	codeKey := "code"
	if apiMinorOf(c) < 1 {
		codeKey = "constant"
	}
	meta := jsonapi.Meta{
		"ts":     document.Time(time.Now()),
		"valid":  r.Valid,
		"detail": r.Detail,
		codeKey:  r.Code,
	}
	if m.Nonce.Set {
		meta["nonce"] = m.Nonce.V
	}
	if m.Scope.Set {
		meta["scope"] = m.Scope.V
	}
	return &meta
}
