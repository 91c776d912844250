package crawler

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

// Sessions (issue 8).

const (
	onionS     = "pwtestsessionssssssssssssssssssssssssssssssssssssssssss.onion"
	secretSID  = "sid-s3cret-value"
	secretPass = "pass-s3cret-value"
)

// sessionMarket is a market behind a login form, with captcha, queue and
// decoy pages.
type sessionMarket struct {
	srv *httptest.Server

	mu      sync.Mutex
	valid   map[string]bool // session ids the market accepts
	posts   int             // login form submissions
	cookies map[string][]string
	n       int
	onIndex func() // called on each logged-in visit of /
	// throttled maps "METHOD /path" to the answers to give it before
	// serving it: a status and its Retry-After ("" for none).
	throttled map[string][]throttle
	requests  int // every request the market was sent
	// chain, when over 2, makes /p2 link on to /p/3 ... /p/chain;
	// maxViews, when set, ends a session after that many logged-in page
	// views (the login's own visit of / included).
	chain, maxViews int
	views           map[string]int
	// items adds rows X1..Xitems to /, whose detail pages then need the
	// session; the first barrier of them wait for each other, the market
	// ends every session, and they all answer logged out.
	items, barrier int
	released       chan struct{}
	// captcha maps a path to how many of its next requests get a captcha
	// page with status 200 (a rate limit's, per circuit or per request);
	// -1: all of them.
	captcha map[string]int
}

type throttle struct {
	status     int
	retryAfter string
}

func newSessionMarket(t *testing.T) *sessionMarket {
	m := &sessionMarket{valid: map[string]bool{}, cookies: map[string][]string{}, views: map[string]int{}}
	page := func(w http.ResponseWriter, status int, body string) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, "<!doctype html><html>"+body+"</html>")
	}
	loggedIn := func(r *http.Request) bool {
		c, err := r.Cookie("sid")
		m.mu.Lock()
		defer m.mu.Unlock()
		if err != nil || !m.valid[c.Value] {
			return false
		}
		if m.maxViews > 0 {
			if m.views[c.Value]++; m.views[c.Value] >= m.maxViews {
				delete(m.valid, c.Value)
			}
		}
		return true
	}
	next := func(n int) string {
		m.mu.Lock()
		defer m.mu.Unlock()
		if n >= m.chain {
			return ""
		}
		return fmt.Sprintf(`<a class="next" href="/p/%d">next</a>`, n+1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "csrf", Value: "tok123", Path: "/", HttpOnly: true})
		page(w, 200, `<head><title>Sign in</title></head><body><form method="post" action="/login">
			<input type="hidden" name="token" value="tok123"><input type="text" name="user"><input type="password" name="pass">
			<input type="submit" name="do_login" value="Login"></form></body>`)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		m.mu.Lock()
		m.posts++
		m.n++
		sid := fmt.Sprintf("%s-%d", secretSID, m.n)
		c, _ := r.Cookie("csrf")
		ok := c != nil && c.Value == "tok123" && r.PostForm.Get("token") == "tok123" && r.PostForm.Get("user") == "agent" &&
			r.PostForm.Get("pass") == secretPass && r.PostForm.Get("do_login") == "Login"
		if ok {
			m.valid[sid] = true
		}
		m.mu.Unlock()
		if !ok {
			page(w, 200, `<body><p class="error">Wrong user name or password</p><form method="post"><input name="user"><input type="password" name="pass"></form></body>`)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: sid, Path: "/", HttpOnly: true, Secure: true})
		http.Redirect(w, r, "/", http.StatusFound)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if !loggedIn(r) {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		m.mu.Lock()
		hook := m.onIndex
		m.mu.Unlock()
		if hook != nil {
			hook()
		}
		http.SetCookie(w, &http.Cookie{Name: "seen", Value: "1", Path: "/", MaxAge: 3600})
		m.mu.Lock()
		extra := ""
		for i := range m.items {
			extra += item(fmt.Sprintf("X%d", i+1), "Nitric acid 65% 1L", "€ 20,00")
		}
		m.mu.Unlock()
		page(w, 200, `<body><a class="logout" href="/logout">Log out</a>`+item("S1", "Hydrogen peroxide 35% 1L", "€ 45,00")+extra+`<a class="next" href="/p2">next</a></body>`)
	})
	mux.HandleFunc("GET /p2", func(w http.ResponseWriter, r *http.Request) {
		if !loggedIn(r) {
			page(w, 200, `<body><div class="please-login">Please log in to see listings.</div></body>`)
			return
		}
		page(w, 200, `<body>`+item("S2", "Acetone 99% 5L", "€ 30,00")+next(2)+`</body>`)
	})
	mux.HandleFunc("GET /p/{n}", func(w http.ResponseWriter, r *http.Request) {
		if !loggedIn(r) {
			page(w, 200, `<body><div class="please-login">Please log in to see listings.</div></body>`)
			return
		}
		n, _ := strconv.Atoi(r.PathValue("n"))
		page(w, 200, `<body>`+item(fmt.Sprintf("S%d", n), "Nitromethane 98% 1L", "€ 90,00")+next(n)+`</body>`)
	})
	mux.HandleFunc("GET /item/{id}", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		gated, wait := m.items > 0 && strings.HasPrefix(r.PathValue("id"), "X"), false
		if gated && m.barrier > 0 {
			if m.barrier--; m.barrier == 0 { // the last arrival ends the sessions
				clear(m.valid)
				close(m.released)
			}
			wait = true
		}
		m.mu.Unlock()
		if wait {
			select {
			case <-m.released:
			case <-time.After(5 * time.Second):
			}
		}
		if gated && !loggedIn(r) {
			page(w, 200, `<body><div class="please-login">Please log in to see listings.</div></body>`)
			return
		}
		page(w, 200, `<body><div class="desc">Sealed bottle.</div></body>`)
	})
	mux.HandleFunc("GET /captcha", func(w http.ResponseWriter, r *http.Request) {
		page(w, 200, `<head><title>Security</title></head><body><form method="post"><img src="/captcha.php?id=1" alt="code">
			<input type="text" name="captcha_code"><button>Enter</button></form></body>`)
	})
	// EndGame-style queue: 503, a refresh, a cookie.
	mux.HandleFunc("GET /queue", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "dcap", Value: "queue-cookie", Path: "/"})
		page(w, 503, `<head><title>Queue</title><meta http-equiv="refresh" content="1"></head><body><h1>You are in the queue</h1><p>Please wait.</p></body>`)
	})
	mux.HandleFunc("GET /login-broken", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	})
	// An ordinary shop page with a login box and captcha in its text.
	mux.HandleFunc("GET /decoy", func(w http.ResponseWriter, r *http.Request) {
		page(w, 200, `<head><title>Shop — login for DDoS protection deals</title><meta http-equiv="refresh" content="600"></head><body>
			<form action="/login" method="post"><input name="user"><input type="password" name="pass"><input name="captcha"></form>
			<p>Log in to see more. Our captcha keeps bots out. Please wait for shipping; we have a queue of orders.</p>`+
			item("D1", "Hydrogen peroxide 12% 500ml", "€ 12,00")+`</body>`)
	})
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		m.requests++
		m.cookies[r.URL.Path] = append(m.cookies[r.URL.Path], r.Header.Get("Cookie"))
		key := r.Method + " " + r.URL.Path
		var th *throttle
		if q := m.throttled[key]; len(q) > 0 {
			th, m.throttled[key] = &q[0], q[1:]
		}
		captcha := m.captcha[r.URL.Path] != 0
		if m.captcha[r.URL.Path] > 0 {
			m.captcha[r.URL.Path]--
		}
		m.mu.Unlock()
		if captcha {
			page(w, 200, `<head><title>Security check</title></head><body><form method="post" action="/verify"><img src="/captcha/7.png" alt="captcha">
			<input type="text" name="captcha"><button>Continue</button></form></body>`)
			return
		}
		if th != nil {
			if th.retryAfter != "" {
				w.Header().Set("Retry-After", th.retryAfter)
			}
			page(w, th.status, `<head><title>Slow down</title></head><body><p>Too many requests.</p></body>`)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *sessionMarket) sentCookies(path string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.cookies[path]...)
}

