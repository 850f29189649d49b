package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Keygen's delivery schedule: 15 retries after the first attempt, the n-th
// (from 0) after n⁴ seconds plus 10 to 100 minutes of jitter.
const (
	MaxRetries      = 15
	maxResponseBody = 2048
	defaultTimeout  = 15 * time.Second
	// lease is how long a replica holds a claimed delivery: longer than one
	// attempt can take, so a live replica's delivery is never taken twice.
	lease = 2 * time.Minute
)

// Backoff is the wait before retry n (from 0), given jitter in [1, 10].
func Backoff(n, jitter int) time.Duration {
	return time.Duration(n*n*n*n)*time.Second + time.Duration(jitter)*10*time.Minute
}

// Signer signs a delivery as Keygen signs webhooks: Date, Digest and
// Keygen-Signature over "(request-target) host date digest".
type Signer func(ctx context.Context, accountID, algorithm, target, host string, body []byte, now time.Time) (date, digest, signature string, err error)

// Renderer is a delivery's body: its webhook-events document.
type Renderer func(d *Delivery) ([]byte, error)

// Worker makes the outbox's deliveries. Replicas run one each: they claim
// disjoint rows, so each delivery is attempted by one of them at a time.
type Worker struct {
	store       *Store
	sign        Signer
	render      Renderer
	client      *http.Client
	logger      *slog.Logger
	now         func() time.Time
	jitter      func() int
	perEndpoint int
	batch       int
}

// WorkerOptions tune a worker; zero values take the defaults.
type WorkerOptions struct {
	Targets Targets
	Now     func() time.Time
	// Jitter picks the retry jitter from 1 to 10; nil = random.
	Jitter func() int
	// PerEndpoint bounds concurrent deliveries to one endpoint (default 4).
	PerEndpoint int
	// Batch is how many deliveries a pass claims (default 100).
	Batch int
	// Timeout bounds connecting, sending and awaiting the response (default 15 s).
	Timeout time.Duration
}

// NewWorker returns a delivery worker.
func NewWorker(store *Store, sign Signer, render Renderer, logger *slog.Logger, o WorkerOptions) *Worker {
	w := &Worker{store: store, sign: sign, render: render, logger: logger, now: o.Now, jitter: o.Jitter,
		perEndpoint: o.PerEndpoint, batch: o.Batch}
	if w.now == nil {
		w.now = time.Now
	}
	if w.jitter == nil {
		w.jitter = func() int { return 1 + rand.IntN(10) }
	}
	if w.perEndpoint <= 0 {
		w.perEndpoint = 4
	}
	if w.batch <= 0 {
		w.batch = 100
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	dialer := &net.Dialer{Timeout: timeout}
	if !o.Targets.AllowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, _ := net.SplitHostPort(address)
			if ip := net.ParseIP(host); ip != nil && Private(ip) {
				return errPrivate
			}
			return nil
		}
	}
	w.client = &http.Client{
		Timeout:       2 * timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		// A write buffer that holds a whole delivery sends it in one write.
		Transport: &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: timeout,
			ResponseHeaderTimeout: timeout, MaxIdleConnsPerHost: w.perEndpoint, WriteBufferSize: 16 << 10},
	}
	return w
}

var errPrivate = errors.New("webhook: target is a private address")

// Pass fans pending events out to deliveries, then attempts every due
// delivery it can claim. It returns once the attempts are done.
func (w *Worker) Pass(ctx context.Context) error {
	// The deliveries of new events are claimed as they are made, a batch
	// of events at a time: their first attempts need no claim of their own.
	for {
		n, fresh, err := w.store.FanOut(ctx, w.batch, w.now(), lease)
		if err != nil {
			return err
		}
		w.attemptAll(ctx, fresh)
		if n < w.batch {
			break
		}
	}
	for {
		claimed, err := w.store.Claim(ctx, w.batch, w.now(), lease)
		if err != nil || len(claimed) == 0 {
			return err
		}
		w.attemptAll(ctx, claimed)
		if len(claimed) < w.batch {
			return nil
		}
	}
}

// FanOut turns every pending event into its deliveries.
func (w *Worker) FanOut(ctx context.Context) error {
	for {
		n, _, err := w.store.FanOut(ctx, 500, w.now(), 0)
		if err != nil || n < 500 {
			return err
		}
	}
}

// attemptAll makes the claimed attempts, at most perEndpoint at a time to
// one endpoint, so one slow receiver holds back only its own deliveries.
// Their endpoints are read once, and their outcomes written together.
func (w *Worker) attemptAll(ctx context.Context, claimed []Delivery) {
	if len(claimed) == 0 {
		return
	}
	var ids []string
	for i := range claimed {
		if id := claimed[i].EndpointID; id != nil && !slices.Contains(ids, *id) {
			ids = append(ids, *id)
		}
	}
	endpoints, err := w.store.Endpoints(ctx, ids)
	if err != nil {
		if ctx.Err() == nil {
			w.logger.Warn("webhook endpoints not read", "error", err)
		}
		return
	}
	slots := map[string]chan struct{}{}
	var wg sync.WaitGroup
	attempted := make([]*Delivery, len(claimed))
	for i := range claimed {
		d := &claimed[i]
		slot, ok := slots[d.Endpoint]
		if !ok {
			slot = make(chan struct{}, w.perEndpoint)
			slots[d.Endpoint] = slot
		}
		// A copy each: an attempt answered 410 disables its endpoint.
		var endpoint *Endpoint
		if d.EndpointID != nil && endpoints[*d.EndpointID] != nil {
			copied := *endpoints[*d.EndpointID]
			endpoint = &copied
		}
		wg.Go(func() {
			slot <- struct{}{}
			defer func() { <-slot }()
			if err := w.attempt(ctx, d, endpoint); err != nil {
				if ctx.Err() == nil {
					w.logger.Warn("webhook delivery not recorded", "webhook_event", d.ID, "error", err)
				}
				return
			}
			attempted[i] = d
		})
	}
	wg.Wait()
	attempted = slices.DeleteFunc(attempted, func(d *Delivery) bool { return d == nil })
	if err := w.store.RecordAttempts(ctx, attempted); err != nil && ctx.Err() == nil {
		w.logger.Warn("webhook deliveries not recorded", "count", len(attempted), "error", err)
	}
}

