package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/storage"
)

// Context keys.
const (
	ctxRequestID    = "relkey.request_id"
	ctxTenant       = "relkey.tenant"
	ctxResponseType = "relkey.response_type"
	ctxPrincipal    = "relkey.principal"
	ctxChallenge    = "relkey.challenge"
)

// Media types.
const (
	mediaJSONAPI = "application/vnd.api+json"
	mediaKeygen  = "application/vnd.keygen+json"
	mediaJSON    = "application/json"
	mediaBinary  = "application/octet-stream"
)

func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := uuid.NewString()
		c.Set(ctxRequestID, id)
		c.Response().Header().Set("X-Request-Id", id)
		c.SetRequest(c.Request().WithContext(event.WithRequestID(c.Request().Context(), id)))
		return next(c)
	}
}

func requestIDOf(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}

// accessLog logs one line per request. It logs the route pattern and the
// resolved resource's id, never the path (a license key can be an id in it),
// the query (?auth= credentials) nor a header.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		if s.RequestLog != nil {
			s.recordRequest(c, start)
		}
		ctx := c.Request().Context()
		if !s.Logger.Enabled(ctx, slog.LevelInfo) {
			return nil
		}
		attrs := make([]slog.Attr, 0, 8)
		attrs = append(attrs,
			slog.String("method", c.Request().Method),
			slog.String("route", routeOf(c)),
			slog.Int("status", c.Response().Status),
			slog.Int64("bytes", c.Response().Size),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("request_id", requestIDOf(c)),
			slog.String("ip", c.RealIP()),
		)
		if t := tenantOf(c); t != nil {
			attrs = append(attrs, slog.String("account", t.ID))
		}
		if id := resourceOf(c); id != "" {
			attrs = append(attrs, slog.String("resource", id))
		}
		// Typed attributes: one line a request without boxing each value.
		s.Logger.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
		return nil
	}
}

const ctxResource = "relkey.resource"

// routeOf is the request's route pattern, never its path.
func routeOf(c echo.Context) string {
	if p := c.Path(); p != "" {
		return p
	}
	return "unmatched"
}

// resourceOf is the id of the record the request answered with, else the
// path's :id when it is an id (never a key or fingerprint standing in for one).
func resourceOf(c echo.Context) string {
	if id, _ := c.Get(ctxResource).(string); id != "" {
		return id
	}
	if ref := c.Param("id"); uuid.Validate(ref) == nil {
		return ref
	}
	return ""
}

// recoverPanics turns a panic into an internal error for the error handler.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer recoverInto(&err)
		return next(c)
	}
}

func recoverInto(err *error) {
	if r := recover(); r != nil {
		if r == http.ErrAbortHandler {
			panic(r)
		}
		*err = &apperr.Error{Kind: apperr.Internal, Code: "INTERNAL_SERVER_ERROR", Detail: "An unexpected error occurred",
			Err: fmt.Errorf("panic: %v\n%s", r, debug.Stack())}
	}
}

// deadline bounds every request. Handlers get 80% of the request timeout
// (the database's own timeouts match it), keeping the rest to answer, so a
// slow or absent database ends in a 503 inside the deadline, never a hang.
// The request body is read under the same deadline, so a client that
// withholds it is cut off. Transfers to and from the local store have
// allowances of their own (transferDeadline), and so do the engine routes
// named TransferRoute: their size, or at least pushAllowance.
func (s *Server) deadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if strings.HasPrefix(c.Request().URL.Path, storage.LocalPathPrefix) {
			return next(c)
		}
		if s.transfers[c.Request().Method+" "+c.Path()] {
			return s.transferDeadline(c, max(c.Request().ContentLength, pushAllowance), next)
		}
		return s.within(c, s.RequestTimeout*8/10, next)
	}
}

// pushAllowance is the transfer a request of a TransferRoute is allowed
// at least: a chunk streamed without a length, or a manifest whose blobs
// relkey stores (1 GiB, about 68 minutes at transferRate).
const pushAllowance = 1 << 30

// within runs next with the request's context and body read bounded by d.
func (s *Server) within(c echo.Context, d time.Duration, next echo.HandlerFunc) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), d)
	defer cancel()
	c.SetRequest(c.Request().WithContext(ctx))
	deadline, _ := ctx.Deadline()
	// Not every writer can (a test recorder): the server's timeouts still bound it.
	_ = http.NewResponseController(c.Response()).SetReadDeadline(deadline)
	return next(c)
}

// transferRate is the slowest transfer the local store's allowance expects:
// 256 KiB/s (2 Mbit/s); a 100 MB installer gets about 6.5 minutes.
const transferRate = 256 << 10

// transferDeadline gives a local-store upload or download of size bytes
// the request timeout plus the time the slowest expected link needs for
// it, for its context, its body read and its answer's write.
func (s *Server) transferDeadline(c echo.Context, size int64, next echo.HandlerFunc) error {
	allowance := s.RequestTimeout + time.Duration(size)*time.Second/transferRate
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(allowance))
	return s.within(c, allowance, next)
}

var errMimeType = apperr.New(apperr.Invalid, "MIME_TYPE_INVALID",
	"The mime type of the request is not acceptable (check content-type and accept headers)")

// negotiate checks Accept and Content-Type and picks the response type.
func (s *Server) negotiate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		responseType, ok := acceptable(req.Header.Get("Accept"))
		if !ok {
			return errMimeType
		}
		c.Set(ctxResponseType, responseType)
		if ct := req.Header.Get("Content-Type"); ct != "" && (req.ContentLength > 0 || req.ContentLength == -1) {
			media, _, err := mime.ParseMediaType(ct)
			if err != nil || !jsonBodyType(media) {
				return errMimeType
			}
		}
		return next(c)
	}
}

// acceptable reports whether the Accept header admits a JSON response and
// which one: application/json only when listed before vnd.api+json.
func acceptable(accept string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return mediaJSONAPI, true
	}
	for _, part := range strings.Split(accept, ",") {
		media, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch strings.ToLower(strings.TrimSpace(media)) {
		case mediaJSON:
			return mediaJSON, true
		case mediaJSONAPI, mediaKeygen, mediaBinary, "*/*", "*", "application/*":
			return mediaJSONAPI, true
		}
	}
	return "", false
}

// jsonBodyType reports whether a request body of this type is read as
// JSON. Keygen reads form, multipart and text bodies as JSON too (its
// DefaultContentType middleware; features/api/v1/machines/actions/
// checkouts.feature checks a text/plain check-out), so a client sending
// JSON under such a header works, and a body that is not JSON is 400
// JSON_INVALID; other types (XML…) are MIME_TYPE_INVALID.
func jsonBodyType(media string) bool {
	switch {
	case media == mediaJSONAPI, media == mediaKeygen, media == mediaJSON, media == mediaBinary,
		media == "application/x-www-form-urlencoded", media == "multipart/form-data",
		strings.HasPrefix(media, "text/"):
		return true
	}
	return false
}

func (s *Server) resolveAccount(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		t, err := s.Accounts.Resolve(c.Request().Context(), c.Param("account"))
		if err != nil {
			return err
		}
		c.Set(ctxTenant, t)
		return next(c)
	}
}

func (s *Server) resolveDefaultAccount(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		t, err := s.Accounts.Default(c.Request().Context(), s.DefaultAccount)
		if err != nil {
			return err
		}
		c.Set(ctxTenant, t)
		return next(c)
	}
}

func tenantOf(c echo.Context) *account.Tenant {
	t, _ := c.Get(ctxTenant).(*account.Tenant)
	return t
}
