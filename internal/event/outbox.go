package event

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm/clause"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/id"
)

// Occurrence is one state change as a domain service reports it.
type Occurrence struct {
	Event     string
	AccountID string
	// Resource is the record after the change (before it, for deletions);
	// the outbox's Renderer turns it into the payload.
	Resource any
	// Who made the change; nil when relkey did (a scheduled pass).
	Who      *access.Principal
	Metadata map[string]any
}

// Rendered is a resource as webhook payloads and the event log carry it.
type Rendered struct {
	Type, ID string
	// ProductID is the product the resource belongs to, when it has one:
	// a product's webhook endpoints receive only its events.
	ProductID string
	// Document renders the resource's JSON:API document ({"data": ...}):
	// the payload of webhooks, so an event nobody listens to never needs it.
	Document func() (json.RawMessage, error)
}

// Renderer renders a resource emitted with an event. It runs inside the
// change's transaction, so what it reads is what the change wrote.
type Renderer func(ctx context.Context, resource any) (Rendered, error)

// Record is a row of the outbox, which is also the event log.
type Record struct {
	ID             string
	AccountID      string
	Event          string
	ResourceType   string
	ResourceID     string
	ProductID      *string
	WhodunnitType  *string
	WhodunnitID    *string
	RequestID      *string
	IdempotencyKey string
	Metadata       database.JSON[map[string]any]
	Payload        string
	FannedOut      bool
	Occurrence     *string
	CreatedAt      time.Time
	// document renders Payload until Render has.
	document func() (json.RawMessage, error)
}

// TableName implements gorm's tabler.
func (Record) TableName() string { return "events" }

// Changer makes a change and records the event it caused in one transaction.
type Changer interface {
	Change(ctx context.Context, change func(ctx context.Context) error, occurred func() Occurrence) error
}

// Emitter records events: Emit in the transaction of ctx (or its own),
// Change around a change.
type Emitter interface {
	Emit(ctx context.Context, occ Occurrence) error
	Changer
}

// Once records a scheduled event once per occurrence (*Outbox's EmitOnce).
type Once interface {
	EmitOnce(ctx context.Context, occ Occurrence, occurrence string) (bool, error)
}

// Outbox writes events in the transaction of the change they record: a
// change rolled back leaves no event, a committed one always has its row.
// It is the Transactor of the services that emit events.
type Outbox struct {
	db     *database.DB
	render Renderer
	now    func() time.Time
	fanOut FanOut
}

// FanOut writes, in the transaction of a batch of events, what their
// listeners are to receive (webhook deliveries) and marks every record it
// handled FannedOut, which spares the fan-out pass reading and marking
// them. committed, when not nil, runs once the batch is committed. An
// endpoint whose creation (or change) commits during the batch may miss
// its events, a window as small as the guarantee of buffered events.
type FanOut func(ctx context.Context, recs []*Record) (committed func(), err error)

// FannedOutBy makes EmitBatch fan its events out with f as it writes them.
func (o *Outbox) FannedOutBy(f FanOut) { o.fanOut = f }

// NewOutbox returns the outbox over db; render builds payloads.
func NewOutbox(db *database.DB, render Renderer) *Outbox {
	return &Outbox{db: db, render: render, now: time.Now}
}

// InTx runs fn in one transaction; Emit inside fn joins it.
func (o *Outbox) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return o.db.InTx(ctx, fn)
}

// Emit writes occ. Called inside InTx it is part of that transaction
// (queued: on PostgreSQL the row goes with the transaction's COMMIT, or
// before its next statement, whose failure a failed insert is); outside,
// it is a statement of its own.
func (o *Outbox) Emit(ctx context.Context, occ Occurrence) error {
	rec, err := o.record(ctx, occ)
	if err != nil {
		return err
	}
	return database.QueueInsert(ctx, o.db, rec)
}

// Change runs change and, once it succeeded, emits what occurred in the
// same transaction.
func (o *Outbox) Change(ctx context.Context, change func(ctx context.Context) error, occurred func() Occurrence) error {
	return o.InTx(ctx, func(ctx context.Context) error {
		if err := change(ctx); err != nil {
			return err
		}
		return o.Emit(ctx, occurred())
	})
}

