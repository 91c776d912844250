package tornet

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/net/proxy"
)

// Client is the network's Tor client: a plain SocksPort, a SocksPort with
// the ExtendedErrors flag and a control port, all on 127.0.0.1. Streams
// with different SOCKS credentials go on different circuits (Tor's default
// IsolateSOCKSAuth).
type Client struct {
	n                  *Network
	node               *node
	socksPort, extPort int
}

func (c *Client) conf() []string {
	return []string{
		fmt.Sprintf("SocksPort 127.0.0.1:%d", c.socksPort),
		fmt.Sprintf("SocksPort 127.0.0.1:%d ExtendedErrors", c.extPort),
	}
}

// SOCKSAddr is the plain SocksPort, "127.0.0.1:port".
func (c *Client) SOCKSAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.socksPort)) }

// ExtendedSOCKSAddr is the SocksPort with the ExtendedErrors flag, which
// answers onion-service failures with Tor's reply codes 0xF0–0xF7.
func (c *Client) ExtendedSOCKSAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.extPort))
}

// ControlAddr is the client's control port, "127.0.0.1:port".
func (c *Client) ControlAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.node.ctlPort))
}

// Control opens an authenticated control connection to the client, e.g.
// for GETINFO circuit-status. The caller closes it.
func (c *Client) Control(ctx context.Context) (*Control, error) { return c.node.control(ctx) }

// Stop stops the client; its ports refuse connections until Start.
func (c *Client) Stop() error { return c.node.stop() }

// Start restarts a stopped client on the same ports and data directory
// and returns once it is bootstrapped.
func (c *Client) Start(ctx context.Context) error {
	if err := c.node.start(c.n.tor); err != nil {
		return fmt.Errorf("tornet: client: %w", err)
	}
	if err := c.node.waitBootstrapped(ctx); err != nil {
		return fmt.Errorf("tornet: client: %w%s", err, c.n.logTails())
	}
	return nil
}

// probeSeq makes each probe's SOCKS username unique, so each probe gets a
// fresh circuit rather than one stuck on a stale attempt.
var probeSeq atomic.Int64

// Dial connects to addr ("host:port") through the extended SocksPort with
// the given SOCKS username for circuit isolation (none when empty).
func (c *Client) Dial(ctx context.Context, addr, user string) (net.Conn, error) {
	var auth *proxy.Auth
	if user != "" {
		auth = &proxy.Auth{User: user, Password: "x"}
	}
	d, err := proxy.SOCKS5("tcp", c.ExtendedSOCKSAddr(), auth, &net.Dialer{Timeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	return d.(proxy.ContextDialer).DialContext(ctx, "tcp", addr)
}

// ConnectReply does one SOCKS5 CONNECT to host:port through the extended
// SocksPort (or the plain one) with the given SOCKS username, closes the
// connection and returns the reply code: 0 on success, Tor's answer
// otherwise (0xF0–0xF7 for onion-service failures on the extended port).
func (c *Client) ConnectReply(ctx context.Context, extended bool, host string, port int, user string) (byte, error) {
	addr := c.SOCKSAddr()
	if extended {
		addr = c.ExtendedSOCKSAddr()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, fmt.Errorf("tornet: socks %s: %w", addr, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(step string, err error) (byte, error) {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return 0, fmt.Errorf("tornet: socks %s: %s: %w", addr, step, err)
	}
	r := bufio.NewReader(conn)
	var b [2]byte
	// Version 5, one method: username/password.
	if _, err := conn.Write([]byte{5, 1, 2}); err != nil {
		return fail("greeting", err)
	}
	if _, err := io.ReadFull(r, b[:]); err != nil || b[1] != 2 {
		return fail("method", fmt.Errorf("reply %v: %v", b, err))
	}
	if user == "" {
		user = "tornet"
	}
	auth := append([]byte{1, byte(len(user))}, user...)
	auth = append(auth, 1, 'x')
	if _, err := conn.Write(auth); err != nil {
		return fail("auth", err)
	}
	if _, err := io.ReadFull(r, b[:]); err != nil || b[1] != 0 {
		return fail("auth", fmt.Errorf("reply %v: %v", b, err))
	}
	req := append([]byte{5, 1, 0, 3, byte(len(host))}, host...)
	req = binary.BigEndian.AppendUint16(req, uint16(port))
	if _, err := conn.Write(req); err != nil {
		return fail("connect", err)
	}
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return fail("connect", err)
	}
	return b[1], nil
}
