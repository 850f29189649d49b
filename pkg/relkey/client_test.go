package relkey_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/pkg/relkey"
)

// fake is a Keygen-like server whose answers a test scripts; it signs them
// with relkey's own signer unless unsigned, and records the requests.
type fake struct {
	t        *testing.T
	srv      *httptest.Server
	key      ed25519.PrivateKey
	mu       sync.Mutex
	requests []recorded
	answer   func(n int, r *http.Request, body []byte) answer
	// at is the time the server signs at; zero is the time of each request.
	at time.Time
}

type recorded struct {
	method, uri, auth string
	body              []byte
}

type answer struct {
	status   int
	header   http.Header
	body     string
	unsigned bool
	tamper   bool // sign one body, send another
}

func newFake(t *testing.T, answer func(n int, r *http.Request, body []byte) answer) *fake {
	return newFakeAt(t, time.Time{}, answer)
}

func newFakeAt(t *testing.T, at time.Time, answer func(n int, r *http.Request, body []byte) answer) *fake {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	f := &fake{t: t, key: key, answer: answer, at: at}
	tenant := &account.Tenant{Account: &account.Account{ID: "acct"}, Keys: account.Keys{Signing: key}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		n := len(f.requests)
		f.requests = append(f.requests, recorded{method: r.Method, uri: r.RequestURI, auth: r.Header.Get("Authorization"), body: body})
		f.mu.Unlock()
		a := f.answer(n, r, body)
		for k, vs := range a.header {
			w.Header()[k] = vs
		}
		if !a.unsigned {
			at := f.at
			if at.IsZero() {
				at = time.Now()
			}
			date, digest, sig := httpapi.Signature(tenant, r.Method, r.RequestURI, r.Host, []byte(a.body), at)
			w.Header().Set("Date", date)
			w.Header().Set("Digest", digest)
			w.Header().Set("Keygen-Signature", sig)
		}
		if a.status == 0 {
			a.status = http.StatusOK
		}
		w.WriteHeader(a.status)
		if a.tamper {
			a.body += " "
		}
		io.WriteString(w, a.body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) public() ed25519.PublicKey { return f.key.Public().(ed25519.PublicKey) }

func (f *fake) recorded() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

// sleeps records the waits of a client instead of waiting.
type sleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func (f *fake) client(t *testing.T, opts ...relkey.Option) *relkey.Client {
	t.Helper()
	c, err := relkey.New(f.srv.URL, "acct", append([]relkey.Option{relkey.WithToken("admin-token"), relkey.WithPublicKey(f.public())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const productDoc = `{"data":{"type":"products","id":"p1","attributes":{"name":"App","code":"app","created":"2026-01-02T03:04:05.000Z"}}}`

func TestRetriesHonourRetryAfterWithinBounds(t *testing.T) {
	clock := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	refused := func(status int, retryAfter string) answer {
		a := answer{status: status, body: `{"errors":[{"title":"Busy","detail":"try later","code":"BUSY"}]}`, header: http.Header{}}
		if retryAfter != "" {
			a.header.Set("Retry-After", retryAfter)
		}
		return a
	}
	cases := []struct {
		name      string
		refusals  []answer // answered before the product
		wantWaits []time.Duration
		wantCode  string // the error when the client gives up
	}{
		{"429 with seconds", []answer{refused(429, "2")}, []time.Duration{2 * time.Second}, ""},
		{"503 with a date", []answer{refused(503, clock.Add(10*time.Second).Format(http.TimeFormat))}, []time.Duration{10 * time.Second}, ""},
		{"503 without Retry-After backs off", []answer{refused(503, ""), refused(503, "")}, []time.Duration{time.Second, 2 * time.Second}, ""},
		{"a wait beyond the bound is not waited", []answer{refused(429, "120")}, nil, "BUSY"},
		{"retries are bounded", []answer{refused(503, "1"), refused(503, "1"), refused(503, "1"), refused(503, "1")}, []time.Duration{time.Second, time.Second, time.Second}, "BUSY"},
		{"other statuses are not retried", []answer{refused(500, "1")}, nil, "BUSY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAt(t, clock, func(n int, r *http.Request, body []byte) answer {
				if n < len(tc.refusals) {
					return tc.refusals[n]
				}
				return answer{status: 201, body: productDoc}
			})
			s := &sleeps{}
			c := f.client(t, relkey.WithSleep(s.sleep), relkey.WithClock(func() time.Time { return clock }), relkey.WithRetries(3, 30*time.Second))
			p, err := c.Products.Create(context.Background(), relkey.ProductAttributes{Name: "App"})
			if !reflect.DeepEqual(s.waits, tc.wantWaits) {
				t.Fatalf("waits %v, want %v", s.waits, tc.wantWaits)
			}
			if tc.wantCode != "" {
				if relkey.ErrorCode(err) != tc.wantCode || p != nil {
					t.Fatalf("got %v, %v; want error %s", p, err, tc.wantCode)
				}
				return
			}
			if err != nil || p.Name != "App" || p.ID != "p1" {
				t.Fatalf("got %+v, %v", p, err)
			}
			reqs := f.recorded()
			if len(reqs) != len(tc.refusals)+1 {
				t.Fatalf("%d requests, want %d", len(reqs), len(tc.refusals)+1)
			}
			for _, r := range reqs {
				if !bytes.Equal(r.body, reqs[0].body) || r.auth != "Bearer admin-token" {
					t.Fatalf("a retry sent %q (%s), the first %q", r.body, r.auth, reqs[0].body)
				}
			}
		})
	}
}

func TestRetryWaitEndsWithTheContext(t *testing.T) {
	f := newFake(t, func(int, *http.Request, []byte) answer {
		return answer{status: 503, header: http.Header{"Retry-After": {"5"}}, body: `{"errors":[{"code":"UNAVAILABLE"}]}`}
	})
	// The default sleeper: the deadline ends the 5 s wait.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := f.client(t).Products.Get(ctx, "p1")
	if !errors.Is(err, context.DeadlineExceeded) || len(f.recorded()) != 1 || time.Since(start) > 4*time.Second {
		t.Fatalf("got %v after %d requests and %s, want the deadline after 1", err, len(f.recorded()), time.Since(start))
	}
}

func TestResponseSignatures(t *testing.T) {
	cases := []struct {
		name    string
		answer  answer
		clock   time.Duration // the client's clock, ahead of the server's
		noKey   bool
		wantSig bool   // ErrSignatureInvalid
		wantAPI string // an API error code
	}{
		{name: "signed", answer: answer{body: productDoc}},
		{name: "tampered body", answer: answer{body: productDoc, tamper: true}, wantSig: true},
		{name: "unsigned success", answer: answer{body: productDoc, unsigned: true}, wantSig: true},
		{name: "stale date", answer: answer{body: productDoc}, clock: 6 * time.Minute, wantSig: true},
		{name: "without a key nothing is checked", answer: answer{body: productDoc, unsigned: true}, noKey: true},
		{name: "unsigned error is still an error", answer: answer{status: 404, unsigned: true, body: `{"errors":[{"code":"NOT_FOUND","detail":"gone"}]}`}, wantAPI: "NOT_FOUND"},
		{name: "signed error is verified", answer: answer{status: 404, tamper: true, body: `{"errors":[{"code":"NOT_FOUND"}]}`}, wantSig: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(int, *http.Request, []byte) answer { return tc.answer })
			opts := []relkey.Option{relkey.WithClock(func() time.Time { return time.Now().Add(tc.clock) })}
			if tc.noKey {
				opts = append(opts, relkey.WithPublicKey(nil))
			}
			p, err := f.client(t, opts...).Products.Get(context.Background(), "app")
			switch {
			case tc.wantSig:
				if !errors.Is(err, relkey.ErrSignatureInvalid) {
					t.Fatalf("got %v, %v; want ErrSignatureInvalid", p, err)
				}
			case tc.wantAPI != "":
				if relkey.ErrorCode(err) != tc.wantAPI || errors.Is(err, relkey.ErrSignatureInvalid) {
					t.Fatalf("got %v; want API error %s", err, tc.wantAPI)
				}
			case err != nil || p.Name != "App":
				t.Fatalf("got %+v, %v", p, err)
			}
		})
	}
	t.Run("another account's key", func(t *testing.T) {
		f := newFake(t, func(int, *http.Request, []byte) answer { return answer{body: productDoc} })
		other, _, _ := ed25519.GenerateKey(rand.Reader)
		if _, err := f.client(t, relkey.WithPublicKey(other)).Products.Get(context.Background(), "app"); !errors.Is(err, relkey.ErrSignatureInvalid) {
			t.Fatalf("got %v, want ErrSignatureInvalid", err)
		}
	})
}

func TestErrorsCarryCodeDetailAndSource(t *testing.T) {
	f := newFake(t, func(n int, r *http.Request, body []byte) answer {
		if n == 0 {
			return answer{status: 422, body: `{"errors":[{"title":"Unprocessable resource","detail":"has already been taken","code":"CODE_TAKEN","source":{"pointer":"/data/attributes/code"}},{"title":"x","code":"SECOND"}]}`}
		}
		return answer{status: 502, unsigned: true, body: "<html>bad gateway</html>"}
	})
	c := f.client(t)
	_, err := c.Products.Create(context.Background(), relkey.ProductAttributes{Name: "Dup", Code: relkey.String("app")})
	var apiErr *relkey.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 422 || apiErr.Code != "CODE_TAKEN" || apiErr.Detail != "has already been taken" ||
		apiErr.Source.Pointer != "/data/attributes/code" || len(apiErr.All) != 2 || apiErr.All[1].Code != "SECOND" {
		t.Fatalf("got %#v", err)
	}
	if got := err.Error(); got != "relkey: 422 CODE_TAKEN: has already been taken (pointer /data/attributes/code)" {
		t.Fatalf("message %q", got)
	}
	_, err = c.Products.Get(context.Background(), "app")
	if !errors.As(err, &apiErr) || apiErr.Status != 502 || apiErr.Title != "Bad Gateway" || apiErr.Detail != "<html>bad gateway</html>" || relkey.ErrorStatus(err) != 502 {
		t.Fatalf("proxy page: %#v", err)
	}
}

func TestRequestDocuments(t *testing.T) {
	f := newFake(t, func(n int, r *http.Request, body []byte) answer {
		return answer{status: 201, body: `{"data":{"type":"licenses","id":"l1","attributes":{"key":"K-1","status":"ACTIVE","maxMachines":3,"expiry":null},` +
			`"relationships":{"policy":{"data":{"type":"policies","id":"pol1"}},"user":{"data":{"type":"users","id":"u1"}},"product":{"data":{"type":"products","id":"p1"}}}}}`}
	})
	c := f.client(t)
	ctx := context.Background()
	l, err := c.Licenses.Create(ctx, relkey.LicenseAttributes{PolicyID: "pol1", OwnerID: "u1", Key: "K-1", MaxMachines: relkey.Int(3)})
	if err != nil {
		t.Fatal(err)
	}
	// Read back: the owner from the pre-1.6 "user" relationship too.
	if l.ID != "l1" || l.Key != "K-1" || l.PolicyID != "pol1" || l.OwnerID != "u1" || l.ProductID() != "p1" || *l.MaxMachines != 3 || l.Status != "ACTIVE" || l.Expiry != nil {
		t.Fatalf("decoded %+v", l)
	}
	if !strings.Contains(string(l.Raw), `"status":"ACTIVE"`) {
		t.Fatalf("raw attributes %s", l.Raw)
	}
	if _, err := c.Licenses.Update(ctx, "l1", relkey.LicenseAttributes{PolicyID: "ignored", Name: relkey.String("renamed")}); err != nil {
		t.Fatal(err)
	}
	if err := c.Policies.AttachEntitlements(ctx, "pol1", "e1", "e2"); err != nil {
		t.Fatal(err)
	}
	if err := c.Releases.AttachConstraints(ctx, "r1", "e1"); err != nil {
		t.Fatal(err)
	}
	want := []struct{ method, uri, body string }{
		{"POST", "/v1/accounts/acct/licenses", `{"data":{"attributes":{"key":"K-1","maxMachines":3},"relationships":{"owner":{"data":{"type":"users","id":"u1"}},"policy":{"data":{"type":"policies","id":"pol1"}}},"type":"licenses"}}`},
		{"PATCH", "/v1/accounts/acct/licenses/l1", `{"data":{"attributes":{"name":"renamed"},"type":"licenses"}}`},
		{"POST", "/v1/accounts/acct/policies/pol1/entitlements", `{"data":[{"type":"entitlements","id":"e1"},{"type":"entitlements","id":"e2"}]}`},
		{"POST", "/v1/accounts/acct/releases/r1/constraints", `{"data":[{"relationships":{"entitlement":{"data":{"type":"entitlements","id":"e1"}}},"type":"constraints"}]}`},
	}
	got := f.recorded()
	for i, w := range want {
		if got[i].method != w.method || got[i].uri != w.uri || string(got[i].body) != w.body {
			t.Errorf("request %d: %s %s %s\nwant %s %s %s", i, got[i].method, got[i].uri, got[i].body, w.method, w.uri, w.body)
		}
	}
}

func TestKeysAndRefsAreEscapedInPaths(t *testing.T) {
	f := newFake(t, func(int, *http.Request, []byte) answer { return answer{body: productDoc} })
	f.client(t).Licenses.Get(context.Background(), "key/abc+def==.sig")
	if uri := f.recorded()[0].uri; uri != "/v1/accounts/acct/licenses/key%2Fabc+def==.sig" {
		t.Fatalf("requested %s", uri)
	}
}

// listServer serves n products in pages as Keygen does: page numbers up to
// 100, then cursors (the id after which the page starts).
func listServer(t *testing.T, n int) *fake {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`{"type":"products","id":"p%03d","attributes":{"name":"Product %d"}}`, i, i)
	}
	return newFake(t, func(_ int, r *http.Request, _ []byte) answer {
		q := r.URL.Query()
		size, _ := strconv.Atoi(q.Get("page[size]"))
		start := 0
		var next string
		if cursor := q.Get("page[cursor]"); cursor != "" {
			n, _ := strconv.Atoi(strings.TrimPrefix(cursor, "p"))
			start = n + 1
			if start+size < len(items) {
				next = fmt.Sprintf("/v1/accounts/acct/products?page[cursor]=p%03d&page[size]=%d", start+size-1, size)
			}
		} else {
			number, _ := strconv.Atoi(q.Get("page[number]"))
			if number > 100 {
				return answer{status: 400, body: `{"errors":[{"code":"PAGE_INVALID"}]}`}
			}
			start = (number - 1) * size
			if start+size < len(items) {
				next = fmt.Sprintf("/v1/accounts/acct/products?page[number]=%d&page[size]=%d", number+1, size)
			}
		}
		end := min(start+size, len(items))
		links, _ := json.Marshal(map[string]any{"next": next, "meta": map[string]int{"count": len(items)}})
		return answer{body: `{"data":[` + strings.Join(items[start:end], ",") + `],"links":` + string(links) + `}`}
	})
}

