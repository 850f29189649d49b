package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/serializer"
	"github.com/relkey/relkey/internal/setting"
)

var settingResource = document.Resource{Singular: "setting", Plural: "settings"}

// settingRoutes are the account's settings (Keygen's account settings
// relationship), by id or key.
func (s *Server) settingRoutes(g *echo.Group) {
	g.GET("/settings", s.listSettings)
	g.POST("/settings", s.createSetting)
	g.GET("/settings/:id", s.showSetting)
	g.PATCH("/settings/:id", s.updateSetting)
	g.PUT("/settings/:id", s.updateSetting)
	g.DELETE("/settings/:id", s.deleteSetting)
}

func (s *Server) listSettings(c echo.Context) error {
	return renderPage(s, c, s.Settings.List, serializer.Setting)
}

func (s *Server) showSetting(c echo.Context) error {
	st, err := s.Settings.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Setting(st), nil)
}

func (s *Server) createSetting(c echo.Context) error {
	p, err := attributesOnly[setting.Params](s, c, settingResource)
	if err != nil {
		return err
	}
	st, err := s.Settings.Create(c.Request().Context(), principalOf(c), tenantOf(c), p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.Setting(st), nil)
}

func (s *Server) updateSetting(c echo.Context) error {
	return updateRecord(s, c, settingResource, s.Settings.Update, serializer.Setting)
}

func (s *Server) deleteSetting(c echo.Context) error { return deleteRecord(c, s.Settings.Delete) }
