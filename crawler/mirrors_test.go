package crawler

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

func (e *pagedEnv) alertKeys(t *testing.T) []string {
	t.Helper()
	as, err := e.store.Alerts(t.Context(), precwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, a := range as {
		keys = append(keys, a.Key)
	}
	slices.Sort(keys)
	return keys
}

func (e *pagedEnv) connectsTo(host string) int {
	n := 0
	for _, c := range e.rp.log() {
		if c.host == host {
			n++
		}
	}
	return n
}

// checkPrimaryURLs checks that every stored listing is on the primary host.
func (e *pagedEnv) checkPrimaryURLs(t *testing.T) {
	t.Helper()
	for id, st := range e.listings(t) {
		if !strings.HasPrefix(st.Listing.URL, "http://"+onionA+"/item/") {
			t.Errorf("%s: url %q is not on the primary host", id, st.Listing.URL)
		}
	}
}

func TestMirrorFailover(t *testing.T) {
	forEachStore(t, testMirrorFailover)
}

func testMirrorFailover(t *testing.T, st precwatch.Store) {
	e := newPagedEnvOn(t, st, 3, 0, nil)
	site := e.site("mirrored", "")
	site.Limits.Retries = 1
	okRun := func(site precwatch.Site) precwatch.Run {
		t.Helper()
		run, err := e.run(t, site)
		if err != nil || run.Status != precwatch.RunOK {
			t.Fatalf("run: %v %q %q", err, run.Status, run.Errors)
		}
		return run
	}

	// Before any mirror is configured.
	first := okRun(site)
	if first.Alerts != 3 || first.NewListings != 6 {
		t.Fatalf("first run: %d alerts, %d new listings; want 3, 6", first.Alerts, first.NewListings)
	}
	if first.Mirrors != nil {
		t.Errorf("run without mirrors records mirrors %+v", first.Mirrors)
	}
	alerts := e.alertKeys(t)

	// A mirror added while the primary is down: the run fails over to it
	// after the primary's retries and stays there; nothing is new.
	site.Mirrors = []string{"http://" + onionB + "/"}
	e.rp.refuseHost(onionA, true)
	beforeA := e.connectsTo(onionA)
	run := okRun(site)
	if run.Alerts != 0 || run.NewListings != 0 || run.Listings != 6 {
		t.Errorf("failover run: %d alerts, %d new, %d listings; want 0, 0, 6", run.Alerts, run.NewListings, run.Listings)
	}
	if got, want := e.connectsTo(onionA)-beforeA, 2; got != want {
		t.Errorf("CONNECTs to the dead primary = %d, want %d (one request and its retry)", got, want)
	}
	if len(run.Mirrors) != 2 {
		t.Fatalf("mirrors = %+v, want two", run.Mirrors)
	}
	a, b := run.Mirrors[0], run.Mirrors[1]
	if a.URL != "http://"+onionA || b.URL != "http://"+onionB {
		t.Errorf("mirror urls %q, %q", a.URL, b.URL)
	}
	// The 6 unchanged listings' detail pages are not fetched again
	// (incremental re-crawl), so the mirror serves the 3 index pages.
	if a.Active || !b.Active || a.Failures != 2 || b.Failures != 0 || b.Requests != 3 || a.Requests+b.Requests != run.Requests || run.DetailsSkipped != 6 {
		t.Errorf("mirror status after failover: %+v %+v (run: %d requests, %d details skipped)", a, b, run.Requests, run.DetailsSkipped)
	}
	if b.LastSuccess.Before(run.Start) || b.Latency <= 0 {
		t.Errorf("mirror b: last success %v, latency %v", b.LastSuccess, b.Latency)
	}
	if !a.LastSuccess.IsZero() {
		t.Errorf("primary has a last success %v though it never answered with mirrors configured", a.LastSuccess)
	}
	if got := e.storedRun(t, run.ID).Mirrors; !slices.EqualFunc(got, run.Mirrors, func(x, y precwatch.MirrorStatus) bool {
		return x.LastSuccess.Equal(y.LastSuccess) && x.URL == y.URL && x.Requests == y.Requests &&
			x.Failures == y.Failures && x.Latency == y.Latency && x.Active == y.Active
	}) {
		t.Errorf("stored mirrors %+v, want %+v", got, run.Mirrors)
	}
	e.checkPrimaryURLs(t)
	// Read from a mirror, which may lag behind the primary: nothing is
	// decided gone, and the record says why.
	if !strings.Contains(run.GoneUndecided, onionB) || e.storedRun(t, run.ID).GoneUndecided != run.GoneUndecided {
		t.Errorf("failover run: gone_undecided %q, want the mirror named (stored alike)", run.GoneUndecided)
	}

	// The next run starts on the primary again, without asking the mirror
	// that answered last. The mirror's old success is carried in the
	// record, and the primary's run decides gone again.
	e.rp.refuseHost(onionA, false)
	e.rp.refuseHost(onionB, true)
	beforeB := e.connectsTo(onionB)
	run = okRun(site)
	if run.Alerts != 0 || run.NewListings != 0 {
		t.Errorf("fail-back run: %d alerts, %d new", run.Alerts, run.NewListings)
	}
	if got := e.connectsTo(onionB) - beforeB; got != 0 {
		t.Errorf("CONNECTs to the mirror = %d, want 0 (the run starts on the primary)", got)
	}
	if a, b := run.Mirrors[0], run.Mirrors[1]; !a.Active || b.Active || b.LastSuccess.IsZero() || a.LastSuccess.Before(run.Start) || b.Requests != 0 {
		t.Errorf("mirror status after fail-back: %+v %+v", a, b)
	}
	if run.GoneUndecided != "" {
		t.Errorf("primary's run: gone_undecided %q, want none", run.GoneUndecided)
	}

	// Removing the mirror changes nothing either.
	site.Mirrors = nil
	run = okRun(site)
	if run.Alerts != 0 || run.NewListings != 0 {
		t.Errorf("run after removing the mirror: %d alerts, %d new", run.Alerts, run.NewListings)
	}
	if got := e.alertKeys(t); !slices.Equal(got, alerts) {
		t.Errorf("alerts = %q, want the first run's %q", got, alerts)
	}
	for id, st := range e.listings(t) {
		if st.Gone {
			t.Errorf("%s marked gone", id)
		}
	}
	if e.directs.Load() != 0 {
		t.Errorf("direct dials = %d", e.directs.Load())
	}
}

func TestSameListingViaTwoMirrors(t *testing.T) {
	// With listing IDs, and without: then the URL is the identity, and it
	// must not depend on the mirror.
	for _, withIDs := range []bool{true, false} {
		t.Run(fmt.Sprintf("ids=%v", withIDs), func(t *testing.T) {
			forEachStore(t, func(t *testing.T, st precwatch.Store) { sameListingViaTwoMirrors(t, st, withIDs) })
		})
	}
}

func sameListingViaTwoMirrors(t *testing.T, st precwatch.Store, withIDs bool) {
	e := newPagedEnvOn(t, st, 2, 0, nil)
	site := e.site("twins", "")
	site.Mirrors = []string{"http://" + onionB}
	site.Limits.Retries = -1
	if !withIDs {
		site.Extract.ID = ""
	}
	identities := func() []string {
		var out []string
		err := e.store.Listings(t.Context(), "", func(st precwatch.ListingState) error {
			out = append(out, st.Listing.Identity())
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
	// Served by the mirror only: its pages link to its own host.
	e.rp.refuseHost(onionA, true)
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Alerts != 2 || run.NewListings != 4 {
		t.Fatalf("mirror run: %v %+v", err, run)
	}
	e.checkPrimaryURLs(t)
	alerts, ids := e.alertKeys(t), identities()
	// Served by the primary only.
	e.rp.refuseHost(onionA, false)
	e.rp.refuseHost(onionB, true)
	run, err = e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Alerts != 0 || run.NewListings != 0 || run.Listings != 4 {
		t.Fatalf("primary run: %v %+v", err, run)
	}
	if got := identities(); len(got) != 4 || !slices.Equal(got, ids) {
		t.Errorf("listings = %q, want %q", got, ids)
	}
	if got := e.alertKeys(t); len(got) != 2 || !slices.Equal(got, alerts) {
		t.Errorf("alerts = %q, want %q", got, alerts)
	}
}

func TestMirrorsAllDown(t *testing.T) {
	e := newPagedEnv(t, 2, 0, nil)
	site := e.site("down", "")
	site.Mirrors = []string{"http://" + onionB}
	site.Limits.Retries = -1
	e.rp.refuseHost(onionA, true)
	e.rp.refuseHost(onionB, true)
	run, err := e.run(t, site)
	if err == nil || run.Status != precwatch.RunFailed {
		t.Fatalf("run with every mirror down: %v %q", err, run.Status)
	}
	// One try on each, then the run gives up.
	if a, b := e.connectsTo(onionA), e.connectsTo(onionB); a != 1 || b != 1 {
		t.Errorf("CONNECTs: primary %d, mirror %d; want 1 and 1", a, b)
	}
	// The error of the last try names the mirror it went to, not only the
	// primary URL the crawl asked for (probe 13).
	if errs := strings.Join(run.Errors, "\n"); !strings.Contains(errs, "mirror "+onionB) {
		t.Errorf("run errors %q do not name the mirror tried", errs)
	}
}

func TestMirrorConfig(t *testing.T) {
	base := precwatch.Site{Name: "m", StartURLs: []string{"http://shop.test/cat"}, Proxy: "socks5://127.0.0.1:1"}
	for _, tc := range []struct {
		mirrors []string
		err     string
	}{
		{[]string{"http://b.test"}, ""},
		{[]string{"https://b.test:8443/"}, ""},
		{[]string{"http://b.test/shop"}, "without path"},
		{[]string{"ftp://b.test"}, "absolute http(s)"},
		{[]string{"http://SHOP.test:80"}, "listed twice"},
		{[]string{"http://b.test", "http://b.test/"}, "listed twice"},
	} {
		site := base
		site.Mirrors = tc.mirrors
		_, err := New(site, openStore(t), keywordMatcher{}, nil)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("mirrors %q: err %v, want %q", tc.mirrors, err, tc.err)
		}
	}
	// An onion mirror makes the site a Tor site: fetched only by proxy.
	site := precwatch.Site{Name: "m", StartURLs: []string{"http://shop.test/"}, Mirrors: []string{"http://" + onionB}}
	if !site.IsTor() || site.ProxyURL() != precwatch.DefaultTorProxy {
		t.Errorf("site with an onion mirror: tor %v proxy %q", site.IsTor(), site.ProxyURL())
	}
}

// TestOnionMirrorFailsClosed: a clear-web site with an onion mirror and no
// proxy configured gets the Tor proxy, never a direct connection, even to
// its clear-web primary.
func TestOnionMirrorFailsClosed(t *testing.T) {
	e := newPagedEnv(t, 1, 0, nil)
	site := precwatch.Site{Name: "clear", StartURLs: []string{"http://" + e.pm.addr() + "/p/1"}, Mirrors: []string{"http://" + onionB},
		Extract: rules, Limits: precwatch.Limits{RequestTimeout: 2 * time.Second, RunTimeout: 5 * time.Second}}
	run, err := e.run(t, site)
	if err == nil || run.Status != precwatch.RunFailed {
		t.Fatalf("run: %v %q, want failed (no Tor client on the default port)", err, run.Status)
	}
	if want := "proxy " + precwatch.DefaultTorProxy + " unreachable"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the Tor proxy (%q)", err, want)
	}
	if got := e.directs.Load(); got != 0 {
		t.Errorf("direct dials = %d, want 0", got)
	}
	if got := e.pm.requests(); got != 0 {
		t.Errorf("market requests = %d, want 0", got)
	}
}

// TestMirrorSessionCookies: a site's mirrors are one site for its session.
// Cookies imported from a Tor Browser session on a mirror's host are sent
// to that mirror, though the crawler asks for the primary's URLs; and a
// cookie a mirror set is sent back on the next run, which starts there.
func TestMirrorSessionCookies(t *testing.T) {
	var mu sync.Mutex
	var seen []string // "host cookie-header" of each request for /p/1
	first := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Host+" "+r.Header.Get("Cookie"))
		mu.Unlock()
		if r.Header.Get("Cookie") == "" {
			http.SetCookie(w, &http.Cookie{Name: "sess", Value: "from-" + r.Host[:12], Path: "/"})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><body><div class="listing"><span class="id">M1</span><h2><a class="title" href="/item/M1">Acetone 99% 1 L</a></h2></div></body></html>`)
	}
	e := newPagedEnv(t, 1, 0, map[string]http.HandlerFunc{"GET /p/1": first})
	site := e.site("mirrored-session", "")
	site.Mirrors = []string{"http://" + onionB}
	site.Limits.Retries = -1
	requests := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := slices.Clone(seen)
		seen = nil
		return out
	}
	okRun := func() {
		t.Helper()
		if run, err := e.run(t, site); err != nil || run.Status != precwatch.RunOK {
			t.Fatalf("run: %v %q %q", err, run.Status, run.Errors)
		}
	}

	// The primary is down; the operator logged in on the mirror.
	e.rp.refuseHost(onionA, true)
	importSession(t, e.store, site.Name, precwatch.Cookie{Name: "sess", Value: "imported", Domain: onionB, HostOnly: true, Path: "/"})
	okRun()
	if got, want := requests(), []string{onionB + " sess=imported"}; !slices.Equal(got, want) {
		t.Errorf("first run's requests for /p/1 = %q, want %q", got, want)
	}

	// The mirror sets a cookie of its own: sent back to it next run.
	importSession(t, e.store, site.Name)
	okRun()
	okRun()
	if got, want := requests(), []string{onionB + " ", onionB + " sess=from-" + onionB[:12]}; !slices.Equal(got, want) {
		t.Errorf("requests for /p/1 = %q, want %q", got, want)
	}
}

// A mirror that is down answers 503 (an nginx error page, no Retry-After)
// until the run gives it up: those answers are an outage, not the market
// asking to slow down, so the run goes on at the site's own pace on the
// mirror it failed over to. (Probe 4: two such 503s held a 27-page crawl
// of a healthy mirror for 44 s.)
func TestFailoverForgetsOutageThrottle(t *testing.T) {
	var primary, mirror atomic.Int32
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		primary.Add(1)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `<html><head><title>503 Service Temporarily Unavailable</title></head><body><h1>503 Service Temporarily Unavailable</h1><hr>nginx</body></html>`)
	}))
	t.Cleanup(down.Close)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mirror.Add(1)
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<html><body><div class="listing"><span class="id">L%d</span><h2>Acetone 99%% %dL</h2></div>`, n, n)
		if n < 8 {
			fmt.Fprintf(w, `<a class="next" href="/p/%d">next</a>`, n+1)
		}
		fmt.Fprint(w, `</body></html>`)
	}))
	t.Cleanup(up.Close)
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: down.Listener.Addr().String(), onionB: up.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e := &env{store: openStore(t)}
	site := precwatch.Site{Name: "outage", StartURLs: []string{"http://" + onionA + "/p/1"}, Mirrors: []string{"http://" + onionB},
		Proxy:   p.URL(),
		Extract: precwatch.Extraction{Listing: "div.listing", ID: "span.id", Title: "h2", NextPage: "a.next @href"},
		Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second, Retries: 1}}
	// A floor of 200 ms: the two 503s would widen the gap to 400 ms.
	run, err := e.run(t, site, WithThrottleFloor(200*time.Millisecond))
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 8 {
		t.Fatalf("run: %v %q %q, %d listings; want ok, 8", err, run.Status, run.Errors, run.Listings)
	}
	if primary.Load() != 2 || mirror.Load() != 8 || run.Throttled != 2 {
		t.Errorf("requests: primary %d, mirror %d, throttled %d; want 2, 8, 2", primary.Load(), mirror.Load(), run.Throttled)
	}
	// The retry of the primary waits its widened gap once; the mirror's
	// eight pages wait none of it.
	if run.ThrottleWait > 300*time.Millisecond {
		t.Errorf("throttle wait %v after the failover, want at most the one gap before the primary's retry", run.ThrottleWait)
	}
}

