// Package group gathers an account's users, licenses and machines under
// optional limits (maxUsers, maxLicenses, maxMachines), with group owners:
// users who see what their groups hold, as Keygen defines groups.
package group

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/id"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/user"
)

// Group is a stored group.
type Group struct {
	ID          string `gorm:"primaryKey"`
	AccountID   string
	Name        string
	MaxUsers    *int64
	MaxLicenses *int64
	MaxMachines *int64
	Metadata    map[string]any `gorm:"serializer:json"`
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Owner makes a user an owner of a group.
type Owner struct {
	ID        string `gorm:"primaryKey"`
	AccountID string
	GroupID   string
	UserID    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName is group_owners.
func (Owner) TableName() string { return "group_owners" }

// Params are the writable attributes.
type Params struct {
	Name        optional.Value[string]         `json:"name"`
	MaxUsers    optional.Value[*int64]         `json:"max_users"`
	MaxLicenses optional.Value[*int64]         `json:"max_licenses"`
	MaxMachines optional.Value[*int64]         `json:"max_machines"`
	Metadata    optional.Value[map[string]any] `json:"metadata"`
}

// Member is a kind of record a group holds.
type Member struct {
	Table      string // users, licenses or machines
	Singular   string // user, license or machine
	alias      string // the column a record is also found by
	permission string // the permission to change a record's group
}

// The kinds of members.
var (
	Users    = Member{Table: "users", Singular: "user", alias: "email", permission: "user.group.update"}
	Licenses = Member{Table: "licenses", Singular: "license", alias: "key_digest", permission: "license.group.update"}
	Machines = Member{Table: "machines", Singular: "machine", alias: "fingerprint", permission: "machine.group.update"}
)

// limit is the group's limit on the members of a kind.
func (g *Group) limit(m Member) *int64 {
	switch m.Table {
	case Users.Table:
		return g.MaxUsers
	case Licenses.Table:
		return g.MaxLicenses
	}
	return g.MaxMachines
}

// aliasOf is what the member's alias column holds for ref: a license key's
// digest, else ref itself.
func (m Member) aliasOf(t *account.Tenant, ref string) string {
	if m == Licenses {
		return license.Digest(t.Keys.Secret, ref)
	}
	return ref
}

// Records is the storage the group rules need; *Store is it.
type Records interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	Create(ctx context.Context, g *Group) error
	Save(ctx context.Context, g *Group) error
	Delete(ctx context.Context, g *Group) error
	Find(ctx context.Context, accountID, ref string, sc access.Scope) (*Group, error)
	List(ctx context.Context, accountID string, sc access.Scope, p page.Request) ([]Group, int64, error)
	Lock(ctx context.Context, accountID, groupID string) (*Group, error)
	Count(ctx context.Context, m Member, groupID string) (int64, error)
	MemberGroup(ctx context.Context, m Member, accountID, ref, alias string, sc access.Scope) (recordID string, groupID *string, err error)
	SetGroup(ctx context.Context, m Member, recordID string, groupID *string) error
	GroupOf(ctx context.Context, m Member, accountID, recordID string) (*string, error)
	Owners(ctx context.Context, accountID, groupID string, p page.Request) ([]Owner, int64, error)
	Users(ctx context.Context, accountID, groupID string, sc access.Scope, p page.Request) ([]user.User, int64, error)
	User(ctx context.Context, accountID, groupID string, sc access.Scope, ref string) (*user.User, error)
	Owner(ctx context.Context, accountID, groupID, ownerID string) (*Owner, error)
	Owns(ctx context.Context, groupID, userID string) (bool, error)
	KnownUsers(ctx context.Context, accountID string, ids []string) (map[string]bool, error)
	AddOwners(ctx context.Context, owners []Owner) (taken int, err error)
	RemoveOwners(ctx context.Context, groupID string, ids []string) (missing int, err error)
}

// Service holds the group rules.
type Service struct {
	store  Records
	events event.Changer
	now    func() time.Time
}

// NewService returns the group rules over store; events records what they
// change.
func NewService(store Records, events event.Changer) *Service {
	return &Service{store: store, events: events, now: time.Now}
}

// change makes a change to g and records name about it in one transaction.
func (s *Service) change(ctx context.Context, who *access.Principal, name string, g *Group, fn func(ctx context.Context) error) error {
	return s.events.Change(ctx, fn, func() event.Occurrence {
		return event.Occurrence{Event: name, AccountID: g.AccountID, Resource: g, Who: who}
	})
}

func apply(g *Group, p Params) error {
	p.Name.Apply(&g.Name)
	g.Name = strings.TrimSpace(g.Name)
	switch {
	case g.Name == "":
		return apperr.Attribute("name", "MISSING", "can't be blank")
	case len(g.Name) > 255:
		return apperr.Attribute("name", "TOO_LONG", "is too long (maximum is 255 characters)")
	}
	for _, l := range []struct {
		attr string
		v    optional.Value[*int64]
		dst  **int64
	}{{"max_users", p.MaxUsers, &g.MaxUsers}, {"max_licenses", p.MaxLicenses, &g.MaxLicenses}, {"max_machines", p.MaxMachines, &g.MaxMachines}} {
		if !l.v.Set {
			continue
		}
		if l.v.V != nil && (*l.v.V < 1 || *l.v.V > 1<<31-1) {
			return apperr.Attribute(l.attr, "INVALID", "must be greater than 0")
		}
		*l.dst = l.v.V
	}
	if p.Metadata.Set {
		g.Metadata = p.Metadata.V
		if g.Metadata == nil {
			g.Metadata = map[string]any{}
		}
	}
	return nil
}

// Create adds a group.
func (s *Service) Create(ctx context.Context, who *access.Principal, t *account.Tenant, p Params) (*Group, error) {
	if err := manage(who, "group.create"); err != nil {
		return nil, err
	}
	now := s.now()
	g := &Group{ID: id.New(), AccountID: t.ID, Metadata: map[string]any{}, CreatedAt: now, UpdatedAt: now}
	if err := apply(g, p); err != nil {
		return nil, err
	}
	return g, s.change(ctx, who, event.GroupCreated, g, func(ctx context.Context) error { return s.store.Create(ctx, g) })
}

// manage admits the bearers Keygen lets create, change and delete groups:
// staff and products with the permission.
func manage(who *access.Principal, permission string) error {
	if err := who.Require(permission); err != nil {
		return err
	}
	if !who.Staff() && who.BearerType != access.BearerProduct {
		return access.Denied("bearer lacks permission to perform action: " + permission)
	}
	return nil
}

// Find returns a group who may read: staff and products see every group,
// a user its own group and those it owns, a license its own group.
func (s *Service) Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) (*Group, error) {
	return access.Visible(who, "group.read", func() (*Group, error) { return s.store.Find(ctx, t.ID, ref, access.ScopeOf(who)) })
}

