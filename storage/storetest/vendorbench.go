package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// VendorBenchListings is how many listings BenchVendorProfile seeds: 200
// vendor accounts on five sites, 50 listings each, with their alerts.
const VendorBenchListings = 10000

// BenchVendorProfile seeds VendorBenchListings synthetic listings (see
// Synthetic) carrying their vendor's wallet and, for some, a PGP key
// shared with accounts of the same handle on other sites, through RecordPage in
// batches of 100, then times LoadVendorProfile (listings, alerts,
// identifiers, links, hints) of a linked vendor and LoadVendorLinks (what
// the alert detail reads).
func BenchVendorProfile(b *testing.B, s precwatch.Store) {
	vs, ok := s.(precwatch.VendorReader)
	if !ok {
		b.Fatalf("%T keeps no vendor profiles", s)
	}
	ctx := context.Background()
	obs := Synthetic(VendorBenchListings, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	// Account v is handle vendor-<v%40> on site (v/40)%5: each handle is
	// on all five sites (four hints each). Accounts v and v+40 with v%10
	// == 0 also share a PGP key (a link); each account has its wallet.
	sites := []string{"silkvault", "agora2", "chemshop", "darkbay", "nexus"}
	for i := range obs {
		v := (i * 7919) % 200
		o := &obs[i]
		o.Listing.Site, o.Listing.Vendor = sites[(v/40)%5], fmt.Sprintf("vendor-%02d", v%40)
		o.Listing.PageSHA256 = "" // no evidence pages: the profile reads none
		o.Listing.Identifiers = []precwatch.VendorID{{Kind: "btc", Value: fmt.Sprintf("bc1qbench%03d", v)}}
		if v%10 == 0 && (v/40)%2 == 0 {
			o.Listing.Identifiers = append(o.Listing.Identifiers, precwatch.VendorID{Kind: "pgp-fingerprint", Value: fmt.Sprintf("%040X", v%40)})
		}
	}
	start := time.Now()
	for chunk := range slices.Chunk(obs, 100) {
		if _, err := s.RecordPage(ctx, nil, chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d listings in %v", len(obs), time.Since(start))
	ref := precwatch.VendorRef{Site: "silkvault", Handle: "vendor-00"} // linked by its key to two accounts
	p, err := precwatch.LoadVendorProfile(ctx, vs, ref)
	if err != nil || len(p.Links) == 0 || len(p.Hints) == 0 {
		b.Fatalf("profile of %s: %d links, %d hints (%v); want some of each", ref, len(p.Links), len(p.Hints), err)
	}
	b.Logf("profile of %s: %d listings, %d alerts, %d links, %d hints", ref, len(p.Listings), len(p.Alerts), len(p.Links), len(p.Hints))
	b.Run("Profile", func(b *testing.B) {
		for b.Loop() {
			if _, err := precwatch.LoadVendorProfile(ctx, vs, ref); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Links", func(b *testing.B) {
		for b.Loop() {
			if _, err := precwatch.LoadVendorLinks(ctx, vs, ref); err != nil {
				b.Fatal(err)
			}
		}
	})
}
