package storage_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/storage"
	"github.com/relkey/relkey/internal/storage/storagetest"
	"github.com/relkey/relkey/internal/testenv"
)

func TestS3Contract(t *testing.T) {
	if len(testenv.Backends(t)) < 2 {
		return // embedded-only run, announced by testenv
	}
	cfg := testenv.S3(t)
	store, err := storage.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	storagetest.Contract(t, store, "contract/file.bin", func(u *url.URL) *url.URL { c := *u; return &c })
}

// TestS3SignsTheLength: a PUT URL presigned with a Length takes a body of
// exactly that length; MinIO refuses another length, and the object stays.
func TestS3SignsTheLength(t *testing.T) {
	if len(testenv.Backends(t)) < 2 {
		return // embedded-only run, announced by testenv
	}
	store, err := storage.NewS3(testenv.S3(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	put, err := store.PresignPut(ctx, "signed/hello.txt", time.Hour, storage.Length(5))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		body   string
		status int
	}{{"hello!", 403}, {"hell", 403}, {"hello", 200}, {strings.Repeat("x", 3<<20), 403}} {
		req, _ := http.NewRequest("PUT", put.String(), strings.NewReader(tt.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Fatalf("PUT of %d bytes: %d, want %d", len(tt.body), resp.StatusCode, tt.status)
		}
	}
	if obj, err := store.Stat(ctx, "signed/hello.txt"); err != nil || obj.Size != 5 {
		t.Fatalf("stored %+v, %v; want the 5 bytes", obj, err)
	}
}

func TestS3PresignsWithoutNetwork(t *testing.T) {
	// A listener that never answers stands in for S3: presigning must not
	// connect to it at all.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	store, err := storage.NewS3(&config.S3{AccessKey: "a", SecretKey: "b", Endpoint: ln.Addr().String(), Bucket: "artifacts", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	get, err := store.PresignGet(ctx, "a/b.bin", 15*time.Minute)
	if err != nil {
		t.Fatalf("PresignGet while S3 is down: %v", err)
	}
	put, err := store.PresignPut(ctx, "a/b.bin", time.Hour)
	if err != nil {
		t.Fatalf("PresignPut while S3 is down: %v", err)
	}
	// A connection made while presigning would be waiting in the backlog.
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(50 * time.Millisecond))
	if conn, err := ln.Accept(); err == nil {
		conn.Close()
		t.Fatal("presigning connected to S3; it must not touch the network")
	}
	if get.Query().Get("X-Amz-Expires") != "900" || put.Query().Get("X-Amz-Expires") != "3600" || !strings.Contains(get.Path, "/artifacts/a/b.bin") {
		t.Fatalf("unexpected presigned URLs: %s %s", get.Redacted(), put.Redacted())
	}
}

func TestLocalAuthorize(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	store, err := storage.NewLocal(t.TempDir(), []byte("signing key"), nil)
	if err != nil {
		t.Fatal(err)
	}
	store.SetClock(func() time.Time { return now })
	get, err := store.PresignGet(context.Background(), "a/b.bin", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if get.IsAbs() || !strings.HasPrefix(get.Path, storage.LocalPathPrefix) {
		t.Fatalf("without a public URL the URL stays relative: %s", get)
	}
	key, _ := storage.KeyFromPath(get.Path)
	q := get.Query()
	tests := []struct {
		name   string
		method string
		key    string
		query  url.Values
		at     time.Time
		want   error
	}{
		{"valid", "GET", key, q, now, nil},
		{"HEAD counts as GET", "HEAD", key, q, now, nil},
		{"last second", "GET", key, q, now.Add(time.Minute), nil},
		{"expired", "GET", key, q, now.Add(time.Minute + time.Second), storage.ErrURLExpired},
		{"other method", "PUT", key, q, now, storage.ErrURLInvalid},
		{"other key", "GET", "a/c.bin", q, now, storage.ErrURLInvalid},
		{"no signature", "GET", key, url.Values{"expires": q["expires"]}, now, storage.ErrURLInvalid},
		{"extended expiry", "GET", key, url.Values{"expires": {"9999999999"}, "signature": q["signature"]}, now, storage.ErrURLInvalid},
		{"traversal key", "GET", "../secret.key", q, now, storage.ErrURLInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store.SetClock(func() time.Time { return tt.at })
			if err := store.Authorize(tt.method, tt.key, tt.query); !errors.Is(err, tt.want) {
				t.Fatalf("Authorize = %v, want %v", err, tt.want)
			}
		})
	}
	base, _ := url.Parse("https://licensing.example.com/base")
	abs, _ := storage.NewLocal(t.TempDir(), []byte("k"), base)
	u, _ := abs.PresignPut(context.Background(), "x/y", time.Hour)
	if !strings.HasPrefix(u.String(), "https://licensing.example.com/base/v1/blobs/x/y?") {
		t.Fatalf("absolute URL = %s", u)
	}
}

func TestLocalWriteIsAtomicAndChecksSize(t *testing.T) {
	store, _ := storage.NewLocal(t.TempDir(), []byte("k"), nil)
	if err := store.Write("a/b", strings.NewReader("hello"), 4); err == nil {
		t.Fatal("a body longer than its declared size was stored")
	}
	if _, err := store.Stat(context.Background(), "a/b"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a failed write left an object: %v", err)
	}
	if err := store.Write("a/b", strings.NewReader("hello"), 5); err != nil {
		t.Fatal(err)
	}
	obj, err := store.Stat(context.Background(), "a/b")
	if err != nil || obj.Size != 5 {
		t.Fatalf("Stat = %+v, %v", obj, err)
	}
}

func TestValidateKey(t *testing.T) {
	for _, key := range []string{"", "/abs", "a/../b", "a//b", "a/./b", "a\\b", "a?b", "..", strings.Repeat("a", 1025)} {
		if storage.ValidateKey(key) == nil {
			t.Errorf("key %q accepted", key)
		}
	}
	for _, key := range []string{"a", "accounts/1/artifacts/2/app-1.0.0.tar.gz", "a/b c/d"} {
		if err := storage.ValidateKey(key); err != nil {
			t.Errorf("key %q rejected: %v", key, err)
		}
	}
}
