package crawler

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gocolly/colly/v2"
	"golang.org/x/net/http/httpguts"

	"github.com/precwatch/precwatch/crawler/extract"
)

// Politeness and limits.
//
// A 429 or 503 answer with Retry-After (delay-seconds or an HTTP date) holds
// every worker of the run until the time asked, then the request is tried
// again; such waits do not use up Limits.Retries, but a request is given at
// most maxRetryAfterWaits of them. A wait longer than Limits.MaxRetryAfter,
// or past the end of the run's RunTimeout, is not made: the run stops there,
// partial, naming the limit. A 429 without Retry-After is retried with
// backoff like a 5xx; every other 4xx is final.
//
// Slowing down. Every 429 or 503 answer without a Retry-After widens the
// gap between the starts of the site's requests (see pacer):
// to twice the pace the run was going at (its gap, the delay, or the
// spacing of its last requests, whichever is longest; a retried request's
// spacing holds its backoff and is not measured), at least
// DefaultThrottleFloor, at most Politeness.MaxDelay. Answers to requests sent
// before the gap last widened do not widen it again, so the requests in
// flight together when a market starts refusing count as one refusal. After
// throttleRecoverAfter answers in a row that are neither, the gap shrinks by
// a quarter (answers of 500 and over other than 503 neither count nor break
// the row), and once under the floor (or the delay) the run is back at the
// site's own pace. At a widened gap, a 503 that comes throttleHeld answers
// or more after the last 429 or 503 is taken as a stray one, as another
// 5xx: the gap holds, and doubling it at every such answer would ratchet a
// market that answers a share of requests 503 whatever the pace up to the
// cap. A 429 without Retry-After always counts: it says the pace is too
// fast. A 429 or 503 with a Retry-After the run honours says how long to
// wait, and that wait (bounded by Limits.MaxRetryAfter) is all it costs:
// it does not widen the gap (doubling it at each such answer held a
// market that asked for 1 s at a 1-minute pace after six of them), though
// it breaks the row of good answers that shrinks a widened one. The run record counts the 429 and 503 answers
// (Run.Throttled) and the time the site's requests were held for them
// (Run.ThrottleWait).
//
// The gate is the site's, not a circuit's: one pacer spaces every request
// of the run, whichever circuit or mirror carries it (a market that limits
// each circuit on its own is then kept under its limit too). In a scale-out
// run each worker process has its own. A failover to another mirror puts
// the run back at the site's own pace (see pacer.outage): the 503s of a
// mirror that is down are an outage, not the site asking to slow down.

// DefaultMaxRetryAfter caps the wait a Retry-After may ask for when the
// site sets no Limits.MaxRetryAfter.
const DefaultMaxRetryAfter = 5 * time.Minute

// DefaultMaxDelay caps the gap 429 and 503 answers widen when the site sets
// no Politeness.MaxDelay.
const DefaultMaxDelay = time.Minute

// DefaultThrottleFloor is the narrowest gap a 429 or 503 answer widens the
// site's to; below it the run goes back to the site's own pace.
const DefaultThrottleFloor = time.Second

// throttleRecoverAfter is how many answers in a row that are not 429 or
// 503 shrink the widened gap by a quarter.
const throttleRecoverAfter = 10

// throttleHeld is how many answers since the last 429 or 503 show that a
// widened gap holds: a 503 after them leaves the gap as it is, and only
// refusals closer together widen it further. A market that answers a
// share of its requests 503 whatever the pace (an onion service's "circuit
// overloaded") would otherwise double the gap at each one, faster than
// throttleRecoverAfter answers shrink it, up to Politeness.MaxDelay (5 such
// answers in 29 requests held a crawl 3m28s of its 3m34s).
const throttleHeld = 3

// maxRetryAfterWaits bounds the Retry-After waits of one request, so a
// server answering "busy, retry in 1s" forever cannot hold a page forever.
const maxRetryAfterWaits = 5

// keyRetryAfter is the colly context key of a response's Retry-After.
const keyRetryAfter = "precwatch.retry_after"

// noteHeaders keeps what the politeness rules need of a response's headers.
func noteHeaders(resp *colly.Response) {
	if resp.Headers == nil {
		return
	}
	if v := resp.Headers.Get("Retry-After"); v != "" {
		resp.Ctx.Put(keyRetryAfter, v)
	}
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date
// (a date in the past is no wait).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(24*time.Hour/time.Second) {
			n = int64(24 * time.Hour / time.Second) // no overflow; far past any cap
		}
		return time.Duration(n) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(at.Sub(now), 0), true
}

