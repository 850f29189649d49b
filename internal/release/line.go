package release

import (
	"slices"
	"strings"

	"github.com/relkey/relkey/internal/database"
)

// piece is a fragment of SQL with its ? arguments.
type piece = database.Clause

func and(ps ...piece) piece { return database.And(ps...) }
func or(ps ...piece) piece  { return database.Join("OR", ps...) }

// A side is what a line's releases are compared with: values known here
// (a Line), or the columns of a row of the same statement (the release an
// upgrade starts from), so that one statement finds both.
type side interface {
	// of is the side's value of a release column (NULL when it has none).
	of(column string) piece
	// number is of for a numeric column, without an SQLite affinity: a row
	// value compared with an index's columns bounds SQLite's search of the
	// index only when the affinities agree, and a value of no affinity
	// takes the column's.
	number(column string) piece
	// null holds when the side has no value for the column.
	null(column string) string
	// is holds when releases.column equals the side's value, NULLs alike.
	is(column string) piece
	// above holds when releases.column is greater than the side's value,
	// or set where the side's is NULL.
	above(column string) piece
}

// values is the side of a line whose product, package and version (nil:
// any) are known.
type values struct {
	productID string
	packageID *string
	version   *Release
}

func (v values) value(column string) any {
	r := v.version
	switch column {
	case "product_id":
		return v.productID
	case "package_id":
		return deref(v.packageID)
	case "semver_major":
		return r.SemverMajor
	case "semver_minor":
		return r.SemverMinor
	case "semver_patch":
		return r.SemverPatch
	case "semver_pre_word":
		return deref(r.SemverPreWord)
	case "semver_pre_num":
		return derefInt(r.SemverPreNum)
	case "semver_build_word":
		return deref(r.SemverBuildWord)
	case "semver_build_num":
		return derefInt(r.SemverBuildNum)
	}
	panic("release: no value for " + column)
}

func (v values) of(column string) piece {
	if x := v.value(column); x != nil {
		return piece{SQL: "?", Args: []any{x}}
	}
	return piece{SQL: "NULL", Args: nil}
}

func (v values) number(column string) piece { return v.of(column) }

func (v values) null(column string) string {
	if v.value(column) == nil {
		return "TRUE"
	}
	return "FALSE"
}

func (v values) is(column string) piece {
	if x := v.value(column); x != nil {
		return piece{SQL: "releases." + column + " = ?", Args: []any{x}}
	}
	return piece{SQL: "releases." + column + " IS NULL", Args: nil}
}

func (v values) above(column string) piece {
	if x := v.value(column); x != nil {
		return piece{SQL: "releases." + column + " > ?", Args: []any{x}}
	}
	return piece{SQL: "releases." + column + " IS NOT NULL", Args: nil}
}

// columns is the side of the row a table alias names.
type columns string

func (c columns) of(column string) piece { return piece{SQL: string(c) + "." + column, Args: nil} }

// number is the column under SQLite's unary +, which takes its affinity
// away (a no-op on PostgreSQL).
func (c columns) number(column string) piece {
	return piece{SQL: "+" + string(c) + "." + column, Args: nil}
}

func (c columns) null(column string) string { return string(c) + "." + column + " IS NULL" }

func (c columns) is(column string) piece {
	their := string(c) + "." + column
	return piece{SQL: "releases." + column + " = " + their + " OR (releases." + column + " IS NULL AND " + their + " IS NULL)", Args: nil}
}

func (c columns) above(column string) piece {
	their := string(c) + "." + column
	return piece{SQL: "releases." + column + " > " + their + " OR (" + their + " IS NULL AND releases." + column + " IS NOT NULL)", Args: nil}
}

// compare is releases.column op the side's value.
func compare(o side, column, op string) piece {
	v := o.of(column)
	return piece{SQL: "releases." + column + " " + op + " " + v.SQL, Args: v.Args}
}

