package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// testFetchStates: the validators of a URL are kept per site, replaced
// whole, shared between clients and kept across a reopen.
func testFetchStates(t *testing.T, factory func() precwatch.Store) {
	ctx := context.Background()
	s := factory()
	const u = "http://silkvault.onion/page/2"
	if _, err := s.FetchState(ctx, "silkvault", u); !errors.Is(err, precwatch.ErrNotFound) {
		t.Fatalf("FetchState of an unknown url: err = %v, want ErrNotFound", err)
	}
	for _, bad := range []precwatch.FetchState{{URL: u, SHA256: "x"}, {Site: "silkvault", SHA256: "x"}} {
		if err := s.SaveFetchState(ctx, bad); !errors.Is(err, precwatch.ErrInvalid) {
			t.Errorf("SaveFetchState(%+v): err = %v, want ErrInvalid", bad, err)
		}
	}
	first := precwatch.FetchState{
		Site: "silkvault", URL: u, ETag: `W/"abc"`, LastModified: "Sun, 01 Mar 2026 12:00:00 GMT",
		Links:  []string{`</c?page=3>; rel="next"`, `</c?page=1>; rel="prev"`},
		SHA256: sha([]byte("page 2")), FetchedAt: t0,
	}
	if err := s.SaveFetchState(ctx, first); err != nil {
		t.Fatalf("SaveFetchState: %v", err)
	}
	other := precwatch.FetchState{Site: "agora2", URL: u, ETag: `"other"`, SHA256: sha([]byte("other")), FetchedAt: t0}
	if err := s.SaveFetchState(ctx, other); err != nil {
		t.Fatalf("SaveFetchState: %v", err)
	}
	check := func(s precwatch.Store, site string, want precwatch.FetchState) {
		t.Helper()
		got, err := s.FetchState(ctx, site, u)
		if err != nil {
			t.Fatalf("FetchState(%s): %v", site, err)
		}
		if !got.FetchedAt.Equal(want.FetchedAt) {
			t.Errorf("FetchState(%s).FetchedAt = %v, want %v", site, got.FetchedAt, want.FetchedAt)
		}
		got.FetchedAt = want.FetchedAt
		if !reflect.DeepEqual(got, want) {
			t.Errorf("FetchState(%s) = %+v, want %+v", site, got, want)
		}
	}
	check(s, "silkvault", first)
	check(s, "agora2", other)

	// Replaced whole: validators the server stopped sending are dropped.
	second := precwatch.FetchState{Site: "silkvault", URL: u, ETag: `"def"`, SHA256: sha([]byte("page 2 v2")), FetchedAt: t0.Add(time.Hour)}
	if err := s.SaveFetchState(ctx, second); err != nil {
		t.Fatalf("SaveFetchState: %v", err)
	}
	check(s, "silkvault", second)
	check(client(t, factory), "silkvault", second)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	re := client(t, factory)
	check(re, "silkvault", second)
	check(re, "agora2", other)
}

