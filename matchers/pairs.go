package matchers

import (
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/precwatch/precwatch"
)

// Sellers who are not writing their own language mix two of the
// watchlist's languages in one salt or acid name: an English cation with a
// German anion ("potassium perchlorat"), a German anion with a French
// cation ("Chlorat de soude"), Italian with Spanish ("nitrato di amonio").
// No term holds such a pair, and generating every combination would
// multiply the automaton several times over. Instead, the words of the
// EU annexes' two-word names are indexed by the substances whose names
// hold them; two such words side by side (or joined by "de", "di", "of"
// and the like) whose sets share exactly one substance name it. A word
// found in names of no common substance names nothing ("sodium
// chloride"), and neither does a pair that two entries share ("sodium
// nitrat" is sodium nitrate; "ammonium perchlorat" is no entry).
//
// A pair is always one cation or class word (pairCommon: "sodium",
// "acid", "hydrogen") and one specific word that an official name (not
// a trade name or slang) writes beside such a word: the anion or the
// acid's adjective ("perchlorat", "nitrique"). So "lead-acid battery" is
// not "battery acid", nor "соль калия" (any potassium salt) "бертолетова
// соль". The automaton looks for the specific words only (triggers),
// never for the cations and class words that ordinary product text is
// full of.

// onlyShared returns the one substance index two sorted sets share, or
// -1 when they share none or several.
func onlyShared(a, b []int32) int {
	shared := -1
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			if shared >= 0 {
				return -1
			}
			shared = int(a[i])
			i++
			j++
		}
	}
	return shared
}

// pairConnectors may join a pair's two words ("chlorate de soude",
// "nitrato di ammonio", "nitrate d'ammonium", "nitrate of potash").
var pairConnectors = foldedSetOf(`de di d of du del dello della`)

// pairCommon are the words of pairs that ordinary text uses on its own:
// cations, class words, hydrogen and powders. They complete a pair but
// never start the search for one (no automaton pattern).
var pairCommon = foldedSetOf(`potassium kalium kalzium potasio potassio potasu potasem potassique potasse kali kalii kaliia kalij kalija kaliy kaliya kaliem
калия калий калием sodium natrium sodio soude sodu sodem sodique natrii natriia natrij natrija natriy natriya natriem натрия натрий натрием
ammonium amonio ammonio amonu amonem ammoniaque ammonii ammoniia ammonij ammonija ammoniy ammoniya ammoniem аммония аммоний аммонием
calcium calcio calcii wapnia wapniem kaltsii kaltsiia kaltsij kaltsija kaltsiy kaltsiya kaltsiem кальция кальций кальцием
magnesium magnesio magnesii magnezu magnezem magnii magniia magnij magnija magniy magniya magniem магния магний магнием
acid acide acido saure zuur kwas kislota кислота hydrogen hydrogene wasserstoff waterstof idrogeno hidrogeno wodoru vodoroda водорода
aluminium aluminum alluminio aluminio glinu powder pulver poudre polvo polvere poeder proszek порошок poroshok`)

// pairMinLetters is the fewest letters of a pair's word.
const pairMinLetters = 4

// pairIndex is what Compile builds for mixed-language pairs.
type pairIndex struct {
	// words holds every word of a two-word EU name, with the (sorted)
	// indexes of the substances whose names hold it.
	words map[string][]int32
	// triggers are the specific words of official names (see above).
	triggers map[string]bool
	// refs[sub] is the match's term for a pair naming sub: the substance's
	// display name, as no one term was written.
	refs map[int]*termRef
}

// pairWordsOf returns the two words of a normalised name of two words,
// connectors aside, or false.
func pairWordsOf(norm string) (string, string, bool) {
	var ws [2]string
	n := 0
	for _, w := range strings.Fields(norm) {
		if pairConnectors[w] {
			continue
		}
		if n == 2 || utf8.RuneCountInString(w) < pairMinLetters || strings.ContainsFunc(w, func(r rune) bool { return !unicode.IsLetter(r) }) {
			return "", "", false
		}
		ws[n] = w
		n++
	}
	return ws[0], ws[1], n == 2
}

