package matchers

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	ahocorasick "github.com/petar-dambovaliev/aho-corasick"

	"github.com/precwatch/precwatch"
)

// Term kinds reported in precwatch.Match.Kind.
const (
	KindName         = "name"
	KindSynonym      = "synonym"
	KindFormula      = "formula"
	KindCAS          = "cas"
	KindAbbreviation = "abbreviation"
)

// Tuning of the rules described in the package documentation.
const (
	// compoundMinLen is the shortest term (in characters) that may be the
	// first part of a German-style compound ("Ammoniumnitratdünger").
	compoundMinLen = 8
	// shortTermMax is the longest term (letters and digits) that is treated
	// as an ambiguous code whatever list it comes from ("VX", "HCN").
	shortTermMax = 3
	// strengthReach is how many tokens may separate a term from the
	// concentration stated for it.
	strengthReach = 6
	// tokenWindow is how many bytes around the candidates are tokenized
	// for strengths: well beyond strengthReach words.
	tokenWindow = 160
)

type termClass uint8

const (
	classWord termClass = iota // case-insensitive, word boundaries
	classAbbr                  // upper case + adjacent strength or quantity
	classCAS                   // digits, check digit verified
)

// termRef is one watchlist term behind an automaton pattern.
type termRef struct {
	sub   int // index into Matcher.subs
	term  string
	kind  string
	class termClass
}

// pattern is one automaton pattern and the terms it stands for.
type pattern struct {
	refs     []termRef
	compound bool // may be followed directly by letters
}

// compiledSubstance is what matching needs of a substance.
type compiledSubstance struct {
	id, name      string
	limit         *float64
	nitrogenBasis bool
	regimes       []precwatch.RegimeEntry
}

// Matcher finds watchlist substances in listings. It is immutable after
// Compile and safe for concurrent use.
type Matcher struct {
	w        *precwatch.Watchlist
	subs     []compiledSubstance
	patterns []pattern
	ac       ahocorasick.AhoCorasick
}

var _ precwatch.Matcher = (*Matcher)(nil)

// Watchlist returns the watchlist m was compiled from.
func (m *Matcher) Watchlist() *precwatch.Watchlist { return m.w }

// formulaRE is a chemical formula written with element symbols, counts,
// parentheses and hydrate dots ("KClO3", "Ca(NO3)2", "Mg(NO3)2·6H2O").
var formulaRE = regexp.MustCompile(`^(?:[A-Z][a-z]?[0-9]*|\(|\)[0-9]*|[·.][0-9]*)+$`)

// isFormula reports whether t reads as a chemical formula rather than a
// word: element symbols with a count, or at least three element symbols.
func isFormula(t string) bool {
	if !formulaRE.MatchString(t) {
		return false
	}
	upper := 0
	for _, r := range t {
		if unicode.IsDigit(r) {
			return true
		}
		if unicode.IsUpper(r) {
			upper++
		}
	}
	return upper >= 3
}

// alnumLen counts the letters and digits of a normalised term.
func alnumLen(norm string) int {
	return utf8.RuneCountInString(strings.ReplaceAll(norm, " ", ""))
}

