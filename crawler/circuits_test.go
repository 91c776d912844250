package crawler

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// pagedMarket is an HTTP/1.1 market of numbered index pages (/p/1 ... /p/N,
// each linking the next) of two listings each, with detail pages. Its links
// are absolute, on the host the request came for, as mirrors' often are.
// It counts TCP connections, requests in flight and when each path was
// requested.
type pagedMarket struct {
	srv   *httptest.Server
	conns atomic.Int32

	mu          sync.Mutex
	inflight    int
	maxInflight int
	times       map[string][]time.Time
	// gate, when set, sees every request first and answers those it
	// reports true for.
	gate func(w http.ResponseWriter, r *http.Request) bool
}

func newPagedMarket(t testing.TB, pages int, delay time.Duration, extra map[string]http.HandlerFunc) *pagedMarket {
	t.Helper()
	m := &pagedMarket{times: map[string][]time.Time{}}
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><html><body>"+body+"</body></html>")
	}
	mux.HandleFunc("GET /p/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		if n < 1 || n > pages {
			http.NotFound(w, r)
			return
		}
		base := "http://" + r.Host
		if r.TLS != nil {
			base = "https://" + r.Host
		}
		var b strings.Builder
		for _, it := range [][2]string{{fmt.Sprintf("P%da", n), "Hydrogen peroxide 30% lot " + fmt.Sprint(n)}, {fmt.Sprintf("P%db", n), "Acetone 99% lot " + fmt.Sprint(n)}} {
			fmt.Fprintf(&b, `<div class="listing"><span class="id">%s</span><h2><a class="title" href="%s/item/%s">%s</a></h2><span class="price">€ 10,00</span></div>`,
				it[0], base, it[0], it[1])
		}
		if n < pages {
			fmt.Fprintf(&b, `<a class="next" href="%s/p/%d">next</a>`, base, n+1)
		}
		write(w, b.String())
	})
	mux.HandleFunc("GET /item/{id}", func(w http.ResponseWriter, r *http.Request) {
		write(w, `<div class="desc">Item `+r.PathValue("id")+`: sealed, ships in 2 days.</div>`)
	})
	for p, h := range extra {
		mux.HandleFunc(p, h)
	}
	m.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.times[r.URL.Path] = append(m.times[r.URL.Path], time.Now())
		m.inflight++
		m.maxInflight = max(m.maxInflight, m.inflight)
		gate := m.gate
		m.mu.Unlock()
		defer func() {
			m.mu.Lock()
			m.inflight--
			m.mu.Unlock()
		}()
		if gate != nil && gate(w, r) {
			return
		}
		time.Sleep(delay)
		mux.ServeHTTP(w, r)
	}))
	m.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			m.conns.Add(1)
		}
	}
	m.srv.Start()
	t.Cleanup(m.srv.Close)
	return m
}

func (m *pagedMarket) addr() string { return m.srv.Listener.Addr().String() }

// setGate sets the market's gate (see pagedMarket.gate).
func (m *pagedMarket) setGate(gate func(w http.ResponseWriter, r *http.Request) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gate = gate
}

func (m *pagedMarket) requests() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, ts := range m.times {
		n += len(ts)
	}
	return n
}

func (m *pagedMarket) requested(path string) []time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]time.Time(nil), m.times[path]...)
}

// pagedEnv is a paged market behind a recording SOCKS5 proxy that serves it
// as onionA and onionB.
type pagedEnv struct {
	env
	pm *pagedMarket
	rp *recordingProxy
}

func newPagedEnv(t *testing.T, pages int, delay time.Duration, extra map[string]http.HandlerFunc) *pagedEnv {
	t.Helper()
	return newPagedEnvOn(t, openStore(t), pages, delay, extra)
}

// newPagedEnvOn is newPagedEnv over a given store.
func newPagedEnvOn(t *testing.T, st precwatch.Store, pages int, delay time.Duration, extra map[string]http.HandlerFunc) *pagedEnv {
	t.Helper()
	pm := newPagedMarket(t, pages, delay, extra)
	e := &pagedEnv{env: env{store: st}, pm: pm}
	e.rp = startRecordingProxy(t, map[string]string{onionA: pm.addr(), onionB: pm.addr()})
	return e
}

func (e *pagedEnv) site(name, userinfo string) precwatch.Site {
	return precwatch.Site{
		Name:      name,
		StartURLs: []string{"http://" + onionA + "/p/1"},
		Proxy:     e.rp.url(userinfo),
		Extract:   rules,
		Limits:    precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second},
	}
}

