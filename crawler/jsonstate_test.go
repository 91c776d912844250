package crawler

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
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

// stateShop is a client-rendered shop: its listings are only in each
// page's __NEXT_DATA__ JSON, paginated by ?offset=, with product pages
// rendered the same way.
func stateShop(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	type product struct {
		ID    string         `json:"id"`
		Slug  string         `json:"slug"`
		Name  string         `json:"name"`
		Price map[string]any `json:"price"`
	}
	products := []product{
		{"J1", "h2o2-35", "Hydrogen peroxide 35% 1L", map[string]any{"amount": 45, "currency": "EUR"}},
		{"J2", "acetone", "Acetone 99% 5L", map[string]any{"amount": 30, "currency": "EUR"}},
		{"J3", "h2o2-50", "Hydrogen peroxide 50% 1L", map[string]any{"amount": 60, "currency": "EUR"}},
	}
	write := func(w http.ResponseWriter, state any) {
		b, _ := json.Marshal(state)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><body><div id="__next"></div><script id="__NEXT_DATA__" type="application/json">%s</script></body></html>`, b)
	}
	var details atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /c/chem", func(w http.ResponseWriter, r *http.Request) {
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		end := min(off+2, len(products))
		var next any
		if end < len(products) {
			next = fmt.Sprintf("/c/chem?offset=%d", end)
		}
		write(w, map[string]any{"props": map[string]any{"pageProps": map[string]any{
			"products": products[off:end], "pagination": map[string]any{"next": next}}}})
	})
	mux.HandleFunc("GET /p/{slug}", func(w http.ResponseWriter, r *http.Request) {
		details.Add(1)
		write(w, map[string]any{"props": map[string]any{"pageProps": map[string]any{"product": map[string]any{
			"seller": map[string]any{"handle": "seller-" + r.PathValue("slug")}, "specs": []any{map[string]any{"text": "sealed, ships in 2 days"}}}}}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &details
}

// TestJSONStateShop: a shop whose listings are only in its pages' JSON
// state is crawled in mode json: every page by the state's pagination,
// each listing with its fields, details read from the product pages'
// state, and a second run reads the same listings and raises nothing.
func TestJSONStateShop(t *testing.T) {
	srv, details := stateShop(t)
	e := proxiedEnv(t, srv, nil)
	p := e.proxy
	site := precwatch.Site{
		Name: "stateshop", StartURLs: []string{"http://" + onionA + "/c/chem"}, Proxy: p.URL(),
		Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second},
		Extract: precwatch.Extraction{
			Mode: precwatch.ExtractJSON, Script: "script#__NEXT_DATA__",
			Listing: "props.pageProps.products[]", ID: "id", Title: "name", Price: "price.amount", Currency: "price.currency",
			URL: "/p/{slug}", NextPage: "props.pageProps.pagination.next",
			Detail: &precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "props.pageProps.product",
				Vendor: "seller.handle", Description: "specs[].text"},
		},
	}
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Pages != 5 || run.Listings != 3 || run.Alerts != 2 {
		t.Fatalf("run: %v %q %q, %d pages, %d listings, %d alerts; want ok, 5, 3, 2", err, run.Status, run.Errors, run.Pages, run.Listings, run.Alerts)
	}
	ls := e.listings(t)
	j3 := ls["J3"].Listing
	if j3.URL != "http://"+onionA+"/p/h2o2-50" || j3.Price != 60 || j3.Currency != "EUR" || j3.Vendor != "seller-h2o2-50" || j3.Description != "sealed, ships in 2 days" {
		t.Errorf("J3 = %+v", j3)
	}
	if len(ls) != 3 || details.Load() != 3 {
		t.Errorf("%d listings, %d detail pages; want 3, 3", len(ls), details.Load())
	}
	run, err = e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 3 || run.NewListings != 0 || run.Alerts != 0 || run.DetailsSkipped != 3 {
		t.Errorf("second run: %v %+v", err, run)
	}
	if e.directs.Load() != 0 {
		t.Errorf("direct dials = %d", e.directs.Load())
	}
}

// apiMarket is a market whose HTML is an empty shell: its listings come
// from a JSON:API endpoint, /api/listings, paged by an opaque cursor in
// meta.next, each listing with its own JSON at links.self. Answers are
// gzipped for a client that asks, with an ETag honoured by If-None-Match.
func apiMarket(t *testing.T) (*httptest.Server, *apiStats) {
	t.Helper()
	type item struct{ id, title, body, amount, cur string }
	items := []item{
		{"A1", "Hydrogen peroxide 35%, 5 L", "Hydrogen peroxide 35%, 5 L canister, sealed.", "42.00", "EUR"},
		{"A2", "Citric acid 1 kg", "Citric acid anhydrous, food grade, 1 kg.", "4.10", "EUR"},
		{"A3", "Hydrogen peroxide 50% technical, 10 L", "Hydrogen peroxide 50%, 10 L drum, tracked shipping.", "74.00", "USD"},
	}
	cursors := map[string]int{"": 0, "c2": 2}
	view := func(it item, full bool) map[string]any {
		body := it.body
		if !full {
			body = body[:12] + "…"
		}
		return map[string]any{"id": it.id, "type": "listing",
			"attributes": map[string]any{"title": it.title, "body": body, "price": map[string]any{"amount": it.amount, "currency": it.cur}},
			"links":      map[string]any{"self": "/api/listings/" + it.id}}
	}
	st := &apiStats{}
	send := func(w http.ResponseWriter, r *http.Request, v any) {
		b, _ := json.Marshal(v)
		sum := sha256.Sum256(b)
		etag := `"` + hex.EncodeToString(sum[:8]) + `"`
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			st.notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.api+json")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			st.gzipped.Add(1)
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write(b)
			zw.Close()
			return
		}
		w.Write(b)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><script defer src="/app.js"></script></head><body><div id="root"></div></body></html>`)
	})
	mux.HandleFunc("GET /api/listings", func(w http.ResponseWriter, r *http.Request) {
		from, ok := cursors[r.URL.Query().Get("cursor")]
		if !ok {
			http.Error(w, `{"errors":[{"status":"400"}]}`, http.StatusBadRequest)
			return
		}
		end := min(from+2, len(items))
		var page []any
		for _, it := range items[from:end] {
			page = append(page, view(it, false))
		}
		var next any
		if end < len(items) {
			next = "c2"
		}
		send(w, r, map[string]any{"data": map[string]any{"items": page}, "meta": map[string]any{"next": next}})
	})
	mux.HandleFunc("GET /api/listings/{id}", func(w http.ResponseWriter, r *http.Request) {
		st.details.Add(1)
		for _, it := range items {
			if it.id == r.PathValue("id") {
				send(w, r, map[string]any{"data": view(it, true)})
				return
			}
		}
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, st
}

// apiStats counts what apiMarket answered.
type apiStats struct{ details, notModified, gzipped atomic.Int32 }

// apiSite is the mode json config of apiMarket, as the README gives it.
func apiSite(proxy string) precwatch.Site {
	return precwatch.Site{
		Name: "apimarket", Tor: true, StartURLs: []string{"http://" + onionA + "/api/listings"}, Proxy: proxy,
		Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second},
		Extract: precwatch.Extraction{
			Mode: precwatch.ExtractJSON, Listing: "data.items[]", ID: "id", Title: "attributes.title",
			Price: "attributes.price.amount", Currency: "attributes.price.currency", Description: "attributes.body",
			URL: "links.self", NextPage: "/api/listings?cursor={meta.next}",
			Detail: &precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "data", Description: "attributes.body"},
		},
	}
}

