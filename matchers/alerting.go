package matchers

import (
	"math"
	"slices"
	"unicode/utf8"

	"github.com/precwatch/precwatch"
)

// One strength per substance per listing: a seller states it once, often
// in the title, and names the substance again without it. A match with no
// strength of its own takes the one stated for the same substance
// elsewhere in the listing (the highest, when several are), so that the
// listing is judged against the limit once, not alerted for the mention
// that lacks it.
func (m *Matcher) shareStrengths(staged []staged) {
	// The usual listing names a few substances: a linear scan per match
	// without a strength, over the distinct substances with one.
	type stated struct {
		sub    int
		conc   float64
		stated string
	}
	var buf [8]stated
	best := buf[:0]
	missing := false
	for i := range staged {
		st := &staged[i]
		if !st.hasConc {
			missing = true
			continue
		}
		k := slices.IndexFunc(best, func(b stated) bool { return b.sub == st.ref.sub })
		switch {
		case k < 0:
			best = append(best, stated{st.ref.sub, st.conc, st.stated})
		case st.conc > best[k].conc:
			best[k].conc, best[k].stated = st.conc, st.stated
		}
	}
	if !missing || len(best) == 0 {
		return
	}
	for i := range staged {
		st := &staged[i]
		if st.hasConc {
			continue
		}
		k := slices.IndexFunc(best, func(b stated) bool { return b.sub == st.ref.sub })
		if k < 0 {
			continue
		}
		sub := &m.subs[st.ref.sub]
		st.conc, st.stated, st.hasConc, st.shared = best[k].conc, best[k].stated, true, true
		st.over = sub.limit != nil && st.conc > *sub.limit
	}
}

// loneStrength reads a listing that names one substance, never beside a
// strength, for a strength stated apart from the name:
//   - its specification's (a strength headed by a word for purity,
//     concentration, content or nitrogen, "Concentration: 3 % / 6 % /
//     9 %", "Массовая доля: 92,5 % · 94 %", "Azote total : 34,4 %", the
//     list after such a head included, and a nitrogen content, "34,5 %
//     N", for a substance whose limit is on nitrogen), the highest when
//     it offers several, whether over the limit or not: a product page
//     states its strength in a field of its own, away from the name, and
//     among figures that are not strengths (ratings, stock, discounts);
//   - else its only strength, when it states exactly one (beside a clipped
//     name the matcher did not take, or alone: "K-perc, 99.2% assay",
//     "34-0-0, i.e. 34% N"), applied only when it puts the substance over
//     its limit: a stray figure under the limit must not silence the
//     alert that an unknown strength raises.
func (m *Matcher) loneStrength(sc *scratch, l precwatch.Listing) {
	sub := sc.staged[0].ref.sub
	for i := range sc.staged {
		if st := &sc.staged[i]; st.hasConc || st.emptyCell || st.ref.sub != sub {
			return
		}
	}
	s := &m.subs[sub]
	if s.limit == nil || len(l.Title)+len(l.Description) > loneStrengthMaxBytes {
		return
	}
	// matchField read strengths only around the names; read the listing
	// whole, now that the buffers are free, for its distinct strengths.
	var lone strength
	loneV, n := 0.0, 0
	spec, specOK := 0.0, false
	for _, text := range [2]string{l.Title, l.Description} {
		sc.arena, sc.words, sc.nums, sc.spelled = sc.arena[:0], sc.words[:0], sc.nums[:0], false
		toks := tokenizeRange(text, 0, len(text), sc.toks[:0], sc)
		toks = finishTokensAndNumbers(toks, sc)
		sc.toks = toks
		sc.strengths = findStrengths(text, toks, sc.nums, sc.strengths[:0])
		listed := specNumbers(toks, sc.strengths, sc.specBuf[:0])
		sc.specBuf = listed
		for _, x := range sc.strengths {
			headed := slices.Contains(listed, int32(x.first)) || x.kind == strNitrogen && s.nitrogenBasis
			if v, ok := percentOf(x, s); headed && ok && (x.kind != strNitrogen || v <= ammoniumNitrateN) {
				spec, specOK = max(spec, v), true
			}
			if !headed && x.first > 0 && otherChemicalHead(toks, x.first-1) {
				continue // another chemical's ("Hydrochloric acid 33 %" among also-bought)
			}
			x.first, x.last = 0, 0 // token indexes mean nothing across fields
			// One strength written two ways ("30 volume (9 %)") is one.
			v, ok := percentOf(x, s)
			if n == 0 || x != lone && (!ok || math.Abs(v-loneV) > sameStrength) {
				lone, loneV, n = x, v, n+1
			}
		}
	}
	if specOK {
		for i := range sc.staged {
			st := &sc.staged[i]
			st.conc, st.hasConc, st.over, st.spec = spec, true, spec > *s.limit, true
		}
		return
	}
	v, ok := percentOf(lone, s)
	if n != 1 || !ok {
		return
	}
	if v <= *s.limit {
		// Under the limit, only a formulation's: every mention of the
		// substance is in an ingredient list, and the listing's one
		// strength is the product's ("Developer 30 vol", "Ingredients:
		// Aqua, Hydrogen Peroxide, ...").
		for _, st := range sc.staged {
			text := l.Title
			if st.field != "title" {
				text = l.Description
			}
			if !inIngredientList(text, st.start) {
				return
			}
		}
	}
	for i := range sc.staged {
		st := &sc.staged[i]
		st.conc, st.hasConc, st.over, st.lone = v, true, v > *s.limit, true
	}
}

