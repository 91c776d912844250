package matchers

import (
	"bytes"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/precwatch/precwatch"
)

// Term kinds reported in precwatch.Match.Kind.
const (
	KindName         = "name"
	KindSynonym      = "synonym"
	KindFormula      = "formula"
	KindCAS          = "cas"
	KindEC           = "ec" // EC (EINECS/ELINCS) number
	KindUN           = "un" // UN dangerous-goods number, written with its "UN"
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
	// distributiveReach is a list strength's ("KClO3, KClO4 and NaClO3,
	// 1 kg each, all 99%"): a sentence's list, not the whole field.
	distributiveReach = 16
	// tokenWindow is how many bytes around the candidates are tokenized
	// for strengths: well beyond strengthReach words.
	tokenWindow = 160
)

type termClass uint8

const (
	classWord    termClass = iota // case-insensitive, word boundaries
	classAbbr                     // upper case + adjacent strength or quantity
	classCAS                      // digits, check digit verified
	classID                       // an EC or UN number: exact, never part of a compound; a UN number's prefix in capitals
	classExclude                  // a phrase that names something else: wins as the longest, then names nothing
	classPair                     // a word of a two-word EU name (pairs.go): names nothing alone
)

// placardWords are goods printed with a UN number: "UN 1942 labels" sells
// labels, not ammonium nitrate.
var placardWords = foldedSetOf(`label labels placard placards sign signs sticker stickers decal decals plate plates
etikett etiketten aufkleber schild schilder warntafel etiquette etiquettes plaque plaques autocollant autocollants
etiqueta etiquetas pegatina pegatinas placa placas cartel carteles etichetta etichette adesivo adesivi targa
etiket etiketten sticker stickers bord borden naklejka naklejki etykieta etykiety tablica tablice znak znaki
этикетка этикетки наклейка наклейки табличка таблички знак знаки`)

// yearLike reports a UN number term ("UN 2014") whose number could be a
// year.
func yearLike(term string) bool {
	n, err := strconv.Atoi(strings.TrimPrefix(term, "UN "))
	return err == nil && n >= 1900 && n <= 2099
}

// numberLabelled reports a UN number written as one ("UN No. 2014",
// "UN-nummer 1942", "N° ONU 1942", "№ ООН 1942"), which no year is.
func numberLabelled(text string, c candidate) bool {
	span := strings.ToLower(text[c.start:c.end])
	if strings.ContainsAny(span, "#№°º") || strings.Contains(span, " no") || strings.Contains(span, "nr") || strings.Contains(span, "num") {
		return true
	}
	before := strings.ToLower(strings.TrimRight(text[max(0, c.start-8):c.start], " "))
	return strings.HasSuffix(before, "°") || strings.HasSuffix(before, "º") || strings.HasSuffix(before, "№") ||
		strings.HasSuffix(before, "no.") || strings.HasSuffix(before, "nr.") || strings.HasSuffix(before, "#")
}

// hazardClassWords, before a number, state a dangerous-goods class
// ("class 5.1", "Klasse 8", "класс 5.1").
var hazardClassWords = foldedSetOf(`class klasse classe clase klasa класс kl`)

// hazardClassNear reports a dangerous-goods class among the tokens around
// the candidates.
func hazardClassNear(toks []token) bool {
	for i := 0; i+1 < len(toks); i++ {
		if listed(toks, i, hazardClassWords) && toks[i+1].kind == tokNum {
			return true
		}
	}
	return false
}

// otherCASAfter reports a valid CAS number of a compound off the watchlist
// after abbreviation c in its list item ("DMP plasticiser 99.5 % — CAS
// 131-11-3" is dimethyl phthalate): the code names that compound.
func (m *Matcher) otherCASAfter(text string, toks []token, c candidate) bool {
	for i := c.tokAfter; i+4 < len(toks) && i < c.tokAfter+12; i++ {
		t := toks[i]
		if t.kind == tokBreak || t.kind == tokPunct && strings.ContainsAny(t.word, ",;|+/") {
			return false
		}
		if t.kind != tokNum || toks[i+1].word != "-" || toks[i+2].kind != tokNum || toks[i+3].word != "-" || toks[i+4].kind != tokNum {
			continue
		}
		cas := text[t.start:toks[i+4].end]
		if ValidCAS(cas) && !m.listedCAS[strings.ReplaceAll(cas, "-", "")] {
			return true
		}
	}
	return false
}

// otherItemBetween reports another item of a list between tokens from and
// to, which takes a strength after it: a registry number ("UN 1489 — 25 kg
// | UN 1496 sodium chlorite 80 %") or, after a list separator, a
// capitalised word that is no unit, qualifier or strength word
// ("Nitromethaan, 5 L | Ethanol 96 %").
func otherItemBetween(text string, toks []token, from, to int) bool {
	sep := false
	for i := from; i < to && i < len(toks); i++ {
		t := toks[i]
		switch t.kind {
		case tokPunct:
			sep = sep || strings.ContainsAny(t.word, ",;|")
		case tokWord:
			if listed(toks, i, idKindWords) && i+1 < to && toks[i+1].kind == tokNum {
				return true
			}
			r, _ := utf8.DecodeRuneInString(text[t.start:])
			if sep && unicode.IsUpper(r) && t.flags&(fUnit|fQualifier|fPurity|fPercent|fConnector|fNitrogen|fVolume|fSolution|fNotStrength) == 0 {
				return true
			}
		}
	}
	return false
}

// sharedHeadOf returns the head a normalised two-word name shares with
// the names listed before it ("nitrate" of "sodium nitrate"), and the
// head it shares with the words listed after it ("saletra" of "saletra
// amonowa, wapniowa", "kwas" of "kwas azotowy i siarkowy", "potassium" of
// "potassium chlorate and perchlorate"), or the head a Romance name "X
// di/de Y" shares with the elements listed after it.
func sharedHeadOf(norm string) (last, first string) {
	ws := strings.Split(norm, " ")
	switch {
	case len(ws) == 2 && len(ws[0]) >= 4 && len(ws[1]) >= 4:
		if molecularFirst[ws[0]] {
			return ws[1], ""
		}
		return ws[1], ws[0]
	case len(ws) == 3 && (ws[1] == "di" || ws[1] == "de") && len(ws[0]) >= 4:
		return "", ws[0] + " " + ws[1]
	}
	return "", ""
}

// molecularFirst are first words of names that no list shares: "hydrogen
// peroxide and cyanide" is not hydrogen cyanide.
var molecularFirst = foldedSetOf(`hydrogen wasserstoff waterstof hydrogene idrogeno hidrogeno wodoru водорода`)

// headConnectors join names that share a head: "potassium and sodium
// nitrate", "nitrato di potassio e di sodio".
var headConnectors = foldedSetOf(`and or und oder et ou y e o i en of и или`)

// sharedHeads adds the names a list shares one head noun with a named
// term ("Trimethyl, triethyl, dimethyl and diethyl phosphite", "potassium
// and sodium nitrate"; "nitrato di potassio e di sodio"): each listed word
// that makes a watchlist name with the head names that substance, at the
// word. Words already part of a match are left alone.
func (m *Matcher) sharedHeads(toks []token, accepted []candidate) []candidate {
	n := len(accepted)
	taken := func(k int) bool {
		return slices.ContainsFunc(accepted, func(o candidate) bool { return o.start < toks[k].end && toks[k].start < o.end })
	}
	add := func(k int, name string) bool {
		i, ok := m.patIndex[name]
		if !ok || taken(k) {
			return false
		}
		added := false
		for r := range m.patterns[i].refs {
			ref := &m.patterns[i].refs[r]
			if ref.class != classWord || negated(toks, k, k+1) {
				continue
			}
			accepted = append(accepted, candidate{ref: ref, start: toks[k].start, end: toks[k].end, nlen: len(name), tokFirst: k, tokAfter: k + 1})
			added = true
		}
		return added
	}
	joins := func(k int) bool {
		t := toks[k]
		return t.kind == tokPunct && (t.word == "," || t.word == "/" || t.word == "&") || listed(toks, k, headConnectors)
	}
	for i := range n {
		c := accepted[i]
		// The join next to the named term is a word ("and", "e"): a comma
		// alone may end another item ("Calcium, ammonium nitrate").
		if h := c.ref.headLast; h != "" && c.tokAfter == c.tokFirst+2 && c.tokFirst >= 2 && toks[c.tokFirst-1].kind == tokWord {
			// Back over "A, B and " before "C head".
			for k := c.tokFirst - 1; k >= 1 && joins(k); {
				k--
				for k >= 1 && toks[k].kind == tokPunct && toks[k].word == "-" { // "Kalium- und"
					k--
				}
				if toks[k].kind != tokWord || !add(k, toks[k].word+" "+h) {
					break
				}
				k--
			}
		}
		if h := c.ref.headFirst; h != "" && c.tokAfter < len(toks) && headFirstJoin(toks, c, h) {
			// On over " e di B, C" after "head di A", or " i B, C" after
			// "head A"; each item may state its own amount or strength
			// ("Селитра: аммиачная 50 кг, кальциевая 25 кг").
			for k := skipAmount(toks, c.tokAfter); k+1 < len(toks) && joins(k); {
				k++
				if toks[k].kind == tokWord && (toks[k].word == "di" || toks[k].word == "de" || toks[k].word == "d") && k+1 < len(toks) {
					k++
				}
				if toks[k].kind != tokWord || !add(k, h+" "+toks[k].word) {
					break
				}
				k = skipAmount(toks, k+1)
			}
		}
	}
	if len(accepted) > n {
		sortByStart(accepted)
	}
	return accepted
}

// headFirstJoin reports whether the list after c may share its first
// word h: a connector word right after it ("saletra amonowa i wapniowa"),
// or an amount then a comma when c is written head first
// ("Saletra: amonowa 50 kg, wapniowa"), not when the name was read in
// another order ("perchlorat de sodium 99 %, nitrate" is no sodium
// nitrate).
func headFirstJoin(toks []token, c candidate, h string) bool {
	if toks[c.tokAfter].kind == tokWord {
		return true
	}
	if skipAmount(toks, c.tokAfter) == c.tokAfter {
		return false
	}
	head, _, _ := strings.Cut(h, " ")
	return toks[c.tokFirst].kind == tokWord && toks[c.tokFirst].word == head
}

// skipAmount returns the first token from k on that is not part of an
// amount or strength ("50 кг", "34,4 %", "2 x 25 kg").
func skipAmount(toks []token, k int) int {
	for k < len(toks) && (toks[k].kind == tokNum || toks[k].kind == tokPct ||
		toks[k].kind == tokWord && toks[k].flags&fUnit != 0 || k > 0 && toks[k-1].kind == tokNum && toks[k].kind == tokWord && toks[k].word == "x") {
		k++
	}
	return k
}

// idKindWords name a registry ("CAS 67-64-1", "EINECS 231-765-0");
// idNumberWords stand between it and the number ("CAS No.", "EG-Nr.").
var (
	idKindWords   = foldedSetOf(`cas ec eg ce we einecs elincs un onu оон`)
	idNumberWords = foldedSetOf(`no nr nummer number numero n nº номер`)
)

