package crawler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"github.com/gocolly/colly/v2"

	"github.com/precwatch/precwatch"
)

// Sessions (issue 8): each run's cookie jar is loaded from the Store at the
// start and saved back at the end when the site changed it; a site with a
// login form is logged into when the run has no session or finds itself
// logged out (see login). Cookie values and credentials are never
// logged, put in errors or in the run record.

// keyRelogin marks a colly request whose answer was a logged-out page that
// a login may cure.
const (
	keyRelogin     = "precwatch.relogin"
	keyReloginPage = "precwatch.relogin.page" // the logged-out page's SHA-256
	keyReloginURL  = "precwatch.relogin.url"
	// keyGate marks a colly request whose answer was an interstitial that
	// set a cookie and asked to be reloaded: its value is the wait.
	keyGate = "precwatch.gate"
	// keyGateClick marks a colly request whose answer was an interstitial
	// passed by its button: its value is the *gateClick to submit.
	keyGateClick = "precwatch.gate.click"
	// keyGateGen is set by do(): the gate passes made when the request was
	// sent (see claimGate).
	keyGateGen = "precwatch.gate.gen"
	// keyGateShared marks a colly request whose answer was an interstitial
	// another request passed, or is passing: its value is the channel the
	// pass closes (nil when it is made), after which the page is fetched
	// once more.
	keyGateShared = "precwatch.gate.shared"
	// keyGatePasser marks the request that passes an interstitial for the
	// requests in flight (see endPass).
	keyGatePasser = "precwatch.gate.passer"
	// keyBlockRetry is set by do() on a request that may be tried again on
	// a fresh circuit when its answer is a block page; handle() then sets
	// keyBlockRetried (the page's URL) instead of stopping the run.
	keyBlockRetry   = "precwatch.block.retry"
	keyBlockRetried = "precwatch.block.retried"
)

// An interstitial that sets a cookie and reloads itself (a JavaScript-free
// "checking your browser" or age page) is what a browser passes with no
// one at it: the run waits as asked, at most maxGateWait, and fetches the
// page once more with the cookie, once per URL and at most maxGatePasses
// times in a row without a page read between them. What it meets again is
// a block. A gate that comes back after pages were read is its cookie
// expiring (EndGame-style queues let a cookie through for some requests or
// minutes), which a browser passes again as it did the first time; one that
// never lets a page through still stops the run after maxGatePasses.
//
// An interstitial whose only form asks for nothing but a click (an age
// check's or "enter the market" button: hidden inputs and buttons, no
// captcha, nothing to type or choose) is passed the same way: the run
// submits the form, through the site's proxy and with its cookies, and when
// the answer sets a cookie fetches the page once more.
//
// One pass serves the requests in flight (a site crawled over several
// circuits meets the gate on each at once): a request that meets a gate
// while another passes it waits for that pass, and one sent before the
// last pass fetches its page again with the pass's cookie, as a logged-out
// answer does after another worker's login. Passing it once per request
// submitted its button again and again, and past maxGatePasses in a row
// the run ended blocked.
const (
	maxGateWait   = 30 * time.Second
	maxGatePasses = 3
)

// jar is the run's http.CookieJar. Unlike net/http/cookiejar it can list
// what it holds, with domains, paths and expiry, to be saved; and it sends
// Secure cookies to .onion sites over http, as Tor Browser does (an onion
// service is end-to-end encrypted, so sites set them).
//
// A site's mirrors are one site to it: the crawler asks for the primary's
// URLs whichever mirror serves them (see mirrors.go), so a cookie is kept
// and looked up under the primary's host name whether a mirror set it (by
// a redirect the run followed) or it was imported from a Tor Browser
// session on a mirror.
type jar struct {
	now func() time.Time
	// primary maps each mirror's host name to the primary's.
	primary map[string]string

	mu      sync.Mutex
	cookies map[jarKey]precwatch.Cookie
	changed bool
}

type jarKey struct{ domain, path, name string }

// newJar fills a jar with cs; primary maps mirror host names to the
// primary's (nil: no mirrors). Of two cookies that become one (the same
// name and path on the primary and a mirror), the primary's is kept.
func newJar(now func() time.Time, cs []precwatch.Cookie, primary map[string]string) *jar {
	j := &jar{now: now, primary: primary, cookies: make(map[jarKey]precwatch.Cookie)}
	for _, c := range cs {
		if c.Expired(now()) {
			continue
		}
		mirrored := false
		if p, ok := primary[c.Domain]; ok {
			c.Domain, mirrored = p, true
		}
		k := jarKey{c.Domain, c.Path, c.Name}
		if _, had := j.cookies[k]; had && mirrored {
			continue
		}
		j.cookies[k] = c
	}
	return j
}

// host is the host name cookies are kept under for a request to h.
func (j *jar) host(h string) string {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if p, ok := j.primary[h]; ok {
		return p
	}
	return h
}

// SetCookies keeps the cookies of a response from u (RFC 6265 storage
// model, without a public suffix list: a cookie for a bare "onion" or
// another one-label domain is refused).
func (j *jar) SetCookies(u *url.URL, cs []*http.Cookie) {
	host := j.host(u.Hostname())
	if host == "" {
		return
	}
	now := j.now()
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, hc := range cs {
		if hc == nil || hc.Name == "" {
			continue
		}
		c := precwatch.Cookie{Name: hc.Name, Value: hc.Value, Secure: hc.Secure, HTTPOnly: hc.HttpOnly, Path: hc.Path}
		if d := j.host(strings.TrimPrefix(hc.Domain, ".")); d == "" || d == host {
			c.Domain, c.HostOnly = host, d == ""
		} else {
			if !strings.Contains(d, ".") || net.ParseIP(host) != nil || !strings.HasSuffix(host, "."+d) {
				continue // a domain the host may not set cookies for
			}
			c.Domain = d
		}
		if c.Path == "" || c.Path[0] != '/' {
			c.Path = defaultPath(u.Path)
		}
		switch {
		case hc.MaxAge < 0:
			c.Expires = now.Add(-time.Second)
		case hc.MaxAge > 0:
			c.Expires = now.Add(time.Duration(hc.MaxAge) * time.Second).UTC().Truncate(time.Second)
		case !hc.Expires.IsZero():
			c.Expires = hc.Expires.UTC()
		}
		k := jarKey{c.Domain, c.Path, c.Name}
		old, had := j.cookies[k]
		if c.Expired(now) {
			if had {
				delete(j.cookies, k)
				j.changed = true
			}
			continue
		}
		if !had || old != c {
			j.cookies[k] = c
			j.changed = true
		}
	}
}

