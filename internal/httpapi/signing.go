package httpapi

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/relkey/relkey/internal/account"
)

// sign buffers the response (errors included) and signs it with the
// account's Ed25519 key as Keygen does: Date, Digest and Keygen-Signature
// over "(request-target) host date digest", with the Host header exactly as
// received so clients on any port verify it.
func (s *Server) sign(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		res := c.Response()
		original := res.Writer
		buf := &bufferedWriter{header: original.Header(), status: http.StatusOK}
		res.Writer = buf
		func() {
			defer recoverInto(&err)
			err = next(c)
		}()
		if err != nil {
			c.Error(err)
		}
		res.Writer = original
		req, t := c.Request(), tenantOf(c)
		date, digest, signature := Signature(t, req.Method, req.RequestURI, req.Host, buf.body.Bytes(), time.Now())
		h := original.Header()
		h.Set("Date", date)
		h.Set("Digest", digest)
		h.Set("Keygen-Signature", signature)
		h.Set("Keygen-Account", t.ID)
		original.WriteHeader(buf.status)
		_, werr := original.Write(buf.body.Bytes())
		return werr
	}
}

// Signature computes the Date, Digest and Keygen-Signature header values of
// a response to method target on host.
func Signature(t *account.Tenant, method, target, host string, body []byte, now time.Time) (date, digest, signature string) {
	sum := sha256.Sum256(body)
	digest = "sha-256=" + base64.StdEncoding.EncodeToString(sum[:])
	date = now.UTC().Format(http.TimeFormat)
	message := SigningString(method, target, host, date, digest)
	sig := ed25519.Sign(t.Keys.Signing, []byte(message))
	signature = fmt.Sprintf(`keyid="%s", algorithm="ed25519", signature="%s", headers="(request-target) host date digest"`,
		t.ID, base64.StdEncoding.EncodeToString(sig))
	return date, digest, signature
}

// SigningString is the message a response signature covers.
func SigningString(method, target, host, date, digest string) string {
	return "(request-target): " + strings.ToLower(method) + " " + target + "\nhost: " + host + "\ndate: " + date + "\ndigest: " + digest
}

type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedWriter) WriteHeader(status int)      { b.status = status }
