package httpapi_test

import (
	"sync"
	"testing"

	"github.com/relkey/relkey/internal/testenv"
)

func keyBody(policyID, key string) string {
	return `{"data":{"type":"keys","attributes":{"key":"` + key + `"},"relationships":{"policy":{"data":{"type":"policies","id":"` + policyID + `"}}}}}`
}

// TestPooledKeys walks Keygen's keys and pool features: keys only in
// pooled policies, licenses taking the oldest key, POLICY_POOL_EMPTY, the
// pool listed and popped, and who may do what.
func TestPooledKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		const acme = "/v1/accounts/acme"
		pooled := e.admin("POST", acme+"/policies", policyBody(b.productID, `"name":"Pooled","usePool":true`))
		if pooled.status != 201 || attrs(t, pooled)["usePool"] != true {
			t.Fatalf("pooled policy: %d %s", pooled.status, pooled.body)
		}
		poolID := e.id(pooled)
		e.admin("POST", acme+"/policies", policyBody(b.productID, `"name":"Bad","usePool":true,"scheme":"ED25519_SIGN"`)).expectError(t, 422, "SCHEME_NOT_SUPPORTED", "pointer", "/data/attributes/scheme")

		e.admin("POST", acme+"/keys", keyBody(b.policyID, "UNPOOLED-KEY-1")).expectError(t, 422, "POLICY_NOT_SUPPORTED", "pointer", "/data/relationships/policy")
		e.admin("POST", acme+"/keys", keyBody(poolID, "short")).expectError(t, 422, "KEY_TOO_SHORT", "pointer", "/data/attributes/key")
		e.admin("POST", acme+"/keys", keyBody(poolID, b.license)).expectError(t, 422, "KEY_CONFLICT", "pointer", "/data/attributes/key")
		e.do("POST", acme+"/keys", keyBody(poolID, "USER-KEY-0001"), bearer(b.user)).expectError(t, 403, "ACCESS_DENIED")
		first := e.admin("POST", acme+"/keys", keyBody(poolID, "POOLED-KEY-0001"))
		if first.status != 201 || attrs(t, first)["key"] != "POOLED-KEY-0001" {
			t.Fatalf("create key: %d %s", first.status, first.body)
		}
		firstID := e.id(first)
		e.admin("POST", acme+"/keys", keyBody(poolID, "POOLED-KEY-0001")).expectError(t, 422, "KEY_TAKEN", "pointer", "/data/attributes/key")
		secondID := e.id(e.do("POST", acme+"/keys", keyBody(poolID, "POOLED-KEY-0002"), bearer(b.product)))
		thirdID := e.id(e.admin("POST", acme+"/keys", keyBody(poolID, "POOLED-KEY-0003")))
		if r := e.admin("PATCH", acme+"/keys/"+thirdID, `{"data":{"type":"keys","attributes":{"key":"POOLED-KEY-0033"}}}`); r.status != 200 || attrs(t, r)["key"] != "POOLED-KEY-0033" {
			t.Fatalf("update key: %d %s", r.status, r.body)
		}

		// Reads: staff and the product; users see no keys.
		if n := len(list(t, e.admin("GET", acme+"/keys?policy="+poolID, ""))); n != 3 {
			t.Fatalf("keys of the policy: %d", n)
		}
		if n := len(list(t, e.do("GET", acme+"/keys", "", bearer(b.product)))); n != 3 {
			t.Fatalf("product's keys: %d", n)
		}
		e.do("GET", acme+"/keys", "", bearer(b.user)).expectError(t, 403, "ACCESS_DENIED")
		e.do("GET", acme+"/keys/"+firstID, "", bearer(b.user)).expectError(t, 404, "NOT_FOUND")
		if r := e.admin("GET", acme+"/keys/"+firstID+"/policy", ""); r.status != 200 || data(t, r)["id"] != poolID {
			t.Fatalf("key's policy: %d %s", r.status, r.body)
		}
		if r := e.admin("GET", acme+"/keys/"+firstID+"/product", ""); r.status != 200 || data(t, r)["id"] != b.productID {
			t.Fatalf("key's product: %d %s", r.status, r.body)
		}
		e.resolveLinks(t, first, pooled)
		pool := list(t, e.admin("GET", acme+"/policies/"+poolID+"/pool", ""))
		if len(pool) != 3 || pool[2].(map[string]any)["id"] != firstID { // newest first, as Keygen lists
			t.Fatalf("pool: %v", pool)
		}
		if r := e.admin("GET", acme+"/policies/"+poolID+"/pool/"+secondID, ""); r.status != 200 {
			t.Fatalf("pool key: %d %s", r.status, r.body)
		}
		e.admin("GET", acme+"/policies/"+b.policyID+"/pool/"+secondID, "").expectError(t, 404, "NOT_FOUND")
		e.do("GET", acme+"/policies/"+poolID+"/pool", "", header{"Authorization", "License " + b.license}).expectError(t, 404, "NOT_FOUND")

		// A license of the pooled policy takes the oldest key; a given key
		// leaves the pool alone.
		made := e.admin("POST", acme+"/licenses", licenseBody(poolID, ""))
		if made.status != 201 || attrs(t, made)["key"] != "POOLED-KEY-0001" {
			t.Fatalf("license from the pool: %d %s", made.status, made.body)
		}
		if r := e.admin("POST", acme+"/licenses", licenseBody(poolID, `"key":"OWN-KEY-00001"`)); r.status != 201 {
			t.Fatalf("license with its own key: %d %s", r.status, r.body)
		}
		e.admin("GET", acme+"/keys/"+firstID, "").expectError(t, 404, "NOT_FOUND")

		// Popping: the oldest key, then 422 once empty or unpooled.
		e.do("DELETE", acme+"/policies/"+poolID+"/pool", "", bearer(b.user)).expectError(t, 404, "NOT_FOUND")
		if r := e.admin("DELETE", acme+"/policies/"+poolID+"/pool", ""); r.status != 200 || data(t, r)["id"] != secondID {
			t.Fatalf("pop: %d %s", r.status, r.body)
		}
		if r := e.admin("DELETE", acme+"/keys/"+thirdID, ""); r.status != 204 {
			t.Fatalf("delete key: %d %s", r.status, r.body)
		}
		e.admin("DELETE", acme+"/policies/"+poolID+"/pool", "").expectError(t, 422, "UNPROCESSABLE_ENTITY", "pointer", "/data/relationships/pool")
		e.admin("DELETE", acme+"/policies/"+b.policyID+"/pool", "").expectError(t, 422, "UNPROCESSABLE_ENTITY", "pointer", "/data/relationships/pool")
		e.admin("POST", acme+"/licenses", licenseBody(poolID, "")).expectError(t, 422, "POLICY_POOL_EMPTY", "pointer", "/data/relationships/policy")

		want := []string{"key.created keys/" + firstID, "key.created keys/" + secondID, "key.created keys/" + thirdID, "key.updated keys/" + thirdID,
			"policy.pool.popped keys/" + secondID, "key.deleted keys/" + thirdID}
		if got := append(e.eventsOf("key."), e.eventsOf("policy.pool")...); len(got) != len(want) {
			t.Fatalf("events %v, want %v", got, want)
		}
	})
}

