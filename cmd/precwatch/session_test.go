package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// cookieShop is a shop that records the Cookie header of each request.
type cookieShop struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []string
}

func newCookieShop(t *testing.T) *cookieShop {
	s := &cookieShop{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.got = append(s.got, r.Header.Get("Cookie"))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/captcha" {
			fmt.Fprint(w, `<html><body><form method="post"><img src="/captcha.png"><input name="captcha"></form></body></html>`)
			return
		}
		fmt.Fprint(w, `<html><body><div class="l"><span class="id">C1</span><h2>Acetone 99% 5 L</h2></div></body></html>`)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *cookieShop) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.got) == 0 {
		return ""
	}
	return s.got[len(s.got)-1]
}

// TestSessionImport: both import formats parse, are kept in the store, sent
// by the crawler (checked at the server), and never printed.
func TestSessionImport(t *testing.T) {
	shop := newCookieShop(t)
	host := strings.TrimPrefix(shop.srv.URL, "http://")
	hostname := strings.Split(host, ":")[0]
	cfg := writeConfig(t, []precwatch.Site{{Name: "shop", StartURLs: []string{shop.srv.URL + "/"}, Schedule: "@every 1h",
		Extract: precwatch.Extraction{Listing: "div.l", ID: "span.id", Title: "h2"}}})
	store := filepath.Join(t.TempDir(), "store.db")
	ctx := t.Context()
	cli := func(stdin string, args ...string) (string, error) {
		t.Helper()
		out, stderr, err := run(t, ctx, stdin, append(args, "--config", cfg, "--store", store)...)
		for _, secret := range []string{"hdr-s3cret", "txt-s3cret", "other-s3cret"} {
			if strings.Contains(out+stderr, secret) || (err != nil && strings.Contains(err.Error(), secret)) {
				t.Errorf("precwatch %s shows a cookie value:\n%s\n%s\n%v", args[0], out, stderr, err)
			}
		}
		return out, err
	}

	// A Cookie header copied from Tor Browser, on stdin.
	out, err := cli("Cookie: sid=hdr-s3cret; theme=dark\n", "session", "import", "--site", "shop", "--cookie-header", "-")
	if err != nil {
		t.Fatalf("import header: %v", err)
	}
	if !strings.Contains(out, "imported 2 cookie(s)") || !strings.Contains(out, "sid") || !strings.Contains(out, "theme") {
		t.Errorf("import output: %s", out)
	}
	if _, err := cli("", "crawl", "--site", "shop"); err != nil {
		t.Fatalf("crawl: %v", err)
	}
	if got := shop.last(); !strings.Contains(got, "sid=hdr-s3cret") || !strings.Contains(got, "theme=dark") {
		t.Errorf("the shop got Cookie %q, want the imported header's cookies", got)
	}

	// A cookies.txt export: other sites' cookies are left out, expired
	// ones dropped, #HttpOnly_ understood.
	exp := time.Now().Add(48 * time.Hour).Unix()
	txt := fmt.Sprintf("# Netscape HTTP Cookie File\n\n#HttpOnly_%s\tFALSE\t/\tFALSE\t%d\tsession\ttxt-s3cret\n"+
		".othermarket.onion\tTRUE\t/\tFALSE\t%d\tsid\tother-s3cret\n%s\tFALSE\t/\tFALSE\t1000\told\tgone\n", hostname, exp, exp, hostname)
	file := filepath.Join(t.TempDir(), "cookies.txt")
	if err := os.WriteFile(file, []byte(txt), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = cli("", "session", "import", "--site", "shop", "--cookies-file", file)
	if err != nil {
		t.Fatalf("import cookies.txt: %v", err)
	}
	if !strings.Contains(out, "imported 1 cookie(s)") || !strings.Contains(out, "1 for other sites left out") {
		t.Errorf("import output: %s", out)
	}
	if _, err := cli("", "crawl", "--site", "shop"); err != nil {
		t.Fatalf("crawl: %v", err)
	}
	if got := shop.last(); got != "session=txt-s3cret" {
		t.Errorf("the shop got Cookie %q, want only the cookies.txt one (the import replaces)", got)
	}
	out, err = cli("", "session", "show", "--site", "shop")
	if err != nil || !strings.Contains(out, "session") || !strings.Contains(out, hostname) {
		t.Errorf("show: %v\n%s", err, out)
	}

	// Parse errors name the line and never the value.
	bad := filepath.Join(t.TempDir(), "bad.txt")
	os.WriteFile(bad, []byte(fmt.Sprintf("# x\n%s\tFALSE\t/\tFALSE\t%d\tok\tv\n%s\tMAYBE\t/\tFALSE\t0\tsid\ttxt-s3cret\n", hostname, exp, hostname)), 0o600)
	if _, err := cli("", "session", "import", "--site", "shop", "--cookies-file", bad); err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("bad cookies.txt: err %v, want one naming line 3", err)
	}
	if _, err := cli("a=1; hdr-s3cret\n", "session", "import", "--site", "shop", "--cookie-header", "-"); err == nil || !strings.Contains(err.Error(), "line 1: cookie 2") {
		t.Errorf("bad header: err %v, want one naming line 1, cookie 2", err)
	}
	// Values never come from the command line.
	if _, err := cli("", "session", "import", "--site", "shop", "--cookie-header"); err == nil {
		t.Error("--cookie-header without a file accepted")
	}

	if _, err := cli("", "session", "clear", "--site", "shop"); err != nil {
		t.Fatal(err)
	}
	if out, _ := cli("", "session", "show", "--site", "shop"); !strings.Contains(out, "no session") {
		t.Errorf("after clear: %s", out)
	}
	if _, err := cli("", "crawl", "--site", "shop"); err != nil {
		t.Fatal(err)
	}
	if got := shop.last(); got != "" {
		t.Errorf("after clear the shop got Cookie %q", got)
	}
}

