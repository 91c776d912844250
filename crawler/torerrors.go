package crawler

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// SOCKSReplyError is a SOCKS5 proxy's refusal of a CONNECT: the proxy was
// reached and answered, but not with success. For a Tor client it is Tor's
// answer about the destination, such as an onion service it could not
// reach; it never means the proxy itself is down.
type SOCKSReplyError struct {
	// Code is the SOCKS5 reply code: 0x01–0x08 as in RFC 1928, 0xF0–0xF7
	// the onion-service errors of a Tor SocksPort with ExtendedErrors.
	Code byte
	err  error // the SOCKS client's own error
}

// socksReplies names the reply codes; the 0xF0–0xF7 texts follow Tor's
// ExtendedErrors documentation.
var socksReplies = map[byte]string{
	0x01: "general SOCKS server failure",
	0x02: "connection not allowed by ruleset",
	0x03: "network unreachable",
	0x04: "host unreachable",
	0x05: "connection refused",
	0x06: "TTL expired",
	0x07: "command not supported",
	0x08: "address type not supported",
	0xF0: "onion service descriptor not found",
	0xF1: "onion service descriptor is invalid",
	0xF2: "onion service introduction failed",
	0xF3: "onion service rendezvous failed",
	0xF4: "onion service missing client authorization",
	0xF5: "onion service wrong client authorization",
	0xF6: "onion service invalid address",
	0xF7: "onion service introduction timed out",
}

// Onion reports whether the code is one of Tor's onion-service errors.
func (e *SOCKSReplyError) Onion() bool { return e.Code >= 0xF0 && e.Code <= 0xF7 }

func (e *SOCKSReplyError) Error() string {
	what, ok := socksReplies[e.Code]
	if !ok {
		what = "unknown reply"
	}
	who := "proxy"
	if e.Onion() {
		who = "tor"
	}
	if e.Code == 0x02 {
		// The proxy's rules refused it: an address they block, or more
		// connections than they allow this client.
		what += ": the proxy's rules refuse this destination, or more connections at once than it allows (lower the site's circuits)"
	}
	if e.Code == 0x03 {
		// Many proxies answer so for a host name they cannot resolve.
		return fmt.Sprintf("crawler: %s: %s (SOCKS5 reply 0x%02X): a host name the proxy cannot resolve, or no route to it", who, what, e.Code)
	}
	return fmt.Sprintf("crawler: %s: %s (SOCKS5 reply 0x%02X)", who, what, e.Code)
}

func (e *SOCKSReplyError) Unwrap() error { return e.err }

// retryable reports whether another try, on a fresh circuit, may get
// through: a general failure or an unreachable host (what Tor's plain
// SocksPort answers for a broken circuit), Tor's circuit timeout (TTL
// expired), and a failed or timed-out introduction or rendezvous are
// transient; so is a refusal by rule (0x02), which is also how a proxy
// that caps connections per client (Dante's session.max) refuses one over
// its cap, and Tor an exit whose policy refuses the port. A missing
// descriptor, a bad address or missing authorization will not change
// within a run.
func (e *SOCKSReplyError) retryable() bool {
	switch e.Code {
	case 0x01, 0x02, 0x04, 0x06, 0xF2, 0xF3, 0xF7:
		return true
	}
	return false
}

// socksReplyError turns the SOCKS client's error for a refused CONNECT
// into a *SOCKSReplyError and returns other errors as they are.
// golang.org/x/net's client reports a refusal as a *net.OpError with Op
// "socks connect" around errors.New("unknown error " + reply text), where
// the text of a code it does not know is "unknown code: N".
func socksReplyError(err error) error {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "socks connect" || op.Err == nil {
		return err
	}
	if errors.Is(op.Err, io.EOF) || errors.Is(op.Err, io.ErrUnexpectedEOF) {
		// OpenSSH's dynamic forwarding (ssh -D) hangs up instead of
		// answering with a reply code when its own connection fails, which
		// the client reports as a bare "EOF".
		dest := "the destination"
		if op.Addr != nil {
			dest = op.Addr.String()
		}
		return fmt.Errorf("crawler: proxy: closed the connection without a SOCKS5 reply to the CONNECT for %s (a proxy such as ssh -D does so when it cannot reach the destination): %w", dest, err)
	}
	text, ok := strings.CutPrefix(op.Err.Error(), "unknown error ")
	if !ok {
		return err
	}
	if n, ok := strings.CutPrefix(text, "unknown code: "); ok {
		code, perr := strconv.Atoi(n)
		if perr != nil || code < 0 || code > 0xFF {
			return err
		}
		return &SOCKSReplyError{Code: byte(code), err: err}
	}
	for code, t := range socksReplies {
		if code < 0xF0 && t == text {
			return &SOCKSReplyError{Code: code, err: err}
		}
	}
	return err
}