// throttle makes the market answer key ("METHOD /path") with ths, in
// turn, before serving it.
func (m *sessionMarket) throttle(key string, ths ...throttle) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.throttled == nil {
		m.throttled = map[string][]throttle{}
	}
	m.throttled[key] = ths
}

func (m *sessionMarket) served() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests
}

func (m *sessionMarket) logins() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.posts
}

// sessEnv is a session market behind a SOCKS5 proxy, a store and a
// captured log.
type sessEnv struct {
	m     *sessionMarket
	proxy *socksproxy.Proxy
	store precwatch.Store
	log   *bytes.Buffer
	logMu sync.Mutex
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func newSessEnv(t *testing.T) *sessEnv {
	return newSessEnvOn(t, openStore(t))
}

// newSessEnvOn is newSessEnv over a given store.
func newSessEnvOn(t *testing.T, st precwatch.Store) *sessEnv {
	e := &sessEnv{m: newSessionMarket(t), store: st, log: &bytes.Buffer{}}
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionS: e.m.srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e.proxy = p
	return e
}

func (e *sessEnv) site(paths ...string) precwatch.Site {
	s := precwatch.Site{Name: "sessmarket", Tor: true, Proxy: e.proxy.URL(), Extract: rules,
		Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
	for _, p := range paths {
		s.StartURLs = append(s.StartURLs, "http://"+onionS+p)
	}
	return s
}

// loginSite is site("/") with a login form whose password file holds
// secretPass.
func (e *sessEnv) loginSite(t *testing.T) precwatch.Site {
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(secretPass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	site := e.site("/")
	site.Login = &precwatch.Login{URL: "http://" + onionS + "/login", Username: "agent", PasswordFile: pw, Success: "a.logout"}
	return site
}

func (e *sessEnv) run(t *testing.T, site precwatch.Site) (precwatch.Run, error) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(lockedWriter{&e.logMu, e.log}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(site, e.store, keywordMatcher{}, logger, WithRetryBackoff(time.Millisecond, 5*time.Millisecond), WithThrottleFloor(time.Millisecond))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c.Run(t.Context())
}

// noSecrets fails when a cookie value or the password shows in the run
// record (as stored) or the log.
func (e *sessEnv) noSecrets(t *testing.T, run precwatch.Run) {
	t.Helper()
	runs, _ := e.store.Runs(t.Context(), "", 0)
	e.logMu.Lock()
	text := e.log.String() + fmt.Sprintf("%+v %+v %v", run, runs, run.Block)
	e.logMu.Unlock()
	for _, s := range []string{secretSID, secretPass, "tok123", "queue-cookie"} {
		if strings.Contains(text, s) {
			t.Errorf("%q appears in the run record or the log", s)
		}
	}
}

// evidence checks the run names a stored page whose hash matches.
func (e *sessEnv) evidence(t *testing.T, run precwatch.Run, want precwatch.PageClass, contains string) {
	t.Helper()
	if run.Block == nil {
		t.Fatalf("run %s has no block", run.Status)
	}
	if run.Block.Class != want {
		t.Errorf("block class = %s (%s), want %s", run.Block.Class, run.Block.Reason, want)
	}
	p, err := e.store.Page(t.Context(), run.Block.PageSHA256)
	if err != nil {
		t.Fatalf("evidence page %q: %v", run.Block.PageSHA256, err)
	}
	sum := sha256.Sum256(p.Body)
	if hex.EncodeToString(sum[:]) != run.Block.PageSHA256 || !strings.Contains(string(p.Body), contains) {
		t.Errorf("evidence page %s does not hold %q: %s", run.Block.PageSHA256, contains, p.Body)
	}
	stored := storedRuns(t, e.store)[run.ID]
	if stored.Status != run.Status || stored.Block == nil || stored.Block.PageSHA256 != run.Block.PageSHA256 {
		t.Errorf("stored run = %+v, want status %s and the evidence hash", stored, run.Status)
	}
}

func storedRuns(t *testing.T, s precwatch.Store) map[string]precwatch.Run {
	rs, err := s.Runs(t.Context(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]precwatch.Run{}
	for _, r := range rs {
		out[r.ID] = r
	}
	return out
}

func importSession(t *testing.T, s precwatch.Store, site string, cs ...precwatch.Cookie) {
	t.Helper()
	if err := s.SaveSiteSession(t.Context(), precwatch.SiteSession{Site: site, Cookies: cs, Source: "import", UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

// TestLoggedOutNeedsLogin: a logged-out page ends the run needs_login with
// the page kept, and marks nothing gone.
func TestLoggedOutNeedsLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) { loggedOutNeedsLogin(t, newSessEnvOn(t, st)) })
}

func loggedOutNeedsLogin(t *testing.T, e *sessEnv) {
	e.m.mu.Lock()
	e.m.valid["imported"] = true
	e.m.mu.Unlock()
	importSession(t, e.store, "sessmarket", precwatch.Cookie{Name: "sid", Value: "imported", Domain: onionS, HostOnly: true, Path: "/"})
	site := e.site("/")
	site.PageClasses.LoggedOut = []string{"div.please-login"}
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 2 {
		t.Fatalf("logged-in run: %v %s %d listings %v", err, run.Status, run.Listings, run.Errors)
	}
	if got := e.m.sentCookies("/"); len(got) != 1 || got[0] != "sid=imported" {
		t.Errorf("the market got cookies %q, want the imported session", got)
	}

	// The market forgets the session: /p2 shows a logged-out page.
	e.m.mu.Lock()
	delete(e.m.valid, "imported")
	e.m.mu.Unlock()
	site.StartURLs = []string{"http://" + onionS + "/p2"}
	run, err = e.run(t, site)
	if err == nil || run.Status != precwatch.RunNeedsLogin {
		t.Fatalf("logged-out run: err %v status %s, want needs_login", err, run.Status)
	}
	e.evidence(t, run, precwatch.PageLoggedOut, "Please log in")
	if !strings.Contains(run.Block.Reason, "div.please-login") {
		t.Errorf("reason %q does not name the selector", run.Block.Reason)
	}
	var gone []string
	e.store.Listings(t.Context(), "", func(st precwatch.ListingState) error {
		if st.Gone {
			gone = append(gone, st.Listing.ID)
		}
		return nil
	})
	if len(gone) != 0 {
		t.Errorf("a needs_login run marked %v gone", gone)
	}

	// A redirect to a login URL is logged out too.
	site.StartURLs = []string{"http://" + onionS + "/"}
	site.PageClasses = precwatch.PageClasses{LoginURLs: []string{"/login"}}
	run, _ = e.run(t, site)
	if run.Status != precwatch.RunNeedsLogin || run.Block == nil || !strings.Contains(run.Block.Reason, "redirected to the login page") {
		t.Errorf("redirect to /login: status %s block %+v", run.Status, run.Block)
	}
	e.noSecrets(t, run)
}

// TestBlockedPages: captcha and queue pages end the run blocked with the
// page kept; the decoy shop page is an ordinary page.
func TestBlockedPages(t *testing.T) {
	for _, tc := range []struct {
		path     string
		class    precwatch.PageClass
		contains string
	}{
		{"/captcha", precwatch.PageCaptcha, "captcha_code"},
		{"/queue", precwatch.PageQueue, "You are in the queue"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, st precwatch.Store) {
				e := newSessEnvOn(t, st)
				run, err := e.run(t, e.site(tc.path))
				if err == nil || run.Status != precwatch.RunBlocked {
					t.Fatalf("err %v status %s (%v), want blocked", err, run.Status, run.Errors)
				}
				e.evidence(t, run, tc.class, tc.contains)
				if !strings.Contains(err.Error(), string(tc.class)) {
					t.Errorf("run error %q does not name the class", err)
				}
				e.noSecrets(t, run)
			})
		})
	}
	t.Run("decoy", func(t *testing.T) {
		e := newSessEnv(t)
		site := e.site("/decoy")
		site.Login = &precwatch.Login{URL: "http://" + onionS + "/login", Username: "agent", PasswordEnv: "PW_UNUSED"}
		importSession(t, e.store, "sessmarket", precwatch.Cookie{Name: "sid", Value: "x", Domain: onionS, HostOnly: true, Path: "/"})
		run, err := e.run(t, site)
		if err != nil || run.Status != precwatch.RunOK || run.Listings != 1 || run.Block != nil {
			t.Errorf("decoy shop page: err %v status %s listings %d block %+v", err, run.Status, run.Listings, run.Block)
		}
	})
}

// TestLoginFlow: a site with a login form is logged into at the start, its
// pages fetched logged in, the session saved and reused; logged out later,
// it logs in again once and goes on.
func TestLoginFlow(t *testing.T) {
	e := newSessEnv(t)
	site := e.loginSite(t)
	site.PageClasses.LoggedOut = []string{"div.please-login"}

	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 2 || run.Logins != 1 {
		t.Fatalf("first run: %v %s listings %d logins %d %v %+v", err, run.Status, run.Listings, run.Logins, run.Errors, run.Block)
	}
	if got := e.m.sentCookies("/"); len(got) == 0 || !strings.Contains(got[len(got)-1], "sid="+secretSID) {
		t.Errorf("the listing page was fetched with cookies %q, want the session's", got)
	}
	if got := e.m.sentCookies("/p2"); len(got) != 1 || !strings.Contains(got[0], "sid=") {
		t.Errorf("page 2 cookies %q", got)
	}
	ss, err := e.store.SiteSession(t.Context(), "sessmarket")
	if err != nil || ss.Source != "login" || !strings.Contains(fmt.Sprint(ss), "sid") {
		t.Fatalf("saved session: %v %v", ss, err)
	}
	// The Secure cookie set over http by the onion site is kept and sent.
	var sid precwatch.Cookie
	for _, c := range ss.Cookies {
		if c.Name == "sid" {
			sid = c
		}
	}
	if !sid.Secure || !strings.HasPrefix(sid.Value, secretSID) || sid.Domain != onionS {
		t.Errorf("saved sid cookie = %v (secure %t)", sid, sid.Secure)
	}

	// The next run reuses the saved session: no login.
	run, err = e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Logins != 0 || e.m.logins() != 1 {
		t.Fatalf("second run: %v %s logins %d (market saw %d)", err, run.Status, run.Logins, e.m.logins())
	}

	// The market ends the session: the crawler finds itself logged out
	// (redirect to the login page), logs in again once, and goes on.
	e.m.mu.Lock()
	clear(e.m.valid)
	e.m.mu.Unlock()
	run, err = e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Logins != 1 || run.Listings != 2 || e.m.logins() != 2 {
		t.Fatalf("relogin run: %v %s logins %d listings %d (market saw %d) %v", err, run.Status, run.Logins, run.Listings, e.m.logins(), run.Errors)
	}
	e.noSecrets(t, run)

	// Wrong credentials: needs_login, with the answer to the form kept.
	clear(e.m.valid)
	os.WriteFile(site.Login.PasswordFile, []byte("wrong-password\n"), 0o600)
	importSession(t, e.store, "sessmarket") // clear
	e.store.SaveSiteSession(t.Context(), precwatch.SiteSession{Site: "sessmarket"})
	run, err = e.run(t, site)
	if err == nil || run.Status != precwatch.RunNeedsLogin {
		t.Fatalf("wrong password: %v %s", err, run.Status)
	}
	e.evidence(t, run, precwatch.PageLoggedOut, "Wrong user name or password")
	if !strings.Contains(run.Block.Reason, "a.logout") {
		t.Errorf("reason %q does not name the success check", run.Block.Reason)
	}
	e.noSecrets(t, run)

	// An unset password variable says which, and fetches nothing.
	site.Login.PasswordFile, site.Login.PasswordEnv = "", "PRECWATCH_TEST_UNSET_PW"
	run, _ = e.run(t, site)
	if run.Status != precwatch.RunNeedsLogin || run.Block == nil || !strings.Contains(run.Block.Reason, "PRECWATCH_TEST_UNSET_PW is not set") {
		t.Errorf("unset variable: %s %+v", run.Status, run.Block)
	}
}

// TestReloginAfterStartLogin: a run that logged in at its start (no saved
// session) and whose session the market then ends logs in once more and
// reads the rest of the site; the login made at the start does not use up
// the relogin.
func TestReloginAfterStartLogin(t *testing.T) {
	e := newSessEnv(t)
	site := e.loginSite(t)
	site.PageClasses.LoggedOut = []string{"div.please-login"}
	// The login's redirect visits / first, then the crawl does: the market
	// ends every session after serving the crawl's first page.
	visits := 0
	e.m.onIndex = func() {
		e.m.mu.Lock()
		defer e.m.mu.Unlock()
		if visits++; visits == 2 {
			clear(e.m.valid)
		}
	}
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Logins != 2 || run.Listings != 2 || e.m.logins() != 2 {
		t.Fatalf("run: %v %s logins %d listings %d (market saw %d) %q %+v", err, run.Status, run.Logins, run.Listings, e.m.logins(), run.Errors, run.Block)
	}
	if got := e.m.sentCookies("/p2"); len(got) != 2 || !strings.Contains(got[1], "sid="+secretSID+"-2") {
		t.Errorf("page 2 was fetched with cookies %q, want the first session's then the second's", got)
	}
	e.noSecrets(t, run)
}

// TestReloginEachExpiry: a market whose sessions last two page views (the
// login's own visit of / being one) ends the session again and again in one
// run; the crawler logs in again each time it has read a page since its
// last login, and reads every page. A session that ends before any page is
// read with it (the login works, the pages still say logged out) stops the
// run after one more login, not in a loop.
func TestReloginEachExpiry(t *testing.T) {
	e := newSessEnv(t)
	site := e.loginSite(t)
	site.PageClasses.LoggedOut = []string{"div.please-login"}
	e.m.chain, e.m.maxViews = 6, 2
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 6 || run.Logins != 6 || e.m.logins() != 6 {
		t.Fatalf("run: %v %s listings %d logins %d (market saw %d) %q %+v", err, run.Status, run.Listings, run.Logins, e.m.logins(), run.Errors, run.Block)
	}
	e.noSecrets(t, run)

	e2 := newSessEnv(t)
	site = e2.loginSite(t)
	e2.m.chain, e2.m.maxViews = 6, 1
	run, err = e2.run(t, site)
	if err == nil || run.Status != precwatch.RunNeedsLogin || run.Logins != 2 || e2.m.logins() != 2 {
		t.Fatalf("sessions that end at once: %v %s logins %d (market saw %d) %+v", err, run.Status, run.Logins, e2.m.logins(), run.Block)
	}
}

// TestReloginOnceForConcurrentRequests: four requests in flight on four
// circuits all meet the session the market has just ended; one login
// renews it for all of them, and each is fetched once more.
func TestReloginOnceForConcurrentRequests(t *testing.T) {
	e := newSessEnv(t)
	site := e.loginSite(t)
	site.PageClasses.LoggedOut = []string{"div.please-login"}
	site.Circuits = 4
	e.m.items, e.m.barrier, e.m.released = 8, 4, make(chan struct{})
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 10 || run.Logins != 2 || e.m.logins() != 2 {
		t.Fatalf("run: %v %s listings %d logins %d (market saw %d) %q %+v", err, run.Status, run.Listings, run.Logins, e.m.logins(), run.Errors, run.Block)
	}
}

// TestCaptchaRetriedOnFreshCircuit: a market that shows a captcha page
// (status 200) to a share of requests is asked again, after a backoff, on
// a circuit with fresh SOCKS credentials, within limits.retries, and the
// run reads the site; a captcha still there after the retries blocks the
// run with the page kept.
func TestCaptchaRetriedOnFreshCircuit(t *testing.T) {
	e := newSessEnv(t)
	e.m.captcha = map[string]int{"/p2": 2}
	run, err := e.run(t, e.loginSite(t))
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 2 || run.CircuitsReplaced != 2 {
		t.Fatalf("run: %v %s listings %d circuits replaced %d %+v", err, run.Status, run.Listings, run.CircuitsReplaced, run.Block)
	}
	users := map[string]bool{}
	for _, st := range e.proxy.Streams() {
		users[st.Username] = true
	}
	if len(users) != 3 {
		t.Errorf("SOCKS usernames %d, want 3: the first circuit's and a fresh one for each retry", len(users))
	}

	e = newSessEnv(t)
	e.m.captcha = map[string]int{"/p2": -1}
	site := e.loginSite(t)
	site.Limits.Retries = 1
	run, err = e.run(t, site)
	if got := len(e.m.sentCookies("/p2")); err == nil || run.Status != precwatch.RunBlocked || run.Listings != 1 || got != 2 {
		t.Fatalf("captcha on every request: %v %s listings %d, /p2 asked for %d times, want blocked after 2", err, run.Status, run.Listings, got)
	}
	e.evidence(t, run, precwatch.PageCaptcha, "Security check")
}

// TestLoginThrottled: the login flow's requests are retried as the
// crawl's are: a 429 with Retry-After on the login page and on the form's
// submission is waited out, a 503 without one retried with backoff, and
// the run logs in and reads the site, its record counting every request
// made. A Retry-After beyond limits.max_retry_after, or a login page still
// unavailable after the retries, fails the run naming the cause: it says
// nothing of the credentials, so the run is not needs_login.
func TestLoginThrottled(t *testing.T) {
	e := newSessEnv(t)
	site := e.loginSite(t)

	e.m.throttle("GET /login", throttle{http.StatusTooManyRequests, "1"}, throttle{http.StatusServiceUnavailable, ""})
	e.m.throttle("POST /login", throttle{http.StatusTooManyRequests, "1"})
	start := time.Now()
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Logins != 1 || run.Listings != 2 || e.m.logins() != 1 {
		t.Fatalf("throttled login: %v %s logins %d listings %d (market saw %d) %q %+v", err, run.Status, run.Logins, run.Listings, e.m.logins(), run.Errors, run.Block)
	}
	if waited := time.Since(start); waited < 2*time.Second {
		t.Errorf("the run took %s: the two Retry-After waits of 1s were not made", waited)
	}
	if got := e.m.served(); run.Requests != got {
		t.Errorf("run counted %d requests, the market served %d", run.Requests, got)
	}
	if run.Throttled != 3 { // two 429s and a 503 on the login flow
		t.Errorf("run counted %d throttled answers, want 3", run.Throttled)
	}
	e.noSecrets(t, run)

	// No session, and a login page asking a wait beyond the limit.
	e.store.SaveSiteSession(t.Context(), precwatch.SiteSession{Site: "sessmarket"})
	site.Limits.MaxRetryAfter = 2 * time.Second
	e.m.throttle("GET /login", throttle{http.StatusTooManyRequests, "3600"})
	run, err = e.run(t, site)
	if err == nil || run.Status != precwatch.RunFailed || run.Block != nil || !strings.Contains(err.Error(), "limits.max_retry_after") {
		t.Fatalf("Retry-After beyond the limit: %v %s %+v", err, run.Status, run.Block)
	}

	// Unavailable through every retry: failed, with the status.
	e.m.throttle("GET /login", throttle{http.StatusServiceUnavailable, ""}, throttle{http.StatusServiceUnavailable, ""}, throttle{http.StatusServiceUnavailable, ""})
	run, err = e.run(t, site)
	if err == nil || run.Status != precwatch.RunFailed || run.Block != nil || !strings.Contains(err.Error(), "status 503") {
		t.Fatalf("login page unavailable: %v %s %+v", err, run.Status, run.Block)
	}
	if e.m.logins() != 1 {
		t.Errorf("the market saw %d logins, want 1", e.m.logins())
	}
}

// TestInlinePasswordRefused: New refuses a login with an inline password.
func TestInlinePasswordRefused(t *testing.T) {
	site := precwatch.Site{Name: "m", StartURLs: []string{"http://" + onionS + "/"}, Tor: true,
		Login: &precwatch.Login{URL: "http://" + onionS + "/login", Username: "a", Password: "hunter2hunter2"}}
	_, err := New(site, openStore(t), keywordMatcher{}, nil)
	if err == nil || !strings.Contains(err.Error(), "inline password") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("err = %v", err)
	}
}

