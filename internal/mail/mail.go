// Package mail sends relkey's mail (password reset tokens) over SMTP, off
// the request path: a request writes the message to the mail outbox in its
// own transaction, and a background pass on any replica claims, sends and
// deletes it. Bodies are sealed with the master key while they wait.
package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// Settings is a parsed RELKEY_SMTP_URL:
// smtp://user:pass@host:port?from=relkey@example.com.
type Settings struct {
	Host     string // host:port
	Username string
	Password string
	From     string
	// TLS is the configuration of STARTTLS, used whenever the server
	// offers it; nil = verify the server's certificate for its host name.
	TLS *tls.Config
}

// ParseURL parses an smtp:// URL. The port defaults to 587 and from to
// relkey@<host>.
func ParseURL(raw string) (*Settings, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "smtp" || u.Hostname() == "" || u.Path != "" && u.Path != "/" {
		return nil, errors.New("must be smtp://user:password@host:port?from=address")
	}
	s := &Settings{Host: u.Host, From: u.Query().Get("from")}
	if u.Port() == "" {
		s.Host = net.JoinHostPort(u.Hostname(), "587")
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	if s.From == "" {
		s.From = "relkey@" + u.Hostname()
	}
	if addr, err := mail.ParseAddress(s.From); err != nil || addr.Address != s.From {
		return nil, fmt.Errorf("from %q is not an email address", s.From)
	}
	for key := range u.Query() {
		if key != "from" {
			return nil, fmt.Errorf("unknown parameter %q (only from)", key)
		}
	}
	return s, nil
}

// Message is one mail to send.
type Message struct {
	AccountID string
	To        string
	Subject   string
	Body      string // plain text
}

// Sender delivers messages over SMTP.
type Sender struct {
	settings Settings
	timeout  time.Duration
}

// NewSender returns a sender with s.
func NewSender(s Settings) *Sender { return &Sender{settings: s, timeout: 30 * time.Second} }

// Send delivers m: STARTTLS when the server offers it, AUTH PLAIN when a
// user is set (which Go's client refuses over a plain connection to a
// remote host).
func (s *Sender) Send(ctx context.Context, m Message) error {
	host, _, err := net.SplitHostPort(s.settings.Host)
	if err != nil {
		return err
	}
	dialer := &net.Dialer{Timeout: s.timeout}
	conn, err := dialer.DialContext(ctx, "tcp", s.settings.Host)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(s.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if err := c.Hello("relkey"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := s.settings.TLS
		if cfg == nil {
			cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(cfg); err != nil {
			return err
		}
	}
	if s.settings.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.settings.Username, s.settings.Password, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(s.settings.From); err != nil {
		return err
	}
	if err := c.Rcpt(m.To); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(render(s.settings.From, m)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// render is the message in RFC 5322 form, CRLF line ends.
func render(from string, m Message) []byte {
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from)
	header("To", m.To)
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", time.Now().UTC().Format(time.RFC1123Z))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	b.WriteString(body)
	if !strings.HasSuffix(body, "\r\n") {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// PasswordReset is the mail that carries a password reset token: what
// Keygen's user mailer sends, with the API call that uses it (relkey has no
// reset page of its own).
func PasswordReset(accountID, accountName, accountSlug, to, userID, token string, expiry time.Time) Message {
	body := fmt.Sprintf(`Someone asked to reset the password of %s at %s.

Your password reset token, good until %s:

    %s

Set a new password with it:

    POST /v1/accounts/%s/users/%s/actions/reset-password
    {"meta": {"passwordResetToken": "<the token>", "newPassword": "<a new password>"}}

If you did not ask for this, ignore this mail: your password stays as it is.
`, to, accountName, expiry.UTC().Format(time.RFC1123), token, accountSlug, userID)
	return Message{AccountID: accountID, To: to, Subject: "Reset your " + accountName + " password", Body: body}
}
