package httpapi

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/key"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/serializer"
)

var keyResource = document.Resource{Singular: "key", Plural: "keys"}

// keyRoutes are the pooled keys and the pools of policies.
func (s *Server) keyRoutes(g *echo.Group) {
	g.GET("/keys", s.listKeys)
	g.POST("/keys", s.createKey)
	g.GET("/keys/:id", s.showKey)
	g.PATCH("/keys/:id", s.updateKey)
	g.PUT("/keys/:id", s.updateKey)
	g.DELETE("/keys/:id", s.deleteKey)
	g.GET("/keys/:id/product", toOne(s.pathKey, func(c echo.Context, k *key.Key) error { return s.renderProduct(c, k.ProductID) }))
	g.GET("/keys/:id/policy", toOne(s.pathKey, func(c echo.Context, k *key.Key) error {
		pol, err := s.Policies.Get(c.Request().Context(), k.AccountID, k.PolicyID)
		if err != nil {
			return err
		}
		return s.renderOne(c, http.StatusOK, serializer.Policy(pol), nil)
	}))
	g.GET("/policies/:id/pool", pageOf(s, s.Keys.Pool, serializer.Key))
	g.GET("/policies/:id/pool/:related", relatedOf(s, s.Keys.PoolKey, serializer.Key))
	g.DELETE("/policies/:id/pool", s.popPool)
}

func (s *Server) pathKey(c echo.Context) (*key.Key, error) {
	return s.Keys.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
}

func (s *Server) listKeys(c echo.Context) error {
	ids, err := document.IDFilters(c.QueryParams(), "product", "policy")
	if err != nil {
		return err
	}
	f := key.Filter{ProductID: ids["product"], PolicyID: ids["policy"]}
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]key.Key, int64, error) {
		return s.Keys.List(ctx, who, t, f, p)
	}, serializer.Key)
}

func (s *Server) showKey(c echo.Context) error {
	k, err := s.pathKey(c)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Key(k), nil)
}

func (s *Server) createKey(c echo.Context) error {
	p, req, err := attributes[key.Params](s, c, keyResource)
	if err != nil {
		return err
	}
	if err := req.PermitRelationships("policy"); err != nil {
		return err
	}
	policyRef := ""
	if link, err := req.ToOne("policy", policyResource); err != nil {
		return err
	} else if link != nil {
		policyRef = link.ID
	}
	k, err := s.Keys.Create(c.Request().Context(), principalOf(c), tenantOf(c), policyRef, p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.Key(k), nil)
}

func (s *Server) updateKey(c echo.Context) error {
	return updateRecord(s, c, keyResource, s.Keys.Update, serializer.Key)
}

func (s *Server) deleteKey(c echo.Context) error {
	return deleteRecord(c, s.Keys.Delete)
}

// popPool is DELETE /policies/:id/pool: the oldest key of the pool,
// removed from it, as Keygen answers.
func (s *Server) popPool(c echo.Context) error {
	k, err := s.Keys.Pop(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Key(k), nil)
}
