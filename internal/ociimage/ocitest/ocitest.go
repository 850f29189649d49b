// Package ocitest builds small OCI images for tests: a layer, a config
// and a manifest (and, for multi-platform images, an index of it), and
// writes them as an image layout directory or tar.
package ocitest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/relkey/relkey/internal/ociimage"
)

// Blob is one content-addressed file.
type Blob struct {
	MediaType string
	Content   []byte
}

// Digest is the blob's sha256 digest.
func (b Blob) Digest() string {
	sum := sha256.Sum256(b.Content)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (b Blob) descriptor() map[string]any {
	return map[string]any{"mediaType": b.MediaType, "digest": b.Digest(), "size": len(b.Content)}
}

// Image is a test image: Root is what index.json lists (the index when
// there is one, else the manifest).
type Image struct {
	Layer, Config, Manifest Blob
	Index                   *Blob
}

// Root is the manifest or index a tag of the image names.
func (i *Image) Root() Blob {
	if i.Index != nil {
		return *i.Index
	}
	return i.Manifest
}

// Blobs are every blob of the image, the root first.
func (i *Image) Blobs() []Blob {
	out := []Blob{i.Manifest, i.Config, i.Layer}
	if i.Index != nil {
		out = append([]Blob{*i.Index}, out...)
	}
	return out
}

// New is an image whose layer holds one file naming the version; with
// index, the manifest is listed by an image index for linux/amd64.
func New(t testing.TB, version string, index bool) *Image {
	t.Helper()
	var layer bytes.Buffer
	gz := gzip.NewWriter(&layer)
	tw := tar.NewWriter(gz)
	content := []byte("relkey " + version + "\n")
	if err := tw.WriteHeader(&tar.Header{Name: "VERSION", Mode: 0o644, Size: int64(len(content))}); err != nil {
		t.Fatal(err)
	}
	_, _ = tw.Write(content)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(layer.Bytes())
	img := &Image{Layer: Blob{"application/vnd.oci.image.layer.v1.tar+gzip", layer.Bytes()}}
	img.Config = Blob{"application/vnd.oci.image.config.v1+json", mustJSON(t, map[string]any{
		"architecture": "amd64", "os": "linux", "config": map[string]any{"Labels": map[string]string{"version": version}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(sum[:])}}})}
	img.Manifest = Blob{ociimage.Manifest, mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": ociimage.Manifest,
		"config": img.Config.descriptor(), "layers": []any{img.Layer.descriptor()}})}
	if index {
		d := img.Manifest.descriptor()
		d["platform"] = map[string]string{"architecture": "amd64", "os": "linux"}
		img.Index = &Blob{ociimage.Index, mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": ociimage.Index, "manifests": []any{d}})}
	}
	return img
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// files are the image's layout: oci-layout, index.json tagging the root,
// and the blobs.
func (i *Image) files(t testing.TB, tag string) map[string][]byte {
	root := i.Root().descriptor()
	root["annotations"] = map[string]string{"org.opencontainers.image.ref.name": tag}
	out := map[string][]byte{
		"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`),
		"index.json": mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": ociimage.Index, "manifests": []any{root}}),
	}
	for _, b := range i.Blobs() {
		out["blobs/sha256/"+b.Digest()[len("sha256:"):]] = b.Content
	}
	return out
}

// WriteLayout writes the image as a layout directory under dir.
func (i *Image) WriteLayout(t testing.TB, dir, tag string) {
	t.Helper()
	for name, content := range i.files(t, tag) {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// WriteTar writes the image's layout as a tar at path.
func (i *Image) WriteTar(t testing.TB, path, tag string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range i.files(t, tag) {
		if err := tw.WriteHeader(&tar.Header{Name: "./" + name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write(content)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
