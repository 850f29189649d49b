package license

import (
	"cmp"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/policy"
)

// licenseState arranges licenseA and its policy for an authentication.
type licenseState struct {
	strategy   string // the policy's authentication strategy
	expiration string // the policy's expiration strategy, if not RESTRICT_ACCESS
	expiry     *time.Time
	suspended  bool
	banned     bool // its owner is
}

func (st licenseState) arrange(w *world) {
	pol, l := w.policy(policyA), w.license(licenseA)
	pol.AuthenticationStrategy = st.strategy
	if st.expiration != "" {
		pol.ExpirationStrategy = st.expiration
	}
	l.Expiry, l.Suspended = st.expiry, st.suspended
	if st.banned {
		w.ban(owner)
	}
}

// checkPrincipal checks the principal of licenseA built from it and its policy.
func checkPrincipal(t *testing.T, p *access.Principal, tokenID string) {
	t.Helper()
	if p.AccountID != acct || p.Role != access.RoleLicense || p.BearerType != access.BearerLicense || p.BearerID != licenseA ||
		p.TokenID != tokenID || p.ProductID != productA || p.PolicyID != policyA || p.OwnerID != owner {
		t.Errorf("principal %+v", p)
	}
}

// TestAuthenticate sets each case against both credentials: the license's
// key (AuthenticateLicense) and a token of the license (PrincipalForToken).
func TestAuthenticate(t *testing.T) {
	refused := func(code string) want { return want{kind: apperr.Forbidden, code: code} }
	keyNotAllowed, tokenNotAllowed := refused("LICENSE_NOT_ALLOWED"), refused("TOKEN_NOT_ALLOWED")
	tests := []struct {
		name           string
		state          licenseState
		key, id        string // the credentials, if not licenseA's
		byKey, byToken want
	}{
		{name: "LICENSE", state: licenseState{strategy: policy.AuthLicense}, byToken: tokenNotAllowed},
		{name: "MIXED", state: licenseState{strategy: policy.AuthMixed}},
		{name: "TOKEN", state: licenseState{strategy: policy.AuthToken}, byKey: keyNotAllowed},
		{name: "NONE", state: licenseState{strategy: policy.AuthNone}, byKey: keyNotAllowed, byToken: tokenNotAllowed},
		{name: "unknown", state: licenseState{strategy: policy.AuthMixed}, key: "NO-SUCH-KEY", id: unknownID,
			byKey: want{kind: apperr.Unauthenticated, code: "LICENSE_INVALID"}, byToken: want{kind: apperr.Unauthenticated, code: "TOKEN_INVALID"}},
		{name: "the id is no key", state: licenseState{strategy: policy.AuthMixed}, key: licenseA, byKey: want{kind: apperr.Unauthenticated, code: "LICENSE_INVALID"}},
		// Key authentication refuses banned, suspended and revoked licenses
		// before it looks at the strategy; a token authenticates, flagged.
		{name: "owner banned", state: licenseState{strategy: policy.AuthMixed, banned: true}, byKey: refused("LICENSE_BANNED")},
		{name: "banned before suspended", state: licenseState{strategy: policy.AuthMixed, banned: true, suspended: true}, byKey: refused("LICENSE_BANNED")},
		{name: "banned before not allowed", state: licenseState{strategy: policy.AuthToken, banned: true}, byKey: refused("LICENSE_BANNED")},
		{name: "suspended", state: licenseState{strategy: policy.AuthMixed, suspended: true}, byKey: refused("LICENSE_SUSPENDED")},
		{name: "suspended before not allowed", state: licenseState{strategy: policy.AuthNone, suspended: true}, byKey: refused("LICENSE_SUSPENDED"), byToken: tokenNotAllowed},
		{name: "expired, REVOKE_ACCESS", state: licenseState{strategy: policy.AuthMixed, expiration: policy.RevokeAccess, expiry: at(-time.Millisecond)}, byKey: refused("LICENSE_EXPIRED")},
		{name: "expiring now, REVOKE_ACCESS", state: licenseState{strategy: policy.AuthMixed, expiration: policy.RevokeAccess, expiry: at(0)}},
		{name: "expiring in a moment, REVOKE_ACCESS", state: licenseState{strategy: policy.AuthMixed, expiration: policy.RevokeAccess, expiry: at(time.Millisecond)}},
		{name: "expired, RESTRICT_ACCESS", state: licenseState{strategy: policy.AuthMixed, expiry: at(-day)}},
		{name: "expired, MAINTAIN_ACCESS", state: licenseState{strategy: policy.AuthMixed, expiration: policy.MaintainAccess, expiry: at(-day)}},
		{name: "expired, ALLOW_ACCESS", state: licenseState{strategy: policy.AuthMixed, expiration: policy.AllowAccess, expiry: at(-day)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			tt.state.arrange(w)
			key, id := cmp.Or(tt.key, keyA), cmp.Or(tt.id, licenseA)
			for _, keep := range []bool{true, false} {
				if p, err := w.svc.AuthenticateLicense(t.Context(), w.tenant, key, keep); expect(t, err, tt.byKey) {
					checkPrincipal(t, p, "")
					if !p.Permissions.Has("license.validate") || p.Permissions.Has("license.update") {
						t.Errorf("permissions %v, want the license role's", p.Permissions.Sorted())
					}
				}
			}
			p, err := w.svc.PrincipalForToken(t.Context(), acct, id, "token-1", nil)
			if !expect(t, err, tt.byToken) {
				return
			}
			checkPrincipal(t, p, "token-1")
			if p.LicenseSuspended != tt.state.suspended || p.LicenseBanned != tt.state.banned {
				t.Errorf("suspended %v, banned %v; want %v, %v", p.LicenseSuspended, p.LicenseBanned, tt.state.suspended, tt.state.banned)
			}
		})
	}
}

