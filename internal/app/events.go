package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/jsonapi"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/group"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/httpsig"
	"github.com/relkey/relkey/internal/key"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
	"github.com/relkey/relkey/internal/secondfactor"
	"github.com/relkey/relkey/internal/serializer"
	"github.com/relkey/relkey/internal/session"
	"github.com/relkey/relkey/internal/setting"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
	"github.com/relkey/relkey/internal/webhook"
)

// eventRenderer renders the resources services emit events about, as the
// API renders them.
type eventRenderer struct{ app *App }

func (r eventRenderer) render(ctx context.Context, resource any) (event.Rendered, error) {
	switch v := resource.(type) {
	case *product.Product:
		return described("products", v.ID, v.ID, func() *jsonapi.Node { return serializer.Product(v) }), nil
	case *entitlement.Entitlement:
		return described("entitlements", v.ID, "", func() *jsonapi.Node { return serializer.Entitlement(v) }), nil
	case *machine.WithPolicy[machine.Machine]:
		return described("machines", v.Item.ID, v.Item.ProductID, func() *jsonapi.Node { return serializer.Machine(&v.Item, v.Policy) }), nil
	case *machine.Component:
		return described("components", v.ID, v.ProductID, func() *jsonapi.Node { return serializer.Component(v) }), nil
	case *machine.WithPolicy[machine.Process]:
		return described("processes", v.Item.ID, v.Item.ProductID, func() *jsonapi.Node { return serializer.Process(&v.Item, v.Policy) }), nil
	case *artifact.Artifact:
		return described("artifacts", v.ID, v.ProductID, func() *jsonapi.Node { return serializer.Artifact(v) }), nil
	case *release.Release:
		return described("releases", v.ID, v.ProductID, func() *jsonapi.Node { return serializer.Release(v) }), nil
	case *user.User:
		return described("users", v.ID, "", func() *jsonapi.Node { return serializer.User(v) }), nil
	case *account.Account:
		return described("accounts", v.ID, "", func() *jsonapi.Node { return serializer.Account(v) }), nil
	case *group.Group:
		return described("groups", v.ID, "", func() *jsonapi.Node { return serializer.Group(v) }), nil
	case *setting.Setting:
		return described("settings", v.ID, "", func() *jsonapi.Node { return serializer.Setting(v) }), nil
	case *session.PortalLink:
		return described("portal-sessions", v.ID, "", func() *jsonapi.Node { return serializer.PortalSession(v, "") }), nil
	case *key.Key:
		return described("keys", v.ID, v.ProductID, func() *jsonapi.Node { return serializer.Key(v) }), nil
	case *secondfactor.SecondFactor:
		return described("second-factors", v.ID, "", func() *jsonapi.Node { return serializer.SecondFactor(v.Public()) }), nil
	case *policy.Policy:
		return described("policies", v.ID, v.ProductID, func() *jsonapi.Node { return serializer.Policy(v) }), nil
	case *license.Shown:
		return described("licenses", v.License.ID, v.License.ProductID, func() *jsonapi.Node { return serializer.License(v) }), nil
	case *license.License:
		pol, err := r.app.Policies.Get(ctx, v.AccountID, v.PolicyID)
		if err != nil {
			return event.Rendered{}, err
		}
		shown := &license.Shown{License: v, Policy: pol}
		return described("licenses", v.ID, v.ProductID, func() *jsonapi.Node { return serializer.License(shown) }), nil
	case *releasepackage.Package:
		return described("packages", v.ID, v.ProductID, func() *jsonapi.Node { return serializer.Package(v) }), nil
	case *token.Token:
		// Never the raw token: events outlive the response that showed it.
		return described("tokens", v.ID, "", func() *jsonapi.Node { return serializer.Token(v, "") }), nil
	case event.Ref:
		loaded, err := r.load(ctx, v)
		if err != nil {
			return event.Rendered{}, err
		}
		return r.render(ctx, loaded)
	}
	return event.Rendered{}, fmt.Errorf("no rendering of %T", resource)
}

// described is a resource as events name it; its node is built, and its
// document rendered, only for a payload someone receives.
func described(typ, id, productID string, node func() *jsonapi.Node) event.Rendered {
	return event.Rendered{Type: typ, ID: id, ProductID: productID, Document: func() (json.RawMessage, error) {
		return document.Encode(nil, &jsonapi.OnePayload{Data: node()})
	}}
}

// load reads the record a Ref names, as the renderer takes it.
func (r eventRenderer) load(ctx context.Context, ref event.Ref) (any, error) {
	switch ref.Type {
	case "licenses":
		l, pol, err := r.app.licenseStore.FindWithPolicy(ctx, ref.AccountID, ref.ID)
		if err != nil {
			return nil, err
		}
		return &license.Shown{License: l, Policy: pol}, nil
	case "policies":
		return r.app.Policies.Get(ctx, ref.AccountID, ref.ID)
	case "users":
		return r.app.userStore.Find(ctx, ref.AccountID, ref.ID, access.Scope{All: true})
	case "machines":
		m, err := r.app.machineStore.Find(ctx, ref.AccountID, ref.ID, access.Scope{All: true})
		if err != nil {
			return nil, err
		}
		pol, err := r.app.Policies.Get(ctx, ref.AccountID, m.PolicyID)
		if err != nil {
			return nil, err
		}
		return &machine.WithPolicy[machine.Machine]{Item: *m, Policy: pol}, nil
	case "releases":
		sight, err := r.app.releaseStore.Sight(ctx, ref.AccountID, access.Scope{All: true}, time.Now())
		if err != nil {
			return nil, err
		}
		return r.app.releaseStore.Find(ctx, sight, ref.ID, release.Narrowing{})
	}
	return nil, fmt.Errorf("no loading of %s", ref.Type)
}

// signWebhook signs a delivery with its account's key for the endpoint's
// algorithm, as responses are signed.
func (a *App) signWebhook(ctx context.Context, accountID, algorithm, target, host string, body []byte, now time.Time) (date, digest, signature string, err error) {
	t, err := a.Accounts.Resolve(ctx, accountID)
	if err != nil {
		return "", "", "", err
	}
	if algorithm == "" || algorithm == httpsig.Ed25519 {
		date, digest, signature = httpapi.Signature(t, "POST", target, host, body, now)
		return date, digest, signature, nil
	}
	date, digest = httpapi.DateDigest(body, now)
	signature, err = httpapi.SignatureWith(ctx, a.Accounts, t, algorithm, httpapi.SigningString("POST", target, host, date, digest))
	return date, digest, signature, err
}

// webhookTargets are the endpoint URLs the configuration allows.
func (a *App) webhookTargets() webhook.Targets {
	return webhook.Targets{AllowInsecure: a.Config.WebhookAllowInsecure, AllowPrivate: a.Config.WebhookAllowPrivate}
}

// DeliveryWorker returns a webhook delivery worker over the app.
func (a *App) DeliveryWorker(o webhook.WorkerOptions) *webhook.Worker {
	o.Targets = a.webhookTargets()
	return webhook.NewWorker(a.webhookStore, a.signWebhook, serializer.WebhookEventBody, a.Logger, o)
}
