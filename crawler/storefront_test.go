package crawler

import (
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

// storefrontItem is one ad of storefrontMarket.
type storefrontItem struct {
	id           int
	vendor, slug string
	title        string
	links        []string // how the vendor's page links it: "direct", "cat:NAME", "301", "refresh"
}

var storefrontItems = []storefrontItem{
	{101, "alice", "nitric-acid-65", "Nitric acid 65%, 1 L", []string{"direct"}},
	{102, "alice", "hydrogen-peroxide-35", "Hydrogen peroxide 35%, 5 L", []string{"cat:acids", "cat:lab"}},
	{103, "alice", "sulphuric-acid-96", "Sulphuric acid 96%, 1 L", []string{"refresh"}},
	{201, "bob", "nitric-acid-65", "Nitric acid 65%, 5 L", []string{"direct"}},
	{202, "bob", "wash-bottle", "Wash bottle 500 ml", []string{"301"}},
}

// storefrontMarket is a vendor-storefront market: the only way to its ads
// is /vendors, then a vendor's page, then the ad's page. Ads are linked
// with "../", two vendors sell under one slug, one ad is linked from two
// categories (its page names its canonical URL), and some links go
// through a 301 with a relative Location or a page that only refreshes to
// the ad. It counts requests per path.
func storefrontMarket(t *testing.T) (*httptest.Server, func() map[string]int) {
	t.Helper()
	var mu sync.Mutex
	hits := map[string]int{}
	byID := map[string]storefrontItem{}
	for _, it := range storefrontItems {
		byID[fmt.Sprint(it.id)] = it
	}
	ad := func(w http.ResponseWriter, it storefrontItem) {
		fmt.Fprintf(w, `<html><head><title>%[4]s</title><link rel="canonical" href="/listing/%[1]d/%[2]s"></head><body>`+
			`<div class="product"><h1>%[4]s</h1><a class="seller" href="/vendor/%[3]s/">%[3]s</a>`+
			`<div class="desc">Sealed bottle. Ships EU-wide in 3 days.</div></div></body></html>`, it.id, it.slug, it.vendor, it.title)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		switch {
		case r.URL.Path == "/vendors":
			fmt.Fprint(w, `<html><body><ul><li><a class="vendor" href="vendor/alice/">alice</a></li><li><a class="vendor" href="vendor/bob/">bob</a></li></ul></body></html>`)
		case len(parts) == 2 && parts[0] == "vendor":
			var b strings.Builder
			for _, it := range storefrontItems {
				if it.vendor != parts[1] {
					continue
				}
				for _, how := range it.links {
					href := fmt.Sprintf("../../listing/%d/%s", it.id, it.slug)
					switch {
					case strings.HasPrefix(how, "cat:"):
						href = fmt.Sprintf("../../c/%s/%d", how[4:], it.id)
					case how == "301":
						href = fmt.Sprintf("../../go/%d", it.id)
					case how == "refresh":
						href = fmt.Sprintf("../../r/%d", it.id)
					}
					fmt.Fprintf(&b, `<li class="item"><a href="%s">%s</a> <span class="price">EUR 40.00</span></li>`, href, it.title)
				}
			}
			fmt.Fprintf(w, `<html><body><a href="../../vendors">All vendors</a><ul class="items">%s</ul></body></html>`, b.String())
		case len(parts) == 3 && parts[0] == "listing" && byID[parts[1]].slug == parts[2]:
			ad(w, byID[parts[1]])
		case len(parts) == 3 && parts[0] == "c" && byID[parts[2]].id != 0:
			ad(w, byID[parts[2]])
		case len(parts) == 2 && parts[0] == "go" && byID[parts[1]].id != 0:
			it := byID[parts[1]]
			w.Header().Set("Location", fmt.Sprintf("../listing/%d/%s", it.id, it.slug))
			w.WriteHeader(http.StatusMovedPermanently)
		case len(parts) == 2 && parts[0] == "r" && byID[parts[1]].id != 0:
			it := byID[parts[1]]
			fmt.Fprintf(w, `<html><head><meta http-equiv="refresh" content="0; url=/listing/%d/%s"><title>Redirecting</title></head><body>Redirecting…</body></html>`, it.id, it.slug)
		default:
			http.NotFound(w, r)
		}
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

// storefrontSite reads storefrontMarket as a new user would configure it:
// vendor pages found by a links rule, their rows read, each ad's page
// read for its seller and description.
func storefrontSite(t *testing.T, srv *httptest.Server) precwatch.Site {
	t.Helper()
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return precwatch.Site{Name: "storefront", Tor: true, StartURLs: []string{"http://" + onionA + "/vendors"}, Proxy: p.URL(),
		Extract: precwatch.Extraction{Links: []string{"a.vendor"}, Listing: "li.item", Title: "a", URL: "a @href", Price: "span.price",
			Detail: &precwatch.Extraction{Listing: "div.product", Vendor: "a.seller", Description: "div.desc"}},
		Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
}

// storefrontListings runs the site once and returns its listings by title.
func storefrontListings(t *testing.T, site precwatch.Site, store precwatch.Store) (precwatch.Run, map[string][]precwatch.Listing) {
	t.Helper()
	cr, err := New(site, store, keywordMatcher{}, nil, WithRetryBackoff(time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	run, err := cr.Run(t.Context())
	if err != nil || run.Status != precwatch.RunOK {
		t.Fatalf("run: %v %q %q", err, run.Status, run.Errors)
	}
	byTitle := map[string][]precwatch.Listing{}
	if err := store.Listings(t.Context(), site.Name, func(st precwatch.ListingState) error {
		byTitle[st.Listing.Title] = append(byTitle[st.Listing.Title], st.Listing)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return run, byTitle
}

// TestStorefrontSlugIDs: two vendors' ads under one slug
// ("/listing/101/nitric-acid-65", "/listing/201/nitric-acid-65") are two
// listings, identified by their numbers; the slug made them one before,
// the second vendor's ad lost with its alert.
func TestStorefrontSlugIDs(t *testing.T) {
	srv, _ := storefrontMarket(t)
	_, byTitle := storefrontListings(t, storefrontSite(t, srv), openStore(t))
	for title, want := range map[string][2]string{
		"Nitric acid 65%, 1 L": {"101", "alice"},
		"Nitric acid 65%, 5 L": {"201", "bob"},
	} {
		ls := byTitle[title]
		if len(ls) != 1 {
			t.Errorf("%q: %d listings, want 1; listings by title: %v", title, len(ls), keys(byTitle))
			continue
		}
		if ls[0].ID != want[0] || ls[0].Vendor != want[1] {
			t.Errorf("%q: id %q vendor %q, want %q %q", title, ls[0].ID, ls[0].Vendor, want[0], want[1])
		}
	}
}

// TestStorefrontRedirects: an ad reached through a 301 with a relative
// Location or through a page that only refreshes to it (meta refresh, 0 s)
// is read on its own page; the refresh page was taken for the ad's page
// before, its seller and description left empty.
func TestStorefrontRedirects(t *testing.T) {
	srv, take := storefrontMarket(t)
	store := openStore(t)
	site := storefrontSite(t, srv)
	_, byTitle := storefrontListings(t, site, store)
	h := take()
	for title, vendor := range map[string]string{"Sulphuric acid 96%, 1 L": "alice", "Wash bottle 500 ml": "bob"} {
		ls := byTitle[title]
		if len(ls) != 1 || ls[0].Vendor != vendor || !strings.Contains(ls[0].Description, "Sealed bottle") {
			t.Errorf("%q: %+v, want one listing read on its page (vendor %q, its description)", title, ls, vendor)
		}
	}
	if h["/r/103"] != 1 || h["/listing/103/sulphuric-acid-96"] != 1 || h["/go/202"] != 1 || h["/listing/202/wash-bottle"] != 1 {
		t.Errorf("requests %v: want each hop and each ad's page once", h)
	}
	// A re-crawl reads the vendor pages alone.
	run, _ := storefrontListings(t, site, store)
	if h := take(); h["/r/103"] != 0 || h["/listing/103/sulphuric-acid-96"] != 0 || run.DetailsSkipped == 0 {
		t.Errorf("re-crawl fetched %v (details skipped %d): want no ad page", h, run.DetailsSkipped)
	}
}

// TestStorefrontTwoCategories: an ad a vendor's page links from two
// categories ("/c/acids/102", "/c/lab/102", the same title) is one
// listing, its page read once; it was two, each with its alert.
func TestStorefrontTwoCategories(t *testing.T) {
	srv, take := storefrontMarket(t)
	_, byTitle := storefrontListings(t, storefrontSite(t, srv), openStore(t))
	ls := byTitle["Hydrogen peroxide 35%, 5 L"]
	if len(ls) != 1 || ls[0].ID != "102" || ls[0].Vendor != "alice" {
		t.Errorf("listings %+v, want one, id 102, alice's", ls)
	}
	if h := take(); h["/c/acids/102"]+h["/c/lab/102"] != 1 {
		t.Errorf("requests %v: want the ad's page read once", h)
	}
}
