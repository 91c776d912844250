package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/fixtures"
)

// TestHelpEveryCommand: -h and --help on every command and subcommand exit
// 0 and print the command's arguments and flags on stdout; the top-level
// help lists every command; an unknown command is still a usage error. Before
// issue 10, `<cmd> -h` exited 2 and the top-level help lacked commands.
func TestHelpEveryCommand(t *testing.T) {
	// Each command with one of its own flags or arguments its help must show.
	own := map[string]string{
		"run": "-metrics-addr", "serve": "-tls-cert", "crawl": "-site", "alerts": "-limit",
		"alerts follow": "-group", "listings": "-site", "runs": "-limit", "match": "-watchlist", "config check": "-config",
		"session import": "-cookie-header", "session show": "-site", "session clear": "-site",
		"watchlist test": "FILE", "watchlist diff": "OLD NEW", "watchlist suppress": "-reason",
		"user add": "-role", "export": "-misp-key-file", "prune": "-older-than",
	}
	top, _, err := run(t, t.Context(), "", "--help")
	if err != nil {
		t.Fatalf("precwatch --help: %v", err)
	}
	for name, want := range own {
		if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + ` `).MatchString(top) {
			t.Errorf("precwatch --help does not list %q:\n%s", name, top)
		}
		for _, h := range []string{"-h", "--help"} {
			args := append(strings.Fields(name), h)
			out, stderr, err := run(t, t.Context(), "", args...)
			if err != nil && exitCode(err) != 0 {
				t.Errorf("precwatch %s: exit %d (%v), want 0\n%s", strings.Join(args, " "), exitCode(err), err, stderr)
			}
			if !strings.HasPrefix(out, "usage: precwatch "+name) || !strings.Contains(out, want) || !strings.Contains(out, "-log-format") {
				t.Errorf("precwatch %s printed on stdout:\n%s\nwant its usage with %q and the common flags", strings.Join(args, " "), out, want)
			}
		}
	}
	for _, name := range []string{"version", "help"} {
		if !strings.Contains(top, "  "+name+" ") {
			t.Errorf("precwatch --help does not list %q", name)
		}
	}
	// Help of a group lists its subcommands; help CMD is CMD -h.
	for _, args := range [][]string{{"session", "-h"}, {"watchlist", "--help"}, {"user", "-h"}, {"config", "-h"}} {
		out, _, err := run(t, t.Context(), "", args...)
		if exitCode(err) != 0 || !strings.HasPrefix(out, "usage: precwatch "+args[0]+" ") {
			t.Errorf("precwatch %v: exit %d, output:\n%s", args, exitCode(err), out)
		}
	}
	if out, _, err := run(t, t.Context(), "", "help", "crawl"); exitCode(err) != 0 || !strings.Contains(out, "--site NAME") {
		t.Errorf("precwatch help crawl: exit %d, output:\n%s", exitCode(err), out)
	}
	// Usage errors still exit 2, with the command list on stderr.
	_, stderr, err := run(t, t.Context(), "", "frobnicate")
	if exitCode(err) != 2 || !strings.Contains(stderr, "watchlist suppress") {
		t.Errorf("unknown command: exit %d, stderr:\n%s", exitCode(err), stderr)
	}
	_, stderr, err = run(t, t.Context(), "", "crawl", "--bogus")
	if exitCode(err) != 2 || !strings.Contains(stderr, "usage: precwatch crawl") {
		t.Errorf("crawl --bogus: exit %d (%v), stderr:\n%s", exitCode(err), err, stderr)
	}
	if !errors.Is(flagHelpOf(t), flag.ErrHelp) {
		t.Error("help is not reported as flag.ErrHelp")
	}
}

func flagHelpOf(t *testing.T) error {
	_, _, err := run(t, t.Context(), "", "crawl", "-h")
	return err
}

