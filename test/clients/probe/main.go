// Command probe is a tiny app that updates itself the way keygen-go v3.2.1
// apps do: Upgrade to the next release of its product, then Install the
// artifact named <program>_<GOOS>_<GOARCH>, which verifies the checksum and
// the Ed25519ph signature and replaces this executable.
//
// Usage: probe <current version> (with KEYGEN_API_URL, KEYGEN_ACCOUNT_ID,
// KEYGEN_PRODUCT_ID, KEYGEN_LICENSE_KEY, KEYGEN_PUBLIC_KEY and
// PERSONAL_PUBLIC_KEY set). It prints "installed <version>".
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/keygen-sh/keygen-go/v3"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: probe <current version>")
		os.Exit(2)
	}
	keygen.APIURL = os.Getenv("KEYGEN_API_URL")
	keygen.Account = os.Getenv("KEYGEN_ACCOUNT_ID")
	keygen.Product = os.Getenv("KEYGEN_PRODUCT_ID")
	keygen.LicenseKey = os.Getenv("KEYGEN_LICENSE_KEY")
	keygen.PublicKey = os.Getenv("KEYGEN_PUBLIC_KEY")
	ctx := context.Background()
	release, err := keygen.Upgrade(ctx, keygen.UpgradeOptions{
		CurrentVersion: os.Args[1],
		Channel:        "stable",
		PublicKey:      os.Getenv("PERSONAL_PUBLIC_KEY"),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "upgrade:", err)
		os.Exit(1)
	}
	if err := release.Install(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "install:", err)
		os.Exit(1)
	}
	fmt.Println("installed", release.Version)
}
