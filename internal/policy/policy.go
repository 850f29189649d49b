// Package policy is how licenses behave: their duration, machine limits,
// required validation scopes, heartbeats, expiration and authentication
// strategies. Every license belongs to one policy, every policy to one
// product.
package policy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
)

// Policy is a stored policy.
type Policy struct {
	ID                            string `gorm:"primaryKey"`
	AccountID                     string
	ProductID                     string
	Name                          string
	Duration                      *int64
	Strict                        bool
	Floating                      bool
	Protected                     bool
	MaxMachines                   *int64
	MaxProcesses                  *int64
	MaxUsers                      *int64
	MaxCores                      *int64
	MaxMemory                     *int64
	MaxDisk                       *int64
	MaxUses                       *int64
	Scheme                        *string
	RequireProductScope           bool
	RequirePolicyScope            bool
	RequireMachineScope           bool
	RequireFingerprintScope       bool
	RequireComponentsScope        bool
	RequireUserScope              bool
	RequireChecksumScope          bool
	RequireVersionScope           bool
	RequireCheckIn                bool
	CheckInInterval               *string
	CheckInIntervalCount          *int64
	RequireHeartbeat              bool
	HeartbeatDuration             *int64
	HeartbeatBasis                string
	HeartbeatCullStrategy         string
	HeartbeatResurrectionStrategy string
	MachineUniquenessStrategy     string
	MachineMatchingStrategy       string
	ComponentUniquenessStrategy   string
	ComponentMatchingStrategy     string
	ExpirationStrategy            string
	ExpirationBasis               string
	RenewalBasis                  string
	TransferStrategy              string
	AuthenticationStrategy        string
	MachineLeasingStrategy        string
	ProcessLeasingStrategy        string
	OverageStrategy               string
	Metadata                      map[string]any `gorm:"serializer:json"`
	CreatedAt                     time.Time
	UpdatedAt                     time.Time
}

// Schemes relkey signs license keys with.
const (
	SchemeED25519  = "ED25519_SIGN"
	SchemeJWTRS256 = "RSA_2048_JWT_RS256"
)

// Expiration strategies.
const (
	RestrictAccess = "RESTRICT_ACCESS"
	RevokeAccess   = "REVOKE_ACCESS"
	MaintainAccess = "MAINTAIN_ACCESS"
	AllowAccess    = "ALLOW_ACCESS"
)

// DefaultHeartbeatDuration applies when a policy sets none (seconds).
const DefaultHeartbeatDuration = 600

// enums lists the values of every enumerated attribute; the first is the
// default unless noted in defaults().
var enums = map[string][]string{
	"heartbeat_cull_strategy":         {"DEACTIVATE_DEAD", "KEEP_DEAD"},
	"heartbeat_resurrection_strategy": {"NO_REVIVE", "ALWAYS_REVIVE", "15_MINUTE_REVIVE", "10_MINUTE_REVIVE", "5_MINUTE_REVIVE", "2_MINUTE_REVIVE", "1_MINUTE_REVIVE"},
	"heartbeat_basis":                 {"FROM_FIRST_PING", "FROM_CREATION"},
	"machine_uniqueness_strategy":     {"UNIQUE_PER_LICENSE", "UNIQUE_PER_POLICY", "UNIQUE_PER_PRODUCT", "UNIQUE_PER_ACCOUNT"},
	"machine_matching_strategy":       {"MATCH_ANY", "MATCH_TWO", "MATCH_MOST", "MATCH_ALL"},
	"component_uniqueness_strategy":   {"UNIQUE_PER_MACHINE", "UNIQUE_PER_LICENSE", "UNIQUE_PER_POLICY", "UNIQUE_PER_PRODUCT", "UNIQUE_PER_ACCOUNT"},
	"component_matching_strategy":     {"MATCH_ANY", "MATCH_TWO", "MATCH_MOST", "MATCH_ALL"},
	"expiration_strategy":             {RestrictAccess, RevokeAccess, MaintainAccess, AllowAccess},
	"expiration_basis":                {"FROM_CREATION", "FROM_FIRST_VALIDATION", "FROM_FIRST_ACTIVATION", "FROM_FIRST_DOWNLOAD", "FROM_FIRST_USE"},
	"renewal_basis":                   {"FROM_EXPIRY", "FROM_NOW", "FROM_NOW_IF_EXPIRED"},
	"transfer_strategy":               {"KEEP_EXPIRY", "RESET_EXPIRY"},
	"authentication_strategy":         {"TOKEN", "LICENSE", "MIXED", "NONE"},
	"machine_leasing_strategy":        {"PER_LICENSE", "PER_USER"},
	"process_leasing_strategy":        {"PER_MACHINE", "PER_LICENSE", "PER_USER"},
	"overage_strategy":                {"NO_OVERAGE", "ALWAYS_ALLOW_OVERAGE", "ALLOW_1_25X_OVERAGE", "ALLOW_1_5X_OVERAGE", "ALLOW_2X_OVERAGE"},
	"check_in_interval":               {"day", "week", "month", "year"},
	"scheme":                          {SchemeED25519, SchemeJWTRS256},
}

