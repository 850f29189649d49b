package relkey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// PolicyService is the policies, with their entitlements.
type PolicyService struct {
	Collection[Policy, PolicyAttributes]
}

// Entitlements lists the entitlements attached to a policy.
func (s PolicyService) Entitlements(policyID string) Lister[Entitlement] {
	return related[Entitlement](s.Collection, policyID, "entitlements")
}

// AttachEntitlements attaches entitlements (by id) to a policy.
func (s PolicyService) AttachEntitlements(ctx context.Context, policyID string, entitlementIDs ...string) error {
	return s.attach(ctx, policyID, "entitlements", linkages("entitlements", entitlementIDs))
}

// UserService is the users, with password resets.
type UserService struct {
	Collection[User, UserAttributes]
}

// RequestPasswordReset asks the server to send the user with email a
// password reset token; the answer is the same whether the email is known.
func (s UserService) RequestPasswordReset(ctx context.Context, email string) error {
	_, err := s.c.send(ctx, request{method: http.MethodPost, path: "/passwords", body: map[string]any{"meta": map[string]string{"email": email}}})
	return err
}

// ResetPassword sets a user's password with a reset token.
func (s UserService) ResetPassword(ctx context.Context, userID, token, newPassword string) (*User, error) {
	body := map[string]any{"meta": map[string]string{"passwordResetToken": token, "newPassword": newPassword}}
	return s.one(ctx, request{method: http.MethodPost, path: s.path + "/" + url.PathEscape(userID) + "/actions/reset-password", body: body})
}

// GroupService is the groups, with their owners.
type GroupService struct {
	Collection[Group, GroupAttributes]
}

// Owners lists a group's owners.
func (s GroupService) Owners(groupID string) Lister[GroupOwner] {
	return related[GroupOwner](s.Collection, groupID, "owners")
}

// AttachOwners makes users (by id) owners of a group.
func (s GroupService) AttachOwners(ctx context.Context, groupID string, userIDs ...string) error {
	return s.attach(ctx, groupID, "owners", linkages("users", userIDs))
}

// LicenseService is the licenses: the admin's view, and the calls a
// licensed application makes.
type LicenseService struct {
	Collection[License, LicenseAttributes]
}

// Scope narrows a validation: the license must belong to the product or
// policy, be activated on the machine or fingerprints, hold the
// entitlements, and so on, as the policy requires.
type Scope struct {
	Product      string   `json:"product,omitempty"`
	Policy       string   `json:"policy,omitempty"`
	Machine      string   `json:"machine,omitempty"`
	Fingerprint  string   `json:"fingerprint,omitempty"`
	Fingerprints []string `json:"fingerprints,omitempty"`
	Components   []string `json:"components,omitempty"`
	User         string   `json:"user,omitempty"`
	Entitlements []string `json:"entitlements,omitempty"`
	Checksum     string   `json:"checksum,omitempty"`
	Version      string   `json:"version,omitempty"`
}

// Validation is the verdict on a license: Valid with the code VALID, or
// the code of the first check it failed (NOT_FOUND, EXPIRED, SUSPENDED,
// NO_MACHINE, FINGERPRINT_SCOPE_MISMATCH…). License is nil when no license
// has the key.
type Validation struct {
	Valid     bool
	Code      string
	Detail    string
	Timestamp time.Time
	License   *License
}

// ValidateKey validates a license by its key; it needs no credentials.
func (s LicenseService) ValidateKey(ctx context.Context, key string, scope *Scope) (*Validation, error) {
	meta := map[string]any{"key": key}
	if scope != nil {
		meta["scope"] = scope
	}
	return s.validate(ctx, s.path+"/actions/validate-key", meta)
}

// Validate validates a license by id (or key) as the client's bearer.
func (s LicenseService) Validate(ctx context.Context, ref string, scope *Scope) (*Validation, error) {
	meta := map[string]any{}
	if scope != nil {
		meta["scope"] = scope
	}
	return s.validate(ctx, s.path+"/"+url.PathEscape(ref)+"/actions/validate", meta)
}

