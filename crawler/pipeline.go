package crawler

// Evidence and batches (issue 9): the listings read from a page are
// written with the page itself in one Store.RecordPage call when the page
// is done, so that the store takes a page in one round trip and no alert
// is ever stored without the page it was read from.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/precwatch/precwatch"
)

// flushTimeout bounds a page's write once the run is stopped.
const flushTimeout = 10 * time.Second

// pageBatch is a fetched page and the observations read from it so far.
type pageBatch struct {
	page *precwatch.Page // Stored, without body, for a 304 replay (issue 11); nil once written ahead (writeAhead)
	// replayBody is a 304 replay's body as read from the store: should a
	// prune delete it before the page is written, it is written again.
	replayBody []byte
	digest     string
	obs        []precwatch.Observation
	done       chan struct{} // closed once flushed, when this batch registered the digest
	// states are the stored states of the page's listings, read at once
	// (see prefetch); nil when not read.
	states map[string]precwatch.ListingState
	// sharedSeen: which of the page's listings the shared run had noted
	// when the page was read (see prefetchShared); nil when not asked.
	sharedSeen map[string]bool
}

// newBatch starts the batch of page resp, whose SHA-256 is digest, and
// registers it so that records naming the page wait for it (awaitPage).
func (r *run) newBatch(resp *colly.Response, digest string, fetchedAt time.Time, f *precwatch.Fetch) *pageBatch {
	b := &pageBatch{digest: digest}
	b.page = &precwatch.Page{
		SHA256:      digest,
		Site:        r.c.site.Name,
		URL:         resp.Request.URL.String(),
		FetchedAt:   fetchedAt,
		ContentType: resp.Headers.Get(headerContentType),
		Body:        resp.Body,
		Fetch:       f, // issue 11: the fetch is written with its page
	}
	if resp.Ctx.GetAny(keyReplay) != nil {
		// A 304 replay: the body is stored already; the fetch is new.
		b.replayBody = resp.Body
		b.page.Body, b.page.Stored = nil, true
	}
	r.mu.Lock()
	if _, ok := r.pagesPending[digest]; !ok {
		if r.pagesPending == nil {
			r.pagesPending = make(map[string]chan struct{})
		}
		b.done = make(chan struct{})
		r.pagesPending[digest] = b.done
	}
	r.mu.Unlock()
	return b
}

// flush writes b's page and observations in one RecordPage call, then
// calls stored if that succeeded.
func (r *run) flush(b *pageBatch, stored func()) {
	defer func() {
		if b.done != nil {
			r.mu.Lock()
			delete(r.pagesPending, b.digest)
			r.mu.Unlock()
			close(b.done)
		}
	}()
	if b.page == nil && len(b.obs) == 0 { // written ahead, nothing read since
		if stored != nil {
			stored()
		}
		return
	}
	// What was read is written even when the run is being stopped (a
	// block page, a limit, the caller): it is evidence.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), flushTimeout)
	defer cancel()
	res, err := r.recordPage(ctx, b, b.obs)
	if err != nil {
		r.addErr(r.storeFailed(fmt.Errorf("crawler: record page %s (%d listings): %w", b.digest, len(b.obs), err)))
		return
	}
	r.counted(b.obs, res)
	if stored != nil {
		stored()
	}
}

// recordPage writes b's page (nil once written ahead) with obs.
func (r *run) recordPage(ctx context.Context, b *pageBatch, obs []precwatch.Observation) ([]precwatch.RecordResult, error) {
	res, err := r.c.store.RecordPage(ctx, b.page, obs)
	if err != nil && b.page != nil && b.replayBody != nil && errors.Is(err, precwatch.ErrBodyNotStored) {
		// Retention: the body this 304 was read from was pruned after
		// the run read it (its fetch state had moved on meanwhile). It is
		// the body the validators stand for: keep it again.
		r.c.logger.Warn("stored page gone since it was read, writing it again", "url", b.page.URL, "sha256", b.digest)
		p := *b.page
		p.Body, p.Stored = b.replayBody, false
		res, err = r.c.store.RecordPage(ctx, &p, obs)
	}
	return res, err
}

// writeAhead, on a shared frontier, writes b's page and fetch record now,
// before the tasks it sends on (detail pages, a frame) are pushed: those
// tasks name its fetch as their listing's source, and another worker may
// take them while this one is still reading the page, or after it died
// (then the page is read again under another fetch, and a listing naming
// the first would wait for it in vain and be refused). flush then writes
// only the observations. In process the page is written when done, as
// its detail pages wait for it (awaitPage).
func (r *run) writeAhead(b *pageBatch) {
	if r.shared == nil || b.page == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), flushTimeout)
	defer cancel()
	if _, err := r.recordPage(ctx, b, nil); err != nil {
		r.addErr(r.storeFailed(fmt.Errorf("crawler: record page %s ahead of its tasks: %w", b.digest, err)))
		return
	}
	b.page = nil
}

// awaitPage waits until the page of SHA-256 digest, when a worker is
// reading it now, has been written (or failed), or the run ends.
func (r *run) awaitPage(digest string) {
	r.mu.Lock()
	ch := r.pagesPending[digest]
	r.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case <-ch:
	case <-r.ctx.Done():
	}
}

// counted adds recorded sightings to the run's counters.
func (r *run) counted(obs []precwatch.Observation, res []precwatch.RecordResult) {
	if r.shared != nil { // Scale-out (issue 9): the run's counters are the workers' sum
		r.countedShared(obs, res)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range res {
		r.rec.Listings++
		if x.NewListing {
			r.rec.NewListings++
		}
		r.rec.Alerts += len(x.NewAlerts)
	}
}

// prefetch reads the stored states of the listings of b's page, normalized,
// in one call, for row; on failure row reads them one by one.
func (r *run) prefetch(b *pageBatch, ls []precwatch.Listing) {
	keys := make([]string, 0, len(ls))
	ids := make([]string, 0, len(ls))
	for _, l := range ls {
		if l.ID != "" || l.URL != "" {
			keys = append(keys, precwatch.ListingKey(l.Site, l.Identity()))
			ids = append(ids, l.Identity())
		}
	}
	if len(keys) == 0 {
		return
	}
	if r.shared != nil { // Scale-out (issue 9)
		r.prefetchShared(b, ids)
	}
	if !r.needsStored(r.c.ext.FollowDetails()) {
		return
	}
	states, err := r.c.store.ListingStates(r.ctx, keys)
	if err != nil {
		r.c.logger.Debug("prefetch listings", "error", err)
		return
	}
	b.states = states
}

// needsStored reports whether an index row's stored state decides
// anything (see row): whether its detail page is still fresh (with follow)
// or whether the row changed (with stop_after_unchanged_pages).
func (r *run) needsStored(follow bool) bool { return follow || r.c.stopAfter > 0 }

// storedListing is the stored state of listing key, from b's prefetch when
// it has one.
func (r *run) storedListing(b *pageBatch, key string) (precwatch.ListingState, error) {
	if b != nil && b.states != nil {
		if st, ok := b.states[key]; ok {
			return st, nil
		}
		return precwatch.ListingState{}, precwatch.ErrNotFound
	}
	return r.c.store.Listing(r.ctx, key)
}
