// Package feed decides what a desktop updater is offered: the newest
// release of a package the bearer may see (the upgrade's visibility:
// channels with inclusion, entitlement constraints, the expiry window,
// suspension, drafts and yanked releases hidden) that has an artifact the
// client can install, through staged rollouts and required intermediate
// versions. The formats live in its sub-packages; the HTTP exchange they
// share in feed/feedhttp.
package feed

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/analytics"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
)

// Packages finds the package a feed follows (*releasepackage.Service).
type Packages interface {
	Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*releasepackage.Package, error)
	ByEngine(ctx context.Context, who *access.Principal, t *account.Tenant, engine string) ([]releasepackage.Package, error)
}

// Releases finds releases and refuses suspended bearers (*release.Service).
type Releases interface {
	Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, n release.Narrowing) (*release.Release, error)
	Refuse(ctx context.Context, who *access.Principal, t *account.Tenant, productID string) error
}

// Offers reads the releases and artifacts of a line (*artifact.Offers).
type Offers interface {
	Offered(ctx context.Context, who *access.Principal, t *account.Tenant, o artifact.Offering) ([]release.Release, error)
	Files(ctx context.Context, t *account.Tenant, releaseIDs []string) ([]artifact.Artifact, error)
}

// Artifacts finds an artifact by id or filename (*artifact.Service).
type Artifacts interface {
	Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, f artifact.Filter) (*artifact.Artifact, error)
	Content(ctx context.Context, a *artifact.Artifact) ([]byte, error)
	Download(ctx context.Context, who *access.Principal, t *account.Tenant, req artifact.DownloadRequest) (*artifact.Artifact, string, error)
}

// Service holds the feed rules.
type Service struct {
	packages  Packages
	releases  Releases
	artifacts Artifacts
	offers    Offers
	events    *event.Bus
	usage     analytics.Recorder
}

// NewService returns the feed rules.
func NewService(packages Packages, releases Releases, artifacts Artifacts, offers Offers, events *event.Bus) *Service {
	return &Service{packages: packages, releases: releases, artifacts: artifacts, offers: offers, events: events}
}

// RecordTo makes every feed opened record a usage signal into r.
func (s *Service) RecordTo(r analytics.Recorder) { s.usage = r }

// served finds a package who may see that the engine serves.
func (s *Service) served(ctx context.Context, who *access.Principal, t *account.Tenant, engine, ref string) (*releasepackage.Package, error) {
	pkg, err := s.packages.Find(ctx, who, t, ref)
	if err != nil {
		return nil, err
	}
	if pkg.Engine == nil || *pkg.Engine != engine {
		return nil, apperr.NotFoundResource("package", ref)
	}
	return pkg, nil
}

// File finds the newest uploaded artifact with a filename among the
// releases of a package who may see (an installer a feed names).
func (s *Service) File(ctx context.Context, who *access.Principal, t *account.Tenant, engine, pkgRef, filename string) (*artifact.Artifact, error) {
	pkg, err := s.served(ctx, who, t, engine, pkgRef)
	if err != nil {
		return nil, err
	}
	return s.artifacts.Find(ctx, who, t, filename, artifact.Filter{Product: pkg.ProductID, Package: &pkg.ID})
}

// Content reads an index file a feed serves from a release's artifacts
// (Squirrel.Windows' RELEASES), bounded by artifact.MaxContent.
func (s *Service) Content(ctx context.Context, a *artifact.Artifact) ([]byte, error) {
	return s.artifacts.Content(ctx, a)
}

// Request is what an updater asks: a package (by id or key) served by an
// engine, a channel ("" for stable), a constraint, the version it runs
// ("" when the format does not say) and the artifacts it can install.
type Request struct {
	Engine, Package     string
	Channel, Constraint string
	Current             string
	// Known: the current version must be a release of the package the
	// bearer sees, else nothing is offered (Tauri, as Keygen).
	Known bool
	Pick  artifact.Pick
	// Device identifies the client for staged rollouts ("" when unknown).
	Device string
	// ClientStaging: an unknown device is offered a staged release with
	// its percentage, for the client to stage itself (electron-updater).
	ClientStaging bool
	// History is how many releases the feed lists (an appcast's items);
	// 0 for the offer alone.
	History int
}

// Feed is what an updater is offered.
type Feed struct {
	Package *releasepackage.Package
	// Current is the client's version (nil when unknown).
	Current *release.Release
	// Next is the release offered; nil when there is no update.
	Next *release.Release
	// Releases are the ones listed (History), newest first.
	Releases []release.Release
	// Files are the uploaded artifacts of Next and Releases, by release id.
	Files map[string][]artifact.Artifact
	// Staging is the rollout percentage a client that stages itself gets
	// (nil when the server decided, or the release is fully rolled out).
	Staging *int
	// Modified is when the newest of Next and Releases last changed.
	Modified time.Time
}

// candidates is how many of the newest releases a feed reads to step over
// staged releases a device is not in.
const candidates = 25

