package license

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
)

// noPermissions is an admin whose token grants nothing it could use here.
func noPermissions() *access.Principal {
	return access.NewPrincipal(acct, access.RoleAdmin, access.BearerUser, staff, "tok", []string{"product.read"})
}

// TestFindAndVisible: anonymous is TOKEN_MISSING, out of sight NOT_FOUND, in
// sight without license.read a 403 for Find; Visible needs sight alone.
func TestFindAndVisible(t *testing.T) {
	tests := []struct {
		name        string
		who         *access.Principal
		ref         string
		find, sight want // Find (license.read), Visible (sight alone)
	}{
		{"anonymous", nil, licenseA, tokenMissing, tokenMissing},
		{"staff by id", admin(), licenseA, ok, ok},
		{"staff by key", readOnly(), keyA, ok, ok},
		{"unknown", admin(), unknownID, notFound, notFound},
		{"unknown key", admin(), "NO-SUCH-KEY", notFound, notFound},
		{"its product", asProduct(productA), licenseA, ok, ok},
		{"another product", asProduct(productB), licenseA, notFound, notFound},
		{"the license itself", asLicense(licenseA), licenseA, ok, ok},
		{"another license", asLicense(licenseB), licenseA, notFound, notFound},
		{"its owner", asUser(owner), licenseA, ok, ok},
		{"its licensee, by key", asUser(licensee), keyA, ok, ok},
		{"a stranger", asUser(stranger), licenseA, notFound, notFound},
		{"in sight without license.read", noPermissions(), licenseA, denied, ok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			if l, err := w.svc.Find(t.Context(), tt.who, w.tenant, tt.ref); expect(t, err, tt.find) && (l.ID != licenseA || l.Key != keyA) {
				t.Errorf("Find: license %s with key %q", l.ID, l.Key)
			}
			l, pol, err := w.svc.Visible(t.Context(), tt.who, w.tenant, tt.ref)
			if expect(t, err, tt.sight) && (l.ID != licenseA || l.Key != keyA || pol.ID != policyA) {
				t.Errorf("Visible: license %s with key %q, policy %s", l.ID, l.Key, pol.ID)
			}
		})
	}
}

// TestForValidation: validate-key finds any key for anonymous callers and
// staff, else only what the bearer may validate; the rest is no license, not
// an error.
func TestForValidation(t *testing.T) {
	tests := []struct {
		name string
		who  *access.Principal
		key  string
		want string // the license found, "" for none
	}{
		{"anonymous, any key", nil, keyB, licenseB},
		{"anonymous, unknown key", nil, "NO-SUCH-KEY", ""},
		{"staff", readOnly(), keyB, licenseB},
		{"the license itself", asLicense(licenseA), keyA, licenseA},
		{"another license", asLicense(licenseA), keyB, ""},
		{"its owner", asUser(owner), keyA, licenseA},
		{"a stranger", asUser(stranger), keyA, ""},
		{"a licensee (as Keygen's validate_key?)", asUser(licensee), keyA, licenseA},
		{"its product", asProduct(productA), keyA, licenseA},
		{"another product", asProduct(productB), keyA, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			l, pol, err := w.svc.ForValidation(t.Context(), tt.who, w.tenant, tt.key, false)
			expect(t, err, ok)
			switch {
			case tt.want == "" && (l != nil || pol != nil):
				t.Errorf("found %+v, want nothing", l)
			case tt.want != "" && (l == nil || l.ID != tt.want || l.Key != tt.key || pol == nil || pol.ID != l.PolicyID):
				t.Errorf("found %+v with %+v, want %s", l, pol, tt.want)
			}
		})
	}
}

// TestList: the licenses in the bearer's sight, filtered, keys opened.
func TestList(t *testing.T) {
	tests := []struct {
		name   string
		who    *access.Principal
		filter Filter
		want   want
		ids    []string
	}{
		{name: "anonymous", want: tokenMissing},
		{name: "without license.read", who: noPermissions(), want: denied},
		{name: "staff", who: admin(), ids: []string{licenseA, licenseB}},
		{name: "staff, by policy", who: admin(), filter: Filter{PolicyID: policyB}, ids: []string{licenseB}},
		{name: "staff, by owner", who: admin(), filter: Filter{OwnerID: owner}, ids: []string{licenseA}},
		{name: "a product", who: asProduct(productB), ids: []string{licenseB}},
		{name: "a licensee", who: asUser(licensee), ids: []string{licenseA}},
		{name: "a stranger", who: asUser(stranger)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			licenses, total, err := w.svc.List(t.Context(), tt.who, w.tenant, tt.filter, page.Request{Limit: 10})
			if !expect(t, err, tt.want) {
				return
			}
			var ids []string
			for _, l := range licenses {
				ids = append(ids, l.ID)
				if l.Key != map[string]string{licenseA: keyA, licenseB: keyB}[l.ID] {
					t.Errorf("%s listed with key %q", l.ID, l.Key)
				}
			}
			if !slices.Equal(ids, tt.ids) || total != int64(len(tt.ids)) {
				t.Errorf("listed %v (total %d), want %v", ids, total, tt.ids)
			}
		})
	}
}

