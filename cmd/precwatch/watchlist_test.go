package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/matchers"
)

// TestWatchlistTestRetroHunt crawls the fixture markets, then asks what a
// watchlist without hydrogen peroxide would change: exactly the stored
// peroxide alerts disappear and nothing is added.
func TestWatchlistTestRetroHunt(t *testing.T) {
	markets := startMarkets(t)
	sites := markets.Sites()
	config := writeConfig(t, sites)
	dsn := filepath.Join(t.TempDir(), "s.db")
	crawlAll(t, config, dsn, sites)
	peroxide := 0
	for _, a := range listAlerts(t, config, dsn) {
		if a.Substance == "hydrogen-peroxide" {
			peroxide++
		}
	}
	if peroxide == 0 {
		t.Fatal("fixtures raised no hydrogen peroxide alert to test with")
	}

	wl, err := matchers.LoadWatchlist(watchlistPath(t))
	if err != nil {
		t.Fatal(err)
	}
	wl.Substances = slices.DeleteFunc(wl.Substances, func(s precwatch.Substance) bool { return s.ID == "hydrogen-peroxide" })
	data, err := yaml.Marshal(wl)
	if err != nil {
		t.Fatal(err)
	}
	candidate := filepath.Join(t.TempDir(), "candidate.yaml")
	if err := os.WriteFile(candidate, data, 0o600); err != nil {
		t.Fatal(err)
	}

	out, stderr, err := run(t, t.Context(), "", "watchlist", "test", "--config", config, "--store", dsn, candidate)
	if err != nil {
		t.Fatalf("watchlist test: %v\n%s", err, stderr)
	}
	removed := regexp.MustCompile(`(?m)^- .* hydrogen-peroxide `).FindAllString(out, -1)
	if got := len(removed); got != peroxide {
		t.Errorf("retro-hunt removes %d peroxide alert(s), want %d:\n%s", got, peroxide, out)
	}
	if !strings.Contains(out, "would add 0 alert(s) and remove "+itoa(peroxide)) {
		t.Errorf("summary line wrong:\n%s", out)
	}
	if !strings.Contains(out, "change: removed substance hydrogen-peroxide") {
		t.Errorf("diff of the candidate not shown:\n%s", out)
	}

	out, _, err = run(t, t.Context(), "", "watchlist", "diff", watchlistPath(t), candidate)
	if err != nil || !strings.HasPrefix(out, "removed substance hydrogen-peroxide\n1 substance(s) changed") {
		t.Errorf("watchlist diff: %v\n%s", err, out)
	}

	// A broken candidate is rejected with its file and line.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("version: x\nsubstances:\n  - id: a\n    colour: red\n"), 0o600)
	if _, _, err := run(t, t.Context(), "", "watchlist", "test", "--config", config, "--store", dsn, bad); err == nil || !strings.Contains(err.Error(), bad+":4") {
		t.Errorf("broken candidate: err = %v, want %s:4", err, bad)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
