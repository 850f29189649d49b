package squirrel

import (
	"testing"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/feed/feedtest"
)

func TestRewriteReleases(t *testing.T) {
	link := func(name string) string {
		return "https://relkey.test/v1/engines/squirrel/app/win32/x64/" + name + "?auth=license%3AKEY"
	}
	in := "\uFEFF94689FEDE03FED7AB59C24337673A27837F0C3EC Desk-1.1.0-full.nupkg 1004502\r\n" +
		"3a2eadd15dd984e4559f2b4d790ec8badaeb6a39 Desk-1.2.0-delta.nupkg 2048\n\n" +
		"14db31d2647c6d2284882a2e101924a9c409ee67 Desk-1.2.0-full.nupkg 1040561\n" +
		"0000000000000000000000000000000000000000 https://cdn.example.com/Desk-0.9.0-full.nupkg 10\n"
	out, err := Rewrite([]byte(in), link)
	if err != nil {
		t.Fatal(err)
	}
	feedtest.Golden(t, "RELEASES", out)

	for _, bad := range []string{"not a releases file", "94689FEDE03FED7AB59C24337673A27837F0C3EC Desk-1.1.0-full.nupkg", "94689FEDE03 Desk-1.1.0-full.nupkg 10"} {
		if _, err := Rewrite([]byte(bad), link); !apperr.Is(err, apperr.Unprocessable) {
			t.Errorf("Rewrite(%q) = %v, want RELEASES_INVALID", bad, err)
		}
	}
}
