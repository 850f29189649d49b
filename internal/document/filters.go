package document

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/relkey/relkey/internal/naming"
)

// Query filters of list requests, as Keygen's has_scope reads them: plain
// values (?status=ACTIVE), booleans (?suspended=true) and hashes
// (?metadata[key]=value, ?activations[gte]=2). A value of the wrong shape
// is a 400 on its parameter rather than a filter silently dropped.

// Rails' boolean casts, which Keygen's boolean scopes use.
var (
	trueValues  = map[string]bool{"1": true, "t": true, "true": true, "on": true, "yes": true}
	falseValues = map[string]bool{"0": true, "f": true, "false": true, "off": true, "no": true}
)

var metadataKey = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// hashEntries returns the name[key]=value entries of q, and whether name
// was given as a plain value (the wrong shape for a hash).
func hashEntries(q url.Values, name string) (map[string]string, bool) {
	entries := map[string]string{}
	for param, values := range q {
		key, ok := strings.CutPrefix(param, name+"[")
		if !ok || !strings.HasSuffix(key, "]") || len(values) == 0 {
			continue
		}
		entries[strings.TrimSuffix(key, "]")] = values[len(values)-1]
	}
	return entries, q.Has(name)
}

// PlainFilter reads a plain-valued filter: "" when absent, 400 when given
// as a hash (name[...]).
func PlainFilter(q url.Values, name string) (string, error) {
	if entries, _ := hashEntries(q, name); len(entries) > 0 {
		return "", paramErr(name+" must be a string", name)
	}
	return q.Get(name), nil
}

// BoolFilter reads a boolean filter: nil when absent; a bare ?name means
// true, as in Keygen.
func BoolFilter(q url.Values, name string) (*bool, error) {
	if !q.Has(name) {
		if entries, _ := hashEntries(q, name); len(entries) > 0 {
			return nil, paramErr(name+" must be a boolean", name)
		}
		return nil, nil
	}
	v := strings.ToLower(strings.TrimSpace(q.Get(name)))
	switch {
	case v == "" || trueValues[v]:
		t := true
		return &t, nil
	case falseValues[v]:
		f := false
		return &f, nil
	}
	return nil, paramErr(name+" must be a boolean", name)
}

// MetadataFilter reads ?metadata[key]=value: the keys snake_cased (as
// metadata is stored), nil when absent. Nested keys or a plain ?metadata=
// are a 400.
func MetadataFilter(q url.Values) (map[string]string, error) {
	entries, plain := hashEntries(q, "metadata")
	if plain {
		return nil, paramErr("metadata must be a hash (metadata[key]=value)", "metadata")
	}
	if len(entries) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(entries))
	for key, value := range entries {
		if !metadataKey.MatchString(key) {
			return nil, paramErr("metadata keys must be letters, digits, - or _", "metadata["+key+"]")
		}
		out[naming.Snake(key)] = value
	}
	return out, nil
}

// Comparison is an integer filter of the form name[op]=n.
type Comparison struct {
	Op string // eq, gt, gte, lt or lte
	N  int64
}

// comparisonOps are Keygen's, in the precedence it applies them.
var comparisonOps = []string{"eq", "gt", "gte", "lt", "lte"}

// ComparisonFilter reads name[eq|gt|gte|lt|lte]=n: nil when absent; the
// first operator given wins, as in Keygen.
func ComparisonFilter(q url.Values, name string) (*Comparison, error) {
	entries, plain := hashEntries(q, name)
	if plain {
		return nil, paramErr(name+" must be a hash ("+name+"[gte]=n…)", name)
	}
	for key := range entries {
		if !slices.Contains(comparisonOps, key) {
			return nil, paramErr(name+" supports eq, gt, gte, lt and lte", name+"["+key+"]")
		}
	}
	for _, op := range comparisonOps {
		raw, ok := entries[op]
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil {
			return nil, paramErr(name+"["+op+"] must be an integer", name+"["+op+"]")
		}
		return &Comparison{Op: op, N: n}, nil
	}
	return nil, nil
}

// HashFilter reads name[key]=value for the keys allowed: nil when absent;
// a plain ?name= or another key is a 400.
func HashFilter(q url.Values, name string, keys ...string) (map[string]string, error) {
	entries, plain := hashEntries(q, name)
	if plain {
		return nil, paramErr(name+" must be a hash ("+name+"["+keys[0]+"]=…)", name)
	}
	for key := range entries {
		if !slices.Contains(keys, key) {
			return nil, paramErr(name+" supports "+strings.Join(keys, ", "), name+"["+key+"]")
		}
	}
	if len(entries) == 0 {
		return nil, nil
	}
	return entries, nil
}
