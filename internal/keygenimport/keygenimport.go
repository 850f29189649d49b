// Package keygenimport copies an account from a Keygen server into a relkey
// account: products, entitlements, policies and their entitlements, groups
// and their owners (users, licenses and machines join their groups), users
// (without passwords: each gets a password reset), licenses with their keys
// as issued and their own entitlements, machines and their components,
// packages, releases with their constraints, and artifacts with their bytes.
// It reads the source through Keygen's public API with the Go client
// (pkg/relkey) and writes through relkey's rules, as an admin of the target
// account.
//
// An import is idempotent and resumable: every resource is first looked up
// on the target by its natural key (a product's code, else its name; a
// policy's name within its product; an entitlement's code; a group's name;
// a group owner's user within its group; a user's email;
// a license's key; a machine's fingerprint within its license; a component's
// fingerprint within its machine; a package's key; a release's version
// within its product and package; an artifact's filename within its
// release), and is skipped when it is there. A run that stops half-way is
// finished by running it again. Ids are relkey's own: relkey does not take
// ids on create, so the run maps Keygen's ids to relkey's as it goes.
package keygenimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/group"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
	"github.com/relkey/relkey/internal/storage"
	"github.com/relkey/relkey/internal/user"
	"github.com/relkey/relkey/pkg/relkey"
)

// Target is the relkey account an import writes into and the rules it
// writes through.
type Target struct {
	Tenant       *account.Tenant
	Products     *product.Service
	Entitlements *entitlement.Service
	Policies     *policy.Service
	Groups       *group.Service
	Users        *user.Service
	Licenses     *license.Service
	Machines     *machine.Service
	Packages     *releasepackage.Service
	Releases     *release.Service
	Artifacts    *artifact.Service
	Storage      storage.Store
	// Local is Storage when it is the local folder: artifact bytes are
	// written into it; other stores get them through a presigned PUT.
	Local *storage.Local
}

// Importer copies the account Source works in into Target.
type Importer struct {
	Source *relkey.Client
	Target Target
	// Progress receives a line per kind of resource as it goes (nil:
	// none); with Live, the line is rewritten in place as items are done.
	Progress io.Writer
	Live     bool
	// HTTP sends the presigned PUTs of artifact bytes; nil is
	// http.DefaultClient.
	HTTP *http.Client
}

// Run imports everything, in the order resources depend on each other. It
// stops at the first error that is not a refusal of one item by relkey's
// rules (the source failing, the target's database away); what was done
// is in the summary either way, and running again resumes.
func (im *Importer) Run(ctx context.Context) (*Summary, error) {
	r := &run{
		Importer: im,
		src:      im.Source,
		dst:      im.Target,
		t:        im.Target.Tenant,
		who:      access.NewPrincipal(im.Target.Tenant.ID, access.RoleAdmin, access.BearerUser, "", "", nil),
		summary:  newSummary(),
		ids:      map[Kind]map[string]string{},
		progress: &progress{w: im.Progress, live: im.Live},
	}
	if r.HTTP == nil {
		r.HTTP = http.DefaultClient
	}
	for _, step := range []func(context.Context) error{
		r.products, r.entitlements, r.policies, r.groups, r.users, r.groupOwners, r.licenses, r.machines,
		r.packages, r.releases, r.artifacts, r.yank,
	} {
		if err := step(ctx); err != nil {
			return r.summary, err
		}
	}
	return r.summary, nil
}

// run is one import's state: the ids mapped so far, what the source's
// policies hold (which licenses inherit), and the tally.
type run struct {
	*Importer
	src *relkey.Client
	dst Target
	t   *account.Tenant
	who *access.Principal

	summary  *Summary
	progress *progress
	// ids maps, per kind, source ids to target ids.
	ids map[Kind]map[string]string
	// policyAttributes are the source policies' attributes, which a
	// license shows as its own unless it overrides them.
	policyAttributes map[string]map[string][]byte
	// policyEntitlements are the entitlements of the source policies,
	// which the source lists with each license's own.
	policyEntitlements map[string]map[string]bool
	// yanked are the target releases whose source is yanked: yanked once
	// their artifacts are in.
	yanked []string
}

