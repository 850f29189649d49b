package serializer

import (
	"github.com/google/jsonapi"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/product"
)

// Product renders a product.
func Product(p *product.Product) *jsonapi.Node {
	base := document.AccountPath(p.AccountID)
	self := base + "/products/" + p.ID
	var platforms any
	if p.Platforms != nil {
		platforms = p.Platforms
	}
	return &jsonapi.Node{
		Type: "products",
		ID:   p.ID,
		Attributes: map[string]any{
			"name":                 p.Name,
			"code":                 p.Code,
			"distributionStrategy": p.DistributionStrategy,
			"url":                  p.URL,
			"platforms":            platforms,
			"metadata":             document.Metadata(p.Metadata),
			"created":              document.Time(p.CreatedAt),
			"updated":              document.Time(p.UpdatedAt),
		},
		Relationships: map[string]any{
			"account":   document.ToOne("accounts", p.AccountID, base),
			"policies":  document.ToMany(self + "/policies"),
			"licenses":  document.ToMany(self + "/licenses"),
			"machines":  document.ToMany(self + "/machines"),
			"users":     document.ToMany(self + "/users"),
			"tokens":    document.ToMany(self + "/tokens"),
			"platforms": document.ToMany(self + "/platforms"),
			"channels":  document.ToMany(self + "/channels"),
			"releases":  document.ToMany(self + "/releases"),
			"artifacts": document.ToMany(self + "/artifacts"),
		},
		Links: &jsonapi.Links{"self": self},
	}
}
