package httpapi_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/testenv"
)

// eventLog returns "event resource-type/resource-id" for every event of
// the account, oldest first, read through GET /event-logs.
func (e *env) eventLog() []string {
	e.t.Helper()
	r := e.admin("GET", "/v1/accounts/acme/event-logs?page[number]=1&page[size]=100", "")
	if r.status != 200 {
		e.t.Fatalf("event log: %d %s", r.status, r.body)
	}
	var got []string
	for _, item := range list(e.t, r) {
		ev := item.(map[string]any)
		res := ev["relationships"].(map[string]any)["resource"].(map[string]any)["data"].(map[string]any)
		got = append(got, fmt.Sprintf("%s %s/%s", ev["attributes"].(map[string]any)["event"], res["type"], res["id"]))
	}
	slices.Reverse(got)
	return got
}

// eventsOf is the event log's entries whose event starts with prefix.
func (e *env) eventsOf(prefix string) []string {
	e.t.Helper()
	var got []string
	for _, ev := range e.eventLog() {
		if strings.HasPrefix(ev, prefix) {
			got = append(got, ev)
		}
	}
	return got
}

// eventNames is the names of the event log's entries whose event starts
// with prefix, oldest first.
func (e *env) eventNames(prefix string) []string {
	e.t.Helper()
	var got []string
	for _, ev := range e.eventsOf(prefix) {
		got = append(got, strings.Fields(ev)[0])
	}
	return got
}

// awaitEvents waits for n entries starting with prefix, recorded off the
// request path, and returns them sorted.
func (e *env) awaitEvents(t *testing.T, prefix string, n int) []string {
	t.Helper()
	var got []string
	eventually(t, fmt.Sprintf("%d %s events in the log", n, prefix), func() bool {
		got = e.eventsOf(prefix)
		return len(got) >= n
	})
	slices.Sort(got)
	return got
}

func TestEveryActionEmitsItsEventOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		policyID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(productID, `"name":"Std"`)))
		licenseID := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))
		// A change the rules refuse, half-way into its transaction: no event.
		e.admin("DELETE", "/v1/accounts/acme/policies/"+policyID, "").expectError(t, 422, "POLICY_IN_USE")
		e.admin("PATCH", "/v1/accounts/acme/products/"+productID, `{"data":{"type":"products","attributes":{"name":"App 2"}}}`)
		e.admin("PATCH", "/v1/accounts/acme/policies/"+policyID, `{"data":{"type":"policies","attributes":{"name":"Std 2"}}}`)
		e.admin("PATCH", "/v1/accounts/acme/licenses/"+licenseID, `{"data":{"type":"licenses","attributes":{"name":"L"}}}`)
		// Bad input changes nothing and emits nothing.
		e.admin("PATCH", "/v1/accounts/acme/products/"+productID, `{"data":{"type":"products","attributes":{"name":""}}}`).expectError(t, 422, "NAME_MISSING")
		if r := e.admin("DELETE", "/v1/accounts/acme/licenses/"+licenseID, ""); r.status != 204 {
			t.Fatalf("delete license: %d %s", r.status, r.body)
		}
		revokedID := e.id(e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(policyID, "")))
		if r := e.admin("DELETE", "/v1/accounts/acme/licenses/"+revokedID+"/actions/revoke", ""); r.status != 204 {
			t.Fatalf("revoke license: %d %s", r.status, r.body)
		}
		userID := e.id(e.admin("POST", "/v1/accounts/acme/users", userBody("customer@acme.test", "user")))
		e.admin("PATCH", "/v1/accounts/acme/users/"+userID, `{"data":{"type":"users","attributes":{"firstName":"Ada"}}}`)
		e.admin("POST", "/v1/accounts/acme/users/"+userID+"/actions/ban", "")
		e.admin("POST", "/v1/accounts/acme/users/"+userID+"/actions/unban", "")
		entitlementID := e.id(e.admin("POST", "/v1/accounts/acme/entitlements", `{"data":{"type":"entitlements","attributes":{"name":"Pro","code":"PRO"}}}`))
		e.admin("PATCH", "/v1/accounts/acme/entitlements/"+entitlementID, `{"data":{"type":"entitlements","attributes":{"name":"Pro 2"}}}`)
		groupID := e.id(e.admin("POST", "/v1/accounts/acme/groups", `{"data":{"type":"groups","attributes":{"name":"Team"}}}`))
		e.admin("PATCH", "/v1/accounts/acme/groups/"+groupID, `{"data":{"type":"groups","attributes":{"maxUsers":0}}}`).expectError(t, 422, "MAX_USERS_INVALID")
		e.admin("PATCH", "/v1/accounts/acme/groups/"+groupID, `{"data":{"type":"groups","attributes":{"name":"Team 2"}}}`)
		// The last admin stays: refused inside the transaction, no event.
		e.admin("DELETE", "/v1/accounts/acme/users/"+e.acct.Admin.ID, "").expectError(t, 422, "ADMINS_REQUIRED")
		for _, path := range []string{"/policies/" + policyID, "/products/" + productID, "/users/" + userID, "/entitlements/" + entitlementID, "/groups/" + groupID} {
			if r := e.admin("DELETE", "/v1/accounts/acme"+path, ""); r.status != 204 {
				t.Fatalf("delete %s: %d %s", path, r.status, r.body)
			}
		}
		want := []string{
			"product.created products/" + productID,
			"policy.created policies/" + policyID,
			"license.created licenses/" + licenseID,
			"product.updated products/" + productID,
			"policy.updated policies/" + policyID,
			"license.updated licenses/" + licenseID,
			"license.deleted licenses/" + licenseID,
			"license.created licenses/" + revokedID,
			"license.revoked licenses/" + revokedID,
			"user.created users/" + userID,
			"user.updated users/" + userID,
			"user.banned users/" + userID,
			"user.unbanned users/" + userID,
			"entitlement.created entitlements/" + entitlementID,
			"entitlement.updated entitlements/" + entitlementID,
			"group.created groups/" + groupID,
			"group.updated groups/" + groupID,
			"policy.deleted policies/" + policyID,
			"product.deleted products/" + productID,
			"user.deleted users/" + userID,
			"entitlement.deleted entitlements/" + entitlementID,
			"group.deleted groups/" + groupID,
		}
		if got := e.eventLog(); !slices.Equal(got, want) {
			t.Fatalf("events:\n%v\nwant:\n%v", got, want)
		}
		ordered, hot := partsAndRelationships(t, e)
		want = append(want, ordered...)
		got := e.eventLog()
		if synchronous := withoutBuffered(slices.Clone(got)); !slices.Equal(synchronous, want) {
			t.Fatalf("events:\n%v\nwant:\n%v", strings.Join(synchronous, "\n"), strings.Join(want, "\n"))
		}
		eventually(t, "the buffered events", func() bool { got = e.eventLog(); return len(bufferedOf(got)) >= len(hot) })
		if got := bufferedOf(got); !slices.Equal(got, hot) {
			t.Fatalf("buffered events %v, want %v", got, hot)
		}
	})
}

