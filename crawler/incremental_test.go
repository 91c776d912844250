package crawler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
	"github.com/precwatch/precwatch/storage/embedded"
	"github.com/precwatch/precwatch/storage/redis"
	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
)

// incRules are the selectors of incMarket; its detail page repeats the
// price, so a price change changes the detail page too.
var incRules = precwatch.Extraction{
	Listing:  "div.listing",
	ID:       "span.id",
	Title:    "h2",
	Price:    "span.price",
	Vendor:   "span.vendor",
	URL:      "a.title @href",
	NextPage: "a.next @href",
	Detail:   &precwatch.Extraction{Description: "div.desc", Price: "span.price"},
}

type incItem struct {
	id, title string
	price     int
	desc      string
	hidden    bool
}

// incHit is one request as the market saw it.
type incHit struct {
	path, ifNoneMatch, ifModifiedSince string
	status                             int
}

// incMarket is a paginated market, newest first, whose pages carry an
// ETag and a Last-Modified (unless validators is off) and answer
// conditional requests with 304, as net/http's ServeContent does.
type incMarket struct {
	srv *httptest.Server

	mu         sync.Mutex
	items      []*incItem // newest first
	perPage    int
	validators bool
	hits       []incHit
	// featured, when set, repeats the first listing at the top of page 2;
	// hold, when set, keeps that listing's detail page waiting until page
	// 3 is asked for (so after page 2 has been read).
	featured bool
	hold     chan struct{}
	// featuredQuery, when set, is the query the featured row's link
	// carries (a sponsored slot's "?slot=top"), so that it names the
	// listing's detail page under another URL than its own row.
	featuredQuery string
	// linkToken, when set, gives every row's link a query new on each
	// request ("?h=<n>"), as markets with per-request link tokens do.
	linkToken bool
	served    int
	// xmr, when set, shows every price in XMR only, at this many XMR to
	// the euro, as markets pricing in fiat show the coin amount.
	xmr float64
}

// priceText is an item's price as the market shows it, m.mu held.
func (m *incMarket) priceText(it *incItem) string {
	if m.xmr > 0 {
		return fmt.Sprintf("%.4f XMR", float64(it.price)*m.xmr)
	}
	return fmt.Sprintf("€ %d,00", it.price)
}

func newIncMarket(t *testing.T, n, perPage int) *incMarket {
	t.Helper()
	m := &incMarket{perPage: perPage, validators: true}
	for i := range n {
		title := fmt.Sprintf("Acetone 99%% %dL", i+1)
		if i%3 == 0 {
			title = fmt.Sprintf("Hydrogen peroxide 35%% %dL", i+1)
		}
		m.items = append(m.items, &incItem{id: fmt.Sprintf("I%02d", i), title: title, price: 10 + i, desc: "Sealed bottle, ships in 2 days."})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /idx/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		m.mu.Lock()
		var visible []*incItem
		for _, it := range m.items {
			if !it.hidden {
				visible = append(visible, it)
			}
		}
		var b strings.Builder
		if n == 3 && m.hold != nil {
			close(m.hold)
			m.hold = nil
		}
		row := func(it *incItem, query string) {
			fmt.Fprintf(&b, `<div class="listing"><span class="id">%s</span><h2><a class="title" href="/item/%s%s">%s</a></h2>`+
				`<span class="price">%s</span><span class="vendor">vendor-%s</span></div>`, it.id, it.id, query, it.title, m.priceText(it), it.id)
		}
		m.served++
		if m.linkToken {
			row = func(it *incItem, query string) {
				fmt.Fprintf(&b, `<div class="listing"><span class="id">%s</span><h2><a class="title" href="/item/%s?h=%d%s">%s</a></h2>`+
					`<span class="price">%s</span><span class="vendor">vendor-%s</span></div>`, it.id, it.id, m.served, query, it.title, m.priceText(it), it.id)
			}
		}
		if n == 2 && m.featured {
			q := ""
			if m.featuredQuery != "" {
				q = "?" + m.featuredQuery
			}
			row(visible[0], q)
		}
		from := (n - 1) * m.perPage
		for i := from; i < from+m.perPage && i < len(visible); i++ {
			row(visible[i], "")
		}
		if from+m.perPage < len(visible) {
			fmt.Fprintf(&b, `<a class="next" href="/idx/%d">next</a>`, n+1)
		}
		m.mu.Unlock()
		m.serve(w, r, b.String())
	})
	mux.HandleFunc("GET /item/{id}", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		if hold := m.hold; hold != nil && r.PathValue("id") == m.items[0].id {
			m.mu.Unlock()
			select {
			case <-hold:
			case <-time.After(5 * time.Second):
			}
			m.mu.Lock()
		}
		var body string
		for _, it := range m.items {
			if it.id == r.PathValue("id") {
				body = fmt.Sprintf(`<div class="desc">%s</div><span class="price">%s</span>`, it.desc, m.priceText(it))
			}
		}
		m.mu.Unlock()
		if body == "" {
			http.NotFound(w, r)
			return
		}
		m.serve(w, r, body)
	})
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		mux.ServeHTTP(rec, r)
		m.mu.Lock()
		m.hits = append(m.hits, incHit{path: r.URL.Path, ifNoneMatch: r.Header.Get("If-None-Match"),
			ifModifiedSince: r.Header.Get("If-Modified-Since"), status: rec.status})
		m.mu.Unlock()
	}))
	t.Cleanup(m.srv.Close)
	return m
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// serve answers with body, validated by its hash (ETag) and a modification
// time derived from it, honouring conditional requests.
func (m *incMarket) serve(w http.ResponseWriter, r *http.Request, body string) {
	page := []byte("<!doctype html><html><body>" + body + "</body></html>")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	m.mu.Lock()
	validators := m.validators
	m.mu.Unlock()
	if !validators {
		w.Write(page)
		return
	}
	sum := sha256.Sum256(page)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	// A modification time that changes with the body, to the second.
	mod := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(sum[0]) * time.Hour)
	http.ServeContent(w, r, "", mod, bytes.NewReader(page))
}

