package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/crawler"
	"github.com/precwatch/precwatch/crawler/extract"
	"github.com/precwatch/precwatch/internal/yamlfile"
	"github.com/precwatch/precwatch/matchers"
	"github.com/precwatch/precwatch/storage/redis"
)

// runDaemon is `precwatch run`: cron per site until ctx is cancelled.
func (m *Main) runDaemon(ctx context.Context, args []string) error {
	fs := m.flags("run")
	demo := fs.Bool("demo", false, "serve the fixture marketplaces and their SOCKS5 proxy on loopback, to try precwatch without Tor")
	runOnStart := fs.Bool("run-on-start", false, "crawl every site once at start, print the alerts, then follow the schedules")
	reloadEvery := fs.Duration("reload-interval", 5*time.Second, "how often to look for changes of the config and watchlist files (0: on SIGHUP only)")
	addr := fs.String("addr", "127.0.0.1:8080", "console listen address (empty: no console)")
	cert := fs.String("tls-cert", "", "TLS certificate file for the console (HTTPS, Secure cookies)")
	key := fs.String("tls-key", "", "TLS key file for the console")
	metricsAddr := fs.String("metrics-addr", "", "Prometheus /metrics listen address, e.g. 127.0.0.1:9464 (empty: none)")
	m.scaleOutFlags(fs) // Scale-out (issue 9)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	// Stamp the config before reading it, so that an edit made while
	// starting up is still seen as a change.
	cfgStamp := fileStamp(m.ConfigPath)
	cfg, mt, err := m.loadConfig()
	if err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	stamps := cfgStamp + fileStamp(cfg.WatchlistPath())
	m.config.Store(cfg)
	m.matcher.Use(mt, cfg)
	if *demo {
		if err := m.startDemo(ctx, cfg); err != nil {
			return err
		}
	}
	store, err := m.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	cs, _ := store.(precwatch.ConsoleStore)
	schedOpts := &crawler.SchedulerOptions{}
	if cs != nil {
		schedOpts.Paused = func(ctx context.Context, site string) bool {
			states, err := cs.SiteStates(ctx)
			return err == nil && states[site].Paused
		}
	}
	var sched *crawler.Scheduler
	m.metrics = newMetrics(func() []precwatch.Site { return sched.Sites() })
	m.metrics.observeReload("file", nil, len(mt.Watchlist().Substances))
	m.scale.daemon = true // Scale-out (issue 9): see crawlerOptions
	sched = crawler.NewScheduler(schedOpts, m.logger, m.crawlFunc(store))
	if err := sched.Update(cfg.Sites); err != nil {
		return fmt.Errorf("refusing to start: %w", err)
	}
	sched.Start()
	m.sweepRuns(ctx, store, sched) // Scale-out (issue 9)
	m.logger.Info("precwatch running", "config", m.ConfigPath, "sites", len(cfg.Sites), "version", version)
	for _, s := range sched.Sites() {
		if crawler.OnDemand(s) {
			m.logger.Info("site on demand: no schedule", "site", s.Name, "tor", s.IsTor())
			continue
		}
		m.logger.Info("site scheduled", "site", s.Name, "schedule", s.Schedule, "tor", s.IsTor(), "next", sched.Next(s.Name))
	}

	// Shutdown order: stop scheduling and cancel the runs in flight (each
	// records itself), wait for them, then Close closes the store, then
	// the demo markets.
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := sched.Stop(stopCtx); err != nil {
			m.logger.Warn("runs did not finish in time", "error", err)
		}
		m.logger.Info("precwatch stopped")
	}()

	if *metricsAddr != "" {
		u, shutdown, err := m.serveMetrics(ctx, *metricsAddr, m.metrics)
		if err != nil {
			return err
		}
		defer shutdown()
		fmt.Fprintf(m.Stdout, "metrics: %s\n", u)
	}
	if *addr != "" {
		if cs == nil {
			return fmt.Errorf("store %T cannot serve the console; run with --addr ''", store)
		}
		u, shutdown, err := m.serveConsole(ctx, *addr, *cert, *key, cs, sched)
		if err != nil {
			return err
		}
		defer shutdown() // runs first: the console stops before the scheduler
		if !*demo {
			m.accountHint(ctx, cs)
		}
		fmt.Fprintf(m.Stdout, "console: %s\n", u)
		if *demo {
			pw, err := demoLogin(ctx, cs)
			if err != nil {
				return fmt.Errorf("demo login: %w", err)
			}
			fmt.Fprintf(m.Stdout, "sign in as admin, password %s\n", pw)
		}
	}

	m.watchStore(ctx, store, m.metrics.reg) // issue 9
	m.startRetention(ctx, store)
	// Delivery (issue 11): the webhooks stop before the store closes.
	hooks, err := m.startWebhooks(ctx, cfg, store)
	if err != nil {
		return err
	}
	defer hooks.Stop()
	m.hooks.Store(hooks) // a reload puts changed webhooks in force
	if *runOnStart {
		m.crawlAll(ctx, sched)
		if ctx.Err() == nil {
			// A store down now is not a reason to stop: the schedules go
			// on and the next runs converge once it is back (issue 9).
			if err := m.printAlerts(ctx, store, precwatch.AlertFilter{}, false); err != nil {
				m.logger.Error("cannot list the alerts; the daemon goes on", "error", yamlfile.RedactError(err))
			}
		}
	}
	return m.watch(ctx, sched, *reloadEvery, stamps)
}

