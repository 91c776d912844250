package matchers

import (
	"unicode/utf8"
)

// The exact filter for the fuzzy corrections (repair.go, fuzzyWords): a
// text word T is one dropped, doubled or swapped letter (not the first)
// away from a long vocabulary word V only if
//   - T is V with a letter deleted (the text dropped it), or
//   - T with a letter deleted is V (the text doubled it), or
//   - T with a letter deleted is V with a letter deleted (the text
//     swapped two: deleting the first of the pair from T and the second
//     from V leaves the same word).
// So T is near some V only if T, or T with one letter (not the first)
// deleted, is in the set of long words and their one-deletion forms. The
// set is a Bloom filter over polynomial hashes of those forms: a word it
// rejects is near no long word, a word it passes is left to the trie
// walk, which decides. Chemical vocabulary in ordinary listings
// ("hydroxide", "percarbonate") passes the quad filters but is rarely
// near a watchlist word; this spares it the walk and, in the prefilter,
// the full path.

// nearBits is the size of the Bloom filter in bits (a power of two): a
// few thousand long words make some tens of thousands of forms, so a
// probe is a false positive well under one time in a hundred.
const nearBits = 1 << 20

// nearMaxBytes bounds the words the filter judges; longer ones pass.
const nearMaxBytes = 128

// nearBase is the multiplier of the polynomial hash (odd).
const nearBase = 0x100000001b3

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
		f.add(pre[n])
		for p := 0; p < n; {
			_, size := utf8.DecodeRuneInString(w[p:])
			if p > 0 {
				f.add(f.without(&pre, n, p, p+size))
			}
			p += size
		}
	}
	return f
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

// nearProbe mixes h into one word of the filter and two bits in it: one
// cache line per probe.
func nearProbe(h uint64) (uint64, uint64) {
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 32
	return h % (nearBits / 64), 1<<(h>>40&63) | 1<<(h>>50&63)
}

func (f *nearFilter) add(h uint64) {
	w, m := nearProbe(h)
	f.bits[w] |= m
}

func (f *nearFilter) has(h uint64) bool {
	w, m := nearProbe(h)
	return f.bits[w]&m == m
}

// mayBeNear reports whether word (lower case, as normalised) may be one
// dropped, doubled or swapped letter (not the first) from a long
// vocabulary word, or is one: false only when it is neither.
func (f *nearFilter) mayBeNear(word []byte) bool {
	n := len(word)
	if n > nearMaxBytes {
		return true
	}
	var whole uint64
	for k := 0; k < n; k++ {
		whole = whole*nearBase + uint64(word[k])
	}
	if f.has(whole) {
		return true
	}
	// Every letter but the first deleted in turn: the hash of word
	// without [p, q) is pre·B^(n-q) + (whole - pq·B^(n-q)), where pre and
	// pq hash word[:p] and word[:q].
	p, pre := 0, uint64(0)
	for p < n {
		size := 1
		if word[p] >= utf8.RuneSelf {
			_, size = utf8.DecodeRune(word[p:])
		}
		q, pq := p+size, pre
		for k := p; k < q; k++ {
			pq = pq*nearBase + uint64(word[k])
		}
		if p > 0 {
			bq := f.pow[n-q]
			if f.has(pre*bq + whole - pq*bq) {
				return true
			}
		}
		p, pre = q, pq
	}
	return false
}
