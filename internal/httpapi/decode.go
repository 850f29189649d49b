package httpapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/naming"
)

var errTooLarge = apperr.New(apperr.TooLarge, "REQUEST_TOO_LARGE", "The request body is larger than the server accepts")

// readBody reads an API request body up to the configured limit.
func (s *Server) readBody(c echo.Context) ([]byte, error) {
	req := c.Request()
	if req.ContentLength > s.MaxBodyBytes {
		return nil, errTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, s.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errTooLarge
	}
	if err != nil {
		return nil, apperr.New(apperr.Invalid, "JSON_INVALID", "The request body could not be read")
	}
	return body, nil
}

// decode reads and decodes a request document of resource r.
func (s *Server) decode(c echo.Context, r document.Resource, dataRequired bool) (*document.Request, error) {
	body, err := s.readBody(c)
	if err != nil {
		return nil, err
	}
	return document.Decode(body, r, dataRequired)
}

func missingMeta(name string) error {
	return apperr.AtPointer(apperr.Invalid, document.CodeParametersInvalid, "is missing", "/meta/"+naming.Camel(name))
}

func itoa(n int) string { return strconv.Itoa(n) }

// attributes decodes an authenticated request's document of resource r
// into the params type P, returning the document for its relationships.
func attributes[P any](s *Server, c echo.Context, r document.Resource) (P, *document.Request, error) {
	if principalOf(c) == nil {
		var p P
		return p, nil, access.ErrTokenMissing
	}
	return attributesOf[P](s, c, r, true)
}

// attributesOf decodes a request document of resource r into the params
// type P; without dataRequired the body may be empty.
func attributesOf[P any](s *Server, c echo.Context, r document.Resource, dataRequired bool) (P, *document.Request, error) {
	var p P
	req, err := s.decode(c, r, dataRequired)
	if err != nil {
		return p, nil, err
	}
	return p, req, req.DecodeAttributes(&p)
}

// attributesOnly decodes an authenticated request's document of resource r
// that may carry attributes but no relationships.
func attributesOnly[P any](s *Server, c echo.Context, r document.Resource) (P, error) {
	p, req, err := attributes[P](s, c, r)
	if err != nil {
		return p, err
	}
	return p, req.PermitRelationships()
}

// pathRef is the :id of a route, unescaped: license keys and machine
// fingerprints may hold slashes, which clients escape.
func pathRef(c echo.Context) string {
	ref, err := url.PathUnescape(c.Param("id"))
	if err != nil {
		return c.Param("id")
	}
	return ref
}

// meta decodes the meta of a request document of resource r, which may
// carry no relationships, into M; the body may be empty.
func meta[M any](s *Server, c echo.Context, r document.Resource) (M, error) {
	var m M
	req, err := s.decode(c, r, false)
	if err != nil {
		return m, err
	}
	if err := req.PermitRelationships(); err != nil {
		return m, err
	}
	return m, req.DecodeMeta(&m)
}

// linkages decodes a body of resource identifiers of r ({"data":[{type, id}]})
// for an authenticated request.
func (s *Server) linkages(c echo.Context, r document.Resource) ([]string, error) {
	if principalOf(c) == nil {
		return nil, access.ErrTokenMissing
	}
	body, err := s.readBody(c)
	if err != nil {
		return nil, err
	}
	return document.DecodeLinkages(body, r)
}

// identifier decodes a body holding one resource identifier of r
// ({"data":{type, id}}) for an authenticated request; with nullable, data
// null is allowed and returns nil.
func (s *Server) identifier(c echo.Context, r document.Resource, nullable bool) (*string, error) {
	if principalOf(c) == nil {
		return nil, access.ErrTokenMissing
	}
	body, err := s.readBody(c)
	if err != nil {
		return nil, err
	}
	shape := "must be a " + r.Singular + " identifier {type, id}"
	if nullable {
		shape += " or null"
	}
	if nullable && len(bytes.TrimSpace(body)) == 0 {
		return nil, apperr.AtPointer(apperr.Invalid, document.CodeParametersInvalid, "is missing", "/data")
	}
	req, err := document.Decode(body, r, !nullable)
	if err != nil {
		return nil, err
	}
	if len(req.Attributes) > 0 || len(req.Relationships) > 0 || req.ID == "" && (req.Type != "" || !nullable) {
		return nil, apperr.AtPointer(apperr.Invalid, document.CodeParametersInvalid, shape, "/data")
	}
	if req.ID == "" {
		return nil, nil
	}
	return &req.ID, nil
}
