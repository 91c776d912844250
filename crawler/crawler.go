// Package crawler fetches a site's pages with colly, through its SOCKS5
// proxy when it has one (always for Tor sites), extracts listings, matches
// them against the watchlist and records them in a Store.
//
// Transport fails closed: a proxied site's only dialer is the SOCKS5 proxy,
// with host names resolved by the proxy, and there is no direct fallback.
//
// Limits: MaxPages counts every page scheduled (index and detail; retries
// are not pages); MaxDepth counts link hops from a start URL, and a detail
// page is not a hop, so a listing found at the depth limit is still
// completed. Hitting MaxPages or RunTimeout makes a run partial; the depth
// limit is the crawl's scope and does not.
package crawler

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gocolly/colly/v2"
	"golang.org/x/net/html/charset"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/crawler/extract"
)

// Defaults applied when a site leaves a limit at zero.
const (
	DefaultMaxPages       = 200
	DefaultMaxDepth       = 5
	DefaultMaxBodyBytes   = 5 << 20
	DefaultRequestTimeout = 30 * time.Second
	DefaultRunTimeout     = 10 * time.Minute
	DefaultRetries        = 2
	// DefaultUserAgent is Tor Browser's, so requests do not stand out.
	DefaultUserAgent = "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"
	// maxRunErrors bounds the errors kept in a run record.
	maxRunErrors = 25
)

// Crawler crawls one site. Build it with New; Run may be called repeatedly
// (each run gets a fresh collector) but not concurrently.
type Crawler struct {
	site    precwatch.Site
	store   precwatch.Store
	matcher precwatch.Matcher
	logger  *slog.Logger
	ext     extract.Extractor
	tor     bool
	hosts   map[string]bool

	proxyURL  *url.URL // nil: direct
	proxyAddr string

	now         func() time.Time
	httpTimeout time.Duration
	direct      DialFunc
	backoff     time.Duration
	maxBackoff  time.Duration

	maxPages, maxDepth, retries int
	maxBody                     int64
	runTimeout                  time.Duration
	parallelism                 int
	userAgent                   string
}

// Option configures a Crawler.
type Option func(*Crawler)

// WithClock sets the clock used for run times, fetch times and
// observations (time.Now by default).
func WithClock(now func() time.Time) Option {
	return func(c *Crawler) {
		if now != nil {
			c.now = now
		}
	}
}

// WithHTTPTimeout overrides the site's per-request timeout.
func WithHTTPTimeout(d time.Duration) Option {
	return func(c *Crawler) { c.httpTimeout = d }
}

// WithDirectDialer replaces the dialer used for sites fetched without a
// proxy. It is never used for proxied (and so never for Tor) sites; tests
// use it to count direct connections.
func WithDirectDialer(dial DialFunc) Option {
	return func(c *Crawler) { c.direct = dial }
}

// WithRetryBackoff sets the first retry's wait (doubled on each further
// retry, plus jitter) and the cap on any one wait. Defaults: 500ms, 10s.
func WithRetryBackoff(base, maxWait time.Duration) Option {
	return func(c *Crawler) {
		c.backoff, c.maxBackoff = base, maxWait
	}
}