// TestJSONAPIMarket: a market whose listings come from a JSON API (not a
// page's script) is crawled in mode json through its Tor proxy: the API's
// pages by the cursor template, gzipped JSON read, each listing's own JSON
// read as its detail, and a second run asks with If-None-Match and reads
// the 304 answers from the stored bodies.
func TestJSONAPIMarket(t *testing.T) {
	srv, st := apiMarket(t)
	e := proxiedEnv(t, srv, nil)
	p := e.proxy
	site := apiSite(p.URL())
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Pages != 5 || run.Listings != 3 || run.Alerts != 2 {
		t.Fatalf("run: %v %q %q, %d pages, %d listings, %d alerts; want ok, 5, 3, 2", err, run.Status, run.Errors, run.Pages, run.Listings, run.Alerts)
	}
	ls := e.listings(t)
	a3 := ls["A3"].Listing
	if a3.URL != "http://"+onionA+"/api/listings/A3" || a3.Price != 74 || a3.Currency != "USD" || a3.Description != "Hydrogen peroxide 50%, 10 L drum, tracked shipping." {
		t.Errorf("A3 = %+v", a3)
	}
	if len(ls) != 3 || st.details.Load() != 3 || st.gzipped.Load() != 5 {
		t.Errorf("%d listings, %d detail requests, %d gzipped answers; want 3, 3, 5", len(ls), st.details.Load(), st.gzipped.Load())
	}
	run, err = e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 3 || run.NewListings != 0 || run.Alerts != 0 || run.NotModified != 2 || st.notModified.Load() != 2 {
		t.Errorf("second run: %v %+v; server's 304s %d, want 2", err, run, st.notModified.Load())
	}
	if e.directs.Load() != 0 {
		t.Errorf("direct dials = %d", e.directs.Load())
	}
}

