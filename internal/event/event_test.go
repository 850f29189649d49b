package event

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
)

type ctxKey struct{}

// recorder is a hook that logs "name:type/resource" for each event it
// receives, with the context value under ctxKey when there is one.
type recorder struct {
	mu  sync.Mutex
	log []string
}

func (r *recorder) hook(name string) Hook {
	return func(ctx context.Context, e Event) {
		r.mu.Lock()
		defer r.mu.Unlock()
		entry := name + ":" + e.Type + "/" + e.ResourceID
		if v, ok := ctx.Value(ctxKey{}).(string); ok {
			entry += "@" + v
		}
		r.log = append(r.log, entry)
	}
}

func TestBus(t *testing.T) {
	reset := Event{Type: UserPasswordReset, AccountID: "acct", ResourceID: "u1", Meta: map[string]any{"token": "secret"}}
	other := Event{Type: "license.created", AccountID: "acct", ResourceID: "l1"}
	tests := []struct {
		name string
		// run subscribes and publishes on a zero Bus, with the recorder.
		run  func(b *Bus, r *recorder)
		want []string
	}{
		{
			name: "no hooks: publishing is a no-op",
			run:  func(b *Bus, _ *recorder) { b.Publish(context.Background(), reset) },
		},
		{
			name: "one hook receives every event, in publish order",
			run: func(b *Bus, r *recorder) {
				b.Subscribe(r.hook("a"))
				b.Publish(context.Background(), reset)
				b.Publish(context.Background(), other)
			},
			want: []string{"a:" + UserPasswordReset + "/u1", "a:license.created/l1"},
		},
		{
			name: "hooks run in subscription order, each event to all before the next",
			run: func(b *Bus, r *recorder) {
				b.Subscribe(r.hook("a"))
				b.Subscribe(r.hook("b"))
				b.Publish(context.Background(), reset)
				b.Publish(context.Background(), other)
			},
			want: []string{"a:" + UserPasswordReset + "/u1", "b:" + UserPasswordReset + "/u1", "a:license.created/l1", "b:license.created/l1"},
		},
		{
			name: "a hook hears only what is published after it subscribes",
			run: func(b *Bus, r *recorder) {
				b.Subscribe(r.hook("a"))
				b.Publish(context.Background(), reset)
				b.Subscribe(r.hook("b"))
				b.Publish(context.Background(), other)
			},
			want: []string{"a:" + UserPasswordReset + "/u1", "a:license.created/l1", "b:license.created/l1"},
		},
		{
			name: "the same hook subscribed twice runs twice",
			run: func(b *Bus, r *recorder) {
				h := r.hook("a")
				b.Subscribe(h)
				b.Subscribe(h)
				b.Publish(context.Background(), other)
			},
			want: []string{"a:license.created/l1", "a:license.created/l1"},
		},
		{
			name: "the publisher's context reaches the hooks",
			run: func(b *Bus, r *recorder) {
				b.Subscribe(r.hook("a"))
				b.Publish(context.WithValue(context.Background(), ctxKey{}, "req-1"), other)
			},
			want: []string{"a:license.created/l1@req-1"},
		},
		{
			name: "a hook subscribing during delivery neither deadlocks nor hears the event in flight",
			run: func(b *Bus, r *recorder) {
				late := r.hook("late")
				once := sync.Once{}
				b.Subscribe(func(ctx context.Context, e Event) {
					r.hook("a")(ctx, e)
					once.Do(func() { b.Subscribe(late) })
				})
				b.Publish(context.Background(), reset)
				b.Publish(context.Background(), other)
			},
			want: []string{"a:" + UserPasswordReset + "/u1", "a:license.created/l1", "late:license.created/l1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Bus // the zero Bus is ready to use
			r := &recorder{}
			tt.run(&b, r)
			if !reflect.DeepEqual(r.log, tt.want) {
				t.Fatalf("delivered %q, want %q", r.log, tt.want)
			}
		})
	}
}

func TestBusDeliversWholeEvent(t *testing.T) {
	var b Bus
	var got []Event
	b.Subscribe(func(_ context.Context, e Event) { got = append(got, e) })
	sent := Event{Type: UserPasswordReset, AccountID: "acct", ResourceID: "u1", Meta: map[string]any{"token": "secret"}}
	b.Publish(context.Background(), sent)
	if len(got) != 1 || !reflect.DeepEqual(got[0], sent) {
		t.Fatalf("received %+v, want %+v", got, sent)
	}
}

// TestBusConcurrent subscribes and publishes from many goroutines (run
// with -race): every event published after all hooks subscribed reaches
// each of them once, and each publisher's events arrive in its order.
func TestBusConcurrent(t *testing.T) {
	const hooks, publishers, events = 4, 8, 50
	var b Bus
	logs := make([]*recorder, hooks)
	var wg sync.WaitGroup
	for i := range hooks {
		logs[i] = &recorder{}
		wg.Add(1)
		go func() { defer wg.Done(); b.Subscribe(logs[i].hook("h")) }()
	}
	// Publishing while others subscribe must be race-free; what these
	// early events reach is undefined, so they are not counted.
	wg.Add(1)
	go func() { defer wg.Done(); b.Publish(context.Background(), Event{Type: "early"}) }()
	wg.Wait()
	for i := range logs {
		logs[i].log = nil
	}
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range events {
				b.Publish(context.Background(), Event{Type: fmt.Sprintf("p%d", p), ResourceID: fmt.Sprintf("%03d", n)})
			}
		}()
	}
	wg.Wait()
	for i, r := range logs {
		if len(r.log) != publishers*events {
			t.Fatalf("hook %d received %d events, want %d", i, len(r.log), publishers*events)
		}
		last := map[string]string{}
		for _, entry := range r.log {
			var p, n string
			if _, err := fmt.Sscanf(entry, "h:%2s/%3s", &p, &n); err != nil {
				t.Fatalf("entry %q: %v", entry, err)
			}
			if n <= last[p] && last[p] != "" {
				t.Fatalf("hook %d: %s event %s after %s", i, p, n, last[p])
			}
			last[p] = n
		}
	}
}
