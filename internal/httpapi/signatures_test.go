package httpapi_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/httpsig"
	"github.com/relkey/relkey/internal/testenv"
)

// accountKeys are the public keys an account document publishes, by the
// algorithm family they verify.
type accountKeys struct {
	ed25519 ed25519.PublicKey
	rsa     *rsa.PublicKey
	ecdsa   crypto.PublicKey
}

func (k accountKeys) forAlgorithm(algorithm string) crypto.PublicKey {
	switch kind, _ := httpsig.KeyOf(algorithm); kind {
	case httpsig.KeyRSA:
		return k.rsa
	case httpsig.KeyECDSA:
		return k.ecdsa
	}
	return k.ed25519
}

// publishedKeys reads the account's public keys from its document, as a
// vendor copies them into an application.
func (e *env) publishedKeys() accountKeys {
	e.t.Helper()
	meta := data(e.t, e.admin("GET", "/v1/accounts/acme", ""))["meta"].(map[string]any)
	keys := meta["keys"].(map[string]any)
	if meta["publicKey"] != keys["rsa2048"] {
		e.t.Fatalf("meta.publicKey %v is not the RSA key", meta["publicKey"])
	}
	pemKey := func(name string) crypto.PublicKey {
		raw, _ := base64.StdEncoding.DecodeString(keys[name].(string))
		block, _ := pem.Decode(raw)
		if block == nil || block.Type != "PUBLIC KEY" {
			e.t.Fatalf("meta.keys.%s is not a PEM public key: %v", name, keys[name])
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			e.t.Fatal(err)
		}
		return pub
	}
	hexKey, _ := base64.StdEncoding.DecodeString(keys["ed25519"].(string))
	ed, _ := hex.DecodeString(string(hexKey))
	return accountKeys{ed25519: ed, rsa: pemKey("rsa2048").(*rsa.PublicKey), ecdsa: pemKey("ecdsa")}
}

// schemeSeed verifies (or, for RSA_2048_PKCS1_ENCRYPT, decrypts) a license
// key with the published keys and returns the seed it carries.
func schemeSeed(t *testing.T, keys accountKeys, scheme, key string) string {
	t.Helper()
	dec := func(s string) []byte {
		b, err := base64.URLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("%s key %q: %v", scheme, key, err)
		}
		return b
	}
	if scheme == "RSA_2048_PKCS1_ENCRYPT" {
		m := new(big.Int).Exp(new(big.Int).SetBytes(dec(key)), big.NewInt(int64(keys.rsa.E)), keys.rsa.N).FillBytes(make([]byte, keys.rsa.Size()))
		_, seed, ok := strings.Cut(string(m[2:]), "\x00")
		if m[0] != 0 || m[1] != 1 || !ok {
			t.Fatalf("key %q does not decrypt with the RSA public key", key)
		}
		return seed
	}
	algorithm := map[string]string{"RSA_2048_PKCS1_SIGN": "rsa-sha256", "RSA_2048_PKCS1_SIGN_V2": "rsa-sha256",
		"RSA_2048_PKCS1_PSS_SIGN": "rsa-pss-sha256", "RSA_2048_PKCS1_PSS_SIGN_V2": "rsa-pss-sha256",
		"ED25519_SIGN": "ed25519", "ECDSA_P256_SIGN": "ecdsa-p256"}[scheme]
	signing, sig, _ := strings.Cut(key, ".")
	encoded, v2 := strings.CutPrefix(signing, "key/")
	seed := dec(encoded)
	message := []byte(signing)
	if !v2 {
		message = seed
	}
	if err := httpsig.Verify(algorithm, keys.forAlgorithm(algorithm), message, dec(sig)); err != nil {
		t.Fatalf("%s key %q: %v", scheme, key, err)
	}
	return string(seed)
}

