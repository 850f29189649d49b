package access

import (
	"testing"

	"github.com/relkey/relkey/internal/apperr"
)

func TestRoleDefaults(t *testing.T) {
	tests := []struct {
		role Role
		perm string
		want bool
	}{
		{RoleAdmin, "account.update", true},
		{RoleDeveloper, "product.delete", true},
		{RoleReadOnly, "product.read", true},
		{RoleReadOnly, "product.update", false},
		{RoleReadOnly, "token.generate", true},
		{RoleReadOnly, "token.revoke", false},
		{RoleProduct, "product.update", true},
		{RoleProduct, "product.delete", false},
		{RoleProduct, "product.create", false},
		{RoleProduct, "user.delete", false},
		{RoleUser, "product.read", false}, // removed from the defaults
		{RoleUser, "user.update", true},
		{RoleUser, "user.delete", false},
		{RoleLicense, "license.validate", true},
		{RoleLicense, "user.read", false},
		{RoleLicense, "token.generate", false},
		{Role("nobody"), "product.read", false},
	}
	for _, tt := range tests {
		if got := Defaults(tt.role).Has(tt.perm); got != tt.want {
			t.Errorf("%s has %s = %v, want %v", tt.role, tt.perm, got, tt.want)
		}
	}
	for _, role := range []Role{RoleReadOnly, RoleProduct, RoleUser, RoleLicense} {
		for p := range Defaults(role) {
			if !Known(p) {
				t.Errorf("%s default %q is not a known permission", role, p)
			}
		}
	}
}

func TestPrincipalPermissionsAreTokenIntersectBearer(t *testing.T) {
	p := NewPrincipal("a", RoleReadOnly, BearerUser, "u", "t", []string{"product.read", "product.delete"})
	if !p.Permissions.Has("product.read") || p.Permissions.Has("product.delete") || p.Permissions.Has("user.read") {
		t.Fatalf("effective permissions = %v", p.Permissions.Sorted())
	}
	if err := p.Require("product.delete"); err == nil {
		t.Fatal("a token cannot grant more than its bearer has")
	}
	full := NewPrincipal("a", RoleAdmin, BearerUser, "u", "t", nil)
	if len(full.Permissions) != len(All) {
		t.Fatal("nil token permissions defer to the bearer")
	}
	wild := NewPrincipal("a", RoleUser, BearerUser, "u", "t", []string{Wildcard})
	if len(wild.Permissions) != len(Defaults(RoleUser)) {
		t.Fatal("wildcard token permissions defer to the bearer")
	}
	var anon *Principal
	if err := anon.Require("product.read"); err != ErrTokenMissing {
		t.Fatalf("anonymous: %v", err)
	}
}

func TestIn(t *testing.T) {
	tests := []struct {
		name string
		who  *Principal
		ok   bool
	}{
		{"anonymous", nil, true},
		{"of the account", NewPrincipal("acct", RoleAdmin, BearerUser, "u1", "t1", nil), true},
		{"of another account", NewPrincipal("other", RoleAdmin, BearerUser, "u1", "t1", nil), false},
	}
	for _, tt := range tests {
		err := tt.who.In("acct")
		if tt.ok != (err == nil) {
			t.Errorf("%s: %v", tt.name, err)
		}
		if e := apperr.As(err); !tt.ok && (e == nil || e.Kind != apperr.Unauthenticated || e.Code != "TOKEN_INVALID") {
			t.Errorf("%s: %v, want 401 TOKEN_INVALID", tt.name, err)
		}
	}
}

// TestOperatorIsTheAccountsAdminWithoutABearer: the admin commands'
// principal reaches the whole account with every permission, but is no
// bearer a token could be issued to or a record could belong to.
func TestOperatorIsTheAccountsAdminWithoutABearer(t *testing.T) {
	op := Operator("acct")
	if !op.Staff() || len(op.Permissions) != len(All) || !ScopeOf(op).All || op.In("acct") != nil || op.In("other") == nil {
		t.Fatalf("operator %+v", op)
	}
	for _, bearer := range []string{BearerUser, BearerProduct, BearerLicense} {
		if op.Is(bearer, "") {
			t.Fatalf("the operator is a %s", bearer)
		}
	}
}
