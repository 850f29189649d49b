package serializer

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/jsonapi"

	"github.com/relkey/relkey/internal/webhook"
)

// TestWebhookEventBodyIsTheWebhookEventDocument: a delivery's body is, byte
// for byte, the webhook-events document the API renders for it.
func TestWebhookEventBodyIsTheWebhookEventDocument(t *testing.T) {
	code, body, empty := 503, "<html>Unavailable & gone</html>", ""
	at := time.Date(2026, 12, 3, 14, 5, 6, 789_000_000, time.UTC)
	for _, d := range []webhook.Delivery{
		{ID: "d1", AccountID: "a1", Endpoint: "https://example.com/hooks?x=1&y=<2>", Event: "license.validation.succeeded",
			APIVersion: "1.7", Payload: `{"data":{"type":"licenses","id":"l1","attributes":{"name":"<b>\u2028"}}}`, Status: webhook.Delivering,
			IdempotencyToken: "t1", CreatedAt: at, UpdatedAt: at},
		{ID: "d2", AccountID: "a1", Endpoint: "https://example.com/", Event: "product.created", APIVersion: "1.5", Payload: `{"data":null}`,
			Status: webhook.Failing, LastResponseCode: &code, LastResponseBody: &body, Attempts: 3, IdempotencyToken: "t2",
			CreatedAt: at, UpdatedAt: at.Add(time.Hour)},
		{ID: "d3", AccountID: "a2", Status: webhook.Delivered, LastResponseCode: &code, LastResponseBody: &empty},
	} {
		got, err := WebhookEventBody(&d)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(&jsonapi.OnePayload{Data: WebhookEvent(&d)})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("delivery %s:\n got %s\nwant %s", d.ID, got, want)
		}
	}
}
