package httpapi

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/analytics"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/checkout"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/validation"
)

// Recording: each hot path hands its signal to record, which fills in the
// account, the bearer's license and what the client's headers say of it,
// and queues it (no database work on the request path).

// record queues sig for the request's account. The device is what the
// handler knew (a machine's fingerprint), else the X-Device-ID header,
// else fallback (a fingerprint the request named); version, platform and
// arch are the handler's, else the headers' or the SDK User-Agent's.
func (s *Server) record(c echo.Context, sig analytics.Signal, fallback string) {
	t := tenantOf(c)
	if s.Usage == nil || t == nil {
		return
	}
	cl := analytics.ClientOf(c.Request().Header.Get)
	sig.AccountID = t.ID
	sig.Device = analytics.Or(sig.Device, cl.Device, fallback)
	sig.Version = analytics.Or(sig.Version, cl.Version)
	sig.Platform = analytics.Or(sig.Platform, cl.Platform)
	sig.Arch = analytics.Or(sig.Arch, cl.Arch)
	if who := principalOf(c); sig.LicenseID == "" && who != nil && who.BearerType == access.BearerLicense {
		sig.LicenseID, sig.PolicyID, sig.ProductID = who.BearerID, who.PolicyID, analytics.Or(sig.ProductID, who.ProductID)
	}
	s.Usage.Record(sig)
}

// recordValidation records a validation by its code; the scope's version
// and fingerprint describe the client.
func (s *Server) recordValidation(c echo.Context, out validation.Outcome, sc validation.Scope) {
	sig := analytics.Signal{Kind: analytics.Validation, Result: out.Result.Code, Version: sc.Version.V}
	if out.License != nil {
		sig.LicenseID, sig.PolicyID, sig.ProductID = out.License.ID, out.License.PolicyID, out.License.ProductID
	}
	fingerprint := sc.Fingerprint.V
	if fingerprint == "" && len(sc.Fingerprints.V) > 0 {
		fingerprint = sc.Fingerprints.V[0]
	}
	s.record(c, sig, fingerprint)
}

// recordMachine records a machine's activation, heartbeat or check-out.
func (s *Server) recordMachine(c echo.Context, kind analytics.Kind, m *machine.Machine, result string) {
	s.record(c, analytics.Signal{Kind: kind, ProductID: m.ProductID, PolicyID: m.PolicyID, LicenseID: m.LicenseID,
		Device: m.Fingerprint, Platform: analytics.Deref(m.Platform), Result: result}, "")
}

// recordProcess records a process's ping.
func (s *Server) recordProcess(c echo.Context, p *machine.Process) {
	s.record(c, analytics.Signal{Kind: analytics.ProcessPing, ProductID: p.ProductID, PolicyID: p.PolicyID, LicenseID: p.LicenseID}, "")
}

// recordUpgrade records an upgrade check, with an upgrade or without
// (then the path's version and ?product= stand for the client).
func (s *Server) recordUpgrade(c echo.Context, current, next *release.Release, err error) {
	sig := analytics.Signal{Kind: analytics.UpgradeCheck, Result: "upgrade"}
	switch {
	case err == nil:
		sig.ProductID, sig.Version = current.ProductID, current.Version
	case errors.Is(err, release.ErrNoUpgrade):
		sig.Result = "none"
		if ref := pathRef(c); uuid.Validate(ref) != nil {
			sig.Version = ref
		}
		if p := c.QueryParam("product"); uuid.Validate(p) == nil {
			sig.ProductID = p
		}
	default:
		return
	}
	s.record(c, sig, "")
}

// recordDownload records an artifact's download (a redirect to its
// file, not a read of its metadata).
func (s *Server) recordDownload(c echo.Context, a *artifact.Artifact) {
	s.record(c, analytics.Signal{Kind: analytics.Download, ProductID: a.ProductID, ReleaseID: a.ReleaseID, ArtifactID: a.ID,
		Platform: analytics.Deref(a.Platform), Arch: analytics.Deref(a.Arch)}, "")
}

// recordCheckOut records a license or machine file's check-out.
func (s *Server) recordCheckOut(c echo.Context, f *checkout.File) {
	if f.Kind == checkout.Machine && f.Machine != nil {
		s.recordMachine(c, analytics.CheckOut, f.Machine, "machine")
		return
	}
	s.record(c, analytics.Signal{Kind: analytics.CheckOut, ProductID: f.License.ProductID, PolicyID: f.License.PolicyID,
		LicenseID: f.License.ID, Result: "license"}, "")
}