// TestUpdate: staff and products change attributes; the key never changes.
func TestUpdate(t *testing.T) {
	tests := []struct {
		name  string
		who   *access.Principal
		p     Params
		want  want
		check func(t *testing.T, l *License)
	}{
		{name: "anonymous", want: tokenMissing},
		{name: "out of sight", who: asProduct(productB), want: notFound},
		{name: "a license lacks license.update", who: asLicense(licenseA), want: denied},
		{name: "a user lacks license.update", who: asUser(owner), want: denied},
		{name: "the key is immutable", who: admin(), p: Params{Key: optional.Of("NEW-KEY-0001")}, want: paramsInvalid(apperr.Attr("key"))},
		{name: "name too long", who: admin(), p: Params{Name: optional.Of(s(string(make([]byte, 1025))))}, want: unprocessable("NAME_TOO_LONG", apperr.Attr("name"))},
		{name: "limit below its minimum", who: admin(), p: Params{MaxUsers: optional.Of(n(0))}, want: unprocessable("MAX_USERS_INVALID", apperr.Attr("max_users"))},
		{name: "attributes", who: asProduct(productA),
			p: Params{Name: optional.Of(s("Team")), Expiry: optional.Of(at(day + 999*time.Microsecond)), MaxMachines: optional.Of(n(0)), Metadata: optional.Of(map[string]any{"tier": "gold"})},
			check: func(t *testing.T, l *License) {
				sameTime(t, "expiry", l.Expiry, at(day))
				if l.Name == nil || *l.Name != "Team" || l.MaxMachines == nil || *l.MaxMachines != 0 || l.Metadata["tier"] != "gold" {
					t.Errorf("license %+v", l)
				}
			}},
		{name: "nulls", who: admin(), p: Params{Name: optional.Of[*string](nil), Expiry: optional.Of[*time.Time](nil), Metadata: optional.Of[map[string]any](nil)},
			check: func(t *testing.T, l *License) {
				sameTime(t, "expiry", l.Expiry, nil)
				if l.Name != nil || l.Metadata == nil || len(l.Metadata) != 0 {
					t.Errorf("name %v, metadata %v: want nil and {}", l.Name, l.Metadata)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			stored := w.license(licenseA)
			stored.Name, stored.Expiry, stored.Metadata = s("Old"), at(10*day), map[string]any{"tier": "basic"}
			l, err := w.svc.Update(t.Context(), tt.who, w.tenant, licenseA, tt.p)
			if !expect(t, err, tt.want) {
				if w.license(licenseA) != stored {
					t.Error("a refused update was saved")
				}
				return
			}
			tt.check(t, l)
			tt.check(t, w.license(licenseA))
		})
	}
}

// TestRevoke: users revoke only licenses they own and that are not
// protected (the license's protected, else its policy's).
func TestRevoke(t *testing.T) {
	protect := func(license *bool, pol bool) func(w *world) {
		return func(w *world) { w.license(licenseA).Protected, w.policy(policyA).Protected = license, pol }
	}
	tests := []struct {
		name       string
		who        *access.Principal
		permission string
		setup      func(w *world)
		want       want
	}{
		{name: "anonymous", permission: "license.revoke", want: tokenMissing},
		{name: "staff", who: admin(), permission: "license.revoke"},
		{name: "its product deletes it", who: asProduct(productA), permission: "license.delete"},
		{name: "another product", who: asProduct(productB), permission: "license.delete", want: notFound},
		{name: "the license lacks license.revoke", who: asLicense(licenseA), permission: "license.revoke", want: denied},
		{name: "its owner", who: asUser(owner), permission: "license.revoke"},
		{name: "its owner, the license protected", who: asUser(owner), permission: "license.revoke", setup: protect(b(true), false), want: denied},
		{name: "its owner, the policy protected", who: asUser(owner), permission: "license.revoke", setup: protect(nil, true), want: denied},
		{name: "its owner, unprotected under a protected policy", who: asUser(owner), permission: "license.delete", setup: protect(b(false), true)},
		// Keygen: users revoke and delete only the licenses they own.
		{name: "its licensee", who: asUser(licensee), permission: "license.revoke", want: denied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			if tt.setup != nil {
				tt.setup(w)
			}
			err := w.svc.Revoke(t.Context(), tt.who, w.tenant, licenseA, tt.permission)
			if gone := w.license(licenseA) == nil; expect(t, err, tt.want) != gone {
				t.Errorf("deleted = %v", gone)
			}
		})
	}
}

