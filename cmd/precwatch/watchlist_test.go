package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/matchers"
)

// TestWatchlistTestRetroHunt crawls the fixture markets, then asks what a
// watchlist without hydrogen peroxide would change: exactly the stored
// peroxide alerts disappear and nothing is added.
func TestWatchlistTestRetroHunt(t *testing.T) {
	t.Parallel() // see TestMain
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

	// Flags may follow the file, as users write them.
	out, stderr, err := run(t, t.Context(), "", "watchlist", "test", candidate, "--config", config, "--store", dsn)
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

// TestWatchlistSuppress rules a term on one site a false positive: the
// match is then reported as suppressed there (and raises no alert) but not
// on other sites, and the watchlist file keeps its comments.
func TestWatchlistSuppress(t *testing.T) {
	dir := t.TempDir()
	orig, err := os.ReadFile(watchlistPath(t))
	if err != nil {
		t.Fatal(err)
	}
	wl := filepath.Join(dir, "watchlist.yaml")
	if err := os.WriteFile(wl, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "precwatch.yaml")
	os.WriteFile(config, []byte("watchlist: watchlist.yaml\nsites:\n  - name: hobbyshop\n    start_urls: [http://hobby.example/]\n    schedule: \"@daily\"\n"), 0o600)
	in := `{"id":"1","site":"hobbyshop","title":"Nitromethane 98%, 1 L"}` + "\n" + `{"id":"2","site":"darkbay","title":"Nitromethane 98%, 1 L"}` + "\n"
	suppressed := func() []string {
		t.Helper()
		out, stderr, err := run(t, t.Context(), in, "match", "--config", config)
		if err != nil {
			t.Fatalf("match: %v\n%s", err, stderr)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var res struct {
				ID      string            `json:"id"`
				Matches []precwatch.Match `json:"matches"`
			}
			if err := json.Unmarshal([]byte(line), &res); err != nil || len(res.Matches) == 0 {
				t.Fatalf("match line %q: %v", line, err)
			}
			got = append(got, res.ID+":"+res.Matches[0].Suppressed+":"+strconv.FormatBool(res.Matches[0].Alertable()))
		}
		return got
	}
	if got, want := suppressed(), []string{"1::true", "2::true"}; !slices.Equal(got, want) {
		t.Fatalf("before: %q, want %q", got, want)
	}
	if _, _, err := run(t, t.Context(), "", "watchlist", "suppress", "--config", config, "--term", "nitromethane", "--site", "hobbyshop", "--reason", "x"); err == nil {
		t.Error("a suppression without --by was accepted")
	}
	out, stderr, err := run(t, t.Context(), "", "watchlist", "suppress", "--config", config,
		"--term", "nitromethane", "--site", "hobbyshop", "--by", "alice", "--reason", "RC fuel at 16% or less, checked with the shop")
	if err != nil {
		t.Fatalf("suppress: %v\n%s%s", err, out, stderr)
	}
	want := []string{"1:by alice: RC fuel at 16% or less, checked with the shop:false", "2::true"}
	if got := suppressed(); !slices.Equal(got, want) {
		t.Errorf("after: %q, want %q", got, want)
	}
	after, _ := os.ReadFile(wl)
	firstLine := strings.SplitN(string(orig), "\n", 2)[0]
	if !strings.HasPrefix(firstLine, "#") || !strings.Contains(string(after), firstLine) {
		t.Errorf("the watchlist's header comment %q was lost", firstLine)
	}
}