// TestClassifyDecoys: built-in recognition of captcha, anti-DDoS, queue
// and challenge pages, and ordinary pages it must leave alone.
func TestClassifyDecoys(t *testing.T) {
	cl, err := newClassifier(precwatch.Site{})
	if err != nil {
		t.Fatal(err)
	}
	listing := item("X1", "Hydrogen peroxide 30%", "€ 10")
	for _, tc := range []struct {
		name       string
		status     int
		html       string
		want       precwatch.PageClass // "" for an ordinary page
		loginForms bool
	}{
		{"login form instead of listings", 200, `<form><input name="u"><input type="password" name="p"></form>`, precwatch.PageLoggedOut, true},
		{"login box beside listings", 200, `<form><input name="u"><input type="password" name="p"></form>` + item("X1", "Acetone", "€ 1"), "", true},
		{"login form, no session to lose", 200, `<form><input name="u"><input type="password" name="p"></form>`, "", false},
		{"recaptcha", 200, `<div class="g-recaptcha" data-sitekey="x"></div>`, precwatch.PageCaptcha, false},
		{"self-hosted captcha", 200, `<form><img src="/cap.png" class="captcha-img"><input name="answer"></form>`, precwatch.PageCaptcha, false},
		{"endgame ddos", 200, `<head><title>Market DDOS Protection</title></head><form method="post"><input name="c"><button>Go</button></form>`, precwatch.PageAntiDDoS, false},
		{"js wait", 200, `<head><title>Just a moment...</title></head><script>setTimeout(function(){location.href="/"},5000)</script>`, precwatch.PageChallenge, false},
		{"403 challenge", 403, `<head><meta http-equiv="Refresh" content="3"></head><p>Access denied</p>`, precwatch.PageChallenge, false},
		{"503 queue", 503, `<h1>Waiting room</h1><p>Your position: 3</p>`, precwatch.PageQueue, false},
		{"plain 503", 503, `<h1>Service Unavailable</h1>`, "", false},
		{"plain 403", 403, `<h1>Forbidden</h1>`, "", false},
		{"shop mentions captcha", 200, `<p>We use a captcha at checkout. Login to order.</p>` + listing, "", false},
		{"shop with login box", 200, `<form><input name="u"><input type="password" name="p"></form>` + listing, "", false},
		{"shop page titled DDoS", 200, `<head><title>DDoS protection hosting — queue-free</title><meta http-equiv="refresh" content="300"></head>` + listing, "", false},
		{"product with captcha contact form", 200, `<form><input name="captcha"></form>` + listing, "", false},
		{"empty page, words in text only", 200, `<p>Please wait while we restock. Our DDoS protection and captcha keep you safe.</p>`, "", false},
		{"hidden captcha token", 200, `<form><input type="hidden" name="captcha_token" value="x"></form>`, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := goquery.NewDocumentFromReader(strings.NewReader("<html>" + tc.html + "</html>"))
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse("http://" + onionS + "/list")
			ext, _ := New(precwatch.Site{Name: "x", StartURLs: []string{u.String()}, Tor: true, Extract: rules}, openStore(t), keywordMatcher{}, nil)
			f := pageFacts{status: tc.status, requested: u, final: u, doc: doc, loginForms: tc.loginForms, noContent: func() bool {
				res, err := ext.ext.Extract(doc, u)
				return err != nil || len(res.Listings) == 0
			}}
			v, ok := cl.classify(f)
			if got := map[bool]precwatch.PageClass{true: v.class}[ok]; got != tc.want {
				t.Errorf("class = %q (%s), want %q", got, v.reason, tc.want)
			}
		})
	}
}