// take returns the requests seen since the last take.
func (m *incMarket) take() []incHit {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.hits
	m.hits = nil
	return h
}

func (m *incMarket) set(fn func(items []*incItem)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(m.items)
}

func countHits(hs []incHit, prefix string) int {
	n := 0
	for _, h := range hs {
		if strings.HasPrefix(h.path, prefix) {
			n++
		}
	}
	return n
}

func (m *incMarket) site(inc precwatch.Incremental) precwatch.Site {
	return precwatch.Site{
		Name:        "incmarket",
		StartURLs:   []string{m.srv.URL + "/idx/1"},
		Extract:     incRules,
		Limits:      precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second},
		Incremental: inc,
	}
}

// testClock is a settable clock; runs advance it so that each run's
// sightings come after the last's.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// forEachStore runs fn against a fresh embedded store and a fresh Redis
// store (a real redis-server).
func forEachStore(t *testing.T, fn func(t *testing.T, st precwatch.Store)) {
	t.Run("embedded", func(t *testing.T) {
		st, err := embedded.Open(t.Context(), filepath.Join(t.TempDir(), "store.db"), nil)
		if err != nil {
			t.Fatalf("embedded.Open: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
	t.Run("redis", func(t *testing.T) {
		st, err := redis.Open(t.Context(), redistest.Start(t)+"?prefix=incr", nil)
		if err != nil {
			t.Fatalf("redis.Open: %v", err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
}

// incEnv is one incremental test: a market, a store and a clock.
type incEnv struct {
	m     *incMarket
	store precwatch.Store
	clock *testClock
}

func (e *incEnv) run(t *testing.T, site precwatch.Site) precwatch.Run {
	t.Helper()
	e.clock.advance(time.Hour)
	c, err := New(site, e.store, keywordMatcher{}, nil, WithClock(e.clock.now), WithRetryBackoff(time.Millisecond, 5*time.Millisecond), WithThrottleFloor(time.Millisecond))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	run, err := c.Run(t.Context())
	if err != nil {
		t.Fatalf("Run: %v (%q)", err, run.Errors)
	}
	if run.Status != precwatch.RunOK {
		t.Fatalf("run status %q, errors %q", run.Status, run.Errors)
	}
	stored, err := e.store.Runs(t.Context(), site.Name, 1)
	if err != nil || len(stored) != 1 || stored[0].ID != run.ID {
		t.Fatalf("stored runs = %+v, %v; want %s", stored, err, run.ID)
	}
	if s := stored[0]; s.Requests != run.Requests || s.Bytes != run.Bytes || s.NotModified != run.NotModified ||
		s.DetailsSkipped != run.DetailsSkipped || s.StoppedEarly != run.StoppedEarly {
		t.Errorf("stored run counters %+v differ from the returned %+v", s, run)
	}
	return run
}

func (e *incEnv) listings(t *testing.T) map[string]precwatch.ListingState {
	t.Helper()
	out := map[string]precwatch.ListingState{}
	if err := e.store.Listings(t.Context(), "incmarket", func(st precwatch.ListingState) error {
		out[st.Listing.ID] = st
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// alertHistories maps each alert of the market to its history's kinds.
func (e *incEnv) alertHistories(t *testing.T) map[string][]string {
	t.Helper()
	as, err := e.store.Alerts(t.Context(), precwatch.AlertFilter{Site: "incmarket"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, a := range as {
		var ks []string
		for _, ev := range a.History {
			ks = append(ks, ev.Kind)
		}
		out[a.Listing.ID] = ks
	}
	return out
}

func newIncEnv(t *testing.T, st precwatch.Store, n, perPage int) *incEnv {
	return &incEnv{m: newIncMarket(t, n, perPage), store: st, clock: &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
}

// An unchanged re-crawl fetches no detail page, asks for every index page
// conditionally, and still yields every listing from the pages answered
// 304; nothing is gone and no alert is lost, duplicated or given a change.
func TestIncrementalUnchanged(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) {
		e := newIncEnv(t, st, 9, 3)
		site := e.m.site(precwatch.Incremental{})
		first := e.run(t, site)
		hits := e.m.take()
		if got := countHits(hits, "/idx/"); got != 3 {
			t.Fatalf("first run: %d index requests, want 3", got)
		}
		if got := countHits(hits, "/item/"); got != 9 {
			t.Fatalf("first run: %d detail requests, want 9", got)
		}
		if first.Requests != 12 || first.Bytes <= 0 || first.NotModified != 0 || first.DetailsSkipped != 0 || first.Listings != 9 || first.Alerts != 3 {
			t.Errorf("first run counters: requests=%d bytes=%d not_modified=%d skipped=%d listings=%d alerts=%d; want 12, >0, 0, 0, 9, 3",
				first.Requests, first.Bytes, first.NotModified, first.DetailsSkipped, first.Listings, first.Alerts)
		}
		alertsBefore := e.alertHistories(t)
		before := e.listings(t)

		for i := range 2 {
			run := e.run(t, site)
			hits := e.m.take()
			if got := countHits(hits, "/item/"); got != 0 {
				t.Errorf("re-crawl %d: %d detail requests, want 0", i+1, got)
			}
			for _, h := range hits {
				if h.ifNoneMatch == "" || h.ifModifiedSince == "" || h.status != http.StatusNotModified {
					t.Errorf("re-crawl %d: %s sent If-None-Match %q, If-Modified-Since %q, got %d; want both and 304",
						i+1, h.path, h.ifNoneMatch, h.ifModifiedSince, h.status)
				}
			}
			if len(hits) != 3 || run.Requests != 3 || run.NotModified != 3 || run.DetailsSkipped != 9 || run.Listings != 9 || run.Pages != 3 {
				t.Errorf("re-crawl %d: %d hits; counters requests=%d not_modified=%d skipped=%d listings=%d pages=%d; want 3, 3, 3, 9, 9, 3",
					i+1, len(hits), run.Requests, run.NotModified, run.DetailsSkipped, run.Listings, run.Pages)
			}
			if run.Bytes >= first.Bytes {
				t.Errorf("re-crawl %d received %d bytes, not fewer than the first run's %d", i+1, run.Bytes, first.Bytes)
			}
			if run.Alerts != 0 || run.NewListings != 0 {
				t.Errorf("re-crawl %d: %d new alerts, %d new listings; want 0", i+1, run.Alerts, run.NewListings)
			}
			after := e.listings(t)
			if len(after) != 9 {
				t.Fatalf("re-crawl %d: %d listings stored, want 9", i+1, len(after))
			}
			for id, l := range after {
				if l.Gone || l.LastRunID != run.ID {
					t.Errorf("re-crawl %d: %s gone=%v last run %s; want seen by %s", i+1, id, l.Gone, l.LastRunID, run.ID)
				}
				// The detail page's fields are kept, and the detail
				// fetch time is still the first run's.
				if l.Listing.Description != before[id].Listing.Description || l.Listing.Description == "" {
					t.Errorf("re-crawl %d: %s description %q, want %q", i+1, id, l.Listing.Description, before[id].Listing.Description)
				}
				if !l.DetailFetchedAt.Equal(before[id].DetailFetchedAt) || l.DetailFetchedAt.IsZero() {
					t.Errorf("re-crawl %d: %s detail fetched at %v, want %v", i+1, id, l.DetailFetchedAt, before[id].DetailFetchedAt)
				}
			}
			if got := e.alertHistories(t); fmt.Sprint(got) != fmt.Sprint(alertsBefore) {
				t.Errorf("re-crawl %d: alerts %v, want %v", i+1, got, alertsBefore)
			}
		}
	})
}

// A site that gives no validators gets its index pages fetched whole, but
// still no detail page of an unchanged listing.
func TestIncrementalNoValidators(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) {
		e := newIncEnv(t, st, 9, 3)
		e.m.validators = false
		site := e.m.site(precwatch.Incremental{})
		e.run(t, site)
		e.m.take()
		run := e.run(t, site)
		hits := e.m.take()
		if got, want := countHits(hits, "/idx/"), 3; got != want {
			t.Errorf("index requests = %d, want %d", got, want)
		}
		if got := countHits(hits, "/item/"); got != 0 {
			t.Errorf("detail requests = %d, want 0", got)
		}
		for _, h := range hits {
			if h.ifNoneMatch != "" || h.ifModifiedSince != "" || h.status != http.StatusOK {
				t.Errorf("%s: If-None-Match %q If-Modified-Since %q status %d; want an unconditional 200", h.path, h.ifNoneMatch, h.ifModifiedSince, h.status)
			}
		}
		if run.NotModified != 0 || run.DetailsSkipped != 9 || run.Listings != 9 || run.Requests != 3 {
			t.Errorf("counters not_modified=%d skipped=%d listings=%d requests=%d; want 0, 9, 9, 3", run.NotModified, run.DetailsSkipped, run.Listings, run.Requests)
		}
		for id, l := range e.listings(t) {
			if l.Gone || l.LastRunID != run.ID {
				t.Errorf("%s gone=%v last run %s, want seen by %s", id, l.Gone, l.LastRunID, run.ID)
			}
		}
	})
}

// A changed index row costs exactly one detail request, and the change
// reaches the listing's alert history once.
func TestIncrementalChangedRow(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) {
		e := newIncEnv(t, st, 9, 3)
		site := e.m.site(precwatch.Incremental{})
		e.run(t, site)
		e.m.take()
		e.m.set(func(items []*incItem) { items[3].price = 99 }) // I03, a peroxide listing on page 2
		run := e.run(t, site)
		hits := e.m.take()
		var details []string
		for _, h := range hits {
			if strings.HasPrefix(h.path, "/item/") {
				details = append(details, h.path)
			}
		}
		if !slices.Equal(details, []string{"/item/I03"}) {
			t.Errorf("detail requests = %v, want [/item/I03]", details)
		}
		if run.DetailsSkipped != 8 || run.Listings != 9 || run.NotModified != 2 {
			t.Errorf("skipped=%d listings=%d not_modified=%d; want 8, 9, 2 (pages 1 and 3)", run.DetailsSkipped, run.Listings, run.NotModified)
		}
		ls := e.listings(t)
		if got := ls["I03"].Listing.Price; got != 99 {
			t.Errorf("I03 price = %v, want 99", got)
		}
		hist := e.alertHistories(t)
		for id, ks := range hist {
			want := []string{precwatch.EventRaised}
			if id == "I03" {
				want = []string{precwatch.EventRaised, precwatch.EventChanged}
			}
			if !slices.Equal(ks, want) {
				t.Errorf("alert of %s: history %v, want %v", id, ks, want)
			}
		}
		if len(hist) != 3 {
			t.Errorf("%d alerts, want 3", len(hist))
		}
		// The next run finds the new row stored: no detail again.
		e.run(t, site)
		if got := countHits(e.m.take(), "/item/"); got != 0 {
			t.Errorf("run after the change: %d detail requests, want 0", got)
		}
	})
}

// A market pricing in fiat shows each listing's XMR amount at the day's
// rate, so every row's price moves from run to run. A move under 10 % is
// the rate, not the vendor: the detail pages are not fetched again and the
// alerts get no "changed" event (probe 13: all 40 detail pages and 21
// price changes on every run). A larger move is still a change.
func TestIncrementalCryptoRateDrift(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) {
		e := newIncEnv(t, st, 9, 3)
		e.m.set(func([]*incItem) { e.m.xmr = 0.006 })
		site := e.m.site(precwatch.Incremental{})
		e.run(t, site)
		e.m.take()
		price := func() float64 { return e.listings(t)["I03"].Listing.Price }
		first := price()
		if first != 0.078 {
			t.Fatalf("I03 price = %v, want 0.078 (XMR)", first)
		}

		e.m.set(func([]*incItem) { e.m.xmr = 0.00618 }) // the rate moved 3 %
		run := e.run(t, site)
		if got := countHits(e.m.take(), "/item/"); got != 0 || run.DetailsSkipped != 9 {
			t.Errorf("rate moved 3 %%: %d detail requests, %d skipped; want 0, 9", got, run.DetailsSkipped)
		}
		for id, ks := range e.alertHistories(t) {
			if !slices.Equal(ks, []string{precwatch.EventRaised}) {
				t.Errorf("alert of %s after a 3 %% rate move: history %v", id, ks)
			}
		}
		if got := price(); got != first {
			t.Errorf("I03 price = %v after a rate move, want the stored %v", got, first)
		}
		// Again at the same rate: the kept row still stands.
		e.run(t, site)
		if got := countHits(e.m.take(), "/item/"); got != 0 {
			t.Errorf("second run at the moved rate: %d detail requests, want 0", got)
		}

		e.m.set(func([]*incItem) { e.m.xmr = 0.0075 }) // 25 %: not the rate alone
		e.run(t, site)
		if got := countHits(e.m.take(), "/item/"); got != 9 {
			t.Errorf("price up 25 %%: %d detail requests, want 9", got)
		}
		hist := e.alertHistories(t)
		for id, ks := range hist {
			if !slices.Equal(ks, []string{precwatch.EventRaised, precwatch.EventChanged}) {
				t.Errorf("alert of %s after a 25 %% move: history %v, want raised, changed", id, ks)
			}
		}
		if len(hist) != 3 {
			t.Errorf("%d alerts, want 3", len(hist))
		}
		if got := price(); got != 0.0975 {
			t.Errorf("I03 price = %v, want 0.0975", got)
		}
	})
}

// A detail page last read more than refresh_after ago is fetched again,
// conditionally; a 304 there still counts as a fresh read.
func TestIncrementalRefreshAfter(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) {
		e := newIncEnv(t, st, 6, 3)
		site := e.m.site(precwatch.Incremental{RefreshAfter: 150 * time.Minute})
		e.run(t, site) // t+1h
		e.m.take()
		e.run(t, site) // t+2h: 1h since the detail reads
		if got := countHits(e.m.take(), "/item/"); got != 0 {
			t.Fatalf("within refresh_after: %d detail requests, want 0", got)
		}
		e.m.set(func(items []*incItem) { items[1].desc = "Sealed bottle, now ships in 5 days." })
		run := e.run(t, site) // t+3h: 2h since, still fresh
		if got := countHits(e.m.take(), "/item/"); got != 0 {
			t.Fatalf("within refresh_after: %d detail requests, want 0", got)
		}
		run = e.run(t, site) // t+4h: 3h since, due
		hits := e.m.take()
		if got := countHits(hits, "/item/"); got != 6 {
			t.Fatalf("after refresh_after: %d detail requests, want 6", got)
		}
		n304 := 0
		for _, h := range hits {
			if strings.HasPrefix(h.path, "/item/") {
				if h.ifNoneMatch == "" {
					t.Errorf("%s refreshed without If-None-Match", h.path)
				}
				if h.status == http.StatusNotModified {
					n304++
				}
			}
		}
		if n304 != 5 {
			t.Errorf("%d detail pages answered 304, want 5 (all but the changed one)", n304)
		}
		if run.DetailsSkipped != 0 || run.NotModified != 2+5 {
			t.Errorf("skipped=%d not_modified=%d; want 0, 7", run.DetailsSkipped, run.NotModified)
		}
		ls := e.listings(t)
		if got := ls["I01"].Listing.Description; !strings.Contains(got, "5 days") {
			t.Errorf("I01 description after the refresh = %q, want the new text", got)
		}
		for id, l := range ls {
			if !l.DetailFetchedAt.Equal(e.clock.now()) {
				t.Errorf("%s detail fetched at %v, want the refresh run's %v", id, l.DetailFetchedAt, e.clock.now())
			}
			if l.Listing.Description == "" {
				t.Errorf("%s lost its description on a 304 refresh", id)
			}
		}
		e.run(t, site)
		if got := countHits(e.m.take(), "/item/"); got != 0 {
			t.Errorf("after the refresh: %d detail requests, want 0", got)
		}
	})
}

// A 304 whose stored page is missing falls back to a whole fetch.
func TestIncrementalMissingStoredPage(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) {
		e := newIncEnv(t, st, 9, 3)
		site := e.m.site(precwatch.Incremental{})
		e.run(t, site)
		e.m.take()
		key := e.m.srv.URL + "/idx/2"
		fs, err := st.FetchState(t.Context(), "incmarket", key)
		if err != nil {
			t.Fatalf("FetchState(%s): %v", key, err)
		}
		fs.SHA256 = strings.Repeat("0", 64) // validators of a body the store does not have
		if err := st.SaveFetchState(t.Context(), fs); err != nil {
			t.Fatal(err)
		}
		run := e.run(t, site)
		var page2 []incHit
		for _, h := range e.m.take() {
			if h.path == "/idx/2" {
				page2 = append(page2, h)
			}
		}
		if len(page2) != 2 || page2[0].status != http.StatusNotModified || page2[1].ifNoneMatch != "" || page2[1].status != http.StatusOK {
			t.Fatalf("/idx/2 requests = %+v, want a 304 then an unconditional 200", page2)
		}
		if run.Listings != 9 || run.DetailsSkipped != 9 || run.NotModified != 3 || run.Requests != 4 {
			t.Errorf("listings=%d skipped=%d not_modified=%d requests=%d; want 9, 9, 3, 4", run.Listings, run.DetailsSkipped, run.NotModified, run.Requests)
		}
		if fs2, err := st.FetchState(t.Context(), "incmarket", key); err != nil || fs2.SHA256 == fs.SHA256 {
			t.Errorf("fetch state after the whole fetch = %+v, %v; want the stored body's hash", fs2, err)
		}
	})
}

// bodyPruned is a real store that answers a crawler's first write of a
// 304 replay as a store does when a prune deleted the body after the
// crawler read it.
type bodyPruned struct {
	precwatch.Store
	mu    sync.Mutex
	gone  string // the URL whose replay was refused
	again *precwatch.Page
}

func (b *bodyPruned) RecordPage(ctx context.Context, p *precwatch.Page, obs []precwatch.Observation) ([]precwatch.RecordResult, error) {
	b.mu.Lock()
	switch {
	case p != nil && p.Stored && b.gone == "":
		b.gone = p.URL
		b.mu.Unlock()
		return nil, precwatch.ErrNoBody(*p)
	case p != nil && p.URL == b.gone && b.again == nil:
		b.again = p
	}
	b.mu.Unlock()
	return b.Store.RecordPage(ctx, p, obs)
}

// A 304 whose stored body was pruned since the crawler read it is written
// again with that body (retention): the run ends ok, nothing is lost.
func TestIncrementalStoredPagePruned(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) {
		e := newIncEnv(t, st, 9, 3)
		site := e.m.site(precwatch.Incremental{})
		e.run(t, site)
		e.m.take()
		alerts := e.alertHistories(t)
		pruned := &bodyPruned{Store: st}
		e.store = pruned
		run := e.run(t, site) // fails the test unless ok
		if pruned.gone == "" || pruned.again == nil {
			t.Fatalf("no replay refused (%q) or written again (%v)", pruned.gone, pruned.again)
		}
		if p := pruned.again; p.Stored || p.Body == nil || p.Fetch == nil || p.Fetch.Status != http.StatusNotModified {
			t.Errorf("written again: stored=%v body=%d bytes fetch=%+v; want the body with the 304's fetch", p.Stored, len(p.Body), p.Fetch)
		}
		if run.Listings != 9 || run.NotModified != 3 || len(run.Errors) != 0 {
			t.Errorf("run: listings=%d not_modified=%d errors=%q; want 9, 3, none", run.Listings, run.NotModified, run.Errors)
		}
		if got := e.alertHistories(t); fmt.Sprint(got) != fmt.Sprint(alerts) {
			t.Errorf("alerts %v, want %v", got, alerts)
		}
		storetest.EvidenceIntact(t, st)
	})
}

