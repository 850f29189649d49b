package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gopkg.in/yaml.v3"

	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/internal/totp"
	"github.com/relkey/relkey/internal/webhook"
	"github.com/relkey/relkey/spec"
)

// scene is one request of the examples story: the example of a write
// operation of spec/openapi.yaml, or a step the story needs on the way.
type scene struct {
	op    string // operationId
	about string // the request example's summary
	// path holds the path parameters other than {account}; body is the
	// request document. In both, {{name}} is a value saved by an earlier
	// scene, {{time:D}} the story's start plus the Go duration D and
	// {{otp:name}} the current code of the saved TOTP secret name.
	path map[string]string
	body string
	// auth is "" (the admin token), "none", "basic EMAIL PASSWORD",
	// "bearer NAME" or "license NAME" (a saved token or license key).
	auth   string
	status int
	// query is added to the path; contentType replaces the JSON:API
	// media type of the body.
	query, contentType string
	// save names values for later scenes: JSON pointers into the response,
	// "Location" for that header, or "header:<name>" for another.
	save map[string]string
	// upload sends the body as bytes to the saved URL of that name instead
	// of the operation's path (a presigned URL: relkey's own, or S3's).
	upload string
	// validated is the saved license the scene validates: its lastValidated
	// is written off the request path, and the story waits for it.
	validated string
	// fanOut turns the events so far into webhook events before the request.
	fanOut bool
	// advance moves the env's clock before the request (a second factor's
	// next code).
	advance time.Duration
	// keygenVersion is the Keygen-Version the scene speaks ("": the latest).
	keygenVersion string
	setup         bool // not an example
}

const (
	adaEmail      = "ada@example.com"
	fingerprint   = "3c7a9e5f0b2d4f6e8a1c3e5b7d9f1a2c"
	artifactBytes = "DesktopApp 1.0.0 for macOS (arm64)"
)

