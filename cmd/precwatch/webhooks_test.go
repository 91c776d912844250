package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/webhook"
)

// Delivery (issue 11): webhook destinations in the config file.

func TestConfigWebhooks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "soc.secret", "s3cr3t-soc-0123456789\n")
	t.Setenv("PW_TEST_CHAT_URL", "https://chat.example/hooks/abcdefSECRET")
	t.Setenv("PW_TEST_SECRET", "env-secret-0123456789")
	good := siteConfig(t, "", "") + `webhooks:
  - name: soc
    url: https://soc.example/precwatch
    secret_file: soc.secret
    min_severity: high
    sites: [a]
    regimes: [cwc-schedule-2]
    events: [raised, changed]
    timeout: 5s
  - name: chat
    shape: slack
    url: ${PW_TEST_CHAT_URL}
    console_url: https://precwatch.example/
  - name: siem
    url: http://127.0.0.1:9000/in
    secret_env: PW_TEST_SECRET
    from_start: true
`
	cfg, err := ParseConfig(filepath.Join(dir, "c.yaml"), []byte(good))
	if err != nil {
		t.Fatalf("good config: %v", err)
	}
	soc := cfg.Webhooks[0].dest
	if string(soc.Secret) != "s3cr3t-soc-0123456789" || soc.Filter.MinSeverity != precwatch.SeverityHigh || soc.Timeout != 5*time.Second ||
		len(soc.Filter.Regimes) != 1 || soc.Filter.Sites[0] != "a" || len(soc.Filter.Events) != 2 {
		t.Errorf("soc = %+v", soc)
	}
	if chat := cfg.Webhooks[1].dest; chat.Shape != webhook.ShapeSlack || chat.URL != "https://chat.example/hooks/abcdefSECRET" || chat.ConsoleURL == "" {
		t.Errorf("chat = %+v", chat)
	}
	if siem := cfg.Webhooks[2].dest; string(siem.Secret) != "env-secret-0123456789" || !siem.FromStart {
		t.Errorf("siem = %+v", siem)
	}

	for name, tc := range map[string]struct{ hooks, want string }{
		"no secret": {"  - {name: x, url: https://x.example/}\n",
			`:8:5: webhooks[0].secret: a secret of at least 16 bytes is required`},
		"short secret": {"  - {name: x, url: https://x.example/, secret_file: short.secret}\n",
			`:8:40: webhooks[0].secret: a secret of at least 16 bytes is required`},
		"unset env": {"  - {name: x, url: https://x.example/, secret_env: PW_TEST_UNSET}\n",
			`:8:40: webhooks[0].secret_env: the variable PW_TEST_UNSET is not set`},
		"missing file": {"  - {name: x, url: https://x.example/, secret_file: nope}\n",
			`:8:53: webhooks[0].secret_file: cannot read the file`},
		"bad url": {"  - name: x\n    url: /relative\n    secret_env: PW_TEST_SECRET\n",
			`:9:5: webhooks[0].url: want an absolute http(s) URL`},
		"bad shape": {"  - {name: x, url: https://x.example/, shape: teams, secret_env: PW_TEST_SECRET}\n",
			`:8:40: webhooks[0].shape: unknown shape "teams"`},
		"bad severity": {"  - {name: x, url: https://x.example/, min_severity: dire, secret_env: PW_TEST_SECRET}\n",
			`:8:40: webhooks[0].min_severity: unknown severity "dire"`},
		"bad regime": {"  - {name: x, url: https://x.example/, regimes: [cwc-schedule-2, annex-x], secret_env: PW_TEST_SECRET}\n",
			`:8:66: webhooks[0].regimes[1]: unknown regime "annex-x"`},
		"bad event": {"  - {name: x, url: https://x.example/, events: [raised, deleted], secret_env: PW_TEST_SECRET}\n",
			`:8:57: webhooks[0].events[1]: unknown event "deleted"`},
		"unknown site": {"  - {name: x, url: https://x.example/, sites: [zz], secret_env: PW_TEST_SECRET}\n",
			`:8:48: webhooks[0].sites[0]: no site "zz" in this config`},
		"duplicate": {"  - {name: x, url: https://x.example/, secret_env: PW_TEST_SECRET}\n  - {name: x, url: https://y.example/, secret_env: PW_TEST_SECRET}\n",
			`:9:6: webhooks[1].name: webhook "x" already defined at webhooks[0]`},
		"bad timeout": {"  - {name: x, url: https://x.example/, timeout: soon, secret_env: PW_TEST_SECRET}\n",
			`webhooks[0].timeout: want a duration`},
		"unknown field": {"  - {name: x, url: https://x.example/, secrte: abc, secret_env: PW_TEST_SECRET}\n",
			`webhooks[0].secrte: unknown field "secrte"`},
	} {
		writeFile(t, dir, "short.secret", "short")
		_, err := ParseConfig(filepath.Join(dir, "c.yaml"), []byte(siteConfig(t, "", "")+"webhooks:\n"+tc.hooks))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: the error shows a secret: %v", name, err)
		}
	}
}

