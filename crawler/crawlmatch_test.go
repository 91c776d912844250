package crawler

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/fixtures/eval"
	"github.com/precwatch/precwatch/internal/socksproxy"
	"github.com/precwatch/precwatch/matchers"
)

// recordingMatcher runs the real matcher and keeps what it found for each
// listing, by ID: the matches the crawl's pipeline stored.
type recordingMatcher struct {
	m  precwatch.Matcher
	mu sync.Mutex
	by map[string][]precwatch.Match
	ls map[string]precwatch.Listing
}

func (r *recordingMatcher) Match(l precwatch.Listing) []precwatch.Match {
	ms := r.m.Match(l)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.by[l.ID], r.ls[l.ID] = ms, l
	return ms
}

// matchFacts is what must not depend on whether a text was crawled or
// given to `precwatch match`: each substance found, with the strengths
// stated for it and whether they are over the limit, in order.
func matchFacts(ms []precwatch.Match) string {
	var out []string
	for _, m := range ms {
		conc, over := "-", "-"
		if m.ConcentrationPercent != nil {
			conc = strconv.FormatFloat(*m.ConcentrationPercent, 'f', -1, 64)
		}
		if m.OverLimit != nil {
			over = strconv.FormatBool(*m.OverLimit)
		}
		out = append(out, m.Substance+"@"+m.Field+" "+conc+"% over="+over)
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

// TestCrawlMatchesLikeMatch crawls every labelled eval listing (the main
// set and the held-out batches) from a market served on loopback, title on
// the index row and description under it, and checks that each crawled
// listing yields the same substances and strengths as its text given
// straight to the matcher, as `precwatch match` does: extraction must not
// change what the seller wrote in a way the matcher reads (letter-spaced
// names, line-separated pieces).
func TestCrawlMatchesLikeMatch(t *testing.T) {
	cases, err := eval.Load()
	if err != nil {
		t.Fatal(err)
	}
	held, err := eval.LoadHoldout()
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, held...)
	wl, err := matchers.LoadWatchlist(filepath.Join("..", "configs", "watchlist.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	mt, err := matchers.Compile(wl)
	if err != nil {
		t.Fatal(err)
	}

	const perPage = 100
	pages := (len(cases) + perPage - 1) / perPage
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		p, _ := strconv.Atoi(r.URL.Query().Get("p"))
		var b strings.Builder
		b.WriteString("<!doctype html><html><head><meta charset=\"utf-8\"><title>Eval market</title></head><body>\n")
		for _, c := range cases[min(p*perPage, len(cases)):min((p+1)*perPage, len(cases))] {
			// The text goes into the page as a shop's template would put
			// it: escaped, whitespace and line breaks as written.
			fmt.Fprintf(&b, "<div class=\"listing\">\n  <span class=\"id\">%s</span>\n  <h2><a class=\"title\" href=\"/item/%s\">%s</a></h2>\n  <div class=\"desc\">%s</div>\n</div>\n",
				c.ID, c.ID, html.EscapeString(c.Title), html.EscapeString(c.Description))
		}
		if p+1 < pages {
			fmt.Fprintf(&b, "<a class=\"next\" href=\"/?p=%d\">next</a>\n", p+1)
		}
		b.WriteString("</body></html>")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, b.String())
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	proxy, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })

	site := precwatch.Site{
		Name: "evalmarket", Tor: true, Proxy: proxy.URL(),
		StartURLs: []string{"http://" + onionA + "/"},
		Extract: precwatch.Extraction{
			Listing: "div.listing", ID: "span.id", Title: "h2", Description: "div.desc",
			URL: "a.title @href", NextPage: "a.next @href",
		},
		Limits: precwatch.Limits{MaxPages: pages + 1, RequestTimeout: 10 * time.Second, RunTimeout: 2 * time.Minute},
	}
	rec := &recordingMatcher{m: mt, by: map[string][]precwatch.Match{}, ls: map[string]precwatch.Listing{}}
	c, err := New(site, openStore(t), rec, nil, WithRetryBackoff(time.Millisecond, 5*time.Millisecond), WithThrottleFloor(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Run(t.Context())
	if err != nil || run.Status != precwatch.RunOK {
		t.Fatalf("run: %v, status %q, errors %q", err, run.Status, run.Errors)
	}
	if run.Listings != len(cases) {
		t.Fatalf("crawled %d listings, want %d", run.Listings, len(cases))
	}
	spaced := 0
	for _, c := range cases {
		crawled, ok := rec.by[c.ID]
		if !ok {
			t.Errorf("%s: not crawled", c.ID)
			continue
		}
		// What `precwatch match` gets: the text as written, same context.
		direct := mt.Match(precwatch.Listing{Site: site.Name, ID: c.ID, Title: c.Title, Description: c.Description, Tor: true})
		if got, want := matchFacts(crawled), matchFacts(direct); got != want {
			l := rec.ls[c.ID]
			t.Errorf("%s (%s): crawled %q, match %q\ncrawled text: %q / %q\nwritten:      %q / %q",
				c.ID, c.Category, got, want, l.Title, l.Description, c.Title, c.Description)
		}
		if strings.Contains(c.Title+c.Description, "   ") {
			spaced++
		}
	}
	// The letter-spaced listings (three spaces between words) are among
	// those compared: the test would pass vacuously without them.
	if spaced == 0 {
		t.Error("no eval listing spaces its letters out; the test checks nothing it was written for")
	}
}
