package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
)

// fakeTokens answers every token with tok (or err), recording what it
// was asked.
type fakeTokens struct {
	tok   *token.Token
	err   error
	asked []string
}

func (f *fakeTokens) Authenticate(_ context.Context, accountID string, secret []byte, raw string) (*token.Token, error) {
	f.asked = append(f.asked, accountID+"|"+string(secret)+"|"+raw)
	return f.tok, f.err
}

// fakeUsers holds users by id; err fails Bearer, login is what
// Authenticate answers.
type fakeUsers struct {
	byID     map[string]*user.User
	err      error
	login    *user.User
	loginErr error
	logins   []string
}

// bearer finds "account/id" in byID unless err; NotFound otherwise.
func bearer[T any](byID map[string]*T, err error, resource, accountID, id string) (*T, error) {
	if v, ok := byID[accountID+"/"+id]; ok && err == nil {
		return v, nil
	}
	if err == nil {
		err = apperr.NotFoundResource(resource, id)
	}
	return nil, err
}

func (f *fakeUsers) Bearer(_ context.Context, accountID, id string) (*user.User, error) {
	return bearer(f.byID, f.err, "user", accountID, id)
}

func (f *fakeUsers) Authenticate(_ context.Context, accountID, email, password string, _ *string) (*user.User, error) {
	f.logins = append(f.logins, accountID+"|"+email+"|"+password)
	return f.login, f.loginErr
}

type fakeProducts struct {
	byID map[string]*product.Product
	err  error
}

func (f *fakeProducts) Bearer(_ context.Context, accountID, id string) (*product.Product, error) {
	return bearer(f.byID, f.err, "product", accountID, id)
}

// fakeLicenses answers with principal and found, or err, and records
// each call.
type fakeLicenses struct {
	principal *access.Principal
	found     *license.License
	err       error
	calls     []string
}

func (f *fakeLicenses) AuthenticateLicense(_ context.Context, t *account.Tenant, key string, keep bool) (*access.Principal, error) {
	f.calls = append(f.calls, fmt.Sprintf("key:%s|%s|%t", t.ID, key, keep))
	return f.answer()
}

func (f *fakeLicenses) answer() (*access.Principal, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.principal, nil
}

func (f *fakeLicenses) PrincipalForToken(_ context.Context, accountID, licenseID, tokenID string, perms []string) (*access.Principal, error) {
	f.calls = append(f.calls, "token:"+accountID+"|"+licenseID+"|"+tokenID+"|"+strings.Join(perms, ","))
	return f.answer()
}

func (f *fakeLicenses) Find(_ context.Context, who *access.Principal, t *account.Tenant, ref string) (*license.License, error) {
	f.calls = append(f.calls, "find:"+who.BearerID+"|"+t.ID+"|"+ref)
	if f.err != nil {
		return nil, f.err
	}
	return f.found, nil
}

var (
	tenant    = &account.Tenant{Account: &account.Account{ID: "acct"}, Keys: account.Keys{Secret: []byte("s3cret")}}
	bannedAt  = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	errDown   = apperr.New(apperr.Unavailable, "SERVICE_UNAVAILABLE", "the database is down")
	licensePr = &access.Principal{AccountID: "acct", Role: access.RoleLicense, BearerType: access.BearerLicense, BearerID: "lic1", ProductID: "prod1"}
)

type fixture struct {
	svc      *Service
	tokens   *fakeTokens
	users    *fakeUsers
	products *fakeProducts
	licenses *fakeLicenses
}

