package relkey

import (
	"encoding/base64"
	"encoding/json"
	"time"
)

// The *Attributes structs are what a request writes: unset (nil or zero)
// fields are left out, so a create gets the server's defaults and an
// update changes only what is set. Fields tagged rel are the resource's
// relationships: sent on create, filled from the response on read. The
// read structs embed them with what the server alone sets.

// String returns a pointer to s, for optional attributes.
func String(s string) *string { return &s }

// Bool returns a pointer to b, for optional attributes.
func Bool(b bool) *bool { return &b }

// Int returns a pointer to n, for optional attributes.
func Int(n int64) *int64 { return &n }

// ProductAttributes are a product's writable attributes.
type ProductAttributes struct {
	Name                 string         `json:"name,omitempty"`
	Code                 *string        `json:"code,omitempty"`
	DistributionStrategy string         `json:"distributionStrategy,omitempty"`
	URL                  *string        `json:"url,omitempty"`
	Platforms            []string       `json:"platforms,omitempty"`
	Metadata             map[string]any `json:"metadata,omitempty"`
}

// Product is a product.
type Product struct {
	Object
	ProductAttributes
}

// PolicyAttributes are a policy's writable attributes; ProductID is its
// product.
type PolicyAttributes struct {
	ProductID                     string         `json:"-" rel:"product,products"`
	Name                          string         `json:"name,omitempty"`
	Duration                      *int64         `json:"duration,omitempty"`
	Strict                        *bool          `json:"strict,omitempty"`
	Floating                      *bool          `json:"floating,omitempty"`
	Protected                     *bool          `json:"protected,omitempty"`
	Scheme                        *string        `json:"scheme,omitempty"`
	MaxMachines                   *int64         `json:"maxMachines,omitempty"`
	MaxProcesses                  *int64         `json:"maxProcesses,omitempty"`
	MaxUsers                      *int64         `json:"maxUsers,omitempty"`
	MaxCores                      *int64         `json:"maxCores,omitempty"`
	MaxMemory                     *int64         `json:"maxMemory,omitempty"`
	MaxDisk                       *int64         `json:"maxDisk,omitempty"`
	MaxUses                       *int64         `json:"maxUses,omitempty"`
	RequireProductScope           *bool          `json:"requireProductScope,omitempty"`
	RequirePolicyScope            *bool          `json:"requirePolicyScope,omitempty"`
	RequireMachineScope           *bool          `json:"requireMachineScope,omitempty"`
	RequireFingerprintScope       *bool          `json:"requireFingerprintScope,omitempty"`
	RequireComponentsScope        *bool          `json:"requireComponentsScope,omitempty"`
	RequireUserScope              *bool          `json:"requireUserScope,omitempty"`
	RequireChecksumScope          *bool          `json:"requireChecksumScope,omitempty"`
	RequireVersionScope           *bool          `json:"requireVersionScope,omitempty"`
	RequireCheckIn                *bool          `json:"requireCheckIn,omitempty"`
	CheckInInterval               *string        `json:"checkInInterval,omitempty"`
	CheckInIntervalCount          *int64         `json:"checkInIntervalCount,omitempty"`
	RequireHeartbeat              *bool          `json:"requireHeartbeat,omitempty"`
	HeartbeatDuration             *int64         `json:"heartbeatDuration,omitempty"`
	HeartbeatBasis                string         `json:"heartbeatBasis,omitempty"`
	HeartbeatCullStrategy         string         `json:"heartbeatCullStrategy,omitempty"`
	HeartbeatResurrectionStrategy string         `json:"heartbeatResurrectionStrategy,omitempty"`
	MachineUniquenessStrategy     string         `json:"machineUniquenessStrategy,omitempty"`
	MachineMatchingStrategy       string         `json:"machineMatchingStrategy,omitempty"`
	ComponentUniquenessStrategy   string         `json:"componentUniquenessStrategy,omitempty"`
	ComponentMatchingStrategy     string         `json:"componentMatchingStrategy,omitempty"`
	ExpirationStrategy            string         `json:"expirationStrategy,omitempty"`
	ExpirationBasis               string         `json:"expirationBasis,omitempty"`
	RenewalBasis                  string         `json:"renewalBasis,omitempty"`
	TransferStrategy              string         `json:"transferStrategy,omitempty"`
	AuthenticationStrategy        string         `json:"authenticationStrategy,omitempty"`
	MachineLeasingStrategy        string         `json:"machineLeasingStrategy,omitempty"`
	ProcessLeasingStrategy        string         `json:"processLeasingStrategy,omitempty"`
	OverageStrategy               string         `json:"overageStrategy,omitempty"`
	Metadata                      map[string]any `json:"metadata,omitempty"`
}

