package testenv

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	dbfiles "github.com/relkey/relkey/db"
	"github.com/relkey/relkey/internal/database"
)

// Migrating a database costs far more than copying one, so each engine's
// schema is built once: a template database on the PostgreSQL server, named
// after a digest of the migrations and shared by every test process, and an
// in-memory image of a migrated SQLite file per process.
var (
	postgresTemplate = once[string]{}
	sqliteImage      = once[[]byte]{}
)

// once is a value computed at most once per process, error included.
type once[T any] struct {
	sync.Once
	v   T
	err error
}

func (o *once[T]) get(build func() (T, error)) (T, error) {
	o.Do(func() { o.v, o.err = build() })
	return o.v, o.err
}

// PostgresURL creates a fresh, migrated database on the test server, a copy
// of the schema template, and returns its URL; the database is dropped when
// the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	template, err := postgresTemplate.get(func() (string, error) { return buildPostgresTemplate(require(t, "RELKEY_TEST_DATABASE_URL")) })
	if err != nil {
		t.Fatalf("schema template on %s: %v", redact(os.Getenv("RELKEY_TEST_DATABASE_URL")), err)
	}
	return createDatabase(t, "TEMPLATE "+template)
}

// SQLiteFile writes a migrated SQLite database to path, a copy of the
// schema built once per process.
func SQLiteFile(t testing.TB, path string) {
	t.Helper()
	image, err := sqliteImage.get(buildSQLiteImage)
	if err != nil {
		t.Fatalf("SQLite schema image: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, image, 0o600); err != nil {
		t.Fatal(err)
	}
}

// migrationsDigest names the schema an engine's migrations build.
func migrationsDigest(engine database.Engine) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(dbfiles.Migrations, "migrations/"+string(engine), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(dbfiles.Migrations, path)
		fmt.Fprintf(h, "%s %d\n", path, len(body))
		h.Write(body)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:16], err
}

// buildPostgresTemplate makes sure the template of the current migrations
// exists on the server at base, building it under an advisory lock so that
// test processes starting together build it once.
func buildPostgresTemplate(base string) (string, error) {
	digest, err := migrationsDigest(database.Postgres)
	if err != nil {
		return "", err
	}
	name := "relkey_template_" + digest
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext($1))", name); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(hashtext($1))", name)
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil || exists {
		return name, err
	}
	// Built under a scratch name and renamed when complete, so that a run
	// killed half-way never leaves a half-migrated template behind.
	scratch := RandomName(name + "_")
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+scratch); err != nil {
		return "", err
	}
	u, _ := url.Parse(base)
	u.Path = "/" + scratch
	if err := migrate(ctx, database.Options{URL: u.String(), Timeout: time.Minute}); err != nil {
		conn.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+scratch+" WITH (FORCE)")
		return "", err
	}
	_, err = conn.ExecContext(ctx, "ALTER DATABASE "+scratch+" RENAME TO "+name)
	return name, err
}

// buildSQLiteImage migrates a scratch SQLite file and reads it whole.
func buildSQLiteImage() ([]byte, error) {
	dir, err := os.MkdirTemp("", "relkey-schema-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "relkey.db")
	if err := migrate(context.Background(), database.Options{SQLitePath: path, Timeout: time.Minute}); err != nil {
		return nil, err
	}
	// Closing the last connection checkpoints the write-ahead log into the file.
	return os.ReadFile(path)
}

func migrate(ctx context.Context, opts database.Options) error {
	db, err := database.Open(ctx, opts)
	if err != nil {
		return err
	}
	if err := db.MigrateUp(); err != nil {
		db.Close()
		return err
	}
	return db.Close()
}
