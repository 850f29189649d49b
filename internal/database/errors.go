package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"modernc.org/sqlite"

	"github.com/relkey/relkey/internal/apperr"
)

// IsNotFound reports whether err means "no such row".
func IsNotFound(err error) bool { return errors.Is(err, gorm.ErrRecordNotFound) }

// IsUniqueViolation reports whether err is a unique-index violation on either engine.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// Error translates a database error that the store did not handle itself:
// outages and timeouts become apperr.Unavailable (503), anything else
// apperr.Internal. nil and *apperr.Error pass through.
func Error(err error) error {
	if err == nil {
		return nil
	}
	var appErr *apperr.Error
	if errors.As(err, &appErr) {
		return err
	}
	if IsUnavailable(err) {
		return &apperr.Error{Kind: apperr.Unavailable, Code: "SERVICE_UNAVAILABLE",
			Detail: "The service is temporarily unavailable; please retry shortly", Err: err}
	}
	return &apperr.Error{Kind: apperr.Internal, Code: "INTERNAL_SERVER_ERROR",
		Detail: "An unexpected error occurred", Err: err}
}

// SQLite's primary result codes for a database that is busy, a statement
// that was interrupted (by its context ending), and a WAL lock that many
// contending connections kept a reader from taking (SQLITE_PROTOCOL: "a
// race between processes", worth a retry).
const (
	sqliteBusy      = 5
	sqliteLocked    = 6
	sqliteInterrupt = 9
	sqliteProtocol  = 15
)

// IsUnavailable reports whether err means the database is down, overloaded
// or too slow, rather than that the query was wrong.
func IsUnavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || pgconn.Timeout(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			strings.HasPrefix(pgErr.Code, "53"), // insufficient resources
			strings.HasPrefix(pgErr.Code, "57"), // operator intervention, statement timeout
			pgErr.Code == "55P03":               // lock not available (lock_timeout)
			return true
		}
		return false
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() & 0xff { // the primary result code
		case sqliteBusy, sqliteLocked, sqliteInterrupt, sqliteProtocol:
			return true
		}
		return false
	}
	// database/sql rolls a transaction back when its context ends, and the
	// transaction's next statement reports that.
	if errors.Is(err, sql.ErrTxDone) || errors.Is(err, sql.ErrConnDone) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"conn closed", "connection refused", "timeout"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
