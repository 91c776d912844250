package storetest

// Vendor profiles (issue 11): identifiers stored with listings and vendor
// pages, and links between sellers only on shared strong identifiers.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// Identifiers as vendorid reports them (normalised values). The key
// fingerprint and wallets are made up; the stores do not verify them.
var (
	idKey    = precwatch.VendorID{Kind: "pgp-fingerprint", Value: "5B1E0A3C9D7F24E6A18B0C2D4E6F8091A2B3C4D5"}
	idBTC    = precwatch.VendorID{Kind: "btc", Value: "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"}
	idOther  = precwatch.VendorID{Kind: "btc", Value: "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"}
	idXMPP   = precwatch.VendorID{Kind: "xmpp", Value: "oxy@jabber.example"}
	idUnused = precwatch.VendorID{Kind: "session", Value: "05" + "ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12"}
)

// vendorBackend is a store with vendor profiles.
type vendorBackend interface {
	precwatch.Store
	precwatch.VendorStore
}

func vendorStore(t *testing.T, s precwatch.Store) vendorBackend {
	t.Helper()
	vs, ok := s.(vendorBackend)
	if !ok {
		t.Fatalf("%T does not implement precwatch.VendorStore", s)
	}
	return vs
}

// sold is a sighting of listing id on site by vendor, carrying ids.
func sold(site, id, vendor string, at time.Time, ids []precwatch.VendorID, ms ...precwatch.Match) precwatch.Observation {
	o := obs(site, id, 40, at, "run-"+site, ms...)
	o.Listing.Vendor, o.Listing.Identifiers = vendor, ids
	return o
}

func profile(t *testing.T, s precwatch.VendorReader, v precwatch.VendorRef) precwatch.VendorProfile {
	t.Helper()
	p, err := precwatch.LoadVendorProfile(context.Background(), s, v)
	if err != nil {
		t.Fatalf("LoadVendorProfile(%s): %v", v, err)
	}
	return p
}

func recordVendorPage(t *testing.T, s precwatch.VendorStore, p *precwatch.Page, sg precwatch.VendorPageSighting) precwatch.VendorPage {
	t.Helper()
	vp, err := s.RecordVendorPage(context.Background(), p, sg)
	if err != nil {
		t.Fatalf("RecordVendorPage(%s): %v", sg.Vendor, err)
	}
	return vp
}