func newFixture() *fixture {
	f := &fixture{
		tokens: &fakeTokens{},
		users: &fakeUsers{byID: map[string]*user.User{
			"acct/u-admin":  {ID: "u-admin", Role: access.RoleAdmin},
			"acct/u-user":   {ID: "u-user", Role: access.RoleUser},
			"acct/u-ro":     {ID: "u-ro", Role: access.RoleReadOnly},
			"acct/u-banned": {ID: "u-banned", Role: access.RoleAdmin, BannedAt: &bannedAt},
		}},
		products: &fakeProducts{byID: map[string]*product.Product{"acct/prod1": {ID: "prod1"}}},
		licenses: &fakeLicenses{principal: licensePr, found: &license.License{ID: "lic1"}},
	}
	f.svc = NewService(f.tokens, f.users, f.products, f.licenses)
	return f
}

// wantErr checks an error's kind and code.
func wantErr(t *testing.T, err error, kind apperr.Kind, code string) {
	t.Helper()
	if e := apperr.As(err); err == nil || e.Kind != kind || e.Code != code {
		t.Fatalf("err = %v, want kind %d %s", err, kind, code)
	}
}

// refused checks the outcome of a case that expects errIs passed
// through, or an error of kind and code, and nothing returned with it; it
// reports whether the case expected a refusal (else it checks no error).
func refused(t *testing.T, returned bool, err, errIs error, kind apperr.Kind, code string) bool {
	t.Helper()
	switch {
	case errIs != nil && !errors.Is(err, errIs):
		t.Fatalf("err = %v, want %v passed through", err, errIs)
	case errIs == nil && code != "":
		wantErr(t, err, kind, code)
	case errIs == nil && err != nil:
		t.Fatal(err)
	case errIs == nil:
		return false
	}
	if returned {
		t.Fatal("a refusal returned a value beside its error")
	}
	return true
}

func TestToken(t *testing.T) {
	tok := func(bearerType, bearerID string, perms ...string) *token.Token {
		return &token.Token{ID: "tok1", AccountID: "acct", BearerType: bearerType, BearerID: bearerID, Permissions: perms}
	}
	tests := []struct {
		name      string
		tok       *token.Token
		tokErr    error // from Tokens.Authenticate
		usersErr  error // from Users.Bearer
		prodErr   error // from Products.Bearer
		licErr    error // from Licenses.PrincipalForToken
		role      access.Role
		perms     []string // effective; nil for the role's defaults
		principal *access.Principal
		errIs     error // the very error passed through
		kind      apperr.Kind
		code      string
	}{
		{name: "admin user, token defers", tok: tok(token.BearerUser, "u-admin"), role: access.RoleAdmin},
		{name: "admin user, wildcard token", tok: tok(token.BearerUser, "u-admin", "*"), role: access.RoleAdmin},
		{name: "user, token narrower than the role", tok: tok(token.BearerUser, "u-user", "license.read", "machine.read"),
			role: access.RoleUser, perms: []string{"license.read", "machine.read"}},
		{name: "read-only user, token cannot widen the role", tok: tok(token.BearerUser, "u-ro", "product.read", "product.delete", "user.ban"),
			role: access.RoleReadOnly, perms: []string{"product.read"}},
		{name: "user, token of no permission", tok: tok(token.BearerUser, "u-user", []string{}...), role: access.RoleUser, perms: []string{}},
		{name: "banned user", tok: tok(token.BearerUser, "u-banned"), kind: apperr.Forbidden, code: "USER_BANNED"},
		{name: "user gone", tok: tok(token.BearerUser, "u-gone"), kind: apperr.Unauthenticated, code: "TOKEN_INVALID"},
		{name: "user lookup fails", tok: tok(token.BearerUser, "u-admin"), usersErr: errDown, errIs: errDown},
		{name: "product", tok: tok(token.BearerProduct, "prod1"), role: access.RoleProduct},
		{name: "product, narrowed", tok: tok(token.BearerProduct, "prod1", "license.read", "account.update"),
			role: access.RoleProduct, perms: []string{"license.read"}},
		{name: "product gone", tok: tok(token.BearerProduct, "prod-gone"), kind: apperr.Unauthenticated, code: "TOKEN_INVALID"},
		{name: "product lookup fails", tok: tok(token.BearerProduct, "prod1"), prodErr: errDown, errIs: errDown},
		{name: "license token, delegated", tok: tok(token.BearerLicense, "lic1", "license.validate"), principal: licensePr},
		{name: "license token refused", tok: tok(token.BearerLicense, "lic1", "license.validate"), licErr: errDown, errIs: errDown},
		{name: "unknown bearer type", tok: tok("environments", "env1"), kind: apperr.Unauthenticated, code: "TOKEN_INVALID"},
		{name: "empty bearer type", tok: tok("", "u-admin"), kind: apperr.Unauthenticated, code: "TOKEN_INVALID"},
		{name: "token refused", tokErr: ErrTokenInvalid, errIs: ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture()
			f.tokens.tok, f.tokens.err = tt.tok, tt.tokErr
			f.users.err, f.products.err, f.licenses.err = tt.usersErr, tt.prodErr, tt.licErr
			got, err := f.svc.Token(context.Background(), tenant, "raw-token")
			if !slices.Equal(f.tokens.asked, []string{"acct|s3cret|raw-token"}) {
				t.Errorf("tokens asked %v, want the tenant's id and secret with the raw token", f.tokens.asked)
			}
			if refused(t, got != nil, err, tt.errIs, tt.kind, tt.code) {
				return
			}
			if tt.principal != nil {
				if got != tt.principal || !slices.Equal(f.licenses.calls, []string{"token:acct|lic1|tok1|license.validate"}) {
					t.Fatalf("%v after %v; want the licenses' principal for (acct, lic1, tok1, its permissions)", got, f.licenses.calls)
				}
				return
			}
			want := access.Defaults(tt.role)
			if tt.perms != nil {
				want = access.NewSet(tt.perms...)
			}
			if got.AccountID != "acct" || got.Role != tt.role || got.BearerType != tt.tok.BearerType || got.BearerID != tt.tok.BearerID ||
				got.TokenID != "tok1" || !slices.Equal(got.Permissions.Sorted(), want.Sorted()) {
				t.Fatalf("principal %+v (%d permissions), want %s %s/%s by tok1 with %v", got, len(got.Permissions), tt.role, tt.tok.BearerType, tt.tok.BearerID, tt.perms)
			}
		})
	}
}

