package matchers

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/precwatch/precwatch/fixtures"
	"github.com/precwatch/precwatch/fixtures/eval"
)

// The tokenizer is tuned for speed; these tests hold it to a frozen,
// plainly written copy of it (tokenizeRangeReference), token for token.

// tokenizeRangeReference is tokenizeRange as it was before it was tuned,
// simplified: flags come from the map the flag table indexes, every word
// goes through appendFolded and every symbol is cloned (the shortcuts for
// lower-case ASCII words and symbols give the same strings).
func tokenizeRangeReference(s string, from, to int, toks []token, sc *scratch) []token {
	for from > 0 && s[from-1] != ' ' && s[from-1] != '\n' {
		from--
	}
	for to < len(s) && s[to] != ' ' && s[to] != '\n' {
		to++
	}
	for i := from; i < to; {
		c := s[i]
		if c == ' ' {
			i++
			continue
		}
		var r rune
		size := 1
		if c < utf8.RuneSelf {
			r = rune(c)
		} else {
			r, size = foldASCII(s[i:])
		}
		switch {
		case r >= '0' && r <= '9':
			j, v := scanNumberReference(s, i)
			sc.nums = append(sc.nums, int32(len(toks)))
			toks = append(toks, token{kind: tokNum, start: i, end: j, num: v})
			i = j
			continue
		case isASCIILetter(c) || c >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.Is(unicode.Mn, r)):
			j := i
			if c >= utf8.RuneSelf {
				j = i + size // a letter perhaps only once folded ("Ⓩ")
			}
			for j < len(s) {
				c2 := s[j]
				if isASCIILetter(c2) {
					j++
					continue
				}
				if c2 >= '0' && c2 <= '9' {
					k := j
					for k < len(s) && s[k] >= '0' && s[k] <= '9' {
						k++
					}
					if k < len(s) && isASCIILetter(s[k]) || k-j <= 2 && (k == len(s) || !strings.ContainsRune("%.,", rune(s[k]))) {
						j = k
						continue
					}
					break
				}
				if c2 < utf8.RuneSelf {
					break
				}
				r2, sz := utf8.DecodeRuneInString(s[j:])
				if !unicode.IsLetter(r2) && !unicode.Is(unicode.Mn, r2) && !(unicode.Is(unicode.Cf, r2) && startsWithLetter(s[j+sz:])) {
					break
				}
				j += sz
			}
			a := len(sc.arena)
			sc.arena = appendFolded(sc.arena, s[i:j])
			if cyr, ok := cyrillicReading(sc.arena[a:], nil); ok {
				sc.arena = append(sc.arena[:a], cyr...)
			}
			sc.words = append(sc.words, wordSpan{len(toks), a, len(sc.arena)})
			w := string(sc.arena[a:])
			if len(w) >= 2 && w[0] == 'x' {
				sc.nums = append(sc.nums, int32(len(toks)))
			}
			toks = append(toks, token{kind: tokWord, start: i, end: j, flags: wordFlags[w]})
			i = j
			continue
		case r == '%' || r == '％':
			toks = append(toks, token{kind: tokPct, start: i, end: i + size})
		case r == '\n' || r == '!' || r == '?' || r == ';' || r == '•':
			toks = append(toks, token{kind: tokBreak, start: i, end: i + size})
		case r == '.':
			next := i + 1
			atEnd := next >= len(s) || s[next] == ' ' || s[next] == '\n' || s[next] == '\t'
			prevAbbrev := len(toks) > 0 && toks[len(toks)-1].end == i && toks[len(toks)-1].flags&fAbbrevDot != 0
			if atEnd && !prevAbbrev {
				toks = append(toks, token{kind: tokBreak, start: i, end: next})
			}
		case r == ' ' || r == '\t' || r == '\r' || c >= utf8.RuneSelf && unicode.IsSpace(r):
		case r == '‰' && len(toks) > 0 && toks[len(toks)-1].kind == tokNum && toks[len(toks)-1].num >= 0:
			toks[len(toks)-1].num /= 10
			toks = append(toks, token{kind: tokPct, start: i, end: i + size})
		default:
			toks = append(toks, token{kind: tokPunct, start: i, end: i + size, word: strings.Clone(s[i : i+size])})
		}
		i += size
	}
	return toks
}

