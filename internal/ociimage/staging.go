package ociimage

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Staging holds, on local disk, what a push through the distribution API
// sends before the manifest that names it: uploads in progress, and the
// finished blobs of each repository (an account's package). A manifest
// pushed by tag is then read as an image layout of it (Layout), the same
// reading relkey image push does of a layout on disk.
type Staging struct {
	dir string
	now func() time.Time
}

// StagingLifetime is how long an upload or a staged blob no manifest
// named is kept.
const StagingLifetime = 24 * time.Hour

// MaxBlob bounds a blob pushed through the distribution API.
const MaxBlob = 10 << 30

// NewStaging keeps what pushes send under dir.
func NewStaging(dir string) *Staging { return &Staging{dir: dir, now: time.Now} }

// SetClock replaces the clock that expires what is staged (tests).
func (s *Staging) SetClock(now func() time.Time) { s.now = now }

// ErrUploadUnknown is the error of an upload that is not in progress.
var ErrUploadUnknown = errors.New("ociimage: upload unknown")

// ErrDigestMismatch is the error of a blob whose content has another
// digest than the one it was pushed as.
var ErrDigestMismatch = errors.New("ociimage: content does not match the digest")

var uploadID = regexp.MustCompile(`^[a-f0-9]{32}$`)

// upload is the file of a repository's upload in progress: an upload is
// its repository's alone.
func (s *Staging) upload(repo, id string) (string, error) {
	if !uploadID.MatchString(id) {
		return "", ErrUploadUnknown
	}
	return filepath.Join(s.dir, "uploads", filepath.FromSlash(repo), id), nil
}

// repository is the folder of a repository's staged blobs; repo is made
// of ids, joined by a slash.
func (s *Staging) repository(repo string) string {
	return filepath.Join(s.dir, "blobs", filepath.FromSlash(repo))
}

// Start begins an upload to a repository (and drops what expired),
// returning its id.
func (s *Staging) Start(repo string) (string, error) {
	s.sweep()
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	id := hex.EncodeToString(raw)
	path, _ := s.upload(repo, id)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	return id, f.Close()
}

// Append adds a chunk to a repository's upload, returning its size.
func (s *Staging) Append(repo, id string, chunk io.Reader) (int64, error) {
	path, err := s.upload(repo, id)
	if err != nil {
		return 0, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if errors.Is(err, os.ErrNotExist) {
		return 0, ErrUploadUnknown
	}
	if err != nil {
		return 0, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	n, err := io.Copy(f, io.LimitReader(chunk, MaxBlob-info.Size()+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && info.Size()+n > MaxBlob {
		err = fmt.Errorf("ociimage: a blob is at most %d bytes", int64(MaxBlob))
	}
	return info.Size() + n, err
}

// Finish ends a repository's upload as its blob digest, when its content
// has that digest; the upload is gone either way.
func (s *Staging) Finish(repo, id, digest string) (int64, error) {
	path, err := s.upload(repo, id)
	if err != nil {
		return 0, err
	}
	defer os.Remove(path)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return 0, ErrUploadUnknown
	}
	if !ValidDigest(digest) {
		return 0, ErrDigestMismatch
	}
	if err := verify(path, digest); err != nil {
		return 0, ErrDigestMismatch
	}
	info, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	dir := s.repository(repo)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	return info.Size(), os.Rename(path, filepath.Join(dir, strings.TrimPrefix(digest, "sha256:")))
}

// Stage keeps content pushed whole (a manifest by digest) as a blob of a
// repository, returning its digest.
func (s *Staging) Stage(repo string, content []byte) (string, error) {
	id, err := s.Start(repo)
	if err != nil {
		return "", err
	}
	if _, err := s.Append(repo, id, bytes.NewReader(content)); err != nil {
		return "", err
	}
	sum := sha256.Sum256(content)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	_, err = s.Finish(repo, id, digest)
	return digest, err
}

// Staged reports the size of a repository's staged blob.
func (s *Staging) Staged(repo, digest string) (int64, bool) {
	if !ValidDigest(digest) {
		return 0, false
	}
	info, err := os.Stat(filepath.Join(s.repository(repo), strings.TrimPrefix(digest, "sha256:")))
	if err != nil {
		return 0, false
	}
	return info.Size(), true
}

// Forget drops a repository's staged blobs (once a manifest stored them).
func (s *Staging) Forget(repo string, digests []string) {
	for _, d := range digests {
		if ValidDigest(d) {
			_ = os.Remove(filepath.Join(s.repository(repo), strings.TrimPrefix(d, "sha256:")))
		}
	}
}

// Layout is the image layout of a manifest pushed by tag: the manifest
// (of mediaType) as index.json's one entry, over the repository's staged
// blobs; fetch writes a blob it lists that is not staged into path (from
// where relkey stores it), or reports that it has none. Close removes it.
func (s *Staging) Layout(repo, mediaType, tag string, manifest []byte, fetch func(digest, path string) (bool, error)) (*Layout, error) {
	dir, err := os.MkdirTemp("", "relkey-push-")
	if err != nil {
		return nil, err
	}
	l := &Layout{dir: dir, temp: true}
	if err := s.assemble(l, repo, mediaType, tag, manifest); err != nil {
		_ = l.Close()
		return nil, err
	}
	if err := l.read(); err != nil {
		_ = l.Close()
		return nil, err
	}
	for len(l.Missing) > 0 {
		fetched := false
		for _, d := range l.Missing {
			ok, err := fetch(d, filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")))
			if err != nil {
				_ = l.Close()
				return nil, err
			}
			fetched = fetched || ok
		}
		if !fetched {
			return l, nil
		}
		l.Blobs, l.Tags, l.Missing = nil, nil, nil
		if err := l.read(); err != nil {
			_ = l.Close()
			return nil, err
		}
	}
	return l, nil
}

// assemble writes the layout of a pushed manifest: oci-layout,
// index.json, the manifest, and links to the repository's staged blobs.
func (s *Staging) assemble(l *Layout, repo, mediaType, tag string, manifest []byte) error {
	blobs := filepath.Join(l.dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o700); err != nil {
		return err
	}
	sum := sha256.Sum256(manifest)
	root := descriptor{MediaType: mediaType, Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(manifest)),
		Annotations: map[string]string{"org.opencontainers.image.ref.name": tag}}
	index, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": Index, "manifests": []descriptor{root}})
	if err != nil {
		return err
	}
	for name, content := range map[string][]byte{"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`), "index.json": index,
		filepath.Join("blobs", "sha256", hex.EncodeToString(sum[:])): manifest} {
		if err := os.WriteFile(filepath.Join(l.dir, name), content, 0o600); err != nil {
			return err
		}
	}
	staged, err := os.ReadDir(s.repository(repo))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range staged {
		dst := filepath.Join(blobs, e.Name())
		if _, err := os.Stat(dst); err == nil || !digestPattern.MatchString("sha256:"+e.Name()) {
			continue
		}
		if err := link(filepath.Join(s.repository(repo), e.Name()), dst); err != nil {
			return err
		}
	}
	return nil
}

// link makes dst name src's content: a hard link, else a copy (another
// file system).
func link(src, dst string) error {
	if os.Link(src, dst) == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// sweep drops the uploads and staged blobs older than StagingLifetime.
func (s *Staging) sweep() {
	cutoff := s.now().Add(-StagingLifetime)
	_ = filepath.WalkDir(s.dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil && info.ModTime().Before(cutoff) {
			_ = os.Remove(path)
		}
		return nil
	})
}
