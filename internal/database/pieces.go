package database

import (
	"iter"
	"math/bits"
)

// PowerOfTwoPieces splits rows, in order, into pieces of a power of two
// rows each, none over most: a multi-row statement's text varies with its
// row count, so batches of any size then share a few prepared statements
// (at most log2(most)+1) instead of each preparing its own (see
// unpreparedBulk).
func PowerOfTwoPieces[T any](rows []T, most int) iter.Seq[[]T] {
	return func(yield func([]T) bool) {
		for len(rows) > 0 {
			n := 1 << (bits.Len(uint(min(len(rows), most))) - 1)
			if !yield(rows[:n]) {
				return
			}
			rows = rows[n:]
		}
	}
}
