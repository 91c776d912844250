// Package crawler fetches a site's pages with colly, through its SOCKS5
// proxy when it has one (always for Tor sites), extracts listings, matches
// them against the watchlist and records them in a Store.
//
// Transport fails closed: a proxied site's only dialer is the SOCKS5 proxy,
// with host names resolved by the proxy, and there is no direct fallback.
//
// Limits: MaxPages counts every page scheduled (index and detail; retries,
// redirects and Retry-After waits are not pages). MaxDepth counts followed
// link hops from a start URL other than pagination: a category or links-rule
// link is a hop, a next-page link and a detail page are not, so a paginated
// index is read to its end and a listing found at the depth limit is still
// completed. RunTimeout caps the whole run, waits included. A run stopped by
// any limit (MaxPages reached, links left beyond MaxDepth, RunTimeout, a
// Retry-After beyond MaxRetryAfter or the run's end) is partial, with an
// error naming the limit and its value, and marks nothing gone.
//
// Circuits (circuits.go): each site's requests go over Site.Circuits Tor
// circuits of its own, isolated by per-run SOCKS credentials, one request
// in flight per circuit, with keep-alive per circuit; a circuit whose request
// fails at the connection level is replaced. Mirrors (mirrors.go): a site's
// other origins, failed over to when the active one fails; URLs are kept on
// the primary host. Politeness (politeness.go): 429 and 503 with
// Retry-After are waited out within the run's limits, and every 429 or 503
// widens the gap between the site's requests until answers come through
// again.
//
// Re-crawls are incremental (see incremental.go): detail pages only for new
// or changed index rows or stale detail reads, conditional requests where
// the site gave validators.
package crawler

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/gocolly/colly/v2"
	"golang.org/x/text/encoding"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/crawler/extract"
	"github.com/precwatch/precwatch/internal/yamlfile"
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
	pages   *extract.NumberedPages // the site's `pages` template, if any
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
	headers                     map[string]string // Politeness.Headers, sent with every request
	// charset is Site.Charset's encoding, nil when unset; learned the
	// legacy encoding the site's pages last declared (fallbackCharset).
	charset encoding.Encoding
	learned atomic.Pointer[learnedCharset]

	// Incremental re-crawls (see incremental.go).
	refreshAfter time.Duration
	stopAfter    int
	// Sessions (issue 8): the site's page-class rules.
	classes *classifier
	// Circuits, mirrors and politeness (issue 8; circuits.go, mirrors.go,
	// politeness.go).
	circuits      int
	origins       []*url.URL // primary first; see parseMirrors
	maxRetryAfter time.Duration
	// Slowing down on 429 and 503 answers (politeness.go): the bounds of
	// the widened gap.
	throttleFloor, maxDelay time.Duration
	// Scale-out (issue 9; lease.go, frontier.go): the site's lease and
	// the run's shared frontier, when the store keeps them.
	leases     precwatch.LeaseStore
	holder     string
	leaseTTL   time.Duration
	frontiers  precwatch.FrontierStore
	visibility time.Duration
	// Vendor profiles (issue 11, vendor.go): nil when the store keeps none.
	vendors precwatch.VendorStore
	// Exact provenance (issue 11, provenance.go): where runs' fetches are
	// archived as WARC; nil: not archived.
	archive precwatch.Archive
	// saveRetry bounds the retries of the final run record's save (see
	// WithRunSaveRetry); zero for one attempt.
	saveRetry time.Duration
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

// WithThrottleFloor sets the narrowest gap between requests a 429 or 503
// answer widens the site's to (default DefaultThrottleFloor); see
// politeness.go.
func WithThrottleFloor(d time.Duration) Option {
	return func(c *Crawler) { c.throttleFloor = d }
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
		logger:     logger.With("site", site.Name),
		tor:        site.IsTor(),
		hosts:      make(map[string]bool),
		now:        time.Now,
		backoff:    500 * time.Millisecond,
		maxBackoff: 10 * time.Second,

		throttleFloor: DefaultThrottleFloor,
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
		if c.origins == nil {
			c.origins = []*url.URL{u}
		}
	}
	origins, err := parseMirrors(c.origins[0], site.Mirrors)
	if err != nil {
		return nil, fmt.Errorf("crawler: site %q: %w", site.Name, err)
	}
	c.origins = origins
	for _, o := range origins {
		c.hosts[strings.ToLower(o.Hostname())] = true
	}
	for i, h := range site.ExtraHosts {
		name, err := precwatch.SiteHost(h)
		if err != nil {
			return nil, fmt.Errorf("crawler: site %q: hosts[%d]: %w", site.Name, i, err)
		}
		c.hosts[name] = true
	}
	ext, err := extract.New(site.Extract)
	if err != nil {
		return nil, fmt.Errorf("crawler: site %q: %w", site.Name, err)
	}
	c.ext = ext
	if c.pages, err = extract.CompileNumberedPages(site.Extract.Pages); err != nil {
		return nil, fmt.Errorf("crawler: site %q: %w", site.Name, err)
	}
	if c.classes, err = newClassifier(site); err != nil {
		return nil, fmt.Errorf("crawler: site %q: %w", site.Name, err)
	}
	if err := c.checkLogin(); err != nil {
		return nil, err
	}
	if p := site.ProxyURL(); p != "" {
		c.proxyURL, c.proxyAddr, err = parseProxy(p)
		if err != nil {
			return nil, fmt.Errorf("crawler: site %q: %w", site.Name, err)
		}
	} else if c.tor {
		// ProxyURL never returns "" for a Tor site; guard the invariant anyway.
		return nil, fmt.Errorf("crawler: site %q: tor site without a proxy", site.Name)
	}

	if site.Charset != "" {
		e, err := SiteCharset(site.Charset)
		if err != nil {
			return nil, fmt.Errorf("crawler: site %q: %w", site.Name, err)
		}
		c.charset = e
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
	// Each circuit carries one request at a time: circuits bound the
	// requests in flight, and either setting defaults to the other.
	c.circuits = site.Circuits
	if c.circuits <= 0 {
		c.circuits = max(p.Parallelism, 1)
	}
	c.parallelism = p.Parallelism
	if c.parallelism <= 0 {
		c.parallelism = c.circuits
	}
	if c.parallelism > c.circuits {
		return nil, fmt.Errorf("crawler: site %q: parallelism %d exceeds circuits %d (a circuit carries one request at a time)", site.Name, c.parallelism, c.circuits)
	}
	c.maxRetryAfter = orDefault(l.MaxRetryAfter, DefaultMaxRetryAfter)
	c.maxDelay = orDefault(p.MaxDelay, DefaultMaxDelay)
	c.userAgent = p.UserAgent
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if _, err := CheckHeaders(p.Headers); err != nil {
		return nil, fmt.Errorf("crawler: site %q: politeness.headers: %w", site.Name, err)
	}
	c.headers = p.Headers
	c.refreshAfter = orDefault(site.Incremental.RefreshAfter, precwatch.DefaultRefreshAfter)
	c.stopAfter = max(site.Incremental.StopAfterUnchangedPages, 0)
	// Scale-out (issue 9): leases and the shared frontier by default when
	// the store keeps them.
	c.leases, _ = store.(precwatch.LeaseStore)
	c.frontiers, _ = store.(precwatch.FrontierStore)
	c.vendors, _ = store.(precwatch.VendorStore)
	c.holder, c.leaseTTL, c.visibility = DefaultHolder(), DefaultLeaseTTL, DefaultVisibility
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
	// keySays is what an API's refusal explains (errorExcerpt).
	keySays = "precwatch.says"
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

	// Incremental re-crawls (see incremental.go): the hash of a detail
	// task's index row, whether to fetch without validators, and how many
	// quiet index pages in a row led to an index task.
	rowHash string
	fresh   bool
	quiet   int

	// frame marks a detail task fetching the frame (detail rules' frame)
	// of the listing's detail page: listing is then as that page
	// completed it, and outerRead what the page's rules read there.
	frame     bool
	outerRead precwatch.Listing

	// hops counts the meta refreshes followed to this task's page.
	hops int

	// post marks an index page asked for by submitting a POST form (a
	// pager's "Next" button), with body its urlencoded entries, or with
	// postJSON by a GraphQL query (body its JSON).
	post     bool
	body     string
	postJSON bool

	// paged, on a shared frontier (issue 9), is set once the task's page
	// was fetched and handled, so that the run counts it once when acked.
	paged *atomic.Bool
}