// Policy is a policy.
type Policy struct {
	Object
	PolicyAttributes
}

// EntitlementAttributes are an entitlement's writable attributes.
type EntitlementAttributes struct {
	Name     string         `json:"name,omitempty"`
	Code     string         `json:"code,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// Entitlement is an entitlement.
type Entitlement struct {
	Object
	EntitlementAttributes
}

// UserAttributes are a user's writable attributes; GroupID is its group,
// given on create only.
type UserAttributes struct {
	GroupID   string         `json:"-" rel:"group,groups"`
	FirstName *string        `json:"firstName,omitempty"`
	LastName  *string        `json:"lastName,omitempty"`
	Email     string         `json:"email,omitempty"`
	Password  *string        `json:"password,omitempty"`
	Role      string         `json:"role,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
}

// User is a user; its password is never shown.
type User struct {
	Object
	UserAttributes
	FullName *string `json:"fullName"`
	Status   string  `json:"status"`
}

// LicenseAttributes are a license's writable attributes; PolicyID is its
// policy and OwnerID its owner (a user). The limits override the policy's.
type LicenseAttributes struct {
	PolicyID     string         `json:"-" rel:"policy,policies"`
	OwnerID      string         `json:"-" rel:"owner|user,users"`
	GroupID      string         `json:"-" rel:"group,groups"`
	Name         *string        `json:"name,omitempty"`
	Key          string         `json:"key,omitempty"`
	Expiry       *time.Time     `json:"expiry,omitempty"`
	Suspended    *bool          `json:"suspended,omitempty"`
	Protected    *bool          `json:"protected,omitempty"`
	MaxMachines  *int64         `json:"maxMachines,omitempty"`
	MaxProcesses *int64         `json:"maxProcesses,omitempty"`
	MaxUsers     *int64         `json:"maxUsers,omitempty"`
	MaxCores     *int64         `json:"maxCores,omitempty"`
	MaxMemory    *int64         `json:"maxMemory,omitempty"`
	MaxDisk      *int64         `json:"maxDisk,omitempty"`
	MaxUses      *int64         `json:"maxUses,omitempty"`
	Metadata     map[string]any `json:"metadata,omitempty"`
}

// License is a license. Its limits are the effective ones (the policy's
// unless overridden).
type License struct {
	Object
	LicenseAttributes
	Status           string     `json:"status"`
	Uses             int64      `json:"uses"`
	Scheme           *string    `json:"scheme"`
	RequireHeartbeat bool       `json:"requireHeartbeat"`
	RequireCheckIn   bool       `json:"requireCheckIn"`
	LastValidated    *time.Time `json:"lastValidated"`
	LastCheckIn      *time.Time `json:"lastCheckIn"`
	NextCheckIn      *time.Time `json:"nextCheckIn"`
}

// ProductID is the license's product.
func (l *License) ProductID() string { return l.RelatedID("product") }

// MachineAttributes are a machine's writable attributes; LicenseID is the
// license it is activated for.
type MachineAttributes struct {
	LicenseID   string         `json:"-" rel:"license,licenses"`
	GroupID     string         `json:"-" rel:"group,groups"`
	Fingerprint string         `json:"fingerprint,omitempty"`
	Name        *string        `json:"name,omitempty"`
	Hostname    *string        `json:"hostname,omitempty"`
	IP          *string        `json:"ip,omitempty"`
	Platform    *string        `json:"platform,omitempty"`
	Cores       *int64         `json:"cores,omitempty"`
	Memory      *int64         `json:"memory,omitempty"`
	Disk        *int64         `json:"disk,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
}

// Machine is an activated machine.
type Machine struct {
	Object
	MachineAttributes
	RequireHeartbeat  bool       `json:"requireHeartbeat"`
	HeartbeatStatus   string     `json:"heartbeatStatus"`
	HeartbeatDuration *int64     `json:"heartbeatDuration"`
	LastHeartbeat     *time.Time `json:"lastHeartbeat"`
	NextHeartbeat     *time.Time `json:"nextHeartbeat"`
}

// ComponentAttributes are a machine component's writable attributes.
type ComponentAttributes struct {
	MachineID   string         `json:"-" rel:"machine,machines"`
	Fingerprint string         `json:"fingerprint,omitempty"`
	Name        string         `json:"name,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
}

