package httpapi

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/httpsig"
)

// sign buffers the response (errors included) and signs it with the
// account's key as Keygen does: Date, Digest and Keygen-Signature over
// "(request-target) host date digest", with the Host header exactly as
// received so clients on any port verify it. Without a
// Keygen-Accept-Signature header the signature is Ed25519; the header picks
// another of Keygen's algorithms, and a bad one is a 400 before the action
// runs, answered without a signature (with Date and Digest only for a
// foreign keyid), as Keygen answers.
func (s *Server) sign(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		res := c.Response()
		original := res.Writer
		buf := &bufferedWriter{header: original.Header(), status: http.StatusOK, body: *bodies.Get().(*[]byte)}
		defer buf.release()
		res.Writer = buf
		req, t := c.Request(), tenantOf(c)
		accept, acceptErr := httpsig.Accept{}, error(nil)
		if h := req.Header.Get("Keygen-Accept-Signature"); h != "" {
			accept, acceptErr = httpsig.ParseAccept(h, t.ID)
		}
		func() {
			defer recoverInto(&err)
			if acceptErr != nil {
				err = apperr.AtHeader(apperr.Invalid, "ACCEPT_SIGNATURE_INVALID", acceptErr.Error(), "Keygen-Accept-Signature")
				return
			}
			err = next(c)
		}()
		if err != nil {
			c.Error(err)
		}
		res.Writer = original
		h := original.Header()
		h.Set("Keygen-Account", t.ID)
		switch {
		case acceptErr == nil && accept.Algorithm == "":
			date, digest, signature := Signature(t, req.Method, req.RequestURI, req.Host, buf.body, time.Now())
			h.Set("Date", date)
			h.Set("Digest", digest)
			h.Set("Keygen-Signature", signature)
		case acceptErr == nil || errors.Is(acceptErr, httpsig.ErrKeyID):
			date, digest := DateDigest(buf.body, time.Now())
			h.Set("Date", date)
			h.Set("Digest", digest)
			if acceptErr == nil {
				if signature, serr := s.signatureWith(req.Context(), t, accept.Algorithm, SigningString(req.Method, req.RequestURI, req.Host, date, digest)); serr == nil {
					h.Set("Keygen-Signature", signature)
				} else {
					s.Logger.Error("response signature", "algorithm", accept.Algorithm, "error", serr)
				}
			}
		}
		original.WriteHeader(buf.status)
		_, werr := original.Write(buf.body)
		return werr
	}
}

// Signature computes the Date, Digest and Ed25519 Keygen-Signature header
// values of a response to method target on host: the default, hot path.
func Signature(t *account.Tenant, method, target, host string, body []byte, now time.Time) (date, digest, signature string) {
	date, digest = DateDigest(body, now)
	message := SigningString(method, target, host, date, digest)
	sig := ed25519.Sign(t.Keys.Signing, []byte(message))
	signature = fmt.Sprintf(`keyid="%s", algorithm="ed25519", signature="%s", headers="(request-target) host date digest"`,
		t.ID, base64.StdEncoding.EncodeToString(sig))
	return date, digest, signature
}

// DateDigest computes the Date and Digest header values of a body.
func DateDigest(body []byte, now time.Time) (date, digest string) {
	sum := sha256.Sum256(body)
	return now.UTC().Format(http.TimeFormat), "sha-256=" + base64.StdEncoding.EncodeToString(sum[:])
}

// signatureWith signs message with the account key algorithm (one of
// httpsig.Algorithms, any case) needs and renders the Keygen-Signature
// header, naming the algorithm as asked.
func (s *Server) signatureWith(ctx context.Context, t *account.Tenant, algorithm, message string) (string, error) {
	return SignatureWith(ctx, s.Accounts, t, algorithm, message)
}

// AccountKeys gives an account's lazily made RSA and ECDSA keys.
type AccountKeys interface {
	RSAKey(ctx context.Context, t *account.Tenant) (*rsa.PrivateKey, error)
	ECDSAKey(ctx context.Context, t *account.Tenant) (*ecdsa.PrivateKey, error)
}

// SignatureWith signs message by algorithm with the account's key for it
// and renders the Keygen-Signature header value.
func SignatureWith(ctx context.Context, keys AccountKeys, t *account.Tenant, algorithm, message string) (string, error) {
	key, err := signingKey(ctx, keys, t, algorithm)
	if err != nil {
		return "", err
	}
	sig, err := httpsig.Sign(algorithm, key, []byte(message))
	if err != nil {
		return "", err
	}
	return httpsig.Header(t.ID, algorithm, sig), nil
}

// signingKey is the account's key that algorithm signs with.
func signingKey(ctx context.Context, keys AccountKeys, t *account.Tenant, algorithm string) (crypto.Signer, error) {
	kind, ok := httpsig.KeyOf(algorithm)
	if !ok {
		return nil, httpsig.ErrUnsupported
	}
	switch kind {
	case httpsig.KeyRSA:
		return keys.RSAKey(ctx, t)
	case httpsig.KeyECDSA:
		return keys.ECDSAKey(ctx, t)
	}
	return t.Keys.Signing, nil
}

// SigningString is the message a response signature covers.
func SigningString(method, target, host, date, digest string) string {
	return "(request-target): " + strings.ToLower(method) + " " + target + "\nhost: " + host + "\ndate: " + date + "\ndigest: " + digest
}

// bodies are sign's response buffers: most documents fit in 8 KB, and a
// buffer is free again once the response is written.
var bodies = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// bufferedWriter holds a response until it is signed.
type bufferedWriter struct {
	header http.Header
	status int
	body   []byte
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.body = append(b.body, p...)
	return len(p), nil
}
func (b *bufferedWriter) WriteHeader(status int) { b.status = status }

// appendBody lets add write to the body in place, as render does; what add
// appended before failing is dropped.
func (b *bufferedWriter) appendBody(add func(dst []byte) ([]byte, error)) (int, error) {
	n := len(b.body)
	out, err := add(b.body)
	if err != nil {
		b.body = b.body[:n]
		return 0, err
	}
	b.body = out
	return len(out) - n, nil
}

// release returns the body to the pool unless a large response grew it.
func (b *bufferedWriter) release() {
	if cap(b.body) <= 64<<10 {
		body := b.body[:0]
		bodies.Put(&body)
	}
	b.body = nil
}
