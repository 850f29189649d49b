// Package storagetest is the behaviour every storage.Store must show through
// its presigned URLs, run against real MinIO and against relkey's local store.
package storagetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/storage"
)

// Contract runs the presigned round trip against store for an object not
// stored yet under key (one a PUT URL may store). resolve turns a
// presigned URL into the absolute URL a client would use.
func Contract(t *testing.T, store storage.Store, key string, resolve func(*url.URL) *url.URL) {
	ctx := context.Background()
	content := make([]byte, 64<<10)
	rand.Read(content)

	if _, err := store.Stat(ctx, key); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat before upload: err = %v, want ErrNotFound", err)
	}
	put, err := store.PresignPut(ctx, key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := do(t, "PUT", resolve(put), content); status != http.StatusOK {
		t.Fatalf("PUT to presigned URL: status %d, want 200", status)
	}
	obj, err := store.Stat(ctx, key)
	if err != nil || obj.Size != int64(len(content)) {
		t.Fatalf("Stat after upload = %+v, %v; want size %d", obj, err, len(content))
	}
	if data, err := store.Read(ctx, key, int64(len(content))); err != nil || !bytes.Equal(data, content) {
		t.Fatalf("Read at its size: %d bytes, %v; want the exact %d bytes", len(data), err, len(content))
	}
	if data, err := store.Read(ctx, key, int64(len(content))-1); !errors.Is(err, storage.ErrTooLarge) || data != nil {
		t.Fatalf("Read over the limit: %d bytes, %v; want ErrTooLarge", len(data), err)
	}
	if _, err := store.Read(ctx, key+".missing", 1<<20); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Read of a missing object: %v, want ErrNotFound", err)
	}
	get, err := store.PresignGet(ctx, key, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	status, body := do(t, "GET", resolve(get), nil)
	if status != http.StatusOK || !bytes.Equal(body, content) {
		t.Fatalf("GET presigned URL: status %d, %d bytes; want 200 and the exact %d bytes", status, len(body), len(content))
	}

	t.Run("tampered signature is refused", func(t *testing.T) {
		u := resolve(get)
		q := u.Query()
		for _, name := range []string{"signature", "X-Amz-Signature"} {
			if sig := q.Get(name); sig != "" {
				q.Set(name, flip(sig))
			}
		}
		u.RawQuery = q.Encode()
		expectRefused(t, "GET", u, content)
	})
	t.Run("tampered expiry is refused", func(t *testing.T) {
		u := resolve(get)
		q := u.Query()
		for _, name := range []string{"expires", "X-Amz-Expires"} {
			if v := q.Get(name); v != "" {
				q.Set(name, v+"0")
			}
		}
		u.RawQuery = q.Encode()
		expectRefused(t, "GET", u, content)
	})
	t.Run("a PUT URL does not download", func(t *testing.T) {
		expectRefused(t, "GET", resolve(put), content)
	})
	t.Run("expired URL is refused", func(t *testing.T) {
		short, err := store.PresignGet(ctx, key, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2100 * time.Millisecond)
		expectRefused(t, "GET", resolve(short), content)
	})

	copied := key + ".copy"
	if err := store.Copy(ctx, key, copied); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if data, err := store.Read(ctx, copied, int64(len(content))); err != nil || !bytes.Equal(data, content) {
		t.Fatalf("Read of the copy: %d bytes, %v; want the exact %d bytes", len(data), err, len(content))
	}
	if err := store.Copy(ctx, key+".missing", copied); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Copy of a missing object: %v, want ErrNotFound", err)
	}
	if err := store.Delete(ctx, copied); err != nil {
		t.Fatal(err)
	}

	if err := store.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Stat(ctx, key); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat after delete: err = %v, want ErrNotFound", err)
	}
	if err := store.Delete(ctx, key); err != nil {
		t.Fatalf("deleting a missing object: %v", err)
	}
}

func expectRefused(t *testing.T, method string, u *url.URL, content []byte) {
	t.Helper()
	status, body := do(t, method, u, nil)
	if status != http.StatusForbidden {
		t.Fatalf("%s %s: status %d, want 403", method, u.Redacted(), status)
	}
	if bytes.Contains(body, content[:32]) {
		t.Fatal("a refused request served the object's bytes")
	}
}

func do(t *testing.T, method string, u *url.URL, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u.Redacted(), err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func flip(s string) string {
	last := s[len(s)-1]
	repl := "0"
	if last == '0' {
		repl = "1"
	}
	return strings.TrimSuffix(s, string(last)) + repl
}