// defaultPath is RFC 6265's default-path of a request path.
func defaultPath(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// pathMatch is RFC 6265's path-match.
func pathMatch(reqPath, cookiePath string) bool {
	if reqPath == cookiePath {
		return true
	}
	return strings.HasPrefix(reqPath, cookiePath) &&
		(strings.HasSuffix(cookiePath, "/") || reqPath[len(cookiePath)] == '/')
}

// Cookies returns the cookies to send to u, longest path first.
func (j *jar) Cookies(u *url.URL) []*http.Cookie {
	secure := u.Scheme == "https" || precwatch.IsOnion(u.Hostname())
	host := j.host(u.Hostname())
	p := u.Path
	if p == "" {
		p = "/"
	}
	now := j.now()
	j.mu.Lock()
	var sel []precwatch.Cookie
	for _, c := range j.cookies {
		if !c.Expired(now) && c.MatchesHost(host) && pathMatch(p, c.Path) && (!c.Secure || secure) {
			sel = append(sel, c)
		}
	}
	j.mu.Unlock()
	slices.SortFunc(sel, func(a, b precwatch.Cookie) int {
		if d := len(b.Path) - len(a.Path); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
	out := make([]*http.Cookie, len(sel))
	for i, c := range sel {
		out[i] = &http.Cookie{Name: c.Name, Value: c.Value}
	}
	return out
}

// export returns the unexpired cookies in a stable order, and whether the
// site changed any since the jar was filled.
func (j *jar) export() ([]precwatch.Cookie, bool) {
	now := j.now()
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []precwatch.Cookie
	for _, c := range j.cookies {
		if !c.Expired(now) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b precwatch.Cookie) int {
		return strings.Compare(a.Domain+"\x00"+a.Path+"\x00"+a.Name, b.Domain+"\x00"+b.Path+"\x00"+b.Name)
	})
	return out, j.changed
}

func (j *jar) len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.cookies)
}

// runSession is one run's session state.
type runSession struct {
	jar *jar
	// stamp is the UpdatedAt of the stored session the run started from
	// (zero: none); the run saves its cookies only if it is unchanged, so
	// that an import or a clear made during the run wins.
	stamp   time.Time
	readErr bool // the stored session could not be read: never overwrite it
	had     bool // the run started with cookies

	loginMu sync.Mutex
	// loginTried: the run logged in at its start; reloginTried: after a
	// logged-out page (see login).
	loginTried, reloginTried, logged bool
	// logins counts the logins made (a request sent before the last one
	// met the session that login replaced); readsAtLogin is reads then.
	logins, readsAtLogin int

	mu      sync.Mutex
	retried map[string]bool     // URLs fetched again after a login
	gated   map[string]gatePass // URLs fetched again after an interstitial, and how
	beside  map[string]bool     // index URLs fetched again for a captcha beside listings
	block   *precwatch.RunBlock
	status  precwatch.RunStatus
	// unread counts the interstitials passed since a page was last read.
	unread int
	// gates counts the interstitials passed; passing, while one is being
	// passed, is closed when that pass ends (see claimGate).
	gates   int
	passing chan struct{}
	// reads counts the pages read (see pageRead).
	reads int
}

// mirrorHosts maps each mirror's host name to the primary's (nil: none).
func (c *Crawler) mirrorHosts() map[string]string {
	var m map[string]string
	primary := strings.ToLower(c.origins[0].Hostname())
	for _, o := range c.origins[1:] {
		if h := strings.ToLower(o.Hostname()); h != primary {
			if m == nil {
				m = make(map[string]string)
			}
			m[h] = primary
		}
	}
	return m
}

// startSession loads the site's cookie jar into the run's collector and,
// for a site with a login form and no session, logs in. It reports
// whether the crawl should go on.
func (r *run) startSession() bool {
	c := r.c
	s := &runSession{retried: make(map[string]bool), gated: make(map[string]gatePass), beside: make(map[string]bool)}
	r.sess = s
	var cookies []precwatch.Cookie
	switch ss, err := c.store.SiteSession(r.ctx, c.site.Name); {
	case err == nil:
		cookies, s.stamp = ss.Cookies, ss.UpdatedAt
	case errors.Is(err, precwatch.ErrNotFound):
	default:
		s.readErr = true
		r.addErr(fmt.Errorf("crawler: load session: %w", err))
	}
	s.jar = newJar(c.now, cookies, c.mirrorHosts())
	s.had = s.jar.len() > 0
	r.coll.SetCookieJar(s.jar)
	c.logger.Debug("session loaded", "cookies", s.jar.len())
	if c.site.Login != nil && !s.had {
		return r.login(false, 0)
	}
	return true
}

// stopOn ends the run on a page of class v, keeping where it was seen.
func (r *run) stopOn(v verdict, pageURL, digest string, status int) {
	r.mu.Lock()
	first := r.sess.block == nil
	if first {
		r.sess.block = &precwatch.RunBlock{Class: v.class, Reason: v.reason, URL: pageURL, PageSHA256: digest, Status: status}
		r.sess.status = v.status()
	}
	r.mu.Unlock()
	if first {
		r.c.logger.Warn("run stopped by the site", "class", v.class, "reason", v.reason, "url", pageURL, "page_sha256", digest)
	}
	r.cancel()
}

// stopped returns the block that ended the run, if any.
func (r *run) stopped() (*precwatch.RunBlock, precwatch.RunStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sess == nil || r.sess.block == nil {
		return nil, ""
	}
	b := *r.sess.block
	return &b, r.sess.status
}