// TestSetSuspended: suspending needs license.suspend, reinstating
// license.reinstate, and each must change something.
func TestSetSuspended(t *testing.T) {
	tests := []struct {
		name               string
		who                *access.Principal
		suspended, suspend bool
		want               want
	}{
		{name: "suspend", who: asProduct(productA), suspend: true},
		{name: "suspend again", who: admin(), suspended: true, suspend: true, want: unprocessable("SUSPENDED_INVALID", apperr.Attr("suspended"))},
		{name: "reinstate", who: admin(), suspended: true},
		{name: "reinstate an unsuspended license", who: admin(), want: unprocessable("SUSPENDED_INVALID", apperr.Attr("suspended"))},
		{name: "a user lacks license.suspend", who: asUser(owner), suspend: true, want: denied},
		{name: "the license lacks license.reinstate", who: asLicense(licenseA), suspended: true, want: denied},
		{name: "out of sight", who: asProduct(productB), suspend: true, want: notFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.license(licenseA).Suspended = tt.suspended
			l, err := w.svc.SetSuspended(t.Context(), tt.who, w.tenant, licenseA, tt.suspend)
			if expect(t, err, tt.want) && (l.Suspended != tt.suspend || w.license(licenseA).Suspended != tt.suspend) {
				t.Errorf("suspended %v, stored %v, want %v", l.Suspended, w.license(licenseA).Suspended, tt.suspend)
			}
			if err != nil && w.license(licenseA).Suspended != tt.suspended {
				t.Error("a refused change was saved")
			}
		})
	}
}

// TestRenew extends the expiry by the policy's duration from its renewal
// basis.
func TestRenew(t *testing.T) {
	tests := []struct {
		name     string
		who      *access.Principal
		basis    string
		duration *int64
		expiry   *time.Time
		want     want
		renewed  *time.Time
	}{
		{"FROM_EXPIRY, unexpired", admin(), policy.RenewFromExpiry, days(30), at(10 * day), ok, at(40 * day)},
		{"FROM_EXPIRY, expired", admin(), policy.RenewFromExpiry, days(30), at(-10 * day), ok, at(20 * day)},
		{"FROM_EXPIRY, not started", admin(), policy.RenewFromExpiry, days(30), nil, ok, at(30 * day)},
		{"FROM_NOW, unexpired", admin(), policy.RenewFromNow, days(30), at(10 * day), ok, at(30 * day)},
		{"FROM_NOW, expired", admin(), policy.RenewFromNow, days(30), at(-10 * day), ok, at(30 * day)},
		{"FROM_NOW_IF_EXPIRED, unexpired", admin(), policy.RenewFromNowIfExpired, days(30), at(10 * day), ok, at(40 * day)},
		{"FROM_NOW_IF_EXPIRED, expired", admin(), policy.RenewFromNowIfExpired, days(30), at(-10 * day), ok, at(30 * day)},
		{"FROM_NOW_IF_EXPIRED, expiring now", admin(), policy.RenewFromNowIfExpired, days(30), at(0), ok, at(30 * day)},
		{"FROM_NOW_IF_EXPIRED, expiring in a moment", admin(), policy.RenewFromNowIfExpired, days(30), at(time.Millisecond), ok, at(30*day + time.Millisecond)},
		{"no duration", admin(), policy.RenewFromExpiry, nil, at(10 * day), unprocessable("LICENSE_NOT_RENEWABLE", apperr.Record()), nil},
		{"its owner", asUser(owner), policy.RenewFromExpiry, days(30), at(10 * day), ok, at(40 * day)},
		{"its licensee", asUser(licensee), policy.RenewFromExpiry, days(30), at(10 * day), denied, nil},
		{"the license lacks license.renew", asLicense(licenseA), policy.RenewFromExpiry, days(30), at(10 * day), denied, nil},
		{"anonymous", nil, policy.RenewFromExpiry, days(30), at(10 * day), tokenMissing, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.policy(policyA).RenewalBasis, w.policy(policyA).Duration = tt.basis, tt.duration
			w.license(licenseA).Expiry = tt.expiry
			l, err := w.svc.Renew(t.Context(), tt.who, w.tenant, licenseA)
			if !expect(t, err, tt.want) {
				sameTime(t, "stored expiry after a refusal", w.license(licenseA).Expiry, tt.expiry)
				return
			}
			sameTime(t, "expiry", l.Expiry, tt.renewed)
			sameTime(t, "stored expiry", w.license(licenseA).Expiry, tt.renewed)
		})
	}
}

