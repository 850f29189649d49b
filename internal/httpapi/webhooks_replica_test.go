package httpapi_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
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
// path that no endpoint subscribes to (none at all, or one subscribed to
// other events) are written fanned out already; once an endpoint listens,
// they wait for the fan-out and are delivered.
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
		e.emitProducts(5)
		if n := pending(); n != 0 {
			t.Fatalf("%d events of an unheard account wait for the fan-out, want 0", n)
		}
		rc := e.receiver(func(int) int { return 204 })
		e.id(e.admin("POST", "/v1/accounts/acme/webhook-endpoints", endpointBody(rc.srv.URL, `["license.created"]`, "")))
		e.emitProducts(2)
		if n := pending(); n != 0 {
			t.Fatalf("%d events no endpoint subscribes to wait for the fan-out, want 0", n)
		}
		e.id(e.admin("POST", "/v1/accounts/acme/webhook-endpoints", endpointBody(rc.srv.URL, `["product.created"]`, "")))
		want := e.emitProducts(3)
		if n := pending(); n != 3 {
			t.Fatalf("%d events wait for the fan-out, want 3", n)
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
			return event.Rendered{Type: "products", ID: p.ID, Document: []byte(`{"data":null}`)}, nil
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

// TestEventBufferRendersPureResourcesAtEmit: a resource rendered without
// the database is rendered by Emit, so the buffer holds its payload; the
// event written carries it.
func TestEventBufferRendersPureResourcesAtEmit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		var rendered atomic.Int32
		outbox := event.NewOutbox(e.app.DB, func(_ context.Context, resource any) (event.Rendered, error) {
			rendered.Add(1)
			p := resource.(*product.Product)
			return event.Rendered{Type: "products", ID: p.ID, Document: []byte(`{"data":{"id":"` + p.ID + `"}}`)}, nil
		})
		buf := event.NewBuffer(outbox, 8, slog.Default()).RenderingAtEmit(func(any) bool { return true })
		p := &product.Product{ID: id.New(), AccountID: e.acct.Account.ID}
		buf.Emit(event.Occurrence{Event: event.ProductCreated, AccountID: e.acct.Account.ID, Resource: p})
		if n := rendered.Load(); n != 1 {
			t.Fatalf("rendered %d times at Emit, want 1", n)
		}
		buf.Close()
		var payload string
		if err := e.app.DB.Gorm.Raw("SELECT payload FROM events WHERE event = ? AND resource_id = ?", event.ProductCreated, p.ID).Scan(&payload).Error; err != nil {
			t.Fatal(err)
		}
		if payload != `{"data":{"id":"`+p.ID+`"}}` || rendered.Load() != 1 {
			t.Fatalf("payload %q after %d renders, want the one rendered at Emit", payload, rendered.Load())
		}
	})
}
