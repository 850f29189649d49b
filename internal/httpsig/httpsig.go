// Package httpsig signs messages with the algorithms Keygen offers for
// response and webhook signatures (Keygen-Accept-Signature, a webhook
// endpoint's signatureAlgorithm) and parses the Keygen-Accept-Signature
// header.
package httpsig

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"regexp"
	"strings"
)

// The signature algorithms, as Keygen names them.
const (
	Ed25519      = "ed25519"
	RSAPSSSHA256 = "rsa-pss-sha256"
	RSASHA256    = "rsa-sha256"
	ECDSAP256    = "ecdsa-p256"
)

// Algorithms lists every supported algorithm, the default first.
var Algorithms = []string{Ed25519, RSAPSSSHA256, RSASHA256, ECDSAP256}

// Key is the kind of account key an algorithm signs with.
type Key int

// The account keys.
const (
	KeyEd25519 Key = iota
	KeyRSA
	KeyECDSA
)

// KeyOf returns the key an algorithm (any case) signs with; ok is false for
// an unsupported algorithm.
func KeyOf(algorithm string) (key Key, ok bool) {
	switch strings.ToLower(algorithm) {
	case Ed25519:
		return KeyEd25519, true
	case RSAPSSSHA256, RSASHA256:
		return KeyRSA, true
	case ECDSAP256:
		return KeyECDSA, true
	}
	return 0, false
}

// Sign signs message with key by algorithm: Ed25519 over the message,
// RSASSA-PKCS1-v1_5 or RSASSA-PSS (maximal salt, MGF1-SHA256) over its
// SHA-256, or ECDSA P-256 over its SHA-256 (ASN.1 DER). The key must be the
// one KeyOf names.
func Sign(algorithm string, key crypto.Signer, message []byte) ([]byte, error) {
	switch algorithm = strings.ToLower(algorithm); algorithm {
	case Ed25519:
		k, ok := key.(ed25519.PrivateKey)
		if !ok {
			return nil, errors.New("httpsig: ed25519 needs an Ed25519 key")
		}
		return ed25519.Sign(k, message), nil
	case RSAPSSSHA256, RSASHA256:
		k, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("httpsig: " + algorithm + " needs an RSA key")
		}
		sum := sha256.Sum256(message)
		if algorithm == RSASHA256 {
			return rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:])
		}
		return rsa.SignPSS(rand.Reader, k, crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: crypto.SHA256})
	case ECDSAP256:
		k, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return nil, errors.New("httpsig: ecdsa-p256 needs an ECDSA key")
		}
		sum := sha256.Sum256(message)
		return ecdsa.SignASN1(rand.Reader, k, sum[:])
	}
	return nil, errors.New("httpsig: unsupported algorithm " + algorithm)
}

// Verify checks a signature Sign made, with the public key.
func Verify(algorithm string, pub crypto.PublicKey, message, sig []byte) error {
	sum := sha256.Sum256(message)
	ok := false
	switch strings.ToLower(algorithm) {
	case Ed25519:
		k, is := pub.(ed25519.PublicKey)
		ok = is && ed25519.Verify(k, message, sig)
	case RSASHA256:
		k, is := pub.(*rsa.PublicKey)
		ok = is && rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig) == nil
	case RSAPSSSHA256:
		k, is := pub.(*rsa.PublicKey)
		ok = is && rsa.VerifyPSS(k, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: crypto.SHA256}) == nil
	case ECDSAP256:
		k, is := pub.(*ecdsa.PublicKey)
		ok = is && ecdsa.VerifyASN1(k, sum[:], sig)
	}
	if !ok {
		return errors.New("httpsig: signature does not verify")
	}
	return nil
}

// Accept is a parsed Keygen-Accept-Signature header.
type Accept struct {
	KeyID     string // empty when not given
	Algorithm string // as given
}

// acceptPattern is the header's grammar as Keygen parses it: an optional
// keyid, then the algorithm, an optional trailing semicolon.
var acceptPattern = regexp.MustCompile(`(?i)\A(?:keyid="([^"]+)")?(?:\s*,\s*)?algorithm="([^"]+)"(?:\s*;\s*)?\z`)

// Problems with a Keygen-Accept-Signature header, in Keygen's words.
var (
	ErrMalformed   = errors.New("invalid accept-signature header (malformed)")
	ErrUnsupported = errors.New("invalid accept-signature header (unsupported algorithm)")
	ErrKeyID       = errors.New("invalid accept-signature header (keyid not found)")
)

// ParseAccept parses a Keygen-Accept-Signature header for the account
// accountID: a malformed header, an unsupported algorithm or another key id
// is an error.
func ParseAccept(header, accountID string) (Accept, error) {
	m := acceptPattern.FindStringSubmatch(header)
	if m == nil {
		return Accept{}, ErrMalformed
	}
	a := Accept{KeyID: m[1], Algorithm: m[2]}
	if _, ok := KeyOf(a.Algorithm); !ok {
		return a, ErrUnsupported
	}
	if a.KeyID != "" && a.KeyID != accountID {
		return a, ErrKeyID
	}
	return a, nil
}

// Header renders a Keygen-Signature header value.
func Header(keyID, algorithm string, sig []byte) string {
	return `keyid="` + keyID + `", algorithm="` + algorithm + `", signature="` + base64.StdEncoding.EncodeToString(sig) +
		`", headers="(request-target) host date digest"`
}
