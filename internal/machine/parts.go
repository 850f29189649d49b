package machine

import (
	"context"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/page"
)

// PartFilter picks components or processes (Keygen's /components and
// /processes has_scope filters): by their product, machine or license, or
// by their machine's owner or user.
type PartFilter struct {
	ProductID, MachineID, LicenseID string
	OwnerID                         string
	UserID                          string // owned by the user or of a license the user holds
	// Status picks ALIVE or DEAD processes by their heartbeat (any other
	// matches nothing); components have none.
	Status string
	// Now is the time statuses are read at (the service sets it).
	Now time.Time
}

// FindComponent returns a component whose machine who may see.
func (s *Service) FindComponent(ctx context.Context, who *access.Principal, t *account.Tenant, componentID string) (*Component, error) {
	return partInSight(ctx, s, who, t, "component", componentID, "component.read", s.store.FindComponent, func(c *Component) string { return c.MachineID })
}

// partInSight finds a component or process (kind) by id and returns it
// when who may see its machine (else NOT_FOUND) and holds permission.
func partInSight[T any](ctx context.Context, s *Service, who *access.Principal, t *account.Tenant, kind, id, permission string,
	find func(ctx context.Context, accountID, id string) (*T, error), machineOf func(*T) string) (*T, error) {
	if who == nil {
		return nil, access.ErrTokenMissing
	}
	part, err := find(ctx, t.ID, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.Find(ctx, t.ID, machineOf(part), access.ScopeOf(who)); apperr.Is(err, apperr.NotFound) {
		return nil, apperr.NotFoundResource(kind, id)
	} else if err != nil {
		return nil, err
	}
	return part, who.Require(permission)
}

// AllComponents returns a page of the components of the machines who may
// see, newest first unless asked otherwise.
func (s *Service) AllComponents(ctx context.Context, who *access.Principal, t *account.Tenant, f PartFilter, p page.Request) ([]Component, int64, error) {
	if err := who.Require("component.read"); err != nil {
		return nil, 0, err
	}
	return listParts[Component](s.store, ctx, t.ID, access.ScopeOf(who), f, p)
}

// AllProcesses returns a page of the processes of the machines who may
// see, each with its policy.
func (s *Service) AllProcesses(ctx context.Context, who *access.Principal, t *account.Tenant, f PartFilter, p page.Request) ([]WithPolicy[Process], int64, error) {
	if err := who.Require("process.read"); err != nil {
		return nil, 0, err
	}
	f.Now = s.now().UTC()
	procs, total, err := listParts[Process](s.store, ctx, t.ID, access.ScopeOf(who), f, p)
	if err != nil {
		return nil, 0, err
	}
	out, err := withPolicies(ctx, s.policies, procs, (*Process).policyRef)
	return out, total, err
}

// listParts lists the components or processes of the machines in scope
// that the filter picks.
func listParts[T any](s *Store, ctx context.Context, accountID string, sc access.Scope, f PartFilter, p page.Request) ([]T, int64, error) {
	var zero T
	machines := s.scoped(ctx, accountID, sc).Model(&Machine{}).Select("id")
	if f.OwnerID != "" {
		machines = machines.Where("owner_id = ?", f.OwnerID)
	}
	if f.UserID != "" {
		machines = machines.Where("(owner_id = ? OR license_id IN ("+database.LicensesOfUser+"))", f.UserID, accountID, f.UserID, f.UserID)
	}
	q := s.db.Conn(ctx).Model(&zero).Where("account_id = ? AND machine_id IN (?)", accountID, machines)
	for column, value := range map[string]string{"product_id": f.ProductID, "machine_id": f.MachineID, "license_id": f.LicenseID} {
		if value != "" {
			q = q.Where(column+" = ?", value)
		}
	}
	if f.Status != "" {
		alive := s.beating("processes.last_heartbeat_at", "processes.policy_id")
		q = heartbeatIs(q, f.Status, alive, "NOT "+alive, f.Now)
	}
	return database.Paginate[T](q, p)
}
