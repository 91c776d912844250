package crawler

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

// TestCookieInterstitial: a "checking your browser" page that sets a cookie
// and reloads itself is waited out and passed within the run, as a browser
// passes it; one that keeps coming back, sets no cookie or asks for a long
// wait stops the run blocked at once, as before.
func TestCookieInterstitial(t *testing.T) {
	for _, tc := range []struct {
		name      string
		setCookie bool
		honour    bool   // the gate lets a request with its cookie through
		refresh   string // the meta refresh's content; "" for none
		header    string // a Refresh header
		status    int
		want      precwatch.RunStatus
		requests  int32 // for the start page
	}{
		{"cookie and refresh, 503", true, true, "1; url=/shop", "", 503, precwatch.RunOK, 2},
		{"cookie and refresh, 200", true, true, "0", "", 200, precwatch.RunOK, 2},
		{"cookie and Refresh header", true, true, "", "1", 503, precwatch.RunOK, 2},
		{"cookie ignored", true, false, "0", "", 503, precwatch.RunBlocked, 2},
		{"no cookie", false, true, "0", "", 503, precwatch.RunBlocked, 1},
		{"long wait", true, true, "120", "", 503, precwatch.RunBlocked, 1},
		{"no refresh", true, true, "", "", 503, precwatch.RunBlocked, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/shop" {
					hits.Add(1)
				}
				if _, err := r.Cookie("gate_pass"); err != nil || !tc.honour {
					if tc.setCookie {
						http.SetCookie(w, &http.Cookie{Name: "gate_pass", Value: "ok", Path: "/", HttpOnly: true})
					}
					if tc.header != "" {
						w.Header().Set("Refresh", tc.header)
					}
					meta := ""
					if tc.refresh != "" {
						meta = fmt.Sprintf(`<meta http-equiv="refresh" content="%s">`, tc.refresh)
					}
					w.Header().Set("Content-Type", "text/html")
					w.WriteHeader(tc.status)
					fmt.Fprintf(w, `<html><head><title>DDoS protection – checking your browser</title>%s</head><body><h1>Checking your browser</h1><p>You will be redirected.</p></body></html>`, meta)
					return
				}
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, `<html><body><div class="listing"><span class="id">G1</span><h2>Hydrogen peroxide 35% 1L</h2></div></body></html>`)
			}))
			t.Cleanup(srv.Close)
			e, p := proxied(t, srv)
			site := precwatch.Site{Name: "gated", StartURLs: []string{"http://" + onionA + "/shop"}, Proxy: p.URL(),
				Extract: precwatch.Extraction{Listing: "div.listing", ID: "span.id", Title: "h2"},
				Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second, Retries: -1}}
			run, _ := e.run(t, site)
			if run.Status != tc.want || hits.Load() != tc.requests {
				t.Fatalf("run %q %q, %d requests for the page; want %q, %d", run.Status, run.Errors, hits.Load(), tc.want, tc.requests)
			}
			if tc.want == precwatch.RunOK {
				if run.Listings != 1 || run.Alerts != 1 || run.Block != nil {
					t.Errorf("run: %d listings, %d alerts, block %+v; want 1, 1, none", run.Listings, run.Alerts, run.Block)
				}
				return
			}
			if run.Block == nil || run.Block.Class != precwatch.PageAntiDDoS || !strings.HasSuffix(run.Block.URL, "/shop") {
				t.Errorf("block = %+v, want the anti-DDoS page", run.Block)
			}
		})
	}
}

