package mail

import (
	"context"
	"log/slog"
	"time"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/id"
)

// Sealer encrypts bodies at rest (the keyring).
type Sealer interface {
	Seal(plaintext []byte) (string, error)
	Open(sealed string) ([]byte, error)
}

// queued is a row of the mail outbox.
type queued struct {
	ID         string     `gorm:"column:id;primaryKey"`
	AccountID  string     `gorm:"column:account_id"`
	Recipient  string     `gorm:"column:recipient"`
	Subject    string     `gorm:"column:subject"`
	BodySealed string     `gorm:"column:body_sealed"`
	Attempts   int        `gorm:"column:attempts"`
	NotBefore  time.Time  `gorm:"column:not_before"`
	LeaseUntil *time.Time `gorm:"column:lease_until"`
	CreatedAt  time.Time  `gorm:"column:created_at"`
}

func (queued) TableName() string { return "mail_outbox" }

// Outbox holds mail until a pass sends it.
type Outbox struct {
	db     *database.DB
	sealer Sealer
	now    func() time.Time
}

// NewOutbox returns the outbox over db.
func NewOutbox(db *database.DB, sealer Sealer) *Outbox {
	return &Outbox{db: db, sealer: sealer, now: time.Now}
}

// Enqueue writes m; inside a transaction of ctx it is part of it, so that
// mail goes out only for changes that committed.
func (o *Outbox) Enqueue(ctx context.Context, m Message) error {
	sealed, err := o.sealer.Seal([]byte(m.Body))
	if err != nil {
		return err
	}
	now := o.now().UTC()
	return database.Error(o.db.Conn(ctx).Create(&queued{ID: id.New(), AccountID: m.AccountID, Recipient: m.To, Subject: m.Subject,
		BodySealed: sealed, NotBefore: now, CreatedAt: now}).Error)
}

// Transport sends one message.
type Transport interface {
	Send(ctx context.Context, m Message) error
}

// Worker sends what the outbox holds. Passes of several replicas may run
// at once: each message is leased by one of them with a conditional write.
type Worker struct {
	outbox    *Outbox
	transport Transport
	logger    *slog.Logger
	// Lease is how long a claimed message is left to its pass; Attempts how
	// many sends fail before it is dropped; Batch how many a pass claims.
	Lease    time.Duration
	Attempts int
	Batch    int
}

// NewWorker returns a worker that sends the outbox's mail through t.
func NewWorker(o *Outbox, t Transport, logger *slog.Logger) *Worker {
	return &Worker{outbox: o, transport: t, logger: logger, Lease: 2 * time.Minute, Attempts: 8, Batch: 20}
}

// SetClock replaces the clock of leases and retries (tests).
func (o *Outbox) SetClock(now func() time.Time) { o.now = now }

// Pass sends the due messages and reports how many went out. A failed send
// is retried later (after 1, 2, 4… minutes), and dropped after Attempts.
func (w *Worker) Pass(ctx context.Context) (int, error) {
	db, now := w.outbox.db, w.outbox.now().UTC()
	var due []queued
	err := db.Conn(ctx).Where("not_before <= ? AND (lease_until IS NULL OR lease_until < ?)", now, now).
		Order("not_before").Limit(w.Batch).Find(&due).Error
	if err != nil {
		return 0, database.Error(err)
	}
	sent := 0
	for _, q := range due {
		lease := now.Add(w.Lease)
		res := db.Conn(ctx).Model(&queued{}).Where("id = ? AND (lease_until IS NULL OR lease_until < ?)", q.ID, now).
			UpdateColumns(map[string]any{"lease_until": lease, "attempts": q.Attempts + 1})
		if res.Error != nil {
			return sent, database.Error(res.Error)
		}
		if res.RowsAffected != 1 {
			continue // another replica has it
		}
		q.Attempts++
		if err := w.send(ctx, q); err != nil {
			if err := w.retry(ctx, q, now, err); err != nil {
				return sent, err
			}
			continue
		}
		sent++
		if err := database.Error(db.Conn(ctx).Delete(&queued{}, "id = ?", q.ID).Error); err != nil {
			return sent, err
		}
	}
	return sent, nil
}

func (w *Worker) send(ctx context.Context, q queued) error {
	body, err := w.outbox.sealer.Open(q.BodySealed)
	if err != nil {
		return err
	}
	return w.transport.Send(ctx, Message{AccountID: q.AccountID, To: q.Recipient, Subject: q.Subject, Body: string(body)})
}

// retry puts a message whose send failed back for later, or drops it.
func (w *Worker) retry(ctx context.Context, q queued, now time.Time, cause error) error {
	db := w.outbox.db.Conn(ctx)
	if q.Attempts >= w.Attempts {
		w.logger.Warn("mail dropped after failed attempts", "mail", q.ID, "account", q.AccountID, "attempts", q.Attempts, "error", cause)
		return database.Error(db.Delete(&queued{}, "id = ?", q.ID).Error)
	}
	w.logger.Warn("mail not sent, will retry", "mail", q.ID, "account", q.AccountID, "attempts", q.Attempts, "error", cause)
	next := now.Add(time.Minute << (q.Attempts - 1))
	return database.Error(db.Model(&queued{}).Where("id = ?", q.ID).
		UpdateColumns(map[string]any{"not_before": next, "lease_until": nil}).Error)
}
