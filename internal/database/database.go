// Package database opens relkey's relational store (PostgreSQL, or an
// embedded SQLite file), applies its migrations and translates driver errors
// into apperr values. GORM is used only by stores, which get *DB from here.
package database

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Engine names a supported database engine.
type Engine string

const (
	Postgres Engine = "postgres"
	SQLite   Engine = "sqlite"
)

// DB is an open database.
type DB struct {
	Gorm   *gorm.DB
	SQL    *sql.DB
	Engine Engine
	dsn    string
	budget time.Duration // the longest any one database wait may take
	// background runs the statements of contexts marked Background on a
	// small pool of their own (backgroundConns), with the callbacks and
	// plugins of Gorm: the batch writers behind hot paths and webhook
	// deliveries no longer wait for a connection behind every request in
	// flight, which under load filled their buffers until they dropped.
	background   *gorm.DB
	backgroundDB *sql.DB
	// queryObserver times the statements run outside GORM (Read), as
	// ObserveStatements' callbacks time the others.
	queryObserver atomic.Pointer[func(time.Duration)]
	// createObserver times InsertAll's statements, as create statements.
	createObserver atomic.Pointer[func(time.Duration)]
	// writeObserver times the Writes a pgTx sends with another statement,
	// as raw statements.
	writeObserver atomic.Pointer[func(time.Duration)]
	counting      atomic.Bool // CountStatements was called
}

// Options configures Open.
type Options struct {
	// URL is a postgres:// URL; empty selects SQLite at SQLitePath.
	URL        string
	SQLitePath string
	// Timeout bounds every database wait: statements, lock waits and
	// connection attempts stay below it so requests end before their deadline.
	Timeout time.Duration
	// MaxConns caps the open connections (0: four per CPU).
	MaxConns int
}

