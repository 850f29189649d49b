package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/validation"
)

type validationMeta struct {
	Key   optional.Value[string]          `json:"key"`
	Nonce optional.Value[int64]           `json:"nonce"`
	Scope optional.Value[json.RawMessage] `json:"scope"`
}

// validationRequest decodes meta {key?, nonce?, scope?}.
func (s *Server) validationRequest(c echo.Context) (validationMeta, validation.Scope, error) {
	var m validationMeta
	var sc validation.Scope
	req, err := s.decode(c, licenseResource, false)
	if err != nil {
		return m, sc, err
	}
	if err := req.PermitRelationships(); err != nil {
		return m, sc, err
	}
	if err := req.DecodeMeta(&m); err != nil {
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

// validateVisible validates a license the principal may see (404 otherwise)
// and may validate (403 otherwise).
func (s *Server) validateVisible(c echo.Context, quick bool) error {
	who := principalOf(c)
	if who == nil {
		return access.ErrTokenMissing
	}
	l, pol, err := s.Licenses.Visible(c.Request().Context(), who, tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	if err := who.Require("license.validate"); err != nil {
		return err
	}
	var m validationMeta
	var sc validation.Scope
	if !quick {
		if m, sc, err = s.validationRequest(c); err != nil {
			return err
		}
		if m.Key.Set {
			return apperr.AtPointer(apperr.Invalid, document.CodeParametersInvalid, "unpermitted parameter", "/meta/key")
		}
	}
	return s.validate(c, l, pol, m, sc, quick)
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
	l, pol, err := s.Licenses.ForValidation(c.Request().Context(), principalOf(c), tenantOf(c), m.Key.V)
	if err != nil {
		return err
	}
	if l == nil {
		return s.render(c, http.StatusOK, &jsonapi.OnePayload{Data: nil, Meta: validationMetaDoc(c, validation.NotFound, m)})
	}
	return s.validate(c, l, pol, m, sc, false)
}

func (s *Server) validate(c echo.Context, l *license.License, pol *policy.Policy, m validationMeta, sc validation.Scope, quick bool) error {
	ctx := c.Request().Context()
	if !quick {
		if err := s.Licenses.StartExpiry(ctx, l, pol, "FROM_FIRST_VALIDATION"); err != nil {
			return err
		}
	}
	result, err := s.Validator.Validate(ctx, l, pol, sc, quick)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	l.LastValidatedAt = &now
	s.Toucher.Touch(l.AccountID, l.ID, now, result.Version)
	if result.Version != "" {
		l.LastValidatedVersion = &result.Version
	}
	lr := s.licenseRenderer(ctx)
	lr.policies[pol.ID] = pol
	if result.Machines != nil {
		lr.stats[l.ID] = *result.Machines
	}
	node, err := lr.node(l)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, node, validationMetaDoc(c, result, m))
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
