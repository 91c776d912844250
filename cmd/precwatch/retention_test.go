package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/crawler"
	"github.com/precwatch/precwatch/fixtures"
	"github.com/precwatch/precwatch/storage/embedded"
	"github.com/precwatch/precwatch/storage/storetest"
)

func TestParseAge(t *testing.T) {
	const day = 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"90d": 90 * day, "1.5d": 36 * time.Hour, "1d12h": 36 * time.Hour, "36h": 36 * time.Hour,
		"90m": 90 * time.Minute, "0d": 0, "365d": 365 * day, " 7d ": 7 * day,
	} {
		if got, err := parseAge(in); err != nil || got != want {
			t.Errorf("parseAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "90", "d", "-1d", "-36h", "ninety", "1d-2h", "1e9d", "12x"} {
		if got, err := parseAge(in); err == nil {
			t.Errorf("parseAge(%q) = %v, want an error", in, got)
		} else if !strings.Contains(err.Error(), "such as 90d") {
			t.Errorf("parseAge(%q) error %q does not say what it wants", in, err)
		}
	}
	for d, want := range map[time.Duration]string{90 * day: "90d", 36 * time.Hour: "36h0m0s", 0: "0"} {
		if got := (*age)(&d).String(); got != want {
			t.Errorf("age(%v).String() = %q, want %q", d, got, want)
		}
	}
}

// TestRetentionConfig: the retention: block reads days and Go durations,
// defaults runs to 365d, and each mistake names its file, line, column and
// field.
func TestRetentionConfig(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "c.yaml", siteConfig(t, "", "")+"retention: {fetches: 90d, schedule: \"@daily\"}\n")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if r := cfg.Retention; time.Duration(r.Fetches) != 90*24*time.Hour || time.Duration(r.Runs) != 365*24*time.Hour || r.Schedule != "@daily" {
		t.Errorf("retention = %+v, want 90d, runs 365d by default, @daily", r)
	}
	for name, tc := range map[string]struct{ block, want string }{
		"bare number":   {"retention: {fetches: 90}\n", `:7:22: retention.fetches: want a duration such as 90d, 36h or 1d12h, got "90"`},
		"words":         {"retention:\n  fetches: ninety days\n", `:8:12: retention.fetches: want a duration such as 90d, 36h or 1d12h, got "ninety days"`},
		"too short":     {"retention: {fetches: 30m}\n", `:7:13: retention.fetches: at least 1h0m0s: a prune never takes its last hour for old, got 30m0s`},
		"no fetches":    {"retention: {schedule: \"@daily\"}\n", `retention.fetches: required with retention's schedule or runs`},
		"bad schedule":  {"retention:\n  fetches: 90d\n  schedule: every day\n", `:9:3: retention.schedule: bad cron spec "every day"`},
		"short runs":    {"retention: {fetches: 90d, runs: 10m}\n", `:7:27: retention.runs: at least 1h0m0s, got 10m0s`},
		"unknown field": {"retention: {fetches: 90d, keep: 3}\n", `retention.keep`},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := configCheck(t, siteConfig(t, "", "")+tc.block)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("config check: %v\n%s\nwant %q", err, out, tc.want)
			}
		})
	}
}

// oldHistory writes what 200 days of crawls left in a store: an alert
// read from a page fetched at d200 (its fetch kept), three later fetches
// of that page nothing names, a page saved at d300 nothing names, and six
// runs of agora2 from d300 on without fetches (the oldest deletable).
func oldHistory(t *testing.T, st precwatch.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	ago := func(d int) time.Time { return now.Add(-time.Duration(d) * 24 * time.Hour) }
	body := []byte("<html><body>Hydrogen peroxide 30% 1 L</body></html>")
	if err := st.SaveRun(ctx, precwatch.Run{ID: "r-old", Site: "silkvault", Start: ago(200), End: ago(200).Add(time.Hour), Status: precwatch.RunOK}); err != nil {
		t.Fatal(err)
	}
	p := storetest.FetchedPage("silkvault", "r-old", "http://silkvault.test/c", ago(200), body)
	if _, err := st.RecordPage(ctx, p, []precwatch.Observation{storetest.AlertingSighting(p, "L1")}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		p := storetest.FetchedPage("silkvault", "r-old", "http://silkvault.test/c", ago(200).Add(time.Duration(i)*time.Minute), body)
		if _, err := st.RecordPage(ctx, p, nil); err != nil {
			t.Fatal(err)
		}
	}
	orphan := []byte("<html><body>page 2</body></html>")
	if err := st.SavePage(ctx, precwatch.Page{SHA256: storetest.Sha(orphan), Site: "silkvault", URL: "http://silkvault.test/c?p=2", FetchedAt: ago(300), Body: orphan}); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		id := fmt.Sprintf("agora2-r%d", i)
		r := precwatch.Run{ID: id, Site: "agora2", Start: ago(300 - i), End: ago(300 - i).Add(time.Hour), Status: precwatch.RunOK,
			WARCs: []precwatch.WARCFile{{Path: "var/warc/" + id + ".warc.gz"}}}
		if err := st.SaveRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
}