// run is the state of one Run.
type run struct {
	c *Crawler
	// noListingWhy is why the first index page without a listing had none
	// (noteNoListing); under mu.
	noListingWhy string
	// proxyNotTor: the proxy refused random credentials (see circuitDialer).
	proxyNotTor atomic.Bool
	ctx         context.Context
	cancel      context.CancelFunc
	coll        *colly.Collector
	pace        *pacer
	transport   *circuitPool
	mirrors     *mirrorSet
	tasks       chan task
	wg          sync.WaitGroup

	mu          sync.Mutex
	rec         precwatch.Run
	seenURL     map[string]bool
	seenListing map[string]bool
	// indexPages are the canonical URLs of the run's index pages (see
	// identity.go).
	indexPages map[string]bool
	scheduled  int
	limitHit   bool
	dropped    int // errors beyond maxRunErrors
	proxyErr   error
	// skipped names the first index page not read for its Content-Type:
	// a run that read no page says so (a JSON API under selectors rules).
	skipped string

	// detailURLs maps the canonical detail URLs index rows sent their
	// listing to this run to that listing's identity (see incremental.go).
	detailURLs map[string]string
	// numberedSeen holds the listings read on index pages of this run, for
	// the `pages` template and POST-form pagination: a page showing none
	// new is its last.
	numberedSeen map[string]bool
	// rowsSeen holds the listings an index row of this run already handled
	// (see claimRow).
	rowsSeen map[string]bool
	// details counts the detail pages read and the fields their rules
	// left empty (see detailFieldsEmpty), index the same for the listings
	// index pages gave (noteIndexRows).
	details, index fieldsRead
	sess           *runSession     // Sessions (issue 8)
	limitStop      string          // a limit that stopped the run (politeness.go)
	unfollowed     map[string]bool // links beyond the depth limit
	// pagerFound: an index page's next_page rule gave a page to go to;
	// pagerDead: the first one whose rule matched only elements without
	// a link, with its URL (see notePager).
	pagerFound bool
	pagerDead  [2]string
	// Evidence and batches (issue 9, pipeline.go): pages being read now,
	// by SHA-256, closed once written.
	pagesPending map[string]chan struct{}
	// storeErr is the first store write that failed (issue 9): the run
	// ends failed, since what it saw is not all stored.
	storeErr error
	// Scale-out (issue 9): the run's lease (nil: none) and shared
	// frontier (nil: in process).
	lease  *leaseKeeper
	shared *sharedRun
	// Exact provenance (issue 11, provenance.go): the exchanges of pages
	// not yet handled, by URL, and the run's WARC output.
	sent    map[string]sentExchange
	archive precwatch.RunArchive
}

// Run does one crawl of the site: fetch, extract, match, record. The run
// record is saved as running at the start and with its outcome at the end;
// after an OK run the listings it did not see are marked gone. The error is
// non-nil when the run failed or was abandoned; a partial run is data, its
// errors are in the record.
//
// On a store with leases the run holds the site's lease (see lease.go): a
// run of the site going on elsewhere is joined as a worker (its frontier
// shared, see frontier.go) or skipped with ErrLeased.
func (c *Crawler) Run(ctx context.Context) (precwatch.Run, error) {
	if c.leases != nil {
		return c.runLeased(ctx)
	}
	return c.runOnce(ctx, nil, nil)
}

func (c *Crawler) newRun(rec precwatch.Run) *run {
	return &run{
		c:           c,
		seenURL:     make(map[string]bool),
		seenListing: make(map[string]bool),
		rec:         rec,
		pace:        newPacer(c.site.Politeness.Delay, c.site.Politeness.RandomDelay, c.throttleFloor, c.maxDelay),
	}
}

// runOnce does the run, under lease k when not nil, resuming the run
// resume when not nil.
func (c *Crawler) runOnce(ctx context.Context, k *leaseKeeper, resume *precwatch.Run) (precwatch.Run, error) {
	start := c.now()
	rec := precwatch.Run{ID: NewRunID(start), Site: c.site.Name, Start: start, Status: precwatch.RunRunning}
	if resume != nil {
		rec.ID, rec.Start = resume.ID, resume.Start
	}
	r := c.newRun(rec)
	r.lease = k
	if err := c.store.SaveRun(ctx, r.rec); err != nil {
		return r.rec, fmt.Errorf("crawler: site %q: save run: %w", c.site.Name, err)
	}
	logger := c.logger.With("run_id", r.rec.ID)
	logger.Info("run started", "tor", c.tor, "proxied", c.proxyURL != nil, "resumed", resume != nil)

	r.ctx, r.cancel = context.WithTimeout(ctx, c.runTimeout)
	defer r.cancel()
	if err := r.startScaleOut(ctx); err != nil { // Scale-out (issue 9)
		r.addErr(err)
	}
	r.execute()
	return c.finish(ctx, r, logger)
}

