package machine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
)

// Process is a running instance of the software on a machine, identified
// by its pid; it lives while it pings.
type Process struct {
	ID              string `gorm:"primaryKey"`
	AccountID       string
	MachineID       string
	LicenseID       string
	PolicyID        string
	ProductID       string
	OwnerID         *string
	PID             string `gorm:"column:pid"`
	LastHeartbeatAt time.Time
	ResurrectedAt   *time.Time
	Metadata        map[string]any `gorm:"serializer:json"`
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Process statuses.
const (
	ProcessAlive       = "ALIVE"
	ProcessDead        = "DEAD"
	ProcessResurrected = "RESURRECTED"
)

// Status is ALIVE while the last ping is within the heartbeat duration
// (RESURRECTED right after a revival).
func (p *Process) Status(pol *policy.Policy, now time.Time) string {
	switch {
	case p.LastHeartbeatAt.Add(time.Duration(pol.HeartbeatSeconds()) * time.Second).Before(now):
		return ProcessDead
	case p.ResurrectedAt != nil:
		return ProcessResurrected
	}
	return ProcessAlive
}

// ProcessParams are a process's writable attributes.
type ProcessParams struct {
	PID      optional.Value[string]         `json:"pid"`
	Metadata optional.Value[map[string]any] `json:"metadata"`
}

// Spawn starts a process on a machine who may see, within the process
// limit of the policy's leasing strategy (per machine, license or user).
func (s *Service) Spawn(ctx context.Context, who *access.Principal, t *account.Tenant, machineRef string, p ProcessParams) (*Process, *policy.Policy, error) {
	if err := who.Require("process.create"); err != nil {
		return nil, nil, err
	}
	pid := strings.TrimSpace(p.PID.V)
	if pid == "" {
		return nil, nil, apperr.Attribute("pid", "MISSING", "can't be blank")
	}
	if len(pid) > 255 {
		return nil, nil, apperr.Attribute("pid", "TOO_LONG", "is too long (maximum is 255 characters)")
	}
	m, err := linkedMachine(machineRef, func(ref string) (*Machine, error) { return s.Visible(ctx, who, t, ref) })
	if err != nil {
		return nil, nil, err
	}
	l, pol, err := s.licenses.Visible(ctx, who, t, m.LicenseID)
	if err != nil {
		return nil, nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	proc := &Process{ID: id.New(), AccountID: m.AccountID, MachineID: m.ID, LicenseID: m.LicenseID, PolicyID: m.PolicyID,
		ProductID: m.ProductID, OwnerID: m.OwnerID, PID: pid, LastHeartbeatAt: now, Metadata: map[string]any{}, CreatedAt: now}
	p.Metadata.Apply(&proc.Metadata)
	if proc.Metadata == nil {
		proc.Metadata = map[string]any{}
	}
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.Lock(ctx, l.ID); err != nil {
			return err
		}
		if err := s.checkProcessLimit(ctx, proc, l, pol, now); err != nil {
			return err
		}
		if err := s.store.CreateProcess(ctx, proc); err != nil {
			return err
		}
		return s.tx.Emit(ctx, processOccurred(who, event.ProcessCreated, proc, pol))
	})
	if err != nil {
		return nil, nil, err
	}
	return proc, pol, nil
}

// linkedMachine finds the machine a request's machine relationship names
// (ref, empty when absent): absent or not found is MACHINE_NOT_FOUND.
func linkedMachine(ref string, find func(ref string) (*Machine, error)) (*Machine, error) {
	notFound := apperr.At(apperr.Unprocessable, "MACHINE_NOT_FOUND", "must exist", apperr.Rel("machine"))
	if ref == "" {
		return nil, notFound
	}
	m, err := find(ref)
	if apperr.Is(err, apperr.NotFound) {
		return nil, notFound
	}
	return m, err
}

// ProcessFilter picks the processes of a license a process limit counts:
// all of them, one owner's, or one machine's.
type ProcessFilter struct {
	LicenseID string
	// PerOwner counts only the processes of OwnerID; a nil OwnerID counts
	// those without an owner.
	PerOwner bool
	OwnerID  *string
	// MachineID, when set, counts only the machine's processes.
	MachineID string
}

// LeasedProcesses is the filter of a process leasing strategy for a
// process of the license, owner and machine given; per machine is the
// default.
func LeasedProcesses(strategy, licenseID string, ownerID *string, machineID string) ProcessFilter {
	switch strategy {
	case policy.PerLicense:
		return ProcessFilter{LicenseID: licenseID}
	case policy.PerUser:
		return ProcessFilter{LicenseID: licenseID, PerOwner: true, OwnerID: ownerID}
	}
	return ProcessFilter{LicenseID: licenseID, MachineID: machineID}
}

