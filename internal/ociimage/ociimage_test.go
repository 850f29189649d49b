package ociimage_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/ociimage"
	"github.com/relkey/relkey/internal/ociimage/ocitest"
)

func TestOpen(t *testing.T) {
	img := ocitest.New(t, "1.0.0", true)
	dir := t.TempDir()
	img.WriteLayout(t, filepath.Join(dir, "layout"), "1.0.0")
	img.WriteTar(t, filepath.Join(dir, "image.tar"), "1.0.0")
	for _, path := range []string{filepath.Join(dir, "layout"), filepath.Join(dir, "image.tar")} {
		l, err := ociimage.Open(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var got []string
		for _, b := range l.Blobs {
			got = append(got, b.MediaType+" "+b.Digest)
		}
		var want []string
		for _, b := range img.Blobs() {
			want = append(want, b.MediaType+" "+b.Digest())
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") || len(l.Tags) != 1 || l.Tags[0] != "1.0.0" {
			t.Fatalf("%s: blobs\n%s\nwant\n%s\ntags %v", path, strings.Join(got, "\n"), strings.Join(want, "\n"), l.Tags)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenRefuses(t *testing.T) {
	img := ocitest.New(t, "1.0.0", false)
	for _, c := range []struct {
		name, want string
		spoil      func(dir string)
	}{
		{"no oci-layout", "oci-layout is missing", func(dir string) { os.Remove(filepath.Join(dir, "oci-layout")) }},
		{"a blob not of its size", "its descriptor says", func(dir string) {
			os.WriteFile(filepath.Join(dir, "blobs", "sha256", img.Layer.Digest()[7:]), []byte("tampered!"), 0o644)
		}},
		{"no manifest present", "holds none", func(dir string) {
			os.Remove(filepath.Join(dir, "blobs", "sha256", img.Manifest.Digest()[7:]))
		}},
		{"index.json not JSON", "index.json", func(dir string) { os.WriteFile(filepath.Join(dir, "index.json"), []byte("{"), 0o644) }},
	} {
		dir := t.TempDir()
		img.WriteLayout(t, dir, "x")
		c.spoil(dir)
		if _, err := ociimage.Open(dir); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// A layer left out of the layout (a platform not pulled) is skipped.
	dir := t.TempDir()
	img.WriteLayout(t, dir, "x")
	os.Remove(filepath.Join(dir, "blobs", "sha256", img.Layer.Digest()[7:]))
	if l, err := ociimage.Open(dir); err != nil || len(l.Blobs) != 2 {
		t.Fatalf("without the layer: %v %v", l, err)
	}
}
