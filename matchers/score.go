package matchers

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/precwatch/precwatch"
)

// Normalisation steps reported in precwatch.Match.Steps.
const (
	StepNFKC             = "nfkc"
	StepCasefold         = "casefold"
	StepDiacritics       = "diacritics"
	StepHomoglyph        = "homoglyph"
	StepLeetspeak        = "leetspeak"
	StepJoinedSeparators = "joined-separators"
	StepInvisible        = "invisible"
	StepSubscript        = "subscript"
	StepCASNoHyphens     = "cas-without-hyphens"
	// StepDecoded: the field was read decoded from escaping or a wrong
	// charset (decode.go); the match quotes it as written.
	StepDecoded = "decoded"
)

// obfuscationSteps are the steps that undo a seller's disguise, as opposed
// to ordinary spelling (case, accents, compatibility forms).
var obfuscationSteps = map[string]string{
	StepHomoglyph:        "homoglyphs",
	StepLeetspeak:        "leetspeak",
	StepJoinedSeparators: "spaced-out letters",
	StepInvisible:        "invisible characters",
}

// stepsMask names the normalisation steps that made span, as written, read
// as the term, as a set of bits in stepOrder (an index of stepSets):
// decided from the span itself, so only hits pay for it.
func stepsMask(span string, ref *termRef) int {
	var mask int
	// One pass over the bytes settles an ASCII span, the usual one; the
	// rune pass below runs only for others. A table classifies each byte:
	// separators are counted, the other classes gathered.
	var seen uint8
	seps := 0
	for i := 0; i < len(span); i++ {
		k := spanClass[span[i]]
		seen |= k
		seps += int(k & bcSep)
	}
	ascii, upper := seen&bcHigh == 0, seen&bcUpper != 0
	symbols := seen&bcSymbol != 0 || seen&bcDigit != 0 && ref.class == classWord && ref.kind != KindFormula && !ref.digits
	if seen&bcCapitalI != 0 {
		for i := 1; i+1 < len(span); i++ {
			if span[i] == 'I' && isLower(span[i-1]) && isLower(span[i+1]) {
				mask |= bitHomoglyph
				break
			}
		}
	}
	if !ascii {
		latin, other, diacritics := false, false, false
		for _, r := range span {
			if r < runeBitsSize {
				// The scripts of nearly every listing: one table load
				// instead of the range-table searches below.
				b := runeBits[r]
				switch {
				case b&rbCf != 0:
					mask |= bitInvisible
					continue
				case b&rbSep != 0:
					seps++
					continue
				case b&rbLatin != 0:
					latin = true
				case b&rbLetter != 0:
					other = true
				}
				if ref.latinFirst && b&rbLooksLatin != 0 {
					mask |= bitHomoglyph
				}
				diacritics = diacritics || b&rbDiacritic != 0
				continue
			}
			diacritics = diacritics || hasDiacritics(string(r))
			switch {
			case r >= 0x2080 && r <= 0x209C || r >= 0x2070 && r <= 0x207F:
				mask |= bitSubscript
				continue
			case unicode.Is(unicode.Cf, r):
				mask |= bitInvisible
				continue
			case isWideSep(r):
				seps++
				continue
			case r >= 0xFF00 && r <= 0xFFEF || r >= 0xFB00 && r <= 0xFB4F || r >= 0x1D400 && r <= 0x1D7FF:
				// Full-width and mathematical letters are NFKC's, not
				// homoglyphs, though UTS #39 lists them too.
				mask |= bitNFKC
				continue
			case unicode.Is(unicode.Latin, r):
				latin = true
			case unicode.IsLetter(r):
				other = true
			}
			if ref.latinFirst && latinOf(unicode.ToLower(r)) != 0 {
				mask |= bitHomoglyph
			}
		}
		if latin && other {
			mask |= bitHomoglyph
		}
		if diacritics {
			mask |= bitDiacritics
		}
	}
	if upper || !ascii && strings.ContainsRune(span, 'ß') {
		mask |= bitCasefold
	}
	if symbols {
		mask |= bitLeetspeak
	}
	if ref.class == classCAS {
		if !strings.ContainsAny(span, "-－‐‑") {
			mask |= bitCASNoHyphens
		}
	} else if seps > ref.seps+1 {
		mask |= bitJoinedSeparators
	}
	return mask
}

