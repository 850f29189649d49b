package checkout

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/user"
)

// TTLs of a file, in seconds.
const (
	DefaultTTL = 2629746 // one month
	MinTTL     = 3600
)

// What a license file and a machine file may include.
var (
	LicenseIncludes = []string{"entitlements", "product", "policy", "owner"}
	MachineIncludes = []string{"license", "license.entitlements", "license.product", "license.policy", "license.owner", "components"}
)

// Request is what a client asks of a file; absent members take defaults.
type Request struct {
	Encrypt   optional.Value[bool]
	TTL       optional.Value[*int64] // null: the file never expires
	Include   optional.Value[[]string]
	Algorithm optional.Value[string]
}

// File is what a check-out certifies: the subject, what it includes, and
// how it is framed. The transport renders it as a dataset and frames it
// with Certificate.
type File struct {
	Kind    Kind
	License *license.License
	Policy  *policy.Policy
	Machine *machine.Machine // machine files only

	Includes     []string
	Product      *product.Product
	Owner        *user.User
	Entitlements []entitlement.Entitlement
	Components   []machine.Component

	Encrypt bool
	// Signing is the signing algorithm (httpsig's): the one asked for,
	// else the policy's scheme's.
	Signing string
	Secret  string // what the file is encrypted with: the key (and fingerprint)
	Issued  time.Time
	TTL     *int64 // nil: the file never expires
	Expiry  *time.Time
}

// signByDefault signs by the policy's scheme unless an algorithm was asked for.
func (f *File) signByDefault() {
	if f.Signing == "" {
		f.Signing = DefaultSigning(f.Policy.Scheme)
	}
}

// Included reports whether the file includes a relationship.
func (f *File) Included(name string) bool { return slices.Contains(f.Includes, name) }

// Licenses finds and records the licenses files are made of.
type Licenses interface {
	Visible(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*license.License, *policy.Policy, error)
	CheckedOut(ctx context.Context, who *access.Principal, l *license.License) error
}

// Machines finds the machines files are made of.
type Machines interface {
	Visible(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*machine.Machine, error)
	Components(ctx context.Context, who *access.Principal, t *account.Tenant, machineRef string) ([]machine.Component, error)
	CheckedOut(ctx context.Context, who *access.Principal, m *machine.Machine, pol *policy.Policy) error
}

// Related finds what a license file includes about its license.
type Related interface {
	Product(ctx context.Context, accountID, id string) (*product.Product, error)
	Owner(ctx context.Context, accountID, id string) (*user.User, error)
	Entitlements(ctx context.Context, accountID, licenseID, policyID string) ([]entitlement.Entitlement, error)
}

// Service is the check-out use case.
type Service struct {
	licenses Licenses
	machines Machines
	related  Related
	now      func() time.Time
}

// NewService returns the check-out use case.
func NewService(licenses Licenses, machines Machines, related Related) *Service {
	return &Service{licenses: licenses, machines: machines, related: related, now: time.Now}
}

// CheckOutLicense makes the file of a license who may see and check out.
func (s *Service) CheckOutLicense(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, req Request) (*File, error) {
	if who == nil {
		return nil, access.ErrTokenMissing
	}
	l, pol, err := s.licenses.Visible(ctx, who, t, ref)
	if err != nil {
		return nil, err
	}
	if err := who.Require("license.check-out"); err != nil {
		return nil, err
	}
	f, err := s.file(License, req, LicenseIncludes)
	if err != nil {
		return nil, err
	}
	f.License, f.Policy, f.Secret = l, pol, l.Key
	f.signByDefault()
	if err := s.loadRelated(ctx, f, ""); err != nil {
		return nil, err
	}
	// Recorded once the file is made: a request that fails records nothing.
	if err := s.licenses.CheckedOut(ctx, who, l); err != nil {
		return nil, err
	}
	return f, nil
}

// CheckOutMachine makes the file of a machine who may see and check out.
func (s *Service) CheckOutMachine(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, req Request) (*File, error) {
	if who == nil {
		return nil, access.ErrTokenMissing
	}
	m, err := s.machines.Visible(ctx, who, t, ref)
	if err != nil {
		return nil, err
	}
	if err := who.Require("machine.check-out"); err != nil {
		return nil, err
	}
	l, pol, err := s.licenses.Visible(ctx, who, t, m.LicenseID)
	if err != nil {
		return nil, err
	}
	f, err := s.file(Machine, req, MachineIncludes)
	if err != nil {
		return nil, err
	}
	f.Machine, f.License, f.Policy, f.Secret = m, l, pol, l.Key+m.Fingerprint
	f.signByDefault()
	if err := s.loadRelated(ctx, f, "license."); err != nil {
		return nil, err
	}
	if f.Included("components") {
		if f.Components, err = s.machines.Components(ctx, who, t, m.ID); err != nil {
			return nil, err
		}
	}
	if err := s.machines.CheckedOut(ctx, who, m, pol); err != nil {
		return nil, err
	}
	return f, nil
}

// loadRelated loads what the file includes about its license; prefix is
// "license." in machine files.
func (s *Service) loadRelated(ctx context.Context, f *File, prefix string) error {
	l := f.License
	var err error
	for _, inc := range f.Includes {
		switch strings.TrimPrefix(inc, prefix) {
		case "product":
			f.Product, err = s.related.Product(ctx, l.AccountID, l.ProductID)
		case "owner":
			if l.OwnerID != nil {
				f.Owner, err = s.related.Owner(ctx, l.AccountID, *l.OwnerID)
			}
		case "entitlements":
			f.Entitlements, err = s.related.Entitlements(ctx, l.AccountID, l.ID, l.PolicyID)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func invalid(code, detail, parameter string) error {
	return apperr.AtParameter(apperr.Invalid, code, detail, parameter)
}

// file checks a request against the rules of files of a kind.
func (s *Service) file(kind Kind, req Request, allowed []string) (*File, error) {
	f := &File{Kind: kind, Encrypt: req.Encrypt.V, Issued: s.now().UTC().Truncate(time.Millisecond)}
	ttl := int64(DefaultTTL)
	f.TTL = &ttl
	if req.TTL.Set {
		if f.TTL = req.TTL.V; f.TTL != nil && *f.TTL < MinTTL {
			return nil, invalid("CHECKOUT_TTL_INVALID", "ttl must be greater than or equal to 3600 (1 hour)", "ttl")
		}
	}
	if f.TTL != nil {
		at := f.Issued.Add(time.Duration(*f.TTL) * time.Second)
		f.Expiry = &at
	}
	f.Includes = []string{}
	for _, inc := range req.Include.V {
		if inc = strings.TrimSpace(inc); inc == "" {
			continue
		}
		if !slices.Contains(allowed, inc) {
			return nil, invalid("CHECKOUT_INCLUDE_INVALID", "unsupported include "+strconv.Quote(inc)+" (supported: "+strings.Join(allowed, ", ")+")", "include")
		}
		f.Includes = append(f.Includes, inc)
	}
	if req.Algorithm.Set && req.Algorithm.V != "" {
		var err error
		if f.Encrypt, f.Signing, err = ParseAlgorithm(req.Algorithm.V); err != nil {
			return nil, invalid("CHECKOUT_ALGORITHM_INVALID", err.Error(), "algorithm")
		}
	}
	return f, nil
}
