package crawler

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/storetest"
)

// failingPages is a real store whose RecordPage fails for pages whose URL
// ends in one of the given suffixes, as a store refusing a write would.
type failingPages struct {
	precwatch.Store
	suffixes []string
}

var errInjected = errors.New("write refused (injected)")

func (f failingPages) RecordPage(ctx context.Context, p *precwatch.Page, obs []precwatch.Observation) ([]precwatch.RecordResult, error) {
	for _, s := range f.suffixes {
		if p != nil && strings.HasSuffix(p.URL, s) {
			return nil, errInjected
		}
	}
	return f.Store.RecordPage(ctx, p, obs)
}

// TestEvidenceOfEveryAlert: after a run every alert's evidence page is
// stored, and a page whose write fails leaves none of its listings or
// alerts, while the run ends partial and so marks nothing gone.
func TestEvidenceOfEveryAlert(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) {
		s := newBenchShop(t, 200, 40) // 5 pages
		m := realMatcher(t)
		c, err := New(s.site(), failingPages{Store: st, suffixes: []string{"/page/3"}}, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec, _ := c.Run(t.Context())
		if rec.Status != precwatch.RunPartial || rec.Listings != 160 {
			t.Fatalf("run: status %s, %d listings, errors %q; want partial, 160", rec.Status, rec.Listings, rec.Errors)
		}
		if !strings.Contains(strings.Join(rec.Errors, "\n"), errInjected.Error()) {
			t.Errorf("run errors %q do not name the failed page write", rec.Errors)
		}
		storetest.EvidenceOf(t, st)
		as, err := st.Alerts(t.Context(), precwatch.AlertFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(as) == 0 {
			t.Fatal("no alerts raised")
		}
		for _, a := range as {
			if id := a.Listing.ID; id >= "P00080" && id < "P00120" {
				t.Errorf("alert %s of listing %s of the page whose write failed", a.Key, id)
			}
		}
		n := 0
		if err := st.Listings(t.Context(), "shop", func(l precwatch.ListingState) error {
			n++
			if l.Gone {
				t.Errorf("listing %s gone after a partial run", l.Listing.ID)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n != 160 {
			t.Errorf("%d listings stored, want 160", n)
		}
	})
}