// scanNumberReference is scanNumber as it was before it was tuned.
func scanNumberReference(s string, i int) (int, float64) {
	var buf [24]byte
	text := buf[:0]
	overflow := false
	j := i
	digits := func() {
		for j < len(s) {
			r, size := foldASCII(s[j:])
			if r < '0' || r > '9' {
				return
			}
			if len(text) < len(buf)-1 {
				text = append(text, byte(r))
			} else {
				overflow = true
			}
			j += size
		}
	}
	digits()
	if sep, size := foldASCII(s[j:]); sep == '.' || sep == ',' || sep == '·' {
		if d, _ := foldASCII(s[j+size:]); d >= '0' && d <= '9' {
			before := len(text)
			j += size
			text = append(text, '.')
			digits()
			if sep == ',' && len(text)-before-1 == 3 {
				copy(text[before:], text[before+1:])
				text = text[:len(text)-1]
			}
		}
	}
	if overflow {
		return j, -1
	}
	return j, parseDecimal(text)
}

// tokResult is everything the tokenizer and the parsers after it produce.
type tokResult struct {
	toks      []token
	nums      []int32
	strengths []strength
	quants    []quantity
}

// tokenizeRanges tokenizes the ranges of s as matchField does: a break
// token between ranges, from moved past the last token.
func tokenizeRanges(s string, ranges [][2]int, ref bool) tokResult {
	sc := new(scratch)
	var toks []token
	for _, rg := range ranges {
		from, to := rg[0], rg[1]
		if len(toks) > 0 {
			if from < toks[len(toks)-1].end {
				from = toks[len(toks)-1].end
			}
			toks = append(toks, token{kind: tokBreak, start: from, end: from})
		}
		if ref {
			toks = tokenizeRangeReference(s, from, to, toks, sc)
		} else {
			toks = tokenizeRange(s, from, to, toks, sc)
		}
	}
	finishTokens(toks, sc)
	r := tokResult{toks: toks, nums: sc.nums}
	if ref {
		r.strengths = findStrengthsReference(s, toks, sc.nums, nil)
		r.quants = findQuantitiesReference(toks, sc.nums, nil)
	} else {
		r.strengths = findStrengths(s, toks, sc.nums, nil)
		r.quants = findQuantities(toks, sc.nums, nil)
	}
	return r
}

func sameFloat(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b)
}

// diffTokens describes the first difference between two results, "" if none.
func diffTokens(got, want tokResult) string {
	for i := range max(len(got.toks), len(want.toks)) {
		if i >= len(got.toks) || i >= len(want.toks) {
			return fmt.Sprintf("%d tokens, want %d", len(got.toks), len(want.toks))
		}
		g, w := got.toks[i], want.toks[i]
		if g.kind != w.kind || g.start != w.start || g.end != w.end || g.word != w.word || !sameFloat(g.num, w.num) || g.flags != w.flags {
			return fmt.Sprintf("token %d: %+v, want %+v", i, g, w)
		}
	}
	if fmt.Sprint(got.nums) != fmt.Sprint(want.nums) {
		return fmt.Sprintf("nums %v, want %v", got.nums, want.nums)
	}
	if len(got.strengths) != len(want.strengths) {
		return fmt.Sprintf("strengths %+v, want %+v", got.strengths, want.strengths)
	}
	for i, g := range got.strengths {
		w := want.strengths[i]
		if g.first != w.first || g.last != w.last || !sameFloat(g.value, w.value) || g.kind != w.kind || g.byWeight != w.byWeight {
			return fmt.Sprintf("strengths %+v, want %+v", got.strengths, want.strengths)
		}
	}
	if len(got.quants) != len(want.quants) {
		return fmt.Sprintf("quantities %+v, want %+v", got.quants, want.quants)
	}
	for i, g := range got.quants {
		w := want.quants[i]
		if g.first != w.first || g.last != w.last || !sameFloat(g.value, w.value) || g.unit != w.unit || g.unitText != w.unitText || g.count != w.count {
			return fmt.Sprintf("quantities %+v, want %+v", got.quants, want.quants)
		}
	}
	return ""
}

