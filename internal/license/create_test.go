package license

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/policy"
)

// TestCreate: the policy and owner must be visible, users create only for
// themselves and without privileged attributes, keys follow their rules or
// the policy's scheme, and the policy starts FROM_CREATION expiries.
func TestCreate(t *testing.T) {
	policyNotFound := unprocessable("POLICY_NOT_FOUND", apperr.Rel("policy"))
	ownerNotFound := unprocessable("OWNER_NOT_FOUND", apperr.Rel("owner"))
	onA := Relationships{Policy: policyA}
	mine := Relationships{Policy: policyA, Owner: owner}
	key := func(k string) Params { return Params{Key: optional.Of(k)} }
	scheme := func(name string) func(w *world) {
		return func(w *world) { w.policy(policyA).Scheme = s(name) }
	}
	tests := []struct {
		name  string
		who   *access.Principal
		rel   Relationships
		p     Params
		setup func(w *world)
		want  want
		check func(t *testing.T, w *world, l *License)
	}{
		{name: "anonymous", rel: onA, want: tokenMissing},
		{name: "read-only lacks license.create", who: readOnly(), rel: onA, want: denied},
		{name: "no policy", who: admin(), want: policyNotFound},
		{name: "unknown policy", who: admin(), rel: Relationships{Policy: unknownID}, want: policyNotFound},
		{name: "another product's policy", who: asProduct(productB), rel: onA, want: policyNotFound},
		{name: "unknown owner", who: admin(), rel: Relationships{Policy: policyA, Owner: unknownID}, want: ownerNotFound},
		{name: "a user names another owner", who: asUser(owner), rel: Relationships{Policy: policyA, Owner: stranger}, want: ownerNotFound},
		{name: "a user creates one without owner", who: asUser(owner), rel: onA, want: denied},
		{name: "a user under a protected policy", who: asUser(owner), rel: mine,
			setup: func(w *world) { w.policy(policyA).Protected = true }, want: denied},
		{name: "a user for itself", who: asUser(owner), rel: mine, check: func(t *testing.T, _ *world, l *License) {
			if l.OwnerID == nil || *l.OwnerID != owner || l.PolicyID != policyA || l.ProductID != productA || l.AccountID != acct {
				t.Errorf("license %+v, want owner %s under %s of %s", l, owner, policyA, productA)
			}
		}},
		{name: "a user sets expiry", who: asUser(owner), rel: mine, p: Params{Expiry: optional.Of(at(day))}, want: paramsInvalid(apperr.Attr("expiry"))},
		{name: "a user sets suspended", who: asUser(owner), rel: mine, p: Params{Suspended: optional.Of(false)}, want: paramsInvalid(apperr.Attr("suspended"))},
		{name: "a user sets protected", who: asUser(owner), rel: mine, p: Params{Protected: optional.Of(b(false))}, want: paramsInvalid(apperr.Attr("protected"))},
		{name: "a user sets max_machines", who: asUser(owner), rel: mine, p: Params{MaxMachines: optional.Of(n(9))}, want: paramsInvalid(apperr.Attr("max_machines"))},
		{name: "a user sets max_uses", who: asUser(owner), rel: mine, p: Params{MaxUses: optional.Of(n(9))}, want: paramsInvalid(apperr.Attr("max_uses"))},
		{name: "a product sets privileged attributes", who: asProduct(productA), rel: onA,
			p: Params{Expiry: optional.Of(at(2*day + 1500*time.Microsecond)), Suspended: optional.Of(true), MaxUses: optional.Of(n(9))},
			check: func(t *testing.T, _ *world, l *License) {
				sameTime(t, "expiry (to the millisecond)", l.Expiry, at(2*day+time.Millisecond))
				if !l.Suspended || l.MaxUses == nil || *l.MaxUses != 9 {
					t.Errorf("suspended %v, max uses %v", l.Suspended, l.MaxUses)
				}
			}},
		{name: "key too short", who: admin(), rel: onA, p: key("ABCDE"), want: unprocessable("KEY_TOO_SHORT", apperr.Attr("key"))},
		{name: "key of 6", who: admin(), rel: onA, p: key("ABCDEF"), check: hasKey("ABCDEF")},
		{name: "key too long", who: admin(), rel: onA, p: key(strings.Repeat("K", 16<<10+1)), want: unprocessable("KEY_TOO_LONG", apperr.Attr("key"))},
		{name: "key of 16384", who: admin(), rel: onA, p: key(strings.Repeat("K", 16<<10)), check: hasKey(strings.Repeat("K", 16<<10))},
		{name: "key shaped as an id", who: admin(), rel: onA, p: key(unknownID), want: unprocessable("KEY_NOT_ALLOWED", apperr.Attr("key"))},
		{name: "key actions", who: admin(), rel: onA, p: key("actions"), want: unprocessable("KEY_NOT_ALLOWED", apperr.Attr("key"))},
		{name: "key action", who: admin(), rel: onA, p: key("action"), want: unprocessable("KEY_NOT_ALLOWED", apperr.Attr("key"))},
		{name: "key taken", who: admin(), rel: onA, p: key(keyA), want: unprocessable("KEY_TAKEN", apperr.Attr("key"))},
		{name: "generated key", who: admin(), rel: onA, check: func(t *testing.T, _ *world, l *License) {
			if !regexp.MustCompile(`^[0-9A-F]{6}(-[0-9A-F]{6}){4}-V3$`).MatchString(l.Key) {
				t.Errorf("generated key %q", l.Key)
			}
		}},
		{name: "name too long", who: admin(), rel: onA, p: Params{Name: optional.Of(s(strings.Repeat("n", 1025)))}, want: unprocessable("NAME_TOO_LONG", apperr.Attr("name"))},
		{name: "limit below its minimum", who: admin(), rel: onA, p: Params{MaxProcesses: optional.Of(n(0))}, want: unprocessable("MAX_PROCESSES_INVALID", apperr.Attr("max_processes"))},
		{name: "FROM_CREATION starts the expiry", who: admin(), rel: onA,
			setup: func(w *world) { w.policy(policyA).Duration = days(30) },
			check: func(t *testing.T, _ *world, l *License) {
				sameTime(t, "created", &l.CreatedAt, at(0))
				sameTime(t, "expiry", l.Expiry, at(30*day))
			}},
		{name: "FROM_FIRST_USE does not", who: admin(), rel: onA,
			setup: func(w *world) {
				w.policy(policyA).Duration, w.policy(policyA).ExpirationBasis = days(30), policy.FromFirstUse
			},
			check: func(t *testing.T, _ *world, l *License) { sameTime(t, "expiry", l.Expiry, nil) }},
		{name: "a given expiry beats the policy's", who: admin(), rel: onA, p: Params{Expiry: optional.Of(at(day))},
			setup: func(w *world) { w.policy(policyA).Duration = days(30) },
			check: func(t *testing.T, _ *world, l *License) { sameTime(t, "expiry", l.Expiry, at(day)) }},
		{name: "check-in policies start checked in", who: admin(), rel: onA,
			setup: func(w *world) { w.policy(policyA).RequireCheckIn = true },
			check: func(t *testing.T, _ *world, l *License) { sameTime(t, "last check-in", l.LastCheckInAt, at(0)) }},
		{name: "ED25519_SIGN signs Keygen's dataset", who: admin(), rel: mine, setup: scheme(policy.SchemeED25519),
			check: func(t *testing.T, w *world, l *License) {
				var dataset struct {
					Account, Product, Policy, User struct{ ID string }
					License                        struct{ ID, Created string }
				}
				if err := json.Unmarshal(signedDataset(t, w, l.Key), &dataset); err != nil {
					t.Fatal(err)
				}
				if dataset.Account.ID != acct || dataset.Product.ID != productA || dataset.Policy.ID != policyA ||
					dataset.User.ID != owner || dataset.License.ID != l.ID || dataset.License.Created != "2026-03-10T12:00:00.000Z" {
					t.Errorf("dataset %+v", dataset)
				}
			}},
		{name: "ED25519_SIGN signs a given key of any length", who: admin(), rel: onA, p: key("abc"), setup: scheme(policy.SchemeED25519),
			check: func(t *testing.T, w *world, l *License) {
				if got := string(signedDataset(t, w, l.Key)); got != "abc" {
					t.Errorf("dataset %q, want abc", got)
				}
			}},
		{name: "RSA_2048_JWT_RS256 signs Keygen's claims", who: admin(), rel: onA, setup: func(w *world) {
			w.policy(policyA).Scheme, w.policy(policyA).Duration = s(policy.SchemeJWTRS256), days(30)
		}, check: func(t *testing.T, _ *world, l *License) {
			c := jwtClaims(t, l.Key)
			if c["sub"] != l.ID || uuid.Validate(fmt.Sprint(c["jti"])) != nil || c["jti"] == l.ID || c["aud"] != acct || c["iat"] != float64(clock.Unix()) || c["exp"] != float64(clock.Add(30*day).Unix()) {
				t.Errorf("claims %v", c)
			}
		}},
		{name: "RSA_2048_JWT_RS256 signs given claims", who: admin(), rel: onA, p: key(`{"sub":"custom","tier":2}`), setup: scheme(policy.SchemeJWTRS256),
			check: func(t *testing.T, _ *world, l *License) {
				if c := jwtClaims(t, l.Key); c["sub"] != "custom" || c["tier"] != float64(2) || len(c) != 2 {
					t.Errorf("claims %v", c)
				}
			}},
		{name: "RSA_2048_JWT_RS256 refuses a key that is not claims", who: admin(), rel: onA, p: key("not json"), setup: scheme(policy.SchemeJWTRS256),
			want: unprocessable("KEY_JWT_CLAIMS_INVALID", apperr.Attr("key"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			if tt.setup != nil {
				tt.setup(w)
			}
			before := len(w.db.licenses)
			l, err := w.svc.Create(t.Context(), tt.who, w.tenant, tt.rel, tt.p)
			if !expect(t, err, tt.want) {
				if len(w.db.licenses) != before {
					t.Error("a refused license was stored")
				}
				return
			}
			stored := w.license(l.ID)
			switch {
			case stored == nil:
				t.Fatal("not stored")
			case l.Key == "" || stored.KeyDigest != Digest(w.tenant.Keys.Secret, l.Key) || stored.KeySealed != "sealed:"+l.Key:
				t.Errorf("key %q stored with digest %s, sealed %q", l.Key, stored.KeyDigest, stored.KeySealed)
			}
			if tt.check != nil {
				tt.check(t, w, l)
			}
		})
	}
}

// TestImport: a copied license keeps its key as issued whatever the
// policy's scheme (a signed key is not signed again), and otherwise follows
// Create's rules.
func TestImport(t *testing.T) {
	onA := Relationships{Policy: policyA}
	key := func(k string) Params { return Params{Key: optional.Of(k)} }
	signed := "key/" + base64.URLEncoding.EncodeToString([]byte("dataset")) + ".c2lnbmF0dXJl"
	jwtKey := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	tests := []struct {
		name   string
		who    *access.Principal
		p      Params
		scheme string
		want   want
		check  func(t *testing.T, w *world, l *License)
	}{
		{name: "read-only lacks license.create", who: readOnly(), p: key("IMPORTED-1"), want: denied},
		{name: "a plain key", who: admin(), p: key("IMPORTED-1"), check: hasKey("IMPORTED-1")},
		{name: "an ED25519_SIGN key is kept, not signed again", who: admin(), p: key(signed), scheme: policy.SchemeED25519, check: hasKey(signed)},
		{name: "an RS256 key is kept", who: admin(), p: key(jwtKey), scheme: policy.SchemeJWTRS256, check: hasKey(jwtKey)},
		{name: "with its attributes", who: admin(), p: Params{Key: optional.Of("IMPORTED-2"), Suspended: optional.Of(true), Expiry: optional.Of[*time.Time](nil)},
			check: func(t *testing.T, _ *world, l *License) {
				if !l.Suspended || l.Expiry != nil || l.Key != "IMPORTED-2" {
					t.Errorf("license %+v", l)
				}
			}},
		{name: "without a key", who: admin(), want: unprocessable("KEY_MISSING", apperr.Attr("key"))},
		{name: "a key too short", who: admin(), p: key("ABC"), scheme: policy.SchemeED25519, want: unprocessable("KEY_TOO_SHORT", apperr.Attr("key"))},
		{name: "a key taken", who: admin(), p: key(keyA), want: unprocessable("KEY_TAKEN", apperr.Attr("key"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			if tt.scheme != "" {
				w.policy(policyA).Scheme = s(tt.scheme)
			}
			before := len(w.db.licenses)
			l, err := w.svc.Import(t.Context(), tt.who, w.tenant, onA, tt.p)
			if !expect(t, err, tt.want) {
				if len(w.db.licenses) != before {
					t.Error("a refused license was stored")
				}
				return
			}
			if stored := w.license(l.ID); stored == nil || stored.KeyDigest != Digest(w.tenant.Keys.Secret, l.Key) {
				t.Fatalf("stored %+v", stored)
			}
			tt.check(t, w, l)
		})
	}
}

func hasKey(key string) func(t *testing.T, w *world, l *License) {
	return func(t *testing.T, _ *world, l *License) {
		if l.Key != key {
			t.Errorf("key %q, want %q", l.Key, key)
		}
	}
}

// signedDataset verifies an ED25519_SIGN key with the account's public key
// and returns the dataset it signs.
func signedDataset(t *testing.T, w *world, key string) []byte {
	t.Helper()
	signingData, sig, found := strings.Cut(key, ".")
	encoded, isKey := strings.CutPrefix(signingData, "key/")
	if !found || !isKey {
		t.Fatalf("key %q is not key/<dataset>.<signature>", key)
	}
	rawSig, err := base64.URLEncoding.DecodeString(sig)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(w.tenant.Keys.Signing.Public().(ed25519.PublicKey), []byte(signingData), rawSig) {
		t.Fatalf("key %q does not verify with the account's public key", key)
	}
	dataset, err := base64.URLEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatal(err)
	}
	return dataset
}

// jwtClaims verifies an RS256 key with the account's RSA public key.
func jwtClaims(t *testing.T, key string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(key, claims, func(*jwt.Token) (any, error) { return &rsaKey().PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	if err != nil {
		t.Fatalf("key %q: %v", key, err)
	}
	return claims
}