// TestStaleMirror: a market whose primary goes down while a mirror serves
// an older copy of it (a lagging replica: newer ads missing, one removed
// since still shown, an older price, under its older software's URLs).
// The mirror's run read every page, ended ok and marked the newer ads gone,
// relisted the removed one and changed the price back; and the next runs
// stayed on the mirror, the primary back or not. Now a run on a mirror adds
// what is new, marks nothing gone (saying why), relists and changes
// nothing, and the next run goes back to the primary.
func TestStaleMirror(t *testing.T) {
	forEachStore(t, testStaleMirror)
}

func testStaleMirror(t *testing.T, st precwatch.Store) {
	row := func(w io.Writer, id, price int, href string) {
		fmt.Fprintf(w, `<li class="lst" data-lid="%d"><a class="name" href="%s">Hydrogen peroxide %d%% 1 L</a> <b class="amt">€ %d</b> <i class="by">v%d</i></li>`, id, href, 30+id, price, id)
	}
	var removed atomic.Bool // the primary no longer shows listing 9
	primary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><body><ul>`)
		for _, id := range []int{1, 2, 3, 4, 9} {
			if id != 9 || !removed.Load() {
				row(w, id, 50, fmt.Sprintf("/listing/%d", id))
			}
		}
		fmt.Fprint(w, `</ul></body></html>`)
	}))
	t.Cleanup(primary.Close)
	stale := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><body><ul>`)
		row(w, 1, 40, "/item.php?id=1")      // its price before
		for _, id := range []int{2, 9, 11} { // 3 and 4 are newer than the copy; 11 the primary never showed
			row(w, id, 50, fmt.Sprintf("/item.php?id=%d", id))
		}
		fmt.Fprint(w, `</ul></body></html>`)
	}))
	t.Cleanup(stale.Close)
	e := &pagedEnv{env: env{store: st}}
	e.rp = startRecordingProxy(t, map[string]string{onionA: primary.Listener.Addr().String(), onionB: stale.Listener.Addr().String()})
	site := precwatch.Site{Name: "staled", StartURLs: []string{"http://" + onionA + "/catalog"}, Proxy: e.rp.url(""),
		Mirrors: []string{"http://" + onionB},
		Extract: precwatch.Extraction{Listing: "li.lst", ID: "@data-lid", Title: "a.name", URL: "a.name @href", Price: "b.amt", Vendor: "i.by"},
		Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second, Retries: 1}}
	okRun := func() precwatch.Run {
		t.Helper()
		run, err := e.run(t, site)
		if err != nil || run.Status != precwatch.RunOK {
			t.Fatalf("run: %v %q %q", err, run.Status, run.Errors)
		}
		return run
	}
	gone := func() []string {
		var ids []string
		for id, st := range e.listings(t) {
			if st.Gone {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		return ids
	}

	if run := okRun(); run.Listings != 5 || run.GoneUndecided != "" {
		t.Fatalf("first run: %d listings, gone_undecided %q; want 5, none", run.Listings, run.GoneUndecided)
	}
	removed.Store(true)
	okRun()
	if g := gone(); !slices.Equal(g, []string{"9"}) {
		t.Fatalf("gone after the primary removed 9: %q", g)
	}

	e.rp.refuseHost(onionA, true)
	run := okRun()
	if run.Listings != 3 || run.NewListings != 1 || !strings.Contains(run.GoneUndecided, onionB) {
		t.Errorf("run on the stale mirror: %d listings (%d new), gone_undecided %q; want 3 (1, and 9 left out), naming the mirror",
			run.Listings, run.NewListings, run.GoneUndecided)
	}
	if g := gone(); !slices.Equal(g, []string{"9"}) {
		t.Errorf("gone after the stale mirror's run: %q, want [9] still, nothing else", g)
	}
	if ls := e.listings(t); ls["1"].Listing.Price != 50 {
		t.Errorf("listing 1's price after the stale mirror's run: %v, want the primary's 50", ls["1"].Listing.Price)
	}
	// The primary answers again: the run is read from it, not from the
	// mirror that answered last, and decides gone (11 is not on the market).
	e.rp.refuseHost(onionA, false)
	beforeB := e.connectsTo(onionB)
	run = okRun()
	if run.Listings != 4 || run.GoneUndecided != "" || e.connectsTo(onionB) != beforeB {
		t.Errorf("run with the primary back: %d listings, gone_undecided %q, %d CONNECTs to the mirror; want 4, none, 0",
			run.Listings, run.GoneUndecided, e.connectsTo(onionB)-beforeB)
	}
	if g := gone(); !slices.Equal(g, []string{"11", "9"}) {
		t.Errorf("gone = %q, want [11 9]", g)
	}
	if ev := e.historyEvents(t); ev[precwatch.EventRelisted] != 0 || ev[precwatch.EventChanged] != 0 {
		t.Errorf("alert events %v: want no relisted or changed", ev)
	}
	for id, st := range e.listings(t) {
		if !strings.HasPrefix(st.Listing.URL, "http://"+onionA+"/") {
			t.Errorf("%s: url %q is not on the primary host", id, st.Listing.URL)
		}
	}
	if e.directs.Load() != 0 {
		t.Errorf("direct dials = %d", e.directs.Load())
	}
}

// TestMirrorFailoverOnRefusedPrimary: a SOCKS proxy that is not Tor
// (microsocks, Dante) answers "connection refused" (0x05) for a mirror
// whose server is down. That answer is final for the request, not worth a
// fresh circuit, but the run fails over to the next mirror on it: it
// failed at the primary's first request before (probe 13).
func TestMirrorFailoverOnRefusedPrimary(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	pm := newPagedMarket(t, 3, 0, nil)
	e := &pagedEnv{env: env{store: openStore(t)}, pm: pm}
	e.rp = startRecordingProxy(t, map[string]string{onionA: dead, onionB: pm.addr()})
	site := e.site("refused", "")
	site.Mirrors = []string{"http://" + onionB}
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK {
		t.Fatalf("run: %v %q %q", err, run.Status, run.Errors)
	}
	if run.Listings != 6 || run.NewListings != 6 {
		t.Errorf("listings %d, new %d; want 6, 6", run.Listings, run.NewListings)
	}
	// The refusal is final for the primary: one CONNECT, no retry there.
	if a := e.connectsTo(onionA); a != 1 {
		t.Errorf("CONNECTs to the refused primary = %d, want 1", a)
	}
	if len(run.Mirrors) != 2 || run.Mirrors[0].Active || !run.Mirrors[1].Active || run.Mirrors[0].Failures != 1 {
		t.Errorf("mirrors %+v: want the second active, the primary failed once", run.Mirrors)
	}
	if run.GoneUndecided == "" {
		t.Error("a run read from a mirror decided what is gone")
	}
	e.checkPrimaryURLs(t)

	// Without a mirror the refusal still fails the run at once.
	site.Name, site.Mirrors = "refused-alone", nil
	if run, err := e.run(t, site); err == nil || run.Status != precwatch.RunFailed || !strings.Contains(err.Error(), "connection refused (SOCKS5 reply 0x05)") {
		t.Errorf("run without mirrors: %v %q", err, run.Status)
	}
}
