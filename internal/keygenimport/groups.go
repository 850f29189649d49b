package keygenimport

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/relkey/relkey/internal/group"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/pkg/relkey"
)

// groups brings over the source's groups, found on the target by name.
func (r *run) groups(ctx context.Context) error {
	var targets []group.Group // listed once, on the first group
	listed := false
	seen := map[string]bool{}
	return each(ctx, r, Groups, r.src.Groups.Lister, nil, func(g *relkey.Group) string { return fmt.Sprintf("%s (%q)", g.ID, g.Name) },
		func(g *relkey.Group) (outcome, error) {
			if seen[g.Name] {
				return 0, refuse("another group has this name: rename one on Keygen")
			}
			seen[g.Name] = true
			if !listed {
				var err error
				if targets, err = everything(func(pr page.Request) ([]group.Group, int64, error) {
					return r.dst.Groups.List(ctx, r.who, r.t, pr)
				}); err != nil {
					return 0, err
				}
				listed = true
			}
			id, err := byName(targets, g.Name, func(t *group.Group) string { return t.Name }, func(t *group.Group) string { return t.ID }, "groups")
			if err != nil {
				return 0, err
			}
			if id != "" {
				return r.found(Groups, g.ID, id)
			}
			return create(r, Groups, g.ID, g.Raw, func(params group.Params) (*group.Group, error) {
				return r.dst.Groups.Create(ctx, r.who, r.t, params)
			})
		}, nil)
}

// groupOwners makes the imported users owners of the imported groups they
// own on the source, once the users are in.
func (r *run) groupOwners(ctx context.Context) error {
	for _, sourceID := range slices.Sorted(maps.Keys(r.ids[Groups])) {
		targetID := r.ids[Groups][sourceID]
		owners, err := collect(ctx, r.src.Groups.Owners(sourceID))
		if err != nil {
			return fmt.Errorf("listing the owners of group %s on the source: %w", sourceID, err)
		}
		if len(owners) == 0 {
			continue
		}
		have, err := everything(func(pr page.Request) ([]group.Owner, int64, error) {
			return r.dst.Groups.Owners(ctx, r.who, r.t, targetID, pr)
		})
		if err != nil {
			return err
		}
		owning := map[string]bool{}
		for _, o := range have {
			owning[o.UserID] = true
		}
		for _, o := range owners {
			item := o.UserID + " of group " + sourceID
			userID := r.mapped(Users, o.UserID)
			switch {
			case userID == "":
				r.summary.fail(GroupOwners, item, "the user was not imported")
			case owning[userID]:
				r.summary.count(GroupOwners, skipped)
			default:
				_, err := r.dst.Groups.AttachOwners(ctx, r.who, r.t, targetID, []string{userID})
				if err := r.tally(GroupOwners, item, created, err); err != nil {
					return err
				}
				owning[userID] = true
			}
		}
	}
	return nil
}

// joinGroup moves a record found on the target without a group (imported
// before its group was) into the group groupID ("" none), within the
// group's limit; a record already in a group is left there.
func (r *run) joinGroup(ctx context.Context, m group.Member, recordID string, current *string, groupID string) error {
	if groupID == "" || current != nil {
		return nil
	}
	_, err := r.dst.Groups.Assign(ctx, r.who, r.t, m, recordID, &groupID)
	return err
}