// testVendorLinks: one seller with two handles on two markets shares a
// PGP key (in listings on both) and a wallet (in a listing on one, on the
// vendor page on the other); a decoy shares the handle only; a third
// vendor shares nothing.
func testVendorLinks(t *testing.T, factory func() precwatch.Store) {
	s := vendorStore(t, client(t, factory))
	oxy := precwatch.VendorRef{Site: "silkvault", Handle: "OxyDirect"}
	drOxy := precwatch.VendorRef{Site: "agora2", Handle: "dr_oxy"}
	decoy := precwatch.VendorRef{Site: "agora2", Handle: "oxydirect"}
	other := precwatch.VendorRef{Site: "agora2", Handle: "kaliman"}

	record(t, s, sold("silkvault", "sv-1", "OxyDirect", t0, []precwatch.VendorID{idKey, idBTC}, peroxide(35)))
	record(t, s, sold("silkvault", "sv-2", "OxyDirect", t0.Add(time.Hour), []precwatch.VendorID{idKey}))
	record(t, s, sold("agora2", "ag-1", "dr_oxy", t0.Add(2*time.Hour), []precwatch.VendorID{idKey}, peroxide(50)))
	record(t, s, sold("agora2", "ag-2", "oxydirect", t0.Add(3*time.Hour), []precwatch.VendorID{idOther}, peroxide(30)))
	record(t, s, sold("agora2", "ag-3", "kaliman", t0.Add(3*time.Hour), nil))
	body := []byte("<html><body><h1>dr_oxy</h1><p>BTC bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh</p></body></html>")
	page := &precwatch.Page{SHA256: sha(body), Site: "agora2", URL: "http://agora2.test/u/dr_oxy", FetchedAt: t0.Add(5 * time.Hour), ContentType: "text/html", Body: body}
	recordVendorPage(t, s, page, precwatch.VendorPageSighting{Vendor: drOxy, URL: page.URL, PageSHA256: page.SHA256, At: t0.Add(5 * time.Hour),
		Identifiers: []precwatch.VendorID{idBTC, idXMPP}})
	if got, err := s.Page(context.Background(), page.SHA256); err != nil || !slices.Equal(got.Body, body) {
		t.Fatalf("vendor page evidence: %v", err)
	}

	p := profile(t, s, oxy)
	// The seller's listings and alerts: on both its accounts, not the decoy's.
	var listed []string
	for _, st := range p.Listings {
		listed = append(listed, st.Listing.Site+"/"+st.Listing.ID)
	}
	slices.Sort(listed)
	if want := []string{"agora2/ag-1", "silkvault/sv-1", "silkvault/sv-2"}; !slices.Equal(listed, want) {
		t.Errorf("listings = %q, want %q", listed, want)
	}
	if len(p.Alerts) != 2 || p.Alerts[0].Site != "agora2" || p.Alerts[1].Site != "silkvault" {
		t.Errorf("alerts = %+v, want those of ag-1 (50%%) and sv-1", p.Alerts)
	}
	if !slices.Equal(p.Accounts, []precwatch.VendorRef{oxy, drOxy}) {
		t.Errorf("accounts = %v", p.Accounts)
	}
	if !p.FirstSeen.Equal(t0) || !p.LastSeen.Equal(t0.Add(time.Hour)) {
		t.Errorf("seen %v..%v, want %v..%v", p.FirstSeen, p.LastSeen, t0, t0.Add(time.Hour))
	}
	if len(p.Identifiers) != 2 || p.Identifiers[0].VendorID != idKey || p.Identifiers[1].VendorID != idBTC {
		t.Errorf("identifiers = %+v, want key then wallet", p.Identifiers)
	}
	if len(p.Links) != 1 || p.Links[0].Vendor != drOxy {
		t.Fatalf("links = %+v, want dr_oxy@agora2 only", p.Links)
	}
	l := p.Links[0]
	want := []precwatch.LinkReason{
		// Key: both had it by 2h (dr_oxy's first); last seen 2h (dr_oxy's listing).
		{VendorID: idKey, FirstSeen: t0.Add(2 * time.Hour), LastSeen: t0.Add(2 * time.Hour)},
		// Wallet: on silkvault at 0h, on dr_oxy's page at 5h.
		{VendorID: idBTC, FirstSeen: t0.Add(5 * time.Hour), LastSeen: t0.Add(5 * time.Hour)},
	}
	if len(l.Reasons) != len(want) {
		t.Fatalf("reasons = %+v, want %+v", l.Reasons, want)
	}
	for i := range want {
		if g := l.Reasons[i]; g.VendorID != want[i].VendorID || !g.FirstSeen.Equal(want[i].FirstSeen) || !g.LastSeen.Equal(want[i].LastSeen) {
			t.Errorf("reason %d = %+v, want %+v", i, g, want[i])
		}
	}
	if !l.FirstSeen.Equal(t0.Add(2*time.Hour)) || !l.LastSeen.Equal(t0.Add(5*time.Hour)) || l.Listings != 1 || l.Alerts != 1 {
		t.Errorf("link = %+v", l)
	}
	// The same handle, folded, on another account: a hint, never a link.
	if len(p.Hints) != 1 || p.Hints[0].Vendor != decoy {
		t.Errorf("hints = %+v, want %s", p.Hints, decoy)
	}
	if !slices.IsSortedFunc(p.Timeline, func(a, b precwatch.VendorEvent) int { return a.At.Compare(b.At) }) {
		t.Errorf("timeline not in time order: %+v", p.Timeline)
	}

	// VendorListings keeps to its limit, in key order.
	all, err := s.VendorListings(context.Background(), oxy, 0)
	one, err1 := s.VendorListings(context.Background(), oxy, 1)
	if err != nil || err1 != nil || len(all) != 2 || len(one) != 1 || one[0].Key != min(all[0].Key, all[1].Key) || all[0].Key > all[1].Key {
		t.Errorf("VendorListings: %d (%v), limit 1: %d (%v); want 2 by key, then the first", len(all), err, len(one), err1)
	}

	// Links only: the same links, the account's own listings, no alerts.
	lo, err := precwatch.LoadVendorLinks(context.Background(), s, oxy)
	if err != nil || len(lo.Links) != 1 || len(lo.Listings) != 2 || len(lo.Alerts) != 0 || len(lo.Hints) != 1 {
		t.Errorf("LoadVendorLinks = %+v, %v", lo, err)
	}

	// The link is symmetric, and dr_oxy's page identifiers are its own.
	q := profile(t, s, drOxy)
	if len(q.Links) != 1 || q.Links[0].Vendor != oxy || len(q.Links[0].Reasons) != 2 {
		t.Errorf("dr_oxy links = %+v, want OxyDirect by key and wallet", q.Links)
	}
	if q.Page == nil || q.Page.URL != page.URL || len(q.Identifiers) != 3 {
		t.Errorf("dr_oxy page = %+v, identifiers %+v", q.Page, q.Identifiers)
	}
	if len(q.Hints) != 0 {
		t.Errorf("dr_oxy hints = %+v, want none", q.Hints)
	}
	// The decoy and the unrelated vendor are linked to nobody.
	for _, v := range []precwatch.VendorRef{decoy, other} {
		if d := profile(t, s, v); len(d.Links) != 0 {
			t.Errorf("%s links = %+v, want none", v, d.Links)
		}
	}
	if d := profile(t, s, decoy); len(d.Hints) != 1 || d.Hints[0].Vendor != oxy {
		t.Errorf("decoy hints = %+v, want %s", d.Hints, oxy)
	}
	// Nothing of an unknown vendor.
	if _, err := precwatch.LoadVendorProfile(context.Background(), s, precwatch.VendorRef{Site: "agora2", Handle: "nobody"}); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("unknown vendor: err = %v, want ErrNotFound", err)
	}
	if refs, err := s.VendorsWith(context.Background(), idUnused, 0); err != nil || len(refs) != 0 {
		t.Errorf("VendorsWith(unused) = %v, %v", refs, err)
	}
	refs, err := s.VendorsWith(context.Background(), idKey, 0)
	if err != nil || !slices.Equal(refs, []precwatch.VendorRef{drOxy, oxy}) {
		t.Errorf("VendorsWith(key) = %v, %v; want [%s %s]", refs, err, drOxy, oxy)
	}
}

