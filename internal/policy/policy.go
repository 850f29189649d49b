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
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
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
	UsePool                       bool
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

// Schemes license keys are encrypted or signed with, as Keygen names them.
const (
	SchemeRSAEncrypt   = "RSA_2048_PKCS1_ENCRYPT"
	SchemeRSASign      = "RSA_2048_PKCS1_SIGN"
	SchemeRSAPSSSign   = "RSA_2048_PKCS1_PSS_SIGN"
	SchemeJWTRS256     = "RSA_2048_JWT_RS256"
	SchemeRSASignV2    = "RSA_2048_PKCS1_SIGN_V2"
	SchemeRSAPSSSignV2 = "RSA_2048_PKCS1_PSS_SIGN_V2"
	SchemeED25519      = "ED25519_SIGN"
	SchemeECDSAP256    = "ECDSA_P256_SIGN"
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

// enums lists the values of every enumerated attribute.
var enums = map[string][]string{
	"heartbeat_cull_strategy":         {DeactivateDead, KeepDead},
	"heartbeat_resurrection_strategy": {NoRevive, AlwaysRevive, "15_MINUTE_REVIVE", "10_MINUTE_REVIVE", "5_MINUTE_REVIVE", "2_MINUTE_REVIVE", "1_MINUTE_REVIVE"},
	"heartbeat_basis":                 {HeartbeatFromFirstPing, HeartbeatFromCreation},
	"machine_uniqueness_strategy":     {UniquePerLicense, UniquePerPolicy, UniquePerProduct, UniquePerAccount},
	"machine_matching_strategy":       {MatchAny, MatchTwo, MatchMost, MatchAll},
	"component_uniqueness_strategy":   {UniquePerMachine, UniquePerLicense, UniquePerPolicy, UniquePerProduct, UniquePerAccount},
	"component_matching_strategy":     {MatchAny, MatchTwo, MatchMost, MatchAll},
	"expiration_strategy":             {RestrictAccess, RevokeAccess, MaintainAccess, AllowAccess},
	"expiration_basis":                {FromCreation, FromFirstValidation, FromFirstActivation, FromFirstDownload, FromFirstUse},
	"renewal_basis":                   {RenewFromExpiry, RenewFromNow, RenewFromNowIfExpired},
	"transfer_strategy":               {KeepExpiry, ResetExpiry},
	"authentication_strategy":         {AuthToken, AuthLicense, AuthMixed, AuthNone},
	"machine_leasing_strategy":        {PerLicense, PerUser},
	"process_leasing_strategy":        {PerMachine, PerLicense, PerUser},
	"overage_strategy":                {NoOverage, AlwaysAllowOverage, Allow125xOverage, Allow15xOverage, Allow2xOverage},
	"check_in_interval":               {"day", "week", "month", "year"},
	"scheme":                          {SchemeRSAEncrypt, SchemeRSASign, SchemeRSAPSSSign, SchemeJWTRS256, SchemeRSASignV2, SchemeRSAPSSSignV2, SchemeED25519, SchemeECDSAP256},
}

// withDefaults sets Keygen's default strategies on a new policy.
func withDefaults(pol *Policy) *Policy {
	pol.HeartbeatCullStrategy, pol.HeartbeatResurrectionStrategy, pol.HeartbeatBasis = DeactivateDead, NoRevive, HeartbeatFromFirstPing
	pol.MachineUniquenessStrategy, pol.MachineMatchingStrategy = UniquePerLicense, MatchAny
	pol.ComponentUniquenessStrategy, pol.ComponentMatchingStrategy = UniquePerMachine, MatchAny
	pol.ExpirationStrategy, pol.ExpirationBasis, pol.RenewalBasis, pol.TransferStrategy = RestrictAccess, FromCreation, RenewFromExpiry, KeepExpiry
	pol.AuthenticationStrategy, pol.MachineLeasingStrategy, pol.ProcessLeasingStrategy = AuthToken, PerLicense, PerMachine
	pol.OverageStrategy = NoOverage
	return pol
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
	UsePool                       optional.Value[bool]           `json:"use_pool"`
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
	VisibleID(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (string, error)
}

// Records is the storage the policy rules need; *Store is it.
type Records interface {
	Create(ctx context.Context, p *Policy) error
	Save(ctx context.Context, p *Policy) error
	Find(ctx context.Context, accountID, ref string, sc access.Scope) (*Policy, error)
	List(ctx context.Context, accountID string, sc access.Scope, productID string, p page.Request) ([]Policy, int64, error)
	DeleteUnused(ctx context.Context, p *Policy) (bool, error)
}

// Service holds the policy rules.
type Service struct {
	store    Records
	products Products
	events   event.Changer
}

// NewService returns the policy rules over store; events records their changes.
func NewService(store Records, products Products, events event.Changer) *Service {
	return &Service{store: store, products: products, events: events}
}

func (s *Service) occurred(who *access.Principal, name string, pol *Policy) func() event.Occurrence {
	return func() event.Occurrence {
		return event.Occurrence{Event: name, AccountID: pol.AccountID, Resource: pol, Who: who}
	}
}

// Create stores a policy for a product who may see, with Keygen's defaults.
func (s *Service) Create(ctx context.Context, who *access.Principal, t *account.Tenant, productRef string, p Params) (*Policy, error) {
	if err := who.Require("policy.create"); err != nil {
		return nil, err
	}
	notFound := apperr.At(apperr.Unprocessable, "PRODUCT_NOT_FOUND", "must exist", apperr.Rel("product"))
	if productRef == "" {
		return nil, notFound
	}
	productID, err := s.products.VisibleID(ctx, who, t, productRef)
	if apperr.Is(err, apperr.NotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	pol := withDefaults(&Policy{ID: id.New(), AccountID: t.ID, ProductID: productID, Protected: t.Protected, Metadata: map[string]any{}})
	// Node-locked policies allow one machine unless told otherwise.
	if !p.Floating.V && !p.MaxMachines.Set {
		one := int64(1)
		pol.MaxMachines = &one
	}
	// A required heartbeat starts at activation unless told otherwise.
	if p.RequireHeartbeat.V && !p.HeartbeatBasis.Set {
		pol.HeartbeatBasis = HeartbeatFromCreation
	}
	if err := apply(pol, p, true); err != nil {
		return nil, err
	}
	if err := s.events.Change(ctx, func(ctx context.Context) error { return s.store.Create(ctx, pol) }, s.occurred(who, event.PolicyCreated, pol)); err != nil {
		return nil, err
	}
	return pol, nil
}

// Update changes the given attributes; scheme is fixed at creation.
func (s *Service) Update(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p Params) (*Policy, error) {
	pol, err := s.visible(ctx, who, t, ref, "policy.update")
	if err != nil {
		return nil, err
	}
	if p.Scheme.Set {
		return nil, apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "unpermitted parameter", apperr.Attr("scheme"))
	}
	if err := apply(pol, p, false); err != nil {
		return nil, err
	}
	if err := s.events.Change(ctx, func(ctx context.Context) error { return s.store.Save(ctx, pol) }, s.occurred(who, event.PolicyUpdated, pol)); err != nil {
		return nil, err
	}
	return pol, nil
}

// Find returns a policy who may read.
func (s *Service) Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Policy, error) {
	return s.visible(ctx, who, t, ref, "policy.read")
}

// Visible returns a policy who may see, whatever its permissions (to
// attach licenses or entitlements to it).
func (s *Service) Visible(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Policy, error) {
	if who == nil {
		return nil, access.ErrTokenMissing
	}
	return s.store.Find(ctx, t.ID, ref, access.ScopeOf(who))
}

func (s *Service) visible(ctx context.Context, who *access.Principal, t *account.Tenant, ref, permission string) (*Policy, error) {
	return access.Visible(who, permission, func() (*Policy, error) { return s.store.Find(ctx, t.ID, ref, access.ScopeOf(who)) })
}

// Get returns a policy of the account without visibility rules (for rules
// that already hold one of its licenses).
func (s *Service) Get(ctx context.Context, accountID, policyID string) (*Policy, error) {
	return s.store.Find(ctx, accountID, policyID, access.Scope{All: true})
}

// List returns a page of the policies who may see, of one product if given.
func (s *Service) List(ctx context.Context, who *access.Principal, t *account.Tenant, productRef string, p page.Request) ([]Policy, int64, error) {
	if err := who.Require("policy.read"); err != nil {
		return nil, 0, err
	}
	productID := ""
	if productRef != "" {
		var err error
		if productID, err = s.products.VisibleID(ctx, who, t, productRef); apperr.Is(err, apperr.NotFound) {
			return nil, 0, nil
		} else if err != nil {
			return nil, 0, err
		}
	}
	return s.store.List(ctx, t.ID, access.ScopeOf(who), productID, p)
}

// Delete removes a policy that has no licenses.
func (s *Service) Delete(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) error {
	pol, err := s.visible(ctx, who, t, ref, "policy.delete")
	if err != nil {
		return err
	}
	return s.events.Change(ctx, func(ctx context.Context) error {
		deleted, err := s.store.DeleteUnused(ctx, pol)
		if err != nil {
			return err
		}
		if !deleted {
			return apperr.At(apperr.Unprocessable, "POLICY_IN_USE", "cannot delete a policy that has licenses", apperr.Record())
		}
		return nil
	}, s.occurred(who, event.PolicyDeleted, pol))
}

// enumValue validates an enumerated attribute against its values.
func enumValue(attr string, v optional.Value[string], dst *string) error {
	if !v.Set {
		return nil
	}
	if !slices.Contains(enums[attr], v.V) {
		return apperr.Attribute(attr, "NOT_ALLOWED", "unsupported "+strings.ReplaceAll(attr, "_", " ")+" (expected one of "+strings.Join(enums[attr], ", ")+")")
	}
	*dst = v.V
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
	for _, e := range []struct {
		attr string
		v    optional.Value[string]
		dst  *string
	}{
		{"heartbeat_cull_strategy", p.HeartbeatCullStrategy, &pol.HeartbeatCullStrategy},
		{"heartbeat_resurrection_strategy", p.HeartbeatResurrectionStrategy, &pol.HeartbeatResurrectionStrategy},
		{"heartbeat_basis", p.HeartbeatBasis, &pol.HeartbeatBasis},
		{"machine_uniqueness_strategy", p.MachineUniquenessStrategy, &pol.MachineUniquenessStrategy},
		{"machine_matching_strategy", p.MachineMatchingStrategy, &pol.MachineMatchingStrategy},
		{"component_uniqueness_strategy", p.ComponentUniquenessStrategy, &pol.ComponentUniquenessStrategy},
		{"component_matching_strategy", p.ComponentMatchingStrategy, &pol.ComponentMatchingStrategy},
		{"expiration_strategy", p.ExpirationStrategy, &pol.ExpirationStrategy},
		{"expiration_basis", p.ExpirationBasis, &pol.ExpirationBasis},
		{"renewal_basis", p.RenewalBasis, &pol.RenewalBasis},
		{"transfer_strategy", p.TransferStrategy, &pol.TransferStrategy},
		{"authentication_strategy", p.AuthenticationStrategy, &pol.AuthenticationStrategy},
		{"machine_leasing_strategy", p.MachineLeasingStrategy, &pol.MachineLeasingStrategy},
		{"process_leasing_strategy", p.ProcessLeasingStrategy, &pol.ProcessLeasingStrategy},
		{"overage_strategy", p.OverageStrategy, &pol.OverageStrategy},
	} {
		if err := enumValue(e.attr, e.v, e.dst); err != nil {
			return err
		}
	}
	if p.CheckInInterval.Set {
		if v := p.CheckInInterval.V; v != nil && !slices.Contains(enums["check_in_interval"], *v) {
			return apperr.Attribute("check_in_interval", "NOT_ALLOWED", "must be one of "+strings.Join(enums["check_in_interval"], ", "))
		}
		pol.CheckInInterval = p.CheckInInterval.V
	}
	if p.Scheme.Set && creating {
		if v := p.Scheme.V; v != nil && !slices.Contains(enums["scheme"], *v) {
			return apperr.Attribute("scheme", "NOT_ALLOWED", "unsupported scheme (supported: "+strings.Join(enums["scheme"], ", ")+")")
		}
		pol.Scheme = p.Scheme.V
	}
	if p.UsePool.Set && creating {
		pol.UsePool = p.UsePool.V
	}
	if pol.UsePool && pol.Scheme != nil {
		return apperr.Attribute("scheme", "NOT_SUPPORTED", "cannot use a scheme and use a pool")
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
	if pol.HeartbeatResurrectionStrategy == AlwaysRevive && pol.HeartbeatCullStrategy != KeepDead {
		return apperr.Attribute("heartbeat_cull_strategy", "NOT_ALLOWED", "incompatible heartbeat cull strategy (must be "+KeepDead+" when resurrection strategy is "+AlwaysRevive+")")
	}
	divisor := map[string]int64{Allow125xOverage: 4, Allow15xOverage: 2}[pol.OverageStrategy]
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