// stop_after_unchanged_pages stops paginating a newest-first market after
// N quiet pages; the run ends ok, marked stopped early, and marks nothing
// gone, not even a listing that did disappear further down.
func TestIncrementalStopAfterUnchangedPages(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) {
		e := newIncEnv(t, st, 15, 3) // 5 pages
		site := e.m.site(precwatch.Incremental{StopAfterUnchangedPages: 2})
		first := e.run(t, site)
		if got := countHits(e.m.take(), "/idx/"); got != 5 || first.StoppedEarly {
			t.Fatalf("first run: %d index pages, stopped early %v; want 5, false", got, first.StoppedEarly)
		}
		alerts := e.alertHistories(t)

		// The last listing disappears; the run stops before seeing its page.
		e.m.set(func(items []*incItem) { items[14].hidden = true })
		run := e.run(t, site)
		hits := e.m.take()
		if got := countHits(hits, "/idx/"); got != 2 {
			t.Errorf("unchanged run: %d index pages, want 2", got)
		}
		if !run.StoppedEarly || run.Listings != 6 {
			t.Errorf("unchanged run: stopped early %v, listings %d; want true, 6", run.StoppedEarly, run.Listings)
		}
		for id, l := range e.listings(t) {
			if l.Gone {
				t.Errorf("%s marked gone after a run stopped early", id)
			}
		}
		if got := e.alertHistories(t); fmt.Sprint(got) != fmt.Sprint(alerts) {
			t.Errorf("alerts after a run stopped early: %v, want %v", got, alerts)
		}

		// A new listing on page 1 resets the count: pages 2 and 3 are quiet.
		e.m.set(func(items []*incItem) { items[14].hidden = false })
		e.m.set(func(items []*incItem) {
			copy(items[1:], items[:14]) // drop I14 for a new head
			items[0] = &incItem{id: "N1", title: "Hydrogen peroxide 50% 1L", price: 70, desc: "New."}
		})
		run = e.run(t, site)
		hits = e.m.take()
		if got := countHits(hits, "/idx/"); got != 3 {
			t.Errorf("run with a new listing: %d index pages, want 3", got)
		}
		if run.NewListings != 1 || run.Alerts != 1 || !run.StoppedEarly {
			t.Errorf("run with a new listing: new listings %d, alerts %d, stopped early %v; want 1, 1, true", run.NewListings, run.Alerts, run.StoppedEarly)
		}

		// Without the stop, a complete run sees everything and marks the
		// listing that left gone.
		full := e.run(t, e.m.site(precwatch.Incremental{}))
		if full.StoppedEarly {
			t.Error("complete run marked stopped early")
		}
		ls := e.listings(t)
		for id, l := range ls {
			if l.Gone != (id == "I14") {
				t.Errorf("%s gone = %v after a complete run", id, l.Gone)
			}
		}
	})
}