// TestDaemonWebhooks: the daemon crawls the fixture markets and delivers
// every alert raised to a webhook receiver on loopback, signed with the
// configured secret, on each store; /metrics counts the deliveries.
func TestDaemonWebhooks(t *testing.T) {
	t.Parallel() // see TestMain
	for name, store := range map[string]func(t *testing.T) string{
		"embedded": func(t *testing.T) string { return filepath.Join(t.TempDir(), "precwatch.db") },
		"redis":    func(t *testing.T) string { return redistest.Start(t) + "?prefix=hooks" },
	} {
		t.Run(name, func(t *testing.T) {
			markets := startMarkets(t)
			sites := markets.Sites()
			secret := "daemon-webhook-secret-0123"
			var mu sync.Mutex
			got := map[string]int{} // alert key → raised events received
			bad := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				// The README's receiver check, in its shortest form.
				ts, sig, _ := strings.Cut(strings.TrimPrefix(r.Header.Get(webhook.HeaderSignature), "t="), ",v1=")
				sec, _ := strconv.ParseInt(ts, 10, 64)
				want := webhook.Sign([]byte(secret), body, time.Unix(sec, 0))
				var p webhook.Payload
				mu.Lock()
				defer mu.Unlock()
				if want != "t="+ts+",v1="+sig || json.Unmarshal(body, &p) != nil {
					bad++
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				if p.Event.Event == precwatch.EventRaised {
					got[p.Key]++
				}
			}))
			defer srv.Close()
			path := writeConfig(t, sites)
			writeFile(t, filepath.Dir(path), "hook.secret", secret+"\n")
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(f, "webhooks:\n  - name: soc\n    url: %s/in\n    secret_file: hook.secret\n    from_start: true\n", srv.URL)
			f.Close()
			dsn := store(t)
			m, _, waitFor := startDaemonInProcess(t, "run", "--config", path, "--store", dsn, "--run-on-start", "--addr", "", "--reload-interval", "0")
			waitFor("webhooks running")
			alerts := listAlertsWhenDone(t, path, dsn, waitFor)
			deadline := time.Now().Add(60 * time.Second)
			for {
				mu.Lock()
				n, b := len(got), bad
				mu.Unlock()
				if n == len(alerts) {
					break
				}
				if b > 0 || time.Now().After(deadline) {
					t.Fatalf("receiver got raised events for %d of %d alerts (%d refused)", n, len(alerts), b)
				}
				time.Sleep(20 * time.Millisecond)
			}
			mu.Lock()
			for _, a := range alerts {
				if got[a.Key] < 1 {
					t.Errorf("alert %s never delivered", a.Key)
				}
			}
			mu.Unlock()
			if text := scrape(t, m.metrics); !strings.Contains(text, `precwatch_webhook_attempts_total{destination="soc",result="delivered"}`) {
				t.Errorf("metrics lack the delivered count:\n%s", text)
			}
		})
	}
}

