// Package access decides who may do what: Keygen's permission strings, the
// default permissions of each role, and the Principal a request acts as
// (its bearer, role and effective permissions: role defaults ∩ token).
package access

import (
	"slices"
	"strings"
)

// Wildcard grants every permission.
const Wildcard = "*"

// All is every permission relkey knows, as Keygen names them.
var All = words(`
account.analytics.read account.billing.read account.billing.update account.plan.read account.plan.update
account.read account.subscription.read account.subscription.update account.update
admin.create admin.delete admin.invite admin.read admin.update
arch.read
artifact.create artifact.delete artifact.read artifact.update
component.create component.delete component.read component.update
channel.read constraint.read engine.read
entitlement.create entitlement.delete entitlement.read entitlement.update
environment.create environment.delete environment.read environment.tokens.generate environment.update
event-log.read
group.create group.delete group.licenses.read group.machines.read group.owners.attach group.owners.detach
group.owners.read group.read group.update group.users.read
key.create key.delete key.read key.update
license.check-in license.check-out license.create license.delete license.entitlements.attach
license.entitlements.detach license.group.update license.owner.update license.policy.update license.read
license.reinstate license.renew license.revoke license.suspend license.tokens.generate license.update
license.usage.decrement license.usage.increment license.usage.reset license.user.update
license.users.attach license.users.detach license.validate
machine.check-out machine.create machine.delete machine.group.update machine.heartbeat.ping
machine.heartbeat.reset machine.owner.update machine.proofs.generate machine.read machine.update
metric.read
package.create package.delete package.read package.update
platform.read
policy.create policy.delete policy.entitlements.attach policy.entitlements.detach policy.pool.pop
policy.read policy.update
portal-session.create
process.create process.delete process.heartbeat.ping process.read process.update
product.create product.delete product.read product.tokens.generate product.update
release.constraints.attach release.constraints.detach release.create release.delete release.download
release.package.update release.publish release.read release.update release.upgrade release.upload release.yank
request-log.read
token.generate token.read token.regenerate token.revoke
user.ban user.create user.delete user.group.update user.invite user.password.reset user.password.update
user.read user.second-factors.create user.second-factors.delete user.second-factors.read
user.second-factors.update user.tokens.generate user.unban user.update
webhook-endpoint.create webhook-endpoint.delete webhook-endpoint.read webhook-endpoint.update
webhook-event.delete webhook-event.read webhook-event.retry`)

var readOnly = words(`
account.analytics.read account.billing.read account.plan.read account.read account.subscription.read
admin.read arch.read artifact.read component.read channel.read constraint.read engine.read entitlement.read
environment.read event-log.read
group.licenses.read group.machines.read group.owners.read group.read group.users.read
key.read license.read license.validate machine.read metric.read package.read platform.read policy.read
process.read product.read release.download release.read release.upgrade request-log.read
token.generate token.read user.password.reset user.password.update user.read user.second-factors.read
webhook-endpoint.read webhook-event.read`)

var productRole = words(`
account.read arch.read
artifact.create artifact.delete artifact.read artifact.update
component.create component.delete component.read component.update
channel.read constraint.read engine.read entitlement.read
group.create group.delete group.licenses.read group.machines.read group.owners.attach group.owners.detach
group.owners.read group.read group.update group.users.read
key.create key.delete key.read key.update
license.check-in license.check-out license.create license.delete license.entitlements.attach
license.entitlements.detach license.group.update license.owner.update license.policy.update license.read
license.reinstate license.renew license.revoke license.suspend license.tokens.generate license.update
license.usage.decrement license.usage.increment license.usage.reset license.user.update
license.users.attach license.users.detach license.validate
machine.check-out machine.create machine.delete machine.group.update machine.heartbeat.ping
machine.heartbeat.reset machine.owner.update machine.proofs.generate machine.read machine.update
package.create package.delete package.read package.update
platform.read
policy.create policy.delete policy.entitlements.attach policy.entitlements.detach policy.pool.pop
policy.read policy.update
portal-session.create
process.create process.delete process.heartbeat.ping process.read process.update
product.read product.update
release.constraints.attach release.constraints.detach release.create release.delete release.download
release.package.update release.publish release.read release.update release.upgrade release.upload release.yank
token.generate token.read token.regenerate token.revoke
user.ban user.create user.group.update user.read user.tokens.generate user.unban user.update
webhook-endpoint.create webhook-endpoint.delete webhook-endpoint.read webhook-endpoint.update webhook-event.read`)

