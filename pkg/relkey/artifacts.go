package relkey

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// ArtifactService is the artifacts: uploads and downloads of a release's
// files, which go straight to and from object storage through presigned
// URLs.
type ArtifactService struct {
	Collection[Artifact, ArtifactAttributes]
}

// Get returns an artifact without downloading it (Prefer: no-download).
func (s ArtifactService) Get(ctx context.Context, ref string) (*Artifact, error) {
	return s.one(ctx, request{method: http.MethodGet, path: s.path + "/" + url.PathEscape(ref), header: http.Header{"Prefer": {"no-download"}}})
}

// Upload creates an artifact of a release (attrs.ReleaseID) and uploads
// its size bytes from body: the server answers 307 with a presigned URL,
// which gets the bytes in a PUT. The artifact returned is as created
// (WAITING); the server marks it UPLOADED once the bytes land. The PUT is
// not retried: body is read once.
func (s ArtifactService) Upload(ctx context.Context, attrs ArtifactAttributes, body io.Reader, size int64) (*Artifact, error) {
	if attrs.Filesize == nil {
		attrs.Filesize = &size
	}
	a, target, err := s.redirected(ctx, request{method: http.MethodPost, path: s.path, body: resourceDocument(s.typ, attrs)}, http.StatusTemporaryRedirect)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, target, io.NopCloser(body))
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	put, err := s.storage(req, a)
	if err != nil {
		return nil, err
	}
	put.Body.Close()
	return a, nil
}

// Download is an artifact's bytes, being read from object storage.
type Download struct {
	Artifact *Artifact
	// Body is the bytes; the caller closes it.
	Body io.ReadCloser
	// Size is the number of bytes, -1 when storage does not say.
	Size int64
}

// Download looks an artifact up by id or filename (narrowed by filter:
// release, product, package, platform…) and opens its bytes: the server
// answers 303 with a presigned URL, which is followed without the
// client's credentials.
func (s ArtifactService) Download(ctx context.Context, ref string, filter url.Values) (*Download, error) {
	a, target, err := s.redirected(ctx, request{method: http.MethodGet, path: s.path + "/" + url.PathEscape(ref), query: filter}, http.StatusSeeOther)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	get, err := s.storage(req, a)
	if err != nil {
		return nil, err
	}
	return &Download{Artifact: a, Body: get.Body, Size: get.ContentLength}, nil
}

// redirected sends r, which the server answers with an artifact and a
// redirect of status to object storage, and returns both.
func (s ArtifactService) redirected(ctx context.Context, r request, status int) (*Artifact, string, error) {
	res, err := s.c.send(ctx, r)
	if err != nil {
		return nil, "", err
	}
	a, err := decodeOne[Artifact](res.Body)
	if err != nil {
		return nil, "", err
	}
	loc := res.Header.Get("Location")
	if res.Status != status || loc == "" {
		return nil, "", fmt.Errorf("relkey: expected a %d redirect to object storage, got %d", status, res.Status)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return nil, "", fmt.Errorf("relkey: bad redirect location %q: %w", loc, err)
	}
	return a, s.c.base.ResolveReference(u).String(), nil
}

// storage sends a request to object storage (a presigned URL: without the
// client's credentials) about artifact a; an answer other than 2xx is an
// error.
func (s ArtifactService) storage(req *http.Request, a *Artifact) (*http.Response, error) {
	res, err := s.c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("relkey: %s of %s: %w", req.Method, a.Filename, err)
	}
	if res.StatusCode/100 != 2 {
		defer res.Body.Close()
		detail, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return nil, fmt.Errorf("relkey: %s of %s: %w", req.Method, a.Filename, parseError(&Response{Status: res.StatusCode, Header: res.Header, Body: detail}))
	}
	return res, nil
}
