package tornet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha3"
	"encoding/base32"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Onion is a v3 onion service run by a tor of its own, forwarding its
// port 80 to a local address. Its keys stay in its data directory, so Stop
// and Start bring the same address down and up.
type Onion struct {
	n      *Network
	node   *node
	target string
	id     string // the address without ".onion"

	mu sync.Mutex // serialises Start and Stop
}

// AddOnionService starts a new v3 onion service whose port 80 forwards to
// target ("127.0.0.1:port") and returns once a connection through the
// client reaches target.
func (n *Network) AddOnionService(ctx context.Context, target string) (*Onion, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, fmt.Errorf("tornet: onion: %w", err)
	}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil, errors.New("tornet: onion: network closed")
	}
	nd := &node{name: fmt.Sprintf("onion%d", len(n.onions)), ctlPort: ports[0]}
	nd.dir = filepath.Join(n.dir, nd.name)
	o := &Onion{n: n, node: nd, target: target}
	// Listed before it starts, so that Close stops it whatever happens.
	n.onions = append(n.onions, o)
	n.mu.Unlock()
	if err := n.writeTorrc(nd, []string{
		"SocksPort 0",
		"HiddenServiceDir " + filepath.Join(nd.dir, "hs"),
		"HiddenServiceVersion 3",
		"HiddenServicePort 80 " + target,
	}); err != nil {
		return nil, fmt.Errorf("tornet: onion: %w", err)
	}
	if err := o.Start(ctx); err != nil {
		return nil, err
	}
	return o, nil
}

// Hostname is the onion address, "<56 characters>.onion".
func (o *Onion) Hostname() string { return o.id + ".onion" }

// Target is the local address the service forwards to.
func (o *Onion) Target() string { return o.target }

// Start (re)starts the service's tor with its keys and waits until the
// service answers through the client.
func (o *Onion) Start(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.node.alive() == nil {
		return nil
	}
	begin := time.Now()
	if err := o.node.start(o.n.tor); err != nil {
		return fmt.Errorf("tornet: onion: %w", err)
	}
	fail := func(err error) error {
		_ = o.node.stop()
		return fmt.Errorf("tornet: onion %s: %w%s", o.Hostname(), err, o.n.logTails())
	}
	c, err := o.events(ctx)
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	host, err := os.ReadFile(filepath.Join(o.node.dir, "hs", "hostname"))
	if err != nil {
		return fail(err)
	}
	o.id = strings.TrimSuffix(strings.TrimSpace(string(host)), ".onion")
	if err := o.waitUploaded(ctx, c); err != nil {
		return fail(err)
	}
	uploaded := time.Since(begin)
	if err := o.probe(ctx); err != nil {
		return fail(err)
	}
	o.n.logf("tornet: onion %s descriptor uploaded after %s, answering after %s", o.Hostname(),
		uploaded.Round(time.Millisecond), time.Since(begin).Round(time.Millisecond))
	return nil
}

// events connects to the service's tor as soon as its control port is up
// and subscribes to descriptor events, long before it can upload one.
func (o *Onion) events(ctx context.Context) (*Control, error) {
	for {
		if err := o.node.alive(); err != nil {
			return nil, err
		}
		c, err := o.node.control(ctx)
		if err == nil {
			if _, err = c.Do(ctx, "SETEVENTS HS_DESC"); err == nil {
				return c, nil
			}
			c.Close()
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return nil, fmt.Errorf("control port: %w", err)
		}
	}
}

// waitUploaded waits for the service's tor to report a descriptor upload
// to an HSDir, so the client's first lookup finds it.
func (o *Onion) waitUploaded(ctx context.Context, c *Control) error {
	for {
		ev, err := c.NextEvent(ctx)
		if err != nil {
			return fmt.Errorf("no descriptor uploaded: %w", err)
		}
		f := strings.Fields(ev)
		if len(f) >= 3 && f[0] == "HS_DESC" && f[1] == "UPLOADED" && f[2] == o.id {
			return nil
		}
	}
}

// probe connects through the client until the service answers, each try
// on a fresh circuit.
func (o *Onion) probe(ctx context.Context) error {
	var last error
	for {
		pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		conn, err := o.n.client.Dial(pctx, o.Hostname()+":80", fmt.Sprintf("tornet-probe-%d", probeSeq.Add(1)))
		cancel()
		if err == nil {
			conn.Close()
			return nil
		}
		last = err
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return fmt.Errorf("not answering through the client (last: %v): %w", last, err)
		}
	}
}

// Stop stops the service's tor and returns once the client, asked on a
// fresh circuit, answers with an onion-service error (0xF0–0xF7). Until the
// relays have torn down the service's introduction circuits, which takes a
// moment after its tor is gone, a client can still be introduced and then
// wait a minute or more for a rendezvous that never comes; after one such
// answer the client fails further requests for the address at once.
func (o *Onion) Stop(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.node.stop(); err != nil {
		return err
	}
	begin := time.Now()
	var last error
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		code, err := o.n.client.ConnectReply(pctx, true, o.Hostname(), 80, fmt.Sprintf("tornet-probe-%d", probeSeq.Add(1)))
		cancel()
		switch {
		case err == nil && code >= 0xF0 && code <= 0xF7:
			o.n.logf("tornet: onion %s stopped; client answers %#x after %s", o.Hostname(), code, time.Since(begin).Round(time.Millisecond))
			return nil
		case err == nil:
			last = fmt.Errorf("client answered %#x", code)
		default:
			last = err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("tornet: onion %s: stopped, but the client gives no onion error (last: %v): %w", o.Hostname(), last, ctx.Err())
		}
	}
}

// UnpublishedOnion returns a well-formed v3 onion address (valid checksum)
// of a fresh key that no service publishes: a lookup of it ends in
// "descriptor not found".
func UnpublishedOnion() string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(fmt.Sprintf("tornet: ed25519 key: %v", err))
	}
	return OnionAddress(pub)
}

// OnionAddress is the v3 onion address of an ed25519 public key:
// base32(pubkey | checksum | version), checksum being the first two bytes
// of SHA3-256(".onion checksum" | pubkey | version), version 3.
func OnionAddress(pub ed25519.PublicKey) string {
	const version = 3
	h := sha3.New256()
	h.Write([]byte(".onion checksum"))
	h.Write(pub)
	h.Write([]byte{version})
	sum := h.Sum(nil)
	raw := append(append(append([]byte{}, pub...), sum[:2]...), version)
	return strings.ToLower(base32.StdEncoding.EncodeToString(raw)) + ".onion"
}
