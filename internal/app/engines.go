package app

import (
	"net/http"

	"github.com/relkey/relkey/internal/feed/composer"
	"github.com/relkey/relkey/internal/feed/electron"
	"github.com/relkey/relkey/internal/feed/faynosync"
	"github.com/relkey/relkey/internal/feed/npm"
	"github.com/relkey/relkey/internal/feed/oci"
	"github.com/relkey/relkey/internal/feed/pypi"
	"github.com/relkey/relkey/internal/feed/raw"
	"github.com/relkey/relkey/internal/feed/rubygems"
	"github.com/relkey/relkey/internal/feed/sparkle"
	"github.com/relkey/relkey/internal/feed/squirrel"
	"github.com/relkey/relkey/internal/feed/tauri"
	"github.com/relkey/relkey/internal/feed/velopack"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/ociimage"
)

// engines are the distribution routes served beside the API: every
// desktop updater's feed and Keygen's raw links.
func (a *App) engines() []httpapi.Engine {
	return []httpapi.Engine{
		tauri.Engine(a.Feeds),
		electron.Engine(a.Feeds),
		squirrel.Engine(a.Feeds),
		sparkle.Engine(a.Feeds),
		faynosync.Engine(a.Feeds),
		velopack.Engine(a.Feeds),
		pypi.Engine(a.Feeds),
		npm.Engine(a.Feeds),
		rubygems.Engine(a.Feeds),
		composer.Engine(a.Feeds),
		oci.Engine(a.Feeds, a.RegistryTokens, &oci.Pushing{Releases: a.Releases, Artifacts: a.Artifacts, Staging: ociimage.NewStaging(a.Config.StagingDir()),
			Objects: oci.StoreObjects{Store: a.Storage, Local: a.Local, Uploads: a.Artifacts, Client: &http.Client{}}}),
		raw.Engine(a.Products, a.Artifacts),
	}
}
