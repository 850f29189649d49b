package keygenimport

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/entitlement"
	"github.com/relkey/relkey/internal/release"
	"github.com/relkey/relkey/internal/releasepackage"
	"github.com/relkey/relkey/internal/storage"
	"github.com/relkey/relkey/pkg/relkey"
)

func (r *run) packages(ctx context.Context) error {
	return each(ctx, r, Packages, r.src.Packages.Lister, nil, func(p *relkey.Package) string { return fmt.Sprintf("%s (%s)", p.ID, p.Key) },
		func(p *relkey.Package) (outcome, error) {
			productID, err := r.parent(Products, "product", p.ProductID)
			if err != nil {
				return 0, err
			}
			existing, err := r.dst.Packages.Find(ctx, r.who, r.t, p.Key)
			switch {
			case err == nil && existing.ProductID != productID:
				return 0, refuse("its key is another product's package on the target (%s)", existing.ID)
			case err == nil:
				return r.found(Packages, p.ID, existing.ID)
			case !notFound(err):
				return 0, err
			}
			return create(r, Packages, p.ID, p.Raw, func(params releasepackage.Params) (*releasepackage.Package, error) {
				return r.dst.Packages.Create(ctx, r.who, r.t, productID, params)
			})
		}, nil)
}

func (r *run) releases(ctx context.Context) error {
	return each(ctx, r, Releases, r.src.Releases.Lister, nil, func(rel *relkey.Release) string { return fmt.Sprintf("%s (%s)", rel.ID, rel.Version) },
		func(rel *relkey.Release) (outcome, error) {
			productID, err := r.parent(Products, "product", rel.ProductID)
			if err != nil {
				return 0, err
			}
			packageID, err := r.parent(Packages, "package", rel.PackageID)
			if err != nil {
				return 0, err
			}
			constraints, err := collect(ctx, r.src.Releases.Constraints(rel.ID))
			if err != nil {
				return 0, err
			}
			var required []*relkey.Entitlement
			for _, c := range constraints {
				required = append(required, &relkey.Entitlement{Object: relkey.Object{ID: c.EntitlementID}})
			}
			o := skipped
			target, err := r.dst.Releases.Find(ctx, r.who, r.t, rel.Version, release.Narrowing{Product: productID, Package: &packageID})
			switch {
			case err == nil:
				if err := r.attach(ctx, ReleaseConstraints, entitlement.OnRelease, target.ID, required); err != nil {
					return 0, err
				}
			case notFound(err):
				attrs := attributesOf(rel.Raw)
				if rel.Status == release.Yanked {
					// Created published, and yanked once its artifacts are in.
					attrs["status"] = json.RawMessage(`"` + release.Published + `"`)
				}
				params, err := paramsOf[release.Params](attrs)
				if err != nil {
					return 0, err
				}
				var ids []string
				for _, e := range required {
					if id := r.mapped(Entitlements, e.ID); id != "" {
						ids = append(ids, id)
					} else {
						r.summary.fail(ReleaseConstraints, e.ID+" of "+rel.ID, "the entitlement was not imported")
					}
				}
				if target, err = r.dst.Releases.Create(ctx, r.who, r.t, release.Relations{Product: productID, Package: packageID, Constraints: ids}, params); err != nil {
					return 0, err
				}
				for range ids {
					r.summary.count(ReleaseConstraints, created)
				}
				o = created
			default:
				return 0, err
			}
			r.remember(Releases, rel.ID, target.ID)
			if rel.Status == release.Yanked && target.Status != release.Yanked {
				r.yanked = append(r.yanked, target.ID)
			}
			return o, nil
		}, nil)
}

func (r *run) artifacts(ctx context.Context) error {
	return each(ctx, r, Artifacts, r.src.Artifacts.Lister, nil, func(a *relkey.Artifact) string { return fmt.Sprintf("%s (%s)", a.ID, a.Filename) },
		func(a *relkey.Artifact) (outcome, error) {
			if a.Status != artifact.Uploaded {
				return 0, refuse("it is %s on the source: only uploaded artifacts have bytes to copy", a.Status)
			}
			releaseID, err := r.parent(Releases, "release", a.ReleaseID)
			if err != nil {
				return 0, err
			}
			target, err := r.dst.Artifacts.Find(ctx, r.who, r.t, a.Filename, artifact.Filter{Release: releaseID})
			o := created
			switch {
			case err == nil && target.Status == artifact.Uploaded:
				return skipped, nil
			case err == nil && target.Status != artifact.Waiting:
				return 0, refuse("it is %s on the target: yank or delete it there to import it again", target.Status)
			case notFound(err):
				params, perr := paramsOf[artifact.Params](attributesOf(a.Raw))
				if perr != nil {
					return 0, perr
				}
				target, _, err = r.dst.Artifacts.Create(ctx, r.who, r.t, releaseID, params)
			}
			if err != nil {
				return 0, err
			}
			// New, or waiting since an earlier run stopped before its bytes.
			return o, r.copyBytes(ctx, a.ID, target)
		}, nil)
}

// copyBytes streams an artifact's bytes from the source's download to the
// target's storage and settles the target artifact.
func (r *run) copyBytes(ctx context.Context, sourceID string, target *artifact.Artifact) error {
	d, err := r.src.Artifacts.Download(ctx, sourceID, nil)
	if err != nil {
		return err
	}
	defer d.Body.Close()
	body, size := io.Reader(d.Body), d.Size
	if size < 0 {
		spooled, err := os.CreateTemp("", "relkey-import-")
		if err != nil {
			return err
		}
		defer os.Remove(spooled.Name())
		defer spooled.Close()
		if size, err = io.Copy(spooled, d.Body); err != nil {
			return fmt.Errorf("downloading %s: %w", target.Filename, err)
		}
		if _, err := spooled.Seek(0, io.SeekStart); err != nil {
			return err
		}
		body = spooled
	}
	if err := r.store(ctx, target, body, size); err != nil {
		return fmt.Errorf("storing %s: %w", target.Filename, err)
	}
	settled, err := r.dst.Artifacts.Find(ctx, r.who, r.t, target.ID, artifact.Filter{})
	if err != nil {
		return err
	}
	if settled.Status != artifact.Uploaded {
		why := "its bytes do not match what it declares"
		if settled.Failure != nil {
			why = *settled.Failure
		}
		return refuse("it is %s on the target: %s", settled.Status, why)
	}
	return nil
}

// store writes the object of a waiting artifact of the target and
// settles the artifact: into the local folder as a PUT to it would, or
// through a presigned PUT.
func (r *run) store(ctx context.Context, target *artifact.Artifact, body io.Reader, size int64) error {
	if r.dst.Local != nil {
		return r.dst.Artifacts.Receive(ctx, r.dst.Local, target.StorageKey, body, size)
	}
	u, err := r.dst.Storage.PresignPut(ctx, r.dst.Artifacts.UploadKey(target), artifact.UploadWindow, storage.Length(size))
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), io.NopCloser(body))
	if err != nil {
		return err
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	resp, err := r.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		detail, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("object storage answered %s: %s", resp.Status, detail)
	}
	return r.dst.Artifacts.Settle(ctx, target)
}

// yank yanks the releases that are yanked on the source, now that their
// artifacts are in.
func (r *run) yank(ctx context.Context) error {
	for _, id := range r.yanked {
		if _, err := r.dst.Releases.Yank(ctx, r.who, r.t, id); err != nil {
			reason, ok := refused(err)
			if !ok {
				return fmt.Errorf("yanking release %s: %w", id, err)
			}
			r.summary.fail(Releases, id, "yanking it: "+reason)
		}
	}
	return nil
}