// per names what the filter counts per, as limit errors say it.
func (f ProcessFilter) per() string {
	switch {
	case f.PerOwner:
		return "user"
	case f.MachineID != "":
		return "machine"
	}
	return "license"
}

func (s *Service) checkProcessLimit(ctx context.Context, proc *Process, l *license.License, pol *policy.Policy, now time.Time) error {
	max := license.Effective(l.MaxProcesses, pol.MaxProcesses)
	if max == nil {
		return nil
	}
	f := LeasedProcesses(pol.ProcessLeasingStrategy, proc.LicenseID, proc.OwnerID, proc.MachineID)
	alive := now.Add(-time.Duration(pol.HeartbeatSeconds()) * time.Second)
	n, err := s.store.CountAliveProcesses(ctx, f, alive)
	if err != nil {
		return err
	}
	if Exceeds(n+1, *max, pol.OverageStrategy) {
		return apperr.At(apperr.Unprocessable, "MACHINE_PROCESS_LIMIT_EXCEEDED",
			fmt.Sprintf("process count has exceeded maximum allowed for %s (%d)", f.per(), *max), apperr.Record())
	}
	return nil
}

// visibleProcess returns a process whose machine who may see.
func (s *Service) visibleProcess(ctx context.Context, who *access.Principal, t *account.Tenant, processID, permission string) (*Process, error) {
	return partInSight(ctx, s, who, t, "process", processID, permission, s.store.FindProcess, func(p *Process) string { return p.MachineID })
}

// FindProcess returns a process who may read, with its policy.
func (s *Service) FindProcess(ctx context.Context, who *access.Principal, t *account.Tenant, processID string) (*Process, *policy.Policy, error) {
	proc, err := s.visibleProcess(ctx, who, t, processID, "process.read")
	if err != nil {
		return nil, nil, err
	}
	_, pol, err := s.licenses.Visible(ctx, who, t, proc.LicenseID)
	return proc, pol, err
}

// PingProcess records a process heartbeat; a dead process is revived only
// within its policy's resurrection window.
func (s *Service) PingProcess(ctx context.Context, who *access.Principal, t *account.Tenant, processID string) (*Process, *policy.Policy, error) {
	proc, err := s.visibleProcess(ctx, who, t, processID, "process.heartbeat.ping")
	if err != nil {
		return nil, nil, err
	}
	_, pol, err := s.licenses.Visible(ctx, who, t, proc.LicenseID)
	if err != nil {
		return nil, nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	proc.ResurrectedAt = nil
	if proc.Status(pol, now) == ProcessDead {
		if !revivable(&Machine{LastHeartbeatAt: &proc.LastHeartbeatAt}, pol, now) {
			return nil, nil, apperr.At(apperr.Unprocessable, "PROCESS_HEARTBEAT_DEAD", "is dead", apperr.Record())
		}
		proc.ResurrectedAt = &now
	}
	proc.LastHeartbeatAt = now
	err = s.tx.Change(ctx, func(ctx context.Context) error { return s.store.SaveProcess(ctx, proc) },
		func() event.Occurrence { return processOccurred(who, event.ProcessHeartbeatPing, proc, pol) })
	if err != nil {
		return nil, nil, err
	}
	return proc, pol, nil
}

func processOccurred(who *access.Principal, name string, proc *Process, pol *policy.Policy) event.Occurrence {
	return event.Occurrence{Event: name, AccountID: proc.AccountID, Resource: &WithPolicy[Process]{Item: *proc, Policy: pol}, Who: who}
}

// KillProcess deletes a process.
func (s *Service) KillProcess(ctx context.Context, who *access.Principal, t *account.Tenant, processID string) error {
	proc, err := s.visibleProcess(ctx, who, t, processID, "process.delete")
	if err != nil {
		return err
	}
	pol, err := s.policies.Get(ctx, proc.AccountID, proc.PolicyID)
	if err != nil {
		return err
	}
	return s.tx.Change(ctx, func(ctx context.Context) error { return s.store.DeleteProcess(ctx, proc) },
		func() event.Occurrence { return processOccurred(who, event.ProcessDeleted, proc, pol) })
}

// ListProcesses returns a page of the processes of a machine who may see,
// oldest first, each with its policy.
func (s *Service) ListProcesses(ctx context.Context, who *access.Principal, t *account.Tenant, machineRef string, p page.Request) ([]WithPolicy[Process], int64, error) {
	m, err := s.visible(ctx, who, t, machineRef, "process.read")
	if err != nil {
		return nil, 0, err
	}
	processes, total, err := s.store.ListProcesses(ctx, m.ID, p)
	if err != nil {
		return nil, 0, err
	}
	out, err := withPolicies(ctx, s.policies, processes, (*Process).policyRef)
	return out, total, err
}

// policyRef names the process's policy.
func (p *Process) policyRef() (accountID, policyID string) { return p.AccountID, p.PolicyID }