// retryAfter is do's hook for a failed fetch: when the answer was a 429 or
// 503 with a Retry-After the run may honour, it holds the run's requests
// until then and reports true (try again). When the wait is beyond the
// run's limits the run stops, partial, naming the limit, and it reports
// false with stop set.
func (r *run) retryAfter(t task, status int, cctx *colly.Context, waits int) (again, stop bool) {
	raw, _ := cctx.GetAny(keyRetryAfter).(string)
	return r.honourRetryAfter(t.url, status, raw, waits)
}

// honourRetryAfter is retryAfter for any request of the run (the login
// flow's too): target is the URL named in the log and in a limit's error,
// raw the answer's Retry-After, waits how many the request has had.
func (r *run) honourRetryAfter(target string, status int, raw string, waits int) (again, stop bool) {
	if !throttledStatus(status) {
		return false, false
	}
	d, ok := parseRetryAfter(raw, time.Now())
	if !ok || waits >= maxRetryAfterWaits {
		return false, false
	}
	if d > r.c.maxRetryAfter {
		r.stopOnLimit(fmt.Sprintf("crawler: %s answered %d with Retry-After %s, beyond limits.max_retry_after %s",
			target, status, d, r.c.maxRetryAfter))
		return false, true
	}
	if dl, ok := r.ctx.Deadline(); ok && time.Now().Add(d).After(dl) {
		r.stopOnLimit(fmt.Sprintf("crawler: %s answered %d with Retry-After %s, beyond the end of limits.run_timeout %s",
			target, status, d, r.c.runTimeout))
		return false, true
	}
	r.c.logger.Info("server asked to wait", "url", target, "status", status, "wait", d)
	r.pace.holdUntil(time.Now().Add(d))
	return true, false
}

// pacer is the site's gate: it spaces the starts of the run's requests,
// across all its workers and circuits, by the site's delay plus up to its
// jitter, or by the wider gap 429 and 503 answers asked for (see
// answered), and holds them all until a Retry-After's time (holdUntil).
// Unlike colly's LimitRule sleep it gives up at once when ctx is done, so a
// cancelled run returns promptly, whatever the wait.
type pacer struct {
	delay, jitter time.Duration
	// floor and ceiling bound the widened gap (DefaultThrottleFloor,
	// Politeness.MaxDelay).
	floor, ceiling time.Duration

	mu    sync.Mutex
	last  time.Time     // the start last granted
	jit   time.Duration // the random part of the gap after last
	until time.Time     // no request before (a Retry-After; see holdUntil)
	// spacings are the last gaps between starts, oldest first, less those
	// a Retry-After made (see pace).
	spacings []time.Duration
	gap      time.Duration // the widened gap; 0: the site's own pace
	grown    time.Time     // when gap last widened
	fine     int           // answers since, none a 429 or 503 (see answered)
	since    int           // answers since the last 429 or 503
	heldTo   time.Time     // the end of the throttled waits counted so far
}

// paceSamples is how many gaps between starts the pace a throttled run
// was going at is measured over.
const paceSamples = 3

func newPacer(delay, jitter, floor, ceiling time.Duration) *pacer {
	ceiling = max(ceiling, delay)
	return &pacer{delay: delay, jitter: jitter, floor: min(floor, ceiling), ceiling: ceiling}
}

// wait waits for the request's turn. It reports how much of the wait was
// owed to throttling (a Retry-After, a widened gap) and not yet counted by
// another worker's wait, so that summed over the workers it is wall time.
func (p *pacer) wait(ctx context.Context) (held time.Duration, err error) {
	return p.turn(ctx, true)
}

// waitRetry is wait for a request tried again after a failed answer: the
// spacing before it holds the retry's backoff (and a fresh circuit's
// build), which is not the pace the run goes at, so it is not measured.
func (p *pacer) waitRetry(ctx context.Context) (held time.Duration, err error) {
	return p.turn(ctx, false)
}