// outcome is what an attempt got: a response code, or a failure's name.
type outcome struct {
	code *int
	body string
	// final failures are not retried (Keygen's connection errors).
	final bool
}

// attempt makes one delivery to its endpoint (nil when gone) and sets its
// outcome on d, for attemptAll to record.
func (w *Worker) attempt(ctx context.Context, d *Delivery, endpoint *Endpoint) error {
	if endpoint == nil || !endpoint.Subscribed(d.Event) {
		// Deleted or unsubscribed since: nothing to send, as in Keygen.
		d.Status, d.ClaimedUntil, d.UpdatedAt = Failed, nil, w.now().UTC()
		return nil
	}
	out := w.post(ctx, endpoint, d)
	now := w.now().UTC()
	d.LastResponseCode, d.LastResponseBody, d.ClaimedUntil, d.UpdatedAt = out.code, &out.body, nil, now
	switch {
	case out.code != nil && *out.code >= 200 && *out.code < 300:
		d.Status = Delivered
	case out.final || d.Attempts >= MaxRetries:
		d.Status = Failed
	default:
		d.Status = Failing
		d.NextAttemptAt = now.Add(Backoff(d.Attempts, w.jitter()))
	}
	d.Attempts++
	if out.code != nil && *out.code == http.StatusGone {
		// Gone: Keygen disables the endpoint by emptying its subscriptions.
		d.Status = Failed
		endpoint.Subscriptions.V, endpoint.UpdatedAt = []string{}, now
		if err := w.store.SaveEndpoint(ctx, endpoint); err != nil {
			return err
		}
	}
	return nil
}

func (w *Worker) post(ctx context.Context, e *Endpoint, d *Delivery) outcome {
	body, err := w.render(d)
	if err != nil {
		return outcome{body: "RENDER_ERROR", final: true}
	}
	u, err := url.Parse(e.URL)
	if err != nil {
		return outcome{body: "INVALID_URL", final: true}
	}
	target := u.EscapedPath()
	if target == "" {
		target = "/"
	}
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	date, digest, signature, err := w.sign(ctx, d.AccountID, e.SignatureAlgorithm, target, u.Hostname(), body, w.now())
	if err != nil {
		return outcome{body: "SIGNING_ERROR"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		return outcome{body: "INVALID_URL", final: true}
	}
	h := req.Header
	h.Set("User-Agent", fmt.Sprintf("Keygen/%s (+https://keygen.sh/docs/api/webhooks/)", d.APIVersion))
	h.Set("Content-Type", "application/json")
	h.Set("Date", date)
	h.Set("Digest", digest)
	h.Set("Keygen-Date", date)
	h.Set("Keygen-Digest", digest)
	h.Set("Keygen-Signature", signature)
	h.Set("Keygen-Version", d.APIVersion)
	res, err := w.client.Do(req)
	if err != nil {
		return failure(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBody+1))
	code := res.StatusCode
	text := string(got)
	switch {
	case len(got) > maxResponseBody:
		text = "RES_BODY_TOO_LARGE"
	case err != nil:
		text = "REQ_TIMEOUT"
	}
	return outcome{code: &code, body: text}
}

// failure names a request that got no response, as Keygen does; the
// connection errors are final, timeouts are retried.
func failure(err error) outcome {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return outcome{body: "REQ_TIMEOUT"}
	case errors.Is(err, syscall.ECONNREFUSED):
		return outcome{body: "CONN_REFUSED", final: true}
	case errors.Is(err, syscall.ECONNRESET):
		return outcome{body: "CONN_RESET", final: true}
	case errors.Is(err, errPrivate):
		return outcome{body: "PRIVATE_TARGET", final: true}
	case errors.As(err, &dnsErr):
		return outcome{body: "DNS_ERROR", final: true}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return outcome{body: "EOF_ERROR", final: true}
	}
	return outcome{body: "REQ_FAILED"}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Run makes passes until ctx ends, one every poll while there is nothing
// to do; a failed pass is logged and the next one tries again. Between
// passes it attempts the deliveries batched events hand it (the first
// worker running over the store takes them).
func (w *Worker) Run(ctx context.Context, poll time.Duration) {
	fresh := newHandoff()
	if w.store.fresh.CompareAndSwap(nil, fresh) {
		// What is left stays claimed until its lease runs out, as when a
		// process dies.
		defer w.store.fresh.CompareAndSwap(fresh, nil)
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		if err := w.Pass(ctx); err != nil && ctx.Err() == nil {
			w.logger.Warn("webhook pass failed", "error", err)
		}
		for due := false; !due; {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				due = true
			case <-fresh.wake:
				w.attemptAll(ctx, fresh.take(w.now()))
			}
		}
	}
}