// facts describes a fetched page for the classifier.
func (r *run) facts(t task, status int, final *url.URL, doc *goquery.Document) pageFacts {
	c := r.c
	req, _ := url.Parse(t.url)
	return pageFacts{
		status: status, requested: req, final: final, doc: doc,
		loginForms: c.site.Login != nil || (r.sess != nil && r.sess.had),
		noContent: func() bool {
			if t.kind == kindIndex {
				res, err := c.ext.Extract(doc, final)
				return err != nil || len(res.Listings) == 0
			}
			if t.kind == kindVendor { // vendor profiles (issue 11)
				return strings.TrimSpace(c.ext.VendorText(doc)) == ""
			}
			d, err := c.ext.Detail(doc, final, precwatch.Listing{})
			return err != nil || (d.Title == "" && d.Description == "" && d.Price == 0 && d.Vendor == "" &&
				c.ext.DetailFrame(doc, final) == "")
		},
	}
}

// classifyPage stops the run on a page that is not what the crawl asked
// for, or marks a logged-out page for a login and a second try. It
// reports whether the page must not be read for listings.
func (r *run) classifyPage(t task, resp *colly.Response, doc *goquery.Document, digest string) bool {
	v, ok := r.c.classes.classify(r.facts(t, resp.StatusCode, resp.Request.URL, doc))
	if !ok {
		if r.captchaBeside(t, resp, doc, digest) {
			return true
		}
		r.pageRead()
		return false
	}
	r.handle(t, v, resp, digest, doc)
	return true
}

// captchaBeside reports whether index page t, which shows listings, is
// asked for once more on a fresh circuit because it holds a captcha too:
// a market that shows a captcha to a share of its requests may lay it out
// in its own frame, beside a "featured" box in the grid's markup and with
// no pager, and read as an index page it cut the run short with a few
// listings (the rest marked gone, or relisted when the captcha passed).
// Once per URL and run: an index page that keeps its captcha form (a
// forum's reply form, a shop's newsletter) is read as it is.
func (r *run) captchaBeside(t task, resp *colly.Response, doc *goquery.Document, digest string) bool {
	if t.kind != kindIndex || !r.c.classes.builtin || resp.StatusCode >= 400 || doc == nil || len(doc.Nodes) == 0 ||
		resp.Ctx.GetAny(keyBlockRetry) != true || resp.Ctx.GetAny(keyReplay) != nil || r.sess == nil {
		return false
	}
	v, ok := builtinCandidate(doc, false, false)
	if !ok || v.class != precwatch.PageCaptcha {
		return false
	}
	s := r.sess
	s.mu.Lock()
	asked := s.beside[t.url]
	s.beside[t.url] = true
	s.mu.Unlock()
	if asked {
		return false
	}
	r.c.logger.Info("a captcha beside listings, asking again on a fresh circuit", "url", resp.Request.URL.Redacted(),
		"reason", v.reason, "page_sha256", digest)
	resp.Ctx.Put(keyBlockRetried, resp.Request.URL.String())
	return true
}

func (r *run) handle(t task, v verdict, resp *colly.Response, digest string, doc *goquery.Document) {
	if wait, ok := r.passGate(t, v, resp, doc); ok {
		r.c.logger.Info("waiting out an interstitial that set a cookie", "url", resp.Request.URL.Redacted(),
			"class", v.class, "reason", v.reason, "wait", wait)
		resp.Ctx.Put(keyGate, wait)
		return
	}
	if g, ok := r.clickGate(t, v, resp, doc, digest); ok {
		r.c.logger.Info("passing an interstitial by its button", "url", resp.Request.URL.Redacted(),
			"class", v.class, "reason", v.reason, "method", g.method)
		resp.Ctx.Put(keyGateClick, g)
		return
	}
	if resp.Ctx.GetAny(keyGateShared) != nil {
		r.c.logger.Info("an interstitial another request passes or passed, fetching again after it", "url", resp.Request.URL.Redacted(),
			"class", v.class, "reason", v.reason)
		return
	}
	if blockRetryable(v.class, resp.StatusCode) && resp.Ctx.GetAny(keyBlockRetry) == true && resp.Ctx.GetAny(keyReplay) == nil {
		r.c.logger.Info("block page, asking again on a fresh circuit", "url", resp.Request.URL.Redacted(),
			"class", v.class, "reason", v.reason, "page_sha256", digest)
		resp.Ctx.Put(keyBlockRetried, resp.Request.URL.String())
		return
	}
	if v.class == precwatch.PageLoggedOut && r.c.site.Login != nil {
		r.sess.mu.Lock()
		retried := r.sess.retried[t.url]
		r.sess.mu.Unlock()
		if !retried {
			r.c.logger.Info("logged out", "url", resp.Request.URL.Redacted(), "reason", v.reason)
			resp.Ctx.Put(keyRelogin, v.reason)
			resp.Ctx.Put(keyReloginPage, digest)
			resp.Ctx.Put(keyReloginURL, resp.Request.URL.Redacted())
			return
		}
	}
	r.stopOn(v, resp.Request.URL.Redacted(), digest, resp.StatusCode)
}

// blockRetryable reports whether a page of class c answered with status
// may be a block of the circuit or the moment rather than of the site:
// markets show captchas, queues and challenges as ordinary pages to
// circuits that went over a rate, or to a share of requests, and the page
// asked for again on another circuit is often served. A logged-out page is
// the session's, not the circuit's; a 403, 429 or 503 answer is the site
// refusing or asking to slow down, which Retry-After, the slowing down and
// the gates handle.
func blockRetryable(c precwatch.PageClass, status int) bool {
	if status >= 400 {
		return false
	}
	switch c {
	case precwatch.PageCaptcha, precwatch.PageAntiDDoS, precwatch.PageQueue, precwatch.PageChallenge:
		return true
	}
	return false
}

// blockRetry is do()'s hook after a block page it allowed a retry for
// (keyBlockRetry): the circuit that served it gets fresh credentials, and
// after a backoff the task is fetched once more. It reports whether to.
func (r *run) blockRetry(t task, cctx *colly.Context, attempt int) bool {
	pageURL := cctx.Get(keyBlockRetried)
	if pageURL == "" || r.ctx.Err() != nil {
		return false
	}
	r.transport.retire(pageURL)
	wait := r.backoff(attempt)
	r.c.logger.Debug("retrying a blocked page", "url", t.url, "attempt", attempt+1, "wait", wait)
	return sleep(r.ctx, wait) == nil
}

