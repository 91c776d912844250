package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// TestMetricsMirrors checks the per-site, per-mirror gauges and that a
// mirror dropped from the config loses its series.
func TestMetricsMirrors(t *testing.T) {
	mt := newMetrics(func() []precwatch.Site { return nil })
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	run := precwatch.Run{Site: "m", Status: precwatch.RunOK, Start: start, End: start.Add(5 * time.Second), CircuitsReplaced: 2,
		Mirrors: []precwatch.MirrorStatus{
			{URL: "http://a.onion", Requests: 2, Failures: 2},
			{URL: "http://b.onion", Requests: 9, LastSuccess: start.Add(4 * time.Second), Latency: 1500 * time.Millisecond, Active: true},
		}}
	mt.observeRun(run)
	text := scrape(t, mt)
	for _, want := range []string{
		`precwatch_mirror_last_success_timestamp_seconds{mirror="http://b.onion",site="m"} 1.772366404e+09`,
		`precwatch_mirror_latency_seconds{mirror="http://b.onion",site="m"} 1.5`,
		`precwatch_mirror_active{mirror="http://b.onion",site="m"} 1`,
		`precwatch_mirror_active{mirror="http://a.onion",site="m"} 0`,
		`precwatch_circuits_replaced_total{site="m"} 2`,
	} {
		if !hasSample(text, want) {
			t.Errorf("no %s in:\n%s", want, grepLines(text, "precwatch_mirror"))
		}
	}
	if strings.Contains(text, `precwatch_mirror_last_success_timestamp_seconds{mirror="http://a.onion"`) {
		t.Error("a mirror that never answered has a last-success sample")
	}
	run.Mirrors = run.Mirrors[1:]
	mt.observeRun(run)
	if text := scrape(t, mt); strings.Contains(text, "http://a.onion") {
		t.Errorf("removed mirror still exported:\n%s", grepLines(text, "a.onion"))
	}

	var out bytes.Buffer
	printCircuitsMirrors(&out, run)
	for _, want := range []string{"circuits replaced: 2", "mirror * http://b.onion requests=9 failures=0 last_success=2026-03-01T12:00:04Z latency=1.5s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("crawl output %q lacks %q", out.String(), want)
		}
	}
}
