// Package proof generates Keygen's offline machine proofs (POST
// /machines/:id/actions/generate-offline-proof, a Keygen-Version 1.0
// action): a dataset, by default the machine's account, product, policy,
// license and machine, signed with the account's RSA-2048 key as
// "proof/<base64url(JSON)>.<base64url(RSA-PKCS1-SHA256 signature)>".
package proof

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/policy"
)

// Machines finds the machine a bearer may generate a proof for.
type Machines interface {
	ProofSubject(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*machine.Machine, *license.License, *policy.Policy, error)
}

// Keys gives an account's RSA key.
type Keys interface {
	RSAKey(ctx context.Context, t *account.Tenant) (*rsa.PrivateKey, error)
}

// Service generates proofs.
type Service struct {
	machines Machines
	keys     Keys
	events   event.Changer
}

// NewService returns the proof generator; events records
// machine.proofs.generated.
func NewService(machines Machines, keys Keys, events event.Changer) *Service {
	return &Service{machines: machines, keys: keys, events: events}
}

// Generated is a proof and the machine it is of.
type Generated struct {
	Machine *machine.Machine
	Policy  *policy.Policy
	Proof   string
}

// Generate signs dataset (nil: the default dataset) for the machine ref
// names. Only staff and products may choose the dataset (Keygen's
// typed_params: meta is unpermitted for others).
func (s *Service) Generate(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, dataset map[string]any, custom bool) (*Generated, error) {
	m, l, pol, err := s.machines.ProofSubject(ctx, who, t, ref)
	if err != nil {
		return nil, err
	}
	if custom && !who.Staff() && who.BearerType != access.BearerProduct {
		return nil, apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "unpermitted parameter", apperr.Meta("dataset"))
	}
	if dataset == nil {
		dataset = Default(t.ID, m, l, pol)
	}
	key, err := s.keys.RSAKey(ctx, t)
	if err != nil {
		return nil, err
	}
	signed, err := Sign(key, dataset)
	if err != nil {
		return nil, err
	}
	err = s.events.Change(ctx, func(context.Context) error { return nil }, func() event.Occurrence {
		return event.Occurrence{Event: event.MachineProofsGenerated, AccountID: m.AccountID,
			Resource: &machine.WithPolicy[machine.Machine]{Item: *m, Policy: pol}, Who: who, Metadata: map[string]any{"proof": signed}}
	})
	if err != nil {
		return nil, err
	}
	return &Generated{Machine: m, Policy: pol, Proof: signed}, nil
}

// Default is Keygen's default proof dataset of a machine.
func Default(accountID string, m *machine.Machine, l *license.License, pol *policy.Policy) map[string]any {
	var duration any
	if pol.Duration != nil {
		duration = *pol.Duration
	}
	return map[string]any{
		"account": map[string]any{"id": accountID},
		"product": map[string]any{"id": m.ProductID},
		"policy":  map[string]any{"id": pol.ID, "duration": duration},
		"license": map[string]any{"id": l.ID, "key": l.Key, "expiry": stamp(l.Expiry)},
		"machine": map[string]any{"id": m.ID, "fingerprint": m.Fingerprint, "created": stamp(&m.CreatedAt)},
	}
}

func stamp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// Sign encodes dataset and signs "proof/<encoded>" with key.
func Sign(key *rsa.PrivateKey, dataset any) (string, error) {
	data, err := json.Marshal(dataset)
	if err != nil {
		return "", err
	}
	signing := "proof/" + base64.URLEncoding.EncodeToString(data)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return signing + "." + base64.URLEncoding.EncodeToString(sig), nil
}
