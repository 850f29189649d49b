// Package app wires relkey together: configuration in, a running set of
// stores, rules and the HTTP API out. It is the only place that knows every
// concrete type.
package app

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/analytics"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/catalog"
	"github.com/relkey/relkey/internal/checkout"
	"github.com/relkey/relkey/internal/config"
	"github.com/relkey/relkey/internal/console"
	"github.com/relkey/relkey/internal/database"
	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/feed"
	"github.com/relkey/relkey/internal/feed/oci"
	"github.com/relkey/relkey/internal/group"
	"github.com/relkey/relkey/internal/httpapi"
	"github.com/relkey/relkey/internal/identity"
	"github.com/relkey/relkey/internal/joblease"
	"github.com/relkey/relkey/internal/key"
	"github.com/relkey/relkey/internal/keyring"
	"github.com/relkey/relkey/internal/legacyrelease"
	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/mail"
	"github.com/relkey/relkey/internal/metrics"
	"github.com/relkey/relkey/internal/onboard"
	"github.com/relkey/relkey/internal/password"
	"github.com/relkey/relkey/internal/policy"
	"github.com/relkey/relkey/internal/product"
	"github.com/relkey/relkey/internal/proof"
	"github.com/relkey/relkey/internal/ratelimit"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
	"github.com/relkey/relkey/internal/requestlog"
	"github.com/relkey/relkey/internal/search"
	"github.com/relkey/relkey/internal/secondfactor"
	"github.com/relkey/relkey/internal/session"
	"github.com/relkey/relkey/internal/setting"
	"github.com/relkey/relkey/internal/storage"
	"github.com/relkey/relkey/internal/token"
	"github.com/relkey/relkey/internal/user"
	"github.com/relkey/relkey/internal/validation"
	"github.com/relkey/relkey/internal/webhook"
)

// App is an assembled relkey.
type App struct {
	httpapi.Services
	Config config.Config
	Logger *slog.Logger
	DB     *database.DB
	Events *event.Bus
	// Feeds decides what desktop updaters are offered.
	Feeds *feed.Service
	// Toucher records validations in batches; closed last.
	Toucher *license.Toucher
	// Downloads counts release downloads in batches; closed with Toucher.
	Downloads *release.DownloadTally
	// Outbox records the events of every change; webhookStore delivers them.
	Outbox *event.Outbox
	// Validated records the events of hot paths (validations, activations)
	// in batches; closed with Toucher.
	Validated    *event.Buffer
	webhookStore *webhook.Store
	// The stores the event renderer loads the records events name from.
	licenseStore *license.Store
	releaseStore *release.Store
	// RegistryTokens are the OCI engine's bearer tokens (the distribution
	// token flow), sealed with a key of their own.
	RegistryTokens *oci.Tokens
	machineStore   *machine.Store
	userStore      *user.Store
	// Metrics, once Instrument made them, count what the app does; nil = off.
	Metrics *metrics.Metrics
	// Sessions are the web console's and portal's; Pages serve them.
	Sessions *session.Sessions
	Pages    *console.Pages
	// usageBuffer gathers the usage signals (nil with analytics off);
	// closed with Toucher, which flushes it.
	usageBuffer    *analytics.Buffer
	analyticsStore *analytics.Store
	// Mail holds the mail RunJobs sends (RELKEY_SMTP_URL); nil without SMTP.
	Mail *mail.Outbox
	// Leases let one replica at a time run each background pass.
	Leases *joblease.Leases
}