// redirect is the crawl's redirect policy (colly's checks of allowed
// domains run before it): a redirect to the login page is not followed,
// since the redirect itself says the session ended (see errorPage). Many
// markets render a new CSRF token into the session each time the login
// form is shown, so a crawl request that followed such a redirect while
// another logged in voided that login's token (probe 13: with circuits: 3
// a login market's run ended needs_login after 17 of 40 listings).
// Otherwise it is colly's default: at most 10 redirects, and no
// Authorization header to another host.
func (r *run) redirect(req *http.Request, via []*http.Request) error {
	if r.c.classes != nil && r.c.classes.isLoginURL(req.URL) && !r.c.classes.isLoginURL(via[0].URL) {
		return http.ErrUseLastResponse
	}
	if len(via) >= 10 {
		return http.ErrUseLastResponse
	}
	if req.URL.Host != via[len(via)-1].URL.Host {
		req.Header.Del("Authorization")
	}
	return nil
}

// loginRedirect reports whether resp is a redirect to the login page
// that redirect did not follow, and the page's path.
func (r *run) loginRedirect(resp *colly.Response) (string, bool) {
	if resp.StatusCode < 300 || resp.StatusCode > 399 || resp.Headers == nil || resp.Request == nil || resp.Request.URL == nil || r.c.classes == nil {
		return "", false
	}
	loc, err := resp.Request.URL.Parse(resp.Headers.Get("Location"))
	if err != nil || !r.c.classes.isLoginURL(loc) || r.c.classes.isLoginURL(resp.Request.URL) {
		return "", false
	}
	return loc.Path, true
}

// errorPage classifies an HTTP error answer (a 403 challenge, a 503
// queue, a 401 login wall, a redirect to the login page), keeping it as
// evidence when it stops the run.
func (r *run) errorPage(resp *colly.Response) {
	if path, ok := r.loginRedirect(resp); ok && r.sess != nil {
		t, _ := resp.Ctx.GetAny(keyTask).(task)
		digest := r.keepPage(resp.Request.URL.String(), resp.Headers.Get(headerContentType), resp.Body)
		r.handle(t, verdict{precwatch.PageLoggedOut, "redirected to the login page " + path}, resp, digest, nil)
		return
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests, http.StatusServiceUnavailable:
	default:
		return
	}
	if len(resp.Body) == 0 || r.sess == nil {
		return
	}
	ct := resp.Headers.Get(headerContentType)
	if !isHTML(ct) {
		return
	}
	doc, err := parseFallback(resp.Body, ct, r.c.fallbackCharset())
	if err != nil {
		return
	}
	t, _ := resp.Ctx.GetAny(keyTask).(task)
	v, ok := r.c.classes.classify(r.facts(t, resp.StatusCode, resp.Request.URL, doc))
	if !ok {
		return
	}
	digest := r.keepPage(resp.Request.URL.String(), ct, resp.Body)
	r.handle(t, v, resp, digest, doc)
}

// passGate reports whether the interstitial v answered for t is to be
// waited out and t fetched again (see maxGateWait), and how long to wait.
func (r *run) passGate(t task, v verdict, resp *colly.Response, doc *goquery.Document) (time.Duration, bool) {
	switch v.class {
	case precwatch.PageAntiDDoS, precwatch.PageChallenge, precwatch.PageQueue:
	default:
		return 0, false
	}
	if resp.Headers == nil || len(resp.Headers.Values("Set-Cookie")) == 0 {
		return 0, false
	}
	wait, ok := refreshDelay(doc, resp.Headers.Get("Refresh"))
	if !ok || wait > maxGateWait {
		return 0, false
	}
	return wait, r.claimGate(t.url, passWait, resp.Ctx)
}

// gatePass is a way of passing an interstitial: waiting out its refresh,
// or clicking its button.
type gatePass uint8

const (
	passWait gatePass = 1 << iota
	passClick
)

// claimGate reports whether an interstitial answered for pageURL, to the
// request of colly context cctx, may be passed by way: once per URL and
// way, maxGatePasses times in a row without a page read (see pageRead). A
// queue that, once waited out, shows an "Enter the market" button is two
// steps of one gate, as a browser passes it; the same step met again on the
// same URL is a block. When another request is passing a gate, or passed
// one since this request was sent, that pass stands for this one: claimGate
// marks cctx to fetch the page again after it (keyGateShared) and reports
// false. A claim that passes marks cctx as the passer, which ends the pass
// (endPass).
func (r *run) claimGate(pageURL string, way gatePass, cctx *colly.Context) bool {
	s := r.sess
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen, ok := cctx.GetAny(keyGateGen).(int); ok && (gen != s.gates || s.passing != nil) {
		cctx.Put(keyGateShared, s.passing)
		return false
	}
	if s.gated[pageURL]&way != 0 || s.unread >= maxGatePasses {
		return false
	}
	s.gated[pageURL] |= way
	s.unread++
	s.passing = make(chan struct{})
	cctx.Put(keyGatePasser, true)
	return true
}

// gateGen returns the number of interstitials passed so far; do() notes it
// in a request's context (keyGateGen).
func (r *run) gateGen() int {
	if r.sess == nil {
		return 0
	}
	r.sess.mu.Lock()
	defer r.sess.mu.Unlock()
	return r.sess.gates
}

// endPass ends the pass the request of cctx was making, if it was the
// passer: the requests that waited for it fetch their pages again.
func (r *run) endPass(cctx *colly.Context) {
	if cctx.GetAny(keyGatePasser) != true {
		return
	}
	s := r.sess
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gates++
	if s.passing != nil {
		close(s.passing)
		s.passing = nil
	}
}

// sharedGate reports whether the request of cctx met an interstitial that
// another request's pass stands for (see claimGate), once that pass is
// over.
func (r *run) sharedGate(cctx *colly.Context) bool {
	v := cctx.GetAny(keyGateShared)
	if v == nil {
		return false
	}
	if ch, _ := v.(chan struct{}); ch != nil {
		select {
		case <-ch:
		case <-r.ctx.Done():
			return false
		}
	}
	return r.ctx.Err() == nil
}

// pageRead notes that a page the crawl asked for was read, not an
// interstitial: the gates passed before it let the run through.
func (r *run) pageRead() {
	if s := r.sess; s != nil {
		s.mu.Lock()
		s.unread = 0
		s.reads++
		s.mu.Unlock()
	}
}

