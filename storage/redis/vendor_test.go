package redis

import (
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
)

// TestMigrateVendorIndexes: listings written before the vendor indexes
// (schema 4) are indexed when a store opens, so that they link.
func TestMigrateVendorIndexes(t *testing.T) {
	url := redistest.Start(t) + "?prefix=v4"
	ctx := t.Context()
	s := open(t, url)
	wallet := precwatch.VendorID{Kind: "btc", Value: "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"}
	obs := storetest.Synthetic(2, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	for i, o := range obs {
		o.Listing.Vendor = []string{"alpha", "beta"}[i]
		o.Listing.Identifiers = []precwatch.VendorID{wallet}
		if _, err := s.Record(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	a := precwatch.VendorRef{Site: obs[0].Listing.Site, Handle: "alpha"}
	// Back to the schema-4 layout: no vendor keys.
	for _, pattern := range []string{"{v4}:vendor:*", "{v4}:vendorid:*"} {
		keys, err := s.rdb.Keys(ctx, pattern).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) == 0 {
			t.Fatalf("no keys %s before the rollback", pattern)
		}
		s.rdb.Del(ctx, keys...)
	}
	s.rdb.Set(ctx, "{v4}:schema", 4, 0)
	if _, err := precwatch.LoadVendorProfile(ctx, s, a); err == nil {
		t.Fatal("profile found with no vendor indexes")
	}
	s.Close()

	s2 := open(t, url)
	defer s2.Close()
	p, err := precwatch.LoadVendorProfile(ctx, s2, a)
	if err != nil || len(p.Links) != 1 || p.Links[0].Vendor.Handle != "beta" {
		t.Fatalf("after reopening: %+v, %v; want alpha linked to beta", p.Links, err)
	}
	if v, err := s2.rdb.Get(ctx, "{v4}:schema").Int(); err != nil || v != schemaVersion {
		t.Errorf("schema = %d, %v", v, err)
	}
}
