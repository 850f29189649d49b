package cli

import (
	"context"
	"fmt"

	"github.com/relkey/relkey/internal/app"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/database"
)

// migrateCheck reports the schema beside the migrations this binary knows,
// applying none: exit 0 when this relkey can run on it (pending migrations
// are listed; serve applies them), 1 when a newer relkey migrated it or a
// migration failed half-way.
func migrateCheck(cmd Command, cfg config.Config) int {
	if len(cmd.Args) > 2 {
		fmt.Fprintln(cmd.Stderr, "relkey migrate --check takes no arguments")
		return exitUsage
	}
	db, err := app.OpenDatabase(context.Background(), cfg)
	if err != nil {
		return fail(cmd, err)
	}
	defer db.Close()
	s, err := db.Schema()
	if err != nil {
		return fail(cmd, err)
	}
	switch {
	case s.Unknown:
		return fail(cmd, &database.SchemaNewerError{Schema: s})
	case s.Dirty:
		return fail(cmd, fmt.Errorf("migration %d failed half-way and left the schema dirty: restore the backup taken before it", s.Applied))
	}
	newest := fmt.Sprintf("%d (%s)", s.Newest.Version, s.Newest.Name)
	if len(s.Pending) == 0 {
		fmt.Fprintf(cmd.Stdout, "schema at migration %s, the newest this relkey knows: up to date\n", newest)
		return exitOK
	}
	applied := "empty (no migration applied)"
	if s.Applied != 0 {
		applied = fmt.Sprintf("at migration %d", s.Applied)
	}
	fmt.Fprintf(cmd.Stdout, "schema %s; this relkey knows up to %s\n%d pending, applied by `relkey migrate` or at `relkey serve`:\n",
		applied, newest, len(s.Pending))
	for _, m := range s.Pending {
		fmt.Fprintf(cmd.Stdout, "  %04d %s\n", m.Version, m.Name)
	}
	return exitOK
}
