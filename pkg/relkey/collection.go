package relkey

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// ListOptions select a page of a list and filter it.
type ListOptions struct {
	// PageSize is 1 to 100 items; 0 means 100.
	PageSize int
	// PageNumber counts from 1; 0 means 1.
	PageNumber int
	// Filter holds the list's query filters, e.g. product, policy, license,
	// release or status, as the API names them.
	Filter url.Values
}

// maxPageNumber is the last page Keygen and relkey serve by number; Keygen
// goes on with cursors.
const maxPageNumber = 100

// Lister reads a list of resources of type T.
type Lister[T any] struct {
	c      *Client
	path   string
	decode func(*Resource) (*T, error)
}

func lister[T any, P typed[T]](c *Client, path string) Lister[T] {
	return Lister[T]{c: c, path: path, decode: decode[T, P]}
}

// Page is one page of a list.
type Page[T any] struct {
	Items []*T
	// Total is the size of the whole list when the server says (links.meta.count), else -1.
	Total int
	Links PageLinks

	lister Lister[T]
	size   int
	ids    []string
}

// PageLinks are a page's pagination links, paths from the server's root.
type PageLinks struct {
	Self, First, Prev, Next, Last string
}

// List returns one page.
func (l Lister[T]) List(ctx context.Context, opts ListOptions) (*Page[T], error) {
	q := url.Values{}
	for k, vs := range opts.Filter {
		q[k] = vs
	}
	size := opts.PageSize
	if size <= 0 {
		size = 100
	}
	q.Set("page[size]", strconv.Itoa(size))
	q.Set("page[number]", strconv.Itoa(max(opts.PageNumber, 1)))
	return l.fetch(ctx, request{method: http.MethodGet, path: l.path, query: q}, size)
}

func (l Lister[T]) fetch(ctx context.Context, r request, size int) (*Page[T], error) {
	res, err := l.c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Data  []Resource                 `json:"data"`
		Links map[string]json.RawMessage `json:"links"`
	}
	if err := json.Unmarshal(res.Body, &doc); err != nil {
		return nil, fmt.Errorf("relkey: decoding the list %s: %w", l.path, err)
	}
	p := &Page[T]{Total: -1, lister: l, size: size}
	for i := range doc.Data {
		item, err := l.decode(&doc.Data[i])
		if err != nil {
			return nil, err
		}
		p.Items = append(p.Items, item)
		p.ids = append(p.ids, doc.Data[i].ID)
	}
	for name, dst := range map[string]*string{"self": &p.Links.Self, "first": &p.Links.First, "prev": &p.Links.Prev, "next": &p.Links.Next, "last": &p.Links.Last} {
		json.Unmarshal(doc.Links[name], dst)
	}
	var meta struct {
		Count *int `json:"count"`
	}
	if json.Unmarshal(doc.Links["meta"], &meta) == nil && meta.Count != nil {
		p.Total = *meta.Count
	}
	return p, nil
}

// Next returns the page after p, or nil when p is the last. Past the last
// page served by number, it goes on with Keygen's cursor pagination.
func (p *Page[T]) Next(ctx context.Context) (*Page[T], error) {
	if p.Links.Next == "" || len(p.Items) == 0 {
		return nil, nil
	}
	next := request{method: http.MethodGet, path: p.Links.Next}
	if u, err := url.Parse(p.Links.Next); err == nil {
		if n, err := strconv.Atoi(u.Query().Get("page[number]")); err == nil && n > maxPageNumber {
			q := u.Query()
			q.Del("page[number]")
			q.Set("page[cursor]", p.ids[len(p.ids)-1])
			q.Set("page[size]", strconv.Itoa(p.size))
			next = request{method: http.MethodGet, path: u.Path, query: q}
		}
	}
	return p.lister.fetch(ctx, next, p.size)
}

// All iterates over the whole list, page after page, stopping at the first
// error (yielded last).
func (l Lister[T]) All(ctx context.Context, opts ListOptions) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		p, err := l.List(ctx, opts)
		for p != nil || err != nil {
			if err != nil {
				yield(nil, err)
				return
			}
			for _, item := range p.Items {
				if !yield(item, nil) {
					return
				}
			}
			p, err = p.Next(ctx)
		}
	}
}

// Collection is a resource type's list, with reads and writes of its
// members; A holds its writable attributes.
type Collection[T, A any] struct {
	Lister[T]
	typ string
}

func collection[T, A any, P typed[T]](c *Client, typ string) Collection[T, A] {
	return Collection[T, A]{Lister: lister[T, P](c, "/"+typ), typ: typ}
}

// Get returns a member by id (or by what else the API looks it up by: a
// product's code, a license's key, a machine's fingerprint, a release's
// version, an entitlement's code).
func (s Collection[T, A]) Get(ctx context.Context, ref string) (*T, error) {
	return s.one(ctx, request{method: http.MethodGet, path: s.path + "/" + url.PathEscape(ref)})
}

// Create creates a member with attrs and the relationships they name.
func (s Collection[T, A]) Create(ctx context.Context, attrs A) (*T, error) {
	return s.one(ctx, request{method: http.MethodPost, path: s.path, body: resourceDocument(s.typ, attrs)})
}

// Update changes the attributes set in attrs of the member with id.
func (s Collection[T, A]) Update(ctx context.Context, id string, attrs A) (*T, error) {
	body := map[string]any{"data": map[string]any{"type": s.typ, "attributes": attrs}}
	return s.one(ctx, request{method: http.MethodPatch, path: s.path + "/" + url.PathEscape(id), body: body})
}

// Delete deletes the member with id.
func (s Collection[T, A]) Delete(ctx context.Context, id string) error {
	_, err := s.c.send(ctx, request{method: http.MethodDelete, path: s.path + "/" + url.PathEscape(id)})
	return err
}

// action posts to one of a member's actions and returns the member.
func (s Collection[T, A]) action(ctx context.Context, id, action string) (*T, error) {
	return s.one(ctx, request{method: http.MethodPost, path: s.path + "/" + url.PathEscape(id) + "/actions/" + action})
}

// related is the list of a member's related resources of type R.
func related[R any, P typed[R], T, A any](s Collection[T, A], id, name string) Lister[R] {
	return lister[R, P](s.c, s.path+"/"+url.PathEscape(id)+"/"+name)
}

// one sends a request answered with one member.
func (s Collection[T, A]) one(ctx context.Context, r request) (*T, error) {
	res, err := s.c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Data *Resource `json:"data"`
	}
	if err := json.Unmarshal(res.Body, &doc); err != nil || doc.Data == nil {
		return nil, fmt.Errorf("relkey: %s %s: the response holds no %s", r.method, r.path, s.typ)
	}
	return s.decode(doc.Data)
}

// attach posts linkages to a member's to-many relationship name.
func (s Collection[T, A]) attach(ctx context.Context, id, name string, body any) error {
	_, err := s.c.send(ctx, request{method: http.MethodPost, path: s.path + "/" + url.PathEscape(id) + "/" + name, body: body})
	return err
}
