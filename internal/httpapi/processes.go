package httpapi

import (
	"net/http"
	"time"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/policy"
)

var processResource = document.Resource{Singular: "process", Plural: "processes"}

// spawnProcess is POST /processes with relationships.machine.
func (s *Server) spawnProcess(c echo.Context) error {
	if principalOf(c) == nil {
		return access.ErrTokenMissing
	}
	req, err := s.decode(c, processResource, true)
	if err != nil {
		return err
	}
	var p machine.ProcessParams
	if err := req.DecodeAttributes(&p); err != nil {
		return err
	}
	if err := req.PermitRelationships("machine"); err != nil {
		return err
	}
	ref := ""
	if link, err := req.ToOne("machine", machineResource); err != nil {
		return err
	} else if link != nil {
		ref = link.ID
	}
	proc, pol, err := s.Machines.Spawn(c.Request().Context(), principalOf(c), tenantOf(c), ref, p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, processNode(proc, pol), nil)
}

func (s *Server) showProcess(c echo.Context) error {
	proc, pol, err := s.Machines.FindProcess(c.Request().Context(), principalOf(c), tenantOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, processNode(proc, pol), nil)
}

func (s *Server) pingProcess(c echo.Context) error {
	proc, pol, err := s.Machines.PingProcess(c.Request().Context(), principalOf(c), tenantOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, processNode(proc, pol), nil)
}

func (s *Server) killProcess(c echo.Context) error {
	if err := s.Machines.KillProcess(c.Request().Context(), principalOf(c), c.Param("id")); err != nil {
		return err
	}
	return noContent(c)
}

func (s *Server) listMachineProcesses(c echo.Context) error {
	ctx, who := c.Request().Context(), principalOf(c)
	processes, err := s.Machines.Processes(ctx, who, pathRef(c))
	if err != nil {
		return err
	}
	nodes := make([]*jsonapi.Node, len(processes))
	for i := range processes {
		pol, err := s.Policies.Get(ctx, processes[i].AccountID, processes[i].PolicyID)
		if err != nil {
			return err
		}
		nodes[i] = processNode(&processes[i], pol)
	}
	return s.renderMany(c, nodes, nil)
}

func processNode(p *machine.Process, pol *policy.Policy) *jsonapi.Node {
	base := document.AccountPath(p.AccountID)
	next := p.LastHeartbeatAt.Add(time.Duration(pol.HeartbeatSeconds()) * time.Second)
	return &jsonapi.Node{
		Type: "processes",
		ID:   p.ID,
		Attributes: map[string]any{
			"pid":           p.PID,
			"status":        p.Status(pol, time.Now()),
			"interval":      pol.HeartbeatSeconds(),
			"lastHeartbeat": document.Time(p.LastHeartbeatAt),
			"nextHeartbeat": document.Time(next),
			"metadata":      document.Metadata(p.Metadata),
			"created":       document.Time(p.CreatedAt),
			"updated":       document.Time(p.UpdatedAt),
		},
		Relationships: map[string]any{
			"account": document.ToOne("accounts", p.AccountID, base),
			"machine": document.ToOne("machines", p.MachineID, base+"/machines/"+p.MachineID),
			"license": document.ToOne("licenses", p.LicenseID, base+"/licenses/"+p.LicenseID),
		},
		Links: &jsonapi.Links{"self": base + "/processes/" + p.ID},
	}
}