// mapped is the target id of a source resource, "" when it was not imported.
func (r *run) mapped(kind Kind, sourceID string) string { return r.ids[kind][sourceID] }

func (r *run) remember(kind Kind, sourceID, targetID string) {
	if r.ids[kind] == nil {
		r.ids[kind] = map[string]string{}
	}
	r.ids[kind][sourceID] = targetID
}

// outcome is what became of one source item.
type outcome int

const (
	created outcome = iota
	skipped
)

// refusal is an item the import cannot bring over as it is: counted as
// failed, with the reason, and the import goes on.
type refusal struct{ reason string }

func (e *refusal) Error() string { return e.reason }

func refuse(format string, args ...any) error { return &refusal{fmt.Sprintf(format, args...)} }

// refused reports whether err refuses one item (relkey's rules said no, or
// the item cannot be brought over) rather than stopping the import, and
// why.
func refused(err error) (string, bool) {
	var r *refusal
	if errors.As(err, &r) {
		return r.reason, true
	}
	var e *apperr.Error
	if !errors.As(err, &e) {
		return "", false
	}
	switch e.Kind {
	case apperr.Invalid, apperr.Unprocessable, apperr.Conflict, apperr.NotFound, apperr.Forbidden, apperr.TooLarge:
	default:
		return "", false
	}
	reason := e.Code + ": " + e.Detail
	if e.Source != nil && e.Source.Field != nil && e.Source.Field.Name != "" {
		reason += " (" + e.Source.Field.Name + ")"
	}
	return reason, true
}

// tally records the outcome of one item of kind: a refusal counts as a
// failure; any other error is returned, to stop the import.
func (r *run) tally(kind Kind, item string, o outcome, err error) error {
	if err != nil {
		reason, ok := refused(err)
		if !ok {
			return fmt.Errorf("%s %s: %w", kind, item, err)
		}
		r.summary.fail(kind, item, reason)
		return nil
	}
	r.summary.count(kind, o)
	return nil
}

// each walks a source list, handing every item to fn and tallying the
// outcome under kind, with progress; then, unless nil, brings over what
// hangs on an item that is on the target (its attachments, components),
// once the item is counted.
func each[T any](ctx context.Context, r *run, kind Kind, l relkey.Lister[T], filter url.Values, label func(*T) string,
	fn func(*T) (outcome, error), then func(*T) error) error {
	// Oldest first: of two items that cannot both come, the first made does.
	q := url.Values{"order": {"asc"}}
	for k, v := range filter {
		q[k] = v
	}
	p, err := l.List(ctx, relkey.ListOptions{Filter: q})
	if err != nil {
		return fmt.Errorf("listing %s on the source: %w", kind, err)
	}
	r.progress.start(kind, p.Total)
	defer r.progress.finish(r.summary.counts[kind])
	for p != nil {
		for _, item := range p.Items {
			o, err := fn(item)
			if err := r.tally(kind, label(item), o, err); err != nil {
				return err
			}
			if err == nil && then != nil {
				if err := then(item); err != nil {
					return fmt.Errorf("%s %s: %w", kind, label(item), err)
				}
			}
			r.progress.step(r.summary.counts[kind])
		}
		if p, err = p.Next(ctx); err != nil {
			return fmt.Errorf("listing %s on the source: %w", kind, err)
		}
	}
	return nil
}

// collect reads a whole source list.
func collect[T any](ctx context.Context, l relkey.Lister[T]) ([]*T, error) {
	var out []*T
	for item, err := range l.All(ctx, relkey.ListOptions{}) {
		if err != nil {
			return nil, err
		}
		out = append(out, item)
	}
	return out, nil
}
