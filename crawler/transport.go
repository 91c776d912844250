package crawler

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/net/proxy"

	"github.com/precwatch/precwatch"
)

// ErrBodyTooLarge is returned for a response whose body, after
// decompression, is longer than the site's MaxBodyBytes.
var ErrBodyTooLarge = errors.New("crawler: response body too large")

// headerContentType keeps the response's original Content-Type. The
// transport strips the parameters from Content-Type so colly leaves the body
// bytes as received (they are hashed as evidence); the crawler decodes the
// charset itself from this header.
const headerContentType = "X-Precwatch-Content-Type"

// DialFunc dials a network address, as net.Dialer.DialContext does.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// parseProxy validates a SOCKS5 proxy URL and returns it with its
// "host:port" address (port 1080 when absent).
func parseProxy(raw string) (*url.URL, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("crawler: proxy url: %w", err)
	}
	if u.Scheme != "socks5" && u.Scheme != "socks5h" {
		return nil, "", fmt.Errorf("crawler: proxy %s: scheme must be socks5 or socks5h", u.Redacted())
	}
	if u.Hostname() == "" {
		return nil, "", fmt.Errorf("crawler: proxy %s: no host", u.Redacted())
	}
	port := u.Port()
	if port == "" {
		port = "1080"
	}
	return u, net.JoinHostPort(u.Hostname(), port), nil
}

// proxyDialer returns a dialer whose every connection is a SOCKS5 CONNECT
// through addr with the destination host name sent unresolved: no local DNS
// lookup of the target is ever made. A failure to reach the proxy itself is
// reported to unreachable, and there is no fallback to a direct connection.
func proxyDialer(u *url.URL, addr string, timeout time.Duration, unreachable func(error)) (DialFunc, error) {
	var auth *proxy.Auth
	if u.User != nil {
		auth = &proxy.Auth{User: u.User.Username()}
		auth.Password, _ = u.User.Password()
	}
	fwd := &forwardDialer{d: net.Dialer{Timeout: timeout}, unreachable: unreachable}
	d, err := proxy.SOCKS5("tcp", addr, auth, fwd)
	if err != nil {
		return nil, fmt.Errorf("crawler: proxy %s: %w", u.Redacted(), err)
	}
	cd, ok := d.(proxy.ContextDialer)
	if !ok {
		return nil, fmt.Errorf("crawler: proxy %s: dialer has no DialContext", u.Redacted())
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		tap := &replyTap{}
		c, err := cd.DialContext(context.WithValue(ctx, replyTapKey{}, tap), network, addr)
		if err != nil {
			if u.User == nil && strings.Contains(err.Error(), "no acceptable authentication methods") {
				return nil, &proxyAuthError{fmt.Errorf("%w (the proxy wants credentials: put its username and password in the proxy URL)", err)}
			}
			if socksAuthRefused(err) {
				return nil, &proxyAuthError{err}
			}
			// A refusal names the proxy's (Tor's) answer; see torerrors.go.
			if code, ok := tap.cutReplyCode(err); ok {
				return nil, &SOCKSReplyError{Code: code, err: err}
			}
			return nil, socksReplyError(err)
		}
		tap.off.Store(true) // the handshake is over: no more recording
		return c, nil
	}, nil
}

// replyTapKey carries a dial's replyTap to its forwardDialer.
type replyTapKey struct{}

// replyTap keeps the first bytes the proxy sent during the SOCKS
// handshake, so that a reply cut short ("05 04" and a hang-up, as some
// servers answer an unreachable host) can still be read for its code.
type replyTap struct {
	off atomic.Bool
	mu  sync.Mutex
	buf []byte
}

// maxTap bounds the bytes kept: a method choice, an authentication
// status and a reply's first bytes.
const maxTap = 32

func (t *replyTap) record(p []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p[:min(len(p), maxTap-len(t.buf))]...)
}

