package crawler

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// refusingProxy is a SOCKS5 server on loopback that reads each CONNECT
// and answers it with one fixed reply code, as a Tor client does for a
// destination it cannot reach. It counts the CONNECTs.
type refusingProxy struct {
	ln       net.Listener
	code     byte
	hangUp   bool // close the connection instead of answering, as ssh -D does
	short    bool // send only the reply's version and code, then close (npm socksv5)
	connects atomic.Int32
}

func startRefusingProxy(t *testing.T, code byte) *refusingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &refusingProxy{ln: ln, code: code}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *refusingProxy) url() string { return "socks5h://" + p.ln.Addr().String() }

func (p *refusingProxy) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	// Greeting: version, method count, methods; choose "no auth".
	head := make([]byte, 2)
	if _, err := io.ReadFull(c, head); err != nil {
		return
	}
	if _, err := io.ReadFull(c, make([]byte, head[1])); err != nil {
		return
	}
	if _, err := c.Write([]byte{5, 0}); err != nil {
		return
	}
	// Request: version, command, reserved, address type 3, name, port.
	req := make([]byte, 5)
	if _, err := io.ReadFull(c, req); err != nil || req[3] != 3 {
		return
	}
	if _, err := io.ReadFull(c, make([]byte, int(req[4])+2)); err != nil {
		return
	}
	p.connects.Add(1)
	if p.hangUp {
		return
	}
	if p.short {
		_, _ = c.Write([]byte{5, p.code})
		return
	}
	_, _ = c.Write([]byte{5, p.code, 0, 1, 0, 0, 0, 0, 0, 0})
}

// TestSOCKSReplyErrors dials through a proxy answering each reply code
// and checks the error names the proxy's answer, and which are retried.
func TestSOCKSReplyErrors(t *testing.T) {
	cases := []struct {
		code  byte
		text  string
		onion bool
		retry bool
	}{
		{0x01, "crawler: proxy: general SOCKS server failure (SOCKS5 reply 0x01)", false, true},
		{0x02, "crawler: proxy: connection not allowed by ruleset: the proxy's rules refuse this destination, or more connections at once than it allows (lower the site's circuits) (SOCKS5 reply 0x02)", false, true},
		{0x03, "crawler: proxy: network unreachable (SOCKS5 reply 0x03): a host name the proxy cannot resolve, or no route to it", false, false},
		{0x04, "crawler: proxy: host unreachable (SOCKS5 reply 0x04)", false, true},
		{0x05, "crawler: proxy: connection refused (SOCKS5 reply 0x05)", false, false},
		{0x06, "crawler: proxy: TTL expired (SOCKS5 reply 0x06)", false, true},
		{0x07, "crawler: proxy: command not supported (SOCKS5 reply 0x07)", false, false},
		{0x08, "crawler: proxy: address type not supported (SOCKS5 reply 0x08)", false, false},
		{0xF0, "crawler: tor: onion service descriptor not found (SOCKS5 reply 0xF0)", true, false},
		{0xF1, "crawler: tor: onion service descriptor is invalid (SOCKS5 reply 0xF1)", true, false},
		{0xF2, "crawler: tor: onion service introduction failed (SOCKS5 reply 0xF2)", true, true},
		{0xF3, "crawler: tor: onion service rendezvous failed (SOCKS5 reply 0xF3)", true, true},
		{0xF4, "crawler: tor: onion service missing client authorization (SOCKS5 reply 0xF4)", true, false},
		{0xF5, "crawler: tor: onion service wrong client authorization (SOCKS5 reply 0xF5)", true, false},
		{0xF6, "crawler: tor: onion service invalid address (SOCKS5 reply 0xF6)", true, false},
		{0xF7, "crawler: tor: onion service introduction timed out (SOCKS5 reply 0xF7)", true, true},
		{0x42, "crawler: proxy: unknown reply (SOCKS5 reply 0x42)", false, false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%#02x", tc.code), func(t *testing.T) {
			p := startRefusingProxy(t, tc.code)
			u, addr, err := parseProxy(p.url())
			if err != nil {
				t.Fatal(err)
			}
			var unreachable atomic.Int32
			dial, err := proxyDialer(u, addr, 5*time.Second, func(error) { unreachable.Add(1) })
			if err != nil {
				t.Fatal(err)
			}
			conn, err := dial(t.Context(), "tcp", onionA+":80")
			if err == nil {
				conn.Close()
				t.Fatal("dial succeeded")
			}
			var re *SOCKSReplyError
			if !errors.As(err, &re) {
				t.Fatalf("error %q (%T) is not a *SOCKSReplyError", err, err)
			}
			if re.Code != tc.code || re.Onion() != tc.onion {
				t.Errorf("code %#x onion %v, want %#x %v", re.Code, re.Onion(), tc.code, tc.onion)
			}
			if err.Error() != tc.text {
				t.Errorf("error = %q, want %q", err, tc.text)
			}
			if got := retryable(0, fmt.Errorf("crawler: fetch: %w", err)); got != tc.retry {
				t.Errorf("retryable = %v, want %v", got, tc.retry)
			}
			if n := unreachable.Load(); n != 0 {
				t.Errorf("a refusal was reported as the proxy being unreachable (%d times)", n)
			}
		})
	}
}