// gateClick is an interstitial's form that a click submits, and what stops
// the run if that does not pass it.
type gateClick struct {
	method, action, body string // a GET's fields are in action
	page                 string // the interstitial's URL (redacted), the Referer
	v                    verdict
	digest               string
	status               int
}

// clickGate reports whether the interstitial v answered for t is passed by
// submitting its form (see maxGatePasses), and the submission.
func (r *run) clickGate(t task, v verdict, resp *colly.Response, doc *goquery.Document, digest string) (*gateClick, bool) {
	switch v.class {
	case precwatch.PageAntiDDoS, precwatch.PageChallenge, precwatch.PageQueue:
	default:
		return nil, false
	}
	if doc == nil || resp.Request == nil || resp.Request.URL == nil {
		return nil, false
	}
	method, action, ok := clickForm(doc, resp.Request.URL)
	if !ok && cascadia.Query(doc.Nodes[0], selForms) == nil {
		// No form at all: a queue's plain "Enter the market" link, the
		// page's only way on, is the button.
		method, action = http.MethodGet, enterLink(doc, resp.Request.URL)
		ok = action != nil
	}
	if !ok || !r.c.hosts[strings.ToLower(action.Hostname())] || !r.claimGate(t.url, passClick, resp.Ctx) {
		return nil, false
	}
	g := &gateClick{method: method, page: resp.Request.URL.Redacted(), v: v, digest: digest, status: resp.StatusCode}
	if method == http.MethodPost {
		g.body = action.RawQuery
		action.RawQuery = ""
	}
	g.action = action.String()
	return g, true
}

var (
	selForms     = cascadia.MustCompile(`form`)
	selClickable = cascadia.MustCompile(`input, select, textarea, button`)
	selBase      = cascadia.MustCompile(`base[href]`)
)

// clickForm returns the method and the URL (a POST's form encoded in its
// query) of doc's form when it is the page's only form and asks for
// nothing but a click: hidden inputs and buttons, nothing to type, tick or
// choose. The first submit button is sent, as a click on it would be.
func clickForm(doc *goquery.Document, page *url.URL) (string, *url.URL, bool) {
	if len(doc.Nodes) == 0 {
		return "", nil, false
	}
	forms := cascadia.QueryAll(doc.Nodes[0], selForms)
	if len(forms) != 1 {
		return "", nil, false
	}
	form := goquery.NewDocumentFromNode(forms[0]).Selection
	values := url.Values{}
	clicked, ok := false, true
	form.FindMatcher(selClickable).EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if _, disabled := s.Attr("disabled"); disabled {
			return true
		}
		name := s.AttrOr("name", "")
		typ := strings.ToLower(strings.TrimSpace(s.AttrOr("type", "")))
		switch goquery.NodeName(s) {
		case "select", "textarea":
			ok = false
			return false
		case "button":
			if typ == "" {
				typ = "submit"
			}
		}
		switch typ {
		case "hidden":
			if name != "" {
				values.Add(name, s.AttrOr("value", ""))
			}
		case "submit", "image":
			if !clicked {
				clicked = true
				if name != "" {
					values.Add(name, s.AttrOr("value", ""))
				}
			}
		case "button", "reset":
		default: // text, password, checkbox, ...: for a person
			ok = false
			return false
		}
		return true
	})
	if !ok || !clicked {
		return "", nil, false
	}
	method := strings.ToUpper(strings.TrimSpace(form.AttrOr("method", "")))
	switch method {
	case "", http.MethodGet:
		method = http.MethodGet
	case http.MethodPost:
	default:
		return "", nil, false
	}
	// An empty action is the page itself; another resolves against
	// <base href>, as the page's links do.
	action := *page
	if raw := strings.TrimSpace(form.AttrOr("action", "")); raw != "" {
		u, err := pageBase(doc, page).Parse(raw)
		if err != nil {
			return "", nil, false
		}
		action = *u
	}
	if action.Scheme != "http" && action.Scheme != "https" {
		return "", nil, false
	}
	action.Fragment, action.RawFragment = "", ""
	action.RawQuery = values.Encode()
	return method, &action, true
}

// enterLink returns where the page's only link leads (see soleLink),
// resolved against <base href>, or nil.
func enterLink(doc *goquery.Document, page *url.URL) *url.URL {
	if len(doc.Nodes) == 0 {
		return nil
	}
	href := soleLink(doc.Nodes[0])
	if href == "" {
		return nil
	}
	u, err := pageBase(doc, page).Parse(href)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" {
		return nil
	}
	u.Fragment, u.RawFragment = "", ""
	return u
}

// pageBase is what the page's relative links resolve against: its <base
// href>, else its own URL.
func pageBase(doc *goquery.Document, page *url.URL) *url.URL {
	if n := cascadia.Query(doc.Nodes[0], selBase); n != nil {
		for _, a := range n.Attr {
			if a.Key == "href" {
				if b, err := page.Parse(strings.TrimSpace(a.Val)); err == nil {
					return b
				}
			}
		}
	}
	return page
}

// cookieNoter notes whether any answer through it set a cookie.
type cookieNoter struct {
	base http.RoundTripper
	set  atomic.Bool
}

func (n *cookieNoter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := n.base.RoundTrip(req)
	if err == nil && len(resp.Header.Values("Set-Cookie")) > 0 {
		n.set.Store(true)
	}
	return resp, err
}

// submitGate clicks g's button and reports whether that passed the gate:
// answered without an error and with a cookie. Otherwise the interstitial
// stops the run, as one without a button does.
func (r *run) submitGate(g *gateClick) bool {
	noter := &cookieNoter{base: r.meterOnly(r.transport)}
	res, err := r.fetchFlow(r.flowClient(noter), "gate", g.method, g.action, g.body, g.page)
	if r.ctx.Err() != nil {
		if err != nil {
			r.addErr(err)
		}
		return false
	}
	reason := ""
	switch {
	case err != nil:
		r.addErr(err)
		reason = "its button could not be submitted (see the run's errors)"
	case res.status >= 400:
		reason = fmt.Sprintf("its button was answered HTTP %d", res.status)
	case !noter.set.Load():
		reason = "its button set no cookie"
	}
	if reason != "" {
		r.stopOn(verdict{g.v.class, g.v.reason + "; " + reason}, g.page, g.digest, g.status)
		return false
	}
	return true
}

