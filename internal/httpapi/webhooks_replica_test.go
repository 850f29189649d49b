package httpapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/internal/webhook"
)

// emitProducts records n product.created events in one batch, as if n
// products had been made.
func (e *env) emitProducts(n int) map[string]bool {
	e.t.Helper()
	ids := map[string]bool{}
	occs := make([]event.Occurrence, n)
	for i := range occs {
		p := &product.Product{ID: id.New(), AccountID: e.acct.Account.ID, Name: "P", DistributionStrategy: product.Licensed}
		ids[p.ID] = true
		occs[i] = event.Occurrence{Event: event.ProductCreated, AccountID: p.AccountID, Resource: p, Who: &access.Principal{BearerType: "users", BearerID: e.acct.Admin.ID}}
	}
	if err := e.app.Outbox.EmitBatch(context.Background(), occs); err != nil {
		e.t.Fatal(err)
	}
	return ids
}

// onceEach fails unless the receiver got every one of want exactly once.
func onceEach(t *testing.T, rc *receiver, want map[string]bool) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range rc.received() {
		seen[r.resourceID]++
	}
	for resourceID := range want {
		if seen[resourceID] != 1 {
			t.Fatalf("event of %s delivered %d times, want once (%d deliveries of %d events)", resourceID, seen[resourceID], len(rc.received()), len(want))
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("%d resources delivered, want %d", len(seen), len(want))
	}
}

func TestWebhookReplicasDeliverEachEventOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be, allowLocalWebhooks)
		second, _ := openServer(t, e.cfg, &syncBuffer{}, e.clock)
		rc := e.receiver(func(int) int { return 204 })
		e.id(e.admin("POST", "/v1/accounts/acme/webhook-endpoints", endpointBody(rc.srv.URL, `["product.created"]`, "")))
		want := e.emitProducts(1000)
		opts := webhook.WorkerOptions{Now: e.clock.Now, Jitter: func() int { return 1 }, Batch: 25}
		workers := []*webhook.Worker{e.app.DeliveryWorker(opts), second.DeliveryWorker(opts)}
		done := make(chan error, len(workers))
		for _, w := range workers {
			go func() {
				var err error
				for range 200 {
					if err = w.Pass(context.Background()); err != nil || len(rc.received()) >= len(want) {
						break
					}
				}
				done <- err
			}()
		}
		for range workers {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		onceEach(t, rc, want)
	})
}

func TestWebhookDeliveriesSurviveARestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be, allowLocalWebhooks)
		rc := e.receiver(func(int) int { return 200 })
		rc.hold, rc.entered = make(chan struct{}), make(chan struct{}, 1)
		e.id(e.admin("POST", "/v1/accounts/acme/webhook-endpoints", endpointBody(rc.srv.URL, `["product.created"]`, "")))
		want := e.emitProducts(3)
		// The process dies with one delivery in flight and the rest claimed.
		ctx, kill := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			e.app.DeliveryWorker(webhook.WorkerOptions{Now: e.clock.Now, PerEndpoint: 1}).Pass(ctx)
		}()
		<-rc.entered
		kill()
		<-stopped
		close(rc.hold)
		rc.mu.Lock()
		rc.got = nil
		rc.mu.Unlock()
		restarted, _ := openServer(t, e.cfg, &syncBuffer{}, e.clock)
		// Claims of the dead process hold until their lease runs out.
		e.advance(3 * time.Minute)
		if err := restarted.DeliveryWorker(webhook.WorkerOptions{Now: e.clock.Now}).Pass(context.Background()); err != nil {
			t.Fatal(err)
		}
		onceEach(t, rc, want)
	})
}