// listAlertsWhenDone waits for the daemon's first crawl of every site to
// be listed and returns the alerts.
func listAlertsWhenDone(t *testing.T, config, dsn string, waitFor func(string)) []precwatch.Alert {
	t.Helper()
	waitFor("precwatch running")
	deadline := time.Now().Add(60 * time.Second)
	want := len(expectedAlerts())
	for {
		alerts := listAlerts(t, config, dsn)
		if len(alerts) >= want || time.Now().After(deadline) {
			if len(alerts) < want {
				t.Fatalf("%d alerts after 60s, want %d", len(alerts), want)
			}
			return alerts
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestWebhookSecretsStayOut: a chat webhook's URL (its secret) and a
// signing secret appear in no log line, delivery log entry or metric, even
// while deliveries fail (a refused connection, a 500 echoing the request).
func TestWebhookSecretsStayOut(t *testing.T) {
	const urlSecret, hmacSecret = "T0PSECRETpathTOKEN", "signing-secret-SHOULD-NOT-LEAK"
	markets := startMarkets(t)
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A broken receiver that echoes what it got, headers included.
		http.Error(w, fmt.Sprintf("%s %s %v", r.Method, r.URL, r.Header), http.StatusInternalServerError)
	}))
	defer echo.Close()
	path := writeConfig(t, markets.Sites())
	dir := filepath.Dir(path)
	writeFile(t, dir, "chat.url", "http://"+closedAddr(t)+"/hooks/"+urlSecret+"\n")
	writeFile(t, dir, "soc.secret", hmacSecret+"\n")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "webhooks:\n  - {name: chat, shape: slack, url_file: chat.url, from_start: true}\n"+
		"  - {name: soc, url: %s/in, secret_file: soc.secret, from_start: true}\n", echo.URL)
	f.Close()
	dsn := filepath.Join(t.TempDir(), "precwatch.db")
	m, logs, waitFor := startDaemonInProcess(t, "run", "--config", path, "--store", dsn, "--run-on-start", "--addr", "",
		"--reload-interval", "0", "--log-level", "debug", "--log-format", "json")
	listAlertsWhenDone(t, path, dsn, waitFor)
	// Wait for failed attempts of both destinations to be logged.
	deadline := time.Now().Add(60 * time.Second)
	var dl []precwatch.Delivery
	for {
		m.mu.Lock()
		ds := m.store.(precwatch.DeliveryStore)
		m.mu.Unlock()
		dl, err = ds.Deliveries(t.Context(), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		dests := map[string]bool{}
		for _, d := range dl {
			if !d.Delivered && d.Error != "" {
				dests[d.Destination] = true
			}
		}
		if dests["chat"] && dests["soc"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed attempt of each destination logged: %+v", dl)
		}
		time.Sleep(20 * time.Millisecond)
	}
	raw, _ := json.Marshal(dl)
	for what, text := range map[string]string{"logs": logs.String(), "delivery log": string(raw), "metrics": scrape(t, m.metrics)} {
		for _, secret := range []string{urlSecret, hmacSecret} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s show a secret:\n%s", what, text)
			}
		}
	}
	if !strings.Contains(logs.String(), "webhook delivery failed") {
		t.Errorf("no failed delivery logged; the test proves nothing:\n%s", logs.String())
	}
}