func (p *pacer) turn(ctx context.Context, measured bool) (held time.Duration, err error) {
	p.mu.Lock()
	now := time.Now()
	at, own := now, now // own: when the site's own pace would let it go
	if !p.last.IsZero() {
		own = later(own, p.last.Add(p.delay+p.jit))
		at = later(own, p.last.Add(max(p.delay, p.gap)+p.jit))
	}
	if measured && !p.last.IsZero() && !p.until.After(at) { // a Retry-After's hold is not the run's pace
		if len(p.spacings) == paceSamples {
			p.spacings = p.spacings[1:]
		}
		p.spacings = append(p.spacings, at.Sub(p.last))
	}
	at = later(at, p.until)
	p.last, p.jit = at, 0
	if p.jitter > 0 {
		p.jit = rand.N(p.jitter)
	}
	p.mu.Unlock()
	err = sleep(ctx, time.Until(at))
	if at.After(own) {
		held = p.held(own, earlier(at, time.Now()))
	}
	return held, err
}

// held counts the throttled wait from..to, less what other waits counted.
func (p *pacer) held(from, to time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	from = later(from, p.heldTo)
	if !to.After(from) {
		return 0
	}
	p.heldTo = to
	return to.Sub(from)
}

// holdUntil makes every later wait last at least until t.
func (p *pacer) holdUntil(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.After(p.until) {
		p.until = t
	}
}

// answered adapts the gap to the answer status of a request sent at sent
// (see "Slowing down" above); retryAfter says the answer carried a
// Retry-After the run honours, which is waited out instead of widening
// the gap. It reports the gap when the answer changed it.
func (p *pacer) answered(sent time.Time, status int, retryAfter bool) (gap time.Duration, changed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	since := p.since
	if p.since++; throttledStatus(status) {
		p.since = 0
	}
	switch {
	case status == http.StatusServiceUnavailable && p.gap > 0 && since >= throttleHeld:
		// The gap holds: a lone 503 among answers that go through at it
		// is a stray one (an overloaded circuit, a busy moment), not the
		// site asking again; like another 5xx it neither counts nor
		// breaks the row.
		return p.gap, false
	case throttledStatus(status) && retryAfter:
		// The site said how long to wait: holdUntil waits that out, and
		// the gap stays as it is.
		p.fine = 0
		return p.gap, false
	case throttledStatus(status):
		p.fine = 0
		if !sent.After(p.grown) { // sent at the old pace: counted already
			return p.gap, false
		}
		old := p.gap
		p.gap = min(max(2*max(p.gap, p.delay, p.pace()), p.floor), p.ceiling)
		p.grown = time.Now()
		return p.gap, p.gap != old
	case status >= 500 || p.gap == 0:
		return p.gap, false
	}
	if p.fine++; p.fine < throttleRecoverAfter {
		return p.gap, false
	}
	p.fine = 0
	p.gap -= p.gap / 4
	if p.gap < max(p.floor, p.delay) {
		p.gap = 0
	}
	return p.gap, true
}

// outage forgets a widened gap: the 503s that widened it came from a
// mirror that has just been given up as down, which says nothing of the
// load the next one can take. Answers to requests sent before it (the dead
// mirror's, still in flight) do not widen the gap again.
func (p *pacer) outage() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gap, p.fine, p.grown = 0, 0, time.Now()
}

