package oci

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/access"
	"github.com/relkey/relkey/internal/account"
	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/ociimage"
	"github.com/relkey/relkey/internal/optional"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
)

// The distribution API's push: blobs are uploaded (POST
// /blobs/uploads/, then PATCH chunks and a closing PUT with the digest,
// or the whole blob in the POST or the PUT) into ociimage.Staging; a
// manifest pushed by digest (a platform's, before its index) is staged
// too; a manifest pushed by tag is read with the repository's staged
// blobs as an image layout, and its manifests and blobs stored as the
// artifacts of the release the tag names (created, published, when the
// tag is a version no release has), exactly as relkey image push stores
// a layout. A blob the client skipped because the package holds it is
// copied from the package's artifact. Pushing needs a bearer that may
// create artifacts (an admin, a developer or the product's token);
// licenses only pull.

// Releases finds and creates the releases pushes store into
// (*release.Service).
type Releases interface {
	Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, n release.Narrowing) (*release.Release, error)
	Create(ctx context.Context, who *access.Principal, t *account.Tenant, rel release.Relations, p release.Params) (*release.Release, error)
}

// Artifacts finds and creates the artifacts pushes store
// (*artifact.Service).
type Artifacts interface {
	Find(ctx context.Context, who *access.Principal, t *account.Tenant, ref string, f artifact.Filter) (*artifact.Artifact, error)
	Create(ctx context.Context, who *access.Principal, t *account.Tenant, releaseRef string, p artifact.Params) (*artifact.Artifact, string, error)
}

// Objects writes and reads the objects of artifacts.
type Objects interface {
	// Put stores an artifact's content through the upload URL its
	// creation returned.
	Put(ctx context.Context, a *artifact.Artifact, uploadURL string, body io.Reader, size int64) error
	// Get reads an uploaded artifact's content.
	Get(ctx context.Context, a *artifact.Artifact) (io.ReadCloser, error)
}

// Pushing is what pushes store with.
type Pushing struct {
	Releases  Releases
	Artifacts Artifacts
	Objects   Objects
	Staging   *ociimage.Staging
}

// pushed is the push a request takes part in.
type pushed struct {
	who  *access.Principal
	t    *account.Tenant
	pkg  *releasepackage.Package
	repo string // the staging's name of the package: <account id>/<package id>
}

// pushing checks that the request's bearer may push to the package it
// addresses.
func (h handler) pushing(c echo.Context) (*pushed, error) {
	p := &pushed{who: h.x.Principal(c), t: h.x.Tenant(c)}
	if p.who == nil {
		return nil, access.ErrTokenMissing
	}
	if err := p.who.Require("artifact.create"); err != nil {
		return nil, err
	}
	var err error
	if p.pkg, err = h.x.Feeds.Package(c.Request().Context(), p.who, p.t, engine, c.Param("package")); err != nil {
		return nil, err
	}
	p.repo = p.t.ID + "/" + p.pkg.ID
	return p, nil
}

// mayPush reports whether who pushes (sees what is staged).
func mayPush(who *access.Principal) bool { return who != nil && who.Require("artifact.create") == nil }

// stagingError turns the staging's refusals into the API's errors.
func stagingError(err error) error {
	switch {
	case errors.Is(err, ociimage.ErrUploadUnknown):
		return apperr.New(apperr.NotFound, "BLOB_UPLOAD_UNKNOWN", "the blob upload is not in progress")
	case errors.Is(err, ociimage.ErrDigestMismatch):
		return apperr.AtParameter(apperr.Invalid, "DIGEST_INVALID", "must be the sha256 digest of the uploaded content", "digest")
	}
	return err
}

// uploadPath is the request's path up to /blobs/uploads/.
func uploadPath(c echo.Context) string {
	p := c.Request().URL.Path
	return p[:strings.LastIndex(p, "/blobs/uploads")] + "/blobs/uploads/"
}

