package storetest

// Gone decided only by a complete run (issue 9): MarkGone of interleaved,
// partial and concurrent runs.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// okRun is a run of site that started at start and ended ok.
func okRun(site, id string, start time.Time) precwatch.Run {
	return precwatch.Run{ID: id, Site: site, Start: start, End: start.Add(time.Hour), Status: precwatch.RunOK}
}

// testGoneInterleaved: run A starts first and finishes last, run B starts
// after A and finishes first. A listing only B saw is not gone when A
// finishes, and seeing it again is no relisting.
func testGoneInterleaved(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	old := obs("silkvault", "OLD", 10, t0.Add(-time.Hour), "run-0", peroxide(30))
	both := obs("silkvault", "BOTH", 20, t0.Add(-time.Hour), "run-0", nitromethane())
	record(t, s, old)
	record(t, s, both)

	runA := okRun("silkvault", "run-A", t0)
	runB := okRun("silkvault", "run-B", t0.Add(time.Minute))
	seen := func(o precwatch.Observation, run precwatch.Run, after time.Duration) precwatch.Observation {
		o.RunID, o.At = run.ID, run.Start.Add(after)
		o.Listing.FetchedAt = o.At
		return o
	}
	record(t, s, seen(both, runA, 30*time.Second))
	record(t, s, seen(both, runB, time.Minute))
	onlyB := seen(obs("silkvault", "ONLYB", 30, t0, "", peroxide(40), sulphuric()), runB, 2*time.Minute)
	record(t, s, onlyB)

	// B finishes first: OLD, last seen before B started, is gone.
	n, err := s.MarkGone(ctx, runB)
	if err != nil || n != 1 {
		t.Fatalf("MarkGone(B) = %d, %v; want 1 (OLD), nil", n, err)
	}
	// A finishes last: it saw neither ONLYB nor BOTH's latest sighting, but
	// both were seen after A started.
	if n, err := s.MarkGone(ctx, runA); err != nil || n != 0 {
		t.Errorf("MarkGone(A) = %d, %v; want 0, nil", n, err)
	}
	for _, o := range []precwatch.Observation{onlyB, both} {
		if st := getListing(t, s, listingKey(o)); st.Gone {
			t.Errorf("%s gone after the earlier run A finished, though run B saw it after A started", o.Listing.ID)
		}
	}
	if st := getListing(t, s, listingKey(old)); !st.Gone {
		t.Errorf("OLD not gone after complete run B did not see it")
	}

	// The next run sees ONLYB and BOTH again: no relisted event.
	runC := okRun("silkvault", "run-C", t0.Add(time.Hour))
	for _, o := range []precwatch.Observation{onlyB, both} {
		if res := record(t, s, seen(o, runC, time.Second)); res.Changed {
			t.Errorf("%s seen again: %+v, want no change", o.Listing.ID, res)
		}
	}
	for _, a := range allAlerts(t, s, precwatch.AlertFilter{Site: "silkvault"}) {
		if a.Identity == old.Listing.Identity() {
			continue
		}
		if got := kinds(a); !slices.Equal(got, []string{precwatch.EventRaised}) {
			t.Errorf("alert of %s history = %v, want [raised]", a.Listing.ID, got)
		}
	}
	if n, err := s.MarkGone(ctx, runC); err != nil || n != 0 {
		t.Errorf("MarkGone(C) = %d, %v; want 0 (OLD already gone)", n, err)
	}
}

// testGoneIncompleteRun: runs that did not end ok, or stopped early, mark
// nothing and say why.
func testGoneIncompleteRun(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	l := obs("silkvault", "L1", 10, t0, "run-1", peroxide(30))
	record(t, s, l)
	later := t0.Add(time.Hour)
	runs := map[string]precwatch.Run{}
	for _, st := range precwatch.RunStatuses {
		if st != precwatch.RunOK {
			r := okRun("silkvault", "run-"+string(st), later)
			r.Status = st
			runs[string(st)] = r
		}
	}
	early := okRun("silkvault", "run-early", later)
	early.StoppedEarly = true
	runs["stopped early"] = early
	mirrored := okRun("silkvault", "run-mirror", later)
	mirrored.GoneUndecided = "pages came from mirror http://m.onion, not the primary http://p.onion"
	runs["read from a mirror"] = mirrored
	runs["no start"] = precwatch.Run{ID: "run-x", Site: "silkvault", Status: precwatch.RunOK}
	runs["no site"] = precwatch.Run{ID: "run-y", Start: later, Status: precwatch.RunOK}
	for name, r := range runs {
		n, err := s.MarkGone(ctx, r)
		if !errors.Is(err, precwatch.ErrInvalid) || n != 0 {
			t.Errorf("MarkGone(%s run) = %d, %v; want 0, ErrInvalid", name, n, err)
		}
	}
	if st := getListing(t, s, listingKey(l)); st.Gone {
		t.Errorf("listing gone after incomplete runs")
	}
	// Its site's other runs aside, a complete run of another site does not
	// touch it either.
	if n, err := s.MarkGone(ctx, okRun("agora2", "run-g", later)); err != nil || n != 0 {
		t.Errorf("MarkGone(other site) = %d, %v; want 0, nil", n, err)
	}
	if n, err := s.MarkGone(ctx, okRun("silkvault", "run-ok", later)); err != nil || n != 1 {
		t.Errorf("MarkGone(ok run) = %d, %v; want 1, nil", n, err)
	}
}

// testGoneRacingSightings: while a complete run's MarkGone runs, another
// client records sightings (made after the run started) of the listings it
// would mark: every one of them ends not gone.
func testGoneRacingSightings(t *testing.T, factory func() precwatch.Store) {
	const listings = 60
	a, b := client(t, factory), client(t, factory)
	ctx := context.Background()
	var all []precwatch.Observation
	for i := range listings {
		o := obs("silkvault", fmt.Sprintf("R%03d", i), 10, t0.Add(-time.Hour), "run-0", peroxide(30))
		all = append(all, o)
		record(t, a, o)
	}
	run := okRun("silkvault", "run-A", t0)
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, o := range all[listings/2:] {
			o.RunID, o.At = "run-B", t0.Add(time.Minute)
			if _, err := b.Record(ctx, o); err != nil {
				t.Errorf("record: %v", err)
			}
		}
	})
	n, err := a.MarkGone(ctx, run)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if n < listings/2 || n > listings {
		t.Errorf("MarkGone = %d, want between %d and %d", n, listings/2, listings)
	}
	for i, o := range all {
		st := getListing(t, a, listingKey(o))
		if want := i < listings/2; st.Gone != want {
			t.Errorf("%s gone = %v, want %v", o.Listing.ID, st.Gone, want)
		}
	}
}
