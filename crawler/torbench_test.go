package crawler

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

// Tor's figures for one circuit, measured on the private network
// (../shared/reference/tornet) and on the public one: about 1 s to the first
// byte of an answer and 300 KB/s. The benchmark divides every duration by
// torTimeScale so that a 10,000-listing crawl on one circuit takes a couple
// of minutes rather than three hours; it reports wall times multiplied back.
const (
	torTTFB      = time.Second
	torBandwidth = 300 << 10 // bytes per second per circuit
	torTimeScale = 100
)

// torShaper makes each SOCKS stream behave like a Tor stream: every answer's
// first byte comes torTTFB/scale after its request, and all streams of one
// circuit (one SOCKS username, as Tor isolates them) share its bandwidth.
type torShaper struct {
	ttfb time.Duration
	rate float64 // bytes per second per circuit

	mu       sync.Mutex
	circuits map[string]*circuitLink
}

// circuitLink is one circuit's bandwidth: the time at which its link is
// free again.
type circuitLink struct {
	mu   sync.Mutex
	free time.Time
}

func newTorShaper(scale int) *torShaper {
	return &torShaper{
		ttfb:     torTTFB / time.Duration(scale),
		rate:     float64(torBandwidth * scale),
		circuits: map[string]*circuitLink{},
	}
}

func (s *torShaper) wrap(st socksproxy.Stream, c net.Conn) net.Conn {
	s.mu.Lock()
	link := s.circuits[st.Username]
	if link == nil {
		link = &circuitLink{}
		s.circuits[st.Username] = link
	}
	s.mu.Unlock()
	return &shapedConn{Conn: c, s: s, link: link}
}

// shapedConn delays the first byte read after each request written, and
// spaces reads by the circuit's bandwidth.
type shapedConn struct {
	net.Conn
	s    *torShaper
	link *circuitLink

	mu        sync.Mutex
	requested time.Time // zero once the answer's first byte went out
}

