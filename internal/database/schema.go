package database

import (
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	dbfiles "github.com/relkey/relkey/db"
)

// Migration is one of the migrations this binary embeds.
type Migration struct {
	Version uint
	Name    string // e.g. "release_order"
}

// Migrations lists the engine's embedded migrations, oldest first.
func Migrations(engine Engine) ([]Migration, error) {
	files, err := fs.Glob(dbfiles.Migrations, "migrations/"+string(engine)+"/*.up.sql")
	if err != nil {
		return nil, err
	}
	var migrations []Migration
	for _, file := range files {
		base := strings.TrimSuffix(file[strings.LastIndex(file, "/")+1:], ".up.sql")
		number, name, _ := strings.Cut(base, "_")
		version, err := strconv.ParseUint(number, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("migrations: %s has no version number", file)
		}
		migrations = append(migrations, Migration{Version: uint(version), Name: name})
	}
	slices.SortFunc(migrations, func(a, b Migration) int { return int(a.Version) - int(b.Version) })
	return migrations, nil
}

// Schema is the database's schema beside the migrations this binary knows.
type Schema struct {
	Applied uint // the applied version; 0 when none is
	Dirty   bool // the applied migration failed half-way
	Newest  Migration
	// Pending are the known migrations after Applied, oldest first.
	Pending []Migration
	// Unknown: Applied is no migration this binary knows, so a newer
	// relkey migrated the database.
	Unknown bool
}

// SchemaNewerError is the refusal to run against a schema a newer relkey made.
type SchemaNewerError struct{ Schema Schema }

func (e *SchemaNewerError) Error() string {
	return fmt.Sprintf("the database schema is at migration %d, which this relkey does not know (it knows up to %d): "+
		"a newer relkey migrated it. Run that newer relkey, or restore the backup taken before the upgrade",
		e.Schema.Applied, e.Schema.Newest.Version)
}

// Schema compares the applied migration with the embedded ones. It changes
// nothing.
func (db *DB) Schema() (Schema, error) {
	applied, dirty, err := db.MigrationVersion()
	if err != nil {
		return Schema{}, err
	}
	return db.schemaAt(applied, dirty)
}

// schemaAt is the schema at the applied version beside the embedded
// migrations.
func (db *DB) schemaAt(applied uint, dirty bool) (Schema, error) {
	known, err := Migrations(db.Engine)
	if err != nil {
		return Schema{}, err
	}
	if len(known) == 0 {
		return Schema{}, fmt.Errorf("migrations: none embedded for %s", db.Engine)
	}
	s := Schema{Applied: applied, Dirty: dirty, Newest: known[len(known)-1]}
	s.Unknown = applied != 0 && !slices.ContainsFunc(known, func(m Migration) bool { return m.Version == applied })
	if !s.Unknown {
		for _, m := range known {
			if m.Version > applied {
				s.Pending = append(s.Pending, m)
			}
		}
	}
	return s, nil
}
