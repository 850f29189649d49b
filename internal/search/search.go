// Package search is Keygen's POST /search: records of one type whose
// attributes, relationships or metadata match the query's terms, all of
// them (op AND) or any (op OR).
package search

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/page"
)

// minTermSize is the shortest string term Keygen searches for.
const minTermSize = 3

// Query is a search request's meta.
type Query struct {
	Type  string
	Op    *string
	Terms map[string]any
}

// Term is one checked search term.
type Term struct {
	Attribute string // snake_case
	Value     any
}

// Plan is a checked query.
type Plan struct {
	Type  *Type
	Or    bool
	Terms []Term
}

// Searcher runs plans.
type Searcher interface {
	IDs(ctx context.Context, accountID string, secret []byte, plan Plan, p page.Request) ([]string, int64, error)
}

// Service holds the search rules.
type Service struct{ store Searcher }

// NewService returns the search rules over store.
func NewService(store Searcher) *Service { return &Service{store: store} }

// Search returns the ids of the records of the query's type that match it,
// newest first, and the type's name. Only staff search, each type needing
// its read permission.
func (s *Service) Search(ctx context.Context, who *access.Principal, t *account.Tenant, q Query, p page.Request) (*Type, []string, int64, error) {
	if who == nil {
		return nil, nil, 0, access.ErrTokenMissing
	}
	if !who.Staff() {
		return nil, nil, 0, access.Denied("only staff search")
	}
	plan, err := Check(q)
	if err != nil {
		return nil, nil, 0, err
	}
	if err := who.Require(plan.Type.Permission); err != nil {
		return nil, nil, 0, err
	}
	ids, total, err := s.store.IDs(ctx, t.ID, t.Keys.Secret, plan, p)
	return plan.Type, ids, total, err
}

func bad(code, detail, pointer string) error {
	return apperr.AtPointer(apperr.Invalid, code, detail, pointer)
}

// Check validates a query as Keygen does.
func Check(q Query) (Plan, error) {
	typ := lookup(q.Type)
	if typ == nil {
		return Plan{}, bad("SEARCH_TYPE_NOT_SUPPORTED", "search type '"+camel(q.Type)+"' is not supported", "/meta/type")
	}
	if len(q.Terms) == 0 {
		return Plan{}, bad("SEARCH_QUERY_MISSING", "search query is required", "/meta/query")
	}
	plan := Plan{Type: typ}
	if q.Op != nil {
		switch strings.ToUpper(*q.Op) {
		case "AND":
		case "OR":
			plan.Or = true
		default:
			return Plan{}, bad("SEARCH_OP_NOT_SUPPORTED", "search operator must be one of: AND, OR", "/meta/op")
		}
	}
	keys := make([]string, 0, len(q.Terms))
	for k := range q.Terms {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		attr, value := snake(key), q.Terms[key]
		pointer := "/meta/query/" + camel(attr)
		if !slices.Contains(typ.Attributes, attr) {
			return Plan{}, bad("SEARCH_QUERY_NOT_SUPPORTED", "search query '"+camel(attr)+"' is not supported for resource type '"+typ.Name+"'", pointer)
		}
		if attr == "metadata" {
			terms, ok := value.(map[string]any)
			if !ok {
				return Plan{}, bad("SEARCH_QUERY_INVALID", "search query for 'metadata' must be a hash of key-value search terms", pointer)
			}
			mkeys := make([]string, 0, len(terms))
			for k := range terms {
				mkeys = append(mkeys, k)
			}
			slices.Sort(mkeys)
			for _, k := range mkeys {
				if v, ok := terms[k].(string); ok && len(v) < minTermSize {
					return Plan{}, bad("SEARCH_QUERY_TOO_SMALL", "search query for '"+camel(k)+"' is too small (minimum 3 characters)", pointer+"/"+camel(k))
				}
			}
		} else if v, ok := value.(string); ok && len(v) < minTermSize {
			return Plan{}, bad("SEARCH_QUERY_TOO_SMALL", "search query for '"+camel(attr)+"' is too small (minimum 3 characters)", pointer)
		}
		plan.Terms = append(plan.Terms, Term{Attribute: attr, Value: value})
	}
	return plan, nil
}

var wordBoundary = regexp.MustCompile(`([a-z\d])([A-Z])`)

// snake is Keygen's key.underscore.parameterize(separator: '_').
func snake(s string) string {
	s = wordBoundary.ReplaceAllString(s, "${1}_${2}")
	s = strings.ToLower(strings.ReplaceAll(s, "-", "_"))
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteRune('_')
		}
	}
	return strings.Trim(b.String(), "_")
}

// camel is Keygen's camelize(:lower) of a snake_case or kebab-case name.
func camel(s string) string {
	parts := strings.FieldsFunc(snake(s), func(r rune) bool { return r == '_' })
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}