func checkTokenize(t *testing.T, s string, ranges [][2]int) {
	t.Helper()
	if d := diffTokens(tokenizeRanges(s, ranges, false), tokenizeRanges(s, ranges, true)); d != "" {
		t.Fatalf("%q %v: %s", s, ranges, d)
	}
}

// listingTexts is every field of the fixture and eval listings.
func listingTexts(tb testing.TB) []string {
	var out []string
	for _, l := range fixtures.Listings() {
		out = append(out, l.Title, l.Description)
	}
	cases, err := eval.Load()
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range cases {
		out = append(out, c.Title, c.Description)
	}
	return out
}

// randomRanges picks one to three increasing ranges of s.
func randomRanges(rnd *rand.Rand, n int) [][2]int {
	var out [][2]int
	at := 0
	for range 1 + rnd.IntN(3) {
		if at > n {
			break
		}
		from := at + rnd.IntN(n-at+1)
		to := from + rnd.IntN(n-from+1)
		out = append(out, [2]int{from, to})
		at = to
	}
	return out
}

func TestTokenizeMatchesReferenceOnListings(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	texts := listingTexts(t)
	for _, s := range texts {
		checkTokenize(t, s, [][2]int{{0, len(s)}})
		for range 4 {
			checkTokenize(t, s, randomRanges(rnd, len(s)))
		}
	}
	// Fields run together, as the golden dump and long descriptions do.
	for i := range texts {
		s := texts[i] + ". " + texts[(i+7)%len(texts)] + "\n" + texts[(i+13)%len(texts)]
		checkTokenize(t, s, [][2]int{{0, len(s)}})
		checkTokenize(t, s, randomRanges(rnd, len(s)))
	}
}

// tokAlphabet mixes what the tokenizer treats differently: letters of
// both cases, digits, separators, symbols that fold ("％", "½", "Ⓩ"),
// non-ASCII letters and marks, spaces Unicode knows, and invalid UTF-8.
var tokAlphabet = []string{
	"a", "b", "e", "g", "k", "l", "m", "n", "o", "v", "w", "x", "z", "A", "G", "K", "L", "N", "V", "X", "Z", "q", "Q",
	"0", "1", "2", "3", "5", "9", ".", ",", "%", "-", "/", ":", "(", ")", "@", "×", "％", "•", "\n", " ", " ", " ", "\t", "\r",
	"!", "?", ";", "|", "=", "~", "–", "*", "é", "É", "ß", "к", "г", "л", "м", "Л", "х", "µ", "μ", "０", "５", "１", "．", "，",
	"½", "Ⓩ", "\u200b", "\u00a0", "\u3000", "\u0301", "\u0308", "₂", "²", "\xff", "\xc3", "\xe2\x82", "\x80",
	"vol", "Vol", "kg", "KG", "ml", "off", "pure", "ca", "no", "percent", "w/w", "x10", "X5", "kno3", "chl0rate", "литр", "to", "bis", "à",
	"‰", "procentowy", "процентная", "prozentig", "g/L", "mg/ml", "г/л", "g/100 g", "ppm", "3N", "purity", "per cento",
}

func randomTokText(rnd *rand.Rand) string {
	var b strings.Builder
	for range rnd.IntN(40) {
		b.WriteString(tokAlphabet[rnd.IntN(len(tokAlphabet))])
	}
	return b.String()
}

func TestTokenizeMatchesReferenceOnRandomText(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	n := 40000
	if testing.Short() {
		n = 5000
	}
	for range n {
		s := randomTokText(rnd)
		checkTokenize(t, s, [][2]int{{0, len(s)}})
		checkTokenize(t, s, randomRanges(rnd, len(s)))
	}
}

// Every flagged word, in lower and upper case, alone and amid text, gets
// its flags; near misses get none.
func TestTokenizeFlagsEveryWord(t *testing.T) {
	for w := range wordFlags {
		for _, s := range []string{w, strings.ToUpper(w), "5 " + w + ".", w + "s", w[:len(w)-1], "x" + w} {
			checkTokenize(t, s, [][2]int{{0, len(s)}})
		}
	}
}

// perVolumeFactor is perVolumeAt's factor alone.
func perVolumeFactor(toks []token, j int) float64 {
	f, _ := perVolumeAt(toks, j)
	return f
}

