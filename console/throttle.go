package console

import (
	"crypto/rand"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Sign-in throttling. Passwords must not be guessed at bcrypt speed, and
// nobody may lock an account: so there is no lockout, only delays that
// grow with failures and are capped, in two tables kept in memory.
//
//   - Per client (the connection's address; an IPv6 /64 counts as one),
//     checked first: clientFree failures with any names are free, then
//     each failure makes the client wait clientBase, doubled per further
//     failure up to clientMaxDelay, before its next attempt. An attacker's
//     address is slowed down without touching the accounts it tries.
//   - Per account name: accountFree consecutive failures are free, then
//     each makes the name wait accountBase, doubled up to accountMaxDelay,
//     for clients that have not signed in to it before. A browser that
//     has (it holds the account's device cookie) is never delayed by
//     failures elsewhere: an attacker cannot keep a user out.
//
// A client gets fewer free failures than an account, so that one address
// alone is slowed down well before the name it tries is.
//
// An attempt refused for a delay is neither checked nor counted, so it
// does not lengthen the delay. Success clears the account's failures; a
// client's are forgotten clientForget after its last one.
const (
	clientFree     = 5
	clientBase     = time.Second
	clientMaxDelay = 5 * time.Minute
	clientForget   = time.Hour

	accountFree     = 10
	accountBase     = time.Second
	accountMaxDelay = time.Minute
	accountForget   = 15 * time.Minute

	// maxTracked bounds each table against floods of addresses and
	// made-up names.
	maxTracked = 50000
)

// signins is the console's sign-in throttle: its two tables, and the key
// of the device cookie of browsers that have signed in.
type signins struct {
	clients, accounts *throttle
	deviceKey         [32]byte
}

func newSignins() (signins, error) {
	s := signins{
		clients:  &throttle{free: clientFree, base: clientBase, maxDelay: clientMaxDelay, forget: clientForget},
		accounts: &throttle{free: accountFree, base: accountBase, maxDelay: accountMaxDelay, forget: accountForget},
	}
	_, err := rand.Read(s.deviceKey[:])
	return s, err
}

// throttle is a table of failures by key: client addresses or names.
type throttle struct {
	free           int
	base, maxDelay time.Duration
	forget         time.Duration

	mu   sync.Mutex
	keys map[string]*failures
}

type failures struct {
	count int       // failures in a row
	last  time.Time // the latest
	until time.Time // no attempt before this
}

// wait returns how long key must still wait before trying at now; 0 if
// it may try.
func (t *throttle) wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.keys[key]
	if f == nil || !now.Before(f.until) {
		return 0
	}
	return f.until.Sub(now)
}

// delay is the wait after the n-th failure in a row.
func (t *throttle) delay(n int) time.Duration {
	if n <= t.free {
		return 0
	}
	d := t.base
	for i := t.free + 1; i < n && d < t.maxDelay; i++ {
		d *= 2
	}
	return min(d, t.maxDelay)
}

// fail counts a failure of key at now and returns the wait it imposes.
func (t *throttle) fail(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.keys[key]
	if f != nil && now.Sub(f.last) > t.forget {
		f = nil
	}
	if f == nil {
		if !t.room(now) {
			// Full of keys that are all waiting: the new key goes
			// untracked rather than freeing one an attacker wants freed.
			return 0
		}
		f = &failures{}
		t.keys[key] = f
	}
	f.count++
	f.last = now
	d := t.delay(f.count)
	f.until = now.Add(d)
	return d
}

// room makes room for a new key if it can, dropping forgotten keys first
// and then those that no longer make anyone wait.
func (t *throttle) room(now time.Time) bool {
	if t.keys == nil {
		t.keys = map[string]*failures{}
	}
	if len(t.keys) < maxTracked {
		return true
	}
	for k, f := range t.keys {
		if now.Sub(f.last) > t.forget {
			delete(t.keys, k)
		}
	}
	if len(t.keys) < maxTracked {
		return true
	}
	for k, f := range t.keys {
		if !now.Before(f.until) {
			delete(t.keys, k)
		}
	}
	return len(t.keys) < maxTracked
}

// succeed forgets key's failures.
func (t *throttle) succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, key)
}

// accountKey is the account table's key of a name: names differing in
// case share a delay.
func accountKey(name string) string { return strings.ToLower(name) }

// clientAddr is the client a request comes from: the connection's address
// (the console has no trusted proxy setting, so forwarding headers are
// ignored), an IPv6 address as its /64, which one host commonly holds.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		if p, err := ip.WithZone("").Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}
