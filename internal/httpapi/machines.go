package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/relkey/relkey/internal/serializer"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/policy"
)

var machineResource = document.Resource{Singular: "machine", Plural: "machines"}

// embeddedComponents decodes relationships.components.data: resource
// objects without ids, as keygen-go embeds them in an activation.
func embeddedComponents(req *document.Request) ([]machine.ComponentParams, error) {
	raw, ok := req.Relationships["components"]
	if !ok {
		return nil, nil
	}
	const pointer = "/data/relationships/components/data"
	var rel struct {
		Data []struct {
			Type       string          `json:"type"`
			Attributes json.RawMessage `json:"attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &rel); err != nil {
		return nil, apperr.AtPointer(apperr.Invalid, document.CodeParametersInvalid, "must be an object with a data array", "/data/relationships/components")
	}
	params := make([]machine.ComponentParams, len(rel.Data))
	for i, item := range rel.Data {
		at := fmt.Sprintf("%s/%d", pointer, i)
		if item.Type != "component" && item.Type != "components" {
			return nil, apperr.AtPointer(apperr.Invalid, document.CodeParametersInvalid, "type mismatch (expected \"components\")", at+"/type")
		}
		if err := document.DecodeObject(item.Attributes, &params[i], at+"/attributes"); err != nil {
			return nil, err
		}
	}
	return params, nil
}

// activateMachine is POST /machines with relationships.license and,
// optionally, embedded components.
func (s *Server) activateMachine(c echo.Context) error {
	p, req, err := attributes[machine.Params](s, c, machineResource)
	if err != nil {
		return err
	}
	if err := req.PermitRelationships("license", "components"); err != nil {
		return err
	}
	components, err := embeddedComponents(req)
	if err != nil {
		return err
	}
	ref := ""
	if link, err := req.ToOne("license", licenseResource); err != nil {
		return err
	} else if link != nil {
		ref = link.ID
	}
	m, pol, err := s.Machines.Activate(c.Request().Context(), principalOf(c), tenantOf(c), ref, p, components)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.Machine(m, pol), nil)
}

// machinePolicies loads each policy once per request.
func (s *Server) machineNodes(ctx context.Context, machines []machine.Machine) ([]*jsonapi.Node, error) {
	cache := map[string]*policy.Policy{}
	nodes := make([]*jsonapi.Node, len(machines))
	for i := range machines {
		m := &machines[i]
		pol, ok := cache[m.PolicyID]
		if !ok {
			var err error
			if pol, err = s.Policies.Get(ctx, m.AccountID, m.PolicyID); err != nil {
				return nil, err
			}
			cache[m.PolicyID] = pol
		}
		nodes[i] = serializer.Machine(m, pol)
	}
	return nodes, nil
}

func (s *Server) listMachines(c echo.Context) error {
	paging, err := document.ParsePaging(c.QueryParams())
	if err != nil {
		return err
	}
	q := c.QueryParams()
	ids, err := document.IDFilters(q, "license", "product")
	if err != nil {
		return err
	}
	f := machine.Filter{LicenseID: ids["license"], Fingerprint: q.Get("fingerprint"), ProductID: ids["product"]}
	machines, total, err := s.Machines.List(c.Request().Context(), principalOf(c), f, paging.Request)
	if err != nil {
		return err
	}
	nodes, err := s.machineNodes(c.Request().Context(), machines)
	if err != nil {
		return err
	}
	return s.renderMany(c, nodes, paging.Links(c.Request().URL.Path, q, total))
}

func (s *Server) renderMachine(c echo.Context, status int, m *machine.Machine) error {
	nodes, err := s.machineNodes(c.Request().Context(), []machine.Machine{*m})
	if err != nil {
		return err
	}
	return s.renderOne(c, status, nodes[0], nil)
}

func (s *Server) showMachine(c echo.Context) error {
	m, err := s.Machines.Find(c.Request().Context(), principalOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderMachine(c, http.StatusOK, m)
}

func (s *Server) showMachineOwner(c echo.Context) error {
	m, err := s.Machines.Find(c.Request().Context(), principalOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOwner(c, m.AccountID, m.OwnerID)
}

func (s *Server) updateMachine(c echo.Context) error {
	p, req, err := attributes[machine.Params](s, c, machineResource)
	if err != nil {
		return err
	}
	if err := req.PermitRelationships(); err != nil {
		return err
	}
	m, err := s.Machines.Update(c.Request().Context(), principalOf(c), pathRef(c), p)
	if err != nil {
		return err
	}
	return s.renderMachine(c, http.StatusOK, m)
}

func (s *Server) deactivateMachine(c echo.Context) error {
	if err := s.Machines.Deactivate(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c)); err != nil {
		return err
	}
	return noContent(c)
}

func (s *Server) pingMachine(c echo.Context) error  { return s.heartbeat(c, false) }
func (s *Server) resetMachine(c echo.Context) error { return s.heartbeat(c, true) }

func (s *Server) heartbeat(c echo.Context, reset bool) error {
	m, pol, err := s.Machines.Heartbeat(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), reset)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Machine(m, pol), nil)
}

var componentResource = document.Resource{Singular: "component", Plural: "components"}

func (s *Server) listMachineComponents(c echo.Context) error {
	components, err := s.Machines.Components(c.Request().Context(), principalOf(c), pathRef(c))
	if err != nil {
		return err
	}
	nodes := nodesOf(components, serializer.Component)
	return s.renderMany(c, nodes, nil)
}

// createComponent is POST /components with relationships.machine.
func (s *Server) createComponent(c echo.Context) error {
	if principalOf(c) == nil {
		return access.ErrTokenMissing
	}
	req, err := s.decode(c, componentResource, true)
	if err != nil {
		return err
	}
	var p machine.ComponentParams
	if err := req.DecodeAttributes(&p); err != nil {
		return err
	}
	if err := req.PermitRelationships("machine"); err != nil {
		return err
	}
	link, err := req.ToOne("machine", machineResource)
	if err != nil {
		return err
	}
	if link == nil {
		return apperr.AtPointer(apperr.Unprocessable, "MACHINE_NOT_FOUND", "must exist", "/data/relationships/machine")
	}
	comp, err := s.Machines.AddComponent(c.Request().Context(), principalOf(c), tenantOf(c), link.ID, p)
	if apperr.Is(err, apperr.NotFound) {
		return apperr.AtPointer(apperr.Unprocessable, "MACHINE_NOT_FOUND", "must exist", "/data/relationships/machine")
	}
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.Component(comp), nil)
}

func (s *Server) deleteComponent(c echo.Context) error {
	if err := s.Machines.RemoveComponent(c.Request().Context(), principalOf(c), pathRef(c)); err != nil {
		return err
	}
	return noContent(c)
}
