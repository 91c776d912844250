package matchers

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// testLayouts are the table layouts the cross-checks run: the default,
// chain states from the root's children on (as many as there can be),
// and every state dense.
var testLayouts = []layout{{denseDepth: denseDepth}, {denseDepth: 0}, {noChain: true}}

// TestScanSpacedAgainstNaive checks the automaton, with and without the
// root skip, in every layout, against a naive search for every pattern.
func TestScanSpacedAgainstNaive(t *testing.T) {
	chains := 0
	r := rand.New(rand.NewPCG(3, 4))
	alpha := "abn ix"
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(alpha[r.IntN(len(alpha))])
		}
		return b.String()
	}
	for round := range 200 {
		var pats []string
		seen := map[string]bool{}
		spaceLed := round%2 == 0
		for len(pats) < 1+r.IntN(12) {
			p := word(1 + r.IntN(5))
			if spaceLed {
				p = " " + p
			}
			if !seen[p] {
				seen[p] = true
				pats = append(pats, p)
			}
		}
		spaceLed = !slices.ContainsFunc(pats, func(p string) bool { return p[0] != ' ' })
		text := strings.TrimSpace(word(r.IntN(40)))
		hay := " " + text + " "
		var want []hit
		for end := 1; end <= len(hay); end++ {
			for pi, p := range pats {
				if strings.HasSuffix(hay[:end], p) {
					want = append(want, hit{int32(pi), int32(end)})
				}
			}
		}
		key := func(h hit) string { return strconv.Itoa(int(h.end)) + "/" + strconv.Itoa(int(h.pat)) }
		sortHits := func(hs []hit) []string {
			var ks []string
			for _, h := range hs {
				ks = append(ks, key(h))
			}
			slices.Sort(ks)
			return ks
		}
		for _, lay := range testLayouts {
			a := newAutomatonLayout(pats, lay)
			if a.spaceLed != spaceLed {
				t.Fatalf("spaceLed = %v for %q", a.spaceLed, pats)
			}
			if lay.noChain && len(a.chain) != 0 {
				t.Fatalf("%d chain states with noChain", len(a.chain))
			}
			chains += len(a.chain)
			got := a.scanSpaced([]byte(text), nil)
			if g, w := sortHits(got), sortHits(want); !slices.Equal(g, w) {
				t.Fatalf("layout %+v patterns %q text %q: got %v, want %v", lay, pats, text, g, w)
			}
		}
	}
	if chains == 0 {
		t.Error("no chain states in any layout")
	}
}

// TestScanSpacedWithoutStartsFilter checks the scan where the patterns
// use too many distinct bytes for the word-start bitset, and that the
// bitset is built whenever it fits.
func TestScanSpacedWithoutStartsFilter(t *testing.T) {
	var pats []string
	for b := 0x21; b < 0x100; b++ {
		pats = append(pats, " "+string([]byte{byte(b), 'q'}))
	}
	text := []byte("aq zz \xffq !q")
	hay := " " + string(text) + " "
	var want []hit
	for end := 1; end <= len(hay); end++ {
		for pi, p := range pats {
			if strings.HasSuffix(hay[:end], p) {
				want = append(want, hit{int32(pi), int32(end)})
			}
		}
	}
	for _, lay := range testLayouts {
		a := newAutomatonLayout(pats, lay)
		if a.starts != nil {
			t.Fatalf("starts bitset built for %d classes", a.nclass)
		}
		if got := a.scanSpaced(text, nil); len(want) != 3 || !slices.Equal(got, want) {
			t.Errorf("layout %+v: hits %v, want %v (three)", lay, got, want)
		}
	}
	if b := newAutomaton([]string{" ab", " c"}); b.starts == nil {
		t.Error("no starts bitset for two small patterns")
	}
}

// TestLookupFlagsMatchesMap checks the flag table and its filter against
// the word lists for every listed word and some that are not listed.
func TestLookupFlagsMatchesMap(t *testing.T) {
	words := []string{"", "a", "zz", "purityx", "kilogramz", "teas", "tea"}
	for w := range wordFlags {
		words = append(words, w, w+"s", "x"+w)
	}
	for _, w := range words {
		want := wordFlags[w]
		got := wordFlag(0)
		if mayHaveFlags([]byte(w)) {
			got = lookupFlags([]byte(w))
		}
		if got != want {
			t.Errorf("flags of %q = %b, want %b", w, got, want)
		}
	}
}

func TestStepBitFollowsStepOrder(t *testing.T) {
	for i, s := range stepOrder {
		if got, want := stepBit(s), 1<<i; got != want {
			t.Errorf("stepBit(%q) = %d, want %d", s, got, want)
		}
	}
	if got := stepBit("nope"); got != 0 {
		t.Errorf("stepBit(unknown) = %d, want 0", got)
	}
}

func TestAppendShortestMatchesStrconv(t *testing.T) {
	for _, v := range []float64{0, 1, 16, 35, 34.5, 99.99, 1e14, 1e15, 1e20, 0.1, 130, 3.0000001} {
		if got, want := string(appendShortest(nil, v)), strconv.FormatFloat(v, 'f', -1, 64); got != want {
			t.Errorf("appendShortest(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestNormalizeFastPathsAgree compares the offsets the ASCII fast paths
// produce with the character each normalised byte came from.
func TestNormalizeFastPathsAgree(t *testing.T) {
	for _, s := range []string{
		"Ammonium Nitrate 34.5% N, 25kg", "  leading and trailing  ", "perchIorate n!tro Hex@mine",
		"Wasserstoffperoxid 35 % – 1 L", "Ѕаrіn and hydrоgen peroxide", "a.b.c.d.e",
	} {
		n := normalize(s, true, nil)
		if len(n.offs) != len(n.text) {
			t.Fatalf("%q: %d offsets for %d bytes", s, len(n.offs), len(n.text))
		}
		for i, c := range n.text {
			if c < 0x80 && c != ' ' && c >= 'a' && c <= 'z' {
				o := s[n.offs[i]]
				if o < 0x80 && lowerASCII[o] != c && !strings.ContainsRune("@!$|I", rune(o)) {
					t.Errorf("%q: byte %d %q maps to %q", s, i, c, o)
				}
			}
		}
		if got, want := string(n.text), Normalize(s); got != want {
			t.Errorf("normalize(%q) = %q, Normalize = %q", s, got, want)
		}
	}
}

// TestFlagTableProbes keeps the flag table's probe sequences short, so a
// change to the word lists cannot quietly make every lookup a long walk.
func TestFlagTableProbes(t *testing.T) {
	worst := 0
	for w := range wordFlags {
		probes := 1
		for i := wordHash(w, prefix8(w)) & flagTable.mask; flagTable.keys[i] != w; i = (i + 1) & flagTable.mask {
			probes++
		}
		worst = max(worst, probes)
	}
	if worst > 8 {
		t.Errorf("longest probe sequence %d, want at most 8", worst)
	}
}

func TestIsCyrillicMatchesUnicode(t *testing.T) {
	for r := rune(0); r < 0x20000; r++ {
		if got, want := isCyrillic(r), unicode.Is(unicode.Cyrillic, r); got != want {
			t.Fatalf("isCyrillic(%U) = %v, want %v", r, got, want)
		}
	}
}
