package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/webhook"
)

// webhookPage is the webhook endpoints and their latest deliveries.
type webhookPage struct {
	listing[webhook.Endpoint]
	Deliveries []webhook.Delivery
}

func (p *Pages) webhookList(q *request) (any, error) {
	endpoints, err := listed(q.r, func(req page.Request) ([]webhook.Endpoint, int64, error) {
		return p.Webhooks.ListEndpoints(q.ctx, q.who, q.tenant, req)
	}, func(r webhook.Endpoint) string { return r.ID })
	if err != nil {
		return nil, err
	}
	f := webhook.DeliveryFilter{EndpointID: q.r.URL.Query().Get("endpoint"), Status: q.r.URL.Query().Get("status")}
	deliveries, _, err := p.Webhooks.ListDeliveries(q.ctx, q.who, q.tenant, f, page.Request{Limit: listSize})
	if err != nil {
		return nil, err
	}
	return webhookPage{endpoints, deliveries}, nil
}

// createWebhook adds an endpoint through the API's rules: the URL checks
// and the subscriptions (event names, comma-separated; empty or * for all).
func (p *Pages) createWebhook(q *request) error {
	params := webhook.Params{URL: optional.Of(strings.TrimSpace(q.r.PostFormValue("url")))}
	var subscriptions []string
	for _, s := range strings.Split(q.r.PostFormValue("subscriptions"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			subscriptions = append(subscriptions, s)
		}
	}
	if len(subscriptions) > 0 {
		params.Subscriptions = optional.Of(subscriptions)
	}
	if _, err := p.Webhooks.CreateEndpoint(q.ctx, q.who, q.tenant, params); err != nil {
		return p.formPage(q, "webhooks", "Webhooks", p.webhookList, err)
	}
	return q.back("/webhooks", "Webhook endpoint created.")
}

func (p *Pages) deleteWebhook(q *request) error {
	if err := p.Webhooks.DeleteEndpoint(q.ctx, q.who, q.tenant, q.r.PathValue("id")); err != nil {
		return err
	}
	return q.back("/webhooks", "Webhook endpoint deleted.")
}

func (p *Pages) retryDelivery(q *request) error {
	if _, err := p.Webhooks.Retry(q.ctx, q.who, q.tenant, q.r.PathValue("id")); err != nil {
		return err
	}
	return q.back("/webhooks", "Delivery queued again.")
}

// eventPage is a page of the event log, filtered by event type.
type eventPage struct {
	listing[event.Record]
	Event string
	Types []string
}

func (p *Pages) events(q *request) error {
	var f event.LogFilter
	name := q.r.URL.Query().Get("event")
	if slices.Contains(event.Types, name) {
		f.Events = []string{name}
	}
	rows, err := listed(q.r, func(req page.Request) ([]event.Record, int64, error) {
		return p.EventLog.List(q.ctx, q.who, q.tenant, f, req)
	}, func(r event.Record) string { return r.ID })
	if err != nil {
		return err
	}
	v := q.view("Event log")
	v.Data = eventPage{rows, strings.Join(f.Events, ""), event.Types}
	p.render(q.w, http.StatusOK, "events", v)
	return nil
}
