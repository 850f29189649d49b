package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/jsonapi"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/app"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/document"
	"github.com/relkey/relkey/internal/identity"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/page"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/serializer"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
)

// session is one admin command's view of relkey: the account's operator
// (access.Operator, an admin that is no stored user or token) in the
// account, over the same services the API calls.
type session struct {
	ctx    context.Context
	app    *app.App
	who    *access.Principal
	tenant *account.Tenant
}

// result is what an admin action prints: the JSON:API document the API
// renders for it (nil for the API's 204s), or lines for a reader.
type result struct {
	document any
	text     string
}

// adminAction is one `relkey <resource> <verb>`.
type adminAction struct {
	usage string // after "relkey ": the verb's arguments and flags
	arg   string // the one positional argument's name, "" for none
	// required flags must be given; of oneOf, exactly one.
	required, oneOf []string
	// define registers the action's flags and returns what runs it with
	// the positional argument.
	define func(f *flag.FlagSet) func(s *session, arg string) (result, error)
}

// adminActions are the admin commands by resource and verb.
var adminActions = map[string]map[string]adminAction{
	"token": {
		"create": {usage: "token create (--user U | --product P | --license L) [--name N] [--expiry T] [--permissions P,...]",
			oneOf: []string{"user", "product", "license"}, define: createToken},
		"revoke": {usage: "token revoke <token id>", arg: "token id", define: revokeToken},
	},
	"user": {
		"create": {usage: "user create --email E [--password P] [--role R] [--first-name F] [--last-name L]",
			required: []string{"email"}, define: createUser},
		"reset-password": {usage: "user reset-password <user id or email>", arg: "user id or email", define: resetPassword},
	},
	"license": {
		"create": {usage: "license create --policy P [--owner U] [--name N] [--key K] [--expiry T] [--max-machines N] ...",
			required: []string{"policy"}, define: createLicense},
		"show":      {usage: "license show <license id or key>", arg: "license id or key", define: showLicense},
		"suspend":   {usage: "license suspend <license id or key>", arg: "license id or key", define: suspension(true)},
		"reinstate": {usage: "license reinstate <license id or key>", arg: "license id or key", define: suspension(false)},
	},
	"product": {"list": {usage: "product list", define: listProducts}},
	"policy":  {"list": {usage: "policy list [--product P]", define: listPolicies}},
}

// adminCommand runs an admin action: `relkey <resource> <verb> [arg]
// [--account A] [--json] [flags]`.
func adminCommand(cmd Command, cfg config.Config, logger *slog.Logger) int {
	resource := cmd.Args[0]
	verbs := adminActions[resource]
	if len(cmd.Args) < 2 || verbs[cmd.Args[1]].define == nil {
		fmt.Fprintf(cmd.Stderr, "usage:\n%s", adminUsage(resource))
		return exitUsage
	}
	action := verbs[cmd.Args[1]]
	flags := flag.NewFlagSet(resource+" "+cmd.Args[1], flag.ContinueOnError)
	flags.SetOutput(cmd.Stderr)
	accountRef := flags.String("account", cfg.Account, "account id or slug (default: RELKEY_ACCOUNT, else the only account)")
	asJSON := flags.Bool("json", false, "print the JSON:API document the API renders")
	run := action.define(flags)
	args, err := parseInterleaved(flags, cmd.Args[2:])
	if err != nil {
		return flagsFailed(err)
	}
	if problem := action.misuse(flags, args); problem != "" {
		fmt.Fprintf(cmd.Stderr, "relkey %s: %s\nusage: relkey %s\n", flags.Name(), problem, action.usage)
		return exitUsage
	}
	arg := ""
	if len(args) == 1 {
		arg = args[0]
	}
	ctx := context.Background()
	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		return fail(cmd, err)
	}
	defer a.Close()
	tenant, err := a.Accounts.Default(ctx, *accountRef)
	if err != nil {
		if *accountRef == "" && apperr.Is(err, apperr.NotFound) {
			err = errors.New("no default account: name one with --account <slug or id> or RELKEY_ACCOUNT")
		}
		return fail(cmd, err)
	}
	out, err := run(&session{ctx: ctx, app: a, who: access.Operator(tenant.ID), tenant: tenant}, arg)
	if err != nil {
		return failAdmin(cmd, flags, err)
	}
	if *asJSON {
		if out.document != nil {
			enc := json.NewEncoder(cmd.Stdout)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(out.document); err != nil {
				return fail(cmd, err)
			}
		}
		return exitOK
	}
	fmt.Fprint(cmd.Stdout, out.text)
	return exitOK
}

