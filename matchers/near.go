package matchers

import (
	"unicode/utf8"
)

// The exact filter for the fuzzy corrections (repair.go, fuzzyWords): a
// text word T is one dropped, doubled or swapped letter (not the first)
// away from a long vocabulary word V only if
//   - T is V with a letter deleted (the text dropped it),
//   - T with a doubled letter's second copy deleted is V (the text
//     doubled it), or
//   - T with its letter at p deleted is V with the same letter deleted at
//     p plus the next letter's size (the text swapped the two).
// The set is a Bloom filter over polynomial hashes of V's forms, each kind
// in its own key space, a swap's form keyed also by the deleted letter and
// where V had it. A word it rejects is near no long word; a word it
// passes is left to the trie walk, which decides. Keying the swaps by
// letter and place keeps out the one-letter substitutions that make up
// most of the ordinary chemical vocabulary near a watchlist word
// ("chlorite" and "chlorate", "phosphate" and "phosphite"), which the walk
// would reject only after the full path has been taken for their field.

// nearBits is the size of the Bloom filter in bits (a power of two): a
// few thousand long words make about a hundred thousand forms, each four
// bits in one 64-bit word, so that a probe is a false positive about one
// time in ten thousand (a word of twelve letters makes about 24 probes).
const nearBits = 1 << 22

// nearMaxBytes bounds the words the filter judges; longer ones pass.
const nearMaxBytes = 128

// nearBase is the multiplier of the polynomial hash (odd).
const nearBase = 0x100000001b3

// The key spaces of the filter's three kinds of form.
const (
	nearWhole   = 0x9e3779b97f4a7c15 // V itself: T doubled a letter
	nearDropped = 0xc2b2ae3d27d4eb4f // V less a letter: T dropped it
	nearSwapped = 0x165667b19e3779f9 // V less a letter, keyed by it and its place
)

type nearFilter struct {
	bits [nearBits / 64]uint64
	pow  [nearMaxBytes + 1]uint64
}

func newNearFilter(words map[string]bool) *nearFilter {
	f := new(nearFilter)
	f.pow[0] = 1
	for i := 1; i < len(f.pow); i++ {
		f.pow[i] = f.pow[i-1] * nearBase
	}
	var pre [nearMaxBytes + 1]uint64
	for w := range words {
		rs := []rune(w)
		if len(rs) < fuzzyMinLetters || !allLetters(rs) || len(w) > nearMaxBytes {
			continue
		}
		n := f.prefixes(w, &pre)
		f.add(pre[n] ^ nearWhole)
		for p := 0; p < n; {
			r, size := utf8.DecodeRuneInString(w[p:])
			if p > 0 {
				del := f.without(&pre, n, p, p+size)
				f.add(del ^ nearDropped)
				f.add(swapKey(del, r, p))
			}
			p += size
		}
	}
	return f
}

// swapKey is the key of a form less the letter r that stood at byte p.
func swapKey(del uint64, r rune, p int) uint64 {
	return del ^ nearSwapped ^ uint64(r)*0xff51afd7ed558ccd ^ uint64(p)*0xc4ceb9fe1a85ec53
}

// prefixes fills pre[k] with the hash of w[:k] and returns len(w).
func (f *nearFilter) prefixes(w string, pre *[nearMaxBytes + 1]uint64) int {
	pre[0] = 0
	for k := 0; k < len(w); k++ {
		pre[k+1] = pre[k]*nearBase + uint64(w[k])
	}
	return len(w)
}

// without is the hash of the n-byte word whose prefix hashes are pre,
// with its bytes [p, q) deleted.
func (f *nearFilter) without(pre *[nearMaxBytes + 1]uint64, n, p, q int) uint64 {
	tail := pre[n] - pre[q]*f.pow[n-q]
	return pre[p]*f.pow[n-q] + tail
}

// nearProbe mixes h into one word of the filter and four bits in it: one
// cache line per probe.
func nearProbe(h uint64) (uint64, uint64) {
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 32
	return h % (nearBits / 64), 1<<(h>>40&63) | 1<<(h>>46&63) | 1<<(h>>52&63) | 1<<(h>>58)
}

func (f *nearFilter) add(h uint64) {
	w, m := nearProbe(h)
	f.bits[w] |= m
}

func (f *nearFilter) has(h uint64) bool {
	w, m := nearProbe(h)
	return f.bits[w]&m == m
}

// mayBeNear reports whether word (lower case, as normalised, no
// vocabulary word itself) may be one dropped, doubled or swapped letter
// (not the first) from a long vocabulary word: false only when it is not.
func (f *nearFilter) mayBeNear(word []byte) bool {
	n := len(word)
	if n > nearMaxBytes {
		return true
	}
	var whole uint64
	var high byte // the OR of the bytes: non-ASCII when its top bit is set
	for k := 0; k < n; k++ {
		whole = whole*nearBase + uint64(word[k])
		high |= word[k]
	}
	if f.has(whole ^ nearDropped) {
		return true
	}
	if high < utf8.RuneSelf {
		return f.mayBeNearASCII(word, whole)
	}
	// Every letter but the first deleted in turn: the hash of word
	// without [p, q) is pre·B^(n-q) + (whole - pq·B^(n-q)), where pre and
	// pq hash word[:p] and word[:q].
	p, pre := 0, uint64(0)
	prev := rune(-1)
	for p < n {
		r, size := rune(word[p]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(word[p:])
		}
		q, pq := p+size, pre
		for k := p; k < q; k++ {
			pq = pq*nearBase + uint64(word[k])
		}
		if p > 0 {
			bq := f.pow[n-q]
			del := pre*bq + whole - pq*bq
			if r == prev && f.has(del^nearWhole) {
				return true // a doubled letter
			}
			if q < n {
				next, nsize := rune(word[q]), 1
				if next >= utf8.RuneSelf {
					next, nsize = utf8.DecodeRune(word[q:])
				}
				if next != r && f.has(swapKey(del, r, p+nsize)) {
					return true // r swapped with the next letter
				}
			}
		}
		p, pre, prev = q, pq, r
	}
	return false
}

// mayBeNearASCII is mayBeNear's walk over the letters of an ASCII word
// (most are), whose hash is whole, after the test of whole itself: each
// letter one byte, so no rune is decoded and fewer values live across
// the loop (TestMayBeNearASCIIAgrees).
func (f *nearFilter) mayBeNearASCII(word []byte, whole uint64) bool {
	n := len(word)
	if n < 2 {
		return false
	}
	// pre hashes word[:p]; the hash of word without word[p] is
	// pre·B^(n-p-1) + whole - (pre·B + word[p])·B^(n-p-1).
	pre := uint64(word[0])
	for p := 1; p < n; p++ {
		c := word[p]
		pq := pre*nearBase + uint64(c)
		bq := f.pow[n-p-1]
		del := pre*bq + whole - pq*bq
		if c == word[p-1] && f.has(del^nearWhole) {
			return true // a doubled letter
		}
		if p+1 < n && word[p+1] != c && f.has(swapKey(del, rune(c), p+1)) {
			return true // c swapped with the next letter
		}
		pre = pq
	}
	return false
}