// TestCrawlBlocked: `precwatch crawl` of a captcha page fails naming the
// status, the class and the evidence page.
func TestCrawlBlocked(t *testing.T) {
	shop := newCookieShop(t)
	cfg := writeConfig(t, []precwatch.Site{{Name: "shop", StartURLs: []string{shop.srv.URL + "/captcha"}, Schedule: "@every 1h",
		Extract: precwatch.Extraction{Listing: "div.l", ID: "span.id", Title: "h2"}}})
	out, _, err := run(t, t.Context(), "", "crawl", "--site", "shop", "--config", cfg, "--store", filepath.Join(t.TempDir(), "s.db"))
	if err == nil || !strings.Contains(err.Error(), "blocked") {
		t.Errorf("crawl err = %v, want a blocked run", err)
	}
	if !strings.Contains(out, "status=blocked") || !strings.Contains(out, "stopped by a captcha page") || !strings.Contains(out, "evidence page ") {
		t.Errorf("crawl output:\n%s", out)
	}
}

// TestCrawlNoListingFails: `precwatch crawl` of a site whose rules read no
// listing exits non-zero, naming it; the same site with right rules and no
// schedule (crawled on demand) exits 0.
func TestCrawlNoListingFails(t *testing.T) {
	shop := newCookieShop(t)
	store := filepath.Join(t.TempDir(), "s.db")
	wrong := writeConfig(t, []precwatch.Site{{Name: "shop", StartURLs: []string{shop.srv.URL + "/"}, Schedule: "@every 1h",
		Extract: precwatch.Extraction{Listing: "div.listing", ID: "span.id", Title: "h2"}}})
	out, _, err := run(t, t.Context(), "", "crawl", "--site", "shop", "--config", wrong, "--store", store)
	if err == nil || !strings.Contains(err.Error(), "read no listing") {
		t.Errorf("crawl with rules that match nothing: err = %v, want read no listing", err)
	}
	if !strings.Contains(out, "status=partial") || !strings.Contains(out, "listings=0") {
		t.Errorf("crawl output:\n%s", out)
	}
	right := writeConfig(t, []precwatch.Site{{Name: "shop", StartURLs: []string{shop.srv.URL + "/"},
		Extract: precwatch.Extraction{Listing: "div.l", ID: "span.id", Title: "h2"}}})
	if out, _, err := run(t, t.Context(), "", "crawl", "--site", "shop", "--config", right, "--store", store); err != nil || !strings.Contains(out, "status=ok") {
		t.Errorf("crawl of an on-demand site with right rules: %v\n%s", err, out)
	}
}

// TestLoginConfig: an inline password is refused naming its line and
// field; credentials must come from one place.
func TestLoginConfig(t *testing.T) {
	base := `watchlist: ` + watchlistPath(t) + `
sites:
  - name: m
    start_urls: ["http://example.onion/"]
    schedule: "@every 1h"
    login:
      url: http://example.onion/login
`
	for name, tc := range map[string]struct{ login, want string }{
		"inline password": {"      username: agent\n      password: hunter2hunter2\n", "sites[0].login.password: a password is never written in the config"},
		"no password":     {"      username: agent\n", "give exactly one of password_env or password_file"},
		"two usernames":   {"      username: agent\n      username_env: U\n      password_file: /p\n", "exactly one of username, username_env or username_file"},
		"bad success":     {"      username: agent\n      password_env: P\n      success: \"a[\"\n", "login.success: bad CSS selector"},
		"off-site url":    {"      username: agent\n      password_env: P\n", ""},
	} {
		t.Run(name, func(t *testing.T) {
			data := base + tc.login
			if name == "off-site url" {
				data = strings.Replace(data, "http://example.onion/login", "http://elsewhere.onion/login", 1)
				tc.want = "login.url: want an absolute http(s) URL on one of the site's hosts (start URLs and mirrors)"
			}
			_, err := ParseConfig("test.yaml", []byte(data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats the password: %v", err)
			}
			if name == "inline password" && !strings.Contains(err.Error(), "test.yaml:9") {
				t.Errorf("err = %v, want it to name test.yaml:9", err)
			}
		})
	}
	ok := base + "      username_env: MARKET_USER\n      password_file: /run/secrets/market\n      success: a.logout\n    page_classes:\n      logged_out: [form#login]\n      captcha: [div.cap]\n"
	if _, err := ParseConfig("test.yaml", []byte(ok)); err != nil {
		t.Errorf("good login config: %v", err)
	}
}
