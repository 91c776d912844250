package crawler

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/sys/unix"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/matchers"
	"github.com/precwatch/precwatch/storage/embedded"
	"github.com/precwatch/precwatch/storage/redis"
	"github.com/precwatch/precwatch/storage/redis/redistest"
)

// benchShop is a loopback shop of pre-rendered index pages of about 42 KB (the
// 3,840-product shop of issue 9), so that serving costs next to nothing.
type benchShop struct {
	srv   *httptest.Server
	pages [][]byte
}

func newBenchShop(tb testing.TB, products, perPage int) *benchShop {
	s := &benchShop{}
	n := (products + perPage - 1) / perPage
	blurb := strings.Repeat("Sealed original packaging, batch certificate on request, tracked shipping to the EU and UK. ", 9)
	for p := 1; p <= n; p++ {
		var b strings.Builder
		b.WriteString(`<!DOCTYPE html><html><head><title>Catalogue</title></head><body><nav><a href="/">Home</a></nav><main>`)
		for i := (p - 1) * perPage; i < min(p*perPage, products); i++ {
			title := fmt.Sprintf("Garden hose connector set %d", i)
			switch i % 10 {
			case 0:
				title = fmt.Sprintf("Hydrogen peroxide 30%% solution %d L", 1+i%5)
			case 5:
				title = fmt.Sprintf("Acetone technical grade %d L", 1+i%5)
			}
			fmt.Fprintf(&b, `<div class="product"><span class="sku">P%05d</span><h2><a href="/item/%d">%s</a></h2>`+
				`<p class="desc">%s</p><span class="price">%d.%02d EUR</span><span class="seller">seller-%d</span></div>`,
				i, i, title, blurb, 5+i%200, i%100, i%41)
		}
		b.WriteString(`</main>`)
		if p < n {
			fmt.Fprintf(&b, `<a class="next" href="/page/%d">next</a>`, p+1)
		}
		b.WriteString(`</body></html>`)
		s.pages = append(s.pages, []byte(b.String()))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /page/{n}", func(w http.ResponseWriter, r *http.Request) {
		p, err := strconv.Atoi(r.PathValue("n"))
		if err != nil || p < 1 || p > len(s.pages) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(s.pages[p-1])
	})
	s.srv = httptest.NewServer(mux)
	tb.Cleanup(s.srv.Close)
	return s
}

