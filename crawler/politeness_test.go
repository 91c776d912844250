package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
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
		// Held from just after the 429 came until the time it asked for.
		if run.Throttled != 1 || run.ThrottleWait < 900*time.Millisecond || run.ThrottleWait > run.End.Sub(run.Start) {
			t.Errorf("run counted %d throttled answers, %v held; want 1, about 1s", run.Throttled, run.ThrottleWait)
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

// TestPacerSlowsDownAndRecovers walks the site's gate through throttled and
// good answers on a fake clock: the gap doubles from the floor (or the
// delay) up to the cap, requests in flight together widen it once, and it
// shrinks by a quarter after every 10 good answers in a row until it is
// back at the site's own pace.
func TestPacerSlowsDownAndRecovers(t *testing.T) {
	// next waits for the next request's turn, reporting when it came, how
	// long after prev, and the time counted as held for throttling.
	type turn struct {
		at    time.Time
		after time.Duration
		held  time.Duration
	}
	next := func(t *testing.T, p *pacer, prev time.Time) turn {
		t.Helper()
		held, err := p.wait(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return turn{time.Now(), time.Since(prev), held}
	}
	// answer has n requests answered with status, one after another, and
	// returns their spacings.
	answer := func(t *testing.T, p *pacer, prev time.Time, n, status int) (time.Time, []time.Duration) {
		t.Helper()
		var gaps []time.Duration
		for range n {
			tr := next(t, p, prev)
			p.answered(tr.at, status, false)
			gaps = append(gaps, tr.after)
			prev = tr.at
		}
		return prev, gaps
	}
	same := func(gaps []time.Duration, d time.Duration) bool {
		for _, g := range gaps {
			if g != d {
				return false
			}
		}
		return true
	}

	t.Run("no delay", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p := newPacer(0, 0, time.Second, 10*time.Second)
			t0 := time.Now()
			// Full speed: three requests go at once, and all three are refused.
			for range 3 {
				if tr := next(t, p, t0); tr.after != 0 || tr.held != 0 {
					t.Fatalf("unthrottled request waited %v (held %v)", tr.after, tr.held)
				}
			}
			for range 3 {
				p.answered(t0, http.StatusTooManyRequests, false)
			}
			// One widening for the three, to the floor.
			tr := next(t, p, t0)
			if tr.after != time.Second || tr.held != time.Second {
				t.Fatalf("after three 429s in flight together: next request %v later (held %v), want 1s", tr.after, tr.held)
			}
			// Each further refusal doubles it (a 503 too), up to the cap.
			prev := tr.at
			for _, want := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
				p.answered(prev, http.StatusServiceUnavailable, false)
				tr := next(t, p, prev)
				if tr.after != want || tr.held != want {
					t.Fatalf("gap %v (held %v), want %v", tr.after, tr.held, want)
				}
				prev = tr.at
			}
			// 9 good answers (and a 500, which neither counts nor breaks the
			// row) leave the gap; the 10th shrinks it by a quarter.
			p.answered(prev, http.StatusOK, false) // the last refused request's retry
			prev, gaps := answer(t, p, prev, 8, http.StatusOK)
			if !same(gaps, 10*time.Second) {
				t.Fatalf("gaps %v, want 10s", gaps)
			}
			prev, _ = answer(t, p, prev, 1, http.StatusInternalServerError)
			prev, _ = answer(t, p, prev, 1, http.StatusOK)
			steps := 0
			for want := 7500 * time.Millisecond; want >= time.Second; want -= want / 4 { // 7.5s, 5.6s, ... 1.001s
				var gaps []time.Duration
				prev, gaps = answer(t, p, prev, 10, http.StatusOK)
				if !same(gaps, want) {
					t.Fatalf("recovering: gaps %v, want %v", gaps, want)
				}
				steps++
			}
			if steps != 8 {
				t.Fatalf("%d steps down from 10s, want 8", steps)
			}
			// Under the floor: back to full speed, nothing held.
			for range 3 {
				if tr := next(t, p, prev); tr.after != 0 || tr.held != 0 {
					t.Fatalf("recovered: request waited %v (held %v), want none", tr.after, tr.held)
				}
			}
			if time.Since(t0) <= 0 {
				t.Fatal("the fake clock did not move")
			}
		})
	})
	t.Run("delay", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p := newPacer(3*time.Second, 0, time.Second, time.Minute)
			prev, gaps := answer(t, p, time.Now(), 3, http.StatusOK)
			if gaps[0] != 0 || !same(gaps[1:], 3*time.Second) {
				t.Fatalf("gaps %v, want the 3s delay", gaps)
			}
			p.answered(prev, http.StatusTooManyRequests, false)
			// Twice the delay; shrinking stops at the delay, not the floor.
			for _, want := range []time.Duration{6 * time.Second, 4500 * time.Millisecond, 3375 * time.Millisecond, 3 * time.Second} {
				var gaps []time.Duration
				prev, gaps = answer(t, p, prev, 10, http.StatusOK)
				if !same(gaps, want) {
					t.Fatalf("gaps %v, want %v", gaps, want)
				}
			}
			// The delay's own wait is not throttling.
			if tr := next(t, p, prev); tr.after != 3*time.Second || tr.held != 0 {
				t.Fatalf("at the site's pace: %v later, held %v; want 3s, none held", tr.after, tr.held)
			}
		})
	})
	t.Run("doubles the pace it went at", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// Requests going out every 3s (a slow circuit, say): a 429 slows
			// them to one every 6s, not to the 1s floor that would not slow
			// them at all.
			p := newPacer(0, 0, time.Second, time.Minute)
			prev := time.Now()
			for range 4 {
				time.Sleep(3 * time.Second)
				prev = next(t, p, prev).at
			}
			p.answered(prev, http.StatusTooManyRequests, false)
			if tr := next(t, p, prev); tr.after != 6*time.Second {
				t.Fatalf("next request %v later, want 6s", tr.after)
			}
		})
	})
	t.Run("stray 503 after the gap held", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// A market answering some requests 503 whatever the pace: the
			// first 503 widens the gap, one after three answers went
			// through at it leaves the gap and the row of good answers as
			// they are, and the gap shrinks after ten good answers all
			// the same. A 503 right after a widening still doubles it, and
			// a 429 always does.
			p := newPacer(0, 0, time.Second, time.Minute)
			prev := next(t, p, time.Now()).at
			p.answered(prev, http.StatusServiceUnavailable, false)
			prev, gaps := answer(t, p, prev, 3, http.StatusOK)
			if !same(gaps, time.Second) {
				t.Fatalf("gaps %v, want 1s after the first 503", gaps)
			}
			prev, gaps = answer(t, p, prev, 1, http.StatusServiceUnavailable)
			prev, more := answer(t, p, prev, 7, http.StatusOK)
			if gaps = append(gaps, more...); !same(gaps, time.Second) {
				t.Fatalf("gaps %v, want 1s: a stray 503 does not double the gap", gaps)
			}
			// Ten good answers since the widening: back to full speed.
			if tr := next(t, p, prev); tr.after != 0 {
				t.Fatalf("after ten good answers: %v later, want none", tr.after)
			}
			prev, _ = answer(t, p, time.Now(), 3, http.StatusOK) // the pace it goes at: full speed
			p.answered(prev, http.StatusServiceUnavailable, false)
			prev, _ = answer(t, p, prev, 1, http.StatusOK)
			prev, _ = answer(t, p, prev, 1, http.StatusServiceUnavailable)
			if tr := next(t, p, prev); tr.after != 2*time.Second {
				t.Fatalf("a 503 one answer after a widening: %v later, want 2s", tr.after)
			}
			prev, _ = answer(t, p, prev, 4, http.StatusOK)
			prev, _ = answer(t, p, prev, 1, http.StatusTooManyRequests)
			if tr := next(t, p, prev); tr.after != 4*time.Second {
				t.Fatalf("a 429 after the gap held: %v later, want 4s", tr.after)
			}
			// Ten good answers shrink it to 3s; a 503 right after the
			// shrink but long after the last refusal is a stray one too.
			prev, _ = answer(t, p, prev, 10, http.StatusOK)
			prev, gaps = answer(t, p, prev, 1, http.StatusServiceUnavailable)
			prev, more = answer(t, p, prev, 2, http.StatusOK)
			if gaps = append(gaps, more...); !same(gaps, 3*time.Second) {
				t.Fatalf("gaps %v after a shrink and a stray 503, want 3s", gaps)
			}
		})
	})
	t.Run("retries are not the pace", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// Requests at full speed, then three retries each after a 2s
			// backoff: a 503 slows the run to the floor, not to twice the
			// backoff.
			p := newPacer(0, 0, time.Second, time.Minute)
			prev, _ := answer(t, p, time.Now(), 3, http.StatusOK)
			for range 3 {
				time.Sleep(2 * time.Second)
				if _, err := p.waitRetry(t.Context()); err != nil {
					t.Fatal(err)
				}
				prev = time.Now()
			}
			p.answered(prev, http.StatusServiceUnavailable, false)
			if tr := next(t, p, prev); tr.after != time.Second {
				t.Fatalf("next request %v later, want the 1s floor", tr.after)
			}
		})
	})
	t.Run("Retry-After instead of widening", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// Refusals that say how long to wait are waited out (by
			// holdUntil, not here) and leave the gap as it is: six of them
			// in a row do not slow the run to a minute between requests.
			p := newPacer(0, 0, time.Second, time.Minute)
			prev := next(t, p, time.Now()).at
			for range 6 {
				p.answered(prev, http.StatusTooManyRequests, true)
				tr := next(t, p, prev)
				if tr.after != 0 || tr.held != 0 {
					t.Fatalf("after a 429 with Retry-After: next request %v later (held %v), want none", tr.after, tr.held)
				}
				prev = tr.at
			}
			// Without one it backs off, doubling; one with it then holds
			// the gap, and breaks the row of good answers that shrinks it.
			p.answered(prev, http.StatusTooManyRequests, false)
			prev = next(t, p, prev).at
			p.answered(prev, http.StatusTooManyRequests, false)
			tr := next(t, p, prev)
			if tr.after != 2*time.Second {
				t.Fatalf("two 429s without Retry-After: gap %v, want 2s", tr.after)
			}
			prev = tr.at
			prev, _ = answer(t, p, prev, 9, http.StatusOK)
			p.answered(prev, http.StatusTooManyRequests, true)
			prev, gaps := answer(t, p, prev, 9, http.StatusOK)
			if !same(gaps, 2*time.Second) {
				t.Fatalf("gaps %v after a 429 with Retry-After, want 2s held", gaps)
			}
			// Ten good answers in a row relax it by a quarter.
			_, gaps = answer(t, p, prev, 2, http.StatusOK)
			if gaps[1] != 1500*time.Millisecond {
				t.Fatalf("gaps %v after ten good answers, want 2s then 1.5s", gaps)
			}
		})
	})
	t.Run("cap below the floor", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p := newPacer(0, 0, time.Second, 300*time.Millisecond)
			prev := next(t, p, time.Now()).at
			p.answered(prev, http.StatusTooManyRequests, false)
			if tr := next(t, p, prev); tr.after != 300*time.Millisecond {
				t.Fatalf("gap %v, want the 300ms cap", tr.after)
			}
		})
	})
	t.Run("held is wall time", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// Two workers held by one Retry-After of 5s: 5s held, not 10s.
			p := newPacer(0, 0, time.Second, time.Minute)
			p.holdUntil(time.Now().Add(5 * time.Second))
			var wg sync.WaitGroup
			var mu sync.Mutex
			var total time.Duration
			for range 2 {
				wg.Go(func() {
					held, err := p.wait(t.Context())
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					total += held
					mu.Unlock()
				})
			}
			wg.Wait()
			if total != 5*time.Second {
				t.Errorf("held %v in all, want 5s", total)
			}
		})
	})
	t.Run("cancelled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p := newPacer(0, 0, time.Minute, time.Minute)
			prev := next(t, p, time.Now()).at
			p.answered(prev, http.StatusTooManyRequests, false)
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(2*time.Second, cancel)
			start := time.Now()
			held, err := p.wait(ctx)
			if !errors.Is(err, context.Canceled) || time.Since(start) != 2*time.Second || held != 2*time.Second {
				t.Errorf("cancelled wait: %v after %v, held %v; want canceled after 2s, 2s held", err, time.Since(start), held)
			}
		})
	})
}