// addPairName indexes a normalised term of substance sub; official is
// set for a name (or its spelling variants), not a synonym.
func (p *pairIndex) addPairName(sub int, norm string, official bool) {
	a, b, ok := pairWordsOf(norm)
	if !ok {
		return
	}
	for _, w := range [2]string{a, b} {
		if i, found := slices.BinarySearch(p.words[w], int32(sub)); !found {
			p.words[w] = slices.Insert(p.words[w], i, int32(sub))
		}
	}
	if official && pairCommon[a] != pairCommon[b] {
		if pairCommon[a] {
			a = b
		}
		p.triggers[a] = true
	}
}

// pairHit is an automaton hit on a pair's trigger word: [a, b) of the
// normalised text.
type pairHit struct{ a, b int }

// mixedPairs appends the candidates the pair hits name: a trigger word
// and the word before or after it (across one connector), joined in the
// original text by spaces, a hyphen or an elision only, whose sets share
// one substance, where no candidate of that substance was found. A third
// name word next to the pair ("calcium ammonium nitrat") makes it part
// of a longer name, which this rule does not read.
func (m *Matcher) mixedPairs(n *normText, text string, hits []pairHit, cands []candidate) []candidate {
	words := func(a, b int) ([]int32, bool) {
		s, ok := m.pairs.words[string(n.text[a:b])]
		return s, ok
	}
	// neighbour returns the word before [a, b) of n.text, or after it.
	neighbour := func(a, b int, after bool) (int, int) {
		if after {
			s := b + 1
			if s >= len(n.text) {
				return -1, -1
			}
			e := s
			for e < len(n.text) && n.text[e] != ' ' {
				e++
			}
			return s, e
		}
		e := a - 1
		if e <= 0 {
			return -1, -1
		}
		s := e
		for s > 0 && n.text[s-1] != ' ' {
			s--
		}
		return s, e
	}
	// joined: the original text between the word ending at endA and the
	// one starting at startB is spaces, one hyphen or an elision's
	// apostrophe, nothing a list or a sentence separates items with.
	joined := func(endA, startB int) bool {
		from := int(n.offs[endA-1])
		_, size := utf8.DecodeRuneInString(text[from:])
		from += size
		to := int(n.offs[startB])
		for from < to {
			r, size := utf8.DecodeRuneInString(text[from:])
			if !unicode.Is(unicode.Mn, r) {
				break
			}
			from += size // a combining mark of the word's last letter
		}
		if from >= to {
			return false
		}
		gap := text[from:to]
		return strings.Trim(gap, " -'’\u00a0") == "" && strings.Count(gap, "-") <= 1
	}
	next := func(a, b int, after bool) (int, int) {
		na, nb := neighbour(a, b, after)
		if na < 0 || after && !joined(b, na) || !after && !joined(nb, a) {
			return -1, -1
		}
		return na, nb
	}
	for _, h := range hits {
		th, ok := words(h.a, h.b)
		if !ok {
			continue
		}
		for _, after := range [2]bool{false, true} {
			a, b := next(h.a, h.b, after)
			if a >= 0 && pairConnectors[string(n.text[a:b])] {
				a, b = next(a, b, after)
			}
			if a < 0 {
				continue
			}
			nb, ok := words(a, b)
			if !ok || !pairCommon[string(n.text[a:b])] {
				continue
			}
			sub := onlyShared(th, nb)
			if sub < 0 {
				continue
			}
			first, last := a, h.b // the pair's span in n.text
			if after {
				first, last = h.a, b
			}
			// A third name word beside the pair: a longer name.
			if pa, pb := next(first, last, false); pa >= 0 {
				if _, ok := words(pa, pb); ok {
					continue
				}
			}
			if qa, qb := next(first, last, true); qa >= 0 {
				if _, ok := words(qa, qb); ok {
					continue
				}
			}
			start := int(n.offs[first])
			lastByte := int(n.offs[last-1])
			_, size := utf8.DecodeRuneInString(text[lastByte:])
			end := lastByte + size
			found := false
			for _, c := range cands {
				if c.ref.sub == sub && c.start < end && start < c.end {
					found = true
					break
				}
			}
			if !found {
				cands = append(cands, candidate{ref: m.pairs.refs[sub], start: start, end: end, nlen: last - first})
			}
		}
	}
	return cands
}