// TestCheckIn: only policies that require check-ins take them.
func TestCheckIn(t *testing.T) {
	tests := []struct {
		name     string
		who      *access.Principal
		required bool
		want     want
	}{
		{"not required", admin(), false, unprocessable("LICENSE_NOT_CHECK_IN_REQUIRED", apperr.Record())},
		{"the license itself", asLicense(licenseA), true, ok},
		{"staff", admin(), true, ok},
		{"another license", asLicense(licenseB), true, notFound},
		{"read-only lacks license.check-in", readOnly(), true, denied},
		// Keygen's check_in?: a user only its own license, and not a protected one.
		{"its owner", asUser(owner), true, ok},
		{"its owner, the policy protected", asUser(owner), true, denied},
		{"a licensee", asUser(licensee), true, denied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.policy(policyA).RequireCheckIn = tt.required
			w.policy(policyA).Protected = strings.HasSuffix(tt.name, "protected")
			w.license(licenseA).LastCheckInAt = at(-day)
			l, err := w.svc.CheckIn(t.Context(), tt.who, w.tenant, licenseA)
			if !expect(t, err, tt.want) {
				sameTime(t, "stored check-in after a refusal", w.license(licenseA).LastCheckInAt, at(-day))
				return
			}
			sameTime(t, "check-in", l.LastCheckInAt, at(0))
			sameTime(t, "stored check-in", w.license(licenseA).LastCheckInAt, at(0))
		})
	}
}

// TestCheckedOut records the check-out time.
func TestCheckedOut(t *testing.T) {
	w := newWorld(t)
	l, _ := w.svc.Find(t.Context(), admin(), w.tenant, licenseA)
	expect(t, w.svc.CheckedOut(t.Context(), nil, l), ok)
	sameTime(t, "check-out", l.LastCheckOutAt, at(0))
	sameTime(t, "stored check-out", w.license(licenseA).LastCheckOutAt, at(0))
}

// TestChangeUsage: each action needs its permission and a positive amount;
// the store bounds the uses; FROM_FIRST_USE starts on an increment only.
func TestChangeUsage(t *testing.T) {
	by := func(action UsageAction, v int64) UsageChange { return UsageChange{Action: action, By: optional.Of(v)} }
	increment, decrement, reset := UsageChange{Action: Increment}, UsageChange{Action: Decrement}, UsageChange{Action: Reset}
	limitExceeded := unprocessable("USES_LIMIT_EXCEEDED", apperr.Attr("uses"))
	tests := []struct {
		name                  string
		who                   *access.Principal
		change                UsageChange
		uses                  int64
		licenseMax, policyMax *int64
		basis                 string // the policy's expiration basis, with a duration of 30 days
		want                  want
		wantUses              int64
		wantExpiry, hadExpiry *time.Time
	}{
		{name: "increment by 1", who: admin(), change: increment, wantUses: 1},
		{name: "increment by 3", who: admin(), change: by(Increment, 3), uses: 2, wantUses: 5},
		{name: "increment by 0", who: admin(), change: by(Increment, 0), want: paramsInvalid(apperr.Meta("increment"))},
		{name: "decrement by -1", who: admin(), change: by(Decrement, -1), uses: 2, want: paramsInvalid(apperr.Meta("decrement"))},
		{name: "decrement by 1", who: admin(), change: decrement, uses: 5, wantUses: 4},
		{name: "decrement by 2", who: admin(), change: by(Decrement, 2), uses: 5, wantUses: 3},
		{name: "decrement below 0", who: admin(), change: by(Decrement, 2), uses: 1, want: unprocessable("USES_INVALID", apperr.Attr("uses"))},
		{name: "reset ignores by", who: admin(), change: by(Reset, 0), uses: 5, wantUses: 0},
		{name: "up to the policy's max", who: admin(), change: increment, uses: 4, policyMax: n(5), wantUses: 5},
		{name: "past the policy's max", who: admin(), change: increment, uses: 5, policyMax: n(5), want: limitExceeded},
		{name: "the license's max overrides", who: admin(), change: by(Increment, 5), uses: 5, licenseMax: n(10), policyMax: n(5), wantUses: 10},
		{name: "a max of 0", who: admin(), change: increment, licenseMax: n(0), policyMax: n(5), want: limitExceeded},
		{name: "the license increments itself", who: asLicense(licenseA), change: increment, wantUses: 1},
		{name: "the license lacks license.usage.decrement", who: asLicense(licenseA), change: decrement, uses: 1, want: denied},
		{name: "a user lacks license.usage.reset", who: asUser(owner), change: reset, uses: 1, want: denied},
		{name: "read-only lacks license.usage.increment", who: readOnly(), change: increment, want: denied},
		{name: "anonymous", change: increment, want: tokenMissing},
		{name: "out of sight", who: asLicense(licenseB), change: increment, want: notFound},
		{name: "FROM_FIRST_USE starts on increment", who: admin(), change: increment, basis: policy.FromFirstUse, wantUses: 1, wantExpiry: at(30 * day)},
		{name: "FROM_FIRST_USE, not on decrement", who: admin(), change: decrement, uses: 1, basis: policy.FromFirstUse, wantUses: 0},
		{name: "FROM_FIRST_USE, not on reset", who: admin(), change: reset, uses: 1, basis: policy.FromFirstUse, wantUses: 0},
		{name: "FROM_FIRST_USE, not on a refused increment", who: admin(), change: increment, uses: 1, policyMax: n(1), basis: policy.FromFirstUse, want: limitExceeded},
		{name: "FROM_FIRST_USE, started already", who: admin(), change: increment, basis: policy.FromFirstUse, hadExpiry: at(day), wantUses: 1, wantExpiry: at(day)},
		{name: "FROM_FIRST_ACTIVATION, not on increment", who: admin(), change: increment, basis: policy.FromFirstActivation, wantUses: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			pol, stored := w.policy(policyA), w.license(licenseA)
			pol.MaxUses, stored.MaxUses, stored.Uses, stored.Expiry = tt.policyMax, tt.licenseMax, tt.uses, tt.hadExpiry
			if tt.basis != "" {
				pol.ExpirationBasis, pol.Duration = tt.basis, days(30)
			}
			l, err := w.svc.ChangeUsage(t.Context(), tt.who, w.tenant, licenseA, tt.change)
			if !expect(t, err, tt.want) {
				if stored.Uses != tt.uses || stored.Expiry != tt.hadExpiry {
					t.Errorf("a refused change left uses %d, expiry %s", stored.Uses, fmtTime(stored.Expiry))
				}
				return
			}
			if l.Uses != tt.wantUses || stored.Uses != tt.wantUses {
				t.Errorf("uses %d, stored %d, want %d", l.Uses, stored.Uses, tt.wantUses)
			}
			sameTime(t, "expiry", l.Expiry, tt.wantExpiry)
			sameTime(t, "stored expiry", stored.Expiry, tt.wantExpiry)
		})
	}
}

