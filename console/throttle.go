package console

import (
	"strings"
	"sync"
	"time"
)

// Failed sign-ins: after maxFailures in a row, a name is locked for
// lockout, so that passwords cannot be guessed at bcrypt speed.
const (
	maxFailures = 5
	lockout     = 5 * time.Minute
	// maxTracked bounds the table against floods of made-up names.
	maxTracked = 10000
)

type throttle struct {
	mu    sync.Mutex
	names map[string]*failures
}

type failures struct {
	count int
	last  time.Time
	until time.Time
}

// locked reports whether name may not try now.
func (t *throttle) locked(name string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.names[strings.ToLower(name)]
	return f != nil && now.Before(f.until)
}

// fail counts a failed sign-in of name.
func (t *throttle) fail(name string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.names == nil || len(t.names) >= maxTracked {
		for k, f := range t.names { // drop the stale ones, or all when none is
			if now.Sub(f.last) > lockout {
				delete(t.names, k)
			}
		}
		if t.names == nil || len(t.names) >= maxTracked {
			t.names = map[string]*failures{}
		}
	}
	key := strings.ToLower(name)
	f := t.names[key]
	if f == nil || now.Sub(f.last) > lockout {
		f = &failures{}
		t.names[key] = f
	}
	f.count++
	f.last = now
	if f.count >= maxFailures {
		f.until, f.count = now.Add(lockout), 0
	}
}

// succeed forgets name's failures.
func (t *throttle) succeed(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.names, strings.ToLower(name))
}
