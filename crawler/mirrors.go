package crawler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/precwatch/precwatch"
)

// Mirrors.
//
// A site's primary origin is the scheme and host of its first start URL;
// Site.Mirrors lists other origins serving the same site. The crawler works
// on the primary's URLs only: a request is sent to the active mirror by the
// run's transport, and links or listing URLs a mirror's page names on its
// own host are mapped back to the primary. So canonical URLs, listing
// identities, alert keys and deduplication are the same whichever mirror
// served a page, and adding or removing a mirror changes nothing stored.
//
// A run starts on the primary. When a request to the active mirror still
// fails after its retries (a connection or Tor error, a timeout, a 5xx),
// the run fails over to the next mirror not yet failed in this run,
// retries the request there, and stays there. A mirror may serve an older
// copy of the site (a lagging replica, a cache, a snapshot): a run that
// read pages from one records what it shows but marks nothing gone
// (servedByMirror), and the next run goes back to the primary, so a stale
// mirror is not kept for good once the primary answers again. (Runs
// started on the mirror that answered last before: after one outage of
// the primary they stayed on a stale mirror, marked the listings it lacked
// gone, and reverted prices.)

// parseMirrors validates the site's mirrors against its primary origin and
// returns the origins, primary first.
func parseMirrors(primary *url.URL, mirrors []string) ([]*url.URL, error) {
	origins := []*url.URL{{Scheme: strings.ToLower(primary.Scheme), Host: originHost(primary)}}
	seen := map[string]bool{origins[0].String(): true}
	for _, raw := range mirrors {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("mirror %q: %w", raw, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			return nil, fmt.Errorf("mirror %q: want an absolute http(s) url", raw)
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("mirror %q: want an origin (scheme://host[:port]) without path, query or user", raw)
		}
		o := &url.URL{Scheme: strings.ToLower(u.Scheme), Host: originHost(u)}
		if seen[o.String()] {
			return nil, fmt.Errorf("mirror %q: listed twice (or the primary %s)", raw, origins[0])
		}
		seen[o.String()] = true
		origins = append(origins, o)
	}
	return origins, nil
}

// originHost is u's host in lower case without its scheme's default port.
func originHost(u *url.URL) string {
	h := strings.ToLower(u.Host)
	switch {
	case u.Scheme == "http" && strings.HasSuffix(h, ":80"):
		h = strings.TrimSuffix(h, ":80")
	case u.Scheme == "https" && strings.HasSuffix(h, ":443"):
		h = strings.TrimSuffix(h, ":443")
	}
	return h
}

// mirrorSet is one run's view of a site's origins.
type mirrorSet struct {
	origins []*url.URL
	now     func() time.Time

	mu     sync.Mutex
	active int
	failed []bool
	stats  []precwatch.MirrorStatus
	latSum []time.Duration
	latN   []int
}

func newMirrorSet(origins []*url.URL, now func() time.Time) *mirrorSet {
	m := &mirrorSet{
		origins: origins,
		now:     now,
		failed:  make([]bool, len(origins)),
		stats:   make([]precwatch.MirrorStatus, len(origins)),
		latSum:  make([]time.Duration, len(origins)),
		latN:    make([]int, len(origins)),
	}
	for i, o := range origins {
		m.stats[i].URL = o.String()
	}
	return m
}

// seed carries over each mirror's last success and latency from an earlier
// run's record. The run still starts on the primary (see above).
func (m *mirrorSet) seed(prev []precwatch.MirrorStatus) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range prev {
		for i := range m.stats {
			if m.stats[i].URL == p.URL {
				m.stats[i].LastSuccess, m.stats[i].Latency = p.LastSuccess, p.Latency
			}
		}
	}
}

