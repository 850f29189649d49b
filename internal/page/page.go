// Package page describes one page of a list request, independent of how the
// client asked for it (limit, or page[number] and page[size]).
package page

// Request is a slice of a list ordered by creation time.
type Request struct {
	Limit     int
	Offset    int
	Ascending bool
	// Count asks the store for the total, which paged responses link with.
	Count bool
}
