package document

import (
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
func ToOne(typ, id, related string) map[string]any {
	var data any
	if id != "" {
		data = map[string]string{"type": typ, "id": id}
	}
	return map[string]any{"data": data, "links": map[string]string{"related": related}}
}

// ToMany renders a to-many relationship: only its related link.
func ToMany(related string) map[string]any {
	return map[string]any{"links": map[string]string{"related": related}}
}