// gate is do's hook: after an interstitial passGate let through, it waits
// (or, for one clickGate let through, submits its button) and reports
// whether to fetch the task again.
func (r *run) gate(cctx *colly.Context) bool {
	defer r.endPass(cctx)
	if r.sharedGate(cctx) {
		return true
	}
	if g, ok := cctx.GetAny(keyGateClick).(*gateClick); ok {
		return r.ctx.Err() == nil && r.submitGate(g)
	}
	wait, ok := cctx.GetAny(keyGate).(time.Duration)
	if !ok || r.ctx.Err() != nil {
		return false
	}
	return sleep(r.ctx, wait) == nil
}

// keepPage stores a page as evidence and returns its SHA-256.
func (r *run) keepPage(pageURL, contentType string, body []byte) string {
	sum := sha256.Sum256(body)
	digest := hex.EncodeToString(sum[:])
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), 10*time.Second)
	defer cancel()
	if err := r.c.store.SavePage(ctx, precwatch.Page{SHA256: digest, Site: r.c.site.Name, URL: pageURL,
		FetchedAt: r.c.now(), ContentType: contentType, Body: body}); err != nil {
		r.addErr(fmt.Errorf("crawler: save page %s: %w", pageURL, err))
	}
	return digest
}

// loginGen is the number of logins made so far; do() notes it before a
// request, so that a logged-out answer to it can tell whether another
// worker has logged in since.
func (r *run) loginGen() int {
	if r.sess == nil {
		return 0
	}
	r.sess.loginMu.Lock()
	defer r.sess.loginMu.Unlock()
	return r.sess.logins
}

// relogin is do()'s hook: after a logged-out answer to a request sent at
// login generation gen it logs in (see login) and reports whether the
// task should be fetched once more.
func (r *run) relogin(t task, cctx *colly.Context, gen int) bool {
	if cctx.Get(keyRelogin) == "" || r.ctx.Err() != nil {
		return false
	}
	r.sess.mu.Lock()
	r.sess.retried[t.url] = true
	r.sess.mu.Unlock()
	if r.login(true, gen) {
		return true
	}
	// The login could not be made (its page did not load, say): the run
	// cannot read this site logged out.
	if r.ctx.Err() == nil {
		r.stopOn(verdict{precwatch.PageLoggedOut, cctx.Get(keyRelogin) + "; logging in failed (see the run's errors)"},
			cctx.Get(keyReloginURL), cctx.Get(keyReloginPage), 0)
	}
	return false
}

// login submits the site's login form: once at the start of a run that
// has no session, and after a logged-out page, so that a session that
// ends during a run that logged in at its start is renewed too. A session
// that lasts minutes ends again and again in a long crawl over Tor, so the
// form is submitted again after each logged-out page met once pages were
// read since the last login; a logged-out page right after a login gets
// that login's outcome, as do the callers that come while a login is made
// or whose request (sent at login generation gen) predates it: workers
// that met the same ended session log in once. A failure stops the run
// (needs_login, or blocked when the login page is a captcha or an
// interstitial).
func (r *run) login(again bool, gen int) bool {
	s := r.sess
	s.loginMu.Lock()
	defer s.loginMu.Unlock()
	s.mu.Lock()
	reads := s.reads
	s.mu.Unlock()
	switch {
	case !again && s.loginTried:
		return s.logged
	case !again:
		s.loginTried = true
	case gen != s.logins: // logged in since the request was sent
		return s.logged
	case s.reloginTried && reads == s.readsAtLogin: // nothing read with the last login's session
		return s.logged
	default:
		s.reloginTried = true
	}
	s.logged = r.submitLogin()
	s.logins++
	s.mu.Lock()
	s.readsAtLogin = s.reads
	s.mu.Unlock()
	return s.logged
}

// loginPage is one page fetched while logging in.
type loginPage struct {
	url         *url.URL
	status      int
	contentType string
	body        []byte
	doc         *goquery.Document
}

