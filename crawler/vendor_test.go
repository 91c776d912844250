package crawler

import (
	"slices"
	"strings"
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/fixtures"
)

// TestFixtureVendorLinks crawls both fixture dark-web markets into one
// store and checks what vendor profiles make of them: OxyDirect on
// silkvault and dr_oxy on agora2 are one seller (same PGP key, same
// wallet, both read from their vendor pages), StealthLab and chemiker share
// a Session ID, and the two KaliKing accounts share only their handle,
// which is a hint and no link. agora2's footer support address is outside
// its vendor_page rule and links nobody.
func TestFixtureVendorLinks(t *testing.T) {
	m, err := fixtures.Start(t.Context(), fixtures.Options{})
	if err != nil {
		t.Fatalf("fixtures.Start: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	e := &env{store: openStore(t)}
	for _, site := range m.Sites()[:2] {
		run, err := e.run(t, site)
		if err != nil || run.Status != precwatch.RunOK {
			t.Fatalf("run %s: %v, status %s, errors %q", site.Name, err, run.Status, run.Errors)
		}
	}
	s := e.store.(precwatch.VendorReader)
	profiles := map[string]fixtures.VendorProfile{}
	for _, p := range fixtures.VendorProfiles() {
		profiles[p.Market+"/"+p.Vendor] = p
	}
	load := func(site, handle string) precwatch.VendorProfile {
		t.Helper()
		p, err := precwatch.LoadVendorProfile(t.Context(), s, precwatch.VendorRef{Site: site, Handle: handle})
		if err != nil {
			t.Fatalf("LoadVendorProfile(%s@%s): %v", handle, site, err)
		}
		return p
	}

	oxy := load("silkvault", "OxyDirect")
	if oxy.Page == nil || !strings.HasSuffix(oxy.Page.URL, "/vendor/OxyDirect") || oxy.Page.PageSHA256 == "" {
		t.Fatalf("OxyDirect page = %+v", oxy.Page)
	}
	if page, err := e.store.Page(t.Context(), oxy.Page.PageSHA256); err != nil || !strings.Contains(string(page.Body), "BEGIN PGP PUBLIC KEY BLOCK") {
		t.Errorf("vendor page evidence: %v", err)
	}
	// The seller's listings on both markets.
	if got, want := len(oxy.Listings), len(listingsOf("silkvault", "OxyDirect"))+len(listingsOf("agora2", "dr_oxy")); got != want || want < 8 {
		t.Errorf("OxyDirect listings = %d, want %d", got, want)
	}
	if len(oxy.Links) != 1 || oxy.Links[0].Vendor != (precwatch.VendorRef{Site: "agora2", Handle: "dr_oxy"}) {
		t.Fatalf("OxyDirect links = %+v, want dr_oxy@agora2", oxy.Links)
	}
	fp := profiles["silkvault/OxyDirect"].Fingerprint
	wallet := strings.TrimPrefix(profiles["silkvault/OxyDirect"].Payments[0], "BTC ")
	var reasons []string
	for _, r := range oxy.Links[0].Reasons {
		reasons = append(reasons, r.Kind+":"+r.Value)
		if r.FirstSeen.IsZero() || r.LastSeen.Before(r.FirstSeen) {
			t.Errorf("reason %s seen %v..%v", r.Value, r.FirstSeen, r.LastSeen)
		}
	}
	if want := []string{"pgp-fingerprint:" + fp, "btc:" + wallet}; !slices.Equal(reasons, want) {
		t.Errorf("OxyDirect link reasons = %q, want %q", reasons, want)
	}
	if len(oxy.Hints) != 0 {
		t.Errorf("OxyDirect hints = %+v, want none", oxy.Hints)
	}

	// Only the handle in common: a hint both ways, never a link.
	for _, site := range []string{"silkvault", "agora2"} {
		k := load(site, "KaliKing")
		if len(k.Links) != 0 || len(k.Hints) != 1 || k.Hints[0].Vendor.Handle != "KaliKing" || k.Hints[0].Vendor.Site == site {
			t.Errorf("KaliKing@%s links %+v hints %+v; want one hint, no link", site, k.Links, k.Hints)
		}
		if len(k.Identifiers) < 2 {
			t.Errorf("KaliKing@%s identifiers = %+v, want its key and wallet", site, k.Identifiers)
		}
	}

	// A shared contact links.
	st := load("silkvault", "StealthLab")
	if len(st.Links) != 1 || st.Links[0].Vendor.Handle != "chemiker" || st.Links[0].Reasons[0].Kind != "session" {
		t.Errorf("StealthLab links = %+v, want chemiker by Session ID", st.Links)
	}

	// Vendors without a profile block link nobody, whatever the market's
	// footer says.
	for _, v := range []string{"acidrain", "benign_bob"} {
		p := load("agora2", v)
		if len(p.Identifiers) != 0 || len(p.Links) != 0 {
			t.Errorf("%s identifiers %+v links %+v; want none", v, p.Identifiers, p.Links)
		}
	}
}

func listingsOf(market, vendor string) []fixtures.Listing {
	var out []fixtures.Listing
	for _, l := range fixtures.MarketListings(market) {
		if l.Vendor == vendor {
			out = append(out, l)
		}
	}
	return out
}

func TestIdentifiers(t *testing.T) {
	k := fixtures.VendorProfiles()[0]
	text := "Escrow only. " + k.PGP + " " + k.Payments[0] + " again " + k.Payments[0] + " bc1qnotavalidaddress000000000000000000000"
	got := identifiers(text)
	want := []precwatch.VendorID{{Kind: "pgp-fingerprint", Value: k.Fingerprint}, {Kind: "btc", Value: strings.TrimPrefix(k.Payments[0], "BTC ")}}
	if !slices.Equal(got, want) {
		t.Errorf("identifiers = %+v, want %+v", got, want)
	}
	var many strings.Builder
	for i := range 100 {
		many.WriteString("seller" + strings.Repeat("x", i%10) + string(rune('a'+i%26)) + "@mail.example ")
	}
	if got := identifiers(many.String()); len(got) != precwatch.MaxVendorIDs {
		t.Errorf("identifiers kept %d, want the first %d", len(got), precwatch.MaxVendorIDs)
	}
}

// TestVendorPageMissing: a vendor link that leads nowhere (404) is logged,
// not a run error: the run ends ok and its listings are all recorded.
func TestVendorPageMissing(t *testing.T) {
	m, err := fixtures.Start(t.Context(), fixtures.Options{})
	if err != nil {
		t.Fatalf("fixtures.Start: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	site := m.Sites()[1]                   // agora2
	site.Extract.VendorURL = "td.ref code" // "/c/<id>": no such page
	e := &env{store: openStore(t)}
	before := m.Requests(site.Name)
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || len(run.Errors) != 0 {
		t.Fatalf("run: %v, status %s, errors %q; want ok", err, run.Status, run.Errors)
	}
	want := len(fixtures.MarketListings(site.Name))
	if got := len(e.listings(t)); got != want {
		t.Errorf("recorded %d listings, want %d", got, want)
	}
	// The missing vendor pages were asked for (404s are not retried).
	if got := m.Requests(site.Name) - before; got <= 21 {
		t.Errorf("market served %d requests: no vendor page was asked for", got)
	}
}
