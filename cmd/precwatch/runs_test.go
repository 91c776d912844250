package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/embedded"
)

// TestRunsCommand: `precwatch runs` lists the run records newest first,
// with why a run was stopped or marked nothing gone, so that an operator
// can check scheduled runs without the console.
func TestRunsCommand(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "s.db")
	st, err := embedded.Open(t.Context(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	runs := []precwatch.Run{
		{ID: "r1", Site: "market", Start: t0, End: t0.Add(3 * time.Second), Status: precwatch.RunOK, Pages: 4, Listings: 18, NewListings: 18, Alerts: 5},
		{ID: "r2", Site: "market", Start: t0.Add(time.Hour), End: t0.Add(time.Hour + time.Second), Status: precwatch.RunBlocked,
			Block: &precwatch.RunBlock{Class: precwatch.PageCaptcha, Reason: "built-in: a captcha form", URL: "http://m.onion/browse/1"}},
		{ID: "r3", Site: "market", Start: t0.Add(2 * time.Hour), End: t0.Add(2*time.Hour + time.Second), Status: precwatch.RunOK, Listings: 11,
			GoneUndecided: "pages came from mirror http://b.onion, not the primary http://a.onion"},
		{ID: "r4", Site: "shop", Start: t0.Add(3 * time.Hour), End: t0.Add(3 * time.Hour), Status: precwatch.RunFailed,
			Errors: []string{`crawler: site "shop": proxy socks5://127.0.0.1:9050 unreachable`}},
	}
	for _, r := range runs {
		if err := st.SaveRun(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	out, stderr, err := run(t, t.Context(), "", "runs", "--store", dsn, "--site", "market")
	if err != nil {
		t.Fatalf("runs: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "START") || lines[4] != "3 run(s)" {
		t.Fatalf("runs --site market:\n%s\nwant a header, 3 runs and a count", out)
	}
	for i, want := range []string{"nothing marked gone: pages came from mirror http://b.onion", "stopped by a captcha page at http://m.onion/browse/1", "18"} {
		if f := strings.Fields(lines[1+i]); len(f) < 4 || f[2] != "market" || !strings.Contains(lines[1+i], want) {
			t.Errorf("row %d %q, want market's run newest first, saying %q", i, lines[1+i], want)
		}
	}
	out, stderr, err = run(t, t.Context(), "", "runs", "--store", dsn, "--json", "--limit", "1")
	var got []precwatch.Run
	if err != nil || json.Unmarshal([]byte(out), &got) != nil || len(got) != 1 || got[0].ID != "r4" || got[0].Status != precwatch.RunFailed {
		t.Errorf("runs --json --limit 1: %v, %+v in\n%s", err, got, out)
	}
	if !strings.Contains(stderr, "showing 1 of 4 runs") {
		t.Errorf("runs --json --limit 1 stderr %q, want the count of runs left out", stderr)
	}
}

// TestReadCommandsNameTheStoreWayRound: a read command that reads the
// config only to find the store fails on a variable only the crawls need
// (a proxy password kept out of an analyst's shell), saying that --store
// or $PRECWATCH_STORE skips the config; with --store it reads the store.
func TestReadCommandsNameTheStoreWayRound(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "s.db")
	st, err := embedded.Open(t.Context(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	cfg := filepath.Join(dir, "precwatch.yaml")
	wl, err := filepath.Abs(filepath.Join("..", "..", "configs", "watchlist.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	body := "watchlist: " + wl + "\nstore: " + dsn + "\nsites:\n  - name: market\n    start_urls: [\"http://127.0.0.1:1/\"]\n    proxy: \"socks5://crawler:${PRECWATCH_TEST_UNSET_PROXY_PW}@127.0.0.1:1080\"\n    extract: {listing: div, title: h2}\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(storeEnv, "")
	for _, cmd := range []string{"runs", "listings", "alerts"} {
		_, _, err := run(t, t.Context(), "", cmd, "--config", cfg)
		if err == nil || !strings.Contains(err.Error(), "PRECWATCH_TEST_UNSET_PROXY_PW is not set") || !strings.Contains(err.Error(), "give --store or $PRECWATCH_STORE") {
			t.Errorf("%s with the variable unset: %v, want its name and the way round it", cmd, err)
		}
		if out, stderr, err := run(t, t.Context(), "", cmd, "--config", cfg, "--store", dsn); err != nil {
			t.Errorf("%s --store: %v\n%s%s", cmd, err, out, stderr)
		}
	}
}