// Compile validates w and builds its matcher: one Aho-Corasick automaton
// over the normalised forms of every term of every substance.
func Compile(w *precwatch.Watchlist) (*Matcher, error) {
	if w == nil {
		return nil, fmt.Errorf("matchers: compile: nil watchlist: %w", precwatch.ErrInvalid)
	}
	if probs := validate(w); len(probs) > 0 {
		msgs := make([]string, len(probs))
		for i, p := range probs {
			msgs[i] = p.path + ": " + p.msg
		}
		return nil, fmt.Errorf("matchers: compile: %s: %w", strings.Join(msgs, "; "), precwatch.ErrInvalid)
	}
	m := &Matcher{w: w}
	index := map[string]int{} // normalised pattern → index in m.patterns
	seen := map[string]bool{} // substance + pattern, to keep the first kind
	add := func(sub int, norm, term, kind string, class termClass) {
		if norm == "" {
			return
		}
		key := fmt.Sprint(sub, "\x00", norm)
		if seen[key] {
			return
		}
		seen[key] = true
		i, ok := index[norm]
		if !ok {
			i = len(m.patterns)
			index[norm] = i
			m.patterns = append(m.patterns, pattern{compound: utf8.RuneCountInString(norm) >= compoundMinLen})
		}
		m.patterns[i].refs = append(m.patterns[i].refs, termRef{sub: sub, term: term, kind: kind, class: class})
	}
	// addTerm classifies a name, synonym or abbreviation by its shape.
	addTerm := func(sub int, term, kind string) {
		n := Normalize(term)
		switch {
		case kind == KindAbbreviation || alnumLen(n) <= shortTermMax:
			add(sub, n, term, KindAbbreviation, classAbbr)
		case kind == KindSynonym && isFormula(term):
			add(sub, n, term, KindFormula, classWord)
		default:
			add(sub, n, term, kind, classWord)
		}
	}
	// A formula shared by several substances (isomers) identifies none.
	formulaOwners := map[string]map[int]bool{}
	for i, s := range w.Substances {
		for _, t := range append([]string{s.Formula}, s.Synonyms...) {
			if t != "" && isFormula(t) {
				n := Normalize(t)
				if formulaOwners[n] == nil {
					formulaOwners[n] = map[int]bool{}
				}
				formulaOwners[n][i] = true
			}
		}
	}
	for i, s := range w.Substances {
		m.subs = append(m.subs, compileSubstance(s))
		langs := make([]string, 0, len(s.Names))
		for lang := range s.Names {
			langs = append(langs, lang)
		}
		sort.Strings(langs)
		// English first so that Term shows the English name where equal.
		slices.SortStableFunc(langs, func(a, b string) int { return boolInt(b == "en") - boolInt(a == "en") })
		for _, lang := range langs {
			addTerm(i, s.Names[lang], KindName)
		}
		for _, syn := range s.Synonyms {
			if isFormula(syn) && len(formulaOwners[Normalize(syn)]) > 1 {
				continue
			}
			addTerm(i, syn, KindSynonym)
		}
		if f := s.Formula; f != "" && isFormula(f) && alnumLen(Normalize(f)) >= 4 && len(formulaOwners[Normalize(f)]) == 1 {
			add(i, Normalize(f), f, KindFormula, classWord)
		}
		for _, a := range s.Abbreviations {
			addTerm(i, a, KindAbbreviation)
		}
		if s.CAS != "" {
			add(i, Normalize(s.CAS), s.CAS, KindCAS, classCAS)
			add(i, strings.ReplaceAll(s.CAS, "-", ""), s.CAS, KindCAS, classCAS)
		}
	}
	// Every pattern starts with a space and every scanned text with one, so
	// the automaton reports terms at word starts only: far fewer hits for
	// short codes ("an" in "banana", "organic").
	// Terms that cannot start a compound end with a space too (texts are
	// scanned with one at the end), which spares hits inside longer words.
	pats := make([]string, len(m.patterns))
	for pat, i := range index {
		pats[i] = " " + pat
		if !m.patterns[i].compound {
			pats[i] += " "
		}
	}
	b := ahocorasick.NewAhoCorasickBuilder(ahocorasick.Opts{MatchKind: ahocorasick.StandardMatch, DFA: true})
	m.ac = b.Build(pats)
	return m, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func compileSubstance(s precwatch.Substance) compiledSubstance {
	c := compiledSubstance{id: s.ID, name: s.DisplayName(), regimes: s.Regimes}
	for _, r := range s.Regimes {
		if r.LimitPercent != nil && c.limit == nil {
			c.limit = r.LimitPercent
			c.nitrogenBasis = strings.Contains(strings.ToLower(r.LimitBasis), "nitrogen")
		}
	}
	return c
}

// severity picks the most severe of the substance's regimes.
func (c *compiledSubstance) severity(over *bool) (precwatch.Regime, precwatch.Severity) {
	var regime precwatch.Regime
	best := precwatch.SeverityNone
	for _, r := range c.regimes {
		sev := precwatch.SeverityNone
		switch {
		case r.Regime.IsCWC():
			sev = precwatch.SeverityCritical
		case r.Regime == precwatch.RegimeEUAnnexI:
			sev = precwatch.SeverityMedium
			if over != nil && *over {
				sev = precwatch.SeverityHigh
			}
		case r.Regime == precwatch.RegimeEUAnnexII:
			sev = precwatch.SeverityLow
		}
		if sev > best {
			best, regime = sev, r.Regime
		}
	}
	return regime, best
}

// candidate is a term occurrence before overlaps are resolved.
type candidate struct {
	ref        termRef
	start, end int // original text
	nlen       int // normalised length, for longest-wins
}

// Match reports every watchlist substance found in the listing's title and
// description, ordered by field (title first) then position.
func (m *Matcher) Match(l precwatch.Listing) []precwatch.Match {
	var out []precwatch.Match
	out = m.matchField(out, "title", l.Title)
	out = m.matchField(out, "description", l.Description)
	return out
}

func (m *Matcher) matchField(out []precwatch.Match, field, text string) []precwatch.Match {
	if text == "" {
		return out
	}
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	n := normalize(text, true, &sc.norm)
	sc.norm = n
	cands := sc.cands[:0]
	defer func() { sc.cands = cands[:0] }()
	hay := append(sc.hay[:0], ' ')
	hay = append(hay, n.text...)
	hay = append(hay, ' ')
	sc.hay = hay
	it := m.ac.IterOverlappingByte(hay)
	for hit := it.Next(); hit != nil; hit = it.Next() {
		// hay is n.text between two spaces: the pattern's leading space is
		// at hit.Start(), the term at [a, b) of n.text.
		p := &m.patterns[hit.Pattern()]
		a, b := hit.Start(), hit.End()-1
		if !p.compound {
			b-- // the pattern's closing space
		}
		compoundTail := b < len(n.text) && n.text[b] != ' '
		if compoundTail && (!p.compound || !startsWithLetter(n.text[b:]) || otherSubstanceTail(n.text[b:])) {
			continue
		}
		start := int(n.offs[a])
		last := int(n.offs[b-1])
		_, size := utf8.DecodeRuneInString(text[last:])
		end := last + size
		for _, ref := range p.refs {
			switch ref.class {
			case classCAS:
				if compoundTail || !casCheck(digitsOf(text[start:end])) {
					continue
				}
			case classAbbr:
				if compoundTail || !allUpper(text[start:end]) {
					continue
				}
			case classWord:
				if compoundTail && ref.kind == KindFormula {
					continue
				}
			}
			cands = append(cands, candidate{ref: ref, start: start, end: end, nlen: b - a})
		}
	}
	if len(cands) == 0 {
		return out
	}
	// Strengths and quantities are read only around the candidates.
	lo, hi := cands[0].start, cands[0].end
	for _, c := range cands[1:] {
		lo, hi = min(lo, c.start), max(hi, c.end)
	}
	toks := tokenizeRange(text, max(0, lo-tokenWindow), min(len(text), hi+tokenWindow), sc)
	// Abbreviations count only next to a strength or quantity.
	strengths := findStrengths(toks)
	cands = slices.DeleteFunc(cands, func(c candidate) bool {
		return c.ref.class == classAbbr && !nextToStrengthOrQuantity(toks, strengths, c.start, c.end)
	})
	// Negated terms ("acetone-free", "sans acétone") and terms turned into
	// another compound by a metal before them ("ceric ammonium nitrate",
	// "sodium hydrogen sulfate") name nothing on the list. Longest-wins runs
	// first so that a longer term holding the qualifier survives.
	accepted := resolveOverlaps(cands)
	accepted = slices.DeleteFunc(accepted, func(c candidate) bool {
		return c.ref.class != classCAS && (negated(toks, c.start, c.end) || qualified(toks, c.start))
	})
	for _, c := range accepted {
		sub := &m.subs[c.ref.sub]
		match := precwatch.Match{
			Substance: sub.id,
			Name:      sub.name,
			Term:      c.ref.term,
			Kind:      c.ref.kind,
			Field:     field,
			Start:     c.start,
			End:       c.end,
			Text:      text[c.start:c.end],
		}
		if v, ok := strengthFor(toks, strengths, accepted, c, sub.nitrogenBasis); ok {
			match.ConcentrationPercent = &v
			if sub.limit != nil {
				lim := *sub.limit
				over := v > lim
				match.LimitPercent = &lim
				match.OverLimit = &over
			}
		}
		if match.LimitPercent == nil && sub.limit != nil {
			lim := *sub.limit
			match.LimitPercent = &lim
		}
		match.Regime, match.Severity = sub.severity(match.OverLimit)
		out = append(out, match)
	}
	return out
}

// acidTails are compound endings that make a different substance of the
// term before them: the acid of a salt ("Salpeter" + "zuur" is nitric acid,
// not saltpetre), or its ester or ether.
// A "-frei"/"-free" ending negates the term. Endings shorter than
// compoundMinTail that are not inflections are suffixes that make another
// compound ("thiodiglycol" + "ic").
var acidTails = []string{"saure", "zuur", "syre", "acid", "ester", "ether", "ather", "frei", "free"}

// inflections are endings a compound may have without changing substance.
var inflections = map[string]bool{"s": true, "es": true, "e": true, "en": true, "n": true}

const compoundMinTail = 4

func otherSubstanceTail(b []byte) bool {
	end := 0
	for end < len(b) && b[end] != ' ' {
		end++
	}
	tail := string(b[:end])
	if utf8.RuneCountInString(tail) < compoundMinTail && !inflections[tail] {
		return true
	}
	for _, t := range acidTails {
		if strings.HasPrefix(tail, t) {
			return true
		}
	}
	return false
}

func startsWithLetter(b []byte) bool {
	r, _ := utf8.DecodeRune(b)
	return unicode.IsLetter(r)
}

func digitsOf(s string) []byte {
	d := make([]byte, 0, 12)
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			d = append(d, s[i]-'0')
		}
	}
	return d
}

