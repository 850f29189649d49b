package testenv

import (
	"context"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/event"
)

// Unrecorded is the Transactor of services under test that are not about
// events: transactions on DB (when given), and changes made without
// recording their events.
type Unrecorded struct{ *database.DB }

// Change makes the change and records nothing.
func (Unrecorded) Change(ctx context.Context, change func(ctx context.Context) error, _ func() event.Occurrence) error {
	return change(ctx)
}

// Emit records nothing.
func (Unrecorded) Emit(context.Context, event.Occurrence) error { return nil }
