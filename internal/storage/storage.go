// Package storage is relkey's object store: artifacts live in S3-compatible
// storage in production and in a local folder by default. Clients never
// stream through relkey's API; they get presigned URLs that expire.
package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Store is an object store that hands out presigned URLs.
type Store interface {
	// PresignPut returns a URL that accepts one unauthenticated PUT of the
	// object until expiry. It never touches the network.
	PresignPut(ctx context.Context, key string, expiry time.Duration) (*url.URL, error)
	// PresignGet returns a URL that serves the object until expiry. It never
	// touches the network. A relative URL is resolved against relkey's own
	// base URL by the caller.
	PresignGet(ctx context.Context, key string, expiry time.Duration) (*url.URL, error)
	// Stat reports the stored object, or ErrNotFound.
	Stat(ctx context.Context, key string) (Object, error)
	// Delete removes the object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
}

// Object describes a stored object.
type Object struct {
	Key  string
	Size int64
}

// ErrNotFound means no object is stored under the key.
var ErrNotFound = errors.New("storage: object not found")

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
