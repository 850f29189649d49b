package account

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// RSAKey returns the account's RSA-2048 key (RSA_2048_JWT_RS256 license
// keys), generating it on first use: accounts that never sign with RSA
// never pay for generating a key. Concurrent first uses agree on one key.
func (s *Service) RSAKey(ctx context.Context, t *Tenant) (*rsa.PrivateKey, error) {
	sealed := t.Account.RSAPrivateKey
	if sealed == nil {
		fresh, err := s.store.Find(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		if fresh.RSAPrivateKey == nil {
			key, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return nil, err
			}
			sealed, err := s.keyring.Seal(x509.MarshalPKCS1PrivateKey(key))
			if err != nil {
				return nil, err
			}
			der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
			if err != nil {
				return nil, err
			}
			public := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
			if err := s.store.SetRSAKey(ctx, t.ID, sealed, public); err != nil {
				return nil, err
			}
			if fresh, err = s.store.Find(ctx, t.ID); err != nil {
				return nil, err
			}
			// Cached tenants predate the key.
			s.cache.forget(t.ID)
		}
		sealed = fresh.RSAPrivateKey
	}
	der, err := s.keyring.Open(*sealed)
	if err != nil {
		return nil, fmt.Errorf("account RSA key: %w", err)
	}
	return x509.ParsePKCS1PrivateKey(der)
}