// allUpper reports whether every letter of s is upper case (and there is one).
func allUpper(s string) bool {
	letters := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			if !unicode.IsUpper(r) {
				return false
			}
			letters++
		}
	}
	return letters > 0
}

// resolveOverlaps keeps the longest of overlapping candidates; candidates
// with the very same span (one term shared by several substances) are all
// kept. The result is ordered by start, then substance.
func resolveOverlaps(cands []candidate) []candidate {
	slices.SortStableFunc(cands, func(a, b candidate) int {
		if a.nlen != b.nlen {
			return b.nlen - a.nlen
		}
		return a.start - b.start
	})
	var kept []candidate
	for _, c := range cands {
		ok := true
		for _, k := range kept {
			if c.start < k.end && k.start < c.end && (c.start != k.start || c.end != k.end) {
				ok = false
				break
			}
			if c.start == k.start && c.end == k.end && c.ref.sub == k.ref.sub {
				ok = false // the same substance twice by two terms
				break
			}
		}
		if ok {
			kept = append(kept, c)
		}
	}
	slices.SortStableFunc(kept, func(a, b candidate) int {
		if a.start != b.start {
			return a.start - b.start
		}
		return a.ref.sub - b.ref.sub
	})
	return kept
}

// nounFollows reports whether a word other than a unit or a strength
// qualifier follows s, making s that word's strength.
func nounFollows(toks []token, s strength) bool {
	next := s.last + 1
	return next < len(toks) && toks[next].kind == tokWord && !quantityUnits[toks[next].word] && !strengthQualifiers[toks[next].word]
}