// A listing shown on two index pages (a featured listing, say) whose detail
// page is still on its way when its second row is read is recorded from
// its detail page, not from the row, and so is not fetched again next run.
func TestIncrementalRepeatedRow(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) {
		e := newIncEnv(t, st, 9, 3)
		e.m.featured = true
		e.m.hold = make(chan struct{})
		site := e.m.site(precwatch.Incremental{})
		site.Politeness.Parallelism = 2
		first := e.run(t, site)
		if got := countHits(e.m.take(), "/item/"); got != 9 {
			t.Errorf("first run: %d detail requests, want 9", got)
		}
		if first.Listings != 9 {
			t.Errorf("first run: %d listings, want 9", first.Listings)
		}
		l := e.listings(t)["I00"]
		if l.Listing.Description == "" || l.DetailFetchedAt.IsZero() {
			t.Fatalf("I00 stored without its detail page: description %q, detail fetched %v", l.Listing.Description, l.DetailFetchedAt)
		}
		run := e.run(t, site)
		if got := countHits(e.m.take(), "/item/"); got != 0 {
			t.Errorf("second run: %d detail requests, want 0", got)
		}
		if run.Listings != 9 || run.DetailsSkipped != 9 {
			t.Errorf("second run: listings %d, skipped %d; want 9, 9", run.Listings, run.DetailsSkipped)
		}
	})
}