// TestChangeUsageConcurrently: the limit holds under concurrent increments,
// because the rules leave the check to the store's one conditional write.
func TestChangeUsageConcurrently(t *testing.T) {
	w := newWorld(t)
	w.policy(policyA).MaxUses = n(5)
	errs := make(chan error, 20)
	for range cap(errs) {
		go func() {
			_, err := w.svc.ChangeUsage(t.Context(), admin(), w.tenant, licenseA, UsageChange{Action: Increment})
			errs <- err
		}()
	}
	refused := 0
	for range cap(errs) {
		if err := <-errs; err != nil {
			expect(t, err, unprocessable("USES_LIMIT_EXCEEDED", apperr.Attr("uses")))
			refused++
		}
	}
	if uses := w.license(licenseA).Uses; uses != 5 || refused != 15 {
		t.Errorf("uses %d with %d refused, want 5 and 15", uses, refused)
	}
}

// TestStartExpiry starts the clock on the policy's event only, once.
func TestStartExpiry(t *testing.T) {
	tests := []struct {
		name     string
		basis    string // the event
		policy   string // the policy's basis
		duration *int64
		had      *time.Time
		want     *time.Time
	}{
		{"the policy's event", policy.FromFirstActivation, policy.FromFirstActivation, days(7), nil, at(7 * day)},
		{"another event", policy.FromFirstValidation, policy.FromFirstActivation, days(7), nil, nil},
		{"no duration", policy.FromFirstActivation, policy.FromFirstActivation, nil, nil, nil},
		{"started already", policy.FromFirstActivation, policy.FromFirstActivation, days(7), at(day), at(day)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			pol := w.policy(policyA)
			pol.ExpirationBasis, pol.Duration = tt.policy, tt.duration
			w.license(licenseA).Expiry = tt.had
			l, _ := w.svc.Find(t.Context(), admin(), w.tenant, licenseA)
			expect(t, w.svc.StartExpiry(t.Context(), l, pol, tt.basis), ok)
			sameTime(t, "expiry", l.Expiry, tt.want)
			sameTime(t, "stored expiry", w.license(licenseA).Expiry, tt.want)
		})
	}
}

// TestStartExpiryWritesOnce: a copy read before another request started the
// clock does not restart it, nor claims to have.
func TestStartExpiryWritesOnce(t *testing.T) {
	w := newWorld(t)
	pol := w.policy(policyA)
	pol.ExpirationBasis, pol.Duration = policy.FromFirstActivation, days(7)
	first, _ := w.svc.Find(t.Context(), admin(), w.tenant, licenseA)
	stale, _ := w.svc.Find(t.Context(), admin(), w.tenant, licenseA)
	expect(t, w.svc.StartExpiry(t.Context(), first, pol, policy.FromFirstActivation), ok)
	w.svc.now = func() time.Time { return clock.Add(time.Hour) }
	expect(t, w.svc.StartExpiry(t.Context(), stale, pol, policy.FromFirstActivation), ok)
	sameTime(t, "stored expiry", w.license(licenseA).Expiry, at(7*day))
	sameTime(t, "the stale copy's expiry", stale.Expiry, nil)
}