// TestJar: RFC 6265 matching, onion Secure cookies, deletion and export.
func TestJar(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	j := newJar(func() time.Time { return now }, []precwatch.Cookie{
		{Name: "old", Value: "1", Domain: "a.onion", HostOnly: true, Path: "/", Expires: now.Add(-time.Hour)},
		{Name: "keep", Value: "2", Domain: "a.onion", HostOnly: true, Path: "/"},
	}, nil)
	u := func(s string) *url.URL { p, _ := url.Parse(s); return p }
	j.SetCookies(u("http://a.onion/shop/list"), []*http.Cookie{
		{Name: "sec", Value: "s", Secure: true},            // path /shop, secure
		{Name: "dom", Value: "d", Domain: ".a.onion"},      // domain cookie
		{Name: "bad", Value: "x", Domain: "onion"},         // refused
		{Name: "evil", Value: "x", Domain: "other.onion"},  // refused
		{Name: "short", Value: "x", MaxAge: 60, Path: "/"}, // expires in 60s
	})
	names := func(cs []*http.Cookie) string {
		var ns []string
		for _, c := range cs {
			ns = append(ns, c.Name+"="+c.Value)
		}
		return strings.Join(ns, " ")
	}
	if got, want := names(j.Cookies(u("http://a.onion/shop/item/1"))), "dom=d sec=s keep=2 short=x"; got != want {
		t.Errorf("cookies for an onion page = %q, want %q", got, want)
	}
	if got, want := names(j.Cookies(u("http://sub.a.onion/shop/x"))), "dom=d"; got != want {
		t.Errorf("cookies for a subdomain = %q, want %q", got, want)
	}
	if got := names(j.Cookies(u("http://a.onion/shopping"))); strings.Contains(got, "sec") {
		t.Errorf("a /shop cookie was sent to /shopping: %q", got)
	}
	j2 := newJar(func() time.Time { return now }, []precwatch.Cookie{{Name: "sec", Value: "s", Domain: "clear.test", HostOnly: true, Path: "/", Secure: true}}, nil)
	if got := names(j2.Cookies(u("http://clear.test/"))); got != "" {
		t.Errorf("a Secure cookie was sent over http to a clear-web site: %q", got)
	}
	// Deleting by Max-Age<0 removes it from what is saved.
	j.SetCookies(u("http://a.onion/"), []*http.Cookie{{Name: "keep", MaxAge: -1, Path: "/"}})
	cs, changed := j.export()
	if !changed || len(cs) != 3 {
		t.Errorf("export = %v changed %t, want sec, dom, short", cs, changed)
	}
	for _, c := range cs {
		if c.Name == "keep" || c.Name == "old" {
			t.Errorf("exported %v", c)
		}
		if c.Name == "short" && !c.Expires.Equal(now.Add(time.Minute)) {
			t.Errorf("max-age cookie expires %v", c.Expires)
		}
	}
	// A jar the site did not touch is not saved.
	j3 := newJar(func() time.Time { return now }, []precwatch.Cookie{{Name: "a", Value: "1", Domain: "x.onion", HostOnly: true, Path: "/"}}, nil)
	j3.SetCookies(u("http://x.onion/"), []*http.Cookie{{Name: "a", Value: "1"}})
	if _, changed := j3.export(); changed {
		t.Error("setting the same cookie again counts as a change")
	}
}