// A listing repeated on a later index page under another URL (a sponsored
// slot whose link carries its own query) is one listing: its detail page is
// fetched once in the first run, and its two rows, whose hashes differ with
// their URLs, do not have it fetched again on the next.
func TestIncrementalRepeatedRowOtherURL(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) {
		e := newIncEnv(t, st, 9, 3)
		e.m.featured, e.m.featuredQuery = true, "slot=top"
		site := e.m.site(precwatch.Incremental{})
		first := e.run(t, site)
		if got := countHits(e.m.take(), "/item/"); got != 9 || first.Listings != 9 || first.Alerts != 3 {
			t.Errorf("first run: %d detail requests, %d listings, %d alerts; want 9, 9, 3", got, first.Listings, first.Alerts)
		}
		run := e.run(t, site)
		if got := countHits(e.m.take(), "/item/"); got != 0 {
			t.Errorf("second run: %d detail requests, want 0", got)
		}
		if run.Listings != 9 || run.DetailsSkipped != 9 || run.Alerts != 0 {
			t.Errorf("second run: listings %d, skipped %d, alerts %d; want 9, 9, 0", run.Listings, run.DetailsSkipped, run.Alerts)
		}
	})
}

// A changed row whose detail page did not change costs one conditional
// detail request answered 304: the stored detail page is read again with
// the new row, so the listing gets the new title and keeps its description.
func TestIncrementalChangedRowDetailNotModified(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) {
		e := newIncEnv(t, st, 6, 3)
		site := e.m.site(precwatch.Incremental{})
		e.run(t, site)
		e.m.take()
		before := e.listings(t)["I04"]
		e.m.set(func(items []*incItem) { items[4].title = "Acetone 99.5% 5L, new batch" }) // the title is on the index only
		run := e.run(t, site)
		var details []incHit
		for _, h := range e.m.take() {
			if strings.HasPrefix(h.path, "/item/") {
				details = append(details, h)
			}
		}
		if len(details) != 1 || details[0].path != "/item/I04" || details[0].ifNoneMatch == "" || details[0].status != http.StatusNotModified {
			t.Fatalf("detail requests = %+v, want one conditional /item/I04 answered 304", details)
		}
		if run.NotModified != 2 || run.DetailsSkipped != 5 || run.Listings != 6 {
			t.Errorf("not_modified=%d skipped=%d listings=%d; want 2 (page 1 and I04), 5, 6", run.NotModified, run.DetailsSkipped, run.Listings)
		}
		l := e.listings(t)["I04"]
		if l.Listing.Title != "Acetone 99.5% 5L, new batch" || l.Listing.Description != before.Listing.Description || l.Listing.Description == "" {
			t.Errorf("I04 after a 304 detail: title %q, description %q; want the new title and %q", l.Listing.Title, l.Listing.Description, before.Listing.Description)
		}
		if !l.DetailFetchedAt.Equal(e.clock.now()) || l.RowHash == before.RowHash {
			t.Errorf("I04 detail fetched %v, row hash changed %v; want %v and true", l.DetailFetchedAt, l.RowHash != before.RowHash, e.clock.now())
		}
	})
}

