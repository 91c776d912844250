package crawler

// Scale-out (issue 9): one run shared by several workers.
//
// On a store that keeps frontiers (precwatch.FrontierStore: Redis), a run's
// frontier lives in the store: tasks, the seen-set of URLs, the page
// budget, the listings recorded, the detail pages claimed, the counters and
// the errors. The lease holder creates it and publishes the run id in the
// lease; other processes starting the same site join as workers. Each
// worker takes tasks, fetches and processes them over its own circuits,
// cookie jar and mirror state, and acks them; a task taken by a worker that
// dies goes to another after the visibility timeout. The holder ends the
// run once every task is acked and settles its record from the shared
// counters. A run whose workers all died keeps its frontier, and the next
// lease holder resumes it under the same run id.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/precwatch/precwatch"
)

// DefaultVisibility is how long a task taken by a worker may stay unacked
// (its worker keeps it while it works) before another worker takes it.
const DefaultVisibility = time.Minute

// WithSharedFrontier turns the shared frontier on or off (on by default
// when the store keeps frontiers). Off, a run's frontier stays in process
// and a second process skips the site while its lease is held.
func WithSharedFrontier(on bool) Option {
	return func(c *Crawler) {
		if !on {
			c.frontiers = nil
		} else if fs, ok := c.store.(precwatch.FrontierStore); ok {
			c.frontiers = fs
		}
	}
}

// WithVisibilityTimeout sets how long a worker's unacked task waits before
// another worker takes it (default DefaultVisibility).
func WithVisibilityTimeout(d time.Duration) Option {
	return func(c *Crawler) {
		if d > 0 {
			c.visibility = d
		}
	}
}

// sharedTask is a task as the frontier keeps it.
type sharedTask struct {
	URL     string            `json:"url"`
	Depth   int               `json:"depth"`
	Kind    taskKind          `json:"kind"`
	Listing precwatch.Listing `json:"listing,omitzero"`
	RowHash string            `json:"row_hash,omitempty"`
	Fresh   bool              `json:"fresh,omitempty"`
	Quiet   int               `json:"quiet,omitempty"`
	// A detail page's frame (see task.frame).
	Frame     bool               `json:"frame,omitempty"`
	OuterRead *precwatch.Listing `json:"outer_read,omitempty"`
	// A page asked for by a POST form (see task.post).
	Post     bool   `json:"post,omitempty"`
	Body     string `json:"body,omitempty"`
	PostJSON bool   `json:"post_json,omitempty"`
}

// sharedRun is a run's link to its shared frontier.
type sharedRun struct {
	f        precwatch.Frontier
	consumer string
	worker   bool // joined another holder's run

	mu       sync.Mutex
	inflight map[string]bool
	flushed  precwatch.Run // counters already added to the frontier's
	// unfollowed is the run's count of links left beyond the depth limit,
	// summed over its workers (see depthUnfollowed).
	unfollowed int
	// pushedSeen is set once the frontier has been seen holding tasks; its
	// counters read as empty afterwards mean the frontier is gone (a store
	// restarted without persistence), and the run ends (see sharedFinished).
	pushedSeen atomic.Bool
}

// sharedCounters are the run counters each worker adds as it acks tasks.
func sharedCounters(rec, flushed precwatch.Run) map[string]int64 {
	return map[string]int64{
		"requests":         int64(rec.Requests - flushed.Requests),
		"bytes":            rec.Bytes - flushed.Bytes,
		"not_modified":     int64(rec.NotModified - flushed.NotModified),
		"details_skipped":  int64(rec.DetailsSkipped - flushed.DetailsSkipped),
		"logins":           int64(rec.Logins - flushed.Logins),
		"throttled":        int64(rec.Throttled - flushed.Throttled),
		"throttle_wait_ns": int64(rec.ThrottleWait - flushed.ThrottleWait),
	}
}

// delta returns the counters added since the last call; r.mu must not be held.
func (r *run) sharedDelta() map[string]int64 {
	r.mu.Lock()
	rec := r.rec
	stopped := r.rec.StoppedEarly
	r.mu.Unlock()
	s := r.shared
	s.mu.Lock()
	defer s.mu.Unlock()
	d := sharedCounters(rec, s.flushed)
	if stopped && !s.flushed.StoppedEarly {
		d["stopped_early"] = 1
	}
	s.flushed = rec
	return d
}

