package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/analytics"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/serializer"
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
	if err := req.PermitRelationships("license", "components", "group"); err != nil {
		return err
	}
	if p.Group, err = groupOf(req); err != nil {
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
	s.recordMachine(c, analytics.Activation, m, "")
	return s.renderOne(c, http.StatusCreated, serializer.Machine(m, pol), nil)
}

// machineNode renders a listed machine with its policy.
func machineNode(m *machine.WithPolicy[machine.Machine]) *jsonapi.Node {
	return serializer.Machine(&m.Item, m.Policy)
}

func (s *Server) listMachines(c echo.Context) error {
	f, err := machineFilter(c.QueryParams())
	if err != nil {
		return err
	}
	return s.pageMachines(c, f)
}

// pageMachines renders a page of the machines f picks.
func (s *Server) pageMachines(c echo.Context, f machine.Filter) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]machine.WithPolicy[machine.Machine], int64, error) {
		return s.Machines.List(ctx, who, t, f, p)
	}, machineNode)
}

func (s *Server) showMachine(c echo.Context) error {
	m, pol, err := s.Machines.Find(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Machine(m, pol), nil)
}

func (s *Server) showMachineOwner(c echo.Context) error {
	u, err := s.Machines.Owner(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderUser(c, u)
}

func (s *Server) updateMachine(c echo.Context) error {
	p, req, err := attributes[machine.Params](s, c, machineResource)
	if err != nil {
		return err
	}
	if err := req.PermitRelationships(); err != nil {
		return err
	}
	m, pol, err := s.Machines.Update(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Machine(m, pol), nil)
}

func (s *Server) deactivateMachine(c echo.Context) error {
	if err := s.Machines.Deactivate(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c)); err != nil {
		return err
	}
	s.record(c, analytics.Signal{Kind: analytics.Deactivation}, "")
	return noContent(c)
}

func (s *Server) pingMachine(c echo.Context) error  { return s.heartbeat(c, false) }
func (s *Server) resetMachine(c echo.Context) error { return s.heartbeat(c, true) }

func (s *Server) heartbeat(c echo.Context, reset bool) error {
	m, pol, err := s.Machines.Heartbeat(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), reset)
	if err != nil {
		return err
	}
	s.recordMachine(c, analytics.Heartbeat, m, "")
	return s.renderOne(c, http.StatusOK, serializer.Machine(m, pol), nil)
}

var componentResource = document.Resource{Singular: "component", Plural: "components"}

func (s *Server) listMachineComponents(c echo.Context) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]machine.Component, int64, error) {
		return s.Machines.ListComponents(ctx, who, t, pathRef(c), p)
	}, serializer.Component)
}

// machineLinked decodes a request document of resource r whose one
// relationship is its machine, returning the machine's id (empty when
// absent).
func machineLinked[P any](s *Server, c echo.Context, r document.Resource) (P, string, error) {
	p, req, err := attributes[P](s, c, r)
	if err != nil {
		return p, "", err
	}
	if err := req.PermitRelationships("machine"); err != nil {
		return p, "", err
	}
	link, err := req.ToOne("machine", machineResource)
	if err != nil || link == nil {
		return p, "", err
	}
	return p, link.ID, nil
}

// createComponent is POST /components with relationships.machine.
func (s *Server) createComponent(c echo.Context) error {
	p, machineRef, err := machineLinked[machine.ComponentParams](s, c, componentResource)
	if err != nil {
		return err
	}
	comp, err := s.Machines.AddComponent(c.Request().Context(), principalOf(c), tenantOf(c), machineRef, p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.Component(comp), nil)
}

func (s *Server) deleteComponent(c echo.Context) error {
	if err := s.Machines.RemoveComponent(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c)); err != nil {
		return err
	}
	return noContent(c)
}

// updateComponent is PATCH (or PUT) /components/:id: its name and metadata.
func (s *Server) updateComponent(c echo.Context) error {
	return updateRecord(s, c, componentResource, s.Machines.UpdateComponent, serializer.Component)
}

// generateProof is POST /machines/:id/actions/generate-offline-proof
// (Keygen's v1x0 proofs#create): the machine, with meta.proof signed over
// meta.dataset or the default dataset.
func (s *Server) generateProof(c echo.Context) error {
	m, err := meta[struct {
		Dataset *map[string]any `json:"dataset"`
	}](s, c, machineResource)
	if err != nil {
		return err
	}
	var dataset map[string]any
	if m.Dataset != nil {
		dataset = *m.Dataset
	}
	g, err := s.Proofs.Generate(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), dataset, m.Dataset != nil)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Machine(g.Machine, g.Policy), &jsonapi.Meta{"proof": g.Proof})
}
