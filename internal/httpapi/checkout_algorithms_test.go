package httpapi_test

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/httpsig"
	"github.com/relkey/relkey/internal/testenv"
)

// certificatePayload decodes a license or machine file's framed payload.
func certificatePayload(t *testing.T, certificate string) (enc, sig, alg string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(certificate), "\n")
	raw, err := base64.StdEncoding.DecodeString(strings.Join(lines[1:len(lines)-1], ""))
	var p struct{ Enc, Sig, Alg string }
	if err != nil || json.Unmarshal(raw, &p) != nil {
		t.Fatalf("not a certificate: %q", certificate)
	}
	return p.Enc, p.Sig, p.Alg
}

// TestCheckoutAlgorithms: license and machine files signed with each of
// the account's keys, as the algorithm asks (which also decides the
// encryption) or by default as the policy's scheme says; Keygen's errors
// for the rest.
func TestCheckoutAlgorithms(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		ctx := context.Background()
		tenant, err := e.app.Accounts.Resolve(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		rsaKey, err := e.app.Accounts.RSAKey(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		ecKey, err := e.app.Accounts.ECDSAKey(ctx, tenant)
		if err != nil {
			t.Fatal(err)
		}
		public := map[string]crypto.PublicKey{httpsig.Ed25519: tenant.Keys.Signing.Public(), httpsig.RSAPSSSHA256: rsaKey.Public(),
			httpsig.RSASHA256: rsaKey.Public(), httpsig.ECDSAP256: ecKey.Public()}
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		plain := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Plain"`)))
		pss := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"PSS","scheme":"RSA_2048_PKCS1_PSS_SIGN_V2"`)))
		plainID := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(plain, "")))
		pssID := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(pss, "")))
		machineID := e.id(e.admin("POST", "/v1/accounts/acme/machines", machineBody(plainID, `"fingerprint":"fp-alg"`)))
		tests := []struct {
			name, path, query, body string
			kind, alg               string
		}{
			{"license, algorithm in meta", "licenses/" + plainID, "", `{"meta":{"algorithm":"aes-256-gcm+rsa-pss-sha256"}}`, "license", "aes-256-gcm+rsa-pss-sha256"},
			{"license, algorithm in the query", "licenses/" + plainID, "?algorithm=base64%2Brsa-sha256", "", "license", "base64+rsa-sha256"},
			{"license, ECDSA", "licenses/" + plainID, "?algorithm=base64%2Becdsa-p256", "", "license", "base64+ecdsa-p256"},
			{"license, the scheme's default", "licenses/" + pssID, "", "", "license", "base64+rsa-pss-sha256"},
			{"license, encrypted by the scheme's default", "licenses/" + pssID, "?encrypt=true", "", "license", "aes-256-gcm+rsa-pss-sha256"},
			{"license, empty algorithm", "licenses/" + plainID, "?algorithm=", "", "license", "base64+ed25519"},
			{"machine, RSA", "machines/" + machineID, "?algorithm=aes-256-gcm%2Brsa-sha256", "", "machine", "aes-256-gcm+rsa-sha256"},
		}
		for _, tt := range tests {
			r := e.admin("POST", "/v1/accounts/acme/"+tt.path+"/actions/check-out"+tt.query, tt.body)
			if r.status != 200 || attrs(t, r)["algorithm"] != tt.alg {
				t.Fatalf("%s: %d %s", tt.name, r.status, r.body)
			}
			enc, sig, alg := certificatePayload(t, attrs(t, r)["certificate"].(string))
			signing := alg[strings.Index(alg, "+")+1:]
			raw, _ := base64.StdEncoding.DecodeString(sig)
			if alg != tt.alg || httpsig.Verify(signing, public[signing], []byte(tt.kind+"/"+enc), raw) != nil {
				t.Fatalf("%s: alg %q, signature does not verify with the account's %s key", tt.name, alg, signing)
			}
			if encrypted := strings.HasPrefix(alg, "aes-256-gcm+"); encrypted == (strings.Count(enc, ".") != 2) {
				t.Fatalf("%s: enc %q does not match %s", tt.name, enc, alg)
			}
		}
		base := "/v1/accounts/acme/licenses/" + plainID + "/actions/check-out"
		for algorithm, detail := range map[string]string{"foo+ed25519": "invalid encoding algorithm", "base64+foo": "invalid signing algorithm"} {
			r := e.admin("POST", base, `{"meta":{"algorithm":"`+algorithm+`"}}`)
			r.expectError(t, 400, "CHECKOUT_ALGORITHM_INVALID", "parameter", "algorithm")
			if !strings.Contains(string(r.body), detail) {
				t.Fatalf("%s: %s, want %q", algorithm, r.body, detail)
			}
		}
	})
}