// Open connects to the configured database and object store, applies
// pending migrations and builds the rules.
func Open(ctx context.Context, cfg config.Config, logger *slog.Logger) (*App, error) {
	master := cfg.SecretKey
	if master == "" {
		var err error
		if master, err = keyring.LoadOrCreate(cfg.SecretKeyPath()); err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
	}
	kr, err := keyring.New(master)
	if err != nil {
		return nil, err
	}
	registryKeys, err := keyring.New(hex.EncodeToString(keyring.Derive(master, "relkey/oci-registry-tokens")))
	if err != nil {
		return nil, err
	}
	db, err := OpenDatabase(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := db.MigrateUp(); err != nil {
		db.Close()
		return nil, err
	}
	a := &App{Config: cfg, Logger: logger, DB: db, RegistryTokens: oci.NewTokens(registryKeys), Leases: joblease.New(db)}
	if cfg.Storage != nil {
		s3, err := storage.NewS3(cfg.Storage)
		if err != nil {
			db.Close()
			return nil, err
		}
		ensureCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := s3.EnsureBucket(ensureCtx); err != nil {
			// Presigned URLs keep working while S3 is away; say so and go on.
			logger.Warn("object storage is not reachable yet", "error", err)
		}
		cancel()
		a.Storage = s3
	} else {
		local, err := storage.NewLocal(cfg.BlobDir(), kr.URLSigningKey(), cfg.PublicURL)
		if err != nil {
			db.Close()
			return nil, err
		}
		a.Storage, a.Local = local, local
	}
	tokenStore := token.NewStore(db)
	a.Events = &event.Bus{}
	a.Outbox = event.NewOutbox(db, eventRenderer{a}.render)
	a.webhookStore = webhook.NewStore(db)
	a.Outbox.FannedOutBy(a.webhookStore.FanOutBatch)
	a.Validated = event.NewBuffer(a.Outbox, 4096, logger)
	a.EventLog = event.NewLog(db)
	a.Webhooks = webhook.NewService(a.webhookStore, a.webhookTargets(), time.Now)
	if cfg.RequestLog {
		a.RequestLog = requestlog.New(db, 4096, logger)
	}
	a.Tokens = token.NewService(tokenStore, a.Outbox)
	a.Groups = group.NewService(group.NewStore(db), a.Outbox)
	a.userStore = user.NewStore(db)
	a.Users = user.NewService(a.userStore, a.Outbox, tokenStore, a.Events, password.NewHasher(cfg.PasswordCost, 0), a.Groups.Limits(group.Users))
	a.Accounts = account.NewService(account.NewStore(db), a.Outbox, kr)
	settingStore := setting.NewStore(db)
	a.Settings = setting.NewService(settingStore, a.Outbox, a.Accounts)
	a.Accounts.SetDefaults(settingStore)
	a.Accounts.SetEmitter(func(ctx context.Context, who *access.Principal, acct *account.Account) error {
		return a.Outbox.Emit(ctx, event.Occurrence{Event: event.AccountUpdated, AccountID: acct.ID, Resource: acct, Who: who})
	})
	a.Products = product.NewService(product.NewStore(db), a.Outbox, tokenStore)
	a.Policies = policy.NewService(policy.NewStore(db), a.Products, a.Outbox)
	machineStore := machine.NewStore(db)
	a.machineStore = machineStore
	a.licenseStore = license.NewStore(db)
	a.Keys = key.NewService(key.NewStore(db), a.Policies, kr, a.Outbox)
	a.Licenses = license.NewService(a.licenseStore, a.Policies, a.Users, kr, a.Accounts, machineStore, a.Groups.Limits(group.Licenses), a.Keys, a.Outbox)
	a.Machines = machine.NewService(machineStore, a.Outbox, a.Licenses, a.Policies, a.Users, tokenStore, a.Validated, a.Groups.Limits(group.Machines))
	a.Proofs = proof.NewService(a.Machines, a.Accounts, a.Outbox)
	a.Entitlements = entitlement.NewService(entitlement.NewStore(db), attachmentTargets{a}, a.Outbox)
	a.Search = search.NewService(search.NewStore(db))
	a.SecondFactors = secondfactor.NewService(secondfactor.NewStore(db), a.Outbox, kr, a.Users)
	a.Users.SetSecondFactors(a.SecondFactors)
	if cfg.SMTP != nil {
		a.Mail = mail.NewOutbox(db, kr)
		a.Users.SetResetMailer(resetMailer{a.Mail})
	}
	releaseStore, packageStore := release.NewStore(db), releasepackage.NewStore(db)
	a.releaseStore = releaseStore
	catalogStore := catalog.NewStore(db, releaseStore, packageStore)
	a.Catalog = catalog.NewService(catalogStore)
	a.Packages = releasepackage.NewService(packageStore, a.Products, catalogStore, a.Outbox)
	a.Releases = release.NewService(releaseStore, a.Products, a.Packages, a.Licenses, a.Entitlements, catalogStore, a.Outbox, a.Validated)
	a.Downloads = release.NewDownloadTally(releaseStore, logger)
	artifactStore := artifact.NewStore(db, releaseStore, a.Downloads)
	a.Artifacts = artifact.NewService(artifactStore, a.Releases, a.Licenses, catalogStore, a.Storage, a.Local != nil).Recording(a.Outbox, a.Validated).Logging(logger)
	a.LegacyReleases = legacyrelease.NewService(a.Releases, a.Artifacts, a.Outbox, a.Validated)
	// Feeds publish the upgrades they offer; they are recorded as the
	// upgrade route's are, off the request path.
	a.Events.Subscribe(func(_ context.Context, e event.Event) {
		if e.Type == event.ReleaseUpgraded {
			a.Validated.Emit(event.Occurrence{Event: e.Type, AccountID: e.AccountID, Metadata: e.Meta,
				Resource: event.Ref{Type: "releases", AccountID: e.AccountID, ID: e.ResourceID}})
		}
	})
	a.Feeds = feed.NewService(a.Packages, a.Releases, a.Artifacts, artifact.NewOffers(artifactStore), a.Events)
	a.Identity = identity.NewService(a.Tokens, a.Users, a.Products, a.Licenses)
	a.Issuing = identity.NewIssuing(a.Tokens, a.Users, a.Products, a.Licenses)
	a.Toucher = license.NewToucher(db, 4096, logger)
	validator := validation.New(machineStore, a.Entitlements, a.Users, release.NewCatalog(releaseStore))
	a.Validations = validation.NewService(a.Licenses, validator, a.Toucher, a.Validated)
	a.Checkouts = checkout.NewService(a.Licenses, a.Machines, checkoutRelated{a.Products, a.Users, a.Entitlements})
	a.Limiter = ratelimit.New(db)
	a.openAnalytics()
	a.Guesses = ratelimit.NewGuesses(a.Limiter)
	if err := a.openPages(); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// openPages builds the web console and portal over the API's services.
func (a *App) openPages() error {
	a.Sessions = session.NewSessions(a.DB)
	a.PortalLinks = &session.PortalLinks{Sessions: a.Sessions, Changes: a.Outbox, Licenses: a.Licenses, Users: a.Users, Products: a.Products}
	pages, err := console.New(console.Deps{
		Services: console.Services{
			Accounts: a.Accounts, Identity: a.Identity, Issuing: a.Issuing, Users: a.Users, Tokens: a.Tokens,
			Products: a.Products, Policies: a.Policies, Licenses: a.Licenses, Machines: a.Machines,
			Releases: a.Releases, Artifacts: a.Artifacts, Webhooks: a.Webhooks, EventLog: a.EventLog,
			Limiter: a.Limiter, Storage: a.Storage, Entitlements: a.Entitlements, Groups: a.Groups, Search: a.Search,
			Analytics: a.Analytics,
		},
		Sessions: a.Sessions, PortalLinks: a.PortalLinks, Logger: a.Logger, DefaultAccount: a.Config.Account, PublicURL: a.Config.PublicURL,
	})
	a.Pages = pages
	return err
}

// OpenDatabase connects to the configured database without migrating it.
func OpenDatabase(ctx context.Context, cfg config.Config) (*database.DB, error) {
	return database.Open(ctx, databaseOptions(cfg))
}

// Instrument makes the app's metrics: the database pools and statements from
// now on, the usage analytics buffer, the batch writers' queues, and the API
// and background passes that Server and RunJobs start after it. version is
// the build's.
func (a *App) Instrument(version string) (*metrics.Metrics, error) {
	m := metrics.New(version)
	m.WatchPool(a.DB.SQL, string(a.DB.Engine))
	m.WatchPool(a.DB.BackgroundPool(), string(a.DB.Engine)+"-background")
	if err := a.DB.ObserveStatements(m.Statement); err != nil {
		return nil, err
	}
	if a.usageBuffer != nil {
		m.WatchUsage(a.usageBuffer)
	}
	m.WatchQueue("events", a.Validated)
	m.WatchQueue("license_touches", a.Toucher)
	if a.RequestLog != nil {
		m.WatchQueue("request_log", a.RequestLog)
	}
	a.Metrics = m
	return m, nil
}

// RunJobs runs the background jobs of a serving replica until ctx ends, and
// returns once every job has finished its pass. Every replica runs them;
// each pass runs on the one replica holding its lease (see every), except
// the sharing of this replica's guess counts and webhook delivery, whose
// workers claim each delivery once and so share the work.
func (a *App) RunJobs(ctx context.Context) {
	var jobs sync.WaitGroup
	jobs.Go(func() { a.every(ctx, 2*time.Second, "settle_uploads", a.Artifacts.SettleWaiting) })
	jobs.Go(func() { a.onThisReplica(ctx, time.Second, "share_guess_counts", a.Guesses.Sync) })
	culler, deaths := machine.NewCuller(a.DB), machine.NewDeaths(a.DB, a.Outbox)
	jobs.Go(func() {
		a.every(ctx, time.Minute, "cull_machines", func(ctx context.Context) error {
			// Deaths first: a machine culled in this pass has its event.
			if _, err := deaths.Pass(ctx, time.Now()); err != nil {
				return err
			}
			n, err := culler.Cull(ctx)
			if n > 0 {
				a.Logger.Info("deactivated dead machines", "count", n)
			}
			return err
		})
	})
	if a.Mail != nil {
		mailer := a.MailWorker()
		jobs.Go(func() {
			a.every(ctx, 2*time.Second, "send_mail", func(ctx context.Context) error {
				_, err := mailer.Pass(ctx)
				return err
			})
		})
	}
	deliveries := a.DeliveryWorker(webhook.WorkerOptions{})
	jobs.Go(func() { deliveries.Run(database.Background(ctx), time.Second) })
	reminders := license.NewReminders(a.DB, a.Outbox)
	jobs.Go(func() {
		a.every(ctx, time.Minute, "license_reminders", func(ctx context.Context) error {
			_, err := reminders.Pass(ctx, time.Now())
			return err
		})
	})
	if a.RequestLog != nil {
		jobs.Go(func() {
			a.every(ctx, time.Hour, "prune_request_log", func(ctx context.Context) error {
				_, err := a.RequestLog.Prune(ctx, a.Config.RequestLogRetention, time.Now())
				return err
			})
		})
	}
	jobs.Go(func() { a.every(ctx, time.Hour, "prune_analytics", a.pruneAnalytics) })
	jobs.Go(func() {
		a.every(ctx, time.Hour, "snapshot_analytics_inventory", func(ctx context.Context) error {
			_, err := a.Analytics.SnapshotInventory(ctx)
			return err
		})
	})
	jobs.Go(func() {
		a.every(ctx, time.Hour, "prune_sessions", func(ctx context.Context) error {
			_, err := a.Sessions.Prune(ctx, time.Now())
			return err
		})
	})
	jobs.Go(func() {
		a.every(ctx, time.Hour, "prune_event_log", func(ctx context.Context) error {
			_, err := a.EventLog.Prune(ctx, a.Config.EventLogRetention, time.Now())
			return err
		})
	})
	jobs.Wait()
}

// every runs pass every interval, each within the interval, until ctx
// ends, on one replica at a time: a replica runs a pass only once it holds
// the pass's lease (RunPass). A failed pass is logged and the next one
// tries again. Each pass is counted in the metrics under its name (a
// snake_case label).
func (a *App) every(ctx context.Context, interval time.Duration, name string, pass func(context.Context) error) {
	a.repeat(ctx, interval, name, func(ctx context.Context) (bool, error) { return a.RunPass(ctx, name, interval, pass) })
}

// onThisReplica is every for a pass over this replica's own memory: it
// runs on every replica.
func (a *App) onThisReplica(ctx context.Context, interval time.Duration, name string, pass func(context.Context) error) {
	a.repeat(ctx, interval, name, func(ctx context.Context) (bool, error) { return true, pass(ctx) })
}

// RunPass runs pass when this replica holds, or can take, the lease of the
// pass name for interval, and reports whether it ran.
func (a *App) RunPass(ctx context.Context, name string, interval time.Duration, pass func(context.Context) error) (bool, error) {
	held, err := a.Leases.Claim(ctx, name, interval)
	if err != nil || !held {
		return false, err
	}
	return true, pass(ctx)
}

// repeat runs pass every interval until ctx ends; the passes that ran are
// recorded.
func (a *App) repeat(ctx context.Context, interval time.Duration, name string, pass func(context.Context) (bool, error)) {
	record := func(time.Duration, error) {}
	if a.Metrics != nil {
		record = a.Metrics.Pass(name)
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			passCtx, cancel := context.WithTimeout(ctx, interval)
			started := time.Now()
			ran, err := pass(passCtx)
			cancel()
			if ctx.Err() != nil {
				// Stopping cut the pass short: neither a failure nor a success.
				return
			}
			if ran || err != nil {
				record(time.Since(started), err)
			}
			if err != nil {
				a.Logger.Warn("background pass failed", "pass", name, "error", err)
			}
		}
	}
}

// Server builds the HTTP API over the app.
func (a *App) Server() *httpapi.Server {
	deps := httpapi.Deps{
		Services:       a.Services,
		Logger:         a.Logger,
		Pinger:         a.DB,
		DefaultAccount: a.Config.Account,
		PublicURL:      a.Config.PublicURL,
		RequestTimeout: a.Config.RequestTimeout,
		MaxBodyBytes:   a.Config.MaxBodyBytes,
		Engines:        a.engines(),
		Edge:           a.Config.Edge,
	}
	if a.Metrics != nil {
		deps.Observer = a.Metrics
	}
	deps.Pages = a.Pages
	return httpapi.New(deps)
}

// Onboard creates an account with its first admin and admin token.
func (a *App) Onboard(ctx context.Context, o onboard.Onboarding) (*onboard.Onboarded, error) {
	return onboard.Onboard(ctx, a.Accounts, a.Users, a.Tokens, o)
}

// Close records pending validations and releases the database.
func (a *App) Close() error {
	a.Toucher.Close()
	a.Validated.Close()
	if a.RequestLog != nil {
		a.RequestLog.Close()
	}
	a.Downloads.Close()
	if a.usageBuffer != nil {
		a.usageBuffer.Close()
	}
	return a.DB.Close()
}

// MailWorker sends the mail outbox over the configured SMTP server.
func (a *App) MailWorker() *mail.Worker {
	return mail.NewWorker(a.Mail, mail.NewSender(*a.Config.SMTP), a.Logger)
}

// resetMailer mails password reset tokens through the outbox.
type resetMailer struct{ outbox *mail.Outbox }

func (m resetMailer) MailPasswordReset(ctx context.Context, t *account.Tenant, u *user.User, token string, expiry time.Time) error {
	return m.outbox.Enqueue(ctx, mail.PasswordReset(t.ID, t.Name, t.Slug, u.Email, u.ID, token, expiry))
}

// checkoutRelated finds what a license file includes about a license the
// check-out has already authorized.
type checkoutRelated struct {
	products     *product.Service
	users        *user.Service
	entitlements *entitlement.Service
}

func (r checkoutRelated) Product(ctx context.Context, accountID, id string) (*product.Product, error) {
	return r.products.Bearer(ctx, accountID, id)
}

func (r checkoutRelated) Owner(ctx context.Context, accountID, id string) (*user.User, error) {
	return r.users.Bearer(ctx, accountID, id)
}

func (r checkoutRelated) Entitlements(ctx context.Context, accountID, licenseID, policyID string) ([]entitlement.Entitlement, error) {
	return r.entitlements.Of(ctx, accountID, licenseID, policyID)
}

// attachmentTargets finds, for the entitlement rules, the policies,
// licenses and releases entitlements attach to. The releases are built
// after the entitlements, so it reads the services off the app when asked.
type attachmentTargets struct{ app *App }

// Policy is a policy who may see.
func (t attachmentTargets) Policy(ctx context.Context, who *access.Principal, tenant *account.Tenant, ref string) (string, error) {
	pol, err := t.app.Policies.Visible(ctx, who, tenant, ref)
	if err != nil {
		return "", err
	}
	return pol.ID, nil
}

// License is a license who may see, by id or key, and its policy.
func (t attachmentTargets) License(ctx context.Context, who *access.Principal, tenant *account.Tenant, ref string) (string, string, error) {
	l, _, err := t.app.Licenses.Visible(ctx, who, tenant, ref)
	if err != nil {
		return "", "", err
	}
	return l.ID, l.PolicyID, nil
}

// Release is a release who may read, by id, version or tag.
func (t attachmentTargets) Release(ctx context.Context, who *access.Principal, tenant *account.Tenant, ref entitlement.Ref) (string, error) {
	r, err := t.app.Releases.Find(ctx, who, tenant, ref.ID, release.Narrowing{Product: ref.Product, Package: ref.Package})
	if err != nil {
		return "", err
	}
	return r.ID, nil
}
