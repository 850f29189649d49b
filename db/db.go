// Package db embeds relkey's versioned SQL migrations, one folder per engine.
package db

import "embed"

// Migrations holds migrations/postgres/*.sql and migrations/sqlite/*.sql in
// golang-migrate's NNNN_name.{up,down}.sql layout.
//
//go:embed migrations
var Migrations embed.FS
