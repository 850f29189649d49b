package artifact

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"regexp"
	"strings"
)

// Checksum encodings as Keygen reads them: hex (optionally 0x-prefixed)
// before padded standard base64.
var (
	hexChecksum    = regexp.MustCompile(`^(0x)?[0-9A-Fa-f]+$`)
	base64Checksum = regexp.MustCompile(`^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$`)
)

// digest is the verifiable form of an artifact's checksum: the hash whose
// sum it is (by its length, as Keygen tells algorithms apart) and the sum.
// Only SHA-256 and SHA-512 sums are verified; a checksum of another
// algorithm, or none, is the publisher's note and verifies nothing.
type digest struct {
	hash func() hash.Hash
	sum  []byte
}

// digestOf reads a checksum; ok is false when it verifies nothing.
func digestOf(checksum *string) (d digest, ok bool) {
	if checksum == nil {
		return d, false
	}
	var sum []byte
	switch c := *checksum; {
	case hexChecksum.MatchString(c):
		sum, _ = hex.DecodeString(strings.TrimPrefix(c, "0x"))
	case base64Checksum.MatchString(c):
		sum, _ = base64.StdEncoding.DecodeString(c)
	}
	switch len(sum) {
	case sha256.Size:
		return digest{hash: sha256.New, sum: sum}, true
	case sha512.Size:
		return digest{hash: sha512.New, sum: sum}, true
	}
	return d, false
}

// name is the digest's algorithm, as failures name it.
func (d digest) name() string {
	if len(d.sum) == sha256.Size {
		return "sha256"
	}
	return "sha512"
}