// TestCaptchaOnLoginPage: a captcha in front of the login form ends the
// run blocked, with the login page kept, and submits nothing.
func TestCaptchaOnLoginPage(t *testing.T) {
	e := newSessEnv(t)
	t.Setenv("PRECWATCH_TEST_PW", secretPass)
	site := e.site("/")
	site.Login = &precwatch.Login{URL: "http://" + onionS + "/captcha", Username: "agent", PasswordEnv: "PRECWATCH_TEST_PW"}
	run, err := e.run(t, site)
	if err == nil || run.Status != precwatch.RunBlocked || run.Pages != 0 {
		t.Fatalf("err %v status %s pages %d", err, run.Status, run.Pages)
	}
	e.evidence(t, run, precwatch.PageCaptcha, "captcha_code")
	if !strings.Contains(run.Block.Reason, "login page") || e.m.logins() != 0 {
		t.Errorf("reason %q, %d logins", run.Block.Reason, e.m.logins())
	}
	e.noSecrets(t, run)
}

// TestLoginPageUnreachable: a login page that cannot be fetched fails the
// run with the fetch error; it is not a verdict on the session.
func TestLoginPageUnreachable(t *testing.T) {
	e := newSessEnv(t)
	site := e.site("/")
	site.Login = &precwatch.Login{URL: "http://" + onionS + "/login-broken", Username: "agent", PasswordEnv: "PRECWATCH_TEST_UNSET_PW"}
	run, err := e.run(t, site)
	if err == nil || run.Status != precwatch.RunFailed || run.Block != nil {
		t.Fatalf("err %v status %s block %+v", err, run.Status, run.Block)
	}
	if !strings.Contains(err.Error(), "crawler: login GET") {
		t.Errorf("err %v does not name the login fetch", err)
	}
}

