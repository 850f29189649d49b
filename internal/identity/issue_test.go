package identity

import (
	"context"
	"testing"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
)

// fakeIssuer issues every token, recording whom for.
type fakeIssuer struct{ targets []token.Target }

func (f *fakeIssuer) Generate(_ context.Context, _ *access.Principal, _ *account.Tenant, target token.Target, _ token.Options) (*token.Token, string, error) {
	f.targets = append(f.targets, target)
	return &token.Token{BearerType: target.Type, BearerID: target.ID}, "raw", nil
}

func (f *fakeIssuer) IssueFor(_ context.Context, _ string, _ []byte, target token.Target, _ token.Options) (*token.Token, string, error) {
	f.targets = append(f.targets, target)
	return &token.Token{BearerType: target.Type, BearerID: target.ID}, "raw", nil
}

// fakeFinder finds the one record it holds under its ref.
type fakeFinder[T any] struct {
	ref   string
	found *T
}

func (f fakeFinder[T]) Find(_ context.Context, _ *access.Principal, _ *account.Tenant, ref string) (*T, error) {
	if ref != f.ref {
		return nil, apperr.NotFoundResource("bearer", ref)
	}
	return f.found, nil
}

// TestIssue: a token for the principal itself, or for the user, product or
// license it names and may see; what it may not see is not found.
func TestIssue(t *testing.T) {
	admin := access.NewPrincipal("acct", access.RoleAdmin, access.BearerUser, "u-admin", "t1", nil)
	tests := []struct {
		name     string
		who      *access.Principal
		to       For
		want     token.Target
		wantCode string
	}{
		{"itself", admin, For{}, token.Target{Type: token.BearerUser, ID: "u-admin", Role: access.RoleAdmin}, ""},
		{"a user", admin, For{Type: token.BearerUser, Ref: "ada@acme.test"}, token.Target{Type: token.BearerUser, ID: "u-ada", Role: access.RoleUser}, ""},
		{"a product", admin, For{Type: token.BearerProduct, Ref: "prod1"}, token.Target{Type: token.BearerProduct, ID: "prod1", Role: access.RoleProduct}, ""},
		{"a license by key", admin, For{Type: token.BearerLicense, Ref: "KEY-1"}, token.Target{Type: token.BearerLicense, ID: "lic1", Role: access.RoleLicense}, ""},
		{"a user out of sight", admin, For{Type: token.BearerUser, Ref: "nobody"}, token.Target{}, "NOT_FOUND"},
		{"anonymous", nil, For{}, token.Target{}, "TOKEN_MISSING"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issuer := &fakeIssuer{}
			s := NewIssuing(issuer,
				fakeFinder[user.User]{"ada@acme.test", &user.User{ID: "u-ada", Role: access.RoleUser}},
				fakeFinder[product.Product]{"prod1", &product.Product{ID: "prod1"}},
				fakeFinder[license.License]{"KEY-1", &license.License{ID: "lic1"}})
			tok, raw, err := s.Issue(context.Background(), tt.who, tenant, tt.to, token.Options{})
			if tt.wantCode != "" {
				if e := apperr.As(err); err == nil || e.Code != tt.wantCode || tok != nil || len(issuer.targets) != 0 {
					t.Fatalf("err %v, token %+v, issued %v; want %s and nothing issued", err, tok, issuer.targets, tt.wantCode)
				}
				return
			}
			if err != nil || raw != "raw" || len(issuer.targets) != 1 || issuer.targets[0] != tt.want {
				t.Fatalf("issued %v (%v), want one for %+v", issuer.targets, err, tt.want)
			}
		})
	}
}

// TestIssueToUser issues to the user a password proved, in the tenant.
func TestIssueToUser(t *testing.T) {
	issuer := &fakeIssuer{}
	s := NewIssuing(issuer, nil, nil, nil)
	if _, _, err := s.IssueToUser(context.Background(), tenant, &user.User{ID: "u-ro", Role: access.RoleReadOnly}, token.Options{}); err != nil {
		t.Fatal(err)
	}
	if want := (token.Target{Type: token.BearerUser, ID: "u-ro", Role: access.RoleReadOnly}); len(issuer.targets) != 1 || issuer.targets[0] != want {
		t.Fatalf("issued %v, want %+v", issuer.targets, want)
	}
}
