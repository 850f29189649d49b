package serializer

import (
	"github.com/google/jsonapi"

	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/setting"
)

// Setting renders an account setting.
func Setting(st *setting.Setting) *jsonapi.Node {
	base := document.AccountPath(st.AccountID)
	return &jsonapi.Node{
		Type: "settings",
		ID:   st.ID,
		Attributes: map[string]any{
			"key":     st.Key,
			"value":   st.Value,
			"created": document.Time(st.CreatedAt),
			"updated": document.Time(st.UpdatedAt),
		},
		Relationships: map[string]any{
			"account": document.ToOne("accounts", st.AccountID, base),
		},
		Links: &jsonapi.Links{"self": base + "/settings/" + st.ID},
	}
}
