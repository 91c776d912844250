package crawler

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
	"github.com/precwatch/precwatch/storage/redis/redistest"
)

// frameMarket is an exporter's catalogue whose product pages show the
// description in an <iframe>: F1's frame is on the market's host, F2's on
// another host, F3's page has no frame and its own description.
func frameMarket(t *testing.T) (*env, precwatch.Site, func(string) int) {
	t.Helper()
	var mu sync.Mutex
	hits := map[string]int{}
	page := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><html><body>"+body+"</body></html>")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /products", func(w http.ResponseWriter, r *http.Request) {
		var b string
		for _, id := range []string{"F1", "F2", "F3"} {
			b += fmt.Sprintf(`<li class="row"><h2><a class="t" href="/product/%[1]s.html">Industrial chemical %[1]s</a></h2><p class="snip">Min. order 20 t</p></li>`, id)
		}
		page(w, "<ul>"+b+"</ul>")
	})
	mux.HandleFunc("GET /product/F1.html", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<h1>Industrial chemical F1</h1><div class="seller">Huaxin Chemical</div><iframe src="/detail_frame.html?id=F1" width="100%"></iframe>`)
	})
	mux.HandleFunc("GET /product/F2.html", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<div class="seller">Other Chemical</div><iframe src="http://`+onionB+`.example/frame?id=F2"></iframe>`)
	})
	mux.HandleFunc("GET /product/F3.html", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<div class="seller">Third Chemical</div><div class="detail-content">Citric acid 99.5%, 25 kg bag</div>`)
	})
	mux.HandleFunc("GET /detail_frame.html", func(w http.ResponseWriter, r *http.Request) {
		page(w, `<div class="detail-content">Hydrogen peroxide 35%, 30 kg drum. Port: Qingdao.</div>`)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e := &env{store: openStore(t), proxy: p}
	site := precwatch.Site{
		Name: "exporter", Tor: true, StartURLs: []string{"http://" + onionA + "/products"}, Proxy: p.URL(),
		Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second},
		Extract: precwatch.Extraction{Listing: "li.row", Title: "a.t", URL: "a.t @href", Description: "p.snip",
			Detail: &precwatch.Extraction{Frame: "iframe", Description: "div.detail-content", Vendor: "div.seller"}},
	}
	return e, site, func(path string) int {
		mu.Lock()
		defer mu.Unlock()
		return hits[path]
	}
}

// TestCrawlDetailFrames: a detail rule's frame is fetched through the
// site's proxy when it is on the site's host, and the rules read there
// win over the page's; a frame on another host is never fetched; the
// listing's sources name the index, the page and the frame for the fields
// each gave; a re-crawl of unchanged rows fetches neither page nor frame.
func TestCrawlDetailFrames(t *testing.T) {
	e, site, hits := frameMarket(t)
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 3 || run.Pages != 5 {
		t.Fatalf("run: %v %q %q, %d listings, %d pages; want ok, 3, 5 (index, 3 products, 1 frame)", err, run.Status, run.Errors, run.Listings, run.Pages)
	}
	ls := e.listings(t)
	for id, want := range map[string][2]string{
		"F1": {"Hydrogen peroxide 35%, 30 kg drum. Port: Qingdao.", "Huaxin Chemical"},
		"F2": {"Min. order 20 t", "Other Chemical"},
		"F3": {"Citric acid 99.5%, 25 kg bag", "Third Chemical"},
	} {
		if got := ls[id].Listing; got.Description != want[0] || got.Vendor != want[1] {
			t.Errorf("%s: description %q, vendor %q; want %q, %q", id, got.Description, got.Vendor, want[0], want[1])
		}
	}
	if n := hits("/detail_frame.html"); n != 1 {
		t.Errorf("frame requests = %d, want 1", n)
	}
	// F1: the title from the index row, the vendor from the page, the
	// description from the frame; three fetches.
	src := ls["F1"].Listing.Sources
	var roles, fetches []string
	fields := map[string][]string{}
	for _, s := range src {
		roles = append(roles, s.Role)
		fetches = append(fetches, s.Fetch)
		fields[s.Role+":"+s.Fetch] = s.Fields
	}
	if !slices.Equal(roles, []string{precwatch.SourceIndex, precwatch.SourceDetail, precwatch.SourceDetail}) || len(slices.Compact(slices.Clone(fetches))) != 3 {
		t.Fatalf("F1 sources %+v, want index, page, frame", src)
	}
	if got := fields["detail:"+fetches[1]]; !slices.Equal(got, []string{"vendor"}) {
		t.Errorf("page source fields %q, want vendor", got)
	}
	if got := fields["detail:"+fetches[2]]; !slices.Equal(got, []string{"description"}) {
		t.Errorf("frame source fields %q, want description", got)
	}
	if !slices.Contains(fields["index:"+fetches[0]], "title") {
		t.Errorf("index source fields %q lack the title", fields["index:"+fetches[0]])
	}
	run, err = e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.DetailsSkipped != 3 || hits("/detail_frame.html") != 1 {
		t.Errorf("second run: %v %q, %d details skipped, %d frame requests; want ok, 3, 1", err, run.Status, run.DetailsSkipped, hits("/detail_frame.html"))
	}
	if e.directs.Load() != 0 {
		t.Errorf("direct dials = %d", e.directs.Load())
	}
}

// TestSharedFrontierDetailFrames: on a shared frontier (scale-out) a
// frame task keeps what the detail page read: the listing ends with the
// frame's description and the page's vendor, as in process.
func TestSharedFrontierDetailFrames(t *testing.T) {
	_, site, hits := frameMarket(t)
	c := sharedCrawler(t, redistest.Start(t)+"?prefix=frames", site, "one",
		WithRetryBackoff(time.Millisecond, 5*time.Millisecond))
	run, err := c.Run(t.Context())
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 3 || hits("/detail_frame.html") != 1 {
		t.Fatalf("run: %v %q %q, %d listings, %d frame requests; want ok, 3, 1", err, run.Status, run.Errors, run.Listings, hits("/detail_frame.html"))
	}
	var f1 precwatch.Listing
	if err := c.store.Listings(t.Context(), site.Name, func(st precwatch.ListingState) error {
		if st.Listing.ID == "F1" {
			f1 = st.Listing
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if f1.Description != "Hydrogen peroxide 35%, 30 kg drum. Port: Qingdao." || f1.Vendor != "Huaxin Chemical" || len(f1.Sources) != 3 {
		t.Errorf("F1 = %q, %q, %d sources; want the frame's description, the page's vendor, 3 sources", f1.Description, f1.Vendor, len(f1.Sources))
	}
}
