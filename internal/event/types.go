package event

import "slices"

// Types are Keygen's event types (its event type seeds) and relkey's own
// portal-session.created, in order; every event relkey emits is one of
// them, and webhook subscriptions name them.
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
	"portal-session.created",
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
	AccountUpdated = "account.updated"

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

	AccountSettingsCreated = "account.settings.created"
	AccountSettingsUpdated = "account.settings.updated"
	AccountSettingsDeleted = "account.settings.deleted"

	ReleaseCreated        = "release.created"
	ReleaseUpdated        = "release.updated"
	ReleaseDeleted        = "release.deleted"
	ReleasePublished      = "release.published"
	ReleaseYanked         = "release.yanked"
	ReleasePackageUpdated = "release.package.updated"
	ReleaseUploaded       = "release.uploaded"
	ReleaseDownloaded     = "release.downloaded"

	UserCreated  = "user.created"
	UserUpdated  = "user.updated"
	UserDeleted  = "user.deleted"
	UserBanned   = "user.banned"
	UserUnbanned = "user.unbanned"

	SecondFactorCreated  = "second-factor.created"
	SecondFactorEnabled  = "second-factor.enabled"
	SecondFactorDisabled = "second-factor.disabled"
	SecondFactorDeleted  = "second-factor.deleted"

	GroupCreated = "group.created"
	GroupUpdated = "group.updated"
	GroupDeleted = "group.deleted"

	KeyCreated       = "key.created"
	KeyUpdated       = "key.updated"
	KeyDeleted       = "key.deleted"
	PolicyPoolPopped = "policy.pool.popped"

	// PortalSessionCreated is relkey's: a one-time portal link was made.
	PortalSessionCreated = "portal-session.created"

	LicenseValidationSucceeded = "license.validation.succeeded"
	LicenseValidationFailed    = "license.validation.failed"
)

// The event types of machine parts, artifacts, packages, tokens and
// relationship changes.
const (
	MachineHeartbeatPing        = "machine.heartbeat.ping"
	MachineHeartbeatReset       = "machine.heartbeat.reset"
	MachineHeartbeatDead        = "machine.heartbeat.dead"
	MachineHeartbeatResurrected = "machine.heartbeat.resurrected"
	MachineCheckedOut           = "machine.checked-out"

	ComponentCreated = "component.created"
	ComponentDeleted = "component.deleted"

	ProcessCreated       = "process.created"
	ProcessDeleted       = "process.deleted"
	ProcessHeartbeatPing = "process.heartbeat.ping"
	ProcessHeartbeatDead = "process.heartbeat.dead"

	ArtifactCreated         = "artifact.created"
	ArtifactDeleted         = "artifact.deleted"
	ArtifactDownloaded      = "artifact.downloaded"
	ArtifactUploaded        = "artifact.uploaded"
	ArtifactUploadSucceeded = "artifact.upload.succeeded"
	ArtifactUploadFailed    = "artifact.upload.failed"

	PackageCreated = "package.created"
	PackageUpdated = "package.updated"
	PackageDeleted = "package.deleted"

	TokenGenerated   = "token.generated"
	TokenRegenerated = "token.regenerated"
	TokenRevoked     = "token.revoked"

	LicenseOwnerUpdated         = "license.owner.updated"
	LicensePolicyUpdated        = "license.policy.updated"
	LicenseUsersAttached        = "license.users.attached"
	LicenseUsersDetached        = "license.users.detached"
	LicenseCheckedOut           = "license.checked-out"
	LicenseCheckInRequiredSoon  = "license.check-in-required-soon"
	LicenseCheckInOverdue       = "license.check-in-overdue"
	LicenseEntitlementsAttached = "license.entitlements.attached"
	LicenseEntitlementsDetached = "license.entitlements.detached"
	PolicyEntitlementsAttached  = "policy.entitlements.attached"
	PolicyEntitlementsDetached  = "policy.entitlements.detached"
	ReleaseConstraintsAttached  = "release.constraints.attached"
	ReleaseConstraintsDetached  = "release.constraints.detached"
	// Emitted by the update and relationship routes of Keygen's machines,
	// components, processes and artifacts.
	MachineOwnerUpdated    = "machine.owner.updated"
	MachineProofsGenerated = "machine.proofs.generated"
	ComponentUpdated       = "component.updated"
	ProcessUpdated         = "process.updated"
	ArtifactUpdated        = "artifact.updated"
)