// TestLoginDefaultSuccess: without a success selector, a login is good when
// the answer shows no password form and is not a logged-out page.
func TestLoginDefaultSuccess(t *testing.T) {
	e := newSessEnv(t)
	t.Setenv("PRECWATCH_TEST_PW", secretPass)
	site := e.site("/")
	site.Login = &precwatch.Login{URL: "http://" + onionS + "/login", UsernameEnv: "PRECWATCH_TEST_USER", PasswordEnv: "PRECWATCH_TEST_PW",
		UsernameField: "input[type=text]", PasswordField: "pass"}
	t.Setenv("PRECWATCH_TEST_USER", "agent")
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Logins != 1 || run.Listings != 2 {
		t.Fatalf("good login: %v %s logins %d listings %d %+v", err, run.Status, run.Logins, run.Listings, run.Block)
	}
	e.store.SaveSiteSession(t.Context(), precwatch.SiteSession{Site: "sessmarket"})
	t.Setenv("PRECWATCH_TEST_PW", "wrong")
	site.PageClasses.NoBuiltin = true
	run, _ = e.run(t, site)
	if run.Status != precwatch.RunNeedsLogin || run.Block == nil || !strings.Contains(run.Block.Reason, "still shows a password form") {
		t.Fatalf("wrong password: %s %+v", run.Status, run.Block)
	}
	e.evidence(t, run, precwatch.PageLoggedOut, "Wrong user name or password")
}

