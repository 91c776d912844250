package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/precwatch/precwatch/storage/redis/redistest"
)

// siteConfig is a good config of two sites, the second written in flow
// style; first adds lines to the first site (block style) and second adds
// ", key: value" pairs to the second.
func siteConfig(t *testing.T, first, second string) string {
	return "watchlist: " + watchlistPath(t) + "\n" +
		"sites:\n" +
		"  - name: a\n" +
		"    start_urls: [http://a.example/]\n" +
		"    schedule: \"@every 1h\"\n" +
		first +
		"  - {name: b, start_urls: [http://b.example/], schedule: \"@every 1h\"" + second + "}\n"
}

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// configCheck runs `config check` and returns everything it printed and
// its error's text.
func configCheck(t *testing.T, config string) (string, error) {
	t.Helper()
	path := writeFile(t, t.TempDir(), "c.yaml", config)
	out, stderr, err := run(t, t.Context(), "", "config", "check", "--config", path)
	all := out + stderr
	if err != nil {
		all += strings.TrimPrefix(err.Error(), path)
	}
	return all, err
}

// TestConfigMissingWatchlist: a watchlist file that is not there is named
// at the config's line, with where relative paths lead.
func TestConfigMissingWatchlist(t *testing.T) {
	out, err := configCheck(t, "# a config\nwatchlist: watchlist.yaml\nsites:\n  - {name: s, start_urls: [\"http://s.test/\"]}\n")
	if err == nil || !strings.Contains(out, ":2:1: watchlist: no file ") || !strings.Contains(out, "relative path is to the config's directory") {
		t.Errorf("config check: %v\n%s", err, out)
	}
}

// TestConfigBadValuesNameTheirField: a bad or negative value is blamed on
// its own field, at its line and column, in block and in flow style. In a
// flow mapping yaml.v3 alone blamed `limits: {max_pages: "many", ...}` on
// limits.retries, the last field of the line.
func TestConfigBadValuesNameTheirField(t *testing.T) {
	for name, tc := range map[string]struct{ first, second, want string }{
		"flow type error": {
			first: "    limits: {max_pages: \"many\", max_depth: 3, retries: 2}\n",
			want:  `:6:25: sites[0].limits.max_pages: want an integer, got the string "many"`},
		"block type error": {
			first: "    limits:\n      max_pages: 3\n      max_depth: three\n      retries: 2\n",
			want:  `:8:18: sites[0].limits.max_depth: want an integer, got "three"`},
		"flow in a flow site": {
			second: ", limits: {max_depth: 3, request_timeout: soon, retries: 2}",
			want:   `:6:111: sites[1].limits.request_timeout: want a duration such as 30s or 5m, got "soon"`},
		"flow negative": {
			second: ", limits: {max_depth: 3, max_pages: -3}",
			want:   `:6:94: sites[1].limits.max_pages: must be >= 0, got -3`},
		"block negative": {
			first: "    limits:\n      max_pages: 3\n      retries: -1\n",
			want:  `:8:7: sites[0].limits.retries: must be >= 0, got -1`},
		"negative body cap": {
			first: "    limits: {max_body_bytes: -1, max_pages: 3}\n",
			want:  `:6:14: sites[0].limits.max_body_bytes: must be >= 0, got -1`},
		"negative duration": {
			first: "    limits: {max_pages: 3, run_timeout: -5m}\n",
			want:  `:6:28: sites[0].limits.run_timeout: must be >= 0, got -5m0s`},
		"negative delay": {
			first: "    politeness: {parallelism: 1, delay: -2s}\n",
			want:  `:6:34: sites[0].politeness.delay: must be >= 0, got -2s`},
		"negative parallelism": {
			second: ", politeness: {parallelism: -2}",
			want:   `:6:84: sites[1].politeness.parallelism: must be >= 0, got -2`},
		"quoted yes is no boolean": {
			first: "    tor: \"yes\"\n",
			want:  `:6:10: sites[0].tor: want true or false, got the string "yes"`},
		"bad vendor page selector": { // vendor profiles (issue 11)
			first: "    extract: {listing: div.card, title: h2, vendor_url: \"a.v @href\", vendor_page: \"div[\"}\n",
			want:  `:6:70: sites[0].extract.vendor_page: bad selector "div["`},
		"bad JSON path": { // mode json: listings in a script's JSON state
			first: "    extract: {mode: json, listing: \"props..products\", title: name}\n",
			want:  `:6:27: sites[0].extract.listing: JSON path "props..products": empty key`},
		"bad host": {
			first: "    hosts: [shop-eu.onion, \"http://shop-eu.onion/listings\"]\n",
			want:  `:6:28: sites[0].hosts[1]: want a host name or an http(s) origin, got "http://shop-eu.onion/listings"`},
		"plain yes is no boolean": {
			second: ", tor: yes",
			want:   `:6:76: sites[1].tor: want true or false, got "yes"`},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := configCheck(t, siteConfig(t, tc.first, tc.second))
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("config check: %v\n%s\nwant it to contain %q", err, out, tc.want)
			}
		})
	}
	// Each bad value of one line is its own error.
	out, err := configCheck(t, siteConfig(t, "    limits: {max_pages: -3, max_depth: -4}\n", ""))
	if err == nil || !strings.Contains(out, "sites[0].limits.max_pages: must be >= 0, got -3") || !strings.Contains(out, "sites[0].limits.max_depth: must be >= 0, got -4") {
		t.Errorf("two negative limits: %s", out)
	}
	// A site without a schedule is crawled on demand only: valid.
	noSchedule := strings.Replace(siteConfig(t, "", ""), "    schedule: \"@every 1h\"\n", "", 1)
	if noSchedule == siteConfig(t, "", "") {
		t.Fatal("the test config has no schedule line to remove")
	}
	if out, err := configCheck(t, noSchedule); err != nil {
		t.Errorf("no schedule: %v\n%s", err, out)
	}
	// tor: true is still a boolean.
	if out, err := configCheck(t, siteConfig(t, "    tor: true\n", ", tor: false")); err != nil {
		t.Errorf("tor: true: %v\n%s", err, out)
	}
}

