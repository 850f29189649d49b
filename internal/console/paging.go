package console

import (
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/relkey/relkey/internal/page"
)

// listSize is how many rows a list page shows (the API's default page).
const listSize = 25

// The console's lists page by cursor (the API's keyset pagination, newest
// first), so a page deep in a long list costs what the first does:
// ?after=<id> is the page after that row, ?before=<id> the page before it,
// ?last the oldest page; none is the newest page.
const (
	afterParam  = "after"
	beforeParam = "before"
	lastParam   = "last"
)

// cursorOf is the keyset request of a list page's query string, and
// whether it reads the list backwards (the rows come oldest first).
// A cursor that is no record id reads as none: the newest page.
func cursorOf(r *http.Request) (page.Request, bool) {
	q := r.URL.Query()
	req := page.Request{Limit: listSize, Keyset: true}
	switch {
	case isID(q.Get(beforeParam)):
		req.Cursor, req.Ascending = q.Get(beforeParam), true
	case q.Has(lastParam):
		req.Ascending = true
	case isID(q.Get(afterParam)):
		req.Cursor = q.Get(afterParam)
	}
	return req, req.Ascending
}

// isID reports whether s is a record id (a UUID).
func isID(s string) bool { return len(s) == 36 && uuid.Validate(s) == nil }

// listing is a page of rows and the links (query strings, empty where
// there is nothing) to the pages around it. A list page counts nothing:
// counting every row of a long list costs more than the page (the
// overview shows the totals).
type listing[T any] struct {
	Rows                    []T
	First, Prev, Next, Last string
}

// lister reads one page of a list: rows and whether more rows follow (1)
// or not (0).
type lister[T any] func(page.Request) ([]T, int64, error)

// listed reads the page of list the request asks for. id names a row for
// the cursors.
func listed[T any](r *http.Request, list lister[T], id func(T) string) (listing[T], error) {
	req, backwards := cursorOf(r)
	rows, more, err := list(req)
	if err == nil && backwards && more == 0 {
		// Read back to the newest rows: that is the first page, full.
		backwards = false
		req = page.Request{Limit: listSize, Keyset: true}
		rows, more, err = list(req)
	}
	if err != nil {
		return listing[T]{}, err
	}
	if backwards {
		slices.Reverse(rows)
	}
	l := listing[T]{Rows: rows}
	if len(rows) == 0 {
		return l, nil
	}
	// Rows before these (newer ones): there are some when the page was
	// read backwards with more to come, or forwards from a cursor.
	newer := (backwards && more > 0) || (!backwards && req.Cursor != "")
	// Rows after these (older ones): when read forwards with more to come,
	// or backwards from a cursor.
	older := (!backwards && more > 0) || (backwards && req.Cursor != "")
	query := r.URL.Query()
	link := func(param, value string) string {
		for _, p := range []string{afterParam, beforeParam, lastParam} {
			query.Del(p)
		}
		if param != "" {
			query.Set(param, value)
		}
		if len(query) == 0 {
			return "?"
		}
		return "?" + query.Encode()
	}
	if newer {
		l.First, l.Prev = link("", ""), link(beforeParam, id(rows[0]))
	}
	if older {
		l.Next, l.Last = link(afterParam, id(rows[len(rows)-1])), link(lastParam, "")
	}
	return l, nil
}

// withRows is a listing of other rows (the same page shown otherwise).
func withRows[T, U any](l listing[T], rows []U) listing[U] {
	return listing[U]{Rows: rows, First: l.First, Prev: l.Prev, Next: l.Next, Last: l.Last}
}