// List returns a page of the groups who may see.
func (s *Service) List(ctx context.Context, who *access.Principal, t *account.Tenant, p page.Request) ([]Group, int64, error) {
	if err := who.Require("group.read"); err != nil {
		return nil, 0, err
	}
	return s.store.List(ctx, t.ID, access.ScopeOf(who), p)
}

// managed finds a group who may see and then change with permission.
func (s *Service) managed(ctx context.Context, who *access.Principal, t *account.Tenant, ref, permission string) (*Group, error) {
	g, err := s.Find(ctx, who, t, ref)
	if err != nil {
		return nil, err
	}
	return g, manage(who, permission)
}

// Update changes a group.
func (s *Service) Update(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p Params) (*Group, error) {
	g, err := s.managed(ctx, who, t, ref, "group.update")
	if err != nil {
		return nil, err
	}
	if err := apply(g, p); err != nil {
		return nil, err
	}
	g.UpdatedAt = s.now()
	return g, s.change(ctx, who, event.GroupUpdated, g, func(ctx context.Context) error { return s.store.Save(ctx, g) })
}

// Delete removes a group; its members leave it and its owners go with it.
func (s *Service) Delete(ctx context.Context, who *access.Principal, t *account.Tenant, ref string) error {
	g, err := s.managed(ctx, who, t, ref, "group.delete")
	if err != nil {
		return err
	}
	return s.change(ctx, who, event.GroupDeleted, g, func(ctx context.Context) error { return s.store.Delete(ctx, g) })
}

