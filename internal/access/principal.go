package access

import (
	"fmt"

	"github.com/relkey/relkey/internal/apperr"
)

// Bearer types, as JSON:API resource types.
const (
	BearerUser    = "users"
	BearerProduct = "products"
	BearerLicense = "licenses"
	// BearerOperator is whoever runs relkey's admin commands on the host.
	BearerOperator = "operator"
)

// Principal is who a request acts as. A nil *Principal is anonymous.
type Principal struct {
	AccountID   string
	Role        Role
	BearerType  string // users, products, licenses
	BearerID    string
	TokenID     string // empty for license-key authentication
	Permissions Set    // effective: role defaults ∩ token permissions

	// For license bearers: what the license belongs to, which bounds what
	// it may see.
	ProductID string
	PolicyID  string
	OwnerID   string
	// The license is suspended, or its owner banned: it may still list
	// releases but not show, download or upgrade them.
	LicenseSuspended, LicenseBanned bool
	// ExpiryStartsOn is the policy's expiration basis while the license's
	// expiry has yet to start (FROM_FIRST_DOWNLOAD…), else empty: the
	// request path skips the start when there is nothing to start.
	ExpiryStartsOn string
	// Record is what authentication read of the bearer (a license bearer's
	// license and policy), so that the request's rules don't read it again;
	// nil when nothing was kept. Only the package that sets it reads it.
	Record any
	// Reach is a license bearer's reach of releases, as authentication read
	// it; nil otherwise.
	Reach *LicenseReach
}

// NewPrincipal computes the effective permissions of a bearer whose token
// carries tokenPerms (nil = defer to the bearer).
func NewPrincipal(accountID string, role Role, bearerType, bearerID, tokenID string, tokenPerms []string) *Principal {
	return &Principal{AccountID: accountID, Role: role, BearerType: bearerType, BearerID: bearerID, TokenID: tokenID,
		Permissions: narrowed(Defaults(role), tokenPerms)}
}

// narrowed is a bearer's permissions narrowed by its token's (nil = none).
func narrowed(perms Set, tokenPerms []string) Set {
	if tokenPerms != nil {
		perms = perms.Intersect(NewSet(tokenPerms...))
	}
	return perms
}

// Rebase gives the principal an account's default permissions for its
// role in place of the built-in ones, when the account has them, narrowed
// by its token's as NewPrincipal does.
func (p *Principal) Rebase(defaults map[Role]Set, tokenPerms []string) {
	if d, ok := defaults[p.Role]; ok {
		p.Permissions = narrowed(d, tokenPerms)
	}
}

// Operator is the principal of relkey's admin commands: the account's
// administrator, acting through the host rather than a stored user or
// token, so it has no bearer record and issues tokens only to others.
func Operator(accountID string) *Principal {
	return NewPrincipal(accountID, RoleAdmin, BearerOperator, "", "", nil)
}

// Anonymous reports whether nobody authenticated.
func (p *Principal) Anonymous() bool { return p == nil }

// Staff reports whether the principal manages the whole account.
func (p *Principal) Staff() bool { return p != nil && p.Role.Staff() }

// Is reports whether the principal is the given bearer.
func (p *Principal) Is(bearerType, id string) bool {
	return p != nil && p.BearerType == bearerType && p.BearerID == id
}

// ErrTokenMissing is the error of an action that needs authentication.
var ErrTokenMissing = apperr.New(apperr.Unauthenticated, "TOKEN_MISSING", "You must be authenticated to complete the request")

// Require checks that the principal holds the permission: anonymous is a
// 401, a missing permission a 403 naming it.
func (p *Principal) Require(permission string) error {
	if p == nil {
		return ErrTokenMissing
	}
	if !p.Permissions.Has(permission) {
		return Denied(fmt.Sprintf("bearer lacks permission to perform action: %s", permission))
	}
	return nil
}

// Denied is a 403 with a reason.
func Denied(reason string) error {
	return apperr.New(apperr.Forbidden, "ACCESS_DENIED", "You do not have permission to complete the request ("+reason+")")
}

// Visible finds a record within who's sight, then requires the one
// permission the action needs: anonymous is a 401, out of sight whatever
// find reports (a 404), in sight without the permission a 403.
func Visible[T any](who *Principal, permission string, find func() (*T, error)) (*T, error) {
	if who == nil {
		return nil, ErrTokenMissing
	}
	v, err := find()
	if err != nil {
		return nil, err
	}
	if err := who.Require(permission); err != nil {
		return nil, err
	}
	return v, nil
}

// MayReadPublic admits anonymous callers (their scope limits them to what
// is public: OPEN products' releases) and principals with the permission.
func MayReadPublic(who *Principal, permission string) error {
	if who == nil {
		return nil
	}
	return who.Require(permission)
}

// errOtherAccount refuses a principal of another account than the
// request's, as credentials that do not authenticate there.
var errOtherAccount = apperr.New(apperr.Unauthenticated, "TOKEN_INVALID", "Token format is invalid or the token does not exist")

// In checks that p, unless anonymous, belongs to the account a request
// works in. No other principal authenticates (the account is resolved from
// the URL first and credentials are looked up within it), so this defends
// rather than decides: rules work in the request's account, never p's.
func (p *Principal) In(accountID string) error {
	if p != nil && p.AccountID != accountID {
		return errOtherAccount
	}
	return nil
}
