package crawler

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"

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
func BenchmarkPipeline(b *testing.B) {
	s := newBenchShop(b, 3840, 40)
	m := realMatcher(b)
	parse := parseCPU(b, s.pages)
	size := 0
	for _, p := range s.pages {
		size += len(p)
	}
	b.Logf("%d pages, %d KB each on average; bare parse %v CPU per page", len(s.pages), size/len(s.pages)>>10, parse)
	b.Run("parse", func(b *testing.B) {
		b.SetBytes(int64(size / len(s.pages)))
		for i := 0; b.Loop(); i++ {
			if _, err := html.Parse(bytes.NewReader(s.pages[i%len(s.pages)])); err != nil {
				b.Fatal(err)
			}
		}
	})
	stores := []struct {
		name string
		open func(b *testing.B) precwatch.Store
	}{
		{"embedded", func(b *testing.B) precwatch.Store {
			st, err := embedded.Open(b.Context(), filepath.Join(b.TempDir(), "store.db"), nil)
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
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
				var cpu, serverCPU, wall time.Duration
				pages := 0
				for range b.N {
					b.StopTimer()
					store := st.open(b)
					c, err := New(s.site(), store, m, nil)
					if err != nil {
						b.Fatal(err)
					}
					if recrawl {
						crawlOK(b, c)
					}
					b.StartTimer()
					s0 := redisCPU(b, store)
					c0, w0 := cpuTime(b), time.Now()
					rec := crawlOK(b, c)
					cpu, wall = cpu+cpuTime(b)-c0, wall+time.Since(w0)
					serverCPU += redisCPU(b, store) - s0
					pages += rec.Pages
					if rec.Listings != 3840 {
						b.Fatalf("%d listings recorded, want 3840", rec.Listings)
					}
					b.StopTimer()
					store.Close()
					b.StartTimer()
				}
				perPage := cpu / time.Duration(pages)
				b.ReportMetric(float64(perPage.Microseconds())/1000, "cpu_ms/page")
				b.ReportMetric(float64(parse.Microseconds())/1000, "parse_ms/page")
				b.ReportMetric(float64(perPage)/float64(parse), "x_parse")
				b.ReportMetric(float64(pages)/wall.Seconds(), "pages/s")
				if st.name == "redis" {
					b.ReportMetric(float64((serverCPU/time.Duration(pages)).Microseconds())/1000, "redis_cpu_ms/page")
				}
			})
		}
	}
}

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
