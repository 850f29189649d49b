package release

import (
	"context"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/apperr"
)

// Line is a release line an updater follows: the published releases of a
// product in one package (nil: those without a package), in some channels,
// optionally only those above a version and within a constraint.
type Line struct {
	ProductID  string
	PackageID  *string
	Channels   []string
	Above      *Release
	Constraint *Constraint
}

// OnLine is the query of the releases who may see on the line, for stores
// whose records belong to releases (artifacts) to join: visibility is the
// upgrade's (Sight), narrowed as Next narrows.
func (s *Store) OnLine(ctx context.Context, accountID string, who *access.Principal, now time.Time, l Line) *gorm.DB {
	return onLine(s.Scoped(ctx, accountID, who, now), l)
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
