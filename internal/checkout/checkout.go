// Package checkout makes offline license and machine files: a signed (and
// optionally encrypted) JSON:API document framed as a certificate, in the
// exact format Keygen's SDKs verify and decrypt.
package checkout

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Kind is what a file certifies.
type Kind string

const (
	License Kind = "license"
	Machine Kind = "machine"
)

// Algorithms.
const (
	AlgorithmBase64    = "base64+ed25519"
	AlgorithmEncrypted = "aes-256-gcm+ed25519"
)

// Certificate frames and signs dataset. With encrypt, the dataset is
// sealed with AES-256-GCM under SHA-256(secret) (the license key, plus the
// machine fingerprint for machine files).
func Certificate(kind Kind, dataset []byte, encrypt bool, secret string, signer ed25519.PrivateKey) (certificate, algorithm string, err error) {
	enc := base64.StdEncoding.EncodeToString(dataset)
	algorithm = AlgorithmBase64
	if encrypt {
		if enc, err = seal(dataset, secret); err != nil {
			return "", "", err
		}
		algorithm = AlgorithmEncrypted
	}
	sig := ed25519.Sign(signer, []byte(string(kind)+"/"+enc))
	payload, err := json.Marshal(map[string]string{"enc": enc, "sig": base64.StdEncoding.EncodeToString(sig), "alg": algorithm})
	if err != nil {
		return "", "", err
	}
	label := strings.ToUpper(string(kind)) + " FILE"
	return "-----BEGIN " + label + "-----\n" + wrap(base64.StdEncoding.EncodeToString(payload), lineWidth) + "\n-----END " + label + "-----\n", algorithm, nil
}

// lineWidth is where the certificate's base64 breaks, as Keygen's
// Base64.encode64 breaks it.
const lineWidth = 60

// seal encrypts as "<b64 ciphertext>.<b64 iv>.<b64 tag>".
func seal(plaintext []byte, secret string) (string, error) {
	key := sha256.Sum256([]byte(secret))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	iv := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(iv); err != nil {
		return "", err
	}
	sealed := gcm.Seal(nil, iv, plaintext, nil)
	ciphertext, tag := sealed[:len(sealed)-gcm.Overhead()], sealed[len(sealed)-gcm.Overhead():]
	b64 := base64.StdEncoding.EncodeToString
	return b64(ciphertext) + "." + b64(iv) + "." + b64(tag), nil
}

func wrap(s string, width int) string {
	var b strings.Builder
	for i := 0; i < len(s); i += width {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s[i:min(i+width, len(s))])
	}
	return b.String()
}
