// Package cli is the relkey command: serve, migrate, account create, version.
package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/relkey/relkey/internal/app"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/gcpace"
	"github.com/relkey/relkey/internal/logwriter"
	"github.com/relkey/relkey/internal/onboard"
)

// Version is set at build time with -ldflags "-X github.com/relkey/relkey/internal/cli.Version=…".
var Version = ""

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

const usage = `relkey — self-hosted software licensing and release distribution (Keygen API compatible)

Usage:
  relkey serve                         serve the API (applies pending migrations first)
  relkey migrate [up]                  apply pending migrations
  relkey migrate down [N|--all]        revert the last N migrations (default 1) or all
  relkey migrate version               print the applied migration version
  relkey migrate --check               report pending migrations, applying none; exit 1 when
                                       the schema is newer than this binary (a newer relkey ran)
  relkey account create --slug S --name N --email E --password P [--json]
                                       create an account with its first admin and admin token
  relkey token create (--user U | --product P | --license L) [--name N] [--expiry T] [--permissions P,...]
                                       issue a token (prints its secret once)
  relkey token revoke <token id>       revoke a token
  relkey user create --email E [--password P] [--role R] [--first-name F] [--last-name L]
                                       add a user
  relkey user reset-password <user id or email>
                                       start a password reset (the token goes to the reset hooks)
  relkey license create --policy P [--owner U] [--key K] [--expiry T] [--max-machines N] ...
                                       issue a license (relkey license create --help: every flag)
  relkey license show|suspend|reinstate <license id or key>
                                       show, suspend or reinstate a license
  relkey product list                  list the products
  relkey policy list [--product P]     list the policies
                                       (every admin command takes --account A, default RELKEY_ACCOUNT or
                                       the only account, and --json for the API's JSON:API document)
  relkey backup <file>                 archive the embedded store (database, master key, local objects)
                                       while it serves
  relkey restore <file> [--force]      verify an archive and restore it into an empty RELKEY_DATA_DIR
  relkey secret rotate [--new-key-file F]
                                       re-seal every secret under a new master key (stop the servers first)
  relkey import keygen --url URL --account ID --token TOKEN [--public-key HEX]
                       [--target-account ID|SLUG] [--reset-tokens FILE]
                                       copy a Keygen account into a relkey account (resumable)
  relkey health [--timeout D]          ask the server on RELKEY_LISTEN whether it is ready
                                       (GET /v1/health); exit 0 when it answers 200
  relkey image push --release R [--url URL] [--account A] [--token T] <OCI layout directory or tar>
                                       store an OCI image as artifacts of a release (a package of engine
                                       oci), served at <host>/v2/<account>/<package>:<version or tag>;
                                       --url, --account and --token default to $RELKEY_URL, $RELKEY_ACCOUNT,
                                       $RELKEY_TOKEN
  relkey version                       print the version

Configuration comes from RELKEY_* environment variables; see README.md.
`

// Command is one invocation's environment.
type Command struct {
	Args   []string
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
	// Signals ends serve when it is closed or receives; nil = SIGINT/SIGTERM.
	Signals context.Context
}

