package serializer

import (
	"encoding/json"
	"testing"

	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/policy"
)

// TestJoinIdentifiers rebuilds semver's pre-release and build parts as
// Keygen shows them.
func TestJoinIdentifiers(t *testing.T) {
	word, num := "beta", int64(3)
	tests := []struct {
		word *string
		num  *int64
		want any
	}{
		{nil, nil, nil},
		{&word, nil, "beta"},
		{nil, &num, "3"},
		{&word, &num, "beta.3"},
	}
	for _, tt := range tests {
		if got := joinIdentifiers(tt.word, tt.num); got != tt.want {
			t.Errorf("joinIdentifiers(%v, %v) = %v, want %v", tt.word, tt.num, got, tt.want)
		}
	}
}

// TestLicenseInherits: a license shows its own limits over its policy's,
// its policy's otherwise, and its owner as data null when it has none.
func TestLicenseInherits(t *testing.T) {
	own, fromPolicy := int64(2), int64(5)
	tests := []struct {
		name        string
		license     license.License
		wantMachine int64
		wantOwner   any
	}{
		{"policy's limit, no owner", license.License{ID: "l", PolicyID: "p"}, fromPolicy, nil},
		{"own limit, an owner", license.License{ID: "l", PolicyID: "p", MaxMachines: &own, OwnerID: ptr("u")}, own, map[string]any{"type": "users", "id": "u"}},
	}
	for _, tt := range tests {
		node := License(&license.Shown{License: &tt.license, Policy: &policy.Policy{ID: "p", MaxMachines: &fromPolicy}, Machines: license.Totals{Count: 1}})
		var doc struct {
			Attributes struct {
				MaxMachines int64 `json:"maxMachines"`
			} `json:"attributes"`
			Relationships struct {
				Owner struct{ Data any } `json:"owner"`
			} `json:"relationships"`
		}
		raw, _ := json.Marshal(node)
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Attributes.MaxMachines != tt.wantMachine || !sameJSON(doc.Relationships.Owner.Data, tt.wantOwner) {
			t.Errorf("%s: maxMachines %d, owner %v; want %d, %v", tt.name, doc.Attributes.MaxMachines, doc.Relationships.Owner.Data, tt.wantMachine, tt.wantOwner)
		}
	}
}

func ptr(s string) *string { return &s }

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