// execute fetches the run's pages, as its holder or as a worker that joined
// it: mirrors, collector and circuits, the session, then the crawl.
func (r *run) execute() {
	r.mirrors = r.newMirrors(r.ctx)
	r.openArchive() // issue 11
	if err := r.setup(); err != nil {
		r.addErr(err)
		return
	}
	// Sessions (issue 8): load the cookie jar, log in when needed.
	if r.startSession() {
		r.crawl()
	}
	// Kept-alive connections (SOCKS tunnels) do not outlive the run.
	r.transport.CloseIdleConnections()
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
	coll.SetRedirectHandler(r.redirect)
	var err error
	if r.transport, err = r.newCircuits(dial); err != nil {
		return err
	}
	coll.WithTransport(r.meter(r.transport))
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
		c.setHeaders(*req.Headers)
		if req.Headers.Get("Content-Type") == "application/json" {
			req.Headers.Set("Accept", "application/graphql-response+json, application/json") // a GraphQL query
		}
		r.conditional(req)
	})
	coll.OnResponseHeaders(func(resp *colly.Response) {
		resp.Ctx.Put(keyStatus, resp.StatusCode)
		noteHeaders(resp)
		ct := resp.Headers.Get(headerContentType)
		if resp.StatusCode < 300 && !c.readable(ct) {
			resp.Ctx.Put(keySkip, ct)
			resp.Request.Abort()
		}
	})
	coll.OnError(func(resp *colly.Response, _ error) {
		if resp != nil && resp.StatusCode != 0 {
			resp.Ctx.Put(keyStatus, resp.StatusCode)
			resp.Ctx.Put(keySays, errorExcerpt(resp.StatusCode, resp.Headers.Get(headerContentType), resp.Body))
			r.errorPage(resp) // Sessions (issue 8): a challenge or login wall
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

// readable reports whether a response of Content-Type ct is worth reading:
// an HTML page, or JSON (a market's listings API) when the site's rules read
// JSON.
func (c *Crawler) readable(ct string) bool {
	return isHTML(ct) || isXML(ct) || c.ext.ReadsJSON() && (extract.IsJSON(ct) || extract.MaybeJSON(ct))
}

// isXML reports whether a Content-Type is XML's, read as
// extract.XMLDocument reads it: an RSS, RDF or Atom feed's type, or a
// generic XML one (a feed sent as text/xml, a shop's product export).
func isXML(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml":
		return true
	}
	return false
}

// setHeaders sets a request's Accept and Accept-Language as Tor Browser
// sends them, then the site's own headers (Politeness.Headers), which may
// replace them.
func (c *Crawler) setHeaders(h http.Header) {
	h.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	h.Set("Accept-Language", "en-US,en;q=0.5")
	for k, v := range c.headers {
		h.Set(k, v)
	}
}

// document parses a fetched body: a JSON response as mode json reads it
// (see extract.JSONDocument), anything else as an HTML page.
func (c *Crawler) document(body []byte, ct string) (*goquery.Document, error) {
	// An API that sends its JSON as text/html (PHP's default type) or
	// text/plain is read as JSON too: no page starts with "{" or "[".
	if c.ext.ReadsJSON() && (extract.IsJSON(ct) || extract.MaybeJSON(ct) && extract.LooksJSON(body)) {
		return extract.JSONDocument(body), nil
	}
	if isXML(ct) {
		return extract.XMLDocument(body)
	}
	doc, decl, err := parseDeclared(body, ct, c.fallbackCharset())
	c.noteCharset(decl)
	return doc, err
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
	if r.shared != nil { // Scale-out (issue 9)
		r.crawlShared()
		return
	}
	c := r.c
	// At most maxPages tasks are ever scheduled, so sends never block.
	r.tasks = make(chan task, c.maxPages)
	for _, u := range c.site.StartURLs {
		r.enqueue(c.startTask(u))
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

// noteNoListing keeps, for the run's error, why the first index page
// that gave no listing gave none (extract.Extractor.Why).
func (r *run) noteNoListing(page *url.URL, doc *goquery.Document) {
	r.mu.Lock()
	done := r.noListingWhy != ""
	r.mu.Unlock()
	if done {
		return
	}
	why := page.Redacted() + ": " + r.c.ext.Why(doc)
	r.mu.Lock()
	if r.noListingWhy == "" {
		r.noListingWhy = why
	}
	r.mu.Unlock()
}

// startTask is the task of a start URL: a GET, or the first POST of a
// GraphQL site.
func (c *Crawler) startTask(u string) task {
	t := task{url: u, depth: 0, kind: kindIndex}
	if body, ok := extract.GraphQLStart(c.site.Extract); ok {
		t.post, t.body, t.postJSON = true, body, true
	}
	return t
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
		r.beyondDepth(u)
		return false
	}
	key := extract.Canonical(u)
	if t.post {
		// A POST page is its URL and what was submitted to it.
		key = "POST " + key + "\x00" + t.body
	}
	if r.shared != nil { // Scale-out (issue 9)
		return r.enqueueShared(key, t)
	}
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
	waits := 0
	for attempt := 0; ; attempt++ {
		paced := r.paced
		if attempt > 0 || waits > 0 {
			paced = r.pacedRetry
		}
		if paced() != nil {
			return
		}
		mirror := r.mirrors.current()
		cctx := colly.NewContext()
		cctx.Put(keyTask, t)
		gen := r.loginGen()
		cctx.Put(keyGateGen, r.gateGen())
		cctx.Put(keyBlockRetry, attempt < r.c.retries)
		method, body, hdr := http.MethodGet, io.Reader(nil), http.Header(nil)
		if t.post {
			method, body = http.MethodPost, strings.NewReader(t.body)
			hdr = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
			if t.postJSON {
				hdr = http.Header{"Content-Type": {"application/json"}}
			}
		}
		err := r.coll.Request(method, t.url, body, cctx, hdr)
		if r.relogin(t, cctx, gen) { // Sessions (issue 8): logged in again, fetch once more
			continue
		}
		if r.gate(cctx) { // an interstitial that set a cookie: waited out (or passed by another request), fetch once more
			attempt--
			continue
		}
		if r.blockRetry(t, cctx, attempt) { // a captcha or queue page: ask again on a fresh circuit
			continue
		}
		if err == nil || r.ctx.Err() != nil {
			return
		}
		if status, _ := cctx.GetAny(keyStatus).(int); status == http.StatusNotModified && !t.fresh {
			if r.notModified(t, cctx) {
				return
			}
			t.fresh = true // the stored body is missing: fetch the page whole
			continue
		}
		if ct, ok := cctx.GetAny(keySkip).(string); ok {
			r.c.logger.Debug("skipped non-html page", "url", t.url, "content_type", ct)
			switch t.kind {
			case kindDetail:
				r.record(t.listing)
			case kindIndex:
				r.noteSkipped(t.url, ct)
			}
			return
		}
		if perr := r.proxyFailure(); perr != nil {
			return
		}
		status, _ := cctx.GetAny(keyStatus).(int)
		if again, stop := r.retryAfter(t, status, cctx, waits); stop {
			return
		} else if again {
			waits++
			attempt--
			continue
		}
		if retry, stop := r.backoffRetry(attempt, status, err, "retrying", t.url); stop {
			return
		} else if retry {
			continue
		}
		if r.failover(mirror, status, err) {
			attempt = -1
			continue
		}
		if r.numberedEnd(t, status) {
			return
		}
		if status != 0 && status != http.StatusOK {
			err = fmt.Errorf("status %d: %w", status, err)
			if says, _ := cctx.GetAny(keySays).(string); says != "" {
				err = fmt.Errorf("%w; the site says %q", err, says)
			}
		}
		if t.kind == kindVendor { // vendor profiles (issue 11)
			r.vendorFailed(t, err)
			return
		}
		if errors.Is(err, colly.ErrForbiddenDomain) {
			err = fmt.Errorf("%w: a redirect left the site's hosts; if the site's pages are there, list that host under the site's hosts (a mirror of the whole site goes under mirrors)", err)
		}
		r.addErr(fmt.Errorf("crawler: fetch %s: %w", t.url, err))
		if t.kind == kindDetail {
			r.record(t.listing)
		}
		return
	}
}

// backoffRetry waits out the backoff before another try of a failed
// request (the crawl's or the login's), when its failure may pass and
// limits.retries allow one: retry is then set, or stop when the run ended
// during the wait. Neither is set when the failure is final.
func (r *run) backoffRetry(attempt, status int, err error, msg, target string) (retry, stop bool) {
	if attempt >= r.c.retries || !retryable(status, err) && !isCircuitFailure(err) {
		return false, false
	}
	wait := r.backoff(attempt)
	r.c.logger.Debug(msg, "url", target, "status", status, "error", err, "attempt", attempt+1, "wait", wait)
	if sleep(r.ctx, wait) != nil {
		return false, true
	}
	return true, false
}

// retryable reports whether a failed fetch is worth another try: a server
// error, a 429, a timeout, or a transient refusal by Tor (see
// SOCKSReplyError). Other 4xx answers are final.
func retryable(status int, err error) bool {
	if status >= 500 || status == http.StatusTooManyRequests {
		return true
	}
	if status >= 400 {
		return false
	}
	if errors.Is(err, ErrBodyTooLarge) {
		return false
	}
	// A body cut short: the page may come whole next time.
	var cut *cutShortError
	if errors.As(err, &cut) {
		return true
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
	if t.paged != nil { // Scale-out (issue 9)
		t.paged.Store(true)
	}
	// The page and the listings read from it are written together when
	// the page is done (see pipeline.go): no alert without its evidence.
	replay := resp.Ctx.GetAny(keyReplay) != nil
	f := r.fetchRecord(t, resp, digest, fetchedAt, replay) // issue 11
	b := r.newBatch(resp, digest, fetchedAt, f)
	defer r.flush(b, func() { r.keepValidators(t, resp, digest, fetchedAt) })
	doc, err := c.document(resp.Body, ct)
	if err != nil {
		r.addErr(fmt.Errorf("crawler: parse %s: %w", pageURL.Redacted(), err))
		return
	}
	if r.classifyPage(t, resp, doc, digest) { // Sessions (issue 8)
		return
	}

	if t.kind == kindVendor { // vendor profiles (issue 11)
		r.vendorPage(b, t, resp, doc, fetchedAt)
		return
	}
	if t.kind == kindDetail && !t.frame {
		if to, ok := r.refreshHop(t, pageURL, resp, doc); ok {
			hop := t
			hop.url, hop.hops = to, t.hops+1
			if !r.enqueue(hop) {
				// Its page was read this run, or the budget is spent: the
				// listing is what its index row showed.
				if t.listing.PageSHA256 != digest {
					r.awaitPage(t.listing.PageSHA256)
				}
				r.recordRow(b, t.listing, "", time.Time{})
			}
			return
		}
	}
	if t.kind == kindDetail {
		l, read, err := c.ext.DetailRead(doc, pageURL, t.listing)
		if err == nil && !t.frame {
			l = r.reidentify(l, read, pageURL, doc) // its own URL: identity.go
			if fu := c.ext.DetailFrame(doc, pageURL); fu != "" && r.detailFrame(b, t, l, read, fu, fetchedAt, f.ID) {
				return // the listing is recorded when its frame is read
			}
		}
		if t.frame {
			// What the page and its frame read together: the frame's
			// fields, and the page's where the frame had none.
			read = extract.Fill(read, t.outerRead)
		}
		if err != nil {
			r.addErr(fmt.Errorf("crawler: detail %s: %w", pageURL.Redacted(), err))
			if t.listing.PageSHA256 != digest {
				// Read from its index page, which may still be being written.
				r.awaitPage(t.listing.PageSHA256)
			}
			r.recordRow(b, t.listing, "", time.Time{})
			return
		}
		r.noteDetail(read)
		l.FetchedAt, l.PageSHA256 = fetchedAt, digest
		// Issue 11: each field with the fetch it came from; the index
		// page's fetch must be stored first.
		from := indexFetch(t.listing)
		if t.frame {
			l.Sources = precwatch.FrameSources(t.listing, l, f.ID)
		} else {
			l.Sources = precwatch.DetailSources(t.listing, from, l, f.ID)
		}
		if t.listing.PageSHA256 != digest {
			r.awaitPage(t.listing.PageSHA256)
		}
		r.awaitFetch(from)
		r.recordRow(b, l, t.rowHash, fetchedAt)
		return
	}

	r.noteIndex(t.url, pageURL.String())
	extract.AddLinkHeader(doc, resp.Headers.Values("Link"))
	res, err := c.ext.Extract(doc, pageURL)
	if err != nil {
		r.addErr(fmt.Errorf("crawler: extract %s: %w", pageURL.Redacted(), err))
		return
	}
	r.notePager(pageURL, res)
	// Pages asked for by a POST form, and numbered pages, go on while each
	// shows a listing new to the run: a Prev button posting back, or a
	// last page answered for any page number, ends there.
	fresh := (r.c.pages != nil || len(res.NextPosts) > 0) && r.newToRun(res.Listings)
	if len(res.Listings) == 0 {
		r.noteNoListing(pageURL, doc)
		if msg := extract.APIErrors(doc); msg != "" {
			// A GraphQL or JSON:API answer of errors, often with 200 OK.
			r.addErr(fmt.Errorf("crawler: %s answered errors: %q", pageURL.Redacted(), msg))
		}
		if to, ok := r.refreshHop(t, pageURL, resp, doc); ok {
			hop := t
			hop.url, hop.hops = to, t.hops+1
			// A refresh is followed with a GET, after a POST page too.
			hop.post, hop.body = false, ""
			r.enqueue(hop) // a redirect, not a hop of max_depth
		}
	}
	r.noteIndexRows(res.Listings)
	follow := c.ext.FollowDetails()
	changed := false
	b.obs = make([]precwatch.Observation, 0, len(res.Listings))
	for i := range res.Listings {
		res.Listings[i].URL = r.mirrors.toPrimary(res.Listings[i].URL)
		res.Listings[i] = r.normalize(res.Listings[i]) // once per row: see row
	}
	r.prefetch(b, res.Listings) // the rows' stored states, in one read
	if follow && len(res.Listings) > 0 {
		r.writeAhead(b) // the detail tasks pushed below name this page's fetch
	}
	for _, l := range res.Listings {
		l.FetchedAt, l.PageSHA256 = fetchedAt, digest
		l.Sources = precwatch.IndexSources(l, f.ID) // issue 11
		changed = r.row(b, t, l, follow) || changed
	}
	// Links are kept on the primary host, whichever mirror served them.
	next, links := make([]string, len(res.NextPages)), make([]string, len(res.Links))
	for i, link := range res.NextPages {
		next[i] = r.mirrors.toPrimary(link)
	}
	for i, link := range res.Links {
		links[i] = r.mirrors.toPrimary(link)
	}
	if link, ok := r.numberedNext(t, res.Listings, fresh); ok {
		next = append(next, link)
	}
	quiet, stop := r.quietPages(t, len(res.Listings) > 0, changed, slices.Concat(next, links))
	if stop {
		return
	}
	// Pagination is not a hop: a paginated index is read to its end.
	for _, link := range next {
		r.enqueue(task{url: link, depth: t.depth, kind: kindIndex, quiet: quiet})
	}
	if fresh {
		for _, p := range res.NextPosts {
			r.enqueue(task{url: r.mirrors.toPrimary(p.URL), post: true, body: p.Body, postJSON: p.JSON, depth: t.depth, kind: kindIndex, quiet: quiet})
		}
	}
	for _, link := range links {
		r.enqueue(task{url: link, depth: t.depth + 1, kind: kindIndex, quiet: quiet})
	}
}

// Meta refresh redirects: a page that only sends the browser on at once
// (<meta http-equiv="refresh" content="0; url=/listing/7">, or a Refresh
// header) stands for the page it names, as a 3xx does. Up to
// maxRefreshHops in a row are followed, each a page of max_pages.
const (
	maxRefreshHops = 5
	maxRefreshWait = 5 * time.Second
)

// refreshHop reports the URL an index page without listings or a detail
// page redirects to by a refresh: another URL, on the site's hosts, asked
// for within maxRefreshWait. Interstitials that refresh (queues, browser
// checks) were classified before.
func (r *run) refreshHop(t task, pageURL *url.URL, resp *colly.Response, doc *goquery.Document) (string, bool) {
	if t.hops >= maxRefreshHops {
		return "", false
	}
	to, wait, ok := refreshTarget(doc, resp.Headers.Get("Refresh"))
	if !ok || wait > maxRefreshWait {
		return "", false
	}
	u, err := pageURL.Parse(to)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !r.c.hosts[strings.ToLower(u.Hostname())] {
		return "", false
	}
	u.Fragment = ""
	if extract.Canonical(u) == extract.Canonical(pageURL) {
		return "", false
	}
	return r.mirrors.toPrimary(u.String()), true
}

// record matches one complete listing and records it at once, once per
// run; its evidence page is the one it names, already stored.
func (r *run) record(l precwatch.Listing) { r.recordRow(nil, l, "", time.Time{}) }

// recordRow is record with the listing's index row hash and detail fetch
// time (see precwatch.Observation); with a page batch b the listing is
// written with b's page when the page is done (see flush). It reports
// whether l was recorded or queued, not refused or already recorded by
// this run.
func (r *run) recordRow(b *pageBatch, l precwatch.Listing, rowHash string, detailAt time.Time) bool {
	return r.recordNormalized(b, r.normalize(l), rowHash, detailAt)
}

// recordNormalized is recordRow for a listing normalize has stamped.
func (r *run) recordNormalized(b *pageBatch, l precwatch.Listing, rowHash string, detailAt time.Time) bool {
	c := r.c
	if l.ID == "" && l.URL == "" {
		r.addErr(fmt.Errorf("crawler: listing %q on %s: no id or url", l.Title, c.site.Name))
		return false
	}
	if r.mirrors.current() > 0 {
		var keep bool
		if l, rowHash, detailAt, keep = r.mirrorSighting(b, l, rowHash, detailAt); !keep {
			return false
		}
	}
	if !r.firstSighting(b, l.Identity()) {
		return false
	}
	r.followVendor(l) // vendor profiles (issue 11)

	o, err := r.observe(l, rowHash, detailAt)
	if err != nil {
		r.addErr(fmt.Errorf("crawler: record %s: %w", l.Identity(), err))
		return false
	}
	if b != nil {
		b.obs = append(b.obs, o)
		return true
	}
	// Its page may still be being written by the worker that read it.
	r.awaitPage(l.PageSHA256)
	res, err := r.c.store.RecordPage(r.ctx, nil, []precwatch.Observation{o})
	if err != nil {
		r.addErr(r.storeFailed(fmt.Errorf("crawler: record %s: %w", l.Identity(), err)))
		return false
	}
	r.counted([]precwatch.Observation{o}, res)
	return true
}

// mirrorSighting is what listing l, read while the run is on a mirror, is
// recorded as, and whether it is recorded at all. A mirror may serve an
// older copy of the site (see servedByMirror): its listings the store has
// not seen are added, and those it has seen count as seen, as stored; but
// it neither relists a listing the primary showed gone nor changes one
// (an older price): those wait for the primary's next run. Before, a stale
// mirror relisted a removed ad and flipped a price back and forth.
func (r *run) mirrorSighting(b *pageBatch, l precwatch.Listing, rowHash string, detailAt time.Time) (precwatch.Listing, string, time.Time, bool) {
	st, err := r.storedListing(b, precwatch.ListingKey(l.Site, l.Identity()))
	switch {
	case errors.Is(err, precwatch.ErrNotFound):
		return l, rowHash, detailAt, true
	case err != nil:
		r.addErr(fmt.Errorf("crawler: load listing %s: %w", l.Identity(), err))
		return l, rowHash, detailAt, false
	case st.Gone:
		r.c.logger.Info("a mirror shows a listing gone from the primary: not relisted", "listing", l.Identity())
		return l, rowHash, detailAt, false
	}
	return r.normalize(st.Listing), st.RowHash, st.DetailFetchedAt, true
}

// normalize stamps l with its site and makes its text valid UTF-8.
func (r *run) normalize(l precwatch.Listing) precwatch.Listing {
	l.Site = r.c.site.Name
	l.Tor = r.c.tor
	l.ID = valid(l.ID)
	l.URL = valid(l.URL)
	l.Title = valid(l.Title)
	l.Description = valid(l.Description)
	l.Currency = valid(l.Currency)
	l.Vendor = valid(l.Vendor)
	l.VendorURL = valid(l.VendorURL)
	return identify(l) // vendor profiles (issue 11)
}

// observe matches one listing into its observation; a panic (a matcher
// tripped by a hostile listing) costs that listing only, not the rest of
// its page.
func (r *run) observe(l precwatch.Listing, rowHash string, detailAt time.Time) (o precwatch.Observation, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	matches := r.c.matcher.Match(l)
	return precwatch.Observation{Listing: l, Matches: matches, RunID: r.rec.ID, At: r.c.now(),
		RowHash: rowHash, DetailFetchedAt: detailAt}, nil
}

func valid(s string) string {
	if utf8.ValidString(s) { // the common case, checked without a copy
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// detailFields are the listing fields a detail rule may name, with the
// rule's selector and the field as read.
var detailFields = [...]struct {
	name  string
	rule  func(*precwatch.Extraction) string
	value func(precwatch.Listing) bool
}{
	{"title", func(x *precwatch.Extraction) string { return x.Title }, func(l precwatch.Listing) bool { return l.Title != "" }},
	{"description", func(x *precwatch.Extraction) string { return x.Description }, func(l precwatch.Listing) bool { return l.Description != "" }},
	{"price", func(x *precwatch.Extraction) string { return x.Price }, func(l precwatch.Listing) bool { return l.Price != 0 }},
	{"vendor", func(x *precwatch.Extraction) string { return x.Vendor }, func(l precwatch.Listing) bool { return l.Vendor != "" }},
}

// detailFrame sends a listing whose detail page holds its text in a frame
// (the detail rules' frame) on to that frame, l being the listing as the
// page completed it and read what the page's rules read there. It
// reports false when the frame is not fetched (another host, already
// scheduled, or over max_pages): the page's listing is then recorded as
// read. The index page the listing came from is stored first, as for
// any detail page; the frame's task waits for this page in turn.
func (r *run) detailFrame(b *pageBatch, t task, l, read precwatch.Listing, frameURL string, fetchedAt time.Time, fetchID string) bool {
	from := indexFetch(t.listing)
	l.FetchedAt, l.PageSHA256 = fetchedAt, b.digest
	l.Sources = precwatch.DetailSources(t.listing, from, l, fetchID)
	if t.listing.PageSHA256 != b.digest {
		r.awaitPage(t.listing.PageSHA256)
	}
	r.awaitFetch(from)
	r.writeAhead(b) // the frame's task names this page's fetch
	return r.enqueue(task{url: r.mirrors.toPrimary(frameURL), depth: t.depth, kind: kindDetail, listing: l,
		rowHash: t.rowHash, frame: true, outerRead: read})
}

// fieldsRead counts listings read and, per field of detailFields, those
// that left it empty.
type fieldsRead struct {
	read  int
	empty [len(detailFields)]int
}

func (fr *fieldsRead) note(l precwatch.Listing) {
	fr.read++
	for i, f := range detailFields {
		if !f.value(l) {
			fr.empty[i]++
		}
	}
}

// emptyRules are the fields whose rule in rules is set, that skip does
// not leave out, and that every listing read left empty, once enough were
// read to judge: "vendor (\"h1\")".
func (fr *fieldsRead) emptyRules(rules *precwatch.Extraction, skip func(field int) bool) []string {
	var out []string
	for i, f := range detailFields {
		if sel := f.rule(rules); sel != "" && !skip(i) && fr.read >= minDetailPagesToJudge && fr.empty[i] == fr.read {
			out = append(out, fmt.Sprintf("%s (%q)", f.name, sel))
		}
	}
	return out
}

// noteIndexRows counts the listings an index page gave and the fields
// the site's rules left empty in them.
func (r *run) noteIndexRows(ls []precwatch.Listing) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range ls {
		r.index.note(l)
	}
}

// indexFieldsEmpty are the site's selector rules that no listing of an
// index page filled, when no detail rule names the field (a detail page
// may still fill it).
func (r *run) indexFieldsEmpty(rules precwatch.Extraction) []string {
	if rules.Mode != "" && rules.Mode != precwatch.ExtractSelectors {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.index.emptyRules(&rules, func(i int) bool { return rules.Detail != nil && detailFields[i].rule(rules.Detail) != "" })
}

// noteDetail counts a detail page read and the fields its rules left
// empty: l is what they read on the page alone. (Judged on the listing
// merged with its index row, a field the row also gave never counted as
// empty, and a detail rule that matched nothing on any page went unseen.)
func (r *run) noteDetail(l precwatch.Listing) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.details.note(l)
}

// minDetailPagesToJudge is how many detail pages (or listings) must have
// been read before a field empty on every one of them says its rule
// matches nothing.
const minDetailPagesToJudge = 3

// detailFieldsEmpty returns the fields the site's detail rules name that
// every detail page of the run left empty: a rule that matches nothing on
// the market's pages (its markup changed, or the rule was never right),
// which would otherwise go unseen since the index row still gives a
// listing.
func (r *run) detailFieldsEmpty(rules *precwatch.Extraction) []string {
	if rules == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.details.emptyRules(rules, func(int) bool { return false })
}

// notePager keeps what an index page's next_page rule gave. A pager that
// is a form precwatch cannot submit as a link (a POST form) leaves the
// pages after this one unread: a run error, so the run is partial and
// marks nothing gone. A match without a link may be the last page's
// "Next" label; only when no page of the run gave a next page is it
// warned of, at the end (see finish).
func (r *run) notePager(pageURL *url.URL, res extract.Result) {
	switch {
	case len(res.NextPages) > 0 || len(res.NextPosts) > 0:
		r.mu.Lock()
		r.pagerFound = true
		r.mu.Unlock()
	case res.NextFormUnfollowed:
		r.addErr(fmt.Errorf("crawler: pages after %s not read: next_page selects %s, which is no link to follow", pageURL.Redacted(), res.NextUnfollowed))
	case res.NextUnfollowed != "":
		r.mu.Lock()
		if r.pagerDead[0] == "" {
			r.pagerDead = [2]string{res.NextUnfollowed, pageURL.Redacted()}
		}
		r.mu.Unlock()
	}
}

// noteSkipped keeps the first index page skipped for its Content-Type, for
// the error of a run that read nothing. Links to images or files are
// skipped as a matter of course, so a skip alone is no run error.
func (r *run) noteSkipped(u, ct string) {
	msg := fmt.Sprintf("%s not read: its Content-Type %q is neither HTML nor, for extract mode json, JSON", yamlfile.RedactURLs(u), ct)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.skipped == "" {
		r.skipped = msg
	}
}

// addErr keeps err in the run record, up to maxRunErrors of them. Errors
// caused by the run being cancelled are not kept.
func (r *run) addErr(err error) {
	if r.ctx != nil && r.ctx.Err() != nil && errors.Is(err, r.ctx.Err()) {
		return
	}
	r.c.logger.Debug("run error", "error", err)
	// A URL's credentials (a start URL's user:password) never reach the
	// run record, which the console and the CLI show (issue 10).
	msg := yamlfile.RedactURLs(err.Error())
	if r.shared != nil { // Scale-out (issue 9): the run's errors are its workers'
		if serr := r.shared.f.AddError(context.WithoutCancel(r.ctx), msg, maxRunErrors); serr != nil {
			r.c.logger.Warn("cannot share a run error", "error", serr)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.rec.Errors) >= maxRunErrors {
		r.dropped++
		return
	}
	r.rec.Errors = append(r.rec.Errors, msg)
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
	if r.shared != nil { // Scale-out (issue 9)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		r.settleShared(sctx)
		cancel()
	}
	r.mu.Lock()
	rec := r.rec
	rec.Errors = append([]string(nil), r.rec.Errors...)
	if r.dropped > 0 {
		rec.Errors = append(rec.Errors, fmt.Sprintf("crawler: %d more errors not kept", r.dropped))
	}
	proxyErr, limitHit, storeErr := r.proxyErr, r.limitHit, r.storeErr
	limitStop, unfollowed, skipped := r.limitStop, r.depthUnfollowed(), r.skipped
	r.mu.Unlock()
	block, blockStatus := r.stopped()
	files, aerr := r.closeArchive() // issue 11
	rec.WARCs = append(rec.WARCs, files...)
	if aerr != nil {
		rec.Errors = append(rec.Errors, yamlfile.RedactURLs(aerr.Error()))
	}
	rec.End = c.now()
	rec.Mirrors = r.mirrors.statuses()
	if r.transport != nil {
		rec.CircuitsReplaced = r.transport.Replaced()
	}

	var runErr error
	switch {
	case r.leaseLost(): // Scale-out (issue 9)
		rec.Status = precwatch.RunAbandoned
		runErr = fmt.Errorf("crawler: site %q: run abandoned: lease lost", c.site.Name)
		rec.Errors = append(rec.Errors, "crawler: lease lost")
	case proxyErr != nil:
		runErr = fmt.Errorf("crawler: site %q: proxy %s unreachable: %w", c.site.Name, c.proxyURL.Redacted(), proxyErr)
		rec.Errors = append(rec.Errors, runErr.Error())
		// Failed even after pages were read: the proxy going down is an
		// outage of our own to alert on, not the site's answer; what was
		// read is kept and nothing is marked gone, as for a partial run.
		rec.Status = precwatch.RunFailed
	case ctx.Err() != nil:
		rec.Status = precwatch.RunAbandoned
		runErr = fmt.Errorf("crawler: site %q: run abandoned: %w", c.site.Name, ctx.Err())
	case storeErr != nil: // issue 9
		rec.Status = precwatch.RunFailed
		runErr = fmt.Errorf("crawler: site %q: store writes failed: %w", c.site.Name, storeErr)
		rec.Errors = append(rec.Errors, runErr.Error())
	case block != nil: // Sessions (issue 8)
		rec.Status, rec.Block = blockStatus, block
		runErr = fmt.Errorf("crawler: site %q: %s: %s page at %s (%s)", c.site.Name, blockStatus, block.Class, block.URL, block.Reason)
	case limitStop != "" && rec.Pages > 0:
		rec.Status = precwatch.RunPartial
		rec.Errors = append(rec.Errors, limitStop)
	case limitStop != "":
		rec.Status = precwatch.RunFailed
		rec.Errors = append(rec.Errors, limitStop)
		runErr = fmt.Errorf("crawler: site %q: nothing fetched: %s", c.site.Name, limitStop)
	case rec.Pages == 0:
		rec.Status = precwatch.RunFailed
		msg := "nothing fetched"
		switch {
		case len(rec.Errors) > 0:
			msg += ": " + rec.Errors[0]
		case skipped != "":
			msg += ": " + skipped
			rec.Errors = append(rec.Errors, skipped)
		}
		runErr = fmt.Errorf("crawler: site %q: %s", c.site.Name, msg)
	case r.ctx.Err() != nil:
		rec.Status = precwatch.RunPartial
		rec.Errors = append(rec.Errors, fmt.Sprintf("crawler: run timeout %s reached (limits.run_timeout)", c.runTimeout))
	case limitHit:
		rec.Status = precwatch.RunPartial
		rec.Errors = append(rec.Errors, fmt.Sprintf("crawler: page limit %d reached (limits.max_pages)", c.maxPages))
		if unfollowed > 0 {
			rec.Errors = append(rec.Errors, depthLimitError(c.maxDepth, unfollowed))
		}
	case unfollowed > 0:
		rec.Status = precwatch.RunPartial
		rec.Errors = append(rec.Errors, depthLimitError(c.maxDepth, unfollowed))
	case len(rec.Errors) > 0:
		rec.Status = precwatch.RunPartial
	default:
		rec.Status = precwatch.RunOK
	}
	if rec.Status == precwatch.RunOK && rec.Listings == 0 {
		// Pages were read but not one listing came out of them: far more
		// often the site's markup changed under its extract rules than
		// every listing went at once. Such a run must not mark the site's
		// listings gone (to be "relisted" once the rules are fixed).
		rec.Status = precwatch.RunPartial
		why := ""
		r.mu.Lock()
		if r.noListingWhy != "" {
			why = "; on " + r.noListingWhy
		}
		r.mu.Unlock()
		rec.Errors = append(rec.Errors, fmt.Sprintf("crawler: no listing read from %d page(s): the site's extract rules found nothing%s; nothing marked gone", rec.Pages, why))
	}

	r.mu.Lock()
	pagerFound, pagerDead := r.pagerFound, r.pagerDead
	r.mu.Unlock()
	if !pagerFound && pagerDead[0] != "" {
		logger.Warn("next_page matched no link on any index page, so no next page was read; check the rule against the pager (a link, or a GET form or its submit button)",
			"next_page", c.site.Extract.NextPage, "matched", pagerDead[0], "url", pagerDead[1])
	}
	if empty := r.indexFieldsEmpty(c.site.Extract); len(empty) > 0 {
		r.mu.Lock()
		n := r.index.read
		r.mu.Unlock()
		logger.Warn("rules matched nothing: every listing read left these fields empty; a rule reads inside the listing element (start it at :root to read the page, as a vendor named only in the page's heading)",
			"fields", strings.Join(empty, ", "), "listings", n)
	}
	if empty := r.detailFieldsEmpty(c.site.Extract.Detail); len(empty) > 0 {
		// A warning, not a partial run: the listings were read, only
		// without what the detail page should have added.
		r.mu.Lock()
		n := r.details.read
		r.mu.Unlock()
		logger.Warn("detail rules matched nothing: every detail page left these fields empty; check the rules against a detail page",
			"fields", strings.Join(empty, ", "), "detail_pages", n)
	}

	// The record must land even when the caller's ctx is done.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	// A run stopped early by stop_after_unchanged_pages did not see the
	// whole site: what it did not see is not gone.
	// Scale-out (issue 9): the final writes are fenced by the lease.
	if !r.confirmLease(sctx, &rec) {
		runErr = fmt.Errorf("crawler: site %q: run abandoned: lease lost", c.site.Name)
		if r.shared != nil {
			// The next holder resumes the run under its id: its record is theirs.
			logger.Warn("lease lost, the run's record is left to its next holder")
			return rec, runErr
		}
	}
	if rec.Status == precwatch.RunOK && !rec.StoppedEarly {
		if why := r.mirrors.servedByMirror(); why != "" {
			rec.GoneUndecided = why
			logger.Warn("nothing marked gone: "+why, "primary", c.origins[0].Redacted())
		}
	}
	if rec.Status == precwatch.RunOK && !rec.StoppedEarly && rec.GoneUndecided == "" {
		if why := r.shrank(sctx, rec); why != "" {
			rec.GoneUndecided = why
			logger.Warn("nothing marked gone: " + why)
		}
	}
	if rec.Status == precwatch.RunOK && !rec.StoppedEarly && rec.GoneUndecided == "" {
		if n, err := c.store.MarkGone(sctx, rec); err != nil {
			rec.Status = precwatch.RunPartial
			rec.Errors = append(rec.Errors, fmt.Sprintf("crawler: mark gone: %v", err))
		} else if n > 0 {
			logger.Info("listings gone", "count", n)
		}
	}
	if err := r.saveSession(sctx); err != nil { // Sessions (issue 8)
		rec.Errors = append(rec.Errors, err.Error())
	}
	if err := c.saveFinal(ctx, sctx, r, rec, logger); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("crawler: site %q: save run: %w", c.site.Name, err))
	} else if r.shared != nil { // Scale-out (issue 9)
		r.finishShared(sctx)
	}
	level := slog.LevelInfo
	if rec.Status != precwatch.RunOK {
		level = slog.LevelWarn
	}
	logger.Log(ctx, level, "run finished", "status", rec.Status, "pages", rec.Pages,
		"listings", rec.Listings, "new_listings", rec.NewListings, "new_alerts", rec.Alerts,
		"errors", len(rec.Errors), "duration", rec.End.Sub(rec.Start),
		"requests", rec.Requests, "bytes", rec.Bytes, "not_modified", rec.NotModified,
		"details_skipped", rec.DetailsSkipped, "stopped_early", rec.StoppedEarly,
		"throttled", rec.Throttled, "throttle_wait", rec.ThrottleWait)
	return rec, runErr
}

// A complete run that sees far fewer listings than the site's last
// complete run is more often reading a page that stands in for the
// listings unrecognised (a captcha or login page laid out in the market's
// own frame, with a "featured" box of listing cards and no pager) than
// seeing half a market taken down at once: it marks nothing gone. The
// next complete run that sees about as few confirms the shrinking and
// marks them gone.
const (
	shrinkShare = 2 // fewer than 1/shrinkShare of the last complete run's listings
	shrinkMin   = 5 // and at least this many fewer
)

// shrank says why complete run rec must not mark listings gone when it
// saw far fewer listings than the site's last complete run (see
// shrinkShare); "" otherwise.
func (r *run) shrank(ctx context.Context, rec precwatch.Run) string {
	runs, err := r.c.store.Runs(ctx, r.c.site.Name, 20)
	if err != nil {
		r.c.logger.Warn("previous runs unreadable: the run's listings are not compared with the last complete run's", "error", err)
		return ""
	}
	for _, prev := range runs {
		if prev.ID == rec.ID || prev.Status != precwatch.RunOK || prev.StoppedEarly {
			continue
		}
		if prev.Listings-rec.Listings >= shrinkMin && rec.Listings*shrinkShare < prev.Listings {
			return fmt.Sprintf("the run saw %d listing(s) where the last complete run (%s) saw %d: more often a captcha, login or other page standing in for the listings unrecognised than half the site gone at once; the next complete run that sees as few marks them gone",
				rec.Listings, prev.ID, prev.Listings)
		}
		return ""
	}
	return ""
}

// newToRun reports whether ls holds a listing no index page of the run
// showed before, and notes them.
func (r *run) newToRun(ls []precwatch.Listing) bool {
	fresh := false
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.numberedSeen == nil {
		r.numberedSeen = make(map[string]bool)
	}
	for _, l := range ls {
		if id := l.Identity(); !r.numberedSeen[id] {
			r.numberedSeen[id], fresh = true, true
		}
	}
	return fresh
}

// numberedNext returns the page after t by the site's `pages` template when
// t's listings hold one new to the run (fresh, see newToRun): an endless
// scroll ends on an empty page, or on one that repeats what the run has
// read (an endpoint that answers its last page for any number).
func (r *run) numberedNext(t task, ls []precwatch.Listing, fresh bool) (string, bool) {
	if r.c.pages == nil || len(ls) == 0 || !fresh {
		return "", false
	}
	u, err := url.Parse(t.url)
	if err != nil {
		return "", false
	}
	next, ok := r.c.pages.Next(t.url, u, len(ls))
	if !ok {
		return "", false
	}
	return r.mirrors.toPrimary(next), true
}

// numberedEnd reports whether a failed fetch of t is the end of the site's
// numbered pages (a 404 or 410 past the last), not an error of the run.
func (r *run) numberedEnd(t task, status int) bool {
	if r.c.pages == nil || t.kind != kindIndex || (status != http.StatusNotFound && status != http.StatusGone) {
		return false
	}
	u, err := url.Parse(t.url)
	if err != nil {
		return false
	}
	if n, ok := r.c.pages.Number(t.url, u); !ok || n < 2 {
		return false
	}
	r.c.logger.Debug("numbered pages end", "url", t.url, "status", status)
	return true
}
