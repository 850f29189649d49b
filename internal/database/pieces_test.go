package database

import (
	"fmt"
	"testing"
)

func TestPowerOfTwoPieces(t *testing.T) {
	tests := []struct {
		rows, most int
		want       string
	}{
		{0, 256, "[]"},
		{1, 256, "[1]"},
		{7, 256, "[4 2 1]"},
		{256, 256, "[256]"},
		{276, 256, "[256 16 4]"},
		{600, 256, "[256 256 64 16 8]"},
		{5, 1, "[1 1 1 1 1]"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.rows), func(t *testing.T) {
			rows := make([]int, tt.rows)
			for i := range rows {
				rows[i] = i
			}
			sizes, next := []int{}, 0
			for piece := range PowerOfTwoPieces(rows, tt.most) {
				if piece[0] != next {
					t.Fatalf("a piece starts at row %d, want %d (in order, none skipped)", piece[0], next)
				}
				next += len(piece)
				sizes = append(sizes, len(piece))
			}
			if got := fmt.Sprint(sizes); got != tt.want || next != tt.rows {
				t.Fatalf("pieces %s covering %d rows, want %s covering %d", got, next, tt.want, tt.rows)
			}
		})
	}
}