// misuse describes what is wrong with the parsed command line, "" if nothing.
func (a adminAction) misuse(flags *flag.FlagSet, args []string) string {
	set := map[string]bool{}
	flags.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case a.arg == "" && len(args) > 0:
		return fmt.Sprintf("unexpected argument %q", args[0])
	case a.arg != "" && len(args) != 1:
		return "takes one argument: the " + a.arg
	}
	for _, name := range a.required {
		if !set[name] {
			return "--" + name + " is required"
		}
	}
	given := 0
	for _, name := range a.oneOf {
		if set[name] {
			given++
		}
	}
	if len(a.oneOf) > 0 && given != 1 {
		return "give exactly one of --" + strings.Join(a.oneOf, ", --")
	}
	return ""
}

// adminUsage lists the verbs of a resource.
func adminUsage(resource string) string {
	var lines []string
	for _, a := range adminActions[resource] {
		lines = append(lines, "  relkey "+a.usage+" [--account A] [--json]\n")
	}
	sort.Strings(lines)
	return strings.Join(lines, "")
}

// parseInterleaved parses flags given before, between and after the
// positional arguments, which it returns.
func parseInterleaved(flags *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := flags.Parse(args); err != nil {
			return nil, err
		}
		if flags.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, flags.Arg(0))
		args = flags.Args()[1:]
	}
}

// flagsFailed is the exit code of a command line the flags refused: 0 when
// it asked for --help, which the flag set has printed.
func flagsFailed(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// failAdmin reports a rule's refusal: an error about an attribute or a
// relationship names the flag that gave it.
func failAdmin(cmd Command, flags *flag.FlagSet, err error) int {
	var e *apperr.Error
	if errors.As(err, &e) && e.Source != nil && e.Source.Field != nil && e.Source.Field.Name != "" {
		name := strings.ReplaceAll(e.Source.Field.Name, "_", "-")
		if flags.Lookup(name) != nil {
			return fail(cmd, fmt.Errorf("--%s %s (%s)", name, e.Detail, e.Code))
		}
		return fail(cmd, fmt.Errorf("%s %s (%s)", name, e.Detail, e.Code))
	}
	return fail(cmd, err)
}

// optionalFlag registers a flag that sets an optional value, parsed by parse.
func optionalFlag[T any](flags *flag.FlagSet, name, usage string, parse func(string) (T, error)) *optional.Value[T] {
	v := new(optional.Value[T])
	flags.Func(name, usage, func(s string) error {
		parsed, err := parse(s)
		if err != nil {
			return err
		}
		*v = optional.Of(parsed)
		return nil
	})
	return v
}

func text(s string) (*string, error) { return &s, nil }

func integer(s string) (*int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, errors.New("not a whole number")
	}
	return &n, nil
}

func timestamp(s string) (*time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, errors.New("not an RFC 3339 time such as 2027-01-31T00:00:00Z")
	}
	return &t, nil
}

func metadata(s string) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}

func one(node *jsonapi.Node) any { return &jsonapi.OnePayload{Data: node} }

// when renders an optional time for a reader.
func when(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return document.Time(*t)
}

// lines renders label/value pairs aligned, after a heading.
func lines(heading string, pairs ...string) string {
	var b strings.Builder
	b.WriteString(heading + "\n")
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(w, "  %s:\t%s\n", pairs[i], pairs[i+1])
	}
	w.Flush()
	return b.String()
}

// table renders rows under a header, columns aligned.
func table(header []string, rows [][]string) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, row := range append([][]string{header}, rows...) {
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
	w.Flush()
	return b.String()
}

func orDash[T any](v *T) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(*v)
}

func createToken(f *flag.FlagSet) func(*session, string) (result, error) {
	userRef := f.String("user", "", "issue it to this user (id or email)")
	productRef := f.String("product", "", "issue it to this product (id or code)")
	licenseRef := f.String("license", "", "issue an activation token to this license (id or key)")
	name := f.String("name", "", "a name for the token")
	expiry := optionalFlag(f, "expiry", "when it stops working (RFC 3339; default: never, 2 weeks for user-role users)", timestamp)
	permissions := f.String("permissions", "", "comma-separated permissions within the bearer's (default: all of the bearer's)")
	return func(s *session, _ string) (result, error) {
		var to identity.For
		for _, b := range []identity.For{{Type: token.BearerUser, Ref: *userRef}, {Type: token.BearerProduct, Ref: *productRef}, {Type: token.BearerLicense, Ref: *licenseRef}} {
			if b.Ref != "" {
				to = b
			}
		}
		opts := token.Options{Expiry: expiry.V, ExpirySet: expiry.Set}
		if *name != "" {
			opts.Name = name
		}
		if *permissions != "" {
			opts.Permissions = strings.Split(*permissions, ",")
		}
		tok, raw, err := s.app.Issuing.Issue(s.ctx, s.who, s.tenant, to, opts)
		if err != nil {
			return result{}, err
		}
		perms := "all of the bearer's"
		if tok.Permissions != nil {
			perms = strings.Join(tok.Permissions, ", ")
		}
		return result{document: one(serializer.Token(tok, raw)), text: lines("Token created for "+strings.TrimSuffix(to.Type, "s")+" "+to.Ref+".",
			"id", tok.ID, "kind", string(tok.Kind), "expiry", when(tok.Expiry), "permissions", perms,
			"token", raw+"   (shown once: keep it secret)")}, nil
	}
}

