// Package id makes record ids: UUIDv7, time-ordered (and monotonic within a
// process), so records created in the same millisecond still list in
// creation order under ORDER BY created_at, id, and indexes stay local.
package id

import "github.com/google/uuid"

// New returns a new record id.
func New() string { return uuid.Must(uuid.NewV7()).String() }