// TestDownloaded starts the clock of license bearers whose policy counts
// from the first download, and of no one else.
func TestDownloaded(t *testing.T) {
	startsOn := func(basis string) *access.Principal {
		p := asLicense(licenseA)
		p.ExpiryStartsOn = basis
		return p
	}
	tests := []struct {
		name   string
		who    *access.Principal
		policy string // the policy's basis, with a duration of 7 days
		had    *time.Time
		want   *time.Time
		reads  int // the license read with its policy, or skipped
	}{
		{"anonymous", nil, policy.FromFirstDownload, nil, nil, 0},
		{"staff", admin(), policy.FromFirstDownload, nil, nil, 0},
		{"a product", asProduct(productA), policy.FromFirstDownload, nil, nil, 0},
		{"its owner", asUser(owner), policy.FromFirstDownload, nil, nil, 0},
		{"the license, FROM_FIRST_DOWNLOAD", startsOn(policy.FromFirstDownload), policy.FromFirstDownload, nil, at(7 * day), 1},
		{"the license, FROM_FIRST_ACTIVATION", startsOn(policy.FromFirstActivation), policy.FromFirstActivation, nil, nil, 0},
		{"the license, started", startsOn(""), policy.FromFirstDownload, at(day), at(day), 0},
		{"the license, its policy changed since", startsOn(policy.FromFirstDownload), policy.FromCreation, nil, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.policy(policyA).ExpirationBasis, w.policy(policyA).Duration = tt.policy, days(7)
			w.license(licenseA).Expiry = tt.had
			expect(t, w.svc.Downloaded(t.Context(), tt.who, w.tenant), ok)
			sameTime(t, "stored expiry", w.license(licenseA).Expiry, tt.want)
			if w.db.reads != tt.reads {
				t.Errorf("read the license %d times, want %d", w.db.reads, tt.reads)
			}
		})
	}
}