// imageConfig is the blob the story pushes, and imageManifest the
// manifest naming it: an OCI artifact (release notes) whose config is the
// file, of no layers.
var (
	imageConfig   = "DesktopApp 1.0.0 release notes"
	imageManifest = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"text/plain","config":{"mediaType":"text/plain","digest":"` +
		digestOf(imageConfig) + `","size":` + strconv.Itoa(len(imageConfig)) + `},"layers":[]}`
)

func digestOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// pushScenes push the image through the distribution API in one of its
// layouts (the operation ids' prefix): an upload started, its one chunk,
// its close, and the manifest by a version tag, which creates its release.
func pushScenes(layout, tag string) []scene {
	pkg := map[string]string{"package": "desktop-app-image"}
	upload := map[string]string{"package": "desktop-app-image", "upload": "{{" + layout + "Upload}}"}
	return []scene{
		{op: layout + "UploadStart", about: "Start a blob upload", status: 202, path: pkg, save: map[string]string{layout + "Upload": "header:Docker-Upload-UUID"}},
		{op: layout + "UploadChunk", about: "The artifact's file, in one chunk", status: 202, path: upload, body: imageConfig, contentType: "application/octet-stream"},
		{op: layout + "UploadFinish", about: "Close the upload with the blob's digest", status: 201, path: upload, query: "digest=" + digestOf(imageConfig)},
		{op: layout + "ManifestPut", about: "The manifest by a version tag: its release is created", status: 201,
			path: map[string]string{"package": "desktop-app-image", "reference": tag}, body: imageManifest, contentType: "application/vnd.oci.image.manifest.v1+json"},
	}
}

func rel(kind, ref string) string {
	return `{"data":{"type":"` + kind + `","id":"{{` + ref + `}}"}}`
}

// story walks a desktop app's licensing and distribution through every
// write operation, in an order where each finds what it needs.
var story = slices.Concat([]scene{
	{op: "updateAccount", about: "Rename the account", status: 200, save: map[string]string{"publicKeySecret": "/data/meta/keys/ed25519"},
		body: `{"data":{"type":"accounts","attributes":{"name":"Acme Software"}}}`},
	{op: "replaceAccount", about: "Anonymous sign-up stays open", status: 200,
		body: `{"data":{"type":"accounts","attributes":{"protected":false}}}`},
	{op: "createUser", about: "A customer account", status: 201, save: map[string]string{"user": "/data/id"},
		body: `{"data":{"type":"users","attributes":{"firstName":"Ada","lastName":"Lovelace","email":"` + adaEmail + `","password":"first-password"}}}`},
	{op: "updateUser", about: "Tag the customer", status: 200, path: map[string]string{"id": "{{user}}"},
		body: `{"data":{"type":"users","attributes":{"metadata":{"crmId":"C-1001"}}}}`},
	{op: "search", about: "Find the customer by its CRM id", status: 200,
		body: `{"meta":{"type":"users","query":{"metadata":{"crmId":"C-1001"}}}}`},
	{op: "replaceUser", about: "Correct the name", status: 200, path: map[string]string{"id": "{{user}}"},
		body: `{"data":{"type":"users","attributes":{"lastName":"King"}}}`},
	{op: "generateToken", about: "The customer signs in with email and password (HTTP Basic)", status: 201,
		auth: "basic " + adaEmail + " first-password", save: map[string]string{"userToken": "/data/attributes/token", "userTokenId": "/data/id"},
		body: `{"data":{"type":"tokens","attributes":{"name":"Ada's laptop"}}}`},
	{op: "regenerateToken", status: 200, auth: "bearer userToken", path: map[string]string{"id": "{{userTokenId}}"},
		save: map[string]string{"userToken": "/data/attributes/token"}},
	{op: "createSecondFactor", about: "The customer adds an authenticator app (with its password)", status: 201, auth: "bearer userToken",
		path: map[string]string{"id": "{{user}}"}, body: `{"meta":{"password":"first-password"}}`,
		save: map[string]string{"factor": "/data/id", "factorSecret": "/data/attributes/secret"}},
	{op: "updateSecondFactor", about: "A first code of the app enables it", status: 200, auth: "bearer userToken",
		path: map[string]string{"id": "{{user}}", "factor": "{{factor}}"},
		body: `{"data":{"type":"second-factors","attributes":{"enabled":true}},"meta":{"otp":"{{otp:factorSecret}}"}}`},
	{op: "replaceSecondFactor", about: "Disable it, with a code", status: 200, auth: "bearer userToken", advance: 30 * time.Second,
		path: map[string]string{"id": "{{user}}", "factor": "{{factor}}"},
		body: `{"data":{"type":"second-factors","attributes":{"enabled":false}},"meta":{"otp":"{{otp:factorSecret}}"}}`},
	{op: "deleteSecondFactor", about: "Remove it (a code is needed while it is enabled)", status: 204, auth: "bearer userToken", advance: 30 * time.Second,
		path: map[string]string{"id": "{{user}}", "factor": "{{factor}}"}, body: `{"meta":{"otp":"{{otp:factorSecret}}"}}`},
	{op: "regenerateCurrentToken", status: 200, auth: "bearer userToken", save: map[string]string{"userToken": "/data/attributes/token"}},
	{op: "updatePassword", about: "The customer changes its password with its own token", status: 200, auth: "bearer userToken",
		path: map[string]string{"id": "{{user}}"}, body: `{"meta":{"oldPassword":"first-password","newPassword":"second-password"}}`},
	{op: "requestPasswordReset", about: "Forgotten password", status: 204, auth: "none",
		body: `{"meta":{"email":"` + adaEmail + `"}}`},
	{op: "resetPassword", about: "The reset token from the user.password-reset event", status: 200, auth: "none",
		path: map[string]string{"id": "{{user}}"}, body: `{"meta":{"passwordResetToken":"{{resetToken}}","newPassword":"third-password"}}`},
	{op: "createUserToken", about: "A token for the customer that expires in 30 days", status: 201, path: map[string]string{"id": "{{user}}"},
		save: map[string]string{"expiringToken": "/data/id"},
		body: `{"data":{"type":"tokens","attributes":{"name":"Support session","expiry":"{{time:720h}}"}}}`},
	{op: "banUser", status: 200, path: map[string]string{"id": "{{user}}"}},
	{op: "unbanUser", status: 200, path: map[string]string{"id": "{{user}}"}},

	{op: "createProduct", about: "The desktop app", status: 201, save: map[string]string{"product": "/data/id"},
		body: `{"data":{"type":"products","attributes":{"name":"Desktop App","code":"desktop-app","url":"https://example.com/desktop-app","platforms":["macos","windows","linux"]}}}`},
	{op: "updateProduct", about: "Add metadata", status: 200, path: map[string]string{"id": "{{product}}"},
		body: `{"data":{"type":"products","attributes":{"metadata":{"team":"desktop"}}}}`},
	{op: "replaceProduct", about: "Only licensed users download", status: 200, path: map[string]string{"id": "{{product}}"},
		body: `{"data":{"type":"products","attributes":{"distributionStrategy":"LICENSED"}}}`},
	{op: "createWebhookEndpoint", about: "Policies reach the billing system", status: 201, save: map[string]string{"endpoint": "/data/id"},
		body: `{"data":{"type":"webhook-endpoints","attributes":{"url":"https://billing.example.com/keygen","subscriptions":["policy.created","license.created"]}}}`},
	{op: "updateWebhookEndpoint", about: "Policy changes too", status: 200, path: map[string]string{"id": "{{endpoint}}"},
		body: `{"data":{"type":"webhook-endpoints","attributes":{"subscriptions":["policy.created","policy.updated"]}}}`},
	{op: "replaceWebhookEndpoint", about: "Only the desktop app's events", status: 200, path: map[string]string{"id": "{{endpoint}}"},
		body: `{"data":{"type":"webhook-endpoints","relationships":{"product":` + rel("products", "product") + `}}}`},
	{op: "createProductToken", about: "A token for the release pipeline", status: 201, path: map[string]string{"id": "{{product}}"},
		body: `{"data":{"type":"tokens","attributes":{"name":"Release pipeline"}}}`},

	{op: "createEntitlement", about: "A feature to sell", status: 201, save: map[string]string{"entitlement": "/data/id"},
		body: `{"data":{"type":"entitlements","attributes":{"name":"Pro features","code":"PRO"}}}`},
	{op: "createEntitlement", setup: true, status: 201, save: map[string]string{"addOn": "/data/id"},
		body: `{"data":{"type":"entitlements","attributes":{"name":"Cloud sync","code":"SYNC"}}}`},
	{op: "updateEntitlement", about: "Add metadata", status: 200, path: map[string]string{"id": "{{entitlement}}"},
		body: `{"data":{"type":"entitlements","attributes":{"metadata":{"tier":2}}}}`},
	{op: "replaceEntitlement", about: "Rename", status: 200, path: map[string]string{"id": "{{entitlement}}"},
		body: `{"data":{"type":"entitlements","attributes":{"name":"Pro"}}}`},

	{op: "createPolicy", about: "Node-locked (one machine), a year, license-key authentication", status: 201, save: map[string]string{"policy": "/data/id"},
		body: `{"data":{"type":"policies","attributes":{"name":"Desktop, 1 year","duration":31536000,"floating":false,"maxMachines":1,"authenticationStrategy":"LICENSE"},
			"relationships":{"product":` + rel("products", "product") + `}}}`},
	{op: "createPolicy", setup: true, status: 201, save: map[string]string{"teamPolicy": "/data/id"},
		body: `{"data":{"type":"policies","attributes":{"name":"Desktop team, 1 year","duration":31536000,"floating":true,"maxMachines":10,"authenticationStrategy":"LICENSE","requireCheckIn":true,"checkInInterval":"month","checkInIntervalCount":1},
			"relationships":{"product":` + rel("products", "product") + `}}}`},
	{op: "updatePolicy", about: "Let each license float across three machines", status: 200, path: map[string]string{"id": "{{policy}}"},
		body: `{"data":{"type":"policies","attributes":{"floating":true,"maxMachines":3}}}`},
	{op: "replacePolicy", about: "Rename", status: 200, path: map[string]string{"id": "{{policy}}"},
		body: `{"data":{"type":"policies","attributes":{"name":"Desktop, 1 year, 3 machines"}}}`},
	{op: "attachPolicyEntitlements", about: "Every license of the policy holds PRO", status: 200, path: map[string]string{"id": "{{policy}}"},
		body: `{"data":[{"type":"entitlements","id":"{{entitlement}}"}]}`},

	{op: "createLicense", about: "Ada's license (the key is generated)", status: 201,
		save: map[string]string{"license": "/data/id", "key": "/data/attributes/key"},
		body: `{"data":{"type":"licenses","attributes":{"name":"Ada's license"},
			"relationships":{"policy":` + rel("policies", "policy") + `,"owner":` + rel("users", "user") + `}}}`},
	{op: "updateLicense", about: "Add metadata", status: 200, path: map[string]string{"id": "{{license}}"},
		body: `{"data":{"type":"licenses","attributes":{"metadata":{"orderId":"1001"}}}}`},
	{op: "replaceLicense", about: "Extend the expiry to 400 days from now", status: 200, path: map[string]string{"id": "{{license}}"},
		body: `{"data":{"type":"licenses","attributes":{"expiry":"{{time:9600h}}"}}}`},
	{op: "validateKey", about: "The app validates its key before activating (no machine yet)", status: 200, auth: "none", validated: "license",
		body: `{"meta":{"key":"{{key}}","scope":{"fingerprint":"` + fingerprint + `"}}}`},
	{op: "activateMachine", about: "The app activates this machine, authenticated by the license key", status: 201, auth: "license key",
		save: map[string]string{"machine": "/data/id"},
		body: `{"data":{"type":"machines","attributes":{"fingerprint":"` + fingerprint + `","name":"Ada's MacBook","platform":"macOS","hostname":"adas-mbp","cores":8},
			"relationships":{"license":` + rel("licenses", "license") + `}}}`},
	{op: "validateLicense", about: "The app validates the license for this machine", status: 200, auth: "license key", path: map[string]string{"id": "{{license}}"},
		body: `{"meta":{"nonce":1700000000,"scope":{"fingerprint":"` + fingerprint + `"}}}`},
	{op: "updateMachine", about: "Rename the machine", status: 200, auth: "license key", path: map[string]string{"id": "{{machine}}"},
		body: `{"data":{"type":"machines","attributes":{"name":"Ada's work MacBook"}}}`},
	{op: "replaceMachine", about: "Record the new hostname", status: 200, auth: "license key", path: map[string]string{"id": "{{machine}}"},
		body: `{"data":{"type":"machines","attributes":{"hostname":"adas-work-mbp"}}}`},
	{op: "pingMachine", status: 200, auth: "license key", path: map[string]string{"id": "{{machine}}"}},
	{op: "pingMachineHeartbeat", status: 200, auth: "license key", path: map[string]string{"id": "{{machine}}"}},
	{op: "resetMachine", status: 200, path: map[string]string{"id": "{{machine}}"}},
	{op: "resetMachineHeartbeat", status: 200, path: map[string]string{"id": "{{machine}}"}},
	{op: "createComponent", about: "A hardware component of the machine", status: 201, auth: "license key", save: map[string]string{"component": "/data/id"},
		body: `{"data":{"type":"components","attributes":{"fingerprint":"gpu-8a7b6c5d","name":"GPU"},"relationships":{"machine":` + rel("machines", "machine") + `}}}`},
	{op: "updateComponent", about: "Rename the component", status: 200, auth: "license key", path: map[string]string{"id": "{{component}}"},
		body: `{"data":{"type":"components","attributes":{"name":"Discrete GPU"}}}`},
	{op: "replaceComponent", about: "Staff tag it", status: 200, path: map[string]string{"id": "{{component}}"},
		body: `{"data":{"type":"components","attributes":{"metadata":{"vendor":"acme"}}}}`},
	{op: "spawnProcess", about: "The app starts a process on the machine", status: 201, auth: "license key", save: map[string]string{"process": "/data/id"},
		body: `{"data":{"type":"processes","attributes":{"pid":"4242"},"relationships":{"machine":` + rel("machines", "machine") + `}}}`},
	{op: "updateProcess", about: "Staff tag the process", status: 200, path: map[string]string{"id": "{{process}}"},
		body: `{"data":{"type":"processes","attributes":{"metadata":{"role":"renderer"}}}}`},
	{op: "replaceProcess", about: "Same as PATCH", status: 200, path: map[string]string{"id": "{{process}}"},
		body: `{"data":{"type":"processes","attributes":{"metadata":{"role":"worker"}}}}`},
	{op: "pingProcess", status: 200, auth: "license key", path: map[string]string{"id": "{{process}}"}},
	{op: "checkOutMachine", about: "A machine file for offline use, valid a week, with its license", status: 200, auth: "license key",
		path: map[string]string{"id": "{{machine}}"}, body: `{"meta":{"ttl":604800,"include":["license"]}}`},
	{op: "generateMachineProof", about: "An offline proof of the activation (Keygen-Version 1.0's action), over the default dataset", status: 200,
		auth: "license key", path: map[string]string{"id": "{{machine}}"}},
	{op: "checkOutLicense", about: "A license file for offline use, valid a week", status: 200, auth: "license key",
		path: map[string]string{"id": "{{license}}"}, body: `{"meta":{"ttl":604800}}`},
	{op: "incrementUsage", about: "Count two uses", status: 200, path: map[string]string{"id": "{{license}}"}, body: `{"meta":{"increment":2}}`},
	{op: "decrementUsage", about: "Give one back", status: 200, path: map[string]string{"id": "{{license}}"}, body: `{"meta":{"decrement":1}}`},
	{op: "resetUsage", status: 200, path: map[string]string{"id": "{{license}}"}},
	{op: "suspendLicense", status: 200, path: map[string]string{"id": "{{license}}"}},
	{op: "reinstateLicense", status: 200, path: map[string]string{"id": "{{license}}"}},
	{op: "renewLicense", status: 200, path: map[string]string{"id": "{{license}}"}},
	{op: "createLicenseToken", about: "An activation token for two more machines", status: 201, path: map[string]string{"id": "{{license}}"},
		body: `{"data":{"type":"tokens","attributes":{"name":"Ada's activations","maxActivations":2}}}`},
	{op: "attachLicenseEntitlements", about: "Sell Ada the SYNC add-on", status: 200, path: map[string]string{"id": "{{license}}"},
		body: `{"data":[{"type":"entitlements","id":"{{addOn}}"}]}`},
	{op: "detachLicenseEntitlements", about: "Take SYNC back", status: 204, path: map[string]string{"id": "{{license}}"},
		body: `{"data":[{"type":"entitlements","id":"{{addOn}}"}]}`},
	{op: "createUser", setup: true, status: 201, save: map[string]string{"colleague": "/data/id"},
		body: `{"data":{"type":"users","attributes":{"firstName":"Charles","lastName":"Babbage","email":"charles@example.com"}}}`},
	{op: "attachLicenseUsers", about: "Share the license with a colleague", status: 200, path: map[string]string{"id": "{{license}}"},
		body: `{"data":[{"type":"users","id":"{{colleague}}"}]}`},
	{op: "detachLicenseUsers", about: "Stop sharing it", status: 204, path: map[string]string{"id": "{{license}}"},
		body: `{"data":[{"type":"users","id":"{{colleague}}"}]}`},
	{op: "transferLicense", about: "Move the license to the team policy", status: 200, path: map[string]string{"id": "{{license}}"},
		body: rel("policies", "teamPolicy")},
	{op: "changeLicenseOwner", about: "Give the license to the colleague", status: 200, path: map[string]string{"id": "{{license}}"},
		body: rel("users", "colleague")},
	{op: "changeLicenseUser", about: "Give it back (Keygen-Version 1.5's name for the owner)", status: 200, path: map[string]string{"id": "{{license}}"},
		body: rel("users", "user")},
	{op: "updateLicensePolicy", about: "PATCH works as PUT", status: 200, path: map[string]string{"id": "{{license}}"},
		body: rel("policies", "teamPolicy")},
	{op: "updateLicenseOwner", about: "PATCH works as PUT", status: 200, path: map[string]string{"id": "{{license}}"},
		body: rel("users", "colleague")},
	{op: "updateLicenseUser", about: "PATCH works as PUT", status: 200, path: map[string]string{"id": "{{license}}"},
		body: rel("users", "user")},
	{op: "changeMachineOwner", about: "The machine is the license owner's", status: 200, path: map[string]string{"id": "{{machine}}"},
		body: rel("users", "user")},
	{op: "updateMachineOwner", about: "No owner", status: 200, path: map[string]string{"id": "{{machine}}"}, body: `{"data":null}`},
	{op: "checkInLicense", about: "The team policy requires monthly check-ins", status: 200, auth: "license key", path: map[string]string{"id": "{{license}}"}},

	{op: "createRelease", about: "A draft of version 1.0.0 on the stable channel", status: 201, save: map[string]string{"release": "/data/id"},
		body: `{"data":{"type":"releases","attributes":{"name":"Desktop App 1.0.0","version":"1.0.0","channel":"stable"},"relationships":{"product":` + rel("products", "product") + `}}}`},
	{op: "updateRelease", about: "Release notes", status: 200, path: map[string]string{"id": "{{release}}"},
		body: `{"data":{"type":"releases","attributes":{"description":"First public release."}}}`},
	{op: "replaceRelease", about: "Tag it", status: 200, path: map[string]string{"id": "{{release}}"},
		body: `{"data":{"type":"releases","attributes":{"tag":"latest"}}}`},
	{op: "createPackage", about: "The macOS build of the app", status: 201, save: map[string]string{"package": "/data/id"},
		body: `{"data":{"type":"packages","attributes":{"name":"Desktop App for macOS","key":"desktop-app-macos"},"relationships":{"product":` + rel("products", "product") + `}}}`},
	{op: "updatePackage", about: "Add metadata", status: 200, path: map[string]string{"id": "{{package}}"},
		body: `{"data":{"type":"packages","attributes":{"metadata":{"bundleId":"com.example.desktop"}}}}`},
	{op: "replacePackage", about: "Rename", status: 200, path: map[string]string{"id": "{{package}}"},
		body: `{"data":{"type":"packages","attributes":{"name":"Desktop App (macOS)"}}}`},
	{op: "changeReleasePackage", about: "File the release under the macOS package", status: 200, path: map[string]string{"id": "{{release}}"},
		body: rel("packages", "package")},
	{op: "updateReleasePackage", about: "PATCH works as PUT", status: 200, path: map[string]string{"id": "{{release}}"},
		body: rel("packages", "package")},
	{op: "attachReleaseConstraints", about: "Only PRO licenses get this release", status: 200, path: map[string]string{"id": "{{release}}"},
		save: map[string]string{"constraint": "/data/0/id"},
		body: `{"data":[{"type":"constraints","relationships":{"entitlement":` + rel("entitlements", "entitlement") + `}}]}`},
	{op: "detachReleaseConstraints", about: "Lift the constraint", status: 204, path: map[string]string{"id": "{{release}}"},
		body: `{"data":[{"type":"constraints","id":"{{constraint}}"}]}`},
	{op: "createArtifact", about: "The disk image; relkey answers with where to upload it", status: 307,
		save: map[string]string{"artifact": "/data/id", "upload": "Location"},
		body: `{"data":{"type":"artifacts","attributes":{"filename":"DesktopApp-1.0.0-arm64.dmg","filetype":"dmg","filesize":` + strconv.Itoa(len(artifactBytes)) + `,"platform":"macos","arch":"arm64"},
			"relationships":{"release":` + rel("releases", "release") + `}}}`},
	{op: "uploadBlob", about: "The bytes, to the presigned URL", status: 200, upload: "upload", body: artifactBytes},
	{op: "updateArtifact", about: "Record the checksum", status: 200, path: map[string]string{"id": "{{artifact}}"},
		body: `{"data":{"type":"artifacts","attributes":{"checksum":"sha256-0f343b0931126a20f133d67c2b018a3b"}}}`},
	{op: "replaceArtifact", about: "Tag the build", status: 200, path: map[string]string{"id": "{{artifact}}"},
		body: `{"data":{"type":"artifacts","attributes":{"metadata":{"build":"1.0.0+42"}}}}`},
	{op: "publishRelease", status: 200, path: map[string]string{"id": "{{release}}"}},
	{op: "yankRelease", status: 200, path: map[string]string{"id": "{{release}}"}},
	{op: "yankArtifact", status: 204, path: map[string]string{"id": "{{artifact}}"}},
	{op: "upsertRelease", about: "Keygen-Version 1.0 (electron-builder before 26.6.3): the release of a version with its one file", status: 201,
		keygenVersion: "1.0", save: map[string]string{"fileRelease": "/data/id"},
		body: `{"data":{"type":"releases","attributes":{"name":"Desktop App 2.0","channel":"stable","version":"2.0.0","filename":"DesktopApp-2.0.0.dmg","filetype":"dmg","filesize":` +
			strconv.Itoa(len(artifactBytes)) + `,"platform":"darwin"},"relationships":{"product":` + rel("products", "product") + `}}}`},
	{op: "uploadReleaseFile", status: 307, keygenVersion: "1.0", path: map[string]string{"id": "{{fileRelease}}"},
		save: map[string]string{"fileUpload": "Location"}},
	{op: "uploadBlob", setup: true, status: 200, upload: "fileUpload", body: artifactBytes},
	{op: "deleteReleaseFile", status: 204, keygenVersion: "1.0", path: map[string]string{"id": "{{fileRelease}}"}},
	{op: "createSetting", about: "Licenses of the account may validate and activate, nothing more", status: 201, save: map[string]string{"setting": "/data/id"},
		body: `{"data":{"type":"settings","attributes":{"key":"default_license_permissions","value":["license.read","license.validate","machine.read","machine.create"]}}}`},
	{op: "updateSetting", about: "And see their product", status: 200, path: map[string]string{"id": "{{setting}}"},
		body: `{"data":{"type":"settings","attributes":{"value":["product.read","license.read","license.validate","machine.read","machine.create"]}}}`},
	{op: "replaceSetting", about: "PUT works as PATCH", status: 200, path: map[string]string{"id": "default_license_permissions"},
		body: `{"data":{"type":"settings","attributes":{"value":["product.read","license.read","license.validate","machine.read","machine.create","machine.delete"]}}}`},
	{op: "deleteSetting", about: "Back to the built-in default", status: 204, path: map[string]string{"id": "{{setting}}"}},
	{op: "createGroup", about: "A customer's team, at most five licenses", status: 201, save: map[string]string{"group": "/data/id"},
		body: `{"data":{"type":"groups","attributes":{"name":"Lovelace Labs","maxLicenses":5,"metadata":{"crm":"LL-7"}}}}`},
	{op: "updateGroup", about: "Room for ten machines", status: 200, path: map[string]string{"id": "{{group}}"},
		body: `{"data":{"type":"groups","attributes":{"maxMachines":10}}}`},
	{op: "replaceGroup", about: "Lift the license limit", status: 200, path: map[string]string{"id": "{{group}}"},
		body: `{"data":{"type":"groups","attributes":{"maxLicenses":null}}}`},
	{op: "attachGroupOwners", about: "Ada sees what the team holds", status: 200, path: map[string]string{"id": "{{group}}"},
		body: `{"data":[` + rel("users", "user")[len(`{"data":`):len(rel("users", "user"))-1] + `]}`},
	{op: "changeUserGroup", about: "Ada joins the team", status: 200, path: map[string]string{"id": "{{user}}"}, body: rel("groups", "group")},
	{op: "changeLicenseGroup", about: "The license joins the team", status: 200, path: map[string]string{"id": "{{license}}"}, body: rel("groups", "group")},
	{op: "changeMachineGroup", about: "The machine joins the team", status: 200, path: map[string]string{"id": "{{machine}}"}, body: rel("groups", "group")},
	{op: "updateUserGroup", about: "As PUT: Ada stays in the team", status: 200, path: map[string]string{"id": "{{user}}"}, body: rel("groups", "group")},
	{op: "updateLicenseGroup", about: "As PUT: the license stays in the team", status: 200, path: map[string]string{"id": "{{license}}"}, body: rel("groups", "group")},
	{op: "updateMachineGroup", about: "As PUT: the machine stays in the team", status: 200, path: map[string]string{"id": "{{machine}}"}, body: rel("groups", "group")},
	{op: "detachGroupOwners", status: 204, path: map[string]string{"id": "{{group}}"},
		body: `{"data":[` + rel("users", "user")[len(`{"data":`):len(rel("users", "user"))-1] + `]}`},
	{op: "deleteGroup", status: 204, path: map[string]string{"id": "{{group}}"}},
	{op: "createPortalSession", about: "A one-time link to the portal, where the customer may also deactivate machines", status: 201,
		body: `{"data":{"type":"portal-sessions","attributes":{"returnUrl":"https://example.com/account","permissions":["machine.read","machine.delete","release.download"],"fingerprintLabel":"Device ID"},
			"relationships":{"license":` + rel("licenses", "license") + `}}}`},
	{op: "createPolicy", setup: true, status: 201, save: map[string]string{"pooled": "/data/id"},
		body: `{"data":{"type":"policies","attributes":{"name":"Pooled keys","usePool":true},"relationships":{"product":` + rel("products", "product") + `}}}`},
	{op: "createKey", about: "A key printed on a boxed copy, for the next license of the pooled policy", status: 201, save: map[string]string{"poolKey": "/data/id"},
		body: `{"data":{"type":"keys","attributes":{"key":"BOXED-0001-AAAA"},"relationships":{"policy":` + rel("policies", "pooled") + `}}}`},
	{op: "updateKey", about: "A misprint fixed", status: 200, path: map[string]string{"id": "{{poolKey}}"}, body: `{"data":{"type":"keys","attributes":{"key":"BOXED-0001-AAAB"}}}`},
	{op: "replaceKey", status: 200, path: map[string]string{"id": "{{poolKey}}"}, body: `{"data":{"type":"keys","attributes":{"key":"BOXED-0001-AAAC"}}}`},
	{op: "createKey", setup: true, status: 201, save: map[string]string{"spareKey": "/data/id"},
		body: `{"data":{"type":"keys","attributes":{"key":"BOXED-0002-AAAA"}, "relationships":{"policy":` + rel("policies", "pooled") + `}}}`},
	{op: "deleteKey", status: 204, path: map[string]string{"id": "{{spareKey}}"}},
	{op: "popPolicyPool", about: "The oldest key leaves the pool", status: 200, path: map[string]string{"id": "{{pooled}}"}},

	{op: "listWebhookEvents", setup: true, fanOut: true, status: 200, save: map[string]string{"webhookEvent": "/data/0/id"}},
	{op: "retryWebhookEvent", status: 201, path: map[string]string{"id": "{{webhookEvent}}"}},
	{op: "deleteWebhookEvent", status: 204, path: map[string]string{"id": "{{webhookEvent}}"}},
	{op: "deleteWebhookEndpoint", status: 204, path: map[string]string{"id": "{{endpoint}}"}},
	{op: "deleteComponent", status: 204, path: map[string]string{"id": "{{component}}"}},
	{op: "killProcess", status: 204, auth: "license key", path: map[string]string{"id": "{{process}}"}},
	{op: "deactivateMachine", status: 204, auth: "license key", path: map[string]string{"id": "{{machine}}"}},
	{op: "revokeToken", status: 204, path: map[string]string{"id": "{{expiringToken}}"}},
	{op: "createLicense", setup: true, status: 201, save: map[string]string{"refunded": "/data/id"},
		body: `{"data":{"type":"licenses","relationships":{"policy":` + rel("policies", "policy") + `}}}`},
	{op: "revokeLicense", status: 204, path: map[string]string{"id": "{{refunded}}"}},
	{op: "deleteLicense", status: 204, path: map[string]string{"id": "{{license}}"}},
	{op: "createPackage", setup: true, status: 201,
		body: `{"data":{"type":"packages","attributes":{"name":"Desktop App image","key":"desktop-app-image","engine":"oci"},"relationships":{"product":` + rel("products", "product") + `}}}`},
}, pushScenes("oci", "4.0.0"), pushScenes("ociRoot", "4.1.0"), pushScenes("ociDefault", "4.2.0"), []scene{
	{op: "deleteRelease", status: 204, path: map[string]string{"id": "{{release}}"}},
	{op: "deletePackage", status: 204, path: map[string]string{"id": "{{package}}"}},
	{op: "detachPolicyEntitlements", about: "Policy licenses no longer hold PRO", status: 204, path: map[string]string{"id": "{{policy}}"},
		body: `{"data":[{"type":"entitlements","id":"{{entitlement}}"}]}`},
	{op: "deleteEntitlement", status: 204, path: map[string]string{"id": "{{entitlement}}"}},
	{op: "deletePolicy", status: 204, path: map[string]string{"id": "{{policy}}"}},
	{op: "deleteProduct", status: 204, path: map[string]string{"id": "{{product}}"}},
	{op: "deleteUser", status: 204, path: map[string]string{"id": "{{user}}"}},
	{op: "deleteAccount", about: "Keygen CE refuses it to every bearer", status: 403},
})

var storyRef = regexp.MustCompile(`\{\{([a-zA-Z]+)(?::([-0-9a-zA-Z.]+))?\}\}`)

// TestSpecExamples plays the story on both engines and checks that
// spec/examples.yaml holds exactly its requests and answers, normalized;
// go test ./internal/httpapi -run TestSpecExamples -update rewrites it
// from the embedded engine.
func TestSpecExamples(t *testing.T) {
	ops := specOperations(t)
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		got := playStory(t, newEnv(t, b), ops)
		if *update {
			if !b.Postgres {
				if err := os.WriteFile(filepath.Join("..", "..", "spec", "examples.yaml"), got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			return
		}
		if !bytes.Equal(got, spec.Examples) {
			gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(spec.Examples), "\n")
			for i := range min(len(gotLines), len(wantLines)) {
				if gotLines[i] != wantLines[i] {
					t.Fatalf("spec/examples.yaml differs from what relkey answers at line %d:\n  file:   %s\n  answer: %s\n"+
						"(go test ./internal/httpapi -run TestSpecExamples -update rewrites it)", i+1, wantLines[i], gotLines[i])
				}
			}
			t.Fatalf("spec/examples.yaml has %d lines, the story %d (go test ./internal/httpapi -run TestSpecExamples -update rewrites it)",
				len(wantLines), len(gotLines))
		}
	})
}

