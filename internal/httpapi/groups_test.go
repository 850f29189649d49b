package httpapi_test

import (
	"sync"
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

func groupBody(attrs string) string {
	return `{"data":{"type":"groups","attributes":{` + attrs + `}}}`
}

func groupLinkage(id string) string {
	if id == "" {
		return `{"data":null}`
	}
	return `{"data":{"type":"groups","id":"` + id + `"}}`
}

func TestGroups(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		const groups = "/v1/accounts/acme/groups"

		e.admin("POST", groups, groupBody(`"name":" "`)).expectError(t, 422, "NAME_MISSING", "pointer", "/data/attributes/name")
		e.admin("POST", groups, groupBody(`"name":"G","maxLicenses":0`)).expectError(t, 422, "MAX_LICENSES_INVALID", "pointer", "/data/attributes/maxLicenses")
		e.do("POST", groups, groupBody(`"name":"G"`), bearer(b.user)).expectError(t, 403, "ACCESS_DENIED")
		created := e.admin("POST", groups, groupBody(`"name":"Team","maxLicenses":1,"maxMachines":1,"maxUsers":1,"metadata":{"tier":"gold"}`))
		if created.status != 201 {
			t.Fatalf("create: %d %s", created.status, created.body)
		}
		groupID := e.id(created)
		if a := attrs(t, created); a["maxLicenses"] != 1.0 || a["maxUsers"] != 1.0 || a["name"] != "Team" {
			t.Fatalf("attributes: %v", a)
		}
		rels := data(t, created)["relationships"].(map[string]any)
		if rels["owners"].(map[string]any)["links"].(map[string]any)["related"] != "/v1/accounts/"+e.acct.Account.ID+"/groups/"+groupID+"/owners" {
			t.Fatalf("owners link: %v", rels["owners"])
		}
		otherID := e.id(e.do("POST", groups, groupBody(`"name":"Other"`), bearer(b.product)))

		updated := e.admin("PATCH", groups+"/"+groupID, `{"data":{"type":"groups","attributes":{"maxUsers":null}}}`)
		if updated.status != 200 || attrs(t, updated)["maxUsers"] != nil || attrs(t, updated)["maxLicenses"] != 1.0 {
			t.Fatalf("update: %d %s", updated.status, updated.body)
		}

		// A user sees no group until it is a member or an owner.
		e.do("GET", groups+"/"+groupID, "", bearer(b.user)).expectError(t, 404, "NOT_FOUND")
		if n := len(list(t, e.do("GET", groups, "", bearer(b.user)))); n != 0 {
			t.Fatalf("user sees %d groups", n)
		}

		// Limits: a second license is GROUP_LICENSE_LIMIT_EXCEEDED.
		const licenses = "/v1/accounts/acme/licenses/"
		moved := e.admin("PUT", licenses+b.licenseID+"/group", groupLinkage(groupID))
		if moved.status != 200 || data(t, moved)["type"] != "licenses" {
			t.Fatalf("license into group: %d %s", moved.status, moved.body)
		}
		if r := e.admin("PUT", licenses+b.licenseID+"/group", groupLinkage(groupID)); r.status != 200 {
			t.Fatalf("same group again: %d %s", r.status, r.body)
		}
		second := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(b.policyID, "")))
		e.admin("PUT", licenses+second+"/group", groupLinkage(groupID)).expectError(t, 422, "GROUP_LICENSE_LIMIT_EXCEEDED", "pointer", "/data/relationships/group")
		e.admin("PUT", licenses+second+"/group", groupLinkage(e.acct.Account.ID)).expectError(t, 422, "GROUP_NOT_FOUND", "pointer", "/data/relationships/group")
		e.admin("PUT", licenses+second+"/group", `{"data":{"type":"users","id":"x"}}`).expectError(t, 400, "PARAMETERS_INVALID")
		if r := e.admin("GET", licenses+b.license+"/group", ""); r.status != 200 || data(t, r)["id"] != groupID {
			t.Fatalf("license group by key: %d %s", r.status, r.body)
		}
		if r := e.do("GET", licenses+b.licenseID+"/group", "", header{"Authorization", "License " + b.license}); r.status != 200 || data(t, r)["id"] != groupID {
			t.Fatalf("license bearer's group: %d %s", r.status, r.body)
		}
		e.admin("GET", licenses+second+"/group", "").expectError(t, 404, "NOT_FOUND")
		e.do("PUT", licenses+second+"/group", groupLinkage(otherID), bearer(b.user)).expectError(t, 404, "NOT_FOUND")

		// Users: joining makes the group visible to its member.
		const users = "/v1/accounts/acme/users/"
		if r := e.admin("PUT", users+b.userID+"/group", groupLinkage(groupID)); r.status != 200 || data(t, r)["type"] != "users" {
			t.Fatalf("user into group: %d %s", r.status, r.body)
		}
		if r := e.do("GET", groups+"/"+groupID, "", bearer(b.user)); r.status != 200 {
			t.Fatalf("member sees its group: %d %s", r.status, r.body)
		}
		// Keygen's Groups::UserPolicy: a member that does not own the group
		// may not list its users.
		e.do("GET", groups+"/"+groupID+"/users", "", bearer(b.user)).expectError(t, 403, "ACCESS_DENIED")
		if r := e.admin("GET", groups+"/"+groupID+"/users", ""); r.status != 200 || len(list(t, r)) != 1 || list(t, r)[0].(map[string]any)["id"] != b.userID {
			t.Fatalf("group users: %d %s", r.status, r.body)
		}
		e.do("GET", groups+"/"+otherID+"/users", "", bearer(b.user)).expectError(t, 404, "NOT_FOUND")
		e.do("GET", groups+"/"+otherID, "", bearer(b.user)).expectError(t, 404, "NOT_FOUND")
		if r := e.admin("PUT", users+b.userID+"/group", groupLinkage("")); r.status != 200 {
			t.Fatalf("user out of group: %d %s", r.status, r.body)
		}
		e.do("GET", groups+"/"+groupID, "", bearer(b.user)).expectError(t, 404, "NOT_FOUND")

		// Owners: attach all or none; an owner sees the group.
		ownersPath := groups + "/" + groupID + "/owners"
		e.admin("POST", ownersPath, userLinkages(b.userID, e.acct.Account.ID)).expectError(t, 422, "USER_NOT_FOUND", "pointer", "/data/1")
		attached := e.admin("POST", ownersPath, userLinkages(b.userID))
		if attached.status != 200 || list(t, attached)[0].(map[string]any)["type"] != "group-owners" {
			t.Fatalf("attach owner: %d %s", attached.status, attached.body)
		}
		e.admin("POST", ownersPath, userLinkages(b.userID)).expectError(t, 422, "USER_TAKEN", "pointer", "/data/0")
		e.do("POST", ownersPath, userLinkages(b.userID), bearer(b.user)).expectError(t, 403, "ACCESS_DENIED")
		if r := e.do("GET", ownersPath, "", bearer(b.user)); r.status != 200 || len(list(t, r)) != 1 {
			t.Fatalf("owner lists owners: %d %s", r.status, r.body)
		}
		if n := len(list(t, e.do("GET", groups, "", bearer(b.user)))); n != 1 {
			t.Fatalf("owner sees %d groups", n)
		}
		e.admin("DELETE", ownersPath, userLinkages(otherID)).expectError(t, 422, "USER_NOT_FOUND", "pointer", "/data/0")
		if r := e.admin("DELETE", ownersPath, userLinkages(b.userID)); r.status != 204 {
			t.Fatalf("detach owner: %d %s", r.status, r.body)
		}
		e.do("GET", groups+"/"+groupID, "", bearer(b.user)).expectError(t, 404, "NOT_FOUND")

		// Machines, then deleting the group releases its members.
		machineID := e.id(e.do("POST", "/v1/accounts/acme/machines", machineBody(b.licenseID, `"fingerprint":"fp-1"`), header{"Authorization", "License " + b.license}))
		if r := e.admin("PUT", "/v1/accounts/acme/machines/fp-1/group", groupLinkage(groupID)); r.status != 200 || data(t, r)["id"] != machineID {
			t.Fatalf("machine into group: %d %s", r.status, r.body)
		}
		// The machine came in with its license; leaving is its change. Each
		// change is an event; staying in the same group is none.
		if r := e.admin("PUT", "/v1/accounts/acme/machines/"+machineID+"/group", groupLinkage("")); r.status != 200 {
			t.Fatalf("machine out of group: %d %s", r.status, r.body)
		}
		for ev, n := range map[string]int{"license.group.updated": 1, "user.group.updated": 2, "machine.group.updated": 1} {
			if got := len(list(t, e.admin("GET", "/v1/accounts/acme/event-logs?limit=100&event="+ev, ""))); got != n {
				t.Fatalf("%s: %d events, want %d", ev, got, n)
			}
		}
		if r := e.admin("DELETE", groups+"/"+groupID, ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		e.admin("GET", licenses+b.licenseID+"/group", "").expectError(t, 404, "NOT_FOUND")
		e.admin("GET", "/v1/accounts/acme/machines/"+machineID+"/group", "").expectError(t, 404, "NOT_FOUND")
	})
}

