package crawler

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

// TestLoadMoreCatalogue: a shop whose first page shows 4 of its 10 cards
// and a "Load more" button with an opaque cursor, the rest coming from an
// endpoint that answers JSON (the cards as HTML, the next cursor, null at
// the end), is read whole: 10 listings, ok, the endpoint asked 2 times. It
// read the first page's 4 alone before (the endpoint's cursor was no URL,
// and its JSON answers were skipped).
func TestLoadMoreCatalogue(t *testing.T) {
	const per, total = 4, 10
	card := func(i int) string {
		return fmt.Sprintf(`<article class="tile" data-sku="%d"><a href="/product/%d"><h3>Hydrogen peroxide %d %%<br>1 L</h3></a></article>`, i, i, 30+i)
	}
	cursor := func(off int) string { return strconv.Itoa(off*7919) + "=" }
	var api atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/shop":
			var b strings.Builder
			for i := range per {
				b.WriteString(card(i))
			}
			fmt.Fprintf(w, `<html><body><section class="grid">%s</section><button class="load-more" data-cursor="%s">Load more</button></body></html>`, b.String(), cursor(per))
		case "/api/more":
			api.Add(1)
			off, err := strconv.Atoi(strings.TrimSuffix(r.URL.Query().Get("cursor"), "="))
			if err != nil || off%7919 != 0 {
				http.Error(w, `{"error":"bad cursor"}`, http.StatusBadRequest)
				return
			}
			off /= 7919
			var b strings.Builder
			end := min(off+per, total)
			for i := off; i < end; i++ {
				b.WriteString(card(i))
			}
			var next any
			if end < total {
				next = cursor(end)
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"html": b.String(), "next_cursor": next})
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
	site := precwatch.Site{Name: "loadmore", StartURLs: []string{"http://" + onionA + "/shop"}, Proxy: p.URL(),
		Extract: precwatch.Extraction{Listing: "article.tile", ID: "@data-sku", Title: "h3", URL: "a @href",
			LoadMore: &precwatch.LoadMore{URL: "/api/more?cursor={cursor}", Cursor: "button.load-more @data-cursor", HTML: "html", NextCursor: "next_cursor"}},
		Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != total || api.Load() != 2 {
		t.Fatalf("run %q %q (%v): %d listings, endpoint asked %d times; want ok, %d, 2", run.Status, run.Errors, err, run.Listings, api.Load(), total)
	}
	if l := e.listings(t)["9"].Listing; l.URL != "http://"+onionA+"/product/9" || l.Title != "Hydrogen peroxide 39 % 1 L" {
		t.Errorf("listing 9 = %+v", l)
	}
}