func TestKeepAlive(t *testing.T) {
	for _, circuits := range []int{1, 3} {
		t.Run(fmt.Sprintf("circuits=%d", circuits), func(t *testing.T) {
			e := newPagedEnv(t, 6, 0, nil)
			site := e.site("keepalive", "")
			site.Circuits = circuits
			run, err := e.run(t, site)
			if err != nil || run.Status != precwatch.RunOK {
				t.Fatalf("run: %v %q %q", err, run.Status, run.Errors)
			}
			// Six index pages and twelve detail pages.
			if got, want := e.pm.requests(), 18; got != want {
				t.Fatalf("requests = %d, want %d", got, want)
			}
			// One connection per circuit, each kept alive over the run.
			if got := int(e.pm.conns.Load()); got != circuits {
				t.Errorf("TCP connections at the server = %d, want %d for %d requests", got, circuits, e.pm.requests())
			}
			if got := len(e.rp.log()); got != circuits {
				t.Errorf("SOCKS CONNECTs = %d, want %d", got, circuits)
			}
		})
	}
}

func TestCircuitsPerSite(t *testing.T) {
	e := newPagedEnv(t, 2, 0, nil)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	runSite := func(site precwatch.Site) (precwatch.Run, []socksConnect) {
		t.Helper()
		before := len(e.rp.log())
		c, err := New(site, e.store, keywordMatcher{}, logger, WithDirectDialer(e.directDialer()))
		if err != nil {
			t.Fatal(err)
		}
		run, err := c.Run(t.Context())
		if err != nil || run.Status != precwatch.RunOK {
			t.Fatalf("run %s: %v %q %q", site.Name, err, run.Status, run.Errors)
		}
		return run, e.rp.log()[before:]
	}
	userSet := func(cs []socksConnect) map[string]bool {
		out := map[string]bool{}
		for _, c := range cs {
			if c.user == "" {
				t.Errorf("CONNECT to %s without credentials", c.host)
			}
			out[c.user] = true
		}
		return out
	}
	_, a := runSite(e.site("site-a", ""))
	_, b := runSite(e.site("site-b", ""))
	_, a2 := runSite(e.site("site-a", ""))
	ua, ub, ua2 := userSet(a), userSet(b), userSet(a2)
	if len(ua) != 1 || len(ub) != 1 || len(ua2) != 1 {
		t.Fatalf("users per run: %d, %d, %d; want one circuit each", len(ua), len(ub), len(ua2))
	}
	for u := range ua {
		if ub[u] || ua2[u] {
			t.Errorf("credentials shared between sites or runs: %v %v %v", ua, ub, ua2)
		}
	}

	// Configured credentials are the proxy's to check: sent as written on
	// every circuit.
	site := e.site("site-c", "ops:s3cret")
	site.Circuits = 3
	run, c := runSite(site)
	for _, cn := range c {
		if cn.user != "ops" || cn.pass != "s3cret" {
			t.Errorf("credentials %q/%q, want the configured ones as written", cn.user, cn.pass)
		}
	}
	// Never logged nor recorded.
	for _, cs := range [][]socksConnect{a, b, a2, c} {
		for _, cn := range cs {
			for _, secret := range []string{cn.user, cn.pass} {
				if strings.Contains(logs.String(), secret) || strings.Contains(strings.Join(run.Errors, " "), secret) {
					t.Errorf("credential %q appears in the logs or run errors", secret)
				}
			}
		}
	}
	if e.directs.Load() != 0 {
		t.Errorf("direct dials = %d", e.directs.Load())
	}
}

func TestCircuitsInFlight(t *testing.T) {
	for _, tc := range []struct{ circuits, parallelism, wantInflight int }{{3, 0, 3}, {3, 2, 2}, {1, 0, 1}} {
		t.Run(fmt.Sprintf("circuits=%d,parallelism=%d", tc.circuits, tc.parallelism), func(t *testing.T) {
			e := newPagedEnv(t, 8, 20*time.Millisecond, nil)
			site := e.site("spread", "")
			site.Circuits, site.Politeness.Parallelism = tc.circuits, tc.parallelism
			run, err := e.run(t, site)
			if err != nil || run.Status != precwatch.RunOK || run.Pages != 24 {
				t.Fatalf("run: %v %+v", err, run)
			}
			if got := len(e.rp.users()); got != tc.circuits {
				t.Errorf("distinct credentials = %d, want %d", got, tc.circuits)
			}
			e.pm.mu.Lock()
			peak := e.pm.maxInflight
			e.pm.mu.Unlock()
			if peak > tc.wantInflight {
				t.Errorf("requests in flight peaked at %d, want at most %d", peak, tc.wantInflight)
			}
			if got := e.rp.maxOpen(); got > tc.circuits {
				t.Errorf("SOCKS tunnels open at once peaked at %d, want at most %d", got, tc.circuits)
			}
			if tc.wantInflight > 1 && peak < 2 {
				t.Errorf("requests in flight peaked at %d: circuits not used side by side", peak)
			}
		})
	}
	t.Run("parallelism above circuits is refused", func(t *testing.T) {
		site := precwatch.Site{Name: "x", StartURLs: []string{"http://" + onionA + "/"}, Circuits: 2, Politeness: precwatch.Politeness{Parallelism: 3}}
		if _, err := New(site, openStore(t), keywordMatcher{}, nil); err == nil || !strings.Contains(err.Error(), "parallelism 3 exceeds circuits 2") {
			t.Errorf("New: %v, want a parallelism error", err)
		}
	})
}