// listConnectors may join a list of strengths of one substance.
var listConnectors = map[string]bool{
	"and": true, "or": true, "und": true, "oder": true, "et": true, "ou": true, "y": true, "o": true,
	"e": true, "en": true, "of": true, "to": true, "also": true, "as": true, "well": true, "in": true,
}

// strengthQualifiers may follow a strength of the substance itself.
var strengthQualifiers = map[string]bool{
	"w": true, "v": true, "wt": true, "purity": true, "pure": true, "grade": true, "solution": true,
	"technical": true, "tech": true, "food": true, "reagent": true, "stabilised": true, "stabilized": true,
	"aqueous": true, "conc": true, "concentrate": true, "concentrated": true, "min": true, "max": true,
	"each": true, "strength": true, "assay": true, "and": true, "or": true,
}

// negators are words that, directly before a term, say the product lacks it.
var negators = map[string]bool{
	"no": true, "without": true, "non": true, "zero": true, "sans": true, "ohne": true, "kein": true,
	"keine": true, "sin": true, "senza": true, "zonder": true, "bez": true, "без": true, "nicht": true,
}

// negated reports "X-free", "X free", "free of X", "without X" and the like.
func negated(toks []token, start, end int) bool {
	before := tokenAt(toks, start) - 1
	if before >= 0 && toks[before].kind == tokWord && negators[toks[before].word] {
		return true
	}
	if before >= 1 && toks[before].kind == tokWord && (toks[before].word == "of" || toks[before].word == "from") &&
		toks[before-1].kind == tokWord && toks[before-1].word == "free" {
		return true
	}
	after := tokenAt(toks, end)
	if after < len(toks) && toks[after].kind == tokPunct && toks[after].word == "-" {
		after++
	}
	if after < len(toks) && toks[after].kind == tokWord {
		switch toks[after].word {
		case "free", "frei", "libre", "exempt":
			return true
		}
	}
	return false
}