// oldStore writes an embedded store holding oldHistory in dir and
// returns its path.
func oldStore(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "precwatch.db")
	st, err := embedded.Open(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	oldHistory(t, st, time.Now())
	st.Close()
	return path
}

// TestPruneCommand: `precwatch prune` reports what it would delete (dry
// run) and what it deleted, takes its ages from the config's retention
// block, and refuses ages under an hour.
func TestPruneCommand(t *testing.T) {
	dir := t.TempDir()
	path := oldStore(t, dir)

	out, stderr, err := run(t, t.Context(), "", "prune", "--older-than", "90d", "--runs-older-than", "200d", "--dry-run", "--store", path)
	if err != nil {
		t.Fatalf("prune --dry-run: %v\n%s", err, stderr)
	}
	if !strings.HasPrefix(out, "dry run: would delete 3 fetch records (") || !strings.Contains(out, "1 page bodies (") ||
		!strings.Contains(out, "1 runs (") || !strings.Contains(out, "kept 1 fetch records and 1 page bodies") ||
		!strings.Contains(out, "  var/warc/agora2-r0.warc.gz\n") {
		t.Errorf("prune --dry-run printed:\n%s", out)
	}
	// The config's retention block gives the ages.
	config := writeFile(t, dir, "c.yaml", siteConfig(t, "", "")+"retention: {fetches: 90d, runs: 200d}\n")
	out, stderr, err = run(t, t.Context(), "", "prune", "--config", config, "--store", path)
	if err != nil {
		t.Fatalf("prune: %v\n%s", err, stderr)
	}
	if !strings.HasPrefix(out, "deleted 3 fetch records (") || !strings.Contains(out, "older than 90d (runs older than 200d)") {
		t.Errorf("prune printed:\n%s", out)
	}
	out, _, err = run(t, t.Context(), "", "prune", "--older-than", "90d", "--json", "--store", path)
	var rep precwatch.PruneReport
	if err != nil || json.Unmarshal([]byte(out), &rep) != nil || rep.Fetches+rep.Pages+rep.Runs != 0 || rep.FetchesKept != 1 {
		t.Errorf("second prune --json: %v\n%s\nwant nothing deleted, one fetch kept", err, out)
	}
	for _, args := range [][]string{
		{"prune", "--older-than", "30m", "--store", path},
		{"prune", "--older-than", "90", "--store", path},
		{"prune", "--older-than", "90d", "--runs-older-than", "5m", "--store", path},
		{"prune", "--config", filepath.Join(dir, "missing.yaml"), "--store", path},
	} {
		_, stderr, err := run(t, t.Context(), "", args...)
		if exitCode(err) != 2 {
			t.Errorf("%v: exit %d (%v), want 2\n%s", args, exitCode(err), err, stderr)
		}
	}
}

// TestDaemonPrunes: a daemon prunes on the retention schedule a reload
// gave it, logs what it deleted and counts it in its metrics.
func TestDaemonPrunes(t *testing.T) {
	dir := t.TempDir()
	path := oldStore(t, dir)
	config := writeFile(t, dir, "c.yaml", siteConfig(t, "", "")+"retention: {fetches: 90d}\n")
	m, logs, waitFor := startDaemonInProcess(t, "run", "--config", config, "--store", path, "--addr", "", "--reload-interval", "50ms")
	waitFor("precwatch running")
	time.Sleep(1500 * time.Millisecond)
	if strings.Contains(logs.String(), "prune") {
		t.Fatalf("a daemon without a retention schedule pruned:\n%s", logs)
	}
	writeFile(t, dir, "c.yaml", siteConfig(t, "", "")+"retention: {fetches: 90d, schedule: \"@every 1s\"}\n")
	waitFor("prune scheduled")
	waitFor("prune done")
	if !strings.Contains(logs.String(), `msg="prune done" fetches=3 pages=1 runs=0`) {
		t.Errorf("daemon log lacks the prune's counts:\n%s", logs)
	}
	text := scrape(t, m.metrics)
	for _, want := range []string{
		`precwatch_prune_deleted_total{kind="fetches"} 3`, `precwatch_prune_deleted_total{kind="pages"} 1`,
		`precwatch_prune_kept{kind="fetches"} 1`,
	} {
		if !hasSample(text, want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(text, "prune"))
		}
	}
	if !strings.Contains(text, `precwatch_prune_runs_total{result="ok"} `) || hasSample(text, `precwatch_prune_runs_total{result="ok"} 0`) {
		t.Errorf("metrics count no ok prune:\n%s", grepLines(text, "prune_runs"))
	}
}

// pruneDeleted reads how many fetch records a prune's output says it
// deleted.
var pruneDeleted = regexp.MustCompile(`(?m)^deleted (\d+) fetch records`)