// TestConfigEveryNegativeNumberNamed: each negative number of a site is
// its own error at its own field.
func TestConfigEveryNegativeNumberNamed(t *testing.T) {
	out, err := configCheck(t, siteConfig(t,
		"    politeness: {parallelism: -1, delay: -1s, random_delay: -2s, max_delay: -3s}\n"+
			"    limits:\n      max_pages: -1\n      max_depth: -2\n      max_body_bytes: -3\n"+
			"      request_timeout: -4s\n      run_timeout: -5s\n      retries: -6\n", ""))
	if err == nil {
		t.Fatal("negative numbers accepted")
	}
	for _, want := range []string{
		":6:18: sites[0].politeness.parallelism: must be >= 0, got -1",
		":6:35: sites[0].politeness.delay: must be >= 0, got -1s",
		":6:47: sites[0].politeness.random_delay: must be >= 0, got -2s",
		":6:66: sites[0].politeness.max_delay: must be >= 0, got -3s",
		":8:7: sites[0].limits.max_pages: must be >= 0, got -1",
		":9:7: sites[0].limits.max_depth: must be >= 0, got -2",
		":10:7: sites[0].limits.max_body_bytes: must be >= 0, got -3",
		":11:7: sites[0].limits.request_timeout: must be >= 0, got -4s",
		":12:7: sites[0].limits.run_timeout: must be >= 0, got -5s",
		":13:7: sites[0].limits.retries: must be >= 0, got -6",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("config check lacks %q:\n%s", want, out)
		}
	}
}