// pace is the median of the last spacings (the lower of two), so that one
// idle moment does not count as the run's pace; p.mu must be held.
func (p *pacer) pace() time.Duration {
	s := slices.Clone(p.spacings)
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// throttledStatus reports whether an answer asks the crawler to slow down.
func throttledStatus(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
}

// paced waits for the request's turn at the site's gate and counts the
// time it was held for throttling in the run record.
func (r *run) paced() error {
	return r.pacedTurn(r.pace.wait)
}

// pacedRetry is paced for a request tried again (see pacer.waitRetry).
func (r *run) pacedRetry() error {
	return r.pacedTurn(r.pace.waitRetry)
}

func (r *run) pacedTurn(wait func(context.Context) (time.Duration, error)) error {
	held, err := wait(r.ctx)
	if held > 0 {
		r.mu.Lock()
		r.rec.ThrottleWait += held
		r.mu.Unlock()
	}
	return err
}

// answered is the meter's hook for every answer of the run: a 429 or 503
// is counted, and the site's gate adapts to it. retryAfter is the
// answer's Retry-After header.
func (r *run) answered(sent time.Time, status int, retryAfter string) {
	if throttledStatus(status) {
		r.mu.Lock()
		r.rec.Throttled++
		r.mu.Unlock()
	}
	asked := false
	if d, ok := parseRetryAfter(retryAfter, time.Now()); ok && d <= r.c.maxRetryAfter {
		asked = true // honoured by honourRetryAfter; one beyond the cap stops the run
	}
	gap, changed := r.pace.answered(sent, status, asked)
	switch {
	case !changed:
	case throttledStatus(status):
		r.c.logger.Info("server throttling, slowing down", "status", status, "gap", gap)
	case gap == 0:
		r.c.logger.Info("back to the site's own pace")
	default:
		r.c.logger.Debug("speeding up", "gap", gap)
	}
}

// stopOnLimit ends the run on a limit: what is in flight is abandoned and
// the run is partial, its errors naming the limit.
func (r *run) stopOnLimit(msg string) {
	r.mu.Lock()
	if r.limitStop == "" {
		r.limitStop = msg
	}
	r.mu.Unlock()
	r.cancel()
}

// beyondDepth notes a link not followed because of MaxDepth.
func (r *run) beyondDepth(u *url.URL) {
	key := extract.Canonical(u)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.unfollowed == nil {
		r.unfollowed = make(map[string]bool)
	}
	r.unfollowed[key] = true
}

// depthUnfollowed counts the links left beyond the depth limit that were
// not reached by a shorter path either; r.mu must be held.
func (r *run) depthUnfollowed() int {
	if r.shared != nil && !r.shared.worker { // Scale-out (issue 9): summed over the workers
		return r.shared.unfollowed
	}
	n := 0
	for k := range r.unfollowed {
		if !r.seenURL[k] {
			n++
		}
	}
	return n
}

func depthLimitError(maxDepth, unfollowed int) string {
	return fmt.Sprintf("crawler: depth limit %d reached (limits.max_depth): %d links not followed", maxDepth, unfollowed)
}

// managedHeaders are the request headers the crawler or its transport
// sets itself: a site's headers may not replace them.
var managedHeaders = map[string]string{
	"Host": "", "Content-Length": "", "Transfer-Encoding": "", "Connection": "", "Keep-Alive": "", "Te": "",
	"Trailer": "", "Upgrade": "", "Proxy-Authorization": "", "Proxy-Connection": "",
	"Cookie":            "cookies come from the site's session (login, gate) and its own answers",
	"User-Agent":        "set politeness.user_agent",
	"If-None-Match":     "conditional requests are the crawler's",
	"If-Modified-Since": "conditional requests are the crawler's",
	"Accept-Encoding":   "the crawler decodes what it asks for",
	// Request headers are kept in the evidence (fetch records, WARC):
	// no credential may ride in them.
	"Authorization": "credentials would be stored with the evidence; use the site's login or session",
}

// CheckHeaders validates a site's request headers (Politeness.Headers):
// each a valid name and value, none the crawler manages. It returns the
// offending header's name as written with the error.
func CheckHeaders(h map[string]string) (string, error) {
	for _, name := range slices.Sorted(maps.Keys(h)) {
		if !httpguts.ValidHeaderFieldName(name) {
			return name, fmt.Errorf("header %q: not a valid header name", name)
		}
		if !httpguts.ValidHeaderFieldValue(h[name]) {
			return name, fmt.Errorf("header %q: its value holds a line break or control character", name)
		}
		if why, ok := managedHeaders[http.CanonicalHeaderKey(name)]; ok {
			if why == "" {
				why = "the transport sets it"
			}
			return name, fmt.Errorf("header %q is the crawler's own: %s", name, why)
		}
	}
	return "", nil
}

// maxSays bounds the excerpt of a refusal kept in a run's error.
const maxSays = 200

// errorExcerpt is the start of a 4xx answer's body when it is an API's
// explanation (JSON or plain text, such as GraphQL's "This operation has
// been blocked as a potential Cross-Site Request Forgery ... provide
// apollo-require-preflight"), cleaned as every extracted field is
// (controls and invisible characters dropped, white space collapsed);
// "" for pages and other answers.
func errorExcerpt(status int, contentType string, body []byte) string {
	if status < 400 || status > 499 || !(extract.IsJSON(contentType) || strings.HasPrefix(strings.ToLower(contentType), "text/plain")) {
		return ""
	}
	s := extract.Clean(string(body[:min(len(body), 4*maxSays)]), 4*maxSays)
	if r := []rune(s); len(r) > maxSays {
		s = string(r[:maxSays]) + "…"
	}
	return s
}
