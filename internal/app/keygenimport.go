package app

import (
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/keygenimport"
)

// ImportTarget is the account t of this relkey as the target of an import
// from Keygen: its rules and its object store.
func (a *App) ImportTarget(t *account.Tenant) keygenimport.Target {
	return keygenimport.Target{
		Tenant: t, Products: a.Products, Entitlements: a.Entitlements, Policies: a.Policies, Users: a.Users,
		Licenses: a.Licenses, Machines: a.Machines, Packages: a.Packages, Releases: a.Releases, Artifacts: a.Artifacts,
		Groups: a.Groups, Storage: a.Storage, Local: a.Local,
	}
}
