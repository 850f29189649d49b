package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeDB snapshots by writing content; during runs while it does (the
// store changing under the backup).
type fakeDB struct {
	content string
	during  func()
}

func (f fakeDB) SnapshotTo(_ context.Context, path string) error {
	if f.during != nil {
		f.during()
	}
	return os.WriteFile(path, []byte(f.content), 0o600)
}

func schemaOf(version uint) func(context.Context, string) (uint, error) {
	return func(context.Context, string) (uint, error) { return version, nil }
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func layoutIn(dir string) Layout {
	return Layout{DataDir: dir, Database: filepath.Join(dir, DatabaseName), KeyFile: filepath.Join(dir, KeyName), BlobDir: filepath.Join(dir, BlobsDir)}
}

// store makes a data dir with a key file and objects, one upload in progress.
func store(t *testing.T) Layout {
	t.Helper()
	l := layoutIn(t.TempDir())
	write(t, l.KeyFile, strings.Repeat("k", 64)+"\n")
	write(t, filepath.Join(l.BlobDir, "accounts/a/artifacts/1/app.bin"), "binary one")
	write(t, filepath.Join(l.BlobDir, "accounts/a/artifacts/2/notes.txt"), "notes")
	write(t, filepath.Join(l.BlobDir, "accounts/a/artifacts/3/.upload-123"), "partial")
	return l
}

func create(t *testing.T, src Source) (string, *Manifest) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "backup.tar.gz")
	if src.Schema == nil {
		src.Schema = schemaOf(18)
	}
	src.Version, src.Now = "v1.2.3", func() time.Time { return time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC) }
	m, err := Create(context.Background(), src, out)
	if err != nil {
		t.Fatal(err)
	}
	return out, m
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRoundTrip(t *testing.T) {
	src := store(t)
	archive, m := create(t, Source{DB: fakeDB{content: "database"}, Layout: src})
	if info, _ := os.Stat(archive); info.Mode().Perm() != 0o600 {
		t.Fatalf("archive mode %v: it holds the master key", info.Mode().Perm())
	}
	if m.Format != Format || m.SchemaVersion != 18 || m.RelkeyVersion != "v1.2.3" || !m.SecretKey || !m.Blobs || len(m.Files) != 4 {
		t.Fatalf("manifest %+v", m)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(src.DataDir, ".backup-*")); len(leftovers) > 0 {
		t.Fatalf("staging left in the data dir: %v", leftovers)
	}
	to := layoutIn(filepath.Join(t.TempDir(), "restored"))
	got, err := Restore(archive, Target{Layout: to, LatestSchema: 18})
	if err != nil {
		t.Fatal(err)
	}
	if got.Created != m.Created || len(got.Files) != len(m.Files) {
		t.Fatalf("restored manifest %+v, want %+v", got, m)
	}
	if read(t, to.Database) != "database" || read(t, to.KeyFile) != read(t, src.KeyFile) ||
		read(t, filepath.Join(to.BlobDir, "accounts/a/artifacts/1/app.bin")) != "binary one" ||
		read(t, filepath.Join(to.BlobDir, "accounts/a/artifacts/2/notes.txt")) != "notes" {
		t.Fatal("restored files differ")
	}
	if _, err := os.Stat(filepath.Join(to.BlobDir, "accounts/a/artifacts/3/.upload-123")); err == nil {
		t.Fatal("an upload in progress was archived")
	}
	entries, _ := os.ReadDir(to.DataDir)
	if len(entries) != 3 {
		t.Fatalf("data dir holds %d entries after a restore, want relkey.db, secret.key and blobs", len(entries))
	}
}

// TestObjectsChangingDuringTheSnapshot: an object deleted while the
// database is copied is still archived (its row may be in the copy), and
// one uploaded meanwhile is archived too.
func TestObjectsChangingDuringTheSnapshot(t *testing.T) {
	src := store(t)
	deleted := filepath.Join(src.BlobDir, "accounts/a/artifacts/1/app.bin")
	during := func() {
		os.Remove(deleted)
		write(t, filepath.Join(src.BlobDir, "accounts/a/artifacts/4/new.bin"), "uploaded during")
	}
	archive, _ := create(t, Source{DB: fakeDB{content: "db", during: during}, Layout: src})
	to := layoutIn(t.TempDir())
	if _, err := Restore(archive, Target{Layout: to, LatestSchema: 18}); err != nil {
		t.Fatal(err)
	}
	if read(t, filepath.Join(to.BlobDir, "accounts/a/artifacts/1/app.bin")) != "binary one" ||
		read(t, filepath.Join(to.BlobDir, "accounts/a/artifacts/4/new.bin")) != "uploaded during" {
		t.Fatal("objects changed during the snapshot are missing")
	}
}

