package httpapi

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/naming"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/requestlog"
	"github.com/relkey/relkey/internal/serializer"
)

// recordRequest queues the request-log entry of an account's request: the
// route pattern, never the URL (keys and ?auth= tokens stay out), and the
// resource only when the path names it by id.
func (s *Server) recordRequest(c echo.Context, start time.Time) {
	t := tenantOf(c)
	if t == nil {
		return
	}
	e := requestlog.Entry{ID: id.New(), AccountID: t.ID, Method: c.Request().Method, Path: c.Path(), Status: c.Response().Status,
		IP: c.RealIP(), UserAgent: c.Request().UserAgent(), RequestID: requestIDOf(c),
		DurationMS: float64(time.Since(start).Microseconds()) / 1000, CreatedAt: time.Now().UTC()}
	if who := principalOf(c); who != nil {
		e.BearerType, e.BearerID = &who.BearerType, &who.BearerID
	}
	if ref := c.Param("id"); uuid.Validate(ref) == nil {
		if rest, ok := strings.CutPrefix(c.Path(), "/v1/accounts/:account/"); ok {
			typ, _, _ := strings.Cut(rest, "/")
			e.ResourceType, e.ResourceID = &typ, &ref
		}
	}
	s.RequestLog.Record(e)
}

func (s *Server) listRequestLogs(c echo.Context) error {
	q := c.QueryParams()
	f := requestlog.Filter{Method: strings.ToUpper(q.Get("method")), IP: q.Get("ip"), ResourceType: q.Get("resource[type]"), ResourceID: q.Get("resource[id]")}
	if raw := q.Get("status"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 100 || n > 599 {
			return apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", "status must be an HTTP status code", "status")
		}
		f.Status = n
	}
	if err := dateRange(c, &f.Since, &f.Until); err != nil {
		return err
	}
	if err := requestorFilter(q, &f); err != nil {
		return err
	}
	var err error
	if f.URL, err = document.PlainFilter(q, "url"); err != nil {
		return err
	}
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]requestlog.Entry, int64, error) {
		return s.RequestLog.List(ctx, who, t, f, p)
	}, serializer.RequestLog)
}

func (s *Server) showRequestLog(c echo.Context) error {
	return renderAction(s, c, s.RequestLog.Find, serializer.RequestLog)
}

// requestorTypes are the bearer types a requestor[type] names, in
// Keygen's spellings (User, user, users…).
var requestorTypes = map[string]string{"user": access.BearerUser, "product": access.BearerProduct, "license": access.BearerLicense}

// requestorFilter reads ?requestor=<id> or ?requestor[type]=&requestor[id]=
// (Keygen's search_requestor). A type that is no bearer's matches nothing.
func requestorFilter(q url.Values, f *requestlog.Filter) error {
	if q.Has("requestor") {
		f.RequestorID = q.Get("requestor")
		return nil
	}
	entries, err := document.HashFilter(q, "requestor", "type", "id")
	if err != nil || entries == nil {
		return err
	}
	f.RequestorID = entries["id"]
	if raw := strings.TrimSpace(entries["type"]); raw != "" {
		kind := strings.TrimSuffix(naming.Snake(raw), "s")
		if f.RequestorType = requestorTypes[kind]; f.RequestorType == "" {
			f.RequestorType = raw // no bearer's type: nothing matches
		}
	}
	return nil
}