// sameStrength is how far apart two readings of one strength may be (30
// vol is 9 % by the rounded factor the eval README states).
const sameStrength = 0.5

// ingredientHeads head a product's ingredient list.
// A bundle's "contents" is no formulation.
var ingredientHeads = foldedSetOf(`ingredients ingredient inci composition
inhaltsstoffe zusammensetzung ingrédients ingredientes composición ingredienti composizione
ingrediënten samenstelling skład sklad состав sostav`)

// inIngredientList reports whether text[at:] names a substance inside an
// ingredient list: after a head of ingredientHeads and its colon, with no
// sentence or field break between.
func inIngredientList(text string, at int) bool {
	for i := at - 1; i >= max(0, at-ingredientListReach); i-- {
		switch c := text[i]; {
		case c == '\n' || c == '|' || c == '!' || c == '?' || c == ';':
			return false
		case c == '.' && (i+1 == len(text) || text[i+1] == ' '):
			return false // a sentence's end ("Nr. 2" stands before the colon)
		case c == ':':
			j := i
			for j > 0 && text[j-1] == ' ' {
				j--
			}
			k := j
			for k > 0 {
				r, size := utf8.DecodeLastRuneInString(text[:k])
				if notWordRune(r) {
					break
				}
				k -= size
			}
			var buf [64]byte
			return k < j && j-k <= len(buf) && ingredientHeads[string(appendFolded(buf[:0], text[k:j]))]
		}
	}
	return false
}

// ingredientListReach bounds how far back an ingredient list's head is
// looked for.
const ingredientListReach = 240

// specNumbers appends the token indexes of the numbers a specification
// heads: after a word for purity, concentration or content ("Concentration:
// 3 % / 6 % / 9 % (select)", "Choose strength: 37 % (battery) · 96 %
// (drain)", "Массовая доля: 92,5 % · 94 %"), up to the end of the sentence
// or the first word that is not a strength's, a connector or in
// parentheses.
func specNumbers(toks []token, strengths []strength, out []int32) []int32 {
	inStrength := func(k int) bool {
		return slices.ContainsFunc(strengths, func(x strength) bool { return x.first <= k && k <= x.last })
	}
	for i := 0; i < len(toks); i++ {
		if !specHeadWord(toks, i) {
			continue
		}
		depth := 0
	list:
		for k := i + 1; k < len(toks); k++ {
			t := &toks[k]
			switch t.kind {
			case tokBreak:
				break list
			case tokNum:
				out = append(out, int32(k))
			case tokPunct:
				switch t.word {
				case "(":
					depth++
				case ")":
					depth = max(0, depth-1)
				}
			case tokWord:
				if depth == 0 && t.flags&(fConnector|fPurity) == 0 && !inStrength(k) && !listed(toks, k, minMax) {
					break list
				}
			}
			i = k
		}
	}
	return out
}