// TestSessionSaved: cookies the site sets are saved after the run; an
// import made while a run goes is not overwritten by it.
func TestSessionSaved(t *testing.T) {
	e := newSessEnv(t)
	e.m.mu.Lock()
	e.m.valid["imported"] = true
	e.m.mu.Unlock()
	importSession(t, e.store, "sessmarket", precwatch.Cookie{Name: "sid", Value: "imported", Domain: onionS, HostOnly: true, Path: "/"})
	run, err := e.run(t, e.site("/"))
	if err != nil || run.Status != precwatch.RunOK {
		t.Fatalf("run: %v %s", err, run.Status)
	}
	ss, err := e.store.SiteSession(t.Context(), "sessmarket")
	if err != nil || ss.Source != "crawl" || len(ss.Cookies) != 2 {
		t.Fatalf("saved session %v %v, want sid and seen from the crawl", ss, err)
	}

	// An operator imports while the run goes: the import stays.
	e.m.mu.Lock()
	e.m.onIndex = func() {
		e.m.mu.Lock() // the handler calls it without the lock held
		e.m.onIndex = nil
		e.m.mu.Unlock()
		importSession(t, e.store, "sessmarket", precwatch.Cookie{Name: "sid", Value: "fresh", Domain: onionS, HostOnly: true, Path: "/"})
	}
	e.m.mu.Unlock()
	e.store.SaveSiteSession(t.Context(), precwatch.SiteSession{Site: "sessmarket"})
	importSession(t, e.store, "sessmarket", precwatch.Cookie{Name: "sid", Value: "imported", Domain: onionS, HostOnly: true, Path: "/"},
		precwatch.Cookie{Name: "seen", Value: "0", Domain: onionS, HostOnly: true, Path: "/"})
	if _, err := e.run(t, e.site("/")); err != nil {
		t.Fatal(err)
	}
	ss, _ = e.store.SiteSession(t.Context(), "sessmarket")
	if ss.Source != "import" || len(ss.Cookies) != 1 || ss.Cookies[0].Value != "fresh" {
		t.Errorf("after a mid-run import the store holds %v, want the import", ss)
	}
}