// TestClickThroughGate: an age or "enter the market" interstitial whose
// only form asks for nothing but a click (hidden fields and a button) is
// passed as a person passes it: its form is submitted once, through the
// site's proxy and with its cookies, and the page fetched again with the
// cookie that set. A form with something to type, two forms, a button
// that sets no cookie or a gate that comes back stop the run blocked, as
// before.
func TestClickThroughGate(t *testing.T) {
	const listingPage = `<html><body><div class="listing"><span class="id">G1</span><h2>Hydrogen peroxide 35% 1L</h2></div></body></html>`
	for _, tc := range []struct {
		name    string
		title   string
		form    string // the gate's form(s); {r} is the page asked for
		base    string // the gate's <base href>, if any
		cookie  bool   // the gate's submission sets the cookie
		honour  bool   // the market lets a request with the cookie through
		want    precwatch.RunStatus
		submits int32
		reason  string // in the block's reason
	}{
		{"GET button", "DDoS protection", `<form action="/enter" method="get"><input type="hidden" name="ok" value="1"><input type="hidden" name="r" value="{r}"><input type="submit" value="Enter"></form>`,
			"", true, true, precwatch.RunOK, 1, ""},
		{"POST button with a token", "Age verification", `<form method="post" action="enter"><input type="hidden" name="csrf" value="t0k"><input type="hidden" name="r" value="{r}"><button name="ok" value="1">I am 18 or older</button></form>`,
			"", true, true, precwatch.RunOK, 1, ""},
		// An EU shop's cookie wall: two buttons, the first accepts.
		{"cookie wall", "We value your privacy", `<form method="post" action="/enter"><input type="hidden" name="ok" value="1"><input type="hidden" name="r" value="{r}"><button type="submit" name="choice" value="all">Accept all</button> <button type="submit" name="choice" value="necessary">Only necessary</button></form>`,
			"", true, true, precwatch.RunOK, 1, ""},
		{"German cookie wall", "Cookie-Einstellungen", `<form method="post" action="/enter"><input type="hidden" name="ok" value="1"><input type="hidden" name="r" value="{r}"><button>Alle akzeptieren</button></form>`,
			"", true, true, precwatch.RunOK, 1, ""},
		{"relative to base href", "DDoS protection", `<form action="../enter"><input type="hidden" name="ok" value="1"><input type="hidden" name="r" value="{r}"><input type="submit"></form>`,
			"/gate/x/", true, true, precwatch.RunOK, 1, ""},
		{"something to type", "DDoS protection", `<form action="/enter"><input type="hidden" name="ok" value="1"><input name="answer"><input type="submit"></form>`,
			"", true, true, precwatch.RunBlocked, 0, "ddos"},
		{"two forms", "DDoS protection", `<form action="/enter"><input type="hidden" name="ok" value="1"><input type="submit"></form><form action="/enter"><input type="hidden" name="ok" value="2"><input type="submit"></form>`,
			"", true, true, precwatch.RunBlocked, 0, "ddos"},
		{"no cookie", "DDoS protection", `<form action="/enter"><input type="hidden" name="ok" value="1"><input type="hidden" name="r" value="{r}"><input type="submit"></form>`,
			"", false, true, precwatch.RunBlocked, 1, "set no cookie"},
		{"cookie ignored", "DDoS protection", `<form action="/enter"><input type="hidden" name="ok" value="1"><input type="hidden" name="r" value="{r}"><input type="submit"></form>`,
			"", true, false, precwatch.RunBlocked, 1, "ddos"},
		// A queue with no form, only a plain link on (probe 13: the run read
		// the queue as an index page of no listing and ended partial).
		{"enter link", "Waiting room", `<p><a href="#top">Top</a> <a class="enter" href="/enter?ok=1&amp;r={r}">Enter the market</a></p>`,
			"", true, true, precwatch.RunOK, 1, ""},
		{"enter link relative to base href", "Waiting room", `<a href="../enter?ok=1&amp;r={r}">Enter</a>`,
			"/gate/x/", true, true, precwatch.RunOK, 1, ""},
		{"enter link to another host", "Waiting room", `<a href="http://elsewhere.example/enter?ok=1&amp;r={r}">Enter</a>`,
			"", true, true, precwatch.RunBlocked, 0, "waiting room"},
		{"two links", "Waiting room", `<a href="/enter?ok=1&amp;r={r}">Enter</a> <a href="/mirrors">Mirrors</a>`,
			"", true, true, precwatch.RunPartial, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var submits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				if r.URL.Path == "/enter" || r.URL.Path == "/gate/enter" {
					r.ParseForm()
					if r.Form.Get("ok") == "1" {
						if tc.name == "POST button with a token" && (r.Method != http.MethodPost || r.PostForm.Get("csrf") != "t0k") {
							http.Error(w, "bad form", http.StatusBadRequest)
							return
						}
						submits.Add(1)
						if tc.cookie {
							http.SetCookie(w, &http.Cookie{Name: "pass", Value: "ok", Path: "/", HttpOnly: true})
						}
						http.Redirect(w, r, "/shop", http.StatusFound)
						return
					}
					base := ""
					if tc.base != "" {
						base = `<base href="` + tc.base + `">`
					}
					form := strings.ReplaceAll(tc.form, "{r}", r.URL.Query().Get("r"))
					fmt.Fprintf(w, `<html><head><title>%s</title>%s</head><body><h2>%s</h2><p>Press the button to enter.</p>%s</body></html>`, tc.title, base, tc.title, form)
					return
				}
				if c, err := r.Cookie("pass"); err != nil || c.Value != "ok" || !tc.honour {
					http.Redirect(w, r, "/enter?r="+r.URL.Path, http.StatusFound)
					return
				}
				fmt.Fprint(w, listingPage)
			}))
			t.Cleanup(srv.Close)
			e, p := proxied(t, srv)
			site := precwatch.Site{Name: "gated", StartURLs: []string{"http://" + onionA + "/shop"}, Proxy: p.URL(),
				Extract: precwatch.Extraction{Listing: "div.listing", ID: "span.id", Title: "h2"},
				Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second, Retries: -1}}
			run, _ := e.run(t, site)
			if run.Status != tc.want || submits.Load() != tc.submits {
				t.Fatalf("run %q %q, block %+v, %d submissions; want %q, %d", run.Status, run.Errors, run.Block, submits.Load(), tc.want, tc.submits)
			}
			if tc.want == precwatch.RunOK {
				if run.Listings != 1 || run.Alerts != 1 || run.Block != nil {
					t.Errorf("run: %d listings, %d alerts, block %+v; want 1, 1, none", run.Listings, run.Alerts, run.Block)
				}
				return
			}
			if tc.want == precwatch.RunPartial { // no gate: a page of no listing
				if run.Block != nil {
					t.Errorf("block = %+v, want none", run.Block)
				}
				return
			}
			if run.Block == nil || !strings.Contains(strings.ToLower(run.Block.Reason), strings.ToLower(tc.reason)) {
				t.Errorf("block = %+v, want one whose reason says %q", run.Block, tc.reason)
			}
		})
	}
}