// crawlAll runs every site once, concurrently, and waits for them.
func (m *Main) crawlAll(ctx context.Context, sched *crawler.Scheduler) {
	var wg sync.WaitGroup
	for _, s := range sched.Sites() {
		wg.Go(func() {
			run, err := sched.RunNow(ctx, s.Name)
			if err != nil {
				m.logger.Warn("crawl failed", "site", s.Name, "error", err)
				return
			}
			m.logger.Info("crawl done", "site", s.Name, "status", run.Status, "pages", run.Pages,
				"listings", run.Listings, "new_listings", run.NewListings, "new_alerts", run.Alerts,
				"requests", run.Requests, "bytes", run.Bytes, "not_modified", run.NotModified,
				"details_skipped", run.DetailsSkipped, "stopped_early", run.StoppedEarly,
				"throttled", run.Throttled, "throttle_wait", run.ThrottleWait)
		})
	}
	wg.Wait()
}

// watch reloads the config and watchlist on SIGHUP and when their files
// change, until ctx is done. A bad new version is logged and ignored.
func (m *Main) watch(ctx context.Context, sched *crawler.Scheduler, every time.Duration, last string) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			last = m.fileStamps()
			_ = m.Reload(sched)
		case <-tick:
			if now := m.fileStamps(); now != last {
				last = now
				_ = m.Reload(sched)
			}
		}
	}
}

// fileStamps identifies the current versions of the config and watchlist.
func (m *Main) fileStamps() string {
	s := fileStamp(m.ConfigPath)
	if cfg := m.config.Load(); cfg != nil {
		s += fileStamp(cfg.WatchlistPath())
	}
	return s
}

func fileStamp(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return path + ":missing;"
	}
	return fmt.Sprintf("%s:%d:%d;", path, fi.ModTime().UnixNano(), fi.Size())
}