func TestLicenseKey(t *testing.T) {
	for _, keep := range []bool{true, false} {
		f := newFixture()
		want := fmt.Sprintf("key:acct|KEY-1|%t", keep)
		if got, err := f.svc.LicenseKey(context.Background(), tenant, "KEY-1", keep); err != nil || got != licensePr || !slices.Equal(f.licenses.calls, []string{want}) {
			t.Errorf("%v, %v after %v; want the licenses' principal for the key, asked %s", got, err, f.licenses.calls, want)
		}
	}
	f := newFixture()
	f.licenses.err = errDown
	if got, err := f.svc.LicenseKey(context.Background(), tenant, "KEY-1", true); !errors.Is(err, errDown) || got != nil {
		t.Errorf("%v, %v; want the licenses' error", got, err)
	}
}

// TestPrincipalsOfAnotherAccountDoNotAuthenticate: the licenses look
// principals up within the tenant; one of another account is refused.
func TestPrincipalsOfAnotherAccountDoNotAuthenticate(t *testing.T) {
	elsewhere := *licensePr
	elsewhere.AccountID = "other"
	f := newFixture()
	f.licenses.principal = &elsewhere
	if got, err := f.svc.LicenseKey(context.Background(), tenant, "KEY-1", false); got != nil || !apperr.Is(err, apperr.Unauthenticated) || apperr.As(err).Code != "TOKEN_INVALID" {
		t.Errorf("license key: %v, %v; want TOKEN_INVALID", got, err)
	}
	f.tokens.tok = &token.Token{ID: "tok1", AccountID: "acct", BearerType: token.BearerLicense, BearerID: "lic1"}
	if got, err := f.svc.Token(context.Background(), tenant, "raw-token"); got != nil || !apperr.Is(err, apperr.Unauthenticated) || apperr.As(err).Code != "TOKEN_INVALID" {
		t.Errorf("license token: %v, %v; want TOKEN_INVALID", got, err)
	}
}

