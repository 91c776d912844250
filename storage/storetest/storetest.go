// Package storetest is the conformance suite of precwatch.Store: every
// backend runs it, so that behaviour does not depend on the backend
// configured. It also holds the synthetic data the backends' benchmarks use.
package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// Run runs the suite. open prepares a fresh, empty backend for one test and
// returns a factory of clients on that same backend: the suite opens several
// clients at once (as several processes would) and reopens one after Close
// to check persistence. Clients it opens are closed by the suite.
func Run(t *testing.T, open func(t *testing.T) func() precwatch.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, factory func() precwatch.Store)
	}{
		{"RecordNewListing", testRecordNewListing},
		{"RecordIdempotent", testRecordIdempotent},
		{"MaterialChange", testMaterialChange},
		{"NonMaterialChange", testNonMaterialChange},
		{"StaleObservation", testStaleObservation},
		{"SubstanceDropped", testSubstanceDropped},
		{"MarkGoneRelisted", testMarkGoneRelisted},
		{"AlertsOrderAndFilters", testAlertsOrderAndFilters},
		{"ScoreOrder", testScoreOrder},
		{"SeverityPolicyOrder", testSeverityPolicyOrder}, // issue 12, in severity.go
		{"NotFound", testNotFound},
		{"Invalid", testInvalid},
		{"SetAlertStatus", testSetAlertStatus},
		{"Runs", testRuns},
		{"Pages", testPages},
		{"Listings", testListings},
		{"Persistence", testPersistence},
		{"TwoClients", testTwoClients},
		{"Concurrency", testConcurrency},
		{"ContextCanceled", testContextCanceled},
		// Incremental re-crawls (issue 8), in fetchstate.go.
		{"FetchStates", testFetchStates},
		{"IncrementalListingState", testIncrementalListingState},
		{"RunCounters", testRunCounters},
		// Sessions (issue 8).
		{"SiteSessions", testSiteSessions},
		{"RunBlock", testRunBlock},
		{"RunMirrors", testRunMirrors}, // circuits and mirrors (issue 8)
		// Gone only by a complete run, no alert without its evidence
		// (issue 9), in gone.go and evidence.go.
		{"GoneInterleaved", testGoneInterleaved},
		{"GoneIncompleteRun", testGoneIncompleteRun},
		{"GoneRacingSightings", testGoneRacingSightings},
		{"RecordPage", testRecordPage},
		{"RecordPageModel", testRecordPageModel}, // in batchmodel.go
		{"NoAlertWithoutEvidence", testNoAlertWithoutEvidence},
		{"ListingStates", testListingStates},
		// Exact provenance (issue 11), in provenance.go.
		{"FetchRecords", testFetchRecords},
		{"SameBytesTwoSites", testSameBytesTwoSites},
		{"NoAlertWithoutFetch", testNoAlertWithoutFetch},
		{"DetailSources", testDetailSources},
		{"LegacyFetch", testLegacyFetch},
		// Scale-out (issue 9), in lease.go.
		{"Leases", testLeases},
		{"LeaseContention", testLeaseContention},
		{"Frontier", testFrontier},
		// Vendor profiles (issue 11), in vendor.go.
		{"VendorLinks", testVendorLinks},
		{"VendorChanges", testVendorChanges},
		{"VendorPages", testVendorPages},
		{"VendorCommon", testVendorCommon},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			factory := open(t)
			tc.fn(t, factory)
		})
	}
}

