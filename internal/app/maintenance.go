package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/backup"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/keyring"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/masterkey"
	"github.com/relkey/relkey/internal/secondfactor"
)

// ErrNotEmbedded refuses an embedded-store command on PostgreSQL.
var ErrNotEmbedded = errors.New("this command works on the embedded store (SQLite in RELKEY_DATA_DIR); " +
	"with PostgreSQL back up with pg_dump, a copy of the S3 bucket and RELKEY_SECRET_KEY, as README.md's \"Backups and restore\" shows")

func databaseOptions(cfg config.Config) database.Options {
	return database.Options{URL: cfg.DatabaseURL, SQLitePath: cfg.SQLitePath(), Timeout: cfg.RequestTimeout, MaxConns: cfg.DatabaseMaxConns}
}

// storeLayout is where the embedded store of cfg keeps its files; the key
// file and the objects are left out when they live elsewhere.
func storeLayout(cfg config.Config) backup.Layout {
	l := backup.Layout{DataDir: cfg.DataDir, Database: cfg.SQLitePath(), KeyFile: cfg.SecretKeyPath(), BlobDir: cfg.BlobDir()}
	if cfg.SecretKey != "" {
		l.KeyFile = ""
	}
	if cfg.Storage != nil {
		l.BlobDir = ""
	}
	return l
}

// Backup archives the embedded store to out while servers keep serving
// from it. It opens the database without migrating it: a newer binary
// backing up an older server's store leaves its schema alone.
func Backup(ctx context.Context, cfg config.Config, version, out string) (*backup.Manifest, error) {
	if !cfg.Embedded() {
		return nil, ErrNotEmbedded
	}
	// Opening would create an empty store where there is none.
	if _, err := os.Stat(cfg.SQLitePath()); err != nil {
		return nil, fmt.Errorf("no store to back up: %w", err)
	}
	db, err := database.Open(ctx, databaseOptions(cfg))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return backup.Create(ctx, backup.Source{DB: db, Layout: storeLayout(cfg), Version: version, Schema: snapshotSchema, Now: time.Now}, out)
}

// snapshotSchema reads the schema version of a database snapshot.
func snapshotSchema(ctx context.Context, path string) (uint, error) {
	db, err := database.Open(ctx, database.Options{SQLitePath: path})
	if err != nil {
		return 0, err
	}
	defer db.Close()
	v, dirty, err := db.MigrationVersion()
	if err == nil && dirty {
		err = fmt.Errorf("migration %d failed half-way: repair the schema before backing up", v)
	}
	return v, err
}

// Restore verifies an archive and restores it into cfg's data dir; replace
// lets it replace the store's files in a data dir that is not empty.
func Restore(cfg config.Config, archive string, replace bool) (*backup.Manifest, error) {
	if !cfg.Embedded() {
		return nil, ErrNotEmbedded
	}
	latest, err := database.LatestMigration(database.SQLite)
	if err != nil {
		return nil, err
	}
	layout := backup.Layout{DataDir: cfg.DataDir, Database: cfg.SQLitePath(), KeyFile: cfg.SecretKeyPath(), BlobDir: cfg.BlobDir()}
	return backup.Restore(archive, backup.Target{Layout: layout, Replace: replace, LatestSchema: latest})
}

// sealedStores are the stores that hold values sealed with the master key.
// A store that seals a new kind of value belongs here;
// TestRotationResealsEverySealedValue fails on one it misses.
func sealedStores(db *database.DB) []masterkey.Sealed {
	return []masterkey.Sealed{
		{Name: "account keys", Store: account.NewStore(db)},
		{Name: "license keys", Store: license.NewStore(db)},
		{Name: "second factor secrets", Store: secondfactor.NewStore(db)},
	}
}

// RotateMasterKey re-seals every sealed value under a new master key. In
// embedded mode it replaces the key file itself; with RELKEY_SECRET_KEY the
// new key is kept in newKeyFile (read when it exists, generated otherwise)
// for the operator to install. Servers on the store must be stopped: they
// hold the old key.
func RotateMasterKey(ctx context.Context, cfg config.Config, newKeyFile string) (*masterkey.Report, error) {
	r := masterkey.Rotation{Current: cfg.SecretKey, NewKeyFile: newKeyFile}
	if cfg.SecretKey == "" {
		current, err := keyring.Read(cfg.SecretKeyPath())
		if err != nil {
			return nil, fmt.Errorf("current master key: %w", err)
		}
		r.Current, r.KeyFile, r.NewKeyFile = current, cfg.SecretKeyPath(), cfg.SecretKeyPath()+masterkey.NewSuffix
	}
	db, err := database.Open(ctx, databaseOptions(cfg))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.MigrateUp(); err != nil {
		return nil, err
	}
	return masterkey.Rotate(ctx, db, sealedStores(db), r)
}
