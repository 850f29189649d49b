package serializer

import (
	"strconv"

	"github.com/google/jsonapi"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/catalog"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
)

// Artifact renders an artifact; meta.failure (which Keygen's clients
// ignore) says why it failed or why its last upload was refused.
func Artifact(a *artifact.Artifact) *jsonapi.Node {
	base := document.AccountPath(a.AccountID)
	var meta *jsonapi.Meta
	if a.Failure != nil {
		meta = &jsonapi.Meta{"failure": *a.Failure}
	}
	return &jsonapi.Node{
		Meta: meta,
		Type: "artifacts",
		ID:   a.ID,
		Attributes: map[string]any{
			"filename":  a.Filename,
			"filetype":  a.Filetype,
			"filesize":  a.Filesize,
			"platform":  a.Platform,
			"arch":      a.Arch,
			"checksum":  a.Checksum,
			"signature": a.Signature,
			"status":    a.Status,
			"metadata":  document.Metadata(a.Metadata),
			"created":   document.Time(a.CreatedAt),
			"updated":   document.Time(a.UpdatedAt),
		},
		Relationships: map[string]any{
			"account": document.ToOne("accounts", a.AccountID, base),
			"release": document.ToOne("releases", a.ReleaseID, base+"/releases/"+a.ReleaseID),
		},
		Links: &jsonapi.Links{"self": base + "/artifacts/" + a.ID},
	}
}

// Release renders a release.
func Release(r *release.Release) *jsonapi.Node {
	base := document.AccountPath(r.AccountID)
	self := base + "/releases/" + r.ID
	packageID := ""
	if r.PackageID != nil {
		packageID = *r.PackageID
	}
	return &jsonapi.Node{
		Type: "releases",
		ID:   r.ID,
		Attributes: map[string]any{
			"name":        r.Name,
			"description": r.Description,
			"channel":     r.Channel,
			"status":      r.Status,
			"tag":         r.Tag,
			"version":     r.Version,
			"semver": map[string]any{
				"major": r.SemverMajor, "minor": r.SemverMinor, "patch": r.SemverPatch,
				"prerelease": joinIdentifiers(r.SemverPreWord, r.SemverPreNum), "build": joinIdentifiers(r.SemverBuildWord, r.SemverBuildNum),
			},
			"metadata":  document.Metadata(r.Metadata),
			"backdated": document.OptionalTime(r.BackdatedTo),
			"yanked":    document.OptionalTime(r.YankedAt),
			"created":   document.Time(r.CreatedAt),
			"updated":   document.Time(r.UpdatedAt),
		},
		Relationships: map[string]any{
			"account":      document.ToOne("accounts", r.AccountID, base),
			"product":      document.ToOne("products", r.ProductID, base+"/products/"+r.ProductID),
			"package":      document.ToOne("packages", packageID, self+"/package"),
			"upgrade":      map[string]any{"links": map[string]string{"related": self + "/upgrade"}},
			"constraints":  document.ToMany(self + "/constraints"),
			"entitlements": document.ToMany(self + "/entitlements"),
			"artifacts":    document.ToMany(self + "/artifacts"),
		},
		Links: &jsonapi.Links{"self": self},
	}
}

// joinIdentifiers rebuilds a pre-release or build part from its word and number.
func joinIdentifiers(word *string, num *int64) any {
	switch {
	case word == nil && num == nil:
		return nil
	case num == nil:
		return *word
	case word == nil:
		return strconv.FormatInt(*num, 10)
	}
	return *word + "." + strconv.FormatInt(*num, 10)
}

// Package renders a release package.
func Package(p *releasepackage.Package) *jsonapi.Node {
	base := document.AccountPath(p.AccountID)
	self := base + "/packages/" + p.ID
	return &jsonapi.Node{
		Type: "packages",
		ID:   p.ID,
		Attributes: map[string]any{
			"name":     p.Name,
			"key":      p.Key,
			"engine":   p.Engine,
			"metadata": document.Metadata(p.Metadata),
			"created":  document.Time(p.CreatedAt),
			"updated":  document.Time(p.UpdatedAt),
		},
		Relationships: map[string]any{
			"account":  document.ToOne("accounts", p.AccountID, base),
			"product":  document.ToOne("products", p.ProductID, base+"/products/"+p.ProductID),
			"releases": document.ToMany(base + "/releases?package=" + p.ID),
		},
		Links: &jsonapi.Links{"self": self},
	}
}

// CatalogEntry renders a channel, platform, arch or engine.
func CatalogEntry(e *catalog.Entry) *jsonapi.Node {
	base := document.AccountPath(e.AccountID)
	return &jsonapi.Node{
		Type: e.Kind,
		ID:   e.ID,
		Attributes: map[string]any{
			"name":    e.Key,
			"key":     e.Key,
			"created": document.Time(e.CreatedAt),
			"updated": document.Time(e.UpdatedAt),
		},
		Relationships: map[string]any{"account": document.ToOne("accounts", e.AccountID, base)},
		Links:         &jsonapi.Links{"self": base + "/" + e.Kind + "/" + e.ID},
	}
}

// ReleaseV1x0 renders a release as Keygen-Version 1.0 did, with one file
// (a nil, when it has none): the file's platform, filetype, filename,
// filesize, signature and checksum among the release's attributes, an
// artifact relationship instead of artifacts, and DRAFT read as
// NOT_PUBLISHED.
func ReleaseV1x0(r *release.Release, file *artifact.Artifact) *jsonapi.Node {
	n := Release(r)
	if r.Status == release.Draft {
		n.Attributes["status"] = "NOT_PUBLISHED"
	}
	fileID, attrs := "", map[string]any{"platform": nil, "filetype": nil, "filename": nil, "filesize": nil, "signature": nil, "checksum": nil}
	if file != nil {
		fileID, attrs = file.ID, map[string]any{"platform": file.Platform, "filetype": file.Filetype, "filename": file.Filename,
			"filesize": file.Filesize, "signature": file.Signature, "checksum": file.Checksum}
	}
	for name, v := range attrs {
		n.Attributes[name] = v
	}
	delete(n.Relationships, "artifacts")
	n.Relationships["artifact"] = document.ToOne("artifacts", fileID, (*n.Links)["self"].(string)+"/artifact")
	return n
}

// ArtifactV1x0 renders an artifact as Keygen-Version 1.0 did: its
// filename also as its key, and its release's product related.
func ArtifactV1x0(a *artifact.Artifact) *jsonapi.Node {
	n := Artifact(a)
	n.Attributes["key"] = a.Filename
	n.Relationships["product"] = document.ToOne("products", a.ProductID, document.AccountPath(a.AccountID)+"/products/"+a.ProductID)
	return n
}
