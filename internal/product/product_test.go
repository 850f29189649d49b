package product

import (
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/optional"
)

func str(s string) *string { return &s }

func TestApply(t *testing.T) {
	tests := []struct {
		name  string
		p     Params
		code  string
		check func(*Product) bool
	}{
		{"name only", Params{Name: optional.Of("App")}, "", func(p *Product) bool { return p.DistributionStrategy == Licensed && p.Code == nil }},
		{"trims name and code", Params{Name: optional.Of(" App "), Code: optional.Of(str(" app "))}, "", func(p *Product) bool { return p.Name == "App" && *p.Code == "app" }},
		{"null strategy is LICENSED", Params{Name: optional.Of("A"), DistributionStrategy: optional.Of[*string](nil)}, "", func(p *Product) bool { return p.DistributionStrategy == Licensed }},
		{"open", Params{Name: optional.Of("A"), DistributionStrategy: optional.Of(str(Open))}, "", func(p *Product) bool { return p.DistributionStrategy == Open }},
		{"null metadata is empty", Params{Name: optional.Of("A"), Metadata: optional.Of[map[string]any](nil)}, "", func(p *Product) bool { return p.Metadata != nil && len(p.Metadata) == 0 }},
		{"blank name", Params{Name: optional.Of("")}, "NAME_MISSING", nil},
		{"long name", Params{Name: optional.Of(strings.Repeat("x", 256))}, "NAME_TOO_LONG", nil},
		{"blank code", Params{Name: optional.Of("A"), Code: optional.Of(str(" "))}, "CODE_MISSING", nil},
		{"uuid code", Params{Name: optional.Of("A"), Code: optional.Of(str("1b4e28ba-2fa1-11d2-883f-0016d3cca427"))}, "CODE_INVALID", nil},
		{"reserved code", Params{Name: optional.Of("A"), Code: optional.Of(str("actions"))}, "CODE_NOT_ALLOWED", nil},
		{"lowercase strategy", Params{Name: optional.Of("A"), DistributionStrategy: optional.Of(str("open"))}, "DISTRIBUTION_STRATEGY_NOT_ALLOWED", nil},
		{"ftp url", Params{Name: optional.Of("A"), URL: optional.Of(str("ftp://x.example"))}, "URL_INVALID", nil},
		{"relative url", Params{Name: optional.Of("A"), URL: optional.Of(str("/x"))}, "URL_INVALID", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Product{DistributionStrategy: Licensed, Metadata: map[string]any{}}
			err := apply(p, tt.p)
			if tt.code != "" {
				if e := apperr.As(err); err == nil || e.Code != tt.code || e.Kind != apperr.Unprocessable {
					t.Fatalf("err = %v, want %s", err, tt.code)
				}
				return
			}
			if err != nil || !tt.check(p) {
				t.Fatalf("err = %v, product = %+v", err, p)
			}
		})
	}
}