// TestWebhooksTwoDaemonsOneRedis backs the README's claim that daemons
// sharing a Redis store serve each destination from one of them at a time,
// and that another takes over, from the saved cursor, when that one dies:
// real processes, killed with SIGKILL.
func TestWebhooksTwoDaemonsOneRedis(t *testing.T) {
	markets := startMarkets(t)
	sites := markets.Sites()
	for i := range sites {
		sites[i].Schedule = "@every 1s"
	}
	var mu sync.Mutex
	events := map[string]int{} // event id → deliveries
	var changed []string       // alert keys of changed events, as received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p webhook.Payload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		events[r.Header.Get("Precwatch-Event-Id")]++
		if p.Event.Event == precwatch.EventChanged {
			changed = append(changed, p.Key)
		}
	}))
	defer srv.Close()
	path := writeConfig(t, sites)
	writeFile(t, filepath.Dir(path), "hook.secret", "two-daemons-secret-0123\n")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "webhooks:\n  - name: soc\n    url: %s/in\n    secret_file: hook.secret\n    from_start: true\n", srv.URL)
	f.Close()
	dsn := redistest.Start(t) + "?prefix=hooks2"
	// A short visibility timeout: A may die holding a page of a run that B
	// shares (as holder or worker), which B then fetches after it.
	daemon := func(holder string) *daemonProc {
		return startProc(t, "run --run-on-start --addr= --reload-interval 0 --log-format json --lease-ttl 1s --visibility-timeout 2s --holder "+holder+" --config "+path+" --store "+dsn)
	}
	counts := func() (total, dups int, ch []string) {
		mu.Lock()
		defer mu.Unlock()
		for _, n := range events {
			total += n
			if n > 1 {
				dups += n - 1
			}
		}
		return total, dups, slices.Clone(changed)
	}

	// A alone delivers the first crawls' events, so A holds the lease.
	a := daemon("daemon-a")
	want := len(expectedAlerts())
	waitFor(t, a, 90*time.Second, "the first crawls' raised events", func() bool { n, _, _ := counts(); return n >= want })
	// B joins; a price change while both run is delivered once.
	b := daemon("daemon-b")
	waitFor(t, b, 30*time.Second, "daemon B's webhooks", func() bool {
		return slices.ContainsFunc(b.lines(true), func(l string) bool { return strings.Contains(l, `"msg":"webhooks running"`) })
	})
	alerts := listAlerts(t, path, dsn)
	perListing := map[string]int{}
	for _, al := range alerts {
		perListing[al.Site+"\x00"+al.Identity]++
	}
	single := slices.DeleteFunc(slices.Clone(alerts), func(al precwatch.Alert) bool { return perListing[al.Site+"\x00"+al.Identity] != 1 })
	if len(single) < 2 {
		t.Fatalf("need two single-alert listings, have %d", len(single))
	}
	first, second := single[0], single[1]
	if err := markets.SetPrice(first.Site, first.Listing.ID, first.Listing.Price*2+1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, 60*time.Second, "the first change delivered", func() bool { _, _, ch := counts(); return slices.Contains(ch, first.Key) })
	time.Sleep(2 * time.Second) // room for a second delivery to show
	if _, dups, ch := counts(); dups != 0 || len(ch) != 1 {
		t.Errorf("with two daemons running: %d duplicate deliveries, changed events %q (want one, for %s)", dups, ch, first.Key)
	}

	// A, the holder, dies; B takes the destination over from the cursor.
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-a.done
	if err := markets.SetPrice(second.Site, second.Listing.ID, second.Listing.Price*2+1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, 60*time.Second, "the second change delivered after A's death", func() bool { _, _, ch := counts(); return slices.Contains(ch, second.Key) })
	total, dups, ch := counts()
	if dups != 0 || len(ch) != 2 {
		t.Errorf("after the takeover: %d duplicate deliveries, changed events %q", dups, ch)
	}
	if total < want+2 {
		t.Errorf("%d events delivered, want at least %d raised and 2 changed", total, want)
	}
}

// TestWebhooksReload: webhooks added to a running daemon's config are put
// in force by the reload (its file watch), and a changed destination
// replaces the old one.
func TestWebhooksReload(t *testing.T) {
	markets := startMarkets(t)
	type receiver struct {
		srv *httptest.Server
		mu  sync.Mutex
		ids map[string]bool
	}
	newReceiver := func() *receiver {
		r := &receiver{ids: map[string]bool{}}
		r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.ids[req.Header.Get("Precwatch-Event-Id")] = true
		}))
		t.Cleanup(r.srv.Close)
		return r
	}
	count := func(r *receiver) int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.ids) }
	first, second := newReceiver(), newReceiver()
	path := writeConfig(t, markets.Sites())
	writeFile(t, filepath.Dir(path), "hook.secret", "reload-webhook-secret-0123\n")
	base, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	withHook := func(name, url string) {
		t.Helper()
		// A later mtime and another size, so the file watch sees it.
		data := fmt.Sprintf("%swebhooks:\n  - name: %s\n    url: %s/in\n    secret_file: hook.secret\n    from_start: true\n", base, name, url)
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	dsn := filepath.Join(t.TempDir(), "precwatch.db")
	_, logs, waitFor := startDaemonInProcess(t, "run", "--config", path, "--store", dsn, "--run-on-start", "--addr", "", "--reload-interval", "100ms")
	alerts := listAlertsWhenDone(t, path, dsn, waitFor)
	if strings.Contains(logs.String(), "webhooks running") {
		t.Fatal("webhooks running before any was configured")
	}
	withHook("soc", first.srv.URL)
	deadline := time.Now().Add(60 * time.Second)
	for count(first) < len(alerts) {
		if time.Now().After(deadline) {
			t.Fatalf("first receiver got %d events, want at least %d (the alerts' raised events); logs:\n%s", count(first), len(alerts), logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	withHook("soc-new", second.srv.URL)
	for count(second) < count(first) {
		if time.Now().After(deadline) {
			t.Fatalf("second receiver got %d events, want the %d the first had; logs:\n%s", count(second), count(first), logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := strings.Count(logs.String(), "webhooks running"); got != 2 {
		t.Errorf("%d dispatchers started, want 2 (one per config with webhooks)", got)
	}
}
