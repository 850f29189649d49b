package httpapi

import "testing"

func TestParseAPIVersion(t *testing.T) {
	for _, c := range []struct {
		in    string
		minor int
		ok    bool
	}{
		{"", latestAPIMinor, true},
		{APIVersion, latestAPIMinor, true},
		{"1.0", 0, true},
		{"1.1", 1, true},
		{"1.5", 5, true},
		{"v1.7", 7, true},
		{" 1.3 ", 3, true},
		{"1.9", 0, false},
		{"2.0", 0, false},
		{"1", 0, false},
		{"1.01", 0, false},
		{"1.-1", 0, false},
		{"1.x", 0, false},
		{"latest", 0, false},
	} {
		minor, ok := parseAPIVersion(c.in)
		if ok != c.ok || ok && minor != c.minor {
			t.Errorf("parseAPIVersion(%q) = %d, %v; want %d, %v", c.in, minor, ok, c.minor, c.ok)
		}
	}
}