// Byte classes of stepsMask's ASCII pass (spanClass). bcSep is bit 0, so
// that adding a byte's class masked with it counts separators.
const (
	bcSep      = 1 << iota // not a letter, a digit or a leetspeak symbol
	bcUpper                // 'A'-'Z'
	bcCapitalI             // 'I', a homoglyph of 'l' between lower-case letters
	bcSymbol               // leetspeak symbols
	bcDigit                // '0'-'9'
	bcHigh                 // a byte of a multi-byte rune
)

var spanClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case 'A' <= c && c <= 'Z':
			t[c] = bcUpper
			if c == 'I' {
				t[c] |= bcCapitalI
			}
		case c == '@' || c == '!' || c == '$' || c == '|':
			t[c] = bcSymbol
		case '0' <= c && c <= '9':
			t[c] = bcDigit
		case c >= utf8.RuneSelf:
			t[c] = bcHigh
		case !('a' <= c && c <= 'z'):
			t[c] = bcSep
		}
	}
	return t
}()

// Step bits of a stepsMask, in stepOrder: constants, so that stepsMask,
// run for every match, sets bits rather than comparing step names.
const (
	bitNFKC = 1 << iota
	bitCasefold
	bitDiacritics
	bitHomoglyph
	bitLeetspeak
	bitJoinedSeparators
	bitInvisible
	bitSubscript
	bitCASNoHyphens
	bitDecoded
)

// stepBit is a step's bit in a stepsMask: its place in stepOrder.
func stepBit(s string) int {
	switch s {
	case StepNFKC:
		return bitNFKC
	case StepCasefold:
		return bitCasefold
	case StepDiacritics:
		return bitDiacritics
	case StepHomoglyph:
		return bitHomoglyph
	case StepLeetspeak:
		return bitLeetspeak
	case StepJoinedSeparators:
		return bitJoinedSeparators
	case StepInvisible:
		return bitInvisible
	case StepSubscript:
		return bitSubscript
	case StepCASNoHyphens:
		return bitCASNoHyphens
	case StepDecoded:
		return bitDecoded
	}
	return 0
}

// stepOrder is the order steps are reported in.
var stepOrder = []string{StepNFKC, StepCasefold, StepDiacritics, StepHomoglyph, StepLeetspeak,
	StepJoinedSeparators, StepInvisible, StepSubscript, StepCASNoHyphens, StepDecoded}

// stepSets holds one shared, read-only slice per combination of steps, so
// that matches do not allocate their Steps.
var stepSets = func() [][]string {
	sets := make([][]string, 1<<len(stepOrder))
	for mask := 1; mask < len(sets); mask++ {
		for i, s := range stepOrder {
			if mask&(1<<i) != 0 {
				sets[mask] = append(sets[mask], s)
			}
		}
		sets[mask] = slices.Clip(sets[mask])
	}
	return sets
}()

// hasDiacritics reports whether s has a combining mark, written apart or
// composed into a letter ("é").
func hasDiacritics(s string) bool {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		p := norm.NFD.PropertiesString(s[i:])
		if d := p.Decomposition(); d != nil {
			for _, r := range string(d) {
				if unicode.Is(unicode.Mn, r) {
					return true
				}
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.Is(unicode.Mn, r) {
			return true
		}
		i += size
	}
	return false
}

// isWideSep reports a non-ASCII punctuation mark or symbol, a separator
// between letters ("Per•clo•ra•to", "K🔥h🔥l🔥o") as ASCII ones are.
func isWideSep(r rune) bool {
	return r >= utf8.RuneSelf && (unicode.IsPunct(r) || unicode.IsSymbol(r))
}

// runeBits classifies the runes below runeBitsSize for stepsMask, as its
// rune loop would one by one.
const (
	rbCf = 1 << iota
	rbLatin
	rbLetter
	rbLooksLatin // latinOf(unicode.ToLower(r)) != 0
	rbDiacritic  // hasDiacritics(string(r))
	rbSep        // isWideSep(r)
)

const runeBitsSize = 0x800

var runeBits = func() (t [runeBitsSize]uint8) {
	for r := rune(0); r < runeBitsSize; r++ {
		var b uint8
		if unicode.Is(unicode.Cf, r) {
			b |= rbCf
		}
		if unicode.Is(unicode.Latin, r) {
			b |= rbLatin
		}
		if unicode.IsLetter(r) {
			b |= rbLetter
		}
		if latinOf(unicode.ToLower(r)) != 0 {
			b |= rbLooksLatin
		}
		if hasDiacritics(string(r)) {
			b |= rbDiacritic
		}
		if isWideSep(r) {
			b |= rbSep
		}
		t[r] = b
	}
	return t
}()

func firstLetter(s string) rune {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return r
		}
	}
	return 0
}

