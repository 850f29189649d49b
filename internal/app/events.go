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
	var (
		node      *jsonapi.Node
		productID string
	)
	switch v := resource.(type) {
	case *product.Product:
		node, productID = serializer.Product(v), v.ID
	case *entitlement.Entitlement:
		node = serializer.Entitlement(v)
	case *machine.WithPolicy[machine.Machine]:
		node, productID = serializer.Machine(&v.Item, v.Policy), v.Item.ProductID
	case *machine.Component:
		node, productID = serializer.Component(v), v.ProductID
	case *machine.WithPolicy[machine.Process]:
		node, productID = serializer.Process(&v.Item, v.Policy), v.Item.ProductID
	case *artifact.Artifact:
		node, productID = serializer.Artifact(v), v.ProductID
	case *release.Release:
		node, productID = serializer.Release(v), v.ProductID
	case *user.User:
		node = serializer.User(v)
	case *account.Account:
		node = serializer.Account(v)
	case *group.Group:
		node = serializer.Group(v)
	case *setting.Setting:
		node = serializer.Setting(v)
	case *session.PortalLink:
		node = serializer.PortalSession(v, "")
	case *key.Key:
		node, productID = serializer.Key(v), v.ProductID
	case *secondfactor.SecondFactor:
		node = serializer.SecondFactor(v.Public())
	case *policy.Policy:
		node, productID = serializer.Policy(v), v.ProductID
	case *license.Shown:
		node, productID = serializer.License(v), v.License.ProductID
	case *license.License:
		pol, err := r.app.Policies.Get(ctx, v.AccountID, v.PolicyID)
		if err != nil {
			return event.Rendered{}, err
		}
		node, productID = serializer.License(&license.Shown{License: v, Policy: pol}), v.ProductID
	case *releasepackage.Package:
		node, productID = serializer.Package(v), v.ProductID
	case *token.Token:
		// Never the raw token: events outlive the response that showed it.
		node = serializer.Token(v, "")
	case event.Ref:
		loaded, err := r.load(ctx, v)
		if err != nil {
			return event.Rendered{}, err
		}
		return r.render(ctx, loaded)
	default:
		return event.Rendered{}, fmt.Errorf("no rendering of %T", resource)
	}
	doc, err := json.Marshal(&jsonapi.OnePayload{Data: node})
	return event.Rendered{Type: node.Type, ID: node.ID, ProductID: productID, Document: doc}, err
}

// pure tells the resources render turns into payloads without reading the
// database.
func (eventRenderer) pure(resource any) bool {
	switch resource.(type) {
	case *license.License, event.Ref:
		return false
	}
	return true
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
