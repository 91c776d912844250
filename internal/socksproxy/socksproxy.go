// Package socksproxy is a real SOCKS5 server (RFC 1928, with the
// username/password method of RFC 1929) on loopback for tests, benchmarks
// and the demo: it stands in for a Tor client, resolving host names (such
// as .onion names) itself from a fixed table and refusing every other
// destination. Like Tor, it accepts any username and password, which
// clients use to ask for isolated circuits; the proxy records them.
package socksproxy

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// SOCKS5 reply codes used here.
const (
	replySucceeded          byte = 0x00
	replyGeneralFailure     byte = 0x01
	replyNotAllowed         byte = 0x02
	replyHostUnreachable    byte = 0x04
	replyConnectionRefused  byte = 0x05
	replyCommandUnsupported byte = 0x07
	replyAddressUnsupported byte = 0x08
)

// Stream is one CONNECT the proxy tunnelled: the destination as the client
// sent it (a name stays unresolved) and the credentials it authenticated
// with, empty for the no-authentication method.
type Stream struct {
	Host     string
	Port     int
	Username string
	Password string
}

// Option configures a Proxy.
type Option func(*Proxy)

// WithWrap makes every tunnelled stream's upstream connection go through
// wrap, which benchmarks use to shape a circuit's latency and bandwidth.
func WithWrap(wrap func(Stream, net.Conn) net.Conn) Option {
	return func(p *Proxy) { p.wrap = wrap }
}

// Proxy is a running SOCKS5 server that maps requested host names to
// loopback addresses.
type Proxy struct {
	ln     net.Listener
	logger *slog.Logger
	wrap   func(Stream, net.Conn) net.Conn

	mu      sync.Mutex
	hosts   map[string]string
	names   []string
	streams []Stream
	conns   map[net.Conn]struct{}
	closed  bool
	quit    chan struct{} // closed by Close
	wg      sync.WaitGroup
}

// Start listens on addr ("127.0.0.1:0" for a free port) and serves SOCKS5.
// hosts maps a requested host name to a real "127.0.0.1:port", whatever port
// the client asked for; a request for a name not in hosts is refused without
// a connection being made. IP-literal destinations are allowed on loopback
// only. The server stops when ctx is done or Close is called.
func Start(ctx context.Context, addr string, hosts map[string]string, logger *slog.Logger, opts ...Option) (*Proxy, error) {
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
	for _, o := range opts {
		o(p)
	}
	for name, a := range hosts {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("socksproxy: host %q: address %q: %w", name, a, err)
		}
		p.hosts[name] = a
	}
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
			defer c.Close()
			if err := p.handle(c); err != nil {
				p.logger.Debug("socks5 connection", "error", err)
			}
		}()
	}
}

// handshakeTimeout bounds a client's negotiation, so a silent client does
// not hold a goroutine.
const handshakeTimeout = 10 * time.Second

// handle negotiates one client connection and tunnels it.
func (p *Proxy) handle(c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	br := bufio.NewReader(c)
	st, err := negotiate(br, c)
	if err != nil {
		return err
	}
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return fmt.Errorf("socksproxy: read request: %w", err)
	}
	if hdr[0] != 5 {
		return fmt.Errorf("socksproxy: request version %d", hdr[0])
	}
	host, port, err := readAddr(br, hdr[3])
	if err != nil {
		_ = reply(c, replyAddressUnsupported)
		return err
	}
	st.Host, st.Port = host, port
	if hdr[1] != 1 { // CONNECT only
		_ = reply(c, replyCommandUnsupported)
		return fmt.Errorf("socksproxy: command %d refused", hdr[1])
	}
	target, code := p.route(st)
	if code != replySucceeded {
		_ = reply(c, code)
		return fmt.Errorf("socksproxy: %s refused", net.JoinHostPort(host, strconv.Itoa(port)))
	}
	up, err := p.dial(target)
	if err != nil {
		_ = reply(c, replyConnectionRefused)
		return fmt.Errorf("socksproxy: dial %s: %w", target, err)
	}
	defer up.Close()
	p.mu.Lock()
	p.streams = append(p.streams, st)
	p.mu.Unlock()
	if err := reply(c, replySucceeded); err != nil {
		return err
	}
	_ = c.SetDeadline(time.Time{})
	if p.wrap != nil {
		up = p.wrap(st, up)
	}
	relay(c, br, up)
	return nil
}