// TestGroupLimitUnderConcurrency moves licenses into a group of one at
// once: exactly one gets in.
func TestGroupLimitUnderConcurrency(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		groupID := e.id(e.admin("POST", "/v1/accounts/acme/groups", groupBody(`"name":"One","maxLicenses":1`)))
		const n = 6
		ids := make([]string, n)
		for i := range ids {
			ids[i] = e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(b.policyID, "")))
		}
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				statuses[i] = e.admin("PUT", "/v1/accounts/acme/licenses/"+ids[i]+"/group", groupLinkage(groupID)).status
			})
		}
		wg.Wait()
		admitted := 0
		for _, s := range statuses {
			switch s {
			case 200:
				admitted++
			case 422:
			default:
				t.Fatalf("status %d among %v", s, statuses)
			}
		}
		if admitted != 1 {
			t.Fatalf("%d licenses admitted into a group of one: %v", admitted, statuses)
		}
	})
}

func groupRel(id string) string {
	return `"group":{"data":{"type":"groups","id":"` + id + `"}}`
}

// TestGroupMembership creates users, licenses and machines in groups
// through their create documents (limits kept, groups inherited as
// Keygen's models do), renders and filters by the group, and walks the
// group's member routes as Keygen's Groups::*Policy allow.
func TestGroupMembership(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		const acme = "/v1/accounts/acme"
		groupID := e.id(e.admin("POST", acme+"/groups", groupBody(`"name":"Team","maxUsers":2,"maxLicenses":2,"maxMachines":1`)))
		otherID := e.id(e.admin("POST", acme+"/groups", groupBody(`"name":"Other"`)))

		// Users: created in the group up to its limit; users may not pick one.
		userIn := func(email, rel string) *response {
			return e.admin("POST", acme+"/users", `{"data":{"type":"users","attributes":{"email":"`+email+`"},"relationships":{`+rel+`}}}`)
		}
		owner := userIn("owner@acme.test", groupRel(groupID))
		if owner.status != 201 {
			t.Fatalf("user in group: %d %s", owner.status, owner.body)
		}
		ownerID := e.id(owner)
		rel := data(t, owner)["relationships"].(map[string]any)["group"].(map[string]any)
		if rel["data"].(map[string]any)["id"] != groupID || rel["links"].(map[string]any)["related"] != "/v1/accounts/"+e.acct.Account.ID+"/users/"+ownerID+"/group" {
			t.Fatalf("user group relationship: %v", rel)
		}
		if r := userIn("null@acme.test", `"group":{"data":null}`); r.status != 201 || data(t, r)["relationships"].(map[string]any)["group"].(map[string]any)["data"] != nil {
			t.Fatalf("user with null group: %d %s", r.status, r.body)
		}
		e.id(userIn("second@acme.test", groupRel(groupID)))
		userIn("third@acme.test", groupRel(groupID)).expectError(t, 422, "GROUP_USER_LIMIT_EXCEEDED", "pointer", "/data/relationships/group")
		userIn("fourth@acme.test", groupRel(e.acct.Account.ID)).expectError(t, 422, "GROUP_NOT_FOUND", "pointer", "/data/relationships/group")
		e.do("POST", acme+"/licenses", `{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"`+b.policyID+`"}},"owner":{"data":{"type":"users","id":"`+b.userID+`"}},`+groupRel(groupID)+`}}}`, bearer(b.user)).
			expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/relationships/group")

		// Licenses: the owner's group is inherited; the limit holds there too.
		licenseIn := func(rels string) *response {
			return e.admin("POST", acme+"/licenses", `{"data":{"type":"licenses","relationships":{"policy":{"data":{"type":"policies","id":"`+b.policyID+`"}}`+rels+`}}}`)
		}
		inherited := licenseIn(`,"owner":{"data":{"type":"users","id":"` + ownerID + `"}}`)
		if inherited.status != 201 || data(t, inherited)["relationships"].(map[string]any)["group"].(map[string]any)["data"].(map[string]any)["id"] != groupID {
			t.Fatalf("license inherits its owner's group: %d %s", inherited.status, inherited.body)
		}
		inheritedID := e.id(inherited)
		if users := data(t, inherited)["relationships"].(map[string]any)["users"].(map[string]any)["meta"].(map[string]any)["count"]; users != 1.0 {
			t.Fatalf("the license's user count (its owner): %v", users)
		}
		secondID := e.id(licenseIn("," + groupRel(groupID)))
		licenseIn(","+groupRel(groupID)).expectError(t, 422, "GROUP_LICENSE_LIMIT_EXCEEDED", "pointer", "/data/relationships/group")
		outsideID := e.id(licenseIn("," + groupRel(otherID)))

		// Machines: the license's group is inherited, within the limit.
		key := attrs(t, e.admin("GET", acme+"/licenses/"+inheritedID, ""))["key"].(string)
		made := e.admin("POST", acme+"/machines", machineBody(inheritedID, `"fingerprint":"fp-g1"`))
		if made.status != 201 || data(t, made)["relationships"].(map[string]any)["group"].(map[string]any)["data"].(map[string]any)["id"] != groupID {
			t.Fatalf("machine inherits its license's group: %d %s", made.status, made.body)
		}
		machineID := e.id(made)
		e.admin("POST", acme+"/machines", machineBody(secondID, `"fingerprint":"fp-g2"`)).expectError(t, 422, "GROUP_MACHINE_LIMIT_EXCEEDED", "pointer", "/data/relationships/group")
		withGroup := `{"data":{"type":"machines","attributes":{"fingerprint":"fp-g3"},"relationships":{"license":{"data":{"type":"licenses","id":"` + outsideID + `"}},` + groupRel(otherID) + `}}}`
		outsideKey := attrs(t, e.admin("GET", acme+"/licenses/"+outsideID, ""))["key"].(string)
		e.do("POST", acme+"/machines", withGroup, header{"Authorization", "License " + outsideKey}).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/data/relationships/group")
		if r := e.admin("POST", acme+"/machines", withGroup); r.status != 201 || data(t, r)["relationships"].(map[string]any)["group"].(map[string]any)["data"].(map[string]any)["id"] != otherID {
			t.Fatalf("machine in a given group: %d %s", r.status, r.body)
		}

		// Filters: group= on the three indexes.
		if n := len(list(t, e.admin("GET", acme+"/licenses?group="+groupID, ""))); n != 2 {
			t.Fatalf("licenses of the group: %d", n)
		}
		if n := len(list(t, e.admin("GET", acme+"/users?group="+groupID, ""))); n != 2 {
			t.Fatalf("users of the group: %d", n)
		}
		if n := len(list(t, e.admin("GET", acme+"/machines?group="+otherID, ""))); n != 1 {
			t.Fatalf("machines of the other group: %d", n)
		}
		e.admin("GET", acme+"/licenses?group=x", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "group")

		// Member routes: admin sees all; a product its own.
		groups := acme + "/groups/" + groupID
		if n := len(list(t, e.admin("GET", groups+"/licenses", ""))); n != 2 {
			t.Fatalf("group licenses: %d", n)
		}
		if r := e.admin("GET", groups+"/licenses/"+inheritedID, ""); r.status != 200 || data(t, r)["id"] != inheritedID {
			t.Fatalf("group license: %d %s", r.status, r.body)
		}
		e.admin("GET", groups+"/licenses/"+outsideID, "").expectError(t, 404, "NOT_FOUND")
		if r := e.admin("GET", groups+"/machines/fp-g1", ""); r.status != 200 || data(t, r)["id"] != machineID {
			t.Fatalf("group machine by fingerprint: %d %s", r.status, r.body)
		}
		if n := len(list(t, e.do("GET", groups+"/machines", "", bearer(b.product)))); n != 1 {
			t.Fatalf("product's group machines: %d", n)
		}
		if r := e.admin("GET", groups+"/users/owner@acme.test", ""); r.status != 200 || data(t, r)["id"] != ownerID {
			t.Fatalf("group user by email: %d %s", r.status, r.body)
		}
		e.admin("GET", groups+"/users/"+b.userID, "").expectError(t, 404, "NOT_FOUND")

		// A member that does not own the group: 403; an outsider: 404; an
		// owner: every member.
		ownerToken := e.rawToken(e.admin("POST", acme+"/users/"+ownerID+"/tokens", ""))
		e.do("GET", groups+"/licenses", "", bearer(ownerToken)).expectError(t, 403, "ACCESS_DENIED")
		e.do("GET", groups+"/licenses", "", bearer(b.user)).expectError(t, 404, "NOT_FOUND")
		e.do("GET", groups+"/machines", "", header{"Authorization", "License " + key}).expectError(t, 403, "ACCESS_DENIED")
		attached := e.admin("POST", groups+"/owners", userLinkages(b.userID))
		ownerRecord := list(t, attached)[0].(map[string]any)["id"].(string)
		if n := len(list(t, e.do("GET", groups+"/licenses", "", bearer(b.user)))); n != 2 {
			t.Fatalf("owner's group licenses: %d", n)
		}
		if r := e.do("GET", groups+"/machines/"+machineID, "", bearer(b.user)); r.status != 200 {
			t.Fatalf("owner's group machine: %d %s", r.status, r.body)
		}
		if n := len(list(t, e.do("GET", groups+"/users", "", bearer(b.user)))); n != 2 {
			t.Fatalf("owner's group users: %d", n)
		}
		// ... but not on the main indexes, as Keygen's LicensePolicy.
		e.do("GET", acme+"/licenses/"+inheritedID, "", bearer(b.user)).expectError(t, 404, "NOT_FOUND")

		// Owners: shown by their id to members and owners.
		if r := e.do("GET", groups+"/owners/"+ownerRecord, "", bearer(ownerToken)); r.status != 200 || data(t, r)["type"] != "group-owners" {
			t.Fatalf("group owner: %d %s", r.status, r.body)
		}
		e.admin("GET", acme+"/groups/"+otherID+"/owners/"+ownerRecord, "").expectError(t, 404, "NOT_FOUND")

		// Every link of members' documents resolves, their group's included.
		e.resolveLinks(t, e.admin("GET", acme+"/users/"+ownerID, ""), e.admin("GET", acme+"/licenses/"+inheritedID, ""), e.admin("GET", acme+"/machines/"+machineID, ""))

		// PATCH changes a member's group as PUT does.
		if r := e.admin("PATCH", acme+"/licenses/"+outsideID+"/group", groupLinkage("")); r.status != 200 {
			t.Fatalf("patch group: %d %s", r.status, r.body)
		}
	})
}
