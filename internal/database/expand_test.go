package database

import (
	"reflect"
	"testing"
	"time"
)

func TestExpandArgsWritesPlaceholdersAsGORMsRaw(t *testing.T) {
	at := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	var none *string
	tests := []struct {
		name     string
		engine   Engine
		query    string
		args     []any
		want     string
		wantArgs []any
	}{
		{"plain", SQLite, "a = ? AND b = ?", []any{1, "x"}, "a = ? AND b = ?", []any{1, "x"}},
		{"numbered", Postgres, "a = ? AND b = ?", []any{1, "x"}, "a = $1 AND b = $2", []any{1, "x"}},
		{"slice becomes a list", Postgres, "a IN ? AND b = ?", []any{[]string{"p", "q"}, at}, "a IN ($1,$2) AND b = $3", []any{"p", "q", at}},
		{"empty slice", SQLite, "a IN ? OR b = ?", []any{[]string{}, 2}, "a IN (NULL) OR b = ?", []any{2}},
		{"any slice", SQLite, "a IN ?", []any{[]any{1, "2"}}, "a IN (?,?)", []any{1, "2"}},
		{"bytes and nils stay one value", Postgres, "a = ? AND b = ? AND c = ?", []any{[]byte("z"), nil, none}, "a = $1 AND b = $2 AND c = $3", []any{[]byte("z"), nil, none}},
		{"a ? beyond the arguments is left", SQLite, "a = ? AND b = '?'", []any{1}, "a = ? AND b = '?'", []any{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, args := expandArgs(tt.engine, tt.query, tt.args)
			if got != tt.want || !reflect.DeepEqual(args, tt.wantArgs) {
				t.Fatalf("got %q %v, want %q %v", got, args, tt.want, tt.wantArgs)
			}
		})
	}
}
