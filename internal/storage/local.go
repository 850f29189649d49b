package storage

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// LocalPathPrefix is where relkey serves the local store's presigned URLs.
const LocalPathPrefix = "/v1/blobs/"

// Local keeps objects in a folder and signs URLs that relkey itself serves
// under LocalPathPrefix. The expiry is part of the signed message.
type Local struct {
	dir  string
	key  []byte
	base *url.URL // RELKEY_PUBLIC_URL, or nil to let the caller resolve
	now  func() time.Time
}

// NewLocal opens (creating if needed) a local store in dir. base, when not
// nil, makes presigned URLs absolute.
func NewLocal(dir string, signingKey []byte, base *url.URL) (*Local, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return &Local{dir: dir, key: signingKey, base: base, now: time.Now}, nil
}

// SetClock replaces the store's clock (tests).
func (l *Local) SetClock(now func() time.Time) { l.now = now }

// PresignPut does not sign a Length in: the upload's receiver checks the
// body against what it expects (see Receive).
func (l *Local) PresignPut(_ context.Context, key string, expiry time.Duration, _ ...Length) (*url.URL, error) {
	return l.presign("PUT", key, expiry)
}

func (l *Local) PresignGet(_ context.Context, key string, expiry time.Duration) (*url.URL, error) {
	return l.presign("GET", key, expiry)
}

func (l *Local) presign(method, key string, expiry time.Duration) (*url.URL, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	if err := validateExpiry(expiry); err != nil {
		return nil, err
	}
	expires := strconv.FormatInt(l.now().Add(expiry).Unix(), 10)
	q := url.Values{"expires": {expires}, "signature": {l.sign(method, key, expires)}}
	u := &url.URL{Path: LocalPathPrefix + key, RawQuery: q.Encode()}
	if l.base != nil {
		u = l.base.ResolveReference(&url.URL{Path: l.base.Path + u.Path, RawQuery: u.RawQuery})
	}
	return u, nil
}

func (l *Local) sign(method, key, expires string) string {
	mac := hmac.New(sha256.New, l.key)
	fmt.Fprintf(mac, "%s\n%s\n%s", method, key, expires)
	return hex.EncodeToString(mac.Sum(nil))
}

// URL verification failures.
var (
	ErrURLInvalid = errors.New("storage: URL signature is invalid")
	ErrURLExpired = errors.New("storage: URL has expired")
)

// Authorize checks a presigned URL's query for method ("GET" also admits
// HEAD) and key: ErrURLInvalid when the signature does not match (compared
// in constant time), ErrURLExpired after its expiry.
func (l *Local) Authorize(method, key string, query url.Values) error {
	if method == "HEAD" {
		method = "GET"
	}
	expires, sig := query.Get("expires"), query.Get("signature")
	if ValidateKey(key) != nil || expires == "" || sig == "" {
		return ErrURLInvalid
	}
	if !hmac.Equal([]byte(sig), []byte(l.sign(method, key, expires))) {
		return ErrURLInvalid
	}
	at, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return ErrURLInvalid
	}
	if l.now().Unix() > at {
		return ErrURLExpired
	}
	return nil
}

func (l *Local) path(key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	return filepath.Join(l.dir, filepath.FromSlash(key)), nil
}

// Write stores the object atomically: readers see the old object or the
// whole new one. When size >= 0, a body of another length is rejected.
func (l *Local) Write(key string, body io.Reader, size int64) error {
	r, err := l.Receive(key, body, size)
	if err != nil {
		return err
	}
	defer r.Discard()
	return r.Commit()
}

// Received is an upload stored aside, not yet the object: Commit puts it
// in place, Discard drops it (after a Commit, Discard does nothing).
type Received struct {
	tmp, path string
}

// Receive stores body aside for key; when size >= 0, a body of another
// length is rejected (and dropped).
func (l *Local) Receive(key string, body io.Reader, size int64) (*Received, error) {
	path, err := l.path(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), partialPrefix+"*")
	if err != nil {
		return nil, err
	}
	r := &Received{tmp: tmp.Name(), path: path}
	n, err := io.Copy(tmp, body)
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil && size >= 0 && n != size {
		err = fmt.Errorf("storage: received %d bytes, expected %d", n, size)
	}
	if err != nil {
		r.Discard()
		return nil, err
	}
	return r, nil
}

// Commit makes the received bytes the object, atomically.
func (r *Received) Commit() error { return os.Rename(r.tmp, r.path) }

// Discard drops received bytes that were not committed.
func (r *Received) Discard() { os.Remove(r.tmp) }

// partialPrefix names the temporary file of an upload in progress.
const partialPrefix = ".upload-"

// WalkLocal calls fn with the key and file of every object the local store
// in dir holds, in lexical order; uploads in progress are not objects yet,
// and objects deleted during the walk are skipped.
func WalkLocal(dir string, fn func(key, path string) error) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil
		case err != nil:
			return err
		case d.IsDir() || !d.Type().IsRegular() || strings.HasPrefix(d.Name(), partialPrefix):
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(rel), path)
	})
}

// Open returns the stored object for reading, or ErrNotFound.
func (l *Local) Open(key string) (*os.File, error) {
	path, err := l.path(key)
	if err != nil {
		return nil, ErrNotFound
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

func (l *Local) Stat(_ context.Context, key string) (Object, error) {
	path, err := l.path(key)
	if err != nil {
		return Object{}, ErrNotFound
	}
	info, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) || (err == nil && info.IsDir()) {
		return Object{}, ErrNotFound
	}
	if err != nil {
		return Object{}, err
	}
	return Object{Key: key, Size: info.Size()}, nil
}

func (l *Local) Read(_ context.Context, key string, limit int64) ([]byte, error) {
	f, err := l.Open(key)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(key, f, limit)
}

func (l *Local) Copy(_ context.Context, from, to string) error {
	f, err := l.Open(from)
	if err != nil {
		return err
	}
	defer f.Close()
	return l.Write(to, f, -1)
}

func (l *Local) Delete(_ context.Context, key string) error {
	path, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// KeyFromPath extracts the object key from a request path under LocalPathPrefix.
func KeyFromPath(path string) (string, bool) {
	key, ok := strings.CutPrefix(path, LocalPathPrefix)
	return key, ok && key != ""
}
