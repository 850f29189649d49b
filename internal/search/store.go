package search

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/page"
)

// Store runs searches in SQL. Every query is scoped to the account by its
// (account_id, created_at, id) index; ids and keys match by their unique
// indexes, metadata containment by the GIN indexes on PostgreSQL, the
// indexed text columns by their trigram indexes.
type Store struct{ db *database.DB }

// indexed are the text columns under a trigram index, per table (migration
// 0205_search_trigrams): on PostgreSQL a gin_trgm_ops index that ILIKE
// '%term%' uses as it is; on SQLite the columns of the FTS5 trigram table
// <table>_search, keyed by the table's rowid. Partial ids and roles stay
// scans.
var indexed = map[string][]string{
	"entitlements": {"code", "name"},
	"products":     {"name"},
	"policies":     {"name"},
	"licenses":     {"name"},
	"machines":     {"fingerprint", "name"},
	"users":        {"email", "first_name", "last_name"},
	"releases":     {"version", "tag"},
	"groups":       {"name"},
}

// NewStore returns the search store.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// relation is a relationship term: the foreign key column and the table it
// points to, with the columns a non-id term matches.
type relation struct {
	column, table string
	text          []string
}

var (
	users    = relation{table: "users", text: []string{"email"}}
	products = relation{table: "products", text: []string{"name"}}
	policies = relation{table: "policies", text: []string{"name"}}
	licenses = relation{table: "licenses", text: []string{"name"}}
)

func (r relation) on(column string) relation { r.column = column; return r }

// IDs returns a page of the ids of the plan's matches, newest first, and
// their count.
func (s *Store) IDs(ctx context.Context, accountID string, secret []byte, plan Plan, p page.Request) ([]string, int64, error) {
	where, args := s.where(accountID, secret, plan)
	conn := func() *gorm.DB { return s.db.Conn(ctx).Table(plan.Type.Table).Where(where, args...) }
	var total int64
	if err := conn().Count(&total).Error; err != nil {
		return nil, 0, database.Error(err)
	}
	order := "DESC"
	if p.Ascending {
		order = "ASC"
	}
	var ids []string
	err := conn().Order(plan.Type.Table+".created_at "+order+", "+plan.Type.Table+".id "+order).
		Limit(p.Limit).Offset(p.Offset).Pluck(plan.Type.Table+".id", &ids).Error
	return ids, total, database.Error(err)
}

// where is the plan's condition on its type's table, with its arguments.
// Any of several terms is a UNION of a SELECT per term, each taking its own
// index: an OR of them, holding IN subqueries or FTS5 matches, is a scan of
// the account's rows on both engines.
func (s *Store) where(accountID string, secret []byte, plan Plan) (string, []any) {
	groups := [][]Term{plan.Terms}
	if plan.Or {
		groups = nil
		for _, t := range plan.Terms {
			groups = append(groups, []Term{t})
		}
	}
	var selects []string
	var args []any
	for _, terms := range groups {
		q := &query{db: s.db, table: plan.Type.Table, account: accountID, secret: secret}
		conds := make([]string, 0, len(terms))
		for _, t := range terms {
			conds = append(conds, "("+q.term(t)+")")
		}
		selects = append(selects, q.scope()+" AND "+strings.Join(conds, " AND "))
		args = append(append(args, accountID), q.args...)
	}
	if len(selects) == 1 {
		return selects[0], args
	}
	from := "SELECT " + plan.Type.Table + ".id FROM " + plan.Type.Table + " WHERE "
	return plan.Type.Table + ".id IN (" + from + strings.Join(selects, " UNION ALL "+from) + ")", args
}

type query struct {
	db      *database.DB
	table   string
	account string
	secret  []byte
	args    []any
	driven  bool // a term has an index of its own on the table
}

// scope is the condition that the table's row is the account's. When a
// term has an index of its own, SQLite, which relkey keeps no statistics
// for and so guesses that any equality selects a few rows, would read the
// account's index instead of it: there the check is on +account_id, which
// no index serves.
func (q *query) scope() string {
	if q.driven && q.db.Engine == database.SQLite {
		return "+" + q.col("account_id") + " = ?"
	}
	return q.col("account_id") + " = ?"
}

func (q *query) arg(v ...any) { q.args = append(q.args, v...) }

func (q *query) col(name string) string { return q.table + "." + name }

// term is one term's condition.
func (q *query) term(t Term) string {
	text, isText := t.Value.(string)
	if !isText && t.Attribute != "metadata" {
		b, _ := json.Marshal(t.Value)
		text = strings.Trim(string(b), `"`)
	}
	switch t.Attribute {
	case "metadata":
		return q.metadata(t.Value.(map[string]any))
	case "id":
		return q.identifier(text)
	case "key":
		q.arg(license.Digest(q.secret, text))
		return q.col("key_digest") + " = ?"
	case "name":
		if q.table == "users" {
			return q.fullName(text)
		}
		return q.contains(q.table, "name", text)
	case "full_name":
		return q.fullName(text)
	case "code", "fingerprint", "email", "first_name", "last_name", "role", "version", "tag":
		return q.contains(q.table, t.Attribute, text)
	case "product":
		return q.related(products.on("product_id"), text)
	case "policy":
		return q.related(policies.on("policy_id"), text)
	case "owner":
		return q.related(users.on("owner_id"), text)
	case "license":
		return q.related(licenses.on("license_id"), text)
	case "user":
		// A license's users are its licensees; a machine's, its license's.
		licenseID := q.col("id")
		if q.table == "machines" {
			licenseID = q.col("license_id")
		}
		sub := q.match(users.on("user_id"), text)
		q.driven = true
		return licenseID + " IN (SELECT license_id FROM license_users WHERE license_users.account_id = ? AND " + sub + ")"
	}
	return "1 = 0"
}

