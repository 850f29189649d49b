package release

import (
	"context"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/database"
)

// Line is a release line an updater follows: the published releases of a
// product in one package (nil: those without a package), in some channels,
// optionally only those above a version, within a constraint and with a
// file for a platform and filetype.
type Line struct {
	ProductID  string
	PackageID  *string
	Channels   []string
	Above      *Release
	Constraint *Constraint
	Files      *Files
}

// Files names the kind of file a release must have (an artifact not
// yanked, failed or deleted) to be on a line: Keygen-Version 1.0's
// upgrades, one file per release.
type Files struct{ Platform, Filetype string }

// OnLine is the query of the releases who may see on the line, for stores
// whose records belong to releases (artifacts) to join: visibility is the
// upgrade's (Sight), narrowed as Next narrows.
func (s *Store) OnLine(ctx context.Context, accountID string, who *access.Principal, now time.Time, l Line) *gorm.DB {
	line := values{l.ProductID, l.PackageID, l.Above}
	var above piece
	if l.Above != nil {
		above = greater(line)
	}
	p := onLine(line, inChannels(l.Channels), above, l.Constraint, l.Files)
	return s.Scoped(ctx, accountID, who, now).Where(p.SQL, p.Args...)
}

// InPackageOf narrows a walk of releases to those of a package by id or
// key ("" for releases without a package), release by release: a key is
// probed per release (on PostgreSQL behind a fence, OFFSET 0, since as a
// join the planner hashed every release of the product first).
func (s *Store) InPackageOf(q *gorm.DB, accountID, ref string) *gorm.DB {
	if ref == "" || len(ref) == 36 && uuid.Validate(ref) == nil {
		return inPackage(q, accountID, ref)
	}
	probe := "EXISTS (SELECT 1 FROM packages WHERE packages.id = releases.package_id AND packages.account_id = ? AND packages.key = ?)"
	if s.db.Engine == database.Postgres {
		probe = strings.TrimSuffix(probe, ")") + " OFFSET 0)"
	}
	return q.Where(probe, accountID, ref)
}

// ClientVersion reads the version an updater reports running (a leading
// "v" allowed) into a release carrying its sortable parts, to compare
// releases against; it need not be a release relkey knows.
func ClientVersion(raw string) (*Release, error) {
	v, err := semver.NewVersion(strings.TrimSpace(raw))
	if err != nil {
		return nil, apperr.AtParameter(apperr.Invalid, "VERSION_INVALID", "must be a valid version", "version")
	}
	r := &Release{Version: v.String(), SemverMajor: int64(v.Major()), SemverMinor: int64(v.Minor()), SemverPatch: int64(v.Patch())}
	r.SemverPreWord, r.SemverPreNum = split(v.Prerelease())
	r.SemverBuildWord, r.SemverBuildNum = split(v.Metadata())
	return r, nil
}
