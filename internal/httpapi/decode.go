package httpapi

import (
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
	var p P
	if principalOf(c) == nil {
		return p, nil, access.ErrTokenMissing
	}
	req, err := s.decode(c, r, true)
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
