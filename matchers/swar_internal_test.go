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

// TestLetters8 checks letters8 and upperI8, which walkPlain's word loop
// reads eight bytes at a time with, against plainByte, for every byte in
// every position among letters and others.
func TestLetters8(t *testing.T) {
	check := func(b [8]byte) {
		x := load8(string(b[:]), 0)
		got := letters8(x)
		for k, c := range b {
			want := plainByte[c]&^pbUpperI == pbLetter
			if (got>>(8*k+7))&1 == 1 != want {
				t.Fatalf("% x: byte %d (%#x) letter %v", b, k, c, !want)
			}
		}
		for n := range 9 {
			var mask uint64 = swarHigh
			if n < 8 {
				mask = uint64(1)<<(8*n+7) - 1 // the top bits of the first n bytes
			}
			want := uint8(0)
			for _, c := range b[:n] {
				want |= plainByte[c] & pbUpperI
			}
			if got := upperI8(x, mask); got != want {
				t.Fatalf("% x: upperI8 of %d bytes = %d, want %d", b, n, got, want)
			}
		}
	}
	for c := range 256 {
		for pos := range 8 {
			b := [8]byte{'a', 'B', 'c', 'I', 'z', 'Z', 'm', 'A'}
			b[pos] = byte(c)
			check(b)
		}
	}
	r := rand.New(rand.NewPCG(8, 13))
	fill := []byte("aAzZIiI@[`{ 0\x80\xc3\xff")
	for range 1 << 18 {
		var b [8]byte
		for k := range b {
			if r.IntN(4) == 0 {
				b[k] = byte(r.IntN(256))
			} else {
				b[k] = fill[r.IntN(len(fill))]
			}
		}
		check(b)
	}
}

// TestLower8 checks lower8 against lowerASCII for every byte in every
// position, among random neighbours (a carry would leak into them).
func TestLower8(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 3))
	for c := range 256 {
		for pos := range 8 {
			for range 16 {
				x := r.Uint64()&^(0xff<<(8*pos)) | uint64(c)<<(8*pos)
				var want uint64
				for k := range 8 {
					want |= uint64(lowerASCII[byte(x>>(8*k))]) << (8 * k)
				}
				if got := lower8(x); got != want {
					t.Fatalf("lower8(%#016x) = %#016x, want %#016x", x, got, want)
				}
			}
		}
	}
}