func TestWithoutKeyFileOrObjects(t *testing.T) {
	src := store(t)
	src.KeyFile, src.BlobDir = "", ""
	archive, m := create(t, Source{DB: fakeDB{content: "db"}, Layout: src})
	if m.SecretKey || m.Blobs || len(m.Files) != 1 {
		t.Fatalf("manifest %+v", m)
	}
	to := layoutIn(t.TempDir())
	if _, err := Restore(archive, Target{Layout: to, LatestSchema: 18}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(to.KeyFile); err == nil {
		t.Fatal("a key file appeared")
	}
}

func TestRestoreReplacesOnlyWithForce(t *testing.T) {
	archive, _ := create(t, Source{DB: fakeDB{content: "new database"}, Layout: store(t)})
	to := layoutIn(t.TempDir())
	write(t, to.Database, "old database")
	write(t, to.Database+"-wal", "old journal")
	write(t, filepath.Join(to.BlobDir, "accounts/a/artifacts/9/old.bin"), "old object")
	write(t, filepath.Join(to.DataDir, "notes.md"), "the operator's")
	if _, err := Restore(archive, Target{Layout: to, LatestSchema: 18}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("restore over a data dir with files: %v", err)
	}
	if read(t, to.Database) != "old database" {
		t.Fatal("a refused restore changed the database")
	}
	if _, err := Restore(archive, Target{Layout: to, LatestSchema: 18, Replace: true}); err != nil {
		t.Fatal(err)
	}
	if read(t, to.Database) != "new database" || read(t, filepath.Join(to.DataDir, "notes.md")) != "the operator's" {
		t.Fatal("a forced restore did not replace the store alone")
	}
	for _, gone := range []string{to.Database + "-wal", filepath.Join(to.BlobDir, "accounts/a/artifacts/9/old.bin")} {
		if _, err := os.Stat(gone); err == nil {
			t.Fatalf("%s survived a forced restore", gone)
		}
	}
}

type entry struct {
	name string
	body []byte
}

func entries(t *testing.T, archive string) []entry {
	t.Helper()
	f, _ := os.Open(archive)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var out []entry
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		out = append(out, entry{hdr.Name, body})
	}
}

func pack(t *testing.T, list []entry) string {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range list {
		tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o600, Size: int64(len(e.body)), Typeflag: tar.TypeReg})
		tw.Write(e.body)
	}
	tw.Close()
	gz.Close()
	path := filepath.Join(t.TempDir(), "crafted.tar.gz")
	write(t, path, buf.String())
	return path
}

func TestRestoreRefusesDamagedArchives(t *testing.T) {
	good, _ := create(t, Source{DB: fakeDB{content: "database"}, Layout: store(t)})
	list := entries(t, good)
	manifest := list[len(list)-1]
	blob := 2 // relkey.db, secret.key, then the objects
	tests := []struct {
		name    string
		archive func() string
		latest  uint
		err     string
	}{
		{"cut short", func() string {
			raw := read(t, good)
			path := filepath.Join(t.TempDir(), "cut.tar.gz")
			write(t, path, raw[:len(raw)/2])
			return path
		}, 18, "damaged archive"},
		{"no manifest", func() string { return pack(t, list[:len(list)-1]) }, 18, "no manifest"},
		{"an object changed", func() string {
			changed := append([]entry(nil), list...)
			changed[blob] = entry{list[blob].name, []byte("tampered!!")}
			return pack(t, changed)
		}, 18, "does not match its checksum"},
		{"an entry the manifest lacks", func() string {
			extra := append([]entry{{"blobs/accounts/a/extra.bin", []byte("x")}}, list...)
			return pack(t, extra)
		}, 18, "not in the manifest"},
		{"a listed file missing", func() string {
			return pack(t, append(append([]entry(nil), list[:blob]...), list[blob+1:]...))
		}, 18, "not in the archive"},
		{"a path out of the data dir", func() string {
			return pack(t, append([]entry{{"blobs/../../evil", []byte("x")}}, list...))
		}, 18, "unexpected entry"},
		{"an entry after the manifest", func() string {
			return pack(t, append(append([]entry(nil), list...), entry{"blobs/late.bin", []byte("x")}))
		}, 18, "after the manifest"},
		{"an entry twice", func() string {
			return pack(t, append([]entry{list[0]}, list...))
		}, 18, "appears twice"},
		{"not a backup", func() string {
			path := filepath.Join(t.TempDir(), "plain.txt")
			write(t, path, "hello")
			return path
		}, 18, "not a relkey backup"},
		{"a newer schema", func() string { return good }, 17, "newer than this relkey runs"},
		{"a manifest of another format", func() string {
			other := append(append([]entry(nil), list[:len(list)-1]...),
				entry{ManifestName, bytes.Replace(manifest.body, []byte(`"format": 1`), []byte(`"format": 2`), 1)})
			return pack(t, other)
		}, 18, "format 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			to := layoutIn(filepath.Join(t.TempDir(), "data"))
			_, err := Restore(tt.archive(), Target{Layout: to, LatestSchema: tt.latest})
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
			if leftovers, _ := os.ReadDir(to.DataDir); len(leftovers) > 0 {
				t.Fatalf("a refused restore left %d entries in the data dir", len(leftovers))
			}
		})
	}
}
