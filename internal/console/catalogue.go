package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/group"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/user"
)

// The pages of entitlements, groups (with their owners) and a release's
// entitlement constraints: each list searches with the API's search rules,
// each form goes through the API's rules, its errors beside the fields.

// findable is a list's search box: ?q, and the matching rows and their
// count when asked.
type findable[T any] struct {
	listing[T]
	Query string
	Total int64
}

// searchedOr is the page of a list: its rows matching ?q by the search
// rules of typ (the API's POST /search), else the list's keyset page.
func searchedOr[T any](p *Pages, q *request, typ string, find func(id string) (T, error), list lister[T], id func(T) string) (findable[T], error) {
	text := strings.TrimSpace(q.r.URL.Query().Get("q"))
	if text == "" {
		rows, err := listed(q.r, list, id)
		return findable[T]{listing: rows}, err
	}
	rows, total, err := searched(p, q, typ, text, listSize, find)
	return findable[T]{listing: listing[T]{Rows: rows}, Query: text, Total: total}, err
}

func (p *Pages) entitlementList(q *request) (any, error) {
	return searchedOr(p, q, "entitlements", func(id string) (entitlement.Entitlement, error) {
		return deref(p.Entitlements.Find(q.ctx, q.who, q.tenant, id))
	}, func(req page.Request) ([]entitlement.Entitlement, int64, error) {
		return p.Entitlements.List(q.ctx, q.who, q.tenant, req)
	}, func(e entitlement.Entitlement) string { return e.ID })
}

// deref is a found record's value.
func deref[T any](v *T, err error) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	return *v, nil
}

func entitlementParams(r *http.Request) entitlement.Params {
	return entitlement.Params{Name: optional.Of(strings.TrimSpace(r.PostFormValue("name"))),
		Code: optional.Of(strings.TrimSpace(r.PostFormValue("code")))}
}

func (p *Pages) createEntitlement(q *request) error {
	if _, err := p.Entitlements.Create(q.ctx, q.who, q.tenant, entitlementParams(q.r)); err != nil {
		return p.formPage(q, "entitlements", "Entitlements", p.entitlementList, err)
	}
	return q.back("/entitlements", "Entitlement created.")
}

// editPage renders a record's edit page: the record as found, or the form
// as posted with its errors.
func (p *Pages) editPage(q *request, name, title string, data any, failed error) error {
	v := q.view(title)
	v.Data, v.Form = data, url.Values{}
	status := http.StatusOK
	if failed != nil {
		e := apperr.As(failed)
		if e.Kind == apperr.Internal {
			return failed
		}
		v.Form = q.r.PostForm
		v.Errors, v.Error = fieldErrors(failed)
		status = statusOf(e.Kind)
	}
	p.render(q.w, status, name, v)
	return nil
}

