package relkey_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/url"
	"strings"

	"github.com/relkey/relkey/pkg/relkey"
)

// An admin sets up a node-locked product; the application validates its
// license key, activates the machine it runs on and validates again.
func Example() {
	server := startRelkey() // a relkey serving account "demo"
	defer server.Close()
	ctx := context.Background()

	publicKey, err := relkey.ParsePublicKey(server.Account.PublicKey) // as account create printed it
	if err != nil {
		log.Fatal(err)
	}
	admin, err := relkey.New(server.URL, "demo", relkey.WithToken(server.Account.RawToken), relkey.WithPublicKey(publicKey))
	if err != nil {
		log.Fatal(err)
	}
	product, err := admin.Products.Create(ctx, relkey.ProductAttributes{Name: "Desktop App", Code: relkey.String("desktop")})
	if err != nil {
		log.Fatal(err)
	}
	policy, err := admin.Policies.Create(ctx, relkey.PolicyAttributes{
		ProductID: product.ID, Name: "Pro", Floating: relkey.Bool(true), MaxMachines: relkey.Int(2), AuthenticationStrategy: "LICENSE",
	})
	if err != nil {
		log.Fatal(err)
	}
	license, err := admin.Licenses.Create(ctx, relkey.LicenseAttributes{PolicyID: policy.ID, Key: "DEMO-1234-5678"})
	if err != nil {
		log.Fatal(err)
	}

	// The application knows only its key.
	app := admin.AsLicenseKey(license.Key)
	scope := &relkey.Scope{Fingerprint: "machine-fingerprint-1"}
	v, err := app.Licenses.ValidateKey(ctx, license.Key, scope)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.Valid, v.Code)
	machine, err := app.Machines.Create(ctx, relkey.MachineAttributes{LicenseID: v.License.ID, Fingerprint: scope.Fingerprint})
	if err != nil {
		log.Fatal(err)
	}
	v, err = app.Licenses.ValidateKey(ctx, license.Key, scope)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(v.Valid, v.Code, machine.Fingerprint)
	// Output:
	// false NO_MACHINES
	// true VALID machine-fingerprint-1
}

// Lists come in pages; All walks every page.
func ExampleLister_All() {
	server := startRelkey()
	defer server.Close()
	ctx := context.Background()
	admin := server.Admin() // relkey.New(server.URL, "demo", relkey.WithToken(…), relkey.WithPublicKey(…))
	for _, name := range []string{"Alpha", "Beta", "Gamma"} {
		if _, err := admin.Products.Create(ctx, relkey.ProductAttributes{Name: name}); err != nil {
			log.Fatal(err)
		}
	}
	for product, err := range admin.Products.All(ctx, relkey.ListOptions{PageSize: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(product.Name)
	}
	// Output:
	// Gamma
	// Beta
	// Alpha
}

// Publishing a release with an artifact, and downloading it as an
// application looking for an upgrade does.
func ExampleArtifactService_Upload() {
	server := startRelkey()
	defer server.Close()
	ctx := context.Background()
	admin := server.Admin() // relkey.New(server.URL, "demo", relkey.WithToken(…), relkey.WithPublicKey(…))
	product, _ := admin.Products.Create(ctx, relkey.ProductAttributes{Name: "CLI", DistributionStrategy: "OPEN"})
	for _, version := range []string{"1.0.0", "1.1.0"} {
		release, err := admin.Releases.Create(ctx, relkey.ReleaseAttributes{ProductID: product.ID, Version: version, Channel: "stable", Status: "PUBLISHED"})
		if err != nil {
			log.Fatal(err)
		}
		bytes := "build " + version
		if _, err := admin.Artifacts.Upload(ctx, relkey.ArtifactAttributes{ReleaseID: release.ID, Filename: "cli.tar.gz"}, strings.NewReader(bytes), int64(len(bytes))); err != nil {
			log.Fatal(err)
		}
	}

	// Open products serve anyone.
	app := admin.Anonymous()
	next, err := app.Releases.Upgrade(ctx, "1.0.0", relkey.UpgradeOptions{Product: product.ID})
	if err != nil {
		log.Fatal(err)
	}
	download, err := app.Artifacts.Download(ctx, "cli.tar.gz", url.Values{"release": {next.ID}})
	if err != nil {
		log.Fatal(err)
	}
	defer download.Body.Close()
	data, _ := io.ReadAll(download.Body)
	fmt.Println(next.Version, download.Artifact.Filename, download.Size, string(data))
	_, err = app.Releases.Upgrade(ctx, "1.1.0", relkey.UpgradeOptions{Product: product.ID})
	fmt.Println(errors.Is(err, relkey.ErrNoUpgrade))
	// Output:
	// 1.1.0 cli.tar.gz 11 build 1.1.0
	// true
}

// API errors carry Keygen's code, detail and source.
func ExampleError() {
	server := startRelkey()
	defer server.Close()
	ctx := context.Background()
	admin := server.Admin() // relkey.New(server.URL, "demo", relkey.WithToken(…), relkey.WithPublicKey(…))
	admin.Products.Create(ctx, relkey.ProductAttributes{Name: "App", Code: relkey.String("app")})
	_, err := admin.Products.Create(ctx, relkey.ProductAttributes{Name: "Copy", Code: relkey.String("app")})
	var apiErr *relkey.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Code, apiErr.Source.Pointer)
	}
	// Output: 422 CODE_TAKEN /data/attributes/code
}

// The bare /v1/... layout serves relkey's default account (and Keygen's
// custom domains); clients of it pass no account.
func ExampleNew() {
	client, err := relkey.New("https://licensing.example.com", "", relkey.WithLicenseKey("A-LICENSE-KEY"))
	if err != nil {
		log.Fatal(err)
	}
	_ = client // client.Licenses.ValidateKey(ctx, "A-LICENSE-KEY", nil) posts to /v1/licenses/actions/validate-key
}
