package relkey

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrSignatureInvalid is the error (wrapped) of a response whose signature
// is missing, stale or does not verify with the account's public key.
var ErrSignatureInvalid = errors.New("relkey: response signature is invalid")

// MaxSignatureAge is how far a signed response's Date may be from the
// client's clock.
const MaxSignatureAge = 5 * time.Minute

// verify checks a response's signature when the client has a public key.
// Error responses are verified when signed; unsigned ones are still
// errors, so nothing forged is ever accepted.
func (c *Client) verify(req *http.Request, res *Response) error {
	if c.publicKey == nil || res.Status >= 400 && res.Header.Get("Keygen-Signature") == "" {
		return nil
	}
	if err := VerifySignature(c.publicKey, req, res.Header, res.Body, c.now()); err != nil {
		return fmt.Errorf("%w: %s %s: %v", ErrSignatureInvalid, req.Method, req.URL.Path, err)
	}
	return nil
}

// VerifySignature checks a response to req the way Keygen's SDKs do: the
// Digest header is the SHA-256 of body, Date is within MaxSignatureAge of
// now, and Keygen-Signature is an Ed25519 signature by pub over
// "(request-target): <method> <path?query>\nhost: <host>\ndate: <date>\ndigest: <digest>".
func VerifySignature(pub ed25519.PublicKey, req *http.Request, header http.Header, body []byte, now time.Time) error {
	sum := sha256.Sum256(body)
	digest := "sha-256=" + base64.StdEncoding.EncodeToString(sum[:])
	if got := header.Get("Digest"); got != digest {
		return fmt.Errorf("digest header %q, want %q", got, digest)
	}
	date := header.Get("Date")
	at, err := http.ParseTime(date)
	if err != nil {
		return fmt.Errorf("date header %q: %v", date, err)
	}
	if skew := now.Sub(at); skew > MaxSignatureAge || skew < -MaxSignatureAge {
		return fmt.Errorf("date header %q is %s from now", date, skew.Round(time.Second))
	}
	params := map[string]string{}
	for _, param := range strings.Split(header.Get("Keygen-Signature"), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(param), "=")
		if !ok {
			return fmt.Errorf("signature parameter without '=': %q", param)
		}
		params[k] = strings.Trim(v, `"`)
	}
	if alg := params["algorithm"]; alg != "ed25519" {
		return fmt.Errorf("signature algorithm %q, want ed25519", alg)
	}
	sig, err := base64.StdEncoding.DecodeString(params["signature"])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("signature %q is not a base64 Ed25519 signature", params["signature"])
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	message := "(request-target): " + strings.ToLower(req.Method) + " " + req.URL.RequestURI() +
		"\nhost: " + host + "\ndate: " + date + "\ndigest: " + digest
	if !ed25519.Verify(pub, []byte(message), sig) {
		return errors.New("signature does not verify with the public key")
	}
	return nil
}