func (s *benchShop) site() precwatch.Site {
	return precwatch.Site{
		Name:       "shop",
		StartURLs:  []string{s.srv.URL + "/page/1"},
		Limits:     precwatch.Limits{MaxPages: len(s.pages) + 10, RunTimeout: time.Hour},
		Politeness: precwatch.Politeness{Parallelism: 2},
		Extract: precwatch.Extraction{
			Listing: "div.product", ID: "span.sku", Title: "h2", Description: "p.desc", Price: "span.price",
			Vendor: "span.seller", URL: "h2 a @href", NextPage: "a.next @href",
		},
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// parseCPU is the CPU time a bare golang.org/x/net/html parse of one of
// pages takes, averaged over a few passes.
func parseCPU(tb testing.TB, pages [][]byte) time.Duration {
	const passes = 5
	start := cpuTime(tb)
	for range passes {
		for _, p := range pages {
			if _, err := html.Parse(bytes.NewReader(p)); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return (cpuTime(tb) - start) / time.Duration(passes*len(pages))
}

func realMatcher(tb testing.TB) precwatch.Matcher {
	wl, err := matchers.LoadWatchlist(filepath.Join("..", "configs", "watchlist.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	m, err := matchers.Compile(wl)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// BenchmarkPipeline crawls a 3,840-product shop of 96 index pages of about
// 42 KB on loopback: fetch, parse, extract, match with the real matcher and
// store, into the embedded store and into Redis, a first crawl (new
// listings, alerts raised) and a re-crawl (every listing seen again). It
// reports this process's CPU per page (cpu_ms/page; Redis's own CPU is
// not counted there, but in redis_cpu_ms/page), the same for a bare
// x/net/html parse of the same pages (parse_ms/page) and their ratio
// (x_parse).
//
// It splits cpu_ms/page too. In a second crawl, metered (see cpuMeter),
// the CPU time of the calls into the matcher (match_ms/page), the store's
// page reads and writes and its run record, gone marks included
// (store_ms/page), and the shared frontier (frontier_ms/page, Redis only)
// is summed as it is spent, on the calling thread: GC assists count,
// the runtime's background GC does not. extract_ms/page is the extractor
// over the parsed pages, measured apart. other_ms/page is a third crawl,
// bare (matches remembered, page writes and reads answered without the
// store, frontier in process), less the parse and the extraction: fetch,
// colly and the crawler's own work per page and listing.
func BenchmarkPipeline(b *testing.B) {
	s := newBenchShop(b, 3840, 40)
	m := realMatcher(b)
	parse := parseCPU(b, s.pages)
	extract := extractCPU(b, s)
	size := 0
	for _, p := range s.pages {
		size += len(p)
	}
	b.Logf("%d pages, %d KB each on average; bare parse %v, extraction %v CPU per page", len(s.pages), size/len(s.pages)>>10, parse, extract)
	b.Run("parse", func(b *testing.B) {
		b.SetBytes(int64(size / len(s.pages)))
		for i := 0; b.Loop(); i++ {
			if _, err := html.Parse(bytes.NewReader(s.pages[i%len(s.pages)])); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The bare crawls answer each listing with the matches the real
	// matcher gave it, learnt here once, so that they match for free.
	memo := &memoMatcher{m: m}
	if _, _, pages, _ := crawlCPU(b, s, openEmbedded, memo, noWrites, nil, false); pages == 0 {
		b.Fatal("no pages crawled")
	}
	stores := []struct {
		name string
		open func(b *testing.B) precwatch.Store
	}{
		{"embedded", openEmbedded},
		{"redis", func(b *testing.B) precwatch.Store {
			st, err := redis.Open(b.Context(), redistest.Start(b)+"?stream_maxlen=1000", nil)
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
	}
	for _, st := range stores {
		for _, recrawl := range []bool{false, true} {
			name := st.name + "/first"
			if recrawl {
				name = st.name + "/recrawl"
			}
			b.Run(name, func(b *testing.B) {
				var cpu, serverCPU, wall, bare time.Duration
				var match, store, frontier time.Duration
				pages, meteredPages, barePages := 0, 0, 0
				for range b.N {
					c, w, n, sc := crawlCPU(b, s, st.open, m, nil, nil, recrawl)
					cpu, wall, serverCPU, pages = cpu+c, wall+w, serverCPU+sc, pages+n
					b.StopTimer()
					var mm, sm, fm cpuMeter
					_, _, n, _ = crawlCPU(b, s, st.open, &meteredMatcher{m, &mm},
						func(st precwatch.Store) precwatch.Store { return metered(st, &sm, &fm) }, nil, recrawl, &mm, &sm, &fm)
					meteredPages += n
					match, store, frontier = match+mm.total(), store+sm.total(), frontier+fm.total()
					c, _, n, _ = crawlCPU(b, s, st.open, memo, noWrites, []Option{WithSharedFrontier(false)}, recrawl)
					bare, barePages = bare+c, barePages+n
					b.StartTimer()
				}
				perPage := cpu / time.Duration(pages)
				b.ReportMetric(ms(perPage), "cpu_ms/page")
				b.ReportMetric(ms(parse), "parse_ms/page")
				b.ReportMetric(float64(perPage)/float64(parse), "x_parse")
				b.ReportMetric(float64(pages)/wall.Seconds(), "pages/s")
				if st.name == "redis" {
					b.ReportMetric(ms(serverCPU/time.Duration(pages)), "redis_cpu_ms/page")
					b.ReportMetric(ms(frontier/time.Duration(meteredPages)), "frontier_ms/page")
				}
				b.ReportMetric(ms(match/time.Duration(meteredPages)), "match_ms/page")
				b.ReportMetric(ms(store/time.Duration(meteredPages)), "store_ms/page")
				b.ReportMetric(ms(extract), "extract_ms/page")
				b.ReportMetric(ms(bare/time.Duration(barePages)-parse-extract), "other_ms/page")
			})
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func openEmbedded(b *testing.B) precwatch.Store {
	st, err := embedded.Open(b.Context(), filepath.Join(b.TempDir(), "store.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// crawlCPU crawls shop s into a store open gives (wrapped by wrap
// when not nil), after an untimed first crawl when recrawl, and returns
// the crawl's CPU and wall time, its pages and Redis's CPU. meters are
// zeroed as the timed crawl starts.
func crawlCPU(b *testing.B, s *benchShop, open func(*testing.B) precwatch.Store, m precwatch.Matcher,
	wrap func(precwatch.Store) precwatch.Store, opts []Option, recrawl bool, meters ...*cpuMeter) (cpu, wall time.Duration, pages int, serverCPU time.Duration) {
	b.Helper()
	b.StopTimer()
	store := open(b)
	defer store.Close()
	var st precwatch.Store = store
	if wrap != nil {
		st = wrap(store)
	}
	c, err := New(s.site(), st, m, nil, opts...)
	if err != nil {
		b.Fatal(err)
	}
	if recrawl {
		crawlOK(b, c)
	}
	// The meters count the timed crawl only.
	for _, m := range meters {
		m.ns.Store(0)
	}
	b.StartTimer()
	s0 := redisCPU(b, store)
	c0, w0 := cpuTime(b), time.Now()
	rec := crawlOK(b, c)
	cpu, wall = cpuTime(b)-c0, time.Since(w0)
	serverCPU = redisCPU(b, store) - s0
	if rec.Listings != 3840 {
		b.Fatalf("%d listings recorded, want 3840", rec.Listings)
	}
	return cpu, wall, rec.Pages, serverCPU
}

// cpuMeter sums the CPU time spent in the calls it times, on the thread
// that makes them.
type cpuMeter struct{ ns atomic.Int64 }

func (m *cpuMeter) time(fn func()) {
	runtime.LockOSThread() // the thread's clock is the goroutine's
	defer runtime.UnlockOSThread()
	t0 := threadCPU()
	fn()
	m.ns.Add(int64(threadCPU() - t0))
}

func (m *cpuMeter) total() time.Duration { return time.Duration(m.ns.Load()) }

func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return time.Duration(ts.Nano())
}

type meteredMatcher struct {
	m precwatch.Matcher
	t *cpuMeter
}

func (mm *meteredMatcher) Match(l precwatch.Listing) (ms []precwatch.Match) {
	mm.t.time(func() { ms = mm.m.Match(l) })
	return ms
}

// metered is st with the calls a crawl makes to it timed: its page
// reads and writes, run records and gone marks by store, its shared
// frontier (when it keeps one) by frontier. Leases go to st untimed.
func metered(st precwatch.Store, store, frontier *cpuMeter) precwatch.Store {
	ms := meteredStore{Store: st, t: store}
	ls, leases := st.(precwatch.LeaseStore)
	fs, shared := st.(precwatch.FrontierStore)
	switch {
	case leases && shared:
		return struct {
			meteredStore
			precwatch.LeaseStore
			precwatch.FrontierStore
		}{ms, ls, meteredFrontiers{fs, frontier}}
	case leases:
		return struct {
			meteredStore
			precwatch.LeaseStore
		}{ms, ls}
	}
	return ms
}

type meteredStore struct {
	precwatch.Store
	t *cpuMeter
}

func (s meteredStore) RecordPage(ctx context.Context, p *precwatch.Page, obs []precwatch.Observation) (res []precwatch.RecordResult, err error) {
	s.t.time(func() { res, err = s.Store.RecordPage(ctx, p, obs) })
	return res, err
}

func (s meteredStore) ListingStates(ctx context.Context, keys []string) (res map[string]precwatch.ListingState, err error) {
	s.t.time(func() { res, err = s.Store.ListingStates(ctx, keys) })
	return res, err
}

func (s meteredStore) Listing(ctx context.Context, key string) (res precwatch.ListingState, err error) {
	s.t.time(func() { res, err = s.Store.Listing(ctx, key) })
	return res, err
}

func (s meteredStore) FetchState(ctx context.Context, site, url string) (res precwatch.FetchState, err error) {
	s.t.time(func() { res, err = s.Store.FetchState(ctx, site, url) })
	return res, err
}

func (s meteredStore) SaveFetchState(ctx context.Context, fs precwatch.FetchState) (err error) {
	s.t.time(func() { err = s.Store.SaveFetchState(ctx, fs) })
	return err
}

func (s meteredStore) Page(ctx context.Context, sha string) (res precwatch.Page, err error) {
	s.t.time(func() { res, err = s.Store.Page(ctx, sha) })
	return res, err
}

func (s meteredStore) SaveRun(ctx context.Context, run precwatch.Run) (err error) {
	s.t.time(func() { err = s.Store.SaveRun(ctx, run) })
	return err
}

func (s meteredStore) MarkGone(ctx context.Context, run precwatch.Run) (n int, err error) {
	s.t.time(func() { n, err = s.Store.MarkGone(ctx, run) })
	return n, err
}

type meteredFrontiers struct {
	fs precwatch.FrontierStore
	t  *cpuMeter
}

func (m meteredFrontiers) Frontier(site, runID string) precwatch.Frontier {
	f := m.fs.Frontier(site, runID)
	sb, ok := f.(setBatcher)
	if !ok {
		panic("bench: the frontier does not batch set reads and writes")
	}
	return meteredFrontier{Frontier: f, sb: sb, t: m.t}
}

// meteredFrontier times the calls a run makes per task and page.
type meteredFrontier struct {
	precwatch.Frontier
	sb setBatcher
	t  *cpuMeter
}

func (f meteredFrontier) Push(ctx context.Context, key string, data []byte, maxTasks int) (pushed, limit bool, err error) {
	f.t.time(func() { pushed, limit, err = f.Frontier.Push(ctx, key, data, maxTasks) })
	return pushed, limit, err
}

func (f meteredFrontier) Next(ctx context.Context, consumer string, visibility, block time.Duration) (t *precwatch.FrontierTask, err error) {
	f.t.time(func() { t, err = f.Frontier.Next(ctx, consumer, visibility, block) })
	return t, err
}

func (f meteredFrontier) Ack(ctx context.Context, id string, counters map[string]int64) (ok bool, err error) {
	f.t.time(func() { ok, err = f.Frontier.Ack(ctx, id, counters) })
	return ok, err
}

func (f meteredFrontier) Incr(ctx context.Context, counters map[string]int64) (err error) {
	f.t.time(func() { err = f.Frontier.Incr(ctx, counters) })
	return err
}

func (f meteredFrontier) Counters(ctx context.Context) (n map[string]int64, err error) {
	f.t.time(func() { n, err = f.Frontier.Counters(ctx) })
	return n, err
}

func (f meteredFrontier) Add(ctx context.Context, set, member string) (ok bool, err error) {
	f.t.time(func() { ok, err = f.Frontier.Add(ctx, set, member) })
	return ok, err
}

func (f meteredFrontier) Has(ctx context.Context, set, member string) (ok bool, err error) {
	f.t.time(func() { ok, err = f.Frontier.Has(ctx, set, member) })
	return ok, err
}

func (f meteredFrontier) Stopped(ctx context.Context) (ok bool, err error) {
	f.t.time(func() { ok, err = f.Frontier.Stopped(ctx) })
	return ok, err
}

func (f meteredFrontier) AddAll(ctx context.Context, set string, members []string) (err error) {
	f.t.time(func() { err = f.sb.AddAll(ctx, set, members) })
	return err
}

func (f meteredFrontier) HasAll(ctx context.Context, set string, members []string) (has []bool, err error) {
	f.t.time(func() { has, err = f.sb.HasAll(ctx, set, members) })
	return has, err
}

// memoMatcher answers a listing it has matched before with the same
// matches, by ID and URL, without matching it again.
type memoMatcher struct {
	m    precwatch.Matcher
	memo sync.Map // [2]string{ID, URL} -> []precwatch.Match
}

func (mm *memoMatcher) Match(l precwatch.Listing) []precwatch.Match {
	k := [2]string{l.ID, l.URL}
	if ms, ok := mm.memo.Load(k); ok {
		return ms.([]precwatch.Match)
	}
	ms := mm.m.Match(l)
	mm.memo.Store(k, ms)
	return ms
}

// noWrites is st with the reads and writes a crawl makes per page (its
// pages and sightings, fetch states, listing states) answered without the
// store, and no listing marked gone; runs and leases still go to st.
func noWrites(st precwatch.Store) precwatch.Store {
	nw := discardPages{st}
	if ls, ok := st.(precwatch.LeaseStore); ok {
		return struct {
			discardPages
			precwatch.LeaseStore
		}{nw, ls}
	}
	return nw
}

type discardPages struct{ precwatch.Store }

func (discardPages) RecordPage(_ context.Context, _ *precwatch.Page, obs []precwatch.Observation) ([]precwatch.RecordResult, error) {
	res := make([]precwatch.RecordResult, len(obs))
	for i := range res {
		res[i].NewListing = true
	}
	return res, nil
}

func (discardPages) ListingStates(context.Context, []string) (map[string]precwatch.ListingState, error) {
	return map[string]precwatch.ListingState{}, nil
}

func (discardPages) FetchState(context.Context, string, string) (precwatch.FetchState, error) {
	return precwatch.FetchState{}, precwatch.ErrNotFound
}

func (discardPages) SaveFetchState(context.Context, precwatch.FetchState) error { return nil }

func (discardPages) MarkGone(context.Context, precwatch.Run) (int, error) { return 0, nil }

// extractCPU is the CPU time the site's extractor takes over one parsed
// page of s, averaged over a few passes.
func extractCPU(tb testing.TB, s *benchShop) time.Duration {
	c, err := New(s.site(), discardPages{}, noMatch{}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	u, err := url.Parse(s.srv.URL + "/page/1")
	if err != nil {
		tb.Fatal(err)
	}
	docs := make([]*goquery.Document, len(s.pages))
	for i, p := range s.pages {
		if docs[i], err = parse(p, "text/html; charset=utf-8"); err != nil {
			tb.Fatal(err)
		}
	}
	const passes = 5
	start := cpuTime(tb)
	for range passes {
		for _, d := range docs {
			if res, err := c.ext.Extract(d, u); err != nil || len(res.Listings) == 0 {
				tb.Fatalf("extract: %d listings, %v", len(res.Listings), err)
			}
		}
	}
	return (cpuTime(tb) - start) / time.Duration(passes*len(docs))
}

type noMatch struct{}

func (noMatch) Match(precwatch.Listing) []precwatch.Match { return nil }

// redisCPU is the CPU time (user and system) the Redis server behind st
// has used (INFO cpu); zero for other stores.
func redisCPU(b *testing.B, st precwatch.Store) time.Duration {
	rs, ok := st.(*redis.Store)
	if !ok {
		return 0
	}
	d, err := redistest.ServerCPU(b.Context(), rs.Client())
	if err != nil {
		b.Fatal(err)
	}
	return d
}

func crawlOK(b *testing.B, c *Crawler) precwatch.Run {
	rec, err := c.Run(b.Context())
	if err != nil || rec.Status != precwatch.RunOK {
		b.Fatalf("run: status %s, err %v, errors %q", rec.Status, err, rec.Errors)
	}
	return rec
}