func countSeparators(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < utf8.RuneSelf && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			n++
		}
	}
	return n
}

// Score weights: the regime sets the base, the other signals add to it.
var regimeBase = map[precwatch.Regime]float64{
	precwatch.RegimeCWC1:      60,
	precwatch.RegimeCWC2:      50,
	precwatch.RegimeCWC3:      40,
	precwatch.RegimeEUAnnexI:  30,
	precwatch.RegimeEUAnnexII: 15,
}

var regimeLabel = map[precwatch.Regime]string{
	precwatch.RegimeCWC1:      "CWC Schedule 1",
	precwatch.RegimeCWC2:      "CWC Schedule 2",
	precwatch.RegimeCWC3:      "CWC Schedule 3",
	precwatch.RegimeEUAnnexI:  "EU 2019/1148 Annex I",
	precwatch.RegimeEUAnnexII: "EU 2019/1148 Annex II",
}

// quantityScore maps an amount (grams or millilitres) to points: bigger is
// worse, in steps per order of magnitude.
func quantityScore(g float64) float64 {
	switch {
	case g >= 100_000:
		return 15
	case g >= 10_000:
		return 12
	case g >= 1_000:
		return 8
	case g >= 100:
		return 4
	case g > 0:
		return 1
	}
	return 0
}

// regimeIndex numbers the regimes for regimeBaseByIndex and
// regimeLabelByIndex, so scoring looks up no map per match.
func regimeIndex(r precwatch.Regime) int {
	switch r {
	case precwatch.RegimeCWC1:
		return 1
	case precwatch.RegimeCWC2:
		return 2
	case precwatch.RegimeCWC3:
		return 3
	case precwatch.RegimeEUAnnexI:
		return 4
	case precwatch.RegimeEUAnnexII:
		return 5
	}
	return 0
}

var regimeBaseByIndex, regimeLabelByIndex = func() (b [6]float64, l [6]string) {
	for r, v := range regimeBase {
		b[regimeIndex(r)] = v
	}
	for r, v := range regimeLabel {
		l[regimeIndex(r)] = v
	}
	return b, l
}()

// reasonRef is a reason being built: a fixed string, or (s == "") the
// bytes [a, b) of the listing's formatted reasons.
type reasonRef struct {
	s    string
	a, b int32
}

// scoreListing sets Score and Reasons of every staged match from the whole
// listing: regime, strength against the limit, amount, several distinct
// precursors, a dark-web source and obfuscation. The formatted reasons of
// the listing share one string; Match copies each match's reasons next to
// its other values (setReasons).
func (m *Matcher) scoreListing(sc *scratch, tor bool) {
	ms := sc.staged
	distinct := 0
	if len(ms) <= 16 {
		for i := range ms {
			dup := false
			for k := range i {
				dup = dup || ms[k].ref.sub == ms[i].ref.sub
			}
			if !dup {
				distinct++
			}
		}
	} else {
		seen := map[int]bool{}
		for _, x := range ms {
			seen[x.ref.sub] = true
		}
		distinct = len(seen)
	}
	refs := sc.reasons[:0]
	num := sc.rbuf[:0]
	fixed := func(s string) { refs = append(refs, reasonRef{s: s}) }
	formatted := func(from int) { refs = append(refs, reasonRef{a: int32(from), b: int32(len(num))}) }
	for i := range ms {
		st := &ms[i]
		sub := &m.subs[st.ref.sub]
		nitrogen := sub.nitrogenBasis
		ri := sub.sevIndex[boolInt(st.over)]
		score := regimeBaseByIndex[ri]
		st.r0 = int32(len(refs))
		if l := regimeLabelByIndex[ri]; l != "" {
			fixed(l)
		}
		if st.hasConc && sub.limit != nil && *sub.limit > 0 {
			c, lim := st.conc, *sub.limit
			unit := "% w/w"
			if nitrogen {
				unit = "% N"
			}
			ratio := c / lim
			from := len(num)
			num = appendShortest(num, c)
			num = append(num, unit...)
			if st.stated != "" {
				num = append(num, " ("...)
				num = append(num, st.stated...)
				num = append(num, ')')
			}
			if ratio > 1 {
				score += min(25, 10+8*math.Log2(ratio))
				num = append(num, ", "...)
				num = strconv.AppendFloat(num, ratio, 'f', 1, 64)
				num = append(num, "x the "...)
			} else {
				score -= 10
				num = append(num, ", at or under the "...)
			}
			num = append(num, sub.limitText...)
			num = append(num, "% limit"...)
			formatted(from)
		} else if st.hasConc {
			from := len(num)
			num = appendShortest(num, st.conc)
			num = append(num, '%')
			formatted(from)
		}
		if st.hasQ {
			if g := st.q.Grams + st.q.Millilitres; g > 0 {
				score += quantityScore(g)
				fixed(st.q.Text)
			}
		}
		if distinct > 1 {
			score += min(15, 5*float64(distinct-1))
			fixed(precursorsReason(distinct))
		}
		if tor {
			score += 10
			fixed("dark-web market")
		}
		if r := obfuscationReasons[st.mask]; r != "" {
			score += 10
			fixed(r)
		}
		st.score = math.Round(max(0, min(100, score))*10) / 10
		st.r1 = int32(len(refs))
	}
	sc.reasonText = ""
	if len(num) > 0 {
		sc.reasonText = string(num)
	}
	sc.reasons, sc.rbuf = refs, num[:0]
}

