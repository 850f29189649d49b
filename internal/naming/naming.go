// Package naming converts between the snake_case keys relkey stores and the
// camelCase keys it renders, as Keygen's JSON:API does.
package naming

import (
	"strings"
	"unicode"
)

// Snake turns "maxMachines", "max-machines" or "max_machines" into "max_machines".
func Snake(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i, r := range s {
		switch {
		case r == '-' || r == ' ':
			b.WriteByte('_')
		case unicode.IsUpper(r):
			if i > 0 && !strings.HasSuffix(b.String(), "_") {
				prev := rune(s[i-1])
				if !unicode.IsUpper(prev) || (i+1 < len(s) && unicode.IsLower(rune(s[i+1]))) {
					b.WriteByte('_')
				}
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Camel turns "max_machines" into "maxMachines".
func Camel(s string) string {
	if !strings.ContainsAny(s, "_-") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	upper := false
	for _, r := range s {
		if r == '_' || r == '-' {
			upper = b.Len() > 0
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
			upper = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// UpperSnake turns "code" into "CODE" and "maxMachines" into "MAX_MACHINES".
func UpperSnake(s string) string { return strings.ToUpper(Snake(s)) }

// MapKeys returns a deep copy of v with every object key converted by fn.
func MapKeys(v any, fn func(string) string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			out[fn(k)] = MapKeys(val, fn)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, val := range t {
			out[i] = MapKeys(val, fn)
		}
		return out
	default:
		return v
	}
}