// cutReplyCode returns the reply code of a handshake whose CONNECT
// reply the proxy cut short after its code (the client saw an EOF): the
// refusal as a whole reply would have said it (see socksReplyError).
func (t *replyTap) cutReplyCode(err error) (byte, bool) {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "socks connect" || !errors.Is(op.Err, io.EOF) && !errors.Is(op.Err, io.ErrUnexpectedEOF) {
		return 0, false
	}
	t.mu.Lock()
	b := t.buf
	t.mu.Unlock()
	// The method choice (05 MM), then for username/password its status
	// (01 00), then the reply (05 CODE ...).
	if len(b) < 2 || b[0] != 0x05 {
		return 0, false
	}
	method := b[1]
	b = b[2:]
	if method == 0x02 {
		if len(b) < 2 {
			return 0, false
		}
		b = b[2:]
	}
	if len(b) < 2 || b[0] != 0x05 || b[1] == 0x00 {
		return 0, false
	}
	return b[1], true
}

// tappedConn records what the proxy sends into tap until the handshake
// is over.
type tappedConn struct {
	net.Conn
	tap *replyTap
}

func (c *tappedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.tap.off.Load() {
		c.tap.record(p[:n])
	}
	return n, err
}

// proxyAuthError is the proxy's refusal of the credentials offered, or of
// none: the proxy URL's to fix, which no retry or fresh circuit changes.
type proxyAuthError struct{ err error }

func (e *proxyAuthError) Error() string { return e.err.Error() }
func (e *proxyAuthError) Unwrap() error { return e.err }

// forwardDialer makes the TCP connection to the proxy itself.
type forwardDialer struct {
	d           net.Dialer
	unreachable func(error)
}

func (f *forwardDialer) Dial(network, addr string) (net.Conn, error) {
	return f.DialContext(context.Background(), network, addr)
}

func (f *forwardDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := f.d.DialContext(ctx, network, addr)
	if err != nil && ctx.Err() == nil && f.unreachable != nil {
		f.unreachable(err)
	}
	if tap, ok := ctx.Value(replyTapKey{}).(*replyTap); ok && err == nil {
		return &tappedConn{Conn: c, tap: tap}, nil
	}
	return c, err
}

// newTransport builds the only transport of a run: dial is its sole way
// out, and HTTP_PROXY and friends are ignored.
func newTransport(dial DialFunc, timeout time.Duration, maxBody int64) *limitTransport {
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           dial,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		// A transport is one circuit's, and a circuit carries one request
		// at a time. Without this cap, a request that starts before the
		// last response's connection is back in the idle pool (the
		// transport returns it asynchronously) dials a second SOCKS
		// connection; with it, the request waits for that connection.
		MaxConnsPerHost:     1,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     30 * time.Second,
		TLSClientConfig:     onionTLS(),
		// A TLSClientConfig of its own turns HTTP/2 off unless asked for.
		ForceAttemptHTTP2: true,
	}
	return &limitTransport{base: t, max: maxBody}
}

// onionTLS verifies servers' certificates as usual, except for .onion
// names: an onion address is the service's own public key, so Tor has
// authenticated the service already, and onion services commonly serve
// HTTPS with a self-signed certificate (or one no public CA may issue).
func onionTLS() *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true, // checked by VerifyConnection below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if precwatch.IsOnion(cs.ServerName) {
				return nil
			}
			if len(cs.PeerCertificates) == 0 {
				return errors.New("tls: server sent no certificate")
			}
			opts := x509.VerifyOptions{DNSName: cs.ServerName, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		},
	}
}

// acceptEncoding is what the crawler asks for: the codings it decodes, as
// current browsers list them. Without it the stdlib transport sent "gzip"
// alone, which no browser sends beside a Tor Browser User-Agent.
const acceptEncoding = "gzip, deflate, br, zstd"

// maxZstdWindow bounds the memory a zstd stream's window may claim (its
// header names a size up to 3.75 TB); browsers decode windows up to 8 MiB.
const maxZstdWindow = 8 << 20