// findStrengthsReference is a frozen copy of findStrengths, so that a
// change to it is checked the same way.
func findStrengthsReference(text string, toks []token, nums []int32, out []strength) []strength {
	word := func(i int) string {
		if i >= 0 && i < len(toks) && toks[i].kind == tokWord {
			return toks[i].word
		}
		return ""
	}
	is := func(i int, f wordFlag) bool { return has(toks, i, f) }
	isPunct := func(i int, syms string) bool {
		return i >= 0 && i < len(toks) && toks[i].kind == tokPunct && strings.Contains(syms, toks[i].word)
	}
	next := 0 // the first token not yet part of a strength
	for _, ni := range nums {
		i := int(ni)
		if i < next {
			continue
		}
		t := &toks[i]
		if t.kind != tokNum || t.num < 0 {
			continue
		}
		first, v := i, t.num
		j := i + 1
		// A range "30-35%" or "30 to 35 %": keep the upper bound. A number
		// glued to a hyphen before it ends a code ("CAS 7722-84-1 - 35 %")
		// and starts no range.
		code := isPunct(first-1, "-") && toks[first-1].end == t.start && first >= 2 && toks[first-2].kind == tokNum
		if !code && j+1 < len(toks) && toks[j+1].kind == tokNum && (isPunct(j, "-–~") || word(j) == "to" || word(j) == "bis" || word(j) == "a" || word(j) == "à") &&
			j+2 < len(toks) && (toks[j+2].kind == tokPct || is(j+2, fPercent)) && v <= toks[j+1].num {
			v = min(toks[j+1].num, max(v, 100))
			j += 2
		}
		if k := toleranceAt(toks, j); k > 0 && k+1 < len(toks) && (toks[k+1].kind == tokPct || is(k+1, fPercent)) {
			j = k + 1
		}
		// NPK fertiliser grade "34-0-0": nitrogen first.
		if isPunct(j, "-") && j+3 < len(toks) && toks[j+1].kind == tokNum && isPunct(j+2, "-") && toks[j+3].kind == tokNum &&
			toks[j].start == t.end && v <= 46 && toks[j+1].num <= 100 && toks[j+3].num <= 100 {
			out = append(out, strength{first: first, last: j + 3, value: v, kind: strNitrogen})
			next = j + 4
			continue
		}
		// A vendor's bare purity range glued by a hyphen or dash, "98-99"
		// or "93–94" with no percent sign: only from 90 to 100, after a
		// word and before a word that is no unit, punctuation or nothing
		// ("sulfuricacid 98-99 restock"); "12-13" is a date, "€ 95-98" a
		// price, "90-95 kg" an amount.
		if !code && bareRange(toks, first, j) {
			out = append(out, strength{first: first, last: j + 1, value: toks[j+1].num, kind: strPercent, distributive: distributiveAround(toks, first, j+1)})
			next = j + 2
			continue
		}
		plus := isPunct(j, "+") && toks[j].start == t.end
		if plus && j+1 < len(toks) && (toks[j+1].kind == tokPct || is(j+1, fPercent)) {
			j++
		} else if plus && v >= 90 && v < 100 && (j+1 >= len(toks) || toks[j+1].kind != tokWord || is(j+1, fQualifier)) &&
			!is(j+1, fNotStrength) && !is(j+1, fUnit) {
			out = append(out, strength{first: first, last: j, value: v, kind: strPercent, distributive: distributiveAround(toks, first, j)})
			next = j + 1
			continue
		}
		var s strength
		switch {
		case perVolumeFactor(toks, j) > 0:
			if notStrengthBefore(toks, first) {
				continue
			}
			_, last := perVolumeAt(toks, j)
			s = strength{first: first, last: last, value: v * perVolumeFactor(toks, j), kind: strPercent}
		case word(j) == "ppm" && v >= minPPM && v <= 1e6:
			s = strength{first: first, last: j, value: v / 1e4, kind: strPercent}
		case word(j) == "n" && toks[j].start == t.end && v >= 2 && v <= 6 && v == float64(int(v)) && (is(j+1, fPurity) || is(first-1, fPurity)):
			s = strength{first: first, last: j, value: 100 - math.Pow(10, 2-v), kind: strPercent}
		case molarAt(text, toks, j, t.end) && v <= maxMolar && !is(j+1, fUnit) && !is(j+1, fVolume):
			s = strength{first: first, last: j, value: v, kind: strMolar}
		case perLitreMol(toks, j) > 0 && v <= maxMolar*1000:
			f, last := perLitreMolAt(toks, j)
			s = strength{first: first, last: last, value: v * f, kind: strMolar}
		case word(j) == "n" && upperLetterAt(text, toks[j], t.end) && v < minNitrogenGrade && !is(j+1, fUnit) &&
			!is(first-1, fNitrogen) && !is(first-1, fPurity) && !is(j+1, fPurity):
			s = strength{first: first, last: j, value: v, kind: strNormal}
		case percentAdjective(word(j)) && !notStrengthBefore(toks, first) && !is(j+1, fNotStrength):
			s = strength{first: first, last: j, value: v, kind: strPercent}
		case isPunct(j, "-") && toks[j].start == t.end && percentAdjective(word(j+1)) && !notStrengthBefore(toks, first) && !is(j+2, fNotStrength):
			s = strength{first: first, last: j + 1, value: v, kind: strPercent}
		case word(j) == "per" && perCent[word(j+1)] && !notStrengthBefore(toks, first) && !is(j+2, fNotStrength):
			s = strength{first: first, last: j + 1, value: v, kind: strPercent}
		case weightPercent[word(j)] && !notStrengthBefore(toks, first):
			s = strength{first: first, last: j, value: v, kind: strPercent, byWeight: true}
		case j < len(toks) && (toks[j].kind == tokPct || is(j, fPercent)):
			s = strength{first: first, last: j, value: v, kind: strPercent}
			k := j + 1
			// "% w/w", "% (w/w)", "% wt", "% vol", "% N"
			for k < len(toks) && isPunct(k, "()/") {
				k++
			}
			switch w := word(k); {
			case w == "w" || w == "wt" || w == "v" || w == "vol" || w == "m" || w == "p":
				s.last = k
				s.byWeight = w != "v" && w != "vol"
				if isPunct(k+1, "/") && (word(k+2) == "w" || word(k+2) == "v" || word(k+2) == "m" || word(k+2) == "p") {
					s.last = k + 2
				}
				if isPunct(s.last+1, ")") {
					s.last++
				}
			case is(k, fNitrogen):
				s.kind, s.last = strNitrogen, k
			case word(k) == "of" && k+2 < len(toks) && toks[k+1].kind == tokNum && (toks[k+2].kind == tokPct || is(k+2, fPercent)):
				// "5 % of 10 %": Dutch "of" is "or", never a share of a share.
			case is(k, fNotStrength):
				continue
			}
			if notStrengthBefore(toks, first) {
				continue
			}
		case is(j, fVolume):
			// "50 vol" is a peroxide volume strength; "70 vol %" and
			// "16 Vol.-%" are percentages.
			p := j + 1
			for isPunct(p, ".-") {
				p++
			}
			if p < len(toks) && (toks[p].kind == tokPct || is(p, fPercent)) {
				s = strength{first: first, last: p, value: v, kind: strPercent}
			} else {
				s = strength{first: first, last: j, value: v, kind: strVolumes}
			}
		case is(j, fNitrogen) && v >= minNitrogenGrade && v <= maxNitrogenGrade && (toks[j].start == t.end || toks[j].word == "n") && !is(j+1, fUnit):
			// A nitrogen grade written after the number ("34.5N", "27 N").
			s = strength{first: first, last: j, value: v, kind: strNitrogen}
		case is(first-1, fNitrogen) && toks[first-1].word == "n" && v >= minNitrogenGrade && v <= maxNitrogenGrade && toks[first-1].start+3 >= t.start && !is(j, fUnit) && !isPunct(j, "-x×") && !spacedLetterAt(toks, first-1):
			// "N 34", "N 34,4": the grade before its number.
			s = strength{first: first - 1, last: first, value: v, kind: strNitrogen}
		case purityHead(toks, first).kind != 0:
			if is(j, fUnit) {
				continue
			}
			head := purityHead(toks, first)
			if head.kind == headFraction {
				if v > 1 {
					continue
				}
				v *= 100
			}
			if v > 100 {
				continue
			}
			// The strength starts at its head, which a reader ties to
			// the name ("Nitromethane, GC area% 99.3").
			s = strength{first: head.at, last: first, value: v, kind: strPercent}
		default:
			continue
		}
		// A solution's % is of the dissolved substance by weight ("AN
		// solution 30 %" holds 10.5 % N), not a nitrogen grade.
		if s.kind == strPercent && (solutionWords[word(first-1)] || solutionWords[word(s.last+1)]) {
			s.byWeight = true
		}
		if is(first-1, fNitrogen) && s.kind == strPercent && toks[first-1].start+8 >= t.start && !spacedLetterAt(toks, first-1) {
			s.kind, s.first = strNitrogen, first-1
		}
		s.distributive = distributiveAround(toks, s.first, s.last)
		out = append(out, s)
		next = s.last + 1
	}
	return out
}

