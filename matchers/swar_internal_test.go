package matchers

import (
	"math/rand/v2"
	"testing"
)

// TestMayTrigger8 checks the eight-byte filter of the repair pass against
// repairByte for every byte in every position.
func TestMayTrigger8(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			if repairByte[c] && !mayTrigger8(load8(string(b), 0)) {
				t.Fatalf("byte %#x at %d: filtered out", c, pos)
			}
		}
	}
	// Among other bytes, ASCII and not: random words against repairByte.
	r := rand.New(rand.NewPCG(3, 5))
	fill := []byte("aZ ,.-%(\x80\xbf\xd0\xd1\xff\xc2\xe1")
	for range 1 << 20 {
		var b [8]byte
		trigger := false
		for k := range b {
			if r.IntN(4) == 0 {
				b[k] = byte(r.IntN(256))
			} else {
				b[k] = fill[r.IntN(len(fill))]
			}
			trigger = trigger || repairByte[b[k]]
		}
		if trigger && !mayTrigger8(load8(string(b[:]), 0)) {
			t.Fatalf("% x: filtered out", b)
		}
	}
	for _, s := range []string{"abc defg", "Hello Wo", "a, b. c-", "(x) y%z.", "Нитромет", "αβγδ εζ,", "a\xd0\xbd\xd0\xb8 .b"} {
		if mayTrigger8(load8(s, 0)) {
			t.Errorf("%q: letters, spaces and common punctuation stopped by the filter", s)
		}
	}
}

// TestNextSpace checks nextSpace against a byte-by-byte search.
func TestNextSpace(t *testing.T) {
	for _, s := range []string{"", " ", "abc", "abcdefgh ij", "abcdefghijklmnop q", "a b", "\xff\x20\x80 x", "abcdefg\xa0 h"} {
		for i := 0; i <= len(s); i++ {
			want := i
			for want < len(s) && s[want] != ' ' {
				want++
			}
			if got := nextSpace([]byte(s), i); got != want {
				t.Errorf("nextSpace(%q, %d) = %d, want %d", s, i, got, want)
			}
		}
	}
}
