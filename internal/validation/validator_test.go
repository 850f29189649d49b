package validation

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/policy"
)

const (
	accountID = "acct"
	productID = "prod"
	policyID  = "pol"
	licenseID = "lic"
	ownerID   = "owner"
	otherID   = "other"
)

// basePolicy has the defaults a created policy stores.
func basePolicy() *policy.Policy {
	return &policy.Policy{
		ID: policyID, AccountID: accountID, ProductID: productID,
		HeartbeatBasis: policy.HeartbeatFromFirstPing, HeartbeatCullStrategy: policy.KeepDead, HeartbeatResurrectionStrategy: policy.NoRevive,
		MachineUniquenessStrategy: policy.UniquePerLicense, MachineMatchingStrategy: policy.MatchAny,
		ComponentUniquenessStrategy: policy.UniquePerMachine, ComponentMatchingStrategy: policy.MatchAny,
		ExpirationStrategy: policy.RestrictAccess, ExpirationBasis: policy.FromCreation,
		MachineLeasingStrategy: policy.PerLicense, ProcessLeasingStrategy: policy.PerMachine, OverageStrategy: policy.NoOverage,
	}
}

func baseLicense() *license.License {
	return &license.License{ID: licenseID, AccountID: accountID, ProductID: productID, PolicyID: policyID, OwnerID: ref(ownerID),
		Key: "KEY", CreatedAt: clock.Add(-48 * time.Hour)}
}

// pinged is a machine of the license last pinged ago (never when ago < 0).
func pinged(id, fingerprint string, owner *string, ago time.Duration) machine.Machine {
	m := machine.Machine{ID: id, AccountID: accountID, LicenseID: licenseID, PolicyID: policyID, ProductID: productID,
		OwnerID: owner, Fingerprint: fingerprint, CreatedAt: clock.Add(-48 * time.Hour)}
	if ago >= 0 {
		m.LastHeartbeatAt = at(-ago)
	}
	return m
}

// sized is a recently pinged machine with cores, memory and disk.
func sized(id string, cores, memory, disk int64) machine.Machine {
	m := pinged(id, id, nil, time.Minute)
	m.Cores, m.Memory, m.Disk = &cores, &memory, &disk
	return m
}

// running is a process of the license on machineID last pinged ago.
func running(machineID string, owner *string, ago time.Duration) machine.Process {
	return machine.Process{AccountID: accountID, LicenseID: licenseID, MachineID: machineID, OwnerID: owner, LastHeartbeatAt: clock.Add(-ago)}
}

func component(machineID, fingerprint string) machine.Component {
	return machine.Component{MachineID: machineID, LicenseID: licenseID, Fingerprint: fingerprint}
}

var (
	m1, m2, m3 = pinged("m1", "fp1", ref(ownerID), time.Minute), pinged("m2", "fp2", ref(ownerID), time.Minute), pinged("m3", "fp3", nil, time.Minute)
	deadM1     = pinged("m1", "fp1", nil, time.Hour)
	freshM1    = pinged("m1", "fp1", nil, -1)
)

func fingerprints(fps ...string) Scope { return Scope{Fingerprints: optional.Of(fps)} }

