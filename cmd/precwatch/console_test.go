package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/console"
	"github.com/precwatch/precwatch/storage/embedded"
)

// TestDaemonServesConsole runs the daemon on the fixture markets with the
// console on a free port: an account made with `user add` signs in, sees the
// alerts the crawl raised, starts a run and pauses a site through the API.
func TestDaemonServesConsole(t *testing.T) {
	t.Parallel() // see TestMain
	markets := startMarkets(t)
	sites := markets.Sites()
	config := writeConfig(t, sites)
	dsn := filepath.Join(t.TempDir(), "s.db")

	out, stderr, err := run(t, t.Context(), "operator-password-1\n", "user", "add", "--name", "olga", "--role", "operator", "--store", dsn)
	if err != nil || !strings.Contains(out, "user olga (operator) created") {
		t.Fatalf("user add: %v\n%s%s", err, out, stderr)
	}
	if _, _, err := run(t, t.Context(), "investigator-pw-1\n", "user", "add", "--name", "ivan", "--role", "investigator", "--store", dsn); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, t.Context(), "analyst-pw-12\n", "user", "add", "--name", "anna", "--role", "analyst", "--store", dsn); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, t.Context(), "short\n", "user", "add", "--name", "x", "--role", "admin", "--store", dsn); err == nil {
		t.Error("user add accepted a 5-character password")
	}

	var stdout, logs syncBuffer
	m := NewMain()
	m.Stdout, m.Stderr = &stdout, &logs
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"run", "--run-on-start", "--config", config, "--store", dsn, "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
		m.Close()
	}()
	var base string
	deadline := time.Now().Add(30 * time.Second)
	for base == "" || !strings.Contains(stdout.String(), "alert(s)") {
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not come up; stdout:\n%s\nlog:\n%s", stdout.String(), logs.String())
		}
		time.Sleep(20 * time.Millisecond)
		if sm := regexp.MustCompile(`console: (http://\S+)/`).FindStringSubmatch(stdout.String()); sm != nil {
			base = sm[1]
		}
	}

	client := func(name, pw string) *http.Client {
		jar, _ := cookiejar.New(nil)
		// A hang guard, not a speed check: bcrypt at the production cost
		// takes seconds under -race on a loaded 2-core machine.
		c := &http.Client{Jar: jar, Timeout: 60 * time.Second}
		req, _ := http.NewRequest("POST", base+"/api/login", strings.NewReader(`{"name":"`+name+`","password":"`+pw+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", base)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("login %s: %s", name, resp.Status)
		}
		return c
	}
	get := func(c *http.Client, path string, v any) int {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if v != nil && resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
		}
		return resp.StatusCode
	}
	postJSON := func(c *http.Client, path string, in, out any) int {
		body, _ := json.Marshal(in)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", base)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil && resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatalf("POST %s: %v", path, err)
			}
		}
		return resp.StatusCode
	}
	post := func(c *http.Client, path string) int { return postJSON(c, path, struct{}{}, nil) }

	checkDaemonMetrics(t, stdout.String(), mustStore(t, m))

	ivan := client("ivan", "investigator-pw-1")
	var page precwatch.AlertPage
	if code := get(ivan, "/api/alerts?limit=1", &page); code != http.StatusOK {
		t.Fatalf("GET /api/alerts: %d", code)
	}
	if got, want := page.Total, len(expectedAlerts()); got != want {
		t.Errorf("console shows %d alerts, want the %d the crawl raised", got, want)
	}
	if code := get(ivan, "/api/sites", nil); code != http.StatusForbidden {
		t.Errorf("investigator GET /api/sites = %d, want 403", code)
	}

	testSuppressFromConsole(t, page.Alerts[0], client("anna", "analyst-pw-12"), get, postJSON,
		filepath.Join(filepath.Dir(config), "watchlist.yaml"), mustStore(t, m).(precwatch.ConsoleStore))

	olga := client("olga", "operator-password-1")
	var states []struct {
		Name    string `json:"name"`
		ProxyOK bool   `json:"proxy_ok"`
	}
	if code := get(olga, "/api/sites", &states); code != http.StatusOK || len(states) != len(sites) {
		t.Fatalf("GET /api/sites = %d, %d sites", code, len(states))
	}
	for _, s := range states {
		if !s.ProxyOK {
			t.Errorf("site %s: proxy reported down while it runs", s.Name)
		}
	}
	if code := post(olga, "/api/sites/silkvault/pause"); code/100 != 2 {
		t.Errorf("pause = %d", code)
	}
	cs, err := consoleStore(mustStore(t, m))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := cs.SiteStates(t.Context()); err != nil || !st["silkvault"].Paused || st["silkvault"].By != "olga" {
		t.Errorf("site state after pause = %+v, %v", st["silkvault"], err)
	}
	before, _ := cs.Runs(t.Context(), "agora2", 0)
	if code := post(olga, "/api/sites/agora2/start"); code/100 != 2 {
		t.Fatalf("start = %d", code)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		runs, _ := cs.Runs(t.Context(), "agora2", 0)
		if len(runs) > len(before) && runs[0].Status != precwatch.RunRunning {
			if runs[0].Status != precwatch.RunOK || runs[0].Alerts != 0 {
				t.Errorf("run started from the console: %+v, want ok with no new alert", runs[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run started from the console never finished")
		}
	}
}

// checkDaemonMetrics scrapes the daemon's /metrics after its first crawl:
// each site's counters are its run record's, and its proxy is up.
func checkDaemonMetrics(t *testing.T, stdout string, store precwatch.Store) {
	t.Helper()
	sm := regexp.MustCompile(`metrics: (http://\S+)`).FindStringSubmatch(stdout)
	if sm == nil {
		t.Fatalf("the daemon printed no metrics address:\n%s", stdout)
	}
	resp, err := http.Get(sm[1])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	text := string(body)
	cs, err := consoleStore(store)
	if err != nil {
		t.Fatal(err)
	}
	alerts := 0
	for _, site := range []string{"silkvault", "agora2", "chemshop"} {
		runs, err := cs.Runs(t.Context(), site, 0)
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs of %s: %d, %v", site, len(runs), err)
		}
		r := runs[0]
		alerts += r.Alerts
		for _, want := range []string{
			fmt.Sprintf(`precwatch_crawl_runs_total{site=%q,status=%q} 1`, site, r.Status),
			fmt.Sprintf(`precwatch_crawl_pages_total{site=%q} %d`, site, r.Pages),
			fmt.Sprintf(`precwatch_crawl_listings_total{site=%q} %d`, site, r.Listings),
			fmt.Sprintf(`precwatch_alerts_raised_total{site=%q} %d`, site, r.Alerts),
		} {
			if !hasSample(text, want) {
				t.Errorf("metrics lack %s:\n%s", want, grepLines(text, site))
			}
		}
	}
	if alerts != len(expectedAlerts()) {
		t.Errorf("the runs raised %d alerts, want %d", alerts, len(expectedAlerts()))
	}
	if !regexp.MustCompile(`\nprecwatch_proxy_up\{proxy="127\.0\.0\.1:\d+"\} 1\n`).MatchString(text) {
		t.Errorf("the fixture proxy is not reported up:\n%s", grepLines(text, "proxy_up"))
	}
	if !regexp.MustCompile(`\nprecwatch_watchlist_substances [1-9]\d*\n`).MatchString(text) {
		t.Errorf("no watchlist size:\n%s", grepLines(text, "watchlist"))
	}
}

// testSuppressFromConsole has an analyst rule one alerted listing a false
// positive through the daemon's console: the preview names exactly the
// hits it silences, saving puts it in force (a second preview silences
// nothing more), and lifting it takes it out again.
func testSuppressFromConsole(t *testing.T, a precwatch.Alert, anna *http.Client,
	get func(*http.Client, string, any) int, postJSON func(*http.Client, string, any, any) int,
	wlFile string, store precwatch.ConsoleStore) {
	t.Helper()
	sup := map[string]any{"listing": a.Identity, "site": a.Site, "reason": "a shop we audited", "preview": true}
	var p console.Preview
	if code := postJSON(anna, "/api/watchlist/suppressions", sup, &p); code != http.StatusOK {
		t.Fatalf("suppression preview: %d", code)
	}
	if len(p.Added) != 0 || len(p.Removed) == 0 || p.Listings == 0 {
		t.Fatalf("suppression preview: %+v, want only removed hits", p)
	}
	for _, h := range p.Removed {
		if key := precwatch.ListingKey(a.Site, a.Identity); h.Site != a.Site || h.ListingKey != key {
			t.Errorf("the preview silences %+v, outside the suppressed listing %s", h, key)
		}
	}
	if code := postJSON(anna, "/api/watchlist/suppressions", map[string]any{"term": "acetone", "reason": "x"}, nil); code != http.StatusBadRequest {
		t.Errorf("a term suppression without a site: %d, want 400", code)
	}
	sup["preview"] = false
	var saved struct {
		Version     int
		Suppression precwatch.Suppression
	}
	if code := postJSON(anna, "/api/watchlist/suppressions", sup, &saved); code != http.StatusOK || saved.Version == 0 || saved.Suppression.By != "anna" {
		t.Fatalf("suppress: %d %+v", code, saved)
	}
	// The save rewrote the watchlist file keeping its comments, and the
	// stored version holds the same text.
	file, err := os.ReadFile(wlFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# precwatch watchlist: names, identifiers and regulatory thresholds only.\n", "reason: a shop we audited"} {
		if !strings.Contains(string(file), want) {
			t.Errorf("saved watchlist file lacks %q", want)
		}
	}
	if v, err := store.WatchlistVersion(t.Context(), saved.Version); err != nil || !bytes.Equal(v.Data, file) {
		t.Errorf("version %d differs from the file written (%v)", saved.Version, err)
	}
	var cur struct {
		Version   int
		Watchlist precwatch.Watchlist
	}
	get(anna, "/api/watchlist", &cur)
	if cur.Version != saved.Version || len(cur.Watchlist.Suppressions) != 1 || cur.Watchlist.Suppressions[0].Reason != "a shop we audited" {
		t.Fatalf("active watchlist after suppressing: version %d, suppressions %+v", cur.Version, cur.Watchlist.Suppressions)
	}
	sup["preview"] = true
	if postJSON(anna, "/api/watchlist/suppressions", sup, &p); len(p.Removed) != 0 {
		t.Errorf("the saved suppression is not in force: a second one still silences %d hits", len(p.Removed))
	}
	if code := postJSON(anna, fmt.Sprintf("/api/watchlist/suppressions/0/lift?base_version=%d", saved.Version), struct{}{}, &saved); code != http.StatusOK {
		t.Fatalf("lift: %d", code)
	}
	cur.Watchlist = precwatch.Watchlist{} // decoding leaves absent fields as they were
	get(anna, "/api/watchlist", &cur)
	if len(cur.Watchlist.Suppressions) != 0 || cur.Version != saved.Version {
		t.Errorf("after lifting: version %d (want %d), suppressions %+v", cur.Version, saved.Version, cur.Watchlist.Suppressions)
	}
}

// mustStore returns the store the running daemon opened.
func mustStore(t *testing.T, m *Main) precwatch.Store {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.store == nil {
		t.Fatal("daemon has no store open")
	}
	return m.store
}

// TestWatchlistServiceValidate checks that the console gets each watchlist
// problem at its field, from the same loader the files go through.
func TestWatchlistServiceValidate(t *testing.T) {
	ws := &watchlistService{m: NewMain()}
	wl := &precwatch.Watchlist{Version: "t", Substances: []precwatch.Substance{
		{ID: "hp", Names: map[string]string{"en": "Hydrogen peroxide"}, CAS: "7722-84-2",
			Regimes: []precwatch.RegimeEntry{{Regime: precwatch.RegimeEUAnnexI}}},
		{ID: "x", Names: map[string]string{"en": ""}, Regimes: []precwatch.RegimeEntry{{Regime: "eu-annex-iii"}}},
	}}
	got := ws.Validate(wl)
	want := []console.FieldError{
		{Field: "substances[0].cas", Message: `check digit wrong in "7722-84-2"`},
		{Field: "substances[1].names", Message: "at least one name is required"},
		{Field: "substances[1].regimes[0].regime", Message: `unknown regime "eu-annex-iii"`},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Validate =\n%+v\nwant\n%+v", got, want)
	}
	wl.Substances = wl.Substances[:1]
	wl.Substances[0].CAS = "7722-84-1"
	if got := ws.Validate(wl); len(got) != 0 {
		t.Errorf("valid watchlist: %+v", got)
	}
}

// TestConsoleAccountHint: a console served from a store without accounts
// says how to make the first one; with one, it says nothing of it.
func TestConsoleAccountHint(t *testing.T) {
	config := writeConfig(t, []precwatch.Site{{Name: "shop", StartURLs: []string{"http://shop.test/"}, Schedule: "@every 1h",
		Extract: precwatch.Extraction{Listing: "div.l", Title: "h2"}}})
	dsn := filepath.Join(t.TempDir(), "s.db")
	serve := func() string {
		t.Helper()
		var stdout, logs syncBuffer
		m := NewMain()
		m.Stdout, m.Stderr = &stdout, &logs
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			done <- m.Run(ctx, []string{"serve", "--config", config, "--store", dsn, "--addr", "127.0.0.1:0"})
		}()
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(stdout.String(), "console: ") && time.Now().Before(deadline) && len(done) == 0 {
			time.Sleep(20 * time.Millisecond)
		}
		cancel() // the hint, if any, comes before the address
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, logs.String())
		}
		m.Close()
		return stdout.String()
	}
	const hint = "no console account yet: create one with `precwatch user add --name NAME --role admin`"
	if out := serve(); !strings.Contains(out, hint) {
		t.Errorf("serve on a store without accounts:\n%s\nwant %q", out, hint)
	}
	if _, _, err := run(t, t.Context(), "admin-password-1\n", "user", "add", "--name", "ada", "--role", "admin", "--store", dsn); err != nil {
		t.Fatal(err)
	}
	if out := serve(); strings.Contains(out, "no console account") {
		t.Errorf("serve with an account still hints:\n%s", out)
	}
}

