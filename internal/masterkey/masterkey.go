// Package masterkey rotates relkey's master key (RELKEY_SECRET_KEY or the
// embedded mode's secret.key): every value sealed with it is re-sealed
// under a new key in one transaction, and the key file is replaced so that
// a crash at any point leaves a state the next run completes.
package masterkey

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/relkey/relkey/internal/keyring"
)

// Resealer rewrites the sealed values of one store through reseal.
type Resealer interface {
	Reseal(ctx context.Context, reseal func(sealed string) (string, error)) (int64, error)
}

// Transactor runs functions in one database transaction.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Sealed is one store of sealed values, named for the report.
type Sealed struct {
	Name  string
	Store Resealer
}

// Rotation says where the keys are.
type Rotation struct {
	// Current is the master key the values are sealed with now.
	Current string
	// KeyFile is the key file to replace (embedded mode), or empty when the
	// key comes from the environment and the operator replaces it there.
	KeyFile string
	// NewKeyFile keeps the new key: a file the operator gave, or beside
	// KeyFile. An existing one is used (an interrupted rotation, or a key
	// the operator chose); otherwise a key is generated into it, flushed to
	// the disk before any value is sealed with it.
	NewKeyFile string
}

// Count is how many values of one store were re-sealed.
type Count struct {
	Name     string
	Resealed int64
}

// Report is what a rotation did.
type Report struct {
	Counts []Count
	// KeyFile is the file that holds the new key now.
	KeyFile string
}

// OldSuffix names the copy of the old key a rotation keeps beside the key
// file until it has finished; NewSuffix names the new key meanwhile.
const (
	OldSuffix = ".old"
	NewSuffix = ".new"
)

// Rotate re-seals every value of sealed under a new master key.
//
// In embedded mode the steps are: the new key is written to KeyFile.new
// and the old one copied to KeyFile.old, then one transaction re-seals
// everything, then KeyFile.new replaces KeyFile and KeyFile.old goes.
// Running it again after a crash finishes the same rotation: the new key
// is read back, and a value the new key opens already is left as it is.
func Rotate(ctx context.Context, tx Transactor, sealed []Sealed, r Rotation) (*Report, error) {
	if r.NewKeyFile == "" {
		return nil, errors.New("masterkey: no file to keep the new key in")
	}
	next, err := keyring.LoadOrCreate(r.NewKeyFile)
	if err != nil {
		return nil, fmt.Errorf("new master key: %w", err)
	}
	if next == r.Current {
		return nil, fmt.Errorf("%s holds the current master key: give a new one", r.NewKeyFile)
	}
	from, err := keyring.New(r.Current)
	if err != nil {
		return nil, err
	}
	to, err := keyring.New(next)
	if err != nil {
		return nil, err
	}
	if r.KeyFile != "" {
		if err := keyring.Save(r.KeyFile+OldSuffix, r.Current); err != nil {
			return nil, fmt.Errorf("keeping the old master key: %w", err)
		}
	}
	reseal := func(value string) (string, error) {
		plain, err := from.Open(value)
		if err == nil {
			return to.Seal(plain)
		}
		if _, errNew := to.Open(value); errNew == nil {
			return value, nil
		}
		return "", err
	}
	report := &Report{KeyFile: r.NewKeyFile}
	err = tx.InTx(ctx, func(ctx context.Context) error {
		for _, s := range sealed {
			n, err := s.Store.Reseal(ctx, reseal)
			if err != nil {
				return fmt.Errorf("%s: %w", s.Name, err)
			}
			report.Counts = append(report.Counts, Count{Name: s.Name, Resealed: n})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if r.KeyFile == "" {
		return report, nil
	}
	// The values are sealed with the new key from here on: publish it.
	if err := keyring.Save(r.KeyFile, next); err != nil {
		return nil, fmt.Errorf("the values are re-sealed but %s still holds the old key (run the rotation again to finish): %w", r.KeyFile, err)
	}
	for _, leftover := range []string{r.NewKeyFile, r.KeyFile + OldSuffix} {
		if err := os.Remove(leftover); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	report.KeyFile = r.KeyFile
	return report, nil
}