func TestValidatorRunsKeygensOrderedChecks(t *testing.T) {
	strict := func(p *policy.Policy) { p.Strict = true }
	floating := func(max int64) func(*policy.Policy) {
		return func(p *policy.Policy) { p.Strict, p.Floating, p.MaxMachines = true, true, &max }
	}
	expired := func(l *license.License) { l.Expiry = at(-time.Hour) }
	expiring := func(strategy string) func(*policy.Policy) {
		return func(p *policy.Policy) { p.ExpirationStrategy = strategy }
	}
	overage := func(strategy string, then func(*policy.Policy)) func(*policy.Policy) {
		return func(p *policy.Policy) { p.OverageStrategy = strategy; then(p) }
	}
	processes := func(max int64, strategy string) func(*policy.Policy) {
		return func(p *policy.Policy) {
			p.Strict, p.Floating, p.MaxMachines, p.MaxProcesses, p.ProcessLeasingStrategy = true, true, ref[int64](10), &max, strategy
		}
	}
	users := func(max int64) func(*policy.Policy) { return func(p *policy.Policy) { p.MaxUsers = &max } }
	requireHeartbeat := func(p *policy.Policy) { p.RequireHeartbeat = true }
	fp1 := Scope{Fingerprint: optional.Of("fp1")}
	onM1 := Scope{Machine: optional.Of("m1")}
	threeProcesses := []machine.Process{running("m1", ref(ownerID), 0), running("m1", ref(ownerID), 0), running("m2", nil, 0)}

	tests := []struct {
		name    string
		policy  func(*policy.Policy)
		license func(*license.License)
		world   world
		scope   Scope
		quick   bool
		valid   bool
		code    string
		// counted, when set, is what the process check counted.
		counted []machine.ProcessFilter
	}{
		{name: "valid", valid: true, code: "VALID"},

		// License state comes first, banned before suspended.
		{name: "banned", license: func(l *license.License) { l.OwnerBanned, l.Suspended = true, true }, code: "BANNED"},
		{name: "suspended", license: func(l *license.License) { l.Suspended = true }, code: "SUSPENDED"},
		{name: "expired, revoke access: before any scope", policy: expiring(policy.RevokeAccess), license: expired,
			scope: Scope{Product: optional.Of("nope")}, code: "EXPIRED"},
		{name: "expired, restrict access", policy: expiring(policy.RestrictAccess), license: expired, code: "EXPIRED"},
		{name: "expired, maintain access", policy: expiring(policy.MaintainAccess), license: expired, valid: true, code: "EXPIRED"},
		{name: "expired, allow access", policy: expiring(policy.AllowAccess), license: expired, valid: true, code: "EXPIRED"},
		{name: "expired, restrict access: scopes first", policy: expiring(policy.RestrictAccess), license: expired,
			scope: Scope{Product: optional.Of("nope")}, code: "PRODUCT_SCOPE_MISMATCH"},
		{name: "expired, strict: machines first", policy: func(p *policy.Policy) { p.Strict = true; p.ExpirationStrategy = policy.AllowAccess },
			license: expired, code: "NO_MACHINE"},
		{name: "expired, strict, machine: expiry last", policy: func(p *policy.Policy) { p.Strict = true; p.ExpirationStrategy = policy.AllowAccess },
			license: expired, world: world{machines: []machine.Machine{m1}}, valid: true, code: "EXPIRED"},
		{name: "expires later", license: func(l *license.License) { l.Expiry = at(time.Hour) }, valid: true, code: "VALID"},
		{name: "overdue check-in",
			policy: func(p *policy.Policy) {
				p.RequireCheckIn, p.CheckInInterval, p.CheckInIntervalCount = true, ref("day"), ref[int64](1)
			},
			license: func(l *license.License) { l.LastCheckInAt = at(-25 * time.Hour) }, code: "OVERDUE"},
		{name: "checked in on time",
			policy: func(p *policy.Policy) {
				p.RequireCheckIn, p.CheckInInterval, p.CheckInIntervalCount = true, ref("week"), ref[int64](1)
			},
			license: func(l *license.License) { l.LastCheckInAt = at(-25 * time.Hour) }, valid: true, code: "VALID"},

		// Scopes, in order; quick skips them all.
		{name: "quick skips scopes", scope: Scope{Product: optional.Of("nope")}, quick: true, valid: true, code: "VALID"},
		{name: "environment", scope: Scope{Environment: optional.Of(ref("production"))}, code: "ENVIRONMENT_SCOPE_MISMATCH"},
		{name: "environment null", scope: Scope{Environment: optional.Of[*string](nil)}, valid: true, code: "VALID"},
		{name: "product mismatch", scope: Scope{Product: optional.Of("nope")}, code: "PRODUCT_SCOPE_MISMATCH"},
		{name: "product required", policy: func(p *policy.Policy) { p.RequireProductScope = true }, code: "PRODUCT_SCOPE_REQUIRED"},
		{name: "product match", policy: func(p *policy.Policy) { p.RequireProductScope = true }, scope: Scope{Product: optional.Of(productID)}, valid: true, code: "VALID"},
		{name: "policy mismatch", scope: Scope{Policy: optional.Of(productID)}, code: "POLICY_SCOPE_MISMATCH"},
		{name: "policy required", policy: func(p *policy.Policy) { p.RequirePolicyScope = true }, code: "POLICY_SCOPE_REQUIRED"},
		{name: "policy match", policy: func(p *policy.Policy) { p.RequirePolicyScope = true }, scope: Scope{Policy: optional.Of(policyID)}, valid: true, code: "VALID"},
		{name: "product before policy", scope: Scope{Product: optional.Of("nope"), Policy: optional.Of("nope")}, code: "PRODUCT_SCOPE_MISMATCH"},
		{name: "user mismatch", scope: Scope{User: optional.Of(ref(otherID))}, code: "USER_SCOPE_MISMATCH"},
		{name: "user null", scope: Scope{User: optional.Of[*string](nil)}, world: world{holders: []string{ownerID}}, code: "USER_SCOPE_MISMATCH"},
		{name: "user required", policy: func(p *policy.Policy) { p.RequireUserScope = true }, code: "USER_SCOPE_REQUIRED"},
		{name: "user match", policy: func(p *policy.Policy) { p.RequireUserScope = true }, scope: Scope{User: optional.Of(ref(ownerID))},
			world: world{holders: []string{ownerID}}, valid: true, code: "VALID"},
		{name: "entitlements empty", scope: Scope{Entitlements: optional.Of([]string{"", ""})}, code: "ENTITLEMENTS_SCOPE_EMPTY"},
		{name: "entitlements missing", scope: Scope{Entitlements: optional.Of([]string{"PRO", "SSO"})}, world: world{codes: []string{"PRO"}}, code: "ENTITLEMENTS_MISSING"},
		{name: "entitlements held", scope: Scope{Entitlements: optional.Of([]string{"PRO", "PRO"})}, world: world{codes: []string{"PRO"}}, valid: true, code: "VALID"},

		{name: "machine required", policy: func(p *policy.Policy) { p.RequireMachineScope = true }, code: "MACHINE_SCOPE_REQUIRED"},
		{name: "machine on none, node-locked", scope: onM1, code: "NO_MACHINE"},
		{name: "machine on none, floating", policy: floating(5), scope: onM1, code: "NO_MACHINES"},
		{name: "machine mismatch", scope: Scope{Machine: optional.Of("m9")}, world: world{machines: []machine.Machine{m1}}, code: "MACHINE_SCOPE_MISMATCH"},
		{name: "machine of another owner", scope: Scope{Machine: optional.Of("m3"), User: optional.Of(ref(otherID))},
			world: world{machines: []machine.Machine{m3}, holders: []string{otherID}}, code: "USER_SCOPE_MISMATCH"},
		{name: "machine of the license's owner", scope: Scope{Machine: optional.Of("m3"), User: optional.Of(ref(ownerID))},
			world: world{machines: []machine.Machine{m3}, holders: []string{ownerID}}, valid: true, code: "VALID"},
		{name: "machine heartbeat not started", policy: func(p *policy.Policy) { p.RequireHeartbeat, p.HeartbeatDuration = true, ref[int64](1<<30) },
			scope: onM1, world: world{machines: []machine.Machine{freshM1}}, code: "HEARTBEAT_NOT_STARTED"},
		{name: "machine heartbeat never started in time", policy: requireHeartbeat, scope: onM1, world: world{machines: []machine.Machine{freshM1}},
			code: "HEARTBEAT_DEAD"},
		{name: "machine heartbeat not started, optional", scope: onM1, world: world{machines: []machine.Machine{freshM1}}, valid: true, code: "VALID"},
		{name: "machine heartbeat dead", scope: onM1, world: world{machines: []machine.Machine{deadM1}}, code: "HEARTBEAT_DEAD"},
		{name: "machine match", policy: func(p *policy.Policy) { p.RequireMachineScope = true }, scope: onM1, world: world{machines: []machine.Machine{m1}}, valid: true, code: "VALID"},

		{name: "fingerprint required", policy: func(p *policy.Policy) { p.RequireFingerprintScope = true }, code: "FINGERPRINT_SCOPE_REQUIRED"},
		{name: "fingerprint empty", scope: Scope{Fingerprint: optional.Of("")}, code: "FINGERPRINT_SCOPE_EMPTY"},
		{name: "fingerprint on none", scope: fp1, code: "NO_MACHINE"},
		{name: "fingerprint mismatch", scope: Scope{Fingerprint: optional.Of("fp9")}, world: world{machines: []machine.Machine{m1}}, code: "FINGERPRINT_SCOPE_MISMATCH"},
		{name: "fingerprint heartbeat dead", scope: fp1, world: world{machines: []machine.Machine{deadM1}}, code: "HEARTBEAT_DEAD"},
		{name: "fingerprint of another owner", scope: Scope{Fingerprint: optional.Of("fp1"), User: optional.Of(ref(otherID))},
			world: world{machines: []machine.Machine{m1}, holders: []string{otherID}}, code: "USER_SCOPE_MISMATCH"},
		{name: "fingerprint heartbeat not started", policy: func(p *policy.Policy) { p.RequireHeartbeat, p.HeartbeatDuration = true, ref[int64](1<<30) },
			scope: fp1, world: world{machines: []machine.Machine{freshM1}}, code: "HEARTBEAT_NOT_STARTED"},
		{name: "fingerprint match", policy: func(p *policy.Policy) { p.RequireFingerprintScope = true }, scope: fp1, world: world{machines: []machine.Machine{m1}}, valid: true, code: "VALID"},

		// Machine matching strategies over three fingerprints, two activated.
		{name: "match any", scope: fingerprints("fp1", "fp2", "fp9"), world: world{machines: []machine.Machine{m1, m2}}, valid: true, code: "VALID"},
		{name: "match two", policy: func(p *policy.Policy) { p.MachineMatchingStrategy = policy.MatchTwo },
			scope: fingerprints("fp1", "fp2", "fp9"), world: world{machines: []machine.Machine{m1, m2}}, valid: true, code: "VALID"},
		{name: "match two, one alive", policy: func(p *policy.Policy) { p.MachineMatchingStrategy = policy.MatchTwo },
			scope: fingerprints("fp1", "fp2", "fp9"), world: world{machines: []machine.Machine{m1, pinged("m2", "fp2", nil, time.Hour)}}, code: "FINGERPRINT_SCOPE_MISMATCH"},
		{name: "match most", policy: func(p *policy.Policy) { p.MachineMatchingStrategy = policy.MatchMost },
			scope: fingerprints("fp1", "fp2", "fp9"), world: world{machines: []machine.Machine{m1, m2}}, valid: true, code: "VALID"},
		{name: "match all", policy: func(p *policy.Policy) { p.MachineMatchingStrategy = policy.MatchAll },
			scope: fingerprints("fp1", "fp2", "fp9"), world: world{machines: []machine.Machine{m1, m2}}, code: "FINGERPRINT_SCOPE_MISMATCH"},

		{name: "components need a fingerprint", scope: Scope{Components: optional.Of([]string{"c1"})}, code: "FINGERPRINT_SCOPE_REQUIRED"},
		{name: "components empty", scope: Scope{Fingerprint: optional.Of("fp1"), Components: optional.Of([]string{""})},
			world: world{machines: []machine.Machine{m1}}, code: "COMPONENTS_SCOPE_EMPTY"},
		{name: "components mismatch", scope: Scope{Fingerprint: optional.Of("fp1"), Components: optional.Of([]string{"c8", "c9"})},
			world: world{machines: []machine.Machine{m1}, components: []machine.Component{component("m1", "c1")}}, code: "COMPONENTS_SCOPE_MISMATCH"},
		{name: "components match any", scope: Scope{Fingerprint: optional.Of("fp1"), Components: optional.Of([]string{"c1", "c9"})},
			world: world{machines: []machine.Machine{m1}, components: []machine.Component{component("m1", "c1")}}, valid: true, code: "VALID"},
		{name: "components match all", policy: func(p *policy.Policy) { p.ComponentMatchingStrategy = policy.MatchAll },
			scope: Scope{Fingerprint: optional.Of("fp1"), Components: optional.Of([]string{"c1", "c9"})},
			world: world{machines: []machine.Machine{m1}, components: []machine.Component{component("m1", "c1")}}, code: "COMPONENTS_SCOPE_MISMATCH"},
		{name: "components of another machine", scope: Scope{Fingerprint: optional.Of("fp1"), Components: optional.Of([]string{"c2"})},
			world: world{machines: []machine.Machine{m1, m2}, components: []machine.Component{component("m2", "c2")}}, code: "COMPONENTS_SCOPE_MISMATCH"},
		{name: "components required", policy: func(p *policy.Policy) { p.RequireComponentsScope = true }, code: "COMPONENTS_SCOPE_REQUIRED"},

		{name: "checksum mismatch", scope: Scope{Checksum: optional.Of("abc")}, code: "CHECKSUM_SCOPE_MISMATCH"},
		{name: "checksum required", policy: func(p *policy.Policy) { p.RequireChecksumScope = true }, code: "CHECKSUM_SCOPE_REQUIRED"},
		{name: "checksum match", scope: Scope{Checksum: optional.Of("abc")}, world: world{checksums: map[string]string{"abc": "1.0.0"}}, valid: true, code: "VALID"},
		{name: "version mismatch", scope: Scope{Version: optional.Of("2.0.0")}, world: world{versions: []string{"1.0.0"}}, code: "VERSION_SCOPE_MISMATCH"},
		{name: "version required", policy: func(p *policy.Policy) { p.RequireVersionScope = true }, code: "VERSION_SCOPE_REQUIRED"},
		{name: "version match", scope: Scope{Version: optional.Of("1.0.0")}, world: world{versions: []string{"1.0.0"}}, valid: true, code: "VALID"},
		{name: "checksum before version", scope: Scope{Checksum: optional.Of("abc"), Version: optional.Of("2.0.0")}, code: "CHECKSUM_SCOPE_MISMATCH"},

		// User limits, after the scopes, with overage.
		{name: "users within limit", policy: users(2), world: world{users: 2}, valid: true, code: "VALID"},
		{name: "too many users", policy: users(1), world: world{users: 2}, code: "TOO_MANY_USERS"},
		{name: "too many users, 1.25x overage", policy: overage(policy.Allow125xOverage, users(4)), world: world{users: 5}, valid: true, code: "TOO_MANY_USERS"},
		{name: "too many users, beyond 1.25x", policy: overage(policy.Allow125xOverage, users(4)), world: world{users: 6}, code: "TOO_MANY_USERS"},
		{name: "too many users, 2x overage", policy: overage(policy.Allow2xOverage, users(1)), world: world{users: 2}, valid: true, code: "TOO_MANY_USERS"},
		{name: "too many users, always allowed", policy: overage(policy.AlwaysAllowOverage, users(1)), world: world{users: 50}, valid: true, code: "TOO_MANY_USERS"},
		{name: "too many users: scopes first", policy: users(1), world: world{users: 2}, scope: Scope{Product: optional.Of("nope")}, code: "PRODUCT_SCOPE_MISMATCH"},

		// Strict policies count machines, cores, memory and disk.
		{name: "strict, no machine", policy: strict, code: "NO_MACHINE"},
		{name: "strict, one machine", policy: strict, world: world{machines: []machine.Machine{m1}}, valid: true, code: "VALID"},
		{name: "strict, node-locked, two machines", policy: strict, world: world{machines: []machine.Machine{m1, m2}}, code: "TOO_MANY_MACHINES"},
		{name: "strict, node-locked, two machines, 2x overage", policy: overage(policy.Allow2xOverage, strict), world: world{machines: []machine.Machine{m1, m2}},
			valid: true, code: "TOO_MANY_MACHINES"},
		{name: "strict, node-locked, three machines, 2x overage", policy: overage(policy.Allow2xOverage, strict), world: world{machines: []machine.Machine{m1, m2, m3}},
			code: "TOO_MANY_MACHINES"},
		{name: "strict, node-locked, 1.5x overage does not apply", policy: overage(policy.Allow15xOverage, strict), world: world{machines: []machine.Machine{m1, m2}},
			code: "TOO_MANY_MACHINES"},
		{name: "strict, node-locked, always allowed", policy: overage(policy.AlwaysAllowOverage, strict), world: world{machines: []machine.Machine{m1, m2, m3}},
			valid: true, code: "TOO_MANY_MACHINES"},
		{name: "strict, node-locked, license allows two", policy: strict, license: func(l *license.License) { l.MaxMachines = ref[int64](2) },
			world: world{machines: []machine.Machine{m1, m2}}, valid: true, code: "VALID"},
		{name: "floating, no machines", policy: floating(2), code: "NO_MACHINES"},
		{name: "floating, within limit", policy: floating(2), world: world{machines: []machine.Machine{m1, m2}}, valid: true, code: "VALID"},
		{name: "floating, too many machines", policy: floating(2), world: world{machines: []machine.Machine{m1, m2, m3}}, code: "TOO_MANY_MACHINES"},
		{name: "floating, too many machines, 1.5x overage", policy: overage(policy.Allow15xOverage, floating(2)), world: world{machines: []machine.Machine{m1, m2, m3}},
			valid: true, code: "TOO_MANY_MACHINES"},
		{name: "per user, counts the scoped user's machines", policy: func(p *policy.Policy) { floating(1)(p); p.MachineLeasingStrategy = policy.PerUser },
			scope: Scope{User: optional.Of(ref(ownerID))}, world: world{machines: []machine.Machine{m1, m3}, holders: []string{ownerID}}, valid: true, code: "VALID"},
		{name: "per user, too many of the user's machines", policy: func(p *policy.Policy) { floating(1)(p); p.MachineLeasingStrategy = policy.PerUser },
			scope: Scope{User: optional.Of(ref(ownerID))}, world: world{machines: []machine.Machine{m1, m2, m3}, holders: []string{ownerID}}, code: "TOO_MANY_MACHINES"},
		{name: "per user, unscoped counts ownerless machines", policy: func(p *policy.Policy) { floating(1)(p); p.MachineLeasingStrategy = policy.PerUser },
			world: world{machines: []machine.Machine{m1, m2, m3}}, valid: true, code: "VALID"},
		{name: "too many cores", policy: func(p *policy.Policy) { floating(5)(p); p.MaxCores = ref[int64](8) },
			world: world{machines: []machine.Machine{sized("a", 4, 1, 1), sized("b", 8, 1, 1)}}, code: "TOO_MANY_CORES"},
		{name: "too many cores, 2x overage", policy: overage(policy.Allow2xOverage, func(p *policy.Policy) { floating(5)(p); p.MaxCores = ref[int64](8) }),
			world: world{machines: []machine.Machine{sized("a", 4, 1, 1), sized("b", 8, 1, 1)}}, valid: true, code: "TOO_MANY_CORES"},
		{name: "cores within license limit", policy: func(p *policy.Policy) { floating(5)(p); p.MaxCores = ref[int64](8) }, license: func(l *license.License) { l.MaxCores = ref[int64](12) },
			world: world{machines: []machine.Machine{sized("a", 4, 1, 1), sized("b", 8, 1, 1)}}, valid: true, code: "VALID"},
		{name: "too much memory", policy: func(p *policy.Policy) { floating(5)(p); p.MaxMemory = ref[int64](1024) },
			world: world{machines: []machine.Machine{sized("a", 1, 1024, 1), sized("b", 1, 1, 1)}}, code: "TOO_MUCH_MEMORY"},
		{name: "too much disk", policy: func(p *policy.Policy) { floating(5)(p); p.MaxDisk = ref[int64](10) },
			world: world{machines: []machine.Machine{sized("a", 1, 1, 6), sized("b", 1, 1, 6)}}, code: "TOO_MUCH_DISK"},
		{name: "cores before memory", policy: func(p *policy.Policy) { floating(5)(p); p.MaxCores, p.MaxMemory = ref[int64](1), ref[int64](1) },
			world: world{machines: []machine.Machine{sized("a", 2, 2, 1)}}, code: "TOO_MANY_CORES"},

		// Process limits, last, per the leasing strategy.
		{name: "processes per machine, by machine", policy: processes(1, policy.PerMachine), scope: onM1,
			world:   world{machines: []machine.Machine{m1, m2}, processes: threeProcesses},
			counted: []machine.ProcessFilter{{LicenseID: licenseID, MachineID: "m1"}}, code: "TOO_MANY_PROCESSES"},
		{name: "processes per machine, by fingerprint", policy: processes(2, policy.PerMachine), scope: Scope{Fingerprint: optional.Of("fp2")},
			world:   world{machines: []machine.Machine{m1, m2}, processes: threeProcesses},
			counted: []machine.ProcessFilter{{LicenseID: licenseID, MachineID: "m2"}}, valid: true, code: "VALID"},
		{name: "processes per machine, machine unknown", policy: processes(1, policy.PerMachine),
			world:   world{machines: []machine.Machine{m1, m2}, processes: threeProcesses},
			counted: []machine.ProcessFilter{}, valid: true, code: "VALID"},
		{name: "processes per machine, 2x overage", policy: overage(policy.Allow2xOverage, processes(1, policy.PerMachine)), scope: onM1,
			world: world{machines: []machine.Machine{m1, m2}, processes: threeProcesses}, valid: true, code: "TOO_MANY_PROCESSES"},
		{name: "processes per license", policy: processes(2, policy.PerLicense),
			world:   world{machines: []machine.Machine{m1, m2}, processes: threeProcesses},
			counted: []machine.ProcessFilter{{LicenseID: licenseID}}, code: "TOO_MANY_PROCESSES"},
		{name: "processes per license, dead ones do not count", policy: processes(2, policy.PerLicense),
			world: world{machines: []machine.Machine{m1, m2}, processes: append([]machine.Process{running("m1", nil, time.Hour)}, threeProcesses[1:]...)},
			valid: true, code: "VALID"},
		{name: "processes per user, the scoped user's", policy: processes(1, policy.PerUser), scope: Scope{User: optional.Of(ref(ownerID))},
			world:   world{machines: []machine.Machine{m1, m2}, processes: threeProcesses, holders: []string{ownerID}},
			counted: []machine.ProcessFilter{{LicenseID: licenseID, PerOwner: true, OwnerID: ref(ownerID)}}, code: "TOO_MANY_PROCESSES"},
		{name: "processes per user, unscoped counts ownerless", policy: processes(1, policy.PerUser),
			world:   world{machines: []machine.Machine{m1, m2}, processes: threeProcesses},
			counted: []machine.ProcessFilter{{LicenseID: licenseID, PerOwner: true}}, valid: true, code: "VALID"},
		{name: "processes only under strict policies", policy: func(p *policy.Policy) { p.MaxProcesses = ref[int64](0) },
			world: world{processes: threeProcesses}, counted: []machine.ProcessFilter{}, valid: true, code: "VALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, pol := baseLicense(), basePolicy()
			if tt.policy != nil {
				tt.policy(pol)
			}
			if tt.license != nil {
				tt.license(l)
			}
			w := tt.world
			res, err := w.validator().Validate(context.Background(), l, pol, tt.scope, tt.quick)
			if err != nil {
				t.Fatal(err)
			}
			if res.Valid != tt.valid || res.Code != tt.code || res.Detail == "" {
				t.Fatalf("got valid=%v %s (%q), want valid=%v %s", res.Valid, res.Code, res.Detail, tt.valid, tt.code)
			}
			if tt.counted != nil {
				got := w.counted
				if got == nil {
					got = []machine.ProcessFilter{}
				}
				if !reflect.DeepEqual(got, tt.counted) {
					t.Fatalf("counted processes by %+v, want %+v", got, tt.counted)
				}
			}
		})
	}
}

