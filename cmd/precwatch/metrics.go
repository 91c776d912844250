package main

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/precwatch/precwatch"
)

// metrics are the daemon's Prometheus metrics, on a registry of their own
// (no global state, so tests can run daemons side by side). An operator
// alerts on them: a site whose last good run is old, runs failing, a proxy
// down, a watchlist reload rejected.
type metrics struct {
	reg         *prometheus.Registry
	runs        *prometheus.CounterVec
	pages       *prometheus.CounterVec
	listings    *prometheus.CounterVec
	newListings *prometheus.CounterVec
	alerts      *prometheus.CounterVec
	runErrors   *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	lastOK      *prometheus.GaugeVec
	reloads     *prometheus.CounterVec
	substances  prometheus.Gauge

	// Incremental re-crawls (issue 8).
	requests       *prometheus.CounterVec
	bytes          *prometheus.CounterVec
	notModified    *prometheus.CounterVec
	detailsSkipped *prometheus.CounterVec
	stoppedEarly   *prometheus.CounterVec
	goneUndecided  *prometheus.CounterVec
	// Throttling (politeness.go): 429 and 503 answers, and the time held
	// for them.
	throttled    *prometheus.CounterVec
	throttleWait *prometheus.CounterVec
	// Sessions (issue 8): 1 while the site's last run ended needs_login
	// or blocked (by status), else 0.
	stopped *prometheus.GaugeVec
	mirrors *mirrorMetrics // circuits and mirrors (issue 8)
	prune   *pruneMetrics  // retention (retention.go)
}

func newMetrics(sites func() []precwatch.Site) *metrics {
	bySite := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"site"})
	}
	mt := &metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "precwatch_crawl_runs_total", Help: "Crawl runs finished, by site and status (ok, partial, failed, abandoned, needs_login, blocked).",
		}, []string{"site", "status"}),
		pages:       bySite("precwatch_crawl_pages_total", "Pages fetched by crawl runs."),
		listings:    bySite("precwatch_crawl_listings_total", "Listings extracted by crawl runs."),
		newListings: bySite("precwatch_crawl_new_listings_total", "Listings seen for the first time."),
		alerts:      bySite("precwatch_alerts_raised_total", "Alerts raised (new alerts, not repeated sightings)."),
		runErrors:   bySite("precwatch_crawl_errors_total", "Errors recorded by crawl runs (fetch, parse, limits)."),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "precwatch_crawl_duration_seconds", Help: "How long crawl runs took.",
			Buckets: prometheus.ExponentialBuckets(0.1, 4, 8), // 0.1 s to about 27 min
		}, []string{"site"}),
		lastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "precwatch_crawl_last_success_timestamp_seconds", Help: "When the site's last ok run ended (Unix time).",
		}, []string{"site"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "precwatch_watchlist_reloads_total", Help: "Config and watchlist reloads, by source (file, console) and result (ok, rejected).",
		}, []string{"source", "result"}),
		substances: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "precwatch_watchlist_substances", Help: "Substances in the watchlist in force.",
		}),
	}
	mt.requests = bySite("precwatch_crawl_requests_total", "HTTP requests sent by crawl runs, retries and 304s included.")
	mt.bytes = bySite("precwatch_crawl_received_bytes_total", "Response body bytes received by crawl runs.")
	mt.notModified = bySite("precwatch_crawl_not_modified_total", "Conditional requests answered 304 Not Modified.")
	mt.detailsSkipped = bySite("precwatch_crawl_details_skipped_total", "Detail pages not fetched because the listing's index row was unchanged and its detail recent.")
	mt.stoppedEarly = bySite("precwatch_crawl_stopped_early_total", "Runs that stopped paginating after stop_after_unchanged_pages quiet index pages.")
	mt.goneUndecided = bySite("precwatch_crawl_gone_undecided_total", "Complete runs that marked nothing gone (gone_undecided: read from a mirror, or under half the last complete run's listings).")
	mt.reg.MustRegister(mt.requests, mt.bytes, mt.notModified, mt.detailsSkipped, mt.stoppedEarly, mt.goneUndecided)
	mt.throttled = bySite("precwatch_crawl_throttled_total", "Answers 429 Too Many Requests or 503 Service Unavailable, each of which slowed the site's requests down.")
	mt.throttleWait = bySite("precwatch_crawl_throttle_wait_seconds_total", "Time the site's requests were held for 429 and 503 answers (Retry-After and the widened gap between requests).")
	mt.reg.MustRegister(mt.throttled, mt.throttleWait)
	mt.stopped = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "precwatch_site_stopped", Help: "1 while the site's last run ended needs_login or blocked (by status), else 0.",
	}, []string{"site", "status"})
	mt.reg.MustRegister(mt.stopped)
	mt.reg.MustRegister(mt.runs, mt.pages, mt.listings, mt.newListings, mt.alerts, mt.runErrors,
		mt.duration, mt.lastOK, mt.reloads, mt.substances,
		&proxyCollector{sites: sites},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mt.mirrors = newMirrorMetrics(mt.reg)
	mt.prune = newPruneMetrics(mt.reg)
	mt.reg.MustRegister(buildInfo()) // issue 10: which build runs
	return mt
}

