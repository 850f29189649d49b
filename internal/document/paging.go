package document

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/google/jsonapi"
	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/page"
)

// Paging is a parsed list request: limit mode (no links), or page mode with
// pagination links.
type Paging struct {
	page.Request
	Paged  bool
	Number int
	Size   int
}

// Limits of list requests.
const (
	DefaultLimit = 10
	MaxLimit     = 100
	MaxPage      = 100
)

func paramErr(detail, parameter string) error {
	return apperr.AtParameter(apperr.Invalid, CodeParametersInvalid, detail, parameter)
}

// ParsePaging reads limit, page[number], page[size] and order.
func ParsePaging(q url.Values) (Paging, error) {
	var p Paging
	switch strings.ToLower(q.Get("order")) {
	case "", "desc":
	case "asc":
		p.Ascending = true
	default:
		return p, paramErr("order is invalid (expected asc or desc)", "order")
	}
	limit := DefaultLimit
	if raw, ok := first(q, "limit"); ok {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > MaxLimit {
			return p, paramErr("limit must be a number between 1 and 100", "limit")
		}
		limit = n
	}
	hasPage := false
	for key := range q {
		if key == "page" || strings.HasPrefix(key, "page[") {
			hasPage = true
			switch key {
			case "page[number]", "page[size]", "page[cursor]":
			default:
				return p, paramErr("page must be an object with number and size", key)
			}
		}
	}
	if !hasPage {
		p.Limit = limit
		return p, nil
	}
	if cursor, ok := first(q, "page[cursor]"); ok {
		return keysetPaging(q, p, cursor, limit)
	}
	// As Keygen: page[size] alone is no page (a number or a cursor is).
	raw, ok := first(q, "page[number]")
	if !ok {
		return p, paramErr("page must be an object containing a cursor or number and optional size", "page")
	}
	number, err := strconv.Atoi(raw)
	switch {
	case err != nil || number < 1:
		return p, paramErr("page number must be a number greater than 0", "page[number]")
	case number > MaxPage:
		return p, paramErr("page number must be a number less than or equal to 100 (please use cursor-based pagination instead)", "page[number]")
	}
	size := limit
	if raw, ok := first(q, "page[size]"); ok {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > MaxLimit {
			return p, paramErr("page size must be a number between 1 and 100", "page[size]")
		}
		size = n
	}
	p.Paged, p.Number, p.Size = true, number, size
	p.Limit, p.Offset, p.Count = size, (number-1)*size, true
	return p, nil
}

// keysetPaging reads page[cursor] (a record id, or "" for the first page)
// and page[size], as Keygen's keyset pagination.
func keysetPaging(q url.Values, p Paging, cursor string, size int) (Paging, error) {
	if cursor != "" && uuid.Validate(cursor) != nil {
		return p, paramErr("page cursor must be a valid UUID (got "+strconv.Quote(cursor)+")", "page[cursor]")
	}
	if raw, ok := first(q, "page[size]"); ok {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > MaxLimit {
			return p, paramErr("page size must be a number between 1 and 100", "page[size]")
		}
		size = n
	}
	p.Keyset, p.Cursor, p.Limit, p.Size = true, cursor, size, size
	return p, nil
}

func first(q url.Values, key string) (string, bool) {
	v, ok := q[key]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// credentialParams never appear in rendered links.
var credentialParams = []string{"auth", "token"}

// Links renders the pagination links of a page-mode list: path is the
// request path as received (slug kept), query its parameters. Limit mode
// has no links.
func (p Paging) Links(path string, query url.Values, total int64) *jsonapi.Links {
	if !p.Paged {
		return nil
	}
	return p.pageLinks(path, query, total)
}

// pageLink is path with the request's query (less credentials) and the
// page parameter set to value, with the page size.
func (p Paging) pageLink(path string, query url.Values, param, value string) string {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	for _, k := range credentialParams {
		q.Del(k)
	}
	q.Set(param, value)
	q.Set("page[size]", strconv.Itoa(p.Size))
	return path + "?" + q.Encode()
}

// KeysetLinks renders the links of a cursor page: self, and next (the last
// record's id as the cursor) when more records follow.
func (p Paging) KeysetLinks(path string, query url.Values, more bool, lastID string) *jsonapi.Links {
	link := func(cursor string) string { return p.pageLink(path, query, "page[cursor]", cursor) }
	links := jsonapi.Links{"self": link(p.Cursor), "next": nil}
	if more && lastID != "" {
		links["next"] = link(lastID)
	}
	return &links
}

func (p Paging) pageLinks(path string, query url.Values, total int64) *jsonapi.Links {
	pages := max(1, int((total+int64(p.Size)-1)/int64(p.Size)))
	link := func(n int) any { return p.pageLink(path, query, "page[number]", strconv.Itoa(n)) }
	links := jsonapi.Links{
		"self":  link(p.Number),
		"first": link(1),
		"last":  link(pages),
		"prev":  nil,
		"next":  nil,
		"meta":  map[string]any{"pages": pages, "count": total},
	}
	if p.Number > 1 {
		links["prev"] = link(min(p.Number-1, pages))
	}
	if p.Number < pages {
		links["next"] = link(p.Number + 1)
	}
	return &links
}

// IDFilters reads query parameters that filter by record id: each must be
// absent or a UUID (400 on its parameter otherwise).
func IDFilters(q url.Values, names ...string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	for _, name := range names {
		v := q.Get(name)
		if v != "" && uuid.Validate(v) != nil {
			return nil, paramErr(name+" must be an id", name)
		}
		out[name] = v
	}
	return out, nil
}