// Run executes the command and returns its exit code.
func Run(cmd Command) int {
	if len(cmd.Args) == 0 {
		fmt.Fprint(cmd.Stderr, usage)
		return exitUsage
	}
	switch cmd.Args[0] {
	case "version", "--version", "-v":
		fmt.Fprintln(cmd.Stdout, "relkey", version())
		return exitOK
	case "help", "--help", "-h":
		fmt.Fprint(cmd.Stdout, usage)
		return exitOK
	case "image":
		return imageCommand(cmd)
	case "serve", "migrate", "account", "import", "health":
	case "token", "user", "license", "product", "policy", "backup", "restore", "secret":
	default:
		fmt.Fprintf(cmd.Stderr, "relkey: unknown command %q\n\n%s", cmd.Args[0], usage)
		return exitUsage
	}
	cfg, err := config.FromEnv(cmd.Getenv)
	if err != nil {
		fmt.Fprintln(cmd.Stderr, "relkey:", err)
		return exitUsage
	}
	if cmd.Args[0] == "serve" {
		// A line per request: gathered into few writes (see logwriter),
		// warnings and errors written at once, everything on exit.
		out := logwriter.New(cmd.Stderr, logwriter.Options{})
		defer out.Close()
		cmd.Stderr = out
		return serve(cmd, cfg, slog.New(logwriter.Urgent(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: cfg.LogLevel}), out, slog.LevelWarn)))
	}
	logger := slog.New(slog.NewJSONHandler(cmd.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	switch cmd.Args[0] {
	case "migrate":
		return migrate(cmd, cfg, logger)
	case "token", "user", "license", "product", "policy":
		return adminCommand(cmd, cfg, logger)
	case "backup":
		return backupCommand(cmd, cfg)
	case "restore":
		return restoreCommand(cmd, cfg)
	case "secret":
		return secretCommand(cmd, cfg)
	case "import":
		return importCommand(cmd, cfg, logger)
	case "health":
		return health(cmd, cfg)
	default:
		return accountCommand(cmd, cfg, logger)
	}
}

func version() string {
	if Version != "" {
		return Version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

func fail(cmd Command, err error) int {
	fmt.Fprintln(cmd.Stderr, "relkey:", err)
	return exitFailure
}

func serve(cmd Command, cfg config.Config, logger *slog.Logger) int {
	if len(cmd.Args) > 1 {
		fmt.Fprintf(cmd.Stderr, "relkey serve takes no arguments\n")
		return exitUsage
	}
	defer gcpace.Start(cmd.Getenv, time.Second)()
	signals := cmd.Signals
	if signals == nil {
		var stop context.CancelFunc
		signals, stop = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	a, err := app.Open(context.Background(), cfg, logger)
	if err != nil {
		return fail(cmd, err)
	}
	defer a.Close()
	stopMetrics, err := startMetrics(cmd, cfg, a, logger)
	if err != nil {
		return fail(cmd, err)
	}
	defer stopMetrics()
	listener, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fail(cmd, err)
	}
	listener = limitPerIP(listener, cfg.Edge.ConnectionsPerAddress, cfg.Edge.TrustedProxies)
	scheme := "http"
	if cfg.TLS != nil {
		listener = tls.NewListener(listener, &tls.Config{Certificates: []tls.Certificate{*cfg.TLS}, MinVersion: tls.VersionTLS12})
		scheme = "https"
	}
	server := &http.Server{
		Handler: a.Server().Handler(),
		// Requests read and answer under their deadline (transfers to the
		// local store extend theirs); these bound what no handler sees.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.RequestTimeout + 10*time.Second,
		WriteTimeout:      cfg.RequestTimeout + 10*time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	if cfg.DebugListen != "" {
		debug, err := serveProfiles(cfg.DebugListen, logger)
		if err != nil {
			return fail(cmd, err)
		}
		defer debug.Close()
		fmt.Fprintf(cmd.Stdout, "profiles on http://%s/debug/pprof/\n", debug.Addr)
	}
	jobs, stopJobs := context.WithCancel(context.Background())
	jobsDone := make(chan struct{})
	go func() { defer close(jobsDone); a.RunJobs(jobs) }()
	// Runs before the deferred a.Close: the jobs end before the database does.
	defer func() { stopJobs(); <-jobsDone }()
	addr := scheme + "://" + listener.Addr().String()
	logger.Info("relkey is serving", "address", addr, "version", version(), "database", string(a.DB.Engine), "embedded", cfg.Embedded())
	fmt.Fprintf(cmd.Stdout, "relkey %s serving on %s (health: %s/v1/health)\n", version(), addr, addr)
	if _, err := a.Accounts.Default(context.Background(), ""); apperr.Is(err, apperr.NotFound) {
		binary, _ := os.Executable()
		dir, _ := os.Getwd()
		fmt.Fprint(cmd.Stdout, nextStep(binary, dir))
	}
	select {
	case err := <-served:
		return fail(cmd, err)
	case <-signals.Done():
	}
	logger.Info("shutting down: draining in-flight requests")
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := server.Shutdown(ctx); err != nil {
		return fail(cmd, fmt.Errorf("shutdown: %w", err))
	}
	return exitOK
}

// nextStep is the hint serve prints while no account exists: the command
// that creates one, run from the server's working directory dir (whose
// ./data the server uses by default). It names the binary by its path
// relative to dir when inside it (bin/relkey after make run), else
// absolutely.
func nextStep(binary, dir string) string {
	if rel, err := filepath.Rel(dir, binary); err == nil && filepath.IsLocal(rel) {
		binary = rel
		if !strings.ContainsRune(rel, filepath.Separator) {
			binary = "." + string(filepath.Separator) + rel
		}
	}
	return fmt.Sprintf("Next step: create an account (prints its admin token); in another terminal, in %s with the same RELKEY_* settings:\n"+
		"  %s account create --slug demo --name \"Demo\" --email admin@example.com --password 'choose-a-password'\n", dir, binary)
}

func migrate(cmd Command, cfg config.Config, logger *slog.Logger) int {
	action := "up"
	if len(cmd.Args) > 1 {
		action = cmd.Args[1]
	}
	if action == "--check" {
		return migrateCheck(cmd, cfg)
	}
	a, err := app.Open(context.Background(), cfg, logger)
	if action == "up" || err != nil {
		if err != nil {
			return fail(cmd, err)
		}
		defer a.Close()
		v, _, err := a.DB.MigrationVersion()
		if err != nil {
			return fail(cmd, err)
		}
		fmt.Fprintf(cmd.Stdout, "migrations applied: version %d\n", v)
		return exitOK
	}
	defer a.Close()
	switch action {
	case "version":
		v, dirty, err := a.DB.MigrationVersion()
		if err != nil {
			return fail(cmd, err)
		}
		fmt.Fprintf(cmd.Stdout, "%d", v)
		if dirty {
			fmt.Fprint(cmd.Stdout, " (dirty)")
		}
		fmt.Fprintln(cmd.Stdout)
		return exitOK
	case "down":
		steps := 1
		if len(cmd.Args) > 2 {
			if cmd.Args[2] == "--all" {
				steps = 0
			} else if steps, err = strconv.Atoi(cmd.Args[2]); err != nil || steps < 1 {
				fmt.Fprintln(cmd.Stderr, "relkey migrate down takes a positive number of steps or --all")
				return exitUsage
			}
		}
		if err := a.DB.MigrateDown(steps); err != nil {
			return fail(cmd, err)
		}
		v, _, _ := a.DB.MigrationVersion()
		fmt.Fprintf(cmd.Stdout, "migrations reverted: version %d\n", v)
		return exitOK
	}
	fmt.Fprintf(cmd.Stderr, "relkey migrate: unknown action %q (up, down, version, --check)\n", action)
	return exitUsage
}

func accountCommand(cmd Command, cfg config.Config, logger *slog.Logger) int {
	if len(cmd.Args) < 2 || cmd.Args[1] != "create" {
		fmt.Fprintf(cmd.Stderr, "usage: relkey account create --slug S --name N --email E --password P [--json]\n")
		return exitUsage
	}
	flags := flag.NewFlagSet("account create", flag.ContinueOnError)
	flags.SetOutput(cmd.Stderr)
	var o onboard.Onboarding
	flags.StringVar(&o.Slug, "slug", "", "URL-safe account identifier (lowercase letters, digits, dashes)")
	flags.StringVar(&o.Name, "name", "", "display name")
	flags.StringVar(&o.Email, "email", "", "email of the first admin")
	flags.StringVar(&o.Password, "password", "", "password of the first admin (6 to 72 bytes)")
	asJSON := flags.Bool("json", false, "print one JSON object")
	if err := flags.Parse(cmd.Args[2:]); err != nil {
		return exitUsage
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(cmd.Stderr, "relkey account create: unexpected argument %q\n", flags.Arg(0))
		return exitUsage
	}
	a, err := app.Open(context.Background(), cfg, logger)
	if err != nil {
		return fail(cmd, err)
	}
	defer a.Close()
	out, err := a.Onboard(context.Background(), o)
	if err != nil {
		var e *apperr.Error
		if errors.As(err, &e) && e.Source != nil && e.Source.Field != nil && e.Source.Field.Part == apperr.InAttribute {
			// each attribute of an onboarding has the flag of its name
			return fail(cmd, fmt.Errorf("--%s %s (%s)", e.Source.Field.Name, e.Detail, e.Code))
		}
		return fail(cmd, err)
	}
	if *asJSON {
		json.NewEncoder(cmd.Stdout).Encode(map[string]string{
			"account_id":    out.Account.ID,
			"account_slug":  out.Account.Slug,
			"admin_user_id": out.Admin.ID,
			"admin_token":   out.RawToken,
			"public_key":    out.PublicKey,
		})
		return exitOK
	}
	fmt.Fprintf(cmd.Stdout, `Account %q created.
  account id:    %s
  admin:         %s (%s)
  admin token:   %s   (shown once: keep it secret)
  public key:    %s   (Ed25519, hex: give it to SDKs to verify responses)

Try it:
  curl -H "Authorization: Bearer %s" %s/v1/accounts/%s/products
`, out.Account.Slug, out.Account.ID, out.Admin.Email, out.Admin.ID, out.RawToken, out.PublicKey,
		out.RawToken, baseURL(cfg), out.Account.Slug)
	return exitOK
}

func baseURL(cfg config.Config) string {
	if cfg.PublicURL != nil {
		return cfg.PublicURL.String()
	}
	return "http://" + cfg.Listen
}

// serveProfiles serves Go's runtime profiles (net/http/pprof) on a listener
// of their own, apart from the API; the server's Addr is where it listens.
func serveProfiles(addr string, logger *slog.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return serveAside("RELKEY_DEBUG_LISTEN", addr, mux, logger)
}
