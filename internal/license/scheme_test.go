package license

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/policy"
)

// openSchemeKey verifies (or decrypts) a scheme'd key with the account's
// public keys the way Keygen's SDKs do and returns the seed it carries.
func openSchemeKey(t *testing.T, w *world, scheme, key string) string {
	t.Helper()
	dec := func(s string) []byte {
		b, err := base64.URLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		return b
	}
	if scheme == policy.SchemeRSAEncrypt {
		// Public-key "decryption": m = c^e mod n, then strip the type-1 padding.
		pub := &rsaKey().PublicKey
		c := new(big.Int).SetBytes(dec(key))
		m := new(big.Int).Exp(c, big.NewInt(int64(pub.E)), pub.N).FillBytes(make([]byte, pub.Size()))
		if m[0] != 0 || m[1] != 1 {
			t.Fatalf("key %q is not a PKCS#1 type-1 block", key)
		}
		_, seed, ok := strings.Cut(string(m[2:]), "\x00")
		if !ok {
			t.Fatalf("key %q has no padding end", key)
		}
		return seed
	}
	signing, sig, ok := strings.Cut(key, ".")
	if !ok {
		t.Fatalf("key %q has no signature", key)
	}
	encoded, v2 := strings.CutPrefix(signing, "key/")
	seed := dec(encoded)
	message := []byte(signing)
	if !v2 {
		message = seed // v1: the signature covers the seed itself
	}
	sum := sha256.Sum256(message)
	var err error
	switch scheme {
	case policy.SchemeED25519:
		if !ed25519.Verify(w.tenant.Keys.Signing.Public().(ed25519.PublicKey), message, dec(sig)) {
			err = rsa.ErrVerification
		}
	case policy.SchemeECDSAP256:
		if !ecdsa.VerifyASN1(&ecdsaKey().PublicKey, sum[:], dec(sig)) {
			err = rsa.ErrVerification
		}
	case policy.SchemeRSASign, policy.SchemeRSASignV2:
		err = rsa.VerifyPKCS1v15(&rsaKey().PublicKey, crypto.SHA256, sum[:], dec(sig))
	case policy.SchemeRSAPSSSign, policy.SchemeRSAPSSSignV2:
		err = rsa.VerifyPSS(&rsaKey().PublicKey, crypto.SHA256, sum[:], dec(sig), nil)
	}
	if err != nil {
		t.Fatalf("%s key %q does not verify: %v", scheme, key, err)
	}
	if v2 != (scheme == policy.SchemeED25519 || scheme == policy.SchemeECDSAP256 || strings.HasSuffix(scheme, "_V2")) {
		t.Fatalf("%s key %q: key/ prefix is %v", scheme, key, v2)
	}
	return string(seed)
}

func TestSchemesSignOrEncryptAsKeygen(t *testing.T) {
	schemes := []string{policy.SchemeRSAEncrypt, policy.SchemeRSASign, policy.SchemeRSAPSSSign, policy.SchemeRSASignV2,
		policy.SchemeRSAPSSSignV2, policy.SchemeED25519, policy.SchemeECDSAP256}
	mine := Relationships{Policy: policyA, Owner: owner}
	key := func(k string) Params { return Params{Key: optional.Of(k)} }
	for _, scheme := range schemes {
		t.Run(scheme, func(t *testing.T) {
			w := newWorld(t)
			w.policy(policyA).Scheme, w.policy(policyA).Duration = s(scheme), days(30)
			given, err := w.svc.Create(t.Context(), admin(), w.tenant, mine, key("{{ID}}|{{email}}|{{expiry}}|{{duration}}|{{nope}}"))
			if err != nil {
				t.Fatal(err)
			}
			want := given.ID + "|" + owner[len(owner)-4:] + "@acme.test|2026-04-09T12:00:00.000Z|2592000|"
			if got := openSchemeKey(t, w, scheme, given.Key); got != want {
				t.Errorf("templated seed %q, want %q", got, want)
			}
			dflt, err := w.svc.Create(t.Context(), admin(), w.tenant, mine, Params{})
			if err != nil {
				t.Fatal(err)
			}
			var seed map[string]any
			if err := json.Unmarshal([]byte(openSchemeKey(t, w, scheme, dflt.Key)), &seed); err != nil {
				t.Fatal(err)
			}
			if scheme == policy.SchemeRSAEncrypt {
				if seed["id"] != dflt.ID || seed["created"] != "2026-03-10T12:00:00.000Z" || seed["duration"] != float64(2592000) || seed["expiry"] != "2026-04-09T12:00:00.000Z" {
					t.Errorf("seed %v", seed)
				}
				return
			}
			user, _ := seed["user"].(map[string]any)
			if lic, _ := seed["license"].(map[string]any); lic["id"] != dflt.ID || user["email"] != owner[len(owner)-4:]+"@acme.test" {
				t.Errorf("seed %v", seed)
			}
		})
	}
}

func TestRSAEncryptRefusesALongKey(t *testing.T) {
	w := newWorld(t)
	w.policy(policyA).Scheme = s(policy.SchemeRSAEncrypt)
	onA := Relationships{Policy: policyA}
	_, err := w.svc.Create(t.Context(), admin(), w.tenant, onA, Params{Key: optional.Of(strings.Repeat("x", 246))})
	expect(t, err, unprocessable("KEY_BYTE_SIZE_EXCEEDED", apperr.Attr("key")))
	l, err := w.svc.Create(t.Context(), admin(), w.tenant, onA, Params{Key: optional.Of(strings.Repeat("x", 245))})
	if err != nil || openSchemeKey(t, w, policy.SchemeRSAEncrypt, l.Key) != strings.Repeat("x", 245) {
		t.Fatalf("245 bytes: %v", err)
	}
}