// TestPoolUnderConcurrency creates licenses from a pool of three at once:
// each key goes to exactly one license, the rest find the pool empty.
func TestPoolUnderConcurrency(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		b := e.seedBearers()
		poolID := e.id(e.admin("POST", "/v1/accounts/acme/policies", policyBody(b.productID, `"name":"Pooled","usePool":true`)))
		for _, k := range []string{"POOL-CONC-0001", "POOL-CONC-0002", "POOL-CONC-0003"} {
			e.id(e.admin("POST", "/v1/accounts/acme/keys", keyBody(poolID, k)))
		}
		const n = 6
		statuses, keys := make([]int, n), make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				r := e.admin("POST", "/v1/accounts/acme/licenses", licenseBody(poolID, ""))
				statuses[i] = r.status
				if r.status == 201 {
					keys[i] = attrs(t, r)["key"].(string)
				}
			})
		}
		wg.Wait()
		seen := map[string]bool{}
		for i, s := range statuses {
			switch s {
			case 201:
				if seen[keys[i]] {
					t.Fatalf("key %s given twice: %v", keys[i], keys)
				}
				seen[keys[i]] = true
			case 422:
			default:
				t.Fatalf("status %d among %v", s, statuses)
			}
		}
		if len(seen) != 3 {
			t.Fatalf("%d keys given out of a pool of three: %v", len(seen), statuses)
		}
	})
}