func TestCircuitReplaced(t *testing.T) {
	e := newPagedEnv(t, 3, 0, nil)
	// The first circuit the proxy sees is broken, as a Tor circuit through
	// a dead relay is: every CONNECT on it is refused.
	var bad string // under e.rp.mu
	e.rp.mu.Lock()
	e.rp.refuseUser = func(user string) bool {
		if bad == "" {
			bad = user
		}
		return user == bad
	}
	e.rp.mu.Unlock()
	site := e.site("replace", "")
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK {
		t.Fatalf("run: %v %q %q", err, run.Status, run.Errors)
	}
	if run.CircuitsReplaced != 1 {
		t.Errorf("circuits replaced = %d, want 1", run.CircuitsReplaced)
	}
	if got := e.storedRun(t, run.ID).CircuitsReplaced; got != 1 {
		t.Errorf("stored circuits_replaced = %d, want 1", got)
	}
	users := e.rp.users()
	e.rp.mu.Lock()
	defer e.rp.mu.Unlock()
	if len(users) != 2 || users[0] != bad {
		t.Errorf("credentials used = %d (first refused %v), want the broken one then one fresh", len(users), users[0] == bad)
	}
	refused := 0
	for _, c := range e.rp.connects {
		if c.refused {
			refused++
		}
	}
	if refused != 1 {
		t.Errorf("refused CONNECTs = %d, want 1 (the circuit is replaced at once)", refused)
	}
	if got, want := len(e.listings(t)), 6; got != want {
		t.Errorf("listings = %d, want %d", got, want)
	}
}

func TestCircuitsFailClosed(t *testing.T) {
	e := newPagedEnv(t, 3, 0, nil)
	site := e.site("dead", "")
	site.Circuits = 4
	e.rp.close()
	run, err := e.run(t, site)
	if err == nil || run.Status != precwatch.RunFailed || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("run with a dead proxy: %v %q", err, run.Status)
	}
	if got := e.pm.conns.Load(); got != 0 {
		t.Errorf("connections at the market = %d, want 0", got)
	}
	if got := e.directs.Load(); got != 0 {
		t.Errorf("direct dials = %d, want 0", got)
	}
	if run.CircuitsReplaced != 0 {
		t.Errorf("circuits replaced = %d for a dead proxy, want 0 (the run stops)", run.CircuitsReplaced)
	}
	if slices.ContainsFunc(run.Errors, func(s string) bool { return strings.Contains(s, "precwatch-") }) {
		t.Errorf("errors show circuit credentials: %q", run.Errors)
	}
}

// TestProxyCredentials crawls through a SOCKS5 proxy that checks
// credentials, as proxies other than Tor do: the URL's credentials reach
// it as written; without any, the random per-circuit ones it refuses give
// way to none when it serves that, and otherwise the run fails saying so.
func TestProxyCredentials(t *testing.T) {
	for _, tc := range []struct {
		name      string
		userinfo  string
		noAuthToo bool
		wantOK    bool
		wantUser  string // of every accepted CONNECT, or the error of a failed run
	}{
		{"credentials in the URL", "ops:s3cret", false, true, "ops"},
		{"none in the URL, proxy serves none too", "", true, true, ""},
		{"none in the URL, proxy requires them", "", false, false, "the proxy wants credentials: put its username and password in the proxy URL"},
		{"wrong ones in the URL", "ops:wrong", false, false, "username/password authentication failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newPagedEnv(t, 3, 0, nil)
			e.rp.auth, e.rp.noAuthToo = &socksConnect{user: "ops", pass: "s3cret"}, tc.noAuthToo
			var logs bytes.Buffer
			site := e.site("authproxy", tc.userinfo)
			site.Circuits = 2
			c, err := New(site, e.store, keywordMatcher{}, slog.New(slog.NewTextHandler(&logs, nil)), WithDirectDialer(e.directDialer()))
			if err != nil {
				t.Fatal(err)
			}
			run, err := c.Run(t.Context())
			if e.directs.Load() != 0 {
				t.Errorf("direct dials = %d", e.directs.Load())
			}
			if !tc.wantOK {
				if err == nil || run.Status != precwatch.RunFailed || !strings.Contains(strings.Join(run.Errors, " "), tc.wantUser) {
					t.Fatalf("run: %v %q %q, want failed on the proxy's refusal: %q", err, run.Status, run.Errors, tc.wantUser)
				}
				if strings.Contains(strings.Join(run.Errors, " "), "wrong") {
					t.Errorf("errors show the password: %q", run.Errors)
				}
				// A refusal is the config's to fix: not a broken circuit,
				// not worth a retry.
				if run.CircuitsReplaced != 0 || run.Requests != 1 {
					t.Errorf("circuits replaced %d, requests %d; want 0, 1", run.CircuitsReplaced, run.Requests)
				}
				return
			}
			if err != nil || run.Status != precwatch.RunOK || run.Pages != 9 {
				t.Fatalf("run: %v %q %d pages %q", err, run.Status, run.Pages, run.Errors)
			}
			accepted := 0
			for _, cn := range e.rp.log() {
				if cn.refused {
					continue
				}
				accepted++
				if cn.user != tc.wantUser || (tc.wantUser != "" && cn.pass != "s3cret") {
					t.Errorf("CONNECT with %q/%q, want user %q", cn.user, cn.pass, tc.wantUser)
				}
			}
			if accepted == 0 {
				t.Error("no CONNECT accepted")
			}
			if warned := strings.Contains(logs.String(), "not Tor"); warned != tc.noAuthToo {
				t.Errorf("fallback warning logged = %v, want %v:\n%s", warned, tc.noAuthToo, logs.String())
			}
			if strings.Contains(logs.String(), "s3cret") {
				t.Error("the password is in the logs")
			}
			for line := range strings.Lines(logs.String()) {
				if strings.Count(line, " site=") > 1 {
					t.Errorf("log line names its site twice: %s", line)
				}
			}
		})
	}
}

