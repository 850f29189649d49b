// Package page describes one page of a list request, independent of how the
// client asked for it (limit, page[number] and page[size], or page[cursor]).
package page

// Request is a slice of a list ordered by creation time.
type Request struct {
	Limit     int
	Offset    int
	Ascending bool
	// Count asks the store for the total, which paged responses link with.
	Count bool
	// Keyset pages by cursor: the records after Cursor (a record id; ""
	// for the first page) in the order asked for. The store then reports
	// in its total whether more records follow (1) or not (0).
	Keyset bool
	Cursor string
	// Only narrows the list to the record of this id (a relationship's
	// show route: one record, when it is among the parent's).
	Only string
}