// idNegated reports a registry number negated before its registry's name
// ("no CAS 67-64-1", "ohne CAS 7722-84-1", "sans N° ONU 1090"); "CAS No.
// 7722-84-1" is not, since "No." there is the number's label.
func idNegated(toks []token, first int) bool {
	i := first - 1
	for i >= 0 && (toks[i].kind == tokPunct || listed(toks, i, idNumberWords)) {
		i--
	}
	if listed(toks, i, idKindWords) {
		i--
	}
	return has(toks, i, fNegator)
}

// placardEnds end compounds that name labels ("Gefahrzettel",
// "Gevaarsetiket", "Warnschild").
var placardEnds = []string{"etikett", "etiket", "zettel", "aufkleber", "schild", "tafel", "sticker", "label"}

// placardNear reports whether the tokens around the candidates name
// labels or placards.
func placardNear(toks []token) bool {
	for i := range toks {
		if toks[i].kind != tokWord {
			continue
		}
		w := toks[i].word
		if listed(toks, i, placardWords) || slices.ContainsFunc(placardEnds, func(e string) bool { return strings.HasSuffix(w, e) }) {
			return true
		}
	}
	return false
}

// foldedSetOf is setOf with each word folded as the tokenizer folds words
// ("наклейка" is "наклеика").
func foldedSetOf(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[string(appendFolded(nil, w))] = true
	}
	return m
}

// packTail reports a pack multiplier glued to a formula: "x" and a digit
// ("KNO3x5kg", "H2O2x2").
func packTail(b []byte) bool {
	return len(b) >= 2 && b[0] == 'x' && b[1] >= '0' && b[1] <= '9'
}

// firstWord is s up to its first character that is not a letter.
func firstWord(s string) string {
	for i, r := range s {
		if !unicode.IsLetter(r) {
			return s[:i]
		}
	}
	return s
}

// identifier reports a registry number (CAS, EC, UN): read as written,
// whatever words are around it.
func (c termClass) identifier() bool { return c == classCAS || c == classID }

// unPrefixes are how a UN number is introduced ("UN 2014", "UN No. 2014",
// "UN-Nr. 2014", "N° ONU 2014", "ООН 2014"); "UN2014" is added glued.
var unPrefixes = []string{"UN", "UN No", "UN Nr", "UN number", "UN Nummer", "ONU", "ООН"}

// termRef is one watchlist term behind an automaton pattern.
type termRef struct {
	sub   int // index into Matcher.subs
	term  string
	kind  string
	class termClass
	// upper: an abbreviation written in upper case in the watchlist
	// matches only in upper case ("AN", not "an"); slang written in lower
	// case ("nitro") matches in any case, with context all the same.
	upper bool
	// headLast and headFirst are the head a list of names may share
	// (sharedHeads): "nitrate" of "sodium nitrate", "nitrato di" of
	// "nitrato di sodio"; "" when the name has none.
	headLast, headFirst string
	// Precomputed for stepsMask: separators in term, whether it has a
	// digit, whether its first letter is Latin.
	seps       int
	digits     bool
	latinFirst bool
}

// pattern is one automaton pattern and the terms it stands for.
type pattern struct {
	refs     []termRef
	compound bool // may be followed directly by letters
	// formula: some term of it is a formula, which a pack multiplier may
	// follow with no space ("KNO3x5kg", "H2O2x2"); the pattern is then
	// open-ended like a compound's, and packTail decides.
	formula bool
	// pair: a word of a name in two languages (pairs.go) ends here.
	pair bool
}

// compiledSubstance is what matching needs of a substance.
type compiledSubstance struct {
	id, name      string
	limit         *float64
	nitrogenBasis bool
	// molarMass (g/mol) and equivalents read a molarity or normality as a
	// percentage (percentOf); 0 when the formula does not give them.
	molarMass   float64
	equivalents int
	regimes     []precwatch.RegimeEntry
	// Precomputed at Compile: severity and regime with a strength over
	// the limit (1) or not (0), and the limit as scoring writes it.
	sevRegime [2]precwatch.Regime
	sevIndex  [2]int // regimeIndex of sevRegime
	sev       [2]precwatch.Severity
	limitText string
	// numerals are the oxidation states its names write ("Chloran(V)
	// potasu", "хлорид мышьяка(III)"): another one after a name makes it
	// another compound ("sodium chlorate(I)" is hypochlorite).
	numerals []string
}

// Matcher finds watchlist substances in listings. It is immutable after
// Compile and safe for concurrent use.
type Matcher struct {
	w        *precwatch.Watchlist
	subs     []compiledSubstance
	patterns []pattern
	ac       *automaton
	byID     map[string]int
	supps    []compiledSuppression
	// vocab and patIndex serve the repair pass (repair.go): the words of
	// every term, and every normalised term's pattern.
	vocab    *vocab
	patIndex map[string]int
	// upperOnly marks the patterns of one word that stand only for
	// abbreviations written in upper case (plain.go's deadHits).
	upperOnly []bool
	// clipOne marks the vocabulary trie's nodes from which clipped's walk
	// finds the words of one substance (plain.go's glueMayEdit).
	clipOne []bool
	// listedCAS holds the digits of every watchlist CAS number.
	listedCAS map[string]bool
	// pairs reads names that mix two languages (pairs.go).
	pairs pairIndex
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
	m := &Matcher{w: w, byID: map[string]int{}, supps: compileSuppressions(w.Suppressions), listedCAS: map[string]bool{},
		pairs: pairIndex{words: map[string][]int32{}, triggers: map[string]bool{}, refs: map[int]*termRef{}}}
	for i, s := range w.Substances {
		m.byID[s.ID] = i
		if s.CAS != "" {
			m.listedCAS[strings.ReplaceAll(s.CAS, "-", "")] = true
		}
	}
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
		ref := termRef{
			sub: sub, term: term, kind: kind, class: class, upper: (class == classAbbr || class == classID) && allUpper(term),
			seps: countSeparators(term), digits: strings.ContainsAny(term, "0123456789"),
			latinFirst: unicode.Is(unicode.Latin, firstLetter(term)),
		}
		if class == classWord {
			ref.headLast, ref.headFirst = sharedHeadOf(norm)
			if euListed(w.Substances[sub]) {
				m.pairs.addPairName(sub, norm, kind == KindName)
			}
		}
		m.patterns[i].refs = append(m.patterns[i].refs, ref)
	}
	// Names written apart at their parts are added after every term as
	// written, so that a term spelled that way in the watchlist keeps its
	// own kind ("2-Chloroethyl chloromethyl sulfide", a synonym).
	type variant struct {
		sub              int
		norm, term, kind string
	}
	var variants []variant
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
			for _, v := range partVariants(n) {
				variants = append(variants, variant{sub, v, term, kind})
			}
			if v := elided(n); v != "" {
				variants = append(variants, variant{sub, v, term, kind})
			}
			if v := cationApart(n); v != "" {
				variants = append(variants, variant{sub, v, term, kind})
			}
			// A locant sellers leave out ("metildietanolammina" for
			// "N-Metildietanolammina").
			if v, ok := strings.CutPrefix(n, "n "); ok && alnumLen(v) > shortTermMax && !strings.HasPrefix(v, "n ") {
				variants = append(variants, variant{sub, v, term, kind})
			}
			// Words run together, as hashtags and handles write them
			// ("#sodiumchlorate", "HydrogenPeroxide").
			if j := joinedWords(n); j != "" {
				variants = append(variants, variant{sub, j, term, kind})
			}
			// German written without umlauts ("Salpetersaeure").
			if u := umlautSpelled.Replace(term); u != term {
				variants = append(variants, variant{sub, Normalize(u), term, kind})
			}
		}
	}
	// A UN number shared by several entries names neither.
	unOwners := map[string]map[int]bool{}
	for i, s := range w.Substances {
		for _, un := range s.UN {
			if unOwners[un] == nil {
				unOwners[un] = map[int]bool{}
			}
			unOwners[un][i] = true
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
		for _, x := range s.Excludes {
			add(i, Normalize(x), x, "exclude", classExclude)
		}
		if s.CAS != "" {
			add(i, Normalize(s.CAS), s.CAS, KindCAS, classCAS)
			add(i, strings.ReplaceAll(s.CAS, "-", ""), s.CAS, KindCAS, classCAS)
		}
		// EC numbers only as written, hyphens and all: seven bare digits
		// are too often something else.
		if s.EC != "" {
			add(i, Normalize(s.EC), s.EC, KindEC, classID)
		}
		for _, un := range s.UN {
			if len(unOwners[un]) > 1 {
				continue // "UN 1828, sulphur chlorides": either entry
			}
			for _, prefix := range unPrefixes {
				add(i, Normalize(prefix+" "+un), "UN "+un, KindUN, classID)
			}
			add(i, "un"+un, "UN "+un, KindUN, classID)
		}
	}
	for _, v := range variants {
		add(v.sub, v.norm, v.term, v.kind, classWord)
	}
	// Every pattern starts with a space and every scanned text with one, so
	// the automaton reports terms at word starts only: far fewer hits for
	// short codes ("an" in "banana", "organic").
	// Terms that cannot start a compound end with a space too (texts are
	// scanned with one at the end), which spares hits inside longer words.
	for i := range m.patterns {
		p := &m.patterns[i]
		p.formula = slices.ContainsFunc(p.refs, func(r termRef) bool { return r.kind == KindFormula })
		p.compound = p.compound || p.formula
	}
	pairPats := m.addPairPatterns(index)
	pats := make([]string, len(m.patterns))
	for pat, i := range index {
		pats[i] = " " + pat
		if !m.patterns[i].compound {
			pats[i] += " "
		}
	}
	for pat, i := range pairPats {
		pats[i] = " " + pat + " "
	}
	m.ac = newAutomaton(pats)
	m.upperOnly = make([]bool, len(m.patterns))
	for pat, i := range index {
		p := &m.patterns[i]
		m.upperOnly[i] = !p.compound && !strings.Contains(pat, " ") &&
			!slices.ContainsFunc(p.refs, func(r termRef) bool { return r.class != classAbbr || !r.upper })
	}
	m.vocab, m.patIndex = newVocab(slices.Collect(maps.Keys(index))), index
	m.clipOne = m.clipVerdicts()
	return m, nil
}

// joinedWords returns a name of two or three words of letters only, each
// of four or more, written as one word ("sodiumchlorate"), or "".
func joinedWords(norm string) string {
	ws := strings.Split(norm, " ")
	if len(ws) < 2 || len(ws) > 3 {
		return ""
	}
	for _, w := range ws {
		if utf8.RuneCountInString(w) < 4 || strings.ContainsFunc(w, func(r rune) bool { return !unicode.IsLetter(r) }) {
			return ""
		}
	}
	return strings.Join(ws, "")
}

// umlautSpelled writes German umlauts as keyboards without them do.
var umlautSpelled = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "Ä", "Ae", "Ö", "Oe", "Ü", "Ue")

// compoundCations are the first parts of German and Dutch salt names
// written as one word ("Kaliumnitrat", "Waterstofperoxide"), which sellers
// also write apart ("Kalium Nitrat").
var compoundCations = []string{"ammonium", "kalium", "natrium", "calcium", "magnesium", "aluminium", "wasserstoff", "waterstof"}

