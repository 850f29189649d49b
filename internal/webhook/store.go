package webhook

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/page"
)

// Store persists endpoints and deliveries.
type Store struct {
	db *database.DB
	// fresh is the handoff of the worker running in this process, if any.
	fresh atomic.Pointer[handoff]
}

// NewStore returns the webhook store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// FanOutBatch fans out a batch of events as it is written (an
// event.FanOut): their deliveries are inserted in its transaction, from
// the records in hand, and every record is marked fanned out. While a
// worker runs in this process, the deliveries are claimed for it and
// handed to it once the batch is committed.
func (s *Store) FanOutBatch(ctx context.Context, recs []*event.Record) (func(), error) {
	for _, r := range recs {
		r.FannedOut = true
	}
	endpoints, err := s.endpointsOf(ctx, recs)
	if err != nil {
		return nil, err
	}
	// Made as the batch was written (its last record).
	now := recs[len(recs)-1].CreatedAt
	deliveries, err := deliveriesOf(recs, endpoints, now, nil)
	if err != nil {
		return nil, err
	}
	if len(deliveries) == 0 {
		return nil, nil
	}
	h := s.fresh.Load()
	if h != nil && h.room(len(deliveries)) {
		until := now.Add(lease).UTC()
		for i := range deliveries {
			deliveries[i].ClaimedUntil = &until
		}
	} else {
		h = nil
	}
	if err := s.insert(ctx, deliveries); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, nil
	}
	return func() { h.put(deliveries) }, nil
}

// insert writes the deliveries of events fanned out, and their payloads.
func (s *Store) insert(ctx context.Context, deliveries []Delivery) error {
	payloads := make([]webhookPayload, 0, len(deliveries))
	for i := range deliveries {
		if d := &deliveries[i]; i == 0 || d.EventID != deliveries[i-1].EventID {
			payloads = append(payloads, webhookPayload{EventID: d.EventID, AccountID: d.AccountID, Payload: d.Payload})
		}
	}
	if err := database.InsertAll(ctx, s.db, payloads); err != nil {
		return err
	}
	return database.InsertAll(ctx, s.db, deliveries)
}

// endpointsOf reads the endpoints of the events' accounts.
func (s *Store) endpointsOf(ctx context.Context, recs []*event.Record) ([]Endpoint, error) {
	accounts := make([]string, 0, 1)
	for _, r := range recs {
		if !slices.Contains(accounts, r.AccountID) {
			accounts = append(accounts, r.AccountID)
		}
	}
	var list []Endpoint
	if err := s.db.Conn(ctx).Where("account_id IN ?", accounts).Find(&list).Error; err != nil {
		return nil, database.Error(err)
	}
	return list, nil
}

// deliveriesOf makes, at now, the deliveries of events to the endpoints
// that receive them, claimed until claimedUntil (nil: not claimed).
func deliveriesOf(recs []*event.Record, endpoints []Endpoint, now time.Time, claimedUntil *time.Time) ([]Delivery, error) {
	var deliveries []Delivery
	for _, ev := range recs {
		for i := range endpoints {
			if e := &endpoints[i]; e.AccountID == ev.AccountID && e.Receives(ev) {
				// Rendered only now that someone receives it.
				if err := ev.Render(); err != nil {
					return nil, err
				}
				d := newDelivery(ev, e, now)
				d.ClaimedUntil = claimedUntil
				deliveries = append(deliveries, d)
			}
		}
	}
	return deliveries, nil
}

// CreateEndpoint inserts an endpoint.
func (s *Store) CreateEndpoint(ctx context.Context, e *Endpoint) error {
	return database.Insert(s.db.Conn(ctx), e, nil)
}

// SaveEndpoint writes every column of an endpoint.
func (s *Store) SaveEndpoint(ctx context.Context, e *Endpoint) error {
	return database.Save(s.db.Conn(ctx), e.AccountID, e, nil)
}

// FindEndpoint returns an endpoint of the account.
func (s *Store) FindEndpoint(ctx context.Context, accountID, ref string) (*Endpoint, error) {
	notFound := apperr.NotFoundResource("webhook endpoint", ref)
	if uuid.Validate(ref) != nil {
		return nil, notFound
	}
	return database.Take[Endpoint](s.db.Conn(ctx).Where("account_id = ? AND id = ?", accountID, ref), notFound)
}

// ListEndpoints returns a page of an account's endpoints.
func (s *Store) ListEndpoints(ctx context.Context, accountID string, p page.Request) ([]Endpoint, int64, error) {
	return database.Paginate[Endpoint](s.db.Conn(ctx).Where("account_id = ?", accountID), p)
}

