package crawler

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
	"github.com/precwatch/precwatch/storage/embedded"
)

const (
	onionA = "pwtestmarketaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.onion"
	onionB = "pwtestmirrorbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.onion"
	shop   = "chemshop.test"
)

// rules are the selectors of the test market's markup.
var rules = precwatch.Extraction{
	Listing:  "div.listing",
	ID:       "span.id",
	Title:    "h2",
	Price:    "span.price",
	Vendor:   "span.vendor",
	URL:      "a.title @href",
	NextPage: "a.next @href",
	Links:    []string{"a.follow @href"},
	Detail:   &precwatch.Extraction{Description: "div.desc"},
}

// keywordMatcher reports a fixed substance when a title names it; the real
// matcher is tested in its own package.
type keywordMatcher struct{}

func (keywordMatcher) Match(l precwatch.Listing) []precwatch.Match {
	if i := strings.Index(strings.ToLower(l.Title), "peroxide"); i >= 0 {
		return []precwatch.Match{{
			Substance: "hydrogen-peroxide", Name: "Hydrogen peroxide", Regime: precwatch.RegimeEUAnnexI,
			Severity: precwatch.SeverityMedium, Term: "peroxide", Kind: "name", Field: "title",
			Start: i, End: i + len("peroxide"), Text: l.Title[i : i+len("peroxide")],
		}}
	}
	return nil
}

// market is the test marketplace: one mux of inline routes, counting
// requests per path.
type market struct {
	srv *httptest.Server

	mu     sync.Mutex
	hits   map[string]int
	hidden map[string]bool
	slow   chan struct{} // receives when /slow is entered
}

func item(id, title, price string) string {
	return fmt.Sprintf(`<div class="listing"><span class="id">%s</span><h2><a class="title" href="/item/%s">%s</a></h2>`+
		`<span class="price">%s</span><span class="vendor">vendor-%s</span></div>`, id, id, title, price, id)
}