func revokeToken(*flag.FlagSet) func(*session, string) (result, error) {
	return func(s *session, id string) (result, error) {
		if err := s.app.Tokens.Revoke(s.ctx, s.who, s.tenant, id); err != nil {
			return result{}, err
		}
		return result{text: "Token " + id + " revoked: it no longer authenticates.\n"}, nil
	}
}

func createUser(f *flag.FlagSet) func(*session, string) (result, error) {
	var p user.Params
	email := optionalFlag(f, "email", "the user's email (required)", func(s string) (string, error) { return s, nil })
	password := optionalFlag(f, "password", "a password (6 to 72 bytes); without one the user signs in after a reset", text)
	role := optionalFlag(f, "role", "user (default), admin, developer, sales-agent, support-agent or read-only", func(s string) (string, error) { return s, nil })
	first := optionalFlag(f, "first-name", "first name", text)
	last := optionalFlag(f, "last-name", "last name", text)
	return func(s *session, _ string) (result, error) {
		p.Email, p.Password, p.Role, p.FirstName, p.LastName = *email, *password, *role, *first, *last
		u, err := s.app.Users.Create(s.ctx, s.who, s.tenant, p)
		if err != nil {
			return result{}, err
		}
		return result{document: one(serializer.User(u)), text: lines("User "+u.Email+" created.",
			"id", u.ID, "role", string(u.Role), "password", map[bool]string{true: "set", false: "none (send a reset: relkey user reset-password)"}[u.PasswordDigest != nil])}, nil
	}
}

// resetPassword starts the reset flow of POST /passwords for a user: a
// reset token, published as a user.password-reset event for the hooks that
// deliver it, and never printed.
func resetPassword(*flag.FlagSet) func(*session, string) (result, error) {
	return func(s *session, ref string) (result, error) {
		u, err := s.app.Users.Find(s.ctx, s.who, s.tenant, ref)
		if err != nil {
			return result{}, err
		}
		if err := s.app.Users.RequestPasswordReset(s.ctx, s.tenant, u.Email, true); err != nil {
			return result{}, err
		}
		return result{text: fmt.Sprintf("Password reset issued for %s (%s): the reset token goes to the account's user.password-reset hooks "+
			"and works for %.0f hours; it is not shown here.\n", u.Email, u.ID, user.PasswordResetLifetime.Hours())}, nil
	}
}

func createLicense(f *flag.FlagSet) func(*session, string) (result, error) {
	var (
		p   license.Params
		rel license.Relationships
	)
	f.StringVar(&rel.Policy, "policy", "", "the policy (id) to issue it under (required)")
	f.StringVar(&rel.Owner, "owner", "", "the owning user (id or email)")
	name := optionalFlag(f, "name", "a name", text)
	key := optionalFlag(f, "key", "a key of your own (default: generated as the policy's scheme says)", func(s string) (string, error) { return s, nil })
	expiry := optionalFlag(f, "expiry", "when it expires (RFC 3339; default: as the policy's duration says)", timestamp)
	limits := map[string]*optional.Value[*int64]{}
	for _, limit := range []string{"max-machines", "max-processes", "max-users", "max-cores", "max-uses"} {
		limits[limit] = optionalFlag(f, limit, "override the policy's "+limit, integer)
	}
	meta := optionalFlag(f, "metadata", `metadata as a JSON object, e.g. '{"orderId":"1234"}'`, metadata)
	return func(s *session, _ string) (result, error) {
		p.Name, p.Key, p.Expiry, p.Metadata = *name, *key, *expiry, *meta
		p.MaxMachines, p.MaxProcesses, p.MaxUsers = *limits["max-machines"], *limits["max-processes"], *limits["max-users"]
		p.MaxCores, p.MaxUses = *limits["max-cores"], *limits["max-uses"]
		l, err := s.app.Licenses.Create(s.ctx, s.who, s.tenant, rel, p)
		if err != nil {
			return result{}, err
		}
		return s.renderLicense(l, "License created.")
	}
}