// euListed reports whether s is on an EU annex, whose names the pair rule
// reads.
func euListed(s precwatch.Substance) bool {
	return slices.ContainsFunc(s.Regimes, func(r precwatch.RegimeEntry) bool { return strings.HasPrefix(string(r.Regime), "eu-") })
}

// addPairPatterns adds an automaton pattern (or a ref to the pattern of a
// term of the same text) for each pair trigger word, and the term each
// pair's substance is reported with; it returns the new patterns' texts.
func (m *Matcher) addPairPatterns(index map[string]int) map[string]int {
	added := map[string]int{}
	for _, w := range slices.Sorted(maps.Keys(m.pairs.words)) {
		for _, sub := range m.pairs.words[w] {
			if m.pairs.refs[int(sub)] == nil {
				m.pairs.refs[int(sub)] = m.pairRef(int(sub))
			}
		}
		if !m.pairs.triggers[w] {
			continue
		}
		i, ok := index[w]
		if !ok {
			i = len(m.patterns)
			m.patterns = append(m.patterns, pattern{})
			added[w] = i
		}
		m.patterns[i].refs = append(m.patterns[i].refs, termRef{sub: -1, term: w, class: classPair})
		m.patterns[i].pair = true
	}
	return added
}

// pairRef is the term a pair naming substance sub is reported with: its
// English name, as no one term of it was written.
func (m *Matcher) pairRef(sub int) *termRef {
	s := m.w.Substances[sub]
	term := s.Names["en"]
	if term == "" {
		term = s.DisplayName()
	}
	ref := &termRef{sub: sub, term: term, kind: KindName, class: classWord, seps: countSeparators(term),
		latinFirst: unicode.Is(unicode.Latin, firstLetter(term))}
	ref.headLast, ref.headFirst = sharedHeadOf(Normalize(term))
	return ref
}

// pairSpans returns the spans of the original plain text (plainCands)
// that the pair trigger at text[start:end] may make a pair with a cation
// or class word beside it, across one connector at most: mixedPairs,
// reading the normalised text, can find a pair only there. n is 0 for
// most trigger hits ("peroxide" in "benzoyl peroxide gel").
func pairSpans(text string, start, end int) (spans [2][2]int, n int) {
	var buf [64]byte
	// word returns the folded word before i (or from i on, after), with
	// its far end.
	word := func(i int, after bool) ([]byte, int) {
		if after {
			for i < len(text) && plainByte[text[i]]&pbSep != 0 {
				i++
			}
			e := i
			for e < len(text) && plainByte[text[e]]&pbSep == 0 {
				e++
			}
			if e == i || e-i > len(buf)/2 {
				return nil, -1
			}
			return foldWord(buf[:0], text[i:e]), e
		}
		for i > 0 && plainByte[text[i-1]]&pbSep != 0 {
			i--
		}
		s := i
		for s > 0 && plainByte[text[s-1]]&pbSep == 0 {
			s--
		}
		if s == i || i-s > len(buf)/2 {
			return nil, -1
		}
		return foldWord(buf[:0], text[s:i]), s
	}
	for _, after := range [2]bool{false, true} {
		at := start
		if after {
			at = end
		}
		w, far := word(at, after)
		if far >= 0 && pairConnectors[string(w)] {
			w, far = word(far, after)
		}
		if far >= 0 && pairCommon[string(w)] {
			if after {
				spans[n] = [2]int{start, far}
			} else {
				spans[n] = [2]int{far, end}
			}
			n++
		}
	}
	return spans, n
}
