package app

import (
	"encoding/json"
	"testing"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/group"
	"github.com/relkey/relkey/internal/key"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
	"github.com/relkey/relkey/internal/secondfactor"
	"github.com/relkey/relkey/internal/session"
	"github.com/relkey/relkey/internal/setting"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
)

// TestEventsNameTheirResourcesAsTheirPayloads: the type, id and product an
// event row records without rendering its payload are those of the payload
// rendered for a delivery.
func TestEventsNameTheirResourcesAsTheirPayloads(t *testing.T) {
	const id, productID = "0b6f0a52-5a44-4c8e-9d3e-1f7b0c2d3e4f", "7d1e2f30-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
	pol := &policy.Policy{ID: "p", ProductID: productID}
	resources := map[string]any{
		"products":        &product.Product{ID: id},
		"entitlements":    &entitlement.Entitlement{ID: id},
		"machines":        &machine.WithPolicy[machine.Machine]{Item: machine.Machine{ID: id, ProductID: productID}, Policy: pol},
		"components":      &machine.Component{ID: id, ProductID: productID},
		"processes":       &machine.WithPolicy[machine.Process]{Item: machine.Process{ID: id, ProductID: productID}, Policy: pol},
		"artifacts":       &artifact.Artifact{ID: id, ProductID: productID},
		"releases":        &release.Release{ID: id, ProductID: productID},
		"users":           &user.User{ID: id},
		"accounts":        &account.Account{ID: id},
		"groups":          &group.Group{ID: id},
		"settings":        &setting.Setting{ID: id},
		"portal-sessions": &session.PortalLink{Session: &session.Session{ID: id}},
		"keys":            &key.Key{ID: id, ProductID: productID},
		"second-factors":  &secondfactor.SecondFactor{ID: id},
		"policies":        &policy.Policy{ID: id, ProductID: productID},
		"licenses":        &license.Shown{License: &license.License{ID: id, ProductID: productID}, Policy: pol},
		"packages":        &releasepackage.Package{ID: id, ProductID: productID},
		"tokens":          &token.Token{ID: id},
	}
	for typ, resource := range resources {
		t.Run(typ, func(t *testing.T) {
			r, err := eventRenderer{}.render(t.Context(), resource)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := r.Document()
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Data struct{ Type, ID string }
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			if r.Type != typ || doc.Data.Type != typ || r.ID != id || doc.Data.ID != id {
				t.Fatalf("event names %s %s, payload %s %s; want %s %s", r.Type, r.ID, doc.Data.Type, doc.Data.ID, typ, id)
			}
			if r.ProductID != "" && r.ProductID != productID && !(typ == "products" && r.ProductID == id) {
				t.Fatalf("product %q", r.ProductID)
			}
		})
	}
}
