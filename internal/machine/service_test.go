package machine_test

import (
	"context"
	"errors"
	"github.com/relkey/relkey/internal/event"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/testenv"
)

// policies are the account's policies, counting each lookup.
type policies struct {
	mu    sync.Mutex
	byID  map[string]*policy.Policy
	loads map[string]int
}

func (p *policies) Get(_ context.Context, accountID, policyID string) (*policy.Policy, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.loads[policyID]++
	pol, ok := p.byID[policyID]
	if !ok || pol.AccountID != accountID {
		return nil, apperr.NotFoundResource("policy", policyID)
	}
	return pol, nil
}

// licenses are the account's licenses, each visible to everyone.
type licenses struct {
	byID     map[string]*license.License
	policies *policies
}

func (l *licenses) Visible(ctx context.Context, _ *access.Principal, _ *account.Tenant, ref string) (*license.License, *policy.Policy, error) {
	lic, ok := l.byID[ref]
	if !ok {
		return nil, nil, apperr.NotFoundResource("license", ref)
	}
	pol, err := l.policies.Get(ctx, lic.AccountID, lic.PolicyID)
	return lic, pol, err
}

func (*licenses) StartExpiry(context.Context, *license.License, *policy.Policy, string) error {
	return nil
}

// fleet is an account with two policies, a license on each, and machines:
// three on the first license, two on the second.
type fleet struct {
	db                    *database.DB
	store                 *machine.Store
	svc                   *machine.Service
	policies              *policies
	acct                  string
	tenant                *account.Tenant // acct, as requests work in it
	policy1, policy2      string
	license1, license2    string
	machines1, machines2  []machine.Machine
	admin, licenseBearer2 *access.Principal
}

func newFleet(t *testing.T, b testenv.Backend) *fleet {
	t.Helper()
	ctx := context.Background()
	db := b.OpenDB(t)
	acct, product := seedAccount(t, db)
	f := &fleet{db: db, store: machine.NewStore(db), acct: acct, tenant: &account.Tenant{Account: &account.Account{ID: acct}}}
	f.policy1 = seedPolicy(t, db, acct, product, policy.KeepDead, policy.NoRevive, false)
	f.policy2 = seedPolicy(t, db, acct, product, policy.KeepDead, policy.NoRevive, false)
	f.license1 = seedLicense(t, db, acct, product, f.policy1)
	f.license2 = seedLicense(t, db, acct, product, f.policy2)
	now := database.Now()
	seedMachines(t, db, acct, product, f.policy1, f.license1, &now, &now, &now)
	seedMachines(t, db, acct, product, f.policy2, f.license2, &now, &now)
	var err error
	if f.machines1, err = f.store.OfLicense(ctx, f.license1, nil); err != nil {
		t.Fatal(err)
	}
	if f.machines2, err = f.store.OfLicense(ctx, f.license2, nil); err != nil {
		t.Fatal(err)
	}
	f.policies = &policies{byID: map[string]*policy.Policy{}, loads: map[string]int{}}
	lics := &licenses{byID: map[string]*license.License{}, policies: f.policies}
	for _, ids := range [][2]string{{f.policy1, f.license1}, {f.policy2, f.license2}} {
		f.policies.byID[ids[0]] = &policy.Policy{ID: ids[0], AccountID: acct, ProductID: product, ComponentUniquenessStrategy: policy.UniquePerMachine}
		lics.byID[ids[1]] = &license.License{ID: ids[1], AccountID: acct, ProductID: product, PolicyID: ids[0]}
	}
	f.svc = machine.NewService(f.store, testenv.Unrecorded{DB: db}, lics, f.policies, nil, nil, discarded{}, nil)
	f.admin = access.NewPrincipal(acct, access.RoleAdmin, access.BearerUser, id.New(), "", nil)
	f.licenseBearer2 = access.NewPrincipal(acct, access.RoleLicense, access.BearerLicense, f.license2, "", nil)
	return f
}

// loaded returns and resets how often each policy was looked up.
func (f *fleet) loaded() map[string]int {
	f.policies.mu.Lock()
	defer f.policies.mu.Unlock()
	loads := f.policies.loads
	f.policies.loads = map[string]int{}
	return loads
}

// spawn stores a process on m owned by owner, last pinged at pinged.
func (f *fleet) spawn(t *testing.T, m machine.Machine, owner *string, pinged time.Time) machine.Process {
	t.Helper()
	p := machine.Process{ID: id.New(), AccountID: m.AccountID, MachineID: m.ID, LicenseID: m.LicenseID, PolicyID: m.PolicyID, ProductID: m.ProductID,
		OwnerID: owner, PID: id.New(), LastHeartbeatAt: pinged, Metadata: map[string]any{}, CreatedAt: pinged}
	if err := f.store.CreateProcess(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// onEachBackend runs fn with a fleet on every backend.
func onEachBackend(t *testing.T, fn func(t *testing.T, f *fleet)) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { fn(t, newFleet(t, b)) })
	}
}

