package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
)

// health is the readiness probe: 200 while the database answers, else 503.
func (s *Server) health(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), min(time.Second, s.RequestTimeout/2))
	defer cancel()
	if err := s.Pinger.Ping(ctx); err != nil {
		return &apperr.Error{Kind: apperr.Unavailable, Code: "SERVICE_UNAVAILABLE", Detail: "The database is not reachable", Err: err}
	}
	return s.render(c, http.StatusOK, map[string]any{"meta": map[string]string{"status": "ok", "database": "ok"}})
}

// live is the liveness probe: 200 as long as the process serves HTTP.
func (s *Server) live(c echo.Context) error {
	return s.render(c, http.StatusOK, map[string]any{"meta": map[string]string{"status": "ok"}})
}

func (s *Server) ping(c echo.Context) error {
	return s.render(c, http.StatusOK, map[string]any{"meta": map[string]string{"message": "pong"}})
}
