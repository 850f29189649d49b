package httpapi

import (
	"net/http"

	"github.com/relkey/relkey/internal/serializer"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/machine"
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
	return s.renderOne(c, http.StatusCreated, serializer.Process(proc, pol), nil)
}

func (s *Server) showProcess(c echo.Context) error {
	proc, pol, err := s.Machines.FindProcess(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Process(proc, pol), nil)
}

func (s *Server) pingProcess(c echo.Context) error {
	proc, pol, err := s.Machines.PingProcess(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Process(proc, pol), nil)
}

func (s *Server) killProcess(c echo.Context) error {
	if err := s.Machines.KillProcess(c.Request().Context(), principalOf(c), pathRef(c)); err != nil {
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
		nodes[i] = serializer.Process(&processes[i], pol)
	}
	return s.renderMany(c, nodes, nil)
}