// startUpload begins an upload: 202 with its location, or, given the
// digest, takes the whole blob at once (201).
func (h handler) startUpload(c echo.Context) error {
	p, err := h.pushing(c)
	if err != nil {
		return err
	}
	id, err := h.push.Staging.Start(p.repo)
	if err != nil {
		return err
	}
	if digest := c.QueryParam("digest"); digest != "" {
		return h.finish(c, p, id, digest)
	}
	return h.accepted(c, id, 0)
}

// accepted answers that an upload goes on at its location.
func (h handler) accepted(c echo.Context, id string, size int64) error {
	hdr := c.Response().Header()
	hdr.Set("Location", uploadPath(c)+id)
	hdr.Set("Docker-Upload-UUID", id)
	hdr.Set("Range", "0-"+strconv.FormatInt(max(size-1, 0), 10))
	return c.NoContent(http.StatusAccepted)
}

// patchUpload adds a chunk to an upload.
func (h handler) patchUpload(c echo.Context) error {
	p, err := h.pushing(c)
	if err != nil {
		return err
	}
	size, err := h.push.Staging.Append(p.repo, c.Param("upload"), c.Request().Body)
	if err != nil {
		return stagingError(err)
	}
	return h.accepted(c, c.Param("upload"), size)
}

// putUpload closes an upload with its last chunk (if any) and its digest.
func (h handler) putUpload(c echo.Context) error {
	p, err := h.pushing(c)
	if err != nil {
		return err
	}
	return h.finish(c, p, c.Param("upload"), c.QueryParam("digest"))
}

// finish adds the request's body to an upload and stages it as the blob
// digest: 201 at the blob's location.
func (h handler) finish(c echo.Context, p *pushed, id, digest string) error {
	if _, err := h.push.Staging.Append(p.repo, id, c.Request().Body); err != nil {
		return stagingError(err)
	}
	if _, err := h.push.Staging.Finish(p.repo, id, digest); err != nil {
		return stagingError(err)
	}
	hdr := c.Response().Header()
	hdr.Set("Location", strings.TrimSuffix(uploadPath(c), "uploads/")+digest)
	hdr.Set("Docker-Content-Digest", digest)
	return c.NoContent(http.StatusCreated)
}

// putManifest takes a manifest: by digest it is staged; by tag it is
// stored with what it lists as the artifacts of the tag's release.
func (h handler) putManifest(c echo.Context) error {
	p, err := h.pushing(c)
	if err != nil {
		return err
	}
	mediaType, _, _ := mime.ParseMediaType(c.Request().Header.Get("Content-Type"))
	if !ociimage.IsManifest(mediaType) {
		return apperr.New(apperr.Invalid, "MANIFEST_INVALID", "Content-Type must be a manifest's or an index's media type: "+strings.Join(ociimage.Manifests, ", "))
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, ociimage.MaxDocument+1))
	if err != nil {
		return err
	}
	if len(body) > ociimage.MaxDocument {
		return apperr.New(apperr.Invalid, "MANIFEST_INVALID", fmt.Sprintf("a manifest is at most %d bytes", ociimage.MaxDocument))
	}
	sum := sha256.Sum256(body)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	ref := c.Param("reference")
	if strings.HasPrefix(ref, "sha256:") {
		if ref != digest {
			return apperr.New(apperr.Invalid, "DIGEST_INVALID", "the manifest's digest is "+digest+", not "+ref)
		}
		if _, err := h.push.Staging.Stage(p.repo, body); err != nil {
			return err
		}
	} else if err := h.store(c.Request().Context(), p, ref, mediaType, body); err != nil {
		return err
	}
	hdr := c.Response().Header()
	hdr.Set("Location", strings.TrimSuffix(c.Request().URL.Path, ref)+digest)
	hdr.Set("Docker-Content-Digest", digest)
	return c.NoContent(http.StatusCreated)
}