// Open decides what the request is offered, and records the request's
// usage signal.
func (s *Service) Open(ctx context.Context, who *access.Principal, t *account.Tenant, req Request) (*Feed, error) {
	f, err := s.open(ctx, who, t, req)
	if err == nil && s.usage != nil {
		sig := analytics.Signal{Kind: analytics.FeedRequest, AccountID: t.ID, ProductID: f.Package.ProductID, Device: req.Device, Version: req.Current, Result: req.Engine}
		if len(req.Pick.Platforms) > 0 {
			sig.Platform = req.Pick.Platforms[0]
		}
		if len(req.Pick.Arches) > 0 {
			sig.Arch = req.Pick.Arches[0]
		}
		if who != nil && who.BearerType == access.BearerLicense {
			sig.LicenseID, sig.PolicyID = who.BearerID, who.PolicyID
		}
		s.usage.Record(sig)
	}
	return f, err
}

func (s *Service) open(ctx context.Context, who *access.Principal, t *account.Tenant, req Request) (*Feed, error) {
	pkg, err := s.served(ctx, who, t, req.Engine, req.Package)
	if err != nil {
		return nil, err
	}
	if err := access.MayReadPublic(who, "release.read"); err != nil {
		return nil, err
	}
	if err := s.releases.Refuse(ctx, who, t, pkg.ProductID); err != nil {
		return nil, err
	}
	channel := req.Channel
	if channel == "" {
		channel = "stable"
	}
	channels := release.Includes(channel)
	if channels == nil {
		return nil, apperr.AtParameter(apperr.Invalid, "CHANNEL_INVALID", "must be one of stable, rc, beta, alpha, dev", "channel")
	}
	constraint, err := release.ParseConstraint(req.Constraint)
	if err != nil {
		return nil, err
	}
	f := &Feed{Package: pkg, Files: map[string][]artifact.Artifact{}}
	if req.Current != "" {
		if req.Known {
			f.Current, err = s.releases.Find(ctx, who, t, req.Current, release.Narrowing{Product: pkg.ProductID, Package: &pkg.ID})
			if apperr.Is(err, apperr.NotFound) {
				return f, nil
			}
		} else {
			f.Current, err = release.ClientVersion(req.Current)
		}
		if err != nil {
			return nil, err
		}
	}
	line := release.Line{ProductID: pkg.ProductID, PackageID: &pkg.ID, Channels: channels, Above: f.Current, Constraint: constraint}
	newest, err := s.offers.Offered(ctx, who, t, artifact.Offering{Line: line, Pick: req.Pick, Limit: max(candidates, req.History)})
	if err != nil {
		return nil, err
	}
	for i := range newest {
		r := &newest[i]
		pct := RolloutPercentage(r)
		switch {
		case pct >= 100 || req.Device != "" && InRollout(r.ID, req.Device, pct):
		case req.Device == "" && req.ClientStaging && pct > 0:
			if f.Next == nil {
				f.Staging = &pct
			}
		default:
			continue
		}
		if f.Next == nil {
			f.Next = r
		}
		if len(f.Releases) < req.History {
			f.Releases = append(f.Releases, *r)
		}
	}
	if f.Next != nil && f.Current != nil {
		if err := s.stepThrough(ctx, who, t, f, artifact.Offering{Line: line, Pick: req.Pick, Oldest: true, Intermediate: true, Limit: 1}); err != nil {
			return nil, err
		}
	}
	return f, s.files(ctx, t, f)
}

// stepThrough offers, instead of Next, the oldest required intermediate
// release above the client's version, when it is older than Next.
func (s *Service) stepThrough(ctx context.Context, who *access.Principal, t *account.Tenant, f *Feed, o artifact.Offering) error {
	found, err := s.offers.Offered(ctx, who, t, o)
	if err != nil || len(found) == 0 || Compare(&found[0], f.Next) >= 0 {
		return err
	}
	f.Next, f.Staging = &found[0], nil
	return nil
}

// files loads the artifacts of the releases a feed lists.
func (s *Service) files(ctx context.Context, t *account.Tenant, f *Feed) error {
	ids := map[string]bool{}
	var list []string
	for _, r := range f.Releases {
		ids[r.ID] = true
		list = append(list, r.ID)
	}
	if f.Next != nil && !ids[f.Next.ID] {
		list = append(list, f.Next.ID)
	}
	files, err := s.offers.Files(ctx, t, list)
	if err != nil {
		return err
	}
	for _, a := range files {
		f.Files[a.ReleaseID] = append(f.Files[a.ReleaseID], a)
	}
	for _, r := range append(f.Releases, derefs(f.Next)...) {
		if r.UpdatedAt.After(f.Modified) {
			f.Modified = r.UpdatedAt
		}
	}
	return nil
}

func derefs(r *release.Release) []release.Release {
	if r == nil {
		return nil
	}
	return []release.Release{*r}
}

