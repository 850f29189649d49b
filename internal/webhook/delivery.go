package webhook

import (
	"context"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/page"
)

// Delivery statuses, as Keygen's webhook events have them.
const (
	Delivering = "DELIVERING"
	Delivered  = "DELIVERED"
	Failing    = "FAILING"
	Failed     = "FAILED"
)

// Delivery is one event on its way to one endpoint (Keygen's webhook event).
type Delivery struct {
	ID         string
	AccountID  string
	EndpointID *string
	// Endpoint is the URL, kept when the endpoint is deleted.
	Endpoint   string
	EventID    string
	Event      string
	APIVersion string
	// Payload is the event's document, kept once per event (webhookPayload)
	// and read with the delivery.
	Payload          string `gorm:"->"`
	Status           string
	Attempts         int
	NextAttemptAt    time.Time
	ClaimedUntil     *time.Time
	LastResponseCode *int
	LastResponseBody *string
	IdempotencyToken string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// TableName implements gorm's tabler.
func (Delivery) TableName() string { return "webhook_events" }

// webhookPayload is the payload of an event's deliveries.
type webhookPayload struct {
	EventID, AccountID, Payload string
}

// TableName implements gorm's tabler.
func (webhookPayload) TableName() string { return "webhook_payloads" }

func newDelivery(ev *event.Record, e *Endpoint, now time.Time) Delivery {
	endpointID := e.ID
	return Delivery{ID: id.New(), AccountID: ev.AccountID, EndpointID: &endpointID, Endpoint: e.URL,
		EventID: ev.ID, Event: ev.Event, APIVersion: e.APIVersion, Payload: ev.Payload, Status: Delivering,
		NextAttemptAt: now.UTC(), IdempotencyToken: ev.IdempotencyKey, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
}

// DeliveryFilter narrows a listing of deliveries; empty fields match all.
type DeliveryFilter struct {
	Events     []string
	EndpointID string
	Status     string
}

// ListDeliveries returns a page of the account's deliveries.
func (s *Service) ListDeliveries(ctx context.Context, who *access.Principal, t *account.Tenant, f DeliveryFilter, p page.Request) ([]Delivery, int64, error) {
	if err := who.Require("webhook-event.read"); err != nil {
		return nil, 0, err
	}
	return s.store.ListDeliveries(ctx, t.ID, f, p)
}

// FindDelivery returns a delivery of the account.
func (s *Service) FindDelivery(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Delivery, error) {
	return s.delivery(ctx, who, t, ref, "webhook-event.read")
}

// DeleteDelivery removes a delivery; one under way is not retried.
func (s *Service) DeleteDelivery(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) error {
	d, err := s.delivery(ctx, who, t, ref, "webhook-event.delete")
	if err != nil {
		return err
	}
	return s.store.DeleteDelivery(ctx, d)
}

// Retry sends a delivery again as a new one, as Keygen's retry action
// does: same event, payload and idempotency token, to the same endpoint.
func (s *Service) Retry(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Delivery, error) {
	d, err := s.delivery(ctx, who, t, ref, "webhook-event.retry")
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	again := *d
	again.ID, again.Status, again.Attempts, again.NextAttemptAt, again.ClaimedUntil = id.New(), Delivering, 0, now, nil
	again.LastResponseCode, again.LastResponseBody, again.CreatedAt, again.UpdatedAt = nil, nil, now, now
	return &again, s.store.CreateDelivery(ctx, &again)
}

func (s *Service) delivery(ctx context.Context, who *access.Principal, t *account.Tenant, ref, permission string) (*Delivery, error) {
	if err := who.In(t.ID); err != nil {
		return nil, err
	}
	return access.Visible(who, permission, func() (*Delivery, error) { return s.store.FindDelivery(ctx, t.ID, ref) })
}