// Params are the writable attributes; absent ones are left unchanged.
type Params struct {
	Name                          optional.Value[string]         `json:"name"`
	Duration                      optional.Value[*int64]         `json:"duration"`
	Strict                        optional.Value[bool]           `json:"strict"`
	Floating                      optional.Value[bool]           `json:"floating"`
	Protected                     optional.Value[bool]           `json:"protected"`
	MaxMachines                   optional.Value[*int64]         `json:"max_machines"`
	MaxProcesses                  optional.Value[*int64]         `json:"max_processes"`
	MaxUsers                      optional.Value[*int64]         `json:"max_users"`
	MaxCores                      optional.Value[*int64]         `json:"max_cores"`
	MaxMemory                     optional.Value[*int64]         `json:"max_memory"`
	MaxDisk                       optional.Value[*int64]         `json:"max_disk"`
	MaxUses                       optional.Value[*int64]         `json:"max_uses"`
	Scheme                        optional.Value[*string]        `json:"scheme"`
	RequireProductScope           optional.Value[bool]           `json:"require_product_scope"`
	RequirePolicyScope            optional.Value[bool]           `json:"require_policy_scope"`
	RequireMachineScope           optional.Value[bool]           `json:"require_machine_scope"`
	RequireFingerprintScope       optional.Value[bool]           `json:"require_fingerprint_scope"`
	RequireComponentsScope        optional.Value[bool]           `json:"require_components_scope"`
	RequireUserScope              optional.Value[bool]           `json:"require_user_scope"`
	RequireChecksumScope          optional.Value[bool]           `json:"require_checksum_scope"`
	RequireVersionScope           optional.Value[bool]           `json:"require_version_scope"`
	RequireCheckIn                optional.Value[bool]           `json:"require_check_in"`
	CheckInInterval               optional.Value[*string]        `json:"check_in_interval"`
	CheckInIntervalCount          optional.Value[*int64]         `json:"check_in_interval_count"`
	RequireHeartbeat              optional.Value[bool]           `json:"require_heartbeat"`
	HeartbeatDuration             optional.Value[*int64]         `json:"heartbeat_duration"`
	HeartbeatBasis                optional.Value[string]         `json:"heartbeat_basis"`
	HeartbeatCullStrategy         optional.Value[string]         `json:"heartbeat_cull_strategy"`
	HeartbeatResurrectionStrategy optional.Value[string]         `json:"heartbeat_resurrection_strategy"`
	MachineUniquenessStrategy     optional.Value[string]         `json:"machine_uniqueness_strategy"`
	MachineMatchingStrategy       optional.Value[string]         `json:"machine_matching_strategy"`
	ComponentUniquenessStrategy   optional.Value[string]         `json:"component_uniqueness_strategy"`
	ComponentMatchingStrategy     optional.Value[string]         `json:"component_matching_strategy"`
	ExpirationStrategy            optional.Value[string]         `json:"expiration_strategy"`
	ExpirationBasis               optional.Value[string]         `json:"expiration_basis"`
	RenewalBasis                  optional.Value[string]         `json:"renewal_basis"`
	TransferStrategy              optional.Value[string]         `json:"transfer_strategy"`
	AuthenticationStrategy        optional.Value[string]         `json:"authentication_strategy"`
	MachineLeasingStrategy        optional.Value[string]         `json:"machine_leasing_strategy"`
	ProcessLeasingStrategy        optional.Value[string]         `json:"process_leasing_strategy"`
	OverageStrategy               optional.Value[string]         `json:"overage_strategy"`
	Metadata                      optional.Value[map[string]any] `json:"metadata"`
}

// Products resolves the product a policy is created for, as who sees it.
type Products interface {
	VisibleID(ctx context.Context, who *access.Principal, ref string) (string, error)
}

// Service holds the policy rules.
type Service struct {
	store    *Store
	products Products
}