// TestThrottleSlowsDown: a market that refuses (429, no Retry-After) any
// request closer than 100ms to the one before, crawled over two circuits
// at full speed, sees the crawler's requests spread out after the first
// refusals, so that few are refused and every page is read; the run record
// counts the refusals the market made, and the time held for them.
func TestThrottleSlowsDown(t *testing.T) {
	const minGap = 100 * time.Millisecond
	e := newPagedEnv(t, 8, 0, nil)
	var (
		mu      sync.Mutex
		last    time.Time
		gaps    []time.Duration // between arrivals, after the first refusal
		refused int
	)
	e.pm.setGate(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		if refused > 0 {
			gaps = append(gaps, now.Sub(last))
		}
		tooSoon := !last.IsZero() && now.Sub(last) < minGap
		last = now
		if tooSoon {
			refused++
			http.Error(w, "slow down", http.StatusTooManyRequests)
		}
		return tooSoon
	})
	site := e.site("ratelimited", "")
	site.Circuits = 2
	site.Limits.RunTimeout = time.Minute
	run, err := e.run(t, site, WithThrottleFloor(150*time.Millisecond))
	if err != nil || run.Status != precwatch.RunOK || run.Pages != 24 {
		t.Fatalf("run: %v %s, %d pages, errors %q; want ok, 24 pages", err, run.Status, run.Pages, run.Errors)
	}
	mu.Lock()
	defer mu.Unlock()
	if refused == 0 {
		t.Fatal("the market refused nothing: the test does not test throttling")
	}
	if got := e.pm.requests(); run.Requests != got || run.Throttled != refused {
		t.Errorf("run counted %d requests, %d throttled; the market served %d, refused %d", run.Requests, run.Throttled, got, refused)
	}
	// At full speed nearly every request would be refused (and the pages
	// given up after their retries); slowed down, one page in three at most.
	if refused > 8 {
		t.Errorf("%d of %d requests refused, want 8 at most", refused, run.Requests)
	}
	t.Logf("%d of %d requests refused; %v held for them", refused, run.Requests, run.ThrottleWait)
	slices.Sort(gaps)
	if median := gaps[len(gaps)/2]; median < minGap {
		t.Errorf("after the first refusal the market saw requests a median %v apart, want at least %v: %v", median, minGap, gaps)
	}
	if run.ThrottleWait <= 0 || run.ThrottleWait > run.End.Sub(run.Start) {
		t.Errorf("throttle wait %v, want more than none and less than the run's %v", run.ThrottleWait, run.End.Sub(run.Start))
	}
	if st := e.storedRun(t, run.ID); st.Throttled != run.Throttled || st.ThrottleWait != run.ThrottleWait {
		t.Errorf("stored run: %d throttled, %v held; want %d, %v", st.Throttled, st.ThrottleWait, run.Throttled, run.ThrottleWait)
	}
}

