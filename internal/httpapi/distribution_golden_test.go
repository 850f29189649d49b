package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/testenv"
)

// TestDistributionWireFormats records the upgrade answer, the artifact
// download redirect and a license file with its certified dataset.
func TestDistributionWireFormats(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		replace := map[string]string{e.acct.PublicKey: "<public-key-hex>"}
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App","distributionStrategy":"LICENSED"`)))
		e.publish(productID, "stable", "1.0.0")
		next := e.publish(productID, "stable", "1.1.0")
		upgrade := e.admin("GET", "/v1/accounts/acme/releases/1.0.0/upgrade?product="+productID, "")
		golden(t, "upgrade", 200, upgrade, replace)
		e.resolveLinks(t, upgrade)

		created := e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(next, `"filename":"app.zip","filetype":"zip","filesize":3,"platform":"darwin","arch":"arm64"`))
		if status, _ := rawRequest(t, "PUT", created.header.Get("Location"), []byte("zip")); status != 200 {
			t.Fatalf("upload: %d", status)
		}
		artifactID := data(t, created)["id"].(string)
		var download *response
		eventually(t, "the artifact to be uploaded", func() bool {
			download = e.admin("GET", "/v1/accounts/acme/artifacts/"+artifactID, "")
			return download.status == 303
		})
		location := download.header.Get("Location")
		if location == "" || data(t, download)["links"].(map[string]any)["redirect"] != location {
			t.Fatalf("download: Location %q, body %s", location, download.body)
		}
		replace[jsonText(location)] = "<presigned-download-url>"
		golden(t, "artifact-download", 303, download, replace)

		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Node-locked","maxMachines":1`)))
		key := "GOLDEN-FILE-KEY"
		licenseID := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, `"key":"`+key+`","name":"Golden"`)))
		file := e.admin("POST", "/v1/accounts/acme/licenses/"+licenseID+"/actions/check-out?include=policy&ttl=3600", "{}")
		certificate := attrs(t, file)["certificate"].(string)
		replace[jsonText(certificate)] = "<certificate>"
		golden(t, "license-file", 200, file, replace)
		golden(t, "license-file-dataset", 200, &response{status: 200, body: certifiedDataset(t, certificate, "LICENSE")}, replace)

		// A failed artifact says why in meta.failure.
		late := e.id(e.admin("POST", "/v1/accounts/acme/artifacts", artifactBody(next, `"filename":"late.zip","filesize":3`), header{"Prefer", "no-redirect"}))
		e.advance(artifact.UploadWindow + time.Minute)
		golden(t, "artifact-failed", 200, e.admin("GET", "/v1/accounts/acme/artifacts/"+late, ""), replace)
	})
}

// certifiedDataset unframes an unencrypted certificate and returns the
// JSON:API document it certifies.
func certifiedDataset(t *testing.T, certificate, kind string) []byte {
	t.Helper()
	body := strings.TrimSpace(certificate)
	body = strings.TrimPrefix(body, "-----BEGIN "+kind+" FILE-----")
	body = strings.TrimSuffix(body, "-----END "+kind+" FILE-----")
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
	if err != nil {
		t.Fatalf("certificate payload: %v", err)
	}
	var frame struct{ Enc, Sig, Alg string }
	if err := json.Unmarshal(raw, &frame); err != nil || frame.Alg != "base64+ed25519" {
		t.Fatalf("certificate frame %s: %v", raw, err)
	}
	dataset, err := base64.StdEncoding.DecodeString(frame.Enc)
	if err != nil {
		t.Fatalf("certificate dataset: %v", err)
	}
	return dataset
}

// jsonText is how a string appears inside a normalized golden document.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}