func TestEventLogEntry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		created := e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`))
		productID := e.id(created)
		r := e.admin("GET", "/v1/accounts/acme/event-logs?events[]=product.created", "")
		entries := list(t, r)
		if len(entries) != 1 {
			t.Fatalf("filtered log: %s", r.body)
		}
		entry := entries[0].(map[string]any)
		rel := entry["relationships"].(map[string]any)
		who := rel["whodunnit"].(map[string]any)["data"].(map[string]any)
		req := rel["request"].(map[string]any)["data"].(map[string]any)
		if entry["type"] != "event-logs" || who["type"] != "users" || who["id"] != e.acct.Admin.ID || req["id"] != created.header.Get("X-Request-Id") {
			t.Fatalf("entry: %v", entry)
		}
		shown := e.admin("GET", "/v1/accounts/acme/event-logs/"+entry["id"].(string), "")
		if shown.status != 200 || data(t, shown)["id"] != entry["id"] {
			t.Fatalf("show: %d %s", shown.status, shown.body)
		}
		e.admin("GET", "/v1/accounts/acme/event-logs/00000000-0000-0000-0000-000000000000", "").expectError(t, 404, "NOT_FOUND")
		e.admin("GET", "/v1/accounts/acme/event-logs?date[start]=yesterday", "").expectError(t, 400, "PARAMETERS_INVALID", "parameter", "date[start]")
		for _, q := range []string{"resource[type]=products&resource[id]=" + productID, "whodunnit[type]=users&whodunnit[id]=" + e.acct.Admin.ID,
			"request=" + created.header.Get("X-Request-Id"), "date[start]=2000-01-01T00:00:00Z"} {
			if n := len(list(t, e.admin("GET", "/v1/accounts/acme/event-logs?"+q, ""))); n != 1 {
				t.Errorf("?%s: %d entries, want 1", q, n)
			}
		}
		if n := len(list(t, e.admin("GET", "/v1/accounts/acme/event-logs?resource[type]=licenses", ""))); n != 0 {
			t.Errorf("licenses: %d entries, want 0", n)
		}
	})
}

func TestValidationEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		licenseID, key := e.licensed(`"name":"Std"`)
		e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"`+key+`"}}`)
		e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"`+key+`","scope":{"fingerprint":"nope"}}}`)
		// Unknown keys name no license: no event.
		e.do("POST", "/v1/accounts/acme/licenses/actions/validate-key", `{"meta":{"key":"unknown"}}`)
		want := []string{"license.validation.succeeded licenses/" + licenseID, "license.validation.failed licenses/" + licenseID}
		got := e.awaitEvents(t, "license.validation.", len(want))
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("validation events %v, want %v", got, want)
		}
	})
}

func TestMachineEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		licenseID, key := e.licensed(`"name":"Std","authenticationStrategy":"LICENSE"`)
		licenseAuth := header{"Authorization", "License " + key}
		machineID := e.id(e.do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"fp-1"`), licenseAuth))
		// Over the machine limit: refused inside the transaction, no event.
		e.do("POST", "/v1/accounts/acme/machines", machineBody(licenseID, `"fingerprint":"fp-1"`), licenseAuth).expectError(t, 422, "FINGERPRINT_TAKEN")
		e.admin("PATCH", "/v1/accounts/acme/machines/"+machineID, `{"data":{"type":"machines","attributes":{"name":"Box"}}}`)
		if r := e.admin("DELETE", "/v1/accounts/acme/machines/"+machineID, ""); r.status != 204 {
			t.Fatalf("deactivate: %d %s", r.status, r.body)
		}
		want := []string{"machine.created machines/" + machineID, "machine.deleted machines/" + machineID, "machine.updated machines/" + machineID}
		if got := e.awaitEvents(t, "machine.", len(want)); !slices.Equal(got, want) {
			t.Fatalf("machine events %v, want %v", got, want)
		}
	})
}

func TestLicenseActionEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		licenseID, _ := e.licensed(`"name":"Std","duration":2592000,"requireCheckIn":true,"checkInInterval":"day","checkInIntervalCount":1,"maxUses":10`)
		actions := []struct{ action, event string }{
			{"suspend", "license.suspended"},
			{"reinstate", "license.reinstated"},
			{"renew", "license.renewed"},
			{"check-in", "license.checked-in"},
			{"increment-usage", "license.usage.incremented"},
			{"decrement-usage", "license.usage.decremented"},
			{"reset-usage", "license.usage.reset"},
		}
		want := []string{"license.created licenses/" + licenseID}
		for _, a := range actions {
			if r := e.admin("POST", "/v1/accounts/acme/licenses/"+licenseID+"/actions/"+a.action, ""); r.status != 200 {
				t.Fatalf("%s: %d %s", a.action, r.status, r.body)
			}
			want = append(want, a.event+" licenses/"+licenseID)
		}
		// Refused: reinstating a license that is not suspended, decrementing below 0.
		e.admin("POST", "/v1/accounts/acme/licenses/"+licenseID+"/actions/reinstate", "").expectError(t, 422, "SUSPENDED_INVALID")
		e.admin("POST", "/v1/accounts/acme/licenses/"+licenseID+"/actions/decrement-usage", "")
		got := e.eventsOf("license.")
		if !slices.Equal(got, want) {
			t.Fatalf("license events:\n%v\nwant:\n%v", got, want)
		}
	})
}

func TestReleaseEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		productID := e.id(e.admin("POST", "/v1/accounts/acme/products", productBody(`"name":"App"`)))
		releaseID := e.id(e.admin("POST", "/v1/accounts/acme/releases", releaseBody(productID, `"channel":"stable","version":"1.0.0"`)))
		// The same version again: refused inside the transaction, no event.
		if r := e.admin("POST", "/v1/accounts/acme/releases", releaseBody(productID, `"channel":"stable","version":"1.0.0"`)); r.status != 422 {
			t.Fatalf("duplicate version: %d %s", r.status, r.body)
		}
		e.admin("PATCH", "/v1/accounts/acme/releases/"+releaseID, `{"data":{"type":"releases","attributes":{"name":"One"}}}`)
		for _, action := range []string{"publish", "yank"} {
			if r := e.admin("POST", "/v1/accounts/acme/releases/"+releaseID+"/actions/"+action, ""); r.status != 200 {
				t.Fatalf("%s: %d %s", action, r.status, r.body)
			}
		}
		if r := e.admin("DELETE", "/v1/accounts/acme/releases/"+releaseID, ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		got := e.eventsOf("release.")
		var want []string
		for _, name := range []string{"created", "updated", "published", "yanked", "deleted"} {
			want = append(want, "release."+name+" releases/"+releaseID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("release events:\n%v\nwant:\n%v", got, want)
		}
	})
}

func TestLicenseExpiryEventsOncePerOccurrence(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		licenseID, _ := e.licensed(`"name":"Daily","duration":86400`)
		reminders := license.NewReminders(e.app.DB, e.app.Outbox)
		ctx, now := context.Background(), time.Now()
		expiryEvents := func() []string { return e.eventNames("license.exp") }
		// Two replicas' passes at once, then again later the same day: one reminder.
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if _, err := reminders.Pass(ctx, now); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if _, err := reminders.Pass(ctx, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got := expiryEvents(); !slices.Equal(got, []string{"license.expiring-soon"}) {
			t.Fatalf("before the expiry: %v", got)
		}
		for _, at := range []time.Duration{25 * time.Hour, 26 * time.Hour, 40 * time.Hour} {
			if _, err := reminders.Pass(ctx, now.Add(at)); err != nil {
				t.Fatal(err)
			}
		}
		if got := expiryEvents(); !slices.Equal(got, []string{"license.expiring-soon", "license.expired"}) {
			t.Fatalf("after the expiry: %v", got)
		}
		// Renewed: a new expiry is a new occurrence.
		e.admin("POST", "/v1/accounts/acme/licenses/"+licenseID+"/actions/renew", "")
		if _, err := reminders.Pass(ctx, now.Add(47*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got := expiryEvents(); !slices.Equal(got, []string{"license.expiring-soon", "license.expired", "license.expiring-soon"}) {
			t.Fatalf("after a renewal: %v", got)
		}
	})
}

func TestLicenseCheckInRemindersOncePerOccurrence(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		licenseID, _ := e.licensed(`"name":"Daily check-in","requireCheckIn":true,"checkInInterval":"day","checkInIntervalCount":4`)
		reminders := license.NewReminders(e.app.DB, e.app.Outbox)
		ctx, now := context.Background(), time.Now()
		checkInEvents := func() []string { return e.eventNames("license.check") }
		pass := func(at time.Duration) {
			t.Helper()
			if _, err := reminders.Pass(ctx, now.Add(at)); err != nil {
				t.Fatal(err)
			}
		}
		// Four days to go: nothing yet. Then one reminder per day left,
		// whichever replicas' passes run how often.
		pass(0)
		if got := checkInEvents(); len(got) != 0 {
			t.Fatalf("four days before: %v", got)
		}
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() { pass(36 * time.Hour) })
		}
		wg.Wait()
		pass(37 * time.Hour)
		pass(80 * time.Hour)
		soon := []string{"license.check-in-required-soon", "license.check-in-required-soon"}
		if got := checkInEvents(); !slices.Equal(got, soon) {
			t.Fatalf("before the check-in: %v", got)
		}
		// Overdue: once, within 12 hours of it.
		for _, at := range []time.Duration{97 * time.Hour, 100 * time.Hour, 120 * time.Hour} {
			pass(at)
		}
		overdue := append(slices.Clone(soon), "license.check-in-overdue")
		if got := checkInEvents(); !slices.Equal(got, overdue) {
			t.Fatalf("after the check-in was due: %v", got)
		}
		// A check-in moves the next one: new occurrences.
		if r := e.admin("POST", "/v1/accounts/acme/licenses/"+licenseID+"/actions/check-in", ""); r.status != 200 {
			t.Fatalf("check-in: %d %s", r.status, r.body)
		}
		pass(80 * time.Hour)
		if got := checkInEvents(); !slices.Equal(got, append(overdue, "license.checked-in", "license.check-in-required-soon")) {
			t.Fatalf("after a check-in: %v", got)
		}
	})
}
