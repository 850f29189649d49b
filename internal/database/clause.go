package database

import "strings"

// Clause is a fragment of SQL with its ? arguments, for statements composed
// per request and read with TakeRaw or FindRaw (or handed to GORM's Where).
type Clause struct {
	SQL  string
	Args []any
}

// Join joins clauses with op (AND, OR), each in parentheses.
func Join(op string, cs ...Clause) Clause {
	var b strings.Builder
	var args []any
	for i, c := range cs {
		if i > 0 {
			b.WriteString(" " + op + " ")
		}
		b.WriteString("(" + c.SQL + ")")
		args = append(args, c.Args...)
	}
	return Clause{b.String(), args}
}

// And is Join with AND.
func And(cs ...Clause) Clause { return Join("AND", cs...) }
