package access

import "testing"

func TestScopeOf(t *testing.T) {
	license := &Principal{Role: RoleLicense, BearerType: BearerLicense, BearerID: "l", ProductID: "p", PolicyID: "pol"}
	for _, tt := range []struct {
		name string
		who  *Principal
		want Scope
	}{
		{"anonymous", nil, Scope{}},
		{"admin", &Principal{Role: RoleAdmin, BearerType: BearerUser, BearerID: "u"}, Scope{All: true}},
		{"read-only staff", &Principal{Role: RoleReadOnly, BearerType: BearerUser, BearerID: "u"}, Scope{All: true}},
		{"product", &Principal{Role: RoleProduct, BearerType: BearerProduct, BearerID: "p"}, Scope{ProductID: "p"}},
		{"license", license, Scope{LicenseID: "l", LicensePolicyID: "pol", LicenseProductID: "p"}},
		{"user", &Principal{Role: RoleUser, BearerType: BearerUser, BearerID: "u"}, Scope{UserID: "u"}},
	} {
		if got := ScopeOf(tt.who); got != tt.want {
			t.Errorf("%s: ScopeOf = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
