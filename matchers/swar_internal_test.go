package matchers

import "testing"

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
	for _, s := range []string{"abc defg", "Hello Wo", "a, b. c-", "(x) y%z."} {
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