// client opens a client from factory, closed when the test ends.
func client(t *testing.T, factory func() precwatch.Store) precwatch.Store {
	t.Helper()
	s := factory()
	t.Cleanup(func() { _ = s.Close() })
	return s
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// Matches as a matcher would report them. Only names and regulatory
// thresholds: nothing else belongs in test data.
func peroxide(conc float64) precwatch.Match {
	return precwatch.Match{
		Substance: "hydrogen-peroxide", Name: "Hydrogen peroxide", Regime: precwatch.RegimeEUAnnexI,
		Severity: precwatch.SeverityHigh, Term: "hydrogen peroxide", Kind: "name", Field: "title",
		Start: 0, End: 17, Text: "Hydrogen peroxide",
		ConcentrationPercent: ptr(conc), LimitPercent: ptr(12.0), OverLimit: ptr(conc > 12),
	}
}

func nitromethane() precwatch.Match {
	return precwatch.Match{
		Substance: "nitromethane", Name: "Nitromethane", Regime: precwatch.RegimeEUAnnexI,
		Severity: precwatch.SeverityMedium, Term: "nitromethane", Kind: "name", Field: "description",
		Start: 10, End: 22, Text: "nitromethane", LimitPercent: ptr(30.0),
	}
}

func sulphuric() precwatch.Match {
	return precwatch.Match{
		Substance: "sulphuric-acid", Name: "Sulphuric acid", Regime: precwatch.RegimeEUAnnexII,
		Severity: precwatch.SeverityLow, Term: "sulphuric acid", Kind: "name", Field: "title", Text: "sulphuric acid",
	}
}

func thiodiglycol() precwatch.Match {
	return precwatch.Match{
		Substance: "thiodiglycol", Name: "Thiodiglycol", Regime: precwatch.RegimeCWC2,
		Severity: precwatch.SeverityCritical, Term: "111-48-8", Kind: "cas", Field: "description", Text: "111-48-8",
	}
}

// nitricUnder is stated under its limit: a match, but not alertable.
func nitricUnder() precwatch.Match {
	return precwatch.Match{
		Substance: "nitric-acid", Name: "Nitric acid", Regime: precwatch.RegimeEUAnnexI,
		Severity: precwatch.SeverityMedium, Term: "nitric acid", Kind: "name", Field: "title", Text: "nitric acid",
		ConcentrationPercent: ptr(2.0), LimitPercent: ptr(3.0), OverLimit: ptr(false),
	}
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// obs builds a sighting of listing id on site.
func obs(site, id string, price float64, at time.Time, run string, ms ...precwatch.Match) precwatch.Observation {
	l := precwatch.Listing{
		Site: site, ID: id, URL: "http://" + site + ".test/item/" + id,
		Title:       "Listing " + id,
		Description: "Purity as stated. 1 L bottle. Shipping worldwide.",
		Price:       price, Currency: "EUR", Vendor: "vendor-" + id,
		FetchedAt: at, PageSHA256: sha([]byte(site + id + at.String())), Tor: true,
	}
	return precwatch.Observation{Listing: l, Matches: ms, RunID: run, At: at}
}

func record(t *testing.T, s precwatch.Store, o precwatch.Observation) precwatch.RecordResult {
	t.Helper()
	res, err := s.Record(context.Background(), o)
	if err != nil {
		t.Fatalf("Record(%s %s): %v", o.Listing.Site, o.Listing.ID, err)
	}
	return res
}

func alertKey(o precwatch.Observation, substance string) string {
	return precwatch.AlertKey(o.Listing.Site, o.Listing.Identity(), substance)
}

func listingKey(o precwatch.Observation) string {
	return precwatch.ListingKey(o.Listing.Site, o.Listing.Identity())
}

func getAlert(t *testing.T, s precwatch.Store, key string) precwatch.Alert {
	t.Helper()
	a, err := s.Alert(context.Background(), key)
	if err != nil {
		t.Fatalf("Alert(%s): %v", key, err)
	}
	return a
}

func getListing(t *testing.T, s precwatch.Store, key string) precwatch.ListingState {
	t.Helper()
	st, err := s.Listing(context.Background(), key)
	if err != nil {
		t.Fatalf("Listing(%s): %v", key, err)
	}
	return st
}

func allAlerts(t *testing.T, s precwatch.Store, f precwatch.AlertFilter) []precwatch.Alert {
	t.Helper()
	as, err := s.Alerts(context.Background(), f)
	if err != nil {
		t.Fatalf("Alerts(%+v): %v", f, err)
	}
	return as
}

func keysOf(as []precwatch.Alert) []string {
	ks := make([]string, len(as))
	for i, a := range as {
		ks[i] = a.Key
	}
	return ks
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sorted(ss []string) []string {
	ss = slices.Clone(ss)
	slices.Sort(ss)
	return ss
}

func kinds(a precwatch.Alert) []string {
	var ks []string
	for _, e := range a.History {
		ks = append(ks, e.Kind)
	}
	return ks
}

func testRecordNewListing(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	// Two matches of the same substance make one alert with the higher
	// severity; the under-limit match and a no-severity match raise none.
	weak := peroxide(30)
	weak.Severity, weak.Field = precwatch.SeverityMedium, "description"
	none := sulphuric()
	none.Substance, none.Severity = "acetone", precwatch.SeverityNone
	o := obs("silkvault", "L1", 45, t0, "run-1", weak, peroxide(30), nitromethane(), nitricUnder(), none)
	res := record(t, s, o)
	if !res.NewListing || res.Changed {
		t.Errorf("Record = %+v, want NewListing and not Changed", res)
	}
	wantKeys := []string{alertKey(o, "hydrogen-peroxide"), alertKey(o, "nitromethane")}
	if got, want := sorted(res.NewAlerts), sorted(wantKeys); !slices.Equal(got, want) {
		t.Errorf("NewAlerts = %v, want %v", got, want)
	}
	if len(res.UpdatedAlerts) != 0 {
		t.Errorf("UpdatedAlerts = %v, want none", res.UpdatedAlerts)
	}
	a := getAlert(t, s, alertKey(o, "hydrogen-peroxide"))
	if got, want := a.Severity, precwatch.SeverityHigh; got != want {
		t.Errorf("severity = %v, want %v", got, want)
	}
	if got, want := len(a.Matches), 2; got != want {
		t.Errorf("%d matches, want %d", got, want)
	}
	if a.Status != precwatch.StatusNew || a.Site != "silkvault" || a.Substance != "hydrogen-peroxide" ||
		a.Regime != precwatch.RegimeEUAnnexI || a.Name != "Hydrogen peroxide" || a.Identity != "id:L1" {
		t.Errorf("alert = %+v", a)
	}
	if !a.CreatedAt.Equal(t0) || !a.UpdatedAt.Equal(t0) {
		t.Errorf("created %v updated %v, want %v", a.CreatedAt, a.UpdatedAt, t0)
	}
	if got, want := kinds(a), []string{precwatch.EventRaised}; !slices.Equal(got, want) {
		t.Errorf("history = %v, want %v", got, want)
	}
	if got, want := a.History[0].PageSHA256, o.Listing.PageSHA256; got != want {
		t.Errorf("raised page = %q, want %q", got, want)
	}
	if got, want := a.Listing.Title, o.Listing.Title; got != want {
		t.Errorf("snapshot title = %q, want %q", got, want)
	}
	for _, sub := range []string{"nitric-acid", "acetone"} {
		if _, err := s.Alert(context.Background(), alertKey(o, sub)); !errors.Is(err, precwatch.ErrNotFound) {
			t.Errorf("Alert(%s) error = %v, want ErrNotFound", sub, err)
		}
	}
	if got, want := len(allAlerts(t, s, precwatch.AlertFilter{})), 2; got != want {
		t.Errorf("%d alerts stored, want %d", got, want)
	}
	st := getListing(t, s, listingKey(o))
	if st.Key != listingKey(o) || st.LastRunID != "run-1" || st.Gone || !st.FirstSeen.Equal(t0) || !st.LastSeen.Equal(t0) {
		t.Errorf("listing state = %+v", st)
	}
	if got, want := st.Fingerprint, precwatch.Fingerprint(o.Listing); got != want {
		t.Errorf("fingerprint = %q, want %q", got, want)
	}
	if got, want := len(st.AlertKeys), 2; got != want {
		t.Errorf("%d alert keys, want %d", got, want)
	}
	if got, want := st.Material.Concentrations["hydrogen-peroxide"], "30%"; got != want {
		t.Errorf("material concentration = %q, want %q", got, want)
	}

	// A listing with only non-alertable matches is kept but raises nothing.
	o2 := obs("silkvault", "L2", 10, t0, "run-1", nitricUnder())
	res = record(t, s, o2)
	if !res.NewListing || len(res.NewAlerts) != 0 {
		t.Errorf("non-alertable Record = %+v, want new listing without alerts", res)
	}
	if got, want := len(allAlerts(t, s, precwatch.AlertFilter{})), 2; got != want {
		t.Errorf("%d alerts stored, want %d", got, want)
	}
}

func testRecordIdempotent(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	o := obs("silkvault", "L1", 45, t0, "run-1", peroxide(30), thiodiglycol())
	record(t, s, o)
	before := jsonOf(t, allAlerts(t, s, precwatch.AlertFilter{}))
	beforeListing := jsonOf(t, getListing(t, s, listingKey(o)))
	for i := range 3 {
		res := record(t, s, o)
		if res.NewListing || res.Changed || len(res.NewAlerts) != 0 || len(res.UpdatedAlerts) != 0 {
			t.Errorf("retry %d: Record = %+v, want nothing done", i, res)
		}
	}
	if got := jsonOf(t, allAlerts(t, s, precwatch.AlertFilter{})); got != before {
		t.Errorf("alerts changed by a retry:\n got %s\nwant %s", got, before)
	}
	if got := jsonOf(t, getListing(t, s, listingKey(o))); got != beforeListing {
		t.Errorf("listing changed by a retry:\n got %s\nwant %s", got, beforeListing)
	}

	// Seen again unchanged by a later run: still nothing raised, but the
	// listing knows when and by which run it was last seen.
	later := o
	later.At, later.RunID = t0.Add(time.Hour), "run-2"
	res := record(t, s, later)
	if res.NewListing || res.Changed || len(res.NewAlerts) != 0 || len(res.UpdatedAlerts) != 0 {
		t.Errorf("unchanged Record = %+v, want nothing done", res)
	}
	st := getListing(t, s, listingKey(o))
	if !st.LastSeen.Equal(later.At) || st.LastRunID != "run-2" || !st.FirstSeen.Equal(t0) {
		t.Errorf("listing state = %+v, want last seen %v by run-2", st, later.At)
	}
	if got := jsonOf(t, allAlerts(t, s, precwatch.AlertFilter{})); got != before {
		t.Errorf("alerts changed by an unchanged sighting:\n got %s\nwant %s", got, before)
	}
}

func hasChange(e precwatch.AlertEvent, c precwatch.Change) bool {
	return slices.Contains(e.Changes, c)
}

func testMaterialChange(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	o := obs("silkvault", "L1", 45, t0, "run-1", peroxide(30), nitromethane())
	record(t, s, o)
	kp, kn := alertKey(o, "hydrogen-peroxide"), alertKey(o, "nitromethane")

	// Price change: both alerts get it in their history, no new alert.
	t1 := t0.Add(time.Hour)
	o1 := obs("silkvault", "L1", 50, t1, "run-2", peroxide(30), nitromethane())
	res := record(t, s, o1)
	if res.NewListing || !res.Changed || len(res.NewAlerts) != 0 {
		t.Errorf("price change: Record = %+v, want Changed without new alerts", res)
	}
	if got, want := sorted(res.UpdatedAlerts), sorted([]string{kp, kn}); !slices.Equal(got, want) {
		t.Errorf("UpdatedAlerts = %v, want %v", got, want)
	}
	for _, k := range []string{kp, kn} {
		a := getAlert(t, s, k)
		if got, want := kinds(a), []string{precwatch.EventRaised, precwatch.EventChanged}; !slices.Equal(got, want) {
			t.Fatalf("alert %s history = %v, want %v", a.Substance, got, want)
		}
		ev := a.History[1]
		if !hasChange(ev, precwatch.Change{Field: "price", Old: "45", New: "50"}) || len(ev.Changes) != 1 {
			t.Errorf("alert %s change = %+v, want price 45 → 50 only", a.Substance, ev.Changes)
		}
		if !ev.At.Equal(t1) || ev.PageSHA256 != o1.Listing.PageSHA256 {
			t.Errorf("alert %s event at %v page %q, want %v %q", a.Substance, ev.At, ev.PageSHA256, t1, o1.Listing.PageSHA256)
		}
		if !a.CreatedAt.Equal(t0) || !a.UpdatedAt.Equal(t1) || a.Listing.Price != 50 {
			t.Errorf("alert %s created %v updated %v price %v", a.Substance, a.CreatedAt, a.UpdatedAt, a.Listing.Price)
		}
	}

	// Concentration change.
	t2 := t1.Add(time.Hour)
	o2 := obs("silkvault", "L1", 50, t2, "run-3", peroxide(35), nitromethane())
	o2.Listing.Title = "Listing L1 35%" // the stated strength is part of the content
	res = record(t, s, o2)
	if !res.Changed || len(res.NewAlerts) != 0 {
		t.Errorf("concentration change: Record = %+v", res)
	}
	a := getAlert(t, s, kp)
	if got, want := len(a.History), 3; got != want {
		t.Fatalf("history has %d events, want %d", got, want)
	}
	if c := (precwatch.Change{Field: "concentration:hydrogen-peroxide", Old: "30%", New: "35%"}); !hasChange(a.History[2], c) {
		t.Errorf("changes = %+v, want %+v", a.History[2].Changes, c)
	}
	if got, want := *a.Matches[0].ConcentrationPercent, 35.0; got != want {
		t.Errorf("snapshot concentration = %v, want %v", got, want)
	}
	if got, want := len(allAlerts(t, s, precwatch.AlertFilter{})), 2; got != want {
		t.Errorf("%d alerts, want %d", got, want)
	}
	st := getListing(t, s, listingKey(o))
	if got, want := st.Material.Price, "50"; got != want {
		t.Errorf("material price = %q, want %q", got, want)
	}
	if !st.FirstSeen.Equal(t0) || !st.LastSeen.Equal(t2) {
		t.Errorf("first %v last %v", st.FirstSeen, st.LastSeen)
	}
}

func testNonMaterialChange(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	o := obs("agora2", "X9", 120, t0, "run-1", peroxide(30))
	record(t, s, o)
	o1 := o
	o1.Listing.Description = "Purity as stated. 1 L botle. Shipping worldwide." // a typo, nothing material
	o1.At, o1.RunID = t0.Add(time.Minute), "run-2"
	res := record(t, s, o1)
	if res.NewListing || res.Changed || len(res.NewAlerts) != 0 {
		t.Errorf("Record = %+v, want no change and no alert", res)
	}
	a := getAlert(t, s, alertKey(o, "hydrogen-peroxide"))
	if got, want := kinds(a), []string{precwatch.EventRaised}; !slices.Equal(got, want) {
		t.Errorf("history = %v, want %v", got, want)
	}
	if got, want := a.Listing.Description, o1.Listing.Description; got != want {
		t.Errorf("snapshot description = %q, want %q", got, want)
	}
	st := getListing(t, s, listingKey(o))
	if got, want := st.Listing.Description, o1.Listing.Description; got != want {
		t.Errorf("listing description = %q, want %q", got, want)
	}
	if got, want := st.Fingerprint, precwatch.Fingerprint(o1.Listing); got != want {
		t.Errorf("fingerprint not updated")
	}
}

// testStaleObservation: a sighting older than the listing's last one (a
// delayed retry, a slow worker) is ignored, so the listing and its alerts
// do not flip back in time.
func testStaleObservation(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	o := obs("silkvault", "L1", 45, t0, "run-1", peroxide(30))
	record(t, s, o)
	later := obs("silkvault", "L1", 50, t0.Add(2*time.Hour), "run-3", peroxide(30))
	record(t, s, later)
	listing := jsonOf(t, getListing(t, s, listingKey(o)))
	alerts := jsonOf(t, allAlerts(t, s, precwatch.AlertFilter{}))
	for _, stale := range []precwatch.Observation{
		obs("silkvault", "L1", 45, t0.Add(time.Hour), "run-2", peroxide(30)), // the old price, seen in between
		obs("silkvault", "L1", 45, t0.Add(time.Hour), "run-2", peroxide(30), thiodiglycol()),
		o,
	} {
		res := record(t, s, stale)
		if res.NewListing || res.Changed || len(res.NewAlerts) != 0 || len(res.UpdatedAlerts) != 0 {
			t.Errorf("stale Record at %v = %+v, want nothing done", stale.At, res)
		}
	}
	if got := jsonOf(t, getListing(t, s, listingKey(o))); got != listing {
		t.Errorf("listing changed by a stale sighting:\n got %s\nwant %s", got, listing)
	}
	if got := jsonOf(t, allAlerts(t, s, precwatch.AlertFilter{})); got != alerts {
		t.Errorf("alerts changed by a stale sighting:\n got %s\nwant %s", got, alerts)
	}
}

// testSubstanceDropped: an alert whose substance no longer matches keeps its
// record and still gets the listing's change, which needs the backend to
// load the listing's previous alerts, not only those of the new matches.
func testSubstanceDropped(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	o := obs("silkvault", "L1", 45, t0, "run-1", peroxide(30), nitromethane())
	record(t, s, o)
	o1 := obs("silkvault", "L1", 60, t0.Add(time.Hour), "run-2", peroxide(30))
	res := record(t, s, o1)
	kn := alertKey(o, "nitromethane")
	if !slices.Contains(res.UpdatedAlerts, kn) {
		t.Errorf("UpdatedAlerts = %v, want it to hold the dropped substance's alert", res.UpdatedAlerts)
	}
	a := getAlert(t, s, kn)
	if got, want := kinds(a), []string{precwatch.EventRaised, precwatch.EventChanged}; !slices.Equal(got, want) {
		t.Errorf("dropped substance history = %v, want %v", got, want)
	}
	if got, want := a.Listing.Price, 60.0; got != want {
		t.Errorf("dropped substance snapshot price = %v, want %v", got, want)
	}
	if got, want := len(getListing(t, s, listingKey(o)).AlertKeys), 2; got != want {
		t.Errorf("listing has %d alert keys, want %d", got, want)
	}
}

func testMarkGoneRelisted(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	a1 := obs("silkvault", "A1", 10, t0, "run-1", peroxide(30))
	a2 := obs("silkvault", "A2", 20, t0, "run-1", peroxide(40))
	b1 := obs("agora2", "B1", 30, t0, "run-b", peroxide(50))
	for _, o := range []precwatch.Observation{a1, a2, b1} {
		record(t, s, o)
	}
	// run-2 sees only A1.
	seen := a1
	seen.At, seen.RunID = t0.Add(time.Hour), "run-2"
	record(t, s, seen)
	n, err := s.MarkGone(ctx, okRun("silkvault", "run-2", t0.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n, 1; got != want {
		t.Errorf("MarkGone marked %d, want %d", got, want)
	}
	if st := getListing(t, s, listingKey(a2)); !st.Gone {
		t.Errorf("A2 not gone: %+v", st)
	}
	if st := getListing(t, s, listingKey(a1)); st.Gone {
		t.Errorf("A1 gone though seen by run-2")
	}
	if st := getListing(t, s, listingKey(b1)); st.Gone {
		t.Errorf("another site's listing marked gone")
	}
	if n, err := s.MarkGone(ctx, okRun("silkvault", "run-2", t0.Add(time.Hour))); err != nil || n != 0 {
		t.Errorf("second MarkGone = %d, %v; want 0, nil", n, err)
	}

	// Seen again unchanged: a relisting.
	back := a2
	back.At, back.RunID = t0.Add(2*time.Hour), "run-3"
	res := record(t, s, back)
	if !res.Changed || res.NewListing || len(res.NewAlerts) != 0 {
		t.Errorf("relisting Record = %+v, want Changed", res)
	}
	a := getAlert(t, s, alertKey(a2, "hydrogen-peroxide"))
	if got, want := kinds(a), []string{precwatch.EventRaised, precwatch.EventRelisted}; !slices.Equal(got, want) {
		t.Errorf("history = %v, want %v", got, want)
	}
	if len(a.History) == 2 && len(a.History[1].Changes) != 0 {
		t.Errorf("unchanged relisting has changes %+v", a.History[1].Changes)
	}
	if st := getListing(t, s, listingKey(a2)); st.Gone || st.LastRunID != "run-3" {
		t.Errorf("relisted listing = %+v", st)
	}
	// Retrying the relisting changes nothing more.
	if res := record(t, s, back); res.Changed || len(res.UpdatedAlerts) != 0 {
		t.Errorf("retried relisting = %+v", res)
	}

	// Gone, then back at a new price: one relisted event carrying the change.
	if n, err := s.MarkGone(ctx, okRun("silkvault", "run-4", t0.Add(150*time.Minute))); err != nil || n != 2 {
		t.Fatalf("MarkGone(run-4) = %d, %v; want 2", n, err)
	}
	moved := obs("silkvault", "A1", 15, t0.Add(3*time.Hour), "run-5", peroxide(30))
	record(t, s, moved)
	a = getAlert(t, s, alertKey(a1, "hydrogen-peroxide"))
	if got, want := kinds(a), []string{precwatch.EventRaised, precwatch.EventRelisted}; !slices.Equal(got, want) {
		t.Fatalf("history = %v, want %v", got, want)
	}
	if c := (precwatch.Change{Field: "price", Old: "10", New: "15"}); !hasChange(a.History[1], c) {
		t.Errorf("relisted changes = %+v, want %+v", a.History[1].Changes, c)
	}
}

func testAlertsOrderAndFilters(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	var keys []string
	ms := [][]precwatch.Match{
		{peroxide(30)}, {nitromethane()}, {sulphuric()}, {thiodiglycol()},
		{peroxide(30), sulphuric()}, {thiodiglycol(), nitromethane()},
	}
	for i := range 36 {
		site := []string{"silkvault", "agora2", "chemshop"}[i%3]
		// Several alerts share a creation time to exercise the tie-break
		// by key; others differ by a nanosecond only.
		at := t0.Add(time.Duration(i/4) * time.Minute)
		if i%5 == 0 {
			at = at.Add(time.Nanosecond)
		}
		// Scores tie often (the creation time decides) and are otherwise
		// unrelated to creation order; one is negative.
		score := float64((i*13)%5) / 4
		if i == 7 {
			score = -0.5
		}
		res := record(t, s, obs(site, fmt.Sprintf("O%02d", i), float64(10+i), at, "run-1", scored(score, ms[i%len(ms)]...)...))
		keys = append(keys, res.NewAlerts...)
	}
	statuses := []precwatch.AlertStatus{precwatch.StatusTriaged, precwatch.StatusEscalated, precwatch.StatusDismissed}
	for i, k := range keys {
		if i%4 == 0 {
			continue
		}
		if err := s.SetAlertStatus(ctx, k, statuses[i%len(statuses)], t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	var all []precwatch.Alert
	for _, k := range keys {
		all = append(all, getAlert(t, s, k))
	}
	precwatch.SortAlerts(all)

	got := allAlerts(t, s, precwatch.AlertFilter{})
	if g, w := keysOf(got), keysOf(all); !slices.Equal(g, w) {
		t.Fatalf("Alerts() order:\n got %v\nwant %v", g, w)
	}
	if got[0].Severity != precwatch.SeverityCritical || got[len(got)-1].Severity != precwatch.SeverityLow {
		t.Errorf("order is not by severity: first %v last %v", got[0].Severity, got[len(got)-1].Severity)
	}
	for i := 1; i < len(got); i++ {
		if a, b := got[i-1], got[i]; a.Severity == b.Severity && a.Score < b.Score {
			t.Errorf("alert %s (score %v) before %s (score %v) of the same severity", a.Listing.ID, a.Score, b.Listing.ID, b.Score)
		}
	}
	filters := []precwatch.AlertFilter{
		{Status: precwatch.StatusNew},
		{Status: precwatch.StatusTriaged},
		{Status: precwatch.StatusDismissed, Limit: 3},
		{Status: "unknown"},
		{MinSeverity: precwatch.SeverityHigh},
		{MinSeverity: precwatch.SeverityCritical},
		{MinSeverity: precwatch.SeverityLow},
		{Site: "agora2"},
		{Site: "nowhere"},
		{Substance: "nitromethane"},
		{Site: "chemshop", Substance: "thiodiglycol"},
		{Status: precwatch.StatusNew, MinSeverity: precwatch.SeverityMedium},
		{Status: precwatch.StatusEscalated, Site: "silkvault", Substance: "sulphuric-acid"},
		{Site: "silkvault", MinSeverity: precwatch.SeverityHigh, Limit: 2, Offset: 1},
		{Limit: 5},
		{Limit: 5, Offset: 5},
		{Limit: 7, Offset: len(all) - 3},
		{Offset: len(all) + 10},
		{Offset: 10},
		{Substance: "hydrogen-peroxide", Limit: 1, Offset: 2},
		{Status: precwatch.StatusNew, Site: "agora2", Limit: 2, Offset: 1},
		{Substance: "hydrogen-peroxide", Status: precwatch.StatusEscalated, Limit: 3, Offset: 1},
		{Site: "silkvault", Status: precwatch.StatusDismissed},
		{Site: "silkvault", Substance: "sulphuric-acid", MinSeverity: precwatch.SeverityLow, Offset: 1},
		{Status: precwatch.StatusNew, Site: "chemshop", Substance: "thiodiglycol", MinSeverity: precwatch.SeverityCritical, Limit: 1},
	}
	for _, f := range filters {
		var want []precwatch.Alert
		for _, a := range all {
			if f.Matches(a) {
				want = append(want, a)
			}
		}
		want = want[min(f.Offset, len(want)):]
		if f.Limit > 0 && len(want) > f.Limit {
			want = want[:f.Limit]
		}
		got := allAlerts(t, s, f)
		if g, w := keysOf(got), keysOf(want); !slices.Equal(g, w) {
			t.Errorf("Alerts(%+v):\n got %v\nwant %v", f, g, w)
		}
		for _, a := range got {
			if !f.Matches(a) {
				t.Errorf("Alerts(%+v) returned %+v", f, a)
			}
		}
	}
	if n := len(allAlerts(t, s, precwatch.AlertFilter{Status: precwatch.StatusTriaged})); n == 0 {
		t.Error("no triaged alerts: the filter test proves nothing")
	}
}

// scored returns ms with their scores set: score for the first, a little
// more for each next (so that every substance's alert has its own).
func scored(score float64, ms ...precwatch.Match) []precwatch.Match {
	out := slices.Clone(ms)
	for k := range out {
		out[k].Score = score + float64(k)/8
		out[k].Reasons = []string{fmt.Sprintf("score %v", out[k].Score)}
	}
	return out
}

// testScoreOrder: within a severity alerts rank by score before creation
// time, under every filter, and a material change that re-scores an
// alert moves it.
func testScoreOrder(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	// Six high alerts on two sites, newer ones scoring lower, so that the
	// score order is the reverse of the creation order; one medium alert
	// with the highest score of all stays behind them.
	scores := []float64{90, 75.5, 75.25, 40, 12, 0}
	var os []precwatch.Observation
	for i, sc := range scores {
		o := obs([]string{"silkvault", "agora2"}[i%2], fmt.Sprintf("S%d", i), 20, t0.Add(time.Duration(i)*time.Minute), "run-1", scored(sc, peroxide(30))...)
		os = append(os, o)
		record(t, s, o)
	}
	record(t, s, obs("silkvault", "M", 20, t0.Add(time.Hour), "run-1", scored(999, nitromethane())...))
	ids := func(as []precwatch.Alert) []string {
		out := make([]string, len(as))
		for i, a := range as {
			out[i] = a.Listing.ID
		}
		return out
	}
	check := func(stage string, want []string) {
		t.Helper()
		if got := ids(allAlerts(t, s, precwatch.AlertFilter{})); !slices.Equal(got, want) {
			t.Errorf("%s: Alerts() = %v, want %v", stage, got, want)
		}
		high := want[:len(want)-1]
		for _, f := range []precwatch.AlertFilter{
			{MinSeverity: precwatch.SeverityHigh},
			{Substance: "hydrogen-peroxide"},
			{Status: precwatch.StatusNew, MinSeverity: precwatch.SeverityHigh},
			{Site: "silkvault", MinSeverity: precwatch.SeverityHigh},
			{Site: "agora2", Status: precwatch.StatusNew},
			{Substance: "hydrogen-peroxide", Limit: 2, Offset: 1},
		} {
			var w []string
			for _, id := range high {
				if f.Site == "" || f.Site == []string{"silkvault", "agora2"}[int(id[1]-'0')%2] {
					w = append(w, id)
				}
			}
			w = w[min(f.Offset, len(w)):]
			if f.Limit > 0 {
				w = w[:min(f.Limit, len(w))]
			}
			if got := ids(allAlerts(t, s, f)); !slices.Equal(got, w) {
				t.Errorf("%s: Alerts(%+v) = %v, want %v", stage, f, got, w)
			}
		}
	}
	check("raised", []string{"S0", "S1", "S2", "S3", "S4", "S5", "M"})
	if a := getAlert(t, s, alertKey(os[1], "hydrogen-peroxide")); a.Score != 75.5 || !slices.Equal(a.Reasons, []string{"score 75.5"}) {
		t.Errorf("alert S1 score %v reasons %v, want 75.5 and its reasons", a.Score, a.Reasons)
	}

	// S4 now offers more at a new price: a material change that scores
	// it above all; S0 drops to the bottom of its severity.
	o4 := os[4]
	o4.At, o4.RunID, o4.Listing.Price = t0.Add(2*time.Hour), "run-2", 25
	o4.Matches = scored(95, peroxide(30))
	if res := record(t, s, o4); !res.Changed {
		t.Fatalf("material change not recorded: %+v", res)
	}
	o0 := os[0]
	o0.At, o0.RunID, o0.Listing.Price = t0.Add(2*time.Hour), "run-2", 30
	o0.Matches = scored(-3, peroxide(30))
	record(t, s, o0)
	check("re-scored", []string{"S4", "S1", "S2", "S3", "S5", "S0", "M"})
	if a := getAlert(t, s, alertKey(os[4], "hydrogen-peroxide")); a.Score != 95 || !a.CreatedAt.Equal(os[4].At) {
		t.Errorf("re-scored alert: score %v created %v, want 95 created %v", a.Score, a.CreatedAt, os[4].At)
	}
	// A status change keeps the place by score.
	if err := s.SetAlertStatus(ctx, alertKey(os[1], "hydrogen-peroxide"), precwatch.StatusTriaged, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, want := ids(allAlerts(t, s, precwatch.AlertFilter{Status: precwatch.StatusNew, MinSeverity: precwatch.SeverityHigh})), []string{"S4", "S2", "S3", "S5", "S0"}; !slices.Equal(got, want) {
		t.Errorf("new after triage = %v, want %v", got, want)
	}
	if got, want := ids(allAlerts(t, s, precwatch.AlertFilter{Status: precwatch.StatusTriaged})), []string{"S1"}; !slices.Equal(got, want) {
		t.Errorf("triaged = %v, want %v", got, want)
	}
}

func testNotFound(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	record(t, s, obs("silkvault", "L1", 45, t0, "run-1", peroxide(30)))
	missing := precwatch.AlertKey("silkvault", "id:nope", "hydrogen-peroxide")
	if _, err := s.Alert(ctx, missing); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("Alert error = %v, want ErrNotFound", err)
	}
	if err := s.SetAlertStatus(ctx, missing, precwatch.StatusTriaged, t0); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("SetAlertStatus error = %v, want ErrNotFound", err)
	}
	if _, err := s.Listing(ctx, precwatch.ListingKey("silkvault", "id:nope")); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("Listing error = %v, want ErrNotFound", err)
	}
	if _, err := s.Page(ctx, sha([]byte("never saved"))); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("Page error = %v, want ErrNotFound", err)
	}
}

func testInvalid(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	o := obs("silkvault", "L1", 45, t0, "run-1", peroxide(30))
	record(t, s, o)
	if err := s.SetAlertStatus(ctx, alertKey(o, "hydrogen-peroxide"), "closed", t0); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("SetAlertStatus(closed) error = %v, want ErrInvalid", err)
	}
	noSite := o
	noSite.Listing.Site = ""
	if _, err := s.Record(ctx, noSite); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("Record without site error = %v, want ErrInvalid", err)
	}
	noTime := o
	noTime.At = time.Time{}
	if _, err := s.Record(ctx, noTime); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("Record without time error = %v, want ErrInvalid", err)
	}
	if err := s.SaveRun(ctx, precwatch.Run{Site: "silkvault"}); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("SaveRun without id error = %v, want ErrInvalid", err)
	}
	if err := s.SavePage(ctx, precwatch.Page{Body: []byte("x")}); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("SavePage without sha256 error = %v, want ErrInvalid", err)
	}
	if got := getAlert(t, s, alertKey(o, "hydrogen-peroxide")).Status; got != precwatch.StatusNew {
		t.Errorf("status after a refused change = %q", got)
	}
}

