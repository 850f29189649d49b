// Package setting is an account's settings, as Keygen's account settings:
// the default permissions of license and user bearers, by key.
package setting

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/naming"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
)

// The settings Keygen has, and the role whose permissions each holds.
const (
	DefaultLicensePermissions = "default_license_permissions"
	DefaultUserPermissions    = "default_user_permissions"
)

// Keys are the settings an account may have, in Keygen's order.
var Keys = []string{DefaultLicensePermissions, DefaultUserPermissions}

// roles are the roles whose default permissions a setting holds.
var roles = map[string]access.Role{DefaultLicensePermissions: access.RoleLicense, DefaultUserPermissions: access.RoleUser}

// Setting is a stored setting; Value is its JSON.
type Setting struct {
	ID        string `gorm:"primaryKey"`
	AccountID string
	Key       string
	Value     json.RawMessage `gorm:"serializer:json"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName is the settings' table.
func (Setting) TableName() string { return "account_settings" }

// Params are the writable attributes of a setting (the key on create only).
type Params struct {
	Key   optional.Value[string]          `json:"key"`
	Value optional.Value[json.RawMessage] `json:"value"`
}

// Records persists settings (*Store is the database's).
type Records interface {
	Create(ctx context.Context, s *Setting) error
	Save(ctx context.Context, s *Setting) error
	Delete(ctx context.Context, s *Setting) error
	Find(ctx context.Context, accountID, ref string) (*Setting, error)
	List(ctx context.Context, accountID string, p page.Request) ([]Setting, int64, error)
}

var _ Records = (*Store)(nil)

// Accounts forget what they cache of an account whose settings changed.
type Accounts interface {
	Forget(accountID string)
}

// Service holds the setting rules.
type Service struct {
	store    Records
	events   event.Changer
	accounts Accounts
	now      func() time.Time
}

// NewService returns the setting rules; events records the changes,
// accounts are told of them (other replicas read them within their
// account cache's 30 seconds).
func NewService(store Records, events event.Changer, accounts Accounts) *Service {
	return &Service{store: store, events: events, accounts: accounts, now: time.Now}
}

// manage admits admins and developers with the permission, as Keygen's
// account setting policy does; others are denied.
func manage(who *access.Principal, t *account.Tenant, permission string) error {
	if err := who.In(t.ID); err != nil {
		return err
	}
	if who == nil {
		return access.ErrTokenMissing
	}
	if err := who.Require(permission); err != nil {
		return err
	}
	if who.Role != access.RoleAdmin && who.Role != access.RoleDeveloper {
		return access.Denied("only admins and developers may manage account settings")
	}
	return nil
}

func (s *Service) change(ctx context.Context, who *access.Principal, name string, st *Setting, fn func(ctx context.Context) error) error {
	err := s.events.Change(ctx, fn, func() event.Occurrence {
		return event.Occurrence{Event: name, AccountID: st.AccountID, Resource: st, Who: who}
	})
	if err == nil {
		s.accounts.Forget(st.AccountID)
	}
	return err
}

// check validates a setting's value for its key, as Keygen's model: a
// list of distinct permissions the key's role may hold.
func check(key string, raw json.RawMessage) error {
	notAllowed := apperr.Attribute("value", "NOT_ALLOWED", "must be a valid setting")
	role, ok := roles[key]
	if !ok {
		return notAllowed
	}
	var perms []*string
	if json.Unmarshal(raw, &perms) != nil || perms == nil {
		return notAllowed
	}
	allowed := access.Allowed(role)
	seen := map[string]bool{}
	for _, p := range perms {
		if p == nil || seen[*p] || !allowed.Has(*p) {
			return apperr.Attribute("value", "NOT_ALLOWED", "must be an array of valid "+string(role)+" permissions")
		}
		seen[*p] = true
	}
	return nil
}

// Create adds a setting of a key the account does not have yet.
func (s *Service) Create(ctx context.Context, who *access.Principal, t *account.Tenant, p Params) (*Setting, error) {
	if err := manage(who, t, "account.update"); err != nil {
		return nil, err
	}
	key := naming.Snake(strings.TrimSpace(p.Key.V))
	if !slices.Contains(Keys, key) {
		return nil, apperr.Attribute("key", "NOT_ALLOWED", "must be one of: "+strings.Join(Keys, ", "))
	}
	if err := check(key, p.Value.V); err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	st := &Setting{ID: id.New(), AccountID: t.ID, Key: key, Value: p.Value.V, CreatedAt: now, UpdatedAt: now}
	return st, s.change(ctx, who, event.AccountSettingsCreated, st, func(ctx context.Context) error { return s.store.Create(ctx, st) })
}

// Find returns a setting by id or key.
func (s *Service) Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Setting, error) {
	if err := manage(who, t, "account.read"); err != nil {
		return nil, err
	}
	return s.store.Find(ctx, t.ID, ref)
}

// List returns a page of the account's settings.
func (s *Service) List(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]Setting, int64, error) {
	if err := manage(who, t, "account.read"); err != nil {
		return nil, 0, err
	}
	return s.store.List(ctx, t.ID, p)
}

// Update changes a setting's value (its key is fixed).
func (s *Service) Update(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p Params) (*Setting, error) {
	st, err := s.Find(ctx, who, t, ref)
	if err != nil {
		return nil, err
	}
	if err := manage(who, t, "account.update"); err != nil {
		return nil, err
	}
	if p.Key.Set {
		return nil, apperr.At(apperr.Invalid, "PARAMETERS_INVALID", "unpermitted parameter", apperr.Attr("key"))
	}
	if !p.Value.Set {
		return st, nil
	}
	if err := check(st.Key, p.Value.V); err != nil {
		return nil, err
	}
	st.Value, st.UpdatedAt = p.Value.V, s.now().UTC().Truncate(time.Millisecond)
	return st, s.change(ctx, who, event.AccountSettingsUpdated, st, func(ctx context.Context) error { return s.store.Save(ctx, st) })
}

// Delete removes a setting.
func (s *Service) Delete(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) error {
	st, err := s.Find(ctx, who, t, ref)
	if err != nil {
		return err
	}
	if err := manage(who, t, "account.update"); err != nil {
		return err
	}
	return s.change(ctx, who, event.AccountSettingsDeleted, st, func(ctx context.Context) error { return s.store.Delete(ctx, st) })
}
