package httpapi

import (
	"context"

	"github.com/google/jsonapi"
	"github.com/labstack/echo/v4"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/serializer"
)

// licenseRenderer renders licenses with their policy and machine totals,
// loading each policy once and the totals of a list in one query.
type licenseRenderer struct {
	s        *Server
	ctx      context.Context
	policies map[string]*policy.Policy
	stats    map[string]machine.Stats
}

func (s *Server) licenseRenderer(ctx context.Context) *licenseRenderer {
	return &licenseRenderer{s: s, ctx: ctx, policies: map[string]*policy.Policy{}, stats: map[string]machine.Stats{}}
}

// prefetch loads the machine totals of licenses in one query.
func (lr *licenseRenderer) prefetch(licenses []license.License) error {
	ids := make([]string, len(licenses))
	for i := range licenses {
		ids[i] = licenses[i].ID
	}
	stats, err := lr.s.Machines.StatsOf(lr.ctx, ids)
	for _, id := range ids {
		lr.stats[id] = stats[id]
	}
	return err
}

func (lr *licenseRenderer) node(l *license.License) (*jsonapi.Node, error) {
	pol, ok := lr.policies[l.PolicyID]
	if !ok {
		var err error
		if pol, err = lr.s.Policies.Get(lr.ctx, l.AccountID, l.PolicyID); err != nil {
			return nil, err
		}
		lr.policies[l.PolicyID] = pol
	}
	if _, ok := lr.stats[l.ID]; !ok {
		if err := lr.prefetch([]license.License{*l}); err != nil {
			return nil, err
		}
	}
	return serializer.License(l, pol, lr.stats[l.ID]), nil
}

// nodes renders a list of licenses, their machine totals loaded at once.
func (lr *licenseRenderer) nodes(licenses []license.License) ([]*jsonapi.Node, error) {
	if err := lr.prefetch(licenses); err != nil {
		return nil, err
	}
	nodes := make([]*jsonapi.Node, len(licenses))
	for i := range licenses {
		var err error
		if nodes[i], err = lr.node(&licenses[i]); err != nil {
			return nil, err
		}
	}
	return nodes, nil
}

func (s *Server) renderLicenseValue(c echo.Context, status int, l *license.License, meta *jsonapi.Meta) error {
	node, err := s.licenseRenderer(c.Request().Context()).node(l)
	if err != nil {
		return err
	}
	return s.renderOne(c, status, node, meta)
}
