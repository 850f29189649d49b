// Package logwriter gathers a server's log lines into few writes. relkey
// logs a line per request, and writing each line on its own was one write
// system call per request (2–3 % of a validation's CPU under load). A
// Writer holds lines for a short while, or until enough have gathered, and
// Urgent writes warnings and errors out at once, so what matters when
// something goes wrong is never held back.
package logwriter

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Writer buffers what is written to it and writes it out Every (100 ms)
// after the first line that waits, as soon as Limit bytes would be passed,
// on Flush and on Close. Each Write is kept whole: a log record is never
// split across two writes to the destination.
type Writer struct {
	out   io.Writer
	every time.Duration
	limit int
	after func(time.Duration, func()) (stop func() bool)

	mu      sync.Mutex
	pending []byte
	armed   bool
	stop    func() bool
	closed  bool
}

// Options tune a Writer; zero values take the defaults.
type Options struct {
	// Every is how long a line may wait (100 ms).
	Every time.Duration
	// Limit is how many bytes may wait (64 KB).
	Limit int
	// After runs f once d has passed and returns what cancels it
	// (time.AfterFunc); tests pass a clock of their own.
	After func(d time.Duration, f func()) (stop func() bool)
}

// New returns a Writer to out.
func New(out io.Writer, o Options) *Writer {
	if o.Every <= 0 {
		o.Every = 100 * time.Millisecond
	}
	if o.Limit <= 0 {
		o.Limit = 64 << 10
	}
	if o.After == nil {
		o.After = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	return &Writer{out: out, every: o.Every, limit: o.Limit, after: o.After}
}

// Write queues p. When p would pass the limit, the waiting lines are
// written first; if that fails, Write returns the error and p is not
// queued (the lines that failed are dropped, as an unbuffered write that
// failed would have dropped them).
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.out.Write(p)
	}
	if len(w.pending)+len(p) > w.limit {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > w.limit {
			return w.out.Write(p)
		}
	}
	w.pending = append(w.pending, p...)
	if !w.armed {
		w.armed = true
		w.stop = w.after(w.every, w.flushDue)
	}
	return len(p), nil
}

// flushDue is the timer's flush; a failed write is lost, as an unbuffered
// log line that failed would be.
func (w *Writer) flushDue() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed = false
	_ = w.flushLocked()
}

// Flush writes what is pending.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if w.armed {
		w.stop()
		w.armed = false
	}
	if len(w.pending) == 0 {
		return nil
	}
	_, err := w.out.Write(w.pending)
	// Keep the buffer unless a burst grew it far past the limit.
	if cap(w.pending) > 2*w.limit {
		w.pending = nil
	} else {
		w.pending = w.pending[:0]
	}
	return err
}

// Close writes what is pending; later writes go straight to the
// destination.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return w.flushLocked()
}

// Urgent wraps h, which writes to w, so records at level or above are
// written out as soon as they are handled.
func Urgent(h slog.Handler, w *Writer, level slog.Level) slog.Handler {
	return urgent{h, w, level}
}

type urgent struct {
	slog.Handler
	w     *Writer
	level slog.Level
}

func (u urgent) Handle(ctx context.Context, r slog.Record) error {
	err := u.Handler.Handle(ctx, r)
	if r.Level >= u.level {
		if ferr := u.w.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (u urgent) WithAttrs(attrs []slog.Attr) slog.Handler {
	return urgent{u.Handler.WithAttrs(attrs), u.w, u.level}
}

func (u urgent) WithGroup(name string) slog.Handler {
	return urgent{u.Handler.WithGroup(name), u.w, u.level}
}
