package storetest

// RecordPage against a model (issue 9, throughput): a store may read less
// than every alert of a page (an unchanged listing's alerts are only
// asked whether they exist), so pages mixing new, unchanged, changed,
// stale, repeated, relisted and re-matched listings must leave exactly
// what precwatch.Reconcile applied in order leaves.

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// batchModel is RecordPage's meaning: every sighting reconciled in order
// against the states and alerts the earlier ones left.
type batchModel struct {
	listings map[string]precwatch.ListingState
	alerts   map[string]precwatch.Alert
}

func (m *batchModel) recordPage(obs []precwatch.Observation) []precwatch.RecordResult {
	out := make([]precwatch.RecordResult, len(obs))
	for i, o := range obs {
		lk := precwatch.ListingKey(o.Listing.Site, o.Listing.Identity())
		var prev *precwatch.ListingState
		if st, ok := m.listings[lk]; ok {
			prev = &st
		}
		existing := map[string]precwatch.Alert{}
		for _, mt := range o.Matches {
			k := precwatch.AlertKey(o.Listing.Site, o.Listing.Identity(), mt.Substance)
			if a, ok := m.alerts[k]; ok && mt.Alertable() {
				existing[k] = a
			}
		}
		if prev != nil {
			for _, k := range prev.AlertKeys {
				if a, ok := m.alerts[k]; ok {
					existing[k] = a
				}
			}
		}
		next, write, res := precwatch.Reconcile(prev, existing, o)
		m.listings[lk] = next
		for _, a := range write {
			m.alerts[a.Key] = a
		}
		out[i] = res
	}
	return out
}

// check fails unless s holds the model's listings and alerts, and lists
// the alerts in SortAlerts's order.
func (m *batchModel) check(t *testing.T, s precwatch.Store, when string) {
	t.Helper()
	for k, want := range m.listings {
		if got := getListing(t, s, k); jsonOf(t, got) != jsonOf(t, want) {
			t.Errorf("%s: listing %s\n got %s\nwant %s", when, want.Listing.ID, jsonOf(t, got), jsonOf(t, want))
		}
	}
	var want []precwatch.Alert
	for _, a := range m.alerts {
		want = append(want, a)
	}
	precwatch.SortAlerts(want)
	got := allAlerts(t, s, precwatch.AlertFilter{})
	if g, w := keysOf(got), keysOf(want); !slices.Equal(g, w) {
		t.Fatalf("%s: alerts %v, want %v", when, g, w)
	}
	for i := range got {
		if jsonOf(t, got[i]) != jsonOf(t, want[i]) {
			t.Errorf("%s: alert %s/%s\n got %s\nwant %s", when, want[i].Identity, want[i].Substance, jsonOf(t, got[i]), jsonOf(t, want[i]))
		}
	}
}

func testRecordPageModel(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	m := &batchModel{listings: map[string]precwatch.ListingState{}, alerts: map[string]precwatch.Alert{}}
	record := func(when string, at time.Time, obs ...precwatch.Observation) {
		t.Helper()
		p, _ := page("modelshop", at)
		for i := range obs {
			obs[i].Listing.PageSHA256 = p.SHA256
		}
		got, err := s.RecordPage(ctx, p, obs)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if want := m.recordPage(obs); jsonOf(t, got) != jsonOf(t, want) {
			t.Errorf("%s: results\n got %s\nwant %s", when, jsonOf(t, got), jsonOf(t, want))
		}
		m.check(t, s, when)
	}
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	l := func(id string, price float64, h int, run string, ms ...precwatch.Match) precwatch.Observation {
		return obs("modelshop", id, price, at(h), run, ms...)
	}

	// A first crawl: alerting and plain listings, all new.
	record("new", at(0),
		l("M0", 10, 0, "run-1", peroxide(30), nitromethane()), l("M1", 11, 0, "run-1", peroxide(30)),
		l("M2", 12, 0, "run-1", sulphuric()), l("M3", 13, 0, "run-1"), l("M4", 14, 0, "run-1"),
		l("M6", 16, 0, "run-1", peroxide(30)))
	// An investigator's work, which a re-crawl keeps.
	k := alertKey(l("M0", 10, 0, ""), "hydrogen-peroxide")
	if err := s.SetAlertStatus(ctx, k, precwatch.StatusTriaged, at(0).Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	a := m.alerts[k]
	a.Status, a.UpdatedAt = precwatch.StatusTriaged, at(0).Add(time.Minute)
	m.alerts[k] = a

	// Unchanged beside new (neither none nor all of the named alerts
	// exist), a price change, a new match on an unchanged listing, a stale
	// sighting (changed and unchanged), and a listing twice: unchanged,
	// then changed.
	changedTwice := l("M3", 99, 1, "run-2")
	record("mixed", at(1),
		l("M0", 10, 1, "run-2", peroxide(30), nitromethane()), l("M1", 21, 1, "run-2", peroxide(30)),
		l("M2", 12, 1, "run-2", sulphuric(), thiodiglycol()), l("M3", 13, 1, "run-2"), changedTwice,
		l("M4", 44, -1, "run-0"), l("M5", 15, 1, "run-2", nitromethane()), l("M6", 16, -1, "run-0", peroxide(30)))

	// A complete run that saw none of them: all gone. Three come back,
	// relisted: M0 with a match dropped, M1 and M2 unchanged.
	if _, err := s.MarkGone(ctx, okRun("modelshop", "run-3", at(2))); err != nil {
		t.Fatal(err)
	}
	for key, st := range m.listings {
		if precwatch.GoneAfter(st, okRun("modelshop", "run-3", at(2))) {
			st.Gone = true
			m.listings[key] = st
		}
	}
	m.check(t, s, "gone")
	relisted := []precwatch.Observation{
		l("M0", 10, 3, "run-4", peroxide(30)), l("M1", 21, 3, "run-4", peroxide(30)),
		l("M2", 12, 3, "run-4", sulphuric(), thiodiglycol()),
	}
	record("relisted", at(3), relisted...)
	// The same page again (a retry): nothing changes.
	record("retried", at(3), slices.Clone(relisted)...)
	// Everything unchanged, seen by a later run.
	later := slices.Clone(relisted)
	for i := range later {
		later[i].At, later[i].RunID = at(4), "run-5"
	}
	record("unchanged", at(4), later...)
}