// Reading.

// analyticsRoutes registers relkey's own analytics reads under an account
// layout.
func (s *Server) analyticsRoutes(g *echo.Group) {
	g.GET("/analytics/active-devices", s.activeDevices)
	g.GET("/analytics/versions", s.breakdown("versions", analytics.DimVersion))
	g.GET("/analytics/platforms", s.breakdown("platforms", analytics.DimPlatform))
	g.GET("/analytics/arches", s.breakdown("arches", analytics.DimArch))
	g.GET("/analytics/validations", s.analyticsCounts("validations", analytics.DimResult, analytics.Validation))
	g.GET("/analytics/activations", s.analyticsCounts("activations", analytics.DimResult, analytics.Activation, analytics.Deactivation))
	g.GET("/analytics/downloads", s.downloads)
	g.GET("/analytics/licenses", s.topLicenses)
}

// analyticsLayouts registers the compatible shapes: Nucleus's under the
// engines of both layouts, Keygen's dashboard calls under /-/accounts/….
func (s *Server) analyticsLayouts() {
	for prefix, resolve := range map[string]echo.MiddlewareFunc{"/v1/accounts/:account": s.resolveAccount, "/v1": s.resolveDefaultAccount} {
		g := s.echo.Group(prefix+"/engines/nucleus/app/:product", resolve, s.sign, s.authenticateEngine)
		g.GET("/analytics", s.nucleusDaily)
		g.GET("/analytics/realtime", s.nucleusRealtime)
	}
	s.keygenRoutes(s.echo.Group("/-/accounts/:account/analytics", s.negotiate, s.resolveAccount, s.sign, s.apiVersion, s.authenticate))
}

// analyticsDoc renders a read as one JSON:API resource of type analytics.
func (s *Server) analyticsDoc(c echo.Context, name string, attrs any) error {
	return s.render(c, 200, map[string]any{"data": map[string]any{"type": "analytics", "id": name, "attributes": attrs}})
}

// analyticsQuery reads ?product=, ?from= and ?to= (dates or RFC 3339 times).
func analyticsQuery(c echo.Context) (analytics.Query, error) {
	q := analytics.Query{Product: c.QueryParam("product")}
	for param, at := range map[string]*time.Time{"from": &q.From, "to": &q.To} {
		if raw := c.QueryParam(param); raw != "" {
			t, err := parseDay(raw)
			if err != nil {
				return q, apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", param+" must be a date (2026-01-02) or an ISO 8601 time", param)
			}
			*at = t
		}
	}
	return q, nil
}

func parseDay(raw string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, raw); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, raw)
}

func (s *Server) activeDevices(c echo.Context) error {
	q, err := analyticsQuery(c)
	if err != nil {
		return err
	}
	out, err := s.Analytics.ActiveDevices(c.Request().Context(), principalOf(c), tenantOf(c), q, c.QueryParam("window"))
	if err != nil {
		return err
	}
	return s.analyticsDoc(c, "active-devices", out)
}

func (s *Server) breakdown(name, dim string) echo.HandlerFunc {
	return func(c echo.Context) error {
		q, err := analyticsQuery(c)
		if err != nil {
			return err
		}
		out, err := s.Analytics.Breakdown(c.Request().Context(), principalOf(c), tenantOf(c), q, dim)
		if err != nil {
			return err
		}
		return s.analyticsDoc(c, name, out)
	}
}

func (s *Server) analyticsCounts(name, dim string, kinds ...analytics.Kind) echo.HandlerFunc {
	return func(c echo.Context) error {
		q, err := analyticsQuery(c)
		if err != nil {
			return err
		}
		out, err := s.Analytics.Counts(c.Request().Context(), principalOf(c), tenantOf(c), q, dim, kinds...)
		if err != nil {
			return err
		}
		return s.analyticsDoc(c, name, out)
	}
}