// New checks site and prepares a crawler for it. A Tor site (see
// precwatch.Site.IsTor) without a usable SOCKS5 proxy URL is an error here,
// before anything is fetched.
func New(site precwatch.Site, store precwatch.Store, matcher precwatch.Matcher, logger *slog.Logger, opts ...Option) (*Crawler, error) {
	if site.Name == "" {
		return nil, errors.New("crawler: site has no name")
	}
	if store == nil || matcher == nil {
		return nil, fmt.Errorf("crawler: site %q: store and matcher are required", site.Name)
	}
	if len(site.StartURLs) == 0 {
		return nil, fmt.Errorf("crawler: site %q: no start urls", site.Name)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Crawler{
		site:       site,
		store:      store,
		matcher:    matcher,
		logger:     logger.With("crawler", site.Name),
		tor:        site.IsTor(),
		hosts:      make(map[string]bool),
		now:        time.Now,
		backoff:    500 * time.Millisecond,
		maxBackoff: 10 * time.Second,
	}
	for _, raw := range site.StartURLs {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("crawler: site %q: start url %q: %w", site.Name, raw, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			return nil, fmt.Errorf("crawler: site %q: start url %q: want an absolute http(s) url", site.Name, raw)
		}
		c.hosts[strings.ToLower(u.Hostname())] = true
	}
	ext, err := extract.New(site.Extract)
	if err != nil {
		return nil, fmt.Errorf("crawler: site %q: %w", site.Name, err)
	}
	c.ext = ext
	if p := site.ProxyURL(); p != "" {
		c.proxyURL, c.proxyAddr, err = parseProxy(p)
		if err != nil {
			return nil, fmt.Errorf("crawler: site %q: %w", site.Name, err)
		}
	} else if c.tor {
		// ProxyURL never returns "" for a Tor site; guard the invariant anyway.
		return nil, fmt.Errorf("crawler: site %q: tor site without a proxy", site.Name)
	}

	l, p := site.Limits, site.Politeness
	c.maxPages = orDefault(l.MaxPages, DefaultMaxPages)
	c.maxDepth = orDefault(l.MaxDepth, DefaultMaxDepth)
	c.maxBody = orDefault(l.MaxBodyBytes, DefaultMaxBodyBytes)
	c.httpTimeout = orDefault(l.RequestTimeout, DefaultRequestTimeout)
	c.runTimeout = orDefault(l.RunTimeout, DefaultRunTimeout)
	c.retries = orDefault(l.Retries, DefaultRetries)
	if c.retries < 0 {
		c.retries = 0
	}
	c.parallelism = max(p.Parallelism, 1)
	c.userAgent = p.UserAgent
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	for _, o := range opts {
		o(c)
	}
	if c.httpTimeout <= 0 {
		c.httpTimeout = DefaultRequestTimeout
	}
	return c, nil
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// NewRunID returns a unique ID that sorts by start time.
func NewRunID(start time.Time) string {
	var b [4]byte
	_, _ = crand.Read(b[:])
	return start.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(b[:])
}

// Context keys of a colly request.
const (
	keyTask   = "precwatch.task"
	keyStatus = "precwatch.status"
	keySkip   = "precwatch.skip"
)

type taskKind int

const (
	kindIndex taskKind = iota
	kindDetail
)

// task is one page to fetch. A detail task carries the partial listing
// read from its index page.
type task struct {
	url     string
	depth   int
	kind    taskKind
	listing precwatch.Listing
}

// run is the state of one Run.
type run struct {
	c         *Crawler
	ctx       context.Context
	cancel    context.CancelFunc
	coll      *colly.Collector
	pace      *pacer
	transport *limitTransport
	tasks     chan task
	wg        sync.WaitGroup

	mu          sync.Mutex
	rec         precwatch.Run
	seenURL     map[string]bool
	seenListing map[string]bool
	scheduled   int
	limitHit    bool
	dropped     int // errors beyond maxRunErrors
	proxyErr    error
}

// Run does one crawl of the site: fetch, extract, match, record. The run
// record is saved as running at the start and with its outcome at the end;
// after an OK run the listings it did not see are marked gone. The error is
// non-nil when the run failed or was abandoned; a partial run is data, its
// errors are in the record.
func (c *Crawler) Run(ctx context.Context) (precwatch.Run, error) {
	start := c.now()
	r := &run{
		c:           c,
		seenURL:     make(map[string]bool),
		seenListing: make(map[string]bool),
		rec: precwatch.Run{
			ID:     NewRunID(start),
			Site:   c.site.Name,
			Start:  start,
			Status: precwatch.RunRunning,
		},
		pace: &pacer{delay: c.site.Politeness.Delay, jitter: c.site.Politeness.RandomDelay},
	}
	if err := c.store.SaveRun(ctx, r.rec); err != nil {
		return r.rec, fmt.Errorf("crawler: site %q: save run: %w", c.site.Name, err)
	}
	logger := c.logger.With("run_id", r.rec.ID)
	logger.Info("run started", "tor", c.tor, "proxied", c.proxyURL != nil)

	r.ctx, r.cancel = context.WithTimeout(ctx, c.runTimeout)
	defer r.cancel()
	if err := r.setup(); err != nil {
		r.addErr(err)
	} else {
		r.crawl()
		// Kept-alive connections (SOCKS tunnels) do not outlive the run.
		r.transport.CloseIdleConnections()
	}
	return c.finish(ctx, r, logger)
}

// setup builds the run's collector and transport.
func (r *run) setup() error {
	c := r.c
	var dial DialFunc
	if c.proxyURL != nil {
		var err error
		dial, err = proxyDialer(c.proxyURL, c.proxyAddr, c.httpTimeout, r.proxyUnreachable)
		if err != nil {
			return err
		}
	} else {
		dial = c.direct
		if dial == nil {
			dial = (&net.Dialer{Timeout: c.httpTimeout}).DialContext
		}
	}
	hosts := make([]string, 0, len(c.hosts))
	for h := range c.hosts {
		hosts = append(hosts, h)
	}
	coll := colly.NewCollector(colly.StdlibContext(r.ctx))
	// NewCollector applies COLLY_* environment variables last; pin every
	// setting that bears on safety or limits so the environment cannot
	// widen the domains, add a cache or lift the caps.
	coll.UserAgent = c.userAgent
	coll.AllowedDomains = hosts
	coll.DisallowedDomains = nil
	coll.CacheDir = ""
	coll.MaxDepth = 0    // the run counts depth itself (see enqueue)
	coll.MaxRequests = 0 // and pages
	coll.IgnoreRobotsTxt = true
	coll.DetectCharset = false
	coll.ParseHTTPErrorResponse = false
	coll.TraceHTTP = false
	// The run keeps its own visited set (canonical URLs) and must be able
	// to retry a URL, so colly's revisit check is off.
	coll.AllowURLRevisit = true
	// Bodies are capped by the transport, which fails on overflow; this is
	// only a second fence.
	coll.MaxBodySize = int(min(c.maxBody+1, int64(^uint(0)>>1)))
	coll.SetRedirectHandler(nil)
	r.transport = newTransport(dial, c.httpTimeout, c.maxBody)
	coll.WithTransport(r.transport)
	coll.SetRequestTimeout(c.httpTimeout)
	// Parallelism is bounded by colly and by the number of workers; delays
	// are done by the run's pacer, which, unlike LimitRule's sleep, stops
	// at once when the run is cancelled.
	if err := coll.Limit(&colly.LimitRule{DomainGlob: "*", Parallelism: c.parallelism}); err != nil {
		return fmt.Errorf("crawler: limit rule: %w", err)
	}
	coll.OnRequest(func(req *colly.Request) {
		if r.ctx.Err() != nil {
			req.Abort()
			return
		}
		req.Headers.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
		req.Headers.Set("Accept-Language", "en-US,en;q=0.5")
	})
	coll.OnResponseHeaders(func(resp *colly.Response) {
		resp.Ctx.Put(keyStatus, resp.StatusCode)
		ct := resp.Headers.Get(headerContentType)
		if resp.StatusCode < 300 && !isHTML(ct) {
			resp.Ctx.Put(keySkip, ct)
			resp.Request.Abort()
		}
	})
	coll.OnError(func(resp *colly.Response, _ error) {
		if resp != nil && resp.StatusCode != 0 {
			resp.Ctx.Put(keyStatus, resp.StatusCode)
		}
	})
	coll.OnResponse(func(resp *colly.Response) {
		defer r.recoverAs("page " + resp.Request.URL.Redacted())
		t, _ := resp.Ctx.GetAny(keyTask).(task)
		r.page(t, resp)
	})
	r.coll = coll
	return nil
}

// isHTML reports whether a Content-Type may hold a page worth parsing; a
// missing one is given the benefit of the doubt.
func isHTML(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "text/html" || mt == "application/xhtml+xml"
}

// crawl runs the workers over the frontier until it is empty or the run
// context ends.
func (r *run) crawl() {
	c := r.c
	// At most maxPages tasks are ever scheduled, so sends never block.
	r.tasks = make(chan task, c.maxPages)
	for _, u := range c.site.StartURLs {
		r.enqueue(task{url: u, depth: 0, kind: kindIndex})
	}
	go func() {
		r.wg.Wait()
		close(r.tasks)
	}()
	var workers sync.WaitGroup
	for range c.parallelism {
		workers.Go(func() {
			for t := range r.tasks {
				r.do(t)
			}
		})
	}
	workers.Wait()
}

// enqueue schedules t unless its URL was seen this run, it is off the
// site's hosts, too deep, or the page budget is spent. It reports whether t
// was scheduled.
func (r *run) enqueue(t task) bool {
	u, err := url.Parse(t.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	if !r.c.hosts[strings.ToLower(u.Hostname())] {
		return false
	}
	if t.kind == kindIndex && t.depth > r.c.maxDepth {
		return false
	}
	key := extract.Canonical(u)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seenURL[key] {
		return false
	}
	if r.scheduled >= r.c.maxPages {
		r.limitHit = true
		return false
	}
	r.seenURL[key] = true
	r.scheduled++
	r.wg.Add(1)
	r.tasks <- t
	return true
}

// do fetches one task, retrying 5xx answers and timeouts with exponential
// backoff. When a detail page cannot be had, the listing is recorded as
// read from its index page so that it is not lost.
func (r *run) do(t task) {
	defer r.wg.Done()
	defer r.recoverAs("fetch " + t.url)
	for attempt := 0; ; attempt++ {
		if r.pace.wait(r.ctx) != nil {
			return
		}
		cctx := colly.NewContext()
		cctx.Put(keyTask, t)
		err := r.coll.Request(http.MethodGet, t.url, nil, cctx, nil)
		if err == nil || r.ctx.Err() != nil {
			return
		}
		if _, ok := cctx.GetAny(keySkip).(string); ok {
			r.c.logger.Debug("skipped non-html page", "url", t.url, "content_type", cctx.GetAny(keySkip))
			if t.kind == kindDetail {
				r.record(t.listing)
			}
			return
		}
		if perr := r.proxyFailure(); perr != nil {
			return
		}
		status, _ := cctx.GetAny(keyStatus).(int)
		if attempt < r.c.retries && retryable(status, err) {
			wait := r.backoff(attempt)
			r.c.logger.Debug("retrying", "url", t.url, "status", status, "error", err, "attempt", attempt+1, "wait", wait)
			if sleep(r.ctx, wait) != nil {
				return
			}
			continue
		}
		if status != 0 && status != http.StatusOK {
			err = fmt.Errorf("status %d: %w", status, err)
		}
		r.addErr(fmt.Errorf("crawler: fetch %s: %w", t.url, err))
		if t.kind == kindDetail {
			r.record(t.listing)
		}
		return
	}
}

// retryable reports whether a failed fetch is worth another try: a server
// error, a timeout, or a transient refusal by Tor (see SOCKSReplyError).
// 4xx answers are final.
func retryable(status int, err error) bool {
	if status >= 500 {
		return true
	}
	if status >= 400 {
		return false
	}
	if errors.Is(err, ErrBodyTooLarge) {
		return false
	}
	// The proxy's (Tor's) refusal: retried only when it may pass.
	var refused *SOCKSReplyError
	if errors.As(err, &refused) {
		return refused.retryable()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	// Tor reports its own circuit timeouts as SOCKS "TTL expired".
	return errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "TTL expired")
}

func (r *run) backoff(attempt int) time.Duration {
	d := r.c.backoff << attempt
	if d <= 0 || d > r.c.maxBackoff {
		d = r.c.maxBackoff
	}
	if d > 0 {
		d += rand.N(d/2 + 1)
	}
	return d
}

// page handles one fetched HTML page: it is kept as evidence, then its
// listings are recorded (or sent to their detail pages) and its links
// followed.
func (r *run) page(t task, resp *colly.Response) {
	c := r.c
	fetchedAt := c.now()
	pageURL := resp.Request.URL
	ct := resp.Headers.Get(headerContentType)
	sum := sha256.Sum256(resp.Body)
	digest := hex.EncodeToString(sum[:])
	r.mu.Lock()
	r.rec.Pages++
	r.mu.Unlock()
	if err := c.store.SavePage(r.ctx, precwatch.Page{
		SHA256:      digest,
		Site:        c.site.Name,
		URL:         pageURL.String(),
		FetchedAt:   fetchedAt,
		ContentType: ct,
		Body:        resp.Body,
	}); err != nil {
		r.addErr(fmt.Errorf("crawler: save page %s: %w", pageURL.Redacted(), err))
	}
	doc, err := parse(resp.Body, ct)
	if err != nil {
		r.addErr(fmt.Errorf("crawler: parse %s: %w", pageURL.Redacted(), err))
		return
	}

	if t.kind == kindDetail {
		l, err := c.ext.Detail(doc, pageURL, t.listing)
		if err != nil {
			r.addErr(fmt.Errorf("crawler: detail %s: %w", pageURL.Redacted(), err))
			r.record(t.listing)
			return
		}
		l.FetchedAt, l.PageSHA256 = fetchedAt, digest
		r.record(l)
		return
	}

	res, err := c.ext.Extract(doc, pageURL)
	if err != nil {
		r.addErr(fmt.Errorf("crawler: extract %s: %w", pageURL.Redacted(), err))
		return
	}
	follow := c.ext.FollowDetails()
	for _, l := range res.Listings {
		l.FetchedAt, l.PageSHA256 = fetchedAt, digest
		if follow && l.URL != "" && r.enqueue(task{url: l.URL, depth: t.depth + 1, kind: kindDetail, listing: l}) {
			continue
		}
		r.record(l)
	}
	for _, link := range res.Links {
		r.enqueue(task{url: link, depth: t.depth + 1, kind: kindIndex})
	}
}

// parse builds a document from body, decoding the charset named by the
// Content-Type or the page's meta tags; invalid bytes become U+FFFD.
func parse(body []byte, contentType string) (*goquery.Document, error) {
	rd, err := charset.NewReader(bytes.NewReader(body), contentType)
	if err != nil {
		return goquery.NewDocumentFromReader(bytes.NewReader(body))
	}
	return goquery.NewDocumentFromReader(rd)
}

// record matches one complete listing and records it, once per run.
func (r *run) record(l precwatch.Listing) {
	c := r.c
	l.Site = c.site.Name
	l.Tor = c.tor
	l.ID = valid(l.ID)
	l.URL = valid(l.URL)
	l.Title = valid(l.Title)
	l.Description = valid(l.Description)
	l.Currency = valid(l.Currency)
	l.Vendor = valid(l.Vendor)
	if l.ID == "" && l.URL == "" {
		r.addErr(fmt.Errorf("crawler: listing %q on %s: no id or url", l.Title, c.site.Name))
		return
	}
	r.mu.Lock()
	if r.seenListing[l.Identity()] {
		r.mu.Unlock()
		return
	}
	r.seenListing[l.Identity()] = true
	r.mu.Unlock()

	res, err := r.observe(l)
	if err != nil {
		r.addErr(fmt.Errorf("crawler: record %s: %w", l.Identity(), err))
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rec.Listings++
	if res.NewListing {
		r.rec.NewListings++
	}
	r.rec.Alerts += len(res.NewAlerts)
}

// observe matches and stores one listing; a panic (a matcher tripped by a
// hostile listing) costs that listing only, not the rest of its page.
func (r *run) observe(l precwatch.Listing) (res precwatch.RecordResult, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	matches := r.c.matcher.Match(l)
	return r.c.store.Record(r.ctx, precwatch.Observation{Listing: l, Matches: matches, RunID: r.rec.ID, At: r.c.now()})
}

func valid(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

// addErr keeps err in the run record, up to maxRunErrors of them. Errors
// caused by the run being cancelled are not kept.
func (r *run) addErr(err error) {
	if r.ctx != nil && r.ctx.Err() != nil && errors.Is(err, r.ctx.Err()) {
		return
	}
	r.c.logger.Debug("run error", "error", err)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.rec.Errors) >= maxRunErrors {
		r.dropped++
		return
	}
	r.rec.Errors = append(r.rec.Errors, err.Error())
}

// recoverAs turns a panic (from a hostile page tripping a bug) into a run
// error instead of a crash.
func (r *run) recoverAs(what string) {
	if v := recover(); v != nil {
		r.addErr(fmt.Errorf("crawler: panic in %s: %v", what, v))
	}
}

// proxyUnreachable is called when the proxy itself cannot be reached: the
// run stops, since every further request would fail the same way.
func (r *run) proxyUnreachable(err error) {
	r.mu.Lock()
	if r.proxyErr == nil {
		r.proxyErr = err
	}
	r.mu.Unlock()
	r.cancel()
}

func (r *run) proxyFailure() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.proxyErr
}

// finish settles the run's status, saves the record and, after an OK run,
// marks unseen listings gone. It saves even when ctx is done.
func (c *Crawler) finish(ctx context.Context, r *run, logger *slog.Logger) (precwatch.Run, error) {
	r.mu.Lock()
	rec := r.rec
	rec.Errors = append([]string(nil), r.rec.Errors...)
	if r.dropped > 0 {
		rec.Errors = append(rec.Errors, fmt.Sprintf("crawler: %d more errors not kept", r.dropped))
	}
	proxyErr, limitHit := r.proxyErr, r.limitHit
	r.mu.Unlock()
	rec.End = c.now()

	var runErr error
	switch {
	case proxyErr != nil:
		runErr = fmt.Errorf("crawler: site %q: proxy %s unreachable: %w", c.site.Name, c.proxyURL.Redacted(), proxyErr)
		rec.Errors = append(rec.Errors, runErr.Error())
		rec.Status = precwatch.RunFailed
		if rec.Pages > 0 {
			rec.Status = precwatch.RunPartial
		}
	case ctx.Err() != nil:
		rec.Status = precwatch.RunAbandoned
		runErr = fmt.Errorf("crawler: site %q: run abandoned: %w", c.site.Name, ctx.Err())
	case rec.Pages == 0:
		rec.Status = precwatch.RunFailed
		msg := "nothing fetched"
		if len(rec.Errors) > 0 {
			msg += ": " + rec.Errors[0]
		}
		runErr = fmt.Errorf("crawler: site %q: %s", c.site.Name, msg)
	case r.ctx.Err() != nil:
		rec.Status = precwatch.RunPartial
		rec.Errors = append(rec.Errors, fmt.Sprintf("crawler: run timeout %s reached", c.runTimeout))
	case limitHit:
		rec.Status = precwatch.RunPartial
		rec.Errors = append(rec.Errors, fmt.Sprintf("crawler: page limit %d reached", c.maxPages))
	case len(rec.Errors) > 0:
		rec.Status = precwatch.RunPartial
	default:
		rec.Status = precwatch.RunOK
	}

	// The record must land even when the caller's ctx is done.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if rec.Status == precwatch.RunOK {
		if n, err := c.store.MarkGone(sctx, c.site.Name, rec.ID); err != nil {
			rec.Status = precwatch.RunPartial
			rec.Errors = append(rec.Errors, fmt.Sprintf("crawler: mark gone: %v", err))
		} else if n > 0 {
			logger.Info("listings gone", "count", n)
		}
	}
	if err := c.store.SaveRun(sctx, rec); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("crawler: site %q: save run: %w", c.site.Name, err))
	}
	level := slog.LevelInfo
	if rec.Status != precwatch.RunOK {
		level = slog.LevelWarn
	}
	logger.Log(ctx, level, "run finished", "status", rec.Status, "pages", rec.Pages,
		"listings", rec.Listings, "new_listings", rec.NewListings, "alerts", rec.Alerts,
		"errors", len(rec.Errors), "duration", rec.End.Sub(rec.Start))
	return rec, runErr
}