// testVendorChanges: a listing that drops an identifier or changes vendor
// no longer links by it, and another client sees the same.
func testVendorChanges(t *testing.T, factory func() precwatch.Store) {
	s := vendorStore(t, client(t, factory))
	a := precwatch.VendorRef{Site: "silkvault", Handle: "alpha"}
	b := precwatch.VendorRef{Site: "agora2", Handle: "beta"}
	record(t, s, sold("silkvault", "sv-1", "alpha", t0, []precwatch.VendorID{idBTC}))
	record(t, s, sold("agora2", "ag-1", "beta", t0, []precwatch.VendorID{idBTC}))
	if p := profile(t, s, a); len(p.Links) != 1 {
		t.Fatalf("links = %+v, want beta", p.Links)
	}
	// beta's listing no longer shows the wallet.
	record(t, s, sold("agora2", "ag-1", "beta", t0.Add(time.Hour), []precwatch.VendorID{idOther}))
	if p := profile(t, s, a); len(p.Links) != 0 {
		t.Errorf("links after the wallet was dropped = %+v, want none", p.Links)
	}
	// alpha's listing moves to another vendor: alpha has nothing left.
	record(t, s, sold("silkvault", "sv-1", "gamma", t0.Add(time.Hour), []precwatch.VendorID{idOther}))
	if _, err := precwatch.LoadVendorProfile(context.Background(), s, a); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("alpha after its listing moved: err = %v, want ErrNotFound", err)
	}
	s2 := vendorStore(t, client(t, factory))
	p := profile(t, s2, b)
	if len(p.Links) != 1 || p.Links[0].Vendor != (precwatch.VendorRef{Site: "silkvault", Handle: "gamma"}) || p.Links[0].Reasons[0].VendorID != idOther {
		t.Errorf("beta links = %+v, want gamma by the other wallet", p.Links)
	}
}

