package serializer

import (
	"encoding/json"

	"github.com/google/jsonapi"

	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/requestlog"
	"github.com/relkey/relkey/internal/webhook"
)

// WebhookEndpoint renders a webhook endpoint.
func WebhookEndpoint(e *webhook.Endpoint) *jsonapi.Node {
	base := document.AccountPath(e.AccountID)
	var product any = map[string]any{"data": nil}
	if e.ProductID != nil {
		product = document.ToOne("products", *e.ProductID, base)
	}
	return &jsonapi.Node{
		Type: "webhook-endpoints",
		ID:   e.ID,
		Attributes: map[string]any{
			"url":                e.URL,
			"subscriptions":      e.Subscriptions.V,
			"signatureAlgorithm": e.SignatureAlgorithm,
			"apiVersion":         e.APIVersion,
			"created":            document.Time(e.CreatedAt),
			"updated":            document.Time(e.UpdatedAt),
		},
		Relationships: map[string]any{"account": document.ToOne("accounts", e.AccountID, base), "product": product},
		Links:         &jsonapi.Links{"self": base + "/webhook-endpoints/" + e.ID},
	}
}

// WebhookEvent renders a delivery as Keygen's webhook event; it is also
// the body of the delivery itself.
func WebhookEvent(d *webhook.Delivery) *jsonapi.Node {
	base := document.AccountPath(d.AccountID)
	return &jsonapi.Node{
		Type: "webhook-events",
		ID:   d.ID,
		Attributes: map[string]any{
			"endpoint":         d.Endpoint,
			"apiVersion":       d.APIVersion,
			"payload":          d.Payload,
			"event":            d.Event,
			"status":           d.Status,
			"lastResponseCode": d.LastResponseCode,
			"lastResponseBody": d.LastResponseBody,
			"created":          document.Time(d.CreatedAt),
			"updated":          document.Time(d.UpdatedAt),
		},
		Relationships: map[string]any{"account": document.ToOne("accounts", d.AccountID, base)},
		Links:         &jsonapi.Links{"self": base + "/webhook-events/" + d.ID},
		Meta:          &jsonapi.Meta{"idempotencyToken": d.IdempotencyToken},
	}
}

// WebhookEventBody is the document a delivery POSTs: WebhookEvent's, from
// structs rather than maps (it is rendered for every attempt). Fields are
// in the order json renders map keys.
func WebhookEventBody(d *webhook.Delivery) ([]byte, error) {
	base := document.AccountPath(d.AccountID)
	var body webhookEventBody
	n := &body.Data
	n.Type, n.ID = "webhook-events", d.ID
	n.Attributes = webhookEventAttributes{APIVersion: d.APIVersion, Created: document.Time(d.CreatedAt), Endpoint: d.Endpoint,
		Event: d.Event, LastResponseBody: d.LastResponseBody, LastResponseCode: d.LastResponseCode, Payload: d.Payload,
		Status: d.Status, Updated: document.Time(d.UpdatedAt)}
	n.Relationships.Account = document.ToOne("accounts", d.AccountID, base)
	n.Links.Self = base + "/webhook-events/" + d.ID
	n.Meta.IdempotencyToken = d.IdempotencyToken
	return json.Marshal(&body)
}

type webhookEventBody struct {
	Data struct {
		Type          string                 `json:"type"`
		ID            string                 `json:"id"`
		Attributes    webhookEventAttributes `json:"attributes"`
		Relationships struct {
			Account document.Relationship `json:"account"`
		} `json:"relationships"`
		Links struct {
			Self string `json:"self"`
		} `json:"links"`
		Meta struct {
			IdempotencyToken string `json:"idempotencyToken"`
		} `json:"meta"`
	} `json:"data"`
}

type webhookEventAttributes struct {
	APIVersion       string  `json:"apiVersion"`
	Created          string  `json:"created"`
	Endpoint         string  `json:"endpoint"`
	Event            string  `json:"event"`
	LastResponseBody *string `json:"lastResponseBody"`
	LastResponseCode *int    `json:"lastResponseCode"`
	Payload          string  `json:"payload"`
	Status           string  `json:"status"`
	Updated          string  `json:"updated"`
}

// EventLog renders an entry of the event log as Keygen's event-logs.
func EventLog(r *event.Record) *jsonapi.Node {
	base := document.AccountPath(r.AccountID)
	var whodunnit any
	if r.WhodunnitID != nil {
		whodunnit = map[string]any{"data": map[string]any{"type": *r.WhodunnitType, "id": *r.WhodunnitID}}
	} else {
		whodunnit = map[string]any{"data": nil}
	}
	request := map[string]any{"data": nil}
	if r.RequestID != nil {
		request = map[string]any{"data": map[string]any{"type": "request-logs", "id": *r.RequestID}}
	}
	return &jsonapi.Node{
		Type: "event-logs",
		ID:   r.ID,
		Attributes: map[string]any{
			"event":          r.Event,
			"metadata":       document.Metadata(r.Metadata.V),
			"idempotencyKey": r.IdempotencyKey,
			"created":        document.Time(r.CreatedAt),
			"updated":        document.Time(r.CreatedAt),
		},
		Relationships: map[string]any{
			"account":   document.ToOne("accounts", r.AccountID, base),
			"resource":  map[string]any{"data": map[string]any{"type": r.ResourceType, "id": r.ResourceID}},
			"whodunnit": whodunnit,
			"request":   request,
		},
		Links: &jsonapi.Links{"self": base + "/event-logs/" + r.ID},
	}
}

// RequestLog renders an entry of the request log as Keygen's request-logs.
func RequestLog(e *requestlog.Entry) *jsonapi.Node {
	base := document.AccountPath(e.AccountID)
	identifier := func(typ, id *string) map[string]any {
		if typ == nil || id == nil {
			return map[string]any{"data": nil}
		}
		return map[string]any{"data": map[string]any{"type": *typ, "id": *id}}
	}
	return &jsonapi.Node{
		Type: "request-logs",
		ID:   e.ID,
		Attributes: map[string]any{
			"method":     e.Method,
			"url":        e.Path,
			"status":     e.Status,
			"ip":         e.IP,
			"userAgent":  e.UserAgent,
			"requestId":  e.RequestID,
			"durationMs": e.DurationMS,
			"created":    document.Time(e.CreatedAt),
			"updated":    document.Time(e.CreatedAt),
		},
		Relationships: map[string]any{
			"account":   document.ToOne("accounts", e.AccountID, base),
			"requestor": identifier(e.BearerType, e.BearerID),
			"resource":  identifier(e.ResourceType, e.ResourceID),
		},
		Links: &jsonapi.Links{"self": base + "/request-logs/" + e.ID},
	}
}
