package release

import (
	"testing"

	"github.com/relkey/relkey/internal/apperr"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		raw, channel, want, code string
		preWord                  string
		preNum                   int64
	}{
		{"2", "stable", "2.0.0", "", "", -1},
		{"1.2", "stable", "1.2.0", "", "", -1},
		{"1.0.0-beta.3", "beta", "1.0.0-beta.3", "", "beta", 3},
		{"1.0.0-rc.1.2", "rc", "1.0.0-rc.1.2", "", "rc.1", 2},
		{"1.0.0-alpha", "alpha", "1.0.0-alpha", "", "alpha", -1},
		{"v1.0.0", "stable", "", "VERSION_INVALID", "", -1},
		{"garbage", "stable", "", "VERSION_INVALID", "", -1},
		{"1.0.0-beta.1", "stable", "", "VERSION_CHANNEL_INVALID", "", -1},
		{"1.0.0", "beta", "", "VERSION_CHANNEL_INVALID", "", -1},
		{"1.0.0-alpha.1", "beta", "", "VERSION_CHANNEL_INVALID", "", -1},
	}
	for _, tt := range tests {
		got, sv, err := ParseVersion(tt.raw, tt.channel)
		if tt.code != "" {
			if apperr.As(err).Code != tt.code {
				t.Errorf("%s/%s: err %v, want %s", tt.raw, tt.channel, err, tt.code)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s/%s = %q, %v; want %q", tt.raw, tt.channel, got, err, tt.want)
			continue
		}
		if (tt.preWord == "") != (sv.PreWord == nil) || (sv.PreWord != nil && *sv.PreWord != tt.preWord) ||
			(tt.preNum < 0) != (sv.PreNum == nil) || (sv.PreNum != nil && *sv.PreNum != tt.preNum) {
			t.Errorf("%s split into %v/%v", tt.raw, sv.PreWord, sv.PreNum)
		}
	}
}

func TestParseConstraint(t *testing.T) {
	if c, err := ParseConstraint("~> 1.2"); err != nil || c.Major != 1 || *c.Minor != 2 || c.Patch != nil {
		t.Fatalf("1.2: %+v %v", c, err)
	}
	if c, err := ParseConstraint("1.2.3-beta.1"); err != nil || *c.Patch != 3 || *c.PreWord != "beta" || *c.PreNum != 1 {
		t.Fatalf("1.2.3-beta.1: %+v %v", c, err)
	}
	for _, bad := range []string{"x", "1.2.3.4", "1.-2"} {
		if _, err := ParseConstraint(bad); apperr.As(err).Code != "CONSTRAINT_INVALID" {
			t.Errorf("%q accepted", bad)
		}
	}
	if c, err := ParseConstraint(""); c != nil || err != nil {
		t.Fatal("empty constraint")
	}
}