// TestOnionTLS crawls an onion service over HTTPS with a self-signed
// certificate: an onion address is the service's key, so Tor has
// authenticated it and the certificate is not checked against CAs. The
// same server under a clearnet name is refused for that certificate.
func TestOnionTLS(t *testing.T) {
	e := newPagedEnv(t, 2, 0, nil)
	tlsSrv := httptest.NewTLSServer(e.pm.srv.Config.Handler)
	t.Cleanup(tlsSrv.Close)
	const clearnet = "shop.example.com"
	e.rp.mu.Lock()
	e.rp.hosts[onionB], e.rp.hosts[clearnet] = tlsSrv.Listener.Addr().String(), tlsSrv.Listener.Addr().String()
	e.rp.mu.Unlock()

	site := e.site("onion-https", "")
	site.StartURLs = []string{"https://" + onionB + "/p/1"}
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Pages != 6 {
		t.Fatalf("onion over HTTPS: %v %q %d pages %q", err, run.Status, run.Pages, run.Errors)
	}

	site = e.site("clearnet-https", "")
	site.Tor, site.StartURLs = true, []string{"https://" + clearnet + "/p/1"}
	run, err = e.run(t, site)
	if err == nil || run.Status != precwatch.RunFailed || !strings.Contains(strings.Join(run.Errors, " "), "certificate signed by unknown authority") {
		t.Fatalf("clearnet name, self-signed certificate: %v %q %q, want refused", err, run.Status, run.Errors)
	}
	if e.directs.Load() != 0 {
		t.Errorf("direct dials = %d", e.directs.Load())
	}
}

// TestProxySessionCap crawls with more circuits than the proxy allows
// connections at once (Dante's session.max, which refuses the one over
// its cap by rule, 0x02): the refused requests are retried once the idle
// tunnels are let go, and the run reads everything. A refusal by rule
// ended the request at once before, a detail page or the run lost.
func TestProxySessionCap(t *testing.T) {
	e := newPagedEnv(t, 6, 0, nil)
	e.rp.mu.Lock()
	e.rp.maxSessions = 2
	e.rp.mu.Unlock()
	site := e.site("capped", "")
	site.Circuits = 4
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK {
		t.Fatalf("run: %v %q %q", err, run.Status, run.Errors)
	}
	e.rp.mu.Lock()
	refused, maxOpen := e.rp.capRefused, e.rp.maxOpenAll
	e.rp.mu.Unlock()
	if refused == 0 {
		t.Fatalf("no CONNECT over the cap: the test does not test it")
	}
	if maxOpen > 2 {
		t.Errorf("tunnels open at once = %d, over the proxy's cap 2", maxOpen)
	}
	if got, want := len(e.listings(t)), 12; got != want {
		t.Errorf("listings = %d, want %d", got, want)
	}
}

// TestRefusedByRuleSaysWhy: a refusal by rule names the proxy's rules and
// the connection cap, so that the operator knows what to change.
func TestRefusedByRuleSaysWhy(t *testing.T) {
	err := (&SOCKSReplyError{Code: 0x02}).Error()
	for _, want := range []string{"connection not allowed by ruleset", "more connections at once than it allows", "circuits", "0x02"} {
		if !strings.Contains(err, want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