// EmitOnce writes occ unless an event of its type about its resource was
// written for the same occurrence (a license's expiry): passes of several
// replicas emit it once. It reports whether this call wrote it.
func (o *Outbox) EmitOnce(ctx context.Context, occ Occurrence, occurrence string) (bool, error) {
	rec, err := o.record(ctx, occ)
	if err != nil {
		return false, err
	}
	rec.Occurrence = &occurrence
	res := o.db.Conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(rec)
	return res.RowsAffected == 1, database.Error(res.Error)
}

// EmitBatch writes occurrences gathered off a hot path, batchChunk rows a
// transaction, with what their fan-out writes. A payload is rendered only
// for an event someone receives, and kept by its deliveries alone.
func (o *Outbox) EmitBatch(ctx context.Context, occs []Occurrence) error {
	// Rendered a chunk at a time, so a large batch never holds all its
	// payloads at once.
	recs := make([]*Record, 0, min(len(occs), batchChunk))
	for chunk := range slices.Chunk(occs, batchChunk) {
		recs = recs[:0]
		for _, occ := range chunk {
			rec, err := o.described(ctx, occ)
			if err != nil {
				return err
			}
			if o.fanOut == nil {
				// The fan-out pass reads the payload from the row.
				if err := rec.Render(); err != nil {
					return err
				}
			}
			recs = append(recs, rec)
		}
		var committed func()
		err := o.InTx(ctx, func(ctx context.Context) error {
			if o.fanOut != nil {
				var err error
				if committed, err = o.fanOut(ctx, recs); err != nil {
					return err
				}
				// Fanned out: the deliveries keep the payloads they need.
				for _, r := range recs {
					r.Payload = ""
				}
			}
			return database.InsertAll(ctx, o.db, recs)
		})
		if err != nil {
			return err
		}
		if committed != nil {
			committed()
		}
	}
	return nil
}

// batchChunk is how many events EmitBatch renders and inserts at a time: a
// power of two, so the full chunks' insert stays prepared.
const batchChunk = 256

// record is the row of occ with its payload.
func (o *Outbox) record(ctx context.Context, occ Occurrence) (*Record, error) {
	rec, err := o.described(ctx, occ)
	if err != nil {
		return nil, err
	}
	return rec, rec.Render()
}

// Render renders the payload of a record described without one; a record
// read back or rendered already is left as it is.
func (r *Record) Render() error {
	if r.document == nil {
		return nil
	}
	doc, err := r.document()
	if err != nil {
		return fmt.Errorf("event %s: rendering %s %s: %w", r.Event, r.ResourceType, r.ResourceID, err)
	}
	r.Payload, r.document = string(doc), nil
	return nil
}

// described is the row of occ, its payload left to Render.
func (o *Outbox) described(ctx context.Context, occ Occurrence) (*Record, error) {
	if !Known(occ.Event) {
		return nil, fmt.Errorf("event: unknown event type %q", occ.Event)
	}
	r, err := o.render(ctx, occ.Resource)
	if err != nil {
		return nil, fmt.Errorf("event %s: rendering %T: %w", occ.Event, occ.Resource, err)
	}
	rec := &Record{
		ID: id.New(), AccountID: occ.AccountID, Event: occ.Event,
		ResourceType: r.Type, ResourceID: r.ID, IdempotencyKey: id.New(),
		Metadata:  database.JSON[map[string]any]{V: occ.Metadata},
		CreatedAt: o.now().UTC(), document: r.Document,
	}
	if r.ProductID != "" {
		rec.ProductID = &r.ProductID
	}
	if occ.Who != nil {
		rec.WhodunnitType, rec.WhodunnitID = &occ.Who.BearerType, &occ.Who.BearerID
	}
	if rid := RequestID(ctx); rid != "" {
		rec.RequestID = &rid
	}
	return rec, nil
}

type requestIDKey struct{}

// WithRequestID tags ctx with the id of the API request being served, so
// the events it causes name it.
func WithRequestID(ctx context.Context, requestID string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, requestID)
}

// RequestID is the request id WithRequestID put in ctx, or "".
func RequestID(ctx context.Context) string {
	rid, _ := ctx.Value(requestIDKey{}).(string)
	return rid
}

// Ref names the record an event is about when the emitter holds only its
// id (a relationship change names its license, policy or release): the
// Renderer loads it. Type is the record's JSON:API type.
type Ref struct{ Type, AccountID, ID string }
