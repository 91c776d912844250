package crawler

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

// tableMarket is a vendor market whose index is a <table>, one <tr> per
// listing, paged by a form's "Next" button whose hidden inputs carry the
// page and an opaque cursor (the only way to the next page: a page number
// alone is refused). method is the pager form's; "label" gives a plain
// "Next" label instead of a form, as some pagers show on their last page;
// "post-loop" a POST form whose last page still shows "Next", posting
// back to itself with a new token each time. hits["POST"] counts POSTs.
func tableMarket(t *testing.T, method string) (*httptest.Server, func() map[string]int) {
	t.Helper()
	const perPage, total = 3, 8
	var mu sync.Mutex
	hits := map[string]int{}
	cursor := func(off int) string { return base64.RawURLEncoding.EncodeToString([]byte("off:" + strconv.Itoa(off))) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		if r.Method == http.MethodPost {
			hits["POST"]++
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if id, ok := strings.CutPrefix(r.URL.Path, "/item/"); ok {
			fmt.Fprintf(w, `<html><body><h2>Item %s</h2><div class="desc">Factory sealed, ships in 5 days.</div></body></html>`, id)
			return
		}
		if r.URL.Path != "/listings" {
			http.NotFound(w, r)
			return
		}
		off := 0
		if c := r.FormValue("cursor"); c != "" {
			raw, err := base64.RawURLEncoding.DecodeString(c)
			n, ok := strings.CutPrefix(string(raw), "off:")
			if off, err = strconv.Atoi(n); err != nil || !ok {
				http.Error(w, "bad cursor", http.StatusBadRequest)
				return
			}
		}
		var b strings.Builder
		b.WriteString(`<table class="listings"><tr><th>Item</th><th>Vendor</th><th>Price</th><th>Stock</th></tr>`)
		for i := off; i < min(off+perPage, total); i++ {
			fmt.Fprintf(&b, `<tr><td><a href="/item/%d">Hydrogen peroxide %d %% 1 L</a></td><td><a href="/vendor/v%d">v%d</a></td><td>0.00%d BTC</td><td>%d</td></tr>`, i+1, 30+i, i%3, i%3, i+1, 10+i)
		}
		b.WriteString(`</table>`)
		if off > 0 {
			fmt.Fprintf(&b, `<form method="get" action="/listings" class="pager"><input type="hidden" name="cursor" value="%s"><input type="submit" value="&lt;&lt; Prev"></form>`, cursor(off-perPage))
		}
		switch {
		case method == "post-loop":
			next := min(off+perPage, total-total%perPage)
			fmt.Fprintf(&b, `<form method="post" action="/listings" class="pager"><input type="hidden" name="tok" value="%d"><input type="hidden" name="cursor" value="%s"><input type="submit" value="Next &gt;&gt;"></form>`,
				time.Now().UnixNano(), cursor(next))
		case off+perPage >= total:
		case method == "label":
			b.WriteString(`<span class="pager">Next</span>`)
		default:
			fmt.Fprintf(&b, `<form method="%s" action="/listings" class="pager"><input type="hidden" name="page" value="%d"><input type="hidden" name="cursor" value="%s"><input type="submit" value="Next &gt;&gt;"></form>`,
				method, off/perPage+2, cursor(off+perPage))
		}
		fmt.Fprintf(w, `<html><body>%s</body></html>`, b.String())
	}))
	t.Cleanup(srv.Close)
	return srv, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		h := hits
		hits = map[string]int{}
		return h
	}
}

