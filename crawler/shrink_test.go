package crawler

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// TestShrinkMarksNothingGone: a captcha laid out in the market's own frame,
// with a "featured" box in the grid's markup and no pager, shows listings,
// so the built-in rules read it as an index page; the run ended ok with
// the 2 featured listings and marked the other 10 gone (relisted when the
// captcha passed). A complete run that sees far fewer listings than the
// last complete run now marks nothing gone and says why; the next one that
// sees as few confirms it and marks them gone.
func TestShrinkMarksNothingGone(t *testing.T) {
	forEachStore(t, testShrinkMarksNothingGone)
}

func testShrinkMarksNothingGone(t *testing.T, st precwatch.Store) {
	const (
		normal = iota
		captcha
		shrunk
	)
	var mode atomic.Int32
	card := func(b *strings.Builder, id int) {
		fmt.Fprintf(b, `<div class="item" data-id="%d"><h3><a href="/goods/%d">Hydrogen peroxide %d%% 1 L</a></h3></div>`, id, id, 30+id)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		var b strings.Builder
		switch m := mode.Load(); {
		case m == captcha:
			b.WriteString(`<h1>Market</h1><div class="cbox"><h2>Are you human?</h2><form method="post" action="/captcha"><img src="/captcha.png"><input name="captcha_code"><button>Verify</button></form></div><aside><h4>Featured</h4>`)
			card(&b, 1)
			card(&b, 2)
			b.WriteString(`</aside>`)
		case m == shrunk:
			card(&b, 1)
			card(&b, 2)
		default:
			var p int
			fmt.Sscanf(r.URL.Path, "/browse/%d", &p)
			for i := 1; i <= 4; i++ {
				card(&b, (p-1)*4+i)
			}
			if p < 3 {
				fmt.Fprintf(&b, `<a class="next" href="/browse/%d">Next</a>`, p+1)
			}
		}
		fmt.Fprintf(w, `<html><body>%s</body></html>`, b.String())
	}))
	t.Cleanup(srv.Close)
	e := &pagedEnv{env: env{store: st}}
	e.rp = startRecordingProxy(t, map[string]string{onionA: srv.Listener.Addr().String()})
	site := precwatch.Site{Name: "shrinking", StartURLs: []string{"http://" + onionA + "/browse/1"}, Proxy: e.rp.url(""),
		Extract: precwatch.Extraction{Listing: "div.item", ID: "@data-id", Title: "h3 a", URL: "h3 a @href", NextPage: "a.next"},
		Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second, Retries: -1}}
	okRun := func(wantListings int, undecided bool) {
		t.Helper()
		run, err := e.run(t, site)
		if err != nil || run.Status != precwatch.RunOK || run.Listings != wantListings || (run.GoneUndecided != "") != undecided {
			t.Fatalf("run: %v %q %q, %d listings, gone_undecided %q; want ok, %d listings, undecided %v",
				err, run.Status, run.Errors, run.Listings, run.GoneUndecided, wantListings, undecided)
		}
		if undecided && !strings.Contains(run.GoneUndecided, fmt.Sprintf("saw %d listing(s) where the last complete run", wantListings)) {
			t.Errorf("gone_undecided %q, want it to give the counts", run.GoneUndecided)
		}
	}
	gone := func() int {
		n := 0
		for _, st := range e.listings(t) {
			if st.Gone {
				n++
			}
		}
		return n
	}

	okRun(12, false)
	mode.Store(captcha)
	okRun(2, true)
	if n := gone(); n != 0 {
		t.Errorf("%d listings gone after the captcha run, want 0", n)
	}
	mode.Store(normal)
	okRun(12, false)
	if ev := e.historyEvents(t); ev[precwatch.EventRelisted] != 0 || ev[precwatch.EventRaised] != 12 {
		t.Errorf("alert events %v, want 12 raised, none relisted", ev)
	}
	// The market does shrink: the first run that sees it holds back, the
	// next one confirms it.
	mode.Store(shrunk)
	okRun(2, true)
	okRun(2, false)
	if n := gone(); n != 10 {
		t.Errorf("%d listings gone after the shrinking was confirmed, want 10", n)
	}
	ids := []string{}
	for id, st := range e.listings(t) {
		if !st.Gone {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"1", "2"}) {
		t.Errorf("listings not gone %q, want [1 2]", ids)
	}
}

// TestCaptchaBesideListings: a captcha shown to a share of requests in the
// market's own frame, beside a "featured" box of listing cards and with no
// pager, was read as the index page: the run ended ok without the pages
// after it, 3 of 12 listings short (marked gone). Such a page is now asked
// for once more on a fresh circuit. An index page that always carries a
// captcha form (a newsletter box) is read at its second fetch.
func TestCaptchaBesideListings(t *testing.T) {
	for _, tc := range []struct {
		name     string
		always   bool // page 3 always carries the captcha form, beside its own listings
		requests int  // for page 3
	}{
		{"once", false, 2},
		{"always", true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			hits := map[string]int{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				mu.Lock()
				hits[r.URL.Path]++
				n := hits[r.URL.Path]
				mu.Unlock()
				var p int
				fmt.Sscanf(r.URL.Path, "/browse/%d", &p)
				var b strings.Builder
				card := func(id int) {
					fmt.Fprintf(&b, `<div class="item" data-id="%d"><h3><a href="/goods/%d">Hydrogen peroxide %d%% 1 L</a></h3></div>`, id, id, 30+id)
				}
				switch {
				case p == 3 && tc.always:
					for i := 9; i <= 12; i++ {
						card(i)
					}
					b.WriteString(`<footer><form action="/subscribe" method="post"><input name="email"><img src="/captcha.png" alt="captcha"><input name="captcha"><button>Subscribe</button></form></footer>`)
				case p == 3 && n == 1:
					b.WriteString(`<h1>Market</h1><div class="cbox"><h2>Are you human?</h2><form method="post" action="/captcha"><img src="/captcha.png"><input name="captcha_code"><button>Verify</button></form></div><aside>`)
					card(1)
					card(2)
					b.WriteString(`</aside>`)
				default:
					for i := 1; i <= 4; i++ {
						card((p-1)*4 + i)
					}
					if p < 4 {
						fmt.Fprintf(&b, `<a class="next" href="/browse/%d">Next</a>`, p+1)
					}
				}
				fmt.Fprintf(w, `<html><body>%s</body></html>`, b.String())
			}))
			t.Cleanup(srv.Close)
			e := &pagedEnv{env: env{store: openStore(t)}}
			e.rp = startRecordingProxy(t, map[string]string{onionA: srv.Listener.Addr().String()})
			site := precwatch.Site{Name: "beside", StartURLs: []string{"http://" + onionA + "/browse/1"}, Proxy: e.rp.url(""),
				Extract: precwatch.Extraction{Listing: "div.item", ID: "@data-id", Title: "h3 a", URL: "h3 a @href", NextPage: "a.next"},
				Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
			run, err := e.run(t, site)
			want := 16
			if tc.always {
				want = 12 // page 3 has no pager
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil || run.Status != precwatch.RunOK || run.Listings != want || hits["/browse/3"] != tc.requests {
				t.Fatalf("run: %v %q %q, %d listings, page 3 fetched %d times; want ok, %d listings, %d fetches",
					err, run.Status, run.Errors, run.Listings, hits["/browse/3"], want, tc.requests)
			}
		})
	}
}
