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

			// An unchanged re-crawl (issue 8) reads the index again but no
			// detail page, and raises nothing.
			before := m.Requests(site.Name)
			again, err := e.run(t, site)
			if err != nil || again.Status != precwatch.RunOK {
				t.Fatalf("re-crawl: %v, status %q, errors %q", err, again.Status, again.Errors)
			}
			t.Logf("re-crawl: pages=%d listings=%d requests=%d (first %d) bytes=%d (first %d) not_modified=%d details_skipped=%d",
				again.Pages, again.Listings, again.Requests, run.Requests, again.Bytes, run.Bytes, again.NotModified, again.DetailsSkipped)
			if got := m.Requests(site.Name) - before; got != again.Requests {
				t.Errorf("re-crawl: market served %d requests, run counted %d", got, again.Requests)
			}
			if again.Listings != len(want) || again.Alerts != 0 || again.NewListings != 0 {
				t.Errorf("re-crawl: listings %d, alerts %d, new %d; want %d, 0, 0", again.Listings, again.Alerts, again.NewListings, len(want))
			}
			if site.Extract.Detail != nil {
				if again.DetailsSkipped != len(want) || again.Requests != run.Requests-len(want) {
					t.Errorf("re-crawl: %d details skipped, %d requests; want %d and %d (the first run's less one detail page per listing)",
						again.DetailsSkipped, again.Requests, len(want), run.Requests-len(want))
				}
			}
			for id, l := range e.listings(t) {
				if l.Gone || l.LastRunID != again.ID {
					t.Errorf("re-crawl: %s gone=%v, last run %s; want seen by %s", id, l.Gone, l.LastRunID, again.ID)
				}
			}
		})
	}
}