// Admit checks, inside the caller's transaction, that the group groupID
// (nil for none) has room for one more member of kind m, locking the group
// so that concurrent admissions count one another. A group that is not the
// account's is GROUP_NOT_FOUND.
func (s *Service) Admit(ctx context.Context, m Member, accountID string, groupID *string) error {
	if groupID == nil {
		return nil
	}
	g, err := s.store.Lock(ctx, accountID, *groupID)
	if err != nil {
		return err
	}
	max := g.limit(m)
	if max == nil {
		return nil
	}
	n, err := s.store.Count(ctx, m, g.ID)
	if err != nil {
		return err
	}
	if n >= *max {
		return apperr.At(apperr.Unprocessable, "GROUP_"+strings.ToUpper(m.Singular)+"_LIMIT_EXCEEDED",
			fmt.Sprintf("%s count has exceeded maximum allowed by current group (%d)", m.Singular, *max), apperr.Rel("group"))
	}
	return nil
}

// MemberGroup returns the group of the member ref (an id or alias) who may
// see: nil when it has none. A group out of who's sight is NOT_FOUND.
func (s *Service) MemberGroup(ctx context.Context, who *access.Principal, t *account.Tenant, m Member, ref string) (*Group, error) {
	if who == nil {
		return nil, access.ErrTokenMissing
	}
	_, groupID, err := s.store.MemberGroup(ctx, m, t.ID, ref, m.aliasOf(t, ref), access.ScopeOf(who))
	if err != nil {
		return nil, err
	}
	if groupID == nil {
		return nil, apperr.New(apperr.NotFound, "NOT_FOUND", "The requested group was not found")
	}
	return s.Find(ctx, who, t, *groupID)
}

// Assign moves the member ref into the group groupID (nil: out of its
// group), within the group's limit; staying in the same group is no
// change. It returns the member's id.
func (s *Service) Assign(ctx context.Context, who *access.Principal, t *account.Tenant, m Member, ref string, groupID *string) (string, error) {
	if who == nil {
		return "", access.ErrTokenMissing
	}
	var recordID string
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		rid, current, err := s.store.MemberGroup(ctx, m, t.ID, ref, m.aliasOf(t, ref), access.ScopeOf(who))
		if err != nil {
			return err
		}
		recordID = rid
		if err := manage(who, m.permission); err != nil {
			return err
		}
		if groupID != nil && current != nil && *current == *groupID {
			return nil
		}
		if err := s.Admit(ctx, m, t.ID, groupID); err != nil {
			return err
		}
		return s.events.Change(ctx, func(ctx context.Context) error { return s.store.SetGroup(ctx, m, rid, groupID) }, func() event.Occurrence {
			return event.Occurrence{Event: m.Singular + ".group.updated", AccountID: t.ID, Who: who,
				Resource: event.Ref{Type: m.Table, AccountID: t.ID, ID: rid}}
		})
	})
	return recordID, err
}

// Owners returns a page of a group's owners who may see.
func (s *Service) Owners(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p page.Request) ([]Owner, int64, error) {
	g, err := access.Visible(who, "group.owners.read", func() (*Group, error) { return s.store.Find(ctx, t.ID, ref, access.ScopeOf(who)) })
	if err != nil {
		return nil, 0, err
	}
	return s.store.Owners(ctx, t.ID, g.ID, p)
}

// MemberScope finds the group ref who may see and gives the scope in
// which who may read its members of kind m, as Keygen's Groups::UserPolicy,
// LicensePolicy and MachinePolicy define: staff every member, a product
// those of its product, a user that owns the group every member; any other
// bearer that sees the group (a member, a license of it) is denied.
func (s *Service) MemberScope(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, m Member) (*Group, access.Scope, error) {
	permission := "group." + m.Table + ".read"
	g, err := access.Visible(who, permission, func() (*Group, error) { return s.store.Find(ctx, t.ID, ref, access.ScopeOf(who)) })
	if err != nil {
		return nil, access.Scope{}, err
	}
	switch {
	case who.Staff() || who.BearerType == access.BearerProduct:
		return g, access.ScopeOf(who), nil
	case who.BearerType == access.BearerUser:
		owns, err := s.store.Owns(ctx, g.ID, who.BearerID)
		if err != nil {
			return nil, access.Scope{}, err
		}
		if owns {
			return g, access.Scope{All: true}, nil
		}
	}
	return nil, access.Scope{}, access.Denied("bearer may not read the " + m.Table + " of this group")
}

