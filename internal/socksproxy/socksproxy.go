// Package socksproxy is a real SOCKS5 server on loopback for tests and the
// demo: it stands in for a Tor client, resolving host names (such as .onion
// names) itself from a fixed table and refusing every other destination.
package socksproxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"

	socks5 "github.com/armon/go-socks5"
)

// Proxy is a running SOCKS5 server (no authentication) that maps requested
// host names to loopback addresses.
type Proxy struct {
	ln     net.Listener
	srv    *socks5.Server
	logger *slog.Logger

	mu     sync.Mutex
	hosts  map[string]string
	names  []string
	conns  map[net.Conn]struct{}
	closed bool
	quit   chan struct{} // closed by Close
	wg     sync.WaitGroup
}

// Start listens on addr ("127.0.0.1:0" for a free port) and serves SOCKS5.
// hosts maps a requested host name to a real "127.0.0.1:port", whatever port
// the client asked for; a request for a name not in hosts is refused without
// a connection being made. IP-literal destinations are allowed on loopback
// only. The server stops when ctx is done or Close is called.
func Start(ctx context.Context, addr string, hosts map[string]string, logger *slog.Logger) (*Proxy, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	p := &Proxy{
		logger: logger.With("component", "socksproxy"),
		hosts:  make(map[string]string, len(hosts)),
		conns:  make(map[net.Conn]struct{}),
		quit:   make(chan struct{}),
	}
	for name, a := range hosts {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("socksproxy: host %q: address %q: %w", name, a, err)
		}
		p.hosts[name] = a
	}
	srv, err := socks5.New(&socks5.Config{
		Resolver: resolver{p},
		Rewriter: rewriter{},
		Rules:    rules{},
		Logger:   slog.NewLogLogger(p.logger.Handler(), slog.LevelDebug),
		Dial:     p.dial,
	})
	if err != nil {
		return nil, fmt.Errorf("socksproxy: new server: %w", err)
	}
	p.srv = srv
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("socksproxy: listen %s: %w", addr, err)
	}
	p.ln = ln
	p.wg.Add(1)
	go p.serve()
	if ctx.Done() != nil {
		go func() {
			select {
			case <-ctx.Done():
				_ = p.Close()
			case <-p.quit:
			}
		}()
	}
	p.logger.Debug("socks5 proxy listening", "addr", ln.Addr().String())
	return p, nil
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			_ = c.Close()
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.untrack(c)
			_ = p.srv.ServeConn(c)
		}()
	}
}

// track registers a connection so Close can drop it; false after Close.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// dial connects to the rewritten destination; outbound connections are
// tracked too so Close tears down tunnels in both directions.
func (p *Proxy) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if !p.track(c) {
		_ = c.Close()
		return nil, errors.New("socksproxy: closed")
	}
	return &trackedConn{Conn: c, p: p}, nil
}

type trackedConn struct {
	net.Conn
	p    *Proxy
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.p.untrack(c.Conn) })
	return c.Conn.Close()
}

// CloseWrite lets go-socks5 half-close the tunnel as it does for *net.TCPConn.
func (c *trackedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Addr is the listening address, "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL is the proxy URL, "socks5://127.0.0.1:port".
func (p *Proxy) URL() string { return "socks5://" + p.Addr() }

// Names returns every host name clients asked the proxy for, as sent in the
// SOCKS request (unresolved), in order, mapped or not.
func (p *Proxy) Names() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.names...)
}

// SetHost maps name to addr ("127.0.0.1:port"); an empty addr removes it.
func (p *Proxy) SetHost(name, addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if addr == "" {
		delete(p.hosts, name)
		return
	}
	p.hosts[name] = addr
}

// Close stops listening and drops every open connection; later dials to
// Addr fail. It is safe to call more than once.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.quit)
	err := p.ln.Close()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("socksproxy: close: %w", err)
	}
	return nil
}

// mappedKey carries the mapped address from resolve to rewrite, so a
// concurrent SetHost cannot make the two disagree.
type mappedKey struct{}

// resolver records the requested name and looks it up in the table only;
// it never asks DNS.
type resolver struct{ p *Proxy }

func (r resolver) Resolve(ctx context.Context, name string) (context.Context, net.IP, error) {
	r.p.mu.Lock()
	r.p.names = append(r.p.names, name)
	addr, ok := r.p.hosts[name]
	r.p.mu.Unlock()
	if !ok {
		r.p.logger.Debug("refused unmapped host", "host", name)
		return ctx, nil, fmt.Errorf("socksproxy: host %q not mapped", name)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ctx, nil, fmt.Errorf("socksproxy: host %q: %w", name, err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return ctx, nil, fmt.Errorf("socksproxy: host %q: port %q: %w", name, port, err)
	}
	spec := &socks5.AddrSpec{FQDN: host, IP: net.ParseIP(host), Port: n}
	ip := spec.IP
	if ip == nil {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return context.WithValue(ctx, mappedKey{}, spec), ip, nil
}

// rewriter sends a mapped name to its table address and port, ignoring the
// port the client asked for.
type rewriter struct{}

func (rewriter) Rewrite(ctx context.Context, req *socks5.Request) (context.Context, *socks5.AddrSpec) {
	if spec, ok := ctx.Value(mappedKey{}).(*socks5.AddrSpec); ok {
		return ctx, spec
	}
	return ctx, req.DestAddr
}

// rules allows CONNECT only, to mapped names or loopback IP literals.
type rules struct{}

func (rules) Allow(ctx context.Context, req *socks5.Request) (context.Context, bool) {
	if req.Command != socks5.ConnectCommand {
		return ctx, false
	}
	if req.DestAddr.FQDN != "" {
		_, ok := ctx.Value(mappedKey{}).(*socks5.AddrSpec)
		return ctx, ok
	}
	return ctx, req.DestAddr.IP.IsLoopback()
}
