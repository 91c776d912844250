package crawler

// Scale-out (issue 9): one run of a site at a time, cluster-wide.
//
// A crawler whose store keeps leases (precwatch.LeaseStore) takes the
// site's lease before it saves its run record and renews it every third of
// its TTL while the run lives. A run whose lease passed to another holder
// (it could not renew in time) stops, abandoned with "lease lost". A
// second process asking for a run while the lease is held joins the run as
// a worker when the run has a shared frontier (frontier.go), else skips it
// (ErrLeased). The next holder after a dead one marks the dead holder's run
// abandoned with the reason, or resumes it when its shared frontier is
// still there.

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/precwatch/precwatch"
)

// DefaultLeaseTTL is how long a site's lease lasts unless renewed.
const DefaultLeaseTTL = 30 * time.Second

// ErrLeased is returned by Run when another process holds the site's lease
// and its run cannot be joined: the run is skipped.
var ErrLeased = errors.New("crawler: site leased by another process")

// WithLease sets the holder id the crawler takes site leases under
// (default: host name, process id and a random suffix) and the lease TTL
// (default DefaultLeaseTTL). It has no effect on a store without leases.
func WithLease(holder string, ttl time.Duration) Option {
	return func(c *Crawler) {
		if holder != "" {
			c.holder = holder
		}
		if ttl > 0 {
			c.leaseTTL = ttl
		}
	}
}

// DefaultHolder names this process: host name, process id, random suffix.
func DefaultHolder() string {
	host, _ := os.Hostname()
	var b [3]byte
	_, _ = crand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// leaseKeeper holds a run's lease and renews it in the background.
type leaseKeeper struct {
	c    *Crawler
	stop chan struct{}
	done chan struct{}

	mu     sync.Mutex
	l      precwatch.Lease
	lost   bool
	onLost func()
}

func (c *Crawler) keepLease(l precwatch.Lease) *leaseKeeper {
	k := &leaseKeeper{c: c, l: l, stop: make(chan struct{}), done: make(chan struct{})}
	go k.loop()
	return k
}

func (k *leaseKeeper) loop() {
	defer close(k.done)
	t := time.NewTicker(max(k.c.leaseTTL/3, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-t.C:
		}
		if !k.renew(context.Background()) {
			return
		}
	}
}

// renew extends the lease now; it reports false once the lease is lost.
// A failure to reach the store is not a loss: the next tick tries again,
// and the token tells whether anyone took the lease meanwhile.
func (k *leaseKeeper) renew(ctx context.Context) bool {
	k.mu.Lock()
	l, lost := k.l, k.lost
	k.mu.Unlock()
	if lost {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, max(k.c.leaseTTL/3, 10*time.Millisecond))
	defer cancel()
	next, err := k.c.leases.RenewLease(ctx, l, k.c.leaseTTL)
	switch {
	case errors.Is(err, precwatch.ErrLeaseLost):
		k.c.logger.Error("lease lost, stopping the run", "run_id", l.RunID, "holder", l.Holder, "token", l.Token, "error", err)
		k.mu.Lock()
		k.lost = true
		f := k.onLost
		k.mu.Unlock()
		if f != nil {
			f()
		}
		return false
	case err != nil:
		k.c.logger.Warn("lease renewal failed, retrying", "run_id", l.RunID, "error", err)
		return true
	}
	k.mu.Lock()
	k.l = next
	k.mu.Unlock()
	return true
}

// setRun records the run the lease covers, so that workers can join it.
func (k *leaseKeeper) setRun(ctx context.Context, runID string, onLost func()) error {
	k.mu.Lock()
	k.l.RunID, k.onLost = runID, onLost
	k.mu.Unlock()
	if !k.renew(ctx) {
		return fmt.Errorf("crawler: site %q: %w", k.c.site.Name, precwatch.ErrLeaseLost)
	}
	return nil
}

func (k *leaseKeeper) isLost() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lost
}

