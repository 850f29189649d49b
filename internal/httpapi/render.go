package httpapi

import (
	"context"
	"net/http"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/page"
)

// render writes v as the negotiated JSON type.
func (s *Server) render(c echo.Context, status int, v any) error {
	res := c.Response()
	head := c.Request().Method == http.MethodHead
	var body []byte
	if signed, ok := res.Writer.(*bufferedWriter); ok {
		// Under sign, the document is encoded straight into the buffer sign
		// holds the response in; echo's Response still counts its size.
		if !head {
			n, err := signed.appendBody(func(dst []byte) ([]byte, error) {
				out, err := document.Encode(dst, v)
				return append(out, '\n'), err
			})
			if err != nil {
				return err
			}
			res.Size += int64(n)
		}
	} else {
		var err error
		if body, err = document.Encode(make([]byte, 0, 4096), v); err != nil {
			return err
		}
	}
	contentType, _ := c.Get(ctxResponseType).(string)
	if contentType == "" {
		contentType = mediaJSONAPI
	}
	h := res.Header()
	h.Set(echo.HeaderContentType, contentType+"; charset=utf-8")
	h.Set("Cache-Control", "no-transform, no-store, max-age=0")
	res.WriteHeader(status)
	if head || body == nil {
		return nil
	}
	_, err := res.Write(append(body, '\n'))
	return err
}

func (s *Server) renderOne(c echo.Context, status int, node *jsonapi.Node, meta *jsonapi.Meta) error {
	if status == http.StatusCreated {
		if self, ok := (*node.Links)["self"].(string); ok {
			c.Response().Header().Set(echo.HeaderLocation, self)
		}
	}
	if node != nil {
		c.Set(ctxResource, node.ID)
	}
	return s.render(c, status, &jsonapi.OnePayload{Data: node, Meta: meta})
}

func (s *Server) renderMany(c echo.Context, nodes []*jsonapi.Node, links *jsonapi.Links) error {
	if nodes == nil {
		nodes = []*jsonapi.Node{}
	}
	return s.render(c, http.StatusOK, &jsonapi.ManyPayload{Data: nodes, Links: links})
}

func noContent(c echo.Context) error { return c.NoContent(http.StatusNoContent) }

// pathAction is a rule applied to the record the request path names.
type pathAction[T any] func(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*T, error)

// renderAction applies act to the path's record and renders the result: an
// action such as publish or yank.
func renderAction[T any](s *Server, c echo.Context, act pathAction[T], node func(*T) *jsonapi.Node) error {
	v, err := act(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, node(v), nil)
}

// updateRecord is PATCH|PUT /<resource>/:id for resources updated by
// attributes alone.
func updateRecord[P, T any](s *Server, c echo.Context, r document.Resource,
	update func(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p P) (*T, error), node func(*T) *jsonapi.Node) error {
	p, err := attributesOnly[P](s, c, r)
	if err != nil {
		return err
	}
	return renderAction(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*T, error) {
		return update(ctx, who, t, ref, p)
	}, node)
}

// deleteRecord is DELETE /<resource>/:id: 204 once deleted.
func deleteRecord(c echo.Context, del func(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) error) error {
	if err := del(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c)); err != nil {
		return err
	}
	return noContent(c)
}

// nodesOf renders each item with node.
func nodesOf[T any](items []T, node func(*T) *jsonapi.Node) []*jsonapi.Node {
	nodes := make([]*jsonapi.Node, len(items))
	for i := range items {
		nodes[i] = node(&items[i])
	}
	return nodes
}

// renderPage is GET of a collection: it reads the page request, lists that
// page and renders it with its pagination links.
func renderPage[T any](s *Server, c echo.Context, list func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]T, int64, error),
	node func(*T) *jsonapi.Node) error {
	paging, err := document.ParsePaging(c.QueryParams())
	if err != nil {
		return err
	}
	items, total, err := list(c.Request().Context(), principalOf(c), tenantOf(c), paging.Request)
	if err != nil {
		return err
	}
	nodes := nodesOf(items, node)
	if paging.Keyset {
		last := ""
		if len(nodes) > 0 {
			last = nodes[len(nodes)-1].ID
		}
		return s.renderMany(c, nodes, paging.KeysetLinks(c.Request().URL.Path, c.QueryParams(), total > 0, last))
	}
	return s.renderMany(c, nodes, paging.Links(c.Request().URL.Path, c.QueryParams(), total))
}