// A JSON API under rules that do not read JSON (mode selectors) is not
// read, and the failed run says why rather than "nothing fetched" alone.
func TestJSONAPIUnderSelectors(t *testing.T) {
	srv, _ := apiMarket(t)
	e := proxiedEnv(t, srv, nil)
	p := e.proxy
	site := apiSite(p.URL())
	site.Extract = precwatch.Extraction{Listing: "div.listing", Title: "h2"}
	run, err := e.run(t, site)
	want := `/api/listings not read: its Content-Type "application/vnd.api+json" is neither HTML nor, for extract mode json, JSON`
	if err == nil || !strings.Contains(err.Error(), want) || run.Status != precwatch.RunFailed || len(run.Errors) != 1 || !strings.Contains(run.Errors[0], want) {
		t.Errorf("run: %v, %q %q; want failed naming %q", err, run.Status, run.Errors, want)
	}
}

// TestJSONAPIMislabelled: a market API that sends its JSON under another
// Content-Type (a PHP endpoint that never set one sends PHP's default
// text/html; others text/plain, a script type or none) is read in mode
// json all the same; it was parsed as an HTML page, no listing read, the
// run partial. Pages go on by the JSON's own next link.
func TestJSONAPIMislabelled(t *testing.T) {
	for _, ct := range []string{"text/html; charset=UTF-8", "text/plain", "application/javascript", ""} {
		t.Run(ct, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				page, _ := strconv.Atoi(r.URL.Query().Get("page"))
				items := []any{map[string]any{"id": fmt.Sprintf("P%d", page), "name": fmt.Sprintf("Hydrogen peroxide 35%% lot %d", page), "price": "54.00 EUR"}}
				var next any
				if page < 3 {
					next = fmt.Sprintf("api.php?page=%d", page+1)
				}
				b, _ := json.Marshal(map[string]any{"ok": true, "items": items, "next": next})
				w.Header()["Content-Type"] = nil // no sniffing by net/http
				if ct != "" {
					w.Header().Set("Content-Type", ct)
				}
				w.Write(append([]byte("\n  "), b...))
			}))
			t.Cleanup(srv.Close)
			p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
			e := &env{store: openStore(t)}
			site := precwatch.Site{Name: "phpapi", StartURLs: []string{"http://" + onionA + "/legacy/api.php?page=1"}, Proxy: p.URL(),
				Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second},
				Extract: precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "items[]", ID: "id", Title: "name", Price: "price", NextPage: "next"}}
			run, err := e.run(t, site)
			if err != nil || run.Status != precwatch.RunOK || run.Pages != 3 || run.Listings != 3 || run.Alerts != 3 {
				t.Fatalf("run: %v %q %q, %d pages, %d listings, %d alerts; want ok, 3 each", err, run.Status, run.Errors, run.Pages, run.Listings, run.Alerts)
			}
			if l := e.listings(t)["P2"].Listing; l.Price != 54 || l.Currency != "EUR" {
				t.Errorf("P2 = %+v", l)
			}
		})
	}
}
