package event

import (
	"slices"
	"testing"
)

func TestTypes(t *testing.T) {
	if !slices.IsSorted(Types) || len(slices.Compact(slices.Clone(Types))) != len(Types) {
		t.Fatal("Types must be sorted and unique: Known searches them")
	}
	for name, want := range map[string]bool{
		LicenseValidationSucceeded: true, ProductCreated: true, UserBanned: true, "machine.heartbeat.ping": true,
		"*": false, "license.nope": false, "": false,
	} {
		if Known(name) != want {
			t.Errorf("Known(%q) = %v, want %v", name, !want, want)
		}
	}
	for _, name := range []string{ProductCreated, ProductUpdated, ProductDeleted, PolicyCreated, PolicyUpdated, PolicyDeleted,
		LicenseCreated, LicenseUpdated, LicenseDeleted, LicenseRevoked, LicenseValidationSucceeded, LicenseValidationFailed,
		EntitlementCreated, EntitlementUpdated, EntitlementDeleted, UserCreated, UserUpdated, UserDeleted, UserBanned, UserUnbanned, MachineCreated, MachineUpdated, MachineDeleted,
		LicenseSuspended, LicenseReinstated, LicenseRenewed, LicenseCheckedIn, LicenseUsageIncremented, LicenseUsageDecremented, LicenseUsageReset,
		ReleaseCreated, ReleaseUpdated, ReleaseDeleted, ReleasePublished, ReleaseYanked, ReleasePackageUpdated, LicenseExpiringSoon, LicenseExpired} {
		if !Known(name) {
			t.Errorf("relkey emits %s, which is not one of Keygen's event types", name)
		}
	}
}
