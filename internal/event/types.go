package event

import "slices"

// Types are Keygen's event types (its event type seeds), in order; every
// event relkey emits is one of them, and webhook subscriptions name them.
var Types = []string{
	"account.billing.updated",
	"account.plan.updated",
	"account.settings.created",
	"account.settings.deleted",
	"account.settings.updated",
	"account.subscription.canceled",
	"account.subscription.paused",
	"account.subscription.renewed",
	"account.subscription.resumed",
	"account.updated",
	"artifact.created",
	"artifact.deleted",
	"artifact.downloaded",
	"artifact.updated",
	"artifact.upload.failed",
	"artifact.upload.processing",
	"artifact.upload.succeeded",
	"artifact.uploaded",
	"component.created",
	"component.deleted",
	"component.updated",
	"entitlement.created",
	"entitlement.deleted",
	"entitlement.updated",
	"environment.created",
	"environment.deleted",
	"environment.updated",
	"group.created",
	"group.deleted",
	"group.updated",
	"key.created",
	"key.deleted",
	"key.updated",
	"license.check-in-overdue",
	"license.check-in-required-soon",
	"license.checked-in",
	"license.checked-out",
	"license.created",
	"license.deleted",
	"license.entitlements.attached",
	"license.entitlements.detached",
	"license.expired",
	"license.expiring-soon",
	"license.group.updated",
	"license.owner.updated",
	"license.policy.updated",
	"license.reinstated",
	"license.renewed",
	"license.revoked",
	"license.suspended",
	"license.updated",
	"license.usage.decremented",
	"license.usage.incremented",
	"license.usage.reset",
	"license.user.updated",
	"license.users.attached",
	"license.users.detached",
	"license.validated",
	"license.validation.failed",
	"license.validation.succeeded",
	"machine.checked-out",
	"machine.created",
	"machine.deleted",
	"machine.group.updated",
	"machine.heartbeat.dead",
	"machine.heartbeat.ping",
	"machine.heartbeat.pong",
	"machine.heartbeat.reset",
	"machine.heartbeat.resurrected",
	"machine.owner.updated",
	"machine.proofs.generated",
	"machine.updated",
	"package.created",
	"package.deleted",
	"package.updated",
	"policy.created",
	"policy.deleted",
	"policy.entitlements.attached",
	"policy.entitlements.detached",
	"policy.pool.popped",
	"policy.updated",
	"process.created",
	"process.deleted",
	"process.heartbeat.dead",
	"process.heartbeat.ping",
	"process.heartbeat.pong",
	"process.updated",
	"product.created",
	"product.deleted",
	"product.updated",
	"release.constraints.attached",
	"release.constraints.detached",
	"release.created",
	"release.deleted",
	"release.downloaded",
	"release.package.updated",
	"release.published",
	"release.replaced",
	"release.updated",
	"release.upgraded",
	"release.uploaded",
	"release.yanked",
	"second-factor.created",
	"second-factor.deleted",
	"second-factor.disabled",
	"second-factor.enabled",
	"token.generated",
	"token.regenerated",
	"token.revoked",
	"user.banned",
	"user.created",
	"user.deleted",
	"user.group.updated",
	"user.password-reset",
	"user.unbanned",
	"user.updated",
}

// Known reports whether name is one of Keygen's event types.
func Known(name string) bool {
	_, found := slices.BinarySearch(Types, name)
	return found
}

// The event types relkey's services emit by name.
const (
	ProductCreated = "product.created"
	ProductUpdated = "product.updated"
	ProductDeleted = "product.deleted"
	PolicyCreated  = "policy.created"
	PolicyUpdated  = "policy.updated"
	PolicyDeleted  = "policy.deleted"
	LicenseCreated = "license.created"
	LicenseUpdated = "license.updated"
	LicenseDeleted = "license.deleted"
	LicenseRevoked = "license.revoked"

	LicenseExpiringSoon     = "license.expiring-soon"
	LicenseExpired          = "license.expired"
	LicenseSuspended        = "license.suspended"
	LicenseReinstated       = "license.reinstated"
	LicenseRenewed          = "license.renewed"
	LicenseCheckedIn        = "license.checked-in"
	LicenseUsageIncremented = "license.usage.incremented"
	LicenseUsageDecremented = "license.usage.decremented"
	LicenseUsageReset       = "license.usage.reset"

	EntitlementCreated = "entitlement.created"
	EntitlementUpdated = "entitlement.updated"
	EntitlementDeleted = "entitlement.deleted"

	MachineCreated = "machine.created"
	MachineUpdated = "machine.updated"
	MachineDeleted = "machine.deleted"

	ReleaseCreated        = "release.created"
	ReleaseUpdated        = "release.updated"
	ReleaseDeleted        = "release.deleted"
	ReleasePublished      = "release.published"
	ReleaseYanked         = "release.yanked"
	ReleasePackageUpdated = "release.package.updated"

	UserCreated  = "user.created"
	UserUpdated  = "user.updated"
	UserDeleted  = "user.deleted"
	UserBanned   = "user.banned"
	UserUnbanned = "user.unbanned"

	GroupCreated = "group.created"
	GroupUpdated = "group.updated"
	GroupDeleted = "group.deleted"

	LicenseValidationSucceeded = "license.validation.succeeded"
	LicenseValidationFailed    = "license.validation.failed"
)

// Emitted by the update and relationship routes of Keygen's machines,
// components, processes and artifacts.
const (
	MachineOwnerUpdated    = "machine.owner.updated"
	MachineProofsGenerated = "machine.proofs.generated"
	ComponentUpdated       = "component.updated"
	ProcessUpdated         = "process.updated"
	ArtifactUpdated        = "artifact.updated"
)
