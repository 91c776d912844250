package crawler

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
	"github.com/precwatch/precwatch/matchers"
)

// TestTitleLineBreak: a shop's two-line card title (the name, a <br>, the
// strength and pack size) reads as one line, as every view shows it, so
// the real matcher reads the strength with the name: hydrogen peroxide at
// 6 % raises nothing, at 35 % alerts over the limit. The 6 % card raised
// "no strength stated" before: the strength on another line than the
// name did not clear it.
func TestTitleLineBreak(t *testing.T) {
	wl, err := matchers.LoadWatchlist(filepath.Join("..", "configs", "watchlist.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	mt, err := matchers.Compile(wl)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><body>
<article class="tile" data-sku="1"><h3>Hydrogen peroxide<br><span class="spec">6 %</span> <b>1 L</b></h3></article>
<article class="tile" data-sku="2"><h3>Hydrogen peroxide<br><span class="spec">35 %</span> <b>5 L</b></h3></article>
</body></html>`)
	}))
	t.Cleanup(srv.Close)
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e := &env{store: openStore(t)}
	site := precwatch.Site{Name: "tiles", StartURLs: []string{"http://" + onionA + "/shop"}, Proxy: p.URL(),
		Extract: precwatch.Extraction{Listing: "article.tile", ID: "@data-sku", Title: "h3"},
		Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
	c, err := New(site, e.store, mt, nil, WithDirectDialer(e.directDialer()))
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Run(t.Context())
	if err != nil || run.Listings != 2 || run.Alerts != 1 {
		t.Fatalf("run %q %q (%v): %d listings, %d alerts; want 2 listings, 1 alert (35 %% only)", run.Status, run.Errors, err, run.Listings, run.Alerts)
	}
	for id, st := range e.listings(t) {
		if strings.Contains(st.Listing.Title, "\n") {
			t.Errorf("listing %s title %q: want one line", id, st.Listing.Title)
		}
	}
}
