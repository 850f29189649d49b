package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/secondfactor"
	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/internal/totp"
)

// TestLoginAsksForTheSecondFactor: once the admin has a second factor
// enabled, sign-in asks for its code, with the API's rules (OTP before
// the password, each code once).
func TestLoginAsksForTheSecondFactor(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := newSite(t, b)
		s.app.SecondFactors.SetClock(s.clock.Now) // before any request
		ctx, op := context.Background(), access.Operator(s.tenant.ID)
		pw := "password-acme"
		f, err := s.app.SecondFactors.Create(ctx, op, s.tenant, "admin@acme.test", secondfactor.Credentials{Password: &pw})
		if err != nil {
			t.Fatal(err)
		}
		code := func() string {
			c, _ := totp.Code(f.Secret, totp.Counter(s.clock.Now()))
			return c
		}
		first := code()
		if _, err := s.app.SecondFactors.Update(ctx, op, s.tenant, "admin@acme.test", f.ID, true, &first); err != nil {
			t.Fatal(err)
		}
		s.clock.Advance(totp.Step)

		br := s.browser()
		form := url.Values{"email": {"admin@acme.test"}, "password": {pw}}
		p := br.post("/console/acme/login", form)
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, `name="otp"`) || !strings.Contains(p.body, "second factor is required") ||
			p.header.Get("Set-Cookie") != "" {
			t.Fatalf("sign-in without a code: %d %s", p.status, p.body)
		}
		form.Set("otp", "12345x")
		if p := br.post("/console/acme/login", form); p.status != http.StatusUnauthorized || !strings.Contains(p.body, "second factor must be valid") ||
			!strings.Contains(p.body, `name="otp"`) {
			t.Fatalf("sign-in with a wrong code: %d %s", p.status, p.body)
		}
		form.Set("otp", code())
		if p := br.post("/console/acme/login", form); p.status != http.StatusSeeOther || !strings.Contains(p.header.Get("Set-Cookie"), "relkey_console=") {
			t.Fatalf("sign-in with the code: %d %s", p.status, p.body)
		}
		// The same code does not sign in twice.
		if p := s.browser().post("/console/acme/login", form); p.status != http.StatusUnauthorized {
			t.Fatalf("a used code signed in again: %d", p.status)
		}
	})
}
