package crawler

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Circuits.
//
// A site's requests go over Site.Circuits circuits. Each circuit has SOCKS5
// username/password credentials of its own, drawn at random for each run,
// and Tor (IsolateSOCKSAuth, on by default) never shares a circuit between
// streams with different credentials: so every site, every run and every
// circuit of a site gets Tor circuits of its own. Credentials in the proxy
// URL are the proxy's to check, so they are sent as written, on every
// circuit. A proxy that picks username/password and refuses the random
// ones is not Tor (Tor takes any): the run's circuits then connect without
// credentials.
//
// Each circuit has its own http.Transport, so keep-alive connections are
// reused per host and circuit and never cross circuits. A circuit carries
// one request at a time (from the request to the close of its body), so at
// most Site.Circuits requests are in flight. A request failing at the
// connection level (a SOCKS or Tor error, a reset, a timeout) retires its
// circuit: its credentials are replaced by fresh ones, which makes Tor build
// a new circuit, and the run counts it in Run.CircuitsReplaced.
//
// Credentials are never logged, put in errors or stored.

// circuit is one slot of a run's pool.
type circuit struct {
	slot int
	tr   *limitTransport
	// stale: the site answered it with a block page (see retire); it gets
	// fresh credentials before its next request. Guarded by the pool's mu.
	stale bool
}

// circuitPool is the run's http.RoundTripper: it lends a free circuit to
// each request and maps the request to the active mirror.
type circuitPool struct {
	runCtx  context.Context
	build   func() (*limitTransport, error)
	free    chan *circuit
	mirrors *mirrorSet // nil: no mirrors

	mu       sync.Mutex
	all      []*circuit
	replaced int
	// answered maps a URL to the circuit that last answered it (see
	// retire).
	answered map[string]*circuit
	// released is closed when a circuit is next released (waitRelease).
	released chan struct{}
}

// circuitError marks a request that failed at the connection level; its
// circuit has been replaced, so the request is worth another try.
type circuitError struct{ err error }

func (e *circuitError) Error() string { return e.err.Error() }
func (e *circuitError) Unwrap() error { return e.err }

// isCircuitFailure reports whether err (as returned by a fetch) failed at
// the connection level.
func isCircuitFailure(err error) bool {
	var ce *circuitError
	if !errors.As(err, &ce) {
		return false
	}
	// Tor's own answer about the destination decides: a fresh circuit does
	// not bring back an unpublished onion (see SOCKSReplyError.retryable).
	var refused *SOCKSReplyError
	if errors.As(err, &refused) {
		return refused.retryable()
	}
	return true
}

// newCircuits builds the run's pool of c.circuits circuits. A proxied site
// gets one SOCKS5 dialer per circuit with credentials of its own; a direct
// site's circuits all use dial, and only bound requests in flight.
func (r *run) newCircuits(dial DialFunc) (*circuitPool, error) {
	c := r.c
	p := &circuitPool{runCtx: r.ctx, free: make(chan *circuit, c.circuits), mirrors: r.mirrors}
	p.build = func() (*limitTransport, error) {
		d := dial
		if c.proxyURL != nil {
			var err error
			if d, err = r.circuitDialer(); err != nil {
				// The error would show the circuit's username.
				return nil, fmt.Errorf("crawler: proxy %s: cannot make a circuit dialer", c.proxyURL.Redacted())
			}
		}
		return newTransport(d, c.httpTimeout, c.maxBody), nil
	}
	for i := range c.circuits {
		tr, err := p.build()
		if err != nil {
			return nil, err
		}
		ci := &circuit{slot: i, tr: tr}
		p.all = append(p.all, ci)
		p.free <- ci
	}
	return p, nil
}

// circuitDialer returns a new circuit's SOCKS5 dialer: with the proxy
// URL's credentials when it has some, else with random ones of the
// circuit's own, falling back for the rest of the run to none when the
// proxy refuses them.
func (r *run) circuitDialer() (DialFunc, error) {
	c := r.c
	plain, err := proxyDialer(c.proxyURL, c.proxyAddr, c.httpTimeout, r.proxyUnreachable)
	if err != nil || c.proxyURL.User != nil {
		return plain, err
	}
	u := *c.proxyURL
	u.User = circuitCredentials()
	isolated, err := proxyDialer(&u, c.proxyAddr, c.httpTimeout, r.proxyUnreachable)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if !r.proxyNotTor.Load() {
			conn, err := isolated(ctx, network, addr)
			if err == nil || !socksAuthRefused(err) {
				return conn, err
			}
			if r.proxyNotTor.CompareAndSwap(false, true) {
				c.logger.Warn("the proxy refused per-circuit credentials, so it is not Tor: connecting without credentials, circuits not isolated",
					"proxy", c.proxyURL.Redacted())
			}
		}
		return plain(ctx, network, addr)
	}, nil
}

// socksAuthRefused reports whether err is a proxy's refusal of the
// username and password offered (RFC 1929), as golang.org/x/net/proxy
// words it: the error has no type of its own.
func socksAuthRefused(err error) bool {
	return strings.Contains(err.Error(), "username/password authentication failed")
}

// circuitCredentials draws fresh random credentials for one circuit.
func circuitCredentials() *url.Userinfo {
	var b [12]byte
	_, _ = crand.Read(b[:])
	token := hex.EncodeToString(b[:])
	return url.UserPassword("precwatch-"+token, token)
}