func (s LicenseService) validate(ctx context.Context, path string, meta map[string]any) (*Validation, error) {
	res, err := s.c.send(ctx, request{method: http.MethodPost, path: path, body: map[string]any{"meta": meta}})
	if err != nil {
		return nil, err
	}
	var doc struct {
		Data *Resource `json:"data"`
		Meta struct {
			Valid    bool      `json:"valid"`
			Code     string    `json:"code"`
			Constant string    `json:"constant"` // API version 1.0
			Detail   string    `json:"detail"`
			TS       time.Time `json:"ts"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(res.Body, &doc); err != nil {
		return nil, fmt.Errorf("relkey: decoding a validation: %w", err)
	}
	v := &Validation{Valid: doc.Meta.Valid, Code: doc.Meta.Code, Detail: doc.Meta.Detail, Timestamp: doc.Meta.TS}
	if v.Code == "" {
		v.Code = doc.Meta.Constant
	}
	if doc.Data != nil {
		if v.License, err = s.decode(doc.Data); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Suspend suspends a license.
func (s LicenseService) Suspend(ctx context.Context, id string) (*License, error) {
	return s.action(ctx, id, "suspend")
}

// Reinstate lifts a license's suspension.
func (s LicenseService) Reinstate(ctx context.Context, id string) (*License, error) {
	return s.action(ctx, id, "reinstate")
}

// Renew extends a license's expiry by its policy's duration.
func (s LicenseService) Renew(ctx context.Context, id string) (*License, error) {
	return s.action(ctx, id, "renew")
}

// CheckOutOptions shape a license or machine file.
type CheckOutOptions struct {
	TTL       *int64   `json:"ttl,omitempty"`     // seconds the file is valid; nil = the server's default
	Include   []string `json:"include,omitempty"` // related resources to embed (entitlements, product, policy, owner…)
	Encrypt   bool     `json:"encrypt,omitempty"`
	Algorithm string   `json:"algorithm,omitempty"`
}

// CheckOut checks a license out as a signed license file.
func (s LicenseService) CheckOut(ctx context.Context, id string, opts CheckOutOptions) (*LicenseFile, error) {
	return checkOut(ctx, s.Collection, id, opts)
}

func checkOut[T, A any](ctx context.Context, s Collection[T, A], id string, opts CheckOutOptions) (*LicenseFile, error) {
	res, err := s.c.send(ctx, request{method: http.MethodPost, path: s.path + "/" + url.PathEscape(id) + "/actions/check-out", body: map[string]any{"meta": opts}})
	if err != nil {
		return nil, err
	}
	return decodeOne[LicenseFile](res.Body)
}

// Entitlements lists a license's entitlements (its own and its policy's).
func (s LicenseService) Entitlements(licenseID string) Lister[Entitlement] {
	return related[Entitlement](s.Collection, licenseID, "entitlements")
}

// AttachEntitlements attaches entitlements (by id) to a license.
func (s LicenseService) AttachEntitlements(ctx context.Context, licenseID string, entitlementIDs ...string) error {
	return s.attach(ctx, licenseID, "entitlements", linkages("entitlements", entitlementIDs))
}

// Machines lists the machines activated for a license.
func (s LicenseService) Machines(licenseID string) Lister[Machine] {
	return related[Machine](s.Collection, licenseID, "machines")
}

// MachineService is the machines: Create activates one for a license,
// Delete deactivates it.
type MachineService struct {
	Collection[Machine, MachineAttributes]
}

// Ping sends a machine's heartbeat.
func (s MachineService) Ping(ctx context.Context, id string) (*Machine, error) {
	return s.action(ctx, id, "ping")
}

// CheckOut checks a machine out as a signed machine file.
func (s MachineService) CheckOut(ctx context.Context, id string, opts CheckOutOptions) (*LicenseFile, error) {
	return checkOut(ctx, s.Collection, id, opts)
}

// Components lists a machine's components.
func (s MachineService) Components(machineID string) Lister[Component] {
	return related[Component](s.Collection, machineID, "components")
}

// ReleaseService is the releases, with upgrades and constraints.
type ReleaseService struct {
	Collection[Release, ReleaseAttributes]
}

// Publish publishes a draft release.
func (s ReleaseService) Publish(ctx context.Context, id string) (*Release, error) {
	return s.action(ctx, id, "publish")
}

// Yank yanks a release.
func (s ReleaseService) Yank(ctx context.Context, id string) (*Release, error) {
	return s.action(ctx, id, "yank")
}

// Constraints lists the entitlement constraints of a release.
func (s ReleaseService) Constraints(releaseID string) Lister[Constraint] {
	return related[Constraint](s.Collection, releaseID, "constraints")
}

// AttachConstraints constrains a release to licenses with the
// entitlements (by id).
func (s ReleaseService) AttachConstraints(ctx context.Context, releaseID string, entitlementIDs ...string) error {
	data := make([]map[string]any, len(entitlementIDs))
	for i, id := range entitlementIDs {
		data[i] = map[string]any{"type": "constraints", "relationships": map[string]any{
			"entitlement": map[string]any{"data": Identifier{Type: "entitlements", ID: id}},
		}}
	}
	return s.attach(ctx, releaseID, "constraints", map[string]any{"data": data})
}

// UpgradeOptions narrow an upgrade: the channel to look in (stable by
// default), a version constraint ("2.0" keeps to 2.x), and the product or
// package the release reference is looked up in.
type UpgradeOptions struct {
	Channel, Constraint, Product, Package string
}

// ErrNoUpgrade is the error of Upgrade when no newer release exists.
var ErrNoUpgrade = errors.New("relkey: no upgrade available")

// Upgrade returns the newest release after ref (an id, version or tag)
// that the bearer may download, or ErrNoUpgrade.
func (s ReleaseService) Upgrade(ctx context.Context, ref string, opts UpgradeOptions) (*Release, error) {
	q := url.Values{}
	for name, v := range map[string]string{"channel": opts.Channel, "constraint": opts.Constraint, "product": opts.Product, "package": opts.Package} {
		if v != "" {
			q.Set(name, v)
		}
	}
	r, err := s.one(ctx, request{method: http.MethodGet, path: s.path + "/" + url.PathEscape(ref) + "/upgrade", query: q})
	var apiErr *Error
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound && strings.Contains(apiErr.Detail, "upgrade not available") {
		return nil, fmt.Errorf("%w (%w)", ErrNoUpgrade, err)
	}
	return r, err
}

// CreateToken creates a token for the user with email and password (HTTP
// Basic authentication): an admin's token for the admin API, a user's for
// their own licenses.
func (c *Client) CreateToken(ctx context.Context, email, password string) (*Token, error) {
	res, err := c.with(WithBasicAuth(email, password)).send(ctx, request{method: http.MethodPost, path: "/tokens"})
	if err != nil {
		return nil, err
	}
	return decodeOne[Token](res.Body)
}

// Account returns the client's account with its public key. It needs an
// account in New: the bare layout has no account resource.
func (c *Client) Account(ctx context.Context) (*Account, error) {
	res, err := c.send(ctx, request{method: http.MethodGet, path: ""})
	if err != nil {
		return nil, err
	}
	var doc struct {
		Data *Resource `json:"data"`
	}
	if err := json.Unmarshal(res.Body, &doc); err != nil || doc.Data == nil {
		return nil, errors.New("relkey: the response holds no account")
	}
	a, err := decode[Account](doc.Data)
	if err != nil {
		return nil, err
	}
	a.PublicKey = accountKey(doc.Data.Meta)
	return a, nil
}
