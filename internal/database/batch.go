package database

import (
	"context"
	"errors"

	"github.com/google/uuid"
)

// errUndo rolls back a batch that stopped at an item it could not change.
var errUndo = errors.New("database: batch undone")

// Batch runs change on items 0..n-1 in one transaction, all or none: the
// first item change cannot make undoes the batch, and Batch reports its
// position (-1 when every change was made).
func (db *DB) Batch(ctx context.Context, n int, change func(ctx context.Context, i int) (bool, error)) (int, error) {
	stopped := -1
	err := db.InTx(ctx, func(ctx context.Context) error {
		for i := range n {
			made, err := change(ctx, i)
			if err != nil {
				return err
			}
			if !made {
				stopped = i
				return errUndo
			}
		}
		return nil
	})
	if stopped >= 0 {
		return stopped, nil
	}
	return -1, err
}

// Existing reports which of ids (malformed ones skipped) are rows of table
// in the account.
func (db *DB) Existing(ctx context.Context, table, accountID string, ids []string) (map[string]bool, error) {
	var valid, found []string
	for _, id := range ids {
		if uuid.Validate(id) == nil {
			valid = append(valid, id)
		}
	}
	err := db.Conn(ctx).Table(table).Where("account_id = ? AND id IN ?", accountID, valid).Pluck("id", &found).Error
	out := map[string]bool{}
	for _, id := range found {
		out[id] = true
	}
	return out, Error(err)
}
