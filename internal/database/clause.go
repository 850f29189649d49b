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
	// Sized first: the upgrade composes its statement of these on every
	// request.
	size, nargs := 0, 0
	for _, c := range cs {
		size += len(c.SQL) + len(op) + 4
		nargs += len(c.Args)
	}
	var b strings.Builder
	b.Grow(size)
	var args []any
	if nargs > 0 {
		args = make([]any, 0, nargs)
	}
	for i, c := range cs {
		if i > 0 {
			b.WriteByte(' ')
			b.WriteString(op)
			b.WriteByte(' ')
		}
		b.WriteByte('(')
		b.WriteString(c.SQL)
		b.WriteByte(')')
		args = append(args, c.Args...)
	}
	return Clause{b.String(), args}
}

// And is Join with AND.
func And(cs ...Clause) Clause { return Join("AND", cs...) }
