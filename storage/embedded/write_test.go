package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/storetest"
)

// TestAlertsRead checks alertsRead's claim: when it is false, Reconcile
// given only the keys of the existing alerts does what it does given the
// alerts whole.
func TestAlertsRead(t *testing.T) {
	at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	base := storetest.Synthetic(5, at)[4] // two substances
	if len(base.Matches) != 2 {
		t.Fatalf("fixture has %d matches, want 2", len(base.Matches))
	}
	first := base
	first.Matches = base.Matches[:1]
	prev, write, _ := precwatch.Reconcile(nil, nil, first)
	full := map[string]precwatch.Alert{}
	for _, a := range write {
		a.Status, a.Assignee = precwatch.StatusTriaged, "ana" // an investigated alert
		full[a.Key] = a
	}
	stubs := map[string]precwatch.Alert{}
	for k := range full {
		stubs[k] = precwatch.Alert{Key: k}
	}
	later := func(f func(*precwatch.Observation)) precwatch.Observation {
		o := base
		o.At, o.RunID = at.Add(time.Hour), "run-2"
		o.Listing.Identifiers = slices.Clone(o.Listing.Identifiers)
		if f != nil {
			f(&o)
		}
		return o
	}
	gone := prev
	gone.Gone = true
	for _, c := range []struct {
		name     string
		prev     precwatch.ListingState
		o        precwatch.Observation
		wantRead bool
	}{
		{"unchanged, a substance more", prev, later(nil), false},
		{"unchanged, same substance", prev, later(func(o *precwatch.Observation) { o.Matches = o.Matches[:1] }), false},
		{"unchanged, no match", prev, later(func(o *precwatch.Observation) { o.Matches = nil }), false},
		{"older sighting, changed", prev, later(func(o *precwatch.Observation) { o.At = at.Add(-time.Hour); o.Listing.Price++ }), false},
		{"price changed", prev, later(func(o *precwatch.Observation) { o.Listing.Price++ }), true},
		{"title changed", prev, later(func(o *precwatch.Observation) { o.Listing.Title += " new" }), true},
		{"relisted", gone, later(nil), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := alertsRead(&c.prev, c.o); got != c.wantRead {
				t.Fatalf("alertsRead = %v, want %v", got, c.wantRead)
			}
			if c.wantRead {
				return
			}
			n1, w1, r1 := precwatch.Reconcile(&c.prev, full, c.o)
			n2, w2, r2 := precwatch.Reconcile(&c.prev, stubs, c.o)
			if !reflect.DeepEqual(n1, n2) || !reflect.DeepEqual(w1, w2) || !reflect.DeepEqual(r1, r2) {
				t.Errorf("Reconcile with keys only differs:\nwhole: %+v %+v %+v\nkeys:  %+v %+v %+v", n1, w1, r1, n2, w2, r2)
			}
		})
	}
}

