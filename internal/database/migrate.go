package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/golang-migrate/migrate/v4"
	migratedb "github.com/golang-migrate/migrate/v4/database"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	dbfiles "github.com/relkey/relkey/db"
)

// MigrateUp applies every pending migration. Concurrent callers (replicas
// starting together, `account create` beside `serve`) wait for each other.
// Migrations only go forward: a schema that a newer relkey migrated is
// refused with a *SchemaNewerError, and nothing runs on it.
func (db *DB) MigrateUp() error {
	return db.migrate(func(m *migrate.Migrate) error {
		applied, dirty, err := appliedVersion(m)
		if err != nil {
			return err
		}
		s, err := db.schemaAt(applied, dirty)
		if err != nil {
			return err
		}
		if s.Unknown {
			return &SchemaNewerError{Schema: s}
		}
		return m.Up()
	})
}

// MigrateDown reverts steps migrations, or all of them when steps <= 0.
func (db *DB) MigrateDown(steps int) error {
	return db.migrate(func(m *migrate.Migrate) error {
		if steps <= 0 {
			return m.Down()
		}
		return m.Steps(-steps)
	})
}

// MigrationVersion reports the applied version (0 when none) and whether a
// migration failed half-way on an engine without transactional DDL.
func (db *DB) MigrationVersion() (version uint, dirty bool, err error) {
	err = db.migrate(func(m *migrate.Migrate) error {
		version, dirty, err = appliedVersion(m)
		return err
	})
	return version, dirty, err
}

// appliedVersion is m's applied version, 0 when none is.
func appliedVersion(m *migrate.Migrate) (uint, bool, error) {
	version, dirty, err := m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	return version, dirty, err
}

// migrationWait bounds how long a migrator waits for another replica's
// migrations, and how long one migration may run: far beyond a request's
// budget, which the pool's connections carry.
const migrationWait = 10 * time.Minute

func (db *DB) migrate(run func(*migrate.Migrate) error) error {
	src, err := iofs.New(dbfiles.Migrations, "migrations/"+string(db.Engine))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	var driver migratedb.Driver
	switch db.Engine {
	case Postgres:
		// The pgx driver closes the *sql.DB it is given, so it gets its own.
		dsn, err := withoutRequestTimeouts(db.dsn)
		if err != nil {
			return err
		}
		conn, err := sql.Open("pgx", dsn)
		if err != nil {
			return err
		}
		if driver, err = pgxmigrate.WithInstance(conn, &pgxmigrate.Config{}); err != nil {
			conn.Close()
			return fmt.Errorf("migrations: %w", err)
		}
	case SQLite:
		if driver, err = newSQLiteMigrator(db.SQL, db.budget); err != nil {
			return fmt.Errorf("migrations: %w", err)
		}
	}
	m, err := migrate.NewWithInstance("iofs", src, string(db.Engine), driver)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	defer m.Close()
	m.LockTimeout = migrationWait
	if err := run(m); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// sqliteMigrator is golang-migrate's database driver for SQLite over the
// pool relkey already has (golang-migrate's own SQLite driver registers a
// second database/sql driver named "sqlite" and cannot live beside GORM's).
// Lock opens a BEGIN IMMEDIATE transaction that every migration of the run
// shares: other processes wait for it, and a failed run rolls back whole.
type sqliteMigrator struct {
	db     *sql.DB
	conn   *sql.Conn
	failed bool
	// budget is the pool's busy timeout, which a locked connection gets
	// back when it returns to the pool.
	budget time.Duration
}

const sqliteMigrationsTable = "schema_migrations"

func newSQLiteMigrator(db *sql.DB, budget time.Duration) (*sqliteMigrator, error) {
	s := &sqliteMigrator{db: db, budget: budget}
	ctx := context.Background()
	conn, err := s.waitingConn(ctx)
	if err != nil {
		return nil, err
	}
	_, err = conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+sqliteMigrationsTable+` (version INTEGER NOT NULL, dirty BOOLEAN NOT NULL)`)
	return s, errors.Join(err, s.release(conn))
}

