package main

// Retention (prune): `precwatch prune`, the config's retention: block and
// the daemon's scheduled prunes, with their logs and metrics.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/crawler"
	"github.com/precwatch/precwatch/internal/yamlfile"
)

// age is a duration written as Go writes them (36h, 90m) or in days
// (90d, 1.5d, 1d12h), for retention's config and flags.
type age time.Duration

// parseAge reads an age; it must not be negative.
func parseAge(s string) (time.Duration, error) {
	bad := fmt.Errorf("want a duration such as 90d, 36h or 1d12h, got %q", s)
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, bad
	}
	var d time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		days, err := strconv.ParseFloat(s[:i], 64)
		if err != nil || days < 0 || days > 100*365 {
			return 0, bad
		}
		d = time.Duration(days * float64(24*time.Hour))
		s = s[i+1:]
		if s == "" {
			return d, nil
		}
	}
	rest, err := time.ParseDuration(s)
	if err != nil || rest < 0 || (d > 0 && strings.HasPrefix(s, "-")) {
		return 0, bad
	}
	return d + rest, nil
}

func (a *age) UnmarshalText(b []byte) error {
	d, err := parseAge(string(b))
	if err != nil {
		return err
	}
	*a = age(d)
	return nil
}

// Set and String make an age a flag.Value.
func (a *age) Set(s string) error { return a.UnmarshalText([]byte(s)) }

