package keygenimport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/group"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/user"
	"github.com/relkey/relkey/pkg/relkey"
)

// attributesOf splits a resource's raw attributes by name.
func attributesOf(raw json.RawMessage) map[string]json.RawMessage {
	attrs := map[string]json.RawMessage{}
	json.Unmarshal(raw, &attrs)
	return attrs
}

// paramsOf decodes into P the attributes relkey takes on create, leaving
// out the others (read-only ones, Keygen's that relkey lacks) and those
// named in drop.
func paramsOf[P any](attrs map[string]json.RawMessage, drop ...string) (P, error) {
	var p P
	kept := map[string]json.RawMessage{}
	for name, raw := range attrs {
		kept[name] = raw
	}
	for _, name := range drop {
		delete(kept, name)
	}
	return p, (&document.Request{Attributes: document.Permitted(kept, &p)}).DecodeAttributes(&p)
}

// parent is the target id of the source record (of kind, called what) an
// item depends on, "" for none; a refusal when it was not imported.
func (r *run) parent(kind Kind, what, sourceID string) (string, error) {
	if sourceID == "" {
		return "", nil
	}
	if id := r.mapped(kind, sourceID); id != "" {
		return id, nil
	}
	return "", refuse("its %s %s was not imported", what, sourceID)
}

// found maps a source item to its counterpart on the target.
func (r *run) found(kind Kind, sourceID, targetID string) (outcome, error) {
	r.remember(kind, sourceID, targetID)
	return skipped, nil
}

// create makes with make the target counterpart of a source item, a
// record R with an ID, from the item's attributes (decoded into P, leaving
// out drop), and maps the item to it.
func create[P, R any](r *run, kind Kind, sourceID string, raw json.RawMessage, make func(P) (*R, error), drop ...string) (outcome, error) {
	params, err := paramsOf[P](attributesOf(raw), drop...)
	if err != nil {
		return 0, err
	}
	made, err := make(params)
	if err != nil {
		return 0, err
	}
	r.remember(kind, sourceID, reflect.ValueOf(made).Elem().FieldByName("ID").String())
	return created, nil
}

// everything lists every item of a target list, oldest first.
func everything[T any](list func(page.Request) ([]T, int64, error)) ([]T, error) {
	var out []T
	for offset := 0; ; offset += document.MaxLimit {
		items, _, err := list(page.Request{Limit: document.MaxLimit, Offset: offset, Ascending: true})
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if len(items) < document.MaxLimit {
			return out, nil
		}
	}
}

// notFound reports whether err says a lookup found nothing.
func notFound(err error) bool { return apperr.Is(err, apperr.NotFound) }

// byName finds the one target record named name among records: "" when
// there is none, a refusal when there are several.
func byName[T any](records []T, name string, nameOf func(*T) string, idOf func(*T) string, what string) (string, error) {
	found := ""
	for i := range records {
		if nameOf(&records[i]) != name {
			continue
		}
		if found != "" {
			return "", refuse("several %s are named %q on the target: rename them there", what, name)
		}
		found = idOf(&records[i])
	}
	return found, nil
}

func (r *run) products(ctx context.Context) error {
	var targets []product.Product // listed once, when a product without a code needs them
	listed := false
	uncoded := map[string]bool{}
	return each(ctx, r, Products, r.src.Products.Lister, nil, func(p *relkey.Product) string { return fmt.Sprintf("%s (%q)", p.ID, p.Name) },
		func(p *relkey.Product) (outcome, error) {
			var id string
			if p.Code != nil && *p.Code != "" {
				existing, err := r.dst.Products.Find(ctx, r.who, r.t, *p.Code)
				switch {
				case err == nil:
					id = existing.ID
				case !notFound(err):
					return 0, err
				}
			} else {
				// Without a code the name is the key: it must name one product.
				if uncoded[p.Name] {
					return 0, refuse("another product without a code has this name: give them codes on Keygen")
				}
				uncoded[p.Name] = true
				if !listed {
					var err error
					if targets, err = everything(func(pr page.Request) ([]product.Product, int64, error) {
						return r.dst.Products.List(ctx, r.who, r.t, pr)
					}); err != nil {
						return 0, err
					}
					listed = true
				}
				var err error
				if id, err = byName(targets, p.Name, func(t *product.Product) string { return t.Name }, func(t *product.Product) string { return t.ID }, "products"); err != nil {
					return 0, err
				}
			}
			if id != "" {
				return r.found(Products, p.ID, id)
			}
			return create(r, Products, p.ID, p.Raw, func(params product.Params) (*product.Product, error) {
				return r.dst.Products.Create(ctx, r.who, r.t, params)
			})
		}, nil)
}

