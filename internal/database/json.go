package database

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// JSON stores a value as a JSON document (jsonb on PostgreSQL, text on SQLite).
type JSON[T any] struct{ V T }

// Value implements driver.Valuer.
func (j JSON[T]) Value() (driver.Value, error) {
	b, err := json.Marshal(j.V)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Scan implements sql.Scanner.
func (j *JSON[T]) Scan(src any) error {
	var raw []byte
	switch s := src.(type) {
	case nil:
		var zero T
		j.V = zero
		return nil
	case []byte:
		raw = s
	case string:
		raw = []byte(s)
	default:
		return fmt.Errorf("database: cannot scan %T into JSON", src)
	}
	return json.Unmarshal(raw, &j.V)
}