// TestVersion: --version and version print the version, the Go version
// and, in a binary built from the repository, the source revision; the
// build's -ldflags version reaches the output and the build-info metric.
// TestCommonFlagsFirst: the flags every command takes may come before the
// command, as other tools take them; flags alone are no command.
func TestCommonFlagsFirst(t *testing.T) {
	config := writeConfig(t, []precwatch.Site{{Name: "s", StartURLs: []string{"http://s.test/"}}})
	for _, args := range [][]string{
		{"--config", config, "config", "check"},
		{"--config=" + config, "--log-level", "debug", "config", "check"},
		{"config", "check", "--config", config},
	} {
		if out, _, err := run(t, t.Context(), "", args...); err != nil || !strings.HasPrefix(out, "ok: ") {
			t.Errorf("%q: %v\n%s", args, err, out)
		}
	}
	if got := commandFirst([]string{"--store", "x.db", "listings", "--site", "s"}); strings.Join(got, " ") != "listings --store x.db --site s" {
		t.Errorf("commandFirst = %q", got)
	}
	if _, _, err := run(t, t.Context(), "", "--config", config); exitCode(err) != 2 || !strings.Contains(err.Error(), "no command given") {
		t.Errorf("flags alone: %v", err)
	}
	if _, _, err := run(t, t.Context(), "", "--bogus", "crawl"); exitCode(err) != 2 {
		t.Errorf("an unknown flag first: %v, want exit 2", err)
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "version"} {
		out, _, err := run(t, t.Context(), "", arg)
		if err != nil || !strings.HasPrefix(out, "precwatch "+version+"\n") || !strings.Contains(out, runtime.Version()) {
			t.Errorf("precwatch %s: %v\n%s", arg, err, out)
		}
	}
	text := scrape(t, newMetrics(func() []precwatch.Site { return nil }))
	if want := fmt.Sprintf(`precwatch_build_info{goversion=%q,version=%q} 1`, runtime.Version(), version); !hasSample(text, want) {
		t.Errorf("metrics lack %s:\n%s", want, grepLines(text, "build_info"))
	}

	// The real binary: the version given to the linker, and VCS stamping.
	bin := filepath.Join(t.TempDir(), "precwatch")
	build := exec.CommandContext(t.Context(), "go", "build", "-buildvcs=true", "-ldflags", "-X main.version=v9.8.7-test", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(t.Context(), bin, "--version").Output()
	if err != nil {
		t.Fatalf("precwatch --version: %v", err)
	}
	if !strings.HasPrefix(string(out), "precwatch v9.8.7-test\ngo: go") || !regexp.MustCompile(`(?m)^revision: [0-9a-f]{40}`).Match(out) {
		t.Errorf("built binary's --version:\n%s\nwant the -ldflags version, the Go version and the git revision", out)
	}
}

// TestAlertsAndListings crawls the fixture markets, then: `alerts` with a
// limit says how many more exist (table: a closing line; --json: stderr,
// stdout still a plain array); `listings` lists every fixture listing with
// its extracted fields and alert count.
func TestAlertsAndListings(t *testing.T) {
	markets := startMarkets(t)
	sites := markets.Sites()
	config := writeConfig(t, sites)
	dsn := filepath.Join(t.TempDir(), "s.db")
	crawlAll(t, config, dsn, sites)
	total := len(expectedAlerts())

	out, _, err := run(t, t.Context(), "", "alerts", "--limit", "2", "--config", config, "--store", dsn)
	if want := fmt.Sprintf("2 alert(s)\nshowing 2 of %d alerts; use --limit 0 for all\n", total); err != nil || !strings.HasSuffix(out, want) {
		t.Errorf("alerts --limit 2: %v\n%s\nwant it to end %q", err, out, want)
	}
	out, stderr, err := run(t, t.Context(), "", "alerts", "--json", "--limit", "3", "--config", config, "--store", dsn)
	var alerts []precwatch.Alert
	if err != nil || json.Unmarshal([]byte(out), &alerts) != nil || len(alerts) != 3 {
		t.Errorf("alerts --json --limit 3: %v, %d alerts in:\n%s", err, len(alerts), out)
	}
	if want := fmt.Sprintf("showing 3 of %d alerts; use --limit 0 for all\n", total); !strings.Contains(stderr, want) {
		t.Errorf("alerts --json --limit 3 stderr %q, want %q", stderr, want)
	}
	out, stderr, _ = run(t, t.Context(), "", "alerts", "--limit", "0", "--config", config, "--store", dsn)
	if strings.Contains(out+stderr, "showing") {
		t.Errorf("alerts --limit 0 says some are not shown:\n%s%s", out, stderr)
	}

	out, stderr, err = run(t, t.Context(), "", "listings", "--json", "--limit", "0", "--config", config, "--store", dsn)
	if err != nil {
		t.Fatalf("listings: %v\n%s", err, stderr)
	}
	var rows []listingRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("listings --json: %v\n%s", err, out)
	}
	got := map[string]listingRow{}
	for _, r := range rows {
		got[r.Site+"/"+r.Identity] = r
	}
	for _, l := range fixtures.Listings() {
		r, ok := got[l.Market+"/id:"+l.ID]
		if !ok {
			t.Errorf("listings lacks %s/%s", l.Market, l.ID)
			continue
		}
		wantAlerts := 0
		for _, e := range l.Expected {
			if e.OverLimit == nil || *e.OverLimit {
				wantAlerts++
			}
		}
		if (l.Description != "") != (r.Description != "") {
			t.Errorf("listing %s/%s: description %q in --json, want the one extracted from %q", l.Market, l.ID, r.Description, l.Description)
		}
		if r.Title != l.Title || r.Price != l.Price || r.Vendor != l.Vendor || r.Gone || r.FirstSeen.IsZero() || r.Alerts != wantAlerts {
			t.Errorf("listing %s/%s = %+v\nwant title %q, price %v, vendor %q, %d alert(s)", l.Market, l.ID, r, l.Title, l.Price, l.Vendor, wantAlerts)
		}
	}
	if len(rows) != len(fixtures.Listings()) {
		t.Errorf("listings shows %d, want the %d fixture listings", len(rows), len(fixtures.Listings()))
	}

	site := sites[0].Name
	out, _, err = run(t, t.Context(), "", "listings", "--site", site, "--limit", "1", "--config", config, "--store", dsn)
	n := 0
	for _, l := range fixtures.Listings() {
		if l.Market == site {
			n++
		}
	}
	if want := fmt.Sprintf("1 listing(s)\nshowing 1 of %d listings; use --limit 0 for all\n", n); err != nil || !strings.HasSuffix(out, want) || !strings.Contains(out, "SITE  ") {
		t.Errorf("listings --site %s --limit 1: %v\n%s\nwant a table ending %q", site, err, out, want)
	}
	for line := range strings.Lines(out) {
		if f := strings.Fields(line); len(f) > 0 && f[0] != "SITE" && f[0] != site && !strings.HasPrefix(line, "1 listing") && !strings.HasPrefix(line, "showing") {
			t.Errorf("listings --site %s shows another site's row: %q", site, line)
		}
	}
}

