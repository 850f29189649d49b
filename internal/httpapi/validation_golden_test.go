package httpapi_test

import (
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

// validationGolden is the folder of validation answers' golden files,
// testdata/validation, as a prefix of golden's names (which live in
// testdata/golden); go test -update rewrites them with the others.
const validationGolden = "../validation/"

// TestValidationWireFormats records whole validation answers: the license
// document and the verdict in meta, as keygen-go and the example clients
// read them.
func TestValidationWireFormats(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Floating","strict":true,"floating":true,"maxMachines":2`)))
		licenseID := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, `"key":"GOLDEN-VALIDATION-KEY","name":"Golden"`)))
		e.id(e.admin("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"golden-fp-1"`)))
		var documents []*response
		validateKey := func(name, meta string, headers ...header) {
			t.Helper()
			r := e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":`+meta+`}`, headers...)
			golden(t, validationGolden+name, 200, r, nil)
			documents = append(documents, r)
		}

		validateKey("valid", `{"key":"GOLDEN-VALIDATION-KEY","nonce":42,"scope":{"fingerprint":"golden-fp-1"}}`)
		validateKey("not-found", `{"key":"NO-SUCH-KEY"}`)
		validateKey("fingerprint-scope-mismatch", `{"key":"GOLDEN-VALIDATION-KEY","scope":{"fingerprint":"elsewhere"}}`)
		validateKey("api-1.0-constant", `{"key":"GOLDEN-VALIDATION-KEY"}`, header{"Keygen-Version", "1.0"})

		e.id(e.admin("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"golden-fp-2"`)))
		if err := e.app.DB.Gorm.Exec("UPDATE licenses SET max_machines = 1 WHERE id = ?", licenseID).Error; err != nil {
			t.Fatal(err)
		}
		validateKey("too-many-machines", `{"key":"GOLDEN-VALIDATION-KEY","scope":{"fingerprints":["golden-fp-1","golden-fp-2"]}}`)
		e.resolveLinks(t, documents...)
	})
}
