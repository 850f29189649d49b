package license

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/relkey/relkey/internal/database"
)

// Toucher records when licenses were last validated without putting a
// write on the validation path: Touch never blocks (a full buffer drops the
// touch), and a background loop coalesces touches per license and writes
// only the latest, never moving the time backwards.
type Toucher struct {
	db      *database.DB
	logger  *slog.Logger
	touches chan touch
	stop    chan struct{}
	done    sync.WaitGroup
}

type touch struct {
	accountID, licenseID string
	at                   time.Time
	version              string // a validated release version, if any
}

// flushEvery is how often touches reach the database.
const flushEvery = 250 * time.Millisecond

// NewToucher starts a toucher with a bounded buffer.
func NewToucher(db *database.DB, capacity int, logger *slog.Logger) *Toucher {
	t := &Toucher{db: db, logger: logger, touches: make(chan touch, capacity), stop: make(chan struct{})}
	t.done.Add(1)
	go t.run()
	return t
}

// Touch records a validation at at (and the release version it matched,
// if any); it drops the touch when the buffer is full.
func (t *Toucher) Touch(accountID, licenseID string, at time.Time, version string) {
	select {
	case t.touches <- touch{accountID, licenseID, at, version}:
	default:
	}
}

func (t *Toucher) run() {
	defer t.done.Done()
	pending := map[string]touch{}
	ticker := time.NewTicker(flushEvery)
	defer ticker.Stop()
	for {
		select {
		case tc := <-t.touches:
			if prev, ok := pending[tc.licenseID]; !ok || tc.at.After(prev.at) {
				if tc.version == "" {
					tc.version = prev.version
				}
				pending[tc.licenseID] = tc
			}
		case <-ticker.C:
			t.flush(pending)
			pending = map[string]touch{}
		case <-t.stop:
			for {
				select {
				case tc := <-t.touches:
					pending[tc.licenseID] = tc
				default:
					t.flush(pending)
					return
				}
			}
		}
	}
}

func (t *Toucher) flush(pending map[string]touch) {
	for _, tc := range pending {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := t.db.Conn(ctx).Exec(`UPDATE licenses SET last_validated_at = ? WHERE id = ? AND account_id = ?
			AND (last_validated_at IS NULL OR last_validated_at < ?)`, tc.at, tc.licenseID, tc.accountID, tc.at).Error
		cancel()
		if err == nil && tc.version != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err = t.db.Conn(ctx).Exec(`UPDATE licenses SET last_validated_version = ? WHERE id = ? AND account_id = ?`,
				tc.version, tc.licenseID, tc.accountID).Error
			cancel()
		}
		if err != nil {
			t.logger.Warn("recording a license validation", "license", tc.licenseID, "error", err)
		}
	}
}

// Close writes what is pending and stops the loop.
func (t *Toucher) Close() {
	close(t.stop)
	t.done.Wait()
}