func (c *shapedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.requested.IsZero() {
		c.requested = time.Now()
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *shapedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n == 0 {
		return n, err
	}
	c.mu.Lock()
	req := c.requested
	c.requested = time.Time{}
	c.mu.Unlock()
	if !req.IsZero() {
		time.Sleep(time.Until(req.Add(c.s.ttfb)))
	}
	d := time.Duration(float64(n) / c.s.rate * float64(time.Second))
	c.link.mu.Lock()
	start := time.Now()
	if start.Before(c.link.free) {
		start = c.link.free
	}
	c.link.free = start.Add(d)
	c.link.mu.Unlock()
	time.Sleep(time.Until(start.Add(d)))
	return n, err
}

func (c *shapedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// bigMarket is a generated marketplace of n listings, perPage to an index
// page, each with a detail page, serving ETag validators and counting what
// it is asked.
type bigMarket struct {
	srv     *httptest.Server
	perPage int

	mu       sync.RWMutex
	versions []int // per listing: bumped by change, shown in its price

	index, detail, conditional, notModified atomic.Int64
}

func newBigMarket(tb testing.TB, n, perPage int) *bigMarket {
	m := &bigMarket{perPage: perPage, versions: make([]int, n)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /page/{n}", m.servePage)
	mux.HandleFunc("GET /item/{id}", m.serveItem)
	m.srv = httptest.NewServer(mux)
	tb.Cleanup(m.srv.Close)
	return m
}

func (m *bigMarket) pages() int { return (len(m.versions) + m.perPage - 1) / m.perPage }

// change bumps every k-th listing's price, so that n/k index rows change.
func (m *bigMarket) change(k int) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := 0
	for i := 0; i < len(m.versions); i += k {
		m.versions[i]++
		changed++
	}
	return changed
}

func (m *bigMarket) resetCounts() {
	m.index.Store(0)
	m.detail.Store(0)
	m.conditional.Store(0)
	m.notModified.Store(0)
}

func (m *bigMarket) title(i int) string {
	if i%20 == 0 {
		return fmt.Sprintf("Hydrogen peroxide 12%% solution lot %d", i)
	}
	return fmt.Sprintf("Garden hose connector set %d", i)
}

func (m *bigMarket) price(i, version int) string {
	return fmt.Sprintf("%d.%02d USD", 10+i%90, version%100)
}

// answer writes body with a strong ETag of its content, or 304 when the
// request's If-None-Match names it.
func (m *bigMarket) answer(w http.ResponseWriter, r *http.Request, etag, body string) {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		m.conditional.Add(1)
		if inm == etag {
			m.notModified.Add(1)
			w.Header().Set("ETag", etag)
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(body))
}

func (m *bigMarket) servePage(w http.ResponseWriter, r *http.Request) {
	m.index.Add(1)
	p, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || p < 1 || p > m.pages() {
		http.NotFound(w, r)
		return
	}
	var b strings.Builder
	var sum uint64
	b.WriteString("<html><body><h1>Catalogue</h1>")
	m.mu.RLock()
	for i := (p - 1) * m.perPage; i < min(p*m.perPage, len(m.versions)); i++ {
		v := m.versions[i]
		sum = sum*31 + uint64(v) + 1
		fmt.Fprintf(&b, `<div class="listing"><span class="id">L%d</span><h2><a class="title" href="/item/%d">%s</a></h2>`+
			`<span class="price">%s</span><span class="vendor">vendor-%d</span></div>`, i, i, m.title(i), m.price(i, v), i%37)
	}
	m.mu.RUnlock()
	if p < m.pages() {
		fmt.Fprintf(&b, `<a class="next" href="/page/%d">next</a>`, p+1)
	}
	b.WriteString("</body></html>")
	m.answer(w, r, fmt.Sprintf(`"p%d-%x"`, p, sum), b.String())
}

func (m *bigMarket) serveItem(w http.ResponseWriter, r *http.Request) {
	m.detail.Add(1)
	i, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || i < 0 || i >= len(m.versions) {
		http.NotFound(w, r)
		return
	}
	m.mu.RLock()
	v := m.versions[i]
	m.mu.RUnlock()
	// A detail page of about 6 KB, as shop pages with a description are.
	body := fmt.Sprintf(`<html><body><h1>%s</h1><span class="price">%s</span><div class="desc">%s</div></body></html>`,
		m.title(i), m.price(i, v), strings.Repeat("Shipped in discreet packaging within the EU. ", 130))
	m.answer(w, r, fmt.Sprintf(`"i%d-%d"`, i, v), body)
}

// BenchmarkTorShapedCrawl crawls a 10,000-listing market (200 index pages,
// a detail page per listing) through a SOCKS5 proxy that shapes each circuit
// like Tor, then re-crawls it unchanged and with 1 % of its listings
// changed. Wall times are reported at Tor's scale (tor_s).
func BenchmarkTorShapedCrawl(b *testing.B) {
	const listings, perPage = 10000, 50
	for _, circuits := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("full/circuits=%d", circuits), func(b *testing.B) {
			for range b.N {
				e := newBenchEnv(b, listings, perPage)
				rec, wall := e.crawl(b, circuits)
				b.ReportMetric(wall.Seconds()*torTimeScale, "tor_s")
				b.ReportMetric(float64(e.m.index.Load()+e.m.detail.Load()), "requests")
				b.ReportMetric(float64(rec.Listings), "listings")
			}
		})
	}
	b.Run("recrawl", func(b *testing.B) {
		for range b.N {
			e := newBenchEnv(b, listings, perPage)
			e.crawl(b, 8)

			e.m.resetCounts()
			_, wall := e.crawl(b, 8)
			pages := float64(e.m.pages())
			b.ReportMetric(float64(e.m.index.Load())/pages, "unchanged_index_req/page")
			b.ReportMetric(float64(e.m.detail.Load()), "unchanged_detail_req")
			b.ReportMetric(float64(e.m.notModified.Load()), "unchanged_304")
			b.ReportMetric(wall.Seconds()*torTimeScale, "unchanged_tor_s")

			changed := e.m.change(100) // 1 %
			e.m.resetCounts()
			e.crawl(b, 8)
			b.ReportMetric(float64(e.m.index.Load())/pages, "changed_index_req/page")
			b.ReportMetric(float64(e.m.detail.Load())/float64(changed), "detail_req/changed")
		}
	})
}

type benchEnv struct {
	m     *bigMarket
	proxy *socksproxy.Proxy
	store precwatch.Store
}

func newBenchEnv(b *testing.B, listings, perPage int) *benchEnv {
	b.Helper()
	m := newBigMarket(b, listings, perPage)
	shaper := newTorShaper(torTimeScale)
	p, err := socksproxy.Start(b.Context(), "127.0.0.1:0", map[string]string{onionA: m.srv.Listener.Addr().String()}, nil,
		socksproxy.WithWrap(shaper.wrap))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	return &benchEnv{m: m, proxy: p, store: openStore(b)}
}

// crawl runs the market's site once with n circuits and returns the run
// record and its wall time; the run must end ok.
func (e *benchEnv) crawl(b *testing.B, circuits int) (precwatch.Run, time.Duration) {
	b.Helper()
	site := precwatch.Site{
		Name:      "big",
		StartURLs: []string{"http://" + onionA + "/page/1"},
		Proxy:     e.proxy.URL(),
		Limits:    precwatch.Limits{MaxPages: 20000, RequestTimeout: 30 * time.Second, RunTimeout: time.Hour},
		Extract: precwatch.Extraction{
			Listing: "div.listing", ID: "span.id", Title: "h2", Price: "span.price", Vendor: "span.vendor",
			URL: "a.title @href", NextPage: "a.next @href",
			Detail: &precwatch.Extraction{Description: "div.desc"},
		},
	}
	site.Circuits = circuits
	c, err := New(site, e.store, keywordMatcher{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	rec, err := c.Run(b.Context())
	wall := time.Since(start)
	if err != nil || rec.Status != precwatch.RunOK {
		b.Fatalf("run: status %s, err %v, errors %q", rec.Status, err, rec.Errors)
	}
	return rec, wall
}
