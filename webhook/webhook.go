// Package webhook delivers the store's alert events (precwatch.EventLog)
// to HTTP destinations: each destination reads the log from its own
// persistent cursor, keeps the events its filter passes, and POSTs each
// one, signed with HMAC-SHA256 (see Sign), until it is accepted, backing off
// exponentially with jitter between attempts. Events are delivered one at
// a time, in the log's order, so at least once and in order per alert;
// the cursor advances only past an accepted event. Every attempt goes to
// the store's delivery log.
//
// When the store also keeps leases (precwatch.LeaseStore), each
// destination is served by one process at a time cluster-wide, through
// the lease "webhook:<name>".
package webhook

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/precwatch/precwatch"
)

// Shapes of a request body.
const (
	// ShapeGeneric is the event as JSON (see Payload).
	ShapeGeneric = "generic"
	// ShapeSlack is a Slack incoming-webhook message (text and blocks),
	// which Mattermost accepts too.
	ShapeSlack = "slack"
)

// Destination is where events go.
type Destination struct {
	// Name identifies the destination: its cursor, lease and log.
	Name string
	// URL receives a POST per event.
	URL string
	// Secret keys the HMAC-SHA256 signature; required for ShapeGeneric.
	Secret []byte
	// Shape is ShapeGeneric (default) or ShapeSlack.
	Shape string
	// Filter selects the events sent; the others are skipped.
	Filter Filter
	// Timeout bounds one attempt; default 10s.
	Timeout time.Duration
	// ConsoleURL, when set, links chat messages to the alert's page.
	ConsoleURL string
	// FromStart makes a destination without a cursor start at the oldest
	// event kept; by default it starts after the newest one.
	FromStart bool
}

// Filter selects events; an empty list selects everything.
type Filter struct {
	MinSeverity precwatch.Severity
	Sites       []string
	Substances  []string
	Regimes     []precwatch.Regime
	// Events are event kinds (raised, changed, relisted, claim, status...).
	Events []string
}

// Match reports whether e passes the filter.
func (f Filter) Match(e precwatch.Event) bool {
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	return e.Alert.Severity >= f.MinSeverity && in(f.Sites, e.Site) && in(f.Substances, e.Substance) &&
		(len(f.Regimes) == 0 || slices.Contains(f.Regimes, e.Alert.Regime)) && in(f.Events, e.Event)
}

// Validate checks a destination.
func (d Destination) Validate() error {
	if d.Name == "" {
		return fmt.Errorf("webhook: %w: destination without a name", precwatch.ErrInvalid)
	}
	u, err := url.Parse(d.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("webhook: %w: destination %q: want an absolute http(s) URL", precwatch.ErrInvalid, d.Name)
	}
	switch d.Shape {
	case "", ShapeGeneric:
		if len(d.Secret) < MinSecretLen {
			return fmt.Errorf("webhook: %w: destination %q: a secret of at least %d bytes is required", precwatch.ErrInvalid, d.Name, MinSecretLen)
		}
	case ShapeSlack:
	default:
		return fmt.Errorf("webhook: %w: destination %q: unknown shape %q (want generic or slack)", precwatch.ErrInvalid, d.Name, d.Shape)
	}
	return nil
}

// MinSecretLen is the shortest secret accepted: 128 bits.
const MinSecretLen = 16