var userRole = words(`
account.read arch.read artifact.read
component.create component.delete component.read component.update
channel.read constraint.read engine.read entitlement.read
group.licenses.read group.machines.read group.owners.read group.read group.users.read
license.check-in license.check-out license.create license.delete license.policy.update license.read
license.renew license.revoke license.usage.increment license.validate
machine.check-out machine.create machine.delete machine.heartbeat.ping machine.proofs.generate
machine.read machine.update
package.read platform.read policy.read
process.create process.delete process.heartbeat.ping process.read process.update
product.read release.download release.read release.upgrade
token.generate token.read token.regenerate token.revoke
user.password.reset user.password.update user.read user.second-factors.create user.second-factors.delete
user.second-factors.read user.second-factors.update user.update`)

var licenseRole = words(`
account.read arch.read artifact.read
component.create component.delete component.read component.update
channel.read constraint.read engine.read entitlement.read group.owners.read group.read
license.check-in license.check-out license.read license.usage.increment license.validate
machine.check-out machine.create machine.delete machine.heartbeat.ping machine.proofs.generate
machine.read machine.update
package.read platform.read policy.read
process.create process.delete process.heartbeat.ping process.read process.update
product.read release.download release.read release.upgrade
token.read token.regenerate token.revoke user.read`)

func words(s string) []string { return strings.Fields(s) }

// Known reports whether p is a permission relkey knows, or the wildcard.
func Known(p string) bool { return p == Wildcard || slices.Contains(All, p) }

// Set is a set of permissions.
type Set map[string]struct{}

// NewSet builds a set; the wildcard expands to every permission.
func NewSet(perms ...string) Set {
	s := Set{}
	for _, p := range perms {
		if p == Wildcard {
			for _, q := range All {
				s[q] = struct{}{}
			}
			continue
		}
		s[p] = struct{}{}
	}
	return s
}

// Has reports whether the set holds p.
func (s Set) Has(p string) bool {
	_, ok := s[p]
	return ok
}

// Intersect returns the permissions in both sets.
func (s Set) Intersect(o Set) Set {
	out := Set{}
	for p := range s {
		if o.Has(p) {
			out[p] = struct{}{}
		}
	}
	return out
}

// Sorted lists the set in order.
func (s Set) Sorted() []string {
	out := make([]string, 0, len(s))
	for p := range s {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// without returns perms minus the removed ones.
func without(perms []string, removed ...string) []string {
	return slices.DeleteFunc(slices.Clone(perms), func(p string) bool { return slices.Contains(removed, p) })
}

// Role is what a bearer is: a user role, a product or a license.
type Role string

const (
	RoleAdmin        Role = "admin"
	RoleDeveloper    Role = "developer"
	RoleSalesAgent   Role = "sales-agent"
	RoleSupportAgent Role = "support-agent"
	RoleReadOnly     Role = "read-only"
	RoleUser         Role = "user"
	RoleProduct      Role = "product"
	RoleLicense      Role = "license"
)

// defaults are each role's permissions unless narrowed. Developer, sales
// and support agents share the admin set, as in Keygen; user and license
// defaults leave out what Keygen leaves out for backwards compatibility.
var defaults = map[Role]Set{
	RoleAdmin:        NewSet(All...),
	RoleDeveloper:    NewSet(All...),
	RoleSalesAgent:   NewSet(All...),
	RoleSupportAgent: NewSet(All...),
	RoleReadOnly:     NewSet(readOnly...),
	RoleProduct:      NewSet(productRole...),
	RoleUser:         NewSet(without(userRole, "account.read", "product.read", "policy.read")...),
	RoleLicense:      NewSet(without(licenseRole, "account.read", "product.read", "policy.read", "user.read")...),
}

// Defaults returns the default permissions of a role (empty for unknown roles).
func Defaults(r Role) Set {
	if s, ok := defaults[r]; ok {
		return s
	}
	return Set{}
}

// Allowed returns the permissions a user or license may hold at all (the
// choices of an account's default permissions; empty for other roles).
func Allowed(r Role) Set {
	switch r {
	case RoleUser:
		return NewSet(userRole...)
	case RoleLicense:
		return NewSet(licenseRole...)
	}
	return Set{}
}

// Staff reports whether the role manages the whole account.
func (r Role) Staff() bool {
	switch r {
	case RoleAdmin, RoleDeveloper, RoleSalesAgent, RoleSupportAgent, RoleReadOnly:
		return true
	}
	return false
}

// ValidUserRole reports whether r can be given to a user.
func ValidUserRole(r Role) bool { return r == RoleUser || r.Staff() }