// testVendorPages: merging sightings is idempotent, keeps identifiers the
// page no longer shows, and an older sighting only widens first-seen.
func testVendorPages(t *testing.T, factory func() precwatch.Store) {
	s := vendorStore(t, client(t, factory))
	ctx := context.Background()
	v := precwatch.VendorRef{Site: "silkvault", Handle: "OxyDirect"}
	if _, err := s.VendorPage(ctx, v); !errors.Is(err, precwatch.ErrNotFound) {
		t.Fatalf("VendorPage before any: err = %v, want ErrNotFound", err)
	}
	first := precwatch.VendorPageSighting{Vendor: v, URL: "http://silkvault.test/vendor/OxyDirect", At: t0.Add(time.Hour),
		Identifiers: []precwatch.VendorID{idKey, idBTC, idKey}}
	got := recordVendorPage(t, s, nil, first)
	again := recordVendorPage(t, s, nil, first)
	if len(got.Identifiers) != 2 || len(again.Identifiers) != 2 || !again.LastSeen.Equal(first.At) {
		t.Fatalf("after one sighting twice: %+v", again)
	}
	later := first
	later.At, later.Identifiers = t0.Add(3*time.Hour), []precwatch.VendorID{idKey}
	recordVendorPage(t, s, nil, later)
	earlier := first
	earlier.At, earlier.URL, earlier.Identifiers = t0, "http://old.test/", []precwatch.VendorID{idBTC}
	recordVendorPage(t, s, nil, earlier)

	s2 := vendorStore(t, client(t, factory))
	p, err := s2.VendorPage(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	if !p.FirstSeen.Equal(t0) || !p.LastSeen.Equal(t0.Add(3*time.Hour)) || p.URL != first.URL {
		t.Errorf("page seen %v..%v at %s, want %v..%v at %s", p.FirstSeen, p.LastSeen, p.URL, t0, t0.Add(3*time.Hour), first.URL)
	}
	if len(p.Identifiers) != 2 {
		t.Fatalf("identifiers = %+v, want the key and the wallet (kept)", p.Identifiers)
	}
	key, wallet := p.Identifiers[0], p.Identifiers[1]
	if key.VendorID != idKey || !key.FirstSeen.Equal(t0.Add(time.Hour)) || !key.LastSeen.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("key = %+v", key)
	}
	if wallet.VendorID != idBTC || !wallet.FirstSeen.Equal(t0) || !wallet.LastSeen.Equal(t0.Add(time.Hour)) {
		t.Errorf("wallet = %+v", wallet)
	}
	// A vendor with only a page has a profile.
	if pr := profile(t, s2, v); pr.Page == nil || len(pr.Listings) != 0 {
		t.Errorf("page-only profile = %+v", pr)
	}
	// Bad input: no site, or a page whose hash is not its body's.
	if _, err := s.RecordVendorPage(ctx, nil, precwatch.VendorPageSighting{At: t0}); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("no site: err = %v, want ErrInvalid", err)
	}
	bad := &precwatch.Page{SHA256: sha([]byte("x")), Site: "silkvault", URL: "http://silkvault.test/", Body: []byte("y"), FetchedAt: t0}
	if _, err := s.RecordVendorPage(ctx, bad, first); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("wrong hash: err = %v, want ErrInvalid", err)
	}
}

// testVendorCommon: an identifier on more than MaxLinkedVendors accounts
// (a market's support address) is reported as common and links nobody,
// while a key two of them share still links.
func testVendorCommon(t *testing.T, factory func() precwatch.Store) {
	s := vendorStore(t, client(t, factory))
	support := precwatch.VendorID{Kind: "email", Value: "support@market.example"}
	for i := range precwatch.MaxLinkedVendors + 2 {
		ids := []precwatch.VendorID{support}
		if i < 2 {
			ids = append(ids, idKey)
		}
		record(t, s, sold("agora2", fmt.Sprintf("ag-%d", i), fmt.Sprintf("v%02d", i), t0, ids))
	}
	p := profile(t, s, precwatch.VendorRef{Site: "agora2", Handle: "v00"})
	if !slices.Equal(p.Common, []precwatch.VendorID{support}) {
		t.Errorf("common = %v, want the support address", p.Common)
	}
	if len(p.Links) != 1 || p.Links[0].Vendor.Handle != "v01" || len(p.Links[0].Reasons) != 1 || p.Links[0].Reasons[0].VendorID != idKey {
		t.Errorf("links = %+v, want v01 by the key only", p.Links)
	}
	if p := profile(t, s, precwatch.VendorRef{Site: "agora2", Handle: "v05"}); len(p.Links) != 0 {
		t.Errorf("v05 links = %+v, want none", p.Links)
	}
}