func (a *age) String() string {
	if a == nil || *a == 0 {
		return "0"
	}
	d := time.Duration(*a)
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// Defaults of retention.
const (
	defaultRunsAge = 365 * 24 * time.Hour
	// minAge is the shortest age retention takes: Prune never takes
	// anything of its last hour for old (precwatch.PruneGuard).
	minAge = precwatch.PruneGuard
)

// RetentionConfig is the config's retention: block. With a schedule the
// daemon prunes on it; `precwatch prune` takes its ages as defaults.
type RetentionConfig struct {
	// Fetches: fetch records and page bodies older than this are deleted
	// unless something kept names them.
	Fetches age `yaml:"fetches"`
	// Runs: ended runs older than this with no fetch record left are
	// deleted (default 365d).
	Runs age `yaml:"runs"`
	// Schedule is a cron spec ("@daily", "CRON_TZ=UTC 30 3 * * *").
	Schedule string `yaml:"schedule"`
}

// policy is the prune policy of r at now.
func (r RetentionConfig) policy(now time.Time, dry bool) precwatch.PrunePolicy {
	p := precwatch.PrunePolicy{FetchesBefore: now.Add(-time.Duration(r.Fetches)), DryRun: dry}
	if r.Runs > 0 {
		p.RunsBefore = now.Add(-time.Duration(r.Runs))
	}
	return p
}

// checkRetention validates the retention: block and fills its default.
func checkRetention(doc *yamlfile.Doc, r *RetentionConfig) yamlfile.Errors {
	var errs yamlfile.Errors
	at := func(f string) []any { return []any{"retention", f} }
	if r.Fetches == 0 && (r.Schedule != "" || r.Runs != 0) {
		errs = append(errs, doc.Errorf(at("fetches"), "required with retention's schedule or runs: how old a fetch record may get, such as 90d"))
	}
	if r.Fetches != 0 && time.Duration(r.Fetches) < minAge {
		errs = append(errs, doc.Errorf(at("fetches"), "at least %v: a prune never takes its last hour for old, got %v", minAge, r.Fetches.String()))
	}
	if r.Runs != 0 && time.Duration(r.Runs) < minAge {
		errs = append(errs, doc.Errorf(at("runs"), "at least %v, got %v", minAge, r.Runs.String()))
	}
	if r.Schedule != "" {
		if _, err := crawler.ParseSchedule(r.Schedule); err != nil {
			errs = append(errs, doc.Errorf(at("schedule"), "bad cron spec %q: %v", r.Schedule, errors.Unwrap(err)))
		}
	}
	if r.Fetches != 0 && r.Runs == 0 {
		r.Runs = age(defaultRunsAge)
	}
	return errs
}

// runPrune is `precwatch prune`.
func (m *Main) runPrune(ctx context.Context, args []string) error {
	fs := m.flags("prune")
	var olderThan, runsOlderThan age
	fs.Var(&olderThan, "older-than", "delete fetch records and page bodies older than this that nothing kept names, e.g. 90d or 36h (default: the config's retention.fetches)")
	fs.Var(&runsOlderThan, "runs-older-than", "delete ended runs older than this with no fetch record left (default: the config's retention.runs, else 365d; 0 keeps every run)")
	dry := fs.Bool("dry-run", false, "delete nothing: report what would be deleted")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	r := RetentionConfig{Fetches: olderThan, Runs: runsOlderThan}
	if !set["older-than"] || !set["runs-older-than"] {
		var cfg RetentionConfig
		if c, err := LoadConfig(m.ConfigPath); err == nil {
			cfg = c.Retention
		} else if !set["older-than"] {
			return &exitError{code: 2, err: fmt.Errorf("prune: --older-than is required when the config cannot be read: %w", err)}
		}
		if !set["older-than"] {
			r.Fetches = cfg.Fetches
		}
		if !set["runs-older-than"] {
			r.Runs = cfg.Runs
			if r.Runs == 0 {
				r.Runs = age(defaultRunsAge)
			}
		}
	}
	switch {
	case r.Fetches == 0:
		return &exitError{code: 2, err: fmt.Errorf("prune: --older-than is required (or retention.fetches in %s)", m.ConfigPath)}
	case time.Duration(r.Fetches) < minAge:
		return &exitError{code: 2, err: fmt.Errorf("prune: --older-than must be at least %v, got %v", minAge, r.Fetches.String())}
	case r.Runs != 0 && time.Duration(r.Runs) < minAge:
		return &exitError{code: 2, err: fmt.Errorf("prune: --runs-older-than must be 0 or at least %v, got %v", minAge, r.Runs.String())}
	}
	store, err := m.openStoreOnly(ctx, true)
	if err != nil {
		return err
	}
	p := r.policy(time.Now(), *dry)
	start := time.Now()
	rep, err := store.Prune(ctx, p)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printPrune(m.Stdout, r, rep, time.Since(start))
	return nil
}

// printPrune writes what a prune deleted (or would have).
func printPrune(w io.Writer, r RetentionConfig, rep precwatch.PruneReport, took time.Duration) {
	verb := "deleted"
	if rep.DryRun {
		verb = "dry run: would delete"
	}
	fmt.Fprintf(w, "%s %d fetch records (%s), %d page bodies (%s), %d runs (%s): %s in all, in %s\n",
		verb, rep.Fetches, humanBytes(rep.FetchBytes), rep.Pages, humanBytes(rep.PageBytes), rep.Runs, humanBytes(rep.RunBytes),
		humanBytes(rep.FetchBytes+rep.PageBytes+rep.RunBytes), took.Round(time.Millisecond))
	runs := "runs kept"
	if r.Runs > 0 {
		runs = "runs older than " + r.Runs.String()
	}
	fmt.Fprintf(w, "older than %s (%s): kept %d fetch records and %d page bodies that alerts, listings, fetch states or running runs name\n",
		r.Fetches.String(), runs, rep.FetchesKept, rep.PagesKept)
	if len(rep.WARCFiles) > 0 {
		fmt.Fprintf(w, "WARC files of the deleted runs, which no record names any more (prune leaves files alone):\n")
		for _, f := range rep.WARCFiles {
			fmt.Fprintf(w, "  %s\n", printable(f, 300))
		}
	}
}

// humanBytes is n in B, KB, MB or GB (powers of 1000, one decimal).
func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n), "B"
	for _, s := range []string{"KB", "MB", "GB", "TB"} {
		v /= unit
		suffix = s
		if v < unit {
			break
		}
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}

// pruneMetrics are the daemon's retention metrics.
type pruneMetrics struct {
	runs     *prometheus.CounterVec
	deleted  *prometheus.CounterVec
	bytes    *prometheus.CounterVec
	kept     *prometheus.GaugeVec
	lastOK   prometheus.Gauge
	duration prometheus.Gauge
}

