// Package testserver serves a relkey in-process for tests and examples: the
// app on a store of the caller's choosing, one account, an httptest server
// in front.
package testserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/app"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/onboard"
	"github.com/relkey/relkey/internal/password"
	"github.com/relkey/relkey/pkg/relkey"
)

// Server is a relkey served over HTTP with one account.
type Server struct {
	App     *app.App
	URL     string
	Account *onboard.Onboarded
	Tenant  *account.Tenant
	srv     *httptest.Server
}

// Embedded is the configuration of a relkey on the embedded store in dir,
// hashing passwords at the lowest cost.
func Embedded(dir string) config.Config {
	return config.Config{DataDir: dir, RequestTimeout: 10 * time.Second, MaxBodyBytes: 1 << 20, PasswordCost: password.MinCost}
}

// Start opens relkey on cfg, creates the account slug (admin
// admin@<slug>.test) and serves it, through wrap unless nil.
func Start(cfg config.Config, slug string, wrap func(http.Handler) http.Handler) (*Server, error) {
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	s := &Server{App: a}
	if s.Account, err = a.Onboard(context.Background(), onboard.Onboarding{Slug: slug, Name: slug, Email: "admin@" + slug + ".test", Password: "password-" + slug}); err == nil {
		s.Tenant, err = a.Accounts.Resolve(context.Background(), s.Account.Account.ID)
	}
	if err != nil {
		a.Close()
		return nil, err
	}
	handler := a.Server().Handler()
	if wrap != nil {
		handler = wrap(handler)
	}
	s.srv = httptest.NewServer(handler)
	s.URL = s.srv.URL
	return s, nil
}

// Admin is a client of the account as its admin, verifying every signed
// response with the account's key.
func (s *Server) Admin(opts ...relkey.Option) *relkey.Client {
	pub, _ := relkey.ParsePublicKey(s.Account.PublicKey)
	c, _ := relkey.New(s.URL, s.Account.Account.Slug, append([]relkey.Option{relkey.WithToken(s.Account.RawToken), relkey.WithPublicKey(pub)}, opts...)...)
	return c
}

// Close stops serving and closes the app.
func (s *Server) Close() {
	s.srv.Close()
	s.App.Close()
}