// DeleteEndpoint removes an endpoint.
func (s *Store) DeleteEndpoint(ctx context.Context, e *Endpoint) error {
	return database.Error(s.db.Conn(ctx).Where("account_id = ?", e.AccountID).Delete(e).Error)
}

// FindDelivery returns a delivery of the account.
func (s *Store) FindDelivery(ctx context.Context, accountID, ref string) (*Delivery, error) {
	notFound := apperr.NotFoundResource("webhook event", ref)
	if uuid.Validate(ref) != nil {
		return nil, notFound
	}
	return database.Take[Delivery](withPayload(s.db.Conn(ctx).Where("webhook_events.account_id = ? AND webhook_events.id = ?", accountID, ref)), notFound)
}

// withPayload reads deliveries with their payloads.
func withPayload(q *gorm.DB) *gorm.DB {
	return q.Select("webhook_events.*, webhook_payloads.payload").
		Joins("JOIN webhook_payloads ON webhook_payloads.event_id = webhook_events.event_id")
}

// ListDeliveries returns a page of an account's deliveries.
func (s *Store) ListDeliveries(ctx context.Context, accountID string, f DeliveryFilter, p page.Request) ([]Delivery, int64, error) {
	q := s.db.Conn(ctx).Model(&Delivery{}).Where("webhook_events.account_id = ?", accountID)
	if len(f.Events) > 0 {
		q = q.Where("webhook_events.event IN ?", f.Events)
	}
	if f.EndpointID != "" {
		q = q.Where("webhook_events.endpoint_id = ?", f.EndpointID)
	}
	if f.Status != "" {
		q = q.Where("webhook_events.status = ?", f.Status)
	}
	return database.PaginateIn[Delivery](q, "webhook_events", p, withPayload)
}

// DeleteDelivery removes a delivery, and its payload with the event's last.
func (s *Store) DeleteDelivery(ctx context.Context, d *Delivery) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.Conn(ctx).Where("account_id = ?", d.AccountID).Delete(d).Error; err != nil {
			return database.Error(err)
		}
		return database.Error(s.db.Conn(ctx).Where("account_id = ? AND event_id = ? AND NOT EXISTS (SELECT 1 FROM webhook_events WHERE event_id = ?)",
			d.AccountID, d.EventID, d.EventID).Delete(&webhookPayload{}).Error)
	})
}

// CreateDelivery inserts a delivery of an event that has deliveries (a
// retry), whose payload is kept already.
func (s *Store) CreateDelivery(ctx context.Context, d *Delivery) error {
	return database.Insert(s.db.Conn(ctx), d, nil)
}

// lock adds FOR UPDATE OF table SKIP LOCKED on PostgreSQL, so replicas
// claim disjoint rows; SQLite has one writer, whose transaction is the lock.
func (s *Store) lock(q *gorm.DB, table string) *gorm.DB {
	if s.db.Engine == database.Postgres {
		return q.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: table}, Options: "SKIP LOCKED"})
	}
	return q
}

// FanOut turns up to limit pending events into deliveries to the endpoints
// subscribed to them when they occurred, and marks them handled, in one
// transaction. With a lease, the deliveries are claimed by the caller
// for it and returned, to be attempted without being claimed again.
func (s *Store) FanOut(ctx context.Context, limit int, now time.Time, lease time.Duration) (int, []Delivery, error) {
	var (
		handled    int
		deliveries []Delivery
	)
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		var events []event.Record
		// Payloads are read only for the events some endpoint receives.
		q := s.db.Conn(ctx).Select("id, account_id, event, product_id, idempotency_key, created_at").
			Where("NOT fanned_out").Order("created_at, id").Limit(limit)
		if err := s.lock(q, "events").Find(&events).Error; err != nil {
			return database.Error(err)
		}
		if len(events) == 0 {
			return nil
		}
		ids := make([]string, len(events))
		recs := make([]*event.Record, len(events))
		for i := range events {
			ids[i], recs[i] = events[i].ID, &events[i]
		}
		endpoints, err := s.endpointsOf(ctx, recs)
		if err != nil {
			return err
		}
		var claimedUntil *time.Time
		if lease > 0 {
			until := now.Add(lease).UTC()
			claimedUntil = &until
		}
		if deliveries, err = deliveriesOf(recs, endpoints, now, claimedUntil); err != nil {
			return err
		}
		if len(deliveries) > 0 {
			if err := s.fillPayloads(ctx, deliveries); err != nil {
				return err
			}
			if err := s.insert(ctx, deliveries); err != nil {
				return err
			}
		}
		handled = len(events)
		return database.Error(s.db.Conn(ctx).Model(&event.Record{}).Where("id IN ?", ids).Update("fanned_out", true).Error)
	})
	if err != nil || lease <= 0 {
		return handled, nil, err
	}
	return handled, deliveries, nil
}