func newMarket(t *testing.T) *market {
	t.Helper()
	m := &market{hits: make(map[string]int), hidden: make(map[string]bool), slow: make(chan struct{}, 16)}
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><html><body>"+body+"</body></html>")
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		for _, it := range [][3]string{{"A1", "Hydrogen peroxide 35% 1L", "€ 45,00"}, {"A2", "Acetone 99% 5L", "€ 30,00"}} {
			m.mu.Lock()
			hidden := m.hidden[it[0]]
			m.mu.Unlock()
			if !hidden {
				b.WriteString(item(it[0], it[1], it[2]))
			}
		}
		page(w, b.String()+`<a class="next" href="/page/2">next</a>`)
	})
	mux.HandleFunc("GET /page/2", func(w http.ResponseWriter, r *http.Request) {
		page(w, item("A3", "Hydrogen peroxide 12% 500ml", "€ 12,00"))
	})
	mux.HandleFunc("GET /item/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "gone" {
			http.NotFound(w, r)
			return
		}
		page(w, `<div class="desc">Item `+r.PathValue("id")+`: sealed bottle, ships in 2 days.</div>`)
	})
	mux.HandleFunc("GET /detail-404", func(w http.ResponseWriter, r *http.Request) {
		page(w, item("gone", "Hydrogen peroxide 50% 1L", "€ 60,00"))
	})
	mux.HandleFunc("GET /empty", func(w http.ResponseWriter, r *http.Request) { page(w, "<p>nothing</p>") })
	mux.HandleFunc("GET /flaky", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		n := m.hits["/flaky"]
		m.mu.Unlock()
		if n <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		page(w, item("F1", "Hydrogen peroxide 60% 1L", "€ 80,00"))
	})
	mux.HandleFunc("GET /missing", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+onionB+"/page/2", http.StatusFound)
	})
	mux.HandleFunc("GET /redirect-out", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://elsewhere.onion/", http.StatusFound)
	})
	// /chain/n links to /chain/n+1 forever.
	mux.HandleFunc("GET /chain/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		page(w, fmt.Sprintf(`<a class="follow" href="/chain/%d">on</a>`, n+1))
	})
	// /trap/... is a link trap: every page links to three new generated pages.
	mux.HandleFunc("GET /trap/", func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimSuffix(r.URL.Path, "/")
		page(w, fmt.Sprintf(`<a class="follow" href="%[1]s/a">a</a><a class="follow" href="%[1]s/b">b</a><a class="follow" href="%[1]s/c?sid=%[2]d">c</a>`, p, time.Now().UnixNano()))
	})
	mux.HandleFunc("GET /hostile", func(w http.ResponseWriter, r *http.Request) {
		page(w, item("H1", "Hydrogen peroxide 30% 1L", "€ 40,00")+
			`<div class="listing"><span class="id">P1</span><h2><a class="title" href="/binary">Hydrogen peroxide 20% 1L</a></h2></div>`+
			`<a class="follow" href="/bomb">x</a><a class="follow" href="/bomb-x">x</a><a class="follow" href="/huge">x</a>`+
			`<a class="follow" href="/huge-declared">x</a><a class="follow" href="/binary">x</a><a class="follow" href="/invalid-utf8">x</a><a class="follow" href="/script">x</a>`)
	})
	serveBomb := func(enc string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Header().Set("Content-Encoding", enc)
			w.Write(bigBomb())
		}
	}
	mux.HandleFunc("GET /bomb", serveBomb("gzip"))
	mux.HandleFunc("GET /bomb-x", serveBomb("x-gzip"))
	mux.HandleFunc("GET /huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		chunk := bytes.Repeat([]byte("<p>padding</p>"), 1<<12)
		for range 64 { // about 3.5 MiB, no Content-Length
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("GET /huge-declared", func(w http.ResponseWriter, r *http.Request) {
		body := bytes.Repeat([]byte("<p>padding</p>"), 1<<17) // 1.75 MiB, with its Content-Length
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	})
	mux.HandleFunc("GET /binary", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(bytes.Repeat([]byte{0, 1, 2, 0xff}, 1024))
	})
	mux.HandleFunc("GET /invalid-utf8", func(w http.ResponseWriter, r *http.Request) {
		page(w, item("U1", "Hydrogen peroxide \xff\xfe 40% \xc3", "€ 50,00"))
	})
	mux.HandleFunc("GET /script", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<script>while(true){}</script>`+item("S1", `Acetone <script>alert(1)</script>99% 1L`, "€ 9,00"))
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		m.slow <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("GET /many", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString(`<a class="follow" href="/slow">x</a>`)
		for i := range 20 {
			fmt.Fprintf(&b, `<a class="follow" href="/chain/%d">x</a>`, 1000+i*10)
		}
		page(w, b.String())
	})
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.hits[r.URL.Path]++
		m.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *market) addr() string { return m.srv.Listener.Addr().String() }

func (m *market) requests(path string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if path == "" {
		n := 0
		for _, v := range m.hits {
			n += v
		}
		return n
	}
	return m.hits[path]
}

// bigBomb is a gzip stream of about 1 MiB that inflates to 1 GiB.
var bigBomb = sync.OnceValue(func() []byte { return gzipBomb(1 << 30) })

// gzipBomb returns a small gzip stream that inflates to size zero bytes:
// one flushed deflate block of 1 MiB of zeros, repeated (each block only
// refers back to zeros, so the repeats are valid), then a final empty block.
func gzipBomb(size int) []byte {
	const unit = 1 << 20
	var blk bytes.Buffer
	fw, _ := flate.NewWriter(&blk, flate.BestCompression)
	zeros := make([]byte, unit)
	fw.Write(zeros)
	fw.Flush()
	var out bytes.Buffer
	out.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	crc := uint32(0)
	for range size / unit {
		out.Write(blk.Bytes())
		crc = crc32.Update(crc, crc32.IEEETable, zeros)
	}
	out.Write([]byte{1, 0, 0, 0xff, 0xff})
	binary.Write(&out, binary.LittleEndian, crc)
	binary.Write(&out, binary.LittleEndian, uint32(size))
	return out.Bytes()
}

func openStore(t testing.TB) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(t.Context(), filepath.Join(t.TempDir(), "store.db"), nil)
	if err != nil {
		t.Fatalf("embedded.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// env is one test's market, proxy and store.
type env struct {
	m       *market
	proxy   *socksproxy.Proxy
	store   precwatch.Store
	directs atomic.Int32
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{m: newMarket(t), store: openStore(t)}
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{
		onionA: e.m.addr(), onionB: e.m.addr(), shop: e.m.addr(),
	}, nil)
	if err != nil {
		t.Fatalf("socksproxy.Start: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	e.proxy = p
	return e
}

// proxiedEnv is an env with no market of its own: its proxy maps the
// given hosts to servers' addresses (onionA to srv when hosts is nil).
func proxiedEnv(t *testing.T, srv *httptest.Server, hosts map[string]string) *env {
	t.Helper()
	if hosts == nil {
		hosts = map[string]string{onionA: srv.Listener.Addr().String()}
	}
	e := &env{store: openStore(t)}
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", hosts, nil)
	if err != nil {
		t.Fatalf("socksproxy.Start: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	e.proxy = p
	return e
}

// torSite is a Tor site starting at the given paths of onionA.
func (e *env) torSite(paths ...string) precwatch.Site {
	s := precwatch.Site{
		Name:    "testmarket",
		Tor:     true,
		Proxy:   e.proxy.URL(),
		Extract: rules,
		Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second},
	}
	for _, p := range paths {
		s.StartURLs = append(s.StartURLs, "http://"+onionA+p)
	}
	return s
}

// directDialer counts direct dials and makes them.
func (e *env) directDialer() DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		e.directs.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

func (e *env) run(t *testing.T, site precwatch.Site, opts ...Option) (precwatch.Run, error) {
	t.Helper()
	opts = append([]Option{WithDirectDialer(e.directDialer()), WithRetryBackoff(time.Millisecond, 5*time.Millisecond), WithThrottleFloor(time.Millisecond)}, opts...)
	c, err := New(site, e.store, keywordMatcher{}, nil, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c.Run(t.Context())
}

func (e *env) listings(t *testing.T) map[string]precwatch.ListingState {
	t.Helper()
	out := make(map[string]precwatch.ListingState)
	err := e.store.Listings(t.Context(), "", func(st precwatch.ListingState) error {
		out[st.Listing.ID] = st
		return nil
	})
	if err != nil {
		t.Fatalf("Listings: %v", err)
	}
	return out
}

// historyEvents counts the stored alerts' history events by kind.
func (e *env) historyEvents(t *testing.T) map[string]int {
	t.Helper()
	as, err := e.store.Alerts(t.Context(), precwatch.AlertFilter{})
	if err != nil {
		t.Fatalf("Alerts: %v", err)
	}
	n := map[string]int{}
	for _, a := range as {
		for _, ev := range a.History {
			n[ev.Kind]++
		}
	}
	return n
}

func (e *env) storedRun(t *testing.T, id string) precwatch.Run {
	t.Helper()
	runs, err := e.store.Runs(t.Context(), "", 0)
	if err != nil {
		t.Fatalf("Runs: %v", err)
	}
	for _, r := range runs {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("run %s not stored", id)
	return precwatch.Run{}
}

func keys[M ~map[string]V, V any](m M) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestTorCrawl(t *testing.T) {
	for _, parallelism := range []int{1, 4} {
		t.Run(fmt.Sprintf("parallelism=%d", parallelism), func(t *testing.T) {
			e := newEnv(t)
			site := e.torSite("/")
			site.Politeness.Parallelism = parallelism
			run, err := e.run(t, site)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got, want := run.Status, precwatch.RunOK; got != want {
				t.Errorf("status = %q, want %q (errors %q)", got, want, run.Errors)
			}
			// Index, page 2 and three detail pages.
			if got, want := run.Pages, 5; got != want {
				t.Errorf("pages = %d, want %d", got, want)
			}
			if got, want := run.Listings, 3; got != want {
				t.Errorf("listings = %d, want %d", got, want)
			}
			if got, want := run.NewListings, 3; got != want {
				t.Errorf("new listings = %d, want %d", got, want)
			}
			if got, want := run.Alerts, 2; got != want {
				t.Errorf("alerts = %d, want %d", got, want)
			}
			ls := e.listings(t)
			if got, want := keys(ls), []string{"A1", "A2", "A3"}; !slices.Equal(got, want) {
				t.Fatalf("listings = %q, want %q", got, want)
			}
			for id, st := range ls {
				l := st.Listing
				if want := "Item " + id + ": sealed bottle, ships in 2 days."; l.Description != want {
					t.Errorf("%s description = %q, want %q (detail page not merged)", id, l.Description, want)
				}
				if !l.Tor || l.Site != "testmarket" || l.FetchedAt.IsZero() {
					t.Errorf("%s: tor=%v site=%q fetched=%v", id, l.Tor, l.Site, l.FetchedAt)
				}
				p, err := e.store.Page(t.Context(), l.PageSHA256)
				if err != nil {
					t.Fatalf("%s: evidence page %q: %v", id, l.PageSHA256, err)
				}
				if want := "http://" + onionA + "/item/" + id; p.URL != want {
					t.Errorf("%s: evidence page url = %q, want %q", id, p.URL, want)
				}
				if !bytes.Contains(p.Body, []byte("Item "+id)) {
					t.Errorf("%s: evidence page body does not hold the detail page", id)
				}
			}
			if names := e.proxy.Names(); !slices.Contains(names, onionA) {
				t.Errorf("proxy names = %q, want %s (resolved by the proxy)", names, onionA)
			}
			if got := e.directs.Load(); got != 0 {
				t.Errorf("direct dials = %d, want 0", got)
			}
			if got := e.storedRun(t, run.ID); got.Status != precwatch.RunOK || got.Pages != 5 {
				t.Errorf("stored run = %+v", got)
			}
		})
	}
}

func TestMarkGoneAfterOKRunOnly(t *testing.T) {
	e := newEnv(t)
	site := e.torSite("/")
	if _, err := e.run(t, site); err != nil {
		t.Fatal(err)
	}
	e.m.mu.Lock()
	e.m.hidden["A2"] = true
	e.m.mu.Unlock()

	// A partial run (page limit) must not mark anything gone. Unchanged
	// listings cost no detail page (incremental re-crawl), so the limit
	// must cut the index itself.
	partial := site
	partial.Limits.MaxPages = 1
	run, _ := e.run(t, partial)
	if run.Status != precwatch.RunPartial {
		t.Fatalf("status = %q, want partial", run.Status)
	}
	if ls := e.listings(t); ls["A2"].Gone {
		t.Errorf("A2 marked gone after a partial run")
	}

	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK {
		t.Fatalf("run: %v %q %q", err, run.Status, run.Errors)
	}
	ls := e.listings(t)
	if !ls["A2"].Gone {
		t.Errorf("A2 not marked gone after an OK run without it")
	}
	if ls["A1"].Gone || ls["A3"].Gone {
		t.Errorf("listings still offered marked gone")
	}
}

func TestFailClosed(t *testing.T) {
	t.Run("dead proxy: error, no request, no direct dial", func(t *testing.T) {
		e := newEnv(t)
		site := e.torSite("/")
		if err := e.proxy.Close(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		run, err := e.run(t, site)
		if err == nil {
			t.Fatal("Run with dead proxy: want error")
		}
		if want := fmt.Sprintf(`crawler: site "testmarket": proxy %s unreachable: `, e.proxy.URL()); !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error = %q, want prefix %q", err, want)
		}
		if got, want := run.Status, precwatch.RunFailed; got != want {
			t.Errorf("status = %q, want %q", got, want)
		}
		if got := e.storedRun(t, run.ID).Status; got != precwatch.RunFailed {
			t.Errorf("stored status = %q, want failed", got)
		}
		if got := e.m.requests(""); got != 0 {
			t.Errorf("server requests = %d, want 0", got)
		}
		if got := e.directs.Load(); got != 0 {
			t.Errorf("direct dials = %d, want 0", got)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("dead proxy run took %v; want it to stop at once", d)
		}
	})

	t.Run("proxy dies mid-run: failed, what was read kept, no direct dial", func(t *testing.T) {
		e := newEnv(t)
		site := e.torSite("/page/2", "/slow")
		site.Extract.Detail = nil // A3 is recorded from its index row, before /slow
		go func() {
			<-e.m.slow // the first page was read; the proxy goes down under the second
			e.proxy.Close()
		}()
		run, err := e.run(t, site)
		if err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Fatalf("run whose proxy died: err = %v, want the proxy named unreachable", err)
		}
		if run.Pages == 0 {
			t.Fatalf("pages = 0: the proxy went down before the first page; want it mid-run")
		}
		if got, want := run.Status, precwatch.RunFailed; got != want {
			t.Errorf("status = %q after %d page(s), want %q", got, run.Pages, want)
		}
		if got := e.storedRun(t, run.ID).Status; got != precwatch.RunFailed {
			t.Errorf("stored status = %q, want failed", got)
		}
		if _, ok := e.listings(t)["A3"]; !ok {
			t.Errorf("the listing read before the proxy died was not kept")
		}
		if got := e.directs.Load(); got != 0 {
			t.Errorf("direct dials = %d, want 0", got)
		}
	})

	t.Run("no local name resolution", func(t *testing.T) {
		e := newEnv(t)
		var lookups atomic.Int32
		old := net.DefaultResolver
		net.DefaultResolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			lookups.Add(1)
			return nil, errors.New("test: dns forbidden")
		}}
		t.Cleanup(func() { net.DefaultResolver = old })
		// The hook is live: a lookup of a name not in /etc/hosts reaches it.
		if _, err := net.DefaultResolver.LookupHost(t.Context(), "hook-check.test"); err == nil {
			t.Fatal("lookup through the hook succeeded")
		}
		if lookups.Load() == 0 {
			t.Fatal("resolver hook not called for a plain name")
		}
		lookups.Store(0)

		// A Tor site and a clear-web .test site behind the proxy: neither
		// name may be looked up here.
		if _, err := e.run(t, e.torSite("/")); err != nil {
			t.Fatal(err)
		}
		shopSite := e.torSite()
		shopSite.Name, shopSite.Tor = "shop", false
		shopSite.StartURLs = []string{"http://" + shop + "/page/2"}
		run, err := e.run(t, shopSite)
		if err != nil || run.Listings != 1 {
			t.Fatalf("shop run: %v, %+v", err, run)
		}
		if got := lookups.Load(); got != 0 {
			t.Errorf("local DNS lookups = %d, want 0", got)
		}
		names := e.proxy.Names()
		for _, want := range []string{onionA, shop} {
			if !slices.Contains(names, want) {
				t.Errorf("proxy names = %q, want %q sent unresolved", names, want)
			}
		}
		if got := e.directs.Load(); got != 0 {
			t.Errorf("direct dials = %d, want 0", got)
		}
	})

	t.Run("onion start url is tor whatever the flag", func(t *testing.T) {
		e := newEnv(t)
		site := e.torSite("/page/2")
		site.Tor = false
		run, err := e.run(t, site)
		if err != nil || run.Listings != 1 {
			t.Fatalf("run: %v %+v", err, run)
		}
		if l := e.listings(t)["A3"].Listing; !l.Tor {
			t.Errorf("listing from a .onion site not marked tor")
		}
		if got := e.directs.Load(); got != 0 {
			t.Errorf("direct dials = %d, want 0", got)
		}

		// With no proxy configured it gets the default Tor proxy, never a
		// direct connection.
		site.Proxy = ""
		site.Name = "noproxy"
		run, err = e.run(t, site)
		if err == nil || run.Status != precwatch.RunFailed {
			t.Fatalf("run without a reachable tor proxy: err=%v status=%q", err, run.Status)
		}
		if got := e.directs.Load(); got != 0 {
			t.Errorf("direct dials = %d, want 0", got)
		}
		if got := e.m.requests("/page/2"); got != 1 {
			t.Errorf("requests = %d, want only the one through the proxy", got)
		}
	})

	t.Run("redirect to another host goes through the proxy", func(t *testing.T) {
		e := newEnv(t)
		site := e.torSite("/redirect", "/redirect-out")
		site.StartURLs = append(site.StartURLs, "http://"+onionB+"/empty")
		run, err := e.run(t, site)
		if err != nil {
			t.Fatal(err)
		}
		l, ok := e.listings(t)["A3"]
		if !ok {
			t.Fatalf("listing behind the redirect not recorded; run %+v", run)
		}
		p, err := e.store.Page(t.Context(), l.Listing.PageSHA256)
		if err != nil {
			t.Fatal(err)
		}
		if want := "http://" + onionB + "/item/A3"; p.URL != want {
			t.Errorf("page url = %q, want %q", p.URL, want)
		}
		names := e.proxy.Names()
		if !slices.Contains(names, onionB) {
			t.Errorf("proxy names = %q, want the redirect target %s", names, onionB)
		}
		// A redirect off the site's hosts is not followed at all.
		if slices.Contains(names, "elsewhere.onion") {
			t.Errorf("redirect to a foreign host reached the proxy")
		}
		if run.Status != precwatch.RunPartial || !strings.Contains(strings.Join(run.Errors, "\n"), "elsewhere.onion") {
			t.Errorf("status %q errors %q: want partial with the refused redirect", run.Status, run.Errors)
		}
		if got := e.directs.Load(); got != 0 {
			t.Errorf("direct dials = %d, want 0", got)
		}
	})
}

func TestRetries(t *testing.T) {
	t.Run("5xx retried", func(t *testing.T) {
		e := newEnv(t)
		run, err := e.run(t, e.torSite("/flaky"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := e.m.requests("/flaky"), 3; got != want {
			t.Errorf("requests = %d, want %d", got, want)
		}
		if _, ok := e.listings(t)["F1"]; !ok || run.Status != precwatch.RunOK {
			t.Errorf("status %q errors %q; listing recorded %v", run.Status, run.Errors, ok)
		}
	})
	t.Run("5xx retries bounded", func(t *testing.T) {
		e := newEnv(t)
		site := e.torSite("/flaky")
		site.Limits.Retries = 1
		run, err := e.run(t, site)
		if err == nil || run.Status != precwatch.RunFailed {
			t.Errorf("err %v status %q, want failed", err, run.Status)
		}
		if got, want := e.m.requests("/flaky"), 2; got != want {
			t.Errorf("requests = %d, want %d", got, want)
		}
		if !strings.Contains(err.Error(), "503") {
			t.Errorf("error %q does not name the status", err)
		}
	})
	t.Run("404 not retried", func(t *testing.T) {
		e := newEnv(t)
		run, err := e.run(t, e.torSite("/missing"))
		if err == nil || run.Status != precwatch.RunFailed {
			t.Errorf("err %v status %q, want failed", err, run.Status)
		}
		if got, want := e.m.requests("/missing"), 1; got != want {
			t.Errorf("requests = %d, want %d", got, want)
		}
	})
	t.Run("detail 404 keeps the index listing", func(t *testing.T) {
		e := newEnv(t)
		run, _ := e.run(t, e.torSite("/detail-404"))
		if got, want := e.m.requests("/item/gone"), 1; got != want {
			t.Errorf("requests = %d, want %d", got, want)
		}
		if _, ok := e.listings(t)["gone"]; !ok {
			t.Errorf("listing lost when its detail page failed")
		}
		if run.Status != precwatch.RunPartial || run.Alerts != 1 {
			t.Errorf("run %+v: want partial with one alert", run)
		}
	})
}

func TestLimits(t *testing.T) {
	t.Run("max pages on a link trap", func(t *testing.T) {
		e := newEnv(t)
		site := e.torSite("/trap/")
		site.Limits.MaxPages, site.Limits.MaxDepth = 7, 100
		run, err := e.run(t, site)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := e.m.requests(""), 7; got != want {
			t.Errorf("requests = %d, want %d", got, want)
		}
		if run.Status != precwatch.RunPartial || run.Pages != 7 {
			t.Errorf("run %+v: want partial, 7 pages", run)
		}
		if !strings.Contains(strings.Join(run.Errors, "\n"), "page limit 7 reached (limits.max_pages)") {
			t.Errorf("errors %q do not name the page limit", run.Errors)
		}
	})
	t.Run("default limits bound a link trap", func(t *testing.T) {
		e := newEnv(t)
		run, _ := e.run(t, e.torSite("/trap/"))
		// Depth 5 of a 3-way tree is 364 pages, so the page budget stops it.
		if got, want := e.m.requests(""), DefaultMaxPages; got != want {
			t.Errorf("requests = %d, want %d", got, want)
		}
		if run.Status != precwatch.RunPartial {
			t.Errorf("status = %q, want partial", run.Status)
		}
	})
	t.Run("max depth", func(t *testing.T) {
		e := newEnv(t)
		site := e.torSite("/chain/0")
		site.Limits.MaxDepth = 3
		run, err := e.run(t, site)
		if err != nil {
			t.Fatal(err)
		}
		for n := range 6 {
			want := 0
			if n <= 3 {
				want = 1
			}
			if got := e.m.requests(fmt.Sprintf("/chain/%d", n)); got != want {
				t.Errorf("/chain/%d requests = %d, want %d", n, got, want)
			}
		}
		// Links left unfollowed make the run partial, naming the limit.
		if run.Status != precwatch.RunPartial {
			t.Errorf("status = %q, want partial", run.Status)
		}
		if want := "depth limit 3 reached (limits.max_depth): 1 links not followed"; !strings.Contains(strings.Join(run.Errors, "\n"), want) {
			t.Errorf("errors %q do not name the depth limit (%q)", run.Errors, want)
		}
	})
	t.Run("hostile pages", func(t *testing.T) {
		e := newEnv(t)
		site := e.torSite("/hostile")
		site.Limits.MaxBodyBytes = 1 << 20
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		run, err := e.run(t, site)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("run took %v", d)
		}
		// The bomb inflates to 1 GiB twice over; reading it would allocate
		// at least that.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 200<<20 {
			t.Errorf("run allocated %d MiB; the gzip bomb was expanded", alloc>>20)
		}
		if got, want := run.Status, precwatch.RunPartial; got != want {
			t.Errorf("status = %q, want %q", got, want)
		}
		errs := strings.Join(run.Errors, "\n")
		for _, p := range []string{"/bomb", "/bomb-x", "/huge", "/huge-declared"} {
			if !strings.Contains(errs, "http://"+onionA+p+":") && !strings.Contains(errs, "http://"+onionA+p+" ") {
				t.Errorf("no error for %s in %q", p, errs)
			}
		}
		t.Logf("run errors:\n%s", errs)
		// Each oversized page's error names the limit, as a config field.
		for _, e := range run.Errors {
			if strings.Contains(e, "body too large") && !strings.Contains(e, "limit 1048576 (limits.max_body_bytes)") {
				t.Errorf("error %q does not name the limit and its field", e)
			}
		}
		if n := strings.Count(errs, "body too large"); n != 4 {
			t.Errorf("%d body-limit errors in %q, want 4 (bomb, bomb-x, huge, huge-declared)", n, errs)
		}
		if strings.Contains(errs, "/binary") {
			t.Errorf("non-html page reported as an error: %q", errs)
		}
		// hostile, invalid-utf8, script and their three detail pages.
		if got, want := run.Pages, 6; got != want {
			t.Errorf("pages = %d, want %d", got, want)
		}
		ls := e.listings(t)
		if got, want := keys(ls), []string{"H1", "P1", "S1", "U1"}; !slices.Equal(got, want) {
			t.Fatalf("listings = %q, want %q", got, want)
		}
		for id, st := range ls {
			if !utf8.ValidString(st.Listing.Title) || !utf8.ValidString(st.Listing.Description) {
				t.Errorf("%s: invalid UTF-8 stored: %q", id, st.Listing.Title)
			}
		}
		if got, want := e.m.requests("/binary"), 1; got != want {
			t.Errorf("/binary requests = %d, want %d", got, want)
		}
		if title := ls["S1"].Listing.Title; strings.Contains(title, "<script") {
			t.Errorf("script markup in title %q", title)
		}
	})
}

func TestGzipBombIsValid(t *testing.T) {
	// The bomb must really inflate, or the limit test proves nothing.
	b := gzipBomb(2 << 20)
	if len(b) > 64<<10 {
		t.Errorf("bomb of 2 MiB is %d bytes compressed", len(b))
	}
	var buf bytes.Buffer
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(&buf, zr)
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	if n != 2<<20 {
		t.Errorf("inflated to %d bytes, want %d", n, 2<<20)
	}
}

func TestCancel(t *testing.T) {
	e := newEnv(t)
	site := e.torSite("/many")
	// A long delay: a cancelled run must not sit out the queued waits.
	site.Politeness.Delay = time.Second
	site.Politeness.Parallelism = 2
	c, err := New(site, e.store, keywordMatcher{}, nil, WithDirectDialer(e.directDialer()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	type result struct {
		run precwatch.Run
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := c.Run(ctx)
		done <- result{r, err}
	}()
	// /many is first; its links include /slow, which the second worker
	// reaches after the pacer's delay.
	select {
	case <-e.m.slow:
	case <-time.After(10 * time.Second):
		t.Fatal("crawl never reached /slow")
	}
	cancel()
	start := time.Now()
	var res result
	select {
	case res = <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return within 3s of cancel")
	}
	d := time.Since(start)
	t.Logf("Run returned %v after cancel", d)
	if d > time.Second {
		t.Errorf("Run returned %v after cancel", d)
	}
	if !errors.Is(res.err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", res.err)
	}
	if got, want := res.run.Status, precwatch.RunAbandoned; got != want {
		t.Errorf("status = %q, want %q", got, want)
	}
	if got := e.storedRun(t, res.run.ID).Status; got != precwatch.RunAbandoned {
		t.Errorf("stored status = %q, want abandoned", got)
	}
}

func TestOptions(t *testing.T) {
	tests := map[string]func(t *testing.T){
		"WithClock": func(t *testing.T) {
			e := newEnv(t)
			at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			run, err := e.run(t, e.torSite("/page/2"), WithClock(func() time.Time { return at }))
			if err != nil {
				t.Fatal(err)
			}
			if !run.Start.Equal(at) || !run.End.Equal(at) {
				t.Errorf("run start/end = %v/%v, want %v", run.Start, run.End, at)
			}
			if !strings.HasPrefix(run.ID, "20300102T030405.") {
				t.Errorf("run id %q does not start with the clock's time", run.ID)
			}
			if got := e.listings(t)["A3"].Listing.FetchedAt; !got.Equal(at) {
				t.Errorf("fetched at = %v, want %v", got, at)
			}
		},
		"WithHTTPTimeout": func(t *testing.T) {
			e := newEnv(t)
			start := time.Now()
			run, err := e.run(t, e.torSite("/slow"), WithHTTPTimeout(150*time.Millisecond))
			if err == nil || run.Status != precwatch.RunFailed {
				t.Errorf("err %v status %q, want failed", err, run.Status)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("run took %v with a 150ms request timeout", d)
			}
			// A timeout is retried: 1 + DefaultRetries requests.
			if got, want := e.m.requests("/slow"), 1+DefaultRetries; got != want {
				t.Errorf("requests = %d, want %d", got, want)
			}
		},
		"WithDirectDialer": func(t *testing.T) {
			e := newEnv(t)
			site := e.torSite()
			site.Name, site.Tor, site.Proxy = "clear", false, ""
			site.StartURLs = []string{e.m.srv.URL + "/page/2"}
			run, err := e.run(t, site)
			if err != nil || run.Listings != 1 {
				t.Fatalf("run: %v %+v", err, run)
			}
			if e.directs.Load() == 0 {
				t.Errorf("direct dialer not used for a site without proxy")
			}
			if names := e.proxy.Names(); len(names) != 0 {
				t.Errorf("proxy used for a direct site: %q", names)
			}
			if l := e.listings(t)["A3"].Listing; l.Tor {
				t.Errorf("clear-web listing marked tor")
			}
		},
		"WithRetryBackoff": func(t *testing.T) {
			e := newEnv(t)
			start := time.Now()
			if _, err := e.run(t, e.torSite("/flaky"), WithRetryBackoff(100*time.Millisecond, time.Second)); err != nil {
				t.Fatal(err)
			}
			// Two retries wait at least 100ms and 200ms; the 500ms default
			// would take at least 1.5s.
			if d := time.Since(start); d < 300*time.Millisecond || d > 1400*time.Millisecond {
				t.Errorf("run with 100ms backoff took %v, want 300ms..1.4s", d)
			}
		},
		"WithThrottleFloor": func(t *testing.T) {
			e := newEnv(t)
			start := time.Now()
			run, err := e.run(t, e.torSite("/flaky"), WithThrottleFloor(300*time.Millisecond))
			if err != nil || run.Throttled != 2 {
				t.Fatalf("run: %v, %d throttled answers; want 2", err, run.Throttled)
			}
			// The first 503 widens the gap to the floor, the second doubles
			// it: the retries start 300ms and 600ms after the requests before.
			if d := time.Since(start); d < 900*time.Millisecond {
				t.Errorf("run with a 300ms throttle floor took %v, want 900ms at least", d)
			}
		},
	}
	for name, tt := range tests {
		t.Run(name, tt)
	}
}

func TestNewErrors(t *testing.T) {
	good := precwatch.Site{Name: "s", StartURLs: []string{"http://" + onionA + "/"}, Tor: true, Proxy: "socks5://127.0.0.1:9050", Extract: rules}
	tests := map[string]struct {
		edit func(*precwatch.Site)
		want string
	}{
		"no name":            {func(s *precwatch.Site) { s.Name = "" }, "no name"},
		"no start urls":      {func(s *precwatch.Site) { s.StartURLs = nil }, "no start urls"},
		"relative start":     {func(s *precwatch.Site) { s.StartURLs = []string{"/x"} }, "absolute"},
		"http proxy on tor":  {func(s *precwatch.Site) { s.Proxy = "http://127.0.0.1:8080" }, "socks5"},
		"bad proxy url":      {func(s *precwatch.Site) { s.Proxy = "socks5://[::1" }, "proxy"},
		"proxy without host": {func(s *precwatch.Site) { s.Proxy = "socks5://" }, "no host"},
		"bad selector":       {func(s *precwatch.Site) { s.Extract.Title = "h2[" }, "title"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			s := good
			tt.edit(&s)
			_, err := New(s, openStore(t), keywordMatcher{}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "crawler: ") {
				t.Errorf("New: err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := New(good, openStore(t), keywordMatcher{}, nil); err != nil {
		t.Errorf("New(good): %v", err)
	}
}

func TestRunTimeout(t *testing.T) {
	e := newEnv(t)
	site := e.torSite("/page/2", "/slow")
	site.Politeness.Parallelism = 2
	site.Limits.RunTimeout = 500 * time.Millisecond
	start := time.Now()
	run, err := e.run(t, site)
	if err != nil {
		t.Fatalf("Run: %v (a timed-out run that fetched pages is partial, not an error)", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("run took %v with a 500ms run timeout", d)
	}
	if run.Status != precwatch.RunPartial || run.Listings != 1 {
		t.Errorf("run %+v: want partial with the one listing", run)
	}
	if !strings.Contains(strings.Join(run.Errors, "\n"), "run timeout 500ms reached (limits.run_timeout)") {
		t.Errorf("errors %q do not name the run timeout", run.Errors)
	}
}

func TestCollyEnvironmentIgnored(t *testing.T) {
	e := newEnv(t)
	t.Setenv("COLLY_ALLOWED_DOMAINS", "elsewhere.onion")
	t.Setenv("COLLY_CACHE_DIR", t.TempDir())
	t.Setenv("COLLY_MAX_BODY_SIZE", "10")
	t.Setenv("COLLY_FOLLOW_REDIRECTS", "no")
	t.Setenv("COLLY_IGNORE_ROBOTSTXT", "no")
	site := e.torSite("/redirect")
	site.StartURLs = append(site.StartURLs, "http://"+onionB+"/empty")
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 1 {
		t.Fatalf("run under COLLY_* variables: %v %+v", err, run)
	}
	if got := e.m.requests("/robots.txt"); got != 0 {
		t.Errorf("robots.txt fetched %d times", got)
	}
}

// panicMatcher panics on one listing, standing in for any bug a hostile
// page might trip.
type panicMatcher struct{ keywordMatcher }

func (m panicMatcher) Match(l precwatch.Listing) []precwatch.Match {
	if strings.Contains(l.Title, "Acetone") {
		panic("matcher tripped")
	}
	return m.keywordMatcher.Match(l)
}

func TestPanicIsRunError(t *testing.T) {
	for _, follow := range []bool{true, false} {
		t.Run(fmt.Sprintf("details=%v", follow), func(t *testing.T) {
			e := newEnv(t)
			site := e.torSite("/")
			if !follow {
				site.Extract.Detail = nil
			}
			c, err := New(site, e.store, panicMatcher{}, nil, WithDirectDialer(e.directDialer()))
			if err != nil {
				t.Fatal(err)
			}
			run, err := c.Run(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if run.Status != precwatch.RunPartial || !strings.Contains(strings.Join(run.Errors, "\n"), "panic: matcher tripped") {
				t.Errorf("run %+v: want partial with the panic as an error", run)
			}
			// The listings around the bad one are still recorded.
			if got, want := keys(e.listings(t)), []string{"A1", "A3"}; !slices.Equal(got, want) {
				t.Errorf("listings = %q, want %q", got, want)
			}
		})
	}
}

// TestNoListingsMarksNothingGone: a run whose pages yield not one listing
// (the market's markup changed under the site's rules) is partial, says
// so, and marks nothing gone; when the rules match again, nothing is
// relisted.
func TestNoListingsMarksNothingGone(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) {
		e := newPagedEnvOn(t, st, 2, 0, nil)
		site := e.site("relaid", "")
		if run, err := e.run(t, site); err != nil || run.Status != precwatch.RunOK || run.Listings != 4 || run.Alerts != 2 {
			t.Fatalf("first run: %v %+v", err, run)
		}
		broken := site
		broken.Extract.Listing = "div.product-tile" // what the market now calls a listing
		run, err := e.run(t, broken)
		if err != nil || run.Status != precwatch.RunPartial || run.Pages != 2 || run.Listings != 0 {
			t.Fatalf("run without listings: %v %q, %d pages, %d listings; want partial, 2, 0", err, run.Status, run.Pages, run.Listings)
		}
		if want := "no listing read from 2 page(s)"; !strings.Contains(strings.Join(run.Errors, "\n"), want) {
			t.Errorf("errors %q do not say %q", run.Errors, want)
		}
		// It says why, in the rules' terms, on the first such page.
		if want := `: listing "div.product-tile" matched no element on the page`; !strings.Contains(strings.Join(run.Errors, "\n"), want) {
			t.Errorf("errors %q do not say %q", run.Errors, want)
		}
		for id, l := range e.listings(t) {
			if l.Gone {
				t.Errorf("%s marked gone by a run that read no listing", id)
			}
		}
		if run, err := e.run(t, site); err != nil || run.Status != precwatch.RunOK || run.Listings != 4 {
			t.Fatalf("run with the rules matching again: %v %+v", err, run)
		}
		as, err := st.Alerts(t.Context(), precwatch.AlertFilter{})
		if err != nil || len(as) != 2 {
			t.Fatalf("alerts: %v, %d; want 2", err, len(as))
		}
		for _, a := range as {
			for _, ev := range a.History {
				if ev.Kind != precwatch.EventRaised {
					t.Errorf("alert %s: %s event after the rules matched again", a.Key, ev.Kind)
				}
			}
		}
	})
}

// TestSiteHeaders: a site's headers go with every request, replacing the
// crawler's own Accept-Language, as the stored fetches record them; a
// header the crawler manages is refused.
func TestSiteHeaders(t *testing.T) {
	e := newEnv(t)
	site := e.torSite("/page/2")
	site.Politeness.Headers = map[string]string{"Accept-Language": "pl-PL,pl;q=0.9", "Apollo-Require-Preflight": "true"}
	run, err := e.run(t, site)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := e.store.RunFetches(t.Context(), run.ID)
	if err != nil || len(fs) == 0 {
		t.Fatalf("run fetches: %v, %v", fs, err)
	}
	for _, f := range fs {
		if got := f.RequestHeaders.Get("Accept-Language"); got != "pl-PL,pl;q=0.9" || f.RequestHeaders.Get("Apollo-Require-Preflight") != "true" {
			t.Errorf("fetch %s sent Accept-Language %q and %v", f.URL, got, f.RequestHeaders)
		}
	}
	site.Politeness.Headers = map[string]string{"user-agent": "x"}
	if _, err := New(site, openStore(t), keywordMatcher{}, nil); err == nil || !strings.Contains(err.Error(), "politeness.user_agent") {
		t.Errorf("New with a User-Agent header: %v, want it refused", err)
	}
}

// TestRefusalExplained: an API's 4xx answer in JSON or plain text is
// quoted, cut short, in the run's error, so the operator reads what the
// site asks for; an HTML error page is not.
func TestRefusalExplained(t *testing.T) {
	long := strings.Repeat("x", 3*maxSays)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/graphql":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, "{\"errors\":[{\"message\":\"This operation has been blocked as a potential Cross-Site Request Forgery (CSRF).\n\t Please provide apollo-require-preflight\"}]}")
		case "/long":
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, long)
		default:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `<html><body><h1>Forbidden</h1><p>secret page text</p></body></html>`)
		}
	}))
	t.Cleanup(api.Close)
	for path, want := range map[string]string{
		"/graphql": `the site says "{\"errors\":[{\"message\":\"This operation has been blocked as a potential Cross-Site Request Forgery (CSRF). Please provide apollo-require-preflight\"}]}"`,
		"/long":    `the site says "` + long[:maxSays] + `…"`,
		"/page":    "",
	} {
		e := newEnv(t)
		site := e.torSite()
		site.Name, site.Tor, site.Proxy = "api", false, ""
		site.StartURLs = []string{api.URL + path}
		run, _ := e.run(t, site)
		if len(run.Errors) == 0 {
			t.Fatalf("%s: no error recorded", path)
		}
		got := run.Errors[0]
		if want == "" && (strings.Contains(got, "says") || strings.Contains(got, "secret")) || want != "" && !strings.Contains(got, want) {
			t.Errorf("%s: error %q, want it to hold %q", path, got, want)
		}
	}
}
