package license

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/policy"
)

// SigningKeys gives an account's lazily made RSA and ECDSA keys.
type SigningKeys interface {
	RSAKey(ctx context.Context, t *account.Tenant) (*rsa.PrivateKey, error)
	ECDSAKey(ctx context.Context, t *account.Tenant) (*ecdsa.PrivateKey, error)
}

// rsaMaxBytes is the most an RSA-2048 PKCS#1 v1.5 block carries.
const rsaMaxBytes = 2048/8 - 11

// schemeKey makes a scheme'd license's key as Keygen does: the seed (the
// given key with its {{template}} variables filled in, else the scheme's
// default dataset) encrypted or signed with the account key the scheme
// names.
func (s *Service) schemeKey(ctx context.Context, l *License, t *account.Tenant, pol *policy.Policy, given *string) (string, error) {
	scheme := *pol.Scheme
	var seed string
	if given != nil {
		seed = fillTemplate(*given, s.templateVars(ctx, l, pol))
	} else {
		seed = defaultSeed(scheme, l, pol, s.ownerEmail(ctx, l))
	}
	encode := base64.URLEncoding.EncodeToString
	switch scheme {
	case policy.SchemeED25519:
		signing := "key/" + encode([]byte(seed))
		return signing + "." + encode(ed25519.Sign(t.Keys.Signing, []byte(signing))), nil
	case policy.SchemeECDSAP256:
		key, err := s.keys.ECDSAKey(ctx, t)
		if err != nil {
			return "", err
		}
		signing := "key/" + encode([]byte(seed))
		sum := sha256.Sum256([]byte(signing))
		sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
		return signing + "." + encode(sig), err
	}
	key, err := s.keys.RSAKey(ctx, t)
	if err != nil {
		return "", err
	}
	switch scheme {
	case policy.SchemeRSAEncrypt:
		if len(seed) > rsaMaxBytes {
			return "", apperr.Attribute("key", "BYTE_SIZE_EXCEEDED", "key exceeds maximum byte length (max size of "+strconv.Itoa(rsaMaxBytes)+" bytes)")
		}
		// A private-key "encryption" is a PKCS#1 v1.5 signature of the raw bytes.
		enc, err := rsa.SignPKCS1v15(nil, key, crypto.Hash(0), []byte(seed))
		return encode(enc), err
	case policy.SchemeJWTRS256:
		claims := jwt.MapClaims{}
		if err := json.Unmarshal([]byte(seed), &claims); err != nil {
			return "", apperr.Attribute("key", "JWT_CLAIMS_INVALID", "key is not a valid JWT claims payload (must be a valid JSON encoded string)")
		}
		return jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
	}
	// The PKCS#1 and PSS signing schemes: v1 signs the seed and joins its
	// encoding and the signature; v2 signs "key/<encoded seed>" as the
	// Ed25519 scheme does.
	signing, prefix := []byte(seed), ""
	if scheme == policy.SchemeRSASignV2 || scheme == policy.SchemeRSAPSSSignV2 {
		prefix = "key/"
		signing = []byte(prefix + encode([]byte(seed)))
	}
	sum := sha256.Sum256(signing)
	var sig []byte
	if scheme == policy.SchemeRSAPSSSign || scheme == policy.SchemeRSAPSSSignV2 {
		sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	} else {
		sig, err = rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	}
	return prefix + encode([]byte(seed)) + "." + encode(sig), err
}

func (s *Service) ownerEmail(ctx context.Context, l *License) string {
	if l.OwnerID == nil {
		return ""
	}
	u, err := s.owners.Bearer(ctx, l.AccountID, *l.OwnerID)
	if err != nil || u == nil {
		return ""
	}
	return u.Email
}

const keygenTime = "2006-01-02T15:04:05.000Z"

// defaultSeed is the dataset Keygen signs when no key is given, its
// members in Keygen's order.
func defaultSeed(scheme string, l *License, pol *policy.Policy, email string) string {
	created := l.CreatedAt.UTC().Format(keygenTime)
	var expiry *string
	if l.Expiry != nil {
		e := l.Expiry.UTC().Format(keygenTime)
		expiry = &e
	}
	var v any
	switch scheme {
	case policy.SchemeRSAEncrypt:
		v = struct {
			ID       string  `json:"id"`
			Created  string  `json:"created"`
			Duration *int64  `json:"duration"`
			Expiry   *string `json:"expiry"`
		}{l.ID, created, pol.Duration, expiry}
	case policy.SchemeJWTRS256:
		claims := jwt.MapClaims{"jti": uuid.NewString(), "iss": "https://keygen.sh", "aud": l.AccountID, "sub": l.ID,
			"iat": l.CreatedAt.Unix(), "nbf": l.CreatedAt.Unix()}
		if l.Expiry != nil {
			claims["exp"] = l.Expiry.Unix()
		}
		v = claims
	default:
		type ref struct {
			ID string `json:"id"`
		}
		type owner struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		}
		var user *owner
		if l.OwnerID != nil {
			user = &owner{*l.OwnerID, email}
		}
		v = struct {
			Account ref `json:"account"`
			Product ref `json:"product"`
			Policy  struct {
				ID       string `json:"id"`
				Duration *int64 `json:"duration"`
			} `json:"policy"`
			User    *owner `json:"user"`
			License struct {
				ID      string  `json:"id"`
				Created string  `json:"created"`
				Expiry  *string `json:"expiry"`
			} `json:"license"`
		}{Account: ref{l.AccountID}, Product: ref{l.ProductID}, User: user,
			Policy: struct {
				ID       string `json:"id"`
				Duration *int64 `json:"duration"`
			}{pol.ID, pol.Duration},
			License: struct {
				ID      string  `json:"id"`
				Created string  `json:"created"`
				Expiry  *string `json:"expiry"`
			}{l.ID, created, expiry}}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// templatePattern is a {{variable}} of a given key.
var templatePattern = regexp.MustCompile(`(?i)\{\{(\w+)\}\}`)

// templateVars are the variables a given scheme'd key may use, as Keygen
// fills them in.
func (s *Service) templateVars(ctx context.Context, l *License, pol *policy.Policy) map[string]string {
	vars := map[string]string{
		"account": l.AccountID, "product": l.ProductID, "policy": pol.ID, "id": l.ID,
		"created": l.CreatedAt.UTC().Format(keygenTime),
	}
	if l.OwnerID != nil {
		vars["user"], vars["email"] = *l.OwnerID, s.ownerEmail(ctx, l)
	}
	if l.Expiry != nil {
		vars["expiry"] = l.Expiry.UTC().Format(keygenTime)
	}
	if pol.Duration != nil {
		vars["duration"] = strconv.FormatInt(*pol.Duration, 10)
	}
	return vars
}

// fillTemplate replaces each {{variable}} (any case) by its value; unknown
// variables become empty, as in Keygen.
func fillTemplate(key string, vars map[string]string) string {
	if !strings.Contains(key, "{{") {
		return key
	}
	return templatePattern.ReplaceAllStringFunc(key, func(m string) string {
		return vars[strings.ToLower(templatePattern.FindStringSubmatch(m)[1])]
	})
}