// fillPayloads reads the payloads of the deliveries' events.
func (s *Store) fillPayloads(ctx context.Context, deliveries []Delivery) error {
	ids := make([]string, 0, len(deliveries))
	for _, d := range deliveries {
		ids = append(ids, d.EventID)
	}
	var payloads []struct{ ID, Payload string }
	if err := s.db.Conn(ctx).Model(&event.Record{}).Select("id, payload").Where("id IN ?", slices.Compact(ids)).Find(&payloads).Error; err != nil {
		return database.Error(err)
	}
	byID := make(map[string]string, len(payloads))
	for _, p := range payloads {
		byID[p.ID] = p.Payload
	}
	for i := range deliveries {
		deliveries[i].Payload = byID[deliveries[i].EventID]
	}
	return nil
}

// Endpoints returns the endpoints of deliveries by id, gone ones left out.
func (s *Store) Endpoints(ctx context.Context, ids []string) (map[string]*Endpoint, error) {
	var list []Endpoint
	if err := s.db.Conn(ctx).Where("id IN ?", ids).Find(&list).Error; err != nil {
		return nil, database.Error(err)
	}
	out := make(map[string]*Endpoint, len(list))
	for i := range list {
		out[list[i].ID] = &list[i]
	}
	return out, nil
}

// RecordAttempts writes the outcome of attempted deliveries in one
// transaction: the deliveries a 2xx answered without a body in one
// statement per response code, the others one by one. Only the columns
// an attempt changes are written.
func (s *Store) RecordAttempts(ctx context.Context, attempted []*Delivery) error {
	if len(attempted) == 0 {
		return nil
	}
	return s.db.InTx(ctx, func(ctx context.Context) error {
		delivered := map[int][]string{}
		var at time.Time
		for _, d := range attempted {
			if d.Status == Delivered && d.LastResponseCode != nil && d.LastResponseBody != nil && *d.LastResponseBody == "" {
				delivered[*d.LastResponseCode] = append(delivered[*d.LastResponseCode], d.ID)
				at = d.UpdatedAt
				continue
			}
			err := s.db.Conn(ctx).Model(&Delivery{}).Where("account_id = ? AND id = ?", d.AccountID, d.ID).Updates(map[string]any{
				"status": d.Status, "attempts": d.Attempts, "next_attempt_at": d.NextAttemptAt, "claimed_until": d.ClaimedUntil,
				"last_response_code": d.LastResponseCode, "last_response_body": d.LastResponseBody, "updated_at": d.UpdatedAt,
			}).Error
			if err != nil {
				return database.Error(err)
			}
		}
		for code, ids := range delivered {
			err := s.db.Conn(ctx).Model(&Delivery{}).Where("id IN ?", ids).Updates(map[string]any{
				"status": Delivered, "attempts": gorm.Expr("attempts + 1"), "claimed_until": nil,
				"last_response_code": code, "last_response_body": "", "updated_at": at,
			}).Error
			if err != nil {
				return database.Error(err)
			}
		}
		return nil
	})
}

// Claim takes up to limit due deliveries for lease: until it runs out no
// other replica takes them.
func (s *Store) Claim(ctx context.Context, limit int, now time.Time, lease time.Duration) ([]Delivery, error) {
	var claimed []Delivery
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		// The statuses spelled as webhook_events_due_idx's predicate, so
		// that the planner reads that index (bound ones may not match it).
		q := s.db.Conn(ctx).Where("status IN ('"+Delivering+"', '"+Failing+"') AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)",
			now.UTC(), now.UTC()).Order("next_attempt_at, webhook_events.id").Limit(limit)
		if err := s.lock(withPayload(q), "webhook_events").Find(&claimed).Error; err != nil {
			return database.Error(err)
		}
		if len(claimed) == 0 {
			return nil
		}
		ids := make([]string, len(claimed))
		until := now.Add(lease).UTC()
		for i := range claimed {
			ids[i] = claimed[i].ID
			claimed[i].ClaimedUntil = &until
		}
		return database.Error(s.db.Conn(ctx).Model(&Delivery{}).Where("id IN ?", ids).Update("claimed_until", until).Error)
	})
	return claimed, err
}