// limitTransport caps response bodies after decompression, so a
// compression bomb is cut at the limit rather than expanded in memory. It
// decodes every Content-Encoding a browser does (gzip, deflate, br, zstd,
// several in a row) itself, whether asked for or sent unasked by a
// misconfigured server, and marks every response Uncompressed so colly
// never inflates one again. A body in a coding it does not know fails the
// request, naming the coding, rather than being parsed as garbage.
type limitTransport struct {
	base *http.Transport
	max  int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Accept-Encoding") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body := resp.Body
	if ce := resp.Header.Get("Content-Encoding"); !resp.Uncompressed && ce != "" {
		decoded, err := decodeBody(body, ce, req.Method == http.MethodHead || resp.StatusCode == http.StatusNotModified || resp.StatusCode == http.StatusNoContent)
		if err != nil {
			body.Close()
			return nil, fmt.Errorf("crawler: body of %s: %w", req.URL.Redacted(), err)
		}
		if decoded != body {
			body = decoded
			resp.Header.Del("Content-Encoding")
			resp.Header.Del("Content-Length")
			resp.ContentLength = -1
		}
	}
	resp.Uncompressed = true
	if inner, ok := gzipFileType(req.URL.Path, resp.Header.Get("Content-Type")); ok && resp.StatusCode < 300 && req.Method != http.MethodHead {
		// A server that also sent it with Content-Encoding: gzip had it
		// decoded above: what is left is the file, not gzip data.
		br := bufio.NewReader(body)
		if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
			gz, err := gzip.NewReader(br)
			if err != nil {
				body.Close()
				return nil, fmt.Errorf("crawler: body of %s: a gzip file: %w", req.URL.Redacted(), err)
			}
			body = &decodedBody{Reader: gz, raw: body, closers: []func(){func() { gz.Close() }}}
		} else {
			body = &decodedBody{Reader: br, raw: body}
		}
		resp.Header.Set("Content-Type", inner)
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
	}
	if t.max > 0 && resp.ContentLength > t.max {
		body.Close()
		return nil, fmt.Errorf("%w: %d bytes declared, over the limit %d (limits.max_body_bytes)", ErrBodyTooLarge, resp.ContentLength, t.max)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		resp.Header.Set(headerContentType, ct)
		if mt, _, err := mime.ParseMediaType(ct); err == nil {
			resp.Header.Set("Content-Type", mt)
		} else {
			resp.Header.Set("Content-Type", "application/octet-stream")
		}
	}
	resp.Body = &limitedBody{rc: body, n: t.max, max: t.max}
	return resp, nil
}

func (t *limitTransport) CloseIdleConnections() { t.base.CloseIdleConnections() }

// gzipFileType is the type of the file inside a gzip-compressed file
// served as one (a shop's sitemap-products-1.xml.gz, sent as
// application/x-gzip and not with Content-Encoding: gzip), named by the
// URL's file name without ".gz"; ok is false for any other response, and
// for a compressed file of a type the crawler does not read (an archive).
func gzipFileType(path, ct string) (inner string, ok bool) {
	mt, _, _ := mime.ParseMediaType(ct)
	switch mt {
	case "application/gzip", "application/x-gzip", "application/x-gunzip", "application/gzip-compressed":
	case "application/octet-stream", "":
		if !strings.HasSuffix(strings.ToLower(path), ".gz") {
			return "", false
		}
	default:
		return "", false
	}
	name := strings.TrimSuffix(strings.ToLower(path), ".gz")
	switch {
	case strings.HasSuffix(name, ".xml"):
		return "application/xml", true
	case strings.HasSuffix(name, ".html"), strings.HasSuffix(name, ".htm"):
		return "text/html", true
	case strings.HasSuffix(name, ".json"):
		return "application/json", true
	}
	return "", false
}

// ErrUnknownEncoding is a response in a Content-Encoding the crawler does
// not decode.
var ErrUnknownEncoding = errors.New("unsupported Content-Encoding")

