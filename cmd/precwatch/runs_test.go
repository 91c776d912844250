package main

import (
	"encoding/json"
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