// TestCookieInterstitialExpires: an EndGame-style queue whose cookie is
// good for a few requests comes back again and again in a long crawl; each
// time pages were read since the last pass it is passed again, as a
// browser passes it, and the run reads the whole market (it stopped
// blocked at the fourth pass before). A gate met again on the page it was
// just passed for still stops the run.
func TestCookieInterstitialExpires(t *testing.T) {
	for _, tc := range []struct {
		name     string
		uses     int // requests a cookie lets through; 0: none after the first page
		want     precwatch.RunStatus
		listings int
	}{
		{"expires after 2 requests", 2, precwatch.RunOK, 8},
		{"expires after 1 request", 1, precwatch.RunOK, 8},
		{"then never again", 0, precwatch.RunBlocked, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			uses := map[string]int{} // cookie value -> requests let through
			issued, queued := 0, 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				mu.Lock()
				c, err := r.Cookie("dcap")
				ok := err == nil && (uses[c.Value] < tc.uses || tc.uses == 0 && issued == 1 && uses[c.Value] == 0)
				if ok {
					uses[c.Value]++
				} else {
					issued++
					queued++
					http.SetCookie(w, &http.Cookie{Name: "dcap", Value: fmt.Sprintf("q%d", issued), Path: "/", HttpOnly: true})
				}
				mu.Unlock()
				if !ok {
					fmt.Fprint(w, `<html><head><meta http-equiv="refresh" content="0"><title>Queue</title></head><body><h1>You are in the queue</h1></body></html>`)
					return
				}
				var b strings.Builder
				if n, found := strings.CutPrefix(r.URL.Path, "/c/"); found {
					p, _ := strconv.Atoi(n)
					for i := 1; i <= 2; i++ {
						fmt.Fprintf(&b, `<div class="listing"><a class="title" href="/item/%d">Hydrogen peroxide %d %% 1 L</a></div>`, p*10+i, 30+p*10+i)
					}
					if p < 4 {
						fmt.Fprintf(&b, `<a class="next" href="/c/%d">Next</a>`, p+1)
					}
				} else {
					fmt.Fprintf(&b, `<h1>%s</h1><div class="desc">Sealed, ships in 2 days.</div>`, r.URL.Path)
				}
				fmt.Fprintf(w, `<html><body>%s</body></html>`, b.String())
			}))
			t.Cleanup(srv.Close)
			e, p := proxied(t, srv)
			site := precwatch.Site{Name: "queued", StartURLs: []string{"http://" + onionA + "/c/1"}, Proxy: p.URL(),
				Extract: precwatch.Extraction{Listing: "div.listing", Title: "a.title", URL: "a.title @href", NextPage: "a.next",
					Detail: &precwatch.Extraction{Description: "div.desc"}},
				Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
			run, _ := e.run(t, site)
			mu.Lock()
			defer mu.Unlock()
			if run.Status != tc.want || run.Listings != tc.listings {
				t.Fatalf("run %q %q: %d listings, %d queue pages; want %q, %d listings", run.Status, run.Errors, run.Listings, queued, tc.want, tc.listings)
			}
			if tc.want == precwatch.RunOK {
				if queued <= maxGatePasses {
					t.Errorf("%d queue pages met, want more than %d (the cookie expiring through the run)", queued, maxGatePasses)
				}
				// 4 index and 8 detail pages, each gate page fetched again once.
				if run.Requests != 12+queued {
					t.Errorf("requests = %d, want %d", run.Requests, 12+queued)
				}
				return
			}
			if run.Block == nil || run.Block.Class != precwatch.PageQueue {
				t.Errorf("block = %+v, want the queue page", run.Block)
			}
		})
	}
}