// maxReasons is the most reasons scoreListing gives a match: regime,
// strength, amount, several precursors, dark web, obfuscation.
const maxReasons = 6

// setReasons points m.Reasons at the reasons of staged match st, copied
// into dst.
func (sc *scratch) setReasons(m *precwatch.Match, st *staged, dst *[maxReasons]string) {
	n := int(st.r1 - st.r0)
	if n == 0 {
		return
	}
	for k, r := range sc.reasons[st.r0:st.r1] {
		if r.s != "" {
			dst[k] = r.s
		} else {
			dst[k] = sc.reasonText[r.a:r.b]
		}
	}
	m.Reasons = dst[:n:n]
}

// appendShortest is strconv.AppendFloat(dst, v, 'f', -1, 64), with a short
// cut for whole numbers, the usual strengths.
func appendShortest(dst []byte, v float64) []byte {
	if v >= 0 && v < 1e15 && v == math.Trunc(v) {
		return strconv.AppendInt(dst, int64(v), 10)
	}
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}

var precursorsReasons = func() (r [10]string) {
	for i := range r {
		r[i] = strconv.Itoa(i) + " precursors in one listing"
	}
	return r
}()

func precursorsReason(n int) string {
	if n < len(precursorsReasons) {
		return precursorsReasons[n]
	}
	return strconv.Itoa(n) + " precursors in one listing"
}

// obfuscationReasons holds obfuscationReason for every set of steps, by
// stepsMask.
var obfuscationReasons = func() []string {
	r := make([]string, len(stepSets))
	for mask, steps := range stepSets {
		r[mask] = obfuscationReason(steps)
	}
	return r
}()

// obfuscationReason says which disguises the steps undid, "" for none.
func obfuscationReason(steps []string) string {
	var hidden []string
	for _, s := range steps {
		if l, ok := obfuscationSteps[s]; ok {
			hidden = append(hidden, l)
		}
	}
	if len(hidden) == 0 {
		return ""
	}
	return "obfuscated: " + strings.Join(hidden, ", ")
}

// compiledSuppression is a suppression with its term normalised.
type compiledSuppression struct {
	term, substance, site, listing string
	label                          string
}

func compileSuppressions(ss []precwatch.Suppression) []compiledSuppression {
	out := make([]compiledSuppression, 0, len(ss))
	for _, s := range ss {
		out = append(out, compiledSuppression{
			term:      Normalize(s.Term),
			substance: s.Substance,
			site:      s.Site,
			listing:   s.Listing,
			label:     "by " + s.By + ": " + s.Reason,
		})
	}
	return out
}

// suppress marks the matches an analyst's suppression covers: a term on a
// site (the term as matched or as written in the watchlist), or a whole
// listing (its identity, "id:..." or "url:...", or its URL), optionally
// for one substance only.
func (m *Matcher) suppress(ms []precwatch.Match, l precwatch.Listing) {
	if len(m.supps) == 0 {
		return
	}
	identity := l.Identity()
	for i := range ms {
		x := &ms[i]
		for _, s := range m.supps {
			if s.site != "" && s.site != l.Site || s.substance != "" && s.substance != x.Substance {
				continue
			}
			if s.listing != "" && s.listing != identity && s.listing != l.URL && s.listing != "url:"+l.URL {
				continue
			}
			if s.term != "" && s.term != Normalize(x.Term) && s.term != Normalize(x.Text) {
				continue
			}
			x.Suppressed = s.label
			break
		}
	}
}
