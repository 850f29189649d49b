package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/internal/webhook"
)

// BenchmarkValidateKeyObserved: validate-key bare, with the request log
// on, with an endpoint subscribed to every event that a running worker
// delivers to (its receiver runs in this process, so its CPU time counts),
// and with both (issue 12's target: within 10 % of bare).
// Validation events and request-log rows are written in batches: the
// statements per request stay the same.
func BenchmarkValidateKeyObserved(b *testing.B) {
	for _, v := range []struct {
		name                 string
		requestLog, webhooks bool
	}{{"bare", false, false}, {"request-log", true, false}, {"webhook", false, true}, {"webhook+request-log", true, true}} {
		b.Run(v.name, func(b *testing.B) {
			e := newEnv(b, testenv.Backend{Name: "embedded"}, func(c *config.Config) {
				c.RequestLog = v.requestLog
				allowLocalWebhooks(c)
			})
			if v.webhooks {
				rc := e.receiver(func(int) int { return 204 })
				e.id(e.admin("POST", "/v1/accounts/acme/webhook-endpoints", endpointBody(rc.srv.URL, `["*"]`, "")))
				ctx, stop := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() {
					defer close(done)
					e.app.DeliveryWorker(webhook.WorkerOptions{}).Run(ctx, 100*time.Millisecond)
				}()
				b.Cleanup(func() { stop(); <-done })
			}
			h := newHotPath(b, e, 1000)
			h.activate(b, "base")
			measure(b, func(int) int64 { return h.validate(b, "base") })
		})
	}
}
