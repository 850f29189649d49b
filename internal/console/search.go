package console

import (
	"net/http"
	"strings"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/search"
	"github.com/relkey/relkey/internal/user"
)

// searchAttributes are the attributes the console's search box matches,
// any of them, per type: the API's POST /search terms.
var searchAttributes = map[string][]string{
	"licenses":     {"key", "name", "owner", "user"},
	"users":        {"email", "name"},
	"machines":     {"fingerprint", "name"},
	"products":     {"name"},
	"policies":     {"name"},
	"entitlements": {"code", "name"},
	"groups":       {"name"},
}

// searchShown is how many matches of each type the search page shows.
const searchShown = 10

var anyTerm = "OR"

// searched runs the API's search for text in the type's attributes and
// finds the first limit matches as who sees them, with the count of all.
func searched[T any](p *Pages, q *request, typ, text string, limit int, find func(id string) (T, error)) ([]T, int64, error) {
	terms := map[string]any{}
	for _, attr := range searchAttributes[typ] {
		terms[attr] = text
	}
	_, ids, total, err := p.Search.Search(q.ctx, q.who, q.tenant, search.Query{Type: typ, Op: &anyTerm, Terms: terms}, page.Request{Limit: limit})
	if err != nil {
		return nil, 0, err
	}
	rows := make([]T, 0, len(ids))
	for _, id := range ids {
		row, err := find(id)
		if apperr.Is(err, apperr.NotFound) {
			continue // deleted since the search
		}
		if err != nil {
			return nil, 0, err
		}
		rows = append(rows, row)
	}
	return rows, total, nil
}

// found is a type's matches on the search page: the first few and the
// count of all; Hidden when who may not read the type.
type found[T any] struct {
	Rows   []T
	Total  int64
	Hidden bool
}

// searchResults is the search page's matches per type.
type searchResults struct {
	Query    string
	Licenses found[license.License]
	Users    found[user.User]
	Machines found[machine.Machine]
	Products found[product.Product]
	Policies found[policy.Policy]
}

// findIn fills f with the matches of typ; a type who may not read is hidden.
func findIn[T any](p *Pages, q *request, f *found[T], typ string, find func(id string) (*T, error)) error {
	var err error
	f.Rows, f.Total, err = searched(p, q, typ, q.r.URL.Query().Get("q"), searchShown, func(id string) (T, error) { return deref(find(id)) })
	if apperr.Is(err, apperr.Forbidden) {
		f.Hidden = true
		return nil
	}
	return err
}

// searchPage finds licenses by key, name or their users' email, users by
// email or name, machines by fingerprint or name, products and policies
// by name: the API's search rules, within what the user may read.
func (p *Pages) searchPage(q *request) error {
	text := strings.TrimSpace(q.r.URL.Query().Get("q"))
	v := q.view("Search")
	v.Form = q.r.URL.Query()
	res := searchResults{Query: text}
	v.Data = &res
	if text == "" {
		p.render(q.w, http.StatusOK, "search", v)
		return nil
	}
	err := findIn(p, q, &res.Licenses, "licenses", func(id string) (*license.License, error) { return p.Licenses.Find(q.ctx, q.who, q.tenant, id) })
	if err == nil {
		err = findIn(p, q, &res.Users, "users", func(id string) (*user.User, error) { return p.Users.Find(q.ctx, q.who, q.tenant, id) })
	}
	if err == nil {
		err = findIn(p, q, &res.Machines, "machines", func(id string) (*machine.Machine, error) { return p.Machines.Visible(q.ctx, q.who, q.tenant, id) })
	}
	if err == nil {
		err = findIn(p, q, &res.Products, "products", func(id string) (*product.Product, error) { return p.Products.Find(q.ctx, q.who, q.tenant, id) })
	}
	if err == nil {
		err = findIn(p, q, &res.Policies, "policies", func(id string) (*policy.Policy, error) { return p.Policies.Find(q.ctx, q.who, q.tenant, id) })
	}
	if err != nil {
		e := apperr.As(err)
		if e.Kind == apperr.Internal {
			return err
		}
		res = searchResults{Query: text}
		v.Error = e.Detail
		p.render(q.w, statusOf(e.Kind), "search", v)
		return nil
	}
	p.render(q.w, http.StatusOK, "search", v)
	return nil
}