// TestWatchlistSaveKeepsHandEdit: a save from the console does not write
// over a valid hand edit of the watchlist file that the daemon has not
// read yet; it does replace a broken one (whose reload was rejected), and
// once the edit is loaded the console saves again.
func TestWatchlistSaveKeepsHandEdit(t *testing.T) {
	t.Parallel()
	config := writeConfig(t, []precwatch.Site{{Name: "shop", StartURLs: []string{"http://shop.test/"}, Schedule: "@every 1h",
		Extract: precwatch.Extraction{Listing: "div.l", Title: "h2"}}})
	// A watchlist of one substance: compiling the full one four times
	// under the race detector took seconds.
	small := "version: \"t\"\nsubstances:\n  - id: hydrogen-peroxide\n    names:\n      en: Hydrogen peroxide\n    cas: 7722-84-1\n    regimes:\n      - regime: eu-2019-1148-annex-i\n        limit_percent_w_w: 12\n"
	if err := os.WriteFile(filepath.Join(filepath.Dir(config), "watchlist.yaml"), []byte(small), 0o600); err != nil {
		t.Fatal(err)
	}
	m := NewMain()
	m.ConfigPath = config
	m.logger = slog.New(slog.DiscardHandler)
	load := func() {
		t.Helper()
		cfg, mt, err := m.loadConfig()
		if err != nil {
			t.Fatal(err)
		}
		m.config.Store(cfg)
		m.matcher.Use(mt, cfg)
	}
	load()
	st, err := embedded.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ws := &watchlistService{m: m, store: st}
	path := m.config.Load().WatchlistPath()
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(wl *precwatch.Watchlist, comment string) (int, error) {
		wl.Version = comment
		return ws.Apply(t.Context(), wl, "ana", comment)
	}
	active, _, _ := ws.Active(t.Context())

	hand := append([]byte("# a hand edit\n"), orig...)
	if err := os.WriteFile(path, hand, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := edit(active, "over a hand edit"); !errors.Is(err, precwatch.ErrChanged) || !strings.Contains(err.Error(), "edited on disk") {
		t.Errorf("save over an unread hand edit: %v, want ErrChanged saying why", err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, hand) {
		t.Errorf("the hand edit was overwritten")
	}

	load() // the daemon reads it
	if _, err := edit(active, "after the reload"); err != nil {
		t.Errorf("save after the hand edit was loaded: %v", err)
	}
	if _, err := edit(active, "a second save"); err != nil {
		t.Errorf("a second save from the console: %v", err)
	}

	if err := os.WriteFile(path, []byte("substances: [oops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := edit(active, "over a broken file"); err != nil {
		t.Errorf("save over a broken hand edit: %v, want it mended", err)
	}
}
