package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/internal/totp"
)

// otpBody is a request document whose meta carries the code.
func otpBody(data, code string) string {
	if data == "" {
		return `{"meta":{"otp":"` + code + `"}}`
	}
	return `{"data":` + data + `,"meta":{"otp":"` + code + `"}}`
}

func enabledData(typ string, enabled bool) string {
	v := "false"
	if enabled {
		v = "true"
	}
	return `{"type":"` + typ + `","attributes":{"enabled":` + v + `}}`
}

// code is the factor's code at the env's time.
func (e *env) code(secret string) string {
	e.t.Helper()
	c, err := totp.Code(secret, totp.Counter(e.clock.Now()))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// wrongCode is a code that is not secret's now nor in the drift before it.
func (e *env) wrongCode(secret string) string {
	for _, c := range []string{"000000", "111111", "222222"} {
		prev, _ := totp.Code(secret, totp.Counter(e.clock.Now())-1)
		if c != e.code(secret) && c != prev {
			return c
		}
	}
	panic("unreachable")
}

// TestSecondFactorLifecycle follows Keygen's second_factors.feature and
// tokens/generate.feature: a factor is created with the password, shows
// its secret until a first code enables it, is then asked for at password
// sign-in, and is deleted with a code.
func TestSecondFactorLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		e := newEnv(t, be)
		// 15 seconds into a step: the previous step's code is past the drift.
		e.advance(time.Duration(45-e.clock.Now().Unix()%30) * time.Second)
		b := e.seedBearers()
		adminID := e.acct.Admin.ID
		factors := "/v1/accounts/acme/users/" + adminID + "/second-factors"

		if got := list(t, e.admin("GET", factors, "")); len(got) != 0 {
			t.Fatalf("a user without a factor lists %d", len(got))
		}
		e.admin("POST", factors, "").expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/meta")
		e.admin("POST", factors, `{"meta":{"password":"h4x0r"}}`).expectError(t, 401, "PASSWORD_INVALID", "pointer", "/meta/password")
		created := e.admin("POST", factors, `{"meta":{"password":"password-acme"}}`)
		if created.status != 201 {
			t.Fatalf("create: %d %s", created.status, created.body)
		}
		a, factorID := attrs(t, created), e.id(created)
		secret, _ := a["secret"].(string)
		if a["enabled"] != false || len(secret) != 32 || !strings.HasPrefix(a["uri"].(string), "otpauth://totp/relkey:admin@acme.test?") ||
			!strings.Contains(a["uri"].(string), "secret="+secret) || created.header.Get("Location") != "/v1/accounts/"+e.acct.Account.ID+"/users/"+adminID+"/second-factors/"+factorID {
			t.Fatalf("created factor: %s %v", created.body, created.header)
		}
		factor := factors + "/" + factorID
		if r := e.admin("GET", factor, ""); r.status != 200 || attrs(t, r)["secret"] != secret {
			t.Fatalf("a factor not yet enabled shows its secret: %d %s", r.status, r.body)
		}
		// While no factor is enabled, sign-in needs no code.
		e.rawToken(e.do("POST", "/v1/accounts/acme/tokens", "", basic("admin@acme.test", "password-acme")))

		// Enabling takes a code of the factor.
		e.admin("PATCH", factor, `{"data":`+enabledData("second_factor", true)+`}`).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/meta")
		e.admin("PATCH", factor, otpBody(enabledData("second-factor", true), e.wrongCode(secret))).expectError(t, 401, "OTP_INVALID", "pointer", "/meta/otp")
		enabled := e.admin("PATCH", factor, otpBody(enabledData("secondFactors", true), e.code(secret)))
		if enabled.status != 200 || attrs(t, enabled)["enabled"] != true {
			t.Fatalf("enable: %d %s", enabled.status, enabled.body)
		}
		for _, r := range []*response{enabled, e.admin("GET", factor, ""), e.admin("GET", factors, "")} {
			if strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), `"uri"`) {
				t.Fatalf("an enabled factor shows its secret: %s", r.body)
			}
		}

		// Password sign-in now takes the code too (tokens/generate.feature).
		e.advance(time.Minute)
		tokens := "/v1/accounts/acme/tokens"
		e.do("POST", tokens, "", basic("admin@acme.test", "password-acme")).expectError(t, 401, "OTP_REQUIRED", "pointer", "/meta/otp")
		e.do("POST", tokens, `{"meta":{"otp":"`+e.wrongCode(secret)+`"}}`, basic("admin@acme.test", "password-acme")).expectError(t, 401, "OTP_INVALID", "pointer", "/meta/otp")
		e.advance(totp.Step)
		good := e.code(secret)
		tok := e.do("POST", tokens, `{"meta":{"otp":"`+good+`"}}`, basic("admin@acme.test", "password-acme"))
		if tok.status != 201 || attrs(t, tok)["kind"] != "admin-token" {
			t.Fatalf("sign-in with the code: %d %s", tok.status, tok.body)
		}
		// A code works once, even within its step.
		e.do("POST", tokens, `{"meta":{"otp":"`+good+`"}}`, basic("admin@acme.test", "password-acme")).expectError(t, 401, "OTP_INVALID")
		e.advance(totp.Step)
		e.do("POST", tokens, `{"meta":{"otp":"`+e.code(secret)+`"}}`, basic("admin@acme.test", "wrong")).expectError(t, 401, "PASSWORD_INVALID")

		// A second factor while one is enabled: a code, not the password.
		e.admin("POST", factors, `{"meta":{"password":"password-acme"}}`).expectError(t, 401, "OTP_INVALID", "pointer", "/meta/otp")

		// Others may not see or change the admin's factors.
		e.do("GET", factors, "", bearer(b.user)).expectError(t, 404, "NOT_FOUND")
		e.do("GET", factors, "", bearer(b.product)).expectError(t, 404, "NOT_FOUND")

		// Deleting an enabled factor takes its code (past the attempts' window).
		e.advance(time.Minute)
		e.admin("DELETE", factor, otpBody("", e.wrongCode(secret))).expectError(t, 401, "OTP_INVALID", "pointer", "/meta/otp")
		if r := e.admin("DELETE", factor, otpBody("", e.code(secret))); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		e.rawToken(e.do("POST", tokens, "", basic("admin@acme.test", "password-acme")))
		e.admin("GET", factor, "").expectError(t, 404, "NOT_FOUND")

		// A user manages its own factor; other staff than admins may not (403),
		// a product that does not see the user gets 404.
		userFactors := "/v1/accounts/acme/users/" + b.userID + "/second-factors"
		e.do("POST", userFactors, `{"meta":{"password":"password-123"}}`, bearer(b.readOnly)).expectError(t, 403, "ACCESS_DENIED")
		e.do("POST", userFactors, `{"meta":{"password":"password-123"}}`, bearer(b.product)).expectError(t, 404, "NOT_FOUND")
		own := e.do("POST", userFactors, `{"meta":{"password":"password-123"}}`, bearer(b.user))
		ownID, ownSecret := e.id(own), attrs(t, own)["secret"].(string)
		e.do("POST", userFactors, `{"meta":{"password":"password-123"}}`, bearer(b.user)).expectError(t, 409, "CONFLICT")
		e.do("GET", userFactors+"/"+ownID, "", bearer(b.readOnly)).expectError(t, 403, "ACCESS_DENIED")
		if r := e.do("PATCH", userFactors+"/"+ownID, otpBody(enabledData("second-factors", true), e.code(ownSecret)), bearer(b.user)); r.status != 200 {
			t.Fatalf("a user enables its factor: %d %s", r.status, r.body)
		}
		e.advance(time.Minute)
		if r := e.do("PATCH", userFactors+"/"+ownID, otpBody(enabledData("second-factors", false), e.code(ownSecret)), bearer(b.user)); r.status != 200 || attrs(t, r)["enabled"] != false || attrs(t, r)["secret"] != ownSecret {
			t.Fatalf("a user disables its factor: %d %s", r.status, r.body)
		}
		// Disabled: deleting needs no code.
		if r := e.do("DELETE", userFactors+"/"+ownID, "", bearer(b.user)); r.status != 204 {
			t.Fatalf("delete a disabled factor: %d %s", r.status, r.body)
		}

		want := []string{
			"second-factor.created second-factors/" + factorID, "second-factor.enabled second-factors/" + factorID,
			"second-factor.deleted second-factors/" + factorID, "second-factor.created second-factors/" + ownID,
			"second-factor.enabled second-factors/" + ownID, "second-factor.disabled second-factors/" + ownID,
			"second-factor.deleted second-factors/" + ownID,
		}
		if got := e.eventsOf("second-factor."); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, s := range []string{secret, ownSecret} {
			if r := e.admin("GET", "/v1/accounts/acme/event-logs?limit=100", ""); strings.Contains(string(r.body), s) {
				t.Fatal("an event carries a second factor's secret")
			}
			if strings.Contains(e.logs.String(), s) {
				t.Fatal("the log carries a second factor's secret")
			}
		}
	})
}

// TestSecondFactorAttemptsAreRateLimited: codes and passwords offered to
// the second factor routes count 5 a minute per user, as password sign-ins.
func TestSecondFactorAttemptsAreRateLimited(t *testing.T) {
	e := newEnv(t, testenv.Backend{Name: "embedded"})
	factors := "/v1/accounts/acme/users/" + e.acct.Admin.ID + "/second-factors"
	for range 5 {
		e.admin("POST", factors, `{"meta":{"password":"guess"}}`).expectError(t, 401, "PASSWORD_INVALID")
	}
	e.admin("POST", factors, `{"meta":{"password":"password-acme"}}`).expectError(t, 429, "TOO_MANY_REQUESTS")
}
