package relkey_test

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"time"

	"github.com/relkey/relkey/internal/app"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/onboard"
	"github.com/relkey/relkey/internal/password"
	"github.com/relkey/relkey/pkg/relkey"
)

// exampleServer is a relkey on a temporary embedded store, serving the
// account "demo", for the examples to run against.
type exampleServer struct {
	URL, AdminToken string
	PublicKey       ed25519.PublicKey
	stop            func()
}

func (s *exampleServer) Close() { s.stop() }

func startRelkey() *exampleServer {
	dir, err := os.MkdirTemp("", "relkey-example-")
	if err != nil {
		panic(err)
	}
	cfg := config.Config{DataDir: dir, RequestTimeout: 5 * time.Second, MaxBodyBytes: 1 << 20, PasswordCost: password.MinCost}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		panic(err)
	}
	out, err := a.Onboard(context.Background(), onboard.Onboarding{Slug: "demo", Name: "Demo", Email: "admin@demo.test", Password: "demo-password"})
	if err != nil {
		panic(err)
	}
	pub, err := relkey.ParsePublicKey(out.PublicKey)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(a.Server().Handler())
	return &exampleServer{URL: srv.URL, AdminToken: out.RawToken, PublicKey: pub, stop: func() {
		srv.Close()
		a.Close()
		os.RemoveAll(dir)
	}}
}
