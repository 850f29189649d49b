package sparkle

import (
	"encoding/xml"
	"testing"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/feed/feedtest"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
)

func TestWireFormat(t *testing.T) {
	beta := feedtest.Release("r2", "1.3.0-beta.1", "beta", map[string]any{"build": "130"})
	stable := feedtest.Release("r1", "1.2.0", "stable", map[string]any{"critical": true, "minimum_system_version": "12.0"})
	files := map[string][]artifact.Artifact{
		"r2": {feedtest.Artifact("a3", "r2", "Desk-1.3.0-beta.1.zip", "darwin", "universal", 300, "", "ed-beta")},
		"r1": {feedtest.Artifact("a1", "r1", "Desk-1.2.0.dmg", "darwin", "x64", 100, "", "ed-dmg"),
			feedtest.Artifact("a2", "r1", "Desk-1.2.0.zip", "darwin", "x64", 200, "", "ed-zip")},
	}
	out, err := Render(&releasepackage.Package{Name: "Desk"}, []release.Release{*beta, *stable}, files, feedtest.Link)
	if err != nil {
		t.Fatal(err)
	}
	feedtest.Golden(t, "appcast.xml", out)

	// Parsed as XML with Sparkle's documented elements.
	const ns = "http://www.andymatuschak.org/xml-namespaces/sparkle"
	var doc struct {
		Channel struct {
			Items []struct {
				Title     string    `xml:"title"`
				PubDate   string    `xml:"pubDate"`
				Version   string    `xml:"http://www.andymatuschak.org/xml-namespaces/sparkle version"`
				Short     string    `xml:"http://www.andymatuschak.org/xml-namespaces/sparkle shortVersionString"`
				Critical  *struct{} `xml:"http://www.andymatuschak.org/xml-namespaces/sparkle criticalUpdate"`
				Channel   string    `xml:"http://www.andymatuschak.org/xml-namespaces/sparkle channel"`
				Enclosure struct {
					URL       string `xml:"url,attr"`
					Length    int64  `xml:"length,attr"`
					Signature string `xml:"http://www.andymatuschak.org/xml-namespaces/sparkle edSignature,attr"`
				} `xml:"enclosure"`
			} `xml:"item"`
		} `xml:"channel"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	items := doc.Channel.Items
	if len(items) != 2 || items[0].Version != "130" || items[0].Channel != "beta" || items[0].Critical != nil ||
		items[1].Short != "1.2.0" || items[1].Critical == nil || items[1].Enclosure.Signature != "ed-zip" || items[1].Enclosure.Length != 200 {
		t.Fatalf("appcast as Sparkle reads it (%s): %+v", ns, items)
	}
}
