package main

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.yaml.in/yaml/v3"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/fixtures"
	"github.com/precwatch/precwatch/storage/redis/redistest"
)

// Planted secrets: each must never appear in anything precwatch prints,
// logs or serves. Letters and digits only, so that no escaping (HTML, JSON,
// URL) could hide one from the search.
var planted = map[string]string{
	"proxy password in the config":        "PxLit7Secret9Proxy",
	"proxy password from the environment": "PxEnv4Secret2Proxy",
	"dead proxy password":                 "PxDead5Secret3Proxy",
	"redis password from store_file":      "Rd6Secret8Redis",
	"start URL password":                  "Url3Secret1Basic",
	"session cookie value":                "Ck9Secret5Cookie",
	"console password":                    "Adm1nSecret7Pass",
	"wrong console password":              "Wr0ngSecret4Guess",
	"wrong redis password":                "Rd2Wrong6Redis",
	"site login password from a file":     "Lg8Secret3Login",
}

// leakChecker collects everything precwatch shows and reports any planted
// secret found in it.
type leakChecker struct {
	t    *testing.T
	seen int
}

func (lc *leakChecker) check(what, text string) {
	lc.t.Helper()
	lc.seen++
	for name, secret := range planted {
		if i := strings.Index(text, secret); i >= 0 {
			lo, hi := max(0, i-120), min(len(text), i+len(secret)+60)
			lc.t.Errorf("%s shows the %s: …%s…", what, name, text[lo:hi])
		}
	}
}