// TestBatchLikeSequential: recordBatch writes what Record called once per
// observation writes (listings, alerts, events, vendor index), over new,
// unchanged, changed, stale, repeated and relisted sightings, and returns
// the same results.
func TestBatchLikeSequential(t *testing.T) {
	ctx := context.Background()
	batched := open(t, filepath.Join(t.TempDir(), "batched.db"))
	defer batched.Close()
	single := open(t, filepath.Join(t.TempDir(), "single.db"))
	defer single.Close()

	at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	all := storetest.Synthetic(120, at)
	wallet := precwatch.VendorID{Kind: "btc", Value: "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"}
	for i := range all {
		all[i].Listing.Site = "silkvault"
		if i%3 == 0 {
			all[i].Listing.Identifiers = []precwatch.VendorID{wallet}
		}
	}
	later := func(o precwatch.Observation, d time.Duration, run string) precwatch.Observation {
		o.At, o.RunID = o.At.Add(d), run
		return o
	}
	round1 := slices.Clone(all[:100])
	round1 = append(round1, all[5], all[7]) // seen twice on one page
	var round2 []precwatch.Observation
	for i, o := range all[:100] {
		o = later(o, 48*time.Hour, "run-2")
		switch i % 10 {
		case 1:
			o.Listing.Price += 5 // a material change
		case 2:
			o.Listing.Title += " (new)" // a change, not material
		case 3:
			o.Matches = o.Matches[:0] // the substance no longer matches
		case 4:
			o.At = all[i].At.Add(-time.Hour) // older than the last sighting
		case 5:
			o.Listing.Identifiers = nil // identifiers gone
			o.Listing.Vendor = "renamed"
		case 6:
			round2 = append(round2, o) // then changed on the same page
			o.Listing.Price += 7
		}
		round2 = append(round2, o)
	}
	round2 = append(round2, all[100:]...) // new listings too
	run2 := precwatch.Run{ID: "run-2", Site: "silkvault", Start: at.Add(47 * time.Hour), Status: precwatch.RunOK}
	round3 := []precwatch.Observation{later(all[110], 96*time.Hour, "run-3"), later(all[20], 96*time.Hour, "run-3")}

	for _, round := range [][]precwatch.Observation{round1, round2, round3} {
		var want []precwatch.RecordResult
		for _, o := range round {
			res, err := single.Record(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, res)
		}
		var got []precwatch.RecordResult
		err := batched.write(ctx, func(tx *sql.Tx) error {
			var err error
			got, err = batched.recordBatch(ctx, tx, round, batchOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("results differ:\nbatched    %+v\nsequential %+v", got, want)
		}
		if len(round) == len(round2) {
			// Between rounds 2 and 3, listings run 2 did not see go.
			for _, s := range []*Store{single, batched} {
				if _, err := s.MarkGone(ctx, run2); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, q := range []string{
			"SELECT key, site, last_run_id, gone, title, description, json FROM listings ORDER BY key",
			"SELECT key, listing_key, site, substance, regime, severity, score, status, created_at, updated_at, vendor, assignee, words, json FROM alerts ORDER BY key",
			"SELECT id, at, event, key, site, substance, severity, json FROM events ORDER BY id",
			"SELECT kind, value, site, handle, holder FROM vendor_ids ORDER BY 1, 2, 3, 4, 5",
			"SELECT rowid FROM alerts_fts WHERE alerts_fts MATCH 'new' ORDER BY rowid",
			"SELECT rowid FROM listings_fts WHERE listings_fts MATCH 'new' ORDER BY rowid",
		} {
			if g, w := dump(t, batched.db, q), dump(t, single.db, q); g != w {
				t.Errorf("%s:\nbatched    %s\nsequential %s", q, g, w)
			}
		}
	}
	for _, s := range []*Store{single, batched} {
		for _, fts := range []string{"alerts_fts", "listings_fts"} {
			if _, err := s.db.ExecContext(ctx, "INSERT INTO "+fts+"("+fts+", rank) VALUES ('integrity-check', 1)"); err != nil {
				t.Errorf("%s integrity-check: %v", fts, err)
			}
		}
	}
}

// dump is the rows of q as JSON.
func dump(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWritePlans: the write path's reads look listings and alerts up by
// index, whatever the number of keys.
func TestWritePlans(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "precwatch.db"))
	defer s.Close()
	for _, q := range []string{sqlLoadListings, sqlLoadAlerts, sqlLoadAlertKey} {
		q = strings.ReplaceAll(q, "?", `'["a","b"]'`)
		plan := explain(t, s.db, q)
		if contains(plan, "SCAN listings") || contains(plan, "SCAN alerts") || !contains(plan, "INDEX") {
			t.Errorf("%s\nplan %v, want index lookups", q, plan)
		}
		if q == sqlLoadAlertKey && !contains(plan, "USING COVERING INDEX alerts_listing_key") {
			t.Errorf("%s\nplan %v, want the alert keys read from the index alone", q, plan)
		}
	}
}
