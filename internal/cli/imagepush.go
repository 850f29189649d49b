package cli

import (
	"context"
	"flag"
	"fmt"
	"net/url"

	"github.com/relkey/relkey/internal/ociimage"
	"github.com/relkey/relkey/pkg/relkey"
)

const imageUsage = `usage: relkey image push --release R [--url URL] [--account A] [--token T] <layout directory or tar>
`

// imageCommand is relkey image push: it stores an OCI image layout (a
// directory, or a tar of one, as crane, oras, skopeo or buildx write them)
// as artifacts of a release through the API, one per manifest and blob,
// named by digest, with its media type in the metadata; the OCI engine
// then serves the release's version and tag as the image's tags. Blobs the
// release already holds are skipped, so a push can be run again.
func imageCommand(cmd Command) int {
	if len(cmd.Args) < 2 || cmd.Args[1] != "push" {
		fmt.Fprint(cmd.Stderr, imageUsage)
		return exitUsage
	}
	flags := flag.NewFlagSet("image push", flag.ContinueOnError)
	flags.SetOutput(cmd.Stderr)
	apiBase := flags.String("url", cmd.Getenv("RELKEY_URL"), "relkey's URL, e.g. https://licensing.example.com (default $RELKEY_URL)")
	account := flags.String("account", cmd.Getenv("RELKEY_ACCOUNT"), "the account (id or slug; default $RELKEY_ACCOUNT, else the server's default account)")
	token := flags.String("token", "", "a token that may create the release's artifacts (default $RELKEY_TOKEN)")
	releaseRef := flags.String("release", "", "the release (id, version or tag) of a package of engine oci")
	if err := flags.Parse(cmd.Args[2:]); err != nil {
		return exitUsage
	}
	if *token == "" {
		*token = cmd.Getenv("RELKEY_TOKEN")
	}
	switch {
	case flags.NArg() != 1:
		fmt.Fprintf(cmd.Stderr, "relkey image push: name one image layout directory or tar\n%s", imageUsage)
		return exitUsage
	case *apiBase == "" || *token == "" || *releaseRef == "":
		fmt.Fprintf(cmd.Stderr, "relkey image push: --url, --token and --release are required\n%s", imageUsage)
		return exitUsage
	}
	layout, err := ociimage.Open(flags.Arg(0))
	if err != nil {
		return fail(cmd, fmt.Errorf("image push: %w", err))
	}
	defer layout.Close()
	client, err := relkey.New(*apiBase, *account, relkey.WithToken(*token))
	if err != nil {
		return fail(cmd, err)
	}
	ctx := context.Background()
	rel, err := client.Releases.Get(ctx, *releaseRef)
	if err != nil {
		return fail(cmd, fmt.Errorf("image push: release %s: %w", *releaseRef, err))
	}
	var pkg *relkey.Package
	if rel.PackageID != "" {
		if pkg, err = client.Packages.Get(ctx, rel.PackageID); err != nil {
			return fail(cmd, fmt.Errorf("image push: package of release %s: %w", rel.Version, err))
		}
	}
	if pkg == nil || pkg.Engine == nil || *pkg.Engine != "oci" {
		return fail(cmd, fmt.Errorf("image push: release %s is not of a package of engine oci, which the OCI engine serves", rel.Version))
	}
	pushed, present, err := pushBlobs(ctx, client, rel.ID, layout)
	if err != nil {
		return fail(cmd, fmt.Errorf("image push: %w (run the same command again to resume)", err))
	}
	fmt.Fprintf(cmd.Stdout, "pushed %d blobs of %s to release %s (%d already there)\n", pushed, flags.Arg(0), rel.Version, present)
	repo := pkg.Key
	if *account != "" {
		repo = *account + "/" + repo
	}
	if u, err := url.Parse(*apiBase); err == nil && u.Host != "" {
		repo = u.Host + "/" + repo
	}
	refs := []string{rel.Version}
	if rel.Tag != nil {
		refs = append(refs, *rel.Tag)
	}
	for _, ref := range refs {
		fmt.Fprintf(cmd.Stdout, "pull it as %s:%s\n", repo, ref)
	}
	return exitOK
}

// pushBlobs uploads the layout's blobs the release lacks, each as an
// artifact named by its digest.
func pushBlobs(ctx context.Context, client *relkey.Client, releaseID string, layout *ociimage.Layout) (pushed, present int, err error) {
	for _, b := range layout.Blobs {
		f, err := b.Open()
		if err != nil {
			return pushed, present, err
		}
		checksum := b.Hex()
		a, err := client.Artifacts.Upload(ctx, relkey.ArtifactAttributes{ReleaseID: releaseID, Filename: b.Digest, Checksum: &checksum,
			Metadata: map[string]any{"mediaType": b.MediaType}}, f, b.Size)
		f.Close()
		if err == nil {
			// Reading it back settles it: object storage does not tell
			// relkey of the upload.
			if a, err = client.Artifacts.Get(ctx, a.ID); err == nil && a.Status != "UPLOADED" {
				err = fmt.Errorf("stored as %s", a.Status)
			}
		}
		switch {
		case relkey.ErrorCode(err) == "FILENAME_TAKEN":
			present++
		case err != nil:
			return pushed, present, fmt.Errorf("%s: %w", b.Digest, err)
		default:
			pushed++
		}
	}
	return pushed, present, nil
}