// TestQueueThenButton: a queue that sets a ticket cookie and reloads
// itself, and once waited out shows an "Enter the market" button whose
// POST sets the pass cookie, is one gate of two steps, as a browser passes
// it. Both steps on the same URL are passed (the second was taken for the
// queue met again, and the run stopped blocked at its first page); the
// same step met again is still a block.
func TestQueueThenButton(t *testing.T) {
	for _, tc := range []struct {
		name     string
		buttonOK bool // the button's POST sets the pass cookie
		want     precwatch.RunStatus
		listings int
	}{
		{"wait then click", true, precwatch.RunOK, 2},
		{"the button leads back to the queue", false, precwatch.RunBlocked, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			tickets, passes := map[string]bool{}, map[string]bool{}
			n, queued, clicks := 0, 0, 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				mu.Lock()
				defer mu.Unlock()
				if r.Method == http.MethodPost && r.URL.Path == "/queue/enter" {
					r.ParseForm()
					clicks++
					if tc.buttonOK && r.PostForm.Get("t") == "e1" {
						n++
						v := fmt.Sprintf("p%d", n)
						passes[v] = true
						http.SetCookie(w, &http.Cookie{Name: "dq_pass", Value: v, Path: "/"})
					}
					http.Redirect(w, r, r.PostForm.Get("back"), http.StatusSeeOther)
					return
				}
				if c, err := r.Cookie("dq_pass"); err == nil && passes[c.Value] {
					var b strings.Builder
					if r.URL.Path == "/browse/1" {
						b.WriteString(`<div class="item"><a href="/goods/1">Hydrogen peroxide 35% 1L</a></div><div class="item"><a href="/goods/2">Lab glassware set</a></div>`)
					} else {
						fmt.Fprintf(&b, `<h1>%s</h1><div class="full">Sealed, ships in 2 days.</div>`, r.URL.Path)
					}
					fmt.Fprintf(w, `<html><body>%s</body></html>`, b.String())
					return
				}
				if c, err := r.Cookie("dq_ticket"); err == nil && tickets[c.Value] {
					delete(tickets, c.Value)
					fmt.Fprintf(w, `<html><head><title>DDoS protection - queue</title></head><body><h1>Queue passed</h1><form method="post" action="/queue/enter"><input type="hidden" name="t" value="e1"><input type="hidden" name="back" value="%s"><button type="submit">Enter the market</button></form></body></html>`, r.URL.Path)
					return
				}
				queued++
				v := fmt.Sprintf("t%d", queued)
				tickets[v] = true
				http.SetCookie(w, &http.Cookie{Name: "dq_ticket", Value: v, Path: "/"})
				fmt.Fprint(w, `<html><head><title>DDoS protection - queue</title><meta http-equiv="refresh" content="0"></head><body><h1>You are in queue, please wait</h1></body></html>`)
			}))
			t.Cleanup(srv.Close)
			e, p := proxied(t, srv)
			site := precwatch.Site{Name: "queued", StartURLs: []string{"http://" + onionA + "/browse/1"}, Proxy: p.URL(),
				Extract: precwatch.Extraction{Listing: "div.item", Title: "a", URL: "a @href",
					Detail: &precwatch.Extraction{Description: "div.full"}},
				Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second, Retries: -1}}
			run, _ := e.run(t, site)
			mu.Lock()
			defer mu.Unlock()
			if run.Status != tc.want || run.Listings != tc.listings || clicks != 1 {
				t.Fatalf("run %q %q, block %+v: %d listings, %d clicks; want %q, %d listings, 1 click", run.Status, run.Errors, run.Block, run.Listings, clicks, tc.want, tc.listings)
			}
			if tc.want == precwatch.RunOK {
				if run.Alerts != 1 || run.Block != nil {
					t.Errorf("run: %d alerts, block %+v; want 1, none", run.Alerts, run.Block)
				}
				return
			}
			if run.Block == nil || run.Block.Class != precwatch.PageQueue {
				t.Errorf("block = %+v, want the queue page", run.Block)
			}
		})
	}
}

