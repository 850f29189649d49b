package serializer

import (
	"time"

	"github.com/google/jsonapi"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/policy"
)

// Machine renders a machine with its license's policy (heartbeat attributes).
func Machine(m *machine.Machine, pol *policy.Policy) *jsonapi.Node {
	base := document.AccountPath(m.AccountID)
	self := base + "/machines/" + m.ID
	now := time.Now()
	return &jsonapi.Node{
		Type: "machines",
		ID:   m.ID,
		Attributes: map[string]any{
			"fingerprint":       m.Fingerprint,
			"name":              m.Name,
			"hostname":          m.Hostname,
			"ip":                m.IP,
			"platform":          m.Platform,
			"cores":             m.Cores,
			"memory":            m.Memory,
			"disk":              m.Disk,
			"requireHeartbeat":  pol.RequireHeartbeat,
			"heartbeatStatus":   m.HeartbeatStatus(pol, now),
			"heartbeatDuration": pol.HeartbeatSeconds(),
			"maxProcesses":      pol.MaxProcesses,
			"lastHeartbeat":     document.OptionalTime(m.LastHeartbeatAt),
			"nextHeartbeat":     document.OptionalTime(m.NextHeartbeat(pol)),
			"lastCheckOut":      nil,
			"metadata":          document.Metadata(m.Metadata),
			"created":           document.Time(m.CreatedAt),
			"updated":           document.Time(m.UpdatedAt),
		},
		Relationships: map[string]any{
			"account":    document.ToOne("accounts", m.AccountID, base),
			"product":    document.ToOne("products", m.ProductID, base+"/products/"+m.ProductID),
			"license":    document.ToOne("licenses", m.LicenseID, base+"/licenses/"+m.LicenseID),
			"owner":      owner(m.OwnerID, self),
			"group":      memberGroup(m.GroupID, self),
			"components": document.ToMany(self + "/components"),
			"processes":  document.ToMany(self + "/processes"),
		},
		Links: &jsonapi.Links{"self": self},
	}
}

// Component renders a machine component.
func Component(comp *machine.Component) *jsonapi.Node {
	base := document.AccountPath(comp.AccountID)
	return &jsonapi.Node{
		Type: "components",
		ID:   comp.ID,
		Attributes: map[string]any{
			"fingerprint": comp.Fingerprint,
			"name":        comp.Name,
			"metadata":    document.Metadata(comp.Metadata),
			"created":     document.Time(comp.CreatedAt),
			"updated":     document.Time(comp.UpdatedAt),
		},
		Relationships: map[string]any{
			"account": document.ToOne("accounts", comp.AccountID, base),
			"machine": document.ToOne("machines", comp.MachineID, base+"/machines/"+comp.MachineID),
			"license": document.ToOne("licenses", comp.LicenseID, base+"/licenses/"+comp.LicenseID),
		},
		Links: &jsonapi.Links{"self": base + "/components/" + comp.ID},
	}
}

// Process renders a process with its license's policy (heartbeat interval).
func Process(p *machine.Process, pol *policy.Policy) *jsonapi.Node {
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
