package httpapi

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/account"
)

func TestPanicsBecomeSigned500s(t *testing.T) {
	var logs bytes.Buffer
	s := New(Deps{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	pub, priv, _ := ed25519.GenerateKey(nil)
	tenant := &account.Tenant{Account: &account.Account{ID: "acct-1"}, Keys: account.Keys{Signing: priv}}
	withTenant := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { c.Set(ctxTenant, tenant); return next(c) }
	}
	boom := func(echo.Context) error { panic("secret internal detail") }
	s.echo.GET("/boom", boom)
	s.echo.GET("/signed-boom", boom, withTenant, s.sign)

	for _, path := range []string{"/boom", "/signed-boom"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, path+"?x=1", nil)
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != 500 {
			t.Fatalf("%s: status %d", path, rec.Code)
		}
		var doc errorDocument
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Errors[0].Code != "INTERNAL_SERVER_ERROR" || doc.Errors[0].Detail != "An unexpected error occurred" ||
			strings.Contains(rec.Body.String(), "secret internal detail") {
			t.Fatalf("%s: body leaks or is wrong: %s", path, rec.Body)
		}
		rid := rec.Header().Get("X-Request-Id")
		if doc.Meta["id"] != rid || !regexp.MustCompile(`"request_id":"`+rid+`".*secret internal detail`).MatchString(logs.String()) {
			t.Fatalf("%s: panic not logged with request id %s: %s", path, rid, logs.String())
		}
		if path == "/signed-boom" {
			sum := sha256.Sum256(rec.Body.Bytes())
			digest := "sha-256=" + base64.StdEncoding.EncodeToString(sum[:])
			sig := regexp.MustCompile(`signature="([^"]+)"`).FindStringSubmatch(rec.Header().Get("Keygen-Signature"))
			raw, _ := base64.StdEncoding.DecodeString(sig[1])
			msg := SigningString("GET", path+"?x=1", req.Host, rec.Header().Get("Date"), digest)
			if rec.Header().Get("Digest") != digest || !ed25519.Verify(pub, []byte(msg), raw) {
				t.Fatal("the 500 is not signed correctly")
			}
		}
	}
}

func TestSigningStringMatchesKeygen(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	tenant := &account.Tenant{Account: &account.Account{ID: "a"}, Keys: account.Keys{Signing: priv}}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	date, digest, signature := Signature(tenant, "DELETE", "/v1/machines/x?y=1", "127.0.0.1:8765", nil, at)
	if date != "Fri, 02 Jan 2026 03:04:05 GMT" || digest != "sha-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" {
		t.Fatalf("date %q digest %q", date, digest)
	}
	want := "(request-target): delete /v1/machines/x?y=1\nhost: 127.0.0.1:8765\ndate: " + date + "\ndigest: " + digest
	if got := SigningString("DELETE", "/v1/machines/x?y=1", "127.0.0.1:8765", date, digest); got != want {
		t.Fatalf("signing string:\n%s\nwant:\n%s", got, want)
	}
	if !regexp.MustCompile(`^keyid="a", algorithm="ed25519", signature="[A-Za-z0-9+/]+=*", headers="\(request-target\) host date digest"$`).MatchString(signature) {
		t.Fatalf("Keygen-Signature = %s", signature)
	}
}
