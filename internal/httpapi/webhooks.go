package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/serializer"
	"github.com/relkey/relkey/internal/webhook"
)

var webhookEndpointResource = document.Resource{Singular: "webhook-endpoint", Plural: "webhook-endpoints"}

func (s *Server) listWebhookEndpoints(c echo.Context) error {
	return renderPage(s, c, s.Webhooks.ListEndpoints, serializer.WebhookEndpoint)
}

func (s *Server) showWebhookEndpoint(c echo.Context) error {
	return renderAction(s, c, s.Webhooks.FindEndpoint, serializer.WebhookEndpoint)
}

// webhookEndpointDocument decodes an endpoint document: its attributes and
// the optional product relationship.
func (s *Server) webhookEndpointDocument(c echo.Context) (webhook.Params, error) {
	var p webhook.Params
	if principalOf(c) == nil {
		return p, access.ErrTokenMissing
	}
	req, err := s.decode(c, webhookEndpointResource, true)
	if err != nil {
		return p, err
	}
	if err := req.DecodeAttributes(&p); err != nil {
		return p, err
	}
	if err := req.PermitRelationships("product"); err != nil {
		return p, err
	}
	link, err := req.ToOne("product", productResource)
	if err != nil || link == nil {
		return p, err
	}
	p.ProductID.Set = true
	if link.ID != "" {
		productID, err := s.Products.VisibleID(c.Request().Context(), principalOf(c), tenantOf(c), link.ID)
		if err != nil {
			return p, err
		}
		p.ProductID.V = &productID
	}
	return p, nil
}

func (s *Server) createWebhookEndpoint(c echo.Context) error {
	p, err := s.webhookEndpointDocument(c)
	if err != nil {
		return err
	}
	e, err := s.Webhooks.CreateEndpoint(c.Request().Context(), principalOf(c), tenantOf(c), p)
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.WebhookEndpoint(e), nil)
}

func (s *Server) updateWebhookEndpoint(c echo.Context) error {
	p, err := s.webhookEndpointDocument(c)
	if err != nil {
		return err
	}
	return renderAction(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*webhook.Endpoint, error) {
		return s.Webhooks.UpdateEndpoint(ctx, who, t, ref, p)
	}, serializer.WebhookEndpoint)
}

func (s *Server) deleteWebhookEndpoint(c echo.Context) error {
	return deleteRecord(c, s.Webhooks.DeleteEndpoint)
}

func (s *Server) listWebhookEvents(c echo.Context) error {
	q := c.QueryParams()
	f := webhook.DeliveryFilter{Events: q["events[]"], EndpointID: q.Get("endpoint"), Status: q.Get("status")}
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]webhook.Delivery, int64, error) {
		return s.Webhooks.ListDeliveries(ctx, who, t, f, p)
	}, serializer.WebhookEvent)
}

func (s *Server) showWebhookEvent(c echo.Context) error {
	return renderAction(s, c, s.Webhooks.FindDelivery, serializer.WebhookEvent)
}

func (s *Server) deleteWebhookEvent(c echo.Context) error {
	return deleteRecord(c, s.Webhooks.DeleteDelivery)
}

func (s *Server) retryWebhookEvent(c echo.Context) error {
	d, err := s.Webhooks.Retry(c.Request().Context(), principalOf(c), tenantOf(c), pathRef(c))
	if err != nil {
		return err
	}
	return s.renderOne(c, http.StatusCreated, serializer.WebhookEvent(d), nil)
}

func (s *Server) listEventLogs(c echo.Context) error {
	q := c.QueryParams()
	f := event.LogFilter{Event: q.Get("event"), Events: q["events[]"], ResourceType: q.Get("resource[type]"), ResourceID: q.Get("resource[id]"),
		WhodunnitType: q.Get("whodunnit[type]"), WhodunnitID: q.Get("whodunnit[id]"), RequestID: q.Get("request")}
	if err := dateRange(c, &f.Since, &f.Until); err != nil {
		return err
	}
	return renderPage(s, c, func(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]event.Record, int64, error) {
		return s.EventLog.List(ctx, who, t, f, p)
	}, serializer.EventLog)
}

func (s *Server) showEventLog(c echo.Context) error {
	return renderAction(s, c, s.EventLog.Find, serializer.EventLog)
}

// dateRange reads the date[start] and date[end] filters of a log listing.
func dateRange(c echo.Context, since, until *time.Time) error {
	for param, at := range map[string]*time.Time{"date[start]": since, "date[end]": until} {
		raw := c.QueryParam(param)
		if raw == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			return apperr.AtParameter(apperr.Invalid, "PARAMETERS_INVALID", param+" must be an ISO 8601 time, e.g. 2026-01-02T15:04:05Z", param)
		}
		*at = t
	}
	return nil
}
