// Package event carries what happened in an account to whoever listens:
// hooks registered at start (webhooks, mail, tests). Publishing never fails
// the action that caused it.
package event

import (
	"context"
	"sync"
)

// Event types.
const (
	UserPasswordReset = "user.password-reset"
	ReleaseUpgraded   = "release.upgraded"
)

// Event is one occurrence. Meta may hold secrets meant for the recipient
// (a password reset token); it is never logged.
type Event struct {
	Type       string
	AccountID  string
	ResourceID string
	Meta       map[string]any
}

// Hook receives events.
type Hook func(context.Context, Event)

// Bus delivers events to hooks, synchronously and in order.
type Bus struct {
	mu    sync.RWMutex
	hooks []Hook
}

// Subscribe adds a hook.
func (b *Bus) Subscribe(h Hook) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hooks = append(b.hooks, h)
}

// Publish delivers e to every hook.
func (b *Bus) Publish(ctx context.Context, e Event) {
	b.mu.RLock()
	hooks := b.hooks
	b.mu.RUnlock()
	for _, h := range hooks {
		h(ctx, e)
	}
}