// negotiate reads the client's methods and takes username/password when
// offered (recording the credentials, accepting any), else no
// authentication.
func negotiate(br *bufio.Reader, w io.Writer) (Stream, error) {
	var st Stream
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return st, fmt.Errorf("socksproxy: read greeting: %w", err)
	}
	if hdr[0] != 5 {
		return st, fmt.Errorf("socksproxy: version %d", hdr[0])
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(br, methods); err != nil {
		return st, fmt.Errorf("socksproxy: read methods: %w", err)
	}
	method := byte(0xFF)
	for _, m := range methods {
		if m == 0x02 {
			method = 0x02
			break
		}
		if m == 0x00 {
			method = 0x00
		}
	}
	if _, err := w.Write([]byte{5, method}); err != nil {
		return st, err
	}
	switch method {
	case 0x00:
		return st, nil
	case 0x02:
		// RFC 1929: VER=1 ULEN UNAME PLEN PASSWD.
		ver, err := br.ReadByte()
		if err != nil || ver != 1 {
			return st, fmt.Errorf("socksproxy: bad auth version %d: %v", ver, err)
		}
		if st.Username, err = readShort(br); err != nil {
			return st, err
		}
		if st.Password, err = readShort(br); err != nil {
			return st, err
		}
		_, err = w.Write([]byte{1, 0})
		return st, err
	default:
		return st, errors.New("socksproxy: no acceptable method")
	}
}

func readShort(br *bufio.Reader) (string, error) {
	n, err := br.ReadByte()
	if err != nil {
		return "", fmt.Errorf("socksproxy: read auth: %w", err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		return "", fmt.Errorf("socksproxy: read auth: %w", err)
	}
	return string(b), nil
}

func readAddr(br *bufio.Reader, atyp byte) (string, int, error) {
	var host string
	switch atyp {
	case 1, 4:
		b := make([]byte, 4)
		if atyp == 4 {
			b = make([]byte, 16)
		}
		if _, err := io.ReadFull(br, b); err != nil {
			return "", 0, fmt.Errorf("socksproxy: read address: %w", err)
		}
		a, _ := netip.AddrFromSlice(b)
		host = a.Unmap().String()
	case 3:
		n, err := br.ReadByte()
		if err != nil {
			return "", 0, fmt.Errorf("socksproxy: read name: %w", err)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return "", 0, fmt.Errorf("socksproxy: read name: %w", err)
		}
		host = string(b)
	default:
		return "", 0, fmt.Errorf("socksproxy: address type %d", atyp)
	}
	var port [2]byte
	if _, err := io.ReadFull(br, port[:]); err != nil {
		return "", 0, fmt.Errorf("socksproxy: read port: %w", err)
	}
	return host, int(binary.BigEndian.Uint16(port[:])), nil
}

// reply answers a request; the bound address is always 0.0.0.0:0, which
// clients ignore for CONNECT.
func reply(w io.Writer, code byte) error {
	_, err := w.Write([]byte{5, code, 0, 1, 0, 0, 0, 0, 0, 0})
	return err
}

// route decides where a stream goes: a name only to its table address
// (whatever port was asked; the name is recorded unresolved and never
// looked up in DNS), an IP literal only when it is loopback.
func (p *Proxy) route(st Stream) (string, byte) {
	if ip, err := netip.ParseAddr(st.Host); err == nil {
		if !ip.IsLoopback() {
			return "", replyNotAllowed
		}
		return net.JoinHostPort(st.Host, strconv.Itoa(st.Port)), replySucceeded
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.names = append(p.names, st.Host)
	addr, ok := p.hosts[st.Host]
	if !ok {
		p.logger.Debug("refused unmapped host", "host", st.Host)
		return "", replyHostUnreachable
	}
	return addr, replySucceeded
}

// dial connects to the destination; outbound connections are tracked too
// so Close tears down tunnels in both directions.
func (p *Proxy) dial(addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: handshakeTimeout}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if !p.track(c) {
		_ = c.Close()
		return nil, errors.New("socksproxy: closed")
	}
	return &trackedConn{Conn: c, p: p}, nil
}

// relay copies both ways until each side is done, half-closing so that a
// client's end of request reaches the server.
func relay(client net.Conn, clientR io.Reader, up net.Conn) {
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(up, clientR)
		closeWrite(up)
		close(done)
	}()
	_, _ = io.Copy(client, up)
	closeWrite(client)
	<-done
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	_ = c.Close()
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

type trackedConn struct {
	net.Conn
	p    *Proxy
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.p.untrack(c.Conn) })
	return c.Conn.Close()
}

// CloseWrite half-closes the tunnel as for a *net.TCPConn.
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

// Streams returns every stream the proxy tunnelled, in order, with the
// credentials each came with.
func (p *Proxy) Streams() []Stream {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Stream(nil), p.streams...)
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
