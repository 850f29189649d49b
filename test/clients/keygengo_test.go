package clients

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// keygenGoTests are the integration tests of keygen-go v3.2.1 that run
// against any server; the others embed Keygen's own certificates.
const keygenGoTests = "^(TestValidate|TestSignedKey|TestUpgrade)$"

// TestKeygenGoSuite runs the official Go SDK's own integration tests
// against relkey, with response-signature verification on.
func TestKeygenGoSuite(t *testing.T) {
	ensureMachineID(t)
	r := startRelkey(t, "", nil)
	seed := r.seedSDK()

	run := exec.Command("go", "test", "-count=1", "-v", "-run", keygenGoTests, "github.com/keygen-sh/keygen-go/v3")
	run.Env = append(relkeyEnv(),
		"KEYGEN_CUSTOM_DOMAIN="+r.URL,
		"KEYGEN_PUBLIC_KEY="+r.PublicKey,
		"KEYGEN_ACCOUNT_ID="+r.AccountID,
		"KEYGEN_PRODUCT_ID="+seed.productID,
		"KEYGEN_LICENSE_KEY="+seed.licenseKey,
		"KEYGEN_LICENSE_TOKEN=",
		"KEYGEN_ENVIRONMENT_ID=",
		"PERSONAL_PUBLIC_KEY="+seed.personalKey,
	)
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("keygen-go v3.2.1's own tests failed against relkey: %v\n%s", err, failures(string(out)))
	}
	for _, name := range []string{"TestValidate", "TestSignedKey", "TestUpgrade"} {
		if !strings.Contains(string(out), "--- PASS: "+name) {
			t.Errorf("keygen-go's %s did not pass:\n%s", name, out)
		}
	}
}

// failures keeps the lines of a verbose go test run that say what broke:
// the SDK's own assertions and the requests it logged just before.
func failures(out string) string {
	lines := strings.Split(out, "\n")
	keep := make([]bool, len(lines))
	found := false
	for i, line := range lines {
		if strings.Contains(line, "_test.go") || strings.Contains(line, "--- FAIL") || strings.HasPrefix(line, "FAIL") || strings.Contains(line, "panic") {
			found = true
			for j := max(0, i-6); j <= i; j++ {
				keep[j] = true
			}
		}
	}
	if !found {
		return out
	}
	var kept []string
	for i, line := range lines {
		if keep[i] {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

// sdkSeed is what keygen-go's tests are configured with.
type sdkSeed struct {
	productID, licenseKey, personalKey string
}

// seedSDK creates, through relkey's API, what keygen-go's tests expect: a
// node-locked policy with heartbeats from creation and up to 5 processes, a
// signed ED25519_SIGN license with an entitlement, and releases 1.0.0 and
// 1.0.1, the latter with the test_<GOOS>_<GOARCH> artifact checksummed and
// signed as keygen-cli does (SHA-512 and Ed25519ph with the product id as
// context, unpadded base64).
func (r *relkey) seedSDK() sdkSeed {
	product := r.must("create product", 201, "POST", "/v1/products", `{"data":{"type":"products","attributes":{"name":"SDK"}}}`).id()
	entitlement := r.must("create entitlement", 201, "POST", "/v1/entitlements", `{"data":{"type":"entitlements","attributes":{"name":"Feature","code":"FEATURE"}}}`).id()
	policy := r.must("create policy", 201, "POST", "/v1/policies", `{"data":{"type":"policies","attributes":{"name":"Node-locked",
		"floating":false,"maxMachines":1,"maxProcesses":5,"requireFingerprintScope":true,"requireHeartbeat":true,
		"heartbeatBasis":"FROM_CREATION","heartbeatDuration":600,"scheme":"ED25519_SIGN","authenticationStrategy":"LICENSE"},
		"relationships":{"product":{"data":{"type":"products","id":"`+product+`"}}}}}`).id()
	r.must("attach entitlement", 200, "POST", "/v1/policies/"+policy+"/entitlements", `{"data":[{"type":"entitlements","id":"`+entitlement+`"}]}`)
	license := r.must("create license", 201, "POST", "/v1/licenses", `{"data":{"type":"licenses",
		"relationships":{"policy":{"data":{"type":"policies","id":"`+policy+`"}}}}}`)
	for _, version := range []string{"1.0.0", "1.0.1"} {
		r.must("create release "+version, 201, "POST", "/v1/releases", `{"data":{"type":"releases","attributes":{"version":"`+version+`","channel":"stable","status":"PUBLISHED"},
			"relationships":{"product":{"data":{"type":"products","id":"`+product+`"}}}}}`)
	}
	public, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		r.t.Fatal(err)
	}
	content := []byte("#!/bin/sh\necho upgraded\n")
	checksum, signature := cliChecksum(content), cliSignature(r.t, private, product, content)
	r.uploadArtifact("1.0.1", product, fmt.Sprintf("test_%s_%s", runtime.GOOS, runtime.GOARCH), checksum, signature, content)
	return sdkSeed{productID: product, licenseKey: license.attr("key").(string), personalKey: hex.EncodeToString(public)}
}

// uploadArtifact creates an artifact on a release (by version) and PUTs its
// bytes to the presigned URL.
func (r *relkey) uploadArtifact(version, productID, filename, checksum, signature string, content []byte) string {
	r.t.Helper()
	release := r.must("find release "+version, 200, "GET", "/v1/releases/"+version+"?product="+productID, "").id()
	created := r.must("create artifact "+filename, 307, "POST", "/v1/artifacts", fmt.Sprintf(`{"data":{"type":"artifacts","attributes":{"filename":%q,
		"filesize":%d,"platform":%q,"arch":%q,"checksum":%q,"signature":%q},"relationships":{"release":{"data":{"type":"releases","id":%q}}}}}`,
		filename, len(content), runtime.GOOS, runtime.GOARCH, checksum, signature, release))
	if status := put(r.t, r.client, created.header.Get("Location"), content); status != 200 {
		r.t.Fatalf("upload %s: PUT answered %d, want 200", filename, status)
	}
	r.waitUploaded(created.id())
	return created.id()
}

// cliChecksum is keygen-cli's default artifact checksum: SHA-512, unpadded base64.
func cliChecksum(content []byte) string {
	sum := sha512.Sum512(content)
	return base64.RawStdEncoding.EncodeToString(sum[:])
}

// cliSignature is keygen-cli's default artifact signature: Ed25519ph over
// the SHA-512 of the file, the product id as context, unpadded base64.
func cliSignature(t *testing.T, key ed25519.PrivateKey, productID string, content []byte) string {
	t.Helper()
	sum := sha512.Sum512(content)
	sig, err := key.Sign(nil, sum[:], &ed25519.Options{Hash: crypto.SHA512, Context: productID})
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawStdEncoding.EncodeToString(sig)
}