// TestLicenseKeySchemes: every scheme's keys verify (or decrypt) with the
// keys the account document publishes, templates filled in, and validate
// as they are. keygen-go verifies ED25519_SIGN keys, the only scheme it
// supports, in TestKeygenGoVerifiesWhatRelkeySigns.
func TestLicenseKeySchemes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		keys := e.publishedKeys()
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		for _, scheme := range []string{"RSA_2048_PKCS1_ENCRYPT", "RSA_2048_PKCS1_SIGN", "RSA_2048_PKCS1_PSS_SIGN",
			"RSA_2048_PKCS1_SIGN_V2", "RSA_2048_PKCS1_PSS_SIGN_V2", "ED25519_SIGN", "ECDSA_P256_SIGN"} {
			policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"`+scheme+`","scheme":"`+scheme+`"`)))
			created := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, `"key":"{\"tier\":\"pro\",\"id\":\"{{id}}\"}"`))
			id, key := e.id(created), attrs(t, created)["key"].(string)
			if got := schemeSeed(t, keys, scheme, key); got != `{"tier":"pro","id":"`+id+`"}` {
				t.Errorf("%s seed %q", scheme, got)
			}
			if attrs(t, created)["scheme"] != scheme {
				t.Errorf("%s: license scheme %v", scheme, attrs(t, created)["scheme"])
			}
			// The key validates as it is.
			v := e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":`+jsonString(key)+`}}`)
			if code := v.doc(t)["meta"].(map[string]any)["code"]; code != "VALID" {
				t.Errorf("%s validate-key: %v", scheme, code)
			}
			dflt := attrs(t, e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))["key"].(string)
			var seed map[string]any
			if err := json.Unmarshal([]byte(schemeSeed(t, keys, scheme, dflt)), &seed); err != nil || len(seed) == 0 {
				t.Errorf("%s default seed: %v", scheme, err)
			}
		}
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Enc","scheme":"RSA_2048_PKCS1_ENCRYPT"`)))
		e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, `"key":"`+strings.Repeat("x", 246)+`"`)).
			expectError(t, 422, "KEY_BYTE_SIZE_EXCEEDED", "pointer", "/data/attributes/key")
		e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"X","scheme":"LEGACY_ENCRYPT"`)).
			expectError(t, 422, "SCHEME_NOT_ALLOWED", "pointer", "/data/attributes/scheme")
	})
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// verifyResponse checks a response's Digest and Keygen-Signature with the
// published key for algorithm.
func verifyResponse(t *testing.T, keys accountKeys, r *response, method, target, host, algorithm string) {
	t.Helper()
	sum := sha256.Sum256(r.body)
	digest := "sha-256=" + base64.StdEncoding.EncodeToString(sum[:])
	m := signatureField.FindStringSubmatch(r.header.Get("Keygen-Signature"))
	if r.header.Get("Digest") != digest || m == nil || !strings.Contains(r.header.Get("Keygen-Signature"), `algorithm="`+algorithm+`"`) {
		t.Fatalf("%s: headers %v", algorithm, r.header)
	}
	sig, _ := base64.StdEncoding.DecodeString(m[1])
	message := httpapi.SigningString(method, target, host, r.header.Get("Date"), digest)
	if err := httpsig.Verify(algorithm, keys.forAlgorithm(algorithm), []byte(message), sig); err != nil {
		t.Fatalf("%s response signature: %v", algorithm, err)
	}
}

func TestAcceptSignature(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		keys := e.publishedKeys()
		host := strings.TrimPrefix(e.srv.URL, "http://")
		accept := func(v string) header { return header{"Keygen-Accept-Signature", v} }
		for _, tc := range []struct{ header, algorithm string }{
			{`algorithm="ed25519"`, "ed25519"},
			{`algorithm="rsa-pss-sha256"`, "rsa-pss-sha256"},
			{`algorithm="rsa-sha256"`, "rsa-sha256"},
			{`algorithm="ecdsa-p256"`, "ecdsa-p256"},
			{`keyid="` + e.acct.Account.ID + `", algorithm="ECDSA-P256";`, "ECDSA-P256"},
		} {
			r := e.admin("GET", "/v1/accounts/acme/products?limit=1", "", accept(tc.header))
			if r.status != http.StatusOK {
				t.Fatalf("%s: %d %s", tc.header, r.status, r.body)
			}
			verifyResponse(t, keys, r, "GET", "/v1/accounts/acme/products?limit=1", host, tc.algorithm)
			// Errors are signed too, and without a bearer.
			r = e.do("GET", "/v1/accounts/acme/licenses", "", accept(tc.header))
			if r.status != http.StatusUnauthorized {
				t.Fatalf("%s unauthenticated: %d", tc.header, r.status)
			}
			verifyResponse(t, keys, r, "GET", "/v1/accounts/acme/licenses", host, tc.algorithm)
		}
		for _, tc := range []struct{ header, detail string }{
			{`algorithm="rsa-sha1"`, "invalid accept-signature header (unsupported algorithm)"},
			{`keyid="1" algorithm="ed25519"`, "invalid accept-signature header (malformed)"},
			{`<algorithm:rsa>`, "invalid accept-signature header (malformed)"},
			{`keyid="1", algorithm="ed25519"`, "invalid accept-signature header (keyid not found)"},
		} {
			r := e.do("GET", "/v1/accounts/acme", "", accept(tc.header))
			r.expectError(t, 400, "ACCEPT_SIGNATURE_INVALID", "header", "Keygen-Accept-Signature")
			if d := r.firstError(t)["detail"]; d != tc.detail || r.header.Get("Keygen-Signature") != "" {
				t.Errorf("%s: detail %v, signature %q", tc.header, d, r.header.Get("Keygen-Signature"))
			}
			if (r.header.Get("Digest") != "") != strings.Contains(tc.detail, "keyid") {
				t.Errorf("%s: Digest %q", tc.header, r.header.Get("Digest"))
			}
		}
	})
}

// TestWebhookSignatureAlgorithms: an endpoint's signatureAlgorithm is any
// of Keygen's, and its deliveries are signed with it.
func TestWebhookSignatureAlgorithms(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be, allowLocalWebhooks)
		keys := e.publishedKeys()
		rc := e.receiver(func(int) int { return 204 })
		rc.keys = &keys
		for _, algorithm := range httpsig.Algorithms {
			body := `{"data":{"type":"webhook-endpoints","attributes":{"url":"` + rc.srv.URL + `/` + algorithm + `","subscriptions":["product.created"],"signatureAlgorithm":"` + algorithm + `"}}}`
			if got := attrs(t, e.admin("POST", "/v1/accounts/acme/webhook-endpoints", body))["signatureAlgorithm"]; got != algorithm {
				t.Fatalf("signatureAlgorithm %v, want %s", got, algorithm)
			}
		}
		e.admin("POST", "/v1/accounts/acme/webhook-endpoints", `{"data":{"type":"webhook-endpoints","attributes":{"url":"`+rc.srv.URL+`","subscriptions":["*"],"signatureAlgorithm":"rsa-sha1"}}}`).
			expectError(t, 422, "SIGNATURE_ALGORITHM_NOT_ALLOWED", "pointer", "/data/attributes/signatureAlgorithm")
		e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`))
		e.deliveries()
		if got := rc.received(); len(got) != len(httpsig.Algorithms) {
			t.Fatalf("%d deliveries, want %d: %v", len(got), len(httpsig.Algorithms), got)
		}
		if algs := rc.algorithms(); strings.Join(algs, ",") != "ecdsa-p256,ed25519,rsa-pss-sha256,rsa-sha256" {
			t.Fatalf("signed with %v", algs)
		}
	})
}
