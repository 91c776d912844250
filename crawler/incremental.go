package crawler

// Incremental re-crawls (issue 8). A run reads index pages first and
// fetches a listing's detail page only when the listing is new (or was
// gone), its index row changed, or its last detail fetch is older than the
// site's refresh_after; a listing not fetched again is recorded from its
// stored state, so it keeps its alerts and is seen by the run.
//
// Pages served with an ETag or Last-Modified are fetched conditionally on
// the next run. A 304 answer is read again from the stored page (pages are
// kept by SHA-256 as evidence), so an unchanged index page still yields its
// listings and links; when the stored body is missing the page is fetched
// whole.

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/crawler/extract"
)

// Context keys of incremental re-crawls.
const (
	// keyFetchState holds the precwatch.FetchState whose validators a
	// request carries.
	keyFetchState = "precwatch.fetch_state"
	// keyReplay marks a response read again from the store after a 304.
	keyReplay = "precwatch.replay"
)

// RowHash is the hash of a listing as its index page shows it: identity,
// URL, title, description snippet, price, currency and vendor. A listing
// whose row hash is unchanged since the last run is not fetched again
// unless its detail page is due for a refresh.
//
// For a listing with an ID the URL counts without its query: markets put
// a per-request token or the index's sort order in every link
// (item.php?h=<nonce>, /item/x?sort=trending-4711&pos=3), and hashing that
// had every such listing's detail page fetched again on every run. A
// listing identified by its URL changes identity with its query anyway.
func RowHash(l precwatch.Listing) string {
	l.FetchedAt, l.PageSHA256 = time.Time{}, ""
	if l.ID != "" {
		l.URL = withoutQuery(l.URL)
	}
	return "row1:" + precwatch.Fingerprint(l)
}

// rateDriftOnly reports whether index row l differs from the stored one
// only by a cryptocurrency price the exchange rate moved (see
// precwatch.RateDrift): a market pricing in fiat shows another BTC or XMR
// amount on every run, and each such row had its detail page fetched
// again. The stored listing, price included, stands until its detail page
// is due for a refresh or the row changes otherwise.
func rateDriftOnly(l precwatch.Listing, st precwatch.ListingState) bool {
	if st.Listing.Currency != l.Currency || !precwatch.RateDrift(l.Currency, st.Listing.Price, l.Price) {
		return false
	}
	l.Price = st.Listing.Price
	return RowHash(l) == st.RowHash
}

// withoutQuery returns raw without its query and fragment (raw itself if
// it has neither or does not parse).
func withoutQuery(raw string) string {
	if !strings.ContainsAny(raw, "?#") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return u.String()
}

// row handles one listing read from index page t, normalized (see
// run.normalize): it sends the listing to its detail page, records it as
// read, or, when its row is unchanged and its detail page fresh, records
// the stored listing. It reports whether the listing is new or its row
// changed.
func (r *run) row(b *pageBatch, t task, l precwatch.Listing, follow bool) bool {
	if l.ID == "" && l.URL == "" {
		r.record(l) // refused, with its error
		return false
	}
	hash := RowHash(l)
	if !r.needsStored(follow) {
		// No detail page to skip, no pagination to stop: the stored
		// state would decide nothing (and is not prefetched).
		r.recordNormalized(b, l, hash, time.Time{})
		return true
	}
	st, err := r.storedListing(b, precwatch.ListingKey(l.Site, l.Identity()))
	if err != nil && !errors.Is(err, precwatch.ErrNotFound) {
		r.addErr(fmt.Errorf("crawler: load listing %s: %w", l.Identity(), err))
	}
	changed := err != nil || st.Gone || st.RowHash != hash
	drift := changed && err == nil && !st.Gone && rateDriftOnly(l, st)
	if drift {
		changed = false
	}
	if follow && l.URL != "" {
		if !r.claimRow(l.Identity()) {
			// A listing shown again on a later index page (a sponsored slot,
			// a "featured" box), often under another URL: its first row
			// this run has it in hand. Reading it again would fetch its
			// detail page twice, and the second row's hash, which differs
			// with another path, would have it fetched again on every run.
			return false
		}
		if !changed && r.detailFresh(st) {
			kept := hash
			if drift { // the row the stored listing, its price included, was read from
				kept = st.RowHash
			}
			if r.recordRow(b, st.Listing, kept, st.DetailFetchedAt) {
				r.mu.Lock()
				r.rec.DetailsSkipped++
				r.mu.Unlock()
			}
			return false
		}
		first := r.claimDetail(l.URL, l.Identity())
		if r.enqueue(task{url: l.URL, depth: t.depth + 1, kind: kindDetail, listing: l, rowHash: hash}) || !first {
			// Sent to its detail page, now or by an earlier row of the same
			// listing (which records it); recording this row now would
			// shadow that detail read for the whole run.
			return changed
		}
	}
	r.recordNormalized(b, l, hash, time.Time{})
	return changed
}