// NewService returns the policy rules over store.
func NewService(store *Store, products Products) *Service {
	return &Service{store: store, products: products}
}

// Create stores a policy for a product who may see, with Keygen's defaults.
func (s *Service) Create(ctx context.Context, who *access.Principal, productRef string, accountProtected bool, p Params) (*Policy, error) {
	if err := who.Require("policy.create"); err != nil {
		return nil, err
	}
	if productRef == "" {
		return nil, apperr.At(apperr.Unprocessable, "PRODUCT_NOT_FOUND", "must exist", apperr.Rel("product"))
	}
	productID, err := s.products.VisibleID(ctx, who, productRef)
	if apperr.Is(err, apperr.NotFound) {
		return nil, apperr.At(apperr.Unprocessable, "PRODUCT_NOT_FOUND", "must exist", apperr.Rel("product"))
	}
	if err != nil {
		return nil, err
	}
	pol := &Policy{ID: id.New(), AccountID: who.AccountID, ProductID: productID, Protected: accountProtected, Metadata: map[string]any{}}
	for attr, values := range enums {
		if attr != "check_in_interval" && attr != "scheme" {
			setEnum(pol, attr, values[0])
		}
	}
	if !p.Name.Set {
		return nil, apperr.Attribute("name", "MISSING", "can't be blank")
	}
	// Node-locked policies allow one machine unless told otherwise.
	if !p.Floating.V && !p.MaxMachines.Set {
		one := int64(1)
		pol.MaxMachines = &one
	}
	// A required heartbeat starts at activation unless told otherwise.
	if p.RequireHeartbeat.V && !p.HeartbeatBasis.Set {
		pol.HeartbeatBasis = "FROM_CREATION"
	}
	if err := apply(pol, p, true); err != nil {
		return nil, err
	}
	if err := s.store.Create(ctx, pol); err != nil {
		return nil, err
	}
	return pol, nil
}

// Update changes the given attributes; scheme is fixed at creation.
func (s *Service) Update(ctx context.Context, who *access.Principal, ref string, p Params) (*Policy, error) {
	pol, err := s.visible(ctx, who, ref, "policy.update")
	if err != nil {
		return nil, err
	}
	if p.Scheme.Set {
		return nil, apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "unpermitted parameter", apperr.Attr("scheme"))
	}
	if err := apply(pol, p, false); err != nil {
		return nil, err
	}
	if err := s.store.Save(ctx, pol); err != nil {
		return nil, err
	}
	return pol, nil
}

// Find returns a policy who may read.
func (s *Service) Find(ctx context.Context, who *access.Principal, ref string) (*Policy, error) {
	return s.visible(ctx, who, ref, "policy.read")
}

// Visible returns a policy who may see, whatever its permissions (to
// attach licenses to it).
func (s *Service) Visible(ctx context.Context, who *access.Principal, ref string) (*Policy, error) {
	return s.store.Find(ctx, who.AccountID, ref, access.ScopeOf(who))
}

func (s *Service) visible(ctx context.Context, who *access.Principal, ref, permission string) (*Policy, error) {
	return access.Visible(who, permission, func() (*Policy, error) { return s.store.Find(ctx, who.AccountID, ref, access.ScopeOf(who)) })
}

// Get returns a policy of the account without visibility rules (for rules
// that already hold one of its licenses).
func (s *Service) Get(ctx context.Context, accountID, policyID string) (*Policy, error) {
	return s.store.Find(ctx, accountID, policyID, access.Scope{All: true})
}

// List returns a page of the policies who may see, of one product if given.
func (s *Service) List(ctx context.Context, who *access.Principal, productRef string, p page.Request) ([]Policy, int64, error) {
	if err := who.Require("policy.read"); err != nil {
		return nil, 0, err
	}
	productID := ""
	if productRef != "" {
		var err error
		if productID, err = s.products.VisibleID(ctx, who, productRef); apperr.Is(err, apperr.NotFound) {
			return nil, 0, nil
		} else if err != nil {
			return nil, 0, err
		}
	}
	return s.store.List(ctx, who.AccountID, access.ScopeOf(who), productID, p)
}

// Delete removes a policy that has no licenses.
func (s *Service) Delete(ctx context.Context, who *access.Principal, ref string) error {
	pol, err := s.visible(ctx, who, ref, "policy.delete")
	if err != nil {
		return err
	}
	return s.store.DeleteUnused(ctx, pol)
}

