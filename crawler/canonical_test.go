package crawler

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

// canonicalMarket is an OpenCart-like shop: its category page links one
// ad by its SEO URL and again by the shop script's product_id URL (with
// a tracking parameter precwatch does not know), and another through a
// /out/ hop that redirects to the ad. Each ad's page declares its
// canonical URL once declare is set (a shop that added the tag later);
// two pages declare a canonical that must not be taken: one off-site,
// one the category page.
func canonicalMarket(t *testing.T, declare *atomic.Bool, rows string) *httptest.Server {
	t.Helper()
	ad := func(w http.ResponseWriter, canon, title string) {
		head := ""
		if declare.Load() && canon != "" {
			head = `<link rel="canonical" href="` + canon + `">`
		}
		fmt.Fprintf(w, `<html><head><title>%[2]s</title>%[1]s</head><body><div class="product"><h1>%[2]s</h1>`+
			`<span class="seller">chemsupply</span><p class="desc">Sealed. Ships in 2 days.</p></div></body></html>`, head, title)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /category/acids", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<html><body><ul>%s</ul></body></html>`, rows)
	})
	mux.HandleFunc("GET /hydrogen-peroxide-35-5l", func(w http.ResponseWriter, r *http.Request) {
		ad(w, "/hydrogen-peroxide-35-5l", "Hydrogen peroxide 35%, 5 L")
	})
	mux.HandleFunc("GET /index.php", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("product_id") {
		case "55":
			ad(w, "http://"+onionA+"/hydrogen-peroxide-35-5l", "Hydrogen peroxide 35%, 5 L")
		case "56":
			ad(w, "https://peroxide-reviews.example/best", "Hydrogen peroxide 12%, 1 L") // off-site: ignored
		case "57":
			ad(w, "/category/acids", "Peroxide test strips") // the index page: ignored
		default:
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("GET /out/{n}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/hydrogen-peroxide-50-1l", http.StatusFound)
	})
	mux.HandleFunc("GET /hydrogen-peroxide-50-1l", func(w http.ResponseWriter, r *http.Request) {
		ad(w, "", "Hydrogen peroxide 50%, 1 L")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

const (
	rowSEO     = `<li class="p"><a href="/hydrogen-peroxide-35-5l">Hydrogen peroxide 35%, 5 L</a></li>`
	rowScript  = `<li class="p"><a href="/index.php?route=product/product&amp;product_id=55&amp;path=20&amp;src=catgrid">Hydrogen peroxide 35%, 5 L</a></li>`
	rowOffsite = `<li class="p"><a href="/index.php?route=product/product&amp;product_id=56">Hydrogen peroxide 12%, 1 L</a></li>`
	rowIndex   = `<li class="p"><a href="/index.php?route=product/product&amp;product_id=57">Peroxide test strips</a></li>`
	rowHop     = `<li class="p"><a href="/out/9f3a">Hydrogen peroxide 50%, 1 L</a></li>`
)

func canonicalSite(t *testing.T, srv *httptest.Server) precwatch.Site {
	t.Helper()
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return precwatch.Site{Name: "canon", StartURLs: []string{"http://" + onionA + "/category/acids"}, Proxy: p.URL(),
		Extract: precwatch.Extraction{Listing: "li.p", Title: "a", URL: "a @href",
			Detail: &precwatch.Extraction{Listing: "div.product", Vendor: ".seller", Description: ".desc"}},
		Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
}

func runCanonical(t *testing.T, site precwatch.Site, store precwatch.Store) (precwatch.Run, map[string]precwatch.Listing) {
	t.Helper()
	cr, err := New(site, store, keywordMatcher{}, nil, WithRetryBackoff(time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	run, err := cr.Run(t.Context())
	if err != nil || run.Status != precwatch.RunOK {
		t.Fatalf("run: %v %q %q", err, run.Status, run.Errors)
	}
	byID := map[string]precwatch.Listing{}
	if err := store.Listings(t.Context(), site.Name, func(st precwatch.ListingState) error {
		if !st.Gone {
			byID[st.Listing.Identity()] = st.Listing
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return run, byID
}

// TestCanonicalIdentity: an ad linked under its SEO URL and under the shop
// script's URL (product_id=55, with a tracking parameter precwatch does not
// know) is one listing when both pages declare the same canonical URL,
// with one alert; it was two listings, two alerts. A canonical off-site or
// naming the category page is not the ad's. An ad reached through a
// redirect keeps the URL it was read at, not the hop's.
func TestCanonicalIdentity(t *testing.T) {
	var declare atomic.Bool
	declare.Store(true)
	srv := canonicalMarket(t, &declare, rowSEO+rowScript+rowOffsite+rowIndex+rowHop)
	run, byID := runCanonical(t, canonicalSite(t, srv), openStore(t))
	base := "http://" + onionA
	want := map[string]string{
		"id:hydrogen-peroxide-35-5l": base + "/hydrogen-peroxide-35-5l",
		"id:56":                      base + "/index.php?product_id=56&route=product/product",
		"id:57":                      base + "/index.php?product_id=57&route=product/product",
		"id:hydrogen-peroxide-50-1l": base + "/hydrogen-peroxide-50-1l",
	}
	if len(byID) != len(want) {
		t.Errorf("listings %v, want %v", keys(byID), want)
	}
	for id, u := range want {
		if l, ok := byID[id]; !ok || l.URL != u || l.Vendor != "chemsupply" {
			t.Errorf("%s: %+v, want URL %s read on its page", id, l, u)
		}
	}
	if run.Alerts != 4 {
		t.Errorf("run raised %d alerts, want 4 (one per ad)", run.Alerts)
	}
}

// TestCanonicalUpgrade: a store crawled before the shop declared canonical
// URLs (or before precwatch read them) keeps its listings and raises
// nothing again: the ad stored under both URLs goes on, once its pages
// are read again, as the one under its canonical URL (the other is no
// longer seen), and an ad stored only
// under its script URL keeps that identity.
func TestCanonicalUpgrade(t *testing.T) {
	t.Run("stored under both URLs", func(t *testing.T) {
		var declare atomic.Bool
		srv := canonicalMarket(t, &declare, rowSEO+rowScript)
		site, store := canonicalSite(t, srv), openStore(t)
		run, byID := runCanonical(t, site, store)
		if len(byID) != 2 || run.Alerts != 2 {
			t.Fatalf("before: %v, %d alerts; want two listings, two alerts", keys(byID), run.Alerts)
		}
		declare.Store(true)
		site.Incremental.RefreshAfter = time.Nanosecond // the ads' pages due again (24h by default)
		run, byID = runCanonical(t, site, store)
		if run.NewListings != 0 || run.Alerts != 0 {
			t.Errorf("after: %d new listings, %d alerts; want none", run.NewListings, run.Alerts)
		}
		if _, ok := byID["id:hydrogen-peroxide-35-5l"]; !ok || len(byID) != 1 {
			t.Errorf("after: %v, want the canonical one alone seen", keys(byID))
		}
	})
	t.Run("stored under the script URL", func(t *testing.T) {
		var declare atomic.Bool
		srv := canonicalMarket(t, &declare, rowScript)
		site, store := canonicalSite(t, srv), openStore(t)
		if _, byID := runCanonical(t, site, store); len(byID) != 1 {
			t.Fatalf("before: %v", keys(byID))
		}
		declare.Store(true)
		for range 2 {
			run, byID := runCanonical(t, site, store)
			if run.NewListings != 0 || run.Alerts != 0 {
				t.Errorf("after: %d new listings, %d alerts; want none", run.NewListings, run.Alerts)
			}
			if _, ok := byID["id:55"]; !ok || len(byID) != 1 {
				t.Errorf("after: %v, want id:55 alone", keys(byID))
			}
		}
	})
}
