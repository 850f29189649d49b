package document

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/naming"
)

// TimeFormat is how every timestamp is rendered: ISO-8601 UTC with milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Time renders a timestamp.
func Time(t time.Time) string { return t.UTC().Format(TimeFormat) }

// OptionalTime renders a nullable timestamp.
func OptionalTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return Time(*t)
}

// Metadata renders stored (snake_case) metadata with camelCase keys, deeply;
// nil renders as {}.
func Metadata(m map[string]any) any {
	if m == nil {
		return map[string]any{}
	}
	return naming.MapKeys(m, naming.Camel)
}

// AccountPath is the path every link of an account starts with: it always
// uses the account's UUID, whatever the request used.
func AccountPath(accountID string) string { return "/v1/accounts/" + accountID }

// ToOne renders a to-one relationship: linkage (null when id is empty) and
// the related link.
func ToOne(typ, id, related string) Relationship {
	return Relationship{id: id, typ: typ, related: related, linked: true}
}

// ToMany renders a to-many relationship: only its related link.
func ToMany(related string) Relationship {
	return Relationship{related: related}
}

// Relationship is a rendered relationship. A struct of its own values
// rather than maps or pointers: hot documents render every one of them on
// every request, and each is one allocation in its document.
type Relationship struct {
	id, typ string // a to-one relationship's linkage, none when id is ""
	related string
	// linked renders data even when it is null (a to-one relationship).
	linked bool
	// meta is rendered after the links, in name order.
	meta []Count
}

// Count is a number in a relationship's meta, such as a license's machine
// count.
type Count struct {
	Name string
	N    int64
}

// Counted is r with counts as its meta.
func (r Relationship) Counted(counts ...Count) Relationship {
	slices.SortFunc(counts, func(a, b Count) int { return strings.Compare(a.Name, b.Name) })
	r.meta = counts
	return r
}

// MarshalJSON renders data (null for an empty to-one) before links.
func (r Relationship) MarshalJSON() ([]byte, error) { return r.appendTo(make([]byte, 0, 160)), nil }

func (r Relationship) appendTo(b []byte) []byte {
	b = append(b, '{')
	if r.linked {
		b = append(b, `"data":`...)
		if r.id == "" {
			b = append(b, "null"...)
		} else {
			b = append(b, `{"id":`...)
			b = appendPlainString(b, r.id)
			b = append(b, `,"type":`...)
			b = appendPlainString(b, r.typ)
			b = append(b, '}')
		}
		b = append(b, ',')
	}
	b = append(b, `"links":{"related":`...)
	b = appendPlainString(b, r.related)
	b = append(b, '}')
	if len(r.meta) > 0 {
		b = append(b, `,"meta":{`...)
		for i, c := range r.meta {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendPlainString(b, c.Name)
			b = append(b, ':')
			b = strconv.AppendInt(b, c.N, 10)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}
