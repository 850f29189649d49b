package testenv

import (
	"crypto/ed25519"
	"net/http"
	"time"

	"github.com/relkey/relkey/pkg/relkey"
)

// VerifySignature checks a response's Digest, Date and Keygen-Signature the
// way keygen-go's verifier does (with the Go client's verifier): the signed
// message covers the lower-case method, the request's escaped path and
// query, the host with its port, the Date and the Digest.
func VerifySignature(req *http.Request, header http.Header, body []byte, pub ed25519.PublicKey) error {
	return relkey.VerifySignature(pub, req, header, body, time.Now())
}