func (p *circuitPool) acquire(ctx context.Context) (*circuit, error) {
	select {
	case ci := <-p.free:
		p.mu.Lock()
		stale := ci.stale
		ci.stale = false
		p.mu.Unlock()
		if stale {
			p.renew(ci)
		}
		return ci, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release gives ci back to the pool, with fresh credentials when its
// request failed at the connection level.
func (p *circuitPool) release(ci *circuit, failed bool) {
	if failed {
		p.renew(ci)
	}
	p.free <- ci
	p.mu.Lock()
	if p.released != nil {
		close(p.released)
		p.released = nil
	}
	p.mu.Unlock()
}

// waitRelease waits, when another circuit has a request in flight, for a
// circuit to be released (see refusedByRule); with none in flight it
// returns at once, so that a refusal no request of ours causes is not
// waited on. It reports whether it waited, and false ok when ctx ended.
func (p *circuitPool) waitRelease(ctx context.Context) (waited, ok bool) {
	p.mu.Lock()
	othersBusy := len(p.all)-len(p.free) > 1 // the caller holds one
	if p.released == nil {
		p.released = make(chan struct{})
	}
	ch := p.released
	p.mu.Unlock()
	if !othersBusy {
		return false, ctx.Err() == nil
	}
	select {
	case <-ch:
		return true, true
	case <-ctx.Done():
		return true, false
	}
}

// refusedByRule reports whether err is the proxy's refusal by rule (0x02).
func refusedByRule(err error) bool {
	var refused *SOCKSReplyError
	return errors.As(err, &refused) && refused.Code == 0x02
}

// renew gives ci, which its caller holds, fresh credentials: Tor builds
// a new circuit for its next request.
func (p *circuitPool) renew(ci *circuit) {
	tr, err := p.build()
	if err != nil {
		return
	}
	old := ci.tr
	p.mu.Lock()
	ci.tr = tr
	p.replaced++
	p.mu.Unlock()
	old.CloseIdleConnections()
}

// retire marks the circuit that last answered pageURL for fresh
// credentials before its next request: a market that shows a captcha or
// a queue to some circuits (rate limits per circuit) is asked again on
// another. It reports whether that circuit was known.
func (p *circuitPool) retire(pageURL string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	ci, ok := p.answered[pageURL]
	if ok {
		ci.stale = true
		delete(p.answered, pageURL)
	}
	return ok
}

// Replaced is how many circuits were replaced so far.
func (p *circuitPool) Replaced() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.replaced
}

func (p *circuitPool) RoundTrip(req *http.Request) (*http.Response, error) {
	ci, err := p.acquire(req.Context())
	if err != nil {
		return nil, err
	}
	out, mirror := req, -1
	if p.mirrors != nil {
		out, mirror = p.mirrors.rewrite(req)
	}
	start := time.Now()
	resp, err := ci.tr.RoundTrip(out)
	for try := 0; err != nil && refusedByRule(err) && try < 2*len(p.all); try++ {
		// A proxy that caps connections per client (Dante's session.max)
		// refuses by rule the one over its cap, counting the other
		// circuits' tunnels, idle keep-alive ones too. Wait for another
		// request to end, let the idle tunnels go, and ask again: the
		// site's requests then share the connections the proxy allows.
		if waited, ok := p.waitRelease(req.Context()); !ok || (!waited && try > 0) {
			break // cancelled, or refused with nothing else of ours open: the retries decide
		}
		p.CloseIdleConnections()
		resp, err = ci.tr.RoundTrip(out)
	}
	if err != nil {
		// A cancelled run is nobody's fault, an oversized body is the
		// site's answer, not a broken connection, and credentials the proxy
		// refuses it refuses on a fresh circuit or another mirror too.
		var auth *proxyAuthError
		failed := p.runCtx.Err() == nil && !errors.Is(err, ErrBodyTooLarge) && !errors.As(err, &auth)
		if p.mirrors != nil && failed {
			p.mirrors.observe(mirror, 0, 0)
		}
		p.release(ci, failed)
		if out != req {
			// The caller's error names the primary URL it asked for: say
			// which mirror was tried.
			err = fmt.Errorf("mirror %s: %w", out.URL.Host, err)
		}
		if failed {
			return nil, &circuitError{err: err}
		}
		return nil, err
	}
	if p.mirrors != nil {
		p.mirrors.observe(mirror, resp.StatusCode, time.Since(start))
	}
	p.mu.Lock()
	if p.answered == nil {
		p.answered = make(map[string]*circuit)
	}
	p.answered[req.URL.String()] = ci
	p.mu.Unlock()
	// The crawler works on the primary host's URLs whichever mirror served
	// the page.
	resp.Request = req
	resp.Body = &circuitBody{ReadCloser: resp.Body, done: func() { p.release(ci, false) }}
	return resp, nil
}

// CloseIdleConnections closes every circuit's idle connections, so no
// SOCKS tunnel outlives the run.
func (p *circuitPool) CloseIdleConnections() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ci := range p.all {
		ci.tr.CloseIdleConnections()
	}
}

// circuitBody frees its circuit when the body is closed: the request is
// in flight until then.
type circuitBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *circuitBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}