// TestRetryAfterDoesNotWiden: a market that refuses one request in four
// with 429 and a short Retry-After is waited out as it asks, at the run's
// own pace otherwise: each such 429 doubled the gap between requests
// before (floor 200ms, so 200ms, 400ms, ... 6.4s over six refusals).
func TestRetryAfterDoesNotWiden(t *testing.T) {
	e := newPagedEnv(t, 8, 0, nil)
	var (
		mu      sync.Mutex
		n       int
		refused int
	)
	e.pm.setGate(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n%4 != 0 {
			return false
		}
		refused++
		w.Header().Set("Retry-After", "0")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return true
	})
	site := e.site("askswait", "")
	site.Limits.RunTimeout = time.Minute
	run, err := e.run(t, site, WithThrottleFloor(200*time.Millisecond))
	if err != nil || run.Status != precwatch.RunOK || run.Pages != 24 {
		t.Fatalf("run: %v %s, %d pages, errors %q; want ok, 24 pages", err, run.Status, run.Pages, run.Errors)
	}
	mu.Lock()
	defer mu.Unlock()
	if refused < 6 || run.Throttled != refused {
		t.Fatalf("%d refused, run counted %d throttled; want 6 or more, counted", refused, run.Throttled)
	}
	if run.ThrottleWait > 200*time.Millisecond {
		t.Errorf("held %v for %d refusals with Retry-After: 0, want next to none", run.ThrottleWait, refused)
	}
}