// fullName is Keygen's search_full_name: the first word matches the first
// name and the rest the last name; a missing part matches nothing.
func (q *query) fullName(term string) string {
	first, last, _ := strings.Cut(term, " ")
	return q.contains(q.table, "first_name", first) + " AND " + q.contains(q.table, "last_name", last)
}

// contains matches a case-insensitive substring of the table's column; a
// blank term matches nothing. On SQLite an indexed column's rows come from
// its FTS5 trigram table (for terms of at least 3 characters: a trigram
// has 3), whose MATCH folds case beyond ASCII: LIKE keeps the match as it
// folds.
func (q *query) contains(table, column, term string) string {
	expr := table + "." + column
	if column == "id" {
		expr = q.text(expr)
	}
	cond, args := q.db.Contains(expr, term)
	q.arg(args...)
	if q.db.Engine != database.SQLite || len(args) == 0 || utf8.RuneCountInString(term) < minTermSize || !slices.Contains(indexed[table], column) {
		return cond
	}
	q.arg(`"` + strings.ReplaceAll(term, `"`, `""`) + `"`)
	q.driven = true
	return cond + " AND " + table + ".rowid IN (SELECT rowid FROM " + table + "_search WHERE " + column + " MATCH ?)"
}

// identifier matches an id exactly when the term is one, else as a substring.
func (q *query) identifier(term string) string {
	column := q.col("id")
	if isUUID(term) {
		q.arg(strings.ToLower(term))
		return column + " = ?"
	}
	return q.contains(q.table, "id", term)
}

func (q *query) text(column string) string {
	if q.db.Engine == database.Postgres {
		return column + "::text"
	}
	return column
}

var uuidChars = regexp.MustCompile(`^[0-9a-fA-F-]+$`)

// related matches a relationship: by id, or by its records' text columns,
// or (for a term that could be one) an id prefix.
func (q *query) related(r relation, term string) string {
	q.driven = true
	if isUUID(term) {
		q.arg(strings.ToLower(term))
		return q.col(r.column) + " = ?"
	}
	return q.col(r.column) + " IN (" + q.among(r, term) + ")"
}

// match is related for a column of a join table (its condition only).
func (q *query) match(r relation, term string) string {
	q.arg(q.account)
	if isUUID(term) {
		q.arg(strings.ToLower(term))
		return r.column + " = ?"
	}
	return r.column + " IN (" + q.among(r, term) + ")"
}

// among is the query of the ids of the account's records of r whose text
// columns hold term or, for a term that could be one, whose id starts
// with it (which reads the account's records).
func (q *query) among(r relation, term string) string {
	sub := &query{db: q.db, table: r.table, account: q.account}
	cond := "1 = 0"
	if strings.TrimSpace(term) != "" {
		var ors []string
		for _, c := range r.text {
			ors = append(ors, sub.contains(r.table, c, term))
		}
		if uuidChars.MatchString(term) {
			sub.arg(strings.ToLower(database.LikeSpecial.Replace(term)) + "%")
			ors = append(ors, sub.text(r.table+".id")+` LIKE ? ESCAPE '\'`)
			sub.driven = false
		}
		cond = strings.Join(ors, " OR ")
	}
	q.arg(q.account)
	q.arg(sub.args...)
	return "SELECT id FROM " + r.table + " WHERE " + sub.scope() + " AND (" + cond + ")"
}

func isUUID(s string) bool { return len(s) == 36 && uuid.Validate(s) == nil }

// metadata is Keygen's search_metadata: every key (snake_cased) holds its
// value. A string also matches the true, false, null or number it spells;
// other values match by JSON containment (on SQLite, nested objects by
// their leaves).
func (q *query) metadata(terms map[string]any) string {
	keys := make([]string, 0, len(terms))
	for k := range terms {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	column := q.col("metadata")
	var conds []string
	for _, k := range keys {
		key := snake(k)
		if v, ok := terms[k].(string); ok {
			cond, args := q.db.MetadataMatch(column, key, v)
			q.arg(args...)
			conds = append(conds, cond)
			continue
		}
		if q.db.Engine == database.Postgres {
			doc, _ := json.Marshal(map[string]any{key: terms[k]})
			q.arg(string(doc))
			conds = append(conds, column+" @> ?::jsonb")
			continue
		}
		conds = append(conds, q.leaves(column, []string{key}, terms[k])...)
	}
	return strings.Join(conds, " AND ")
}

var plainPathKey = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// leaves are SQLite conditions that the JSON at path holds value.
func (q *query) leaves(column string, path []string, value any) []string {
	for _, p := range path {
		if !plainPathKey.MatchString(p) {
			return []string{"1 = 0"}
		}
	}
	at := `'$."` + strings.Join(path, `"."`) + `"'`
	kind, extract := "json_type("+column+", "+at+")", "json_extract("+column+", "+at+")"
	switch v := value.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		conds := []string{kind + " = 'object'"}
		for _, k := range keys {
			conds = append(conds, q.leaves(column, append(slices.Clone(path), k), v[k])...)
		}
		return conds
	case bool:
		if v {
			return []string{kind + " = 'true'"}
		}
		return []string{kind + " = 'false'"}
	case nil:
		return []string{kind + " = 'null'"}
	case float64:
		q.arg(v)
		return []string{kind + " IN ('integer', 'real') AND " + extract + " = ?"}
	case string:
		q.arg(v)
		return []string{kind + " = 'text' AND " + extract + " = ?"}
	}
	doc, _ := json.Marshal(value)
	q.arg(string(doc))
	return []string{extract + " = json(?)"}
}
