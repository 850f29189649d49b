package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/group"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/serializer"
)

var groupResource = document.Resource{Singular: "group", Plural: "groups"}

// groupRoutes are the groups, their owners and the group of users,
// licenses and machines.
func (s *Server) groupRoutes(g *echo.Group) {
	g.GET("/groups", s.listGroups)
	g.POST("/groups", s.createGroup)
	g.GET("/groups/:id", s.showGroup)
	g.PATCH("/groups/:id", s.updateGroup)
	g.PUT("/groups/:id", s.updateGroup)
	g.DELETE("/groups/:id", s.deleteGroup)
	g.GET("/groups/:id/owners", pageOf(s, s.Groups.Owners, serializer.GroupOwner))
	g.GET("/groups/:id/owners/:related", relatedOf(s, s.Groups.Owner, serializer.GroupOwner))
	g.GET("/groups/:id/users", pageOf(s, s.Groups.Users, serializer.User))
	g.GET("/groups/:id/users/:related", relatedOf(s, s.Groups.User, serializer.User))
	g.GET("/groups/:id/licenses", s.listGroupLicenses)
	g.GET("/groups/:id/licenses/:related", s.showGroupLicense)
	g.GET("/groups/:id/machines", s.listGroupMachines)
	g.GET("/groups/:id/machines/:related", s.showGroupMachine)
	g.POST("/groups/:id/owners", s.attachGroupOwners)
	g.DELETE("/groups/:id/owners", s.detachGroupOwners)
	for _, m := range []group.Member{group.Users, group.Licenses, group.Machines} {
		g.GET("/"+m.Table+"/:id/group", s.showMemberGroup(m))
		g.PUT("/"+m.Table+"/:id/group", s.changeMemberGroup(m))
		g.PATCH("/"+m.Table+"/:id/group", s.changeMemberGroup(m))
	}
}

// groupOf reads the group relationship of a user's, license's or
// machine's create document: a group id, or "" when it is absent or, as
// Keygen allows, null.
func groupOf(req *document.Request) (string, error) {
	if raw, ok := req.Relationships["group"]; ok {
		var rel struct {
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(raw, &rel) == nil && string(bytes.TrimSpace(rel.Data)) == "null" {
			return "", nil
		}
	}
	link, err := req.ToOne("group", groupResource)
	if err != nil || link == nil {
		return "", err
	}
	return link.ID, nil
}

func (s *Server) listGroups(c echo.Context) error {
	return renderPage(s, c, s.Groups.List, serializer.Group)
}

func (s *Server) showGroup(c echo.Context) error {
	g, err := s.Groups.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Group(g), nil)
}

func (s *Server) createGroup(c echo.Context) error {
	p, err := attributesOnly[group.Params](s, c, groupResource)
	if err != nil {
		return err
	}
	g, err := s.Groups.Create(c.Request().Context(), principalOf(c), tenantOf(c), p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.Group(g), nil)
}

func (s *Server) updateGroup(c echo.Context) error {
	return updateRecord(s, c, groupResource, s.Groups.Update, serializer.Group)
}

func (s *Server) deleteGroup(c echo.Context) error {
	return deleteRecord(c, s.Groups.Delete)
}

// pageOf renders a page of what list gives of the record the path's :id
// names.
func pageOf[T any](s *Server, list func(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p page.Request) ([]T, int64, error),
	render func(*T) *jsonapi.Node) echo.HandlerFunc {
	return func(c echo.Context) error {
		return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]T, int64, error) {
			return list(ctx, who, t, pathRef(c), p)
		}, render)
	}
}

// relatedOf renders what find gives of the record the path's :id names
// and its :related.
func relatedOf[T any](s *Server, find func(ctx context.Context, who *access.Principal, t *account.Tenant, ref, related string) (*T, error),
	render func(*T) *jsonapi.Node) echo.HandlerFunc {
	return func(c echo.Context) error {
		v, err := find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), relatedRef(c))
		if err != nil {
			return err
		}
		return s.renderOne(c, http.StatusOK, render(v), nil)
	}
}