func TestConfigValuesFromEnvironmentAndFiles(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PRECWATCH_TEST_PROXY_PW", "D3adS3cret")
	t.Setenv("PRECWATCH_TEST_PAGES", "40")
	writeFile(t, dir, "store.secret", "redis://:R3disPw@127.0.0.1:6379/0\n")
	writeFile(t, dir, "proxy.secret", "socks5://carol:F1leS3cret@127.0.0.1:9050\n")
	config := siteConfig(t,
		"    proxy: \"socks5://bob:${PRECWATCH_TEST_PROXY_PW}@127.0.0.1:3128\"\n"+
			"    limits: {max_pages: \"${PRECWATCH_TEST_PAGES}\", max_depth: 2}\n"+
			"    politeness: {user_agent: \"costs $$5 ${PRECWATCH_TEST_PAGES}\"}\n",
		", proxy_file: proxy.secret") + "store_file: store.secret\n"
	cfg, err := ParseConfig(writeFile(t, dir, "c.yaml", config), []byte(config))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := cfg.Site("a")
	b, _ := cfg.Site("b")
	for _, c := range []struct{ got, want any }{
		{a.Proxy, "socks5://bob:D3adS3cret@127.0.0.1:3128"},
		{a.Limits.MaxPages, 40},
		{a.Politeness.UserAgent, "costs $5 40"},
		{b.Proxy, "socks5://carol:F1leS3cret@127.0.0.1:9050"},
		{cfg.Store, "redis://:R3disPw@127.0.0.1:6379/0"},
	} {
		if c.got != c.want {
			t.Errorf("got %v, want %v", c.got, c.want)
		}
	}

	for name, tc := range map[string]struct{ first, second, want string }{
		"unset variable": {
			first: "    proxy: \"socks5://${PRECWATCH_TEST_UNSET}@127.0.0.1:9050\"\n",
			want:  ":6:12: sites[0].proxy: environment variable PRECWATCH_TEST_UNSET is not set"},
		"missing file": {
			second: ", proxy_file: /nonexistent/proxy",
			want:   `:6:83: sites[1].proxy_file: cannot read the file "/nonexistent/proxy": no such file or directory`},
		"value and file": {
			first: "    proxy: socks5://127.0.0.1:9050\n    proxy_file: /nonexistent/proxy\n",
			want:  `sites[0].proxy_file: cannot read the file "/nonexistent/proxy"`},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := configCheck(t, siteConfig(t, tc.first, tc.second))
			if err == nil || !strings.Contains(out, tc.want) {
				t.Errorf("config check: %v\n%s\nwant it to contain %q", err, out, tc.want)
			}
		})
	}
}

