package main

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

// scrape returns the metrics text an HTTP scrape of mt gets.
func scrape(t *testing.T, mt *metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(mt.reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

// hasSample reports whether the exposition holds the sample line exactly.
func hasSample(text, line string) bool {
	return strings.Contains("\n"+text, "\n"+line+"\n")
}

// TestMetricsProxyUp scrapes proxy_up over a real SOCKS5 proxy on loopback
// and over a port where nothing listens; the proxy's credentials never
// appear in a label.
func TestMetricsProxyUp(t *testing.T) {
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	dead := closedAddr(t)
	sites := []precwatch.Site{
		{Name: "a", Tor: true, Proxy: "socks5://" + p.Addr()},
		{Name: "b", Tor: true, Proxy: "socks5://user:hunter2@" + dead},
		{Name: "c", Tor: true, Proxy: "socks5://" + p.Addr()}, // one check per proxy
	}
	text := scrape(t, newMetrics(func() []precwatch.Site { return sites }))
	for _, want := range []string{
		fmt.Sprintf(`precwatch_proxy_up{proxy=%q} 1`, p.Addr()),
		fmt.Sprintf(`precwatch_proxy_up{proxy=%q} 0`, dead),
	} {
		if !hasSample(text, want) {
			t.Errorf("no %s in:\n%s", want, grepLines(text, "precwatch_proxy_up"))
		}
	}
	if n := strings.Count(text, "precwatch_proxy_up{"); n != 2 {
		t.Errorf("%d proxy_up samples, want 2 (one per proxy)", n)
	}
	if strings.Contains(text, "hunter2") {
		t.Error("a proxy password is exposed in the metrics")
	}
}

// TestMetricsObserveRun checks the counters a run record adds to.
func TestMetricsObserveRun(t *testing.T) {
	mt := newMetrics(func() []precwatch.Site { return nil })
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	mt.observeRun(precwatch.Run{Site: "s", Status: precwatch.RunOK, Start: start, End: start.Add(3e9), Pages: 7, Listings: 5, NewListings: 4, Alerts: 2})
	mt.observeRun(precwatch.Run{Site: "s", Status: precwatch.RunFailed, Start: start, End: start.Add(1e9), Errors: []string{"proxy down", "again"}})
	mt.observeRun(precwatch.Run{Site: "s", Status: precwatch.RunRunning}) // not finished: not counted
	mt.observeReload("file", nil, 92)
	mt.observeReload("file", fmt.Errorf("bad"), 0)
	text := scrape(t, mt)
	for _, want := range []string{
		`precwatch_crawl_runs_total{site="s",status="ok"} 1`,
		`precwatch_crawl_runs_total{site="s",status="failed"} 1`,
		`precwatch_crawl_pages_total{site="s"} 7`,
		`precwatch_crawl_new_listings_total{site="s"} 4`,
		`precwatch_alerts_raised_total{site="s"} 2`,
		`precwatch_crawl_errors_total{site="s"} 2`,
		`precwatch_crawl_duration_seconds_count{site="s"} 2`,
		`precwatch_crawl_last_success_timestamp_seconds{site="s"} ` + strconv.FormatFloat(float64(start.Add(3e9).Unix()), 'g', -1, 64),
		`precwatch_watchlist_reloads_total{result="ok",source="file"} 1`,
		`precwatch_watchlist_reloads_total{result="rejected",source="file"} 1`,
		`precwatch_watchlist_substances 92`,
	} {
		if !hasSample(text, want) {
			t.Errorf("no %s in:\n%s", want, grepLines(text, "precwatch_"))
		}
	}
	if strings.Contains(text, `status="running"`) {
		t.Error("a running run was counted")
	}
}

// grepLines returns text's lines that contain s.
func grepLines(text, s string) string {
	var out []string
	for l := range strings.Lines(text) {
		if strings.Contains(l, s) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

// TestMetricsIncrementalCounters checks the incremental re-crawl counters
// (issue 8) a run record adds to, per site.
func TestMetricsIncrementalCounters(t *testing.T) {
	mt := newMetrics(func() []precwatch.Site { return nil })
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	mt.observeRun(precwatch.Run{Site: "s", Status: precwatch.RunOK, Start: start, End: start.Add(3e9),
		Requests: 12, Bytes: 4096, NotModified: 0, DetailsSkipped: 0})
	mt.observeRun(precwatch.Run{Site: "s", Status: precwatch.RunOK, Start: start, End: start.Add(1e9),
		Requests: 3, Bytes: 512, NotModified: 3, DetailsSkipped: 9, StoppedEarly: true})
	mt.observeRun(precwatch.Run{Site: "s", Status: precwatch.RunOK, Start: start, End: start.Add(1e9),
		Requests: 2, GoneUndecided: "read from mirror m.onion"})
	mt.observeRun(precwatch.Run{Site: "t", Status: precwatch.RunPartial, Start: start, End: start.Add(1e9), Requests: 1})
	text := scrape(t, mt)
	for _, want := range []string{
		`precwatch_crawl_requests_total{site="s"} 17`,
		`precwatch_crawl_requests_total{site="t"} 1`,
		`precwatch_crawl_received_bytes_total{site="s"} 4608`,
		`precwatch_crawl_not_modified_total{site="s"} 3`,
		`precwatch_crawl_details_skipped_total{site="s"} 9`,
		`precwatch_crawl_stopped_early_total{site="s"} 1`,
		`precwatch_crawl_gone_undecided_total{site="s"} 1`,
	} {
		if !hasSample(text, want) {
			t.Errorf("no %s in:\n%s", want, grepLines(text, "precwatch_crawl_"))
		}
	}
	if strings.Contains(text, `precwatch_crawl_stopped_early_total{site="t"}`) {
		t.Error("a run that did not stop early counted as stopped early")
	}
	if strings.Contains(text, `precwatch_crawl_gone_undecided_total{site="t"}`) {
		t.Error("a run with no gone_undecided counted as one")
	}
}

// TestMetricsStopped: a needs_login or blocked run sets the site's gauge,
// the next ok run clears it (Sessions, issue 8).
func TestMetricsStopped(t *testing.T) {
	mt := newMetrics(func() []precwatch.Site { return nil })
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	mt.observeRun(precwatch.Run{Site: "s", Status: precwatch.RunBlocked, Start: start, End: start.Add(1e9)})
	mt.observeRun(precwatch.Run{Site: "t", Status: precwatch.RunNeedsLogin, Start: start, End: start.Add(1e9)})
	text := scrape(t, mt)
	for _, want := range []string{
		`precwatch_site_stopped{site="s",status="blocked"} 1`,
		`precwatch_site_stopped{site="s",status="needs_login"} 0`,
		`precwatch_site_stopped{site="t",status="needs_login"} 1`,
		`precwatch_crawl_runs_total{site="s",status="blocked"} 1`,
		`precwatch_crawl_runs_total{site="t",status="needs_login"} 1`,
	} {
		if !hasSample(text, want) {
			t.Errorf("no %s in:\n%s", want, grepLines(text, "precwatch_"))
		}
	}
	mt.observeRun(precwatch.Run{Site: "s", Status: precwatch.RunOK, Start: start, End: start.Add(1e9)})
	if text := scrape(t, mt); !hasSample(text, `precwatch_site_stopped{site="s",status="blocked"} 0`) {
		t.Errorf("an ok run did not clear the gauge:\n%s", grepLines(text, "stopped"))
	}
}

// TestMetricsThrottling: the 429 and 503 answers a run got, and the time
// held for them, add up per site.
func TestMetricsThrottling(t *testing.T) {
	mt := newMetrics(func() []precwatch.Site { return nil })
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	mt.observeRun(precwatch.Run{Site: "s", Status: precwatch.RunOK, Start: start, End: start.Add(3e9),
		Throttled: 3, ThrottleWait: 2500 * time.Millisecond})
	mt.observeRun(precwatch.Run{Site: "s", Status: precwatch.RunPartial, Start: start, End: start.Add(1e9),
		Throttled: 1, ThrottleWait: 750 * time.Millisecond})
	mt.observeRun(precwatch.Run{Site: "t", Status: precwatch.RunOK, Start: start, End: start.Add(1e9)})
	text := scrape(t, mt)
	for _, want := range []string{
		`precwatch_crawl_throttled_total{site="s"} 4`,
		`precwatch_crawl_throttle_wait_seconds_total{site="s"} 3.25`,
		`precwatch_crawl_throttled_total{site="t"} 0`,
		`precwatch_crawl_throttle_wait_seconds_total{site="t"} 0`,
	} {
		if !hasSample(text, want) {
			t.Errorf("no %s in:\n%s", want, grepLines(text, "precwatch_crawl_throttle"))
		}
	}
}
