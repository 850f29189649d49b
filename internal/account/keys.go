package account

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sync"
)

// keyPair describes one of the account's lazily made key pairs: Keygen
// gives every account an RSA-2048 and an ECDSA P-256 key pair besides its
// Ed25519 one. relkey makes them on first use (RSA generation is slow), so
// accounts that never sign with them never pay for them.
type keyPair struct {
	name     string
	private  string // column of the sealed private key
	public   string // column of the PEM public key
	sealed   func(*Account) *string
	generate func() (crypto.Signer, []byte, error) // key, DER to seal
	parse    func(der []byte) (crypto.Signer, error)
}

var (
	rsaPair = keyPair{
		name: "RSA", private: "rsa_private_key", public: "rsa_public_key",
		sealed: func(a *Account) *string { return a.RSAPrivateKey },
		generate: func() (crypto.Signer, []byte, error) {
			key, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return nil, nil, err
			}
			return key, x509.MarshalPKCS1PrivateKey(key), nil
		},
		parse: func(der []byte) (crypto.Signer, error) { return x509.ParsePKCS1PrivateKey(der) },
	}
	ecdsaPair = keyPair{
		name: "ECDSA", private: "ecdsa_private_key", public: "ecdsa_public_key",
		sealed: func(a *Account) *string { return a.ECDSAPrivateKey },
		generate: func() (crypto.Signer, []byte, error) {
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				return nil, nil, err
			}
			der, err := x509.MarshalECPrivateKey(key)
			return key, der, err
		},
		parse: func(der []byte) (crypto.Signer, error) { return x509.ParseECPrivateKey(der) },
	}
)

// parsedKeys caches decrypted, parsed private keys by account and pair: an
// account's key pairs never change once made.
type parsedKeys struct{ m sync.Map }

type parsedKey struct{ account, pair string }

// RSAKey returns the account's RSA-2048 key, making it on first use.
// Concurrent first uses agree on one key.
func (s *Service) RSAKey(ctx context.Context, t *Tenant) (*rsa.PrivateKey, error) {
	key, err := s.signer(ctx, t, rsaPair)
	if err != nil {
		return nil, err
	}
	return key.(*rsa.PrivateKey), nil
}

// ECDSAKey returns the account's ECDSA P-256 key, making it on first use.
func (s *Service) ECDSAKey(ctx context.Context, t *Tenant) (*ecdsa.PrivateKey, error) {
	key, err := s.signer(ctx, t, ecdsaPair)
	if err != nil {
		return nil, err
	}
	return key.(*ecdsa.PrivateKey), nil
}

// WithKeyPairs returns the account with every key pair made, as its
// document publishes all of its public keys.
func (s *Service) WithKeyPairs(ctx context.Context, t *Tenant) (*Account, error) {
	if t.RSAPublicKey != nil && t.ECDSAPublicKey != nil {
		return t.Account, nil
	}
	for _, pair := range []keyPair{rsaPair, ecdsaPair} {
		if _, err := s.signer(ctx, t, pair); err != nil {
			return nil, err
		}
	}
	return s.store.Find(ctx, t.ID)
}

func (s *Service) signer(ctx context.Context, t *Tenant, pair keyPair) (crypto.Signer, error) {
	cacheKey := parsedKey{t.ID, pair.name}
	if key, ok := s.parsed.m.Load(cacheKey); ok {
		return key.(crypto.Signer), nil
	}
	sealed := pair.sealed(t.Account)
	if sealed == nil {
		fresh, err := s.store.Find(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		if pair.sealed(fresh) == nil {
			if err := s.makeKeyPair(ctx, t.ID, pair); err != nil {
				return nil, err
			}
			if fresh, err = s.store.Find(ctx, t.ID); err != nil {
				return nil, err
			}
			// Cached tenants predate the key.
			s.cache.forget(t.ID)
		}
		sealed = pair.sealed(fresh)
	}
	der, err := s.keyring.Open(*sealed)
	if err != nil {
		return nil, fmt.Errorf("account %s key: %w", pair.name, err)
	}
	key, err := pair.parse(der)
	if err != nil {
		return nil, fmt.Errorf("account %s key: %w", pair.name, err)
	}
	s.parsed.m.Store(cacheKey, key)
	return key, nil
}

// makeKeyPair generates and stores a key pair unless another caller stored
// one first.
func (s *Service) makeKeyPair(ctx context.Context, accountID string, pair keyPair) error {
	key, der, err := pair.generate()
	if err != nil {
		return err
	}
	sealed, err := s.keyring.Seal(der)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return err
	}
	public := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	return s.store.SetKeyPair(ctx, accountID, pair.private, pair.public, sealed, public)
}
