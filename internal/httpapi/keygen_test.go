package httpapi_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	keygenv2 "github.com/keygen-sh/keygen-go/v2"
	keygen "github.com/keygen-sh/keygen-go/v3"

	"github.com/relkey/relkey/internal/testenv"
)

// tamper changes one base64 character inside a certificate's payload.
func tamper(certificate string) string {
	lines := strings.Split(certificate, "\n")
	body := []byte(lines[1])
	i := len(body) / 2
	if body[i] == 'A' {
		body[i] = 'B'
	} else {
		body[i] = 'A'
	}
	lines[1] = string(body)
	return strings.Join(lines, "\n")
}

// TestKeygenGoVerifiesWhatRelkeySigns runs keygen-go's own offline
// verification (v3.2.1, and v2.9.0 for files) over a signed key, license
// files and a machine file.
func TestKeygenGoVerifiesWhatRelkeySigns(t *testing.T) {
	e := newEnv(t, testenv.Backend{Name: "embedded"})
	keygen.PublicKey, keygenv2.PublicKey = e.acct.PublicKey, e.acct.PublicKey
	t.Cleanup(func() { keygen.PublicKey, keygenv2.PublicKey = "", "" })

	productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
	policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Signed","scheme":"ED25519_SIGN","floating":true,"maxMachines":3`)))
	created := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, `"key":"{\"tier\":\"pro\"}"`))
	licenseID, key := e.id(created), attrs(t, created)["key"].(string)

	// Signed key.
	dataset, err := (&keygen.License{Scheme: keygen.SchemeCodeEd25519, Key: key}).Verify()
	if err != nil || string(dataset) != `{"tier":"pro"}` {
		t.Fatalf("keygen-go Verify: %q, %v", dataset, err)
	}
	_, sig, _ := strings.Cut(key, ".")
	forged := "key/" + base64.URLEncoding.EncodeToString([]byte(`{"tier":"enterprise"}`)) + "." + sig
	if _, err := (&keygen.License{Scheme: keygen.SchemeCodeEd25519, Key: forged}).Verify(); err == nil {
		t.Fatal("keygen-go accepted a forged signed key")
	}

	// License file, encrypted and plain.
	encrypted := e.admin("POST", "/v1/accounts/acme/licenses/"+licenseID+"/actions/check-out?encrypt=true&include=product,policy&ttl=3600", "{}")
	if encrypted.status != 200 || data(t, encrypted)["type"] != "license-files" || attrs(t, encrypted)["algorithm"] != "aes-256-gcm+ed25519" {
		t.Fatalf("check-out: %d %s", encrypted.status, encrypted.body)
	}
	lf := &keygen.LicenseFile{Certificate: attrs(t, encrypted)["certificate"].(string)}
	if err := lf.Verify(); err != nil {
		t.Fatalf("keygen-go LicenseFile.Verify: %v", err)
	}
	ds, err := lf.Decrypt(key)
	if err != nil || ds.License.ID != licenseID || ds.TTL != 3600 || ds.License.Key != key {
		t.Fatalf("keygen-go LicenseFile.Decrypt: %+v, %v", ds, err)
	}
	// keygen-go v2.9.x strips the frame lines exactly; the same file passes.
	v2 := &keygenv2.LicenseFile{Certificate: lf.Certificate}
	if err := v2.Verify(); err != nil {
		t.Fatalf("keygen-go v2.9.0 LicenseFile.Verify: %v", err)
	}
	if ds, err := v2.Decrypt(key); err != nil || ds.License.ID != licenseID {
		t.Fatalf("keygen-go v2.9.0 LicenseFile.Decrypt: %v", err)
	}
	if _, err := lf.Decrypt("wrong key"); err == nil {
		t.Fatal("decrypted with the wrong key")
	}
	if err := (&keygen.LicenseFile{Certificate: tamper(lf.Certificate)}).Verify(); err == nil {
		t.Fatal("keygen-go verified a tampered license file")
	}
	plain := e.admin("POST", "/v1/accounts/acme/licenses/"+licenseID+"/actions/check-out", `{"meta":{"ttl":null}}`)
	pf := &keygen.LicenseFile{Certificate: attrs(t, plain)["certificate"].(string)}
	if err := pf.Verify(); err != nil || attrs(t, plain)["algorithm"] != "base64+ed25519" || attrs(t, plain)["ttl"] != nil {
		t.Fatalf("plain license file: %v %s", err, plain.body)
	}
	if _, err := pf.Decrypt(key); !errors.Is(err, keygen.ErrLicenseFileNotEncrypted) {
		t.Fatalf("decrypting a plain file: %v", err)
	}
	if r := e.admin("GET", "/v1/accounts/acme/licenses/"+licenseID, ""); attrs(t, r)["lastCheckOut"] == nil {
		t.Fatal("lastCheckOut not recorded")
	}

	// Machine file, as keygen-go asks for it.
	machineID := e.id(e.admin("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"fp-offline"`)))
	mfile := e.admin("POST", "/v1/accounts/acme/machines/"+machineID+"/actions/check-out?encrypt=true&include=license%2Clicense.entitlements", "{}\n")
	if mfile.status != 200 || data(t, mfile)["type"] != "machine-files" {
		t.Fatalf("machine check-out: %d %s", mfile.status, mfile.body)
	}
	mf := &keygen.MachineFile{Certificate: attrs(t, mfile)["certificate"].(string)}
	if err := mf.Verify(); err != nil {
		t.Fatalf("keygen-go MachineFile.Verify: %v", err)
	}
	mds, err := mf.Decrypt(key + "fp-offline")
	if err != nil || mds.Machine.ID != machineID || mds.Machine.Fingerprint != "fp-offline" || mds.License.ID != licenseID {
		t.Fatalf("keygen-go MachineFile.Decrypt: %+v, %v", mds, err)
	}
	mv2 := &keygenv2.MachineFile{Certificate: mf.Certificate}
	if err := mv2.Verify(); err != nil {
		t.Fatalf("keygen-go v2.9.0 MachineFile.Verify: %v", err)
	}
	if ds, err := mv2.Decrypt(key + "fp-offline"); err != nil || ds.Machine.ID != machineID {
		t.Fatalf("keygen-go v2.9.0 MachineFile.Decrypt: %v", err)
	}
	if err := (&keygen.MachineFile{Certificate: tamper(mf.Certificate)}).Verify(); err == nil {
		t.Fatal("keygen-go verified a tampered machine file")
	}

	// The raw download, and the option errors.
	raw := e.admin("GET", "/v1/accounts/acme/licenses/"+licenseID+"/actions/check-out", "")
	if raw.status != 200 || raw.header.Get("Content-Type") != "application/octet-stream" ||
		!strings.HasPrefix(string(raw.body), "-----BEGIN LICENSE FILE-----\n") || !strings.HasSuffix(string(raw.body), "\n-----END LICENSE FILE-----\n") {
		t.Fatalf("raw certificate: %d %q", raw.status, raw.body)
	}
	if err := (&keygen.LicenseFile{Certificate: string(raw.body)}).Verify(); err != nil {
		t.Fatalf("raw certificate does not verify: %v", err)
	}
	base := "/v1/accounts/acme/licenses/" + licenseID + "/actions/check-out"
	e.admin("POST", base+"?ttl=60", "").expectError(t, 400, "CHECKOUT_TTL_INVALID", "parameter", "ttl")
	e.admin("POST", base+"?include=secrets", "").expectError(t, 400, "CHECKOUT_INCLUDE_INVALID", "parameter", "include")
	e.admin("POST", base+"?algorithm=rsa-sha256", "").expectError(t, 400, "CHECKOUT_ALGORITHM_INVALID", "parameter", "algorithm")
}