// store reads a manifest pushed by tag as an image layout and stores its
// blobs as artifacts of the tag's release.
func (h handler) store(ctx context.Context, p *pushed, tag, mediaType string, manifest []byte) error {
	r, err := h.release(ctx, p, tag)
	if err != nil {
		return err
	}
	layout, err := h.push.Staging.Layout(p.repo, mediaType, tag, manifest, func(digest, path string) (bool, error) {
		return h.copyBlob(ctx, p, digest, path)
	})
	if err != nil {
		return apperr.New(apperr.Invalid, "MANIFEST_INVALID", err.Error())
	}
	defer layout.Close()
	if len(layout.Missing) > 0 {
		return apperr.New(apperr.Invalid, "MANIFEST_BLOB_UNKNOWN", "the manifest lists blobs neither pushed nor in the package: "+strings.Join(layout.Missing, ", "))
	}
	var stored []string
	for _, b := range layout.Blobs {
		if err := h.storeBlob(ctx, p, r, b); err != nil {
			return err
		}
		stored = append(stored, b.Digest)
	}
	h.push.Staging.Forget(p.repo, stored)
	return nil
}

// release is the release a tag names among the package's, created
// (published) when the tag is a version no release has.
func (h handler) release(ctx context.Context, p *pushed, tag string) (*release.Release, error) {
	r, err := h.push.Releases.Find(ctx, p.who, p.t, tag, release.Narrowing{Product: p.pkg.ProductID, Package: &p.pkg.ID})
	if !apperr.Is(err, apperr.NotFound) {
		return r, err
	}
	channel, ok := Channel(tag)
	if !ok {
		return nil, apperr.New(apperr.NotFound, "MANIFEST_UNKNOWN",
			"no release of "+p.pkg.Key+" has the tag "+tag+": tag a release with it, or push a version (x.y.z or x.y.z-<channel>.n) to create its release")
	}
	return h.push.Releases.Create(ctx, p.who, p.t, release.Relations{Product: p.pkg.ProductID, Package: p.pkg.ID},
		release.Params{Version: optional.Of(tag), Channel: optional.Of(channel), Status: optional.Of(release.Published)})
}

// Channel is the channel of a release created for a version tag: stable
// without a prerelease, else the prerelease's channel; false when the tag
// is no version.
func Channel(tag string) (string, bool) {
	v, err := semver.StrictNewVersion(tag)
	if err != nil {
		return "", false
	}
	if v.Prerelease() == "" {
		return "stable", true
	}
	for _, ch := range []string{"rc", "beta", "alpha", "dev"} {
		if strings.HasPrefix(v.Prerelease(), ch) {
			return ch, true
		}
	}
	return "", false
}

// copyBlob writes a blob of the package's artifacts into path; false when
// the package has none of that digest.
func (h handler) copyBlob(ctx context.Context, p *pushed, digest, path string) (bool, error) {
	a, err := h.push.Artifacts.Find(ctx, p.who, p.t, digest, artifact.Filter{Product: p.pkg.ProductID, Package: &p.pkg.ID})
	if apperr.Is(err, apperr.NotFound) || err == nil && a.Status != artifact.Uploaded {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	in, err := h.push.Objects.Get(ctx, a)
	if err != nil {
		return false, err
	}
	defer in.Close()
	out, err := os.Create(path)
	if err != nil {
		return false, err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err == nil, err
}

// storeBlob stores a blob as an artifact of the release, named by its
// digest with its media type in the metadata; one the release holds is
// left as it is.
func (h handler) storeBlob(ctx context.Context, p *pushed, r *release.Release, b ociimage.Blob) error {
	checksum, size := b.Hex(), b.Size
	a, upload, err := h.push.Artifacts.Create(ctx, p.who, p.t, r.ID, artifact.Params{Filename: optional.Of(b.Digest), Filesize: optional.Of(&size),
		Checksum: optional.Of(&checksum), Metadata: optional.Of(map[string]any{ociimage.MetadataKey: b.MediaType})})
	var taken *apperr.Error
	if errors.As(err, &taken) && taken.Code == "FILENAME_TAKEN" {
		return nil
	}
	if err != nil {
		return err
	}
	f, err := b.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	if err := h.push.Objects.Put(ctx, a, upload, f, size); err != nil {
		return err
	}
	if a, err = h.push.Artifacts.Find(ctx, p.who, p.t, a.ID, artifact.Filter{}); err == nil && a.Status != artifact.Uploaded {
		err = fmt.Errorf("artifact %s of %s was stored as %s", a.ID, b.Digest, a.Status)
	}
	return err
}