func TestCountAliveProcessesPicksByFilter(t *testing.T) {
	onEachBackend(t, func(t *testing.T, f *fleet) {
		now := database.Now()
		owner := id.New()
		a, c := f.machines1[0], f.machines1[1]
		f.spawn(t, a, &owner, now)
		f.spawn(t, a, &owner, now)
		f.spawn(t, a, &owner, now.Add(-time.Hour)) // dead
		f.spawn(t, c, nil, now)
		f.spawn(t, f.machines2[0], &owner, now)
		stranger := id.New()
		tests := []struct {
			name string
			f    machine.ProcessFilter
			want int64
		}{
			{"the license's", machine.ProcessFilter{LicenseID: f.license1}, 3},
			{"another license's", machine.ProcessFilter{LicenseID: f.license2}, 1},
			{"an owner's", machine.ProcessFilter{LicenseID: f.license1, PerOwner: true, OwnerID: &owner}, 2},
			{"without an owner", machine.ProcessFilter{LicenseID: f.license1, PerOwner: true}, 1},
			{"a stranger's", machine.ProcessFilter{LicenseID: f.license1, PerOwner: true, OwnerID: &stranger}, 0},
			{"a machine's", machine.ProcessFilter{LicenseID: f.license1, MachineID: a.ID}, 2},
			{"another machine's", machine.ProcessFilter{LicenseID: f.license1, MachineID: c.ID}, 1},
			{"another license's machine", machine.ProcessFilter{LicenseID: f.license1, MachineID: f.machines2[0].ID}, 0},
			{"per user, as leased", machine.LeasedProcesses(policy.PerUser, f.license1, &owner, a.ID), 2},
			{"per machine, as leased", machine.LeasedProcesses(policy.PerMachine, f.license1, &owner, c.ID), 1},
			{"per license, as leased", machine.LeasedProcesses(policy.PerLicense, f.license1, &owner, c.ID), 3},
		}
		for _, tt := range tests {
			n, err := f.store.CountAliveProcesses(context.Background(), tt.f, now.Add(-time.Minute))
			if err != nil || n != tt.want {
				t.Errorf("%s: %d, %v; want %d", tt.name, n, err, tt.want)
			}
		}
	})
}

func TestListsCarryTheirPoliciesLoadedOnce(t *testing.T) {
	onEachBackend(t, func(t *testing.T, f *fleet) {
		ctx := context.Background()
		now := database.Now()
		f.spawn(t, f.machines1[0], nil, now)
		oldest := f.spawn(t, f.machines2[0], nil, now.Add(-time.Second))
		f.spawn(t, f.machines2[0], nil, now)
		all := page.Request{Limit: 100, Count: true}
		tests := []struct {
			name   string
			filter machine.Filter
			page   page.Request
			total  int64
			loads  map[string]int
		}{
			{"every machine", machine.Filter{}, all, 5, map[string]int{f.policy1: 1, f.policy2: 1}},
			{"one license's", machine.Filter{LicenseID: f.license1}, all, 3, map[string]int{f.policy1: 1}},
			{"a page", machine.Filter{LicenseID: f.license1}, page.Request{Limit: 2, Offset: 1, Count: true}, 3, map[string]int{f.policy1: 1}},
		}
		for _, tt := range tests {
			listed, total, err := f.svc.List(ctx, f.admin, f.tenant, tt.filter, tt.page)
			if err != nil || total != tt.total || len(listed) != min(int(tt.total)-tt.page.Offset, tt.page.Limit) {
				t.Fatalf("%s: %d of %d, %v", tt.name, len(listed), total, err)
			}
			for _, m := range listed {
				if m.Policy == nil || m.Policy.ID != m.Item.PolicyID {
					t.Fatalf("%s: machine %s of policy %s listed with %+v", tt.name, m.Item.ID, m.Item.PolicyID, m.Policy)
				}
			}
			if loads := f.loaded(); !reflect.DeepEqual(loads, tt.loads) {
				t.Fatalf("%s: policies loaded %v, want %v", tt.name, loads, tt.loads)
			}
		}

		// A machine's processes list oldest first, whatever the order
		// asked for, with their policy.
		processes, total, err := f.svc.ListProcesses(ctx, f.admin, f.tenant, f.machines2[0].ID, page.Request{Limit: 1, Count: true})
		if err != nil || total != 2 || len(processes) != 1 || processes[0].Item.ID != oldest.ID || processes[0].Policy.ID != f.policy2 {
			t.Fatalf("processes: %+v of %d, %v", processes, total, err)
		}
		if loads := f.loaded(); !reflect.DeepEqual(loads, map[string]int{f.policy2: 1}) {
			t.Fatalf("processes loaded policies %v", loads)
		}
		if _, _, err := f.svc.ListProcesses(ctx, f.licenseBearer2, f.tenant, f.machines1[0].ID, page.Request{Limit: 10}); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("another license's machine's processes: %v", err)
		}
	})
}

