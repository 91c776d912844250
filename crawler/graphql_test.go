package crawler

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// gqlQuery is the query the test site's config sends.
const gqlQuery = `query Listings($first: Int, $after: String) { listings(first: $first, after: $after) { edges { node { id title price } } pageInfo { endCursor hasNextPage } } }`

// graphqlMarket answers GraphQL queries by POST only, as Apollo Server with
// its CSRF guard or Hasura does: a GET is refused. Pages of two listings,
// Relay's pageInfo with endCursor set on the last page too. It records
// each request body.
func graphqlMarket(t *testing.T) (*httptest.Server, func() []string) {
	t.Helper()
	titles := []string{"Hydrogen peroxide 35%, 5 L", "Citric acid 1 kg", "Hydrogen peroxide 50%, 10 L", "Glass beakers, set of 5", "Hydrogen peroxide 30%, 1 L"}
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"errors":[{"message":"POST a JSON query"}]}`))
			return
		}
		var req struct {
			Query     string `json:"query"`
			Variables struct {
				First int    `json:"first"`
				After string `json:"after"`
			} `json:"variables"`
		}
		raw := make([]byte, 4096)
		n, _ := r.Body.Read(raw)
		mu.Lock()
		bodies = append(bodies, string(raw[:n]))
		mu.Unlock()
		if err := json.Unmarshal(raw[:n], &req); err != nil || req.Query != gqlQuery || req.Variables.First != 2 {
			// As GraphQL servers answer a query they cannot run: 200 OK.
			w.Write([]byte(`{"data":null,"errors":[{"message":"Cannot query field \"titel\" on type \"Listing\"."}]}`))
			return
		}
		from := 0
		if req.Variables.After != "" {
			from = int(req.Variables.After[len("cur"):][0] - '0')
		}
		end := min(from+req.Variables.First, len(titles))
		var edges []any
		for i := from; i < end; i++ {
			edges = append(edges, map[string]any{"node": map[string]any{"id": "G" + string(rune('1'+i)), "title": titles[i], "price": 10 + i}})
		}
		json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"listings": map[string]any{
			"edges": edges, "pageInfo": map[string]any{"endCursor": "cur" + string(rune('0'+end)), "hasNextPage": end < len(titles)}}}})
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), bodies...)
	}
}

// graphqlSite is graphqlMarket's site, as the README configures one,
// asking query.
func graphqlSite(e *env, query string) precwatch.Site {
	return precwatch.Site{
		Name: "gqlmarket", Tor: true, StartURLs: []string{"http://" + onionA + "/graphql"}, Proxy: e.proxy.URL(),
		Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second},
		Extract: precwatch.Extraction{
			Mode:    precwatch.ExtractJSON,
			GraphQL: &precwatch.GraphQL{Query: query, Variables: map[string]any{"first": 2}, Cursor: "after"},
			Listing: "data.listings.edges[].node", ID: "id", Title: "title", Price: "price",
			NextPage: "data.listings.pageInfo.endCursor",
		},
	}
}

// TestGraphQLMarket: a POST-only GraphQL API is crawled with the README's
// graphql rules through the site's proxy: each page asked once, by POST
// with the cursor of the page before, until hasNextPage is false.
func TestGraphQLMarket(t *testing.T) {
	srv, bodies := graphqlMarket(t)
	e := proxiedEnv(t, srv, nil)
	run, err := e.run(t, graphqlSite(e, gqlQuery))
	if err != nil || run.Status != precwatch.RunOK || run.Pages != 3 || run.Listings != 5 || run.Alerts != 3 {
		t.Fatalf("run: %v %q %q, %d pages, %d listings, %d alerts; want ok, 3, 5, 3", err, run.Status, run.Errors, run.Pages, run.Listings, run.Alerts)
	}
	got := bodies()
	want := []string{
		`{"query":` + jsonString(gqlQuery) + `,"variables":{"first":2}}`,
		`{"query":` + jsonString(gqlQuery) + `,"variables":{"after":"cur2","first":2}}`,
		`{"query":` + jsonString(gqlQuery) + `,"variables":{"after":"cur4","first":2}}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("request bodies:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if l := e.listings(t)["G3"].Listing; l.Title != "Hydrogen peroxide 50%, 10 L" || l.Price != 12 {
		t.Errorf("G3 = %+v", l)
	}
	if e.directs.Load() != 0 {
		t.Errorf("direct dials = %d", e.directs.Load())
	}
}