// TestBatchedEventsOfUnheardAccountsSkipTheFanOut: events batched off a hot
// path are written fanned out already, with their deliveries when an
// endpoint subscribes to them, and are delivered.
func TestBatchedEventsOfUnheardAccountsSkipTheFanOut(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be, allowLocalWebhooks)
		pending := func() int64 {
			var n int64
			if err := e.app.DB.Gorm.Raw("SELECT COUNT(*) FROM events WHERE NOT fanned_out AND event = ?", event.ProductCreated).Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		rendered := func() int64 {
			var n int64
			if err := e.app.DB.Gorm.Raw("SELECT COUNT(*) FROM events WHERE payload <> '' AND event = ?", event.ProductCreated).Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		e.emitProducts(5)
		if n := pending(); n != 0 {
			t.Fatalf("%d events of an unheard account wait for the fan-out, want 0", n)
		}
		if n := rendered(); n != 0 {
			t.Fatalf("%d events nobody hears carry a payload, want 0 (it is rendered for deliveries only)", n)
		}
		rc := e.receiver(func(int) int { return 204 })
		e.id(e.admin("POST", "/v1/accounts/acme/webhook-endpoints", endpointBody(rc.srv.URL, `["license.created"]`, "")))
		e.emitProducts(2)
		if n := pending(); n != 0 {
			t.Fatalf("%d events no endpoint subscribes to wait for the fan-out, want 0", n)
		}
		e.id(e.admin("POST", "/v1/accounts/acme/webhook-endpoints", endpointBody(rc.srv.URL, `["product.created"]`, "")))
		want := e.emitProducts(3)
		var made int64
		if err := e.app.DB.Gorm.Raw("SELECT COUNT(*) FROM webhook_events WHERE status = ? AND event = ?", webhook.Delivering, event.ProductCreated).Scan(&made).Error; err != nil {
			t.Fatal(err)
		}
		if n := pending(); n != 0 || made != 3 {
			t.Fatalf("%d events wait for the fan-out and %d deliveries were written with them, want 0 and 3", n, made)
		}
		var kept int64
		if err := e.app.DB.Gorm.Raw("SELECT COUNT(*) FROM webhook_payloads p JOIN events ON events.id = p.event_id WHERE events.event = ? AND p.payload <> ''", event.ProductCreated).Scan(&kept).Error; err != nil {
			t.Fatal(err)
		}
		if n := rendered(); n != 0 || kept != 3 {
			t.Fatalf("%d event rows and %d delivery payloads carry the events' payloads, want 0 and the 3 an endpoint hears", n, kept)
		}
		w := e.app.DeliveryWorker(webhook.WorkerOptions{Now: e.clock.Now, Jitter: func() int { return 1 }})
		for range 20 {
			if err := w.Pass(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(rc.received()) >= len(want) {
				break
			}
		}
		onceEach(t, rc, want)
	})
}

// TestFullEventBufferWarnsOfDroppedEvents: while its loop is stuck writing,
// a full buffer drops what comes and the next write warns with the count.
func TestFullEventBufferWarnsOfDroppedEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		entered, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		outbox := event.NewOutbox(e.app.DB, func(_ context.Context, resource any) (event.Rendered, error) {
			once.Do(func() { close(entered); <-release })
			p := resource.(*product.Product)
			return event.Rendered{Type: "products", ID: p.ID, Document: func() (json.RawMessage, error) { return []byte(`{"data":null}`), nil }}, nil
		})
		var logs syncBuffer
		buf := event.NewBuffer(outbox, 1, slog.New(slog.NewTextHandler(&logs, nil)))
		emit := func() {
			buf.Emit(event.Occurrence{Event: event.ProductCreated, AccountID: e.acct.Account.ID,
				Resource: &product.Product{ID: id.New(), AccountID: e.acct.Account.ID}})
		}
		emit()
		<-entered // the loop is writing the first event
		emit()    // queued
		emit()    // dropped
		emit()    // dropped
		if n := buf.Dropped(); n != 2 {
			t.Fatalf("%d events dropped, want 2", n)
		}
		close(release)
		buf.Close()
		if !strings.Contains(logs.String(), "events dropped") || !strings.Contains(logs.String(), "count=2") {
			t.Fatalf("no warning of the 2 dropped events in %q", logs.String())
		}
		var n int64
		if err := e.app.DB.Gorm.Raw("SELECT COUNT(*) FROM events WHERE event = ?", event.ProductCreated).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("%d events written, want the 2 not dropped", n)
		}
	})
}
