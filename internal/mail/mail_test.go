package mail_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/keyring"
	"github.com/relkey/relkey/internal/mail"
	"github.com/relkey/relkey/internal/mail/smtptest"
	"github.com/relkey/relkey/internal/testenv"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want *mail.Settings
		err  string
	}{
		{"smtp://ada:s3cret@mail.example.com:2525?from=keys@example.com", &mail.Settings{Host: "mail.example.com:2525", Username: "ada", Password: "s3cret", From: "keys@example.com"}, ""},
		{"smtp://mail.example.com", &mail.Settings{Host: "mail.example.com:587", From: "relkey@mail.example.com"}, ""},
		{"smtps://mail.example.com", nil, "must be smtp://"},
		{"smtp://", nil, "must be smtp://"},
		{"smtp://mail.example.com/path", nil, "must be smtp://"},
		{"smtp://mail.example.com?from=not-an-address", nil, "is not an email address"},
		{"smtp://mail.example.com?tls=off", nil, "unknown parameter"},
	} {
		got, err := mail.ParseURL(tc.raw)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.raw, err, tc.err)
			}
		case err != nil || *got != *tc.want:
			t.Errorf("%s: %+v %v, want %+v", tc.raw, got, err, tc.want)
		}
	}
}

// TestSenderUsesStartTLSWhenOffered sends through servers with and without
// STARTTLS: the credentials go only over TLS, or over loopback.
func TestSenderUsesStartTLSWhenOffered(t *testing.T) {
	for _, withTLS := range []bool{true, false} {
		srv := smtptest.Start(t, withTLS)
		s := mail.Settings{Host: srv.Addr, Username: "relkey", Password: "pw", From: "keys@example.com"}
		if withTLS {
			s.TLS = srv.ClientTLS()
		}
		m := mail.Message{To: "ada@example.com", Subject: "Reset your password – now", Body: "line one\nline two"}
		if err := mail.NewSender(s).Send(context.Background(), m); err != nil {
			t.Fatalf("tls=%v: %v", withTLS, err)
		}
		got := srv.Mails()
		if len(got) != 1 || got[0].TLS != withTLS || got[0].User != "relkey" || got[0].From != "keys@example.com" || got[0].To != "ada@example.com" ||
			!strings.Contains(got[0].Data, "\r\n\r\nline one\r\nline two\r\n") || !strings.Contains(got[0].Data, "Subject: =?utf-8?q?") {
			t.Fatalf("tls=%v: received %+v", withTLS, got)
		}
	}
	// A certificate the client does not trust stops the send.
	srv := smtptest.Start(t, true)
	if err := mail.NewSender(mail.Settings{Host: srv.Addr, From: "keys@example.com"}).Send(context.Background(), mail.Message{To: "a@b.co", Body: "x"}); err == nil {
		t.Fatal("sent over an untrusted certificate")
	}
}

type flaky struct {
	mu    sync.Mutex
	fails int
	sent  []mail.Message
}

func (f *flaky) Send(_ context.Context, m mail.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fails > 0 {
		f.fails--
		return errors.New("451 try again")
	}
	f.sent = append(f.sent, m)
	return nil
}

// TestWorkerSendsOnceAndRetries: concurrent passes (replicas) send each
// message once; a failed send waits, then goes; one that keeps failing is
// dropped.
func TestWorkerSendsOnceAndRetries(t *testing.T) {
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			db := b.OpenDB(t)
			ctx := context.Background()
			acct := id.New()
			now := database.Now()
			if err := db.Conn(ctx).Exec(`INSERT INTO accounts (id, slug, name, ed25519_public_key, ed25519_private_key, secret_key, created_at, updated_at)
				VALUES (?, ?, 'Mail', '', '', '', ?, ?)`, acct, "mail-"+acct[:8], now, now).Error; err != nil {
				t.Fatal(err)
			}
			kr, err := keyring.New(strings.Repeat("k", 32))
			if err != nil {
				t.Fatal(err)
			}
			clock := now
			o := mail.NewOutbox(db, kr)
			o.SetClock(func() time.Time { return clock })
			for i := range 10 {
				if err := o.Enqueue(ctx, mail.Message{AccountID: acct, To: "u" + string(rune('a'+i)) + "@example.com", Subject: "s", Body: "secret-body"}); err != nil {
					t.Fatal(err)
				}
			}
			var stored string
			db.Conn(ctx).Raw("SELECT body_sealed FROM mail_outbox LIMIT 1").Scan(&stored)
			if strings.Contains(stored, "secret-body") {
				t.Fatal("the outbox stores bodies in the clear")
			}
			tr := &flaky{}
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					if _, err := mail.NewWorker(o, tr, logger).Pass(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if len(tr.sent) != 10 {
				t.Fatalf("sent %d messages, want each of 10 once", len(tr.sent))
			}
			for _, m := range tr.sent {
				if m.Body != "secret-body" || m.AccountID != acct {
					t.Fatalf("sent %+v", m)
				}
			}

			// Retries: a failure waits a minute; after Attempts it is dropped.
			tr = &flaky{fails: 1}
			w := mail.NewWorker(o, tr, logger)
			w.Attempts = 2
			o.Enqueue(ctx, mail.Message{AccountID: acct, To: "r@example.com", Body: "b"})
			if n, err := w.Pass(ctx); n != 0 || err != nil {
				t.Fatalf("failing pass: %d %v", n, err)
			}
			if n, _ := w.Pass(ctx); n != 0 {
				t.Fatal("retried before its time")
			}
			clock = clock.Add(time.Minute)
			if n, _ := w.Pass(ctx); n != 1 || len(tr.sent) != 1 {
				t.Fatalf("retry sent %d", n)
			}
			tr.fails = 5
			o.Enqueue(ctx, mail.Message{AccountID: acct, To: "d@example.com", Body: "b"})
			w.Pass(ctx)
			clock = clock.Add(time.Minute)
			w.Pass(ctx)
			var left int64
			db.Conn(ctx).Raw("SELECT count(*) FROM mail_outbox").Scan(&left)
			if left != 0 {
				t.Fatalf("%d messages left; a message failing %d times is dropped", left, w.Attempts)
			}
		})
	}
}
