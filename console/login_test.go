package console

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"github.com/precwatch/precwatch"
)

// Login hardening: throttling, the audit log's paging, filters and
// aggregation, HSTS and the post-login redirect.

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// clockEnv is a console on the test users' store, on a test clock, with
// cheap bcrypt for made-up names too.
type clockEnv struct {
	t     *testing.T
	store precwatch.ConsoleStore
	srv   *Server
	clock *testClock
}

func newClockEnv(t *testing.T) *clockEnv {
	t.Helper()
	e := newEnv(t)
	ce := &clockEnv{t: t, store: e.store, clock: &testClock{now: t0.Add(24 * time.Hour)}}
	var err error
	if ce.srv, err = New(Options{Store: e.store, Now: ce.clock.Now}); err != nil {
		t.Fatal(err)
	}
	ce.srv.hashCost = bcrypt.MinCost
	dummy, err := bcrypt.GenerateFromPassword([]byte("not a password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ce.srv.dummyHash = dummy
	return ce
}

// attempt is one sign-in through the API from a client address, with the
// cookies it has.
type attempt struct {
	code       int
	retryAfter string
	errCode    string
	cookies    []*http.Cookie
	body       string
}

func (ce *clockEnv) login(addr, name, pw string, cookies ...*http.Cookie) attempt {
	ce.t.Helper()
	body := fmt.Sprintf(`{"name":%q,"password":%q}`, name, pw)
	req := httptest.NewRequest("POST", "/api/login", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = addr + ":40000"
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	ce.srv.Handler().ServeHTTP(rec, req)
	a := attempt{code: rec.Code, retryAfter: rec.Header().Get("Retry-After"), cookies: rec.Result().Cookies(), body: rec.Body.String()}
	a.errCode = response{body: rec.Body.Bytes()}.errorCode()
	return a
}

// device is the device cookie among cookies.
func device(t *testing.T, cookies []*http.Cookie) *http.Cookie {
	t.Helper()
	for _, c := range cookies {
		if c.Name == "precwatch_device" {
			return c
		}
	}
	t.Fatalf("no device cookie in %v", cookies)
	return nil
}

const (
	attacker = "198.51.100.7"
	office   = "203.0.113.9"
)

// TestThrottleClient: an address that keeps failing gets 429 with
// Retry-After, not 401, and does not lock the account it tries: the user
// signs in from elsewhere at once.
func TestThrottleClient(t *testing.T) {
	ce := newClockEnv(t)
	for i := 1; i <= clientFree+1; i++ {
		if a := ce.login(attacker, "adam", "guess guess guess"); a.code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s, want 401", i, a.code, a.body)
		}
	}
	a := ce.login(attacker, "adam", password)
	if a.code != http.StatusTooManyRequests || a.errCode != ETHROTTLED || a.retryAfter != "1" || !strings.Contains(a.body, "from your address") {
		t.Fatalf("after %d failures: %d %q Retry-After %q, want 429 ETHROTTLED Retry-After 1", clientFree+1, a.code, a.body, a.retryAfter)
	}
	// Hammering while throttled is not counted: it neither lengthens the
	// wait nor touches the account.
	for range 200 {
		ce.login(attacker, "adam", "guess guess guess")
	}
	if a := ce.login(attacker, "adam", "guess guess guess"); a.retryAfter != "1" {
		t.Errorf("Retry-After after hammering %q, want still 1", a.retryAfter)
	}
	if a := ce.login(office, "adam", password); a.code != http.StatusOK {
		t.Fatalf("the admin from another address while the attacker hammers: %d %s, want 200", a.code, a.body)
	}
	// Other names are throttled from the attacker's address too.
	if a := ce.login(attacker, "ivy", password); a.code != http.StatusTooManyRequests {
		t.Errorf("another name from the throttled address: %d, want 429", a.code)
	}
	// Once the wait is over the address may try again; the next failure
	// doubles the wait.
	ce.clock.Add(time.Second)
	if a := ce.login(attacker, "adam", "guess guess guess"); a.code != http.StatusUnauthorized {
		t.Errorf("after waiting: %d, want 401", a.code)
	}
	if a := ce.login(attacker, "adam", "guess guess guess"); a.retryAfter != "2" {
		t.Errorf("Retry-After after the next failure %q, want 2", a.retryAfter)
	}
	// An IPv6 client's /64 is one client.
	for i := range clientFree + 1 {
		ce.login(fmt.Sprintf("[2001:db8:1:2::%x]", i+1), "ana", "guess guess guess")
	}
	if a := ce.login("[2001:db8:1:2:ffff::1]", "ana", password); a.code != http.StatusTooManyRequests {
		t.Errorf("another address of the same /64: %d, want 429", a.code)
	}
	if a := ce.login("[2001:db8:1:3::1]", "ana", password); a.code != http.StatusOK {
		t.Errorf("another /64: %d, want 200", a.code)
	}
}

// TestThrottleCapped: an attacker who waits out every delay keeps trying
// for a day; no wait ever exceeds its cap, and the user gets in after at
// most the account's cap from a new browser, and at once from one that
// signed in before.
func TestThrottleCapped(t *testing.T) {
	ce := newClockEnv(t)
	known := device(t, ce.login(office, "ana", password).cookies)
	// The attacker waits out every Retry-After for three hours; after each
	// failure the account's wait is read too.
	var maxWait, maxAccount time.Duration
	failures := 0
	for end := ce.clock.Now().Add(3 * time.Hour); ce.clock.Now().Before(end); {
		a := ce.login(attacker, "ana", "guess guess guess")
		switch a.code {
		case http.StatusUnauthorized:
			failures++
			maxAccount = max(maxAccount, ce.srv.throttle.accounts.wait(accountKey("ana"), ce.clock.Now()))
			continue
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("attacker: %d %s", a.code, a.body)
		}
		secs, err := strconv.Atoi(a.retryAfter)
		if err != nil || secs < 1 {
			t.Fatalf("Retry-After %q", a.retryAfter)
		}
		maxWait = max(maxWait, time.Duration(secs)*time.Second)
		ce.clock.Add(time.Duration(secs) * time.Second)
	}
	if maxWait != clientMaxDelay {
		t.Errorf("longest wait of the attacker %v, want the cap %v", maxWait, clientMaxDelay)
	}
	if maxAccount != accountMaxDelay {
		t.Errorf("longest wait of the account %v, want the cap %v", maxAccount, accountMaxDelay)
	}
	if failures < 40 {
		t.Errorf("%d failures in three hours, want one per five minutes at least", failures)
	}
	// Right after a failure the account waits; a new browser is told so.
	ce.clock.Add(clientMaxDelay)
	ce.login(attacker, "ana", "guess guess guess")
	a := ce.login("192.0.2.2", "ana", password)
	if a.code != http.StatusTooManyRequests || a.retryAfter != strconv.Itoa(int(accountMaxDelay/time.Second)) {
		t.Fatalf("a new browser right after the attacker's failure: %d Retry-After %q, want 429 and %v", a.code, a.retryAfter, accountMaxDelay)
	}
	// The browser that signed in before is not delayed at all.
	if a := ce.login(office, "ana", password, known); a.code != http.StatusOK {
		t.Fatalf("known browser: %d %s, want 200", a.code, a.body)
	}
	// Success cleared the account's failures: the new browser may try
	// at once.
	if a := ce.login("192.0.2.2", "ana", password); a.code != http.StatusOK {
		t.Errorf("new browser after the user's success: %d %s, want 200", a.code, a.body)
	}
	// A device cookie is for its account only, and cannot be forged.
	forged := &http.Cookie{Name: known.Name, Value: strings.Replace(known.Value, known.Value[:4], "aXZ5", 1)}
	for range accountFree + 1 {
		ce.login(fmt.Sprintf("192.0.2.%d", 100+ce.clock.Now().Second()%50), "ivy", "guess guess guess")
		ce.clock.Add(time.Second)
	}
	for i := range accountFree + 1 {
		ce.login(fmt.Sprintf("192.0.3.%d", i), "ivy", "guess guess guess")
	}
	for _, c := range []*http.Cookie{known, forged} {
		if a := ce.login(office, "ivy", password, c); a.code != http.StatusTooManyRequests {
			t.Errorf("ivy with cookie %s: %d, want 429", c.Value, a.code)
		}
	}
}

// TestThrottleDistributed: many addresses, each under its own limit,
// delay the name they try (up to its cap), but never for a browser that
// signed in to it before; the login page explains the wait.
func TestThrottleDistributed(t *testing.T) {
	ce := newClockEnv(t)
	known := device(t, ce.login(office, "adam", password).cookies)
	for i := range 3 * accountFree {
		ce.login(fmt.Sprintf("198.51.100.%d", i+1), "adam", "guess guess guess")
	}
	a := ce.login("192.0.2.1", "adam", password)
	if a.code != http.StatusTooManyRequests || a.errCode != ETHROTTLED {
		t.Fatalf("new browser during a distributed attack: %d %s, want 429", a.code, a.body)
	}
	if secs, _ := strconv.Atoi(a.retryAfter); secs < 1 || time.Duration(secs)*time.Second > accountMaxDelay {
		t.Errorf("Retry-After %q, want 1 to %v", a.retryAfter, accountMaxDelay)
	}
	if a := ce.login(office, "adam", password, known); a.code != http.StatusOK {
		t.Errorf("known browser during a distributed attack: %d %s, want 200", a.code, a.body)
	}
	// The form says so on the login page, with 429 and Retry-After (the
	// attack goes on after the admin's success cleared the name).
	for i := range accountFree + 1 {
		ce.login(fmt.Sprintf("198.51.101.%d", i+1), "adam", "guess guess guess")
	}
	form := url.Values{"name": {"adam"}, "password": {password}}
	req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.RemoteAddr = "192.0.2.3:40000"
	rec := httptest.NewRecorder()
	ce.srv.Handler().ServeHTTP(rec, req)
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" ||
		!strings.Contains(doc.Find("#login-error").Text(), "try again in") || doc.Find("#login-wait").Length() != 1 {
		t.Errorf("throttled form: %d Retry-After %q, error %q", rec.Code, rec.Header().Get("Retry-After"), doc.Find("#login-error").Text())
	}
}

// TestAuditFlood: 600 failed sign-ins with made-up names are a handful of
// counted entries; a real user's failed sign-in stays an entry of its own,
// and the real entries stay on the first page.
func TestAuditFlood(t *testing.T) {
	ce := newClockEnv(t)
	ctx := context.Background()
	if a := ce.login(office, "ivy", password); a.code != http.StatusOK {
		t.Fatal(a.body)
	}
	ce.login(office, "ana", "a wrong password")
	for i := range 600 {
		ce.login(fmt.Sprintf("198.51.100.%d", i%3+1), fmt.Sprintf("made-up-%d", i), "guess guess guess")
	}
	es, err := ce.store.Audit(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) > 8 {
		t.Errorf("%d audit entries after 600 made-up names, want at most 8", len(es))
	}
	counted := 0
	for _, e := range es {
		switch e.Action {
		case "login_failed_unknown", "login_throttled":
			counted += e.Count
			if !e.Failed || !strings.HasPrefix(e.Target, "client:198.51.100.") || strings.Contains(e.Detail+e.Actor, "made-up") {
				t.Errorf("aggregated entry %+v", e)
			}
		}
	}
	if counted != 600 {
		t.Errorf("aggregated entries count %d attempts, want 600", counted)
	}
	p, err := ce.store.QueryAudit(ctx, precwatch.AuditQuery{Actor: "ana"})
	if err != nil || len(p.Entries) != 1 || p.Entries[0].Action != "login_failed" || !p.Entries[0].Failed || !strings.Contains(p.Entries[0].Detail, office) {
		t.Errorf("ana's failed sign-in: %+v, %v", p.Entries, err)
	}
	// Each hour starts new entries.
	ce.clock.Add(time.Hour)
	ce.login("198.51.100.1", "made-up-again", "guess guess guess")
	if es2, _ := ce.store.Audit(ctx, 0); len(es2) != len(es)+1 {
		t.Errorf("a new hour: %d entries, want %d", len(es2), len(es)+1)
	}
}

// TestAuditPage: the admin pages through the log and filters it by actor,
// action, outcome and time, on the page and through the API.
func TestAuditPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 130 {
		en := precwatch.AuditEntry{At: t0.Add(time.Duration(i) * time.Minute), Actor: []string{"ana", "otto"}[i%2], Action: "alert.note", Target: fmt.Sprintf("alert:%d", i)}
		if i%10 == 0 {
			en.Action, en.Failed = "login_failed", true
		}
		if err := e.store.AppendAudit(ctx, en); err != nil {
			t.Fatal(err)
		}
	}
	adam := e.as(precwatch.RoleAdmin) // its own login is the newest entry
	var targets []string
	path := "/admin/audit"
	for pages := 0; path != ""; pages++ {
		if pages > 10 {
			t.Fatal("more than 10 pages")
		}
		doc := adam.page(t, path)
		doc.Find("#audit tbody tr td:nth-child(4)").Each(func(_ int, s *goquery.Selection) { targets = append(targets, s.Text()) })
		path, _ = doc.Find("#audit-next").Attr("href")
		if pages > 0 && doc.Find("#audit-first").Length() != 1 {
			t.Error("a later page has no link back to the newest")
		}
	}
	if len(targets) != 131 || targets[0] != "user:adam" || targets[1] != "alert:129" || targets[130] != "alert:0" {
		t.Errorf("paged through %d entries (%v ... ), want 131 from adam's login to alert:0", len(targets), targets[:min(3, len(targets))])
	}
	// Filters, on the page (the form's own inputs) and the API.
	doc := adam.page(t, "/admin/audit?actor=ana&outcome=failed&since=2026-03-01T12:30&until=2026-03-01T13:40")
	var got []string
	doc.Find("#audit tbody tr td:nth-child(4)").Each(func(_ int, s *goquery.Selection) { got = append(got, s.Text()) })
	if strings.Join(got, " ") != "alert:100 alert:90 alert:80 alert:70 alert:60 alert:50 alert:40 alert:30" {
		t.Errorf("filtered page %v", got)
	}
	if v, _ := doc.Find("#filter-actor").Attr("value"); v != "ana" {
		t.Errorf("the form lost its actor: %q", v)
	}
	var p precwatch.AuditPage
	adam.do("GET", "/api/audit?action=login_failed&limit=5", nil, nil).json(t, &p)
	if len(p.Entries) != 5 || p.Next == 0 || p.Entries[0].Target != "alert:120" {
		t.Fatalf("API page %+v", p)
	}
	var p2 precwatch.AuditPage
	adam.do("GET", "/api/audit?action=login_failed&limit=5&before="+strconv.FormatInt(p.Next, 10), nil, nil).json(t, &p2)
	if len(p2.Entries) != 5 || p2.Entries[0].Target != "alert:70" || p2.Next == 0 {
		t.Errorf("API second page %+v", p2)
	}
	for _, bad := range []string{"outcome=maybe", "since=yesterday", "before=x", "limit=-1"} {
		if resp := adam.do("GET", "/api/audit?"+bad, nil, nil); resp.code != http.StatusBadRequest || resp.errorCode() != EINVALID {
			t.Errorf("%s: %d %s, want 400 EINVALID", bad, resp.code, resp.body)
		}
	}
}

// TestHSTS: over TLS every answer carries Strict-Transport-Security;
// over plain HTTP none does.
func TestHSTS(t *testing.T) {
	e := newEnv(t)
	tlsSrv := httptest.NewTLSServer(e.srv.Handler())
	defer tlsSrv.Close()
	cl := tlsSrv.Client()
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, path := range []string{"/login", "/alerts", "/api/me", "/nowhere"} {
		resp, err := cl.Get(tlsSrv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Errorf("TLS %s: Strict-Transport-Security %q", path, got)
		}
		plain := e.anon().do("GET", path, nil, nil)
		if got := plain.header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("plain HTTP %s: Strict-Transport-Security %q, want none", path, got)
		}
	}
}