// Users returns a page of a group's users who may see (MemberScope).
func (s *Service) Users(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, p page.Request) ([]user.User, int64, error) {
	g, sc, err := s.MemberScope(ctx, who, t, ref, Users)
	if err != nil {
		return nil, 0, err
	}
	return s.store.Users(ctx, t.ID, g.ID, sc, p)
}

// User returns a group's user, by id or email, who may see (MemberScope).
func (s *Service) User(ctx context.Context, who *access.Principal, t *account.Tenant, ref, userRef string) (*user.User, error) {
	g, sc, err := s.MemberScope(ctx, who, t, ref, Users)
	if err != nil {
		return nil, err
	}
	return s.store.User(ctx, t.ID, g.ID, sc, userRef)
}

// Owner returns a group's owner by its id, who may see.
func (s *Service) Owner(ctx context.Context, who *access.Principal, t *account.Tenant, ref, ownerID string) (*Owner, error) {
	g, err := access.Visible(who, "group.owners.read", func() (*Group, error) { return s.store.Find(ctx, t.ID, ref, access.ScopeOf(who)) })
	if err != nil {
		return nil, err
	}
	return s.store.Owner(ctx, t.ID, g.ID, ownerID)
}

// AttachOwners makes the users userIDs owners of a group, all or none.
func (s *Service) AttachOwners(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, userIDs []string) ([]Owner, error) {
	g, err := s.managed(ctx, who, t, ref, "group.owners.attach")
	if err != nil {
		return nil, err
	}
	known, err := s.store.KnownUsers(ctx, t.ID, userIDs)
	if err != nil {
		return nil, err
	}
	now := s.now()
	owners := make([]Owner, len(userIDs))
	for i, uid := range userIDs {
		if !known[uid] {
			return nil, apperr.At(apperr.Unprocessable, "USER_NOT_FOUND", "must exist", apperr.Record().Item(i))
		}
		owners[i] = Owner{ID: id.New(), AccountID: t.ID, GroupID: g.ID, UserID: uid, CreatedAt: now, UpdatedAt: now}
	}
	taken, err := s.store.AddOwners(ctx, owners)
	if err != nil {
		return nil, err
	}
	if taken >= 0 {
		return nil, apperr.At(apperr.Unprocessable, "USER_TAKEN", "already exists", apperr.Record().Item(taken))
	}
	return owners, nil
}

// DetachOwners removes owners of a group, named by user id or owner id,
// all or none.
func (s *Service) DetachOwners(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, ids []string) error {
	g, err := s.managed(ctx, who, t, ref, "group.owners.detach")
	if err != nil {
		return err
	}
	missing, err := s.store.RemoveOwners(ctx, g.ID, ids)
	if err != nil {
		return err
	}
	if missing >= 0 {
		return apperr.At(apperr.Unprocessable, "USER_NOT_FOUND", "cannot detach user '"+ids[missing]+"' (user is not attached)", apperr.Record().Item(missing))
	}
	return nil
}

// Limits keeps the records of one kind within their groups' limits when
// the rules of that kind create them; Service.Limits gives it.
type Limits struct {
	s *Service
	m Member
}

// Limits returns the admission of new records of kind m.
func (s *Service) Limits(m Member) Limits { return Limits{s: s, m: m} }

// Admit checks, inside the caller's transaction, that the group groupID
// (nil: none) has room for one more record, as Service.Admit.
func (l Limits) Admit(ctx context.Context, accountID string, groupID *string) error {
	return l.s.Admit(ctx, l.m, accountID, groupID)
}

// UserGroup is the group of a user of the account (nil: none), which its
// new licenses and machines join when given none.
func (l Limits) UserGroup(ctx context.Context, accountID, userID string) (*string, error) {
	return l.s.store.GroupOf(ctx, Users, accountID, userID)
}