// cationWords are metals and cations that, written directly before a term,
// make it part of the name of another salt.
var cationWords = map[string]bool{
	"sodium": true, "potassium": true, "lithium": true, "calcium": true, "magnesium": true, "barium": true,
	"strontium": true, "ceric": true, "cerium": true, "cerous": true, "copper": true, "cupric": true, "cuprous": true,
	"iron": true, "ferrous": true, "ferric": true, "zinc": true, "silver": true, "lead": true, "nickel": true,
	"cobalt": true, "aluminium": true, "aluminum": true, "natrium": true, "kalium": true, "sodique": true,
	"potassique": true,
}

// qualified reports whether the word directly before start (no punctuation
// between) is a cation that makes the term part of another compound name.
func qualified(toks []token, start int) bool {
	before := tokenAt(toks, start) - 1
	return before >= 0 && toks[before].kind == tokWord && cationWords[toks[before].word]
}

// tokenSpan returns the index of the first token at or after off.
func tokenAt(toks []token, off int) int {
	return sort.Search(len(toks), func(i int) bool { return toks[i].start >= off })
}

// nextToStrengthOrQuantity reports whether a strength or a quantity is
// written directly before or after the span (punctuation aside).
func nextToStrengthOrQuantity(toks []token, strengths []strength, start, end int) bool {
	after := tokenAt(toks, end)
	for after < len(toks) && toks[after].kind == tokPunct && strings.ContainsAny(toks[after].word, ":-(@=/,") {
		after++
	}
	before := tokenAt(toks, start) - 1
	for before >= 0 && toks[before].kind == tokPunct && strings.ContainsAny(toks[before].word, ":-)(,") {
		before--
	}
	if isQuantityAt(toks, after) || before >= 0 && isQuantityEndingAt(toks, before) {
		return true
	}
	for _, s := range strengths {
		if s.first == after || s.last == before {
			return true
		}
	}
	return false
}

