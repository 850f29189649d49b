package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/naming"
)

var statusOfKind = map[apperr.Kind]int{
	apperr.Internal:        http.StatusInternalServerError,
	apperr.Invalid:         http.StatusBadRequest,
	apperr.Unauthenticated: http.StatusUnauthorized,
	apperr.Forbidden:       http.StatusForbidden,
	apperr.NotFound:        http.StatusNotFound,
	apperr.Conflict:        http.StatusConflict,
	apperr.Unprocessable:   http.StatusUnprocessableEntity,
	apperr.TooLarge:        http.StatusRequestEntityTooLarge,
	apperr.TooManyRequests: http.StatusTooManyRequests,
	apperr.Unavailable:     http.StatusServiceUnavailable,
}

// StatusOf is the HTTP status of an error kind, for every HTTP answer
// relkey gives (the API's and the web console's).
func StatusOf(k apperr.Kind) int {
	if status, ok := statusOfKind[k]; ok {
		return status
	}
	return http.StatusInternalServerError
}

var titleOfStatus = map[int]string{
	http.StatusBadRequest:            "Bad request",
	http.StatusUnauthorized:          "Unauthorized",
	http.StatusForbidden:             "Access denied",
	http.StatusNotFound:              "Not found",
	http.StatusConflict:              "Conflict",
	http.StatusRequestEntityTooLarge: "Request entity too large",
	http.StatusUnprocessableEntity:   "Unprocessable resource",
	http.StatusTooManyRequests:       "Too many requests",
	http.StatusInternalServerError:   "Internal server error",
	http.StatusServiceUnavailable:    "Service unavailable",
}

var errEndpointNotFound = apperr.New(apperr.NotFound, "NOT_FOUND",
	"The requested endpoint was not found (check your HTTP method, Accept header, and URL path)")

// errorObject is one entry of a JSON:API errors document.
type errorObject struct {
	Title  string       `json:"title"`
	Detail string       `json:"detail"`
	Code   string       `json:"code"`
	Source *errorSource `json:"source,omitempty"`
}

type errorSource struct {
	Pointer   string `json:"pointer,omitempty"`
	Parameter string `json:"parameter,omitempty"`
	Header    string `json:"header,omitempty"`
}

// sourceOf renders where an error is: a rule's field becomes the JSON
// pointer into the request document.
func sourceOf(src *apperr.Source) *errorSource {
	if src == nil {
		return nil
	}
	out := &errorSource{Pointer: src.Pointer, Parameter: src.Parameter, Header: src.Header}
	if f := src.Field; f != nil {
		out.Pointer = pointerOf(f)
	}
	return out
}

// pointerOf is the JSON:API pointer of a field: /data, /data/attributes/<name>,
// /data/relationships/<name>[/data/<i>[/attributes/<key>]], /meta/<name>,
// /data/<i> or /data/<key>.
func pointerOf(f *apperr.Field) string {
	var b strings.Builder
	switch f.Part {
	case apperr.InMeta:
		return "/meta/" + naming.Camel(f.Name)
	case apperr.InAttribute:
		b.WriteString("/data/attributes/" + naming.Camel(f.Name))
	case apperr.InRelationship:
		b.WriteString("/data/relationships/" + naming.Camel(f.Name))
		if f.Index != nil {
			b.WriteString("/data/" + strconv.Itoa(*f.Index))
		}
		if f.Key != "" {
			b.WriteString("/attributes/" + naming.Camel(f.Key))
		}
		return b.String()
	default:
		b.WriteString("/data")
	}
	if f.Index != nil {
		b.WriteString("/" + strconv.Itoa(*f.Index))
	}
	if f.Key != "" {
		b.WriteString("/" + naming.Camel(f.Key))
	}
	return b.String()
}

type errorDocument struct {
	Meta   map[string]string `json:"meta"`
	Errors []errorObject     `json:"errors"`
}

// handleError is the one place errors become responses.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e := s.classify(err)
	status := statusOfKind[e.Kind]
	if status >= 500 {
		s.Logger.Error("request failed", "request_id", requestIDOf(c), "method", c.Request().Method,
			"route", routeOf(c), "code", e.Code, "error", e.Error())
	}
	h := c.Response().Header()
	switch e.Kind {
	case apperr.Unavailable:
		h.Set("Retry-After", "3")
	case apperr.Unauthenticated:
		h.Set("WWW-Authenticate", challengeOf(c))
	}
	title := e.Title
	if title == "" {
		title = titleOfStatus[status]
	}
	detail := e.Detail
	if e.Kind == apperr.Internal {
		detail = "An unexpected error occurred"
	}
	doc := errorDocument{
		Meta:   map[string]string{"id": requestIDOf(c)},
		Errors: []errorObject{{Title: title, Detail: detail, Code: e.Code, Source: sourceOf(e.Source)}},
	}
	if err := s.render(c, status, doc); err != nil {
		s.Logger.Error("writing error response", "request_id", requestIDOf(c), "error", err)
	}
}

// classify turns any error into an *apperr.Error.
func (s *Server) classify(err error) *apperr.Error {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			return errEndpointNotFound
		case http.StatusRequestEntityTooLarge:
			return errTooLarge
		}
		return &apperr.Error{Kind: apperr.Internal, Code: "INTERNAL_SERVER_ERROR", Err: err}
	}
	var appErr *apperr.Error
	if errors.As(err, &appErr) {
		return appErr
	}
	// Deadlines and outages that reached here unwrapped.
	return apperr.As(database.Error(err))
}

// challengeOf is a 401's WWW-Authenticate: the engine's challenge
// (Engine.Challenge) when it has one, else the request's Authorization
// scheme, capitalized (Bearer when none was given).
func challengeOf(c echo.Context) string {
	if engine, _ := c.Get(ctxChallenge).(func(echo.Context) string); engine != nil {
		return engine(c)
	}
	scheme, _, ok := strings.Cut(c.Request().Header.Get("Authorization"), " ")
	if !ok || scheme == "" {
		scheme = "Bearer"
	}
	return strings.ToUpper(scheme[:1]) + strings.ToLower(scheme[1:]) + ` realm="keygen"`
}