// claimRow notes that an index row of listing identity is being handled
// by this process's part of the run, and reports whether it is the first
// such row. On a shared frontier it is not shared: a worker that takes
// over an index page left half-read must read all its rows again, and
// another worker reading the same listing costs one request, no alert.
func (r *run) claimRow(identity string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rowsSeen == nil {
		r.rowsSeen = make(map[string]bool)
	}
	if r.rowsSeen[identity] {
		return false
	}
	r.rowsSeen[identity] = true
	return true
}

// claimDetail notes that a row sends listing identity to detail page u,
// and reports whether it is the first row of the run to send that listing
// there. Another listing linking to the same page is not shadowed.
func (r *run) claimDetail(u, identity string) bool {
	key, err := canonical(u)
	if err != nil {
		return true
	}
	if r.shared != nil { // Scale-out (issue 9)
		return r.claimShared(key, identity)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.detailURLs[key]; ok {
		return prev != identity
	}
	if r.detailURLs == nil {
		r.detailURLs = make(map[string]string)
	}
	r.detailURLs[key] = identity
	return true
}

// detailFresh reports whether st's detail page was read recently enough
// not to be fetched again.
func (r *run) detailFresh(st precwatch.ListingState) bool {
	return !st.DetailFetchedAt.IsZero() && r.c.now().Sub(st.DetailFetchedAt) < r.c.refreshAfter
}

// quietPages counts index page t in its chain of quiet pages (pages with
// listings, none new or changed; a page without listings leaves the count
// as it is) and reports the count its links carry and whether, the site's
// stop_after_unchanged_pages being reached, its links must not be followed.
// A stop that leaves a link unvisited marks the run as stopped early.
func (r *run) quietPages(t task, hasListings, changed bool, links []string) (int, bool) {
	n := r.c.stopAfter
	if n <= 0 {
		return 0, false
	}
	quiet := t.quiet
	switch {
	case changed:
		quiet = 0
	case hasListings:
		quiet++
	}
	if quiet < n {
		return quiet, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, link := range links {
		u, err := url.Parse(link)
		if err == nil && !r.seenURL[extract.Canonical(u)] && (r.shared == nil || !r.seenShared(extract.Canonical(u))) {
			if !r.rec.StoppedEarly {
				r.c.logger.Info("stopped paginating", "url", t.url, "unchanged_pages", quiet)
			}
			r.rec.StoppedEarly = true
			break
		}
	}
	return quiet, true
}

// conditional adds the validators kept for the request's URL, unless its
// task asks for a whole fetch. The state is kept in the request's context
// for notModified.
func (r *run) conditional(req *colly.Request) {
	t, _ := req.Ctx.GetAny(keyTask).(task)
	if t.fresh || t.url == "" || t.post {
		return
	}
	key, err := canonical(t.url)
	if err != nil {
		return
	}
	fs, err := r.c.store.FetchState(r.ctx, r.c.site.Name, key)
	if err != nil {
		if !errors.Is(err, precwatch.ErrNotFound) {
			r.c.logger.Debug("fetch state unavailable", "url", t.url, "error", err)
		}
		return
	}
	if fs.SHA256 == "" || (fs.ETag == "" && fs.LastModified == "") {
		return
	}
	if fs.ETag != "" {
		req.Headers.Set("If-None-Match", fs.ETag)
	}
	if fs.LastModified != "" {
		req.Headers.Set("If-Modified-Since", fs.LastModified)
	}
	req.Ctx.Put(keyFetchState, fs)
}

// keepValidators saves the validators of a page just fetched and stored
// with digest, or clears those it was asked with and no longer has. A page
// read again after a 304 keeps its state as it is.
func (r *run) keepValidators(t task, resp *colly.Response, digest string, at time.Time) {
	// A POST page's validators are not its URL's (a GET of page 1).
	if resp.Ctx.GetAny(keyReplay) != nil || t.url == "" || t.post {
		return
	}
	etag, lm, links := resp.Headers.Get("ETag"), resp.Headers.Get("Last-Modified"), resp.Headers.Values("Link")
	_, asked := resp.Ctx.GetAny(keyFetchState).(precwatch.FetchState)
	if etag == "" && lm == "" && !asked {
		return
	}
	key, err := canonical(t.url)
	if err != nil {
		return
	}
	fs := precwatch.FetchState{Site: r.c.site.Name, URL: key, ETag: etag, LastModified: lm, Links: links, SHA256: digest, FetchedAt: at}
	if err := r.c.store.SaveFetchState(r.ctx, fs); err != nil {
		r.addErr(r.storeFailed(fmt.Errorf("crawler: save fetch state %s: %w", resp.Request.URL.Redacted(), err)))
	}
}

// notModified handles a 304 answer to t: the page is read again from the
// stored body its validators belong to. It reports false when that body is
// not there (or the request was not conditional), so that the caller
// fetches the page whole.
func (r *run) notModified(t task, cctx *colly.Context) bool {
	r.mu.Lock()
	r.rec.NotModified++
	r.mu.Unlock()
	fs, ok := cctx.GetAny(keyFetchState).(precwatch.FetchState)
	if !ok {
		return false
	}
	p, err := r.c.store.Page(r.ctx, fs.SHA256)
	if err != nil {
		r.c.logger.Debug("304 without stored page, fetching whole", "url", t.url, "sha256", fs.SHA256, "error", err)
		return false
	}
	u, err := url.Parse(t.url)
	if err != nil {
		return false
	}
	if t.kind == kindDetail {
		// A detail page reached through a redirect is read again at the
		// URL it was read at, as the listing's own URL (identity.go).
		if pu, err := url.Parse(p.URL); err == nil && p.URL != "" && r.c.hosts[strings.ToLower(pu.Hostname())] {
			u = pu
		}
	}
	cctx.Put(keyReplay, true)
	h := http.Header{}
	h.Set(headerContentType, p.ContentType)
	// The page's Link header (its next page, where the markup names none)
	// came with the body, not with the 304.
	h["Link"] = fs.Links
	resp := &colly.Response{
		StatusCode: http.StatusOK,
		Body:       p.Body,
		Ctx:        cctx,
		Request:    &colly.Request{URL: u, Method: http.MethodGet, Ctx: cctx, Headers: &http.Header{}},
		Headers:    &h,
	}
	defer r.recoverAs("page " + u.Redacted())
	r.page(t, resp)
	return true
}

func canonical(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	return extract.Canonical(u), nil
}

// meter counts the run's requests and the response body bytes received,
// and keeps each exchange for its page's fetch record (provenance.go).
func (r *run) meter(base http.RoundTripper) http.RoundTripper {
	return &meterTransport{base: base, r: r, exchanges: true}
}

// meterOnly counts requests and bytes as meter does, for requests that
// make no page of the run (the login flow's): their exchanges are not kept.
func (r *run) meterOnly(base http.RoundTripper) http.RoundTripper {
	return &meterTransport{base: base, r: r}
}

type meterTransport struct {
	base      http.RoundTripper
	r         *run
	exchanges bool
}

func (m *meterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	m.r.mu.Lock()
	m.r.rec.Requests++
	m.r.mu.Unlock()
	sent := time.Now()
	resp, err := m.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	m.r.answered(sent, resp.StatusCode, resp.Header.Get("Retry-After")) // politeness.go: a 429 or 503 slows the site down
	if m.exchanges {
		m.r.noteSent(req, resp) // issue 11: the headers as sent and received
	}
	resp.Body = &countedBody{rc: resp.Body, r: m.r}
	return resp, nil
}

// countedBody adds the bytes read from a body to the run's count once,
// when it is closed.
type countedBody struct {
	rc   io.ReadCloser
	r    *run
	n    int64
	once sync.Once
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *countedBody) Close() error {
	b.once.Do(func() {
		b.r.mu.Lock()
		b.r.rec.Bytes += b.n
		b.r.mu.Unlock()
	})
	return b.rc.Close()
}