// compoundTails are the class words German and Dutch compounds end in
// (folded), longest first; sellers write them apart too ("Salpeter
// säure", "Zwavel zuur", "Arsen trichlorid"), and the first part alone
// may name another substance ("Salpeter" is potassium nitrate).
var compoundTails = []string{
	"perchloraat", "perchlorat", "chloraat", "chlorat", "nitraat", "nitrat", "peroxide", "peroxid",
	"chloride", "chlorid", "salpeter", "phosphit", "fosfiet", "pulver", "poeder", "saure", "zuur",
}

// multiplyingPrefixes, longest first, go with the tail they stand before
// ("Phosphor oxychlorid", not "Phosphoroxy chlorid").
var multiplyingPrefixes = []string{"penta", "tetra", "hexa", "mono", "tri", "oxy", "di"}

// minCompoundHead is the fewest bytes of a compound's first part.
const minCompoundHead = 4

// cationApart returns a one-word term with its cation written apart
// ("kalium nitrat"), else cut before the class word it ends in ("salpeter
// saure"), or "" when it has neither or a part would be short.
func cationApart(norm string) string {
	if strings.Contains(norm, " ") {
		return ""
	}
	for _, c := range compoundCations {
		if rest, ok := strings.CutPrefix(norm, c); ok && len(rest) >= 5 {
			return c + " " + rest
		}
	}
	for _, tail := range compoundTails {
		if !strings.HasSuffix(norm, tail) || len(norm)-len(tail) < minCompoundHead {
			continue
		}
		cut := len(norm) - len(tail)
		for _, p := range multiplyingPrefixes {
			if strings.HasSuffix(norm[:cut], p) && cut-len(p) >= minCompoundHead {
				cut -= len(p)
				break
			}
		}
		return norm[:cut] + " " + norm[cut:]
	}
	return ""
}