func TestPassword(t *testing.T) {
	wrong := apperr.AtHeader(apperr.Unauthenticated, "PASSWORD_INVALID", "is invalid", "Authorization")
	tests := []struct {
		name     string
		login    *user.User
		loginErr error
		errIs    error
		code     string
	}{
		{name: "right password", login: &user.User{ID: "u1"}},
		{name: "wrong password", loginErr: wrong, errIs: wrong},
		{name: "unknown email", loginErr: errDown, errIs: errDown},
		{name: "banned", login: &user.User{ID: "u1", BannedAt: &bannedAt}, code: "USER_BANNED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture()
			f.users.login, f.users.loginErr = tt.login, tt.loginErr
			got, err := f.svc.Password(context.Background(), tenant, "a@b.c", "pw", nil)
			if !slices.Equal(f.users.logins, []string{"acct|a@b.c|pw"}) {
				t.Errorf("users asked %v", f.users.logins)
			}
			if !refused(t, got != nil, err, tt.errIs, apperr.Forbidden, tt.code) && got != tt.login {
				t.Fatalf("%+v, want the user", got)
			}
		})
	}
}

func TestMe(t *testing.T) {
	userPr := access.NewPrincipal("acct", access.RoleUser, access.BearerUser, "u-user", "tok1", nil)
	productPr := access.NewPrincipal("acct", access.RoleProduct, access.BearerProduct, "prod1", "tok2", nil)
	tests := []struct {
		name string
		who  *access.Principal
		fail bool   // every lookup fails
		want string // which bearer is set, and its id
		code string
	}{
		{name: "anonymous", code: "TOKEN_MISSING"},
		{name: "user", who: userPr, want: "user:u-user"},
		{name: "product", who: productPr, want: "product:prod1"},
		{name: "license", who: licensePr, want: "license:lic1"},
		{name: "user gone", who: access.NewPrincipal("acct", access.RoleUser, access.BearerUser, "u-gone", "", nil), code: "NOT_FOUND"},
		{name: "product gone", who: access.NewPrincipal("acct", access.RoleProduct, access.BearerProduct, "prod-gone", "", nil), code: "NOT_FOUND"},
		{name: "user lookup fails", who: userPr, fail: true, code: "SERVICE_UNAVAILABLE"},
		{name: "product lookup fails", who: productPr, fail: true, code: "SERVICE_UNAVAILABLE"},
		{name: "license lookup fails", who: licensePr, fail: true, code: "SERVICE_UNAVAILABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture()
			if tt.fail {
				f.users.err, f.products.err, f.licenses.err = errDown, errDown, errDown
			}
			b, err := f.svc.Me(context.Background(), tt.who, tenant)
			if tt.code != "" {
				if e := apperr.As(err); err == nil || e.Code != tt.code {
					t.Fatalf("%+v, %v; want %s", b, err, tt.code)
				}
				if tt.who == nil && b != (Bearer{}) {
					t.Fatalf("anonymous bearer %+v", b)
				}
				return
			}
			var set []string
			if b.User != nil {
				set = append(set, "user:"+b.User.ID)
			}
			if b.Product != nil {
				set = append(set, "product:"+b.Product.ID)
			}
			if b.License != nil {
				set = append(set, "license:"+b.License.ID)
			}
			if err != nil || !slices.Equal(set, []string{tt.want}) {
				t.Fatalf("bearer %v, %v; want exactly %s", set, err, tt.want)
			}
			if tt.who == licensePr && !slices.Equal(f.licenses.calls, []string{"find:lic1|acct|lic1"}) {
				t.Errorf("licenses asked %v, want the license found as itself", f.licenses.calls)
			}
		})
	}
}
