package embedded

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/storetest"
)

// TestUpgradeVendorIndex: a file of schema 9 (before vendor profiles)
// gets the vendor index of the listings it holds when opened.
func TestUpgradeVendorIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v9.db")
	s := open(t, path)
	wallet := precwatch.VendorID{Kind: "btc", Value: "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"}
	obs := storetest.Synthetic(3, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	for i, o := range obs {
		o.Listing.Vendor = []string{"alpha", "beta", "Alpha"}[i]
		if i < 2 {
			o.Listing.Identifiers = []precwatch.VendorID{wallet}
		}
		if _, err := s.Record(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	// Back to schema 9 (migrations 12, 11 and 10 undone).
	if _, err := s.db.ExecContext(ctx, undo14+undo13+undo12and11+`
DROP TABLE vendor_ids;
DROP TABLE vendor_pages;
PRAGMA user_version = 9;`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, path)
	defer s.Close()
	a := precwatch.VendorRef{Site: obs[0].Listing.Site, Handle: "alpha"}
	p, err := precwatch.LoadVendorProfile(ctx, s, a)
	if err != nil || len(p.Links) != 1 || p.Links[0].Vendor.Handle != "beta" {
		t.Fatalf("links after the upgrade: %+v, %v; want beta", p.Links, err)
	}
	if len(p.Hints) != 1 || p.Hints[0].Vendor.Handle != "Alpha" {
		t.Errorf("hints after the upgrade: %+v; want Alpha", p.Hints)
	}
}

// TestUpgradeVendorColumns: a file of schema 10 (vendor and identifiers
// read from the listings' JSON) gets the columns of migration 11 filled
// in when opened, keeps its vendor index, and the index follows later
// writes.
func TestUpgradeVendorColumns(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v10.db")
	s := open(t, path)
	wallet := precwatch.VendorID{Kind: "btc", Value: "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"}
	key := precwatch.VendorID{Kind: "pgp", Value: "0123456789abcdef0123456789abcdef01234567"}
	obs := storetest.Synthetic(4, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	for i := range obs {
		obs[i].Listing.Site = "silkvault"
		obs[i].Listing.Vendor = []string{"alpha", "beta", "Alpha", ""}[i]
		if i < 2 {
			obs[i].Listing.Identifiers = []precwatch.VendorID{wallet}
		}
		if _, err := s.Record(ctx, obs[i]); err != nil {
			t.Fatal(err)
		}
	}
	const index = "SELECT kind, value, site, handle, holder FROM vendor_ids ORDER BY 1, 2, 3, 4, 5"
	want := dump(t, s.db, index)
	// Back to schema 10: back to 9, then migration 10 as it is written.
	if _, err := s.db.ExecContext(ctx, undo14+undo13+undo12and11+`
DROP TABLE vendor_ids;
DROP TABLE vendor_pages;
`+vendorSchema+`
PRAGMA user_version = 10;`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, path)
	defer s.Close()
	if got := dump(t, s.db, index); got != want {
		t.Errorf("vendor index after the upgrade:\n%s\nwant\n%s", got, want)
	}
	if got, want := dump(t, s.db, "SELECT vendor, identifiers IS NULL FROM listings ORDER BY json ->> '$.listing.id'"),
		`[["alpha",0],["beta",0],["Alpha",1],["",1]]`; got != want {
		t.Errorf("vendor, identifiers IS NULL = %s, want %s", got, want)
	}
	ls, err := s.VendorListings(ctx, precwatch.VendorRef{Site: "silkvault", Handle: "alpha"}, 0)
	if err != nil || len(ls) != 1 || ls[0].Listing.Vendor != "alpha" {
		t.Fatalf("VendorListings(alpha) = %+v, %v; want one listing", ls, err)
	}
	if plan := explain(t, s.db, "SELECT json FROM listings WHERE site = 's' AND vendor = 'v' ORDER BY key LIMIT 5"); !contains(plan, "USING INDEX listings_vendor") {
		t.Errorf("VendorListings plan %v, want listings_vendor", plan)
	}

	// Seen again unchanged: the index stays; with new identifiers and a
	// new vendor name: it follows.
	later := func(o precwatch.Observation) precwatch.Observation {
		o.At, o.RunID = o.At.Add(time.Hour), "run-2"
		return o
	}
	if _, err := s.Record(ctx, later(obs[0])); err != nil {
		t.Fatal(err)
	}
	if got := dump(t, s.db, index); got != want {
		t.Errorf("vendor index after an unchanged sighting:\n%s\nwant\n%s", got, want)
	}
	o := later(obs[1])
	o.Listing.Identifiers, o.Listing.Vendor = []precwatch.VendorID{key}, "gamma"
	if _, err := s.Record(ctx, o); err != nil {
		t.Fatal(err)
	}
	holder := precwatch.ListingKey(o.Listing.Site, o.Listing.Identity())
	if got, want := dump(t, s.db, "SELECT kind, value, handle FROM vendor_ids WHERE holder = '"+holder+"' ORDER BY 1"),
		`[["handle","gamma","gamma"],["pgp","`+key.Value+`","gamma"]]`; got != want {
		t.Errorf("index of a changed listing = %s, want %s", got, want)
	}
}

// undo12and11 takes a store back from schema 12 to 10: migration 12's
// alert index and migration 11's vendor columns and their triggers.
// undo14 undoes migration 14 (sort orders, folded vendors) but for the
// folding, which TestUpgradeFoldVendors undoes itself.
const undo14 = `
DROP INDEX alerts_time;
CREATE INDEX alerts_created ON alerts(created_at);
`

// undo13 undoes migration 13 (retention).
const undo13 = `
DROP TABLE page_uses;
DROP INDEX fetches_at;
`

const undo12and11 = `
DROP INDEX alerts_listing_key;
CREATE INDEX alerts_listing ON alerts(listing_key);
DROP TRIGGER listings_vendor_ids_insert;
DROP TRIGGER listings_vendor_ids_update;
DROP INDEX listings_vendor;
ALTER TABLE listings DROP COLUMN vendor;
ALTER TABLE listings DROP COLUMN identifiers;
`

// TestUpgradeFoldVendors: alerts written before migration 14 (the vendor
// column as written) are found by a vendor in any case after it, and in
// the time orders.
func TestUpgradeFoldVendors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v13.db")
	s := open(t, path)
	ctx := context.Background()
	for i, o := range storetest.Synthetic(6, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		o.Listing.Vendor = []string{"ChemKing", "Химлаб"}[i%2]
		if _, err := s.Record(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.db.ExecContext(ctx, undo14+`
UPDATE alerts SET vendor = json_extract(json, '$.listing.vendor');
PRAGMA user_version = 13;`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM alerts WHERE vendor IN ('ChemKing', 'Химлаб')").Scan(&n); err != nil || n == 0 {
		t.Fatalf("undo: %d unfolded vendors, %v", n, err)
	}
	s.Close()

	s = open(t, path)
	defer s.Close()
	for _, v := range []string{"chemking", "CHEMKING", "химлаб", "ХИМЛАБ"} {
		p, err := s.QueryAlerts(ctx, precwatch.AlertQuery{Vendor: v, Sort: precwatch.SortOldest})
		if err != nil || p.Total == 0 || p.Total != len(p.Alerts) {
			t.Errorf("vendor %s after the upgrade: %d of %d, %v", v, len(p.Alerts), p.Total, err)
		}
		for i := 1; i < len(p.Alerts); i++ {
			if p.Alerts[i].CreatedAt.Before(p.Alerts[i-1].CreatedAt) {
				t.Errorf("vendor %s: oldest first out of order at %d", v, i)
			}
		}
	}
}