// Component is a hardware component of a machine.
type Component struct {
	Object
	ComponentAttributes
}

// PackageAttributes are a release package's writable attributes.
type PackageAttributes struct {
	ProductID string         `json:"-" rel:"product,products"`
	Name      string         `json:"name,omitempty"`
	Key       string         `json:"key,omitempty"`
	Engine    *string        `json:"engine,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
}

// Package is a release package.
type Package struct {
	Object
	PackageAttributes
}

// ReleaseAttributes are a release's writable attributes; a release belongs
// to a product and optionally a package.
type ReleaseAttributes struct {
	ProductID   string         `json:"-" rel:"product,products"`
	PackageID   string         `json:"-" rel:"package,packages"`
	Name        *string        `json:"name,omitempty"`
	Description *string        `json:"description,omitempty"`
	Channel     string         `json:"channel,omitempty"`
	Status      string         `json:"status,omitempty"`
	Version     string         `json:"version,omitempty"`
	Tag         *string        `json:"tag,omitempty"`
	Backdated   *time.Time     `json:"backdated,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
}

// Release is a release.
type Release struct {
	Object
	ReleaseAttributes
	Yanked *time.Time `json:"yanked"`
}

// ArtifactAttributes are an artifact's writable attributes.
type ArtifactAttributes struct {
	ReleaseID string         `json:"-" rel:"release,releases"`
	Filename  string         `json:"filename,omitempty"`
	Filetype  *string        `json:"filetype,omitempty"`
	Filesize  *int64         `json:"filesize,omitempty"`
	Platform  *string        `json:"platform,omitempty"`
	Arch      *string        `json:"arch,omitempty"`
	Checksum  *string        `json:"checksum,omitempty"`
	Signature *string        `json:"signature,omitempty"`
	Metadata  map[string]any `json:"metadata,omitempty"`
}

// Artifact is a release artifact; Status is WAITING until its bytes are
// uploaded, then UPLOADED (or FAILED, YANKED).
type Artifact struct {
	Object
	ArtifactAttributes
	Status string `json:"status"`
}

// Constraint is an entitlement a release requires of the licenses that
// download it.
type Constraint struct {
	Object
	EntitlementID string `json:"-" rel:"entitlement,entitlements"`
}

// Token is an API token; Token, the secret, is shown only when created.
type Token struct {
	Object
	Kind        string     `json:"kind"`
	Token       string     `json:"token"`
	Name        *string    `json:"name"`
	Expiry      *time.Time `json:"expiry"`
	Permissions []string   `json:"permissions"`
}

// Account is the account the client works in.
type Account struct {
	Object
	Name string `json:"name"`
	Slug string `json:"slug"`
	// PublicKey is the account's Ed25519 public key (hex), which signs its
	// responses: pass it to WithPublicKey through ParsePublicKey.
	PublicKey string `json:"-"`
}

// LicenseFile is a license or machine file from a check-out: Certificate
// is the signed (and maybe encrypted) file an application keeps offline.
type LicenseFile struct {
	Object
	Certificate string     `json:"certificate"`
	Algorithm   string     `json:"algorithm"`
	Includes    []string   `json:"includes"`
	TTL         *int64     `json:"ttl"`
	Expiry      *time.Time `json:"expiry"`
	Issued      time.Time  `json:"issued"`
}

// accountKey reads the public key from an account document's meta, where
// relkey and Keygen publish it base64-encoded.
func accountKey(meta json.RawMessage) string {
	var m struct {
		Keys struct {
			Ed25519 string `json:"ed25519"`
		} `json:"keys"`
	}
	if json.Unmarshal(meta, &m) != nil {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(m.Keys.Ed25519)
	if err != nil {
		return ""
	}
	return string(raw)
}

// GroupAttributes are a group's writable attributes: limits on the users,
// licenses and machines it holds (nil: none).
type GroupAttributes struct {
	Name        string         `json:"name,omitempty"`
	MaxUsers    *int64         `json:"maxUsers,omitempty"`
	MaxLicenses *int64         `json:"maxLicenses,omitempty"`
	MaxMachines *int64         `json:"maxMachines,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
}

// Group is a group of users, licenses and machines.
type Group struct {
	Object
	GroupAttributes
}

// GroupOwner makes a user (UserID) an owner of a group (GroupID).
type GroupOwner struct {
	Object
	GroupID string `json:"-" rel:"group,groups"`
	UserID  string `json:"-" rel:"user,users"`
}