// decodeBody wraps raw in readers undoing the codings of a Content-Encoding
// header, listed in the order they were applied (so undone last first).
// An empty body (HEAD, 304, 204) is returned as is. raw is returned as is
// when every coding is "identity".
func decodeBody(raw io.ReadCloser, header string, empty bool) (io.ReadCloser, error) {
	var codings []string
	for c := range strings.SplitSeq(header, ",") {
		c = strings.ToLower(strings.TrimSpace(c))
		if c != "" && c != "identity" {
			codings = append(codings, c)
		}
	}
	if len(codings) == 0 || empty {
		return raw, nil
	}
	if len(codings) > 4 { // no server stacks more; each layer costs a decoder
		return nil, fmt.Errorf("%w %q: %d codings", ErrUnknownEncoding, header, len(codings))
	}
	for _, c := range codings {
		switch c {
		case "gzip", "x-gzip", "deflate", "br", "zstd":
		default:
			return nil, fmt.Errorf("%w %q (precwatch decodes gzip, deflate, br and zstd)", ErrUnknownEncoding, c)
		}
	}
	var r io.Reader = raw
	closers := []func(){}
	for i := len(codings) - 1; i >= 0; i-- {
		switch codings[i] {
		case "gzip", "x-gzip":
			gz, err := gzip.NewReader(r)
			if err != nil {
				return nil, fmt.Errorf("gzip: %w", err)
			}
			closers = append(closers, func() { gz.Close() })
			r = gz
		case "deflate":
			r = newDeflateReader(r)
		case "br":
			r = brotli.NewReader(r)
		case "zstd":
			zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow),
				zstd.WithDecoderLowmem(true))
			if err != nil {
				return nil, fmt.Errorf("zstd: %w", err)
			}
			closers = append(closers, zr.Close)
			r = zr
		}
	}
	return &decodedBody{Reader: r, raw: raw, closers: closers}, nil
}

// newDeflateReader reads HTTP's "deflate": a zlib stream (RFC 9110), or, as
// some servers send it and browsers accept, raw deflate data without the
// zlib header. The two are told apart by the zlib header's check bits.
func newDeflateReader(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if h, err := br.Peek(2); err == nil && h[0]&0x0f == 8 && h[0]>>4 <= 7 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
		return &lazyZlib{r: br}
	}
	return flate.NewReader(br)
}

// lazyZlib opens its zlib reader on the first Read, so that a broken header
// is a read error of the body, as it is for the other codings' data.
type lazyZlib struct {
	r  io.Reader
	zr io.ReadCloser
}

func (z *lazyZlib) Read(p []byte) (int, error) {
	if z.zr == nil {
		zr, err := zlib.NewReader(z.r)
		if err != nil {
			return 0, fmt.Errorf("deflate: %w", err)
		}
		z.zr = zr
	}
	return z.zr.Read(p)
}

// decodedBody is a response body read through its decoders; closing it
// releases them and closes the connection's body.
type decodedBody struct {
	io.Reader
	raw     io.ReadCloser
	closers []func()
}

func (d *decodedBody) Close() error {
	for _, c := range d.closers {
		c()
	}
	return d.raw.Close()
}

// limitedBody reads at most n bytes and fails, rather than truncating
// silently, when there is more.
type limitedBody struct {
	rc     io.ReadCloser
	n, max int64 // max 0: no limit
	read   int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.max > 0 && l.n <= 0 {
		var one [1]byte
		n, err := l.rc.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%w: over the limit %d (limits.max_body_bytes)", ErrBodyTooLarge, l.max)
		}
		return 0, err
	}
	if l.max > 0 && int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.rc.Read(p)
	l.n -= int64(n)
	l.read += int64(n)
	if err != nil && err != io.EOF && !errors.Is(err, ErrBodyTooLarge) {
		// The connection ended before the body did (a dropped circuit,
		// a server that died mid-page): say how far it got; retryable
		// retries it.
		err = &cutShortError{read: l.read, err: err}
	}
	return n, err
}

// cutShortError is a body that ended early.
type cutShortError struct {
	read int64
	err  error
}

func (e *cutShortError) Error() string {
	return fmt.Sprintf("crawler: body cut short after %d bytes: %v", e.read, e.err)
}

func (e *cutShortError) Unwrap() error { return e.err }

func (l *limitedBody) Close() error { return l.rc.Close() }

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
