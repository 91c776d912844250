package crawler

import (
	"net/url"
	"slices"
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/fixtures"
)

// TestFixtureMarkets crawls the shared fake marketplaces (two Tor markets
// and a clear-web shop, all behind one SOCKS5 proxy) and checks that every
// fixture listing is recorded, with no direct connection made.
func TestFixtureMarkets(t *testing.T) {
	m, err := fixtures.Start(t.Context(), fixtures.Options{})
	if err != nil {
		t.Fatalf("fixtures.Start: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	for _, site := range m.Sites() {
		t.Run(site.Name, func(t *testing.T) {
			e := &env{m: nil, store: openStore(t)}
			run, err := e.run(t, site)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			t.Logf("run: status=%s pages=%d listings=%d new=%d alerts=%d errors=%q requests=%d",
				run.Status, run.Pages, run.Listings, run.NewListings, run.Alerts, run.Errors, m.Requests(site.Name))
			want := fixtures.MarketListings(site.Name)
			got := e.listings(t)
			if len(got) != len(want) {
				t.Errorf("recorded %d listings, fixtures hold %d", len(got), len(want))
			}
			for _, su := range site.StartURLs {
				u, _ := url.Parse(su)
				if !slices.Contains(m.ProxyNames(), u.Hostname()) {
					t.Errorf("proxy never asked for %q: names %q", u.Hostname(), m.ProxyNames())
				}
			}
			if run.Status != precwatch.RunOK {
				t.Errorf("status = %q, want ok", run.Status)
			}
			if e.directs.Load() != 0 {
				t.Errorf("direct dials = %d, want 0", e.directs.Load())
			}
		})
	}
}
