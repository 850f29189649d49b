// Package raw serves Keygen's raw engine: GET /engines/raw/<product>
// [/@<package>]/<release>/<artifact>, with <release> a version, a tag or
// "latest", answers 303 to the artifact's download route, the request's
// query carried over (as Keygen's raw controller does).
package raw

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed/feedhttp"
	"github.com/relkey/relkey/internal/httpapi"
)

// Products resolves a product by id or code (*product.Service).
type Products interface {
	VisibleID(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (string, error)
}

// Artifacts finds an artifact (*artifact.Service).
type Artifacts interface {
	Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, f artifact.Filter) (*artifact.Artifact, error)
}

// Engine is the raw engine's routes.
func Engine(products Products, artifacts Artifacts) httpapi.Engine {
	return httpapi.Engine{Name: "raw", Routes: func(g *echo.Group, x httpapi.Exchange) {
		h := handler{x: x, products: products, artifacts: artifacts}
		g.GET("/:product/:release/:artifact", h.download)
		g.GET("/:product/:package/:release/:artifact", h.download)
	}}
}

type handler struct {
	x         httpapi.Exchange
	products  Products
	artifacts Artifacts
}

func (h handler) download(c echo.Context) error {
	pkg, release, filename := "", c.Param("release"), c.Param("artifact")
	if ref := c.Param("package"); ref != "" {
		if !strings.HasPrefix(ref, "@") {
			return apperr.NotFoundResource("artifact", filename)
		}
		pkg = strings.TrimPrefix(ref, "@")
	}
	ctx, who, t := c.Request().Context(), h.x.Principal(c), h.x.Tenant(c)
	productID, err := h.products.VisibleID(ctx, who, t, c.Param("product"))
	if err != nil {
		return err
	}
	f := artifact.Filter{Release: release, Product: productID, Package: &pkg}
	a, err := h.artifacts.Find(ctx, who, t, filename, f)
	if apperr.Is(err, apperr.NotFound) && release == "latest" {
		// No release tagged latest: the newest release with the file.
		f.Release = ""
		a, err = h.artifacts.Find(ctx, who, t, filename, f)
	}
	if err != nil {
		return err
	}
	target := feedhttp.DownloadPath(t, a)
	if q := c.Request().URL.RawQuery; q != "" {
		target += "?" + q
	}
	return c.Redirect(http.StatusSeeOther, h.x.URL(c, target))
}
