package matchers

import (
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
