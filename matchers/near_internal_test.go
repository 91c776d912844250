package matchers

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestNearFilterKeepsEveryEdit checks that the filter passes every word
// one dropped, doubled or swapped letter (not the first) from a long
// vocabulary word, so that it never hides a reading the trie walk would
// make, and that it keeps out most one-letter substitutions, which the
// walk rejects.
func TestNearFilterKeepsEveryEdit(t *testing.T) {
	v := sharedInternalMatcher(t).vocab
	edits, subs, subsPassed := 0, 0, 0
	near := map[string]bool{}
	for w := range v.words {
		rs := []rune(w)
		if len(rs) < fuzzyMinLetters || !allLetters(rs) {
			continue
		}
		for i := 1; i < len(rs); i++ {
			near[string(append(append([]rune{}, rs[:i]...), rs[i+1:]...))] = true
			near[string(append(append(append([]rune{}, rs[:i]...), rs[i-1]), rs[i:]...))] = true
			if i+1 < len(rs) {
				sw := append([]rune{}, rs...)
				sw[i], sw[i+1] = sw[i+1], sw[i]
				near[string(sw)] = true
			}
		}
	}
	for w := range v.words {
		rs := []rune(w)
		if len(rs) < fuzzyMinLetters || !allLetters(rs) || len(w) > nearMaxBytes {
			continue
		}
		check := func(kind string, t2 []rune) {
			s := string(t2)
			if v.words[s] {
				return
			}
			edits++
			if !v.near.mayBeNear([]byte(s)) {
				t.Errorf("%s %q: %q is not passed", kind, w, s)
			}
		}
		for i := 1; i < len(rs); i++ {
			check("dropped", append(append([]rune{}, rs[:i]...), rs[i+1:]...))
			check("doubled", append(append(append([]rune{}, rs[:i]...), rs[i-1]), rs[i:]...))
			if i+1 < len(rs) && rs[i] != rs[i+1] {
				sw := append([]rune{}, rs...)
				sw[i], sw[i+1] = sw[i+1], sw[i]
				check("swapped", sw)
			}
			// A substitution near no word should mostly not pass, in
			// words of the length most text words have.
			if len(w) > 16 {
				continue
			}
			sub := append([]rune{}, rs...)
			sub[i] = 'a' + (rs[i]-'a'+7)%26
			if sub[i] == rs[i] || !utf8.ValidRune(sub[i]) {
				continue
			}
			if near[string(sub)] || v.words[string(sub)] {
				continue
			}
			subs++
			if v.near.mayBeNear([]byte(string(sub))) {
				subsPassed++
			}
		}
	}
	if edits < 10000 || subs < 5000 {
		t.Fatalf("only %d edits and %d substitutions checked", edits, subs)
	}
	if r := float64(subsPassed) / float64(subs); r > 0.01 {
		t.Errorf("%d of %d substitutions (%.1f %%) pass the filter; want at most 1 %%", subsPassed, subs, 100*r)
	}
	t.Logf("%d edits passed; %d of %d substitutions passed", edits, subsPassed, subs)
}

// mayBeNearReference is mayBeNear as first written: every word rune by
// rune, with no ASCII walk.
func (f *nearFilter) mayBeNearReference(word []byte) bool {
	n := len(word)
	if n > nearMaxBytes {
		return true
	}
	var whole uint64
	for k := 0; k < n; k++ {
		whole = whole*nearBase + uint64(word[k])
	}
	if f.has(whole ^ nearDropped) {
		return true
	}
	p, pre := 0, uint64(0)
	prev := rune(-1)
	for p < n {
		r, size := utf8.DecodeRune(word[p:])
		q, pq := p+size, pre
		for k := p; k < q; k++ {
			pq = pq*nearBase + uint64(word[k])
		}
		if p > 0 {
			bq := f.pow[n-q]
			del := pre*bq + whole - pq*bq
			if r == prev && f.has(del^nearWhole) {
				return true
			}
			if q < n {
				next, nsize := utf8.DecodeRune(word[q:])
				if next != r && f.has(swapKey(del, r, p+nsize)) {
					return true
				}
			}
		}
		p, pre, prev = q, pq, r
	}
	return false
}

// TestMayBeNearASCIIAgrees checks mayBeNear, whose ASCII words take
// mayBeNearASCII, against its reference on every long vocabulary word
// with each letter dropped, doubled, swapped or changed, on the words of
// the evaluation texts, and on random words of every length up to and
// past nearMaxBytes, ASCII and not.
func TestMayBeNearASCIIAgrees(t *testing.T) {
	m := sharedInternalMatcher(t)
	f := m.vocab.near
	var words [][]byte
	for w := range m.vocab.words {
		rs := []rune(w)
		words = append(words, []byte(w))
		for i := 1; i < len(rs); i++ {
			words = append(words,
				[]byte(string(append(append([]rune{}, rs[:i]...), rs[i+1:]...))),
				[]byte(string(append(append(append([]rune{}, rs[:i]...), rs[i-1]), rs[i:]...))),
				[]byte(string(append(append(append([]rune{}, rs[:i]...), 'a'+rs[i]%26), rs[i+1:]...))))
			if i+1 < len(rs) {
				sw := append([]rune{}, rs...)
				sw[i], sw[i+1] = sw[i+1], sw[i]
				words = append(words, []byte(string(sw)))
			}
		}
	}
	for _, s := range plainTexts(t, m) {
		for _, w := range strings.Fields(strings.ToLower(s)) {
			words = append(words, []byte(w))
		}
	}
	r := rand.New(rand.NewPCG(4, 11))
	letters := []rune("abcdeehilmnooprsttuyzéжи")
	for range 50000 {
		n := r.IntN(nearMaxBytes/2 + 8)
		if r.IntN(20) == 0 {
			n = nearMaxBytes - 4 + r.IntN(8)
		}
		ascii := r.IntN(2) == 0
		var w []byte
		for len(w) < n {
			c := letters[r.IntN(len(letters))]
			if ascii && c >= utf8.RuneSelf {
				continue
			}
			w = utf8.AppendRune(w, c)
		}
		words = append(words, w)
	}
	passed := 0
	for _, w := range words {
		got, want := f.mayBeNear(w), f.mayBeNearReference(w)
		if got != want {
			t.Fatalf("mayBeNear(%q) = %v, reference %v", w, got, want)
		}
		if got {
			passed++
		}
	}
	if passed == 0 || passed == len(words) {
		t.Fatalf("%d of %d words passed: the test covers too little", passed, len(words))
	}
	t.Logf("%d words, %d passed", len(words), passed)
}
