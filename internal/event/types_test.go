package event

import (
	"os"
	"slices"
	"strings"
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
		ReleaseCreated, ReleaseUpdated, ReleaseDeleted, ReleasePublished, ReleaseYanked, ReleasePackageUpdated, LicenseExpiringSoon, LicenseExpired,
		ReleaseUpgraded, UserPasswordReset, AccountUpdated, MachineHeartbeatPing, MachineHeartbeatReset, MachineHeartbeatDead, MachineHeartbeatResurrected,
		MachineCheckedOut, ComponentCreated, ComponentDeleted, ProcessCreated, ProcessDeleted, ProcessHeartbeatPing, ProcessHeartbeatDead,
		ArtifactCreated, ArtifactDeleted, ArtifactDownloaded, ArtifactUploaded, ArtifactUploadSucceeded, ArtifactUploadFailed,
		PackageCreated, PackageUpdated, PackageDeleted, TokenGenerated, TokenRegenerated, TokenRevoked,
		LicenseOwnerUpdated, LicensePolicyUpdated, LicenseUsersAttached, LicenseUsersDetached, LicenseCheckedOut,
		LicenseCheckInRequiredSoon, LicenseCheckInOverdue, LicenseEntitlementsAttached, LicenseEntitlementsDetached,
		PolicyEntitlementsAttached, PolicyEntitlementsDetached, ReleaseConstraintsAttached, ReleaseConstraintsDetached} {
		if !Known(name) {
			t.Errorf("relkey emits %s, which is not one of Keygen's event types", name)
		}
	}
}

// TestReadmeEventTable: the README's event table has one row per event
// type, in order.
func TestReadmeEventTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, found := strings.Cut(string(readme), "<!-- events table:")
	table, _, ended := strings.Cut(table, "<!-- end of events table -->")
	if !found || !ended {
		t.Fatal("README.md has no events table")
	}
	var listed []string
	for _, line := range strings.Split(table, "\n") {
		if name, ok := strings.CutPrefix(line, "| `"); ok {
			name, _, _ = strings.Cut(name, "`")
			listed = append(listed, name)
		}
	}
	if !slices.Equal(listed, Types) {
		t.Fatalf("README events table lists\n%v\nwant internal/event/types.go's\n%v", listed, Types)
	}
}