// TestConfigSecretsNeverPrinted plants a proxy password in bad configs,
// written out, through a variable and through a file, and greps for it
// everything `config check` prints and the daemon's reload rejection and
// store warning.
func TestConfigSecretsNeverPrinted(t *testing.T) {
	const secret = "D3adS3cret"
	t.Setenv("PRECWATCH_TEST_PW", secret)
	dir := t.TempDir()
	writeFile(t, dir, "proxy.secret", "http://bob:"+secret+"@127.0.0.1:3128\n")
	writeFile(t, dir, "pw.secret", secret+"\n")
	for name, tc := range map[string]struct{ first, second, want string }{
		"written out": {
			first: "    proxy: http://bob:" + secret + "@127.0.0.1:3128\n",
			want:  `sites[0].proxy: want a socks5://host:port URL, got "http://bob:xxxxx@127.0.0.1:3128"`},
		"unparseable": {
			first: "    proxy: \"socks5://bob:" + secret + "@127.0.0.1:x\"\n",
			want:  `sites[0].proxy: want a socks5://host:port URL, got "socks5://bob:xxxxx@127.0.0.1:x"`},
		"from a variable": {
			second: ", proxy: \"http://bob:${PRECWATCH_TEST_PW}@127.0.0.1:3128\"",
			want:   `sites[1].proxy: want a socks5://host:port URL, got "http://bob:xxxxx@127.0.0.1:3128"`},
		"from a file": { // all of a file is secret
			second: ", proxy_file: " + filepath.Join(dir, "proxy.secret"),
			want:   `sites[1].proxy: want a socks5://host:port URL, got "xxxxx"`},
		"bare secret in a start URL": {
			first: "    start_urls_file: " + filepath.Join(dir, "pw.secret") + "\n",
			want:  `sites[0].start_urls_file: unknown field`},
		"bare secret from a variable in a bad value": {
			first: "    schedule: \"@every ${PRECWATCH_TEST_PW}\"\n",
			want:  `sites[0].schedule: bad cron spec "@every xxxxx"`},
		"bare secret from a file in a bad value": {
			first: "    schedule_file: " + filepath.Join(dir, "pw.secret") + "\n",
			want:  `sites[0].schedule: bad cron spec "xxxxx"`},
	} {
		t.Run(name, func(t *testing.T) {
			config := siteConfig(t, tc.first, tc.second)
			if strings.Contains(tc.first, "schedule") {
				config = strings.Replace(config, "    schedule: \"@every 1h\"\n", "", 1)
			}
			out, err := configCheck(t, config)
			if err == nil {
				t.Fatalf("config check accepted:\n%s", config)
			}
			if strings.Contains(out, secret) {
				t.Errorf("config check printed the secret:\n%s", out)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("config check printed\n%s\nwant it to contain %q", out, tc.want)
			}
		})
	}

	// The daemon: a reload with a bad proxy, then a store change.
	path := filepath.Join(dir, "precwatch.yaml")
	writeFile(t, dir, "precwatch.yaml", siteConfig(t, "", ""))
	_, logs, waitFor := startDaemonInProcess(t, "run", "--config", path, "--store", filepath.Join(dir, "s.db"), "--reload-interval", "20ms", "--addr", "")
	waitFor("precwatch running")
	time.Sleep(30 * time.Millisecond) // a new mtime
	writeFile(t, dir, "precwatch.yaml", siteConfig(t, "    proxy: \"http://bob:${PRECWATCH_TEST_PW}@127.0.0.1:3128\"\n", ""))
	waitFor("reload rejected")
	time.Sleep(30 * time.Millisecond)
	writeFile(t, dir, "precwatch.yaml", siteConfig(t, "", "")+"store: \"redis://:${PRECWATCH_TEST_PW}@127.0.0.1:6379/0\"\n")
	waitFor("store changes take effect at restart")
	log := logs.String()
	if strings.Contains(log, secret) {
		t.Errorf("the daemon logged the secret:\n%s", log)
	}
	for _, want := range []string{"http://bob:xxxxx@127.0.0.1:3128", "redis://:xxxxx@127.0.0.1:6379/0"} {
		if !strings.Contains(log, want) {
			t.Errorf("the daemon's log lacks %q:\n%s", want, log)
		}
	}
}