// RowHash ignores when and from which page a row was read, and changes
// with anything the row shows.
func TestRowHash(t *testing.T) {
	base := precwatch.Listing{Site: "s", ID: "1", URL: "http://s.onion/item/1", Title: "Acetone 99% 5L", Description: "snippet",
		Price: 30, Currency: "EUR", Vendor: "v", FetchedAt: time.Unix(1, 0), PageSHA256: "aa"}
	h := RowHash(base)
	same := base
	same.FetchedAt, same.PageSHA256 = time.Unix(99, 0), "bb"
	if RowHash(same) != h {
		t.Error("row hash depends on the fetch time or page")
	}
	for name, change := range map[string]func(*precwatch.Listing){
		"id": func(l *precwatch.Listing) { l.ID = "2" }, "url": func(l *precwatch.Listing) { l.URL = "http://s.onion/item/1-moved" },
		"title": func(l *precwatch.Listing) { l.Title += "!" }, "description": func(l *precwatch.Listing) { l.Description = "" },
		"price": func(l *precwatch.Listing) { l.Price = 31 }, "currency": func(l *precwatch.Listing) { l.Currency = "USD" },
		"vendor": func(l *precwatch.Listing) { l.Vendor = "w" },
	} {
		l := base
		change(&l)
		if RowHash(l) == h {
			t.Errorf("row hash unchanged by a new %s", name)
		}
	}
	// A listing with an ID: its link's query (a per-request token, the
	// index's sort order) is not what the row shows.
	for _, q := range []string{"?h=3f9a1c", "?sort=trending-4711&pos=3", "#reviews"} {
		l := base
		l.URL += q
		if RowHash(l) != h {
			t.Errorf("row hash of a listing with an ID changed by its link's %q", q)
		}
	}
	// Without an ID the URL is the identity, query included.
	noID := base
	noID.ID = ""
	other := noID
	other.URL += "?t=2"
	if RowHash(noID) == RowHash(other) {
		t.Error("row hash of a listing identified by its URL unchanged by a new query")
	}
}