// greater is "a greater version than the side's" in the stored order: a
// greater major, minor or patch; the release of a pre-release; a greater
// or added pre-release identifier; a greater or added build (build
// metadata counts, as in Keygen). Its first term bounds the walk of
// releases_latest_idx to the versions from the side's major, minor and
// patch up, so that "nothing newer" reads a few index entries rather than
// every release of the product.
func greater(o side) piece {
	major, minor, patch := o.number("semver_major"), o.number("semver_minor"), o.number("semver_patch")
	from := piece{SQL: "(releases.semver_major, releases.semver_minor, releases.semver_patch) >= (" + major.SQL + ", " + minor.SQL + ", " + patch.SQL + ")",
		Args: slices.Concat(major.Args, minor.Args, patch.Args)}
	preRelease := piece{SQL: "NOT (" + o.null("semver_pre_word") + " AND " + o.null("semver_pre_num") + ")", Args: nil}
	// Each part decides when greater or less, and leaves ties to the next.
	build := or(o.above("semver_build_word"), and(o.is("semver_build_word"), o.above("semver_build_num")))
	pre := or(
		and(preRelease, piece{SQL: "releases.semver_pre_word IS NULL AND releases.semver_pre_num IS NULL", Args: nil}),
		compare(o, "semver_pre_word", ">"),
		and(preRelease, o.is("semver_pre_word"), o.above("semver_pre_num")),
		and(o.is("semver_pre_word"), o.is("semver_pre_num"), build))
	patchUp := or(compare(o, "semver_patch", ">"), and(compare(o, "semver_patch", "="), pre))
	minorUp := or(compare(o, "semver_minor", ">"), and(compare(o, "semver_minor", "="), patchUp))
	return and(from, or(compare(o, "semver_major", ">"), and(compare(o, "semver_major", "="), minorUp)))
}

// aboveCur and curChannels are greater and includedBy for the row cur, the
// constants of Upgrade's statement.
var (
	aboveCur    = greater(columns("cur"))
	curChannels = includedBy("cur.channel")
)

// constrained is the constraint's condition: "1" keeps major 1, "1.2" minor 2
// and up, "1.2.3" minor 2 and patch 3 and up; pre-release and build parts
// pin equality.
func constrained(c *Constraint) piece {
	ps := []piece{{SQL: "releases.semver_major = ?", Args: []any{c.Major}}}
	switch {
	case c.Patch != nil:
		ps = append(ps, piece{SQL: "releases.semver_minor = ? AND releases.semver_patch >= ?", Args: []any{*c.Minor, *c.Patch}})
	case c.Minor != nil:
		ps = append(ps, piece{SQL: "releases.semver_minor >= ?", Args: []any{*c.Minor}})
	}
	for _, pin := range []struct {
		column string
		v      any
	}{{"semver_pre_word", deref(c.PreWord)}, {"semver_pre_num", derefInt(c.PreNum)}, {"semver_build_word", deref(c.BuildWord)}, {"semver_build_num", derefInt(c.BuildNum)}} {
		if pin.v != nil {
			ps = append(ps, piece{SQL: "releases." + pin.column + " = ?", Args: []any{pin.v}})
		}
	}
	return and(ps...)
}

// inChannels holds for releases in the channels given.
func inChannels(channels []string) piece {
	if len(channels) == 0 {
		return piece{SQL: "FALSE", Args: nil}
	}
	return piece{SQL: "releases.channel IN ?", Args: []any{channels}}
}

// includedBy holds for releases in the channels the channel in column
// includes (Includes).
func includedBy(column string) piece {
	var b strings.Builder
	b.WriteString("CASE " + column)
	for _, ch := range channels {
		b.WriteString(" WHEN '" + ch + "' THEN releases.channel IN ('" + strings.Join(Includes(ch), "', '") + "')")
	}
	b.WriteString(" ELSE FALSE END")
	return piece{SQL: b.String(), Args: nil}
}

// onLine is the condition of the published releases of the side's product
// and package in the channels (a piece from inChannels or includedBy),
// above the side's version when above is set (greater; empty: any
// version), within the constraint (nil: any), with a file of the kind
// when files is set.
func onLine(o side, channels, above piece, c *Constraint, files *Files) piece {
	ps := []piece{compare(o, "product_id", "="), {SQL: "releases.status = ?", Args: []any{Published}}, channels, o.is("package_id")}
	if above.SQL != "" {
		ps = append(ps, above)
	}
	if f := files; f != nil {
		ps = append(ps, piece{SQL: `EXISTS (SELECT 1 FROM artifacts a WHERE a.release_id = releases.id AND a.platform = ? AND a.filetype = ?
			AND a.status IN ('WAITING', 'UPLOADED'))`, Args: []any{strings.ToLower(f.Platform), strings.ToLower(strings.TrimPrefix(f.Filetype, "."))}})
	}
	if c != nil {
		ps = append(ps, constrained(c))
	}
	return and(ps...)
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func derefInt(n *int64) any {
	if n == nil {
		return nil
	}
	return *n
}