// downloads are the downloads per release and per artifact.
func (s *Server) downloads(c echo.Context) error {
	q, err := analyticsQuery(c)
	if err != nil {
		return err
	}
	ctx, who, t := c.Request().Context(), principalOf(c), tenantOf(c)
	releases, err := s.Analytics.Counts(ctx, who, t, q, analytics.DimRelease, analytics.Download)
	if err != nil {
		return err
	}
	artifacts, err := s.Analytics.Counts(ctx, who, t, q, analytics.DimArtifact, analytics.Download)
	if err != nil {
		return err
	}
	return s.analyticsDoc(c, "downloads", map[string]any{"from": releases.From, "to": releases.To, "releases": releases, "artifacts": artifacts})
}

// analyticsLimit reads ?limit= (1 to 100, default 10).
func analyticsLimit(c echo.Context) (int, error) {
	raw := c.QueryParam("limit")
	if raw == "" {
		return 10, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 100 {
		return 0, apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", "limit must be 1 to 100", "limit")
	}
	return n, nil
}

func (s *Server) topLicenses(c echo.Context) error {
	q, err := analyticsQuery(c)
	if err != nil {
		return err
	}
	limit, err := analyticsLimit(c)
	if err != nil {
		return err
	}
	out, err := s.Analytics.TopLicenses(c.Request().Context(), principalOf(c), tenantOf(c), q, c.QueryParam("sort"), limit)
	if err != nil {
		return err
	}
	return s.analyticsDoc(c, "licenses", map[string]any{"licenses": out})
}

func (s *Server) nucleusRealtime(c echo.Context) error {
	out, err := s.Analytics.NucleusRealtime(c.Request().Context(), principalOf(c), tenantOf(c), c.Param("product"))
	if err != nil {
		return err
	}
	return c.JSON(200, out)
}

// nucleusDaily reads Nucleus's start and end timestamps (unix seconds, or
// milliseconds as JavaScript's Date.now) and utcOffset (minutes east of
// UTC, -1440 to 1440; default 0): the days are the offset's.
func (s *Server) nucleusDaily(c echo.Context) error {
	var at [2]time.Time
	for i, param := range []string{"start", "end"} {
		n, err := strconv.ParseInt(c.QueryParam(param), 10, 64)
		if err != nil || n < 0 {
			return apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", param+" must be a unix timestamp", param)
		}
		if n > 1e11 {
			n /= 1000
		}
		at[i] = time.Unix(n, 0).UTC()
	}
	var offset int
	if raw := c.QueryParam("utcOffset"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < -24*60 || n > 24*60 {
			return apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", "utcOffset must be minutes, -1440 to 1440", "utcOffset")
		}
		offset = n
	}
	out, err := s.Analytics.NucleusDaily(c.Request().Context(), principalOf(c), tenantOf(c), c.Param("product"), at[0], at[1], time.Duration(offset)*time.Minute)
	if err != nil {
		return err
	}
	return c.JSON(200, out)
}

// keygenRange reads Keygen's date[start] and date[end] (dates, both or
// neither).
func keygenRange(c echo.Context) (analytics.DateRange, error) {
	var r analytics.DateRange
	raw := map[string]string{"date[start]": c.QueryParam("date[start]"), "date[end]": c.QueryParam("date[end]")}
	for param, at := range map[string]*time.Time{"date[start]": &r.Start, "date[end]": &r.End} {
		if raw[param] != "" {
			t, err := parseDay(raw[param])
			if err != nil {
				return r, apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", param+" must be a date", param)
			}
			*at = t
		}
	}
	for param, other := range map[string]string{"date[start]": "date[end]", "date[end]": "date[start]"} {
		if raw[param] == "" && raw[other] != "" {
			return r, apperr.AtParameter(apperr.Invalid, "PARAMETER_MISSING", "is missing", param)
		}
	}
	return r, nil
}

// keygenLicense reads ?license= (a UUID).
func keygenLicense(c echo.Context) (string, error) {
	id := c.QueryParam("license")
	if id != "" && uuid.Validate(id) != nil {
		return "", apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", "license must be a UUID", "license")
	}
	return id, nil
}

// keygenLimit reads a leaderboard's ?limit= (1 to 100, default 10).
func keygenLimit(c echo.Context) (int, error) {
	raw := c.QueryParam("limit")
	if raw == "" {
		return 10, nil
	}
	n, err := strconv.Atoi(raw)
	switch {
	case err != nil:
		return 0, apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", "must be an integer", "limit")
	case n > analytics.MaxLeaderboard:
		return 0, apperr.AtParameter(apperr.Invalid, "LIMIT_INVALID", "must be less than or equal to "+strconv.Itoa(analytics.MaxLeaderboard), "limit")
	case n < 1:
		return 0, apperr.AtParameter(apperr.Invalid, "LIMIT_INVALID", "must be greater than or equal to 1", "limit")
	}
	return n, nil
}

// keygenRead answers a Keygen dashboard call: read gets the request's
// context, bearer and account and its date range, and its answer is
// rendered as Keygen's analytics document, {"data": [...]}.
func (s *Server) keygenRead(read func(ctx context.Context, who *access.Principal, t *account.Tenant, c echo.Context, r analytics.DateRange) (any, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		r, err := keygenRange(c)
		if err != nil {
			return err
		}
		out, err := read(c.Request().Context(), principalOf(c), tenantOf(c), c, r)
		if err != nil {
			return err
		}
		return s.render(c, 200, map[string]any{"data": out})
	}
}

// keygenRoutes registers Keygen's dashboard calls on g.
func (s *Server) keygenRoutes(g *echo.Group) {
	g.GET("/events/:event", s.keygenRead(func(ctx context.Context, who *access.Principal, t *account.Tenant, c echo.Context, r analytics.DateRange) (any, error) {
		return s.Analytics.EventSeries(ctx, who, t, c.Param("event"), r, false)
	}))
	g.GET("/sparks/events/:event", s.keygenRead(func(ctx context.Context, who *access.Principal, t *account.Tenant, c echo.Context, r analytics.DateRange) (any, error) {
		return s.Analytics.EventSeries(ctx, who, t, c.Param("event"), r, true)
	}))
	g.GET("/gauges/events/:event", s.keygenRead(func(ctx context.Context, who *access.Principal, t *account.Tenant, c echo.Context, _ analytics.DateRange) (any, error) {
		return s.Analytics.EventGauge(ctx, who, t, c.Param("event"))
	}))
	// The validations' gauge (today) and sparks, of a ?license= or all.
	validations := func(sparks bool) echo.HandlerFunc {
		return s.keygenRead(func(ctx context.Context, who *access.Principal, t *account.Tenant, c echo.Context, r analytics.DateRange) (any, error) {
			license, err := keygenLicense(c)
			switch {
			case err != nil:
				return nil, err
			case sparks:
				return s.Analytics.ValidationSparks(ctx, who, t, r, license)
			}
			return s.Analytics.ValidationGauge(ctx, who, t, license)
		})
	}
	g.GET("/gauges/validations", validations(false))
	g.GET("/gauges/:metric", s.keygenRead(func(ctx context.Context, who *access.Principal, t *account.Tenant, c echo.Context, _ analytics.DateRange) (any, error) {
		return s.Analytics.Gauge(ctx, who, t, c.Param("metric"))
	}))
	g.GET("/sparks/validations", validations(true))
	g.GET("/sparks/:metric", s.keygenRead(func(ctx context.Context, who *access.Principal, t *account.Tenant, c echo.Context, r analytics.DateRange) (any, error) {
		return s.Analytics.InventorySparks(ctx, who, t, c.Param("metric"), r)
	}))
	g.GET("/sparks/requests", s.keygenRead(func(ctx context.Context, who *access.Principal, t *account.Tenant, _ echo.Context, r analytics.DateRange) (any, error) {
		return s.Analytics.RequestSeries(ctx, who, t, r, true)
	}))
	g.GET("/usage", s.keygenRead(func(ctx context.Context, who *access.Principal, t *account.Tenant, _ echo.Context, r analytics.DateRange) (any, error) {
		return s.Analytics.RequestSeries(ctx, who, t, r, false)
	}))
	g.GET("/leaderboards/:leaderboard", s.keygenRead(func(ctx context.Context, who *access.Principal, t *account.Tenant, c echo.Context, r analytics.DateRange) (any, error) {
		limit, err := keygenLimit(c)
		if err != nil {
			return nil, err
		}
		return s.Analytics.Leaderboard(ctx, who, t, c.Param("leaderboard"), r, limit)
	}))
	g.GET("/heatmaps/:heatmap", s.keygenRead(func(ctx context.Context, who *access.Principal, t *account.Tenant, c echo.Context, r analytics.DateRange) (any, error) {
		return s.Analytics.Heatmap(ctx, who, t, c.Param("heatmap"), r)
	}))
}
