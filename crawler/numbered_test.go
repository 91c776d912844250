package crawler

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

// TestNumberedPages crawls an infinite-scroll catalogue: the first page is
// HTML with a "Load more" button and no link, further pages come as HTML
// fragments from /ajax/more?page=N, repeating a few listings of earlier
// pages. With `pages` the run reads every page and stops after the last,
// whichever way the endpoint says there is no more: an empty answer, a
// 404, or the last page again.
func TestNumberedPages(t *testing.T) {
	for _, end := range []string{"empty", "404", "repeat"} {
		t.Run(end, func(t *testing.T) {
			pages := map[int][]int{1: {1, 2, 3, 4}, 2: {5, 6, 2, 7, 8}, 3: {9, 5, 10}}
			var mu sync.Mutex
			var asked []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				asked = append(asked, r.URL.RequestURI())
				mu.Unlock()
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				tiles := func(ids []int) string {
					var b strings.Builder
					for _, id := range ids {
						fmt.Fprintf(&b, `<div class="tile"><span class="id">L%d</span><h3>Acetone 99%% %d L</h3></div>`, id, id)
					}
					return b.String()
				}
				switch r.URL.Path {
				case "/catalog/":
					fmt.Fprintf(w, `<!doctype html><html><body><div id="grid">%s</div><button class="load-more" data-next-page="2">Load more</button>`+
						`<script>fetch("/ajax/more?page="+page+"&sort="+sort)</script></body></html>`, tiles(pages[1]))
				case "/ajax/more":
					n, _ := strconv.Atoi(r.URL.Query().Get("page"))
					if r.URL.Query().Get("sort") != "new" {
						http.Error(w, "bad sort", http.StatusBadRequest)
						return
					}
					ids, ok := pages[n]
					switch {
					case ok && n > 1:
						fmt.Fprint(w, tiles(ids)) // a fragment: no html, no body
					case end == "404":
						http.NotFound(w, r)
					case end == "repeat":
						fmt.Fprint(w, tiles(pages[3]))
					}
				default:
					http.NotFound(w, r)
				}
			}))
			t.Cleanup(srv.Close)
			p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
			e := &env{store: openStore(t)}
			site := precwatch.Site{Name: "scroll", StartURLs: []string{"http://" + onionA + "/catalog/"}, Proxy: p.URL(),
				Extract: precwatch.Extraction{Listing: "div.tile", ID: "span.id", Title: "h3", Pages: "/ajax/more?page={n}&sort=new"},
				Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second, MaxPages: 50}}
			run, err := e.run(t, site)
			if err != nil || run.Status != precwatch.RunOK || len(run.Errors) != 0 {
				t.Fatalf("run: %v %q %q", err, run.Status, run.Errors)
			}
			want := []string{"/catalog/", "/ajax/more?page=2&sort=new", "/ajax/more?page=3&sort=new", "/ajax/more?page=4&sort=new"}
			mu.Lock()
			got := slices.Clone(asked)
			mu.Unlock()
			if !slices.Equal(got, want) {
				t.Errorf("requests %q, want %q", got, want)
			}
			ls := e.listings(t)
			if len(ls) != 10 || run.Listings != 10 || run.NewListings != 10 {
				t.Errorf("%d listings stored, run: %d listings, %d new; want 10 each", len(ls), run.Listings, run.NewListings)
			}
			for i := 1; i <= 10; i++ {
				if _, ok := ls[fmt.Sprintf("L%d", i)]; !ok {
					t.Errorf("listing L%d missing", i)
				}
			}
		})
	}
}
