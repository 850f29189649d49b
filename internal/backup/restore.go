package backup

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
	"path"
	"path/filepath"
	"strings"

	"github.com/relkey/relkey/internal/durable"
	"github.com/relkey/relkey/internal/masterkey"
	"github.com/relkey/relkey/internal/storage"
)

// ErrNotEmpty refuses to restore over a data dir that holds files.
var ErrNotEmpty = errors.New("the data dir is not empty")

// Target is where an archive is restored.
type Target struct {
	Layout Layout
	// Replace lets the restore replace the store's files in a data dir that
	// is not empty; other files there are left alone.
	Replace bool
	// LatestSchema is the newest schema version this binary can run on.
	LatestSchema uint
}

// maxManifest bounds the manifest an archive may carry.
const maxManifest = 64 << 20

// Restore verifies the archive and puts its files in place. Every entry is
// extracted beside the data dir's files first and checked against the
// manifest (which must come last, list every entry and match each size and
// SHA-256); only a complete, intact archive replaces anything.
func Restore(archive string, to Target) (*Manifest, error) {
	dir := to.Layout.DataDir
	if err := checkEmpty(dir, to.Replace); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	staging, err := os.MkdirTemp(dir, ".restore-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging)
	m, err := extract(archive, staging)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", archive, err)
	}
	if m.SchemaVersion > to.LatestSchema {
		return nil, fmt.Errorf("the backup's schema (version %d, relkey %s) is newer than this relkey runs (version %d): restore it with relkey %s or newer",
			m.SchemaVersion, m.RelkeyVersion, to.LatestSchema, m.RelkeyVersion)
	}
	if to.Replace {
		if err := removeStore(to.Layout); err != nil {
			return nil, err
		}
	}
	places := map[string]string{DatabaseName: to.Layout.Database, KeyName: to.Layout.KeyFile, BlobsDir: to.Layout.BlobDir}
	for name, place := range places {
		if _, err := os.Lstat(filepath.Join(staging, name)); errors.Is(err, os.ErrNotExist) || place == "" {
			continue
		}
		if err := os.Rename(filepath.Join(staging, name), place); err != nil {
			return nil, err
		}
	}
	return m, durable.SyncDir(dir)
}

func checkEmpty(dir string, replace bool) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 && !replace {
		return fmt.Errorf("%w: %s holds %d entries (restore into an empty data dir, or replace relkey's files there with --force)", ErrNotEmpty, dir, len(entries))
	}
	return nil
}

// removeStore removes the store's files: the database with its journals,
// the key file with what a rotation leaves beside it, and the objects.
func removeStore(l Layout) error {
	paths := []string{l.Database, l.Database + "-wal", l.Database + "-shm", l.Database + "-journal",
		l.KeyFile, l.KeyFile + masterkey.OldSuffix, l.KeyFile + masterkey.NewSuffix}
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return os.RemoveAll(l.BlobDir)
}

// extract writes the archive's files under dir and verifies them against
// its manifest.
func extract(archive, dir string) (*Manifest, error) {
	f, err := os.Open(archive)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("not a relkey backup (gzip: %w)", err)
	}
	tr := tar.NewReader(gz)
	var (
		manifest []byte
		found    = map[string]File{}
	)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("damaged archive: %w", err)
		}
		if manifest != nil {
			return nil, fmt.Errorf("damaged archive: entry %q after the manifest", hdr.Name)
		}
		if hdr.Typeflag == tar.TypeDir {
			continue
		}
		name, err := entryName(hdr)
		if err != nil {
			return nil, err
		}
		if name == ManifestName {
			if manifest, err = io.ReadAll(io.LimitReader(tr, maxManifest)); err != nil {
				return nil, fmt.Errorf("damaged archive: %w", err)
			}
			continue
		}
		if _, dup := found[name]; dup {
			return nil, fmt.Errorf("damaged archive: %q appears twice", name)
		}
		file, err := extractFile(tr, name, filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, err
		}
		found[name] = file
	}
	if manifest == nil {
		return nil, errors.New("no manifest: the archive is incomplete or not a relkey backup")
	}
	var m Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("unreadable manifest: %w", err)
	}
	return &m, verify(&m, found)
}

// entryName is the checked name of a regular-file entry: a relative path
// to the database, the key file, an object or the manifest.
func entryName(hdr *tar.Header) (string, error) {
	name := hdr.Name
	clean := path.Clean(name)
	if hdr.Typeflag != tar.TypeReg || clean != name || strings.HasPrefix(name, "/") || strings.HasPrefix(name, "../") || name == ".." {
		return "", fmt.Errorf("damaged archive: unexpected entry %q", name)
	}
	if key, ok := strings.CutPrefix(name, BlobsDir+"/"); ok && storage.ValidateKey(key) == nil {
		return name, nil
	}
	if name == ManifestName || name == DatabaseName || name == KeyName {
		return name, nil
	}
	return "", fmt.Errorf("damaged archive: unexpected entry %q", name)
}

func extractFile(r io.Reader, name, target string) (File, error) {
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return File{}, err
	}
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return File{}, err
	}
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, sum), archiveReader{r})
	var damaged archiveError
	if errors.As(err, &damaged) {
		out.Close()
		return File{}, fmt.Errorf("damaged archive: %s: %w", name, damaged.error)
	}
	if err == nil {
		err = out.Sync()
	}
	if closeErr := out.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return File{}, fmt.Errorf("extracting %s: %w", name, err)
	}
	return File{Path: name, Size: n, SHA256: hex.EncodeToString(sum.Sum(nil))}, nil
}

// archiveReader tells the archive's read errors from the disk's write errors.
type archiveReader struct{ r io.Reader }

type archiveError struct{ error }

func (a archiveReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = archiveError{err}
	}
	return n, err
}

// verify checks the extracted files against the manifest: the same set,
// each of the recorded size and checksum.
func verify(m *Manifest, found map[string]File) error {
	if m.Format != Format {
		return fmt.Errorf("archive format %d is not one this relkey reads (%d)", m.Format, Format)
	}
	listed := map[string]bool{}
	for _, want := range m.Files {
		listed[want.Path] = true
		got, ok := found[want.Path]
		switch {
		case !ok:
			return fmt.Errorf("damaged archive: %s is in the manifest but not in the archive", want.Path)
		case got.Size != want.Size || got.SHA256 != want.SHA256:
			return fmt.Errorf("damaged archive: %s does not match its checksum (%d bytes, sha256 %s; the manifest says %d bytes, %s)",
				want.Path, got.Size, got.SHA256, want.Size, want.SHA256)
		}
	}
	for name := range found {
		if !listed[name] {
			return fmt.Errorf("damaged archive: %s is not in the manifest", name)
		}
	}
	if !listed[DatabaseName] {
		return fmt.Errorf("damaged archive: no %s", DatabaseName)
	}
	if m.SecretKey != listed[KeyName] {
		return fmt.Errorf("damaged archive: the manifest's secret_key does not match its files")
	}
	return nil
}