func (r *run) entitlements(ctx context.Context) error {
	return each(ctx, r, Entitlements, r.src.Entitlements.Lister, nil, func(e *relkey.Entitlement) string { return fmt.Sprintf("%s (%s)", e.ID, e.Code) },
		func(e *relkey.Entitlement) (outcome, error) {
			existing, err := r.dst.Entitlements.Find(ctx, r.who, r.t, e.Code)
			switch {
			case err == nil:
				return r.found(Entitlements, e.ID, existing.ID)
			case !notFound(err):
				return 0, err
			}
			return create(r, Entitlements, e.ID, e.Raw, func(params entitlement.Params) (*entitlement.Entitlement, error) {
				return r.dst.Entitlements.Create(ctx, r.who, r.t, params)
			})
		}, nil)
}

func (r *run) policies(ctx context.Context) error {
	r.policyAttributes, r.policyEntitlements = map[string]map[string][]byte{}, map[string]map[string]bool{}
	ofProduct := map[string][]policy.Policy{} // target policies by product
	seen := map[string]bool{}
	return each(ctx, r, Policies, r.src.Policies.Lister, nil, func(p *relkey.Policy) string { return fmt.Sprintf("%s (%q)", p.ID, p.Name) },
		func(p *relkey.Policy) (outcome, error) {
			attrs := attributesOf(p.Raw)
			r.policyAttributes[p.ID] = compacted(attrs)
			productID, err := r.parent(Products, "product", p.ProductID)
			if err != nil {
				return 0, err
			}
			if seen[productID+"\x00"+p.Name] {
				return 0, refuse("another policy of its product has this name: rename one on Keygen")
			}
			seen[productID+"\x00"+p.Name] = true
			if _, ok := ofProduct[productID]; !ok {
				list, err := everything(func(pr page.Request) ([]policy.Policy, int64, error) {
					return r.dst.Policies.List(ctx, r.who, r.t, productID, pr)
				})
				if err != nil {
					return 0, err
				}
				ofProduct[productID] = list
			}
			id, err := byName(ofProduct[productID], p.Name, func(t *policy.Policy) string { return t.Name }, func(t *policy.Policy) string { return t.ID }, "policies of the product")
			if err != nil {
				return 0, err
			}
			o := skipped
			if id == "" {
				params, err := paramsOf[policy.Params](attrs)
				if err != nil {
					return 0, err
				}
				made, err := r.dst.Policies.Create(ctx, r.who, r.t, productID, params)
				if err != nil {
					return 0, err
				}
				id, o = made.ID, created
			}
			r.remember(Policies, p.ID, id)
			return o, nil
		}, func(p *relkey.Policy) error {
			held, err := collect(ctx, r.src.Policies.Entitlements(p.ID))
			if err != nil {
				return err
			}
			r.policyEntitlements[p.ID] = map[string]bool{}
			for _, e := range held {
				r.policyEntitlements[p.ID][e.ID] = true
			}
			return r.attach(ctx, PolicyEntitlements, entitlement.OnPolicy, r.mapped(Policies, p.ID), held)
		})
}

// compacted is attrs with each value in compact JSON, to compare values.
func compacted(attrs map[string]json.RawMessage) map[string][]byte {
	out := make(map[string][]byte, len(attrs))
	for name, raw := range attrs {
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil {
			out[name] = buf.Bytes()
		}
	}
	return out
}