// servedByMirror says, when any of this run's answers came from a mirror
// rather than the primary, why the run must not mark listings gone; ""
// when the primary served it all (or the site has no mirrors).
func (m *mirrorSet) servedByMirror() string {
	if m == nil {
		return ""
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var used []string
	for i := 1; i < len(m.origins); i++ {
		if m.latN[i] > 0 {
			used = append(used, m.origins[i].Redacted())
		}
	}
	if len(used) == 0 {
		return ""
	}
	return fmt.Sprintf("pages came from mirror %s, not the primary %s, and a mirror may serve an older copy of the site",
		strings.Join(used, ", "), m.origins[0].Redacted())
}

// index is the origin u is on, -1 when none.
func (m *mirrorSet) index(u *url.URL) int {
	if u == nil {
		return -1
	}
	s, h := strings.ToLower(u.Scheme), originHost(u)
	for i, o := range m.origins {
		if o.Scheme == s && o.Host == h {
			return i
		}
	}
	return -1
}

// current is the active mirror; -1 on a nil set.
func (m *mirrorSet) current() int {
	if m == nil {
		return -1
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.active
}

// rewrite sends a request for the primary to the active mirror. It returns
// the request to send and the mirror it goes to (-1: not a mirrored origin).
func (m *mirrorSet) rewrite(req *http.Request) (*http.Request, int) {
	i := m.index(req.URL)
	if i != 0 {
		return req, i
	}
	a := m.current()
	if a == 0 {
		return req, 0
	}
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host = m.origins[a].Scheme, m.origins[a].Host
	out.Host = ""
	return out, a
}

// observe counts one request to mirror i: status 0 is a connection-level
// failure, 5xx a server failure, anything else an answer.
func (m *mirrorSet) observe(i, status int, latency time.Duration) {
	if i < 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stats[i].Requests++
	if status == 0 || status >= 500 {
		m.stats[i].Failures++
		return
	}
	m.stats[i].LastSuccess = m.now()
	m.latSum[i] += latency
	m.latN[i]++
}

// failover moves the run off mirror from, which failed. It reports whether
// the request should be tried again: another worker moved already, or a
// mirror not yet failed in this run is left.
func (m *mirrorSet) failover(from int) (int, bool) {
	if m == nil || from < 0 {
		return -1, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if from != m.active {
		return m.active, !m.failed[m.active]
	}
	m.failed[from] = true
	for k := 1; k < len(m.origins); k++ {
		i := (from + k) % len(m.origins)
		if !m.failed[i] {
			m.active = i
			return i, true
		}
	}
	return from, false
}

// toPrimary maps a URL on a mirror's host to the primary's; other URLs
// are returned unchanged.
func (m *mirrorSet) toPrimary(raw string) string {
	if m == nil || raw == "" {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil || m.index(u) <= 0 {
		return raw
	}
	u.Scheme, u.Host = m.origins[0].Scheme, m.origins[0].Host
	return u.String()
}

// statuses is the run record's view of the mirrors.
func (m *mirrorSet) statuses() []precwatch.MirrorStatus {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]precwatch.MirrorStatus, len(m.stats))
	for i, s := range m.stats {
		if m.latN[i] > 0 {
			s.Latency = m.latSum[i] / time.Duration(m.latN[i])
		}
		s.Active = i == m.active
		out[i] = s
	}
	return out
}

// newMirrors prepares the run's mirror set, seeded from the site's last
// run that recorded mirrors. nil when the site has none.
func (r *run) newMirrors(ctx context.Context) *mirrorSet {
	c := r.c
	if len(c.origins) < 2 {
		return nil
	}
	m := newMirrorSet(c.origins, c.now)
	runs, err := c.store.Runs(ctx, c.site.Name, 5)
	if err != nil {
		c.logger.Warn("mirrors: previous runs unreadable", "error", err)
		return m
	}
	for _, prev := range runs {
		if prev.ID != r.rec.ID && len(prev.Mirrors) > 0 {
			m.seed(prev.Mirrors)
			break
		}
	}
	return m
}

// failover is do's hook: after a request to mirror from failed for good,
// it reports whether to try again on another mirror.
func (r *run) failover(from, status int, err error) bool {
	if r.mirrors == nil || r.ctx.Err() != nil || (status < 500 && !originFailure(err)) {
		return false
	}
	to, ok := r.mirrors.failover(from)
	if ok && to != from {
		r.c.logger.Warn("mirror failed over", "from", r.c.origins[from].Host, "to", r.c.origins[to].Host, "error", err)
		r.pace.outage()
	}
	return ok
}

// originFailure reports whether err says the origin itself could not be
// reached: a connection-level failure, or the proxy's final answer about
// the destination. A refused connection (0x05: a SOCKS proxy such as
// microsocks or Dante in front of a mirror that is down) or an onion
// service whose descriptor is gone (0xF0) is not retried on a fresh
// circuit, but another mirror may well answer.
func originFailure(err error) bool {
	var refused *SOCKSReplyError
	return isCircuitFailure(err) || errors.As(err, &refused)
}

// CheckMirrors validates a site's mirrors against the primary origin (the
// first start URL's). It reports the index of the first bad mirror, -1
// when all are good.
func CheckMirrors(primary string, mirrors []string) (int, error) {
	u, err := url.Parse(primary)
	if err != nil || u.Hostname() == "" {
		return -1, nil // the start URL's own check reports it
	}
	for j := range mirrors {
		if _, err := parseMirrors(u, mirrors[:j+1]); err != nil {
			return j, err
		}
	}
	return -1, nil
}
