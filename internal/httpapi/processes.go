package httpapi

import (
	"context"
	"net/http"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/serializer"
)

var processResource = document.Resource{Singular: "process", Plural: "processes"}

// spawnProcess is POST /processes with relationships.machine.
func (s *Server) spawnProcess(c echo.Context) error {
	p, machineRef, err := machineLinked[machine.ProcessParams](s, c, processResource)
	if err != nil {
		return err
	}
	proc, pol, err := s.Machines.Spawn(c.Request().Context(), principalOf(c), tenantOf(c), machineRef, p)
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
	s.recordProcess(c, proc)
	return s.renderOne(c, http.StatusOK, serializer.Process(proc, pol), nil)
}

func (s *Server) killProcess(c echo.Context) error {
	if err := s.Machines.KillProcess(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c)); err != nil {
		return err
	}
	return noContent(c)
}

func (s *Server) listMachineProcesses(c echo.Context) error {
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]machine.WithPolicy[machine.Process], int64, error) {
		return s.Machines.ListProcesses(ctx, who, t, pathRef(c), p)
	}, processNode)
}

// processNode renders a listed process with its policy.
func processNode(p *machine.WithPolicy[machine.Process]) *jsonapi.Node {
	return serializer.Process(&p.Item, p.Policy)
}

// updateProcess is PATCH (or PUT) /processes/:id: its metadata.
func (s *Server) updateProcess(c echo.Context) error {
	p, err := attributesOnly[machine.ProcessParams](s, c, processResource)
	if err != nil {
		return err
	}
	proc, pol, err := s.Machines.UpdateProcess(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c), p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusOK, serializer.Process(proc, pol), nil)
}
