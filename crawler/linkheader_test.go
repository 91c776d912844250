package crawler

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

// TestLinkHeaderPages: an infinite-scroll shop that names its next page
// only in the HTTP Link header (offset and limit; no pager in the markup)
// is read to its end without a next_page rule, and again on a re-crawl
// whose pages all answer 304: the header is kept with the page's
// validators, since a 304 need not repeat it. Before, the run read the
// first page alone (2 of 6 listings).
func TestLinkHeaderPages(t *testing.T) {
	const total, limit = 6, 2
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/shop" {
			http.NotFound(w, r)
			return
		}
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		etag := fmt.Sprintf(`"o%d"`, off)
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified) // and no Link header
			return
		}
		if off+limit < total {
			w.Header().Add("Link", fmt.Sprintf(`</shop?offset=%d&limit=%d>; rel="next"`, off+limit, limit))
		}
		if off > 0 {
			w.Header().Add("Link", fmt.Sprintf(`</shop?offset=%d&limit=%d>; rel="prev"`, off-limit, limit))
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><body><ul class="grid">`)
		for i := off; i < off+limit && i < total; i++ {
			fmt.Fprintf(w, `<li class="tile"><a href="/p/%d" aria-label="Hydrogen peroxide %d %% 1 L"></a><span>€%d.90</span></li>`, 100+i, 30+i, 10+i)
		}
		fmt.Fprint(w, `</ul></body></html>`)
	}))
	t.Cleanup(srv.Close)
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{shop: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e := &env{store: openStore(t)}
	site := precwatch.Site{Name: "tiles", StartURLs: []string{"http://" + shop + "/shop"}, Proxy: p.URL(),
		Extract: precwatch.Extraction{Listing: "li.tile", Title: "a @aria-label", URL: "a @href", Price: "span"},
		Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
	for i, want := range []struct{ newListings, notModified int }{{total, 0}, {0, total / limit}} {
		run, err := e.run(t, site)
		if err != nil || run.Status != precwatch.RunOK || run.Listings != total || run.NewListings != want.newListings || run.NotModified != want.notModified {
			t.Fatalf("run %d: %q %q (%v): %d listings (%d new), %d not modified; want ok, %d (%d), %d",
				i+1, run.Status, run.Errors, err, run.Listings, run.NewListings, run.NotModified, total, want.newListings, want.notModified)
		}
	}
	for id, st := range e.listings(t) {
		if st.Gone {
			t.Errorf("listing %s marked gone", id)
		}
	}
}