func TestValidatorReportsWhatItLoaded(t *testing.T) {
	tests := []struct {
		name     string
		strict   bool
		scope    Scope
		machines *machine.Stats
		version  string
	}{
		{name: "nothing loaded"},
		{name: "a fingerprint scope loads the totals", scope: Scope{Fingerprint: optional.Of("a")}, machines: &machine.Stats{Count: 1, Cores: 2, Memory: 3, Disk: 4}},
		{name: "strict loads the totals", strict: true, machines: &machine.Stats{Count: 1, Cores: 2, Memory: 3, Disk: 4}},
		{name: "a checksum names its version", scope: Scope{Checksum: optional.Of("abc")}, version: "1.2.3"},
		{name: "a version scope names itself", scope: Scope{Version: optional.Of("1.0.0")}, version: "1.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := world{machines: []machine.Machine{sized("a", 2, 3, 4)}, versions: []string{"1.0.0"}, checksums: map[string]string{"abc": "1.2.3"}}
			pol := basePolicy()
			pol.Strict = tt.strict
			res, err := w.validator().Validate(context.Background(), baseLicense(), pol, tt.scope, false)
			if err != nil || res.Code != "VALID" {
				t.Fatalf("%+v, %v", res, err)
			}
			if !reflect.DeepEqual(res.Machines, tt.machines) || res.Version != tt.version {
				t.Fatalf("machines %+v, version %q; want %+v, %q", res.Machines, res.Version, tt.machines, tt.version)
			}
		})
	}
}
