package matchers

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// checkAbbrevsDropped finds s's candidates as matchField does and, when
// abbrevsDropped says the rules drop them all, checks that the rules do
// on the tokens matchField reads. dropped reports abbrevsDropped's answer,
// rejected that every candidate is an abbreviation the rules drop.
func checkAbbrevsDropped(t *testing.T, m *Matcher, s string) (dropped, rejected bool) {
	t.Helper()
	sc := new(scratch)
	plain, hit, _, hits := m.plainReadClean(s, nil)
	if plain && !hit {
		return false, false
	}
	var cands []candidate
	read := false
	if plain {
		cands, read = m.plainCands(s, hits, nil)
	}
	if !read {
		cands = m.scanCands(sc, s, plain, nil)
	}
	if len(cands) == 0 || len(sc.support) > 0 {
		return false, false
	}
	sortByStart(cands)
	dropped = m.abbrevsDropped(s, cands)
	toks, strengths, quants := m.tokenizeCands(sc, s, cands)
	rejected = true
	first := 0
	for _, c := range cands {
		first = c.locateTokens(toks, first)
		if c.ref.class != classAbbr || !m.abbrevRejected(s, toks, strengths, quants, c) {
			rejected = false
			if dropped {
				t.Fatalf("abbrevsDropped(%q) but the rules keep %q at %d", s, s[c.start:c.end], c.start)
			}
		}
	}
	return dropped, rejected
}

// abbrevPieces are what abbreviationTexts puts around a code: words the
// rules read (competing, context, units, spelled numbers, purity heads,
// grades, packing groups), numbers, symbols, breaks and bytes above ASCII.
var abbrevPieces = strings.Fields(`tree oil Tree laptop LAPTOP one One cold brew bus ink toner ram gb card eau
grade Grade purity pure kg KG chemical acid lab reagent technical fertilizer tech ph cas
ten fifty zwei vingt cent cento per percent pct prozent procentowy
ml L l g gal gallon oz can CAN drum x x10 ppm M mol N n w v wt vol
concentration assay content gehalt area Area min minimum mass fraction reinheit
quality qualität i ii iii I II III Hatch no free not
foo stock ship price sale new Buy item the and or a A y et hundred twenty five twenty-five a-hundred quatre-vingt
A3 PS5 x60 ab12 ab123 302XL HP302XL mg5
5 25 33,5 34.4 825 2000 1,000 0.1 99 12345 3. .21 13O 7O 4050 1/8
% - / , ; : . ! ? ( ) + | & ' " [ ] # * × ‰ ％ • @ =
é réactif fünf ü Ⓩ ７ рН чда naïve`)

// abbrevSeps join the pieces.
var abbrevSeps = []string{" ", " ", " ", "", "  ", "-", "/", ". ", ", ", "\n", "\t", " - ", "\u00a0", "\r\n"}

