package release

import (
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/relkey/relkey/internal/apperr"
)

// Semver is a version split into sortable parts, as releases store it: a
// trailing numeric identifier of the pre-release (or build) part is its
// number, the other identifiers its word ("alpha.1" → alpha, 1).
type Semver struct {
	Major, Minor, Patch int64
	PreWord             *string
	PreNum              *int64
	BuildWord           *string
	BuildNum            *int64
}

// Channels, from most to least stable; dev stands apart.
var channels = []string{"stable", "rc", "beta", "alpha", "dev"}

// Includes lists the channels a channel's releases come from: rc includes
// stable, beta rc, alpha beta; dev only itself.
func Includes(channel string) []string {
	switch channel {
	case "stable":
		return []string{"stable"}
	case "rc":
		return []string{"stable", "rc"}
	case "beta":
		return []string{"stable", "rc", "beta"}
	case "alpha":
		return []string{"stable", "rc", "beta", "alpha"}
	case "dev":
		return []string{"dev"}
	}
	return nil
}

// ParseVersion validates and normalizes a version for a channel ("2" →
// "2.0.0"; no "v" prefix; the pre-release must start with the channel).
func ParseVersion(raw, channel string) (string, Semver, error) {
	raw = strings.TrimSpace(raw)
	invalid := apperr.Attribute("version", "INVALID", "must be a valid version")
	if raw == "" || raw[0] == 'v' || raw[0] == 'V' {
		return "", Semver{}, invalid
	}
	v, err := semver.NewVersion(raw)
	if err != nil {
		return "", Semver{}, invalid
	}
	normalized := v.String()
	pre := v.Prerelease()
	switch {
	case channel == "stable" && pre != "":
		return "", Semver{}, apperr.Attribute("version", "CHANNEL_INVALID", "version does not match stable channel (expected x.y.z got "+normalized+")")
	case channel != "stable" && !strings.HasPrefix(pre, channel):
		return "", Semver{}, apperr.Attribute("version", "CHANNEL_INVALID", "version does not match prerelease channel (expected x.y.z-"+channel+".n got "+normalized+")")
	}
	s := Semver{Major: int64(v.Major()), Minor: int64(v.Minor()), Patch: int64(v.Patch())}
	s.PreWord, s.PreNum = split(pre)
	s.BuildWord, s.BuildNum = split(v.Metadata())
	return normalized, s, nil
}

func split(part string) (*string, *int64) {
	if part == "" {
		return nil, nil
	}
	ids := strings.Split(part, ".")
	var num *int64
	if n, err := strconv.ParseInt(ids[len(ids)-1], 10, 64); err == nil {
		num = &n
		ids = ids[:len(ids)-1]
	}
	if len(ids) == 0 {
		return nil, num
	}
	word := strings.Join(ids, ".")
	return &word, num
}

// Constraint pins an upgrade: "1" keeps major 1; "1.2" major 1 and minor
// ≥ 2; "1.2.3" major 1, minor 2 and patch ≥ 3; pre-release and build parts
// pin equality. An operator, if given, is ignored, as Keygen does.
type Constraint struct {
	Major              int64
	Minor, Patch       *int64
	PreWord, BuildWord *string
	PreNum, BuildNum   *int64
}

// ParseConstraint reads a constraint; nil for an empty one.
func ParseConstraint(raw string) (*Constraint, error) {
	raw = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(raw), "~^>=<! "))
	if raw == "" {
		return nil, nil
	}
	invalid := apperr.AtParameter(apperr.Invalid, "CONSTRAINT_INVALID", "invalid constraint format", "constraint")
	core, build, _ := strings.Cut(raw, "+")
	core, pre, _ := strings.Cut(core, "-")
	parts := strings.Split(core, ".")
	if len(parts) > 3 {
		return nil, invalid
	}
	nums := make([]int64, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n < 0 {
			return nil, invalid
		}
		nums[i] = n
	}
	c := &Constraint{Major: nums[0]}
	if len(nums) > 1 {
		c.Minor = &nums[1]
	}
	if len(nums) > 2 {
		c.Patch = &nums[2]
	}
	c.PreWord, c.PreNum = split(pre)
	c.BuildWord, c.BuildNum = split(build)
	return c, nil
}
