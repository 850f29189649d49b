package oci

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/relkey/relkey/internal/artifact"
	"github.com/relkey/relkey/internal/storage"
)

// StoreObjects are the objects of artifacts in relkey's object store:
// the local folder is written and read in place (received as its upload
// route receives a PUT); S3 through the presigned URLs.
type StoreObjects struct {
	Store storage.Store
	// Local is the local folder (nil with S3).
	Local   *storage.Local
	Uploads Uploads
	Client  *http.Client
}

// Uploads receives and settles the uploads of artifacts (*artifact.Service).
type Uploads interface {
	Receive(ctx context.Context, local *storage.Local, key string, body io.Reader, size int64) error
	Settle(ctx context.Context, a *artifact.Artifact) error
}

// Put stores an artifact's content, checked against what its creation
// declared, and settles it.
func (o StoreObjects) Put(ctx context.Context, a *artifact.Artifact, uploadURL string, body io.Reader, size int64) error {
	if o.Local != nil {
		return o.Uploads.Receive(ctx, o.Local, a.StorageKey, body, size)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, uploadURL, body)
	if err != nil {
		return err
	}
	req.ContentLength = size
	resp, err := o.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("object store: PUT %s: %s", a.Filename, resp.Status)
	}
	// Object storage does not tell relkey of the upload.
	return o.Uploads.Settle(ctx, a)
}

// getExpiry is how long the presigned URL a copy reads lasts.
const getExpiry = 15 * time.Minute

// Get reads an artifact's content.
func (o StoreObjects) Get(ctx context.Context, a *artifact.Artifact) (io.ReadCloser, error) {
	if o.Local != nil {
		return o.Local.Open(a.StorageKey)
	}
	u, err := o.Store.PresignGet(ctx, a.StorageKey, getExpiry)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := o.Client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("object store: GET %s: %s", a.Filename, resp.Status)
	}
	return resp.Body, nil
}