// A market that puts a new token in every listing link on each request
// (a session hash, the index's random sort order): the listings keep their
// IDs, and a re-crawl fetches none of their detail pages again.
func TestIncrementalVolatileLinkQuery(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) {
		e := newIncEnv(t, st, 6, 3)
		e.m.linkToken = true
		site := e.m.site(precwatch.Incremental{})
		first := e.run(t, site)
		if got := countHits(e.m.take(), "/item/"); got != 6 || first.Listings != 6 {
			t.Fatalf("first run: %d detail requests, %d listings; want 6, 6", got, first.Listings)
		}
		run := e.run(t, site)
		if got := countHits(e.m.take(), "/item/"); got != 0 {
			t.Errorf("second run: %d detail requests, want 0", got)
		}
		if run.Listings != 6 || run.DetailsSkipped != 6 || run.Alerts != 0 || run.NewListings != 0 {
			t.Errorf("second run: listings %d, skipped %d, alerts %d, new %d; want 6, 6, 0, 0", run.Listings, run.DetailsSkipped, run.Alerts, run.NewListings)
		}
		// A changed row is still read again, token or not.
		e.m.set(func(items []*incItem) { items[1].price = 77 })
		e.run(t, site)
		if got := countHits(e.m.take(), "/item/"); got != 1 {
			t.Errorf("after a price change: %d detail requests, want 1", got)
		}
	})
}