// Open connects to the configured engine. It does not migrate.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	// Database waits get 80% of the request budget, leaving time to answer.
	budget := opts.Timeout * 8 / 10
	var (
		dialector gorm.Dialector
		engine    Engine
		dsn       string
		// sqlitePool is SQLite's pool, which GORM sees as a sharedPool.
		sqlitePool *sql.DB
	)
	if opts.URL != "" {
		var err error
		dsn, err = postgresDSN(opts.URL, budget)
		if err != nil {
			return nil, err
		}
		engine, dialector = Postgres, postgres.Open(dsn)
	} else {
		if err := os.MkdirAll(filepath.Dir(opts.SQLitePath), 0o700); err != nil {
			return nil, fmt.Errorf("database: %w", err)
		}
		// The file holds sealed keys and token digests: owner-only.
		if f, err := os.OpenFile(opts.SQLitePath, os.O_RDONLY|os.O_CREATE, 0o600); err == nil {
			f.Close()
		}
		dsn = sqliteDSN(opts.SQLitePath, budget)
		var err error
		if sqlitePool, dialector, err = openSQLite(dsn); err != nil {
			return nil, err
		}
		engine = SQLite
	}
	gormConfig := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                Now,
		// SQLite parses a statement anew unless it is prepared, and parsing
		// was a quarter of a validation's CPU; pgx caches its own statements.
		PrepareStmt:        engine == SQLite,
		PrepareStmtMaxSize: 512,
	}
	g, err := gorm.Open(dialector, gormConfig)
	// Processes opening a new SQLite file together race to switch it to WAL,
	// and the losers get SQLITE_BUSY at once (no busy wait resolves a lock
	// upgrade): they try again until the budget runs out.
	// GORM closes the pool of a failed open: each try opens its own.
	for deadline := time.Now().Add(budget); err != nil && engine == SQLite && IsUnavailable(err) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		if sqlitePool, dialector, err = openSQLite(dsn); err != nil {
			return nil, err
		}
		g, err = gorm.Open(dialector, gormConfig)
	}
	if err != nil {
		if sqlitePool != nil {
			sqlitePool.Close()
		}
		return nil, fmt.Errorf("database: open %s: %w", engine, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	maxConns := opts.MaxConns
	if maxConns <= 0 {
		maxConns = 4 * runtime.GOMAXPROCS(0)
		if engine == SQLite {
			// One writer at a time, readers in process: two per CPU served
			// as many validations, and each connection keeps its own page
			// cache and compiled statements (make bench, c=256: 142 MiB
			// peak with four per CPU and 2 MB caches, 105 with two and 512 KB).
			maxConns = 2 * runtime.GOMAXPROCS(0)
		}
	}
	sqlDB.SetMaxOpenConns(maxConns)
	sqlDB.SetMaxIdleConns(maxConns)
	db := &DB{Gorm: g, SQL: sqlDB, Engine: engine, dsn: dsn, budget: budget}
	if err := g.Use(ownerPlugin{db}); err != nil {
		sqlDB.Close()
		return nil, err
	}
	if err := g.Use(unpreparedBulk{}); err != nil {
		sqlDB.Close()
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("database: cannot reach %s: %w", engine, err)
	}
	if err := db.openBackground(gormConfig); err != nil {
		sqlDB.Close()
		return nil, err
	}
	return db, nil
}

// openSQLite opens SQLite's pool at dsn and the dialector GORM opens it by.
func openSQLite(dsn string) (*sql.DB, gorm.Dialector, error) {
	pool, err := sql.Open(sqlite.DriverName, dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("database: %w", err)
	}
	return pool, sqlite.New(sqlite.Config{DSN: dsn, Conn: sharedPool{pool}}), nil
}

// backgroundConns is the size of the background pool: its writers flush a
// batch at a time, one statement each, so two keep up with any request rate.
const backgroundConns = 2

// openBackground opens the background pool: the same database, the same
// GORM configuration (a session shares the callbacks and plugins of Gorm),
// other connections.
func (db *DB) openBackground(cfg *gorm.Config) error {
	driver := "pgx"
	if db.Engine == SQLite {
		driver = sqlite.DriverName
	}
	pool, err := sql.Open(driver, db.dsn)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	pool.SetMaxOpenConns(backgroundConns)
	pool.SetMaxIdleConns(backgroundConns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	var conns gorm.ConnPool = pool
	if db.Engine == SQLite {
		conns = gorm.NewPreparedStmtDB(sharedPool{pool}, cfg.PrepareStmtMaxSize, cfg.PrepareStmtTTL)
	}
	g := db.Gorm.Session(&gorm.Session{NewDB: true, Context: context.Background()})
	g.Config.ConnPool = conns
	g.Statement.ConnPool = conns
	db.background, db.backgroundDB = g, pool
	return nil
}

// Close releases the connection pools.
func (db *DB) Close() error {
	if db.backgroundDB != nil {
		db.backgroundDB.Close()
	}
	return db.SQL.Close()
}

// BackgroundPool is the background pool's database/sql handle (for its
// statistics).
func (db *DB) BackgroundPool() *sql.DB { return db.backgroundDB }

type backgroundKey struct{}

// Background marks ctx as a background writer's: the statements and
// transactions run with it use the background pool.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// backgroundWriteTimeout bounds one write of a batch writer.
const backgroundWriteTimeout = 5 * time.Second

// BackgroundWrite is the context of one write of a batch writer: on the
// background pool, bounded by backgroundWriteTimeout.
func BackgroundWrite() (context.Context, context.CancelFunc) {
	return context.WithTimeout(Background(context.Background()), backgroundWriteTimeout)
}

// handle is the GORM handle of ctx's pool.
func (db *DB) handle(ctx context.Context) *gorm.DB {
	if ctx.Value(backgroundKey{}) != nil && db.background != nil {
		return db.background
	}
	return db.Gorm
}

// Ping reports whether the database answers within ctx.
func (db *DB) Ping(ctx context.Context) error { return db.SQL.PingContext(ctx) }

// Now is the clock of every stored timestamp: UTC, at millisecond precision,
// which is what the API renders and both engines store exactly.
func Now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func postgresDSN(raw string, budget time.Duration) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("database: bad URL: %w", err)
	}
	q := u.Query()
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", strconv.Itoa(max(1, int(budget/time.Second/2))))
	}
	if q.Get("statement_timeout") == "" {
		q.Set("statement_timeout", strconv.FormatInt(budget.Milliseconds(), 10))
	}
	if q.Get("lock_timeout") == "" {
		q.Set("lock_timeout", strconv.FormatInt(budget.Milliseconds(), 10))
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func sqliteDSN(path string, budget time.Duration) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", budget.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// 512 KB of pages per connection (SQLite's default is 2 MB): the
	// operating system caches the file for all of them.
	q.Add("_pragma", "cache_size(-512)")
	// Write transactions take the lock when they begin, so two writers queue
	// on the busy timeout instead of failing on a lock upgrade.
	q.Set("_txlock", "immediate")
	// Times are stored as "2006-01-02 15:04:05.999999999-07:00" and read
	// back as times only from columns declared as such.
	q.Set("_time_format", "sqlite")
	q.Set("_texttotime", "0")
	q.Set("_inttotime", "0")
	return "file:" + path + "?" + q.Encode()
}

// UTCDate is the SQL expression of a timestamp column's UTC date, as
// 2006-01-02 text, on the engine.
func (db *DB) UTCDate(column string) string {
	if db.Engine == Postgres {
		return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	return "date(" + column + ")"
}