// Reload reads the config and watchlist again and puts them in force
// together; when either is broken the previous ones stay in force.
func (m *Main) Reload(sched *crawler.Scheduler) error {
	m.reloadMu.Lock()
	defer m.reloadMu.Unlock()
	cfg, mt, err := m.loadConfig()
	if err == nil {
		err = sched.Update(cfg.Sites)
	}
	if err != nil {
		err = yamlfile.RedactError(err)
		m.metrics.observeReload("file", err, 0)
		m.rejected.Store(&rejectedReload{at: time.Now().UTC(), err: err})
		m.logger.Error("reload rejected, keeping the previous config and watchlist", "error", err)
		return err
	}
	m.rejected.Store(nil)
	m.metrics.observeReload("file", nil, len(mt.Watchlist().Substances))
	if old := m.config.Load(); old != nil && old.Store != cfg.Store {
		m.logger.Warn("store changes take effect at restart", "store", redacted(cfg.Store))
	}
	m.matcher.Use(mt, cfg)
	m.config.Store(cfg)
	if m.retentionReload != nil {
		select { // the schedule reads the config in force again
		case m.retentionReload <- struct{}{}:
		default:
		}
	}
	if hooks := m.hooks.Load(); hooks != nil {
		if err := hooks.apply(cfg); err != nil {
			m.logger.Error("webhooks not changed", "error", err)
		}
	}
	m.logger.Info("config reloaded", "sites", len(cfg.Sites), "substances", len(mt.Watchlist().Substances))
	return nil
}

func (m *Main) crawlFunc(store precwatch.Store) crawler.RunFunc {
	return func(ctx context.Context, site precwatch.Site) (precwatch.Run, error) {
		opts, err := m.crawlerOptions() // Scale-out (issue 9)
		if err != nil {
			return precwatch.Run{}, err
		}
		if a := m.warcArchive(); a != nil { // issue 11
			opts = append(opts, crawler.WithArchive(a))
		}
		c, err := crawler.New(site, store, &m.matcher, m.logger, opts...)
		if err != nil {
			return precwatch.Run{}, err
		}
		run, err := c.Run(ctx)
		m.metrics.observeRun(run)
		return run, err
	}
}

// runCrawl is `precwatch crawl --site NAME`.
func (m *Main) runCrawl(ctx context.Context, args []string) error {
	fs := m.flags("crawl")
	name := fs.String("site", "", "the site to crawl (required)")
	m.scaleOutFlags(fs) // Scale-out (issue 9)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if *name == "" {
		return &exitError{code: 2, err: errors.New("crawl: --site is required")}
	}
	cfg, mt, err := m.loadConfig()
	if err != nil {
		return err
	}
	site, ok := cfg.Site(*name)
	if !ok {
		return fmt.Errorf("crawl: no site %q in %s", *name, m.ConfigPath)
	}
	m.matcher.Use(mt, cfg)
	store, err := m.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	run, err := m.crawlFunc(store)(ctx, site)
	fmt.Fprintf(m.Stdout, "run %s site=%s status=%s pages=%d listings=%d new_listings=%d new_alerts=%d errors=%d"+
		" requests=%d bytes=%d not_modified=%d details_skipped=%d stopped_early=%t throttled=%d throttle_wait=%s\n",
		run.ID, site.Name, run.Status, run.Pages, run.Listings, run.NewListings, run.Alerts, len(run.Errors),
		run.Requests, run.Bytes, run.NotModified, run.DetailsSkipped, run.StoppedEarly, run.Throttled, run.ThrottleWait.Round(time.Millisecond))
	for _, e := range run.Errors {
		fmt.Fprintf(m.Stdout, "  error: %s\n", printableError(e, 400))
	}
	if run.GoneUndecided != "" {
		fmt.Fprintf(m.Stdout, "  nothing marked gone: %s\n", printable(run.GoneUndecided, 400))
	}
	if b := run.Block; b != nil { // Sessions (issue 8)
		fmt.Fprintf(m.Stdout, "  stopped by a %s page at %s: %s; evidence page %s\n",
			b.Class, printable(b.URL, 200), printable(b.Reason, 200), b.PageSHA256)
	}
	printCircuitsMirrors(m.Stdout, run)
	if err != nil {
		return fmt.Errorf("crawl %q: %w", site.Name, err)
	}
	if run.Status == precwatch.RunFailed { // issue 9: never exit 0 on a failed run
		return fmt.Errorf("crawl %q: run %s failed", site.Name, run.ID)
	}
	// A run that read pages and not one listing did not crawl the site:
	// a new site's selectors or a market's changed markup. A script
	// running crawl must see it, not only its printed error.
	if run.Status == precwatch.RunPartial && run.Listings == 0 {
		return fmt.Errorf("crawl %q: run %s read no listing (status partial): its error above says what the extract rules matched", site.Name, run.ID)
	}
	return nil
}