// release stops renewing and gives the lease back.
func (k *leaseKeeper) release(ctx context.Context) {
	close(k.stop)
	<-k.done
	k.mu.Lock()
	l, lost := k.l, k.lost
	k.mu.Unlock()
	if lost {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := k.c.leases.ReleaseLease(ctx, l); err != nil {
		k.c.logger.Warn("lease release failed", "run_id", l.RunID, "error", err)
	}
}

// runLeased is Run under the site's lease.
func (c *Crawler) runLeased(ctx context.Context) (precwatch.Run, error) {
	l, err := c.leases.AcquireLease(ctx, c.site.Name, c.holder, c.leaseTTL)
	if errors.Is(err, precwatch.ErrLeaseHeld) {
		if rec, joined, err := c.join(ctx, l); joined {
			return rec, err
		}
		c.logger.Info("run skipped: another process holds the site's lease", "holder", l.Holder, "run_id", l.RunID, "expires", l.Expires)
		return precwatch.Run{ID: l.RunID, Site: c.site.Name, Status: precwatch.RunRunning},
			fmt.Errorf("%w: site %q held by %s (run %s)", ErrLeased, c.site.Name, l.Holder, l.RunID)
	}
	if err != nil {
		return precwatch.Run{}, fmt.Errorf("crawler: site %q: acquire lease: %w", c.site.Name, err)
	}
	return c.runHolding(ctx, l)
}

// runHolding runs (or resumes) the site's run under lease l, just taken.
func (c *Crawler) runHolding(ctx context.Context, l precwatch.Lease) (precwatch.Run, error) {
	k := c.keepLease(l)
	defer k.release(ctx)
	resume := recoverRuns(ctx, c.store, c.frontiers, l, c.now(), c.logger)
	return c.runOnce(ctx, k, resume)
}

// recoverRuns settles the site's runs left running by holders gone (the
// caller holds the lease, so no live process runs them): it returns the
// newest whose shared frontier is still there, to be resumed, and marks
// the others abandoned with the reason.
func recoverRuns(ctx context.Context, store precwatch.Store, frontiers precwatch.FrontierStore, l precwatch.Lease, now time.Time, logger *slog.Logger) *precwatch.Run {
	runs, err := store.Runs(ctx, l.Site, 50)
	if err != nil {
		logger.Warn("cannot list runs to recover", "error", err)
		return nil
	}
	var resume *precwatch.Run
	for _, run := range runs {
		if run.Status != precwatch.RunRunning {
			continue
		}
		if frontiers != nil && resume == nil {
			if ok, err := frontiers.Frontier(l.Site, run.ID).Exists(ctx); err == nil && ok {
				resume = &run
				logger.Info("resuming run of a holder gone", "run_id", run.ID)
				continue
			}
		}
		reason := "crawler: run left running by a holder gone (no lease held for it)"
		if p := l.Previous; p != nil && p.RunID == run.ID && !p.Released {
			reason = fmt.Sprintf("crawler: lease of holder %s expired at %s", p.Holder, p.Expires.UTC().Format(time.RFC3339Nano))
		}
		run.Status, run.End = precwatch.RunAbandoned, now
		run.Errors = append(run.Errors, reason)
		if err := store.SaveRun(ctx, run); err != nil {
			logger.Warn("cannot mark a dead holder's run abandoned", "run_id", run.ID, "error", err)
			continue
		}
		logger.Warn("run of a holder gone marked abandoned", "run_id", run.ID, "reason", reason)
	}
	return resume
}

// Recover settles site's runs left running by dead holders when nobody
// holds its lease (a daemon does it at start): runs without a shared
// frontier are marked abandoned with the reason. It reports whether a run
// is left to resume (its shared frontier is there): the next run of the
// site resumes it.
func Recover(ctx context.Context, store precwatch.Store, site, holder string, logger *slog.Logger) (bool, error) {
	ls, ok := store.(precwatch.LeaseStore)
	if !ok {
		return false, nil
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	l, err := ls.AcquireLease(ctx, site, holder, DefaultLeaseTTL)
	if errors.Is(err, precwatch.ErrLeaseHeld) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("crawler: recover %q: %w", site, err)
	}
	defer func() {
		if err := ls.ReleaseLease(context.WithoutCancel(ctx), l); err != nil {
			logger.Warn("lease release failed", "site", site, "error", err)
		}
	}()
	fs, _ := store.(precwatch.FrontierStore)
	resume := recoverRuns(ctx, store, fs, l, time.Now(), logger.With("crawler", site))
	return resume != nil, nil
}

// startScaleOut, on the holder, publishes the run in its lease and links
// the run to its shared frontier when the store keeps frontiers; a run
// that cannot share its frontier runs in process.
func (r *run) startScaleOut(ctx context.Context) error {
	if r.lease == nil {
		return nil
	}
	if r.c.frontiers != nil {
		if err := r.startShared(ctx, false); err != nil {
			r.c.logger.Warn("shared frontier unavailable, crawling in process", "error", err)
			r.shared = nil
		}
	}
	return r.lease.setRun(ctx, r.rec.ID, r.cancel)
}

func (r *run) leaseLost() bool { return r.lease != nil && r.lease.isLost() }

// confirmLease renews the lease before the run's final writes; false when
// it is lost, and then rec is marked so.
func (r *run) confirmLease(ctx context.Context, rec *precwatch.Run) bool {
	if r.lease == nil {
		return true
	}
	if !r.lease.isLost() && r.lease.renew(ctx) {
		return true
	}
	if rec.Status != precwatch.RunAbandoned {
		rec.Status = precwatch.RunAbandoned
		rec.Errors = append(rec.Errors, "crawler: lease lost")
	}
	return false
}

// DefaultRunSaveRetry is how long the daemon's runs retry saving their
// final record (see WithRunSaveRetry).
const DefaultRunSaveRetry = 10 * time.Second

// WithRunSaveRetry makes a run whose final record the store refused (Redis
// down at that moment) save it again with backoff (250ms, doubling up to
// 4s, with jitter) for up to budget, or until the run's parent context
// ends. The lease is renewed meanwhile, so no other process settles the
// run. The daemon sets it: a short outage then costs nothing, and a run
// whose record still could not be saved is marked abandoned by the next
// sweep (SweepRuns) of any daemon once the store is back. The retries are
// bounded because the site's next run waits for them. Without it (a
// one-shot crawl) the save is tried once and the run's error says it
// failed.
func WithRunSaveRetry(budget time.Duration) Option {
	return func(c *Crawler) { c.saveRetry = budget }
}

// saveFinal saves run r's final record: once with sctx (which outlives
// ctx), then, with WithRunSaveRetry, again with backoff while the budget
// lasts, ctx lives and r's lease is not lost (its next holder then owns
// the record).
func (c *Crawler) saveFinal(ctx, sctx context.Context, r *run, rec precwatch.Run, logger *slog.Logger) error {
	err := c.store.SaveRun(sctx, rec)
	if err == nil || c.saveRetry <= 0 {
		return err
	}
	deadline := time.Now().Add(c.saveRetry)
	wait := 250 * time.Millisecond
	for attempt := 2; ; attempt++ {
		if time.Now().Add(wait).After(deadline) {
			logger.Error("cannot save the run's final record; the next sweep marks it abandoned", "status", rec.Status, "attempts", attempt-1, "error", err)
			return fmt.Errorf("%w (gave up after %d attempts in %s)", err, attempt-1, c.saveRetry)
		}
		logger.Warn("cannot save the run's final record, retrying", "status", rec.Status, "attempt", attempt-1, "retry_in", wait, "error", err)
		t := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up after %d attempts: %w)", err, attempt-1, ctx.Err())
		case <-t.C:
		}
		if r.leaseLost() {
			return fmt.Errorf("%w (gave up after %d attempts: lease lost)", err, attempt-1)
		}
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = c.store.SaveRun(actx, rec)
		cancel()
		if err == nil {
			logger.Info("run's final record saved", "status", rec.Status, "attempts", attempt)
			return nil
		}
		wait = min(2*wait, 4*time.Second)
	}
}

