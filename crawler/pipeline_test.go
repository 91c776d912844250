package crawler

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

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
// alerts, while the run stops, ends failed (its writes failed) and so
// marks nothing gone.
func TestEvidenceOfEveryAlert(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) {
		s := newBenchShop(t, 200, 40) // 5 pages
		m := realMatcher(t)
		c, err := New(s.site(), failingPages{Store: st, suffixes: []string{"/page/3"}}, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		rec, _ := c.Run(t.Context())
		// Pages 1 and 2 were written; the failed write of page 3 stops
		// the run, though a page fetched beside it may have been written
		// first (pages are fetched in parallel): whole pages of 40
		// listings, never page 3's.
		if rec.Status != precwatch.RunFailed || rec.Listings < 80 || rec.Listings > 160 || rec.Listings%40 != 0 {
			t.Fatalf("run: status %s, %d listings, errors %q; want failed, 80 to 160 in whole pages", rec.Status, rec.Listings, rec.Errors)
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
			if id := l.Listing.ID; id >= "P00080" && id < "P00120" {
				t.Errorf("listing %s of the page whose write failed stored", id)
			}
			if l.Gone {
				t.Errorf("listing %s gone after a failed run", l.Listing.ID)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n != rec.Listings {
			t.Errorf("%d listings stored, the run recorded %d", n, rec.Listings)
		}
	})
}

// TestGoneInterleavedRuns: run A starts first and finishes last; run B,
// started after A, saw every listing. A (which did not see A2) marks
// nothing gone, and the next run raises no relisted event. Before issue 9,
// A marked every listing whose last run was not A gone.
func TestGoneInterleavedRuns(t *testing.T) {
	e := newEnv(t)
	site := e.torSite("/")
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func(start time.Time) Option {
		var mu sync.Mutex
		now := start
		return WithClock(func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			now = now.Add(time.Millisecond)
			return now
		})
	}
	// B's sightings are stamped a minute after A's start.
	if run, err := e.run(t, site, clock(t0.Add(time.Minute))); err != nil || run.Status != precwatch.RunOK {
		t.Fatalf("run B: %v %s %q", err, run.Status, run.Errors)
	}
	e.m.mu.Lock()
	e.m.hidden["A2"] = true
	e.m.mu.Unlock()
	runA, err := e.run(t, site, clock(t0))
	if err != nil || runA.Status != precwatch.RunOK {
		t.Fatalf("run A: %v %s %q", err, runA.Status, runA.Errors)
	}
	for id, st := range e.listings(t) {
		if st.Gone {
			t.Errorf("%s gone after run A, though run B saw it after A started", id)
		}
	}
	e.m.mu.Lock()
	delete(e.m.hidden, "A2")
	e.m.mu.Unlock()
	if run, err := e.run(t, site, clock(t0.Add(2*time.Minute))); err != nil || run.Status != precwatch.RunOK {
		t.Fatalf("run C: %v %s %q", err, run.Status, run.Errors)
	}
	as, err := e.store.Alerts(t.Context(), precwatch.AlertFilter{})
	if err != nil || len(as) == 0 {
		t.Fatalf("alerts: %d, %v", len(as), err)
	}
	for _, a := range as {
		for _, ev := range a.History {
			if ev.Kind == precwatch.EventRelisted {
				t.Errorf("alert of %s relisted after interleaved runs", a.Listing.ID)
			}
		}
	}
}