// waitingConn is a connection of the pool that waits up to migrationWait
// for another process's write lock.
func (s *sqliteMigrator) waitingConn(ctx context.Context) (*sql.Conn, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", migrationWait.Milliseconds())); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// release gives a waiting connection its budget back and returns it to
// the pool.
func (s *sqliteMigrator) release(conn *sql.Conn) error {
	_, err := conn.ExecContext(context.Background(), fmt.Sprintf("PRAGMA busy_timeout = %d", s.budget.Milliseconds()))
	return errors.Join(err, conn.Close())
}

func (s *sqliteMigrator) Open(string) (migratedb.Driver, error) {
	return nil, errors.New("sqlite migrator is created from an open pool, not a URL")
}

func (s *sqliteMigrator) Close() error {
	if s.conn == nil {
		return nil
	}
	return s.Unlock()
}

func (s *sqliteMigrator) Lock() error {
	if s.conn != nil {
		return migratedb.ErrLocked
	}
	conn, err := s.waitingConn(context.Background())
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		return errors.Join(err, s.release(conn))
	}
	s.conn, s.failed = conn, false
	return nil
}

func (s *sqliteMigrator) Unlock() error {
	if s.conn == nil {
		return migratedb.ErrNotLocked
	}
	end := "COMMIT"
	if s.failed {
		end = "ROLLBACK"
	}
	_, err := s.conn.ExecContext(context.Background(), end)
	closeErr := s.release(s.conn)
	s.conn = nil
	return errors.Join(err, closeErr)
}

type execQuerier interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

// q runs inside the migration transaction while locked.
func (s *sqliteMigrator) q() execQuerier {
	if s.conn != nil {
		return s.conn
	}
	return s.db
}

func (s *sqliteMigrator) Run(migration io.Reader) error {
	body, err := io.ReadAll(migration)
	if err != nil {
		return err
	}
	if _, err := s.q().ExecContext(context.Background(), string(body)); err != nil {
		s.failed = true
		return &migratedb.Error{OrigErr: err, Err: "migration failed", Query: body}
	}
	return nil
}

func (s *sqliteMigrator) SetVersion(version int, dirty bool) error {
	ctx := context.Background()
	if _, err := s.q().ExecContext(ctx, `DELETE FROM `+sqliteMigrationsTable); err != nil {
		return err
	}
	if version < 0 && !dirty {
		return nil
	}
	_, err := s.q().ExecContext(ctx, `INSERT INTO `+sqliteMigrationsTable+` (version, dirty) VALUES (?, ?)`, version, dirty)
	return err
}

func (s *sqliteMigrator) Version() (int, bool, error) {
	var (
		version int
		dirty   bool
	)
	err := s.q().QueryRowContext(context.Background(), `SELECT version, dirty FROM `+sqliteMigrationsTable+` LIMIT 1`).Scan(&version, &dirty)
	if errors.Is(err, sql.ErrNoRows) {
		return migratedb.NilVersion, false, nil
	}
	return version, dirty, err
}

func (s *sqliteMigrator) Drop() error {
	// A virtual table (search's FTS5 indexes) drops its shadow tables.
	rows, err := s.q().QueryContext(context.Background(), `SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'virtual') AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, name)
	}
	rows.Close()
	for _, t := range tables {
		if _, err := s.q().ExecContext(context.Background(), `DROP TABLE "`+t+`"`); err != nil {
			return err
		}
	}
	return nil
}

// withoutRequestTimeouts is a PostgreSQL DSN of relkey's without the
// request budget's statement and lock timeouts: a migration waits for
// another replica's and may build an index on a large table.
func withoutRequestTimeouts(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("statement_timeout", strconv.FormatInt(migrationWait.Milliseconds(), 10))
	q.Set("lock_timeout", strconv.FormatInt(migrationWait.Milliseconds(), 10))
	u.RawQuery = q.Encode()
	return u.String(), nil
}
