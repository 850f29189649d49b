// Package backup archives relkey's embedded store — the SQLite database, the
// master key file and the local object folder — into one tar.gz with a
// manifest of checksums, while a server keeps serving from it; and restores
// such an archive into a data dir after verifying every file.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/relkey/relkey/internal/durable"
	"github.com/relkey/relkey/internal/storage"
)

// Format is the version of the archive layout this package writes and reads.
const Format = 1

// Names inside an archive.
const (
	ManifestName = "manifest.json"
	DatabaseName = "relkey.db"
	KeyName      = "secret.key"
	BlobsDir     = "blobs"
)

// Layout is where an embedded store keeps its files, all inside DataDir.
// KeyFile is empty when the master key comes from the environment, BlobDir
// when objects live in S3: neither is then part of the store's files.
type Layout struct {
	DataDir  string
	Database string
	KeyFile  string
	BlobDir  string
}

// Manifest describes an archive; it is its last entry, so an archive cut
// short has none and is refused.
type Manifest struct {
	Format        int       `json:"format"`
	RelkeyVersion string    `json:"relkey_version"`
	SchemaVersion uint      `json:"schema_version"`
	Created       time.Time `json:"created"`
	// SecretKey tells whether the archive holds the master key file, Blobs
	// whether it holds the local objects.
	SecretKey bool   `json:"secret_key"`
	Blobs     bool   `json:"blobs"`
	Files     []File `json:"files"`
}

// File is one archived file.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Snapshotter copies the live database consistently to a new file.
type Snapshotter interface {
	SnapshotTo(ctx context.Context, path string) error
}

// Source is a store to back up.
type Source struct {
	DB     Snapshotter
	Layout Layout
	// Version is the relkey version recorded in the manifest.
	Version string
	// Schema reads the schema version of a database snapshot.
	Schema func(ctx context.Context, path string) (uint, error)
	Now    func() time.Time
}

// Create writes an archive of src to out, replacing it only once complete.
//
// The database is copied in one read transaction. Objects are frozen with
// hard links (no copy) before and after it: every object a snapshotted row
// refers to is in the archive, even one deleted meanwhile, and an object
// uploaded after the snapshot is in it too, its row then waiting to settle.
func Create(ctx context.Context, src Source, out string) (*Manifest, error) {
	staging, err := os.MkdirTemp(src.Layout.DataDir, ".backup-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging)
	frozen := filepath.Join(staging, BlobsDir)
	freeze := func() error {
		if src.Layout.BlobDir == "" {
			return nil
		}
		return freezeObjects(src.Layout.BlobDir, frozen)
	}
	snapshot := filepath.Join(staging, DatabaseName)
	if err := freeze(); err != nil {
		return nil, err
	}
	if err := src.DB.SnapshotTo(ctx, snapshot); err != nil {
		return nil, err
	}
	if err := freeze(); err != nil {
		return nil, err
	}
	schema, err := src.Schema(ctx, snapshot)
	if err != nil {
		return nil, fmt.Errorf("snapshot schema: %w", err)
	}
	m := &Manifest{Format: Format, RelkeyVersion: src.Version, SchemaVersion: schema, Created: src.Now().UTC(),
		SecretKey: src.Layout.KeyFile != "", Blobs: src.Layout.BlobDir != ""}
	err = durable.WriteFile(out, func(w io.Writer) error {
		a := &archiveWriter{gz: gzip.NewWriter(w), manifest: m}
		a.tar = tar.NewWriter(a.gz)
		if err := a.add(DatabaseName, snapshot); err != nil {
			return err
		}
		if m.SecretKey {
			if err := a.add(KeyName, src.Layout.KeyFile); err != nil {
				return err
			}
		}
		if m.Blobs {
			if err := storage.WalkLocal(frozen, func(key, path string) error { return a.add(BlobsDir+"/"+key, path) }); err != nil {
				return err
			}
		}
		return a.close()
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// freezeObjects hard-links every object of the local store in dir into
// frozen that is not there yet; an object deleted meanwhile is skipped.
func freezeObjects(dir, frozen string) error {
	return storage.WalkLocal(dir, func(key, path string) error {
		target := filepath.Join(frozen, filepath.FromSlash(key))
		if _, err := os.Lstat(target); err == nil {
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
			return err
		}
		err := os.Link(path, target)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			// A file system without hard links: copy instead.
			return copyFile(path, target)
		}
		return nil
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer in.Close()
	return durable.WriteFile(to, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
}

// archiveWriter writes a tar.gz and records each file in the manifest.
type archiveWriter struct {
	gz       *gzip.Writer
	tar      *tar.Writer
	manifest *Manifest
}

// add archives the file at path as name; the files it is given do not
// change (frozen objects, the snapshot, the key file).
func (a *archiveWriter) add(name, path string) error {
	info, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("archiving %s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := a.tar.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: info.Size(), ModTime: info.ModTime(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	sum := sha256.New()
	if _, err := io.Copy(io.MultiWriter(a.tar, sum), f); err != nil {
		return fmt.Errorf("archiving %s: %w", name, err)
	}
	a.manifest.Files = append(a.manifest.Files, File{Path: name, Size: info.Size(), SHA256: hex.EncodeToString(sum.Sum(nil))})
	return nil
}

// close appends the manifest and ends the archive.
func (a *archiveWriter) close() error {
	body, err := json.MarshalIndent(a.manifest, "", "  ")
	if err != nil {
		return err
	}
	if err := a.tar.WriteHeader(&tar.Header{Name: ManifestName, Mode: 0o600, Size: int64(len(body)), ModTime: a.manifest.Created, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := a.tar.Write(body); err != nil {
		return err
	}
	if err := a.tar.Close(); err != nil {
		return err
	}
	return a.gz.Close()
}
