package entitlement

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/page"
)

// memStore keeps entitlements and their attachments in memory and reads
// scopes and pages as Store does.
type memStore struct {
	entitlements []Entitlement
	attached     map[string][]Attachment // by target: table/id
	userLicenses map[string]Target       // user → the license it holds
}

func key(t Target) string { return t.Table + "/" + t.ID }

func (m *memStore) Create(_ context.Context, e *Entitlement) error {
	m.entitlements = append(m.entitlements, *e)
	return nil
}

func (m *memStore) Save(_ context.Context, e *Entitlement) error {
	i := slices.IndexFunc(m.entitlements, func(x Entitlement) bool { return x.ID == e.ID })
	m.entitlements[i] = *e
	return nil
}

func (m *memStore) Delete(_ context.Context, e *Entitlement) error {
	m.entitlements = slices.DeleteFunc(m.entitlements, func(x Entitlement) bool { return x.ID == e.ID })
	return nil
}

// heldBy is what a license target holds: its own and its policy's.
func (m *memStore) heldBy(t Target) map[string]bool {
	ids, _ := m.AttachedIDs(context.Background(), t)
	if t.PolicyID != "" {
		onPolicy, _ := m.AttachedIDs(context.Background(), PolicyTarget(t.PolicyID))
		for id := range onPolicy {
			ids[id] = true
		}
	}
	return ids
}

func (m *memStore) scoped(accountID string, sc access.Scope) []Entitlement {
	var held map[string]bool
	switch {
	case sc.LicenseID != "":
		held = m.heldBy(LicenseTarget(sc.LicenseID, sc.LicensePolicyID))
	case sc.UserID != "":
		held = m.heldBy(m.userLicenses[sc.UserID])
	case !sc.All && sc.ProductID == "":
		held = map[string]bool{}
	}
	var out []Entitlement
	for _, e := range m.entitlements {
		if e.AccountID == accountID && (held == nil || held[e.ID]) {
			out = append(out, e)
		}
	}
	return out
}

func (m *memStore) Find(_ context.Context, accountID, ref string, sc access.Scope) (*Entitlement, error) {
	for _, e := range m.scoped(accountID, sc) {
		if e.ID == ref || e.Code == ref {
			return &e, nil
		}
	}
	return nil, apperr.NotFoundResource("entitlement", ref)
}

// pageOf is one page of items ordered by creation, as database.Paginate
// orders them.
func pageOf[T any](items []T, created func(T) time.Time, p page.Request) ([]T, int64) {
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, func(a, b T) int {
		if p.Ascending {
			return created(a).Compare(created(b))
		}
		return created(b).Compare(created(a))
	})
	lo := min(p.Offset, len(sorted))
	return sorted[lo:min(lo+p.Limit, len(sorted))], int64(len(sorted))
}

func entitlementCreated(e Entitlement) time.Time { return e.CreatedAt }

func (m *memStore) List(_ context.Context, accountID string, sc access.Scope, p page.Request) ([]Entitlement, int64, error) {
	items, total := pageOf(m.scoped(accountID, sc), entitlementCreated, p)
	return items, total, nil
}

func (m *memStore) Existing(_ context.Context, accountID string, ids []string) (map[string]bool, error) {
	found := map[string]bool{}
	for _, e := range m.entitlements {
		if e.AccountID == accountID && slices.Contains(ids, e.ID) {
			found[e.ID] = true
		}
	}
	return found, nil
}

func (m *memStore) AttachedIDs(_ context.Context, t Target) (map[string]bool, error) {
	ids := map[string]bool{}
	for _, a := range m.attached[key(t)] {
		ids[a.EntitlementID] = true
	}
	return ids, nil
}

// Attach holds the unique (target, entitlement) index of the tables.
func (m *memStore) Attach(_ context.Context, t Target, attachments []Attachment) (int, error) {
	ids, _ := m.AttachedIDs(context.Background(), t)
	for i, a := range attachments {
		if ids[a.EntitlementID] {
			return i, nil
		}
		ids[a.EntitlementID] = true
	}
	m.attached[key(t)] = append(m.attached[key(t)], attachments...)
	return -1, nil
}

func (m *memStore) Detach(_ context.Context, t Target, ids []string) (int, error) {
	left := slices.Clone(m.attached[key(t)])
	for i, id := range ids {
		n := len(left)
		if left = slices.DeleteFunc(left, func(a Attachment) bool { return a.EntitlementID == id || a.ID == id }); len(left) == n {
			return i, nil
		}
	}
	m.attached[key(t)] = left
	return -1, nil
}

func (m *memStore) Held(_ context.Context, accountID string, t Target, p page.Request) ([]Entitlement, int64, error) {
	held := m.heldBy(t)
	var out []Entitlement
	for _, e := range m.entitlements {
		if e.AccountID == accountID && held[e.ID] {
			out = append(out, e)
		}
	}
	items, total := pageOf(out, entitlementCreated, p)
	return items, total, nil
}

func (m *memStore) Attachments(_ context.Context, accountID string, t Target, p page.Request) ([]Attachment, int64, error) {
	items, total := pageOf(m.attached[key(t)], func(a Attachment) time.Time { return a.CreatedAt }, p)
	return items, total, nil
}

func (m *memStore) Of(ctx context.Context, accountID, licenseID, policyID string) ([]Entitlement, error) {
	items, _, err := m.Held(ctx, accountID, LicenseTarget(licenseID, policyID), page.Request{Limit: len(m.entitlements), Ascending: true})
	return items, err
}

func (m *memStore) CountCodes(ctx context.Context, accountID, licenseID, policyID string, codes []string) (int64, error) {
	held, _ := m.Of(ctx, accountID, licenseID, policyID)
	var n int64
	for _, e := range held {
		if slices.Contains(codes, e.Code) {
			n++
		}
	}
	return n, nil
}

// memTargets sees the records of the account but "hidden" ones, and keeps
// the release refs it is asked for.
type memTargets struct{ asked []Ref }

func (m *memTargets) find(ref string) error {
	if strings.HasPrefix(ref, "hidden") {
		return apperr.NotFoundResource("record", ref)
	}
	return nil
}

func (m *memTargets) Policy(_ context.Context, _ *access.Principal, _ *account.Tenant, ref string) (string, error) {
	return ref, m.find(ref)
}

func (m *memTargets) License(_ context.Context, _ *access.Principal, _ *account.Tenant, ref string) (string, string, error) {
	return ref, "pol1", m.find(ref)
}

func (m *memTargets) Release(_ context.Context, _ *access.Principal, _ *account.Tenant, ref Ref) (string, error) {
	m.asked = append(m.asked, ref)
	return ref.ID, m.find(ref.ID)
}