// TestGatePassedOnceInFlight: a site crawled over four circuits answers
// the run's first four requests, in flight together, with one gate (a
// POST button that sets a cookie): the gate is passed once, the other
// requests wait for that pass and go through with its cookie, and the run
// reads every page. (Probe 13: each request claimed a pass of its own;
// past maxGatePasses such claims the run ended blocked.)
func TestGatePassedOnceInFlight(t *testing.T) {
	var submits, gated atomic.Int32
	arrived := make(chan struct{}, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/enter" {
			r.ParseForm()
			if r.Method != http.MethodPost || r.PostForm.Get("csrf") != "t0k" {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			n := submits.Add(1)
			http.SetCookie(w, &http.Cookie{Name: "pass", Value: fmt.Sprintf("ok%d", n), Path: "/", HttpOnly: true})
			http.Redirect(w, r, "/", http.StatusFound)
			return
		}
		if c, err := r.Cookie("pass"); err != nil || !strings.HasPrefix(c.Value, "ok") {
			// The first four requests are answered together, so that
			// all four meet the gate before any passes it.
			if gated.Add(1) <= 4 {
				arrived <- struct{}{}
				for len(arrived) < 4 {
					time.Sleep(5 * time.Millisecond)
				}
			}
			fmt.Fprint(w, `<html><head><title>DDoS protection</title></head><body><h2>DDoS protection</h2><form method="post" action="/enter"><input type="hidden" name="csrf" value="t0k"><button>Enter</button></form></body></html>`)
			return
		}
		id := strings.Trim(r.URL.Path, "/")
		fmt.Fprintf(w, `<html><body><div class="listing"><span class="id">%s</span><h2>Hydrogen peroxide 35%% 1L (%s)</h2></div></body></html>`, id, id)
	}))
	t.Cleanup(srv.Close)
	e, p := proxied(t, srv)
	site := precwatch.Site{Name: "gated", Proxy: p.URL(), Circuits: 4,
		Extract: precwatch.Extraction{Listing: "div.listing", ID: "span.id", Title: "h2"},
		Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second, Retries: -1}}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		site.StartURLs = append(site.StartURLs, "http://"+onionA+"/"+id)
	}
	run, _ := e.run(t, site)
	if run.Status != precwatch.RunOK || run.Listings != 5 || submits.Load() != 1 {
		t.Errorf("run %q %q, block %+v: %d listings, %d gate submissions; want ok, 5, one", run.Status, run.Errors, run.Block, run.Listings, submits.Load())
	}
}

// proxied returns an env on a fresh store and a SOCKS proxy that sends
// onionA to srv.
func proxied(t *testing.T, srv *httptest.Server) (*env, *socksproxy.Proxy) {
	t.Helper()
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return &env{store: openStore(t)}, p
}