// observeRun counts a finished run. A nil *metrics (a command other than
// run) counts nothing.
func (mt *metrics) observeRun(r precwatch.Run) {
	if mt == nil || r.Site == "" || r.Status == precwatch.RunRunning {
		return
	}
	mt.runs.WithLabelValues(r.Site, string(r.Status)).Inc()
	mt.pages.WithLabelValues(r.Site).Add(float64(r.Pages))
	mt.listings.WithLabelValues(r.Site).Add(float64(r.Listings))
	mt.newListings.WithLabelValues(r.Site).Add(float64(r.NewListings))
	mt.alerts.WithLabelValues(r.Site).Add(float64(r.Alerts))
	mt.runErrors.WithLabelValues(r.Site).Add(float64(len(r.Errors)))
	mt.requests.WithLabelValues(r.Site).Add(float64(r.Requests))
	mt.bytes.WithLabelValues(r.Site).Add(float64(r.Bytes))
	mt.notModified.WithLabelValues(r.Site).Add(float64(r.NotModified))
	mt.detailsSkipped.WithLabelValues(r.Site).Add(float64(r.DetailsSkipped))
	mt.throttled.WithLabelValues(r.Site).Add(float64(r.Throttled))
	mt.throttleWait.WithLabelValues(r.Site).Add(r.ThrottleWait.Seconds())
	if r.StoppedEarly {
		mt.stoppedEarly.WithLabelValues(r.Site).Inc()
	}
	if r.GoneUndecided != "" {
		mt.goneUndecided.WithLabelValues(r.Site).Inc()
	}
	if r.Status != precwatch.RunAbandoned {
		for _, st := range []precwatch.RunStatus{precwatch.RunNeedsLogin, precwatch.RunBlocked} {
			v := 0.0
			if r.Status == st {
				v = 1
			}
			mt.stopped.WithLabelValues(r.Site, string(st)).Set(v)
		}
	}
	mt.mirrors.observe(r)
	if !r.End.IsZero() {
		mt.duration.WithLabelValues(r.Site).Observe(r.End.Sub(r.Start).Seconds())
		if r.Status == precwatch.RunOK {
			mt.lastOK.WithLabelValues(r.Site).Set(float64(r.End.Unix()))
		}
	}
}

// observeReload counts a reload from source and, when it took, the size
// of the watchlist now in force.
func (mt *metrics) observeReload(source string, err error, substances int) {
	if mt == nil {
		return
	}
	if err != nil {
		mt.reloads.WithLabelValues(source, "rejected").Inc()
		return
	}
	mt.reloads.WithLabelValues(source, "ok").Inc()
	mt.substances.Set(float64(substances))
}

// proxyCollector reports at each scrape whether every SOCKS5 proxy the
// sites use answers a greeting: Tor down is the first thing an operator
// needs to hear about, before the runs start failing.
type proxyCollector struct {
	sites func() []precwatch.Site
}

var proxyUpDesc = prometheus.NewDesc("precwatch_proxy_up",
	"Whether the SOCKS5 proxy answers a greeting (1) or not (0), by proxy address.", []string{"proxy"}, nil)

func (c *proxyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- proxyUpDesc }

func (c *proxyCollector) Collect(ch chan<- prometheus.Metric) {
	proxies := map[string]precwatch.Site{}
	for _, s := range c.sites() {
		if p := s.ProxyURL(); p != "" {
			// The host alone: a proxy URL may carry credentials.
			if u, err := url.Parse(p); err == nil {
				proxies[u.Host] = s
			}
		}
	}
	var wg sync.WaitGroup
	for host, s := range proxies {
		wg.Go(func() {
			up := 0.0
			if checkProxy(context.Background(), s) == nil {
				up = 1
			}
			ch <- prometheus.MustNewConstMetric(proxyUpDesc, prometheus.GaugeValue, up, host)
		})
	}
	wg.Wait()
}

// serveMetrics serves /metrics on its own listener, apart from the
// console: a scraper needs no session, and the console's address may be
// public while the metrics stay on loopback.
func (m *Main) serveMetrics(ctx context.Context, addr string, mt *metrics) (string, func(), error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(mt.reg, promhttp.HandlerOpts{Registry: mt.reg}))
	hs := &http.Server{Handler: m.withHealth(mux) /* /healthz, /readyz: issue 10 */, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute}
	base, shutdown, err := m.serveHTTP(ctx, "metrics", addr, hs, "", "")
	if err != nil {
		return "", nil, err
	}
	return base + "/metrics", shutdown, nil
}