// strengthFor finds the strength stated for candidate c: the nearest
// strength within strengthReach words in the same sentence that is not
// nearer to a match of another substance nor separated from c by one; a
// list of strengths following it ("3%, 12% and 35%") counts by its highest.
func strengthFor(toks []token, strengths []strength, accepted []candidate, c candidate, nitrogenBasis bool) (float64, bool) {
	if len(strengths) == 0 {
		return 0, false
	}
	// dist counts the words between match o and strength s; -1 when they
	// are in different sentences, overlap or are too far apart.
	dist := func(o candidate, s strength) int {
		var from, to int
		if first, after := tokenAt(toks, o.start), tokenAt(toks, o.end); s.first >= after {
			from, to = after, s.first
		} else if s.last < first {
			from, to = s.last+1, first
		} else {
			return -1
		}
		words := 0
		for i := from; i < to; i++ {
			switch toks[i].kind {
			case tokBreak:
				return -1
			case tokWord, tokNum:
				words++
			}
		}
		if words > strengthReach {
			return -1
		}
		return words
	}
	owns := func(s strength, d int) bool {
		cAfter := toks[s.first].start >= c.end
		for _, o := range accepted {
			if o.ref.sub == c.ref.sub {
				continue
			}
			// Another substance written between c and s takes it.
			if cAfter && o.start >= c.end && o.end <= toks[s.first].start ||
				!cAfter && o.start >= toks[s.last].end && o.end <= c.start {
				return false
			}
			do := dist(o, s)
			if do < 0 {
				continue
			}
			oAfter := toks[s.first].start >= o.end
			if do < d || do == d && oAfter && !cAfter {
				return false
			}
		}
		return true
	}
	// The nearest owned strength before and after the term.
	before, after := -1, -1
	dBefore, dAfter := strengthReach+1, strengthReach+1
	for i, s := range strengths {
		d := dist(c, s)
		if d < 0 || !owns(s, d) {
			continue
		}
		if toks[s.first].start >= c.end {
			if d < dAfter {
				after, dAfter = i, d
			}
		} else if d <= dBefore {
			before, dBefore = i, d
		}
	}
	best := after
	switch {
	case before < 0:
	case after < 0 || dBefore < dAfter:
		best = before
	case dBefore == dAfter && nounFollows(toks, strengths[after]):
		// "10% NM, 18% oil": the strength after belongs to "oil".
		best = before
	}
	if best < 0 {
		return 0, false
	}
	// Follow a list of strengths after the chosen one in the same sentence
	// ("3%, 12% and 35%"), joined by connectors or quantities only; a
	// strength followed by another noun ("18% oil") belongs to that noun.
	chain := []strength{strengths[best]}
	for i := best + 1; i < len(strengths); i++ {
		prev, next := strengths[i-1], strengths[i]
		joined := true
		for t := prev.last + 1; t < next.first && joined; t++ {
			switch toks[t].kind {
			case tokBreak:
				joined = false
			case tokWord:
				joined = listConnectors[toks[t].word] || quantityUnits[toks[t].word]
			}
		}
		if nounFollows(toks, next) {
			joined = false
		}
		if !joined || !owns(next, dist(c, next)) {
			break
		}
		chain = append(chain, next)
	}
	// Where the limit is on nitrogen, a stated "% N" beats a purity.
	if nitrogenBasis && slices.ContainsFunc(chain, func(s strength) bool { return s.kind == strNitrogen }) {
		chain = slices.DeleteFunc(chain, func(s strength) bool { return s.kind != strNitrogen })
	}
	var v float64
	ok := false
	for _, st := range chain {
		if w, ok2 := percentOf(st, nitrogenBasis); ok2 && (!ok || w > v) {
			v, ok = w, true
		}
	}
	return v, ok
}
