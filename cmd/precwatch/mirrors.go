package main

import (
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/precwatch/precwatch"
)

// mirrorMetrics are the circuit and mirror metrics (issue 8): a gauge per
// site and mirror of its last success and latency, which mirror is in use,
// and a count of replaced circuits.
type mirrorMetrics struct {
	lastSuccess *prometheus.GaugeVec
	latency     *prometheus.GaugeVec
	active      *prometheus.GaugeVec
	replaced    *prometheus.CounterVec
}

func newMirrorMetrics(reg *prometheus.Registry) *mirrorMetrics {
	bySiteMirror := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"site", "mirror"})
	}
	mm := &mirrorMetrics{
		lastSuccess: bySiteMirror("precwatch_mirror_last_success_timestamp_seconds", "When a request to the site's mirror last got an answer (Unix time)."),
		latency:     bySiteMirror("precwatch_mirror_latency_seconds", "Mean time to response headers of the mirror's successful requests in the last run that had any."),
		active:      bySiteMirror("precwatch_mirror_active", "Whether the site's last run ended on this mirror (1) or not (0)."),
		replaced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "precwatch_circuits_replaced_total", Help: "Tor circuits given fresh credentials after a request on them failed.",
		}, []string{"site"}),
	}
	reg.MustRegister(mm.lastSuccess, mm.latency, mm.active, mm.replaced)
	return mm
}

// observe records a finished run's circuits and mirrors. A mirror no longer
// in the run record (removed from the config) loses its gauges.
func (mm *mirrorMetrics) observe(r precwatch.Run) {
	if mm == nil {
		return
	}
	mm.replaced.WithLabelValues(r.Site).Add(float64(r.CircuitsReplaced))
	site := prometheus.Labels{"site": r.Site}
	mm.lastSuccess.DeletePartialMatch(site)
	mm.latency.DeletePartialMatch(site)
	mm.active.DeletePartialMatch(site)
	for _, m := range r.Mirrors {
		if !m.LastSuccess.IsZero() {
			mm.lastSuccess.WithLabelValues(r.Site, m.URL).Set(float64(m.LastSuccess.Unix()))
		}
		if m.Latency > 0 {
			mm.latency.WithLabelValues(r.Site, m.URL).Set(m.Latency.Seconds())
		}
		active := 0.0
		if m.Active {
			active = 1
		}
		mm.active.WithLabelValues(r.Site, m.URL).Set(active)
	}
}

// printCircuitsMirrors adds a run's circuit and mirror lines to `crawl`'s
// output.
func printCircuitsMirrors(w io.Writer, r precwatch.Run) {
	if r.CircuitsReplaced > 0 {
		fmt.Fprintf(w, "  circuits replaced: %d\n", r.CircuitsReplaced)
	}
	for _, m := range r.Mirrors {
		last := "never"
		if !m.LastSuccess.IsZero() {
			last = m.LastSuccess.UTC().Format("2006-01-02T15:04:05Z")
		}
		mark := " "
		if m.Active {
			mark = "*"
		}
		fmt.Fprintf(w, "  mirror %s %s requests=%d failures=%d last_success=%s latency=%s\n",
			mark, m.URL, m.Requests, m.Failures, last, m.Latency.Round(1e6))
	}
}