func showLicense(*flag.FlagSet) func(*session, string) (result, error) {
	return func(s *session, ref string) (result, error) {
		l, err := s.app.Licenses.Find(s.ctx, s.who, s.tenant, ref)
		if err != nil {
			return result{}, err
		}
		return s.renderLicense(l, "License "+l.ID+".")
	}
}

// suspension suspends or reinstates a license.
func suspension(suspended bool) func(*flag.FlagSet) func(*session, string) (result, error) {
	done := map[bool]string{true: "suspended", false: "reinstated"}[suspended]
	return func(*flag.FlagSet) func(*session, string) (result, error) {
		return func(s *session, ref string) (result, error) {
			l, err := s.app.Licenses.SetSuspended(s.ctx, s.who, s.tenant, ref, suspended)
			if err != nil {
				return result{}, err
			}
			return s.renderLicense(l, "License "+l.ID+" "+done+".")
		}
	}
}

// renderLicense shows a license as the API does, with its policy's limits.
func (s *session) renderLicense(l *license.License, heading string) (result, error) {
	shown, err := s.app.Licenses.Show(s.ctx, s.who, s.tenant, nil, l)
	if err != nil {
		return result{}, err
	}
	sh := &shown[0]
	return result{document: one(serializer.License(sh)), text: lines(heading,
		"id", l.ID, "key", l.Key, "name", orDash(l.Name), "status", l.Status(time.Now()),
		"product", l.ProductID, "policy", l.PolicyID, "owner", orDash(l.OwnerID), "expiry", when(l.Expiry),
		"machines", fmt.Sprintf("%d of %s", sh.Machines.Count, orDash(license.Effective(l.MaxMachines, sh.Policy.MaxMachines))),
		"uses", fmt.Sprintf("%d of %s", l.Uses, orDash(license.Effective(l.MaxUses, sh.Policy.MaxUses))),
		"created", document.Time(l.CreatedAt))}, nil
}

// listAll reads every page of a list, newest first as the API lists.
func listAll[T any](list func(p page.Request) ([]T, int64, error)) ([]T, error) {
	var all []T
	for offset := 0; ; offset += document.MaxLimit {
		items, _, err := list(page.Request{Limit: document.MaxLimit, Offset: offset})
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if len(items) < document.MaxLimit {
			return all, nil
		}
	}
}

func many[T any](items []T, node func(*T) *jsonapi.Node) any {
	nodes := make([]*jsonapi.Node, len(items))
	for i := range items {
		nodes[i] = node(&items[i])
	}
	return &jsonapi.ManyPayload{Data: nodes}
}

func listProducts(*flag.FlagSet) func(*session, string) (result, error) {
	return func(s *session, _ string) (result, error) {
		products, err := listAll(func(p page.Request) ([]product.Product, int64, error) {
			return s.app.Products.List(s.ctx, s.who, s.tenant, p)
		})
		if err != nil {
			return result{}, err
		}
		rows := make([][]string, len(products))
		for i, p := range products {
			rows[i] = []string{p.ID, p.Name, orDash(p.Code), p.DistributionStrategy, document.Time(p.CreatedAt)}
		}
		return result{document: many(products, serializer.Product),
			text: table([]string{"ID", "NAME", "CODE", "DISTRIBUTION", "CREATED"}, rows)}, nil
	}
}

func listPolicies(f *flag.FlagSet) func(*session, string) (result, error) {
	productRef := f.String("product", "", "only this product's policies (id or code)")
	return func(s *session, _ string) (result, error) {
		policies, err := listAll(func(p page.Request) ([]policy.Policy, int64, error) {
			return s.app.Policies.List(s.ctx, s.who, s.tenant, *productRef, p)
		})
		if err != nil {
			return result{}, err
		}
		rows := make([][]string, len(policies))
		for i, p := range policies {
			duration := "-"
			if p.Duration != nil {
				duration = (time.Duration(*p.Duration) * time.Second).String()
			}
			rows[i] = []string{p.ID, p.Name, p.ProductID, duration, orDash(p.MaxMachines), p.AuthenticationStrategy, document.Time(p.CreatedAt)}
		}
		return result{document: many(policies, serializer.Policy),
			text: table([]string{"ID", "NAME", "PRODUCT", "DURATION", "MAX MACHINES", "AUTHENTICATION", "CREATED"}, rows)}, nil
	}
}