func TestHelpNeedsNoConfig(t *testing.T) {
	// Help needs no config: it works where none exists.
	dir := t.TempDir()
	t.Chdir(dir)
	if _, _, err := run(t, t.Context(), "", "listings", "-h"); exitCode(err) != 0 {
		t.Errorf("listings -h without a config: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("help created %v", entries)
	}
}

// TestReadCommandsNeedTheirStore: commands that read what crawls stored,
// run where the config's relative store path names no file (another
// working directory than the crawls'), fail naming the path and where it
// was looked for, and make no store; commands that set a store up (user
// add) still make it.
func TestReadCommandsNeedTheirStore(t *testing.T) {
	dir := t.TempDir()
	config := writeFile(t, dir, "c.yaml", "store: var/probe.db\n"+siteConfig(t, "", ""))
	wl := watchlistPath(t)
	elsewhere := t.TempDir()
	t.Chdir(elsewhere)
	want := filepath.Join(elsewhere, "var", "probe.db")
	for _, args := range [][]string{
		{"listings"}, {"runs"}, {"alerts"}, {"alerts", "--json"}, {"export", "--format", "misp"},
		{"prune", "--older-than", "90d"}, {"watchlist", "test", wl}, {"backup", "--out", filepath.Join(dir, "b.db")},
	} {
		out, stderr, err := run(t, t.Context(), "", append(args, "--config", config)...)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "relative store path is to the working directory") {
			t.Errorf("%s: %v, want an error naming %s\n%s%s", strings.Join(args, " "), err, want, out, stderr)
		}
		if _, err := os.Stat(filepath.Join(elsewhere, "var")); err == nil {
			t.Fatalf("%s made a store in %s", strings.Join(args, " "), elsewhere)
		}
	}
	if _, stderr, err := run(t, t.Context(), "", "user", "add", "--name", "ann", "--role", "admin", "--config", config); err != nil {
		t.Fatalf("user add: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(want); err != nil {
		t.Fatalf("user add made no store: %v", err)
	}
	// Now that it exists, the read commands read it.
	if out, stderr, err := run(t, t.Context(), "", "listings", "--config", config); err != nil || !strings.Contains(out, "0 listing(s)") {
		t.Errorf("listings of the new store: %v\n%s%s", err, out, stderr)
	}
}

// TestPrintableError: crawl's run errors keep their end, where a wrapped
// error names its cause, when cut to fit a line.
func TestPrintableError(t *testing.T) {
	onion := "http://" + strings.Repeat("z", 56) + ".onion/c/chemicals"
	e := `crawler: fetch ` + onion + `: Get "` + onion + `": socks connect tcp 127.0.0.1:19151->` + strings.Repeat("z", 56) +
		".onion:80: no acceptable authentication methods (the proxy wants credentials: put its username and password in the proxy URL)\x1b[2J"
	got := printableError(e, 400)
	if n := len([]rune(got)); n != 400 {
		t.Errorf("%d runes, want 400", n)
	}
	for _, want := range []string{"crawler: fetch http://zzz", "…", "put its username and password in the proxy URL) [2J"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q does not hold %q", got, want)
		}
	}
	if short := "crawler: proxy socks5://127.0.0.1:9050 unreachable"; printableError(short, 400) != short {
		t.Errorf("a short error changed: %q", printableError(short, 400))
	}
}