// A shop read with mode jsonld and detail rules (its products only in
// microdata, its links relative to a <base href>) has its products as
// rows of its category pages: a re-crawl of the unchanged shop fetches
// the category pages alone, and the shop's menu and footer links, one of
// them broken, are never followed, so the runs end ok.
func TestIncrementalJSONLDDetails(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{}
	card := func(slug, name, price string) string {
		return `<div itemscope itemtype="https://schema.org/Product"><a itemprop="url" href="produkt/` + slug + `.html"><h2 itemprop="name">` + name + `</h2></a>` +
			`<div itemprop="offers" itemscope itemtype="https://schema.org/Offer"><meta itemprop="price" content="` + price + `"><meta itemprop="priceCurrency" content="EUR"></div></div>`
	}
	pages := map[string]string{
		"/shop/kategorie/": card("wasserstoffperoxid-35", "Wasserstoffperoxid 35 % 10 L", "59.00") + card("natron", "Natron 1 kg", "4.50") +
			`<a rel="next" href="kategorie/seite-2.html">Weiter</a>`,
		"/shop/kategorie/seite-2.html": card("peroxide-50", "Hydrogen peroxide 50 % 1 L", "19.00"),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		body, ok := pages[r.URL.Path]
		if slug, isProduct := strings.CutPrefix(r.URL.Path, "/shop/produkt/"); isProduct {
			body, ok = `<div itemscope itemtype="https://schema.org/Product"><h1 itemprop="name">`+slug+`</h1>`+
				`<div itemprop="description">Originalgebinde, Versand in 2 Tagen.</div></div>`, true
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `<html><head><base href="http://%s/shop/"></head><body><nav><a href="./">Start</a> <a href="kontakt.html">Kontakt</a></nav>%s</body></html>`, onionA, body)
	}))
	t.Cleanup(srv.Close)
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e := &env{store: openStore(t)}
	site := precwatch.Site{Name: "microdata", StartURLs: []string{"http://" + onionA + "/shop/kategorie/"}, Proxy: p.URL(),
		Extract: precwatch.Extraction{Mode: precwatch.ExtractJSONLD, NextPage: "a[rel=next]", Detail: &precwatch.Extraction{Mode: precwatch.ExtractJSONLD}},
		Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
	take := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		h := hits
		hits = map[string]int{}
		return h
	}
	first, err := e.run(t, site)
	if err != nil || first.Status != precwatch.RunOK || first.Listings != 3 || first.Requests != 5 {
		t.Fatalf("first run: %v, status %q %q, %d listings, %d requests; want ok, 3, 5 (2 category pages, 3 products)",
			err, first.Status, first.Errors, first.Listings, first.Requests)
	}
	if h := take(); h["/shop/"] != 0 || h["/shop/kontakt.html"] != 0 || h["/shop/produkt/natron.html"] != 1 {
		t.Errorf("first run fetched %v; want each product once and no menu link", h)
	}
	for id, l := range e.listings(t) {
		if !strings.Contains(l.Listing.Description, "Originalgebinde") {
			t.Errorf("%s: description %q, want the product page's", id, l.Listing.Description)
		}
	}
	again, err := e.run(t, site)
	h := take()
	if err != nil || again.Status != precwatch.RunOK || again.Requests != 2 || again.DetailsSkipped != 3 || len(h) != 2 {
		t.Errorf("re-crawl: %v, status %q, %d requests, %d details skipped, fetched %v; want ok, 2, 3, the category pages only",
			err, again.Status, again.Requests, again.DetailsSkipped, h)
	}
}
