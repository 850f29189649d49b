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
		if r := e.do("GET", groups+"/"+groupID+"/users", "", bearer(b.user)); r.status != 200 || len(list(t, r)) != 1 || list(t, r)[0].(map[string]any)["id"] != b.userID {
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