func testSetAlertStatus(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	o := obs("silkvault", "L1", 45, t0, "run-1", peroxide(30), thiodiglycol())
	record(t, s, o)
	kp, kt := alertKey(o, "hydrogen-peroxide"), alertKey(o, "thiodiglycol")
	at := t0.Add(30 * time.Minute)
	if err := s.SetAlertStatus(ctx, kp, precwatch.StatusEscalated, at); err != nil {
		t.Fatal(err)
	}
	a := getAlert(t, s, kp)
	if a.Status != precwatch.StatusEscalated || !a.UpdatedAt.Equal(at) {
		t.Errorf("alert status %q updated %v, want escalated at %v", a.Status, a.UpdatedAt, at)
	}
	if got, want := len(a.History), 1; got != want {
		t.Errorf("status change added history: %v", kinds(a))
	}
	if got, want := keysOf(allAlerts(t, s, precwatch.AlertFilter{Status: precwatch.StatusEscalated})), []string{kp}; !slices.Equal(got, want) {
		t.Errorf("escalated = %v, want %v", got, want)
	}
	if got, want := keysOf(allAlerts(t, s, precwatch.AlertFilter{Status: precwatch.StatusNew})), []string{kt}; !slices.Equal(got, want) {
		t.Errorf("new = %v, want %v", got, want)
	}
	// A later material change keeps the investigators' status.
	record(t, s, obs("silkvault", "L1", 99, t0.Add(time.Hour), "run-2", peroxide(30), thiodiglycol()))
	if a := getAlert(t, s, kp); a.Status != precwatch.StatusEscalated || len(a.History) != 2 {
		t.Errorf("after a change: status %q history %v", a.Status, kinds(a))
	}
	// And back.
	if err := s.SetAlertStatus(ctx, kp, precwatch.StatusDismissed, at.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := allAlerts(t, s, precwatch.AlertFilter{Status: precwatch.StatusEscalated}); len(got) != 0 {
		t.Errorf("escalated after dismissal = %v", keysOf(got))
	}
	if got, want := keysOf(allAlerts(t, s, precwatch.AlertFilter{Status: precwatch.StatusDismissed})), []string{kp}; !slices.Equal(got, want) {
		t.Errorf("dismissed = %v, want %v", got, want)
	}
}

func runIDs(rs []precwatch.Run) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

func testRuns(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	save := func(r precwatch.Run) {
		t.Helper()
		if err := s.SaveRun(ctx, r); err != nil {
			t.Fatalf("SaveRun(%s): %v", r.ID, err)
		}
	}
	save(precwatch.Run{ID: "r1", Site: "a", Start: t0, Status: precwatch.RunRunning})
	save(precwatch.Run{ID: "r2", Site: "a", Start: t0.Add(time.Hour), Status: precwatch.RunOK})
	save(precwatch.Run{ID: "r3", Site: "b", Start: t0.Add(30 * time.Minute), Status: precwatch.RunFailed, Errors: []string{"proxy: connection refused"}})
	save(precwatch.Run{ID: "r4", Site: "a", Start: t0.Add(time.Hour), Status: precwatch.RunPartial}) // same start as r2
	save(precwatch.Run{ID: "r5", Site: "b", Start: t0.Add(5 * time.Minute), Status: precwatch.RunRunning})
	// Replacements: r1 finishes (and, say, its start was corrected); r5
	// turns out to belong to site a.
	end := t0.Add(3 * time.Hour)
	save(precwatch.Run{ID: "r1", Site: "a", Start: t0.Add(2 * time.Hour), End: end, Status: precwatch.RunOK, Pages: 12, Listings: 40, NewListings: 3, Alerts: 2})
	save(precwatch.Run{ID: "r5", Site: "a", Start: t0.Add(5 * time.Minute), Status: precwatch.RunAbandoned})

	for _, c := range []struct {
		site  string
		limit int
		want  []string
	}{
		{"a", 0, []string{"r1", "r2", "r4", "r5"}},
		{"b", 0, []string{"r3"}},
		{"", 0, []string{"r1", "r2", "r4", "r3", "r5"}},
		{"", 2, []string{"r1", "r2"}},
		{"a", 3, []string{"r1", "r2", "r4"}},
		{"", -1, []string{"r1", "r2", "r4", "r3", "r5"}},
		{"nowhere", 0, nil},
	} {
		rs, err := s.Runs(ctx, c.site, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if got := runIDs(rs); !slices.Equal(got, c.want) {
			t.Errorf("Runs(%q, %d) = %v, want %v", c.site, c.limit, got, c.want)
		}
	}
	rs, err := s.Runs(ctx, "a", 1)
	if err != nil || len(rs) != 1 {
		t.Fatalf("Runs = %v, %v", rs, err)
	}
	r := rs[0]
	if r.Status != precwatch.RunOK || !r.End.Equal(end) || r.Pages != 12 || r.Listings != 40 || r.NewListings != 3 || r.Alerts != 2 {
		t.Errorf("replaced run = %+v", r)
	}
	rs, _ = s.Runs(ctx, "b", 0)
	if len(rs) == 1 && !slices.Equal(rs[0].Errors, []string{"proxy: connection refused"}) {
		t.Errorf("run errors = %v", rs[0].Errors)
	}
}

func testPages(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	large := make([]byte, 1<<20+12345)
	for i := range large {
		large[i] = byte(rng.UintN(256))
	}
	bodies := map[string][]byte{
		"html":    []byte("<html><body><h1>Listing</h1><p>€ 45,00</p></body></html>"),
		"invalid": {0xff, 0xfe, 0x00, 'a', 0xc3, 0x28, 0x00, 0xed, 0xa0, 0x80},
		"large":   large,
		"empty":   {},
	}
	for name, body := range bodies {
		p := precwatch.Page{
			SHA256: sha(body), Site: "silkvault", URL: "http://silkvault.test/" + name,
			FetchedAt: t0.Add(123456789 * time.Nanosecond), ContentType: "text/html; charset=utf-8", Body: body,
		}
		if err := s.SavePage(ctx, p); err != nil {
			t.Fatalf("SavePage(%s): %v", name, err)
		}
		// Saving it again, even as fetched from elsewhere, keeps the first.
		again := p
		again.URL, again.FetchedAt = "http://mirror.test/"+name, t0.Add(time.Hour)
		if err := s.SavePage(ctx, again); err != nil {
			t.Fatalf("SavePage(%s) again: %v", name, err)
		}
		got, err := s.Page(ctx, p.SHA256)
		if err != nil {
			t.Fatalf("Page(%s): %v", name, err)
		}
		if !slices.Equal(got.Body, body) {
			t.Errorf("Page(%s) body differs: %d bytes, want %d", name, len(got.Body), len(body))
		}
		if got.SHA256 != p.SHA256 || got.URL != p.URL || got.Site != p.Site || got.ContentType != p.ContentType || !got.FetchedAt.Equal(p.FetchedAt) {
			t.Errorf("Page(%s) = %+v, want %+v", name, got, p)
		}
		if sha(got.Body) != p.SHA256 {
			t.Errorf("Page(%s) body hash differs", name)
		}
	}
}

func testListings(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	want := map[string][]string{}
	for i := range 7 {
		site := "silkvault"
		if i%3 == 0 {
			site = "chemshop"
		}
		o := obs(site, fmt.Sprintf("L%d", i), 10, t0, "run-1", peroxide(30))
		if i == 4 {
			o.Matches = nil // listings without matches are kept too
		}
		record(t, s, o)
		want[site] = append(want[site], listingKey(o))
		want[""] = append(want[""], listingKey(o))
	}
	for _, site := range []string{"silkvault", "chemshop", "", "nowhere"} {
		var got []string
		err := s.Listings(ctx, site, func(st precwatch.ListingState) error {
			if site != "" && st.Listing.Site != site {
				t.Errorf("Listings(%q) gave a listing of %q", site, st.Listing.Site)
			}
			if st.Key != precwatch.ListingKey(st.Listing.Site, st.Listing.Identity()) {
				t.Errorf("listing key %s does not match its listing", st.Key)
			}
			got = append(got, st.Key)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if g, w := sorted(got), sorted(want[site]); !slices.Equal(g, w) {
			t.Errorf("Listings(%q) = %v, want %v", site, g, w)
		}
	}
	errStop := errors.New("stop")
	calls := 0
	err := s.Listings(ctx, "", func(precwatch.ListingState) error {
		calls++
		if calls == 2 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || calls != 2 {
		t.Errorf("Listings stopping: err %v after %d calls, want errStop after 2", err, calls)
	}
}

func testPersistence(t *testing.T, factory func() precwatch.Store) {
	ctx := context.Background()
	s := factory()
	o := obs("silkvault", "L1", 45, t0, "run-1", peroxide(30), nitromethane())
	record(t, s, o)
	record(t, s, obs("silkvault", "L1", 50, t0.Add(time.Hour), "run-2", peroxide(30), nitromethane()))
	record(t, s, obs("agora2", "G1", 5, t0, "run-g", thiodiglycol()))
	if _, err := s.MarkGone(ctx, okRun("agora2", "run-h", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAlertStatus(ctx, alertKey(o, "nitromethane"), precwatch.StatusTriaged, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	run := precwatch.Run{ID: "run-2", Site: "silkvault", Start: t0, End: t0.Add(time.Minute), Status: precwatch.RunOK, Pages: 3}
	if err := s.SaveRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	body := []byte("<html>evidence</html>")
	if err := s.SavePage(ctx, precwatch.Page{SHA256: sha(body), Site: "silkvault", URL: "http://x.test/", FetchedAt: t0, Body: body}); err != nil {
		t.Fatal(err)
	}
	alerts := jsonOf(t, allAlerts(t, s, precwatch.AlertFilter{}))
	listing := jsonOf(t, getListing(t, s, listingKey(o)))
	runs, err := s.Runs(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s2 := client(t, factory)
	if got := jsonOf(t, allAlerts(t, s2, precwatch.AlertFilter{})); got != alerts {
		t.Errorf("alerts after reopening:\n got %s\nwant %s", got, alerts)
	}
	if got := jsonOf(t, getListing(t, s2, listingKey(o))); got != listing {
		t.Errorf("listing after reopening:\n got %s\nwant %s", got, listing)
	}
	if st := getListing(t, s2, precwatch.ListingKey("agora2", "id:G1")); !st.Gone {
		t.Error("gone mark lost on reopening")
	}
	runs2, err := s2.Runs(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := jsonOf(t, runs2), jsonOf(t, runs); got != want {
		t.Errorf("runs after reopening = %s, want %s", got, want)
	}
	p, err := s2.Page(ctx, sha(body))
	if err != nil || !slices.Equal(p.Body, body) {
		t.Errorf("page after reopening = %q, %v", p.Body, err)
	}
	// The reopened store carries on from the stored state: a retry is
	// still a no-op.
	if res := record(t, s2, obs("silkvault", "L1", 50, t0.Add(time.Hour), "run-2", peroxide(30), nitromethane())); res.Changed || res.NewListing || len(res.NewAlerts) > 0 {
		t.Errorf("retry after reopening = %+v", res)
	}
}

func testTwoClients(t *testing.T, factory func() precwatch.Store) {
	s1, s2 := client(t, factory), client(t, factory)
	o := obs("silkvault", "L1", 45, t0, "run-1", peroxide(30))
	record(t, s1, o)
	if res := record(t, s2, o); res.NewListing || len(res.NewAlerts) != 0 {
		t.Errorf("second client re-raised: %+v", res)
	}
	if err := s2.SetAlertStatus(context.Background(), alertKey(o, "hydrogen-peroxide"), precwatch.StatusTriaged, t0); err != nil {
		t.Fatal(err)
	}
	if got := getAlert(t, s1, alertKey(o, "hydrogen-peroxide")).Status; got != precwatch.StatusTriaged {
		t.Errorf("first client sees status %q, want triaged", got)
	}
}

// testConcurrency has several clients, as several crawler processes would,
// record the same sightings in different orders at once. Every alert must be
// raised once, and every change and relisting enter its history once.
func testConcurrency(t *testing.T, factory func() precwatch.Store) {
	const workers, listings = 6, 12
	ctx := context.Background()
	clients := make([]precwatch.Store, workers+1)
	for i := range clients {
		clients[i] = client(t, factory)
	}
	phase := func(name string, at time.Time, run string, price float64, extra func(precwatch.Store) error) (newListings, changed, newAlerts int) {
		t.Helper()
		var nl, ch, na atomic.Int64
		var raised sync.Map
		var wg sync.WaitGroup
		errs := make(chan error, workers+1)
		for w := range workers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(w), 7))
				order := rng.Perm(listings * 2) // each listing twice, in a different order per worker
				for _, i := range order {
					o := obs("silkvault", fmt.Sprintf("C%02d", i%listings), price, at, run, peroxide(30), thiodiglycol(), nitricUnder())
					res, err := clients[w].Record(ctx, o)
					if err != nil {
						errs <- fmt.Errorf("%s: worker %d: %w", name, w, err)
						return
					}
					if res.NewListing {
						nl.Add(1)
					}
					if res.Changed {
						ch.Add(1)
					}
					for _, k := range res.NewAlerts {
						if _, dup := raised.LoadOrStore(k, w); dup {
							errs <- fmt.Errorf("%s: alert %s raised twice", name, k)
						}
						na.Add(1)
					}
				}
			})
		}
		if extra != nil {
			wg.Go(func() {
				if err := extra(clients[workers]); err != nil {
					errs <- fmt.Errorf("%s: %w", name, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if t.Failed() {
			t.FailNow()
		}
		return int(nl.Load()), int(ch.Load()), int(na.Load())
	}

	nl, ch, na := phase("raise", t0, "run-1", 45, nil)
	if nl != listings || ch != 0 || na != 2*listings {
		t.Errorf("raise: %d new listings, %d changed, %d new alerts; want %d, 0, %d", nl, ch, na, listings, 2*listings)
	}
	all := allAlerts(t, clients[0], precwatch.AlertFilter{})
	if got, want := len(all), 2*listings; got != want {
		t.Fatalf("%d alerts, want %d", got, want)
	}

	// A price change, while an investigator triages every alert.
	keys := keysOf(all)
	nl, ch, na = phase("change", t0.Add(time.Hour), "run-2", 55, func(s precwatch.Store) error {
		for _, k := range keys {
			if err := s.SetAlertStatus(ctx, k, precwatch.StatusTriaged, t0.Add(90*time.Minute)); err != nil {
				return err
			}
		}
		return nil
	})
	if nl != 0 || ch != listings || na != 0 {
		t.Errorf("change: %d new listings, %d changed, %d new alerts; want 0, %d, 0", nl, ch, na, listings)
	}
	n, err := clients[0].MarkGone(ctx, okRun("silkvault", "run-3", t0.Add(90*time.Minute)))
	if err != nil || n != listings {
		t.Fatalf("MarkGone = %d, %v; want %d", n, err, listings)
	}
	nl, ch, na = phase("relist", t0.Add(2*time.Hour), "run-3", 55, nil)
	if nl != 0 || ch != listings || na != 0 {
		t.Errorf("relist: %d new listings, %d changed, %d new alerts; want 0, %d, 0", nl, ch, na, listings)
	}

	all = allAlerts(t, clients[0], precwatch.AlertFilter{})
	if got, want := len(all), 2*listings; got != want {
		t.Errorf("%d alerts, want %d", got, want)
	}
	want := []string{precwatch.EventRaised, precwatch.EventChanged, precwatch.EventRelisted}
	for _, a := range all {
		if got := kinds(a); !slices.Equal(got, want) {
			t.Errorf("alert %s %s history = %v, want %v", a.Listing.ID, a.Substance, got, want)
		}
		if a.Status != precwatch.StatusTriaged {
			t.Errorf("alert %s %s status %q: a concurrent write lost the triage", a.Listing.ID, a.Substance, a.Status)
		}
	}
	if n, err := clients[1].MarkGone(ctx, okRun("silkvault", "run-3", t0.Add(90*time.Minute))); err != nil || n != 0 {
		t.Errorf("MarkGone after relisting = %d, %v; want 0", n, err)
	}
}

func testContextCanceled(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := obs("silkvault", "L1", 45, t0, "run-1", peroxide(30))
	if _, err := s.Record(ctx, o); err == nil {
		t.Error("Record with a canceled context succeeded")
	}
	if _, err := s.Listing(context.Background(), listingKey(o)); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("canceled Record left a listing behind (Listing error %v)", err)
	}
	record(t, s, o)
	checks := map[string]func() error{
		"Alerts":   func() error { _, err := s.Alerts(ctx, precwatch.AlertFilter{}); return err },
		"Alert":    func() error { _, err := s.Alert(ctx, alertKey(o, "hydrogen-peroxide")); return err },
		"Listing":  func() error { _, err := s.Listing(ctx, listingKey(o)); return err },
		"Listings": func() error { return s.Listings(ctx, "", func(precwatch.ListingState) error { return nil }) },
		"MarkGone": func() error { _, err := s.MarkGone(ctx, okRun("silkvault", "run-2", t0.Add(time.Hour))); return err },
		"SetAlertStatus": func() error {
			return s.SetAlertStatus(ctx, alertKey(o, "hydrogen-peroxide"), precwatch.StatusTriaged, t0)
		},
		"SaveRun":  func() error { return s.SaveRun(ctx, precwatch.Run{ID: "r", Site: "silkvault", Start: t0}) },
		"Runs":     func() error { _, err := s.Runs(ctx, "", 0); return err },
		"SavePage": func() error { return s.SavePage(ctx, precwatch.Page{SHA256: sha(nil), Body: nil}) },
		"Page":     func() error { _, err := s.Page(ctx, sha(nil)); return err },
	}
	for name, fn := range checks {
		if err := fn(); err == nil {
			t.Errorf("%s with a canceled context succeeded", name)
		}
	}
	if got := getAlert(t, s, alertKey(o, "hydrogen-peroxide")).Status; got != precwatch.StatusNew {
		t.Errorf("canceled SetAlertStatus took effect: %q", got)
	}
}