// TestPruneWhileCrawling (README "Retention"): on one Redis and on a Redis
// Cluster holding 200 days of a market's crawls, one process crawls the
// market again and again, its prices changing between crawls, while two
// others run `precwatch prune` again and again. No crawl and no prune
// fails, the prunes delete the old records nothing names, and at the end
// every alert and every listing has its evidence, the detail pages read
// 200 days ago that listings still name included.
func TestPruneWhileCrawling(t *testing.T) {
	t.Parallel() // see TestMain
	for name, server := range redisBackends {
		t.Run(name, func(t *testing.T) { pruneWhileCrawling(t, server(t)+"?prefix=prune") })
	}
}

func pruneWhileCrawling(t *testing.T, dsn string) {
	ctx := t.Context()
	markets := startMarkets(t)
	var site precwatch.Site
	for _, s := range markets.Sites() {
		if s.Name == fixtures.Silkvault {
			site = s
		}
	}
	// Detail pages are read once: the listings' sources stay the fetches
	// of 200 days ago unless their row changes.
	site.Incremental.RefreshAfter = 400 * 24 * time.Hour
	config := writeConfig(t, []precwatch.Site{site})
	st := openRedis(t, dsn)
	var ids []string
	for k := range siteAlerts(site.Name) {
		ids = append(ids, strings.Split(k, "/")[1])
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	price := func(i int, p float64) {
		if err := markets.SetPrice(site.Name, ids[i%len(ids)], p); err != nil {
			t.Fatal(err)
		}
	}

	// The history, crawled in this process with the clock set back.
	m := NewMain()
	m.ConfigPath = config
	cfg, mt, err := m.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	m.matcher.Use(mt, cfg)
	now := time.Now()
	for _, d := range []int{200, 190, 180, 150, 120, 100} {
		if d == 180 || d == 120 {
			price(d, float64(d)) // a change: a changed event, and that listing's detail read again
		}
		at, wall := now.Add(-time.Duration(d)*24*time.Hour), time.Now()
		c, err := crawler.New(site, st, &m.matcher, slog.New(slog.DiscardHandler),
			crawler.WithClock(func() time.Time { return at.Add(time.Since(wall)) }))
		if err != nil {
			t.Fatal(err)
		}
		if run, err := c.Run(ctx); err != nil || run.Status != precwatch.RunOK {
			t.Fatalf("crawl at d%d: %s %v %v", d, run.Status, run.Errors, err)
		}
	}

	var (
		mu      sync.Mutex
		deleted int
		prunes  int
		stop    atomic.Bool
		wg      sync.WaitGroup
	)
	pruneArgs := "prune --older-than 90d --runs-older-than 120d --config " + config + " --store " + dsn
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				w := startWorker(t, pruneArgs)
				err := w.wait(t)
				out := w.out.String()
				if err != nil {
					t.Errorf("prune process: %v\n%s", err, out)
					return
				}
				mu.Lock()
				prunes++
				for _, sm := range pruneDeleted.FindAllStringSubmatch(out, -1) {
					n, _ := strconv.Atoi(sm[1])
					deleted += n
				}
				mu.Unlock()
			}
		})
	}
	for i := range 4 {
		price(i, 30+float64(i))
		w := startWorker(t, crawlArgs(site, config, dsn, ""))
		if err := w.wait(t); err != nil {
			t.Errorf("crawl %d while pruning: %v\n%s", i, err, w.out)
		}
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d prunes alongside 4 crawls deleted %d fetch records", prunes, deleted)
	if prunes < 2 || deleted == 0 {
		t.Errorf("%d prunes deleting %d fetch records ran alongside the crawls: want prunes that delete", prunes, deleted)
	}

	if n := storetest.EvidenceIntact(t, st); n == 0 {
		t.Error("no alert to check")
	}
	compareSets(t, alertSet(t, listAlerts(t, config, dsn)), siteAlerts(site.Name))
	// The old detail fetches the listings still name were kept.
	cutoff := now.Add(-90 * 24 * time.Hour)
	old := 0
	if err := st.Listings(ctx, site.Name, func(ls precwatch.ListingState) error {
		for _, id := range ls.Listing.FetchIDs() {
			f, err := st.Fetch(ctx, id)
			if err != nil {
				return err
			}
			if f.At.Before(cutoff) {
				old++
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if old == 0 {
		t.Error("no listing names a fetch older than the cutoff: the crawls did not carry old sources")
	}
	// A last prune finds the store as the others left it.
	w := startWorker(t, pruneArgs)
	if err := w.wait(t); err != nil {
		t.Fatalf("last prune: %v\n%s", err, w.out)
	}
	if sm := pruneDeleted.FindStringSubmatch(w.out.String()); sm == nil || sm[1] != "0" {
		t.Errorf("last prune, after the crawls stopped:\n%s\nwant nothing left to delete", w.out)
	}
	storetest.EvidenceIntact(t, st)
}
