package matchers

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unicode/utf8"
)

// randomCands makes n candidates over a short text, so that they overlap,
// share spans and starts, with refs of a few substances.
func randomCands(r *rand.Rand, refs []termRef, n int) []candidate {
	cs := make([]candidate, n)
	for i := range cs {
		start := r.IntN(40)
		end := start + 1 + r.IntN(12)
		cs[i] = candidate{ref: &refs[r.IntN(len(refs))], start: start, end: end, nlen: end - start - r.IntN(2)}
	}
	return cs
}

// TestResolveOverlapsAgainstSlices checks the insertion sorts in
// resolveOverlaps and sortByStart against the package slices sorts they
// stand in for, on random candidates, including sizes past smallSort.
func TestResolveOverlapsAgainstSlices(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	refs := make([]termRef, 5)
	for i := range refs {
		refs[i].sub = i % 3
	}
	for iter := range 20000 {
		n := r.IntN(2 * smallSort)
		if iter%100 == 0 {
			n = 70 + r.IntN(30) // resolveOverlapsLarge
		}
		cs := randomCands(r, refs, n)
		got, want := slices.Clone(cs), slices.Clone(cs)
		sortByStart(got)
		slices.SortFunc(want, func(x, y candidate) int { return x.start - y.start })
		if !slices.Equal(got, want) {
			t.Fatalf("sortByStart(%v) = %v, want %v", cs, got, want)
		}
		gotKept := resolveOverlaps(slices.Clone(got), nil)
		wantKept := resolveOverlapsNaive(slices.Clone(want))
		if !slices.Equal(gotKept, wantKept) {
			t.Fatalf("resolveOverlaps(%v) = %v, want %v", want, gotKept, wantKept)
		}
	}
}

// resolveOverlapsNaive is resolveOverlaps with package slices' stable
// sorts throughout.
func resolveOverlapsNaive(cands []candidate) []candidate {
	slices.SortStableFunc(cands, func(a, b candidate) int {
		if a.nlen != b.nlen {
			return b.nlen - a.nlen
		}
		return a.start - b.start
	})
	var kept []candidate
	if len(cands) > 64 {
		kept = resolveOverlapsLarge(cands, nil)
	} else {
		kept = resolveOverlapsSmall(cands, nil)
	}
	slices.SortStableFunc(kept, func(a, b candidate) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return a.ref.sub - b.ref.sub
	})
	return kept
}

// TestStepsMaskASCIIAgainstBytewise checks stepsMask's table-driven ASCII
// pass against the byte-by-byte switch it replaced.
func TestStepsMaskASCIIAgainstBytewise(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := "abcxyzIlABZ019@!$|-. _/()é"
	refs := []termRef{
		{class: classWord, kind: KindName},
		{class: classWord, kind: KindName, digits: true, seps: 1},
		{class: classWord, kind: KindFormula},
		{class: classAbbr, kind: KindAbbreviation},
		{class: classCAS, kind: KindCAS},
	}
	for range 50000 {
		b := make([]byte, 0, 16)
		for range r.IntN(16) {
			if r.IntN(30) == 0 {
				b = append(b, "é"...)
				continue
			}
			b = append(b, alphabet[r.IntN(len(alphabet)-len("é"))])
		}
		span := string(b)
		for i := range refs {
			ref := &refs[i]
			if got, want := stepsMask(span, ref), stepsMaskBytewise(span, ref); got != want {
				t.Fatalf("stepsMask(%q, %+v) = %b, want %b", span, *ref, got, want)
			}
		}
	}
}

// stepsMaskBytewise is stepsMask with its former ASCII pass, and the
// rest of it (for spans that are not ASCII) from stepsMask itself.
func stepsMaskBytewise(span string, ref *termRef) int {
	var mask int
	ascii, upper, symbols, seps := true, false, false, 0
	for i := 0; i < len(span); i++ {
		c := span[i]
		switch {
		case 'A' <= c && c <= 'Z':
			upper = true
			if c == 'I' && i > 0 && isLower(span[i-1]) && i+1 < len(span) && isLower(span[i+1]) {
				mask |= bitHomoglyph
			}
		case c == '@' || c == '!' || c == '$' || c == '|':
			symbols = true
		case '0' <= c && c <= '9':
			if ref.class == classWord && ref.kind != KindFormula && !ref.digits {
				symbols = true
			}
		case c >= utf8.RuneSelf:
			ascii = false
		case !('a' <= c && c <= 'z'):
			seps++
		}
	}
	if !ascii {
		return stepsMask(span, ref)
	}
	if upper {
		mask |= bitCasefold
	}
	if symbols {
		mask |= bitLeetspeak
	}
	if ref.class == classCAS {
		if !containsHyphen(span) {
			mask |= bitCASNoHyphens
		}
	} else if seps > ref.seps+1 {
		mask |= bitJoinedSeparators
	}
	return mask
}

func containsHyphen(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			return true
		}
	}
	return false
}