// abbreviationTexts returns n texts, each one or two of the watchlist's
// abbreviations in random surroundings, some with filler wide enough to
// part their windows.
func abbreviationTexts(m *Matcher, r *rand.Rand, n int) []string {
	var abbrs []string
	for _, p := range m.patterns {
		for _, ref := range p.refs {
			if ref.class == classAbbr && !slices.Contains(abbrs, ref.term) {
				abbrs = append(abbrs, ref.term)
			}
		}
	}
	side := func(b *strings.Builder, k int) {
		for range k {
			b.WriteString(abbrevPieces[r.IntN(len(abbrevPieces))])
			b.WriteString(abbrevSeps[r.IntN(len(abbrevSeps))])
		}
	}
	filler := strings.Repeat("plain words here ", 12)
	texts := make([]string, 0, n)
	// Each code between what decides its support before and after it,
	// the rules' corner cases among them: a grade after a nitrogen
	// fertiliser's code, a purity head whose number is words away.
	for _, a := range abbrs {
		for _, before := range []string{"", "5 ", "16", "1,5 ", "x5 ", "Earl Grey ", "laptop - ", "g/", "pure ", "fifty percent ", "réactif ",
			"a ", "one ", "twenty-five ", "a b c d twenty ", "fifty pct ", "b fifty pct ", "twenty-five percent a ", "a hundred % ", "A3 ", "ab12% ", "ab12.5 "} {
			for _, after := range []string{"", " 33,5", " 34.4 big bag", " concentration: min minimum min 99", " Gehalt: min min min 35", " ３３,５", " 33·5",
				" N 34", " oil", "-tree", " 825 GB", "-30 epoxy", "/25 %", " grade", " II", " one percent", " fifty %", " tech",
				" a", " one oil", " one-percent", " a b c fifty pct", " one pct", " a b c twenty-five percent", " a b c twenty five %", " a b c d e twenty-five per cent",
				" 302XL ink", "302XL", " 2000", " 2000 kg", " 2000 %", " 2000.5", " 2000 Prozent", " 2000 N", " 2000O", " 123 x", " A3 print", " ab12 oil"} {
				texts = append(texts, before+a+after)
			}
		}
	}
	for range n {
		var b strings.Builder
		side(&b, r.IntN(7))
		for k := range 1 + r.IntN(2) {
			if k > 0 {
				switch r.IntN(3) {
				case 0:
					b.WriteString(filler)
				case 1:
					b.WriteString(filler[:r.IntN(len(filler))])
				}
				side(&b, r.IntN(4))
			}
			a := abbrs[r.IntN(len(abbrs))]
			switch r.IntN(4) {
			case 0:
				a = strings.ToLower(a)
			case 1:
				a = strings.ToUpper(a)
			}
			b.WriteString(a)
			b.WriteString(abbrevSeps[r.IntN(len(abbrevSeps))])
			side(&b, r.IntN(7))
		}
		texts = append(texts, b.String())
	}
	return texts
}

// TestAbbrevsDroppedAgrees holds abbrevsDropped to the rules it stands
// in for, on the fixture and evaluation fields and on the watchlist's
// abbreviations in random surroundings: every field it drops the rules
// drop, and it drops most of those the rules drop.
func TestAbbrevsDroppedAgrees(t *testing.T) {
	m := sharedInternalMatcher(t)
	texts := plainTexts(t, m)
	texts = append(texts, abbreviationTexts(m, rand.New(rand.NewPCG(10, 1)), 200000)...)
	dropped, rejected := 0, 0
	for _, s := range texts {
		d, rej := checkAbbrevsDropped(t, m, s)
		dropped += boolInt(d)
		rejected += boolInt(rej)
	}
	if dropped < 10000 || rejected == dropped {
		t.Fatalf("%d fields dropped before tokenizing of %d the rules drop: the test covers too little", dropped, rejected)
	}
	t.Logf("%d fields dropped before tokenizing of %d the rules drop", dropped, rejected)
}

// FuzzAbbrevsDropped checks abbrevsDropped against the rules on any text,
// and on any text around one of the watchlist's abbreviations.
func FuzzAbbrevsDropped(f *testing.F) {
	for _, s := range []string{"Genuine HP 302XL ink", "Earl Grey TEA - 50 bags", "AN 33,5 big bag", "CAN bus adapter", "16 GB RAM",
		"Nitro cold brew", "TEA purity: 99", "a or AN, example", "VG 70/30 e-liquid", "DMP-30 epoxy", "HP réactif", "AN fünfundzwanzig %"} {
		f.Add(s, uint8(0))
	}
	m := sharedInternalMatcher(f)
	var abbrs []string
	for _, p := range m.patterns {
		for _, ref := range p.refs {
			if ref.class == classAbbr {
				abbrs = append(abbrs, ref.term)
			}
		}
	}
	f.Fuzz(func(t *testing.T, s string, k uint8) {
		checkAbbrevsDropped(t, m, s)
		a := abbrs[int(k)%len(abbrs)]
		cut := int(k) % (len(s) + 1)
		checkAbbrevsDropped(t, m, s[:cut]+a+s[cut:])
		checkAbbrevsDropped(t, m, s[:cut]+" "+a+" "+s[cut:])
	})
}