// runAlerts is `precwatch alerts`.
func (m *Main) runAlerts(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "follow" {
		return m.alertsFollow(ctx, args[1:])
	}
	fs := m.flags("alerts")
	asJSON := fs.Bool("json", false, "print JSON (one array) instead of a table")
	var f precwatch.AlertFilter
	status := fs.String("status", "", "only alerts with this status: new, triaged, escalated, dismissed")
	severity := fs.String("severity", "", "only alerts at least this severe: low, medium, high, critical")
	fs.StringVar(&f.Site, "site", "", "only alerts of this site")
	fs.StringVar(&f.Substance, "substance", "", "only alerts of this substance id")
	fs.IntVar(&f.Limit, "limit", 100, "at most this many alerts (0: all)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	f.Status = precwatch.AlertStatus(*status)
	if *severity != "" {
		sv, err := precwatch.ParseSeverity(*severity)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		f.MinSeverity = sv
	}
	store, err := m.openStoreOnly(ctx, true)
	if err != nil {
		return err
	}
	return m.printAlerts(ctx, store, f, *asJSON)
}

func (m *Main) printAlerts(ctx context.Context, store precwatch.Store, f precwatch.AlertFilter, asJSON bool) error {
	alerts, err := store.Alerts(ctx, f)
	if err != nil {
		return fmt.Errorf("list alerts: %w", err)
	}
	total := len(alerts)
	if f.Limit > 0 && len(alerts) >= f.Limit { // issue 10: say that more exist
		if total, err = alertTotal(ctx, store, f); err != nil {
			return err
		}
	}
	if asJSON {
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if alerts == nil {
			alerts = []precwatch.Alert{}
		}
		if err := enc.Encode(alerts); err != nil {
			return err
		}
		m.moreNotice(true, len(alerts), total, "alerts")
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tSUBSTANCE\tREGIME\tSTRENGTH\tSITE\tTITLE\tPRICE\tVENDOR\tSTATUS\tRAISED\tKEY")
	for _, a := range alerts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			a.Severity, printable(a.Substance, 30), a.Regime, strength(a.Matches), printable(a.Site, 20),
			printable(a.Listing.Title, 48), price(a.Listing), printable(a.Listing.Vendor, 20),
			a.Status, a.CreatedAt.Local().Format("2006-01-02 15:04"), a.Key)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%d alert(s)\n", len(alerts))
	m.moreNotice(false, len(alerts), total, "alerts")
	return nil
}

func strength(ms []precwatch.Match) string {
	for _, x := range ms {
		if x.ConcentrationPercent != nil {
			s := strconv.FormatFloat(*x.ConcentrationPercent, 'f', -1, 64) + "%"
			if x.OverLimit != nil && *x.OverLimit {
				s += " (over)"
			}
			return s
		}
	}
	return "-"
}

func price(l precwatch.Listing) string {
	if p := precwatch.FormatPrice(l.Price, printable(l.Currency, 5)); p != "" {
		return p
	}
	return "-"
}

// printable makes text from a monitored page safe for a terminal: control
// characters (escape sequences included) become spaces, and it is cut to
// at most n runes.
func printable(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// printableError is printable for an error message cut in its middle, not
// at its end: a wrapped error names its cause last ("... socks connect
// ...: no acceptable authentication methods (the proxy wants credentials:
// put its username and password in the proxy URL)").
func printableError(s string, n int) string {
	r := []rune(printable(s, len(s)+1))
	if len(r) <= n {
		return string(r)
	}
	head := n / 3
	return string(r[:head]) + "…" + string(r[len(r)-(n-head-1):])
}

// matchInput is one line of `precwatch match` input. Price may be a number
// or a string.
type matchInput struct {
	ID          string          `json:"id"`
	Site        string          `json:"site"`
	URL         string          `json:"url"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Price       json.RawMessage `json:"price"`
	Vendor      string          `json:"vendor"`
}

// matchOutput is one line of `precwatch match` output.
type matchOutput struct {
	ID      string            `json:"id"`
	Site    string            `json:"site,omitempty"`
	URL     string            `json:"url,omitempty"`
	Matches []precwatch.Match `json:"matches"`
	Error   string            `json:"error,omitempty"`
	Line    int               `json:"line,omitempty"`
}

// maxMatchLine bounds one input line, so a hostile input cannot exhaust
// memory: a longer line is reported by number and skipped, the rest of the
// stream still processed. A crawled listing is far smaller (the extractor
// keeps at most 1 KiB of title and 64 KiB of description).
const maxMatchLine = 1 << 20

// runMatch is `precwatch match`.
func (m *Main) runMatch(ctx context.Context, args []string) error {
	fs := m.flags("match")
	wlPath := fs.String("watchlist", "", "watchlist file (default: the config's)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	var mt *matchers.Matcher
	policy := severityPolicy(nil)
	if *wlPath != "" {
		wl, err := matchers.LoadWatchlist(*wlPath)
		if err != nil {
			return err
		}
		if mt, err = matchers.Compile(wl); err != nil {
			return err
		}
	} else {
		cfg, c, err := m.loadConfig()
		if err != nil {
			return err
		}
		mt, policy = c, &cfg.Severity
	}
	return matchStream(ctx, precwatch.WithSeverity(mt, policy), m.Stdin, m.Stdout)
}

// matchStream matches each JSON line of in and writes one result line per
// input line to out. A bad line (invalid JSON, not an object, a field of the
// wrong type, too long) gets an error line naming its number and the stream
// goes on; the error returned counts them.
func matchStream(ctx context.Context, mt precwatch.Matcher, in io.Reader, out io.Writer) (err error) {
	lines := &lineReader{br: bufio.NewReaderSize(in, 64<<10), max: maxMatchLine}
	w := bufio.NewWriter(out)
	defer func() {
		// Results already computed are written whatever stops the stream.
		if ferr := w.Flush(); ferr != nil && err == nil {
			err = fmt.Errorf("match: write: %w", ferr)
		}
	}()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	bad, n := 0, 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		raw, tooLong, err := lines.next()
		if err == io.EOF {
			break
		}
		n++
		if err != nil {
			return fmt.Errorf("match: read line %d: %w", n, err)
		}
		var res matchOutput
		if tooLong {
			res = matchOutput{Line: n, Error: fmt.Sprintf("line longer than %d bytes, skipped", maxMatchLine)}
		} else if raw = bytes.TrimSpace(raw); len(raw) == 0 {
			continue
		} else {
			res = matchLine(mt, raw, n)
		}
		if res.Error != "" {
			bad++
		}
		if res.Matches == nil {
			res.Matches = []precwatch.Match{}
		}
		if err := enc.Encode(res); err != nil {
			return fmt.Errorf("match: write: %w", err)
		}
	}
	if bad > 0 {
		return fmt.Errorf("match: %d invalid input line(s)", bad)
	}
	return nil
}

// matchLine decodes and matches one input line, numbered n.
func matchLine(mt precwatch.Matcher, raw []byte, n int) matchOutput {
	if raw[0] != '{' {
		return matchOutput{Line: n, Error: "not a JSON object"}
	}
	var in matchInput
	if err := json.Unmarshal(raw, &in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return matchOutput{Line: n, Error: fmt.Sprintf("field %q: want a %s, got a JSON %s", te.Field, te.Type, te.Value)}
		}
		return matchOutput{Line: n, Error: "invalid JSON: " + err.Error()}
	}
	price, ok := parsePrice(in.Price)
	if !ok {
		return matchOutput{ID: in.ID, Line: n, Error: fmt.Sprintf("field \"price\": want a number or a numeric string, got %s", printable(string(in.Price), 40))}
	}
	l := precwatch.Listing{ID: in.ID, Site: in.Site, URL: in.URL, Title: in.Title, Description: in.Description, Vendor: in.Vendor, Price: price}
	return matchOutput{ID: in.ID, Site: in.Site, URL: in.URL, Matches: mt.Match(l)}
}

// lineReader reads lines of at most max bytes, holding no more than that.
type lineReader struct {
	br  *bufio.Reader
	buf []byte
	max int
}

// next returns the next line without its newline, or tooLong for a line
// over max bytes, which it consumes whole without keeping it; io.EOF after
// the last line.
func (r *lineReader) next() (line []byte, tooLong bool, err error) {
	r.buf = r.buf[:0]
	read := false
	for {
		frag, err := r.br.ReadSlice('\n')
		read = read || len(frag) > 0
		if !tooLong {
			if len(r.buf)+len(frag) > r.max+1 {
				tooLong, r.buf = true, r.buf[:0]
			} else {
				r.buf = append(r.buf, frag...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if !read {
				return nil, false, io.EOF
			}
		case err != nil:
			return nil, false, err
		}
		line = bytes.TrimSuffix(r.buf, []byte("\n"))
		return line, tooLong || len(line) > r.max, nil
	}
}

// parsePrice reads a price given as a number or as text the extractor
// reads ("40", "$35", "0.0019 BTC"); absent, null and empty are no price.
// It reports false for anything else.
func parsePrice(raw json.RawMessage) (float64, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, true
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return f, true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return 0, false
	}
	if strings.TrimSpace(s) == "" {
		return 0, true
	}
	f, _, ok := extract.ParsePrice(s)
	return f, ok
}

// runConfigCheck is `precwatch config check`.
func (m *Main) runConfigCheck(_ context.Context, args []string) error {
	fs := m.flags("config check")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	cfg, mt, err := m.loadConfig()
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "ok: %s: %d site(s); watchlist %s: %d substance(s)\n",
		m.ConfigPath, len(cfg.Sites), cfg.WatchlistPath(), len(mt.Watchlist().Substances))
	return nil
}

// alertsFollow is `precwatch alerts follow`: an integration's feed. It
// prints each alert event of the Redis stream as one JSON line, as a
// consumer of a group, and acknowledges an event only once its line is
// written: a consumer killed mid-way gets its unacknowledged events again
// when restarted under its name, and another consumer of the group takes
// them over once they have been idle for --claim-idle.
func (m *Main) alertsFollow(ctx context.Context, args []string) error {
	fs := m.flags("alerts follow")
	group := fs.String("group", "", "consumer group: one per integration; each group gets every event (required)")
	host, _ := os.Hostname()
	consumer := fs.String("consumer", fmt.Sprintf("%s-%d", host, os.Getpid()), "this consumer's name within the group; keep it across restarts to get back its unacknowledged events")
	var opts redis.FollowOptions
	fs.BoolVar(&opts.FromStart, "from-start", false, "a new group starts at the stream's first event (default: the events after it is created)")
	fs.DurationVar(&opts.ClaimIdle, "claim-idle", time.Minute, "take over events another consumer of the group left unacknowledged this long")
	fs.IntVar(&opts.Max, "max", 0, "stop after this many events (0: until interrupted)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if *group == "" {
		return &exitError{code: 2, err: errors.New("alerts follow: --group is required")}
	}
	store, err := m.openStoreOnly(ctx, false)
	if err != nil {
		return err
	}
	rs, ok := store.(*redis.Store)
	if !ok {
		if ds, ok := store.(precwatch.DeliveryStore); ok { // the embedded outbox (issue 11)
			return m.followLog(ctx, ds, *group, opts)
		}
		return fmt.Errorf("alerts follow: store %T keeps no event outbox", store)
	}
	out := bufio.NewWriter(m.Stdout)
	enc := json.NewEncoder(out)
	return rs.Follow(ctx, *group, *consumer, opts, func(e redis.StreamEvent) error {
		if err := enc.Encode(e); err != nil {
			return err
		}
		return out.Flush() // written before it is acknowledged
	})
}