// TestTransfer: the target policy must be visible and compatible (same
// product and scheme, no stricter uniqueness); RESET_EXPIRY restarts the
// expiry from now.
func TestTransfer(t *testing.T) {
	incompatible := unprocessable("POLICY_NOT_COMPATIBLE", apperr.Record().Member("id"))
	policyNotFound := unprocessable("POLICY_NOT_FOUND", apperr.Record().Member("id"))
	const had = 10 * day
	tests := []struct {
		name     string
		who      *access.Principal
		to       string
		from, in func(p *policy.Policy) // arrange policyA (from) and policyT
		holdsT   bool                   // the user also owns a license of policyT, so sees it
		want     want
		expiry   *time.Time
	}{
		{name: "compatible", who: admin(), to: policyT, expiry: at(had)},
		{name: "another product", who: admin(), to: policyB, want: incompatible},
		{name: "to a scheme", who: admin(), to: policyT, in: func(p *policy.Policy) { p.Scheme = s(policy.SchemeED25519) }, want: incompatible},
		{name: "from a scheme", who: admin(), to: policyT, from: func(p *policy.Policy) { p.Scheme = s(policy.SchemeED25519) }, want: incompatible},
		{name: "another scheme", who: admin(), to: policyT,
			from: func(p *policy.Policy) { p.Scheme = s(policy.SchemeED25519) }, in: func(p *policy.Policy) { p.Scheme = s(policy.SchemeJWTRS256) }, want: incompatible},
		{name: "the same scheme", who: admin(), to: policyT,
			from: func(p *policy.Policy) { p.Scheme = s(policy.SchemeED25519) }, in: func(p *policy.Policy) { p.Scheme = s(policy.SchemeED25519) }, expiry: at(had)},
		{name: "stricter machine uniqueness", who: admin(), to: policyT, in: func(p *policy.Policy) { p.MachineUniquenessStrategy = policy.UniquePerPolicy }, want: incompatible},
		{name: "looser machine uniqueness", who: admin(), to: policyT,
			from: func(p *policy.Policy) { p.MachineUniquenessStrategy = policy.UniquePerAccount }, expiry: at(had)},
		{name: "stricter component uniqueness", who: admin(), to: policyT, in: func(p *policy.Policy) { p.ComponentUniquenessStrategy = policy.UniquePerLicense }, want: incompatible},
		{name: "looser component uniqueness", who: admin(), to: policyT,
			from: func(p *policy.Policy) { p.ComponentUniquenessStrategy = policy.UniquePerProduct }, in: func(p *policy.Policy) { p.ComponentUniquenessStrategy = policy.UniquePerPolicy }, expiry: at(had)},
		{name: "unknown policy", who: admin(), to: unknownID, want: policyNotFound},
		{name: "a policy out of sight", who: asProduct(productA), to: policyB, want: policyNotFound},
		{name: "KEEP_EXPIRY", who: admin(), to: policyT, in: func(p *policy.Policy) { p.Duration = days(30) }, expiry: at(had)},
		{name: "RESET_EXPIRY", who: admin(), to: policyT,
			in: func(p *policy.Policy) { p.TransferStrategy, p.Duration = policy.ResetExpiry, days(30) }, expiry: at(30 * day)},
		{name: "RESET_EXPIRY without duration", who: admin(), to: policyT, in: func(p *policy.Policy) { p.TransferStrategy = policy.ResetExpiry }},
		{name: "its owner", who: asUser(owner), to: policyT, holdsT: true, expiry: at(had)},
		{name: "its owner, to a policy it holds no license of", who: asUser(owner), to: policyT, want: policyNotFound},
		{name: "its owner, the license protected", who: asUser(owner), to: policyT, holdsT: true, from: func(p *policy.Policy) { p.Protected = true }, want: denied},
		{name: "its licensee", who: asUser(licensee), to: policyT, holdsT: true, want: denied},
		{name: "the license lacks license.policy.update", who: asLicense(licenseA), to: policyT, want: denied},
		{name: "anonymous", to: policyT, want: tokenMissing},
		{name: "out of sight", who: asProduct(productB), to: policyB, want: notFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			for _, arrange := range []struct {
				id string
				fn func(*policy.Policy)
			}{{policyA, tt.from}, {policyT, tt.in}} {
				if arrange.fn != nil {
					arrange.fn(w.policy(arrange.id))
				}
			}
			if tt.holdsT {
				w.addLicense(licenseT, policyT, "TANGO-KEY-0001", s(tt.who.BearerID))
			}
			w.license(licenseA).Expiry = at(had)
			l, pol, err := w.svc.Transfer(t.Context(), tt.who, w.tenant, licenseA, tt.to)
			stored := w.license(licenseA)
			if !expect(t, err, tt.want) {
				if stored.PolicyID != policyA {
					t.Errorf("a refused transfer moved the license to %s", stored.PolicyID)
				}
				return
			}
			if l.PolicyID != tt.to || pol.ID != tt.to || stored.PolicyID != tt.to {
				t.Errorf("policy %s (returned %s, stored %s), want %s", l.PolicyID, pol.ID, stored.PolicyID, tt.to)
			}
			sameTime(t, "expiry", l.Expiry, tt.expiry)
			sameTime(t, "stored expiry", stored.Expiry, tt.expiry)
		})
	}
}

// TestAttachUsers attaches 1 to 100 users, never the owner, all or none,
// within max users.
func TestAttachUsers(t *testing.T) {
	hundred := make([]string, 101)
	for i := range hundred {
		hundred[i] = "d1000000-0000-4000-8000-" + itoa(100000000000+int64(i))
	}
	tests := []struct {
		name                  string
		who                   *access.Principal
		ids                   []string
		licenseMax, policyMax *int64
		want                  want
		attached              []string // licenseA's licensees after
	}{
		{name: "one", who: admin(), ids: []string{stranger}, attached: []string{licensee, stranger}},
		{name: "none", who: admin(), ids: nil, want: paramsInvalid(apperr.Record())},
		{name: "100", who: admin(), ids: hundred[:100], attached: append([]string{licensee}, hundred[:100]...)},
		{name: "101", who: admin(), ids: hundred, want: paramsInvalid(apperr.Record())},
		{name: "the owner", who: admin(), ids: []string{stranger, owner}, want: unprocessable("USER_CONFLICT", apperr.Record().Item(1))},
		{name: "unknown, none attached", who: admin(), ids: []string{stranger, unknownID}, want: unprocessable("USER_NOT_FOUND", apperr.Record().Item(1))},
		{name: "attached already", who: admin(), ids: []string{licensee}, want: unprocessable("USER_TAKEN", apperr.Record().Item(0))},
		{name: "the same twice", who: admin(), ids: []string{stranger, stranger}, want: unprocessable("USER_TAKEN", apperr.Record().Item(1))},
		{name: "up to max users, owner included", who: admin(), ids: []string{stranger}, policyMax: n(3), attached: []string{licensee, stranger}},
		{name: "beyond max users", who: admin(), ids: []string{stranger}, policyMax: n(2), want: unprocessable("USER_LIMIT_EXCEEDED", apperr.Record())},
		{name: "the license's max users overrides", who: admin(), ids: []string{stranger}, licenseMax: n(3), policyMax: n(2), attached: []string{licensee, stranger}},
		{name: "its owner lacks license.users.attach", who: asUser(owner), ids: []string{stranger}, want: denied},
		{name: "anonymous", ids: []string{stranger}, want: tokenMissing},
		{name: "out of sight", who: asProduct(productB), ids: []string{stranger}, want: notFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			for _, id := range hundred {
				w.addUser(id)
			}
			w.policy(policyA).MaxUsers, w.license(licenseA).MaxUsers = tt.policyMax, tt.licenseMax
			err := w.svc.AttachUsers(t.Context(), tt.who, w.tenant, licenseA, tt.ids)
			if !expect(t, err, tt.want) {
				tt.attached = []string{licensee}
			}
			if got := w.db.licensees[licenseA]; !slices.Equal(got, tt.attached) {
				t.Errorf("licensees %v, want %v", got, tt.attached)
			}
		})
	}
}

