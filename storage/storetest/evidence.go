package storetest

// No alert without its evidence (issue 9): RecordPage writes a page, its
// listings and their alerts all or nothing.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// page is a shop-style evidence page for site, and observations of ids
// read from it.
func page(site string, at time.Time, ids ...string) (*precwatch.Page, []precwatch.Observation) {
	body := []byte(fmt.Sprintf("<html><body><h1>%s catalogue</h1><p>%v</p></body></html>", site, ids))
	p := &precwatch.Page{SHA256: sha(body), Site: site, URL: "http://" + site + ".test/catalogue", FetchedAt: at,
		ContentType: "text/html", Body: body}
	var os []precwatch.Observation
	for i, id := range ids {
		o := obs(site, id, float64(10+i), at, "run-1", peroxide(30), nitromethane())
		o.Listing.PageSHA256 = p.SHA256
		os = append(os, o)
	}
	return p, os
}

// noTrace fails unless none of os's listings and alerts, nor page sha
// (when set), is stored.
func noTrace(t *testing.T, s precwatch.Store, sha string, os ...precwatch.Observation) {
	t.Helper()
	ctx := context.Background()
	for _, o := range os {
		if _, err := s.Listing(ctx, listingKey(o)); !errors.Is(err, precwatch.ErrNotFound) {
			t.Errorf("listing %s stored (%v) by a failed RecordPage", o.Listing.ID, err)
		}
		for _, m := range o.Matches {
			if _, err := s.Alert(ctx, alertKey(o, m.Substance)); !errors.Is(err, precwatch.ErrNotFound) {
				t.Errorf("alert %s/%s stored (%v) by a failed RecordPage", o.Listing.ID, m.Substance, err)
			}
		}
	}
	if sha != "" {
		if _, err := s.Page(ctx, sha); !errors.Is(err, precwatch.ErrNotFound) {
			t.Errorf("page %s stored (%v) by a failed RecordPage", sha, err)
		}
	}
}

// EvidenceOf fails unless every alert in s has every page its history
// names. Backend tests call it after fault injection.
func EvidenceOf(t *testing.T, s precwatch.Store) {
	t.Helper()
	ctx := context.Background()
	as, err := s.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		for _, e := range a.History {
			if e.PageSHA256 == "" {
				t.Errorf("alert %s %s event without evidence page", a.Key, e.Kind)
				continue
			}
			if _, err := s.Page(ctx, e.PageSHA256); err != nil {
				t.Errorf("alert %s %s: evidence page %s: %v", a.Key, e.Kind, e.PageSHA256, err)
			}
		}
	}
}

func testRecordPage(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	p, os := page("silkvault", t0, "P1", "P2", "P3")
	// The same listing twice on one page: the second sighting is a retry.
	os = append(os, os[1])
	res, err := s.RecordPage(ctx, p, os)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(os) {
		t.Fatalf("%d results, want %d", len(res), len(os))
	}
	for i, r := range res[:3] {
		if !r.NewListing || len(r.NewAlerts) != 2 {
			t.Errorf("result %d = %+v, want a new listing with 2 alerts", i, r)
		}
	}
	if r := res[3]; r.NewListing || r.Changed || len(r.NewAlerts)+len(r.UpdatedAlerts) != 0 {
		t.Errorf("repeated sighting = %+v, want nothing", r)
	}
	got, err := s.Page(ctx, p.SHA256)
	if err != nil || string(got.Body) != string(p.Body) || got.URL != p.URL {
		t.Fatalf("page = %+v, %v; want the page", got, err)
	}
	if all := allAlerts(t, s, precwatch.AlertFilter{}); len(all) != 6 {
		t.Errorf("%d alerts, want 6", len(all))
	}
	EvidenceOf(t, s)

	// Again, as a retry (an investigator having triaged an alert): nothing
	// new, and the alert is left whole.
	triaged := alertKey(os[0], "hydrogen-peroxide")
	if err := s.SetAlertStatus(ctx, triaged, precwatch.StatusTriaged, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	before := jsonOf(t, getAlert(t, s, triaged))
	res, err = s.RecordPage(ctx, p, os)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.NewListing || r.Changed || len(r.NewAlerts)+len(r.UpdatedAlerts) != 0 {
			t.Errorf("retried result %d = %+v, want nothing", i, r)
		}
	}

	if after := jsonOf(t, getAlert(t, s, triaged)); after != before {
		t.Errorf("alert after an unchanged sighting = %s, want %s", after, before)
	}
	// Seen unchanged by a later run: the listing moves on, its alerts not.
	later := slices.Clone(os[:3])
	for i := range later {
		later[i].At, later[i].RunID = t0.Add(30*time.Minute), "run-1b"
	}
	if _, err := s.RecordPage(ctx, nil, later); err != nil {
		t.Fatal(err)
	}
	if st := getListing(t, s, listingKey(os[0])); st.LastRunID != "run-1b" || !st.LastSeen.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("listing after an unchanged sighting: run %s, last seen %v", st.LastRunID, st.LastSeen)
	}
	if after := jsonOf(t, getAlert(t, s, triaged)); after != before {
		t.Errorf("alert after a later unchanged sighting = %s, want %s", after, before)
	}

	// A later page: a price change is recorded with it as evidence.
	p2, os2 := page("silkvault", t0.Add(time.Hour), "P1")
	os2[0].Listing.Price, os2[0].RunID = 99, "run-2"
	res, err = s.RecordPage(ctx, p2, os2)
	if err != nil || !res[0].Changed || len(res[0].UpdatedAlerts) != 2 {
		t.Fatalf("change = %+v, %v; want changed, 2 alerts updated", res, err)
	}
	a := getAlert(t, s, alertKey(os2[0], "nitromethane"))
	if h := a.History; len(h) != 2 || h[1].PageSHA256 != p2.SHA256 {
		t.Errorf("history = %+v, want the change with page %s", h, p2.SHA256)
	}
	EvidenceOf(t, s)

	// A page alone, and nothing at all.
	body := []byte("<html>index without listings</html>")
	empty := &precwatch.Page{SHA256: sha(body), Site: "silkvault", URL: "http://silkvault.test/empty", FetchedAt: t0, Body: body}
	if _, err := s.RecordPage(ctx, empty, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Page(ctx, empty.SHA256); err != nil {
		t.Errorf("page alone not stored: %v", err)
	}
	if res, err := s.RecordPage(ctx, nil, nil); err != nil || len(res) != 0 {
		t.Errorf("RecordPage(nil, nil) = %v, %v", res, err)
	}
}

