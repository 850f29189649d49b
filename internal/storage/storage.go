// Package storage is relkey's object store: artifacts live in S3-compatible
// storage in production and in a local folder by default. Clients never
// stream through relkey's API; they get presigned URLs that expire.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// Store is an object store that hands out presigned URLs.
type Store interface {
	// PresignPut returns a URL that accepts unauthenticated PUTs of the
	// object until expiry; with a Length, only of that many bytes. It
	// never touches the network.
	PresignPut(ctx context.Context, key string, expiry time.Duration, length ...Length) (*url.URL, error)
	// PresignGet returns a URL that serves the object until expiry. It never
	// touches the network. A relative URL is resolved against relkey's own
	// base URL by the caller.
	PresignGet(ctx context.Context, key string, expiry time.Duration) (*url.URL, error)
	// Stat reports the stored object, or ErrNotFound.
	Stat(ctx context.Context, key string) (Object, error)
	// Copy stores a copy of the object under from as to (within the
	// store: on S3 a server-side copy), or reports ErrNotFound.
	Copy(ctx context.Context, from, to string) error
	// Delete removes the object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
	// Read returns the whole object when it is at most limit bytes:
	// ErrNotFound when it is missing, ErrTooLarge when it is bigger.
	Read(ctx context.Context, key string, limit int64) ([]byte, error)
}

// Object describes a stored object.
type Object struct {
	Key  string
	Size int64
}

// Length is the exact size a presigned PUT must declare (its
// Content-Length). S3 checks it as part of the signature; the local store
// leaves the check to the receiver of the upload (see Local.Receive).
type Length int64

// ErrNotFound means no object is stored under the key.
var ErrNotFound = errors.New("storage: object not found")

// ErrTooLarge means an object is bigger than a read allows.
var ErrTooLarge = errors.New("storage: object is too large to read")

// readAll reads at most limit bytes of body: ErrTooLarge when there are more.
func readAll(key string, body io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("storage: read %q: %w", key, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %q is over %d bytes", ErrTooLarge, key, limit)
	}
	return data, nil
}

// MaxExpiry is the longest validity of a presigned URL (S3's limit).
const MaxExpiry = 7 * 24 * time.Hour

// ValidateKey rejects keys that could escape a folder or confuse a URL.
func ValidateKey(key string) error {
	if key == "" || len(key) > 1024 || strings.HasPrefix(key, "/") || strings.ContainsAny(key, "\\\x00?#") {
		return fmt.Errorf("storage: invalid key %q", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("storage: invalid key %q", key)
		}
	}
	return nil
}

func validateExpiry(expiry time.Duration) error {
	if expiry < time.Second || expiry > MaxExpiry {
		return fmt.Errorf("storage: expiry %v outside 1s..%v", expiry, MaxExpiry)
	}
	return nil
}