// playStory sends every scene and returns the examples document.
func playStory(t *testing.T, e *env, ops map[string]operation) []byte {
	t.Helper()
	// The account's RSA key (offline proofs) is made on first use, a
	// one-time cost that under -race on a busy machine outlasts a request's
	// deadline: make it before the story.
	if tenant, err := e.app.Accounts.Resolve(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	} else if _, err := e.app.Accounts.RSAKey(context.Background(), tenant); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	saved := map[string]string{}
	// A second early, and in whole milliseconds as times are rendered: no
	// time of the story precedes it, and {{time:D}} is exactly D after it.
	start := time.Now().UTC().Add(-time.Second).Truncate(time.Millisecond)
	norm := newNormalizer(start)
	e.app.Events.Subscribe(func(_ context.Context, ev event.Event) {
		if ev.Type == event.UserPasswordReset {
			mu.Lock()
			saved["resetToken"] = ev.Meta["passwordResetToken"].(string)
			norm.secret(saved["resetToken"])
			mu.Unlock()
		}
	})
	fill := func(s string) string {
		mu.Lock()
		defer mu.Unlock()
		return storyRef.ReplaceAllStringFunc(s, func(m string) string {
			parts := storyRef.FindStringSubmatch(m)
			if parts[1] == "time" {
				d, err := time.ParseDuration(parts[2])
				if err != nil {
					t.Fatalf("%s: %v", m, err)
				}
				return start.Add(d).Format("2006-01-02T15:04:05.000Z")
			}
			if parts[1] == "otp" {
				code, err := totp.Code(saved[parts[2]], totp.Counter(e.clock.Now()))
				if err != nil {
					t.Fatalf("%s: %v", m, err)
				}
				norm.codes[code] = true
				return code
			}
			v, ok := saved[parts[1]]
			if !ok {
				t.Fatalf("%s is not saved yet", m)
			}
			return v
		})
	}
	examples := &yaml.Node{Kind: yaml.MappingNode}
	for _, s := range story {
		op, ok := ops[s.op]
		if !ok {
			t.Fatalf("the story's %s is not an operation of spec/openapi.yaml", s.op)
		}
		e.advance(s.advance)
		body := fill(s.body)
		if s.fanOut {
			if err := e.app.DeliveryWorker(webhook.WorkerOptions{}).FanOut(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		var r *response
		if s.upload != "" {
			status, answer := rawRequest(t, op.method, fill("{{"+s.upload+"}}"), []byte(body))
			r = &response{status: status, body: answer}
		} else {
			path := strings.Replace(op.path, "{account}", "acme", 1)
			for name, v := range s.path {
				path = strings.Replace(path, "{"+name+"}", url.PathEscape(fill(v)), 1)
			}
			if s.query != "" {
				path += "?" + fill(s.query)
			}
			headers := storyAuth(t, s.auth, e.token, fill)
			if s.contentType != "" {
				headers = append(headers, header{"Content-Type", s.contentType})
			}
			if s.keygenVersion != "" {
				headers = append(headers, header{"Keygen-Version", s.keygenVersion})
			}
			r = e.do(op.method, path, body, headers...)
		}
		if r.status != s.status {
			t.Fatalf("%s: %d, want %d: %s", s.op, r.status, s.status, r.body)
		}
		for name, from := range s.save {
			mu.Lock()
			saved[name] = savedValue(t, r, from)
			if strings.HasSuffix(name, "Secret") {
				norm.secret(saved[name])
			}
			mu.Unlock()
		}
		if s.validated != "" {
			eventually(t, "lastValidated of the validated license", func() bool {
				return attrs(t, e.admin("GET", "/v1/accounts/acme/licenses/"+fill("{{"+s.validated+"}}"), ""))["lastValidated"] != nil
			})
		}
		if s.setup {
			continue
		}
		mu.Lock() // the event hook adds secrets to norm
		if body != "" {
			addExample(examples, s.op+"Request", s.about, norm.document(t, body))
		}
		if len(r.body) > 0 {
			addExample(examples, s.op+"Response", fmt.Sprintf("%d %s", r.status, http.StatusText(r.status)), norm.document(t, string(r.body)))
		}
		mu.Unlock()
	}
	var out bytes.Buffer
	out.WriteString("# Examples of spec/openapi.yaml: the requests and answers of internal/httpapi's TestSpecExamples,\n" +
		"# which fails when relkey answers otherwise. Ids, keys, tokens, certificates and presigned URLs are\n" +
		"# replaced by stable stand-ins and times are shown as if the story ran at 2026-01-01T09:00:00Z.\n" +
		"# Rewrite with: go test ./internal/httpapi -run TestSpecExamples -update\n")
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(examples); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// storyAuth is the Authorization of a scene's auth.
func storyAuth(t *testing.T, auth, adminToken string, fill func(string) string) []header {
	t.Helper()
	switch fields := strings.Fields(auth); {
	case auth == "":
		return []header{bearer(adminToken)}
	case auth == "none":
		return nil
	case fields[0] == "basic" && len(fields) == 3:
		return []header{basic(fields[1], fields[2])}
	case fields[0] == "bearer" && len(fields) == 2:
		return []header{bearer(fill("{{" + fields[1] + "}}"))}
	case fields[0] == "license" && len(fields) == 2:
		return []header{{"Authorization", "License " + fill("{{"+fields[1]+"}}")}}
	}
	t.Fatalf("scene auth %q", auth)
	return nil
}

func savedValue(t *testing.T, r *response, from string) string {
	t.Helper()
	if from == "Location" {
		return r.header.Get("Location")
	}
	if name, ok := strings.CutPrefix(from, "header:"); ok {
		return r.header.Get(name)
	}
	var v any = r.doc(t)
	for _, part := range strings.Split(strings.TrimPrefix(from, "/"), "/") {
		switch node := v.(type) {
		case map[string]any:
			v = node[part]
		case []any:
			i, _ := strconv.Atoi(part)
			v = node[i]
		}
	}
	s, ok := v.(string)
	if !ok {
		t.Fatalf("%s is not a string in %s", from, r.body)
	}
	return s
}

func addExample(examples *yaml.Node, name, summary string, value *yaml.Node) {
	entry := &yaml.Node{Kind: yaml.MappingNode}
	if summary != "" {
		entry.Content = append(entry.Content, scalar("summary"), scalar(summary))
	}
	entry.Content = append(entry.Content, scalar("value"), value)
	examples.Content = append(examples.Content, scalar(name), entry)
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// exampleEpoch is the start the examples show.
var exampleEpoch = time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)

var (
	licenseKeyPattern = regexp.MustCompile(`\b[0-9A-F]{6}(-[0-9A-F]{6}){4}-V3\b`)
	// proofPattern is an offline machine proof: its dataset holds ids and
	// times, and the account's RSA key is new each run.
	proofPattern       = regexp.MustCompile(`^proof/[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+$`)
	certificatePattern = regexp.MustCompile(`(-----BEGIN [A-Z ]+-----\n)[A-Za-z0-9+/=\n]+?(\n-----END [A-Z ]+-----)`)
	presignedPattern   = regexp.MustCompile(`^https?://[^"]*(signature|Signature)=[^"]*$`)
	publicKeyPattern   = regexp.MustCompile(`LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0K[A-Za-z0-9+/]+=*`)
	portalLinkPattern  = regexp.MustCompile(`^https?://[^/"]+(/portal/[^/"]+/open\?token=)[A-Za-z0-9_-]{43}$`)
)

// normalizer replaces what differs from run to run with stable stand-ins:
// each id, token and license key by its own fake one (numbered by first
// appearance), times by the example epoch plus their offset from the
// story's start in whole hours.
type normalizer struct {
	start  time.Time
	values map[string]string
	// secrets are values without a recognizable form (reset tokens).
	secrets []string
	// codes are the one-time codes the story sent, shown as 123456.
	codes map[string]bool
}

// secret makes n replace real wherever it appears.
func (n *normalizer) secret(real string) {
	n.secrets = append(n.secrets, real)
}

func newNormalizer(start time.Time) *normalizer {
	return &normalizer{start: start, values: map[string]string{}, codes: map[string]bool{}}
}

func (n *normalizer) standIn(real string, invent func(i int) string) string {
	if v, ok := n.values[real]; ok {
		return v
	}
	v := invent(len(n.values) + 1)
	n.values[real] = v
	return v
}

func fakeHex(i int, length int) string {
	sum := sha256.Sum256([]byte("relkey example " + strconv.Itoa(i)))
	return strings.Repeat(hex.EncodeToString(sum[:]), 2)[:length]
}

func (n *normalizer) text(s string) string {
	if n.codes[s] {
		return "123456"
	}
	for _, secret := range n.secrets {
		s = strings.ReplaceAll(s, secret, n.standIn(secret, func(i int) string { return fakeHex(i, len(secret)) }))
	}
	if presignedPattern.MatchString(s) {
		return "https://licensing.example.com/v1/blobs/artifacts/DesktopApp-1.0.0-arm64.dmg?expires=1767261600&signature=" + fakeHex(0, 64)
	}
	s = publicKeyPattern.ReplaceAllStringFunc(s, func(pem string) string {
		return n.standIn(pem, func(i int) string { return "LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0K" + fakeHex(i, 64) })
	})
	s = portalLinkPattern.ReplaceAllString(s, "https://licensing.example.com${1}"+fakeHex(0, 43))
	if proofPattern.MatchString(s) {
		return "proof/eyJhY2NvdW50Ijp7ImlkIjoi4oCmIn19." + fakeHex(0, 64)
	}
	s = certificatePattern.ReplaceAllString(s, "${1}eyJlbmMiOiLigKYiLCJzaWciOiLigKYiLCJhbGciOiJiYXNlNjQrZWQyNTUxOSJ9${2}")
	s = uuidPattern.ReplaceAllStringFunc(s, func(id string) string {
		return n.standIn(id, func(i int) string {
			return uuid.NewSHA1(uuid.NameSpaceURL, []byte("relkey-example-"+strconv.Itoa(i))).String()
		})
	})
	s = tokenPattern.ReplaceAllStringFunc(s, func(tok string) string {
		return n.standIn(tok, func(i int) string {
			prefix, rest, _ := strings.Cut(tok, "-")
			return prefix + "-" + fakeHex(i, len(rest)-2) + "v3"
		})
	})
	s = licenseKeyPattern.ReplaceAllStringFunc(s, func(key string) string {
		return n.standIn(key, func(i int) string {
			raw := strings.ToUpper(fakeHex(i, 30))
			return raw[0:6] + "-" + raw[6:12] + "-" + raw[12:18] + "-" + raw[18:24] + "-" + raw[24:30] + "-V3"
		})
	})
	return timePattern.ReplaceAllStringFunc(s, func(ts string) string {
		at, err := time.Parse("2006-01-02T15:04:05.000Z", ts)
		if err != nil {
			return ts
		}
		hours := at.Sub(n.start) / time.Hour
		return exampleEpoch.Add(hours * time.Hour).Format("2006-01-02T15:04:05.000Z")
	})
}

// document turns a JSON body into a YAML node in the body's own key order,
// normalized; a body that is not JSON (uploaded bytes) stays a string.
func (n *normalizer) document(t *testing.T, body string) *yaml.Node {
	t.Helper()
	if !json.Valid([]byte(body)) {
		return scalar(body)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	node, err := n.node(dec)
	if err != nil {
		t.Fatalf("%v in %s", err, body)
	}
	return node
}

func (n *normalizer) node(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		node := &yaml.Node{Kind: yaml.MappingNode}
		if v == '[' {
			node.Kind = yaml.SequenceNode
		}
		for dec.More() {
			if node.Kind == yaml.MappingNode {
				key, err := dec.Token()
				if err != nil {
					return nil, err
				}
				node.Content = append(node.Content, scalar(key.(string)))
			}
			child, err := n.node(dec)
			if err != nil {
				return nil, err
			}
			node.Content = append(node.Content, child)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		if len(node.Content) == 0 {
			node.Style = yaml.FlowStyle
		}
		return node, nil
	case string:
		node := scalar(n.text(v))
		if strings.Contains(node.Value, "\n") {
			node.Style = yaml.LiteralStyle
		}
		return node, nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(v.String(), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v.String()}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, io.ErrUnexpectedEOF
}
