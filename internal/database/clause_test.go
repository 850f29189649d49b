package database

import (
	"reflect"
	"testing"
)

func TestJoinParenthesizesEachClauseAndKeepsArgumentOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  Clause
		want Clause
	}{
		{"none", And(), Clause{SQL: ""}},
		{"one", And(Clause{SQL: "a = ?", Args: []any{1}}), Clause{SQL: "(a = ?)", Args: []any{1}}},
		{"and", And(Clause{SQL: "a = ?", Args: []any{1}}, Clause{SQL: "b IN ?", Args: []any{[]string{"x", "y"}}}),
			Clause{SQL: "(a = ?) AND (b IN ?)", Args: []any{1, []string{"x", "y"}}}},
		{"or of an and", Join("OR", And(Clause{SQL: "a = ?", Args: []any{1}}, Clause{SQL: "b"}), Clause{SQL: "c = ?", Args: []any{3}}),
			Clause{SQL: "((a = ?) AND (b)) OR (c = ?)", Args: []any{1, 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("got %#v, want %#v", tc.got, tc.want)
			}
		})
	}
}
