// Package testenv gives tests fresh, isolated backing services: a new
// PostgreSQL database or SQLite file per test, copied from a schema migrated
// once, and a new MinIO bucket or local folder per test. Service addresses
// come from the environment `make test` sets (RELKEY_TEST_DATABASE_URL,
// RELKEY_TEST_STORAGE_URL).
//
// A missing service fails the test. Only an explicit
// RELKEY_TEST_SERVICES=embedded, which CI refuses, limits a run to the
// embedded engines.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/database"
)

// Backend is one combination of database engine and object store that a
// suite runs against.
type Backend struct {
	Name     string
	Postgres bool // PostgreSQL + S3 (MinIO); otherwise SQLite + local folder
}

// Backends lists the backends every API suite must pass on: the embedded
// default and the production pair.
func Backends(t testing.TB) []Backend {
	t.Helper()
	backends := []Backend{{Name: "embedded"}}
	if embeddedOnly(t) {
		return backends
	}
	return append(backends, Backend{Name: "production", Postgres: true})
}

func embeddedOnly(t testing.TB) bool {
	if os.Getenv("RELKEY_TEST_SERVICES") != "embedded" {
		return false
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("RELKEY_TEST_SERVICES=embedded is not allowed under CI=true: every backend must be tested")
	}
	t.Log("RELKEY_TEST_SERVICES=embedded: PostgreSQL and MinIO backends are not tested in this run")
	return true
}

func require(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run the suite with `make test`, which starts PostgreSQL and MinIO "+
			"(or set RELKEY_TEST_SERVICES=embedded outside CI to test only the embedded backend)", name)
	}
	return v
}

// RandomName returns a short lower-case random identifier.
func RandomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// EmptyPostgresURL creates a fresh database without any table on the test
// server and returns its URL; the database is dropped when the test ends.
func EmptyPostgresURL(t testing.TB) string {
	t.Helper()
	return createDatabase(t, "")
}

// createDatabase creates a database with the given CREATE DATABASE options
// and drops it when the test ends.
func createDatabase(t testing.TB, options string) string {
	t.Helper()
	base := require(t, "RELKEY_TEST_DATABASE_URL")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := RandomName("relkey_test_")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" "+options); err != nil {
		t.Fatalf("create test database on %s: %v", redact(base), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, _ := url.Parse(base)
	u.Path = "/" + name
	return u.String()
}

// S3 creates a fresh bucket on the test MinIO server; it is emptied and
// removed when the test ends.
func S3(t testing.TB) *config.S3 {
	t.Helper()
	s3, err := config.ParseS3URL(require(t, "RELKEY_TEST_STORAGE_URL"))
	if err != nil {
		t.Fatalf("RELKEY_TEST_STORAGE_URL: %v", err)
	}
	s3.Bucket = strings.ReplaceAll(RandomName("relkey-test-"), "_", "-")
	client, err := minio.New(s3.Endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(s3.AccessKey, s3.SecretKey, ""), Secure: s3.Secure, Region: s3.Region,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := client.MakeBucket(ctx, s3.Bucket, minio.MakeBucketOptions{Region: s3.Region}); err != nil {
		t.Fatalf("create bucket on MinIO at %s: %v", s3.Endpoint, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for obj := range client.ListObjects(ctx, s3.Bucket, minio.ListObjectsOptions{Recursive: true}) {
			client.RemoveObject(ctx, s3.Bucket, obj.Key, minio.RemoveObjectOptions{})
		}
		client.RemoveBucket(ctx, s3.Bucket)
	})
	return s3
}

// EmptyOptions returns database options for a fresh database of the
// backend without any table, for tests of the migrations themselves.
func (b Backend) EmptyOptions(t testing.TB) database.Options {
	t.Helper()
	if b.Postgres {
		return database.Options{URL: EmptyPostgresURL(t), Timeout: 5 * time.Second}
	}
	return database.Options{SQLitePath: filepath.Join(t.TempDir(), "relkey.db"), Timeout: 5 * time.Second}
}

// OpenDB opens a fresh, migrated database of the backend.
func (b Backend) OpenDB(t testing.TB) *database.DB {
	t.Helper()
	opts := database.Options{Timeout: 5 * time.Second}
	if b.Postgres {
		opts.URL = PostgresURL(t)
	} else {
		opts.SQLitePath = filepath.Join(t.TempDir(), "relkey.db")
		SQLiteFile(t, opts.SQLitePath)
	}
	db, err := database.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