func setEnum(pol *Policy, attr, value string) {
	switch attr {
	case "heartbeat_cull_strategy":
		pol.HeartbeatCullStrategy = value
	case "heartbeat_resurrection_strategy":
		pol.HeartbeatResurrectionStrategy = value
	case "heartbeat_basis":
		pol.HeartbeatBasis = value
	case "machine_uniqueness_strategy":
		pol.MachineUniquenessStrategy = value
	case "machine_matching_strategy":
		pol.MachineMatchingStrategy = value
	case "component_uniqueness_strategy":
		pol.ComponentUniquenessStrategy = value
	case "component_matching_strategy":
		pol.ComponentMatchingStrategy = value
	case "expiration_strategy":
		pol.ExpirationStrategy = value
	case "expiration_basis":
		pol.ExpirationBasis = value
	case "renewal_basis":
		pol.RenewalBasis = value
	case "transfer_strategy":
		pol.TransferStrategy = value
	case "authentication_strategy":
		pol.AuthenticationStrategy = value
	case "machine_leasing_strategy":
		pol.MachineLeasingStrategy = value
	case "process_leasing_strategy":
		pol.ProcessLeasingStrategy = value
	case "overage_strategy":
		pol.OverageStrategy = value
	}
}

func enumValue(attr string, v optional.Value[string], pol *Policy) error {
	if !v.Set {
		return nil
	}
	if !slices.Contains(enums[attr], v.V) {
		return apperr.Attribute(attr, "NOT_ALLOWED", "unsupported "+strings.ReplaceAll(attr, "_", " ")+" (expected one of "+strings.Join(enums[attr], ", ")+")")
	}
	setEnum(pol, attr, v.V)
	return nil
}

// limit validates a nullable integer attribute against a minimum.
func limit(attr string, v optional.Value[*int64], minimum int64, dst **int64) error {
	if !v.Set {
		return nil
	}
	if v.V != nil && (*v.V < minimum || *v.V > 1<<31-1 && attr != "max_memory" && attr != "max_disk") {
		return apperr.Attribute(attr, "INVALID", fmt.Sprintf("must be greater than or equal to %d", minimum))
	}
	*dst = v.V
	return nil
}

func apply(pol *Policy, p Params, creating bool) error {
	p.Name.Apply(&pol.Name)
	pol.Name = strings.TrimSpace(pol.Name)
	if pol.Name == "" {
		return apperr.Attribute("name", "MISSING", "can't be blank")
	}
	if len(pol.Name) > 255 {
		return apperr.Attribute("name", "TOO_LONG", "is too long (maximum is 255 characters)")
	}
	for _, b := range []struct {
		v   optional.Value[bool]
		dst *bool
	}{
		{p.Strict, &pol.Strict}, {p.Floating, &pol.Floating}, {p.Protected, &pol.Protected},
		{p.RequireProductScope, &pol.RequireProductScope}, {p.RequirePolicyScope, &pol.RequirePolicyScope},
		{p.RequireMachineScope, &pol.RequireMachineScope}, {p.RequireFingerprintScope, &pol.RequireFingerprintScope},
		{p.RequireComponentsScope, &pol.RequireComponentsScope}, {p.RequireUserScope, &pol.RequireUserScope},
		{p.RequireChecksumScope, &pol.RequireChecksumScope}, {p.RequireVersionScope, &pol.RequireVersionScope},
		{p.RequireCheckIn, &pol.RequireCheckIn}, {p.RequireHeartbeat, &pol.RequireHeartbeat},
	} {
		b.v.Apply(b.dst)
	}
	for _, l := range []struct {
		attr    string
		v       optional.Value[*int64]
		minimum int64
		dst     **int64
	}{
		{"duration", p.Duration, 86400, &pol.Duration},
		{"max_machines", p.MaxMachines, 0, &pol.MaxMachines},
		{"max_processes", p.MaxProcesses, 1, &pol.MaxProcesses},
		{"max_users", p.MaxUsers, 1, &pol.MaxUsers},
		{"max_cores", p.MaxCores, 1, &pol.MaxCores},
		{"max_memory", p.MaxMemory, 1, &pol.MaxMemory},
		{"max_disk", p.MaxDisk, 1, &pol.MaxDisk},
		{"max_uses", p.MaxUses, 0, &pol.MaxUses},
		{"check_in_interval_count", p.CheckInIntervalCount, 1, &pol.CheckInIntervalCount},
		{"heartbeat_duration", p.HeartbeatDuration, 60, &pol.HeartbeatDuration},
	} {
		if err := limit(l.attr, l.v, l.minimum, l.dst); err != nil {
			return err
		}
	}
	for attr, v := range map[string]optional.Value[string]{
		"heartbeat_cull_strategy": p.HeartbeatCullStrategy, "heartbeat_resurrection_strategy": p.HeartbeatResurrectionStrategy,
		"heartbeat_basis": p.HeartbeatBasis, "machine_uniqueness_strategy": p.MachineUniquenessStrategy,
		"machine_matching_strategy": p.MachineMatchingStrategy, "component_uniqueness_strategy": p.ComponentUniquenessStrategy,
		"component_matching_strategy": p.ComponentMatchingStrategy, "expiration_strategy": p.ExpirationStrategy,
		"expiration_basis": p.ExpirationBasis, "renewal_basis": p.RenewalBasis, "transfer_strategy": p.TransferStrategy,
		"authentication_strategy": p.AuthenticationStrategy, "machine_leasing_strategy": p.MachineLeasingStrategy,
		"process_leasing_strategy": p.ProcessLeasingStrategy, "overage_strategy": p.OverageStrategy,
	} {
		if err := enumValue(attr, v, pol); err != nil {
			return err
		}
	}
	if p.CheckInInterval.Set {
		if v := p.CheckInInterval.V; v != nil && !slices.Contains(enums["check_in_interval"], *v) {
			return apperr.Attribute("check_in_interval", "NOT_ALLOWED", "must be one of day, week, month, year")
		}
		pol.CheckInInterval = p.CheckInInterval.V
	}
	if p.Scheme.Set && creating {
		if v := p.Scheme.V; v != nil && !slices.Contains(enums["scheme"], *v) {
			return apperr.Attribute("scheme", "NOT_ALLOWED", "unsupported scheme (supported: ED25519_SIGN, RSA_2048_JWT_RS256)")
		}
		pol.Scheme = p.Scheme.V
	}
	if p.Metadata.Set {
		pol.Metadata = p.Metadata.V
		if pol.Metadata == nil {
			pol.Metadata = map[string]any{}
		}
	}
	return validate(pol)
}

