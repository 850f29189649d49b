package ociimage_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/ociimage"
	"github.com/relkey/relkey/internal/ociimage/ocitest"
)

// stage uploads a blob in chunks of n bytes.
func stage(t *testing.T, s *ociimage.Staging, repo string, b ocitest.Blob, n int) {
	t.Helper()
	id, err := s.Start(repo)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(b.Content); off += n {
		size, err := s.Append(repo, id, bytes.NewReader(b.Content[off:min(off+n, len(b.Content))]))
		if err != nil || size != int64(min(off+n, len(b.Content))) {
			t.Fatalf("append at %d: %d %v", off, size, err)
		}
	}
	if size, err := s.Finish(repo, id, b.Digest()); err != nil || size != int64(len(b.Content)) {
		t.Fatalf("finish %s: %d %v", b.Digest(), size, err)
	}
}

func TestStagingLayout(t *testing.T) {
	s := ociimage.NewStaging(t.TempDir())
	img := ocitest.New(t, "1.0.0", true)
	stage(t, s, "acct/pkg", img.Layer, 7)
	stage(t, s, "acct/pkg", img.Config, 1<<20)
	if _, err := s.Stage("acct/pkg", img.Manifest.Content); err != nil {
		t.Fatal(err)
	}
	if size, ok := s.Staged("acct/pkg", img.Layer.Digest()); !ok || size != int64(len(img.Layer.Content)) {
		t.Fatalf("Staged = %d %v", size, ok)
	}
	if _, ok := s.Staged("acct/other", img.Layer.Digest()); ok {
		t.Fatal("a blob staged for another repository")
	}
	noFetch := func(string, string) (bool, error) { return false, nil }
	l, err := s.Layout("acct/pkg", ociimage.Index, "1.0.0", img.Index.Content, noFetch)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, b := range l.Blobs {
		got = append(got, b.MediaType+" "+b.Digest)
	}
	for _, b := range img.Blobs() {
		want = append(want, b.MediaType+" "+b.Digest())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(l.Missing) != 0 || strings.Join(l.Tags, ",") != "1.0.0" {
		t.Fatalf("layout blobs\n%s\nwant\n%s\nmissing %v", strings.Join(got, "\n"), strings.Join(want, "\n"), l.Missing)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// What is not staged is fetched, else missing.
	s.Forget("acct/pkg", []string{img.Layer.Digest()})
	l, err = s.Layout("acct/pkg", ociimage.Index, "1.0.0", img.Index.Content, noFetch)
	if err != nil || strings.Join(l.Missing, ",") != img.Layer.Digest() {
		t.Fatalf("missing %v, %v", l.Missing, err)
	}
	l.Close()
	fetched := 0
	l, err = s.Layout("acct/pkg", ociimage.Index, "1.0.0", img.Index.Content, func(digest, path string) (bool, error) {
		fetched++
		return true, os.WriteFile(path, img.Layer.Content, 0o600)
	})
	if err != nil || len(l.Missing) != 0 || len(l.Blobs) != 4 || fetched != 1 {
		t.Fatalf("fetched %d: %v missing %v", fetched, err, l.Missing)
	}
	l.Close()
	// A blob fetched with other content is refused.
	if _, err := s.Layout("acct/pkg", ociimage.Index, "1.0.0", img.Index.Content, func(digest, path string) (bool, error) {
		return true, os.WriteFile(path, []byte("other"), 0o600)
	}); err == nil {
		t.Fatal("a fetched blob of another digest was taken")
	}
}

func TestStagingRefuses(t *testing.T) {
	dir := t.TempDir()
	s := ociimage.NewStaging(dir)
	img := ocitest.New(t, "1.0.0", false)
	id, _ := s.Start("acct/pkg")
	_, _ = s.Append("acct/pkg", id, bytes.NewReader(img.Layer.Content))
	// An upload is its repository's alone.
	if _, err := s.Append("acct/other", id, bytes.NewReader(nil)); !errors.Is(err, ociimage.ErrUploadUnknown) {
		t.Fatalf("another repository's upload: %v", err)
	}
	if _, err := s.Finish("acct/pkg", id, img.Config.Digest()); !errors.Is(err, ociimage.ErrDigestMismatch) {
		t.Fatalf("another digest: %v", err)
	}
	if _, err := s.Append("acct/pkg", id, bytes.NewReader(nil)); !errors.Is(err, ociimage.ErrUploadUnknown) {
		t.Fatalf("the upload after it failed: %v", err)
	}
	for _, bad := range []string{"../../etc", "nope", strings.Repeat("a", 32) + "/x"} {
		if _, err := s.Append("acct/pkg", bad, bytes.NewReader(nil)); !errors.Is(err, ociimage.ErrUploadUnknown) {
			t.Errorf("upload %q: %v", bad, err)
		}
	}
	// What expired is dropped when the next upload starts.
	stage(t, s, "acct/pkg", img.Layer, 1<<20)
	s.SetClock(func() time.Time { return time.Now().Add(ociimage.StagingLifetime + time.Minute) })
	if _, err := s.Start("acct/pkg"); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Staged("acct/pkg", img.Layer.Digest()); ok {
		t.Fatal("an expired blob is still staged")
	}
	uploads, _ := os.ReadDir(filepath.Join(dir, "uploads", "acct", "pkg"))
	if len(uploads) != 1 {
		t.Fatalf("uploads left: %d", len(uploads))
	}
}