// TestJarMirrors: a mirror's cookies are kept and sent as the primary's,
// and of a cookie on both, the primary's wins.
func TestJarMirrors(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	j := newJar(func() time.Time { return now }, []precwatch.Cookie{
		{Name: "sid", Value: "mirror", Domain: "m.onion", HostOnly: true, Path: "/"},
		{Name: "sid", Value: "primary", Domain: "p.onion", HostOnly: true, Path: "/"},
		{Name: "lang", Value: "de", Domain: "m.onion", HostOnly: true, Path: "/"},
		{Name: "other", Value: "x", Domain: "elsewhere.onion", HostOnly: true, Path: "/"},
	}, map[string]string{"m.onion": "p.onion"})
	u := func(s string) *url.URL { p, _ := url.Parse(s); return p }
	j.SetCookies(u("http://M.onion/x"), []*http.Cookie{{Name: "set", Value: "by-mirror", Domain: "m.onion", Path: "/"}})
	names := func(cs []*http.Cookie) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name+"="+c.Value)
		}
		return strings.Join(out, "; ")
	}
	for _, host := range []string{"p.onion", "m.onion"} {
		if got, want := names(j.Cookies(u("http://"+host+"/"))), "lang=de; set=by-mirror; sid=primary"; got != want {
			t.Errorf("cookies for %s = %q, want %q", host, got, want)
		}
	}
	cs, changed := j.export()
	for _, c := range cs {
		if c.Domain == "m.onion" {
			t.Errorf("exported cookie %s kept on the mirror's host", c.Name)
		}
	}
	if !changed || len(cs) != 4 {
		t.Errorf("export: %d cookies, changed %v; want 4, true", len(cs), changed)
	}
}

// TestLoginRedirectNotFollowed: a page that redirects to the login page
// says the session ended; the crawl logs in again without fetching the
// login page itself. Markets that render a new CSRF token into the
// session each time the form is shown void a login in progress when a
// crawl request in flight on another circuit follows such a redirect
// (probe 13: with circuits: 3, 8 of 10 runs of a login market ended
// needs_login). Without a login config the redirect still ends the run
// needs_login.
func TestLoginRedirectNotFollowed(t *testing.T) {
	e := newSessEnv(t)
	importSession(t, e.store, "sessmarket", precwatch.Cookie{Name: "sid", Value: "stale", Domain: onionS, HostOnly: true, Path: "/"})
	site := e.loginSite(t)
	site.PageClasses.LoggedOut = []string{"div.please-login"}
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 2 || run.Logins != 1 {
		t.Fatalf("run: %v %s listings %d logins %d %q %+v", err, run.Status, run.Listings, run.Logins, run.Errors, run.Block)
	}
	// The login's GET and POST of /login, nothing more.
	if got := len(e.m.sentCookies("/login")); got != 2 {
		t.Errorf("/login requested %d times, want 2 (the login's form and its submission)", got)
	}
	e.noSecrets(t, run)

	e2 := newSessEnv(t)
	importSession(t, e2.store, "sessmarket", precwatch.Cookie{Name: "sid", Value: "stale", Domain: onionS, HostOnly: true, Path: "/"})
	site = e2.site("/")
	site.PageClasses.LoginURLs = []string{"/login"}
	run, err = e2.run(t, site)
	if err == nil || run.Status != precwatch.RunNeedsLogin || run.Block == nil || !strings.Contains(run.Block.Reason, "redirected to the login page /login") {
		t.Fatalf("run without a login: %v %s %+v", err, run.Status, run.Block)
	}
	if got := len(e2.m.sentCookies("/login")); got != 0 {
		t.Errorf("/login requested %d times without a login, want 0", got)
	}
}