// findQuantitiesReference is a frozen copy of findQuantities.
func findQuantitiesReference(toks []token, nums []int32, out []quantity) []quantity {
	unitAt := func(i int) bool { return has(toks, i, fUnit) }
	num := func(i int) bool { return i >= 0 && i < len(toks) && toks[i].kind == tokNum && toks[i].num >= 0 }
	next := 0 // the first token not yet part of an amount
	for _, ni := range nums {
		i := int(ni)
		if i < next {
			continue
		}
		if n, ok := packCount(&toks[i]); ok {
			// "x10" alone, or before an amount: "x10 500 ml" is read
			// by the amount.
			if num(i+1) && unitAt(i+2) {
				q := quantity{first: i, last: i + 2, value: toks[i+1].num, unit: toks[i+2].word, count: n}
				out = append(out, q)
				next = i + 3
				continue
			}
			out = append(out, quantity{first: i, last: i, count: n})
			continue
		}
		if !num(i) {
			continue
		}
		q := quantity{first: i, count: 1}
		j := i
		// "10 x 1 L": a count, a times sign, an amount.
		if j+3 < len(toks) && isTimes(toks[j+1]) && num(j+2) && unitAt(j+3) && toks[j].num == float64(int(toks[j].num)) && toks[j].num > 0 {
			q.count = int(toks[j].num)
			j += 2
		}
		if !unitAt(j+1) || perVolumeFactor(toks, j+1) > 0 {
			continue
		}
		q.value, q.unit, q.last = toks[j].num, toks[j+1].word, j+1
		// "1 L x 10", "500 ml x10".
		if n, ok := packCountAt(toks, j+2); ok && q.count == 1 {
			q.count, q.last = n, j+2
		} else if q.count == 1 && j+3 < len(toks) && isTimes(toks[j+2]) && num(j+3) && toks[j+3].num == float64(int(toks[j+3].num)) && toks[j+3].num > 0 {
			q.count, q.last = int(toks[j+3].num), j+3
		}
		out = append(out, q)
		next = q.last + 1
	}
	return out
}