// elided returns a normalised name with "di" or "de" before a vowel
// written elided, as Italian and French write it ("nitrato d'ammonio" for
// "nitrato di ammonio"), or "" when it has none.
func elided(norm string) string {
	ws := strings.Split(norm, " ")
	changed := false
	for i := 0; i+1 < len(ws); i++ {
		if (ws[i] == "di" || ws[i] == "de") && ws[i+1] != "" && strings.ContainsRune("aeiouh", rune(ws[i+1][0])) {
			ws[i], changed = "d", true
		}
	}
	if !changed {
		return ""
	}
	return strings.Join(ws, " ")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func compileSubstance(s precwatch.Substance) compiledSubstance {
	c := compiledSubstance{id: s.ID, name: s.DisplayName(), regimes: s.Regimes,
		molarMass: formulaMass(s.Formula), equivalents: acidEquivalents(s.Formula)}
	for _, t := range s.Terms() {
		if n, ok := romanAfter(t, strings.IndexByte(t, '(')); ok && !slices.Contains(c.numerals, n) {
			c.numerals = append(c.numerals, n)
		}
	}
	for _, r := range s.Regimes {
		if r.LimitPercent != nil && c.limit == nil {
			c.limit = r.LimitPercent
			c.nitrogenBasis = strings.Contains(strings.ToLower(r.LimitBasis), "nitrogen")
		}
	}
	over := true
	c.sevRegime[0], c.sev[0] = c.severity(nil)
	c.sevRegime[1], c.sev[1] = c.severity(&over)
	c.sevIndex = [2]int{regimeIndex(c.sevRegime[0]), regimeIndex(c.sevRegime[1])}
	if c.limit != nil {
		c.limitText = strconv.FormatFloat(*c.limit, 'f', -1, 64)
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
	ref        *termRef
	start, end int // original text
	nlen       int // normalised length, for longest-wins
	// tokFirst and tokAfter are tokenAt of start and of end, set once the
	// field is tokenized (the rules use them for every strength, amount
	// and neighbour).
	tokFirst, tokAfter int
}

// maxPooledBytes bounds the buffers a pooled scratch keeps after a huge
// listing, so one 10 MB listing does not pin its buffers for good.
const maxPooledBytes = 1 << 20

// Match reports every watchlist substance found in the listing's title and
// description, ordered by field (title first) then position, each scored
// against the whole listing and marked when an analyst suppressed it.
func (m *Matcher) Match(l precwatch.Listing) []precwatch.Match {
	sc := scratchPool.Get().(*scratch)
	defer func() {
		clear(sc.staged) // drop references to the listing's text
		sc.staged = sc.staged[:0]
		if cap(sc.norm.text) <= maxPooledBytes {
			scratchPool.Put(sc)
		}
	}()
	m.matchFieldDecoded(sc, "title", l.Title)
	m.matchFieldDecoded(sc, "description", l.Description)
	if len(sc.staged) == 0 {
		return nil
	}
	m.shareStrengths(sc.staged)
	m.loneStrength(sc, l)
	if m.dropSubjects(sc, l.Title); len(sc.staged) == 0 {
		return nil
	}
	dropClassNames(sc)
	m.scoreListing(sc, l.Tor)
	// The matches and what their pointer and slice fields point to, sized
	// exactly, in one allocation for the usual few matches: bytes and
	// objects allocated set how often the collector runs and what it
	// costs.
	out, extras := newResults(len(sc.staged))
	for i := range sc.staged {
		st, x, o := &sc.staged[i], &extras[i], &out[i]
		sub := &m.subs[st.ref.sub]
		ov := boolInt(st.over) // over its limit: the severer regime
		// Field by field into the zeroed result: no staged copy of it.
		o.Substance, o.Name = sub.id, sub.name
		o.Regime, o.Severity = sub.sevRegime[ov], sub.sev[ov]
		o.Term, o.Kind = st.ref.term, st.ref.kind
		o.Field, o.Start, o.End, o.Text = st.field, st.start, st.end, st.text
		o.Steps, o.Score = stepSets[st.mask], st.score
		sc.setReasons(o, st, (*[maxReasons]string)(x.reasons[:maxReasons]))
		if st.hasConc {
			x.conc = st.conc
			o.ConcentrationPercent = &x.conc
			if sub.limit != nil {
				x.over = st.over
				o.OverLimit = &x.over
			}
		}
		if sub.limit != nil {
			x.limit = *sub.limit
			o.LimitPercent = &x.limit
		}
		if r := alertRule(o, st.shared, st.lone, st.spec); r != "" {
			n := len(o.Reasons)
			x.reasons[n] = r
			o.Reasons = x.reasons[: n+1 : n+1]
		}
		if st.hasQ {
			x.q = st.q
			o.Quantity = &x.q
		}
	}
	clear(sc.reasons) // drop references to the listing's text
	sc.reasons, sc.reasonText = sc.reasons[:0], ""
	m.suppress(out, l)
	return out
}

// matchFieldDecoded is matchField, then, when the field as written names
// nothing and holds an artifact of escaping or of a wrong charset
// (decode.go), matchField on the decoded text, its matches mapped back to
// the text as written.
func (m *Matcher) matchFieldDecoded(sc *scratch, field, text string) {
	n0 := len(sc.staged)
	// A character reference left in listing text ("98&#37;", "&nbsp;") is
	// always an artifact, and the decoded text is read first, so that a
	// strength or a word it hides counts too. Other artifacts are read
	// only when the text as written names nothing.
	decodeFirst := hasCharRef(text)
	if !decodeFirst {
		clean := m.matchField(sc, field, text)
		if len(sc.staged) > n0 || clean || !mayBeEncoded(text) {
			return
		}
	}
	dec, spans, ok := decodeArtifacts(text)
	if !ok {
		if decodeFirst {
			m.matchField(sc, field, text)
		}
		return
	}
	m.matchField(sc, field, dec)
	for i := n0; i < len(sc.staged); i++ {
		st := &sc.staged[i]
		st.start, st.end = int(spans[st.start].a), int(spans[st.end-1].b)
		st.text = text[st.start:st.end]
		st.mask |= bitDecoded
	}
}

// matchField stages the matches of one field's text. clean reports that
// the prefilter walked the whole of text and met none of the bytes
// mayBeEncoded looks for (plainReadClean): then mayBeEncoded(text) is
// false.
func (m *Matcher) matchField(sc *scratch, field, text string) (clean bool) {
	// Plain text in which the automaton finds nothing and the repair pass
	// could change nothing needs no more (plain.go), and plain text with a
	// hit skips deobfuscation and the repair pass, and nearly always
	// normalisation and the scan too: the walk's hits are read as they
	// are (plainCands). Every field is walked, a description after a
	// title that named a substance too: most are plain, and the walk
	// costs less than the passes it spares them.
	if text == "" {
		return false
	}
	plain, hit, clean, hits := m.plainReadClean(text, sc.hits[:0])
	sc.hits = hits
	if plain && !hit {
		return clean
	}
	cands := sc.cands[:0]
	defer func() { sc.cands = cands[:0] }()
	read := false
	if plain {
		// Normalisation would not deobfuscate it, nor the repair pass
		// change it or ask for support (plainRead), and the walk's hits
		// are the automaton's on the normalised text.
		sc.support = sc.support[:0]
		cands, read = m.plainCands(text, sc.hits, cands)
	}
	if !read {
		cands = m.scanCands(sc, text, plain, cands[:0])
	}
	if len(cands) == 0 {
		return clean
	}
	// Strengths and quantities are read only around the candidates
	// (tokenizeCands).
	sortByStart(cands)
	// A field whose every candidate is an abbreviation the rules below
	// would drop for want of support stages nothing (abbrev.go): most
	// fields with only capitals such as "HP", "TEA" or "CAN" end here
	// without being tokenized.
	if len(sc.support) == 0 && m.abbrevsDropped(text, cands) {
		return clean
	}
	toks, strengths, quants := m.tokenizeCands(sc, text, cands)
	// Every rule below looks up the tokens at a candidate's ends. The
	// candidates are sorted by start, so each one's first token is searched
	// for after the previous one's, and the token after it is a few tokens
	// on. Abbreviations and slang count only with supporting context.
	supported, first := cands[:0], 0
	for _, c := range cands {
		first = c.locateTokens(toks, first)
		if c.ref.class == classAbbr && (m.abbrevRejected(text, toks, strengths, quants, c) || methodNote(toks, c)) {
			continue
		}
		// A term read across a list's separators names nothing, nor
		// excludes anything ("Potassium, nitrate, phosphate", "Aluminium
		// powder, coated grade"); dropped before the longest term wins, so
		// that a shorter one inside the list's item stays ("Calcium,
		// ammonium nitrate").
		if !c.ref.class.identifier() && acrossList(text[c.start:c.end], c.ref.term) {
			continue
		}
		// A UN number on labels or placards names the labels' goods, and
		// one that reads as a year ("UN 2015 goals", "Sommet ONU 2014")
		// needs the support an abbreviation does.
		if c.ref.kind == KindUN && (placardNear(toks) || yearLike(c.ref.term) && !numberLabelled(text, c) && !hazardClassNear(toks) &&
			!abbrevSupported(text, toks, strengths, quants, c)) {
			continue
		}
		// A clipped name or a formula read through a disguise needs a
		// strength or amount beside it (repair.go).
		if len(sc.support) > 0 && needsSupport(sc.support, c) && !besideSupport(text, toks, strengths, c) {
			continue
		}
		supported = append(supported, c)
	}
	cands = supported
	// Negated terms ("acetone-free", "sans acétone") and terms turned into
	// another compound by a metal before them ("ceric ammonium nitrate",
	// "sodium hydrogen sulfate") name nothing on the list. Longest-wins runs
	// first so that a longer term holding the qualifier survives.
	accepted := resolveOverlaps(cands, sc.kept[:0])
	sc.kept = accepted[:0]
	named, hasAbbr := accepted[:0], false
	for _, c := range accepted {
		if c.ref.class == classExclude || c.ref.class.identifier() && idNegated(toks, c.tokFirst) || !c.ref.class.identifier() && (negated(toks, c.tokFirst, c.tokAfter) || qualified(toks, c.tokFirst) || personNamed(text, c.start) || m.otherNumeral(text, c) ||
			derivativeIndexName(toks, c.tokAfter) || m.disguisedNegator(text, c.start) || measuredAs(toks, c.tokFirst, c.tokAfter) || acidAdjective(text, toks, c)) {
			continue
		}
		hasAbbr = hasAbbr || c.ref.class == classAbbr
		named = append(named, c)
	}
	accepted = named
	if len(accepted) > 0 {
		accepted = m.sharedHeads(toks, accepted)
	}
	// An abbreviation spelled out next to it as another chemical
	// ("DMP dimethyl phthalate") names that chemical.
	if hasAbbr {
		kept := accepted
		accepted = slices.DeleteFunc(accepted, func(c candidate) bool {
			if c.ref.class != classAbbr {
				return false
			}
			same := func(a, b int) bool {
				return slices.ContainsFunc(nearCands(kept, c.start, c.end), func(o candidate) bool {
					return o.ref.sub == c.ref.sub && o.ref.class != classAbbr && o.start <= a && b <= o.end+1 || o.ref.sub == c.ref.sub && o.ref.class != classAbbr && a <= o.start && o.end <= b
				})
			}
			return expandedElsewhere(toks, c.ref.term, c.start, c.end, same) || m.otherCASAfter(text, toks, c)
		})
	}
	for _, c := range accepted {
		sub := &m.subs[c.ref.sub]
		sc.staged = append(sc.staged, staged{ref: c.ref, field: field, text: text[c.start:c.end], start: c.start, end: c.end})
		st := &sc.staged[len(sc.staged)-1]
		// "Clorato de sodio | — | 1 kg": its row states none, and no
		// strength of another row or elsewhere is its own.
		st.emptyCell = emptyCellAfter(toks, c.tokAfter)
		v, stated, ok := 0.0, "", false
		if !st.emptyCell {
			v, stated, ok = strengthFor(text, toks, strengths, accepted, c, sub, sc)
		}
		if !ok && sub.nitrogenBasis {
			v, ok = bareGrade(text, toks, c, c.ref.class == classAbbr)
		}
		if ok {
			st.conc, st.stated, st.hasConc = v, stated, true
			st.over = sub.limit != nil && v > *sub.limit
		}
		if q, ok := quantityFor(toks, quants, accepted, c); ok {
			st.q, st.hasQ = quantityOf(text, toks, q), true
		}
		st.mask = stepsMask(st.text, c.ref)
	}
	return clean
}

// methodNote reports a code in parentheses right after a strength: the
// method that measured it ("98,5 % (CG)", gas chromatography in Spanish
// and French; "99 % (GC)"), not a substance's code.
func methodNote(toks []token, c candidate) bool {
	open := c.tokFirst - 1
	return punctAt(toks, open, "(") && punctAt(toks, c.tokAfter, ")") && open >= 1 && (toks[open-1].kind == tokPct || toks[open-1].kind == tokNum)
}

// locateTokens sets c's first token and the one after its end, searching
// toks from the token from on (candidates are located in order of start),
// and returns its first token.
func (c *candidate) locateTokens(toks []token, from int) int {
	first := from + tokenAt(toks[from:], c.start)
	after := first
	for after < len(toks) && toks[after].start < c.end {
		after++
	}
	c.tokFirst, c.tokAfter = first, after
	return first
}

// clusterWindow returns the window [from, to) of text that the cluster of
// nearby candidates starting at cands[i] (sorted by start) is read in, and
// the index of the next cluster's first candidate.
func clusterWindow(text string, cands []candidate, i int) (from, to, next int) {
	lo, hi := cands[i].start, cands[i].end
	j := i + 1
	for j < len(cands) && cands[j].start < hi+2*tokenWindow {
		hi = max(hi, cands[j].end)
		j++
	}
	return max(0, lo-tokenWindow), min(len(text), hi+tokenWindow), j
}

// tokenizeCands tokenizes the text around the candidates, sorted by
// start, one window per cluster of nearby candidates, separated by a
// break, and finds the strengths and amounts there.
func (m *Matcher) tokenizeCands(sc *scratch, text string, cands []candidate) ([]token, []strength, []quantity) {
	toks := sc.toks[:0]
	sc.arena, sc.words, sc.nums, sc.spelled = sc.arena[:0], sc.words[:0], sc.nums[:0], false
	for i := 0; i < len(cands); {
		from, to, j := clusterWindow(text, cands, i)
		if len(toks) > 0 {
			if from < toks[len(toks)-1].end {
				from = toks[len(toks)-1].end
			}
			toks = append(toks, token{kind: tokBreak, start: from, end: from})
		}
		toks = tokenizeRange(text, from, to, toks, sc)
		i = j
	}
	toks = finishTokensAndNumbers(toks, sc)
	if len(sc.support) > 0 {
		m.fixTokens(text, toks, sc.support)
	}
	sc.toks = toks
	strengths := findStrengths(text, toks, sc.nums, sc.strengths[:0])
	sc.strengths = strengths
	quants := findQuantities(toks, sc.nums, sc.quants[:0])
	sc.quants = quants
	return toks, strengths, quants
}

// abbrevRejected reports that abbreviation c lacks the support it needs
// (abbrevSupported, gradeSupports) or names a grade (gradeCode).
func (m *Matcher) abbrevRejected(text string, toks []token, strengths []strength, quants []quantity, c candidate) bool {
	return !abbrevSupported(text, toks, strengths, quants, c) && !m.gradeSupports(text, toks, c) || gradeCode(toks, c.tokAfter)
}

// scanCands appends the candidates the automaton finds in text's
// normalised form: normalizeFold's for a plain field, else normalize's
// after the repair pass.
func (m *Matcher) scanCands(sc *scratch, text string, plain bool, cands []candidate) []candidate {
	var n normText
	if plain {
		n, _ = normalizeFold(text, true, &sc.norm)
	} else {
		n = normalize(text, true, &sc.norm)
		sc.support = m.repair(&n, text, sc.support[:0])
	}
	sc.norm = n
	sc.hits = m.ac.scanSpaced(n.text, sc.hits[:0])
	sc.pairHits = sc.pairHits[:0]
	for _, h := range sc.hits {
		// The scan reads n.text between two spaces (hay): the pattern's
		// leading space is at hay[end-len], the term at [a, b) of n.text.
		p := &m.patterns[h.pat]
		a, b := int(h.end-m.ac.lens[h.pat]), int(h.end)-1
		if !p.compound {
			b-- // the pattern's closing space
		}
		compoundTail := b < len(n.text) && n.text[b] != ' '
		pack := compoundTail && p.formula && packTail(n.text[b:])
		if compoundTail && !pack && (!p.compound || !startsWithLetter(n.text[b:]) || otherSubstanceTail(n.text[a:b], n.text[b:])) {
			continue
		}
		start := int(n.offs[a])
		last := int(n.offs[b-1])
		_, size := utf8.DecodeRuneInString(text[last:])
		// The normalised digits go to the CAS check: a number in
		// full-width digits ("７６６４－９３－９") is checked too.
		cands = appendRefs(cands, p, text, n.text[a:b], start, last+size, b-a, compoundTail, pack)
		if p.pair && !compoundTail {
			sc.pairHits = append(sc.pairHits, pairHit{a, b})
		}
	}
	if len(sc.pairHits) > 0 {
		cands = m.mixedPairs(&n, text, sc.pairHits, cands)
	}
	return cands
}

// appendRefs appends a candidate for each term of the pattern p, found
// at text[start:end] and nlen bytes long normalised, that the text there
// may stand for. A CAS number's check reads the digits of digits (the
// match's normalised text, or text[start:end] where they are the same);
// compoundTail tells that the match runs on into its word, pack that what
// follows is a pack size.
func appendRefs[T string | []byte](cands []candidate, p *pattern, text string, digits T, start, end, nlen int, compoundTail, pack bool) []candidate {
	for k := range p.refs {
		ref := &p.refs[k]
		switch ref.class {
		case classCAS:
			if compoundTail || !validCASDigits(digits) {
				continue
			}
		case classAbbr:
			if compoundTail || ref.upper && !allUpper(text[start:end]) {
				continue
			}
		case classID:
			// The prefix in capitals: "UN No. 2014", not "un 2014".
			if compoundTail || ref.upper && !allUpper(firstWord(text[start:end])) {
				continue
			}
		case classWord:
			if compoundTail && ref.kind == KindFormula && !pack {
				continue
			}
		case classPair:
			continue // names nothing alone (scanCands, mixedPairs)
		}
		cands = append(cands, candidate{ref: ref, start: start, end: end, nlen: nlen})
	}
	return cands
}

// staged is a match being built: the Match is written only once the
// listing's matches are counted, straight into the exactly sized result,
// and its regime, severity and limit come from the substance then. Kept
// small, as every match is staged.
type staged struct {
	ref           *termRef
	field, text   string
	start, end    int
	conc, score   float64
	stated        string // conc as the listing wrote it, when in another unit ("2 N")
	mask          int    // normalisation steps
	over          bool   // conc is over the substance's limit
	hasConc, hasQ bool
	shared        bool  // conc was stated for another mention (alerting.go)
	lone          bool  // conc is the listing's only strength, stated apart (alerting.go)
	spec          bool  // conc is the listing's specification's (alerting.go)
	emptyCell     bool  // its table row leaves the strength empty (emptyCellAfter)
	r0, r1        int32 // reasons, in scratch.reasons
	q             precwatch.Quantity
}

// matchExtras holds what a match's pointer and slice fields point to.
type matchExtras struct {
	conc, limit float64
	over        bool
	q           precwatch.Quantity
	reasons     [maxReasons + 1]string // scoring's, then the alerting rule
}

// newResults returns n zeroed matches and their extras: one allocation
// holding both for up to four matches (nearly every listing), two beyond.
func newResults(n int) ([]precwatch.Match, []matchExtras) {
	switch n {
	case 1:
		b := new(struct {
			m [1]precwatch.Match
			x [1]matchExtras
		})
		return b.m[:], b.x[:]
	case 2:
		b := new(struct {
			m [2]precwatch.Match
			x [2]matchExtras
		})
		return b.m[:], b.x[:]
	case 3:
		b := new(struct {
			m [3]precwatch.Match
			x [3]matchExtras
		})
		return b.m[:], b.x[:]
	case 4:
		b := new(struct {
			m [4]precwatch.Match
			x [4]matchExtras
		})
		return b.m[:], b.x[:]
	}
	return make([]precwatch.Match, n), make([]matchExtras, n)
}

// nearSlack bounds, in bytes, how far apart a term and a strength,
// amount or other term can be and still bear on each other (strengthReach
// words, well within it); it keeps the rules linear on huge listings.
const nearSlack = 512

// nearCands returns the candidates (sorted by start) that start within
// nearSlack bytes of [lo, hi).
func nearCands(cs []candidate, lo, hi int) []candidate {
	if len(cs) <= 8 && (len(cs) == 0 || cs[0].start >= lo-nearSlack && cs[len(cs)-1].start <= hi+nearSlack) {
		return cs // the usual listing: all of them
	}
	a := sort.Search(len(cs), func(i int) bool { return cs[i].start >= lo-nearSlack })
	b := sort.Search(len(cs), func(i int) bool { return cs[i].start > hi+nearSlack })
	return cs[a:b]
}

// nearStrengths returns the strengths (sorted by token) that start within
// nearSlack bytes of [lo, hi).
func nearStrengths(toks []token, ss []strength, lo, hi int) []strength {
	if len(ss) == 0 || toks[ss[0].first].start >= lo-nearSlack && toks[ss[len(ss)-1].first].start <= hi+nearSlack {
		return ss
	}
	a := sort.Search(len(ss), func(i int) bool { return toks[ss[i].first].start >= lo-nearSlack })
	b := sort.Search(len(ss), func(i int) bool { return toks[ss[i].first].start > hi+nearSlack })
	return ss[a:b]
}

// nearQuantities is nearStrengths for amounts.
func nearQuantities(toks []token, qs []quantity, lo, hi int) []quantity {
	if len(qs) == 0 || toks[qs[0].first].start >= lo-nearSlack && toks[qs[len(qs)-1].first].start <= hi+nearSlack {
		return qs
	}
	a := sort.Search(len(qs), func(i int) bool { return toks[qs[i].first].start >= lo-nearSlack })
	b := sort.Search(len(qs), func(i int) bool { return toks[qs[i].first].start > hi+nearSlack })
	return qs[a:b]
}

// acidTails are compound endings that make a different substance of the
// term before them: the acid of a salt ("Salpeter" + "zuur" is nitric acid,
// not saltpetre), or its ester or ether.
// A "-frei"/"-free" ending negates the term, and a remover or barrier
// ("Salpeterentferner", "Salpetersperre", "salpeterverwijderaar") is a
// product against it, for walls, as its stains, efflorescence and damage
// ("Salpeterflecken", "Salpeterausblühungen", "salpetervlekken",
// "salpeteruitslag", "Salpeterschaden") are what such products are sold
// against. Endings shorter than
// compoundMinTail that are not inflections are suffixes that make another
// compound ("thiodiglycol" + "ic").
var acidTails = []string{"saure", "saeure", "zuur", "syre", "acid", "ester", "ether", "ather", "frei", "free", "entferner", "sperre", "verwijder",
	"fleck", "ausbluh", "schaden", "vlek", "uitslag"}

// inflections are endings a compound may have without changing substance.
var inflections = map[string]bool{"s": true, "es": true, "e": true, "en": true, "n": true}

// acidAdjectiveEnds turn a German acid ("Schwefelsäure") into the adjective
// that names its salts in the old nomenclature ("schwefelsaures Ammoniak"
// is ammonium sulfate, "salpetersaurer Kalk" calcium nitrate); "-n" stays
// an inflection, as it is also the plural.
var acidAdjectiveEnds = map[string]bool{"s": true, "r": true, "m": true}

const compoundMinTail = 4

// otherSubstanceTail reports whether the letters after a compound-capable
// term make another substance of it (or negate it). A term of several
// words takes an inflection at most: compounds are single words, and a
// name's last word running on is another word ("chlorek cyjanu", cyanogen
// chloride, in "chlorek cyjanurylu", cyanuric chloride).
func otherSubstanceTail(term, b []byte) bool {
	end := 0
	for end < len(b) && b[end] != ' ' {
		end++
	}
	tail := string(b[:end])
	if acidAdjectiveEnds[tail] && bytes.HasSuffix(term, []byte("saure")) {
		return true
	}
	if bytes.IndexByte(term, ' ') >= 0 && !inflections[tail] {
		return true
	}
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

// startsWithLetter reports whether s starts with a letter.
func startsWithLetter[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	if s[0] < utf8.RuneSelf {
		return isASCIILetter(s[0])
	}
	var head [utf8.UTFMax]byte
	r, _ := utf8.DecodeRune(head[:copy(head[:], s)])
	return unicode.IsLetter(r)
}

// validCASDigits checks the CAS check digit of the digits in s, in
// whatever spacing they are written.
func validCASDigits[T string | []byte](s T) bool {
	var buf [16]byte
	d := buf[:0]
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			if len(d) == len(buf) {
				return false
			}
			d = append(d, s[i]-'0')
		}
	}
	return casCheck(d)
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
func resolveOverlaps(cands, kept []candidate) []candidate {
	// Sorted by insertion where there are few, the usual case (a stable
	// sort's result is the same whichever algorithm makes it).
	if len(cands) <= smallSort {
		for i := 1; i < len(cands); i++ {
			x := cands[i]
			j := i
			for ; j > 0 && longerFirst(x, cands[j-1]); j-- {
				cands[j] = cands[j-1]
			}
			cands[j] = x
		}
	} else {
		slices.SortStableFunc(cands, func(a, b candidate) int {
			if a.nlen != b.nlen {
				return b.nlen - a.nlen
			}
			return a.start - b.start
		})
	}
	if len(cands) > 64 {
		kept = resolveOverlapsLarge(cands, kept)
	} else {
		kept = resolveOverlapsSmall(cands, kept)
	}
	if len(kept) <= smallSort {
		for i := 1; i < len(kept); i++ {
			x := kept[i]
			j := i
			for ; j > 0 && (x.start < kept[j-1].start || x.start == kept[j-1].start && x.ref.sub < kept[j-1].ref.sub); j-- {
				kept[j] = kept[j-1]
			}
			kept[j] = x
		}
	} else {
		slices.SortStableFunc(kept, func(a, b candidate) int {
			if a.start != b.start {
				return a.start - b.start
			}
			return a.ref.sub - b.ref.sub
		})
	}
	return kept
}

// smallSort is the most candidates sorted by insertion rather than by
// package slices: insertion wins for the few candidates of a listing and
// needs no comparison closure.
const smallSort = 12

// longerFirst orders candidates longest first, then by start.
func longerFirst(a, b candidate) bool {
	return a.nlen > b.nlen || a.nlen == b.nlen && a.start < b.start
}

// sortByStart sorts candidates by start as slices.SortFunc does (which is
// not stable: candidates with equal starts must come out in its order, as
// the rules keep the first of equal ones). For up to 12 elements that is
// an insertion sort, done here without the comparison closure.
func sortByStart(cands []candidate) {
	if len(cands) > smallSort {
		slices.SortFunc(cands, func(x, y candidate) int { return x.start - y.start })
		return
	}
	for i := 1; i < len(cands); i++ {
		for j := i; j > 0 && cands[j].start < cands[j-1].start; j-- {
			cands[j], cands[j-1] = cands[j-1], cands[j]
		}
	}
}

func resolveOverlapsSmall(cands, kept []candidate) []candidate {
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
	return kept
}

// resolveOverlapsLarge does what resolveOverlapsSmall does in time linear
// in the candidates' total length: kept spans are disjoint (or identical),
// so an owner per byte tells which kept span covers it.
func resolveOverlapsLarge(cands, kept []candidate) []candidate {
	lo, hi := cands[0].start, cands[0].end
	for _, c := range cands {
		lo, hi = min(lo, c.start), max(hi, c.end)
	}
	owner := make([]int32, hi-lo)
	for i := range owner {
		owner[i] = -1
	}
	for _, c := range cands {
		ok := true
		for x := c.start; x < c.end && ok; x++ {
			o := owner[x-lo]
			if o < 0 {
				continue
			}
			k := kept[o]
			if k.start != c.start || k.end != c.end || k.ref.sub == c.ref.sub {
				ok = false
			}
		}
		if !ok {
			continue
		}
		idx := int32(len(kept))
		kept = append(kept, c)
		for x := c.start; x < c.end; x++ {
			if owner[x-lo] < 0 {
				owner[x-lo] = idx
			}
		}
	}
	return kept
}

// nounFollows reports whether a word other than a unit, a strength
// qualifier or a form (a solution, crystals) follows s, making s that
// word's strength.
func nounFollows(toks []token, s strength) bool {
	next := s.last + 1
	if next+1 < len(toks) && toks[next+1].kind == tokNum && listConnectors[toks[next].word] {
		return false // another strength of a list ("5 % of 10 %", Dutch "or")
	}
	return next < len(toks) && toks[next].kind == tokWord && toks[next].flags&(fUnit|fQualifier|fForm|fSolution) == 0
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
	// Analysis methods, which specifications name beside a purity
	// ("Nitromethane, GC area% 99.3", "≥ 99 % (HPLC)").
	"gc": true, "hplc": true, "titration": true, "nmr": true, "glc": true,
}

// negators are words that, directly before a term, say the product lacks it.
var negators = map[string]bool{
	"no": true, "without": true, "non": true, "zero": true, "sans": true, "ohne": true, "kein": true,
	"keine": true, "sin": true, "senza": true, "zonder": true, "bez": true, "без": true, "nicht": true,
	// "Nor" continues a negation over a list ("sin amoníaco ni agua
	// oxigenada", "sans nitrates ni phosphates", "bez azotanów ani
	// chloranów"). Italian "né" is read without its accent, as "ne",
	// which in French and Italian stands before a verb, never a name.
	// Not German and Dutch "noch", also "still", "more".
	"nor": true, "ni": true, "ne": true, "ani": true, "ни": true,
	"geen": true, // Dutch "no" ("bevat geen aceton")
	// Portuguese, which Iberian shops write beside Spanish ("sin nitrato
	// de potasio, sem nitrato de potássio").
	"sem": true, "nem": true,
	// A product against the substance: "anti-salpêtre" treats walls.
	"anti": true, "contre": true, "против": true, "przeciw": true,
	// Polish "devoid of" takes the genitive with no preposition
	// ("pozbawione nadtlenku wodoru").
	"pozbawiony": true, "pozbawiona": true, "pozbawione": true, "pozbawieni": true,
}

// negated reports "X-free", "X free", "free of X", "without X" and the
// like, of the term whose tokens start at first and end before after.
func negated(toks []token, first, after int) bool {
	before := first - 1
	// "non-acetone", "anti-salpêtre": the negator glued by a hyphen.
	if before >= 1 && toks[before].kind == tokPunct && toks[before].word == "-" && toks[before].end == toks[first].start &&
		toks[before-1].end == toks[before].start {
		before--
	}
	if has(toks, before, fNegator) {
		return true
	}
	if freeOf(toks, first) || zeroPercent(toks, before, after) || without(toks, before) {
		return true
	}
	if attributeNone(toks, after) {
		return true
	}
	if after < len(toks) && toks[after].kind == tokPunct && toks[after].word == "-" {
		after++
	}
	if listed(toks, after, absentAfter) {
		return true
	}
	// "ацетон не входит в состав": the term is not in the product.
	if after+1 < len(toks) && toks[after].kind == tokWord && (toks[after].word == "не" || toks[after].word == "ne") &&
		listed(toks, after+1, notContainedVerbs) {
		return true
	}
	return notBasedOn(toks, first) || policyNegated(toks, first) || contrasted(toks, first, after) || confusedWith(toks, first) ||
		resisted(toks, first)
}

// resisted reports a term that goods are rated to resist ("beständig
// gegen Schwefelsäure bis 96 %", "resistant to 98 % sulphuric acid",
// "стойкие к серной кислоте"): gloves, hoses and coatings, not the
// substance, whatever strength the rating names. A strength may stand
// between the preposition and the term.
func resisted(toks []token, first int) bool {
	k := first - 1
	if k >= 1 && toks[k].kind == tokPct && toks[k-1].kind == tokNum {
		k -= 2
	} else if k >= 0 && toks[k].kind == tokNum {
		k--
	}
	return k >= 1 && listed(toks, k, resistPreps) && listed(toks, k-1, resistWords)
}

var (
	// resistWords say goods withstand something.
	resistWords = foldedSetOf(`resistant resistance resists resist proof beständig bestandig beständigkeit resistent résistant résistante résistants
résistantes résistance resistente resistentes resistencia resistenti resistenza bestand bestendig bestendigheid odporny odporna odporne
odporni odporność стойкий стойкая стойкое стойкие стойкость устойчивый устойчивая устойчивое устойчивые устойчивость устойчив
stoykiy stoykaya stoykie ustoychivyy ustoychivye ustoychivost`)
	// resistPreps follow them: what is withstood comes next.
	resistPreps = foldedSetOf(`to against gegen à a al aux tegen na к ko k`)
)

// contrasted reports a term set apart as what the product is not: "not"
// right before it, the two alone between punctuation ("Нитроэтан 99 %.
// Не нитрометан, не путайте", "trietyloamina, nie trietanoloamina.").
// "Not only acetone but", "не менее 98 %" and a term followed by more
// words are none.
func contrasted(toks []token, first, after int) bool {
	apart := func(i int) bool {
		return i < 0 || i >= len(toks) || toks[i].kind == tokBreak || toks[i].kind == tokPunct
	}
	k := first - 1
	if listed(toks, k, contrastNots) && apart(k-1) && apart(after) {
		return true
	}
	// "is not" and its kin, an article between: "Ojo: no es acetona.",
	// "Ce n'est pas du chlorate de soude.", "To nie jest chloran(V) sodu.",
	// "Das ist kein Nitromethan." The term must end its clause: "is not
	// only acetone but" goes on.
	for n := 0; n < 2 && listed(toks, k, articles); n++ {
		k--
	}
	if !apart(after) || k < 1 {
		return false
	}
	neg := func(i int) bool { return listed(toks, i, contrastNots) || listed(toks, i, copulaNots) }
	cop := func(i int) bool { return listed(toks, i, copulas) }
	switch {
	case cop(k) && neg(k-1), neg(k) && cop(k-1): // "no es", "nie jest"; "is not", "ist kein"
		return true
	case listed(toks, k, copulaNots) && k >= 2 && cop(k-1) && toks[k-2].word == "n": // "n'est pas"
		return true
	}
	return false
}

var (
	// contrastNots are the words for "not" before a noun.
	contrastNots = foldedSetOf(`not nicht niet не nie ne`)
	// copulaNots are the other negators of "is not": "no es", "non è",
	// "ist kein", "is geen", "n'est pas".
	copulaNots = foldedSetOf(`no non kein keine keinen geen pas`)
	// copulas are the forms of "to be" a negated term follows or comes
	// after ("это не", "не является").
	copulas = foldedSetOf(`is are es son est sont ist sind e è sono jest sa są это eto является являются yavlyaetsya`)
	// articles may stand between "is not" and the term.
	articles = foldedSetOf(`a an the du de des la le l un une el los las una il lo ein eine einen een het`)
)

// confusedWith reports a term that follows "not to be confused with" and
// the like: a verb for confusing and the preposition right before it
// ("не путать с селитрой", "nie mylić z trietanoloaminą", "not to be
// confused with nitromethane", "nicht verwechseln mit Aceton").
func confusedWith(toks []token, first int) bool {
	k := first - 1
	if k < 1 || !listed(toks, k, withWords) {
		return false
	}
	k--
	return listed(toks, k, confuseVerbs)
}

var (
	withWords    = foldedSetOf(`with mit avec con met z ze с со s so`)
	confuseVerbs = foldedSetOf(`confuse confused confusing mistake mistaken verwechseln verwechselt verwechselbar confondre confondu confondue
confundir confundas confunda confondere confondete verwarren verwar verward mylic pomylic mylcie путать перепутать спутать путайте
putat pereputat sputat putajte putayte`)
)

// attributeNone reports a feed's attribute that gives the term, at
// toks[after], the value "none": "Aceton: Nein|Inhalt: 250 ml",
// "Nadtlenek wodoru: brak". The value ends the attribute ("No. 5" is a
// number).
func attributeNone(toks []token, after int) bool {
	if after+1 >= len(toks) || toks[after].kind != tokPunct || toks[after].word != ":" && toks[after].word != "=" ||
		toks[after+1].kind != tokWord || !noneValues[toks[after+1].word] {
		return false
	}
	next := after + 2
	return next == len(toks) || toks[next].kind == tokBreak ||
		toks[next].kind == tokPunct && toks[next].word != "." && toks[next].word != "-" && toks[next].word != "/"
}

// noneValues are the attribute values that say "none" or "no".
var noneValues = foldedSetOf(`no none nein kein keine non aucun aucune nee geen brak nie нет net ninguno ninguna nessuno nessuna nada nulla`)

// notContainedVerbs, after the term and "не", say the product holds none.
var notContainedVerbs = foldedSetOf(`входит содержится содержит vkhodit soderzhitsya soderzhit`)

// notBasedOn reports "not based on X" before the term at first: "niet op
// basis van aceton", "nicht auf Basis von", "not based on", "non à base
// de", "nie na bazie".
func notBasedOn(toks []token, first int) bool {
	k := first - 1
	if k < 1 || toks[k].kind != tokWord || !basisOfWords[toks[k].word] {
		return false
	}
	k--
	if toks[k].kind != tokWord || !basisWords[toks[k].word] {
		return false
	}
	for j := k - 1; j >= 0 && j >= k-3; j-- {
		if toks[j].kind == tokBreak {
			return false
		}
		if toks[j].kind == tokWord && notWords[toks[j].word] {
			return true
		}
	}
	return false
}

var (
	basisOfWords = foldedSetOf(`van von on de di na`)
	basisWords   = foldedSetOf(`basis base based bazie`)
	notWords     = foldedSetOf(`niet nicht not non pas no nie не ne`)
)

// romanAfter reads an oxidation state in parentheses at s[i:] ("(V)",
// "(iii)").
func romanAfter(s string, i int) (string, bool) {
	if i < 0 || i >= len(s) || s[i] != '(' {
		return "", false
	}
	j := strings.IndexByte(s[i:], ')')
	if j < 2 || j > 5 {
		return "", false
	}
	n := strings.ToUpper(s[i+1 : i+j])
	if strings.Trim(n, "IVX") != "" {
		return "", false
	}
	return n, true
}

// otherNumeral reports a name followed by an oxidation state its
// substance's names do not write: "sodium chlorate(I)" is sodium
// hypochlorite, "kwas azotowy(III)" nitrous acid.
func (m *Matcher) otherNumeral(text string, c candidate) bool {
	nums := m.subs[c.ref.sub].numerals
	if len(nums) == 0 {
		return false
	}
	n, ok := romanAfter(text, c.end)
	if !ok && c.end < len(text) && text[c.end] == ' ' {
		n, ok = romanAfter(text, c.end+1)
	}
	return ok && !slices.Contains(nums, n)
}

// personTitles come before a person's name.
var personTitles = foldedSetOf(`dr mr mrs ms miss prof professor herr frau mme mlle monsieur madame sig sr sra srta pan pani dott`)

// personNamed reports a term written as a person's surname: a capital
// after a title and at most two given names or initials ("Dr A. Soman",
// "Prof. Maria Sarin"): chemical names are never so written.
func personNamed(text string, start int) bool {
	if start >= len(text) {
		return false
	}
	if r, _ := utf8.DecodeRuneInString(text[start:]); !unicode.IsUpper(r) {
		return false
	}
	var buf [32]byte
	end := start
	for range 3 {
		e := end
		for e > 0 && text[e-1] == ' ' {
			e--
		}
		b := e
		for b > 0 && text[b-1] != ' ' && start-b < 40 {
			b--
		}
		w := strings.TrimSuffix(text[b:e], ".")
		if w == "" || len(w) > len(buf) {
			return false
		}
		if personTitles[string(appendFolded(buf[:0], w))] {
			return true
		}
		if r, _ := utf8.DecodeRuneInString(w); !unicode.IsUpper(r) {
			return false
		}
		end = b
	}
	return false
}

// without reports "w/o" ending at token i: "without" as shops shorten it.
func without(toks []token, i int) bool {
	return i >= 2 && toks[i].kind == tokWord && toks[i].word == "o" && toks[i-1].kind == tokPunct && toks[i-1].word == "/" &&
		toks[i-2].kind == tokWord && toks[i-2].word == "w" && toks[i-2].end == toks[i-1].start && toks[i-1].end == toks[i].start
}

// absentAfter are the words that, right after a term, say the product
// lacks it: "acetone free", "Aceton-frei", "перекись отсутствует"; or is
// against it, as the German and Dutch removers and barriers of masonry
// saltpetre are, written apart ("Salpeter-Entferner", as acidTails reads
// them written as one word; English "remover" is left out: an "acetone
// remover" is made of acetone).
var absentAfter = foldedSetOf(`free frei libre exempt absent отсутствует otsutstvuet otsutstvuyet
entferner sperre verwijderaar`)

// freeWords and freeOfWords make "free of" in the languages covered:
// "free of", "frei von", "libre de", "exempt d'", "privo di", "vrij van",
// "wolny od", "свободный от".
var (
	freeWords = foldedSetOf(`free frei freie freies libre libres exempt exempte exempts exemptes dépourvu dépourvue dépourvus dépourvues privo priva privi prive
esente esenti exento exenta isento isenta vrij wolny wolna wolne свободный свободная свободно`)
	freeOfWords = foldedSetOf(`of from von de d di da van od от`)
	// freeOfCharge are the nouns that make "free of" a price or a service.
	freeOfCharge = foldedSetOf(`charge cost costs kosten gastos frais spese kosztów kosten charges`)
)

// freeOf reports a term negated by "free of" before it, directly or as an
// item of the list it heads, in one sentence: "frei von Nitromethan",
// "libre de amoníaco y de agua oxigenada", "exempt d'acétone et de
// toluène", but not "free of charge, acetone 5 L".
func freeOf(toks []token, first int) bool {
	word := func(i int) string {
		if i >= 0 && i < len(toks) && toks[i].kind == tokWord {
			return toks[i].word
		}
		return ""
	}
	inList := false // a list connector or separator between "free of" and the term
	words := 0
	for k := first - 1; k >= 1 && words <= 6; k-- {
		t := toks[k]
		switch {
		case t.kind == tokBreak || t.kind == tokPunct && t.word == ":":
			return false
		case t.kind == tokPunct:
			inList = inList || t.word == "," || t.word == "/" || t.word == "&"
			continue
		case t.kind != tokWord:
			words++
			continue
		}
		if listed(toks, k, freeOfWords) && (listed(toks, k-1, freeWords) || toks[k-1].kind == tokPunct && listed(toks, k-2, freeWords)) {
			// The first word after "free of" is not a price's ("free of
			// charge").
			next := k + 1
			for next < first && toks[next].kind == tokPunct {
				next++
			}
			if freeOfCharge[word(next)] {
				return false
			}
			return next == first || inList
		}
		inList = inList || listed(toks, k, headConnectors)
		words++
	}
	return false
}

// zeroPercent reports a term stated at 0 %, which says the product holds
// none: "0 % acetone", "ацетон: 0 %".
func zeroPercent(toks []token, before, after int) bool {
	zero := func(i int) bool { return i >= 0 && i < len(toks) && toks[i].kind == tokNum && toks[i].num == 0 }
	pct := func(i int) bool {
		return i >= 0 && i < len(toks) && (toks[i].kind == tokPct || toks[i].flags&fPercent != 0)
	}
	if pct(before) && zero(before-1) {
		return true
	}
	if after < len(toks) && toks[after].kind == tokPunct && toks[after].word == ":" {
		after++
	}
	return zero(after) && pct(after+1)
}

// tradeVerbs are the verbs of a shop's policy that a negation before them
// carries over the list after them ("we never ship acetone, H2O2 or any
// acids", "we do not sell KNO3, chlorates or nitromethane").
var tradeVerbs = map[string]bool{
	"sell": true, "ship": true, "stock": true, "carry": true, "offer": true, "supply": true,
	"deliver": true, "send": true, "accept": true, "post": true, "sold": true, "shipped": true,
	"stocked": true, "offered": true, "supplied": true, "delivered": true, "sent": true,
}

// containVerbs say what a product holds: negated, they negate the list
// after them as a shop's policy does ("no contiene acetona", "ne contient
// pas d'eau oxygénée", "не содержит перекиси").
var containVerbs = foldedSetOf(`contain contains containing include includes contient contiennent contiene contengono contem lleva llevan
enthält enthalten bevat bevatten zawiera zawierają содержит содержат soderzhit soderzhat`)

// notBefore are the words that negate the verb after them: English, and
// the negations standing before a verb in es, it, fr, pl and ru.
var notBefore = foldedSetOf(`not never cannot dont doesnt wont cant no non ne nie не`)

// stopBeforeVerb are words that, between a trade verb and a term, make the
// term no object of the verb ("we don't ship on Sundays, acetone 5 L").
var stopBeforeVerb = map[string]bool{
	"to": true, "on": true, "from": true, "in": true, "into": true, "outside": true, "via": true, "by": true,
	"at": true, "until": true, "before": true, "after": true, "during": true, "for": true, "but": true,
}

// policyNegated reports a term in the object list of a negated trade verb,
// within one sentence: going back from the term over list items and their
// separators to the verb, with "not", "never", "don't", "no longer" and
// the like before it.
func policyNegated(toks []token, first int) bool {
	for k := first - 1; k >= 0 && k >= first-16; k-- {
		t := toks[k]
		if t.kind == tokBreak || t.kind == tokPunct && t.word == ":" {
			return false
		}
		if t.kind != tokWord {
			continue
		}
		if t.flags&fStopVerb != 0 {
			return false
		}
		if t.flags&fPolicyVerb == 0 {
			continue
		}
		// "do not sell", "never ship", "no longer stock", "don't sell".
		w := func(i int) string {
			for i >= 0 && toks[i].kind == tokPunct && (toks[i].word == "'" || toks[i].word == "’") {
				i--
			}
			if i >= 0 && toks[i].kind == tokWord {
				return toks[i].word
			}
			return ""
		}
		prev := w(k - 1)
		if notBefore[prev] || prev == "longer" && w(k-2) == "no" {
			return true
		}
		if prev == "t" { // "don't" written with its apostrophe
			before := k - 2
			for before >= 0 && toks[before].kind == tokPunct {
				before--
			}
			switch w(before) {
			case "don", "doesn", "won", "can", "didn":
				return true
			}
		}
		return false
	}
	return false
}

// acrossList reports a term read across a list's separators ("Potassium,
// nitrate, phosphate", "Kalium / Nitrat"): the span has a ",", ";" or "|"
// before a space, or a " / " or " + ", that the term as written has not
// ("1 L + 3 %" is no L-3).
func acrossList(span, term string) bool {
	n := listSeps(span)
	return n > 0 && n > listSeps(term)
}

// listSepByte marks the bytes listSeps looks at: most spans hold none.
var listSepByte = [256]bool{',': true, ';': true, '|': true, '/': true, '+': true}

// listSeps counts the list separators of acrossList in s.
func listSeps(s string) int {
	n := 0
	for i := 0; i+1 < len(s); i++ {
		if !listSepByte[s[i]] {
			continue
		}
		switch {
		case (s[i] == ',' || s[i] == ';' || s[i] == '|') && (s[i+1] == ' ' || s[i+1] == '\t' || s[i+1] == '\n'):
			n++
		case (s[i] == '/' || s[i] == '+') && i > 0 && s[i-1] == ' ' && s[i+1] == ' ':
			n++
		}
	}
	return n
}

// derivativeIndexName reports an acid's name turned by what follows it
// into a CAS index name of one of its salts or esters ("Sulfuric acid,
// diammonium salt", "Sulfuric acid, monododecyl ester, sodium salt"): a
// comma, then only cations, organic groups and "(2+)"-style charges, then
// "salt" or "ester". A list ("Nitric acid, rock salt") is not one.
func derivativeIndexName(toks []token, after int) bool {
	if after < 1 || after >= len(toks) || toks[after-1].word != "acid" || toks[after].kind != tokPunct || toks[after].word != "," {
		return false
	}
	parts := 0
	for k := after + 1; k < len(toks) && k <= after+8; k++ {
		t := toks[k]
		switch {
		case t.kind == tokWord && (t.word == "salt" || t.word == "ester"):
			return parts > 0
		case t.kind == tokWord && saltPart(t.word):
			parts++
		case t.kind == tokNum || t.kind == tokPunct && strings.Contains("()+:", t.word):
		default:
			return false
		}
	}
	return false
}

// classNames are the generic words for saltpetre: alone they name
// potassium nitrate, but beside the saltpetres they are the class of
// ("twee salpeters: Chilisalpeter en Kalksalpeter", "Salpeter-Sortiment:
// Kalksalpeter und Natronsalpeter").
var classNames = foldedSetOf(`saltpetre saltpetres saltpeter saltpeters nitre niter salpeter salpeters salpetre salpetres salitre salitres`)

// dropClassNames removes a match read from a generic class name
// (classNames) when the listing also names another substance whose own
// name holds that word (Kalksalpeter, Chile saltpetre, salitre de Chile),
// unless a strength was stated for it: the listing sells the kinds.
func dropClassNames(sc *scratch) {
	if len(sc.staged) < 2 {
		return
	}
	var buf, other [64]byte
	kept := sc.staged[:0]
	for _, st := range sc.staged {
		w := appendFolded(buf[:0], st.text)
		if classNames[string(w)] && !(st.hasConc && !st.shared) && slices.ContainsFunc(sc.staged, func(o staged) bool {
			return o.ref.sub != st.ref.sub && len(o.text) > len(st.text) && bytes.Contains(appendFolded(other[:0], o.text), w)
		}) {
			continue
		}
		kept = append(kept, st)
	}
	clear(sc.staged[len(kept):])
	sc.staged = kept
}

// saltBases are the bases the old German nomenclature names salts after,
// the acid written as an adjective before them: "schwefelsaure Tonerde" is
// aluminium sulfate, "schwefelsaure Magnesia" Epsom salt.
var saltBases = foldedSetOf(`tonerde thonerde magnesia bittererde talkerde kalkerde erde salze kali natron ammoniak kalk baryt`)

// acidAdjective reports a German acid written as the adjective of its
// salts before one of their bases ("Schwefelsaure Tonerde"): without its
// umlaut the feminine adjective is spelt as the acid is on a keyboard
// without one. (The adjective's other endings, "-saures Kali", are
// otherSubstanceTail's.)
func acidAdjective(text string, toks []token, c candidate) bool {
	if c.tokAfter >= len(toks) || toks[c.tokAfter].kind != tokWord || !saltBases[toks[c.tokAfter].word] {
		return false
	}
	return c.end-c.start >= 5 && strings.EqualFold(text[c.end-5:c.end], "saure")
}

// saltPart reports a word that names a cation or an organic group in a
// CAS index name, with its count prefix ("diammonium", "monododecyl").
func saltPart(w string) bool {
	for _, p := range []string{"mono", "di", "tri", "tetra", "bis", "tris"} {
		if r, ok := strings.CutPrefix(w, p); ok && len(r) >= 4 && saltPart(r) {
			return true
		}
	}
	return cationWords[w] || w == "ammonium" || w == "hydrogen" || organicGroup(w)
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

// asWords say, in a specification's parentheses, in what a figure is
// expressed: "free acid (as H2SO4) 0.04 %", "Gesamtsäure (als HNO3)".
var asWords = foldedSetOf(`as als en come como jako как`)

// measuredAs reports whether the term at toks[first:after] is the basis a
// specification expresses another figure in, "(as H2SO4)": it names no
// product.
func measuredAs(toks []token, first, after int) bool {
	return first >= 2 && after < len(toks) && toks[first-1].kind == tokWord && asWords[toks[first-1].word] &&
		toks[first-2].kind == tokPunct && toks[first-2].word == "(" && toks[after].kind == tokPunct && toks[after].word == ")"
}

// qualified reports whether the word directly before token first (no
// punctuation between) is a cation or an organic group that makes the
// term part of another compound's name ("sodium hydrogen sulfate",
// "tert-butyl hydroperoxide", "methyl nitrate").
func qualified(toks []token, first int) bool {
	before := first - 1
	if has(toks, before, fCation) {
		return true
	}
	of := before
	if of >= 0 && toks[of].kind == tokPunct && (toks[of].word == "'" || toks[of].word == "’") {
		of-- // "d'aluminium"
	}
	if of >= 1 && listed(toks, of, ofWords) && listed(toks, of-1, anionHeads) {
		return true
	}
	if listed(toks, before, derivativeHeads) || listed(toks, before, genitiveAnionHeads) {
		return true
	}
	return before >= 0 && toks[before].kind == tokWord && organicGroup(toks[before].word)
}

// derivativeHeads name, before a genitive, a compound made from the
// substance, not the substance: "оксим ацетона" (acetone oxime), "соль
// азотной кислоты" (a nitrate), "ester kwasu azotowego".
var derivativeHeads = foldedSetOf(`оксим оксима эфир эфира эфиры гидразон гидразона производное производные соль соли
ангидрид хлорангидрид аддукт oksym oksymu ester estru pochodna pochodne sól soli addukt`)

// anionHeads head the name of a compound of the element after them, in
// the languages that name the anion first ("idrossido di alluminio in
// polvere" is aluminium hydroxide powder, "oxyde d'aluminium"), before
// one of ofWords.
var (
	anionHeads = foldedSetOf(`hydroxide oxide stearate carbonate sulfate sulphate chloride phosphate silicate acetate
idrossido ossido stearato carbonato solfato cloruro fosfato silicato acetato
hydroxyde oxyde stéarate sulfate chlorure silicate
hidróxido óxido estearato sulfato
hydroxid oxid citrate citrato`)
	// genitiveAnionHeads head a compound's name directly before the
	// element in the genitive, in Polish and Russian ("cytrynian magnezu w
	// proszku" is magnesium citrate powder, "стеарат магния").
	genitiveAnionHeads = foldedSetOf(`wodorotlenek tlenek stearynian węglan siarczan chlorek fosforan krzemian octan cytrynian mleczan glukonian
гидроксид оксид стеарат карбонат сульфат хлорид фосфат силикат ацетат цитрат лактат глюконат
gidroksid oksid stearat karbonat sulfat khlorid fosfat silikat atsetat tsitrat laktat glyukonat`)
	ofWords = foldedSetOf(`of di de d du del della dello`)
)

// organicGroup reports whether a folded word names an alkyl or aryl group
// ("methyl", "butyl", "benzyl"; French "méthyle").
func organicGroup(w string) bool {
	return len(w) >= 4 && strings.HasSuffix(w, "yl") || len(w) >= 5 && strings.HasSuffix(w, "yle")
}

// tokenSpan returns the index of the first token at or after off.
func tokenAt(toks []token, off int) int {
	// sort.Search by hand: the rules call this for every candidate, and
	// the closure call is most of sort.Search's cost.
	lo, hi := 0, len(toks)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if toks[h].start < off {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo
}

// nextToStrengthOrQuantity reports whether a strength or a quantity is
// written directly before or after the span of tokens [first, after)
// (punctuation aside).
func nextToStrengthOrQuantity(toks []token, strengths []strength, first, after int) bool {
	for after < len(toks) && toks[after].kind == tokPunct && strings.ContainsAny(toks[after].word, ":-(@=/,") {
		after++
	}
	before := first - 1
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
func strengthFor(text string, toks []token, strengths []strength, accepted []candidate, c candidate, sub *compiledSubstance, sc *scratch) (float64, string, bool) {
	nitrogenBasis := sub.nitrogenBasis
	strengths = nearStrengths(toks, strengths, c.start, c.end)
	if len(strengths) == 0 {
		return 0, "", false
	}
	accepted = nearCands(accepted, c.start, c.end)
	dist := func(o candidate, s strength) int {
		if s.distributive {
			return wordsWithin(toks, o, s.first, s.last, distributiveReach)
		}
		return wordsBetween(toks, o, s.first, s.last)
	}
	owns := func(s strength, d int) bool {
		if s.distributive {
			return true
		}
		cAfter := toks[s.first].start >= c.end
		if cAfter && otherItemBetween(text, toks, c.tokAfter, s.first) {
			return false
		}
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
		return 0, "", false
	}
	// Follow a list of strengths after the chosen one in the same sentence
	// ("3%, 12% and 35%"), joined by connectors or quantities only; a
	// strength followed by another noun ("18% oil") belongs to that noun.
	chain := append(sc.chain[:0], strengths[best])
	defer func() { sc.chain = chain[:0] }()
	for i := best + 1; i < len(strengths); i++ {
		prev, next := chain[len(chain)-1], strengths[i]
		if asideStrength(toks, prev.last+1, next) {
			continue // "5 % (oil 18 %) · 10 %": another component's, in brackets
		}
		joined := true
		for t := prev.last + 1; t < next.first && joined; t++ {
			if e := asideEnd(toks, t, next.first); e > t {
				t = e // an aside in brackets between two strengths of the list
				continue
			}
			switch toks[t].kind {
			case tokBreak:
				joined = false
			case tokWord:
				joined = toks[t].flags&(fConnector|fUnit|fForm|fSolution) != 0
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
	var read strength
	ok := false
	for _, st := range chain {
		if w, ok2 := percentOf(st, sub); ok2 && (!ok || w > v) {
			v, read, ok = w, st, true
		}
	}
	// A strength read in another unit is shown as written beside the
	// percentage it makes ("12.6% w/w (2 N)").
	stated := ""
	if ok && v != read.value {
		stated = text[toks[read.first].start:toks[read.last].end]
	}
	return v, stated, ok
}

// emptyCellAfter reports whether toks[i:] is a table's empty cell right
// after a name's: "|", a dash or slash standing for nothing, "|". The row
// states no strength, and one from a row before or after is not its own.
func emptyCellAfter(toks []token, i int) bool {
	if !punctAt(toks, i, "|") || !punctAt(toks, i+2, "|") {
		return false
	}
	return punctAt(toks, i+1, "—") || punctAt(toks, i+1, "–") || punctAt(toks, i+1, "-") || punctAt(toks, i+1, "/")
}

// asideStrength reports whether s stands in brackets opened at or after
// toks[from] and closed after it, behind a word of another noun ("(oil
// 18 %)"): an aside on another component of the goods, not a strength of
// the list it interrupts.
func asideStrength(toks []token, from int, s strength) bool {
	open := -1
	for t := from; t < s.first; t++ {
		switch {
		case toks[t].kind == tokBreak:
			return false
		case punctAt(toks, t, "("):
			open = t
		case punctAt(toks, t, ")"):
			open = -1
		}
	}
	if open < 0 || asideEnd(toks, open, len(toks)) <= s.last {
		return false
	}
	for t := open + 1; t < s.first; t++ {
		if toks[t].kind == tokWord && toks[t].flags&(fConnector|fUnit|fForm|fSolution|fQualifier) == 0 {
			return true
		}
	}
	return false
}

// asideEnd returns the index of the ")" closing the "(" at toks[t] before
// toks[limit], or t when toks[t] opens no such bracket.
func asideEnd(toks []token, t, limit int) int {
	if !punctAt(toks, t, "(") {
		return t
	}
	for e := t + 1; e < limit && e-t <= maxAsideTokens; e++ {
		switch {
		case toks[e].kind == tokBreak || punctAt(toks, e, "("):
			return t
		case punctAt(toks, e, ")"):
			return e
		}
	}
	return t
}

// maxAsideTokens bounds an aside in brackets: a few words and figures.
const maxAsideTokens = 12

// bareGrade reads the nitrogen grade that a fertiliser's trade name
// carries as a bare number right after the name, no "%" and no "N"
// ("Ammonitrate 33,5", "AN 34,4 big bag", "saletra amonowa 34"): a number
// from minBareGrade to ammoniumNitrateN, with a decimal part after an
// abbreviation (decimal), followed by nothing, a sentence break, a word
// that is no unit, or a dash or comma set apart from it. Anything else
// makes it a price, an amount or a code ("AN 25,50 €", "AN 30 kg").
func bareGrade(text string, toks []token, c candidate, decimal bool) (float64, bool) {
	i := c.tokAfter
	if i >= len(toks) || toks[i].kind != tokNum || c.end > toks[i].start || strings.TrimSpace(text[c.end:toks[i].start]) != "" {
		return 0, false
	}
	t := toks[i]
	if t.num < minBareGrade || t.num > ammoniumNitrateN || decimal && !strings.ContainsAny(text[t.start:t.end], ".,\u00b7") {
		return 0, false
	}
	if i+1 < len(toks) {
		switch n := toks[i+1]; n.kind {
		case tokBreak:
		case tokWord:
			if n.flags&(fUnit|fPercent|fNotStrength|fVolume) != 0 {
				return 0, false
			}
		case tokPunct:
			if !strings.Contains(",-–—", n.word) || n.start == t.end || i+2 < len(toks) && toks[i+2].kind == tokNum {
				return 0, false
			}
		default:
			return 0, false
		}
	}
	return t.num, true
}

// gradeCode reports a code written as a grade's name, the word for grade
// right after it ("DC grade", "HP grade", "AR-Qualität"): a grade of
// whatever the listing sells, not the substance the code also stands for.
func gradeCode(toks []token, after int) bool {
	if after < len(toks) && toks[after].kind == tokPunct && toks[after].word == "-" {
		after++
	}
	if after >= len(toks) || toks[after].kind != tokWord || !gradeWords[toks[after].word] {
		return false
	}
	// A grade named after the word, as Romance and Slavic languages put
	// it ("TDG qualité technique", "TEA calidad técnica"), is the grade
	// of the goods the code names.
	return after+1 >= len(toks) || toks[after+1].kind != tokWord || !gradeAdjectives[toks[after+1].word]
}

var gradeAdjectives = foldedSetOf(`technique tecnica tecnico técnica técnico techniczna techniczny техническая технический tekhnicheskaya
alimentaire alimentare alimentaria spozywcza pharmaceutique farmaceutica farmaceutico farmaceutyczna analytique analitica analitico analityczna
reactif reactifs reactivo reagente odczynnikowa`)

var gradeWords = foldedSetOf(`grade grades quality qualität qualitaet qualité calidad qualità kwaliteit jakość jakosc сорт sort`)

// minBareGrade is the lowest nitrogen grade bareGrade reads: straight
// ammonium nitrate fertilisers are sold from about 26 % N (calcium
// ammonium nitrate 27 %) up to 34.5 %.
const minBareGrade = 20

// gradeSupports reports whether an abbreviation of a substance whose limit
// is on nitrogen is followed by its grade ("AN 33,5"), which is as good a
// context as a percentage.
func (m *Matcher) gradeSupports(text string, toks []token, c candidate) bool {
	if !m.subs[c.ref.sub].nitrogenBasis {
		return false
	}
	_, ok := bareGrade(text, toks, c, true)
	return ok
}

// wordsBetween counts the words between candidate o and the tokens
// first..last (a strength or an amount); -1 when they are in different
// sentences, overlap, or are more than strengthReach words apart.
func wordsBetween(toks []token, o candidate, first, last int) int {
	return wordsWithin(toks, o, first, last, strengthReach)
}

// wordsWithin is wordsBetween with a reach of its own.
func wordsWithin(toks []token, o candidate, first, last, reach int) int {
	var from, to int
	switch {
	case first >= o.tokAfter:
		from, to = o.tokAfter, first
	case last < o.tokFirst:
		from, to = last+1, o.tokFirst
	default:
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
	if words > reach {
		return -1
	}
	return words
}
