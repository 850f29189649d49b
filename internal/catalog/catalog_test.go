package catalog

import "testing"

func TestSingular(t *testing.T) {
	for kind, want := range map[string]string{Channels: "channel", Platforms: "platform", Arches: "arch", Engines: "engine"} {
		if got := Singular(kind); got != want {
			t.Errorf("Singular(%q) = %q, want %q", kind, got, want)
		}
	}
	if len(Kinds) != 4 {
		t.Fatalf("Kinds = %v", Kinds)
	}
}
