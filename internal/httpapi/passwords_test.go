package httpapi_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/mail"
	"github.com/relkey/relkey/internal/mail/smtptest"
	"github.com/relkey/relkey/internal/testenv"
)

var mailedToken = regexp.MustCompile(`(?m)^    ([0-9a-f]{64})\r?$`)

// TestPasswordResetMail follows Keygen's passwords/reset.feature and the
// reset half of users/actions/password.feature with RELKEY_SMTP_URL set: the
// token is mailed off the request path, and works once.
func TestPasswordResetMail(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be testenv.Backend) {
		srv := smtptest.Start(t, false)
		e := newEnv(t, be, func(c *config.Config) { c.SMTP = &mail.Settings{Host: srv.Addr, From: "keys@acme.test"} })
		e.app.Mail.SetClock(e.clock.Now) // no request has run yet
		b := e.seedBearers()
		worker := e.app.MailWorker()
		pass := func() int {
			t.Helper()
			n, err := worker.Pass(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		passwords := "/v1/accounts/acme/passwords"

		// Unknown emails and deliver:false mail nothing; meta.email is required.
		e.do("POST", passwords, `{"meta":{}}`).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/meta/email")
		for _, body := range []string{`{"meta":{"email":"bad@email.com"}}`, `{"meta":{"email":"customer@acme.test","deliver":false}}`} {
			if r := e.do("POST", passwords, body); r.status != 204 {
				t.Fatalf("%s: %d %s", body, r.status, r.body)
			}
		}
		if n := pass(); n != 0 || len(srv.Mails()) != 0 {
			t.Fatalf("mailed %d", n)
		}

		// The server refuses once: the request still succeeds, the mail
		// waits and goes on a later pass.
		srv.FailNext(1)
		if r := e.do("POST", passwords, `{"meta":{"email":"Customer@ACME.test"}}`); r.status != 204 {
			t.Fatalf("request reset: %d %s", r.status, r.body)
		}
		if n := pass(); n != 0 {
			t.Fatalf("sent %d while the server refuses", n)
		}
		e.advance(time.Minute)
		if n := pass(); n != 1 {
			t.Fatalf("retry sent %d", n)
		}
		mails := srv.Mails()
		if len(mails) != 1 || mails[0].To != "customer@acme.test" || mails[0].From != "keys@acme.test" ||
			!strings.Contains(mails[0].Data, "Subject: Reset your ACME password") {
			t.Fatalf("mails: %+v", mails)
		}
		m := mailedToken.FindStringSubmatch(mails[0].Data)
		if m == nil || !strings.Contains(mails[0].Data, "/users/"+b.userID+"/actions/reset-password") {
			t.Fatalf("no token in %s", mails[0].Data)
		}
		token := m[1]
		if strings.Contains(e.logs.String(), token) {
			t.Fatal("the log carries the reset token")
		}

		// reset-password: 404 for a wrong token, 401 once it expired (24h).
		reset := "/v1/accounts/acme/users/" + b.userID + "/actions/reset-password"
		e.do("POST", reset, `{"meta":{"newPassword":"password-2"}}`).expectError(t, 400, "PARAMETERS_INVALID", "pointer", "/meta/passwordResetToken")
		e.do("POST", reset, `{"meta":{"passwordResetToken":"`+strings.Repeat("0", 64)+`","newPassword":"password-2"}}`).expectError(t, 404, "NOT_FOUND")
		if r := e.do("POST", reset, `{"meta":{"passwordResetToken":"`+token+`","newPassword":"password-2"}}`); r.status != 200 {
			t.Fatalf("reset: %d %s", r.status, r.body)
		}
		// Every token of the user is revoked; the new password signs in.
		e.do("GET", "/v1/accounts/acme/me", "", bearer(b.user)).expectError(t, 401, "TOKEN_INVALID")
		e.rawToken(e.do("POST", "/v1/accounts/acme/tokens", "", basic("customer@acme.test", "password-2")))

		e.do("POST", passwords, `{"meta":{"email":"customer@acme.test"}}`)
		pass()
		late := mailedToken.FindStringSubmatch(srv.Mails()[1].Data)[1]
		e.advance(25 * time.Hour)
		e.do("POST", reset, `{"meta":{"passwordResetToken":"`+late+`","newPassword":"password-3"}}`).expectError(t, 401, "PASSWORD_RESET_TOKEN_EXPIRED", "pointer", "/meta/passwordResetToken")
	})
}
