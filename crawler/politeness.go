package crawler

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gocolly/colly/v2"

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

// DefaultMaxRetryAfter caps the wait a Retry-After may ask for when the
// site sets no Limits.MaxRetryAfter.
const DefaultMaxRetryAfter = 5 * time.Minute

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
	if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
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

// holdUntil makes every later wait last at least until t.
func (p *pacer) holdUntil(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.After(p.until) {
		p.until = t
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
