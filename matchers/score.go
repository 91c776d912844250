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
)

// obfuscationSteps are the steps that undo a seller's disguise, as opposed
// to ordinary spelling (case, accents, compatibility forms).
var obfuscationSteps = map[string]string{
	StepHomoglyph:        "homoglyphs",
	StepLeetspeak:        "leetspeak",
	StepJoinedSeparators: "spaced-out letters",
	StepInvisible:        "invisible characters",
}

// stepsOf names the normalisation steps that made span, as written, read
// as the term: decided from the span itself, so only hits pay for it.
func stepsOf(span string, ref termRef) []string {
	var mask int
	add := func(s string) { mask |= 1 << slices.Index(stepOrder, s) }
	ascii := true
	for i := 0; i < len(span); i++ {
		if span[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		latin, other := false, false
		for _, r := range span {
			switch {
			case r >= 0x2080 && r <= 0x209C || r >= 0x2070 && r <= 0x207F:
				add(StepSubscript)
			case unicode.Is(unicode.Cf, r):
				add(StepInvisible)
			case r >= 0xFF00 && r <= 0xFFEF || r >= 0xFB00 && r <= 0xFB4F || r >= 0x1D400 && r <= 0x1D7FF:
				add(StepNFKC)
			case unicode.Is(unicode.Latin, r):
				latin = true
			case unicode.IsLetter(r):
				other = true
			}
			if toLatin[unicode.ToLower(r)] != 0 && unicode.Is(unicode.Latin, firstLetter(ref.term)) {
				add(StepHomoglyph)
			}
		}
		if latin && other {
			add(StepHomoglyph)
		}
		if hasDiacritics(span) {
			add(StepDiacritics)
		}
	}
	upper, symbols, seps := false, false, 0
	for i := 0; i < len(span); i++ {
		c := span[i]
		switch {
		case 'A' <= c && c <= 'Z':
			upper = true
			if c == 'I' && i > 0 && isLower(span[i-1]) && i+1 < len(span) && isLower(span[i+1]) {
				add(StepHomoglyph)
			}
		case c == '@' || c == '!' || c == '$' || c == '|':
			symbols = true
		case '0' <= c && c <= '9':
			if ref.class == classWord && ref.kind != KindFormula && !strings.ContainsAny(ref.term, "0123456789") {
				symbols = true
			}
		case c < utf8.RuneSelf && !('a' <= c && c <= 'z'):
			seps++
		}
	}
	if upper || strings.ContainsRune(span, 'ß') {
		add(StepCasefold)
	}
	if symbols {
		add(StepLeetspeak)
	}
	if ref.class == classCAS {
		if !strings.Contains(span, "-") {
			add(StepCASNoHyphens)
		}
	} else if seps > countSeparators(ref.term)+1 {
		add(StepJoinedSeparators)
	}
	return stepSets[mask]
}

// stepOrder is the order steps are reported in.
var stepOrder = []string{StepNFKC, StepCasefold, StepDiacritics, StepHomoglyph, StepLeetspeak,
	StepJoinedSeparators, StepInvisible, StepSubscript, StepCASNoHyphens}

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

// scoreListing sets Score and Reasons of every match from the whole
// listing: regime, strength against the limit, amount, several distinct
// precursors, a dark-web source and obfuscation.
func (m *Matcher) scoreListing(ms []precwatch.Match, tor bool) {
	distinct := 0
	if len(ms) <= 16 {
		for i := range ms {
			if !slices.ContainsFunc(ms[:i], func(o precwatch.Match) bool { return o.Substance == ms[i].Substance }) {
				distinct++
			}
		}
	} else {
		seen := map[string]bool{}
		for _, x := range ms {
			seen[x.Substance] = true
		}
		distinct = len(seen)
	}
	// One backing array for every match's reasons, one for the formatted
	// strength texts.
	slab := make([]string, 0, 6*len(ms))
	var num []byte
	for i := range ms {
		nitrogen := false
		if si, ok := m.byID[ms[i].Substance]; ok {
			nitrogen = m.subs[si].nitrogenBasis
		}
		m := &ms[i]
		score := regimeBase[m.Regime]
		reasons := slab[len(slab) : len(slab) : len(slab)+6]
		if l := regimeLabel[m.Regime]; l != "" {
			reasons = append(reasons, l)
		}
		if m.ConcentrationPercent != nil && m.LimitPercent != nil && *m.LimitPercent > 0 {
			c, lim := *m.ConcentrationPercent, *m.LimitPercent
			unit := "% w/w"
			if nitrogen {
				unit = "% N"
			}
			ratio := c / lim
			num = strconv.AppendFloat(num[:0], c, 'f', -1, 64)
			num = append(num, unit...)
			if ratio > 1 {
				score += min(25, 10+8*math.Log2(ratio))
				num = append(num, ", "...)
				num = strconv.AppendFloat(num, ratio, 'f', 1, 64)
				num = append(num, "x the "...)
			} else {
				score -= 10
				num = append(num, ", at or under the "...)
			}
			num = strconv.AppendFloat(num, lim, 'f', -1, 64)
			num = append(num, "% limit"...)
			reasons = append(reasons, string(num))
		} else if m.ConcentrationPercent != nil {
			reasons = append(reasons, fmtNum(*m.ConcentrationPercent)+"%")
		}
		if q := m.Quantity; q != nil {
			if g := quantityGrams(q); g > 0 {
				score += quantityScore(g)
				reasons = append(reasons, q.Text)
			}
		}
		if distinct > 1 {
			score += min(15, 5*float64(distinct-1))
			reasons = append(reasons, precursorsReason(distinct))
		}
		if tor {
			score += 10
			reasons = append(reasons, "dark-web market")
		}
		if r := obfuscationReason(m.Steps); r != "" {
			score += 10
			reasons = append(reasons, r)
		}
		m.Score = math.Round(max(0, min(100, score))*10) / 10
		m.Reasons = reasons
		if len(slab)+len(reasons) <= cap(slab) {
			slab = slab[:len(slab)+len(reasons)]
		}
	}
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

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

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