// TestThrottleWaitCancelled: a run waiting out a long throttle (a widened
// gap, or a Retry-After) ends as soon as its context is cancelled, with
// the part of the wait it made counted.
func TestThrottleWaitCancelled(t *testing.T) {
	for _, tc := range []struct{ name, retryAfter, logged string }{
		{"widened gap", "", "msg=retrying"},                  // then the retry waits at the gate
		{"Retry-After", "240", `msg="server asked to wait"`}, // then every request waits at the gate
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newPagedEnv(t, 1, 0, map[string]http.HandlerFunc{
				"GET /busy": busyHandler(http.StatusTooManyRequests, 100, func() string { return tc.retryAfter }),
			})
			site := e.site("busy", "")
			site.StartURLs = []string{"http://" + onionA + "/busy"}
			site.Limits.RunTimeout = 10 * time.Minute
			site.Politeness.MaxDelay = 10 * time.Minute
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			waiting := &signalWriter{match: tc.logged, ch: make(chan struct{})}
			go func() {
				<-waiting.ch
				time.Sleep(100 * time.Millisecond) // into the wait
				cancel()
			}()
			logger := slog.New(slog.NewTextHandler(waiting, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c, err := New(site, e.store, keywordMatcher{}, logger, WithRetryBackoff(time.Millisecond, 5*time.Millisecond),
				WithThrottleFloor(10*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			run, err := c.Run(ctx)
			took := time.Since(start)
			if err == nil || run.Status != precwatch.RunAbandoned {
				t.Fatalf("run: %v %s, want abandoned", err, run.Status)
			}
			// The wait was of 4 or 10 minutes.
			if took > time.Minute {
				t.Errorf("the cancelled run took %v", took)
			}
			if got := len(e.pm.requested("/busy")); got != 1 || run.Throttled != 1 {
				t.Errorf("/busy requested %d times, %d throttled answers counted; want 1, 1", got, run.Throttled)
			}
			if run.ThrottleWait <= 0 || run.ThrottleWait > took {
				t.Errorf("throttle wait %v, want some of the run's %v", run.ThrottleWait, took)
			}
		})
	}
}

// signalWriter closes ch once a line holding match is written to it.
type signalWriter struct {
	match string
	ch    chan struct{}
	once  sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.match) {
		w.once.Do(func() { close(w.ch) })
	}
	return len(p), nil
}