func (s *Server) listGroupLicenses(c echo.Context) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]license.Shown, int64, error) {
		g, sc, err := s.Groups.MemberScope(ctx, who, t, pathRef(c), group.Licenses)
		if err != nil {
			return nil, 0, err
		}
		licenses, total, err := s.Licenses.InGroup(ctx, t, g.ID, sc, p)
		return s.showListed(c, licenses, total, err)
	}, serializer.License)
}

func (s *Server) showGroupLicense(c echo.Context) error {
	ctx, who, t := c.Request().Context(), principalOf(c), tenantOf(c)
	g, sc, err := s.Groups.MemberScope(ctx, who, t, pathRef(c), group.Licenses)
	if err != nil {
		return err
	}
	l, err := s.Licenses.FindInGroup(ctx, t, g.ID, sc, relatedRef(c))
	if err != nil {
		return err
	}
	return s.renderLicenseValue(c, http.StatusOK, l)
}

func (s *Server) listGroupMachines(c echo.Context) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]machine.WithPolicy[machine.Machine], int64, error) {
		g, sc, err := s.Groups.MemberScope(ctx, who, t, pathRef(c), group.Machines)
		if err != nil {
			return nil, 0, err
		}
		return s.Machines.InGroup(ctx, t, g.ID, sc, p)
	}, machineNode)
}

func (s *Server) showGroupMachine(c echo.Context) error {
	ctx, who, t := c.Request().Context(), principalOf(c), tenantOf(c)
	g, sc, err := s.Groups.MemberScope(ctx, who, t, pathRef(c), group.Machines)
	if err != nil {
		return err
	}
	m, pol, err := s.Machines.FindInGroup(ctx, t, g.ID, sc, relatedRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Machine(m, pol), nil)
}

func (s *Server) attachGroupOwners(c echo.Context) error {
	ids, err := s.linkages(c, userResource)
	if err != nil {
		return err
	}
	owners, err := s.Groups.AttachOwners(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), ids)
	if err != nil {
		return err
	}
	return s.renderMany(c, nodesOf(owners, serializer.GroupOwner), nil)
}

func (s *Server) detachGroupOwners(c echo.Context) error {
	ids, err := s.linkages(c, userResource)
	if err != nil {
		return err
	}
	if err := s.Groups.DetachOwners(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), ids); err != nil {
		return err
	}
	return noContent(c)
}

func (s *Server) showMemberGroup(m group.Member) echo.HandlerFunc {
	return func(c echo.Context) error {
		g, err := s.Groups.MemberGroup(c.Request().Context(), principalOf(c), tenantOf(c), m, pathRef(c))
		if err != nil {
			return err
		}
		return s.renderOne(c, http.StatusOK, serializer.Group(g), nil)
	}
}

// changeMemberGroup is PUT /<members>/:id/group {"data":{"type":"groups",
// "id":…}} or {"data":null}; like Keygen it answers with the member.
func (s *Server) changeMemberGroup(m group.Member) echo.HandlerFunc {
	return func(c echo.Context) error {
		groupID, err := s.identifier(c, groupResource, true)
		if err != nil {
			return err
		}
		ctx, who, t := c.Request().Context(), principalOf(c), tenantOf(c)
		recordID, err := s.Groups.Assign(ctx, who, t, m, pathRef(c), groupID)
		if err != nil {
			return err
		}
		switch m {
		case group.Licenses:
			return s.renderLicense(c, http.StatusOK, recordID)
		case group.Machines:
			mach, pol, err := s.Machines.Find(ctx, who, t, recordID)
			if err != nil {
				return err
			}
			return s.renderOne(c, http.StatusOK, serializer.Machine(mach, pol), nil)
		}
		u, err := s.Users.Find(ctx, who, t, recordID)
		if err != nil {
			return err
		}
		return s.renderOne(c, http.StatusOK, serializer.User(u), nil)
	}
}
