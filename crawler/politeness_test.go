package crawler

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// busyHandler answers status with the Retry-After header made by after the
// first `busy` times, then a page with one listing.
func busyHandler(status, busy int, after func() string) http.HandlerFunc {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n <= busy
		mu.Unlock()
		if first {
			if v := after(); v != "" {
				w.Header().Set("Retry-After", v)
			}
			http.Error(w, "slow down", status)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<div class="listing"><span class="id">B1</span><h2>Acetone 99% 1L</h2></div>`)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Run("seconds", func(t *testing.T) {
		e := newPagedEnv(t, 1, 0, map[string]http.HandlerFunc{
			"GET /busy": busyHandler(http.StatusTooManyRequests, 1, func() string { return "1" }),
		})
		site := e.site("busy", "")
		site.StartURLs = []string{"http://" + onionA + "/busy"}
		site.Limits.Retries = -1 // a Retry-After wait is not a retry
		run, err := e.run(t, site)
		if err != nil || run.Status != precwatch.RunOK || run.Listings != 1 {
			t.Fatalf("run: %v %+v", err, run)
		}
		ts := e.pm.requested("/busy")
		if len(ts) != 2 {
			t.Fatalf("requests = %d, want 2", len(ts))
		}
		if d := ts[1].Sub(ts[0]); d < time.Second {
			t.Errorf("second request %v after the 429 with Retry-After: 1, want at least 1s", d)
		}
	})
	t.Run("http date", func(t *testing.T) {
		var mu sync.Mutex
		var asked time.Time
		e := newPagedEnv(t, 1, 0, map[string]http.HandlerFunc{
			"GET /busy": busyHandler(http.StatusServiceUnavailable, 1, func() string {
				mu.Lock()
				defer mu.Unlock()
				asked = time.Now().Add(2 * time.Second).Truncate(time.Second)
				return asked.UTC().Format(http.TimeFormat)
			}),
		})
		site := e.site("busy", "")
		site.StartURLs = []string{"http://" + onionA + "/busy"}
		run, err := e.run(t, site)
		if err != nil || run.Status != precwatch.RunOK {
			t.Fatalf("run: %v %+v", err, run)
		}
		ts := e.pm.requested("/busy")
		mu.Lock()
		defer mu.Unlock()
		if len(ts) != 2 {
			t.Fatalf("requests = %d, want 2 (a 503 with Retry-After is waited out, not retried at once)", len(ts))
		}
		if ts[1].Before(asked) {
			t.Errorf("second request at %v, before the Retry-After date %v", ts[1], asked)
		}
	})
	t.Run("beyond the cap", func(t *testing.T) {
		e := newPagedEnv(t, 1, 0, map[string]http.HandlerFunc{
			"GET /busy": busyHandler(http.StatusTooManyRequests, 100, func() string { return "3600" }),
		})
		site := e.site("busy", "")
		site.StartURLs = append(site.StartURLs, "http://"+onionA+"/busy")
		site.Limits.MaxRetryAfter = 2 * time.Second
		run, err := e.run(t, site)
		if err != nil || run.Status != precwatch.RunPartial {
			t.Fatalf("run: %v %q, want partial", err, run.Status)
		}
		want := "answered 429 with Retry-After 1h0m0s, beyond limits.max_retry_after 2s"
		if !strings.Contains(strings.Join(run.Errors, "\n"), want) {
			t.Errorf("errors %q do not name the limit (%q)", run.Errors, want)
		}
		if got := len(e.pm.requested("/busy")); got != 1 {
			t.Errorf("/busy requests = %d, want 1", got)
		}
	})
	t.Run("beyond the run timeout", func(t *testing.T) {
		e := newPagedEnv(t, 1, 0, map[string]http.HandlerFunc{
			"GET /busy": busyHandler(http.StatusServiceUnavailable, 100, func() string { return "60" }),
		})
		site := e.site("busy", "")
		site.StartURLs = append(site.StartURLs, "http://"+onionA+"/busy")
		site.Limits.RunTimeout = 10 * time.Second
		run, err := e.run(t, site)
		if err != nil || run.Status != precwatch.RunPartial {
			t.Fatalf("run: %v %q, want partial", err, run.Status)
		}
		if want := "beyond the end of limits.run_timeout 10s"; !strings.Contains(strings.Join(run.Errors, "\n"), want) {
			t.Errorf("errors %q do not name the limit (%q)", run.Errors, want)
		}
	})
	t.Run("429 without Retry-After is retried, 403 is final", func(t *testing.T) {
		e := newPagedEnv(t, 1, 0, map[string]http.HandlerFunc{
			"GET /limited":   busyHandler(http.StatusTooManyRequests, 1, func() string { return "" }),
			"GET /forbidden": busyHandler(http.StatusForbidden, 100, func() string { return "1" }),
		})
		site := e.site("busy", "")
		site.StartURLs = []string{"http://" + onionA + "/limited", "http://" + onionA + "/forbidden"}
		run, _ := e.run(t, site)
		if got := len(e.pm.requested("/limited")); got != 2 {
			t.Errorf("/limited requests = %d, want 2", got)
		}
		if got := len(e.pm.requested("/forbidden")); got != 1 {
			t.Errorf("/forbidden requests = %d, want 1", got)
		}
		if run.Status != precwatch.RunPartial || run.Listings != 1 {
			t.Errorf("run %+v: want partial with one listing", run)
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"Fri, 02 Jan 2026 03:04:35 GMT", 30 * time.Second, true},
		{"Fri, 02 Jan 2026 03:00:00 GMT", 0, true},
		{"99999999999999999999", 0, false},
		{"9999999999", 24 * time.Hour, true},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPaginationIsNotAHop(t *testing.T) {
	// A category menu (one hop) leads to an index of 12 pages (no hops).
	e := newPagedEnv(t, 12, 0, map[string]http.HandlerFunc{
		"GET /cats": func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `<a class="follow" href="/p/1">chemicals</a>`)
		},
	})
	site := e.site("pages", "")
	site.StartURLs = []string{"http://" + onionA + "/cats"}
	site.Limits.MaxDepth = 1
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK {
		t.Fatalf("run: %v %q %q", err, run.Status, run.Errors)
	}
	for n := 1; n <= 12; n++ {
		if got := len(e.pm.requested(fmt.Sprintf("/p/%d", n))); got != 1 {
			t.Errorf("/p/%d requests = %d, want 1", n, got)
		}
	}
	if run.Listings != 24 || run.Pages != 37 {
		t.Errorf("run: %d listings, %d pages; want 24, 37", run.Listings, run.Pages)
	}
}