func (p *Pages) showEntitlement(q *request) error {
	e, err := p.Entitlements.Find(q.ctx, q.who, q.tenant, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	return p.editPage(q, "entitlement", "Entitlement", e, nil)
}

func (p *Pages) updateEntitlement(q *request) error {
	e, err := p.Entitlements.Find(q.ctx, q.who, q.tenant, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := p.Entitlements.Update(q.ctx, q.who, q.tenant, e.ID, entitlementParams(q.r)); err != nil {
		return p.editPage(q, "entitlement", "Entitlement", e, err)
	}
	return q.back("/entitlements/"+url.PathEscape(e.ID), "Entitlement saved.")
}

func (p *Pages) deleteEntitlement(q *request) error {
	if err := p.Entitlements.Delete(q.ctx, q.who, q.tenant, q.r.PathValue("id")); err != nil {
		return err
	}
	return q.back("/entitlements", "Entitlement deleted.")
}

func (p *Pages) groupList(q *request) (any, error) {
	return searchedOr(p, q, "groups", func(id string) (group.Group, error) {
		return deref(p.Groups.Find(q.ctx, q.who, q.tenant, id))
	}, func(req page.Request) ([]group.Group, int64, error) {
		return p.Groups.List(q.ctx, q.who, q.tenant, req)
	}, func(g group.Group) string { return g.ID })
}

// groupParams are a group form's attributes; an empty limit is none.
func groupParams(r *http.Request) (group.Params, error) {
	params := group.Params{Name: optional.Of(strings.TrimSpace(r.PostFormValue("name")))}
	for name, dst := range map[string]*optional.Value[*int64]{"max_users": &params.MaxUsers, "max_licenses": &params.MaxLicenses, "max_machines": &params.MaxMachines} {
		n, err := number(r, name)
		if err != nil {
			return params, err
		}
		*dst = optional.Of(n.V)
	}
	return params, nil
}

func (p *Pages) createGroup(q *request) error {
	params, err := groupParams(q.r)
	if err == nil {
		_, err = p.Groups.Create(q.ctx, q.who, q.tenant, params)
	}
	if err != nil {
		return p.formPage(q, "groups", "Groups", p.groupList, err)
	}
	return q.back("/groups", "Group created.")
}

// groupDetail is a group with its owners.
type groupDetail struct {
	Group  *group.Group
	Owners []groupOwner
}

// groupOwner is an owner with its user (nil when who may not read users).
type groupOwner struct {
	Owner group.Owner
	User  *user.User
}

// groupOwnersShown is how many owners a group's page lists.
const groupOwnersShown = 100

func (p *Pages) groupPage(q *request, g *group.Group, failed error) error {
	owners, _, err := p.Groups.Owners(q.ctx, q.who, q.tenant, g.ID, page.Request{Limit: groupOwnersShown, Ascending: true})
	if err != nil && !apperr.Is(err, apperr.Forbidden) {
		return err
	}
	d := groupDetail{Group: g}
	for _, o := range owners {
		u, err := p.Users.Find(q.ctx, q.who, q.tenant, o.UserID)
		if err != nil && !apperr.Is(err, apperr.Forbidden) && !apperr.Is(err, apperr.NotFound) {
			return err
		}
		d.Owners = append(d.Owners, groupOwner{Owner: o, User: u})
	}
	return p.editPage(q, "group", "Group", d, failed)
}

func (p *Pages) showGroup(q *request) error {
	g, err := p.Groups.Find(q.ctx, q.who, q.tenant, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	return p.groupPage(q, g, nil)
}

// groupAction saves, deletes a group, or adds or removes an owner (a user
// named by email or id).
func (p *Pages) groupAction(q *request) error {
	g, err := p.Groups.Find(q.ctx, q.who, q.tenant, q.r.PathValue("id"))
	if err != nil {
		return err
	}
	back := "/groups/" + url.PathEscape(g.ID)
	switch q.r.PathValue("action") {
	case "save":
		params, err := groupParams(q.r)
		if err == nil {
			_, err = p.Groups.Update(q.ctx, q.who, q.tenant, g.ID, params)
		}
		if err != nil {
			return p.groupPage(q, g, err)
		}
		return q.back(back, "Group saved.")
	case "delete":
		if err := p.Groups.Delete(q.ctx, q.who, q.tenant, g.ID); err != nil {
			return err
		}
		return q.back("/groups", "Group deleted.")
	case "owners":
		var err error = apperr.At(apperr.Unprocessable, "USER_NOT_FOUND", "must exist", apperr.Rel("owner"))
		if ref := strings.TrimSpace(q.r.PostFormValue("owner")); ref != "" {
			var u *user.User
			if u, err = p.Users.Find(q.ctx, q.who, q.tenant, ref); err == nil {
				_, err = p.Groups.AttachOwners(q.ctx, q.who, q.tenant, g.ID, []string{u.ID})
			}
		}
		if err != nil {
			return p.groupPage(q, g, ownerError(err))
		}
		return q.back(back, "Owner added.")
	case "remove-owner":
		if err := p.Groups.DetachOwners(q.ctx, q.who, q.tenant, g.ID, []string{q.r.PostFormValue("user")}); err != nil {
			return err
		}
		return q.back(back, "Owner removed.")
	}
	return apperr.NotFoundResource("action", q.r.PathValue("action"))
}

// ownerError puts an error about the named owner beside the owner field:
// the API points such errors at the request's list of users.
func ownerError(err error) error {
	e := apperr.As(err)
	if e.Kind != apperr.Unprocessable && e.Kind != apperr.NotFound {
		return err
	}
	return apperr.At(apperr.Unprocessable, e.Code, e.Detail, apperr.Rel("owner"))
}

// releaseDetail is a release with its entitlement constraints and the
// entitlements that may become one.
type releaseDetail struct {
	Release      *release.Release
	Constraints  []entitlement.Entitlement
	Entitlements []entitlement.Entitlement
}

// entitlementsShown is how many entitlements a release's page offers.
const entitlementsShown = 100

func (p *Pages) releasePage(q *request, r *release.Release, failed error) error {
	d := releaseDetail{Release: r}
	attached, _, err := p.Entitlements.Attached(q.ctx, q.who, q.tenant, entitlement.OnRelease, entitlement.Ref{ID: r.ID}, page.Request{Limit: entitlementsShown})
	if err != nil {
		return err
	}
	d.Constraints = attached
	all, _, err := p.Entitlements.List(q.ctx, q.who, q.tenant, page.Request{Limit: entitlementsShown})
	if err != nil && !apperr.Is(err, apperr.Forbidden) {
		return err
	}
	d.Entitlements = all
	return p.editPage(q, "release", "Release "+r.Version, d, failed)
}

func (p *Pages) showRelease(q *request) error {
	r, err := p.Releases.Find(q.ctx, q.who, q.tenant, q.r.PathValue("id"), release.Narrowing{})
	if err != nil {
		return err
	}
	return p.releasePage(q, r, nil)
}

// changeConstraint attaches the form's entitlement to a release as a
// constraint, or detaches it.
func (p *Pages) changeConstraint(q *request, id string, attach bool) error {
	r, err := p.Releases.Find(q.ctx, q.who, q.tenant, id, release.Narrowing{})
	if err != nil {
		return err
	}
	ref, eid := entitlement.Ref{ID: r.ID}, strings.TrimSpace(q.r.PostFormValue("entitlement"))
	back := "/releases/" + url.PathEscape(r.ID)
	if !attach {
		if err := p.Entitlements.DetachFrom(q.ctx, q.who, q.tenant, entitlement.OnRelease, ref, []string{eid}); err != nil {
			return err
		}
		return q.back(back, "Constraint removed.")
	}
	if eid == "" {
		err = apperr.At(apperr.Unprocessable, "ENTITLEMENT_BLANK", "must exist", apperr.Rel("entitlement"))
	} else {
		_, err = p.Entitlements.AttachTo(q.ctx, q.who, q.tenant, entitlement.OnRelease, ref, []string{eid})
	}
	if err != nil {
		return p.releasePage(q, r, err)
	}
	return q.back(back, "Constraint added.")
}