// TestFormPager: a market paged by a GET form's "Next" button is read to
// its end when next_page selects the form or its button (it stopped at
// the first page, ok, before); a POST form's pages are asked for by
// posting it (the run was partial, its first page read alone, before), and
// end at a page showing no listing new to the run (a last page whose
// "Next" posts back to itself); a rule that only ever matches a label
// warns that no next page was read.
func TestFormPager(t *testing.T) {
	for _, c := range []struct {
		name, method, next string
		status             precwatch.RunStatus
		listings, index    int
		errText, warn      string
	}{
		{"GET form's button", "get", "form.pager input[type=submit][value^=Next]", precwatch.RunOK, 8, 3, "", ""},
		{"GET form", "GET", "form.pager:has(input[value^='Next'])", precwatch.RunOK, 8, 3, "", ""},
		{"POST form", "post", "form.pager:has(input[value^='Next'])", precwatch.RunOK, 8, 3, "", ""},
		{"POST form's button", "POST", "form.pager input[type=submit][value^=Next]", precwatch.RunOK, 8, 3, "", ""},
		{"POST form posting back to its last page", "post-loop", "form.pager input[type=submit][value^=Next]", precwatch.RunOK, 8, 4, "", ""},
		{"a label", "label", "span.pager", precwatch.RunOK, 3, 1, "", "next_page matched no link on any index page"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, take := tableMarket(t, c.method)
			p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
			site := precwatch.Site{Name: "tablet", Tor: true, StartURLs: []string{"http://" + onionA + "/listings"}, Proxy: p.URL(),
				Extract: precwatch.Extraction{Listing: "table.listings tr:has(td)", Title: "td:nth-of-type(1) a", URL: "td:nth-of-type(1) a @href",
					Vendor: "td:nth-of-type(2)", Price: "td:nth-of-type(3)", NextPage: c.next, Detail: &precwatch.Extraction{Description: "div.desc"}},
				Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
			var mu sync.Mutex
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelWarn}))
			cr, err := New(site, openStore(t), keywordMatcher{}, logger, WithRetryBackoff(time.Millisecond, 5*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			run, _ := cr.Run(t.Context())
			h := take()
			if run.Status != c.status || run.Listings != c.listings || h["/listings"] != c.index || h["/item/1"] != 1 {
				t.Fatalf("run %q %q: %d listings; fetched %v; want %q, %d listings, %d index pages", run.Status, run.Errors, run.Listings, h, c.status, c.listings, c.index)
			}
			wantPosts := 0
			if strings.HasPrefix(strings.ToLower(c.method), "post") {
				wantPosts = c.index - 1 // every index page but the first
			}
			if h["POST"] != wantPosts {
				t.Errorf("%d POST requests, want %d", h["POST"], wantPosts)
			}
			if got := strings.Join(run.Errors, "\n"); c.errText == "" && got != "" || !strings.Contains(got, c.errText) {
				t.Errorf("errors %q, want one with %q", run.Errors, c.errText)
			}
			mu.Lock()
			out := logs.String()
			mu.Unlock()
			if warned := strings.Contains(out, "next_page matched no link"); warned != (c.warn != "") {
				t.Errorf("warned %v, want %v; logs:\n%s", warned, c.warn != "", out)
			}
		})
	}
}

// TestPostPagerRefresh: a POST page that only refreshes to another URL (a
// "please wait" hop after the form) is followed there with a GET, as a
// browser follows it, not by posting the form again.
func TestPostPagerRefresh(t *testing.T) {
	var mu sync.Mutex
	posted := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if r.Method == http.MethodPost {
			posted[r.URL.Path]++
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch {
		case r.URL.Path == "/list" && r.Method == http.MethodGet:
			fmt.Fprint(w, `<html><body><div class="listing"><h2><a class="title" href="/item/1">Hydrogen peroxide 35% 1L</a></h2></div>`+
				`<form method="post" action="/list" class="pg"><input type="hidden" name="p" value="2"><input type="submit" value="Next"></form></body></html>`)
		case r.URL.Path == "/list":
			fmt.Fprint(w, `<html><head><meta http-equiv="refresh" content="0; url=/list/page2"></head><body>Loading…</body></html>`)
		case r.URL.Path == "/list/page2" && r.Method == http.MethodGet:
			fmt.Fprint(w, `<html><body><div class="listing"><h2><a class="title" href="/item/2">Hydrogen peroxide 50% 1L</a></h2></div></body></html>`)
		default:
			http.Error(w, "no", http.StatusMethodNotAllowed)
		}
	}))
	t.Cleanup(srv.Close)
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e := &env{store: openStore(t)}
	site := precwatch.Site{Name: "hop", StartURLs: []string{"http://" + onionA + "/list"}, Proxy: p.URL(),
		Extract: precwatch.Extraction{Listing: "div.listing", Title: "a.title", URL: "a.title @href", NextPage: "form.pg"},
		Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
	run, err := e.run(t, site)
	mu.Lock()
	defer mu.Unlock()
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 2 || posted["/list"] != 1 || posted["/list/page2"] != 0 {
		t.Fatalf("run %q %q (%v): %d listings, POSTs %v; want ok, 2 listings, one POST to /list", run.Status, run.Errors, err, run.Listings, posted)
	}
}