// attach attaches to a target record the entitlements (source ones) it
// lacks, tallying each under kind.
func (r *run) attach(ctx context.Context, kind Kind, on entitlement.Kind, targetID string, held []*relkey.Entitlement) error {
	if len(held) == 0 {
		return nil
	}
	have, err := everything(func(pr page.Request) ([]entitlement.Entitlement, int64, error) {
		return r.dst.Entitlements.Attached(ctx, r.who, r.t, on, entitlement.Ref{ID: targetID}, pr)
	})
	if err != nil {
		return err
	}
	attached := map[string]bool{}
	for _, e := range have {
		attached[e.ID] = true
	}
	var missing []string
	for _, e := range held {
		id := r.mapped(Entitlements, e.ID)
		switch {
		case id == "":
			r.summary.fail(kind, e.ID+" of "+targetID, "the entitlement was not imported")
		case attached[id]:
			r.summary.count(kind, skipped)
		default:
			missing = append(missing, id)
		}
	}
	for len(missing) > 0 {
		batch := missing[:min(len(missing), document.MaxLimit)]
		missing = missing[len(batch):]
		_, err := r.dst.Entitlements.AttachTo(ctx, r.who, r.t, on, entitlement.Ref{ID: targetID}, batch)
		for range batch {
			if err := r.tally(kind, targetID, created, err); err != nil {
				return err
			}
		}
	}
	return nil
}

// allRoles asks for users of every role: Keygen lists only role user by
// default.
var allRoles = url.Values{"roles[]": {"user", "admin", "developer", "sales-agent", "support-agent", "read-only"}}

func (r *run) users(ctx context.Context) error {
	return each(ctx, r, Users, r.src.Users.Lister, allRoles, func(u *relkey.User) string { return fmt.Sprintf("%s (%s)", u.ID, u.Email) },
		func(u *relkey.User) (outcome, error) {
			groupID, err := r.parent(Groups, "group", u.GroupID)
			if err != nil {
				return 0, err
			}
			o := skipped
			target, err := r.dst.Users.Find(ctx, r.who, r.t, u.Email)
			if notFound(err) {
				params, perr := paramsOf[user.Params](attributesOf(u.Raw), "password")
				if perr != nil {
					return 0, perr
				}
				params.Group = groupID
				target, err = r.dst.Users.Create(ctx, r.who, r.t, params)
				o = created
			}
			if err != nil {
				return 0, err
			}
			r.remember(Users, u.ID, target.ID)
			if err := r.joinGroup(ctx, group.Users, target.ID, target.GroupID, groupID); err != nil {
				return 0, err
			}
			if u.Status == user.StatusBanned && target.BannedAt == nil {
				if _, err := r.dst.Users.SetBanned(ctx, r.who, r.t, target.ID, true); err != nil {
					return 0, err
				}
			}
			// A user without a password who has not been sent a reset gets one.
			if target.PasswordDigest == nil && target.PasswordResetExpiry == nil {
				if err := r.dst.Users.RequestPasswordReset(ctx, r.t, target.Email, false); err != nil {
					return 0, err
				}
				r.summary.PasswordResets++
			}
			return o, nil
		}, nil)
}

// inherited are the license attributes Keygen shows from the policy when
// the license does not override them.
var inherited = []string{"protected", "maxMachines", "maxProcesses", "maxUsers", "maxCores", "maxMemory", "maxDisk", "maxUses"}