// validate checks the rules that span attributes.
func validate(pol *Policy) error {
	if !pol.Floating && pol.MaxMachines != nil && *pol.MaxMachines != 1 {
		return apperr.Attribute("max_machines", "INVALID", "must be equal to 1 for non-floating policy")
	}
	if pol.Floating && pol.MaxMachines != nil && *pol.MaxMachines < 1 {
		return apperr.Attribute("max_machines", "INVALID", "must be greater than or equal to 1 for floating policy")
	}
	if pol.RequireCheckIn && (pol.CheckInInterval == nil || pol.CheckInIntervalCount == nil) {
		return apperr.Attribute("check_in_interval", "MISSING", "is required when require check in is true")
	}
	if pol.CheckInIntervalCount != nil && *pol.CheckInIntervalCount > 365 {
		return apperr.Attribute("check_in_interval_count", "INVALID", "must be a number between 1 and 365 inclusive")
	}
	if pol.HeartbeatResurrectionStrategy == "ALWAYS_REVIVE" && pol.HeartbeatCullStrategy != "KEEP_DEAD" {
		return apperr.Attribute("heartbeat_cull_strategy", "NOT_ALLOWED", "incompatible heartbeat cull strategy (must be KEEP_DEAD when resurrection strategy is ALWAYS_REVIVE)")
	}
	divisor := map[string]int64{"ALLOW_1_25X_OVERAGE": 4, "ALLOW_1_5X_OVERAGE": 2}[pol.OverageStrategy]
	if divisor > 0 {
		if !pol.Floating {
			return apperr.Attribute("overage_strategy", "NOT_ALLOWED", "incompatible overage strategy (cannot use "+pol.OverageStrategy+" for node-locked policy)")
		}
		for _, max := range []*int64{pol.MaxMachines, pol.MaxCores, pol.MaxMemory, pol.MaxDisk, pol.MaxProcesses, pol.MaxUsers} {
			if max != nil && *max%divisor != 0 {
				return apperr.Attribute("overage_strategy", "NOT_ALLOWED", fmt.Sprintf("incompatible overage strategy (limits must be divisible by %d for %s)", divisor, pol.OverageStrategy))
			}
		}
	}
	return nil
}

// HeartbeatSeconds is the policy's heartbeat duration, or the default.
func (pol *Policy) HeartbeatSeconds() int64 {
	if pol.HeartbeatDuration != nil {
		return *pol.HeartbeatDuration
	}
	return DefaultHeartbeatDuration
}
