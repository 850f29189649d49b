package logwriter_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/logwriter"
)

// destination records each write it gets.
type destination struct {
	writes []string
	fail   error
}

func (d *destination) Write(p []byte) (int, error) {
	if d.fail != nil {
		return 0, d.fail
	}
	d.writes = append(d.writes, string(p))
	return len(p), nil
}

// clock holds the timers a Writer arms until the test fires them.
type clock struct {
	armed []func()
	stops int
}

func (c *clock) after(d time.Duration, f func()) func() bool {
	i := len(c.armed)
	c.armed = append(c.armed, f)
	return func() bool {
		c.stops++
		live := c.armed[i] != nil
		c.armed[i] = nil
		return live
	}
}

// fire runs the armed timers, as their time passing would.
func (c *clock) fire() {
	for i, f := range c.armed {
		if f != nil {
			c.armed[i] = nil
			f()
		}
	}
}

func (c *clock) pending() int {
	n := 0
	for _, f := range c.armed {
		if f != nil {
			n++
		}
	}
	return n
}

func TestWriterGathersLinesUntilDueFullFlushedOrClosed(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		then  func(*logwriter.Writer, *clock)
		// want is what reached the destination, a write per element.
		want []string
	}{
		{"nothing written before it is due", []string{"a\n", "b\n"}, func(*logwriter.Writer, *clock) {}, nil},
		{"due: one write of every line", []string{"a\n", "b\n"}, func(_ *logwriter.Writer, c *clock) { c.fire() }, []string{"a\nb\n"}},
		{"flushed", []string{"a\n"}, func(w *logwriter.Writer, _ *clock) { _ = w.Flush() }, []string{"a\n"}},
		{"closed", []string{"a\n", "b\n"}, func(w *logwriter.Writer, _ *clock) { _ = w.Close() }, []string{"a\nb\n"}},
		{"after close, straight through", []string{"a\n"}, func(w *logwriter.Writer, _ *clock) {
			_ = w.Close()
			_, _ = w.Write([]byte("late\n"))
		}, []string{"a\n", "late\n"}},
		// Limit 8: the line that would pass it writes the pending ones first.
		{"limit: pending lines written before the one passing it", []string{"1234\n", "5678\n"}, func(*logwriter.Writer, *clock) {}, []string{"1234\n"}},
		{"a line longer than the limit goes alone", []string{"ab\n", "0123456789\n"}, func(*logwriter.Writer, *clock) {}, []string{"ab\n", "0123456789\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, c := &destination{}, &clock{}
			w := logwriter.New(d, logwriter.Options{Limit: 8, After: c.after})
			for _, l := range tt.lines {
				if n, err := w.Write([]byte(l)); err != nil || n != len(l) {
					t.Fatalf("Write(%q) = %d, %v", l, n, err)
				}
			}
			tt.then(w, c)
			if strings.Join(d.writes, "|") != strings.Join(tt.want, "|") {
				t.Errorf("destination got %q, want %q", d.writes, tt.want)
			}
		})
	}
}

func TestWriterArmsOneTimerAtATimeAndStopsItWhenFlushed(t *testing.T) {
	d, c := &destination{}, &clock{}
	w := logwriter.New(d, logwriter.Options{After: c.after})
	for range 3 {
		_, _ = w.Write([]byte("x\n"))
	}
	if got := c.pending(); got != 1 {
		t.Fatalf("%d timers armed for three lines, want 1", got)
	}
	_ = w.Flush()
	if c.pending() != 0 || c.stops != 1 {
		t.Fatalf("after Flush: %d timers armed, %d stopped; want 0 and 1", c.pending(), c.stops)
	}
	_, _ = w.Write([]byte("y\n"))
	c.fire()
	if strings.Join(d.writes, "|") != "x\nx\nx\n|y\n" {
		t.Fatalf("destination got %q", d.writes)
	}
	if err := w.Flush(); err != nil || len(d.writes) != 2 {
		t.Fatalf("an empty flush wrote or failed: %q, %v", d.writes, err)
	}
}

func TestWriterReportsTheDestinationsError(t *testing.T) {
	broken := errors.New("disk full")
	d, c := &destination{}, &clock{}
	w := logwriter.New(d, logwriter.Options{Limit: 4, After: c.after})
	_, _ = w.Write([]byte("abc"))
	d.fail = broken
	if _, err := w.Write([]byte("de")); !errors.Is(err, broken) {
		t.Fatalf("Write past the limit with a broken destination: %v, want %v", err, broken)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close after the failed write: %v (nothing was pending)", err)
	}
}

func TestUrgentWritesWarningsAtOnceAndKeepsInfoGathered(t *testing.T) {
	d, c := &destination{}, &clock{}
	w := logwriter.New(d, logwriter.Options{After: c.after})
	logger := slog.New(logwriter.Urgent(slog.NewJSONHandler(w, nil), w, slog.LevelWarn)).With("replica", "r1").WithGroup("g")
	logger.Info("request", "status", 200)
	if len(d.writes) != 0 {
		t.Fatalf("an info line was written at once: %q", d.writes)
	}
	logger.LogAttrs(context.Background(), slog.LevelError, "database unreachable")
	if len(d.writes) != 1 {
		t.Fatalf("an error did not write out the pending lines: %q", d.writes)
	}
	lines := strings.Split(strings.TrimSuffix(d.writes[0], "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"msg":"request"`) || !strings.Contains(lines[1], `"msg":"database unreachable"`) ||
		!strings.Contains(lines[1], `"replica":"r1"`) {
		t.Fatalf("written in one go, in order, with the logger's attributes: %q", lines)
	}
	var buf bytes.Buffer
	if logwriter.Urgent(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}), w, slog.LevelWarn).Enabled(context.Background(), slog.LevelInfo) {
		t.Fatal("Urgent enabled a level its handler does not")
	}
}