func (r *run) licenses(ctx context.Context) error {
	return each(ctx, r, Licenses, r.src.Licenses.Lister, nil, func(l *relkey.License) string { return l.ID },
		func(l *relkey.License) (outcome, error) {
			policyID, err := r.parent(Policies, "policy", l.PolicyID)
			if err != nil {
				return 0, err
			}
			owner, err := r.parent(Users, "owner", l.OwnerID)
			if err != nil {
				return 0, err
			}
			groupID, err := r.parent(Groups, "group", l.GroupID)
			if err != nil {
				return 0, err
			}
			o := skipped
			target, err := r.dst.Licenses.Find(ctx, r.who, r.t, l.Key)
			switch {
			case err == nil && target.PolicyID != policyID:
				return 0, refuse("its key is another license's on the target (%s)", target.ID)
			case notFound(err):
				attrs := attributesOf(l.Raw)
				own := compacted(attrs)
				var drop []string
				for _, name := range inherited {
					if v, ok := r.policyAttributes[l.PolicyID][name]; ok && bytes.Equal(own[name], v) {
						drop = append(drop, name)
					}
				}
				params, perr := paramsOf[license.Params](attrs, drop...)
				if perr != nil {
					return 0, perr
				}
				target, err = r.dst.Licenses.Import(ctx, r.who, r.t, license.Relationships{Policy: policyID, Owner: owner, Group: groupID}, params)
				o = created
			}
			if err != nil {
				return 0, err
			}
			r.remember(Licenses, l.ID, target.ID)
			if err := r.joinGroup(ctx, group.Licenses, target.ID, target.GroupID, groupID); err != nil {
				return 0, err
			}
			if l.Uses > target.Uses {
				change := license.UsageChange{Action: license.Increment, By: optional.Of(l.Uses - target.Uses)}
				if _, err := r.dst.Licenses.ChangeUsage(ctx, r.who, r.t, target.ID, change); err != nil {
					return 0, err
				}
			}
			return o, nil
		}, func(l *relkey.License) error {
			// The source lists the policy's entitlements with the license's own.
			all, err := collect(ctx, r.src.Licenses.Entitlements(l.ID))
			if err != nil {
				return err
			}
			var own []*relkey.Entitlement
			for _, e := range all {
				if !r.policyEntitlements[l.PolicyID][e.ID] {
					own = append(own, e)
				}
			}
			return r.attach(ctx, LicenseEntitlements, entitlement.OnLicense, r.mapped(Licenses, l.ID), own)
		})
}

func (r *run) machines(ctx context.Context) error {
	return each(ctx, r, Machines, r.src.Machines.Lister, nil, func(m *relkey.Machine) string { return fmt.Sprintf("%s (%s)", m.ID, m.Fingerprint) },
		func(m *relkey.Machine) (outcome, error) {
			licenseID, err := r.parent(Licenses, "license", m.LicenseID)
			if err != nil {
				return 0, err
			}
			groupID, err := r.parent(Groups, "group", m.GroupID)
			if err != nil {
				return 0, err
			}
			o, id := skipped, ""
			found, _, err := r.dst.Machines.List(ctx, r.who, r.t, machine.Filter{LicenseID: licenseID, Fingerprint: m.Fingerprint}, page.Request{Limit: 1})
			if err != nil {
				return 0, err
			}
			if len(found) > 0 {
				id = found[0].Item.ID
				if err := r.joinGroup(ctx, group.Machines, id, found[0].Item.GroupID, groupID); err != nil {
					return 0, err
				}
			} else {
				params, err := paramsOf[machine.Params](attributesOf(m.Raw))
				if err != nil {
					return 0, err
				}
				params.Group = groupID
				made, _, err := r.dst.Machines.Activate(ctx, r.who, r.t, licenseID, params, nil)
				if err != nil {
					return 0, err
				}
				id, o = made.ID, created
			}
			r.remember(Machines, m.ID, id)
			return o, nil
		}, func(m *relkey.Machine) error { return r.components(ctx, m.ID, r.mapped(Machines, m.ID)) })
}

// components adds to a target machine the source machine's components it
// lacks.
func (r *run) components(ctx context.Context, sourceID, targetID string) error {
	parts, err := collect(ctx, r.src.Machines.Components(sourceID))
	if err != nil || len(parts) == 0 {
		return err
	}
	have, err := everything(func(pr page.Request) ([]machine.Component, int64, error) {
		return r.dst.Machines.ListComponents(ctx, r.who, r.t, targetID, pr)
	})
	if err != nil {
		return err
	}
	present := map[string]bool{}
	for _, c := range have {
		present[c.Fingerprint] = true
	}
	for _, c := range parts {
		if present[c.Fingerprint] {
			r.summary.count(Components, skipped)
			continue
		}
		params, err := paramsOf[machine.ComponentParams](attributesOf(c.Raw))
		if err == nil {
			_, err = r.dst.Machines.AddComponent(ctx, r.who, r.t, targetID, params)
		}
		if err := r.tally(Components, fmt.Sprintf("%s (%s)", c.ID, c.Fingerprint), created, err); err != nil {
			return err
		}
	}
	return nil
}
