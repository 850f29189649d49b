// Package durable writes files that survive a crash whole or not at all:
// the content goes to a temporary file beside the target, is flushed to the
// disk, and only then takes the target's name, whose folder is flushed too.
// Files are created owner-only (0600): relkey writes keys and backups.
package durable

import (
	"io"
	"os"
	"path/filepath"
)

// WriteFile writes a file through write and publishes it at path, replacing
// what was there, only once complete and flushed.
func WriteFile(path string, write func(io.Writer) error) error {
	tmp, err := WriteTemp(path, write)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// WriteTemp writes a temporary file beside path through write, flushed to
// the disk, and returns its name: the caller publishes it (rename, link)
// and removes it.
func WriteTemp(path string, write func(io.Writer) error) (string, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return "", err
	}
	err = tmp.Chmod(0o600)
	if err == nil {
		err = write(tmp)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

// SyncDir flushes a folder's entries, so that a file created, renamed or
// removed in it stays so after a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