// TestGraphQLErrorsNamed: a query the API cannot run (answered 200 with
// errors and no data) ends the run partial, its error quoting the API's.
func TestGraphQLErrorsNamed(t *testing.T) {
	srv, _ := graphqlMarket(t)
	e := proxiedEnv(t, srv, nil)
	run, _ := e.run(t, graphqlSite(e, strings.Replace(gqlQuery, "title", "titel", 1)))
	want := `answered errors: "Cannot query field \"titel\" on type \"Listing\"."`
	if run.Status != precwatch.RunPartial || run.Listings != 0 || !strings.Contains(strings.Join(run.Errors, "\n"), want) {
		t.Errorf("run: %q %q, %d listings; want partial naming %s", run.Status, run.Errors, run.Listings, want)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestCutShortBodyRetried: a page whose connection ends before its body
// does (Content-Length 4000, 300 bytes sent) is fetched again, and read
// whole the second time; with no retries left the run's error says how
// far the body got.
func TestCutShortBodyRetried(t *testing.T) {
	page := `<html><body>` + strings.Repeat(`<div class="l"><span class="id">X</span><h2>Hydrogen peroxide 35%</h2></div>`, 1) + strings.Repeat("<!-- pad -->", 200) + `</body></html>`
	var hits atomic.Int32
	cut := atomic.Bool{}
	cut.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/html")
		if cut.Load() && hits.Load()%2 == 1 {
			w.Header().Set("Content-Length", "4000")
			w.WriteHeader(http.StatusOK)
			w.Write([]byte(page[:300]))
			w.(http.Flusher).Flush()
			// Hijack and close: the client sees the body end early.
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					conn.Close()
				}
			}
			return
		}
		w.Write([]byte(page))
	}))
	t.Cleanup(srv.Close)
	e := proxiedEnv(t, srv, nil)
	p := e.proxy
	site := precwatch.Site{Name: "cut", Tor: true, StartURLs: []string{"http://" + onionA + "/"}, Proxy: p.URL(),
		Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, Retries: 2},
		Extract: precwatch.Extraction{Listing: "div.l", ID: "span.id", Title: "h2"}}
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 1 || hits.Load() != 2 {
		t.Fatalf("run: %v %q %q, %d listings, %d requests to the shop; want ok, 1, 2", err, run.Status, run.Errors, run.Listings, hits.Load())
	}
	// Every answer cut: the run fails naming the cut.
	hits.Store(0)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Length", "4000")
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(page[:300]))
		w.(http.Flusher).Flush()
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
	})
	run, _ = e.run(t, site)
	if run.Status != precwatch.RunFailed || hits.Load() != 3 || !strings.Contains(strings.Join(run.Errors, "\n"), "body cut short after 300 bytes") {
		t.Errorf("run: %q %q after %d requests; want failed naming the cut after 3", run.Status, run.Errors, hits.Load())
	}
}

// TestRedirectToOtherHost: a pager that redirects to another host of the
// site is refused, the error saying what to do; with that host under
// hosts, its pages are read as the site's own and the run decides gone.
func TestRedirectToOtherHost(t *testing.T) {
	const other = "pwtestmarketeuaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.onion"
	mux := http.NewServeMux()
	mux.HandleFunc("/p1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<div class="l"><span class="id">A</span><h2>Hydrogen peroxide 35%</h2></div><a rel="next" href="/p2">next</a>`))
	})
	mux.HandleFunc("/p2", func(w http.ResponseWriter, r *http.Request) {
		if r.Host != other {
			http.Redirect(w, r, "http://"+other+"/p2", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<div class="l"><span class="id">B</span><h2>Citric acid 1 kg</h2></div>`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := proxiedEnv(t, srv, map[string]string{onionA: srv.Listener.Addr().String(), other: srv.Listener.Addr().String()})
	p := e.proxy
	site := precwatch.Site{Name: "two", Tor: true, StartURLs: []string{"http://" + onionA + "/p1"}, Proxy: p.URL(),
		Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second},
		Extract: precwatch.Extraction{Listing: "div.l", ID: "span.id", Title: "h2"}}
	run, _ := e.run(t, site)
	if run.Status != precwatch.RunPartial || run.Listings != 1 || !strings.Contains(strings.Join(run.Errors, "\n"), "list that host under the site's hosts") {
		t.Errorf("without hosts: %q %q, %d listings; want partial naming hosts", run.Status, run.Errors, run.Listings)
	}
	site.ExtraHosts = []string{other}
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 2 || run.GoneUndecided != "" {
		t.Errorf("with hosts: %v %q %q, %d listings, gone undecided %q; want ok, 2, decided", err, run.Status, run.Errors, run.Listings, run.GoneUndecided)
	}
	if e.directs.Load() != 0 {
		t.Errorf("direct dials = %d", e.directs.Load())
	}
}

// TestEmptyFieldWarned: a field rule that reads nothing on every listing
// (a vendor named only in the page's heading, which a rule inside the
// listing element cannot reach) is warned of; started at :root it reads
// the heading, and no warning is given.
func TestEmptyFieldWarned(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte(`<h1>NordChem</h1>` + strings.Repeat(`<div class="item"><a class="name" href="/l/ID">Acetone 5 L</a></div>`, 1) +
			`<div class="item"><a class="name" href="/l/2">Glass funnel</a></div><div class="item"><a class="name" href="/l/3">Beaker 1 L</a></div>`))
	}))
	t.Cleanup(srv.Close)
	e := proxiedEnv(t, srv, nil)
	for _, c := range []struct {
		vendor, want string
		warn         bool
	}{{"h1", "", true}, {":root h1", "NordChem", false}} {
		var mu sync.Mutex
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelWarn}))
		site := precwatch.Site{Name: "vendorpage", Tor: true, StartURLs: []string{"http://" + onionA + "/vendor/nordchem"}, Proxy: e.proxy.URL(),
			Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second},
			Extract: precwatch.Extraction{Listing: "div.item", Title: "a.name", URL: "a.name @href", Vendor: c.vendor}}
		st := openStore(t)
		cr, err := New(site, st, keywordMatcher{}, logger, WithDirectDialer(e.directDialer()))
		if err != nil {
			t.Fatal(err)
		}
		run, err := cr.Run(t.Context())
		if err != nil || run.Listings != 3 {
			t.Fatalf("%s: %v, %d listings", c.vendor, err, run.Listings)
		}
		mu.Lock()
		out := logs.String()
		mu.Unlock()
		if warned := strings.Contains(out, "rules matched nothing") && strings.Contains(out, `vendor (\"`+c.vendor+`\")`); warned != c.warn {
			t.Errorf("%s: warned %v, want %v; logs:\n%s", c.vendor, warned, c.warn, out)
		}
		st.Listings(t.Context(), "vendorpage", func(ls precwatch.ListingState) error {
			if ls.Listing.Vendor != c.want {
				t.Errorf("%s: %s has vendor %q, want %q", c.vendor, ls.Listing.ID, ls.Listing.Vendor, c.want)
			}
			return nil
		})
	}
}