func TestAddComponentNeedsAMachineInSight(t *testing.T) {
	onEachBackend(t, func(t *testing.T, f *fleet) {
		readOnly := &access.Principal{AccountID: f.acct, Role: access.RoleAdmin, BearerType: access.BearerUser, BearerID: id.New(),
			Permissions: access.NewSet("machine.read", "component.read")}
		params := machine.ComponentParams{Fingerprint: optional.Of("gpu-1"), Name: optional.Of("GPU")}
		tests := []struct {
			name string
			who  *access.Principal
			ref  string
			kind apperr.Kind // of the error; Internal = none
			code string
		}{
			{"anonymous", nil, f.machines1[0].ID, apperr.Unauthenticated, "TOKEN_MISSING"},
			{"no machine", f.admin, "", apperr.Unprocessable, "MACHINE_NOT_FOUND"},
			{"an unknown machine", f.admin, id.New(), apperr.Unprocessable, "MACHINE_NOT_FOUND"},
			{"an unknown fingerprint", f.admin, "nope", apperr.Unprocessable, "MACHINE_NOT_FOUND"},
			{"another license's machine", f.licenseBearer2, f.machines1[0].ID, apperr.Unprocessable, "MACHINE_NOT_FOUND"},
			{"without permission", readOnly, f.machines1[0].ID, apperr.Forbidden, "ACCESS_DENIED"},
			{"by fingerprint", f.admin, "fp-2", apperr.Internal, ""}, // only license1 has three machines
			{"its own machine", f.licenseBearer2, f.machines2[0].ID, apperr.Internal, ""},
		}
		for _, tt := range tests {
			comp, err := f.svc.AddComponent(context.Background(), tt.who, f.tenant, tt.ref, params)
			if tt.kind == apperr.Internal {
				if err != nil || comp.Fingerprint != "gpu-1" || comp.MachineID == "" {
					t.Fatalf("%s: %+v, %v", tt.name, comp, err)
				}
				continue
			}
			e := apperr.As(err)
			if e.Kind != tt.kind || e.Code != tt.code {
				t.Fatalf("%s: %v, want %s", tt.name, err, tt.code)
			}
			if tt.code == "MACHINE_NOT_FOUND" && (e.Source == nil || !reflect.DeepEqual(e.Source.Field, &apperr.Field{Part: apperr.InRelationship, Name: "machine"})) {
				t.Fatalf("%s: source %+v, want the machine relationship", tt.name, e.Source)
			}
		}
		comps, total, err := f.svc.ListComponents(context.Background(), f.licenseBearer2, f.tenant, f.machines2[0].ID, page.Request{Limit: 10, Count: true})
		if err != nil || total != 1 || len(comps) != 1 || comps[0].Fingerprint != "gpu-1" {
			t.Fatalf("listed components: %+v of %d, %v", comps, total, err)
		}
	})
}

// discarded drops the activation events.
type discarded struct{}

func (discarded) Emit(event.Occurrence) {}

// TestCreateReportsATakenFingerprint: a machine whose fingerprint its
// license already has is refused by the unique index as taken, inside a
// transaction too (where, on PostgreSQL, the insert goes with the commit
// and the commit reports it), and the transaction writes nothing.
func TestCreateReportsATakenFingerprint(t *testing.T) {
	onEachBackend(t, func(t *testing.T, f *fleet) {
		ctx := context.Background()
		existing := f.machines1[0]
		twin := existing
		twin.ID, twin.CreatedAt = id.New(), database.Now()
		fresh := existing
		fresh.ID, fresh.Fingerprint, fresh.CreatedAt = id.New(), "fresh-"+id.New(), database.Now()
		for _, inTx := range []bool{false, true} {
			create := func(ctx context.Context) error {
				if err := f.store.Create(ctx, &fresh); err != nil {
					return err
				}
				return f.store.Create(ctx, &twin)
			}
			var err error
			if inTx {
				err = f.db.InTx(ctx, create)
			} else {
				err = f.store.Create(ctx, &twin)
			}
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Code != "FINGERPRINT_TAKEN" || ae.Kind != apperr.Unprocessable {
				t.Fatalf("in a transaction %v: %v, want FINGERPRINT_TAKEN", inTx, err)
			}
		}
		machines, err := f.store.OfLicense(ctx, f.license1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(machines) != len(f.machines1) {
			t.Fatalf("%d machines after the refusals, want %d", len(machines), len(f.machines1))
		}
	})
}