// TestSOCKSReplyErrorOthersUnchanged checks that errors other than a
// refused CONNECT keep their own text.
func TestSOCKSReplyErrorOthersUnchanged(t *testing.T) {
	for _, err := range []error{
		errors.New("boom"),
		&net.OpError{Op: "socks connect", Net: "tcp", Err: errors.New("unexpected protocol version 4")},
		&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("unknown error unknown code: 240")},
		&net.OpError{Op: "socks connect", Net: "tcp", Err: errors.New("unknown error unknown code: 999")},
	} {
		if got := socksReplyError(err); got != err {
			t.Errorf("socksReplyError(%q) = %q, want it unchanged", err, got)
		}
	}
}

// TestSOCKSHangUp: a proxy that hangs up instead of answering (ssh -D)
// is named so, and one that sends only its reply's code before hanging up
// (npm's socksv5) is read for that code; both are retried once on a fresh
// circuit, neither is taken for the proxy being down, and nothing goes
// direct.
func TestSOCKSHangUp(t *testing.T) {
	for _, c := range []struct {
		name        string
		short       bool
		want, never string
	}{
		{"no reply", false, "closed the connection without a SOCKS5 reply to the CONNECT for " + onionA + ":80", "unreachable:"},
		{"reply cut after its code", true, "proxy: host unreachable (SOCKS5 reply 0x04)", "without a SOCKS5 reply"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := &env{store: openStore(t)}
			p := startRefusingProxy(t, 0x04)
			p.hangUp, p.short = !c.short, c.short
			site := precwatch.Site{Name: "testmarket", Tor: true, Proxy: p.url(), StartURLs: []string{"http://" + onionA + "/"}, Extract: rules,
				Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second, Retries: 1}}
			run, err := e.run(t, site)
			if err == nil || run.Status != precwatch.RunFailed {
				t.Fatalf("err %v status %q, want a failed run", err, run.Status)
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), c.never) {
				t.Errorf("error %q, want it to name %q and not %q", err, c.want, c.never)
			}
			if got := p.connects.Load(); got != 2 || run.CircuitsReplaced != 2 {
				t.Errorf("CONNECTs = %d, circuits replaced %d; want 2 and 2 (one retry)", got, run.CircuitsReplaced)
			}
			if e.directs.Load() != 0 {
				t.Errorf("direct dials = %d", e.directs.Load())
			}
		})
	}
}

// TestRunNamesTorAnswer crawls through a proxy that refuses like a Tor
// client: the run fails naming Tor's answer, not the proxy as unreachable,
// and a final answer is not retried while a transient one is, boundedly.
func TestRunNamesTorAnswer(t *testing.T) {
	for _, tc := range []struct {
		code     byte
		want     string
		connects int32
	}{
		{0xF0, "onion service descriptor not found (SOCKS5 reply 0xF0)", 1},
		{0xF2, "onion service introduction failed (SOCKS5 reply 0xF2)", 3},
		{0x04, "host unreachable (SOCKS5 reply 0x04)", 3},
		{0x05, "connection refused (SOCKS5 reply 0x05)", 1},
	} {
		t.Run(fmt.Sprintf("%#02x", tc.code), func(t *testing.T) {
			e := &env{store: openStore(t)}
			p := startRefusingProxy(t, tc.code)
			site := precwatch.Site{
				Name:      "testmarket",
				Tor:       true,
				Proxy:     p.url(),
				StartURLs: []string{"http://" + onionA + "/"},
				Extract:   rules,
				Limits:    precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second, Retries: 2},
			}
			run, err := e.run(t, site)
			if err == nil || run.Status != precwatch.RunFailed {
				t.Fatalf("err %v status %q, want a failed run", err, run.Status)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "unreachable:") {
				t.Errorf("error %q reports the proxy as unreachable", err)
			}
			if got := p.connects.Load(); got != tc.connects {
				t.Errorf("CONNECTs = %d, want %d", got, tc.connects)
			}
			if e.directs.Load() != 0 {
				t.Errorf("direct dials = %d", e.directs.Load())
			}
			stored := e.storedRun(t, run.ID)
			if len(stored.Errors) == 0 || !strings.Contains(stored.Errors[0], tc.want) {
				t.Errorf("stored run errors %q do not name %q", stored.Errors, tc.want)
			}
		})
	}
}
