package crawler

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
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
			e := &env{store: openStore(t)}
			p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
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
