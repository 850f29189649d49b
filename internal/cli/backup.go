package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/relkey/relkey/internal/app"
	"github.com/relkey/relkey/internal/backup"
	"github.com/relkey/relkey/internal/config"
)

// fileCommand parses `relkey <name> <file> [flags]`: the file, or the
// exit code of a command line it refused (and reported).
func fileCommand(cmd Command, flags *flag.FlagSet, usage string) (string, int) {
	flags.SetOutput(cmd.Stderr)
	args, err := parseInterleaved(flags, cmd.Args[1:])
	if err != nil {
		return "", flagsFailed(err)
	}
	if len(args) != 1 {
		fmt.Fprintf(cmd.Stderr, "usage: relkey %s\n", usage)
		return "", exitUsage
	}
	return args[0], -1
}

// failStore reports an error of a store command: the PostgreSQL refusal is
// a usage error, the rest failures.
func failStore(cmd Command, err error) int {
	if errors.Is(err, app.ErrNotEmbedded) {
		fmt.Fprintln(cmd.Stderr, "relkey:", err)
		return exitUsage
	}
	return fail(cmd, err)
}

// summary describes what an archive holds.
func summary(m *backup.Manifest) string {
	var size int64
	for _, f := range m.Files {
		size += f.Size
	}
	parts := []string{fmt.Sprintf("the database (schema %d)", m.SchemaVersion)}
	if m.SecretKey {
		parts = append(parts, "the master key")
	}
	if m.Blobs {
		parts = append(parts, fmt.Sprintf("%d objects", countObjects(m)))
	}
	return fmt.Sprintf("%s; %d files, %d bytes before compression, made by relkey %s on %s",
		strings.Join(parts, ", "), len(m.Files), size, m.RelkeyVersion, m.Created.Format("2006-01-02 15:04:05 MST"))
}

func countObjects(m *backup.Manifest) int {
	n := 0
	for _, f := range m.Files {
		if strings.HasPrefix(f.Path, backup.BlobsDir+"/") {
			n++
		}
	}
	return n
}

func backupCommand(cmd Command, cfg config.Config) int {
	const usage = "backup <file>"
	file, code := fileCommand(cmd, flag.NewFlagSet("backup", flag.ContinueOnError), usage)
	if code >= 0 {
		return code
	}
	m, err := app.Backup(context.Background(), cfg, version(), file)
	if err != nil {
		return failStore(cmd, err)
	}
	fmt.Fprintf(cmd.Stdout, "Backed up to %s: %s.\n", file, summary(m))
	if m.SecretKey {
		fmt.Fprintln(cmd.Stdout, "The archive holds the master key: keep it as safe as the key itself.")
	} else {
		fmt.Fprintln(cmd.Stdout, "The master key comes from RELKEY_SECRET_KEY and is not in the archive: keep it with the backup, which is useless without it.")
	}
	if !m.Blobs {
		fmt.Fprintln(cmd.Stdout, "Objects live in S3 (RELKEY_STORAGE_URL) and are not in the archive: back up the bucket too.")
	}
	return exitOK
}

func restoreCommand(cmd Command, cfg config.Config) int {
	const usage = "restore <file> [--force]"
	flags := flag.NewFlagSet("restore", flag.ContinueOnError)
	force := flags.Bool("force", false, "replace the store's files in a data dir that is not empty")
	file, code := fileCommand(cmd, flags, usage)
	if code >= 0 {
		return code
	}
	m, err := app.Restore(cfg, file, *force)
	if err != nil {
		return failStore(cmd, err)
	}
	fmt.Fprintf(cmd.Stdout, "Restored %s into %s: %s.\n", file, cfg.DataDir, summary(m))
	switch {
	case !m.SecretKey && cfg.SecretKey == "":
		fmt.Fprintln(cmd.Stdout, "The backup holds no master key: set RELKEY_SECRET_KEY to the key of the server it was made from.")
	case m.SecretKey && cfg.SecretKey != "":
		fmt.Fprintln(cmd.Stdout, "RELKEY_SECRET_KEY is set, so relkey uses it rather than the restored secret.key: unset it unless it is the backed-up server's key.")
	}
	fmt.Fprintln(cmd.Stdout, "Start relkey on it with: relkey serve")
	return exitOK
}

func secretCommand(cmd Command, cfg config.Config) int {
	const usage = "secret rotate [--new-key-file F]"
	if len(cmd.Args) < 2 || cmd.Args[1] != "rotate" {
		fmt.Fprintf(cmd.Stderr, "usage: relkey %s\n", usage)
		return exitUsage
	}
	flags := flag.NewFlagSet("secret rotate", flag.ContinueOnError)
	flags.SetOutput(cmd.Stderr)
	newKeyFile := flags.String("new-key-file", "", "with RELKEY_SECRET_KEY: the file to keep the new key in (generated when it does not exist)")
	if args, err := parseInterleaved(flags, cmd.Args[2:]); err != nil {
		return flagsFailed(err)
	} else if len(args) > 0 {
		fmt.Fprintf(cmd.Stderr, "relkey secret rotate: unexpected argument %q\n", args[0])
		return exitUsage
	}
	switch {
	case cfg.SecretKey == "" && *newKeyFile != "":
		fmt.Fprintf(cmd.Stderr, "relkey secret rotate: the master key is %s, which the rotation replaces itself: --new-key-file is for RELKEY_SECRET_KEY\n", cfg.SecretKeyPath())
		return exitUsage
	case cfg.SecretKey != "" && *newKeyFile == "":
		fmt.Fprintln(cmd.Stderr, "relkey secret rotate: the master key comes from RELKEY_SECRET_KEY: give --new-key-file F to keep the new key in (install it in RELKEY_SECRET_KEY afterwards)")
		return exitUsage
	}
	report, err := app.RotateMasterKey(context.Background(), cfg, *newKeyFile)
	if err != nil {
		return fail(cmd, err)
	}
	counts := make([]string, len(report.Counts))
	for i, c := range report.Counts {
		counts[i] = fmt.Sprintf("%d %s", c.Resealed, c.Name)
	}
	fmt.Fprintf(cmd.Stdout, "Master key rotated: re-sealed %s. %s holds the new key.\n", strings.Join(counts, ", "), report.KeyFile)
	if cfg.SecretKey != "" {
		fmt.Fprintln(cmd.Stdout, "Set RELKEY_SECRET_KEY to its contents on every replica, then start them; the old key opens nothing any more.")
	} else {
		fmt.Fprintln(cmd.Stdout, "Start relkey again; the old key opens nothing any more.")
	}
	return exitOK
}