// Options tune a Manager; nil or zero fields take the defaults.
type Options struct {
	// Poll is how often a destination that has caught up looks for new
	// events; default 2s.
	Poll time.Duration
	// MinBackoff is the wait after a first failed attempt, doubled after
	// each next one up to MaxBackoff; defaults 1s and 5m. Each wait is
	// drawn between half and all of that (jitter), so that destinations
	// failing together do not retry together.
	MinBackoff, MaxBackoff time.Duration
	// Batch is how many events one read of the log returns; default 100.
	Batch int
	// Client sends the requests; default a client that follows no redirect.
	Client *http.Client
	// Holder names this process in leases; default host-pid.
	Holder string
	// LeaseTTL is how long a destination's lease lasts unless renewed;
	// default 30s.
	LeaseTTL time.Duration
	// UserAgent is sent with every request; default "precwatch-webhook".
	UserAgent string
	// OnAttempt, when set, is told of every attempt (for metrics).
	OnAttempt func(precwatch.Delivery)
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Manager runs one delivery loop per destination.
type Manager struct {
	opts   Options
	logger *slog.Logger
	store  precwatch.DeliveryStore
	leases precwatch.LeaseStore // nil when the store keeps none
	dests  []Destination

	stopOnce sync.Once
	stop     chan struct{}
	wg       sync.WaitGroup
}

// New returns a manager delivering store's events to dests.
func New(opts *Options, logger *slog.Logger, store precwatch.DeliveryStore, dests []Destination) (*Manager, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(5*time.Minute, o.MinBackoff)
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Client == nil {
		o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.Holder == "" {
		host, _ := os.Hostname()
		o.Holder = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 30 * time.Second
	}
	if o.UserAgent == "" {
		o.UserAgent = "precwatch-webhook"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	names := map[string]bool{}
	for _, d := range dests {
		if err := d.Validate(); err != nil {
			return nil, err
		}
		if names[d.Name] {
			return nil, fmt.Errorf("webhook: %w: destination %q twice", precwatch.ErrInvalid, d.Name)
		}
		names[d.Name] = true
	}
	m := &Manager{opts: o, logger: logger.With("component", "webhook"), store: store, dests: dests, stop: make(chan struct{})}
	m.leases, _ = store.(precwatch.LeaseStore)
	return m, nil
}

// Run delivers until ctx is done or Stop is called, then waits for the
// loops to end. An attempt in flight is abandoned (its event is sent again
// by the next run: at least once).
func (m *Manager) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-m.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for _, d := range m.dests {
		m.wg.Go(func() { m.loop(ctx, d) })
	}
	m.wg.Wait()
	return nil
}

// Stop ends Run; it may be called more than once.
func (m *Manager) Stop() { m.stopOnce.Do(func() { close(m.stop) }) }

// sleep waits d or until ctx is done; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// backoff is the wait after attempt failed attempts: MinBackoff doubled
// per attempt up to MaxBackoff, drawn in [half, all] of it.
func (m *Manager) backoff(attempt int) time.Duration {
	d := m.opts.MinBackoff
	for i := 1; i < attempt && d < m.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, m.opts.MaxBackoff)
	half := d / 2
	n, err := rand.Int(rand.Reader, big.NewInt(int64(half)+1))
	if err != nil {
		return d
	}
	return half + time.Duration(n.Int64())
}

// dest is one destination's loop state.
type dest struct {
	Destination
	m      *Manager
	logger *slog.Logger
	lease  *precwatch.Lease
	cursor string // the last event handled; "" before the first
	loaded bool   // cursor was read from the store
}

func (m *Manager) loop(ctx context.Context, d Destination) {
	ds := &dest{Destination: d, m: m, logger: m.logger.With("destination", d.Name)}
	defer ds.release()
	failures := 0
	for ctx.Err() == nil {
		if err := ds.step(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			ds.logger.Warn("webhook delivery loop failed; retrying", "error", err, "failures", failures)
			sleep(ctx, m.backoff(failures))
			continue
		}
		failures = 0
	}
}

// step holds the lease, reads a batch of events after the cursor and
// delivers those the filter passes. It waits Poll when there was nothing
// to do.
func (ds *dest) step(ctx context.Context) error {
	held, err := ds.hold(ctx)
	if err != nil {
		return err
	}
	if !held {
		sleep(ctx, ds.m.opts.Poll)
		return nil
	}
	if !ds.loaded {
		if err := ds.loadCursor(ctx); err != nil {
			return err
		}
		ds.loaded = true
	}
	events, err := ds.m.store.Events(ctx, ds.cursor, ds.m.opts.Batch)
	if err != nil {
		return fmt.Errorf("webhook: %s: read events: %w", ds.Name, err)
	}
	if len(events) == 0 {
		sleep(ctx, ds.m.opts.Poll)
		return nil
	}
	skipped := ""
	for _, e := range events {
		if e.Gap {
			ds.reportGap(ctx, e)
		}
		if !ds.Filter.Match(e) {
			skipped = e.ID
			continue
		}
		if err := ds.deliver(ctx, e); err != nil {
			return err
		}
		skipped = ""
	}
	if skipped != "" {
		return ds.saveCursor(ctx, skipped)
	}
	return nil
}

// reportGap tells operators (log, delivery log, metrics) that events
// before e were trimmed from the outbox before this destination read them:
// it failed for longer than the outbox holds.
func (ds *dest) reportGap(ctx context.Context, e precwatch.Event) {
	msg := fmt.Sprintf("events written after event %s were trimmed from the outbox before delivery and are lost to this destination", ds.cursor)
	ds.logger.Error("webhook events lost", "after", ds.cursor, "next", e.ID)
	d := precwatch.Delivery{Destination: ds.Name, EventID: e.ID, Event: "gap", At: ds.m.opts.Now(), Error: msg}
	if err := ds.m.store.LogDelivery(ctx, d); err != nil {
		ds.logger.Warn("cannot log a webhook delivery", "error", err)
	}
	if ds.m.opts.OnAttempt != nil {
		ds.m.opts.OnAttempt(d)
	}
}

// loadCursor reads the saved cursor; a destination without one starts at
// the oldest event (FromStart) or after the newest, and saves that.
func (ds *dest) loadCursor(ctx context.Context) error {
	c, err := ds.m.store.DeliveryCursor(ctx, ds.Name)
	switch {
	case err == nil:
		ds.cursor = c
		return nil
	case !errors.Is(err, precwatch.ErrNotFound):
		return fmt.Errorf("webhook: %s: %w", ds.Name, err)
	}
	if !ds.FromStart {
		// Page to the end of the log: once per new destination.
		for {
			es, err := ds.m.store.Events(ctx, c, 1000)
			if err != nil {
				return fmt.Errorf("webhook: %s: find the newest event: %w", ds.Name, err)
			}
			if len(es) == 0 {
				break
			}
			c = es[len(es)-1].ID
		}
	}
	// Saved even when "" (an empty log: start at its beginning), so that
	// events written from now on are not taken for old ones.
	return ds.saveCursor(ctx, c)
}

func (ds *dest) saveCursor(ctx context.Context, id string) error {
	if err := ds.m.store.SaveDeliveryCursor(ctx, ds.Name, id); err != nil {
		return fmt.Errorf("webhook: %s: %w", ds.Name, err)
	}
	ds.cursor = id
	return nil
}

// hold takes or renews the destination's lease, when the store keeps
// leases; it reports whether this process may deliver.
func (ds *dest) hold(ctx context.Context) (bool, error) {
	ls := ds.m.leases
	if ls == nil {
		return true, nil
	}
	name, ttl := "webhook:"+ds.Name, ds.m.opts.LeaseTTL
	if ds.lease != nil {
		// Renew once a third of the TTL is gone.
		if ds.m.opts.Now().Before(ds.lease.Expires.Add(-2 * ttl / 3)) {
			return true, nil
		}
		l, err := ls.RenewLease(ctx, *ds.lease, ttl)
		if err == nil {
			ds.lease = &l
			return true, nil
		}
		if !errors.Is(err, precwatch.ErrLeaseLost) {
			return false, fmt.Errorf("webhook: %s: renew lease: %w", ds.Name, err)
		}
		ds.logger.Warn("webhook lease lost to another process", "lease", name)
		ds.lease, ds.loaded = nil, false // re-read the cursor the other one saved
	}
	l, err := ls.AcquireLease(ctx, name, ds.m.opts.Holder, ttl)
	switch {
	case errors.Is(err, precwatch.ErrLeaseHeld):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("webhook: %s: acquire lease: %w", ds.Name, err)
	}
	ds.lease, ds.loaded = &l, false
	return true, nil
}

func (ds *dest) release() {
	if ds.lease == nil || ds.m.leases == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = ds.m.leases.ReleaseLease(ctx, *ds.lease)
}

// deliver sends e until the destination accepts it, then saves the
// cursor past it. It returns an error only when ctx ends or the lease is
// lost (the event is then left to the next holder).
func (ds *dest) deliver(ctx context.Context, e precwatch.Event) error {
	body, err := Body(ds.Shape, e, ds.ConsoleURL)
	if err != nil {
		return fmt.Errorf("webhook: %s: event %s: %w", ds.Name, e.ID, err)
	}
	for attempt := 1; ; attempt++ {
		d := ds.attempt(ctx, e, body, attempt)
		if !d.Delivered && ctx.Err() != nil {
			return ctx.Err() // stopping: not an attempt to log
		}
		// An accepted event is logged and passed even when stopping, so
		// that a clean stop sends nothing twice.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if err := ds.m.store.LogDelivery(wctx, d); err != nil {
			ds.logger.Warn("cannot log a webhook delivery", "error", err)
		}
		if ds.m.opts.OnAttempt != nil {
			ds.m.opts.OnAttempt(d)
		}
		if d.Delivered {
			ds.logger.Debug("webhook delivered", "event_id", e.ID, "event", e.Event, "key", e.Key, "attempt", attempt)
			err := ds.saveCursor(wctx, e.ID)
			cancel()
			return err
		}
		cancel()
		wait := ds.m.backoff(attempt)
		ds.logger.Warn("webhook delivery failed; will retry", "event_id", e.ID, "attempt", attempt, "status", d.Status, "error", d.Error, "retry_in", wait)
		// Wait in steps, renewing the lease, so that a long backoff
		// does not let it expire.
		for deadline := ds.m.opts.Now().Add(wait); ; {
			left := deadline.Sub(ds.m.opts.Now())
			if left <= 0 {
				break
			}
			if !sleep(ctx, min(left, ds.m.opts.LeaseTTL/3)) {
				return ctx.Err()
			}
			held, err := ds.hold(ctx)
			if err != nil {
				return err
			}
			if !held {
				return fmt.Errorf("webhook: %s: lease lost while retrying event %s", ds.Name, e.ID)
			}
		}
	}
}

