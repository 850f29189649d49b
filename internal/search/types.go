package search

import "strings"

// Type is a searchable resource type: its table and the attributes Keygen
// searches it by (its search_* scopes), restricted to what relkey stores.
type Type struct {
	Name       string // the JSON:API type
	Table      string
	Permission string
	Attributes []string
}

// Types are the searchable types, as Keygen's search controller lists them.
var Types = []*Type{
	{Name: "entitlements", Table: "entitlements", Permission: "entitlement.read", Attributes: []string{"id", "code", "name"}},
	{Name: "products", Table: "products", Permission: "product.read", Attributes: []string{"id", "name", "metadata"}},
	{Name: "policies", Table: "policies", Permission: "policy.read", Attributes: []string{"id", "name", "metadata", "product"}},
	{Name: "licenses", Table: "licenses", Permission: "license.read",
		Attributes: []string{"id", "key", "name", "metadata", "owner", "user", "product", "policy"}},
	{Name: "machines", Table: "machines", Permission: "machine.read",
		Attributes: []string{"id", "fingerprint", "name", "metadata", "license", "owner", "user", "product", "policy"}},
	{Name: "users", Table: "users", Permission: "user.read",
		Attributes: []string{"id", "email", "first_name", "last_name", "full_name", "name", "metadata", "role"}},
	{Name: "releases", Table: "releases", Permission: "release.read", Attributes: []string{"id", "version", "tag", "metadata", "product"}},
	{Name: "groups", Table: "groups", Permission: "group.read", Attributes: []string{"name"}},
}

// lookup finds a type by any spelling Keygen's classify accepts: singular
// or plural, any case, kebab or snake.
func lookup(name string) *Type {
	n := strings.ReplaceAll(snake(name), "_", "-")
	for _, t := range Types {
		singular := strings.TrimSuffix(t.Name, "s")
		if t.Name == "policies" || t.Name == "entitlements" {
			singular = map[string]string{"policies": "policy", "entitlements": "entitlement"}[t.Name]
		}
		if n == t.Name || n == singular {
			return t
		}
	}
	return nil
}
