package license

import (
	"testing"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/policy"
)

// TestShow: licenses come with their policies, each read once (none for the
// one the caller holds), and their machine totals in one read.
func TestShow(t *testing.T) {
	tests := []struct {
		name      string
		who       *access.Principal
		known     string // the policy the caller holds, "" for none
		licenses  []string
		wantGets  int
		wantError want
	}{
		{"one license", admin(), "", []string{licenseA}, 1, ok},
		{"the policy held", admin(), policyA, []string{licenseA}, 0, ok},
		{"two licenses, two policies", admin(), "", []string{licenseA, licenseB}, 2, ok},
		{"a policy shared", admin(), "", []string{licenseA, licenseA}, 1, ok},
		{"anonymous (validate-key shows them)", nil, "", []string{licenseA}, 1, ok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.db.machines[licenseA] = Totals{Count: 2, Cores: 8}
			var known *policy.Policy
			if tt.known != "" {
				known = w.policy(tt.known)
			}
			licenses := make([]*License, len(tt.licenses))
			for i, id := range tt.licenses {
				l := *w.license(id)
				licenses[i] = &l
			}
			w.db.policyGets, w.db.totalsReads = 0, 0
			shown, err := w.svc.Show(t.Context(), tt.who, w.tenant, known, licenses...)
			if !expect(t, err, tt.wantError) {
				return
			}
			if w.db.policyGets != tt.wantGets || w.db.totalsReads != 1 {
				t.Errorf("%d policy reads and %d totals reads, want %d and 1", w.db.policyGets, w.db.totalsReads, tt.wantGets)
			}
			for i, s := range shown {
				l := licenses[i]
				if s.License != l || s.Policy == nil || s.Policy.ID != l.PolicyID || s.Machines != w.db.machines[l.ID] {
					t.Errorf("shown %d: %+v, want license %s with policy %s and totals %+v", i, s, l.ID, l.PolicyID, w.db.machines[l.ID])
				}
			}
		})
	}
}