// otherChemicalHead reports whether toks[k], right before a strength, ends
// a chemical's name ("Hydrochloric acid 33 %", "Sodium hydroxide 50 %"): in
// a listing whose one substance is never beside a strength, that strength
// is another chemical's, not a figure stated apart for it.
func otherChemicalHead(toks []token, k int) bool {
	t := &toks[k]
	return t.kind == tokWord && (chemicalClassWords[t.word] || t.flags&fCation != 0)
}

// chemicalClassWords end a chemical's name in the languages listings use.
var chemicalClassWords = foldedSetOf(`acid acids hydroxide chloride oxide sulfate sulphate carbonate phosphate nitrite permanganate
acide hydroxyde chlorure oxyde sulfate carbonate
saure hydroxid chlorid oxid sulfat carbonat karbonat
acido hidroxido cloruro oxido sulfato carbonato idrossido ossido solfato
zuur hydroxide chloride
kwas wodorotlenek chlorek tlenek siarczan weglan
кислота гидроксид хлорид оксид сульфат карбонат kislota`)

// minMax may stand between a specification's head and its number
// ("Assay min. 99 %", "Azote total : 34,4 %").
var minMax = foldedSetOf(`min max minimum maximum ca approx total totale gesamt
mind mindestens höchstens maximal minimal au moins plus almeno massimo minimo al menos máximo mínimo
minimaal maximaal minstens hoogstens ten minste co najmniej najwyżej maks не менее более ne menee bolee
at least up to circa environ etwa ongeveer około около ok ок`)

// specHeadWord reports whether toks[i] heads a specification's strength:
// a word for purity or concentration, or for content ("Содержание: 99 %").
func specHeadWord(toks []token, i int) bool {
	t := &toks[i]
	return t.kind == tokWord && (t.flags&fPurity != 0 || t.flags&fContent != 0 && !has(toks, i-1, fNotStrength) || nitrogenHeads[t.word])
}

// nitrogenHeads head a fertiliser's nitrogen content ("Total nitrogen
// 33.5 % N"), which is ammonium nitrate's strength.
var nitrogenHeads = foldedSetOf(`nitrogen azote stickstoff nitrogeno azoto azot stikstof азот азота`)

// loneStrengthMaxBytes bounds the listings loneStrength reads whole: a
// listing longer than a page of text is a catalogue, whose strengths are
// not one product's.
const loneStrengthMaxBytes = 8 << 10

// The alerting rule, as each match states it (Reasons, last): a match
// alerts unless a strength at or under its regime's limit is stated for it
// (then it is reported by match, and kept with the listing, but raises no
// alert) or an analyst suppressed it (Match.Suppressed says so). It is
// precwatch.Match.Alertable.
const (
	ruleOver      = "alerts: over the limit"
	ruleOverElse  = "alerts: over the limit (strength stated elsewhere in the listing)"
	ruleOverLone  = "alerts: over the limit (the listing's only strength, stated apart from the name)"
	ruleNoStr     = "alerts: no strength stated"
	ruleNoLimit   = "alerts: the regime sets no limit"
	ruleUnder     = "no alert: at or under the limit (reported only)"
	ruleUnderElse = "no alert: at or under the limit, as stated elsewhere in the listing (reported only)"
	ruleOverSpec  = "alerts: over the limit (as the listing's specification states)"
	ruleUnderSpec = "no alert: at or under the limit, as the listing's specification states (reported only)"
	// The product's one strength, its ingredient list naming the substance.
	ruleUnderIngredient = "no alert: at or under the limit, the strength of the product whose ingredients name it (reported only)"
)

// alertRule says why m alerts or not, before suppressions.
func alertRule(m *precwatch.Match, shared, lone, spec bool) string {
	switch {
	case m.Severity == precwatch.SeverityNone:
		return ""
	case m.LimitPercent == nil:
		return ruleNoLimit
	case m.OverLimit == nil:
		return ruleNoStr
	case spec && *m.OverLimit:
		return ruleOverSpec
	case spec:
		return ruleUnderSpec
	case *m.OverLimit && lone:
		return ruleOverLone
	case lone:
		return ruleUnderIngredient
	case *m.OverLimit && shared:
		return ruleOverElse
	case *m.OverLimit:
		return ruleOver
	case shared:
		return ruleUnderElse
	}
	return ruleUnder
}
