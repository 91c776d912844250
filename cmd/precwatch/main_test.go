package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/fixtures"
	"github.com/precwatch/precwatch/storage/redis/redistest"
)

// TestMain lets the test binary act as the precwatch binary, so tests can
// start real separate processes without a build step. The long process
// tests (crawls, daemons and workers against fixture markets, Redis and
// Redis Cluster) run in parallel: they wait on servers and processes more
// than they compute, and sequentially they took most of the package's 15
// minutes (658 s against 448 s with eight more of them parallel).
func TestMain(m *testing.M) {
	if os.Getenv("PRECWATCH_TEST_MAIN") == "1" {
		os.Args = append([]string{"precwatch"}, strings.Fields(os.Getenv("PRECWATCH_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// selfCommand returns a command running precwatch with args (split on
// spaces) as a process of its own: the binary PRECWATCH_TEST_BIN names,
// which make test builds as users build it (without the race detector,
// which made each worker of the multi-process tests take over a second of
// CPU to start, and its crawls many times that), else this test binary.
func selfCommand(ctx context.Context, args string) *exec.Cmd {
	if bin := os.Getenv("PRECWATCH_TEST_BIN"); bin != "" {
		return exec.CommandContext(ctx, bin, strings.Fields(args)...)
	}
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), "PRECWATCH_TEST_MAIN=1", "PRECWATCH_TEST_ARGS="+args)
	return cmd
}

// syncBuffer is a bytes.Buffer safe for the daemon's log writes while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// closedAddr returns a loopback address that was free a moment ago and on
// which nothing listens: a dead proxy, or a port for a server to take.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startDaemonInProcess runs precwatch with args (a `run`) in-process until
// the test ends, and returns it, its output and a wait for a log line.
func startDaemonInProcess(t *testing.T, args ...string) (m *Main, logs *syncBuffer, waitFor func(what string)) {
	t.Helper()
	logs = &syncBuffer{}
	m = NewMain()
	m.Stdout, m.Stderr = logs, logs
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, args) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
		m.Close()
	})
	waitFor = func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(logs.String(), what) {
			if time.Now().After(deadline) {
				t.Fatalf("daemon never logged %q; log:\n%s", what, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return m, logs, waitFor
}

// run runs precwatch in-process and returns its output.
func run(t *testing.T, ctx context.Context, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut syncBuffer
	m := NewMain()
	m.Stdin, m.Stdout, m.Stderr = strings.NewReader(stdin), &out, &errOut
	err = m.Run(ctx, args)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return out.String(), errOut.String(), err
}

func watchlistPath(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../configs/watchlist.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writeConfig writes a config file for sites and returns its path.
func writeConfig(t *testing.T, sites []precwatch.Site) string {
	t.Helper()
	dir := t.TempDir()
	// A copy of the watchlist: a daemon under test may save one from its
	// console, and must not write the repository's.
	wl, err := os.ReadFile(watchlistPath(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "watchlist.yaml"), wl, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := struct {
		Watchlist string           `yaml:"watchlist"`
		Sites     []precwatch.Site `yaml:"sites"`
	}{"watchlist.yaml", sites}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "precwatch.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func startMarkets(t *testing.T) *fixtures.Markets {
	t.Helper()
	m, err := fixtures.Start(t.Context(), fixtures.Options{})
	if err != nil {
		t.Fatalf("start fixture markets: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// expectedAlerts is the set of "market/listing id/substance" that the
// fixtures say must alert: every expected match not stated under its limit.
func expectedAlerts() map[string]bool {
	want := map[string]bool{}
	for _, l := range fixtures.Listings() {
		for _, e := range l.Expected {
			if e.OverLimit == nil || *e.OverLimit {
				want[l.Market+"/"+l.ID+"/"+e.Substance] = true
			}
		}
	}
	return want
}

func listAlerts(t *testing.T, config, store string) []precwatch.Alert {
	t.Helper()
	out, stderr, err := run(t, t.Context(), "", "alerts", "--json", "--limit", "0", "--config", config, "--store", store)
	if err != nil {
		t.Fatalf("alerts: %v\n%s", err, stderr)
	}
	var alerts []precwatch.Alert
	if err := json.Unmarshal([]byte(out), &alerts); err != nil {
		t.Fatalf("alerts --json: %v\n%s", err, out)
	}
	return alerts
}

func alertSet(t *testing.T, alerts []precwatch.Alert) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for _, a := range alerts {
		k := a.Site + "/" + a.Listing.ID + "/" + a.Substance
		if got[k] {
			t.Errorf("duplicate alert for %s", k)
		}
		got[k] = true
	}
	return got
}

func compareSets(t *testing.T, got, want map[string]bool) {
	t.Helper()
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("%d expected alert(s) not raised: %v", len(missing), missing)
	}
	if len(extra) > 0 {
		t.Errorf("%d unexpected alert(s) (decoys or wrong substance): %v", len(extra), extra)
	}
}

func crawlAll(t *testing.T, config, store string, sites []precwatch.Site) []string {
	t.Helper()
	var outs []string
	for _, s := range sites {
		out, stderr, err := run(t, t.Context(), "", "crawl", "--site", s.Name, "--config", config, "--store", store)
		if err != nil {
			t.Fatalf("crawl %s: %v\n%s\n%s", s.Name, err, out, stderr)
		}
		outs = append(outs, out)
	}
	return outs
}

// TestEndToEnd crawls every fixture market through the SOCKS5 proxy into
// each store backend and checks the alerts against the fixtures' labels,
// then checks that a second crawl raises nothing and a price change lands
// in the existing alert's history.
func TestEndToEnd(t *testing.T) {
	t.Parallel() // see TestMain
	for name, store := range map[string]func(t *testing.T) string{
		"embedded": func(t *testing.T) string { return filepath.Join(t.TempDir(), "precwatch.db") },
		"redis":    func(t *testing.T) string { return redistest.Start(t) + "?prefix=e2e" },
		// Redis Cluster (issue 9): three masters on loopback.
		"redis-cluster": func(t *testing.T) string { return redistest.StartCluster(t).URL() + "?prefix=e2e" },
	} {
		t.Run(name, func(t *testing.T) {
			markets := startMarkets(t)
			sites := markets.Sites()
			config := writeConfig(t, sites)
			dsn := store(t)

			crawlAll(t, config, dsn, sites)
			alerts := listAlerts(t, config, dsn)
			want := expectedAlerts()
			compareSets(t, alertSet(t, alerts), want)
			for _, a := range alerts {
				if a.Listing.PageSHA256 == "" || len(a.History) != 1 || a.History[0].Kind != precwatch.EventRaised {
					t.Errorf("alert %s: page sha %q, history %+v; want evidence and one raised event", a.Key, a.Listing.PageSHA256, a.History)
				}
			}
			for _, s := range sites {
				if markets.Requests(s.Name) == 0 {
					t.Errorf("market %s served no request", s.Name)
				}
			}
			names := markets.ProxyNames()
			for _, s := range sites {
				if s.IsTor() && !slices.ContainsFunc(names, func(n string) bool { return strings.HasSuffix(n, ".onion") }) {
					t.Errorf("proxy never saw an .onion name (names %v): names were resolved locally", names)
				}
			}

			// A second crawl of unchanged markets raises nothing, and
			// fetches no detail page again (incremental re-crawl).
			for i, out := range crawlAll(t, config, dsn, sites) {
				if !strings.Contains(out, " new_alerts=0 ") {
					t.Errorf("second crawl raised alerts: %s", out)
				}
				if sites[i].Extract.Detail != nil && (strings.Contains(out, " details_skipped=0 ") || !strings.Contains(out, " details_skipped=")) {
					t.Errorf("second crawl of %s fetched detail pages again: %s", sites[i].Name, out)
				}
			}
			if got, want := len(listAlerts(t, config, dsn)), len(alerts); got != want {
				t.Errorf("alerts after second crawl = %d, want %d", got, want)
			}

			// A price change goes into the existing alert's history: the
			// most urgent alert whose listing raised no other, so that one
			// changed event is expected.
			perListing := map[string]int{}
			for _, a := range alerts {
				perListing[a.Site+"\x00"+a.Identity]++
			}
			target := alerts[slices.IndexFunc(alerts, func(a precwatch.Alert) bool { return perListing[a.Site+"\x00"+a.Identity] == 1 })]
			newPrice := target.Listing.Price*2 + 1
			if err := markets.SetPrice(target.Site, target.Listing.ID, newPrice); err != nil {
				t.Fatal(err)
			}
			site := sites[slices.IndexFunc(sites, func(s precwatch.Site) bool { return s.Name == target.Site })]
			crawlAll(t, config, dsn, []precwatch.Site{site})
			after := listAlerts(t, config, dsn)
			if got, want := len(after), len(alerts); got != want {
				t.Errorf("alerts after price change = %d, want %d (no new alert)", got, want)
			}
			i := slices.IndexFunc(after, func(a precwatch.Alert) bool { return a.Key == target.Key })
			if i < 0 {
				t.Fatalf("alert %s gone after price change", target.Key)
			}
			h := after[i].History
			if len(h) != 2 || h[1].Kind != precwatch.EventChanged || len(h[1].Changes) == 0 || h[1].Changes[0].Field != "price" {
				t.Fatalf("history after price change = %+v, want raised then a price change", h)
			}
			if got, want := h[1].Changes[0].New, fmt.Sprint(newPrice); got != want {
				t.Errorf("recorded new price = %q, want %q", got, want)
			}
			checkFollow(t, name, config, dsn, len(alerts), target.Key)
		})
	}
}

// checkFollow reads the alert events as an integration would: one raised
// event per alert and the one price change, each a JSON line, from the
// Redis stream or the embedded store's outbox (issue 11).
func checkFollow(t *testing.T, backend, config, dsn string, alerts int, changedKey string) {
	t.Helper()
	args := []string{"alerts", "follow", "--group", "siem", "--from-start", "--max", strconv.Itoa(alerts + 1), "--config", config, "--store", dsn}
	// A hang guard: with fewer events than --max, follow would wait on.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, stderr, err := run(t, ctx, "", args...)
	if err != nil {
		t.Fatalf("alerts follow: %v\n%s", err, stderr)
	}
	kinds, keys := map[string]int{}, map[string]bool{}
	for line := range strings.Lines(out) {
		var e struct {
			Event, Key string
			Alert      precwatch.Alert
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Alert.Key != e.Key {
			t.Fatalf("follow line %q: %v", line, err)
		}
		kinds[e.Event]++
		if e.Event == precwatch.EventChanged && e.Key != changedKey {
			t.Errorf("changed event for %s, want %s", e.Key, changedKey)
		}
		keys[e.Key] = true
	}
	if kinds[precwatch.EventRaised] != alerts || kinds[precwatch.EventChanged] != 1 || len(keys) != alerts {
		t.Errorf("follow printed %v over %d alerts, want %d raised and 1 changed", kinds, len(keys), alerts)
	}
}

// TestTwoProcessesOneRedis runs two real crawler processes on one Redis (a
// single server, and a 3-master Cluster) at once; they must converge on one
// alert per listing and substance.
func TestTwoProcessesOneRedis(t *testing.T) {
	t.Parallel() // see TestMain
	for name, server := range redisBackends {
		t.Run(name, func(t *testing.T) { twoProcessesOneRedis(t, server(t)+"?prefix=two") })
	}
}

func twoProcessesOneRedis(t *testing.T, dsn string) {
	markets := startMarkets(t)
	sites := markets.Sites()
	config := writeConfig(t, sites)

	var wg sync.WaitGroup
	errs := make(chan error, 2*len(sites))
	for p := range 2 {
		wg.Go(func() {
			// Each process crawls every site, in a different order.
			order := slices.Clone(sites)
			if p == 1 {
				slices.Reverse(order)
			}
			for _, s := range order {
				cmd := selfCommand(t.Context(), "crawl --site "+s.Name+" --config "+config+" --store "+dsn+" --log-level warn")
				if out, err := cmd.CombinedOutput(); err != nil {
					errs <- fmt.Errorf("process %d crawl %s: %v\n%s", p, s.Name, err, out)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	compareSets(t, alertSet(t, listAlerts(t, config, dsn)), expectedAlerts())
}

// TestFailClosed stops the proxy: a Tor site's crawl must fail clearly and
// the market must see no request at all (no direct fallback).
func TestFailClosed(t *testing.T) {
	markets := startMarkets(t)
	sites := markets.Sites()
	config := writeConfig(t, sites)
	if err := markets.StopProxy(); err != nil {
		t.Fatal(err)
	}
	dsn := filepath.Join(t.TempDir(), "s.db")
	for _, s := range sites {
		out, stderr, err := run(t, t.Context(), "", "crawl", "--site", s.Name, "--config", config, "--store", dsn)
		if err == nil {
			t.Errorf("crawl %s with the proxy down succeeded: %s", s.Name, out)
			continue
		}
		if !strings.Contains(err.Error(), "proxy") {
			t.Errorf("crawl %s error does not name the proxy: %v\n%s", s.Name, err, stderr)
		}
		if !strings.Contains(out, "status=failed") {
			t.Errorf("crawl %s run not recorded as failed: %s", s.Name, out)
		}
		if got := markets.Requests(s.Name); got != 0 {
			t.Errorf("market %s served %d request(s) with the proxy down, want 0", s.Name, got)
		}
	}
}

// TestMatchReproducesFixtures pipes every fixture listing through
// `precwatch match` and compares each line with the fixture's labels.
func TestMatchReproducesFixtures(t *testing.T) {
	var in strings.Builder
	listings := fixtures.Listings()
	for _, l := range listings {
		line, _ := json.Marshal(map[string]any{"id": l.ID, "site": l.Market, "url": "http://x/" + l.ID,
			"title": l.Title, "description": l.Description, "price": l.Price, "vendor": l.Vendor})
		in.Write(line)
		in.WriteByte('\n')
	}
	out, stderr, err := run(t, t.Context(), in.String(), "match", "--watchlist", watchlistPath(t))
	if err != nil {
		t.Fatalf("match: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if got, want := len(lines), len(listings); got != want {
		t.Fatalf("match wrote %d lines for %d listings", got, want)
	}
	for i, line := range lines {
		var res struct {
			ID      string `json:"id"`
			Matches []struct {
				Substance string `json:"substance"`
				Regime    string `json:"regime"`
				Severity  string `json:"severity"`
				Term      string `json:"term"`
				OverLimit *bool  `json:"over_limit"`
			} `json:"matches"`
		}
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		l := listings[i]
		if res.ID != l.ID {
			t.Fatalf("line %d id = %q, want %q", i+1, res.ID, l.ID)
		}
		got := map[string]string{}
		for _, m := range res.Matches {
			if m.Regime == "" || m.Severity == "" || m.Term == "" {
				t.Errorf("%s: match without regime, severity or term: %+v", l.ID, m)
			}
			got[m.Substance] = mergeOver(got[m.Substance], m.OverLimit)
		}
		want := map[string]string{}
		for _, e := range l.Expected {
			want[e.Substance] = mergeOver("", e.OverLimit)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s/%s %q: matches %v, want %v", l.Market, l.ID, l.Title, got, want)
		}
	}
}

// mergeOver folds a substance's matches into one over_limit: over if any
// match is over, under if every stated strength is under, null otherwise.
func mergeOver(prev string, over *bool) string {
	switch {
	case prev == "true" || (over != nil && *over):
		return "true"
	case prev == "false" || over != nil:
		return "false"
	}
	return "null"
}

func TestConfigErrorsNameFileLineField(t *testing.T) {
	good := "watchlist: " + watchlistPath(t) + "\nsites:\n  - name: a\n    start_urls: [http://a.example/]\n    schedule: \"@every 1h\"\n"
	for name, tc := range map[string]struct{ config, want string }{
		"unknown field":           {strings.Replace(good, "    schedule:", "    schedul: x\n    schedule:", 1), `.yaml:5:5: sites[0].schedul: unknown field "schedul"`},
		"bad cron":                {strings.Replace(good, "@every 1h", "61 * * * *", 1), `.yaml:5:5: sites[0].schedule: bad cron spec "61 * * * *"`},
		"bad proxy":               {good + "    proxy: http://127.0.0.1:8080\n", ".yaml:6:5: sites[0].proxy: want a socks5"},
		"bad selector":            {good + "    extract:\n      listing: \"div[\"\n", `.yaml:7:7: sites[0].extract.listing: bad selector "div["`},
		"bad detail selector":     {good + "    extract:\n      listing: div\n      detail:\n        price: \"p[\"\n", `.yaml:9:9: sites[0].extract.detail.price: bad selector "p["`},
		"bad links selector":      {good + "    extract:\n      links: [nav, \"a[\"]\n", `.yaml:7:20: sites[0].extract.links[1]: bad selector "a["`},
		"missing urls":            {strings.Replace(good, "    start_urls: [http://a.example/]\n", "", 1), ".yaml:3:5: sites[0].start_urls: at least one"},
		"unknown top key":         {good + "sitez: []\n", ".yaml:6:1: sitez: unknown field"},
		"negative refresh_after":  {good + "    incremental:\n      refresh_after: -1h\n", ".yaml:7:7: sites[0].incremental.refresh_after: must be >= 0"},
		"negative stop":           {good + "    incremental:\n      stop_after_unchanged_pages: -2\n", ".yaml:7:7: sites[0].incremental.stop_after_unchanged_pages: must be >= 0"},
		"bad refresh_after":       {good + "    incremental:\n      refresh_after: soon\n", ".yaml:7:22: sites[0].incremental.refresh_after:"},
		"unknown incremental key": {good + "    incremental:\n      refresh: 1h\n", `.yaml:7:7: sites[0].incremental.refresh: unknown field "refresh"`},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.yaml")
			if err := os.WriteFile(path, []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := run(t, t.Context(), "", "config", "check", "--config", path)
			if want := strings.TrimSuffix(path, ".yaml") + tc.want; err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("config check error = %v, want it to contain %q", err, tc.want)
			}
			// The daemon refuses to start on it.
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			_, _, err = run(t, ctx, "", "run", "--config", path, "--store", filepath.Join(t.TempDir(), "s.db"))
			if err == nil || !strings.Contains(err.Error(), "refusing to start") {
				t.Errorf("run with a broken config: err = %v, want refusal", err)
			}
		})
	}
	path := filepath.Join(t.TempDir(), "good.yaml")
	os.WriteFile(path, []byte(good+"    incremental:\n      refresh_after: 12h\n      stop_after_unchanged_pages: 3\n"), 0o600)
	if out, _, err := run(t, t.Context(), "", "config", "check", "--config", path); err != nil || !strings.HasPrefix(out, "ok:") {
		t.Errorf("good config: %v %s", err, out)
	}
}

// TestDaemonReloadKeepsGoodConfig gives a running daemon a broken config,
// then a good new one.
func TestDaemonReloadKeepsGoodConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "precwatch.yaml")
	site := func(name string) string {
		return "  - name: " + name + "\n    start_urls: [http://" + name + ".example/]\n    schedule: \"@yearly\"\n"
	}
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	header := "watchlist: " + watchlistPath(t) + "\nsites:\n"
	write(header + site("a"))

	m, logs, waitFor := startDaemonInProcess(t, "run", "--config", path, "--store", filepath.Join(dir, "s.db"), "--reload-interval", "20ms", "--addr", "127.0.0.1:0")
	sites := func() []string {
		var names []string
		for _, s := range m.config.Load().Sites {
			names = append(names, s.Name)
		}
		return names
	}
	waitFor("precwatch running")

	time.Sleep(30 * time.Millisecond) // a new mtime
	write(header + site("b") + "    bogus: 1\n")
	waitFor("reload rejected")
	if got := sites(); !slices.Equal(got, []string{"a"}) {
		t.Errorf("sites after a broken reload = %v, want [a]", got)
	}
	if !strings.Contains(logs.String(), "bogus") {
		t.Errorf("rejection does not name the bad field:\n%s", logs.String())
	}
	// The console is told, to show analysts and operators.
	ws := &watchlistService{m: m}
	if at, err := ws.RejectedReload(); at.IsZero() || err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("RejectedReload after a broken reload = %v, %v; want its time and the bad field", at, err)
	}

	time.Sleep(30 * time.Millisecond)
	write(header + site("a") + site("c"))
	waitFor("config reloaded")
	if got := sites(); !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("sites after a good reload = %v, want [a c]", got)
	}
	if at, err := ws.RejectedReload(); !at.IsZero() || err != nil {
		t.Errorf("RejectedReload after a good reload = %v, %v; want none", at, err)
	}
}

// TestSampleConfig keeps configs/precwatch.yaml valid and in step with the
// fixture markets that `make run` serves.
func TestSampleConfig(t *testing.T) {
	for _, path := range []string{"../../configs/precwatch.yaml", "../../configs/example-tor.yaml"} {
		out, stderr, err := run(t, t.Context(), "", "config", "check", "--config", path)
		if err != nil {
			t.Fatalf("config check %s: %v\n%s", path, err, stderr)
		}
		if !strings.HasPrefix(out, "ok:") {
			t.Errorf("config check %s output %q", path, out)
		}
	}
	cfg, err := LoadConfig("../../configs/precwatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	markets := startMarkets(t)
	for _, want := range markets.Sites() {
		got, ok := cfg.Site(want.Name)
		if !ok {
			t.Errorf("configs/precwatch.yaml lacks fixture site %q", want.Name)
			continue
		}
		got.Proxy, want.Proxy = "", ""
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("site %q differs from the fixture market's:\n got %s\nwant %s", want.Name, g, w)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"frobnicate"}, {"crawl"}, {"config"}, {"alerts", "--severity", "dire"}} {
		if _, _, err := run(t, t.Context(), "", args...); err == nil || exitCode(err) != 2 {
			t.Errorf("precwatch %v: err %v (exit %d), want a usage error (exit 2)", args, err, exitCode(err))
		}
	}
}