func TestAllFollowsPagesThenCursors(t *testing.T) {
	f := listServer(t, 205)
	c := f.client(t)
	var names []string
	for p, err := range c.Products.All(context.Background(), relkey.ListOptions{PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, p.Name)
	}
	if len(names) != 205 || names[0] != "Product 0" || names[204] != "Product 204" {
		t.Fatalf("got %d items: first %v last %v", len(names), names[:1], names[len(names)-1:])
	}
	reqs := f.recorded()
	if reqs[100].uri != "/v1/accounts/acct/products?page%5Bcursor%5D=p199&page%5Bsize%5D=2" {
		t.Fatalf("after page 100 requested %s", reqs[100].uri)
	}
	page, err := c.Products.List(context.Background(), relkey.ListOptions{PageSize: 100, Filter: map[string][]string{"code": {"x"}}})
	if err != nil || page.Total != 205 || len(page.Items) != 100 || page.Links.Next == "" {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	if uri := f.recorded()[len(f.recorded())-1].uri; uri != "/v1/accounts/acct/products?code=x&page%5Bnumber%5D=1&page%5Bsize%5D=100" {
		t.Fatalf("list requested %s", uri)
	}
}

func TestAllStopsAtTheFirstError(t *testing.T) {
	f := newFake(t, func(n int, _ *http.Request, _ []byte) answer {
		if n == 0 {
			return answer{body: `{"data":[{"type":"products","id":"a","attributes":{}}],"links":{"next":"/v1/accounts/acct/products?page[number]=2&page[size]=1"}}`}
		}
		return answer{status: 500, body: `{"errors":[{"code":"BOOM"}]}`}
	})
	var got []string
	for p, err := range f.client(t).Products.All(context.Background(), relkey.ListOptions{PageSize: 1}) {
		if err != nil {
			got = append(got, relkey.ErrorCode(err))
			continue
		}
		got = append(got, p.ID)
	}
	if !reflect.DeepEqual(got, []string{"a", "BOOM"}) {
		t.Fatalf("yielded %v", got)
	}
}

func TestUploadAndDownloadFollowPresignedURLs(t *testing.T) {
	const artifactDoc = `{"data":{"type":"artifacts","id":"a1","attributes":{"filename":"app.zip","status":"WAITING"},"relationships":{"release":{"data":{"type":"releases","id":"r1"}}}}}`
	var stored []byte
	var f *fake
	f = newFake(t, func(_ int, r *http.Request, body []byte) answer {
		switch {
		case r.Method == "POST" && r.URL.Path == "/v1/accounts/acct/artifacts":
			return answer{status: 307, header: http.Header{"Location": {f.srv.URL + "/storage/app.zip?sig=put"}}, body: artifactDoc}
		case r.Method == "PUT" && r.URL.Path == "/storage/app.zip":
			stored = body
			return answer{unsigned: true}
		case r.Method == "GET" && r.URL.Path == "/v1/accounts/acct/artifacts/app.zip":
			return answer{status: 303, header: http.Header{"Location": {"/storage/app.zip?sig=get"}}, body: artifactDoc}
		case r.Method == "GET" && r.URL.Path == "/storage/app.zip":
			return answer{unsigned: true, body: string(stored)}
		}
		return answer{status: 404, body: `{"errors":[{"code":"NOT_FOUND"}]}`}
	})
	c := f.client(t)
	ctx := context.Background()
	a, err := c.Artifacts.Upload(ctx, relkey.ArtifactAttributes{ReleaseID: "r1", Filename: "app.zip"}, strings.NewReader("the bytes"), 9)
	if err != nil || a.ID != "a1" || a.ReleaseID != "r1" || string(stored) != "the bytes" {
		t.Fatalf("upload: %+v, %v, stored %q", a, err, stored)
	}
	d, err := c.Artifacts.Download(ctx, "app.zip", map[string][]string{"release": {"r1"}})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(d.Body)
	d.Body.Close()
	if d.Artifact.Filename != "app.zip" || string(data) != "the bytes" || d.Size != 9 {
		t.Fatalf("download: %+v %q (%d bytes)", d.Artifact, data, d.Size)
	}
	reqs := f.recorded()
	want := []recorded{
		{method: "POST", uri: "/v1/accounts/acct/artifacts", auth: "Bearer admin-token"},
		{method: "PUT", uri: "/storage/app.zip?sig=put"},
		{method: "GET", uri: "/v1/accounts/acct/artifacts/app.zip?release=r1", auth: "Bearer admin-token"},
		{method: "GET", uri: "/storage/app.zip?sig=get"},
	}
	for i, w := range want {
		if reqs[i].method != w.method || reqs[i].uri != w.uri || reqs[i].auth != w.auth {
			t.Errorf("request %d: %s %s (auth %q), want %s %s (auth %q)", i, reqs[i].method, reqs[i].uri, reqs[i].auth, w.method, w.uri, w.auth)
		}
	}
	if !strings.Contains(string(reqs[0].body), `"filesize":9`) {
		t.Errorf("the artifact was created without its size: %s", reqs[0].body)
	}
}