// TestDetachUsers detaches 1 to 100 attached users, all or none.
func TestDetachUsers(t *testing.T) {
	many := make([]string, 101)
	for i := range many {
		many[i] = licensee
	}
	tests := []struct {
		name     string
		who      *access.Principal
		ids      []string
		want     want
		attached []string
	}{
		{name: "a licensee", who: asProduct(productA), ids: []string{licensee}, attached: []string{}},
		{name: "none", who: admin(), want: paramsInvalid(apperr.Record())},
		{name: "101", who: admin(), ids: many, want: paramsInvalid(apperr.Record())},
		{name: "one not attached, none detached", who: admin(), ids: []string{licensee, stranger}, want: unprocessable("USER_NOT_FOUND", apperr.Record().Item(1))},
		{name: "the owner is no licensee", who: admin(), ids: []string{owner}, want: unprocessable("USER_NOT_FOUND", apperr.Record().Item(0))},
		{name: "its owner lacks license.users.detach", who: asUser(owner), ids: []string{licensee}, want: denied},
		{name: "anonymous", ids: []string{licensee}, want: tokenMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			err := w.svc.DetachUsers(t.Context(), tt.who, w.tenant, licenseA, tt.ids)
			if !expect(t, err, tt.want) {
				tt.attached = []string{licensee}
			}
			if got := w.db.licensees[licenseA]; !slices.Equal(got, tt.attached) {
				t.Errorf("licensees %v, want %v", got, tt.attached)
			}
		})
	}
}

// TestRelated covers the reads of a license's relationships: its users,
// owner and policy.
func TestRelated(t *testing.T) {
	users := func(w *world, who *access.Principal, ref string) ([]string, error) {
		us, total, err := w.svc.Users(t.Context(), who, w.tenant, ref, page.Request{Limit: 10})
		var ids []string
		for _, u := range us {
			ids = append(ids, u.ID)
		}
		if err == nil && total != int64(len(ids)) {
			t.Errorf("total %d for %v", total, ids)
		}
		return ids, err
	}
	ownerOf := func(w *world, who *access.Principal, ref string) ([]string, error) {
		u, err := w.svc.Owner(t.Context(), who, w.tenant, ref)
		if u == nil {
			return nil, err
		}
		return []string{u.ID}, err
	}
	policyOf := func(w *world, who *access.Principal, ref string) ([]string, error) {
		pol, err := w.svc.Policy(t.Context(), who, w.tenant, ref)
		if err != nil {
			return nil, err
		}
		return []string{pol.ID}, nil
	}
	type read = func(w *world, who *access.Principal, ref string) ([]string, error)
	tests := []struct {
		name string
		read read
		who  *access.Principal
		ref  string
		want want
		ids  []string
	}{
		{"users: owner, then licensees", users, admin(), licenseA, ok, []string{owner, licensee}},
		{"users of an unowned license", users, asProduct(productB), licenseB, ok, nil},
		{"users: the license lacks user.read", users, asLicense(licenseA), licenseA, denied, nil},
		{"users: out of sight", users, asUser(stranger), licenseA, notFound, nil},
		{"owner", ownerOf, asUser(licensee), licenseA, ok, []string{owner}},
		{"owner of an unowned license", ownerOf, admin(), licenseB, ok, nil},
		{"owner: anonymous", ownerOf, nil, licenseA, tokenMissing, nil},
		{"policy", policyOf, asLicense(licenseA), licenseA, denied, nil}, // license.read but no policy.read by default
		{"policy, staff", policyOf, readOnly(), licenseB, ok, []string{policyB}},
		{"policy: a user lacks policy.read", policyOf, asUser(owner), licenseA, denied, nil},
		{"policy: out of sight", policyOf, asProduct(productB), licenseA, notFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			ids, err := tt.read(w, tt.who, tt.ref)
			if expect(t, err, tt.want) && !slices.Equal(ids, tt.ids) {
				t.Errorf("got %v, want %v", ids, tt.ids)
			}
		})
	}
}