// maxErrorBody bounds what of a failed response's body the log keeps;
// maxDrain what of any answer is read at all.
const (
	maxErrorBody = 512
	maxDrain     = 64 << 10
)

// attempt makes one POST of body and says how it went.
func (ds *dest) attempt(ctx context.Context, e precwatch.Event, body []byte, n int) precwatch.Delivery {
	start := ds.m.opts.Now()
	d := precwatch.Delivery{Destination: ds.Name, EventID: e.ID, Event: e.Event, Key: e.Key, At: start, Attempt: n}
	timeout := ds.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := NewRequest(actx, ds.URL, ds.Secret, e, body, start)
	if err != nil {
		d.Error = err.Error()
		return d
	}
	req.Header.Set("User-Agent", ds.m.opts.UserAgent)
	resp, err := ds.m.opts.Client.Do(req)
	d.Duration = ds.m.opts.Now().Sub(start)
	if err != nil {
		d.Error = redactURL(err, ds.URL)
		return d
	}
	defer func() {
		// Drained (up to a bound) so that the connection is reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
		resp.Body.Close()
	}()
	d.Status = resp.StatusCode
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		d.Delivered = true
		return d
	}
	snippet := make([]byte, maxErrorBody)
	k, _ := io.ReadFull(resp.Body, snippet)
	d.Error = fmt.Sprintf("%s: %s", resp.Status, sanitize(snippet[:k]))
	return d
}
