package database

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	dbfiles "github.com/relkey/relkey/db"
)

// LatestMigration is the version of the newest migration this binary
// embeds for the engine: the newest schema it can run on.
func LatestMigration(engine Engine) (uint, error) {
	files, err := fs.Glob(dbfiles.Migrations, "migrations/"+string(engine)+"/*.up.sql")
	if err != nil {
		return 0, err
	}
	var latest uint
	for _, f := range files {
		prefix, _, _ := strings.Cut(path.Base(f), "_")
		v, err := strconv.ParseUint(prefix, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("migrations: bad file name %s", f)
		}
		latest = max(latest, uint(v))
	}
	return latest, nil
}

// SnapshotTo writes a consistent copy of the embedded database to path
// (which must not exist) while others keep reading and writing it: VACUUM
// INTO reads in one transaction, so the copy holds every transaction
// committed before it began and none after.
func (db *DB) SnapshotTo(ctx context.Context, path string) error {
	if db.Engine != SQLite {
		return errors.New("database: snapshots are taken of the embedded SQLite store only (use pg_dump for PostgreSQL)")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("database: snapshot target %s already exists", path)
	}
	if err := db.Gorm.WithContext(ctx).Exec("VACUUM INTO ?", path).Error; err != nil {
		return fmt.Errorf("database: snapshot: %w", Error(err))
	}
	return nil
}

// resealBatch is how many rows Reseal reads at once.
const resealBatch = 500

// Reseal rewrites every non-null value of table.column through reseal, in
// id order and in batches, within ctx's transaction (InTx) if it has one;
// it returns how many values it rewrote. Stores call it for the columns
// they own that hold values sealed with the master key; updated_at is left
// alone, as the records do not change.
func (db *DB) Reseal(ctx context.Context, table, column string, reseal func(sealed string) (string, error)) (int64, error) {
	conn := db.Conn(ctx)
	// Ids are UUIDs on both engines: the nil UUID sorts before every one.
	after, total := "00000000-0000-0000-0000-000000000000", int64(0)
	for {
		var rows []struct {
			ID     string
			Sealed string
		}
		err := conn.Raw(`SELECT id, `+column+` AS sealed FROM `+table+` WHERE `+column+` IS NOT NULL AND id > ? ORDER BY id LIMIT ?`,
			after, resealBatch).Scan(&rows).Error
		if err != nil {
			return total, Error(err)
		}
		for _, row := range rows {
			resealed, err := reseal(row.Sealed)
			if err != nil {
				return total, fmt.Errorf("%s.%s of %s: %w", table, column, row.ID, err)
			}
			if resealed == row.Sealed {
				continue
			}
			if err := conn.Exec(`UPDATE `+table+` SET `+column+` = ? WHERE id = ?`, resealed, row.ID).Error; err != nil {
				return total, Error(err)
			}
			total++
		}
		if len(rows) < resealBatch {
			return total, nil
		}
		after = rows[len(rows)-1].ID
	}
}
