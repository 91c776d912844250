package crawler

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

// TestOffsetAPI: a shop whose page is an empty shell loads its listings
// from a JSON API paginated by offset (?limit=4&offset=N, Medusa's), with
// no next link and prices in cents. With `pages: ...offset={offset}` and
// `price_minor_units` the run asks for each page once (offset 0, 4, 8,
// then an empty one) and reads 54.00 EUR and ¥1200 as such; with {n} a
// new user had it ask offset=2, 3, 4, ... (one request per listing), and
// the prices were 5400 EUR.
func TestOffsetAPI(t *testing.T) {
	type product struct {
		ID     string `json:"id"`
		Title  string `json:"title"`
		Amount int    `json:"amount"`
		Cur    string `json:"currency_code"`
	}
	var products []product
	for i := range 10 {
		products = append(products, product{fmt.Sprintf("prod_%02d", i), fmt.Sprintf("Lab item %d", i), 1000 + i, "eur"})
	}
	products[3] = product{"prod_03", "Hydrogen peroxide 35%, 5 L", 5400, "eur"}
	products[9] = product{"prod_09", "Acetone 99.5%, 1 L", 1200, "jpy"}
	var mu sync.Mutex
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.RequestURI())
		mu.Unlock()
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		lim, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		end := min(off+lim, len(products))
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"products": products[min(off, end):end], "count": len(products), "offset": off, "limit": lim})
	}))
	t.Cleanup(srv.Close)
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e := &env{store: openStore(t)}
	site := precwatch.Site{Name: "offsetapi", StartURLs: []string{"http://" + onionA + "/store/products?limit=4&offset=0"}, Proxy: p.URL(),
		Extract: precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "products[]", ID: "id", Title: "title",
			Price: "amount", Currency: "currency_code", PriceMinorUnits: true, URL: "/products/{id}",
			Pages: "/store/products?limit=4&offset={offset}"},
		Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 10 {
		t.Fatalf("run: %v %s, %d listings, errors %q", err, run.Status, run.Listings, run.Errors)
	}
	want := []string{"/store/products?limit=4&offset=0", "/store/products?limit=4&offset=4", "/store/products?limit=4&offset=8", "/store/products?limit=4&offset=10"}
	mu.Lock()
	got := slices.Clone(asked)
	mu.Unlock()
	if !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
	ls := e.listings(t)
	if l := ls["prod_03"].Listing; l.Price != 54 || l.Currency != "EUR" {
		t.Errorf("prod_03: %v %s, want 54 EUR", l.Price, l.Currency)
	}
	if l := ls["prod_09"].Listing; l.Price != 1200 || l.Currency != "JPY" {
		t.Errorf("prod_09: %v %s, want 1200 JPY (no minor unit)", l.Price, l.Currency)
	}
}
