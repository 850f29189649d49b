package testenv

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// VerifySignature checks a response's Digest, Date and Keygen-Signature the
// way keygen-go's verifier does: the signed message covers the lower-case
// method, the request's escaped path and query, the host with its port, the
// Date and the Digest.
func VerifySignature(req *http.Request, header http.Header, body []byte, pub ed25519.PublicKey) error {
	sum := sha256.Sum256(body)
	digest := "sha-256=" + base64.StdEncoding.EncodeToString(sum[:])
	if got := header.Get("Digest"); got != digest {
		return fmt.Errorf("digest header %q, want %q", got, digest)
	}
	date := header.Get("Date")
	at, err := time.Parse(time.RFC1123, date)
	if err != nil {
		return fmt.Errorf("date header %q: %v", date, err)
	}
	if time.Since(at) > 5*time.Minute {
		return fmt.Errorf("date header %q is too old", date)
	}
	var signature string
	for _, param := range strings.Split(header.Get("Keygen-Signature"), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(param), "=")
		if !ok {
			return fmt.Errorf("signature parameter without '=': %q", param)
		}
		if k == "signature" {
			signature = strings.Trim(v, `"`)
		}
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || signature == "" {
		return fmt.Errorf("signature %q is not base64", signature)
	}
	target := req.URL.EscapedPath()
	if req.URL.RawQuery != "" {
		target += "?" + req.URL.RawQuery
	}
	message := "(request-target): " + strings.ToLower(req.Method) + " " + target + "\nhost: " + req.URL.Host +
		"\ndate: " + date + "\ndigest: " + digest
	if !ed25519.Verify(pub, []byte(message), sig) {
		return fmt.Errorf("signature of %s %s does not verify", req.Method, target)
	}
	return nil
}
