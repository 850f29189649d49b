package access

import "time"

// Scope is the part of an account a principal reaches, by bearer: staff all
// of it; a product its own product's resources; a license itself (with its
// policy and product); a user the licenses it owns or holds. The zero Scope
// (anonymous) reaches only what is public. Each store reads it its own way.
type Scope struct {
	All              bool
	ProductID        string // a product bearer
	LicenseID        string // a license bearer
	LicensePolicyID  string // the license bearer's policy
	LicenseProductID string // the license bearer's product
	UserID           string // a user bearer
	// Reach is what the license bearer's releases depend on, as
	// authentication read it; nil when not read (the release rules read it).
	Reach *LicenseReach
}

// LicenseReach is what a license's sight of releases depends on besides
// its product and policy: its expiry under its policy's expiration
// strategy, its product's distribution strategy, and whether the account
// has OPEN products (whose releases every license sees).
type LicenseReach struct {
	Expiry               *time.Time
	ExpirationStrategy   string
	DistributionStrategy string
	AnyOpen              bool
}

// ScopeOf is the scope of who; nil (anonymous) reaches nothing private.
func ScopeOf(who *Principal) Scope {
	switch {
	case who == nil:
		return Scope{}
	case who.Staff():
		return Scope{All: true}
	case who.BearerType == BearerProduct:
		return Scope{ProductID: who.BearerID}
	case who.BearerType == BearerLicense:
		return Scope{LicenseID: who.BearerID, LicensePolicyID: who.PolicyID, LicenseProductID: who.ProductID, Reach: who.Reach}
	case who.BearerType == BearerUser:
		return Scope{UserID: who.BearerID}
	}
	return Scope{}
}