func (r *run) submitLogin() bool {
	c := r.c
	lg := c.site.Login
	fail := func(p *loginPage, class precwatch.PageClass, format string, args ...any) bool {
		digest, where := "", lg.URL
		status := 0
		if p != nil {
			digest, where, status = r.keepPage(p.url.String(), p.contentType, p.body), p.url.Redacted(), p.status
		}
		r.stopOn(verdict{class, "login: " + fmt.Sprintf(format, args...)}, where, digest, status)
		return false
	}
	client := r.flowClient(r.meterOnly(r.transport))
	form, err := r.fetchLogin(client, http.MethodGet, lg.URL, "", "")
	if err != nil {
		// A fetch failure (Tor, the proxy) is the run's error, not a
		// verdict on the session.
		r.addErr(err)
		return false
	}
	// A captcha or an interstitial in front of the form (or answering 429
	// or 5xx for it): a human must log in (and the session be imported).
	unavailable := form.status >= 500 || form.status == http.StatusTooManyRequests
	if form.status == http.StatusOK || unavailable {
		if v, ok := builtinCandidate(form.doc, unavailable, false); ok && !c.site.PageClasses.NoBuiltin {
			return fail(form, v.class, "the login page shows %s", strings.TrimPrefix(v.reason, "built-in: "))
		}
	}
	if unavailable {
		// Still so after the retries: the site's state, not the session's,
		// so the run fails as a page that cannot be had does.
		r.addErr(fmt.Errorf("crawler: login GET %s: status %d", form.url.Redacted(), form.status))
		return false
	}
	if form.status != http.StatusOK {
		return fail(form, precwatch.PageLoggedOut, "the login page answered HTTP %d", form.status)
	}
	fields, action, method, err := loginForm(form, lg)
	if err != nil {
		return fail(form, precwatch.PageLoggedOut, "%v", err)
	}
	if !c.hosts[strings.ToLower(action.Hostname())] {
		return fail(form, precwatch.PageLoggedOut, "the form posts off the site, to %s", action.Redacted())
	}
	user, err := credential("username", lg.Username, lg.UsernameEnv, lg.UsernameFile)
	if err != nil {
		return fail(nil, precwatch.PageLoggedOut, "%v", err)
	}
	pass, err := credential("password", "", lg.PasswordEnv, lg.PasswordFile)
	if err != nil {
		return fail(nil, precwatch.PageLoggedOut, "%v", err)
	}
	fields.values.Set(fields.user, user)
	fields.values.Set(fields.pass, pass)
	r.mu.Lock()
	r.rec.Logins++
	r.mu.Unlock()
	var res *loginPage
	if method == http.MethodGet {
		action.RawQuery = fields.values.Encode()
		res, err = r.fetchLogin(client, http.MethodGet, action.String(), "", form.url.String())
		if err == nil && res.url.RawQuery == action.RawQuery {
			// The answer's URL holds the password: keep it out of the record.
			u := *res.url
			u.RawQuery = ""
			res.url = &u
		}
	} else {
		res, err = r.fetchLogin(client, http.MethodPost, action.String(), fields.values.Encode(), form.url.String())
	}
	if err != nil && r.ctx.Err() != nil {
		// The run ended meanwhile (a Retry-After beyond its limits, its
		// timeout): that says nothing of the credentials.
		r.addErr(err)
		return false
	}
	if err != nil {
		// fetchLogin leaves the URL out: a GET form carries the password in it.
		return fail(nil, precwatch.PageLoggedOut, "the form could not be submitted: %v", err)
	}
	if res.status >= 500 || res.status == http.StatusTooManyRequests {
		r.addErr(fmt.Errorf("crawler: login %s %s: status %d", method, res.url.Redacted(), res.status))
		return false
	}
	if res.status >= 400 {
		return fail(res, precwatch.PageLoggedOut, "the form was answered HTTP %d", res.status)
	}
	if lg.Success != "" {
		sel, err := cascadia.Compile(lg.Success)
		if err != nil || len(res.doc.Nodes) == 0 || cascadia.Query(res.doc.Nodes[0], sel) == nil {
			return fail(res, precwatch.PageLoggedOut, "the success check %q found nothing on the page after logging in (wrong credentials?)", lg.Success)
		}
	} else {
		if len(res.doc.Nodes) > 0 && cascadia.Query(res.doc.Nodes[0], selPassword) != nil {
			return fail(res, precwatch.PageLoggedOut, "the page after logging in still shows a password form (wrong credentials?)")
		}
		f := pageFacts{status: res.status, requested: action, final: res.url, doc: res.doc, noContent: func() bool { return true }, loginForms: true}
		if v, ok := c.classes.classify(f); ok {
			if v.class == precwatch.PageLoggedOut {
				return fail(res, precwatch.PageLoggedOut, "still logged out after logging in (%s; wrong credentials?)", v.reason)
			}
			return fail(res, v.class, "%s after logging in", v.reason)
		}
	}
	c.logger.Info("logged in", "url", form.url.Redacted())
	return true
}

// flowClient is the client of the requests a run makes outside colly (the
// login's, a gate's button): the run's transport (its proxy, never a direct
// connection) and cookie jar, redirects followed on the site's hosts only.
func (r *run) flowClient(rt http.RoundTripper) *http.Client {
	c := r.c
	return &http.Client{
		Transport: rt, Jar: r.sess.jar, Timeout: c.httpTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("too many redirects")
			}
			if !c.hosts[strings.ToLower(req.URL.Hostname())] {
				return fmt.Errorf("redirect off the site to %s", req.URL.Redacted())
			}
			return nil
		},
	}
}

// fetchLogin makes one request of the login flow through the run's
// transport and jar, paced like the crawl, and retried as the crawl's are:
// a 429 or 503 with Retry-After is waited out (within the run's limits),
// and a 5xx, a 429 without it, a timeout or a failed circuit is tried again
// within limits.retries, with backoff. body is a POST's form.
func (r *run) fetchLogin(client *http.Client, method, target, body, referer string) (*loginPage, error) {
	return r.fetchFlow(client, "login", method, target, body, referer)
}

// fetchFlow is fetchLogin for a flow named flow in errors and logs ("login",
// "gate").
func (r *run) fetchFlow(client *http.Client, flow, method, target, body, referer string) (*loginPage, error) {
	// What the log and a limit's error name: a GET form's query holds the
	// password.
	shown := target
	if u, err := url.Parse(target); err == nil {
		u.RawQuery = ""
		shown = u.Redacted()
	}
	waits := 0
	for attempt := 0; ; attempt++ {
		page, retryAfter, err := r.fetchLoginOnce(client, flow, method, target, body, referer)
		if r.ctx.Err() != nil {
			return page, err
		}
		status := 0
		if page != nil {
			status = page.status
		}
		if again, stop := r.honourRetryAfter(shown, status, retryAfter, waits); stop {
			return nil, fmt.Errorf("crawler: %s %s: %s answered %d: the run stopped on its Retry-After", flow, method, shown, status)
		} else if again {
			waits++
			attempt--
			continue
		}
		if failed := err != nil || status >= 500 || status == http.StatusTooManyRequests; failed {
			if retry, stop := r.backoffRetry(attempt, status, err, "retrying the "+flow, shown); retry {
				continue
			} else if stop {
				return page, err
			}
		}
		return page, err
	}
}