// DefaultSweepLimit is how many of the newest runs SweepRuns looks through
// for runs left running, besides those of the sites it is given.
const DefaultSweepLimit = 200

// SweepRuns settles the runs left running by holders gone: those of sites
// and of any site with a `running` run among the store's DefaultSweepLimit
// newest runs. A site whose lease is held (its run lives) is left alone;
// for the others, see Recover. It returns the sites with a run left to
// resume (a shared frontier), in name order. A daemon calls it at start
// and then every lease TTL, so that a run whose holder died or gave up its
// final save is marked `abandoned` within about two lease TTLs, whichever
// process comes next.
func SweepRuns(ctx context.Context, store precwatch.Store, sites []string, holder string, logger *slog.Logger) ([]string, error) {
	if _, ok := store.(precwatch.LeaseStore); !ok {
		return nil, nil
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	candidates := map[string]bool{}
	runs, err := store.Runs(ctx, "", DefaultSweepLimit)
	if err != nil {
		return nil, fmt.Errorf("crawler: sweep runs: %w", err)
	}
	for _, r := range runs {
		if r.Status == precwatch.RunRunning {
			candidates[r.Site] = true
		}
	}
	// Only sites with a run left running take the lease for a moment: a
	// run of the site starting meanwhile would find it held.
	for _, site := range sites {
		runs, err := store.Runs(ctx, site, 50)
		if err != nil {
			return nil, fmt.Errorf("crawler: sweep runs of %q: %w", site, err)
		}
		if slices.ContainsFunc(runs, func(r precwatch.Run) bool { return r.Status == precwatch.RunRunning }) {
			candidates[site] = true
		}
	}
	var resume, errs []string
	for _, site := range slices.Sorted(maps.Keys(candidates)) {
		ok, err := Recover(ctx, store, site, holder, logger)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if ok {
			resume = append(resume, site)
		}
	}
	if len(errs) > 0 {
		return resume, fmt.Errorf("crawler: sweep runs: %s", strings.Join(errs, "; "))
	}
	return resume, nil
}