// TestNoSecretInAnyOutput runs the whole of precwatch the way an operator
// does (a daemon with console and metrics, JSON logs at debug level, a
// Redis store whose password comes from store_file, proxies with passwords
// (one from the environment, one dead), a start URL with credentials, an
// imported session cookie, a console account), breaks things on the way (a
// dead proxy, a captcha page, a wrong console password, a broken reload,
// a bad config), then searches every log line, error, CLI output, console
// page, API answer, evidence bundle, /metrics and /readyz body for the
// planted secrets: none may hold one.
func TestNoSecretInAnyOutput(t *testing.T) {
	lc := &leakChecker{t: t}
	dir := t.TempDir()

	// Redis with a password, given through store_file.
	rurl := redistest.Start(t)
	ru, _ := url.Parse(rurl)
	rc := goredis.NewClient(&goredis.Options{Addr: ru.Host})
	if err := rc.ConfigSet(t.Context(), "requirepass", planted["redis password from store_file"]).Err(); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	storeURL := "redis://:" + planted["redis password from store_file"] + "@" + ru.Host + "/0?prefix=sec"
	writeFile(t, dir, "store.secret", storeURL+"\n")

	markets := startMarkets(t)
	sites := markets.Sites()
	proxyHost := strings.TrimPrefix(markets.ProxyURL(), "socks5://")
	t.Setenv("PRECWATCH_TEST_PROXY_PW", planted["proxy password from the environment"])
	for i := range sites {
		switch sites[i].Name {
		case "silkvault":
			sites[i].Proxy = "socks5://inv:" + planted["proxy password in the config"] + "@" + proxyHost
		case "agora2":
			sites[i].Proxy = "socks5://inv:${PRECWATCH_TEST_PROXY_PW}@" + proxyHost
		case "chemshop":
			sites[i].Proxy = "socks5://inv:" + planted["proxy password in the config"] + "@" + proxyHost
			u, _ := url.Parse(sites[i].StartURLs[0])
			u.User = url.UserPassword("agent", planted["start URL password"])
			sites[i].StartURLs[0] = u.String()
		}
	}
	dead := closedAddr(t)
	shop := newCookieShop(t)
	shopURL, _ := url.Parse(shop.srv.URL)
	shopURL.User = url.UserPassword("agent", planted["start URL password"])
	sites = append(sites,
		precwatch.Site{Name: "deadproxy", Tor: true, Proxy: "socks5://bob:" + planted["dead proxy password"] + "@" + dead,
			StartURLs: []string{"http://deadproxyexampleexampleexampleexampleexampleexampleexamp.onion/"}, Schedule: "@yearly"},
		precwatch.Site{Name: "shop", StartURLs: []string{shopURL.String() + "/", shopURL.String() + "/captcha"}, Schedule: "@yearly",
			Extract: precwatch.Extraction{Listing: "div.l", ID: "span.id", Title: "h2"}},
	)
	// A shop that fails (503, retried) and asks to wait (429 with
	// Retry-After), so that the crawler logs its URLs.
	var waits atomic.Int64
	var flakySawPassword atomic.Bool
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/wait" {
			if waits.Add(1)%2 == 1 { // every run's first request waits
				w.Header().Set("Retry-After", "1")
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return
			}
			fmt.Fprint(w, `<html><body><div class="l"><span class="id">F1</span><h2>Acetone 99% 5 L</h2></div></body></html>`)
			return
		}
		if r.URL.Query().Get("password") == planted["site login password from a file"] {
			flakySawPassword.Store(true)
		}
		if p := r.URL.Path; p == "/members" || strings.HasPrefix(p, "/login") {
			// A login the market refuses: the form comes back.
			fmt.Fprint(w, `<html><body><form action="/login-submit" method="get"><input name="username"><input type="password" name="password"></form></body></html>`)
			return
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer flaky.Close()
	flakyURL, _ := url.Parse(flaky.URL)
	flakyURL.User = url.UserPassword("agent", planted["start URL password"])
	sites = append(sites, precwatch.Site{Name: "flaky", StartURLs: []string{flakyURL.String() + "/", flakyURL.String() + "/wait"},
		Schedule: "@yearly", Limits: precwatch.Limits{Retries: 1},
		Extract: precwatch.Extraction{Listing: "div.l", ID: "span.id", Title: "h2"}})
	sites = append(sites, precwatch.Site{Name: "members", StartURLs: []string{flaky.URL + "/members"}, Schedule: "@yearly",
		Login: &precwatch.Login{URL: flaky.URL + "/login", Username: "agent",
			PasswordFile: writeFile(t, dir, "login.secret", planted["site login password from a file"]+"\n")},
		Extract: precwatch.Extraction{Listing: "div.l", ID: "span.id", Title: "h2"}})
	config := writeSecretConfig(t, dir, sites)
	cli := func(stdin string, args ...string) (string, error) {
		t.Helper()
		out, stderr, err := run(t, t.Context(), stdin, append(args, "--config", config, "--log-format", "json", "--log-level", "debug")...)
		what := "precwatch " + strings.Join(args, " ")
		lc.check(what+" stdout", out)
		lc.check(what+" log", stderr)
		if err != nil {
			lc.check(what+" error", err.Error())
		}
		return out, err
	}

	if out, err := cli("", "config", "check"); err != nil || !strings.HasPrefix(out, "ok:") {
		t.Fatalf("config check: %v\n%s", err, out)
	}
	if _, err := cli(planted["console password"]+"\n", "user", "add", "--name", "root", "--role", "admin"); err != nil {
		t.Fatalf("user add: %v", err)
	}
	if _, err := cli("Cookie: sid="+planted["session cookie value"]+"\n", "session", "import", "--site", "shop", "--cookie-header", "-"); err != nil {
		t.Fatalf("session import: %v", err)
	}
	cli("", "session", "show", "--site", "shop")
	if _, err := cli("", "crawl", "--site", "deadproxy"); err == nil {
		t.Error("crawl through a dead proxy succeeded")
	}
	cli("", "crawl", "--site", "shop") // a captcha start URL: blocked
	// Two 503s and a 429: counted, and shown.
	if out, _ := cli("", "crawl", "--site", "flaky"); !strings.Contains(out, " throttled=3 throttle_wait=") {
		t.Errorf("crawl of a throttling shop: %s, want throttled=3", out)
	}
	if out, _ := cli("", "crawl", "--site", "members"); !strings.Contains(out, "status=needs_login") {
		t.Errorf("crawl of a refused login: %s, want needs_login", out)
	}
	if !flakySawPassword.Load() {
		t.Error("the market never got the login password, so its handling was not checked")
	}
	cli("", "listings", "--site", "flaky")
	cli("", "alerts", "follow", "--group", "g", "--from-start", "--max", "1")
	// A Redis that refuses the password, and one that does not answer.
	for _, dsn := range []string{
		"redis://:" + planted["wrong redis password"] + "@" + ru.Host + "/0",
		"redis://:" + planted["redis password from store_file"] + "@" + dead + "/0",
	} {
		t.Setenv(storeEnv, dsn)
		if _, err := cli("", "alerts"); err == nil {
			t.Errorf("alerts with store %s succeeded", redacted(dsn))
		}
	}
	os.Unsetenv(storeEnv)
	if got := shop.last(); !strings.Contains(got, planted["session cookie value"]) {
		t.Errorf("the shop got Cookie %q: the imported session was not used, the test proves nothing", got)
	}

	// The daemon.
	var stdout, logs syncBuffer
	m := NewMain()
	m.Stdout, m.Stderr = &stdout, &logs
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"run", "--run-on-start", "--config", config, "--log-format", "json", "--log-level", "debug",
			"--reload-interval", "50ms", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"})
	}()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				lc.check("daemon error", err.Error())
			}
			m.Close()
		}
	}
	defer stop()
	var base, metricsURL string
	for deadline := time.Now().Add(90 * time.Second); base == "" || metricsURL == "" || !strings.Contains(stdout.String(), "alert(s)"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not come up; stdout:\n%s\nlog:\n%s", stdout.String(), logs.String())
		}
		if sm := regexp.MustCompile(`console: (http://\S+)/`).FindStringSubmatch(stdout.String()); sm != nil {
			base = sm[1]
		}
		if sm := regexp.MustCompile(`metrics: (http://\S+)`).FindStringSubmatch(stdout.String()); sm != nil {
			metricsURL = sm[1]
		}
	}

	// Console and API, as an admin, who may see everything.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 60 * time.Second}
	fetch := func(method, path, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(body))
		if method == "POST" {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Origin", base)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		lc.check(method+" "+path, string(b))
		lc.check(method+" "+path+" headers", fmt.Sprint(resp.Header))
		return resp.StatusCode, b
	}
	if code, _ := fetch("POST", "/api/login", `{"name":"root","password":"`+planted["wrong console password"]+`"}`); code == http.StatusOK {
		t.Fatal("a wrong password signed in")
	}
	fetch("POST", "/api/login", `{"name":"`+planted["wrong console password"]+`","password":"x"}`)
	if code, _ := fetch("POST", "/api/login", `{"name":"root","password":"`+planted["console password"]+`"}`); code != http.StatusOK {
		t.Fatalf("login: %d", code)
	}
	var page precwatch.AlertPage
	code, body := fetch("GET", "/api/alerts?limit=500", "")
	if err := json.Unmarshal(body, &page); err != nil || code != http.StatusOK || len(page.Alerts) == 0 {
		t.Fatalf("GET /api/alerts: %d %v, %d alerts", code, err, len(page.Alerts))
	}
	paths := []string{"/", "/alerts", "/sites", "/admin/audit", "/admin/users", "/watchlist", "/watchlist/versions",
		"/watchlist/suppressions", "/api/me", "/api/sites", "/api/audit", "/api/users", "/api/watchlist",
		"/api/watchlist/versions", "/api/export?format=csv", "/api/export?format=json", "/api/export?format=misp", "/api/export?format=stix", "/healthz", "/readyz", "/no/such/page"}
	for _, s := range sites {
		paths = append(paths, "/sites/"+s.Name, "/api/sites/"+s.Name+"/runs", "/api/sites/"+s.Name+"/session")
	}
	for _, a := range page.Alerts {
		paths = append(paths, "/alerts/"+a.Key, "/api/alerts/"+a.Key)
	}
	for _, p := range paths {
		if code, _ := fetch("GET", p, ""); code >= 500 && p != "/readyz" {
			t.Errorf("GET %s: %d", p, code)
		}
	}
	for _, a := range page.Alerts[:min(3, len(page.Alerts))] {
		if _, b := fetch("GET", "/api/alerts/"+a.Key+"/bundle.zip", ""); len(b) > 0 {
			zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatalf("bundle of %s: %v", a.Key, err)
			}
			for _, f := range zr.File {
				rd, _ := f.Open()
				data, _ := io.ReadAll(rd)
				rd.Close()
				lc.check("bundle "+a.Key+" file "+f.Name, string(gunzipped(t, f.Name, data)))
			}
		}
	}
	// Issue 11: the WARC files the runs wrote, decompressed, hold none
	// either (a start URL's credentials, a session cookie).
	warcs, _ := filepath.Glob(filepath.Join(dir, "warc", "*.warc.gz"))
	if len(warcs) == 0 {
		t.Error("the runs wrote no WARC file, so none was checked")
	}
	for _, w := range warcs {
		data, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		lc.check("WARC file "+filepath.Base(w), string(gunzipped(t, w, data)))
	}
	var runs []precwatch.Run
	if _, b := fetch("GET", "/api/sites/deadproxy/runs", ""); json.Unmarshal(b, &runs) != nil || len(runs) == 0 || len(runs[0].Errors) == 0 {
		t.Errorf("the dead proxy's runs carry no error, so none was checked: %s", b)
	}

	// Metrics and health on the metrics listener; the dead proxy fails
	// readiness, so the 503 body is checked too.
	mbase := strings.TrimSuffix(metricsURL, "/metrics")
	for _, p := range []string{"/metrics", "/readyz", "/healthz"} {
		resp, err := http.Get(mbase + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		lc.check("metrics listener "+p, string(b))
		if p == "/readyz" && (resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "proxy "+dead+": down")) {
			t.Errorf("/readyz with a dead proxy: %d %s", resp.StatusCode, b)
		}
	}

	// A reload with a broken config full of secrets is rejected and logged.
	time.Sleep(60 * time.Millisecond)
	data, _ := os.ReadFile(config)
	broken := strings.Replace(string(data), "schedule: '@yearly'", "schedule: 'every ${PRECWATCH_TEST_PROXY_PW}'", 1)
	broken = strings.Replace(broken, "proxy: socks5://bob:", "proxy: http://bob:", 1)
	if err := os.WriteFile(config, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(logs.String(), "reload rejected"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the broken reload was never logged:\n%s", logs.String())
		}
	}
	if _, err := cli("", "config", "check"); err == nil {
		t.Error("config check accepted the broken config")
	}
	os.WriteFile(config, data, 0o600)

	// After the daemon: the CLI's views of the store.
	stop()
	lc.check("daemon stdout", stdout.String())
	lc.check("daemon log", logs.String())
	checkLogShape(t, logs.String())
	cli("", "alerts", "--limit", "0")
	cli("", "alerts", "--json", "--limit", "0")
	cli("", "listings", "--limit", "0")
	cli("", "runs", "--limit", "0") // run errors and blocks, as the store keeps them
	cli("", "runs", "--json", "--limit", "0")
	out, _ := cli("", "listings", "--json", "--limit", "0")
	var rows []listingRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) < len(fixtures.Listings()) {
		t.Errorf("listings on the Redis store: %v, %d rows", err, len(rows))
	}
	if os.Getenv("SECRETS_DEBUG") != "" {
		t.Logf("listings:\n%s\nlog:\n%s", out, logs.String())
	}
	for _, want := range []string{`"msg":"reload rejected`, `"msg":"crawl failed"`, "precwatch running", `"msg":"retrying"`, `"msg":"server asked to wait"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the daemon's log lacks %s, so it was not checked", want)
		}
	}
	if lc.seen < 100 {
		t.Errorf("only %d outputs checked", lc.seen)
	}
}

// writeSecretConfig writes sites with store_file naming store.secret in dir.
func writeSecretConfig(t *testing.T, dir string, sites []precwatch.Site) string {
	t.Helper()
	wl, err := os.ReadFile(watchlistPath(t))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "watchlist.yaml", string(wl))
	cfg := struct {
		Watchlist string           `yaml:"watchlist"`
		StoreFile string           `yaml:"store_file"`
		Sites     []precwatch.Site `yaml:"sites"`
		Archive   ArchiveConfig    `yaml:"archive"` // issue 11: WARC files are checked too
	}{"watchlist.yaml", "store.secret", sites, ArchiveConfig{Dir: filepath.Join(dir, "warc")}}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, "precwatch.yaml", string(data))
}

// checkLogShape reads a JSON log: every line is JSON, the site is always
// "site" (the crawler said "crawler"), an error always "error", and every
// duration is a number of seconds under a key ending in _s (slog wrote
// nanoseconds).
func checkLogShape(t *testing.T, logs string) {
	t.Helper()
	durations := 0
	for line := range strings.Lines(logs) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("a log line is not JSON: %q", line)
			continue
		}
		for k, v := range rec {
			switch {
			case k == "err" || k == "crawler" || k == "duration" || k == "wait":
				t.Errorf("log key %q in %s", k, line)
			case strings.HasSuffix(k, "_s"):
				durations++
				if _, ok := v.(float64); !ok {
					t.Errorf("log key %q is not a number of seconds in %s", k, line)
				}
			}
		}
		if rec["msg"] == "run finished" && rec["site"] == nil {
			t.Errorf("a run's end is logged without its site: %s", line)
		}
	}
	if durations == 0 {
		t.Error("no duration in the log, so none was checked")
	}
}

// gunzipped is data decompressed when name ends in .gz (every member of a
// multi-member file), else data.
func gunzipped(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	if !strings.HasSuffix(name, ".gz") {
		return data
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}
