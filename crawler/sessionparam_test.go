package crawler

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

// TestPageSessionParam: a board whose threads are identified by their
// script URL (showthread.php?t=N) and whose every link carries a session
// token under a name precwatch does not know (sk=<32 hex>, new on every
// visit) keeps its listings from run to run: the token every row of the
// page shares is no part of a listing's identity. Each run made every
// listing new (and the last run's gone) before, raising their alerts again.
func TestPageSessionParam(t *testing.T) {
	var mu sync.Mutex
	token := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sk := token
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		var b strings.Builder
		for i := 1; i <= 4; i++ {
			fmt.Fprintf(&b, `<div class="listing"><h2><a class="title" href="/forum/showthread.php?t=%d&amp;sk=%s&amp;cat=lab-supplies-2024">Hydrogen peroxide %d%% 1L</a></h2></div>`, i, sk, 30+i)
		}
		fmt.Fprintf(w, `<html><body>%s</body></html>`, b.String())
	}))
	t.Cleanup(srv.Close)
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e := &env{store: openStore(t)}
	site := precwatch.Site{Name: "board", StartURLs: []string{"http://" + onionA + "/forum/"}, Proxy: p.URL(),
		Extract: precwatch.Extraction{Listing: "div.listing", Title: "a.title", URL: "a.title @href"},
		Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
	for i := range 3 {
		raw := make([]byte, 16)
		rand.Read(raw)
		mu.Lock()
		token = hex.EncodeToString(raw)
		mu.Unlock()
		run, err := e.run(t, site)
		if err != nil || run.Status != precwatch.RunOK || run.Listings != 4 {
			t.Fatalf("run %d: %q %q (%v), %d listings", i, run.Status, run.Errors, err, run.Listings)
		}
		want := 0
		if i == 0 {
			want = 4
		}
		if run.NewListings != want || run.Alerts != want {
			t.Errorf("run %d: %d new listings, %d alerts; want %d, %d", i, run.NewListings, run.Alerts, want, want)
		}
	}
	var ls []precwatch.ListingState
	if err := e.store.Listings(t.Context(), "", func(st precwatch.ListingState) error {
		ls = append(ls, st)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(ls) != 4 {
		t.Errorf("%d listings stored, want 4", len(ls))
	}
	for _, st := range ls {
		if strings.Contains(st.Listing.URL, "sk=") || !strings.Contains(st.Listing.URL, "cat=lab-supplies-2024") {
			t.Errorf("listing URL %q: want it without the session token, with the category", st.Listing.URL)
		}
	}
}
