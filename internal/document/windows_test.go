package document

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/apperr"
)

func TestWindowFilter(t *testing.T) {
	day := 24 * time.Hour
	for _, tt := range []struct {
		query    string
		key      string
		duration time.Duration
		at       string
		badParam string
	}{
		{query: "", key: ""},
		{query: "w[within]=86400", key: "within", duration: day},
		{query: "w[within]=P1D", key: "within", duration: day},
		{query: "w[within]=1dt12h", key: "within", duration: 36 * time.Hour},
		{query: "w[within]=PT30M", key: "within", duration: 30 * time.Minute},
		{query: "w[within]=P1W", key: "within", duration: 7 * day},
		{query: "w[in]=P1Y", key: "in", duration: time.Duration(365.2425 * float64(day))},
		{query: "w[within]=P1D&w[before]=0", key: "within", duration: day},
		{query: "w[before]=0", key: "before", at: "1970-01-01T00:00:00Z"},
		{query: "w[after]=2026-01-02T03:04:05Z", key: "after", at: "2026-01-02T03:04:05Z"},
		{query: "w[after]=2026-01-02", key: "after", at: "2026-01-02T00:00:00Z"},
		{query: "w[on]=2026-01-02", key: "on", at: "2026-01-02T00:00:00Z"},
		{query: "w=1", badParam: "w"},
		{query: "w[within]=soon", badParam: "w[within]"},
		{query: "w[within]=P", badParam: "w[within]"},
		{query: "w[within]=PT", badParam: "w[within]"},
		{query: "w[within]=-5", badParam: "w[within]"},
		{query: "w[before]=tomorrow", badParam: "w[before]"},
		{query: "w[on]=2026-02-30", badParam: "w[on]"},
		{query: "w[never]=1", badParam: "w[never]"},
	} {
		q, _ := url.ParseQuery(tt.query)
		w, err := WindowFilter(q, "w", "within", "in", "before", "after", "on")
		if tt.badParam != "" {
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Source == nil || ae.Source.Parameter != tt.badParam {
				t.Errorf("?%s: %v, want a 400 on %s", tt.query, err, tt.badParam)
			}
			continue
		}
		switch {
		case err != nil:
			t.Errorf("?%s: %v", tt.query, err)
		case tt.key == "" && w != nil:
			t.Errorf("?%s: %+v, want none", tt.query, w)
		case tt.key != "" && (w == nil || w.Key != tt.key || w.Duration != tt.duration):
			t.Errorf("?%s: %+v, want %s %v", tt.query, w, tt.key, tt.duration)
		case tt.at != "" && w.Time.Format(time.RFC3339) != tt.at:
			t.Errorf("?%s: at %v, want %s", tt.query, w.Time, tt.at)
		}
	}
}