// Numbers of every length, with a decimal point, a decimal comma or a
// thousands separator, in ASCII or full-width digits, followed by what
// may or may not continue them.
func TestScanNumberMatchesReference(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	digits := func(b *strings.Builder, n int) {
		for range n {
			if rnd.IntN(20) == 0 {
				b.WriteString("０１２３４５６７８９"[3*rnd.IntN(10):][:3])
			} else {
				b.WriteByte(byte('0' + rnd.IntN(10)))
			}
		}
	}
	seps := []string{".", ",", ",", "．", "，", "%", "", " "}
	tails := []string{"", " ", "%", ".", ",", "a", "x", "５", "．", "，", ".5", ",1", "\xff", "é"}
	for range 100000 {
		var b strings.Builder
		digits(&b, 1+rnd.IntN(25))
		b.WriteString(seps[rnd.IntN(len(seps))])
		digits(&b, rnd.IntN(25))
		b.WriteString(tails[rnd.IntN(len(tails))])
		s := b.String()
		j, v := scanNumber(s, 0)
		wj, wv := scanNumberReference(s, 0)
		if j != wj || !sameFloat(v, wv) {
			t.Fatalf("scanNumber(%q) = %d, %v, want %d, %v", s, j, v, wj, wv)
		}
		checkTokenize(t, "kg "+s, [][2]int{{0, len(s) + 3}})
	}
}