// testIncrementalListingState: the index row hash and detail fetch time
// given with a sighting are kept with the listing, replaced by the next
// sighting (zero clears), untouched by a stale one; re-recording a stored
// listing unchanged, as an incremental run does for a listing it did not
// fetch again, raises nothing, adds no history and keeps it from gone.
func testIncrementalListingState(t *testing.T, factory func() precwatch.Store) {
	ctx := context.Background()
	s := client(t, factory)
	o := obs("silkvault", "L1", 45, t0, "run-1", peroxide(30))
	o.RowHash, o.DetailFetchedAt = "row-v1", t0
	res := record(t, s, o)
	if !res.NewListing || len(res.NewAlerts) != 1 {
		t.Fatalf("first sighting: %+v, want a new listing and one alert", res)
	}
	lkey := listingKey(o)
	st := getListing(t, s, lkey)
	if st.RowHash != "row-v1" || !st.DetailFetchedAt.Equal(t0) {
		t.Fatalf("stored row hash %q, detail fetched %v; want row-v1, %v", st.RowHash, st.DetailFetchedAt, t0)
	}
	other := obs("silkvault", "L2", 10, t0, "run-1", nitromethane())
	record(t, s, other)

	// Run 2 did not fetch L1 again: it records the stored listing, with the
	// row hash it saw and the stored detail time.
	again := precwatch.Observation{Listing: st.Listing, Matches: []precwatch.Match{peroxide(30)}, RunID: "run-2",
		At: t0.Add(time.Hour), RowHash: "row-v1", DetailFetchedAt: st.DetailFetchedAt}
	res = record(t, s, again)
	if res.NewListing || res.Changed || len(res.NewAlerts) != 0 || len(res.UpdatedAlerts) != 0 {
		t.Errorf("re-recording the stored listing: %+v, want nothing new, changed or updated", res)
	}
	a := getAlert(t, s, alertKey(o, "hydrogen-peroxide"))
	if got := kinds(a); len(got) != 1 || got[0] != precwatch.EventRaised {
		t.Errorf("alert history after re-recording = %v, want [raised]", got)
	}
	n, err := s.MarkGone(ctx, okRun("silkvault", "run-2", t0.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("MarkGone after run-2 marked %d, want 1 (L2 only)", n)
	}
	if st := getListing(t, s, lkey); st.Gone || st.LastRunID != "run-2" || st.RowHash != "row-v1" || !st.DetailFetchedAt.Equal(t0) {
		t.Errorf("L1 after run-2: gone=%v run=%s row=%q detail=%v; want kept, run-2, row-v1, %v",
			st.Gone, st.LastRunID, st.RowHash, st.DetailFetchedAt, t0)
	}
	if all := allAlerts(t, s, precwatch.AlertFilter{Site: "silkvault"}); len(all) != 2 {
		t.Errorf("alerts after run-2 = %d, want 2", len(all))
	}

	// A stale sighting (older than the last) changes nothing.
	stale := obs("silkvault", "L1", 45, t0.Add(30*time.Minute), "run-x", peroxide(30))
	stale.RowHash = "row-stale"
	record(t, s, stale)
	if st := getListing(t, s, lkey); st.RowHash != "row-v1" {
		t.Errorf("row hash after a stale sighting = %q, want row-v1", st.RowHash)
	}

	// A new row without a detail read (the detail fetch failed) clears the
	// detail time, so the next run fetches it.
	changed := obs("silkvault", "L1", 45, t0.Add(2*time.Hour), "run-3", peroxide(30))
	changed.RowHash = "row-v2"
	record(t, s, changed)
	if st := getListing(t, s, lkey); st.RowHash != "row-v2" || !st.DetailFetchedAt.IsZero() {
		t.Errorf("after a sighting without detail: row=%q detail=%v, want row-v2 and zero", st.RowHash, st.DetailFetchedAt)
	}
}

// testRunCounters: a run's incremental and throttling counters survive a
// save.
func testRunCounters(t *testing.T, factory func() precwatch.Store) {
	ctx := context.Background()
	s := client(t, factory)
	want := precwatch.Run{ID: "run-c", Site: "silkvault", Start: t0, End: t0.Add(time.Minute), Status: precwatch.RunOK,
		Pages: 7, Listings: 40, Requests: 9, Bytes: 123456, NotModified: 5, DetailsSkipped: 33, StoppedEarly: true,
		Throttled: 4, ThrottleWait: 12*time.Second + 345*time.Millisecond}
	if err := s.SaveRun(ctx, want); err != nil {
		t.Fatal(err)
	}
	runs, err := s.Runs(ctx, "silkvault", 0)
	if err != nil || len(runs) != 1 {
		t.Fatalf("Runs = %v, %v; want one run", runs, err)
	}
	if got := runs[0]; jsonOf(t, got) != jsonOf(t, want) {
		t.Errorf("run = %s, want %s", jsonOf(t, got), jsonOf(t, want))
	}
}
