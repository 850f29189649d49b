package keygenimport_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/relkey/relkey/internal/event"
	"github.com/relkey/relkey/internal/keygenimport"
	"github.com/relkey/relkey/internal/testenv"
	"github.com/relkey/relkey/internal/testserver"
	"github.com/relkey/relkey/pkg/relkey"
)

// server is a relkey served over HTTP with one account, whose requests
// fail once a budget runs out, and which records the password resets it
// publishes.
type server struct {
	*testserver.Server
	admin *relkey.Client // the account's admin, verifying signatures
	// left is how many more requests are served before every one fails
	// with a 500; with failDownloads, downloads of blobs fail too.
	left          atomic.Int64
	failDownloads atomic.Bool
	mu            sync.Mutex
	reset         map[string]string // email -> password reset token published
}

const unlimited = 1 << 62

func serve(t *testing.T, b testenv.Backend, slug string) *server {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	cfg := testserver.Embedded(t.TempDir())
	cfg.SecretKey = hex.EncodeToString(key)
	if b.Postgres {
		cfg.DatabaseURL, cfg.Storage = testenv.PostgresURL(t), testenv.S3(t)
	} else {
		testenv.SQLiteFile(t, cfg.SQLitePath())
	}
	s := &server{reset: map[string]string{}}
	s.left.Store(unlimited)
	var err error
	s.Server, err = testserver.Start(cfg, slug, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if s.left.Add(-1) < 0 || s.failDownloads.Load() && strings.HasPrefix(r.URL.Path, "/v1/blobs/") {
				w.WriteHeader(http.StatusInternalServerError)
				io.WriteString(w, `{"errors":[{"title":"Internal server error","code":"INTERNAL"}]}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.App.Events.Subscribe(func(ctx context.Context, e event.Event) {
		u, err := s.App.Users.Bearer(ctx, e.AccountID, e.ResourceID)
		if err == nil && e.Type == event.UserPasswordReset {
			s.mu.Lock()
			s.reset[u.Email] = e.Meta["passwordResetToken"].(string)
			s.mu.Unlock()
		}
	})
	s.admin = s.Admin()
	return s
}

func (s *server) resetToken(email string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reset[email]
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// seeded is what seed put on the source.
type seeded struct {
	keys      map[string]string // license name -> key
	artifacts map[string]string // filename -> bytes
}

// seed fills a source account through its API as a Keygen user's account
// would be: two products (one without a code), entitlements, policies
// (node-locked with an entitlement, floating with signed keys, another
// product's), users (one banned), licenses (a custom key with an owner, an
// entitlement of its own and uses; a signed key with a limit of its own; a
// suspended one), machines with components, a package, and releases
// (published, packaged and constrained, yanked, draft) with artifacts, and
// a group (alice in it, so her license and machine too; bob its owner).
func seed(t *testing.T, c *relkey.Client) seeded {
	t.Helper()
	ctx := context.Background()
	out := seeded{keys: map[string]string{}, artifacts: map[string]string{}}
	desktop := must[*relkey.Product](t)(c.Products.Create(ctx, relkey.ProductAttributes{Name: "Desktop", Code: relkey.String("desktop"), Metadata: map[string]any{"tier": "gold"}}))
	tools := must[*relkey.Product](t)(c.Products.Create(ctx, relkey.ProductAttributes{Name: "Tools", URL: relkey.String("https://tools.example")}))
	pro := must[*relkey.Entitlement](t)(c.Entitlements.Create(ctx, relkey.EntitlementAttributes{Name: "Pro", Code: "PRO"}))
	beta := must[*relkey.Entitlement](t)(c.Entitlements.Create(ctx, relkey.EntitlementAttributes{Name: "Beta", Code: "BETA"}))
	nodeLocked := must[*relkey.Policy](t)(c.Policies.Create(ctx, relkey.PolicyAttributes{ProductID: desktop.ID, Name: "Node-locked",
		MaxMachines: relkey.Int(1), AuthenticationStrategy: "LICENSE", RequireFingerprintScope: relkey.Bool(true)}))
	if err := c.Policies.AttachEntitlements(ctx, nodeLocked.ID, pro.ID); err != nil {
		t.Fatal(err)
	}
	floating := must[*relkey.Policy](t)(c.Policies.Create(ctx, relkey.PolicyAttributes{ProductID: desktop.ID, Name: "Floating",
		Floating: relkey.Bool(true), MaxMachines: relkey.Int(5), Scheme: relkey.String("ED25519_SIGN")}))
	basic := must[*relkey.Policy](t)(c.Policies.Create(ctx, relkey.PolicyAttributes{ProductID: tools.ID, Name: "Basic", Duration: relkey.Int(86400 * 365)}))
	team := must[*relkey.Group](t)(c.Groups.Create(ctx, relkey.GroupAttributes{Name: "Team", MaxLicenses: relkey.Int(2), Metadata: map[string]any{"crm": "T-1"}}))
	alice := must[*relkey.User](t)(c.Users.Create(ctx, relkey.UserAttributes{GroupID: team.ID, Email: "alice@example.com", FirstName: relkey.String("Alice"), Password: relkey.String("alice-secret")}))
	bob := must[*relkey.User](t)(c.Users.Create(ctx, relkey.UserAttributes{Email: "bob@example.com"}))
	if err := c.Groups.AttachOwners(ctx, team.ID, bob.ID); err != nil {
		t.Fatal(err)
	}
	must[*relkey.Response](t)(c.Do(ctx, "POST", "/users/"+bob.ID+"/actions/ban", nil, nil))

	l1 := must[*relkey.License](t)(c.Licenses.Create(ctx, relkey.LicenseAttributes{PolicyID: nodeLocked.ID, OwnerID: alice.ID, Key: "DESKTOP-ALICE-0001"}))
	if err := c.Licenses.AttachEntitlements(ctx, l1.ID, beta.ID); err != nil {
		t.Fatal(err)
	}
	must[*relkey.Response](t)(c.Do(ctx, "POST", "/licenses/"+l1.ID+"/actions/increment-usage", []byte(`{"meta":{"increment":3}}`), nil))
	l2 := must[*relkey.License](t)(c.Licenses.Create(ctx, relkey.LicenseAttributes{PolicyID: floating.ID, MaxMachines: relkey.Int(3)}))
	l3 := must[*relkey.License](t)(c.Licenses.Create(ctx, relkey.LicenseAttributes{PolicyID: basic.ID, Key: "TOOLS-SUSPENDED-1", Suspended: relkey.Bool(true)}))
	out.keys["l1"], out.keys["l2"], out.keys["l3"] = l1.Key, l2.Key, l3.Key

	m1 := must[*relkey.Machine](t)(c.Machines.Create(ctx, relkey.MachineAttributes{LicenseID: l1.ID, Fingerprint: "fp-alice", Hostname: relkey.String("alice-laptop")}))
	for _, fp := range []string{"cpu-1", "disk-1"} {
		must[*relkey.Component](t)(c.Components.Create(ctx, relkey.ComponentAttributes{MachineID: m1.ID, Fingerprint: fp, Name: fp}))
	}
	for _, fp := range []string{"fp-seat-1", "fp-seat-2"} {
		must[*relkey.Machine](t)(c.Machines.Create(ctx, relkey.MachineAttributes{LicenseID: l2.ID, Fingerprint: fp}))
	}

	app := must[*relkey.Package](t)(c.Packages.Create(ctx, relkey.PackageAttributes{ProductID: desktop.ID, Name: "Desktop app", Key: "desktop-app"}))
	for _, r := range []struct {
		version, status, pkg, file string
		constrained                bool
	}{
		{"1.0.0", "PUBLISHED", "", "desktop-1.0.0.zip", false},
		{"2.0.0", "PUBLISHED", app.ID, "desktop-2.0.0.zip", true},
		{"0.9.0", "YANKED", "", "desktop-0.9.0.zip", false},
	} {
		status := r.status
		if status == "YANKED" {
			status = "PUBLISHED"
		}
		rel := must[*relkey.Release](t)(c.Releases.Create(ctx, relkey.ReleaseAttributes{ProductID: desktop.ID, PackageID: r.pkg, Version: r.version, Channel: "stable", Status: status}))
		data := strings.Repeat("bytes of "+r.file+"\n", 1000)
		must[*relkey.Artifact](t)(c.Artifacts.Upload(ctx, relkey.ArtifactAttributes{ReleaseID: rel.ID, Filename: r.file, Platform: relkey.String("linux")}, strings.NewReader(data), int64(len(data))))
		out.artifacts[r.file] = data
		if r.constrained {
			if err := c.Releases.AttachConstraints(ctx, rel.ID, pro.ID); err != nil {
				t.Fatal(err)
			}
		}
		if r.status == "YANKED" {
			must[*relkey.Release](t)(c.Releases.Yank(ctx, rel.ID))
		}
	}
	must[*relkey.Release](t)(c.Releases.Create(ctx, relkey.ReleaseAttributes{ProductID: tools.ID, Version: "1.0.0", Channel: "stable"}))
	return out
}

// everything is how many items of each kind seed made.
var everything = map[keygenimport.Kind]int{
	keygenimport.Products: 2, keygenimport.Entitlements: 2, keygenimport.Policies: 3, keygenimport.PolicyEntitlements: 1,
	keygenimport.Groups: 1, keygenimport.GroupOwners: 1,
	keygenimport.Users: 3, keygenimport.Licenses: 3, keygenimport.LicenseEntitlements: 1, keygenimport.Machines: 3,
	keygenimport.Components: 2, keygenimport.Packages: 1, keygenimport.Releases: 4, keygenimport.ReleaseConstraints: 1,
	keygenimport.Artifacts: 3,
}

func importer(src, dst *server) *keygenimport.Importer {
	return &keygenimport.Importer{Source: src.admin, Target: dst.App.ImportTarget(dst.Tenant)}
}

// eachTarget runs fn with a seeded source (on the embedded store) and a
// fresh target on every backend.
func eachTarget(t *testing.T, fn func(t *testing.T, src, dst *server, want seeded)) {
	t.Parallel()
	for _, b := range testenv.Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			src := serve(t, testenv.Backend{Name: "embedded"}, "keygen")
			fn(t, src, serve(t, b, "acme"), seed(t, src.admin))
		})
	}
}

func TestImportFromAKeygenServer(t *testing.T) {
	eachTarget(t, func(t *testing.T, src, dst *server, want seeded) {
		ctx := context.Background()

		first, err := importer(src, dst).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for kind, n := range everything {
			if got := first.Of(kind); got != (keygenimport.Counts{Created: n}) {
				t.Errorf("first run, %s: %+v, want %d created", kind, got, n)
			}
		}
		if first.PasswordResets != 3 || len(first.Failures) != 0 {
			t.Errorf("first run: %d password resets (want 3), failures %v", first.PasswordResets, first.Failures)
		}
		checkTarget(t, dst, want)

		second, err := importer(src, dst).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for kind, n := range everything {
			if got := second.Of(kind); got != (keygenimport.Counts{Skipped: n}) {
				t.Errorf("second run, %s: %+v, want %d skipped", kind, got, n)
			}
		}
		if second.PasswordResets != 0 {
			t.Errorf("second run sent %d password resets again", second.PasswordResets)
		}
		checkTarget(t, dst, want)
	})
}

// TestImportResumesWhereItStopped interrupts the import while it copies an
// artifact's bytes, then at every third request to the source in turn (the
// source answers 500 once its budget is spent), running it again each
// time: every item is created exactly once over the runs, and the target
// ends as a single run leaves it.
func TestImportResumesWhereItStopped(t *testing.T) {
	eachTarget(t, func(t *testing.T, src, dst *server, want seeded) {
		total := map[keygenimport.Kind]int{}
		src.failDownloads.Store(true)
		summary, err := importer(src, dst).Run(context.Background())
		if relkey.ErrorStatus(err) != http.StatusInternalServerError || waitingArtifacts(t, dst) != 1 {
			t.Fatalf("with downloads failing: %v, %d artifacts waiting for their bytes (want 1)", err, waitingArtifacts(t, dst))
		}
		src.failDownloads.Store(false)
		for kind := range everything {
			total[kind] += summary.Of(kind).Created
		}
		for budget := int64(1); ; budget += 3 {
			src.left.Store(budget)
			summary, err := importer(src, dst).Run(context.Background())
			for kind := range everything {
				total[kind] += summary.Of(kind).Created
				if f := summary.Of(kind).Failed; f != 0 {
					t.Fatalf("run %d: %d %s failed: %v", budget, f, kind, summary.Failures)
				}
			}
			if err == nil {
				break
			}
			if relkey.ErrorStatus(err) != http.StatusInternalServerError {
				t.Fatalf("run %d stopped with %v, want the source's 500", budget, err)
			}
			if budget > 300 {
				t.Fatal("the import never finished")
			}
		}
		src.left.Store(unlimited)
		for kind, n := range everything {
			if total[kind] != n {
				t.Errorf("%s created %d times over the runs, want %d", kind, total[kind], n)
			}
		}
		checkTarget(t, dst, want)
	})
}

func waitingArtifacts(t *testing.T, s *server) int {
	t.Helper()
	n := 0
	for a, err := range s.admin.Artifacts.All(context.Background(), relkey.ListOptions{}) {
		if must[*relkey.Artifact](t)(a, err).Status == "WAITING" {
			n++
		}
	}
	return n
}

// checkTarget checks the imported account through its API: the keys
// issued on the source validate with the same license, what licenses and
// users carried came along, and artifacts download byte for byte.
func checkTarget(t *testing.T, dst *server, want seeded) {
	t.Helper()
	ctx := context.Background()
	c := dst.admin
	for kind, got := range map[string]int{
		"products": total(t, c.Products.Lister), "policies": total(t, c.Policies.Lister), "licenses": total(t, c.Licenses.Lister),
		"machines": total(t, c.Machines.Lister), "releases": total(t, c.Releases.Lister), "artifacts": total(t, c.Artifacts.Lister),
		"users": total(t, c.Users.Lister, "user", "admin") - 1, // the target's own admin
	} {
		if want := everything[keygenimport.Kind(kind)]; got != want {
			t.Errorf("the target has %d %s, want %d", got, kind, want)
		}
	}

	app := c.Anonymous()
	v := must[*relkey.Validation](t)(app.Licenses.ValidateKey(ctx, want.keys["l1"], &relkey.Scope{Fingerprint: "fp-alice", Entitlements: []string{"PRO", "BETA"}}))
	alice := must[*relkey.User](t)(c.Users.Get(ctx, "alice@example.com"))
	if !v.Valid || v.Code != "VALID" || v.License.Key != want.keys["l1"] || v.License.OwnerID != alice.ID || v.License.Uses != 3 || *v.License.MaxMachines != 1 {
		t.Errorf("the node-locked key on the target: %s %s, license %+v", v.Code, v.Detail, v.License)
	}
	v = must[*relkey.Validation](t)(app.Licenses.ValidateKey(ctx, want.keys["l2"], nil))
	if !v.Valid || !strings.HasPrefix(v.License.Key, "key/") || *v.License.MaxMachines != 3 {
		t.Errorf("the signed key on the target: %s %s, max machines %v", v.Code, v.Detail, v.License.MaxMachines)
	}
	if v := must[*relkey.Validation](t)(app.Licenses.ValidateKey(ctx, want.keys["l3"], nil)); v.Code != "SUSPENDED" {
		t.Errorf("the suspended license validates %s", v.Code)
	}
	bob := must[*relkey.User](t)(c.Users.Get(ctx, "bob@example.com"))
	if bob.Status != "BANNED" {
		t.Errorf("bob is %s on the target", bob.Status)
	}
	team := must[*relkey.Group](t)(c.Groups.Get(ctx, alice.GroupID))
	owners := must[*relkey.Page[relkey.GroupOwner]](t)(c.Groups.Owners(team.ID).List(ctx, relkey.ListOptions{}))
	if team.Name != "Team" || *team.MaxLicenses != 2 || team.Metadata["crm"] != "T-1" || len(owners.Items) != 1 || owners.Items[0].UserID != bob.ID {
		t.Errorf("the group on the target: %+v, owners %+v", team.GroupAttributes, owners.Items)
	}
	if v.License.GroupID != "" || must[*relkey.Machine](t)(c.Machines.Get(ctx, "fp-alice")).GroupID != team.ID {
		t.Errorf("licenses and machines joined the wrong groups")
	}
	if l1 := must[*relkey.License](t)(c.Licenses.Get(ctx, want.keys["l1"])); l1.GroupID != team.ID {
		t.Errorf("alice's license is in group %q, want %q", l1.GroupID, team.ID)
	}
	components := 0
	for _, err := range c.Machines.Components(must[*relkey.Machine](t)(c.Machines.Get(ctx, "fp-alice")).ID).All(ctx, relkey.ListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		components++
	}
	if components != 2 {
		t.Errorf("fp-alice has %d components", components)
	}

	// Users set their password with the reset they were sent.
	token := dst.resetToken("alice@example.com")
	if token == "" {
		t.Fatal("alice was sent no password reset")
	}
	if _, err := c.CreateToken(ctx, "alice@example.com", "alice-secret"); relkey.ErrorCode(err) != "PASSWORD_NOT_SUPPORTED" {
		t.Errorf("the source's password works on the target: %v", err)
	}

	for file, data := range want.artifacts {
		d := must[*relkey.Download](t)(c.Artifacts.Download(ctx, file, nil))
		got, err := io.ReadAll(d.Body)
		d.Body.Close()
		if err != nil || string(got) != data {
			t.Errorf("%s: downloaded %d bytes (%v), want the source's %d", file, len(got), err, len(data))
		}
	}
	yanked := must[*relkey.Release](t)(c.Releases.Get(ctx, "0.9.0"))
	two := must[*relkey.Release](t)(c.Releases.Get(ctx, "2.0.0"))
	var constraints []string
	for k, err := range c.Releases.Constraints(two.ID).All(ctx, relkey.ListOptions{}) {
		constraints = append(constraints, must[*relkey.Constraint](t)(k, err).EntitlementID)
	}
	pro := must[*relkey.Entitlement](t)(c.Entitlements.Get(ctx, "PRO"))
	pkg := must[*relkey.Package](t)(c.Packages.Get(ctx, "desktop-app"))
	if yanked.Status != "YANKED" || two.PackageID != pkg.ID || len(constraints) != 1 || constraints[0] != pro.ID {
		t.Errorf("releases: 0.9.0 %s; 2.0.0 in package %s (want %s), constrained by %v (want %s)", yanked.Status, two.PackageID, pkg.ID, constraints, pro.ID)
	}
}

func total[T any](t *testing.T, l relkey.Lister[T], roles ...string) int {
	t.Helper()
	opts := relkey.ListOptions{PageSize: 1}
	if roles != nil {
		opts.Filter = map[string][]string{"roles[]": roles}
	}
	p := must[*relkey.Page[T]](t)(l.List(context.Background(), opts))
	return p.Total
}

// TestResetTokensLetImportedUsersIn: the reset an imported user was sent
// sets their password on the target.
func TestResetTokensLetImportedUsersIn(t *testing.T) {
	t.Parallel()
	src := serve(t, testenv.Backend{Name: "embedded"}, "keygen")
	must[*relkey.User](t)(src.admin.Users.Create(context.Background(), relkey.UserAttributes{Email: "carol@example.com", Password: relkey.String("carol-old")}))
	dst := serve(t, testenv.Backend{Name: "embedded"}, "acme")
	if _, err := importer(src, dst).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	carol := must[*relkey.User](t)(dst.admin.Users.Get(ctx, "carol@example.com"))
	if _, err := dst.admin.Anonymous().Users.ResetPassword(ctx, carol.ID, dst.resetToken("carol@example.com"), "carol-new-password"); err != nil {
		t.Fatal(err)
	}
	tok, err := dst.admin.CreateToken(ctx, "carol@example.com", "carol-new-password")
	if err != nil || tok.Kind != "user-token" {
		t.Fatalf("carol logs in with %v, %v", tok, err)
	}
	if again, err := importer(src, dst).Run(ctx); err != nil || again.PasswordResets != 0 {
		t.Fatalf("a run after the reset: %v resets, %v", again.PasswordResets, err)
	}
}

// TestRefusedItemsAreCountedAndTheRestImported: what relkey's rules refuse
// fails alone, with its reason, and what depends on it says why.
func TestRefusedItemsAreCountedAndTheRestImported(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := serve(t, testenv.Backend{Name: "embedded"}, "keygen")
	a := must[*relkey.Product](t)(src.admin.Products.Create(ctx, relkey.ProductAttributes{Name: "Same"}))
	must[*relkey.Product](t)(src.admin.Products.Create(ctx, relkey.ProductAttributes{Name: "Same"}))
	pol := must[*relkey.Policy](t)(src.admin.Policies.Create(ctx, relkey.PolicyAttributes{ProductID: a.ID, Name: "P"}))
	must[*relkey.License](t)(src.admin.Licenses.Create(ctx, relkey.LicenseAttributes{PolicyID: pol.ID, Key: "TAKEN-KEY-1"}))
	dst := serve(t, testenv.Backend{Name: "embedded"}, "acme")
	// The key is another product's license on the target.
	other := must[*relkey.Product](t)(dst.admin.Products.Create(ctx, relkey.ProductAttributes{Name: "Other"}))
	otherPolicy := must[*relkey.Policy](t)(dst.admin.Policies.Create(ctx, relkey.PolicyAttributes{ProductID: other.ID, Name: "P"}))
	must[*relkey.License](t)(dst.admin.Licenses.Create(ctx, relkey.LicenseAttributes{PolicyID: otherPolicy.ID, Key: "TAKEN-KEY-1"}))

	summary, err := importer(src, dst).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := summary.Of(keygenimport.Products); got != (keygenimport.Counts{Created: 1, Failed: 1}) {
		t.Errorf("products %+v", got)
	}
	if got := summary.Of(keygenimport.Licenses); got != (keygenimport.Counts{Failed: 1}) {
		t.Errorf("licenses %+v", got)
	}
	var reasons []string
	for _, f := range summary.Failures {
		reasons = append(reasons, fmt.Sprintf("%s: %s", f.Kind, f.Reason))
	}
	wantReasons := []string{
		"products: another product without a code has this name: give them codes on Keygen",
		"licenses: its key is another license's on the target",
	}
	for i, w := range wantReasons {
		if i >= len(reasons) || !strings.HasPrefix(reasons[i], w) {
			t.Errorf("failure %d: %v, want %q", i, reasons, w)
		}
	}
	var out strings.Builder
	summary.Write(&out)
	if strings.Contains(out.String(), "not imported: the importer does not copy groups") || !strings.Contains(out.String(), "failed (2):") {
		t.Errorf("summary:\n%s", out.String())
	}
}