func testNoAlertWithoutEvidence(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()

	// A page that cannot be written (its hash is not that of its body):
	// neither it nor its listings nor their alerts are stored.
	p, os := page("silkvault", t0, "E1", "E2")
	bad := *p
	bad.Body = append([]byte(nil), p.Body...)
	bad.Body[0] ^= 1
	if _, err := s.RecordPage(ctx, &bad, os); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("RecordPage with a corrupt page = %v, want ErrInvalid", err)
	}
	noTrace(t, s, p.SHA256, os...)

	// Alerts whose evidence page is neither given nor stored: refused,
	// with the valid observations of the same call.
	_, orphan := page("silkvault", t0, "E3")
	mixed := append([]precwatch.Observation{os[0]}, orphan...)
	if _, err := s.RecordPage(ctx, nil, mixed); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("RecordPage of an alert without its page = %v, want ErrInvalid", err)
	}
	noTrace(t, s, "", mixed...)

	// With its page it goes in, and an unchanged sighting naming a page not
	// stored (it writes no alert) is accepted later.
	if _, err := s.RecordPage(ctx, p, os); err != nil {
		t.Fatal(err)
	}
	again := os[0]
	again.At, again.RunID, again.Listing.PageSHA256 = t0.Add(time.Hour), "run-2", sha([]byte("not stored"))
	if res, err := s.RecordPage(ctx, nil, []precwatch.Observation{again}); err != nil || res[0].Changed {
		t.Errorf("unchanged sighting = %+v, %v; want accepted, unchanged", res, err)
	}
	// A change needs its page.
	moved := again
	moved.At, moved.Listing.Price = t0.Add(2*time.Hour), 77
	if _, err := s.RecordPage(ctx, nil, []precwatch.Observation{moved}); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("change without its page = %v, want ErrInvalid", err)
	}
	if st := getListing(t, s, listingKey(moved)); st.Listing.Price == 77 {
		t.Errorf("listing changed by a refused RecordPage")
	}
	EvidenceOf(t, s)
}

// EvidenceBatch is a page of site with sightings of ids read from it, each
// raising two alerts, for backends' fault-injection tests.
func EvidenceBatch(site string, at time.Time, ids ...string) (*precwatch.Page, []precwatch.Observation) {
	return page(site, at, ids...)
}

// NoTrace fails unless none of os's listings and alerts, nor the page of
// SHA-256 sha (when set), is stored in s.
func NoTrace(t *testing.T, s precwatch.Store, sha string, os ...precwatch.Observation) {
	t.Helper()
	noTrace(t, s, sha, os...)
}

func testListingStates(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	a := obs("silkvault", "S1", 10, t0, "run-1", peroxide(30))
	b := obs("agora2", "S2", 20, t0, "run-1")
	record(t, s, a)
	record(t, s, b)
	missing := precwatch.ListingKey("silkvault", "id:nope")
	got, err := s.ListingStates(ctx, []string{listingKey(a), missing, listingKey(b)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d states, want 2: %v", len(got), got)
	}
	for _, o := range []precwatch.Observation{a, b} {
		want := getListing(t, s, listingKey(o))
		if jsonOf(t, got[listingKey(o)]) != jsonOf(t, want) {
			t.Errorf("state of %s = %+v, want %+v", o.Listing.ID, got[listingKey(o)], want)
		}
	}
	if got, err := s.ListingStates(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("ListingStates(nil) = %v, %v; want empty", got, err)
	}
}