// TestTokenPermissionsNarrowTheLicense: a license token's permissions are
// the license role's, within the token's.
func TestTokenPermissionsNarrowTheLicense(t *testing.T) {
	w := newWorld(t)
	p, err := w.svc.PrincipalForToken(t.Context(), acct, licenseA, "token-1", []string{"license.read", "user.read"})
	expect(t, err, ok)
	if got := p.Permissions.Sorted(); len(got) != 1 || got[0] != "license.read" {
		t.Errorf("permissions %v, want [license.read] (the license role lacks user.read)", got)
	}
}

// TestPrincipalOfALicense: the principal names what the license belongs
// to, and the expiration basis while its expiry has yet to start.
func TestPrincipalOfALicense(t *testing.T) {
	tests := []struct {
		name           string
		license        string
		expiry         *time.Time
		basis          string
		duration       *int64
		ownerID        string
		expiryStartsOn string
	}{
		{"unstarted, FROM_FIRST_DOWNLOAD", licenseA, nil, policy.FromFirstDownload, days(7), owner, policy.FromFirstDownload},
		{"unstarted, FROM_FIRST_ACTIVATION", licenseA, nil, policy.FromFirstActivation, days(7), owner, policy.FromFirstActivation},
		{"started", licenseA, at(day), policy.FromFirstDownload, days(7), owner, ""},
		{"no duration", licenseA, nil, policy.FromFirstDownload, nil, owner, ""},
		{"unowned", licenseB, nil, policy.FromFirstDownload, days(7), "", policy.FromFirstDownload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			l := w.license(tt.license)
			pol := w.policy(l.PolicyID)
			pol.AuthenticationStrategy, pol.ExpirationBasis, pol.Duration = policy.AuthMixed, tt.basis, tt.duration
			l.Expiry = tt.expiry
			key := map[string]string{licenseA: keyA, licenseB: keyB}[tt.license]
			byKey, err := w.svc.AuthenticateLicense(t.Context(), w.tenant, key, true)
			expect(t, err, ok)
			narrow, err := w.svc.AuthenticateLicense(t.Context(), w.tenant, key, false)
			expect(t, err, ok)
			byToken, err := w.svc.PrincipalForToken(t.Context(), acct, tt.license, "token-1", nil)
			expect(t, err, ok)
			for _, p := range []*access.Principal{byKey, narrow, byToken} {
				if p.BearerID != tt.license || p.ProductID != l.ProductID || p.PolicyID != l.PolicyID || p.OwnerID != tt.ownerID || p.ExpiryStartsOn != tt.expiryStartsOn {
					t.Errorf("principal %+v, want owner %q, expiry starting on %q", p, tt.ownerID, tt.expiryStartsOn)
				}
			}
		})
	}
}

// TestOwnLicenseIsReadOnceEitherWay: the rules acting on the bearer's own
// license reuse what a keeping authentication read, and read it whole
// (once) after a narrow one; another license stays out of sight.
func TestOwnLicenseIsReadOnceEitherWay(t *testing.T) {
	tests := []struct {
		name  string
		keep  bool
		ref   string
		reads int // the license read with its policy, after authentication
	}{
		{"kept, its own", true, licenseA, 0},
		{"narrow, its own", false, licenseA, 1},
		{"narrow, another", false, licenseB, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.policy(policyA).AuthenticationStrategy = policy.AuthMixed
			w.license(licenseA).Metadata = map[string]any{"seat": "A"}
			who, err := w.svc.AuthenticateLicense(t.Context(), w.tenant, keyA, tt.keep)
			expect(t, err, ok)
			before := w.db.reads
			l, pol, err := w.svc.Visible(t.Context(), who, w.tenant, tt.ref)
			if got := w.db.reads - before; got != tt.reads {
				t.Errorf("read the license with its policy %d times, want %d", got, tt.reads)
			}
			if tt.ref != licenseA {
				expect(t, err, notFound)
				return
			}
			expect(t, err, ok)
			if l.ID != licenseA || l.Metadata["seat"] != "A" || l.Key != keyA || pol.ID != policyA || pol.AuthenticationStrategy != policy.AuthMixed {
				t.Errorf("license %+v, policy %s: want the whole license A, opened, and its policy", l, pol.ID)
			}
		})
	}
}