// fetchLoginOnce makes one attempt of fetchLogin's request; it returns the
// answer's Retry-After with the page.
func (r *run) fetchLoginOnce(client *http.Client, flow, method, target, body, referer string) (*loginPage, string, error) {
	if err := r.paced(); err != nil {
		return nil, "", err
	}
	var rd io.Reader
	if method == http.MethodPost {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(r.ctx, method, target, rd)
	if err != nil {
		return nil, "", fmt.Errorf("crawler: %s request: %w", flow, err)
	}
	req.Header.Set("User-Agent", r.c.userAgent)
	r.c.setHeaders(req.Header)
	if rd != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if referer != "" {
		req.Header.Set("Referer", referer)
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its URL may hold a GET form's fields
		}
		return nil, "", fmt.Errorf("crawler: %s %s: %w", flow, method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("crawler: %s %s: read: %w", flow, method, err)
	}
	ct := resp.Header.Get(headerContentType)
	doc, err := parseFallback(b, ct, r.c.fallbackCharset())
	if err != nil {
		return nil, "", fmt.Errorf("crawler: %s %s: parse: %w", flow, method, err)
	}
	return &loginPage{url: resp.Request.URL, status: resp.StatusCode, contentType: ct, body: b, doc: doc}, resp.Header.Get("Retry-After"), nil
}

type formFields struct {
	values     url.Values
	user, pass string // the names of the two inputs
}

var (
	selFormWithPassword = cascadia.MustCompile(`form:has(input[type="password" i])`)
	selFormControls     = cascadia.MustCompile(`input[name], select[name], textarea[name], button[name]`)
)

// loginForm reads the login form of page: its fields with their values
// (hidden CSRF tokens included), the user and password inputs, the action
// and the method.
func loginForm(page *loginPage, lg *precwatch.Login) (formFields, *url.URL, string, error) {
	var ff formFields
	var form *goquery.Selection
	if lg.Form != "" {
		form = page.doc.Find(lg.Form).First()
	} else {
		form = page.doc.FindMatcher(selFormWithPassword).First()
	}
	if form.Length() == 0 {
		return ff, nil, "", fmt.Errorf("no login form on %s", page.url.Redacted())
	}
	ff.values = url.Values{}
	submitted := false
	var firstText, firstPass string
	form.FindMatcher(selFormControls).Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		typ := strings.ToLower(s.AttrOr("type", ""))
		switch goquery.NodeName(s) {
		case "select":
			opt := s.Find("option[selected]").First()
			if opt.Length() == 0 {
				opt = s.Find("option").First()
			}
			ff.values.Add(name, opt.AttrOr("value", strings.TrimSpace(opt.Text())))
			return
		case "textarea":
			ff.values.Add(name, s.Text())
			return
		case "button":
			typ = strings.ToLower(s.AttrOr("type", "submit"))
		}
		switch typ {
		case "submit", "image", "button":
			// The first named submit button is sent, as a browser's click would.
			if !submitted && typ != "button" {
				submitted = true
				ff.values.Add(name, s.AttrOr("value", ""))
			}
			return
		case "checkbox", "radio":
			if _, ok := s.Attr("checked"); ok {
				ff.values.Add(name, s.AttrOr("value", "on"))
			}
			return
		case "password":
			if firstPass == "" {
				firstPass = name
			}
		case "", "text", "email":
			if firstText == "" {
				firstText = name
			}
		}
		ff.values.Add(name, s.AttrOr("value", ""))
	})
	ff.user, ff.pass = fieldName(form, lg.UsernameField, firstText), fieldName(form, lg.PasswordField, firstPass)
	if ff.user == "" || ff.pass == "" {
		return ff, nil, "", fmt.Errorf("the login form on %s has no user name or password input (set username_field and password_field)", page.url.Redacted())
	}
	action, err := page.url.Parse(strings.TrimSpace(form.AttrOr("action", "")))
	if err != nil {
		return ff, nil, "", fmt.Errorf("the login form's action: %w", err)
	}
	method := http.MethodPost
	if strings.EqualFold(form.AttrOr("method", "post"), "get") {
		method = http.MethodGet
	}
	return ff, action, method, nil
}

// fieldName resolves a configured field (an input name, else a CSS
// selector of the input) to the input's name; empty config: def.
func fieldName(form *goquery.Selection, field, def string) string {
	if field == "" {
		return def
	}
	found := false
	form.FindMatcher(selFormControls).EachWithBreak(func(_ int, s *goquery.Selection) bool {
		found = s.AttrOr("name", "") == field
		return !found
	})
	if found {
		return field
	}
	if sel, err := cascadia.Compile(field); err == nil {
		if n := form.FindMatcher(sel).First(); n.Length() > 0 {
			return n.AttrOr("name", "")
		}
	}
	return field // a field the page does not show: sent anyway
}

// credential reads one login credential: inline (user names only), from
// an environment variable or from a file (its first line). Errors name the
// variable or file, never what it holds.
func credential(what, inline, env, file string) (string, error) {
	switch {
	case inline != "":
		return inline, nil
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok || v == "" {
			return "", fmt.Errorf("the %s variable %s is not set", what, env)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", fmt.Errorf("the %s file %s: %v", what, file, err)
		}
		v, _, _ := strings.Cut(string(b), "\n")
		v = strings.TrimRight(v, "\r")
		if v == "" {
			return "", fmt.Errorf("the %s file %s is empty", what, file)
		}
		return v, nil
	}
	return "", fmt.Errorf("no %s configured", what)
}

// saveSession saves the jar when the site changed it during the run,
// unless the stored session changed meanwhile (an import or a clear wins).
func (r *run) saveSession(ctx context.Context) error {
	s := r.sess
	if s == nil || s.readErr {
		return nil
	}
	cookies, changed := s.jar.export()
	if !changed {
		return nil
	}
	c := r.c
	cur, err := c.store.SiteSession(ctx, c.site.Name)
	switch {
	case errors.Is(err, precwatch.ErrNotFound):
		cur = precwatch.SiteSession{}
	case err != nil:
		return fmt.Errorf("crawler: save session: %w", err)
	}
	if !cur.UpdatedAt.Equal(s.stamp) {
		c.logger.Warn("session changed during the run; the run's cookies are not saved")
		return nil
	}
	source := "crawl"
	if s.logged {
		source = "login"
	}
	ss := precwatch.SiteSession{Site: c.site.Name, Cookies: cookies, Source: source, UpdatedAt: c.now()}
	if err := c.store.SaveSiteSession(ctx, ss); err != nil {
		return fmt.Errorf("crawler: save session: %w", err)
	}
	c.logger.Debug("session saved", "cookies", len(cookies), "source", source)
	return nil
}

// checkLogin validates the site's login form config at New: an absolute
// URL on the site's hosts, no inline password.
func (c *Crawler) checkLogin() error {
	lg := c.site.Login
	if lg == nil {
		return nil
	}
	if lg.Password != "" {
		return fmt.Errorf("crawler: site %q: login: an inline password is not accepted; use password_env or password_file", c.site.Name)
	}
	u, err := url.Parse(lg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !c.hosts[strings.ToLower(u.Hostname())] {
		return fmt.Errorf("crawler: site %q: login url %q: want an absolute http(s) url on one of the site's hosts", c.site.Name, lg.URL)
	}
	if lg.Success != "" {
		if _, err := cascadia.Compile(lg.Success); err != nil {
			return fmt.Errorf("crawler: site %q: login success selector %q: %w", c.site.Name, lg.Success, err)
		}
	}
	return nil
}