func newPruneMetrics(reg *prometheus.Registry) *pruneMetrics {
	pm := &pruneMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "precwatch_prune_runs_total", Help: "Scheduled prunes (retention), by result (ok, failed).",
		}, []string{"result"}),
		deleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "precwatch_prune_deleted_total", Help: "Records deleted by scheduled prunes, by kind (fetches, pages, runs).",
		}, []string{"kind"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "precwatch_prune_deleted_bytes_total", Help: "Bytes of the records deleted by scheduled prunes (page bodies as stored), by kind.",
		}, []string{"kind"}),
		kept: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "precwatch_prune_kept", Help: "Records older than the cutoff the last prune kept because something kept names them, by kind (fetches, pages).",
		}, []string{"kind"}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "precwatch_prune_last_success_timestamp_seconds", Help: "When the last scheduled prune that succeeded ended (Unix time).",
		}),
		duration: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "precwatch_prune_last_duration_seconds", Help: "How long the last scheduled prune took.",
		}),
	}
	for _, r := range []string{"ok", "failed"} {
		pm.runs.WithLabelValues(r)
	}
	for _, k := range []string{"fetches", "pages", "runs"} {
		pm.deleted.WithLabelValues(k)
		pm.bytes.WithLabelValues(k)
	}
	reg.MustRegister(pm.runs, pm.deleted, pm.bytes, pm.kept, pm.lastOK, pm.duration)
	return pm
}

func (pm *pruneMetrics) observe(rep precwatch.PruneReport, err error, took time.Duration) {
	if pm == nil {
		return
	}
	pm.duration.Set(took.Seconds())
	if err != nil {
		pm.runs.WithLabelValues("failed").Inc()
	} else {
		pm.runs.WithLabelValues("ok").Inc()
		pm.lastOK.SetToCurrentTime()
		pm.kept.WithLabelValues("fetches").Set(float64(rep.FetchesKept))
		pm.kept.WithLabelValues("pages").Set(float64(rep.PagesKept))
	}
	// What a failed prune deleted before failing is deleted too.
	pm.deleted.WithLabelValues("fetches").Add(float64(rep.Fetches))
	pm.deleted.WithLabelValues("pages").Add(float64(rep.Pages))
	pm.deleted.WithLabelValues("runs").Add(float64(rep.Runs))
	pm.bytes.WithLabelValues("fetches").Add(float64(rep.FetchBytes))
	pm.bytes.WithLabelValues("pages").Add(float64(rep.PageBytes))
	pm.bytes.WithLabelValues("runs").Add(float64(rep.RunBytes))
}

// startRetention prunes store on the schedule of the config in force,
// until ctx is done; a reload takes effect at once (see Reload).
func (m *Main) startRetention(ctx context.Context, store precwatch.Store) {
	m.retentionReload = make(chan struct{}, 1)
	go func() {
		for {
			r := m.config.Load().Retention
			t := time.NewTimer(time.Hour)
			t.Stop() // no schedule: wait for a reload
			if r.Schedule != "" {
				sched, err := crawler.ParseSchedule(r.Schedule)
				if err != nil { // checked when the config was read
					m.logger.Error("retention schedule", "error", err)
				} else {
					next := sched.Next(time.Now())
					m.logger.Info("prune scheduled", "schedule", r.Schedule, "fetches", r.Fetches.String(), "runs", r.Runs.String(), "next", next)
					t.Reset(time.Until(next))
				}
			}
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-m.retentionReload:
				t.Stop()
				continue
			case <-t.C:
			}
			m.prune(ctx, store, r)
		}
	}()
}

// prune runs one scheduled prune, logs it and counts it.
func (m *Main) prune(ctx context.Context, store precwatch.Store, r RetentionConfig) {
	start := time.Now()
	rep, err := store.Prune(ctx, r.policy(start, false))
	took := time.Since(start)
	if m.metrics != nil {
		m.metrics.prune.observe(rep, err, took)
	}
	if err != nil {
		if ctx.Err() == nil {
			m.logger.Error("prune failed", "error", yamlfile.RedactError(err), "fetches", rep.Fetches, "pages", rep.Pages, "runs", rep.Runs, "duration_s", took.Seconds())
		}
		return
	}
	m.logger.Info("prune done", "fetches", rep.Fetches, "pages", rep.Pages, "runs", rep.Runs,
		"bytes", rep.FetchBytes+rep.PageBytes+rep.RunBytes, "fetches_kept", rep.FetchesKept, "pages_kept", rep.PagesKept,
		"warc_files", len(rep.WARCFiles), "duration_s", took.Seconds())
	for _, f := range rep.WARCFiles {
		m.logger.Info("WARC file no record names any more", "path", f)
	}
}
