package crawler

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
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
	e := &env{store: openStore(t)}
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e.proxy = p
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
