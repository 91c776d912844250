package crawler

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
)

// recordingProxy is a small real SOCKS5 server (RFC 1928 CONNECT with no
// auth or RFC 1929 username/password) that records, for each CONNECT, the
// credentials it came with, and how many tunnels each username has open.
// Like Tor, it resolves host names itself from a table, and it can be told
// to refuse a username or a host, as Tor does for a broken circuit or an
// unreachable onion service.
type recordingProxy struct {
	ln    net.Listener
	hosts map[string]string

	mu         sync.Mutex
	connects   []socksConnect
	open       map[string]int // tunnels open, by username
	openAll    int
	maxOpenAll int
	refuseUser func(user string) bool
	// auth, when set, makes the proxy check credentials like a proxy
	// that is not Tor: it picks username/password when offered and takes
	// only these; no-authentication clients are served when noAuthToo.
	auth        *socksConnect
	noAuthToo   bool
	refuseHosts map[string]bool
	// maxSessions, when set, caps the tunnels open at once: a CONNECT over
	// it is refused by rule (0x02), as Dante's session.max does.
	maxSessions int
	capRefused  int
	conns       map[net.Conn]bool
	wg          sync.WaitGroup
}

type socksConnect struct {
	user, pass, host string
	refused          bool
}

func startRecordingProxy(t testing.TB, hosts map[string]string) *recordingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &recordingProxy{ln: ln, hosts: hosts, open: map[string]int{}, refuseHosts: map[string]bool{}, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns[c] = true
			p.mu.Unlock()
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.serve(c)
				p.mu.Lock()
				delete(p.conns, c)
				p.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(p.close)
	return p
}

func (p *recordingProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *recordingProxy) url(userinfo string) string {
	if userinfo != "" {
		userinfo += "@"
	}
	return "socks5h://" + userinfo + p.ln.Addr().String()
}

func (p *recordingProxy) refuseHost(host string, refuse bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuseHosts[host] = refuse
}

func (p *recordingProxy) log() []socksConnect {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]socksConnect(nil), p.connects...)
}

func (p *recordingProxy) maxOpen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxOpenAll
}

// users are the distinct usernames of the CONNECTs, in first-seen order.
func (p *recordingProxy) users() []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range p.log() {
		if !seen[c.user] {
			seen[c.user] = true
			out = append(out, c.user)
		}
	}
	return out
}

func (p *recordingProxy) serve(c net.Conn) {
	defer c.Close()
	var hdr [2]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil || hdr[0] != 5 {
		return
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(c, methods); err != nil {
		return
	}
	p.mu.Lock()
	auth, noAuthToo := p.auth, p.noAuthToo
	p.mu.Unlock()
	var user, pass string
	switch {
	case auth != nil && !contains(methods, 2) && !(noAuthToo && contains(methods, 0)):
		c.Write([]byte{5, 0xff})
		return
	case contains(methods, 2):
		c.Write([]byte{5, 2})
		var v [2]byte
		if _, err := io.ReadFull(c, v[:]); err != nil || v[0] != 1 {
			return
		}
		u := make([]byte, v[1])
		io.ReadFull(c, u)
		var pl [1]byte
		io.ReadFull(c, pl[:])
		pw := make([]byte, pl[0])
		if _, err := io.ReadFull(c, pw); err != nil {
			return
		}
		user, pass = string(u), string(pw)
		if auth != nil && (user != auth.user || pass != auth.pass) {
			p.mu.Lock()
			p.connects = append(p.connects, socksConnect{user: user, pass: pass, refused: true})
			p.mu.Unlock()
			c.Write([]byte{1, 1})
			return
		}
		c.Write([]byte{1, 0})
	case contains(methods, 0):
		c.Write([]byte{5, 0})
	default:
		c.Write([]byte{5, 0xff})
		return
	}
	var req [4]byte
	if _, err := io.ReadFull(c, req[:]); err != nil || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 3:
		var l [1]byte
		io.ReadFull(c, l[:])
		h := make([]byte, l[0])
		io.ReadFull(c, h)
		host = string(h)
	case 1:
		ip := make([]byte, 4)
		io.ReadFull(c, ip)
		host = net.IP(ip).String()
	default:
		return
	}
	var portb [2]byte
	if _, err := io.ReadFull(c, portb[:]); err != nil {
		return
	}
	_ = binary.BigEndian.Uint16(portb[:])
	p.mu.Lock()
	target, ok := p.hosts[host]
	refused := !ok || p.refuseHosts[host] || (p.refuseUser != nil && p.refuseUser(user))
	overCap := !refused && p.maxSessions > 0 && p.openAll >= p.maxSessions
	if overCap {
		p.capRefused++
	} else if !refused {
		p.openAll++ // counted from the CONNECT, as a cap must be
	}
	p.connects = append(p.connects, socksConnect{user: user, pass: pass, host: host, refused: refused || overCap})
	p.mu.Unlock()
	reply := func(code byte) { c.Write([]byte{5, code, 0, 1, 127, 0, 0, 1, 0, 0}) }
	if overCap {
		reply(2) // connection not allowed by ruleset
		return
	}
	if refused {
		reply(4) // host unreachable, as Tor answers for a dead circuit or service
		return
	}
	up, err := net.Dial("tcp", target)
	if err != nil {
		p.mu.Lock()
		p.openAll--
		p.mu.Unlock()
		reply(5)
		return
	}
	defer up.Close()
	reply(0)
	p.mu.Lock()
	p.open[user]++
	p.maxOpenAll = max(p.maxOpenAll, p.openAll)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.open[user]--
		p.openAll--
		p.mu.Unlock()
	}()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
}

func contains(b []byte, v byte) bool {
	for _, x := range b {
		if x == v {
			return true
		}
	}
	return false
}