// TestSafeNext: only a clean same-site absolute path survives.
func TestSafeNext(t *testing.T) {
	for _, ok := range []string{"/", "/alerts", "/alerts?severity=high", "/alerts?q=hydrogen%20peroxide", "/alerts/abc-123", "/watchlist/versions/3#diff"} {
		if got := safeNext(ok); got != ok {
			t.Errorf("safeNext(%q) = %q, want it kept", ok, got)
		}
	}
	for _, bad := range []string{
		"", "alerts", " /alerts", "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
		"https://evil.example", "http:evil.example", "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x",
		"/\tevil", "/\t/evil.example", "/\r\nSet-Cookie: x=1", "\r\n/alerts", "/alerts\x00", "/a b", "/alerts\u2028",
		"/%09/evil.example", "/%0d%0aSet-Cookie:%20x=1", "/%2F%2Fevil.example", "/%2f/evil.example", "/%5Cevil.example",
		"/%5c%5cevil.example", "/%20/evil", "/%00", "/%E2%80%A8", "/%zz", "/ok//evil", "/\x7f",
	} {
		if got := safeNext(bad); got != "" {
			t.Errorf("safeNext(%q) = %q, want refused", bad, got)
		}
	}
}

// TestLoginNext: the login form follows a clean next and nothing else;
// no Location header ever carries a control character.
func TestLoginNext(t *testing.T) {
	e := newEnv(t)
	for next, want := range map[string]string{
		"/alerts?severity=high": "/alerts?severity=high",
		"/\t/evil.example":      "/alerts",
		"/%09/evil.example":     "/alerts",
		"/%0d%0aX-Evil:%201":    "/alerts",
		"//evil.example/x":      "/alerts",
		"/\\evil.example":       "/alerts",
		"https://evil.example/": "/alerts",
		"javascript:alert(1)":   "/alerts",
	} {
		resp := e.anon().form("/login", map[string][]string{"name": {"ivy"}, "password": {password}, "next": {next}})
		if loc := resp.header.Get("Location"); resp.code != http.StatusSeeOther || loc != want {
			t.Errorf("next %q: %d to %q, want %q", next, resp.code, loc, want)
		}
	}
	// The login page does not carry a bad next into its form.
	doc := e.anon().page(t, "/login?next="+url.QueryEscape("/%09/evil.example"))
	if v, _ := doc.Find(`input[name="next"]`).Attr("value"); v != "" {
		t.Errorf("login page kept next %q", v)
	}
}
