// Package ociimage reads OCI image layouts (a directory, or a tar of one,
// as crane, oras, skopeo and buildx write them): the manifests and blobs
// an image is made of, each addressed by its digest. relkey stores each as
// an artifact of a release, named by its digest, its media type in the
// artifact's metadata; the OCI engine serves them back.
package ociimage

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Media types of manifests.
const (
	Index              = "application/vnd.oci.image.index.v1+json"
	Manifest           = "application/vnd.oci.image.manifest.v1+json"
	DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	DockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
)

// Manifests are the media types served as manifests, in the order a
// reference naming several of them prefers (indexes before the platform
// manifests they list, as Keygen's engine prefers).
var Manifests = []string{Index, DockerManifestList, Manifest, DockerManifest}

// IsManifest reports whether a media type is a manifest's or an index's.
func IsManifest(mediaType string) bool { return slices.Contains(Manifests, mediaType) }

func isIndex(mediaType string) bool { return mediaType == Index || mediaType == DockerManifestList }

// MetadataKey is the artifact metadata key holding a blob's media type
// (mediaType in the API's camelCase).
const MetadataKey = "media_type"

var digestPattern = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)

// ValidDigest reports whether s is a sha256 digest (the only algorithm
// relkey stores).
func ValidDigest(s string) bool { return digestPattern.MatchString(s) }

// Blob is one content-addressed file of an image.
type Blob struct {
	Digest    string
	MediaType string
	Size      int64
	path      string
}

// Open reads the blob.
func (b Blob) Open() (io.ReadCloser, error) { return os.Open(b.path) }

// Hex is the digest's hexadecimal part (the artifact's checksum).
func (b Blob) Hex() string { return strings.TrimPrefix(b.Digest, "sha256:") }

// Layout is an image layout's blobs: every manifest index.json reaches,
// with the configs and layers the manifests list (those the layout holds;
// a multi-platform index may name platforms it left out), each once.
type Layout struct {
	Blobs []Blob
	// Tags are the ref.name annotations of index.json's manifests.
	Tags []string
	// Missing are the digests of the blobs listed that the layout lacks.
	Missing []string
	dir     string
	temp    bool
}

// Close removes what Open extracted from a tar.
func (l *Layout) Close() error {
	if l.temp {
		return os.RemoveAll(l.dir)
	}
	return nil
}

// descriptor is the part of an OCI descriptor relkey reads.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations"`
}

// document is an index or a manifest, as far as it lists descriptors.
type document struct {
	MediaType string       `json:"mediaType"`
	Manifests []descriptor `json:"manifests"`
	Config    *descriptor  `json:"config"`
	Layers    []descriptor `json:"layers"`
}

// MaxDocument bounds the index and manifests read into memory.
const MaxDocument = 4 << 20

// Open reads the layout at path: a directory, or a tar (gzipped or not)
// of one, extracted to a temporary directory that Close removes.
func Open(path string) (*Layout, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	l := &Layout{dir: path}
	if !info.IsDir() {
		if l.dir, err = extract(path); err != nil {
			return nil, err
		}
		l.temp = true
	}
	if err := l.read(); err != nil {
		_ = l.Close()
		return nil, err
	}
	return l, nil
}

func (l *Layout) read() error {
	if _, err := os.Stat(filepath.Join(l.dir, "oci-layout")); err != nil {
		return errors.New("not an OCI image layout: oci-layout is missing")
	}
	raw, err := readBounded(filepath.Join(l.dir, "index.json"))
	if err != nil {
		return fmt.Errorf("index.json: %w", err)
	}
	var index document
	if err := json.Unmarshal(raw, &index); err != nil {
		return fmt.Errorf("index.json: %w", err)
	}
	if len(index.Manifests) == 0 {
		return errors.New("index.json lists no manifest")
	}
	seen := map[string]bool{}
	for _, d := range index.Manifests {
		if tag := d.Annotations["org.opencontainers.image.ref.name"]; tag != "" && !slices.Contains(l.Tags, tag) {
			l.Tags = append(l.Tags, tag)
		}
		if err := l.walk(d, seen, 0); err != nil {
			return err
		}
	}
	if len(l.Blobs) == 0 {
		return errors.New("the layout holds none of the manifests index.json lists")
	}
	return nil
}

// walk adds a descriptor's blob, and for a manifest or an index what it
// lists; a blob the layout lacks is left out.
func (l *Layout) walk(d descriptor, seen map[string]bool, depth int) error {
	if !ValidDigest(d.Digest) {
		return fmt.Errorf("digest %q: only sha256 digests are supported", d.Digest)
	}
	if seen[d.Digest] {
		return nil
	}
	seen[d.Digest] = true
	path := filepath.Join(l.dir, "blobs", "sha256", strings.TrimPrefix(d.Digest, "sha256:"))
	info, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		l.Missing = append(l.Missing, d.Digest)
		return nil
	}
	if err != nil {
		return err
	}
	if d.Size != info.Size() {
		return fmt.Errorf("blob %s is %d bytes, its descriptor says %d", d.Digest, info.Size(), d.Size)
	}
	if err := verify(path, d.Digest); err != nil {
		return err
	}
	mediaType := d.MediaType
	if mediaType == "" {
		mediaType = "application/octet-stream"
	}
	l.Blobs = append(l.Blobs, Blob{Digest: d.Digest, MediaType: mediaType, Size: info.Size(), path: path})
	if !IsManifest(d.MediaType) {
		return nil
	}
	if depth > 8 {
		return errors.New("indexes nest deeper than 8")
	}
	raw, err := readBounded(path)
	if err != nil {
		return err
	}
	var doc document
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	children := doc.Layers
	if isIndex(d.MediaType) {
		children = doc.Manifests
	} else if doc.Config != nil {
		children = append([]descriptor{*doc.Config}, children...)
	}
	for _, c := range children {
		if err := l.walk(c, seen, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, MaxDocument+1))
	if err == nil && len(raw) > MaxDocument {
		err = fmt.Errorf("%s is over %d bytes", filepath.Base(path), MaxDocument)
	}
	return raw, err
}

// verify checks a blob's content against its digest.
func verify(path, digest string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
		return fmt.Errorf("blob %s holds content of digest %s", digest, got)
	}
	return nil
}

// layoutEntry matches the names of an image layout's files.
var layoutEntry = regexp.MustCompile(`^(oci-layout|index\.json|blobs/sha256/[a-f0-9]{64})$`)

// extract unpacks an image layout tar into a temporary directory,
// keeping only the layout's own files.
func extract(path string) (dir string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var r io.Reader = f
	if gz, err := gzip.NewReader(f); err == nil {
		r = gz
	} else if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	dir, err = os.MkdirTemp("", "relkey-image-")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o700); err != nil {
		return "", err
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return dir, nil
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		if h.Typeflag != tar.TypeReg || !layoutEntry.MatchString(name) {
			continue
		}
		out, err := os.Create(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return "", err
		}
		_, err = io.Copy(out, tr)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", err
		}
	}
}
