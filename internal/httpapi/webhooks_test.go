package httpapi_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/httpsig"
	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/internal/webhook"
)

// received is one delivery as the receiver saw it.
type received struct {
	event, resourceID, idempotencyToken, webhookEventID string
}

// receiver is a webhook endpoint: it verifies each delivery's signature
// with the account's public key and answers with the code reply gives for
// the n-th request (from 0).
type receiver struct {
	t   testing.TB
	srv *httptest.Server
	pub ed25519.PublicKey
	// keys, when set, verify whichever algorithm the delivery names.
	keys       *accountKeys
	signedWith []string
	reply      func(n int) int
	// hold, when not nil, is waited on before answering; entered, when not
	// nil, hears of each request that waits.
	hold, entered chan struct{}

	mu  sync.Mutex
	got []received
}

var (
	signatureField = regexp.MustCompile(`signature="([^"]+)"`)
	algorithmField = regexp.MustCompile(`algorithm="([^"]+)"`)
)

func (e *env) receiver(reply func(n int) int) *receiver {
	rc := &receiver{t: e.t, pub: e.publicKeyFor(e.acct.Account.ID), reply: reply}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	e.t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sum := sha256.Sum256(body)
	digest := "sha-256=" + base64.StdEncoding.EncodeToString(sum[:])
	m := signatureField.FindStringSubmatch(r.Header.Get("Keygen-Signature"))
	if r.Method != http.MethodPost || r.Header.Get("Digest") != digest || m == nil || r.Header.Get("Keygen-Version") == "" ||
		!strings.HasPrefix(r.Header.Get("User-Agent"), "Keygen/") {
		rc.t.Errorf("unsigned or malformed delivery: %s %v", r.Method, r.Header)
		return
	}
	sig, _ := base64.StdEncoding.DecodeString(m[1])
	// Keygen signs the endpoint URL's host without its port.
	host, _, _ := strings.Cut(r.Host, ":")
	algorithm, pub := "ed25519", crypto.PublicKey(rc.pub)
	if rc.keys != nil {
		algorithm = algorithmField.FindStringSubmatch(r.Header.Get("Keygen-Signature"))[1]
		pub = rc.keys.forAlgorithm(algorithm)
		rc.mu.Lock()
		rc.signedWith = append(rc.signedWith, algorithm)
		rc.mu.Unlock()
	}
	if httpsig.Verify(algorithm, pub, []byte(httpapi.SigningString("POST", r.URL.RequestURI(), host, r.Header.Get("Date"), digest)), sig) != nil {
		rc.t.Errorf("delivery signature does not verify: %v", r.Header)
	}
	var doc struct {
		Data struct {
			ID         string `json:"id"`
			Type       string `json:"type"`
			Attributes struct {
				Event   string `json:"event"`
				Payload string `json:"payload"`
			} `json:"attributes"`
			Meta struct {
				IdempotencyToken string `json:"idempotencyToken"`
			} `json:"meta"`
		} `json:"data"`
	}
	var payload struct {
		Data struct{ ID string } `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Data.Type != "webhook-events" || json.Unmarshal([]byte(doc.Data.Attributes.Payload), &payload) != nil {
		rc.t.Errorf("delivery is not a webhook-events document: %s", body)
	}
	rc.mu.Lock()
	n := len(rc.got)
	rc.got = append(rc.got, received{doc.Data.Attributes.Event, payload.Data.ID, doc.Data.Meta.IdempotencyToken, doc.Data.ID})
	rc.mu.Unlock()
	if rc.hold != nil {
		select {
		case rc.entered <- struct{}{}:
		default:
		}
		<-rc.hold
	}
	w.WriteHeader(rc.reply(n))
}

// algorithms are the signature algorithms of the deliveries so far, sorted.
func (rc *receiver) algorithms() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Sorted(slices.Values(rc.signedWith))
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func endpointBody(url, subscriptions, productID string) string {
	rel := ""
	if productID != "" {
		rel = `,"relationships":{"product":{"data":{"type":"products","id":"` + productID + `"}}}`
	}
	return `{"data":{"type":"webhook-endpoints","attributes":{"url":"` + url + `","subscriptions":` + subscriptions + `}` + rel + `}}`
}

func allowLocalWebhooks(c *config.Config) { c.WebhookAllowInsecure, c.WebhookAllowPrivate = true, true }

// deliveries makes one pass of a delivery worker on the env's clock, with
// the least jitter and a short timeout.
func (e *env) deliveries() {
	e.t.Helper()
	w := e.app.DeliveryWorker(webhook.WorkerOptions{Now: e.clock.Now, Jitter: func() int { return 1 }, Timeout: 500 * time.Millisecond})
	if err := w.Pass(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) webhookEvent(id string) map[string]any {
	e.t.Helper()
	return attrs(e.t, e.admin("GET", "/v1/accounts/acme/webhook-events/"+id, ""))
}

func TestWebhookEndpointTargets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		for _, target := range []string{"http://127.0.0.1:9/hook", "https://127.0.0.1/hook", "https://10.1.2.3/hook", "https://169.254.169.254/latest", "https://[::1]/hook", "https://localhost/hook", "ftp://example.com/x", "not a url"} {
			e.admin("POST", "/v1/accounts/acme/webhook-endpoints", endpointBody(target, `["*"]`, "")).
				expectError(t, 422, "URL_INVALID", "pointer", "/data/attributes/url")
		}
		local := newEnv(t, be, allowLocalWebhooks)
		local.admin("POST", "/v1/accounts/acme/webhook-endpoints", endpointBody("http://127.0.0.1:9/hook", `["license.nope"]`, "")).
			expectError(t, 422, "SUBSCRIPTIONS_NOT_ALLOWED", "pointer", "/data/attributes/subscriptions")
		local.admin("POST", "/v1/accounts/acme/webhook-endpoints", endpointBody("http://127.0.0.1:9/hook", `[]`, "")).
			expectError(t, 422, "SUBSCRIPTIONS_TOO_SHORT", "pointer", "/data/attributes/subscriptions")
		created := local.admin("POST", "/v1/accounts/acme/webhook-endpoints", endpointBody("http://127.0.0.1:9/hook", `["product.created","license.created","product.created"]`, ""))
		a := attrs(t, created)
		if created.status != 201 || a["signatureAlgorithm"] != "ed25519" || fmt.Sprint(a["subscriptions"]) != "[license.created product.created]" || a["apiVersion"] != webhook.APIVersion {
			t.Fatalf("create: %d %s", created.status, created.body)
		}
		id := local.id(created)
		local.admin("PATCH", "/v1/accounts/acme/webhook-endpoints/"+id, `{"data":{"type":"webhook-endpoints","attributes":{"signatureAlgorithm":"rsa-sha512"}}}`).
			expectError(t, 422, "SIGNATURE_ALGORITHM_NOT_ALLOWED", "pointer", "/data/attributes/signatureAlgorithm")
		updated := local.admin("PATCH", "/v1/accounts/acme/webhook-endpoints/"+id, `{"data":{"type":"webhook-endpoints","attributes":{"subscriptions":["*"]}}}`)
		if fmt.Sprint(attrs(t, updated)["subscriptions"]) != "[*]" {
			t.Fatalf("update: %s", updated.body)
		}
		if n := len(list(t, local.admin("GET", "/v1/accounts/acme/webhook-endpoints", ""))); n != 1 {
			t.Fatalf("%d endpoints listed, want 1", n)
		}
		if r := local.admin("DELETE", "/v1/accounts/acme/webhook-endpoints/"+id, ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		local.admin("GET", "/v1/accounts/acme/webhook-endpoints/"+id, "").expectError(t, 404, "NOT_FOUND")
		local.do("GET", "/v1/accounts/acme/webhook-endpoints", "").expectError(t, 401, "TOKEN_MISSING")
	})
}

func TestWebhookDelivery(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be, allowLocalWebhooks)
		// Fails twice, then takes everything.
		rc := e.receiver(func(n int) int {
			if n < 2 {
				return 500
			}
			return 204
		})
		e.id(e.admin("POST", "/v1/accounts/acme/webhook-endpoints", endpointBody(rc.srv.URL+"/hooks?src=relkey", `["product.created"]`, "")))
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		e.admin("PATCH", "/v1/accounts/acme/products/"+productID, `{"data":{"type":"products","attributes":{"name":"App 2"}}}`)
		e.deliveries()
		got := rc.received()
		if len(got) != 1 || got[0].event != "product.created" || got[0].resourceID != productID {
			t.Fatalf("first pass delivered %v", got)
		}
		id := got[0].webhookEventID
		ev := e.webhookEvent(id)
		if ev["status"] != "FAILING" || ev["lastResponseCode"] != 500.0 || ev["event"] != "product.created" {
			t.Fatalf("after a 500: %v", ev)
		}
		// Retry n waits n⁴ s plus the jitter: not a second before.
		e.deliveries()
		for retry := range 2 {
			e.advance(webhook.Backoff(retry, 1) - time.Second)
			e.deliveries()
			if n := len(rc.received()); n != retry+1 {
				t.Fatalf("retry %d came before its time: %d deliveries", retry, n)
			}
			e.advance(2 * time.Second)
			e.deliveries()
			if n := len(rc.received()); n != retry+2 {
				t.Fatalf("retry %d: %d deliveries, want %d", retry, n, retry+2)
			}
		}
		got = rc.received()
		if len(got) != 3 || got[2].idempotencyToken != got[0].idempotencyToken || got[2].webhookEventID != id {
			t.Fatalf("second retry: %v", got)
		}
		if ev := e.webhookEvent(id); ev["status"] != "DELIVERED" || ev["lastResponseCode"] != 204.0 {
			t.Fatalf("after a 204: %v", ev)
		}
		// The retry action delivers it once more, as a new webhook event.
		retried := e.admin("POST", "/v1/accounts/acme/webhook-events/"+id+"/actions/retry", "")
		if retried.status != 201 || data(t, retried)["id"] == id {
			t.Fatalf("retry: %d %s", retried.status, retried.body)
		}
		e.deliveries()
		got = rc.received()
		if len(got) != 4 || got[3].webhookEventID != data(t, retried)["id"] || got[3].idempotencyToken != got[0].idempotencyToken {
			t.Fatalf("retry action delivered %v", got)
		}
		listed := list(t, e.admin("GET", "/v1/accounts/acme/webhook-events?events[]=product.created&status=DELIVERED", ""))
		if len(listed) != 2 {
			t.Fatalf("%d delivered product.created events listed, want 2", len(listed))
		}
		if r := e.admin("DELETE", "/v1/accounts/acme/webhook-events/"+id, ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		e.admin("GET", "/v1/accounts/acme/webhook-events/"+id, "").expectError(t, 404, "NOT_FOUND")
	})
}

func TestWebhookFailures(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be, allowLocalWebhooks)
		failing := e.receiver(func(int) int { return 503 })
		gone := e.receiver(func(int) int { return 410 })
		slow := e.receiver(func(int) int { return 200 })
		slow.hold = make(chan struct{})
		defer close(slow.hold)
		for _, rc := range []*receiver{failing, gone, slow} {
			e.id(e.admin("POST", "/v1/accounts/acme/webhook-endpoints", endpointBody(rc.srv.URL, `["product.created"]`, "")))
		}
		e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		e.deliveries()
		// 1 attempt and 15 retries, each after its backoff, then FAILED.
		for retry := range webhook.MaxRetries {
			e.advance(webhook.Backoff(retry, 1) + time.Second)
			e.deliveries()
		}
		if n := len(failing.received()); n != webhook.MaxRetries+1 {
			t.Fatalf("failing receiver got %d attempts, want %d", n, webhook.MaxRetries+1)
		}
		if ev := e.webhookEvent(failing.received()[0].webhookEventID); ev["status"] != "FAILED" || ev["lastResponseCode"] != 503.0 {
			t.Fatalf("after the last retry: %v", ev)
		}
		e.advance(24 * time.Hour)
		e.deliveries()
		if n := len(failing.received()); n != webhook.MaxRetries+1 {
			t.Fatalf("a FAILED event was attempted again: %d attempts", n)
		}
		// 410 Gone: failed at once, and the endpoint disabled.
		if n := len(gone.received()); n != 1 {
			t.Fatalf("gone receiver got %d attempts, want 1", n)
		}
		if ev := e.webhookEvent(gone.received()[0].webhookEventID); ev["status"] != "FAILED" || ev["lastResponseCode"] != 410.0 {
			t.Fatalf("after 410: %v", ev)
		}
		// A receiver that does not answer in time: REQ_TIMEOUT, retried.
		if n := len(slow.received()); n < 2 {
			t.Fatalf("slow receiver got %d attempts, want retries", n)
		}
		if ev := e.webhookEvent(slow.received()[0].webhookEventID); ev["lastResponseBody"] != "REQ_TIMEOUT" || ev["lastResponseCode"] != nil {
			t.Fatalf("after a timeout: %v", ev)
		}
		for _, item := range list(t, e.admin("GET", "/v1/accounts/acme/webhook-endpoints", "")) {
			ep := item.(map[string]any)["attributes"].(map[string]any)
			subs := fmt.Sprint(ep["subscriptions"])
			if u, _ := url.Parse(ep["url"].(string)); "http://"+u.Host == gone.srv.URL && subs != "[]" {
				t.Fatalf("410 left the endpoint subscribed: %v", ep)
			}
		}
		e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App 2"`)))
		e.deliveries()
		if n := len(gone.received()); n != 1 {
			t.Fatalf("a disabled endpoint got %d deliveries", n)
		}
	})
}

func TestProductWebhookEndpoint(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be, allowLocalWebhooks)
		rc := e.receiver(func(int) int { return 200 })
		mine := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Mine"`)))
		other := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"Other"`)))
		r := e.admin("POST", "/v1/accounts/acme/webhook-endpoints", endpointBody(rc.srv.URL, `["*"]`, mine))
		if rel := data(t, r)["relationships"].(map[string]any)["product"].(map[string]any)["data"].(map[string]any); rel["id"] != mine {
			t.Fatalf("product relationship: %s", r.body)
		}
		for _, productID := range []string{mine, other} {
			e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"P"`)))
		}
		e.deliveries()
		got := rc.received()
		if len(got) != 1 || got[0].event != "policy.created" {
			t.Fatalf("product endpoint received %v, want only its product's policy.created", got)
		}
		e.admin("POST", "/v1/accounts/acme/webhook-endpoints", endpointBody(rc.srv.URL, `["*"]`, "00000000-0000-0000-0000-000000000000")).
			expectError(t, 404, "NOT_FOUND")
	})
}
