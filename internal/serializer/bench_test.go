package serializer

import (
	"testing"
	"time"

	"github.com/google/jsonapi"

	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/policy"
)

// BenchmarkLicenseDocument builds and encodes a license document as
// validate-key renders it.
func BenchmarkLicenseDocument(b *testing.B) {
	now := time.Now()
	maxMachines, owner := int64(5), "0b8f2a64-3c1d-4e5f-8a9b-0c1d2e3f4a5b"
	l := &license.License{ID: "5a1f7e0c-1d2b-4c3d-9e8f-0a1b2c3d4e5f", AccountID: "9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a",
		ProductID: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", PolicyID: "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a", OwnerID: &owner,
		Key: "C1B6DE-39A6E3-DE1529-8559A1-C4E3B4-V3", MaxMachines: &maxMachines, LastValidatedAt: &now, CreatedAt: now, UpdatedAt: now,
		Metadata: map[string]any{"customer_id": "cus_123"}}
	shown := &license.Shown{License: l, Policy: &policy.Policy{ID: l.PolicyID, Floating: true}, Machines: license.Totals{Count: 1}}
	meta := &jsonapi.Meta{"ts": document.Time(now), "valid": true, "detail": "is valid", "code": "VALID"}
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		var err error
		if buf, err = document.Encode(buf[:0], &jsonapi.OnePayload{Data: License(shown), Meta: meta}); err != nil {
			b.Fatal(err)
		}
	}
}
