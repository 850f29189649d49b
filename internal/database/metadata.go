package database

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

var (
	integerValue = regexp.MustCompile(`^\d+$`)
	floatValue   = regexp.MustCompile(`^\d+\.\d+$`)
	plainKey     = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)
)

// metadataValue is how Keygen reads a query-string metadata value: as the
// string given, or as the true, false, null, integer or float it spells.
func metadataValue(raw string) any {
	switch {
	case raw == "true":
		return true
	case raw == "false":
		return false
	case raw == "null":
		return nil
	case integerValue.MatchString(raw):
		if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
			return n
		}
	case floatValue.MatchString(raw):
		if f, err := strconv.ParseFloat(raw, 64); err == nil {
			return f
		}
	}
	return raw
}

// MetadataMatch is the condition that the JSON object in column holds key
// with the string value raw or with the value raw spells (Keygen's
// search_metadata), for the engine. key must be a plain identifier (the
// caller checks it; any other key matches nothing).
func (db *DB) MetadataMatch(column, key, raw string) (string, []any) {
	if !plainKey.MatchString(key) {
		return "1 = 0", nil
	}
	typed := metadataValue(raw)
	if db.Engine == Postgres {
		asString, _ := json.Marshal(map[string]any{key: raw})
		asTyped, _ := json.Marshal(map[string]any{key: typed})
		return "(" + column + " @> ?::jsonb OR " + column + " @> ?::jsonb)", []any{string(asString), string(asTyped)}
	}
	path := `$."` + key + `"`
	kind := "json_type(" + column + ", '" + path + "')"
	value := "json_extract(" + column + ", '" + path + "')"
	byString := "(" + kind + " = 'text' AND " + value + " = ?)"
	switch v := typed.(type) {
	case bool:
		if v {
			return "(" + byString + " OR " + kind + " = 'true')", []any{raw}
		}
		return "(" + byString + " OR " + kind + " = 'false')", []any{raw}
	case nil:
		return "(" + byString + " OR " + kind + " = 'null')", []any{raw}
	case int64, float64:
		return "(" + byString + " OR (" + kind + " IN ('integer', 'real') AND " + value + " = ?))", []any{raw, v}
	}
	return byString, []any{raw}
}

// Epoch is the SQL of a timestamp column's Unix seconds, for the engine:
// comparisons of a row's time plus a duration of its own (a policy's
// heartbeat) with a moment.
func (db *DB) Epoch(column string) string {
	if db.Engine == Postgres {
		return "EXTRACT(EPOCH FROM " + column + ")"
	}
	return "unixepoch(" + column + ", 'subsec')"
}

// LikeSpecial escapes LIKE's wildcards (with ESCAPE '\\').
var LikeSpecial = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// Contains is the SQL of a case-insensitive substring match of term in a
// text column, for the engine, with its argument; a blank term matches
// nothing.
func (db *DB) Contains(column, term string) (string, []any) {
	if strings.TrimSpace(term) == "" {
		return "1 = 0", nil
	}
	arg := "%" + LikeSpecial.Replace(term) + "%"
	if db.Engine == Postgres {
		return column + ` ILIKE ? ESCAPE '\'`, []any{arg}
	}
	return column + ` LIKE ? ESCAPE '\'`, []any{arg}
}
