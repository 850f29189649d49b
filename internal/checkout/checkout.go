// Package checkout makes offline license and machine files: a signed (and
// optionally encrypted) JSON:API document framed as a certificate, in the
// exact format Keygen's SDKs verify and decrypt.
package checkout

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/relkey/relkey/internal/httpsig"
	"github.com/relkey/relkey/internal/policy"
)

// Kind is what a file certifies.
type Kind string

const (
	License Kind = "license"
	Machine Kind = "machine"
)

// A file's algorithm is "<encoding>+<signing>": its dataset encoded in
// base64 or encrypted with AES-256-GCM, signed with one of the account's
// keys (httpsig's algorithms), as Keygen names them.
const (
	EncodingBase64      = "base64"
	EncryptionAES256GCM = "aes-256-gcm"
)

// Algorithm names a file's algorithm.
func Algorithm(encrypt bool, signing string) string {
	if encrypt {
		return EncryptionAES256GCM + "+" + signing
	}
	return EncodingBase64 + "+" + signing
}

// ParseAlgorithm reads an algorithm a checkout asks for, as Keygen reads
// it (case and all): whether it encrypts, and how it signs.
func ParseAlgorithm(algorithm string) (encrypt bool, signing string, err error) {
	encoding, signing, _ := strings.Cut(algorithm, "+")
	if encoding != EncodingBase64 && encoding != EncryptionAES256GCM {
		return false, "", errors.New("invalid encoding algorithm")
	}
	if !slices.Contains(httpsig.Algorithms, signing) {
		return false, "", errors.New("invalid signing algorithm")
	}
	return encoding == EncryptionAES256GCM, signing, nil
}

// DefaultSigning is how the files of a policy's licenses are signed when
// the checkout names no algorithm: by the policy's key scheme, as Keygen
// does, else Ed25519.
func DefaultSigning(scheme *string) string {
	if scheme == nil {
		return httpsig.Ed25519
	}
	switch *scheme {
	case policy.SchemeRSAPSSSign, policy.SchemeRSAPSSSignV2:
		return httpsig.RSAPSSSHA256
	case policy.SchemeRSASign, policy.SchemeRSASignV2, policy.SchemeRSAEncrypt, policy.SchemeJWTRS256:
		return httpsig.RSASHA256
	case policy.SchemeECDSAP256:
		return httpsig.ECDSAP256
	}
	return httpsig.Ed25519
}

// Certificate frames and signs dataset: sign signs "<kind>/<enc>" by the
// signing algorithm. With encrypt, the dataset is sealed with AES-256-GCM
// under SHA-256(secret) (the license key, plus the machine fingerprint for
// machine files).
func Certificate(kind Kind, dataset []byte, encrypt bool, secret, signing string, sign func([]byte) ([]byte, error)) (certificate, algorithm string, err error) {
	enc := base64.StdEncoding.EncodeToString(dataset)
	if encrypt {
		if enc, err = seal(dataset, secret); err != nil {
			return "", "", err
		}
	}
	algorithm = Algorithm(encrypt, signing)
	sig, err := sign([]byte(string(kind) + "/" + enc))
	if err != nil {
		return "", "", err
	}
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