// enqueueShared is enqueue on the shared frontier.
func (r *run) enqueueShared(key string, t task) bool {
	st := sharedTask{URL: t.url, Depth: t.depth, Kind: t.kind, Listing: t.listing,
		RowHash: t.rowHash, Fresh: t.fresh, Quiet: t.quiet, Frame: t.frame, Post: t.post, Body: t.body, PostJSON: t.postJSON}
	if t.frame {
		st.OuterRead = &t.outerRead
	}
	data, err := json.Marshal(st)
	if err != nil {
		r.addErr(fmt.Errorf("crawler: encode task %s: %w", t.url, err))
		return false
	}
	pushed, limit, err := r.shared.f.Push(r.ctx, key, data, r.c.maxPages)
	if err != nil {
		r.addErr(fmt.Errorf("crawler: push %s: %w", t.url, err))
		return false
	}
	if pushed {
		r.shared.pushedSeen.Store(true)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if limit {
		r.limitHit = true
	}
	if pushed {
		r.seenURL[key] = true
	}
	return pushed
}

// seenShared reports whether key was pushed this run; r.mu is held.
func (r *run) seenShared(key string) bool {
	if r.seenURL[key] {
		return true
	}
	ok, err := r.shared.f.Has(r.ctx, "seen", key)
	return err != nil || ok
}

// firstSighting reports whether the listing of identity id is recorded
// for the first time this run, and notes it. On the shared frontier a
// listing is recorded once per run across workers: it joins the run's set
// (countedShared) only once stored, so that a worker dying in between
// leaves it to the worker that redoes the page.
// With page batch b whose prefetch asked the shared set (sharedSeen), the
// answer read then is used instead of a round trip per listing.
func (r *run) firstSighting(b *pageBatch, id string) bool {
	r.mu.Lock()
	if r.seenListing[id] {
		r.mu.Unlock()
		return false
	}
	r.seenListing[id] = true
	r.mu.Unlock()
	if r.shared == nil {
		return true
	}
	if b != nil {
		if seen, ok := b.sharedSeen[id]; ok {
			return !seen
		}
	}
	has, err := r.shared.f.Has(r.ctx, "listings", id)
	return err != nil || !has
}

// setBatcher is a frontier that reads and adds many members of a set in
// one round trip (the Redis one): a page's listings cost one each, not
// one per listing.
type setBatcher interface {
	AddAll(ctx context.Context, set string, members []string) error
	HasAll(ctx context.Context, set string, members []string) ([]bool, error)
}

// prefetchShared asks the shared run's set which of ids are noted, in one
// round trip, for firstSighting; nothing when the frontier cannot batch.
func (r *run) prefetchShared(b *pageBatch, ids []string) {
	sb, ok := r.shared.f.(setBatcher)
	if !ok || len(ids) == 0 {
		return
	}
	has, err := sb.HasAll(r.ctx, "listings", ids)
	if err != nil || len(has) != len(ids) {
		return // firstSighting asks one by one
	}
	b.sharedSeen = make(map[string]bool, len(ids))
	for i, id := range ids {
		b.sharedSeen[id] = has[i]
	}
}

// countedShared adds stored sightings to the shared run's counters: new
// listings and alerts at once (the store reports each only once, whichever
// worker records it), listings by joining the run's set.
func (r *run) countedShared(obs []precwatch.Observation, res []precwatch.RecordResult) {
	var newListings, alerts int64
	ids := make([]string, 0, len(res))
	for i, x := range res {
		newListings += b2i(x.NewListing)
		alerts += int64(len(x.NewAlerts))
		if i < len(obs) {
			ids = append(ids, obs[i].Listing.Identity())
		}
	}
	if sb, ok := r.shared.f.(setBatcher); ok {
		if err := sb.AddAll(r.ctx, "listings", ids); err != nil {
			r.addErr(fmt.Errorf("crawler: note %d listings: %w", len(ids), err))
		}
	} else {
		for _, id := range ids {
			if _, err := r.shared.f.Add(r.ctx, "listings", id); err != nil {
				r.addErr(fmt.Errorf("crawler: note listing %s: %w", id, err))
			}
		}
	}
	if err := r.shared.f.Incr(r.ctx, map[string]int64{"new_listings": newListings, "alerts": alerts}); err != nil {
		r.c.logger.Warn("cannot add run counters", "error", err)
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// claimShared is claimDetail on the shared frontier.
func (r *run) claimShared(key, identity string) bool {
	added, err := r.shared.f.Add(r.ctx, "details", key+" "+identity)
	return err != nil || added
}

// crawlShared runs the workers of this process over the shared frontier
// until every task of the run is acked, the run is stopped or r.ctx ends.
func (r *run) crawlShared() {
	c := r.c
	if !r.shared.worker {
		for _, u := range c.site.StartURLs {
			r.enqueue(c.startTask(u))
		}
	}
	touchCtx, stopTouch := context.WithCancel(r.ctx)
	defer stopTouch()
	go r.touchLoop(touchCtx)
	var workers sync.WaitGroup
	for range c.parallelism {
		workers.Go(r.sharedWorker)
	}
	workers.Wait()
}

// touchLoop keeps this process's tasks from going to another worker while
// they are worked on.
func (r *run) touchLoop(ctx context.Context) {
	t := time.NewTicker(max(r.c.visibility/3, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := r.shared
		s.mu.Lock()
		ids := make([]string, 0, len(s.inflight))
		for id := range s.inflight {
			ids = append(ids, id)
		}
		s.mu.Unlock()
		if err := s.f.Touch(ctx, s.consumer, ids); err != nil {
			r.c.logger.Warn("cannot keep tasks in flight", "error", err)
		}
	}
}

func (r *run) sharedWorker() {
	s := r.shared
	failures := 0
	checked := time.Now()
	for r.ctx.Err() == nil {
		// A run its holder ended (a limit, a timeout, its stop) takes no
		// more tasks, even with tasks left.
		if time.Since(checked) > time.Second {
			checked = time.Now()
			if stopped, err := s.f.Stopped(r.ctx); err == nil && stopped {
				return
			}
		}
		ft, err := s.f.Next(r.ctx, s.consumer, r.c.visibility, 200*time.Millisecond)
		if err != nil {
			if r.ctx.Err() != nil {
				return
			}
			if failures++; failures > 50 {
				r.addErr(fmt.Errorf("crawler: frontier: %w", err))
				return
			}
			_ = sleep(r.ctx, 200*time.Millisecond)
			continue
		}
		failures = 0
		if ft == nil {
			if r.sharedFinished() {
				return
			}
			continue
		}
		var st sharedTask
		if err := json.Unmarshal(ft.Data, &st); err != nil {
			r.addErr(fmt.Errorf("crawler: frontier task %s: %w", ft.ID, err))
			_, _ = s.f.Ack(r.ctx, ft.ID, nil)
			continue
		}
		s.mu.Lock()
		s.inflight[ft.ID] = true
		s.mu.Unlock()
		r.wg.Add(1)
		paged := new(atomic.Bool)
		t := task{url: st.URL, depth: st.Depth, kind: st.Kind, listing: st.Listing, rowHash: st.RowHash, fresh: st.Fresh, quiet: st.Quiet, paged: paged, frame: st.Frame, post: st.Post, body: st.Body, postJSON: st.PostJSON}
		if st.OuterRead != nil {
			t.outerRead = *st.OuterRead
		}
		r.do(t)
		s.mu.Lock()
		delete(s.inflight, ft.ID)
		s.mu.Unlock()
		// A task cut short by the run's end is not done: it stays pending,
		// for the worker that resumes the run.
		if r.ctx.Err() != nil {
			return
		}
		// The page counts once, when its task is acked; a page redone
		// after its worker died counts for the worker that acks it.
		counters := r.sharedDelta()
		counters["pages"] = b2i(paged.Load())
		if _, err := s.f.Ack(r.ctx, ft.ID, counters); err != nil {
			r.addErr(fmt.Errorf("crawler: ack %s: %w", st.URL, err))
		}
	}
}

// sharedFinished reports whether the run has nothing left for its
// workers: every pushed task acked, or the run stopped or gone.
func (r *run) sharedFinished() bool {
	if stopped, err := r.shared.f.Stopped(r.ctx); err == nil && stopped {
		return true
	}
	n, err := r.shared.f.Counters(r.ctx)
	switch {
	case err != nil:
		return false
	case n["pushed"] > 0:
		r.shared.pushedSeen.Store(true)
		return n["pushed"] == n["acked"]
	case r.shared.pushedSeen.Load():
		// Waiting would last until the run timeout: the run ends, with the
		// loss in its errors, so it marks nothing gone.
		r.addErr(errors.New("crawler: the run's frontier is gone from the store (restarted without persistence?)"))
		return true
	}
	return false
}

// settleShared, on the holder, replaces the run record's counters, errors
// and limits with the run's over every worker.
func (r *run) settleShared(ctx context.Context) {
	f := r.shared.f
	if err := f.Incr(ctx, r.sharedDelta()); err != nil {
		r.c.logger.Warn("cannot add run counters", "error", err)
	}
	n, err := f.Counters(ctx)
	if err != nil {
		r.addErr(fmt.Errorf("crawler: run counters: %w", err))
		return
	}
	listings, err := f.Card(ctx, "listings")
	if err != nil {
		r.addErr(fmt.Errorf("crawler: run listings: %w", err))
		return
	}
	errs, dropped, err := f.Errors(ctx)
	if err != nil {
		r.addErr(fmt.Errorf("crawler: run errors: %w", err))
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := &r.rec
	rec.Pages, rec.Requests, rec.Bytes = int(n["pages"]), int(n["requests"]), n["bytes"]
	rec.NotModified, rec.DetailsSkipped, rec.Logins = int(n["not_modified"]), int(n["details_skipped"]), int(n["logins"])
	rec.NewListings, rec.Alerts, rec.Listings = int(n["new_listings"]), int(n["alerts"]), int(listings)
	rec.Throttled, rec.ThrottleWait = int(n["throttled"]), time.Duration(n["throttle_wait_ns"])
	rec.StoppedEarly = rec.StoppedEarly || n["stopped_early"] > 0
	r.limitHit = r.limitHit || n["limit"] > 0
	r.shared.unfollowed = int(n["unfollowed"])
	// Errors the store did not take are kept too.
	for _, e := range rec.Errors {
		if !containsStr(errs, e) {
			errs = append(errs, e)
		}
	}
	rec.Errors = errs
	r.dropped += int(dropped)
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// endShared, on a worker, hands what it knows to the run: the counters
// not added yet, links left beyond the depth limit, and why it stopped
// when it did not finish.
func (r *run) endShared(ctx context.Context) {
	f := r.shared.f
	d := r.sharedDelta()
	r.mu.Lock()
	unfollowed := 0
	for k := range r.unfollowed {
		if !r.seenShared(k) {
			unfollowed++
		}
	}
	proxyErr := r.proxyErr
	r.mu.Unlock()
	d["unfollowed"] = int64(unfollowed)
	if err := f.Incr(ctx, d); err != nil {
		r.c.logger.Warn("cannot add run counters", "error", err)
	}
	if proxyErr != nil {
		_ = f.AddError(ctx, fmt.Sprintf("crawler: worker %s: proxy unreachable: %v", r.shared.consumer, proxyErr), maxRunErrors)
	}
	if block, status := r.stopped(); block != nil {
		_ = f.AddError(ctx, fmt.Sprintf("crawler: worker %s: %s: %s page at %s", r.shared.consumer, status, block.Class, block.URL), maxRunErrors)
	}
}

// startShared links run r to its frontier, creating it for a new run.
func (r *run) startShared(ctx context.Context, worker bool) error {
	f := r.c.frontiers.Frontier(r.c.site.Name, r.rec.ID)
	if !worker {
		if err := f.Create(ctx); err != nil {
			return err
		}
	}
	r.shared = &sharedRun{f: f, consumer: r.c.holder, worker: worker, inflight: map[string]bool{}}
	return nil
}

// finishShared, on the holder, stops the run's workers and lets its
// frontier expire.
func (r *run) finishShared(ctx context.Context) {
	if err := r.shared.f.Stop(ctx); err != nil {
		r.c.logger.Warn("cannot stop the run's workers", "error", err)
	}
	if err := r.shared.f.Delete(ctx, 10*time.Minute); err != nil {
		r.c.logger.Warn("cannot expire the run's frontier", "error", err)
	}
}

// join makes this process a worker of the run that holds the site's lease
// l, when that run has a shared frontier. When the run has nothing left
// and its holder is gone, the worker takes the lease and ends (or resumes)
// the run itself. joined is false when there is no run to join.
func (c *Crawler) join(ctx context.Context, l precwatch.Lease) (precwatch.Run, bool, error) {
	if c.frontiers == nil {
		return precwatch.Run{}, false, nil
	}
	// The holder publishes its run id right after taking the lease.
	for wait := 0; l.RunID == "" && wait < 20; wait++ {
		if sleep(ctx, 100*time.Millisecond) != nil {
			return precwatch.Run{}, false, nil
		}
		cur, err := c.leases.CurrentLease(ctx, c.site.Name)
		if err != nil {
			return precwatch.Run{}, false, nil
		}
		l = cur
	}
	if l.RunID == "" {
		return precwatch.Run{}, false, nil
	}
	if ok, err := c.frontiers.Frontier(c.site.Name, l.RunID).Exists(ctx); err != nil || !ok {
		return precwatch.Run{}, false, nil
	}
	r := c.newRun(precwatch.Run{ID: l.RunID, Site: c.site.Name, Start: c.now(), Status: precwatch.RunRunning})
	logger := c.logger.With("run_id", r.rec.ID)
	logger.Info("joined run as a worker", "holder", l.Holder)
	r.ctx, r.cancel = context.WithTimeout(ctx, c.runTimeout)
	if err := r.startShared(ctx, true); err != nil {
		r.cancel()
		return precwatch.Run{}, false, nil
	}
	r.execute()
	r.cancel()
	// Issue 11: a worker's WARC files are its own; the holder's run
	// record lists only the holder's, so the worker logs them.
	if files, err := r.closeArchive(); err != nil || len(files) > 0 {
		logger.Info("worker archive", "files", files, "error", err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	r.endShared(sctx)
	if err := r.saveSession(sctx); err != nil {
		logger.Warn("cannot save session", "error", err)
	}
	r.mu.Lock()
	rec := r.rec
	r.mu.Unlock()
	logger.Info("worker done", "pages", rec.Pages, "listings", rec.Listings, "requests", rec.Requests, "throttled", rec.Throttled)
	if ctx.Err() != nil {
		return rec, true, nil
	}
	return c.afterJoin(ctx, rec)
}

// afterJoin waits for the run's holder to end the run; when the holder is
// gone (its lease expires), this worker takes the lease and ends or
// resumes the run itself.
func (c *Crawler) afterJoin(ctx context.Context, rec precwatch.Run) (precwatch.Run, bool, error) {
	deadline := time.Now().Add(2*c.leaseTTL + time.Second)
	for time.Now().Before(deadline) {
		// The run's own record is its holder's: a worker returns its
		// share (status running), so that the run is counted once.
		if done := c.runEnded(ctx, rec.ID); done {
			return rec, true, nil
		}
		l, err := c.leases.AcquireLease(ctx, c.site.Name, c.holder, c.leaseTTL)
		if err == nil {
			if done := c.runEnded(ctx, rec.ID); done {
				_ = c.leases.ReleaseLease(context.WithoutCancel(ctx), l)
				return rec, true, nil
			}
			final, err := c.runHolding(ctx, l)
			return final, true, err
		}
		if !errors.Is(err, precwatch.ErrLeaseHeld) && ctx.Err() == nil {
			c.logger.Warn("cannot take the lease of a finished run", "error", err)
		}
		if sleep(ctx, c.leaseTTL/6) != nil {
			break
		}
	}
	return rec, true, nil
}

// runEnded reports whether run id has a final record.
func (c *Crawler) runEnded(ctx context.Context, id string) bool {
	runs, err := c.store.Runs(ctx, c.site.Name, 20)
	if err != nil {
		return false
	}
	for _, run := range runs {
		if run.ID == id {
			return run.Status != precwatch.RunRunning
		}
	}
	return false
}
