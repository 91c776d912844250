package tortest

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/crawler"
	"github.com/precwatch/precwatch/fixtures"
	"github.com/precwatch/precwatch/internal/tornet"
	"github.com/precwatch/precwatch/matchers"
	"github.com/precwatch/precwatch/storage/embedded"
)

// The network starts once for the package (20–30 s) and stops after the
// last test.
func TestMain(m *testing.M) { os.Exit(tornet.Main(m)) }

// world is what every test here shares: the Tor network, the fixture
// markets (with their own loopback SOCKS proxy) and silkvault served as a
// v3 onion service.
type world struct {
	net     *tornet.Network
	markets *fixtures.Markets
	onion   *tornet.Onion
	matcher precwatch.Matcher
}

var shared struct {
	once sync.Once
	w    *world
	err  error
}

// setup returns the shared world, starting it on first use.
func setup(t *testing.T) *world {
	t.Helper()
	n := tornet.Shared(t)
	shared.once.Do(func() {
		shared.w, shared.err = newWorld(n)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.w
}

func newWorld(n *tornet.Network) (*world, error) {
	wl, err := matchers.LoadWatchlist(filepath.Join("..", "..", "configs", "watchlist.yaml"))
	if err != nil {
		return nil, err
	}
	mt, err := matchers.Compile(wl)
	if err != nil {
		return nil, err
	}
	// Not tied to a test's context: the markets serve every test and the
	// process ends with the package.
	ms, err := fixtures.Start(context.Background(), fixtures.Options{})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The market's handler does not depend on the Host header, so the
	// onion service forwards straight to its loopback server.
	o, err := n.AddOnionService(ctx, ms.Addr(fixtures.Silkvault))
	if err != nil {
		ms.Close()
		return nil, err
	}
	return &world{net: n, markets: ms, onion: o, matcher: mt}, nil
}

// silkvault is the fixture site, crawled through the fixtures' proxy.
func (w *world) silkvault() precwatch.Site {
	for _, s := range w.markets.Sites() {
		if s.Name == fixtures.Silkvault {
			return s
		}
	}
	panic("no silkvault site in fixtures")
}

// torSite is silkvault at host through the Tor client's SOCKS port at
// socksAddr, with the SOCKS username user (a circuit of its own).
func (w *world) torSite(host, socksAddr, user string) precwatch.Site {
	s := w.silkvault()
	s.StartURLs = []string{"http://" + host + "/"}
	s.Proxy = "socks5h://" + user + ":x@" + socksAddr
	s.Limits.RequestTimeout = 30 * time.Second
	s.Limits.RunTimeout = 2 * time.Minute
	return s
}

type result struct {
	run     precwatch.Run
	err     error
	store   *embedded.Store
	directs int32
}

// crawl runs one crawl of site into a fresh store, counting direct dials
// (there must be none: the site is a Tor site).
func (w *world) crawl(t *testing.T, site precwatch.Site) result {
	t.Helper()
	st, err := embedded.Open(t.Context(), filepath.Join(t.TempDir(), "store.db"), nil)
	if err != nil {
		t.Fatalf("embedded.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	var directs atomic.Int32
	direct := func(ctx context.Context, network, addr string) (net.Conn, error) {
		directs.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	c, err := crawler.New(site, st, w.matcher, nil,
		crawler.WithDirectDialer(direct), crawler.WithRetryBackoff(10*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatalf("crawler.New: %v", err)
	}
	begin := time.Now()
	run, err := c.Run(t.Context())
	t.Logf("crawl of %s: %s in %s, pages=%d listings=%d alerts=%d err=%v",
		site.StartURLs[0], run.Status, time.Since(begin).Round(time.Millisecond), run.Pages, run.Listings, run.Alerts, err)
	return result{run: run, err: err, store: st, directs: directs.Load()}
}

func alerts(t *testing.T, st *embedded.Store) []precwatch.Alert {
	t.Helper()
	as, err := st.Alerts(t.Context(), precwatch.AlertFilter{})
	if err != nil {
		t.Fatalf("Alerts: %v", err)
	}
	return as
}

// TestOnionMarket crawls silkvault as a real v3 onion service through the
// Tor client and compares the outcome with the same market crawled through
// the fixtures' own proxy: the same listings and exactly the same alerts,
// host names aside.
func TestOnionMarket(t *testing.T) {
	w := setup(t)
	want := w.crawl(t, w.silkvault())
	if want.err != nil || want.run.Status != precwatch.RunOK {
		t.Fatalf("reference crawl through the fixtures' proxy: %v, %s %q", want.err, want.run.Status, want.run.Errors)
	}

	before := w.markets.Requests(fixtures.Silkvault)
	got := w.crawl(t, w.torSite(w.onion.Hostname(), w.net.Client().SOCKSAddr(), "onion-market"))
	if got.err != nil || got.run.Status != precwatch.RunOK {
		t.Fatalf("crawl through tor: %v, status %s, errors %q", got.err, got.run.Status, got.run.Errors)
	}
	served := w.markets.Requests(fixtures.Silkvault) - before
	if served != got.run.Pages || served == 0 {
		t.Errorf("market served %d requests through tor, run fetched %d pages", served, got.run.Pages)
	}
	if slices.Contains(w.markets.ProxyNames(), w.onion.Hostname()) {
		t.Errorf("the fixtures' proxy was asked for %s: the crawl did not go through tor", w.onion.Hostname())
	}
	if got.directs != 0 {
		t.Errorf("direct dials = %d, want 0", got.directs)
	}
	if n := len(fixtures.MarketListings(fixtures.Silkvault)); got.run.Listings != n {
		t.Errorf("listings = %d, fixtures hold %d", got.run.Listings, n)
	}
	if got.run.Pages != want.run.Pages || got.run.Listings != want.run.Listings || got.run.Alerts != want.run.Alerts {
		t.Errorf("through tor: pages %d listings %d alerts %d; through the fixtures' proxy: %d %d %d",
			got.run.Pages, got.run.Listings, got.run.Alerts, want.run.Pages, want.run.Listings, want.run.Alerts)
	}

	gotAlerts, wantAlerts := alerts(t, got.store), alerts(t, want.store)
	if len(wantAlerts) == 0 {
		t.Fatal("the reference crawl raised no alert: nothing to compare")
	}
	index := make(map[string]precwatch.Alert, len(wantAlerts))
	for _, a := range wantAlerts {
		index[a.Key] = a
	}
	if len(gotAlerts) != len(wantAlerts) {
		t.Errorf("%d alerts through tor, %d through the fixtures' proxy", len(gotAlerts), len(wantAlerts))
	}
	for _, a := range gotAlerts {
		ref, ok := index[a.Key]
		if !ok {
			t.Errorf("alert %s (%s, %s) raised through tor only", a.Key, a.Identity, a.Substance)
			continue
		}
		delete(index, a.Key)
		url := strings.Replace(a.Listing.URL, w.onion.Hostname(), fixtures.SilkvaultHost, 1)
		if a.Identity != ref.Identity || a.Substance != ref.Substance || a.Severity != ref.Severity ||
			a.Score != ref.Score || a.Listing.Title != ref.Listing.Title || url != ref.Listing.URL {
			t.Errorf("alert %s differs:\n tor:   %s %s %v %.3f %q %s\n proxy: %s %s %v %.3f %q %s", a.Key,
				a.Identity, a.Substance, a.Severity, a.Score, a.Listing.Title, url,
				ref.Identity, ref.Substance, ref.Severity, ref.Score, ref.Listing.Title, ref.Listing.URL)
		}
	}
	for key, a := range index {
		t.Errorf("alert %s (%s, %s) raised through the fixtures' proxy only", key, a.Identity, a.Substance)
	}
}

// onionError matches the crawler's naming of one of Tor's onion-service
// answers.
var onionError = regexp.MustCompile(`crawler: tor: onion service [a-z ]+ \(SOCKS5 reply 0xF[0-7]\)`)

// TestOnionDown crawls onion services that cannot be reached, through the
// client's ExtendedErrors SocksPort: the run fails and its error names
// Tor's answer, not a timeout, and no page reaches the market.
func TestOnionDown(t *testing.T) {
	w := setup(t)
	t.Run("never published", func(t *testing.T) {
		got := w.crawl(t, w.torSite(tornet.UnpublishedOnion(), w.net.Client().ExtendedSOCKSAddr(), "never-published"))
		if got.err == nil || got.run.Status != precwatch.RunFailed {
			t.Fatalf("err %v status %s, want a failed run", got.err, got.run.Status)
		}
		if want := "crawler: tor: onion service descriptor not found (SOCKS5 reply 0xF0)"; !strings.Contains(got.err.Error(), want) {
			t.Errorf("error %q does not name %q", got.err, want)
		}
		if got.directs != 0 {
			t.Errorf("direct dials = %d, want 0", got.directs)
		}
	})
	t.Run("stopped", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		// A service of its own, so the shared one stays up for other tests.
		o, err := w.net.AddOnionService(ctx, w.markets.Addr(fixtures.Silkvault))
		if err != nil {
			t.Fatal(err)
		}
		// Stop returns once the client answers the address with an onion
		// error; before that a request could wait a minute for a
		// rendezvous that never comes (see tornet's Onion.Stop).
		if err := o.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		before := w.markets.Requests(fixtures.Silkvault)
		site := w.torSite(o.Hostname(), w.net.Client().ExtendedSOCKSAddr(), "stopped")
		site.Limits.RequestTimeout = 20 * time.Second
		got := w.crawl(t, site)
		if got.err == nil || got.run.Status != precwatch.RunFailed {
			t.Fatalf("err %v status %s, want a failed run", got.err, got.run.Status)
		}
		if !onionError.MatchString(got.err.Error()) {
			t.Errorf("error %q names no onion-service answer of Tor", got.err)
		}
		if strings.Contains(got.err.Error(), "unreachable:") || strings.Contains(got.err.Error(), "deadline exceeded") {
			t.Errorf("error %q reports a dead proxy or a timeout", got.err)
		}
		if n := w.markets.Requests(fixtures.Silkvault) - before; n != 0 {
			t.Errorf("market served %d requests for a stopped service", n)
		}
		if got.directs != 0 {
			t.Errorf("direct dials = %d, want 0", got.directs)
		}
	})
}

// TestClientStopped crawls the onion market with the Tor client stopped:
// the run fails naming the proxy as unreachable, no request reaches the
// market and nothing is dialled directly.
func TestClientStopped(t *testing.T) {
	w := setup(t)
	client := w.net.Client()
	if err := client.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := client.Start(ctx); err != nil {
			t.Errorf("restart the client: %v", err)
		}
	})
	before := w.markets.Requests(fixtures.Silkvault)
	site := w.torSite(w.onion.Hostname(), client.SOCKSAddr(), "client-stopped")
	got := w.crawl(t, site)
	if got.err == nil || got.run.Status != precwatch.RunFailed {
		t.Fatalf("err %v status %s, want a failed run", got.err, got.run.Status)
	}
	if want := "proxy socks5h://client-stopped:xxxxx@" + client.SOCKSAddr() + " unreachable"; !strings.Contains(got.err.Error(), want) {
		t.Errorf("error %q does not contain %q", got.err, want)
	}
	if n := w.markets.Requests(fixtures.Silkvault) - before; n != 0 {
		t.Errorf("market served %d requests with the client stopped", n)
	}
	if got.directs != 0 {
		t.Errorf("direct dials = %d, want 0", got.directs)
	}
	if got.run.Pages != 0 {
		t.Errorf("pages = %d, want 0", got.run.Pages)
	}
}
