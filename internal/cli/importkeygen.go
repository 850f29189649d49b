package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/relkey/relkey/internal/app"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/keygenimport"
	"github.com/relkey/relkey/pkg/relkey"
)

const importUsage = `usage: relkey import keygen --url URL --account ID --token TOKEN [--public-key HEX] [--target-account ID|SLUG] [--reset-tokens FILE]
`

// importCommand is relkey import keygen: it copies a Keygen account into
// the relkey account the configuration points at (--target-account,
// RELKEY_ACCOUNT or the only account), showing progress on stderr and a
// summary on stdout. Interrupted (a signal, the source failing), it is run
// again to resume.
func importCommand(cmd Command, cfg config.Config, logger *slog.Logger) int {
	if len(cmd.Args) < 2 || cmd.Args[1] != "keygen" {
		fmt.Fprint(cmd.Stderr, importUsage)
		return exitUsage
	}
	flags := flag.NewFlagSet("import keygen", flag.ContinueOnError)
	flags.SetOutput(cmd.Stderr)
	apiBase := flags.String("url", "", "the Keygen API base, e.g. https://api.keygen.sh")
	account := flags.String("account", "", "the Keygen account's id (or slug)")
	token := flags.String("token", "", "an admin token of the Keygen account (default $KEYGEN_TOKEN)")
	publicKey := flags.String("public-key", "", "the Keygen account's Ed25519 public key (hex): every response must be signed with it")
	into := flags.String("target-account", "", "the relkey account to import into (id or slug; default $RELKEY_ACCOUNT or the only account)")
	resetTokens := flags.String("reset-tokens", "", "append each imported user's password reset token to this file (JSON lines, mode 0600), to send them")
	if err := flags.Parse(cmd.Args[2:]); err != nil {
		return exitUsage
	}
	if *token == "" {
		*token = cmd.Getenv("KEYGEN_TOKEN")
	}
	switch {
	case flags.NArg() > 0:
		fmt.Fprintf(cmd.Stderr, "relkey import keygen: unexpected argument %q\n%s", flags.Arg(0), importUsage)
		return exitUsage
	case *apiBase == "" || *account == "" || *token == "":
		fmt.Fprintf(cmd.Stderr, "relkey import keygen: --url, --account and --token are required\n%s", importUsage)
		return exitUsage
	}
	opts := []relkey.Option{relkey.WithToken(*token)}
	if *publicKey != "" {
		pub, err := relkey.ParsePublicKey(*publicKey)
		if err != nil {
			fmt.Fprintln(cmd.Stderr, "relkey import keygen: --public-key:", err)
			return exitUsage
		}
		opts = append(opts, relkey.WithPublicKey(pub))
	}
	source, err := relkey.New(*apiBase, *account, opts...)
	if err != nil {
		fmt.Fprintln(cmd.Stderr, "relkey import keygen: --url:", err)
		return exitUsage
	}
	ctx := cmd.Signals
	if ctx == nil {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	a, err := app.Open(context.Background(), cfg, logger)
	if err != nil {
		return fail(cmd, err)
	}
	defer a.Close()
	target := *into
	if target == "" {
		target = cfg.Account
	}
	tenant, err := a.Accounts.Default(ctx, target)
	if err != nil {
		return fail(cmd, fmt.Errorf("the account to import into: %w (create one with relkey account create, or name it with --target-account)", err))
	}
	if *resetTokens != "" {
		f, err := os.OpenFile(*resetTokens, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fail(cmd, fmt.Errorf("--reset-tokens: %w", err))
		}
		defer f.Close()
		a.Events.Subscribe(resetWriter(a, f))
	}
	im := &keygenimport.Importer{Source: source, Target: a.ImportTarget(tenant), Progress: cmd.Stderr, Live: terminal(cmd.Stderr)}
	summary, err := im.Run(ctx)
	summary.Write(cmd.Stdout)
	if summary.PasswordResets > 0 && *resetTokens == "" {
		fmt.Fprintln(cmd.Stderr, "relkey mails nothing: the reset tokens went to no one (pass --reset-tokens FILE to collect them); users can ask for a new one with POST /v1/passwords")
	}
	if err != nil {
		return fail(cmd, fmt.Errorf("import stopped: %w\nrun the same command again to resume: what is already imported is skipped", err))
	}
	if n := summary.Failed(); n > 0 {
		return fail(cmd, fmt.Errorf("%d items were not imported (listed above); fix them and run the command again", n))
	}
	return exitOK
}

// resetWriter writes each password reset published as a JSON line to w.
func resetWriter(a *app.App, w io.Writer) event.Hook {
	var mu sync.Mutex
	return func(ctx context.Context, e event.Event) {
		if e.Type != event.UserPasswordReset {
			return
		}
		u, err := a.Users.Bearer(ctx, e.AccountID, e.ResourceID)
		if err != nil {
			return
		}
		line, _ := json.Marshal(map[string]any{"email": u.Email, "user_id": u.ID, "token": e.Meta["passwordResetToken"], "expiry": e.Meta["expiry"]})
		mu.Lock()
		defer mu.Unlock()
		w.Write(append(line, '\n'))
	}
}

// terminal reports whether w is a terminal, where progress is rewritten in
// place.
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
