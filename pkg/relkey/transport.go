package relkey

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxDocument is the largest response document the client reads.
const maxDocument = 32 << 20

const mediaJSONAPI = "application/vnd.api+json"

// Response is an API response, its body read whole and, with a public
// key, verified.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// request is one API call.
type request struct {
	method string
	// path is relative to the account ("/products") or, for links the
	// server gave, from the server's root ("/v1/..."); it may hold a query.
	path   string
	query  url.Values
	body   any // a request document: nil, raw JSON ([]byte) or a value to marshal
	header http.Header
}

// Do sends body (nil, raw JSON as []byte or json.RawMessage, or a value to
// marshal) with method to path, relative to the account ("/products") or
// from the server's root ("/v1/..."), and decodes the response body into
// out unless out is nil. Error statuses return an *Error; the Response is
// returned either way once one was received.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) (*Response, error) {
	res, err := c.send(ctx, request{method: method, path: path, body: body})
	if err != nil {
		return res, err
	}
	if out != nil && len(res.Body) > 0 {
		if err := json.Unmarshal(res.Body, out); err != nil {
			return res, fmt.Errorf("relkey: %s %s: decoding the response: %w", method, path, err)
		}
	}
	return res, nil
}

// url builds the absolute URL of a request path.
func (c *Client) url(path string, query url.Values) (*url.URL, error) {
	if !strings.HasPrefix(path, "/v1/") && path != "/v1" {
		path = c.prefix + path
	}
	u, err := url.Parse(c.base.Path + path)
	if err != nil {
		return nil, fmt.Errorf("relkey: bad request path %q: %w", path, err)
	}
	if len(query) > 0 {
		q := u.Query()
		for k, vs := range query {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	return c.base.ResolveReference(u), nil
}

// send performs the request, retrying 429 and 503 as the server asks, and
// verifies the response.
func (c *Client) send(ctx context.Context, r request) (*Response, error) {
	u, err := c.url(r.path, r.query)
	if err != nil {
		return nil, err
	}
	var body []byte
	switch b := r.body.(type) {
	case nil:
	case []byte:
		body = b
	case json.RawMessage:
		body = b
	default:
		if body, err = json.Marshal(b); err != nil {
			return nil, fmt.Errorf("relkey: encoding the request: %w", err)
		}
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, r.method, u.String(), bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		if body == nil {
			req.Body, req.ContentLength = http.NoBody, 0
		} else {
			req.Header.Set("Content-Type", mediaJSONAPI)
		}
		req.Header.Set("Accept", mediaJSONAPI)
		req.Header.Set("User-Agent", "relkey-go")
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		if c.apiVersion != "" {
			req.Header.Set("Keygen-Version", c.apiVersion)
		}
		for k, vs := range r.header {
			req.Header[k] = vs
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, fmt.Errorf("relkey: %s %s: %w", r.method, u.Redacted(), err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument+1))
		resp.Body.Close()
		if err == nil && len(data) > maxDocument {
			err = errors.New("response larger than 32 MiB")
		}
		if err != nil {
			return nil, fmt.Errorf("relkey: %s %s: reading the response: %w", r.method, u.Redacted(), err)
		}
		res := &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
		if wait, ok := c.retryAfter(res, attempt); ok {
			if err := c.sleep(ctx, wait); err != nil {
				return res, err
			}
			continue
		}
		if err := c.verify(req, res); err != nil {
			return res, err
		}
		if res.Status >= 400 {
			return res, parseError(res)
		}
		return res, nil
	}
}

// retryAfter reports whether a response is to be retried, and after how
// long: 429 and 503, as Retry-After says (seconds or a date) or else
// backing off from one second, while retries remain and the wait is
// within the bound.
func (c *Client) retryAfter(res *Response, attempt int) (time.Duration, bool) {
	if res.Status != http.StatusTooManyRequests && res.Status != http.StatusServiceUnavailable || attempt >= c.maxRetries {
		return 0, false
	}
	wait := time.Second << attempt
	if v := strings.TrimSpace(res.Header.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
			wait = time.Duration(secs) * time.Second
		} else if at, err := http.ParseTime(v); err == nil {
			wait = max(at.Sub(c.now()), 0)
		}
	}
	return wait, wait <= c.maxWait
}