// Upgraded records that a feed offered its update (release.upgraded, as
// the upgrade route of Keygen's engines does).
func (s *Service) Upgraded(ctx context.Context, t *account.Tenant, f *Feed) {
	if f.Next == nil || s.events == nil {
		return
	}
	meta := map[string]any{"next": f.Next.Version}
	if f.Current != nil {
		meta["current"] = f.Current.Version
	}
	s.events.Publish(ctx, event.Event{Type: event.ReleaseUpgraded, AccountID: t.ID, ResourceID: f.Next.ID, Meta: meta})
}

// RolloutPercentage is a release's metadata rolloutPercentage clamped to
// 0–100; 100 when unset.
func RolloutPercentage(r *release.Release) int {
	v, ok := r.Metadata["rollout_percentage"].(float64)
	if !ok {
		return 100
	}
	return int(min(max(v, 0), 100))
}

// InRollout reports whether a device is among the first pct percent of a
// release's rollout: a stable hash of the two picks its bucket (0–99), so
// raising the percentage only adds devices.
func InRollout(releaseID, device string, pct int) bool {
	sum := sha256.Sum256([]byte(releaseID + "\x00" + device))
	return int(binary.BigEndian.Uint64(sum[:8])%100) < pct
}

// Notes is what a release says about itself: its description, else "".
func Notes(r *release.Release) string {
	if r.Description == nil {
		return ""
	}
	return *r.Description
}

// Published is when a release came out: its backdate, else its creation.
func Published(r *release.Release) time.Time {
	if r.BackdatedTo != nil {
		return r.BackdatedTo.UTC()
	}
	return r.CreatedAt.UTC()
}

// Compare orders two releases by version (build metadata breaking ties).
func Compare(a, b *release.Release) int {
	va, errA := semver.NewVersion(a.Version)
	vb, errB := semver.NewVersion(b.Version)
	if errA != nil || errB != nil {
		return strings.Compare(a.Version, b.Version)
	}
	if c := va.Compare(vb); c != 0 {
		return c
	}
	return strings.Compare(va.Metadata(), vb.Metadata())
}

// Platforms are the spellings of a platform the updaters and builders use
// (artifacts carry whichever the vendor uploaded).
func Platforms(platform string) []string {
	return family(platform, [][]string{{"darwin", "macos", "mac", "osx"}, {"windows", "win32", "win"}, {"linux"}})
}

// Arches are the spellings of an architecture.
func Arches(arch string) []string {
	return family(arch, [][]string{{"x86_64", "x64", "amd64"}, {"aarch64", "arm64"}, {"i686", "ia32", "x86", "386", "i386"},
		{"armv7", "armv7l", "arm"}, {"universal"}})
}

func family(name string, families [][]string) []string {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, f := range families {
		for _, n := range f {
			if n == name {
				return f
			}
		}
	}
	return []string{name}
}

// Hash decodes a checksum of size bytes written as hex or as padded or
// unpadded base64 (keygen-cli's); nil when it is not one.
func Hash(sum string, size int) []byte {
	if raw, err := hex.DecodeString(sum); err == nil && len(raw) == size {
		return raw
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if raw, err := enc.DecodeString(sum); err == nil && len(raw) == size {
			return raw
		}
	}
	return nil
}

// Suffix reports whether a filename ends with one of the suffixes
// (case-insensitive).
func Suffix(filename string, suffixes ...string) bool {
	lower := strings.ToLower(filename)
	for _, s := range suffixes {
		if strings.HasSuffix(lower, s) {
			return true
		}
	}
	return false
}

// Among keeps the artifacts of a platform family and arch family (any
// when nil) whose filenames end with one of suffixes (any when none).
func Among(files []artifact.Artifact, platforms, arches []string, suffixes ...string) []artifact.Artifact {
	var out []artifact.Artifact
	for _, a := range files {
		if len(platforms) > 0 && (a.Platform == nil || !slices.Contains(platforms, *a.Platform)) ||
			len(arches) > 0 && (a.Arch == nil || !slices.Contains(arches, *a.Arch)) ||
			len(suffixes) > 0 && !Suffix(a.Filename, suffixes...) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// Dependencies are the requirements an artifact's metadata lists under
// dependencies, as strings in the engine's own notation (npm's
// "<name>@<range>", Composer's "<vendor/name>:<constraint>", RubyGems'
// "<name>:<requirement>"): a list, since metadata keys are snake_cased
// and package names must stay as they are.
func Dependencies(a *artifact.Artifact) []string {
	list, _ := a.Metadata["dependencies"].([]any)
	var out []string
	for _, item := range list {
		if spec, _ := item.(string); strings.TrimSpace(spec) != "" {
			out = append(out, strings.TrimSpace(spec))
		}
	}
	return out
}

// Requirement splits a dependency at the last sep after its first
// character (so npm's "@scope/name@^1" keeps its scope); the requirement
// is any ("*") when there is none.
func Requirement(spec, sep string) (name, requirement string) {
	if at := strings.LastIndex(spec, sep); at > 0 {
		return strings.TrimSpace(spec[:at]), strings.TrimSpace(spec[at+len(sep):])
	}
	return spec, "*"
}
