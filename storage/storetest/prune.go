package storetest

// Retention (precwatch.Pruner): what Prune deletes and what it keeps, in
// one store built over 200 days of crawls; the evidence of every alert and
// the state of every listing after it; a 304 replay and a new alert on
// old sources after it; and prunes racing writers.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// RunPrune runs the retention suite; open is as for Run.
func RunPrune(t *testing.T, open func(t *testing.T) func() precwatch.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, factory func() precwatch.Store)
	}{
		{"DeletesOld", testPruneDeletesOld},
		{"FetchStateBody", testPruneFetchStateBody},
		{"OldSourcesNewAlert", testPruneOldSourcesNewAlert},
		{"RacingWriters", testPruneRacingWriters},
		{"Invalid", testPruneInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			factory := open(t)
			tc.fn(t, factory)
		})
	}
}

const day = 24 * time.Hour

// EvidenceIntact fails unless every alert's evidence is stored: the page
// and each fetch its listing snapshot names, the page and fetches of each
// history event, and each such fetch's body; and the same for every
// listing's current state (a later alert on it needs them). It returns
// how many alerts it checked.
func EvidenceIntact(t testing.TB, s precwatch.Store) int {
	t.Helper()
	ctx := context.Background()
	as, err := s.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	checked := map[string]bool{}
	page := func(what, sha string) {
		if sha == "" || checked["p"+sha] {
			return
		}
		checked["p"+sha] = true
		if _, err := s.Page(ctx, sha); err != nil {
			t.Errorf("%s: page %s: %v", what, sha, err)
		}
	}
	fetch := func(what, id string) {
		if checked["f"+id] {
			return
		}
		checked["f"+id] = true
		f, err := s.Fetch(ctx, id)
		if err != nil {
			t.Errorf("%s: fetch %s: %v", what, id, err)
			return
		}
		page(what+": fetch "+id+" body", f.BodySHA256)
	}
	for _, a := range as {
		what := "alert " + a.Key
		page(what, a.Listing.PageSHA256)
		for _, id := range a.Listing.FetchIDs() {
			fetch(what, id)
		}
		for _, e := range a.History {
			page(what+" "+e.Kind, e.PageSHA256)
			for _, id := range e.Fetches {
				fetch(what+" "+e.Kind, id)
			}
		}
	}
	if err := s.Listings(ctx, "", func(st precwatch.ListingState) error {
		what := "listing " + st.Listing.Identity()
		page(what, st.Listing.PageSHA256)
		for _, id := range st.Listing.FetchIDs() {
			fetch(what, id)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return len(as)
}

// seen is a sighting of listing id read from page p (its fetch made it).
func seen(p *precwatch.Page, id string, price float64, ms ...precwatch.Match) precwatch.Observation {
	o := obs(p.Site, id, price, p.Fetch.At, p.Fetch.RunID, ms...)
	o.Listing.PageSHA256, o.Listing.FetchedAt = p.SHA256, p.Fetch.At
	o.Listing.Sources = precwatch.IndexSources(o.Listing, p.Fetch.ID)
	return o
}

// replayed is a 304 answer to url, read again from the stored body sha.
func replayed(site, run, url string, at time.Time, sha string) *precwatch.Page {
	f := &precwatch.Fetch{
		ID: precwatch.FetchID(site, run, url, at, sha), Site: site, RunID: run, URL: url, FinalURL: url, At: at,
		Method: http.MethodGet, Status: http.StatusNotModified, Proto: "HTTP/1.1",
		RequestHeaders: http.Header{"If-None-Match": {`"` + sha[:8] + `"`}}, BodySHA256: sha,
	}
	return &precwatch.Page{SHA256: sha, Site: site, URL: url, FetchedAt: at, Stored: true, Fetch: f}
}

func recordPage(t testing.TB, s precwatch.Store, p *precwatch.Page, os ...precwatch.Observation) {
	t.Helper()
	if _, err := s.RecordPage(context.Background(), p, os); err != nil {
		t.Fatalf("RecordPage: %v", err)
	}
}

// pruneWorld is a store after 200 days of crawls of two sites; names are
// those of testPruneDeletesOld's table.
type pruneWorld struct {
	now    time.Time
	policy precwatch.PrunePolicy
	fetch  map[string]string // name → fetch ID
	page   map[string]string // name → SHA-256
	run    map[string]string // name → run ID
	state  map[string]string // URL → the body its fetch state names
	l5     precwatch.Observation
}

func (w *pruneWorld) ago(days int) time.Time { return w.now.Add(-time.Duration(days) * day) }

// The silkvault URLs of the world.
const (
	pwIndex  = "http://silkvault.test/c/1"
	pwIndex2 = "http://silkvault.test/c/2"
	pwIndex3 = "http://silkvault.test/c/3"
	pwEmpty  = "http://silkvault.test/c/empty"
	pwDetail = "http://silkvault.test/item/L5"
)

// buildPruneWorld writes, day by day (d200 is 200 days ago):
//
//	d200 run r200: c/1 200 (body B1: L1 25 EUR alerting, L2 not), c/2 200
//	     (B2: L3 alerting), c/empty 200 (B4, no listing), L5's detail page
//	     200 (D5; L5 does not alert), a vendor page (Bvendor)
//	d190 r190: c/1 304, c/2 200 (B2 again), c/empty 304
//	d180 r180: c/1 200 (B3: L1 now 30 EUR, a change), c/2 304
//	d170, d160, d150 (r170, r160, r150): c/1 304, c/2 304
//	d140 r140, still running: c/3 200 (B140)
//	d100 r100 (partial): c/1 304, c/2 304
//	d10 r10: c/1 304, c/2 304
//	agora2: an orphan page saved at d300; run r130 blocked at d130 on page
//	     Bblock; runs at d20..d16, the last blocked on Bblock2 (saved d100);
//	     a page saved at d300 and again at d5 (Bresaved)
//
// The policy prunes fetches and pages older than 90 days, runs older
// than 120.
func buildPruneWorld(t *testing.T, s precwatch.Store) *pruneWorld {
	t.Helper()
	ctx := context.Background()
	w := &pruneWorld{now: time.Now().UTC(), fetch: map[string]string{}, page: map[string]string{}, run: map[string]string{}, state: map[string]string{}}
	w.policy = precwatch.PrunePolicy{FetchesBefore: w.ago(90), RunsBefore: w.ago(120)}
	const site = "silkvault"
	body := func(name string, text string) []byte {
		b := []byte(fmt.Sprintf("<html><body><h1>%s</h1><p>%s</p></body></html>", name, text))
		w.page[name] = sha(b)
		return b
	}
	b1 := body("B1", "L1 Hydrogen peroxide 30% 1 L 25 EUR; L2 nitric acid 2% 10 EUR")
	b2 := body("B2", "L3 nitromethane 40 EUR")
	b3 := body("B3", "L1 Hydrogen peroxide 30% 1 L 30 EUR; L2 nitric acid 2% 10 EUR")
	b4 := body("B4", "no listings")
	d5 := body("D5", "L5 nitric acid 2% 8 EUR, full description")
	b140 := body("B140", "page 3")
	run := func(name string, d int, status precwatch.RunStatus) string {
		id := fmt.Sprintf("%s-%s", site, name)
		r := precwatch.Run{ID: id, Site: site, Start: w.ago(d), Status: status,
			WARCs: []precwatch.WARCFile{{Path: id + ".warc.gz", Size: 100, SHA256: sha([]byte(id)), Records: 2}}}
		if status != precwatch.RunRunning {
			r.End = r.Start.Add(time.Hour)
		}
		if err := s.SaveRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		w.run[name] = id
		return id
	}
	get := func(name, run, url string, d int, b []byte) *precwatch.Page {
		p := fetched(site, run, url, w.ago(d).Add(time.Minute), b)
		w.fetch[name] = p.Fetch.ID
		return p
	}
	notMod := func(name, run, url string, d int, sha string) *precwatch.Page {
		p := replayed(site, run, url, w.ago(d).Add(time.Minute), sha)
		w.fetch[name] = p.Fetch.ID
		return p
	}
	keepState := func(url, sha string, d int) {
		if err := s.SaveFetchState(ctx, precwatch.FetchState{Site: site, URL: url, ETag: `"` + sha[:8] + `"`, SHA256: sha, FetchedAt: w.ago(d)}); err != nil {
			t.Fatal(err)
		}
		w.state[url] = sha
	}
	index := func(p *precwatch.Page, price float64) {
		recordPage(t, s, p, seen(p, "L1", price, peroxide(30)), seen(p, "L2", 10, nitricUnder()))
	}
	index2 := func(p *precwatch.Page) { recordPage(t, s, p, seen(p, "L3", 40, nitromethane())) }

	r := run("r200", 200, precwatch.RunOK)
	index(get("F200a", r, pwIndex, 200, b1), 25)
	keepState(pwIndex, w.page["B1"], 200)
	index2(get("F200b", r, pwIndex2, 200, b2))
	keepState(pwIndex2, w.page["B2"], 200)
	recordPage(t, s, get("F200d", r, pwEmpty, 200, b4))
	keepState(pwEmpty, w.page["B4"], 200)
	p := get("F200e", r, pwDetail, 200, d5)
	w.l5 = seen(p, "L5", 8, nitricUnder())
	w.l5.Listing.Sources = precwatch.DetailSources(precwatch.Listing{}, "", w.l5.Listing, p.Fetch.ID)
	recordPage(t, s, p, w.l5)
	vs, ok := s.(precwatch.VendorStore)
	if !ok {
		t.Fatalf("%T is not a VendorStore", s)
	}
	vb := body("Bvendor", "vendor-L1 profile")
	vp := &precwatch.Page{SHA256: sha(vb), Site: site, URL: "http://silkvault.test/vendor/L1", FetchedAt: w.ago(200), ContentType: "text/html", Body: vb}
	if _, err := vs.RecordVendorPage(ctx, vp, precwatch.VendorPageSighting{Vendor: precwatch.VendorRef{Site: site, Handle: "vendor-L1"},
		URL: vp.URL, PageSHA256: vp.SHA256, At: w.ago(200)}); err != nil {
		t.Fatal(err)
	}

	r = run("r190", 190, precwatch.RunOK)
	index(notMod("F190a", r, pwIndex, 190, w.page["B1"]), 25)
	index2(get("F190b", r, pwIndex2, 190, b2))
	recordPage(t, s, notMod("F190d", r, pwEmpty, 190, w.page["B4"]))

	r = run("r180", 180, precwatch.RunOK)
	index(get("F180a", r, pwIndex, 180, b3), 30)
	keepState(pwIndex, w.page["B3"], 180)
	index2(notMod("F180b", r, pwIndex2, 180, w.page["B2"]))

	for _, d := range []int{170, 160, 150} {
		r = run(fmt.Sprintf("r%d", d), d, precwatch.RunOK)
		index(notMod(fmt.Sprintf("F%da", d), r, pwIndex, d, w.page["B3"]), 30)
		index2(notMod(fmt.Sprintf("F%db", d), r, pwIndex2, d, w.page["B2"]))
	}
	r = run("r140", 140, precwatch.RunRunning)
	recordPage(t, s, get("F140", r, pwIndex3, 140, b140))
	r = run("r100", 100, precwatch.RunPartial)
	index(notMod("F100a", r, pwIndex, 100, w.page["B3"]), 30)
	index2(notMod("F100b", r, pwIndex2, 100, w.page["B2"]))
	r = run("r10", 10, precwatch.RunOK)
	index(notMod("F10a", r, pwIndex, 10, w.page["B3"]), 30)
	index2(notMod("F10b", r, pwIndex2, 10, w.page["B2"]))

	// agora2: pages kept without fetch records, and blocked runs.
	save := func(name string, d int) {
		b := body(name, "agora2 "+name)
		if err := s.SavePage(ctx, precwatch.Page{SHA256: sha(b), Site: "agora2", URL: "http://agora2.test/" + name,
			FetchedAt: w.ago(d), ContentType: "text/html", Body: b}); err != nil {
			t.Fatal(err)
		}
	}
	save("Borphan", 300)
	save("Bblock", 130)
	save("Bblock2", 100)
	save("Bresaved", 300)
	save("Bresaved", 5) // a block page seen again: used again
	agoraRun := func(name string, d int, block string) {
		r := precwatch.Run{ID: "agora2-" + name, Site: "agora2", Start: w.ago(d), End: w.ago(d).Add(time.Minute), Status: precwatch.RunOK}
		if block != "" {
			r.Status = precwatch.RunBlocked
			r.Block = &precwatch.RunBlock{Class: precwatch.PageCaptcha, Reason: "captcha", URL: "http://agora2.test/", PageSHA256: w.page[block]}
		}
		if err := s.SaveRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		w.run[name] = r.ID
	}
	agoraRun("r130", 130, "Bblock")
	for d := 20; d >= 17; d-- {
		agoraRun(fmt.Sprintf("r%d", d), d, "")
	}
	agoraRun("r16", 16, "Bblock2")
	return w
}

// exists reports, by name, which of w's fetches, pages and runs are
// stored.
func (w *pruneWorld) exists(t *testing.T, s precwatch.Store) map[string]bool {
	t.Helper()
	ctx := context.Background()
	out := map[string]bool{}
	for name, id := range w.fetch {
		_, err := s.Fetch(ctx, id)
		if err != nil && !errors.Is(err, precwatch.ErrNotFound) {
			t.Fatal(err)
		}
		out[name] = err == nil
	}
	for name, sha := range w.page {
		_, err := s.Page(ctx, sha)
		if err != nil && !errors.Is(err, precwatch.ErrNotFound) {
			t.Fatal(err)
		}
		out[name] = err == nil
	}
	stored := map[string]bool{}
	for _, site := range []string{"silkvault", "agora2"} {
		rs, err := s.Runs(ctx, site, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			stored[r.ID] = true
		}
	}
	for name, id := range w.run {
		out[name] = stored[id]
	}
	return out
}

func countListings(t *testing.T, s precwatch.Store) int {
	t.Helper()
	n := 0
	if err := s.Listings(context.Background(), "", func(precwatch.ListingState) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// testPruneDeletesOld: exactly the old records nothing kept names go; a
// dry run first deletes nothing and reports the same; a second prune
// deletes nothing.
func testPruneDeletesOld(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	w := buildPruneWorld(t, s)
	alerts, listings := EvidenceIntact(t, s), countListings(t, s)
	if alerts != 2 || listings != 4 {
		t.Fatalf("world holds %d alerts and %d listings, want 2 and 4", alerts, listings)
	}
	before := w.exists(t, s)
	for name, ok := range before {
		if !ok {
			t.Fatalf("%s not stored before any prune", name)
		}
	}

	dry := w.policy
	dry.DryRun = true
	dryRep, err := s.Prune(ctx, dry)
	if err != nil {
		t.Fatalf("Prune(dry run): %v", err)
	}
	if got := w.exists(t, s); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Fatalf("a dry run deleted something:\n got %v\nwant %v", got, before)
	}

	rep, err := s.Prune(ctx, w.policy)
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	gone := []string{
		// 304s and 200s that only superseded listing states named.
		"F190a", "F190b", "F190d", "F180b", "F170a", "F170b", "F160a", "F160b", "F150a", "F150b", "F100a", "F100b",
		"F200d", // a page without listings, whose fetch state names its body, not the fetch
		"Borphan", "Bblock",
		"r190", "r170", // their fetches all went, and five newer runs of the site are kept
		"r130", // its block page goes with it
	}
	after := w.exists(t, s)
	for name, ok := range after {
		if want := !slices.Contains(gone, name); ok != want {
			why := map[string]string{
				"F200a": "A1's raised event", "F200b": "A3's raised event", "F180a": "A1's changed event and snapshot",
				"F200e": "L5's listing state", "F140": "a running run's", "B1": "the body of A1's raised fetch",
				"B4": "a fetch state's", "D5": "L5's listing page", "B140": "the body of a kept fetch", "Bvendor": "a vendor page's",
				"Bblock2": "a kept run's block page", "Bresaved": "saved again since the cutoff", "r200": "its fetches are evidence", "r180": "its fetch is evidence",
				"r140": "running", "r160": "among the 5 newest", "r150": "among the 5 newest",
			}[name]
			t.Errorf("%s stored = %v after prune, want %v %s", name, ok, want, why)
		}
	}
	want := precwatch.PruneReport{Fetches: 13, Pages: 2, Runs: 3, FetchesKept: 5, PagesKept: 6}
	got := rep
	got.FetchBytes, got.PageBytes, got.RunBytes, got.WARCFiles = 0, 0, 0, nil
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Prune = %+v\nwant counts %+v", rep, want)
	}
	if rep.FetchBytes <= 0 || rep.PageBytes <= 0 || rep.RunBytes <= 0 {
		t.Errorf("Prune = %+v, want the bytes of what it deleted", rep)
	}
	if got, want := sorted(rep.WARCFiles), []string{"silkvault-r170.warc.gz", "silkvault-r190.warc.gz"}; !slices.Equal(got, want) {
		t.Errorf("WARC files of the deleted runs = %v, want %v", got, want)
	}
	// The dry run reported exactly this.
	dryRep.DryRun = false
	dryRep.WARCFiles, rep.WARCFiles = sorted(dryRep.WARCFiles), sorted(rep.WARCFiles)
	if fmt.Sprint(dryRep) != fmt.Sprint(rep) {
		t.Errorf("dry run reported %+v\n    prune deleted %+v", dryRep, rep)
	}

	// Listings and alerts are never pruned, and every alert keeps its
	// evidence; every fetch state still has its body.
	if a, l := EvidenceIntact(t, s), countListings(t, s); a != alerts || l != listings {
		t.Errorf("after prune %d alerts and %d listings, want %d and %d", a, l, alerts, listings)
	}
	for url, sha := range w.state {
		fs, err := s.FetchState(ctx, "silkvault", url)
		if err != nil || fs.SHA256 != sha {
			t.Fatalf("FetchState(%s) = %+v, %v", url, fs, err)
		}
		if _, err := s.Page(ctx, sha); err != nil {
			t.Errorf("fetch state %s: body %s: %v", url, sha, err)
		}
	}

	again, err := s.Prune(ctx, w.policy)
	if err != nil {
		t.Fatal(err)
	}
	if again.Fetches != 0 || again.Pages != 0 || again.Runs != 0 || again.FetchBytes != 0 || again.PageBytes != 0 || len(again.WARCFiles) != 0 {
		t.Errorf("second prune = %+v, want nothing deleted", again)
	}
	if again.FetchesKept != rep.FetchesKept || again.PagesKept != rep.PagesKept {
		t.Errorf("second prune kept %d fetches and %d pages, the first %d and %d", again.FetchesKept, again.PagesKept, rep.FetchesKept, rep.PagesKept)
	}
}

// testPruneFetchStateBody: a body only a fetch state names (every fetch
// of it pruned) survives, and a 304 answer is recorded from it.
func testPruneFetchStateBody(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	w := buildPruneWorld(t, s)
	if _, err := s.Prune(ctx, w.policy); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fetch(ctx, w.fetch["F200d"]); !errors.Is(err, precwatch.ErrNotFound) {
		t.Fatalf("F200d: %v, want it pruned", err)
	}
	p := replayed("silkvault", "r-now", pwEmpty, w.now, w.state[pwEmpty])
	if _, err := s.RecordPage(ctx, p, nil); err != nil {
		t.Fatalf("RecordPage(304 replay of %s after prune): %v", p.SHA256, err)
	}
	if f := getFetch(t, s, p.Fetch.ID); f.Status != http.StatusNotModified || f.BodySHA256 != w.state[pwEmpty] {
		t.Errorf("replayed fetch = %+v", f)
	}
	// A replay of a body not kept (pruned after a crawler read it) is
	// refused so that the crawler, which has the body, can write it again.
	missing := replayed("silkvault", "r-now", pwEmpty, w.now, sha([]byte("a body pruned meanwhile")))
	if _, err := s.RecordPage(ctx, missing, nil); !errors.Is(err, precwatch.ErrBodyNotStored) || !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("RecordPage(replay of a body not kept) = %v, want ErrBodyNotStored and ErrInvalid", err)
	}
	// c/1's current body too: its 304s were pruned, one recent kept.
	p = replayed("silkvault", "r-now", pwIndex, w.now, w.state[pwIndex])
	recordPage(t, s, p, seen(p, "L1", 30, peroxide(30)), seen(p, "L2", 10, nitricUnder()))
	EvidenceIntact(t, s)
}

// testPruneOldSourcesNewAlert: a listing whose only sources are an old
// fetch (its detail page, read once, long ago) raises a new alert after
// prune: the fetch and page its state names were kept.
func testPruneOldSourcesNewAlert(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	w := buildPruneWorld(t, s)
	if _, err := s.Prune(ctx, w.policy); err != nil {
		t.Fatal(err)
	}
	o := w.l5 // recorded from its stored state, as the crawler does
	o.At, o.RunID = w.now, "r-now"
	o.Matches = append(o.Matches, peroxide(30)) // a new watchlist names it
	res, err := s.RecordPage(ctx, nil, []precwatch.Observation{o})
	if err != nil {
		t.Fatalf("RecordPage(listing with old sources, new alert) after prune: %v", err)
	}
	if len(res[0].NewAlerts) != 1 {
		t.Fatalf("RecordPage = %+v, want one new alert", res)
	}
	a := getAlert(t, s, res[0].NewAlerts[0])
	if got := a.History[0].Fetches; !slices.Equal(got, []string{w.fetch["F200e"]}) {
		t.Errorf("new alert's evidence = %v, want the old detail fetch %s", got, w.fetch["F200e"])
	}
	EvidenceIntact(t, s)
}

func testPruneInvalid(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	if _, err := s.Prune(context.Background(), precwatch.PrunePolicy{}); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("Prune without a cutoff = %v, want ErrInvalid", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Prune(ctx, precwatch.PrunePolicy{FetchesBefore: time.Now()}); err == nil {
		t.Errorf("Prune with a cancelled context succeeded")
	}
}

// testPruneRacingWriters: two prunes run again and again while writers
// (as crawlers in other processes would) replay 304s of bodies fetched
// long ago, fetch changed pages, fetch again the bytes of a page pruning
// may be deleting right then, and raise new alerts on listings whose
// sources are old fetches. No write fails, and at the end every alert and
// every listing has its evidence.
func testPruneRacingWriters(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	now := time.Now().UTC()
	ago := func(d int) time.Time { return now.Add(-time.Duration(d) * day) }
	policy := precwatch.PrunePolicy{FetchesBefore: ago(90), RunsBefore: ago(120)}
	const site, writers = "silkvault", 4
	type writer struct {
		url    string
		ids    []string
		price  float64
		detail precwatch.Observation
		orphan []byte
	}
	ws := make([]*writer, writers)
	for i := range ws {
		w := &writer{url: fmt.Sprintf("http://silkvault.test/w%d", i), price: 20}
		for k := range 3 {
			w.ids = append(w.ids, fmt.Sprintf("W%d-L%d", i, k))
		}
		ws[i] = w
		body := []byte(fmt.Sprintf("<html><body>writer %d catalogue, first version</body></html>", i))
		p := fetched(site, fmt.Sprintf("old-%d", i), w.url, ago(200), body)
		var os []precwatch.Observation
		for _, id := range w.ids {
			os = append(os, seen(p, id, w.price, peroxide(30)))
		}
		recordPage(t, s, p, os...)
		if err := s.SaveFetchState(ctx, precwatch.FetchState{Site: site, URL: w.url, ETag: "v1", SHA256: p.SHA256, FetchedAt: ago(200)}); err != nil {
			t.Fatal(err)
		}
		// Old 304s that only listing states named, for prune to delete.
		for d := 190; d >= 100; d -= 10 {
			rp := replayed(site, fmt.Sprintf("old-%d-%d", i, d), w.url, ago(d), p.SHA256)
			os = os[:0]
			for _, id := range w.ids {
				os = append(os, seen(rp, id, w.price, peroxide(30)))
			}
			recordPage(t, s, rp, os...)
		}
		dp := fetched(site, fmt.Sprintf("old-%d", i), w.url+"/detail", ago(200), []byte(fmt.Sprintf("<p>writer %d detail</p>", i)))
		w.detail = seen(dp, fmt.Sprintf("W%d-D", i), 5, nitricUnder())
		w.detail.Listing.Sources = precwatch.DetailSources(precwatch.Listing{}, "", w.detail.Listing, dp.Fetch.ID)
		recordPage(t, s, dp, w.detail)
		// An orphan: unreferenced, deletable, and about to be fetched again.
		w.orphan = []byte(fmt.Sprintf("<html><body>writer %d: a page nobody names</body></html>", i))
		if err := s.SavePage(ctx, precwatch.Page{SHA256: sha(w.orphan), Site: site, URL: w.url + "/orphan", FetchedAt: ago(300), Body: w.orphan}); err != nil {
			t.Fatal(err)
		}
	}

	var (
		wg       sync.WaitGroup
		rounds   atomic.Int64
		deleted  atomic.Int64
		stop     = make(chan struct{})
		pruneErr = make(chan error, 2)
	)
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				rep, err := s.Prune(ctx, policy)
				if err != nil {
					pruneErr <- err
					return
				}
				rounds.Add(1)
				deleted.Add(rep.Fetches + rep.Pages + rep.Runs)
			}
		})
	}
	var writersWG sync.WaitGroup
	var writes atomic.Int64
	for i, w := range ws {
		writersWG.Go(func() {
			base := now.Add(-time.Hour).Add(time.Duration(i) * 10 * time.Minute)
			for n := 0; n < 400 && (n < 40 || rounds.Load() < 4); n++ {
				at := base.Add(time.Duration(n) * time.Second)
				run := fmt.Sprintf("live-%d", i)
				var err error
				switch n % 4 {
				case 0, 1: // a 304: the body the fetch state names, maybe fetched 200 days ago
					var fs precwatch.FetchState
					if fs, err = s.FetchState(ctx, site, w.url); err != nil {
						break
					}
					p := replayed(site, run, w.url, at, fs.SHA256)
					var os []precwatch.Observation
					for _, id := range w.ids {
						os = append(os, seen(p, id, w.price, peroxide(30)))
					}
					_, err = s.RecordPage(ctx, p, os)
				case 2: // the page changed: prices up, a changed event per alert
					w.price++
					p := fetched(site, run, w.url, at, []byte(fmt.Sprintf("<html><body>writer %d catalogue at %v EUR</body></html>", i, w.price)))
					var os []precwatch.Observation
					for _, id := range w.ids {
						os = append(os, seen(p, id, w.price, peroxide(30)))
					}
					if _, err = s.RecordPage(ctx, p, os); err == nil {
						err = s.SaveFetchState(ctx, precwatch.FetchState{Site: site, URL: w.url, ETag: fmt.Sprint(w.price), SHA256: p.SHA256, FetchedAt: at})
					}
				case 3: // an old detail read: new alert on old sources; and an orphan's bytes again
					o := w.detail
					o.At, o.RunID = at, run
					o.Matches = []precwatch.Match{nitricUnder(), peroxide(30)}
					if _, err = s.RecordPage(ctx, nil, []precwatch.Observation{o}); err != nil {
						break
					}
					p := fetched(site, run, w.url+"/orphan", at, w.orphan)
					if _, err = s.RecordPage(ctx, p, []precwatch.Observation{seen(p, fmt.Sprintf("W%d-O", i), 3, nitromethane())}); err != nil {
						break
					}
					// The next orphan: saved long ago, named by nothing, so
					// a prune may be deleting it as it is fetched again.
					w.orphan = []byte(fmt.Sprintf("<html><body>writer %d: page %d nobody names</body></html>", i, n))
					err = s.SavePage(ctx, precwatch.Page{SHA256: sha(w.orphan), Site: site, URL: w.url + "/orphan", FetchedAt: ago(300), Body: w.orphan})
				}
				if err != nil {
					t.Errorf("writer %d, write %d (kind %d) during prunes: %v", i, n, n%4, err)
					return
				}
				writes.Add(1)
			}
		})
	}
	writersWG.Wait()
	close(stop)
	wg.Wait()
	close(pruneErr)
	for err := range pruneErr {
		t.Fatalf("Prune during writes: %v", err)
	}
	t.Logf("%d writes, %d prunes alongside, deleting %d records", writes.Load(), rounds.Load(), deleted.Load())
	if rounds.Load() < 2 || deleted.Load() == 0 {
		t.Errorf("%d prunes deleting %d records ran alongside the writers: want prunes that delete", rounds.Load(), deleted.Load())
	}
	if n := EvidenceIntact(t, s); n != writers*5 {
		t.Errorf("%d alerts, want %d (3 listings, the detail and the orphan's listing per writer)", n, writers*5)
	}
	for _, w := range ws {
		fs, err := s.FetchState(ctx, site, w.url)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Page(ctx, fs.SHA256); err != nil {
			t.Errorf("fetch state %s: body %s: %v", w.url, fs.SHA256, err)
		}
	}
	if _, err := s.Prune(ctx, policy); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.Prune(ctx, policy); err != nil || rep.Fetches+rep.Pages+rep.Runs != 0 {
		t.Errorf("a prune after a prune = %+v, %v; want nothing deleted", rep, err)
	}
	EvidenceIntact(t, s)
}

// FetchedPage is a page of body fetched (200) from url by run of site at
// at, with its fetch record; backend tests build races with it.
func FetchedPage(site, run, url string, at time.Time, body []byte) *precwatch.Page {
	return fetched(site, run, url, at, body)
}

// AlertingSighting is a sighting of listing id read from p that raises an
// alert.
func AlertingSighting(p *precwatch.Page, id string) precwatch.Observation {
	return seen(p, id, 25, peroxide(30))
}

// Sha is the hex SHA-256 of b, as stores key pages.
func Sha(b []byte) string { return sha(b) }