// TestStoreFromEnvironment: the store's URL, password included, may come
// from $PRECWATCH_STORE or a store_file, so it need not be on the command
// line; a real redis-server asks for the password.
func TestStoreFromEnvironment(t *testing.T) {
	const pw = "R3disS3cret"
	dsn := redistest.Start(t)
	opts, err := goredis.ParseURL(dsn)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(opts)
	if err := c.ConfigSet(t.Context(), "requirepass", pw).Err(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	withPW := strings.Replace(dsn, "redis://", "redis://:"+pw+"@", 1)
	wrongPW := strings.Replace(dsn, "redis://", "redis://:Wr0ngS3cret@", 1)

	// No config file at all: the store comes from the environment alone.
	noConfig := filepath.Join(t.TempDir(), "absent.yaml")
	t.Setenv(storeEnv, withPW)
	if out, stderr, err := run(t, t.Context(), "", "alerts", "--json", "--config", noConfig); err != nil || !strings.HasPrefix(out, "[") {
		t.Errorf("alerts with $%s: %v\n%s%s", storeEnv, err, out, stderr)
	}
	t.Setenv(storeEnv, wrongPW)
	_, stderr, err := run(t, t.Context(), "", "alerts", "--config", noConfig)
	if err == nil {
		t.Fatal("a wrong password opened the store")
	}
	if strings.Contains(err.Error()+stderr, "Wr0ngS3cret") {
		t.Errorf("the error shows the password: %v\n%s", err, stderr)
	}
	// --store wins over the environment.
	if _, _, err := run(t, t.Context(), "", "alerts", "--config", noConfig, "--store", withPW); err != nil {
		t.Errorf("--store over $%s: %v", storeEnv, err)
	}

	// From a file named by the config.
	t.Setenv(storeEnv, "")
	dir := t.TempDir()
	writeFile(t, dir, "store.secret", withPW+"\n")
	config := writeFile(t, dir, "c.yaml", siteConfig(t, "", "")+"store_file: store.secret\n")
	if out, stderr, err := run(t, t.Context(), "", "alerts", "--json", "--config", config); err != nil || !strings.HasPrefix(out, "[") {
		t.Errorf("alerts with store_file: %v\n%s%s", err, out, stderr)
	}
}

// TestConfigErrorsOnePerLine: a failed command prints a config's problems
// one per line, FILE:LINE:COLUMN: FIELD: MESSAGE each, as the README shows.
func TestConfigErrorsOnePerLine(t *testing.T) {
	path := writeFile(t, t.TempDir(), "c.yaml", siteConfig(t, "    limits: {max_pages: -1, max_depth: -2}\n", ", limits: {retries: -3}"))
	_, _, err := run(t, t.Context(), "", "config", "check", "--config", path)
	if err == nil {
		t.Fatal("config check accepted the config")
	}
	var b strings.Builder
	printError(&b, err)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), b.String())
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "precwatch: "+path+":") || !strings.Contains(l, "must be >= 0") || strings.Contains(l, "; ") {
			t.Errorf("line %q is not one problem of %s", l, path)
		}
	}
	b.Reset()
	printError(&b, fmt.Errorf("reload: %w", err))
	if strings.Count(b.String(), "\n") != 1 || !strings.HasPrefix(b.String(), "precwatch: reload: ") {
		t.Errorf("a wrapped error lost its context: %q", b.String())
	}
}

// TestConfigCharset: a site's charset is a charset label, checked at its
// line; a good one passes.
func TestConfigCharset(t *testing.T) {
	bad := writeFile(t, t.TempDir(), "c.yaml", siteConfig(t, "    charset: koi-8\n", ", charset: iso-8859-2"))
	_, _, err := run(t, t.Context(), "", "config", "check", "--config", bad)
	if err == nil || !strings.Contains(err.Error(), ":6:5: sites[0].charset: charset \"koi-8\": not a charset label") ||
		strings.Contains(err.Error(), "sites[1]") {
		t.Errorf("config check: %v, want sites[0].charset's line only", err)
	}
	good := writeFile(t, t.TempDir(), "c.yaml", siteConfig(t, "    charset: koi8-r\n", ", charset: gbk"))
	if _, _, err := run(t, t.Context(), "", "config", "check", "--config", good); err != nil {
		t.Errorf("config check: %v", err)
	}
}

// TestConfigHeaders: a site's request headers are checked at the
// offending header's line; headers the crawler manages are refused with
// what to do instead, and good ones pass.
func TestConfigHeaders(t *testing.T) {
	bad := writeFile(t, t.TempDir(), "c.yaml", siteConfig(t,
		"    politeness:\n      headers:\n        Accept-Language: pl\n        Cookie: sid=1\n",
		", politeness: {headers: {\"Bad Name\": x}}"))
	_, _, err := run(t, t.Context(), "", "config", "check", "--config", bad)
	for _, want := range []string{
		`:9:9: sites[0].politeness.headers.Cookie: header "Cookie" is the crawler's own: cookies come from the site's session`,
		`sites[1].politeness.headers.Bad Name: header "Bad Name": not a valid header name`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("config check: %v, want %q", err, want)
		}
	}
	good := writeFile(t, t.TempDir(), "c.yaml", siteConfig(t,
		"    politeness:\n      headers: {Accept-Language: pl, Apollo-Require-Preflight: \"true\"}\n", ""))
	if _, _, err := run(t, t.Context(), "", "config", "check", "--config", good); err != nil {
		t.Errorf("config check: %v", err)
	}
}
