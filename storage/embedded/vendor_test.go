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
	// Back to schema 9.
	if _, err := s.db.ExecContext(ctx, `
DROP TRIGGER listings_vendor_ids_insert;
DROP TRIGGER listings_vendor_ids_update;
DROP INDEX listings_vendor;
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
