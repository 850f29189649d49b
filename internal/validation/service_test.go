package validation

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/policy"
)

// service validates baseLicense, under pol, at clock.
func service(pol *policy.Policy) (*Service, *licenses, *touches) {
	found := &licenses{l: baseLicense(), pol: pol}
	recorded := &touches{}
	w := &world{versions: []string{"1.0.0"}}
	svc := NewService(found, w.validator(), recorded, &events{})
	svc.now = func() time.Time { return clock }
	return svc, found, recorded
}

func principal(accountID string, perms ...string) *access.Principal {
	return &access.Principal{AccountID: accountID, Role: access.RoleUser, BearerType: access.BearerUser, BearerID: "u", Permissions: access.NewSet(perms...)}
}

func TestServiceValidateNeedsSightAndPermission(t *testing.T) {
	tests := []struct {
		name, ref string
		who       *access.Principal
		quick     bool
		kind      apperr.Kind // of the error; Internal = none
	}{
		{name: "anonymous", ref: licenseID, kind: apperr.Unauthenticated},
		{name: "another account's", who: principal("elsewhere", "license.validate"), ref: licenseID, kind: apperr.NotFound},
		{name: "unknown", who: principal(accountID, "license.validate"), ref: "nope", kind: apperr.NotFound},
		{name: "in sight, no permission", who: principal(accountID, "license.read"), ref: licenseID, kind: apperr.Forbidden},
		{name: "validated", who: principal(accountID, "license.validate"), ref: licenseID},
		{name: "quick", who: principal(accountID, "license.validate"), ref: licenseID, quick: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := basePolicy()
			pol.ExpirationBasis, pol.Duration = policy.FromFirstValidation, ref[int64](3600)
			svc, found, recorded := service(pol)
			out, err := svc.Validate(context.Background(), tt.who, nil, tt.ref, Scope{}, tt.quick)
			if tt.kind != apperr.Internal {
				if !apperr.Is(err, tt.kind) || out.License != nil || len(*recorded) != 0 || len(found.started) != 0 {
					t.Fatalf("got %+v, %v (touches %v, started %v), want a %v error and nothing recorded", out, err, *recorded, found.started, tt.kind)
				}
				return
			}
			if err != nil || out.Result != valid || out.License != found.l || out.Policy != pol {
				t.Fatalf("got %+v, %v", out, err)
			}
			wantStarted, wantExpiry := []string{policy.FromFirstValidation}, at(time.Hour)
			if tt.quick {
				wantStarted, wantExpiry = nil, nil
			}
			if !reflect.DeepEqual(found.started, wantStarted) || !reflect.DeepEqual(out.License.Expiry, wantExpiry) {
				t.Fatalf("started %v (expiry %v), want %v (%v)", found.started, out.License.Expiry, wantStarted, wantExpiry)
			}
			want := touches{{accountID, licenseID, clock, ""}}
			if !reflect.DeepEqual(*recorded, want) || !out.License.LastValidatedAt.Equal(clock) {
				t.Fatalf("touches %v, last validated %v; want %v", *recorded, out.License.LastValidatedAt, want)
			}
		})
	}
}

func TestServiceValidateKey(t *testing.T) {
	tests := []struct {
		name, key, basis string // the policy's expiration basis
		who              *access.Principal
		scope            Scope
		found            bool
		code, version    string
		started          []string
		expiry           *time.Time
	}{
		{name: "unknown key", key: "NOPE", basis: policy.FromFirstValidation, code: "NOT_FOUND"},
		{name: "anonymous, expiry from first validation", key: "KEY", basis: policy.FromFirstValidation, found: true, code: "VALID",
			started: []string{policy.FromFirstValidation}, expiry: at(time.Hour)},
		{name: "expiry from creation", who: principal(accountID), key: "KEY", basis: policy.FromCreation, found: true, code: "VALID",
			started: []string{policy.FromFirstValidation}},
		{name: "a version is recorded", key: "KEY", basis: policy.FromCreation, scope: Scope{Version: optional.Of("1.0.0")}, found: true, code: "VALID",
			started: []string{policy.FromFirstValidation}, version: "1.0.0"},
		{name: "a verdict is recorded too", key: "KEY", basis: policy.FromCreation, scope: Scope{Version: optional.Of("9.9.9")}, found: true,
			code: "VERSION_SCOPE_MISMATCH", started: []string{policy.FromFirstValidation}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := basePolicy()
			pol.ExpirationBasis, pol.Duration = tt.basis, ref[int64](3600)
			svc, found, recorded := service(pol)
			out, err := svc.ValidateKey(context.Background(), tt.who, nil, tt.key, tt.scope)
			if err != nil || out.Result.Code != tt.code || (out.License != nil) != tt.found {
				t.Fatalf("got %+v, %v; want %s, license found %v", out, err, tt.code, tt.found)
			}
			// Only a version or checksum scope needs the license's sight
			// of releases read with it.
			if want := []bool{tt.scope.Version.Set || tt.scope.Checksum.Set}; !reflect.DeepEqual(found.scoped, want) {
				t.Fatalf("read asking for the reach %v, want %v", found.scoped, want)
			}
			if !reflect.DeepEqual(found.started, tt.started) || !reflect.DeepEqual(found.l.Expiry, tt.expiry) {
				t.Fatalf("started %v (expiry %v), want %v (%v)", found.started, found.l.Expiry, tt.started, tt.expiry)
			}
			if !tt.found {
				if out.Result != NotFound || out.Policy != nil || len(*recorded) != 0 {
					t.Fatalf("an unknown key: %+v, touches %v", out, *recorded)
				}
				return
			}
			if want := (touches{{accountID, licenseID, clock, tt.version}}); !reflect.DeepEqual(*recorded, want) {
				t.Fatalf("touches %v, want %v", *recorded, want)
			}
			if got := out.License.LastValidatedVersion; (tt.version == "") != (got == nil) || got != nil && *got != tt.version {
				t.Fatalf("last validated version %v, want %q", got, tt.version)
			}
		})
	}
}

// events records the events a validation emits.
type events []event.Occurrence

func (e *events) Emit(occ event.Occurrence) { *e = append(*e, occ) }
