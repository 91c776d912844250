package matchers

import (
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// tokKind classifies a token of the strength scanner.
type tokKind uint8

const (
	tokWord  tokKind = iota // letters (folded)
	tokNum                  // a number, decimal point or comma included
	tokPct                  // "%"
	tokPunct                // any other single symbol
	tokBreak                // a sentence break: ". ", "!", "?", ";", "|", newline, bullet
)

// token is one token of a field with its span in the original text.
type token struct {
	kind       tokKind
	start, end int
	word       string  // tokWord: folded text; tokPunct: the symbol
	num        float64 // tokNum
}

// abbrevDot are words after which a full stop does not end a sentence.
var abbrevDot = map[string]bool{
	"vol": true, "conc": true, "approx": true, "ca": true, "min": true, "max": true,
	"tech": true, "techn": true, "no": true, "nr": true, "pcs": true, "incl": true,
	"ref": true, "art": true, "env": true, "z": true, "b": true, "e": true, "g": true, "i": true,
}

// wordSpan locates a word token's folded text in the tokenizer's arena.
type wordSpan struct{ tok, a, b int }

// scratch holds buffers reused across calls through scratchPool.
type scratch struct {
	toks  []token
	words []wordSpan
	arena []byte
	norm  normText
	hay   []byte
	cands []candidate
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// tokenizeRange splits s[from:to] into tokens for strength and quantity
// parsing (offsets stay those of s); from and to are moved out to the
// nearest white space so no word or number is cut. It reads the original
// text, not the normalised one, because decimal points, percent signs and
// sentence punctuation matter here.
// With sc, its buffers are reused and the result is valid until sc is.
func tokenizeRange(s string, from, to int, sc *scratch) []token {
	for from > 0 && s[from-1] != ' ' && s[from-1] != '\n' {
		from--
	}
	for to < len(s) && s[to] != ' ' && s[to] != '\n' {
		to++
	}
	if sc == nil {
		sc = new(scratch)
	}
	toks := sc.toks[:0]
	// Words are folded into one arena so that tokenizing allocates little.
	arena := sc.arena[:0]
	words := sc.words[:0]
	defer func() { sc.arena, sc.words = arena[:0], words[:0] }()
	for i := from; i < to; {
		r, size := foldASCII(s[i:])
		switch {
		case r >= '0' && r <= '9':
			j, v := scanNumber(s, i)
			toks = append(toks, token{kind: tokNum, start: i, end: j, num: v})
			i = j
			continue
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r):
			j := i
			for j < len(s) {
				r2, sz := utf8.DecodeRuneInString(s[j:])
				if r2 >= '0' && r2 <= '9' {
					// Digits inside a word belong to it ("chl0rate",
					// "kno3"), not to a strength.
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
				if !unicode.IsLetter(r2) && !unicode.Is(unicode.Mn, r2) {
					break
				}
				j += sz
			}
			a := len(arena)
			arena = appendFolded(arena, s[i:j])
			words = append(words, wordSpan{len(toks), a, len(arena)})
			toks = append(toks, token{kind: tokWord, start: i, end: j})
			i = j
			continue
		case r == '%' || r == '％':
			toks = append(toks, token{kind: tokPct, start: i, end: i + size})
		case r == '\n' || r == '!' || r == '?' || r == ';' || r == '|' || r == '•':
			toks = append(toks, token{kind: tokBreak, start: i, end: i + size})
		case r == '.':
			// A full stop ends a sentence unless it closes a known
			// abbreviation ("vol.", "conc.") or is not followed by space.
			next := i + 1
			atEnd := next >= len(s) || s[next] == ' ' || s[next] == '\n' || s[next] == '\t'
			prevAbbrev := len(words) > 0 && words[len(words)-1].tok == len(toks)-1 && toks[len(toks)-1].end == i &&
				abbrevDot[string(arena[words[len(words)-1].a:words[len(words)-1].b])]
			if atEnd && !prevAbbrev {
				toks = append(toks, token{kind: tokBreak, start: i, end: next})
			}
		case unicode.IsSpace(r):
		default:
			toks = append(toks, token{kind: tokPunct, start: i, end: i + size, word: string(r)})
		}
		i += size
	}
	all := string(arena)
	for _, w := range words {
		toks[w.tok].word = all[w.a:w.b]
	}
	sc.toks = toks
	return toks
}

// appendFolded appends the normalised form of a word (letters only, so it
// has no separators) to dst.
func appendFolded(dst []byte, w string) []byte {
	for i := 0; i < len(w); {
		c := w[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(w[i:])
		for _, f := range foldRune(r) {
			if f != ' ' {
				dst = utf8.AppendRune(dst, f)
			}
		}
		i += size
	}
	return dst
}

// foldASCII decodes the rune at the start of s, folding full-width digits,
// signs and subscripts to ASCII by compatibility decomposition.
func foldASCII(s string) (rune, int) {
	r, size := utf8.DecodeRuneInString(s)
	if r >= utf8.RuneSelf && !unicode.IsLetter(r) {
		if d := norm.NFKC.String(string(r)); len(d) == 1 {
			return rune(d[0]), size
		}
	}
	return r, size
}

// scanNumber reads a number at s[i:]: digits with one decimal point or
// comma ("34.5", "34,5"); a comma followed by exactly three digits is a
// thousands separator ("1,000").
func scanNumber(s string, i int) (int, float64) {
	var text []byte
	j := i
	digits := func() {
		for j < len(s) {
			r, size := foldASCII(s[j:])
			if r < '0' || r > '9' {
				return
			}
			text = append(text, byte(r))
			j += size
		}
	}
	digits()
	if sep, size := foldASCII(s[j:]); sep == '.' || sep == ',' {
		if d, _ := foldASCII(s[j+size:]); d >= '0' && d <= '9' {
			before := len(text)
			j += size
			digits()
			// A comma before exactly three digits separates thousands.
			if sep != ',' || len(text)-before != 3 {
				text = append(text[:before], append([]byte{'.'}, text[before:]...)...)
			}
		}
	}
	v, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		v = -1
	}
	return j, v
}

// strengthKind says how a stated strength is expressed.
type strengthKind uint8

const (
	strPercent  strengthKind = iota // % (w/w assumed)
	strVolumes                      // peroxide volume strength ("50 vol")
	strNitrogen                     // % nitrogen ("34.5% N", NPK grade "34-0-0")
)

// strength is a concentration expression found in a field's tokens.
type strength struct {
	first, last int // token indexes, inclusive
	value       float64
	kind        strengthKind
	byWeight    bool // "% w/w" stated explicitly
}

var (
	percentWords  = map[string]bool{"percent": true, "pct": true, "prozent": true, "pourcent": true, "procent": true, "porcentaje": true}
	volumeWords   = map[string]bool{"vol": true, "vols": true, "volume": true, "volumes": true, "volumen": true, "volumenes": true, "volumi": true, "volumina": true}
	nitrogenWords = map[string]bool{"n": true, "nitrogen": true, "azote": true, "stickstoff": true, "nitrogeno": true}
	// notStrength are words that turn a percentage into a marketing claim
	// or price ("10% off", "100% reship", "VAT 20%").
	notStrength = map[string]bool{
		"off": true, "discount": true, "rabatt": true, "remise": true, "descuento": true, "reduction": true,
		"cashback": true, "refund": true, "reship": true, "reshipping": true, "feedback": true, "positive": true,
		"satisfaction": true, "satisfied": true, "guarantee": true, "guaranteed": true, "stealth": true, "escrow": true,
		"success": true, "safe": true, "delivery": true, "vat": true, "tva": true, "iva": true, "mwst": true,
		"tax": true, "bonus": true, "sale": true, "extra": true, "more": true, "free": true, "rate": true,
		"legit": true, "genuine": true, "authentic": true, "original": true, "natural": true, "organic": true,
		"money": true, "moneyback": true, "trusted": true, "secure": true, "anonymous": true, "discreet": true,
		"customer": true, "customers": true, "buyer": true, "buyers": true, "orders": true, "uptime": true,
		"of": true, "cheaper": true, "less": true, "save": true, "deposit": true, "upfront": true, "fe": true,
		"finalize": true, "fee": true, "commission": true, "humidity": true, "moisture": true, "water": true,
	}
	quantityUnits = map[string]bool{
		"g": true, "gr": true, "gram": true, "grams": true, "gramm": true, "gramos": true, "grammes": true,
		"kg": true, "kgs": true, "kilo": true, "kilos": true, "kilogram": true, "kilograms": true, "mg": true,
		"ml": true, "l": true, "lt": true, "ltr": true, "liter": true, "liters": true, "litre": true, "litres": true,
		"litro": true, "litros": true, "cl": true, "dl": true, "lb": true, "lbs": true, "oz": true,
		"t": true, "ton": true, "tons": true, "tonne": true, "tonnes": true, "gal": true, "gallon": true, "gallons": true,
		"µg": true, "μg": true, "ug": true, "mcg": true, "drum": true, "drums": true,
	}
	// purityWords introduce a strength that may be written without a
	// percent sign ("purity: 99", "concentration: 70").
	purityWords = map[string]bool{
		"purity": true, "assay": true, "concentration": true, "conc": true, "strength": true, "reinheit": true,
		"konzentration": true, "gehalt": true, "purete": true, "pureza": true, "purezza": true, "concentracion": true,
		"concentrazione": true, "zuiverheid": true, "titre": true,
	}
)

// findStrengths finds every concentration expression in toks.
func findStrengths(toks []token) []strength {
	var out []strength
	word := func(i int) string {
		if i >= 0 && i < len(toks) && toks[i].kind == tokWord {
			return toks[i].word
		}
		return ""
	}
	isPunct := func(i int, syms string) bool {
		return i >= 0 && i < len(toks) && toks[i].kind == tokPunct && strings.Contains(syms, toks[i].word)
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind != tokNum || t.num < 0 {
			continue
		}
		first, v := i, t.num
		j := i + 1
		// A range "30-35%" or "30 to 35 %": keep the upper bound.
		if j+1 < len(toks) && toks[j+1].kind == tokNum && (isPunct(j, "-–~") || word(j) == "to" || word(j) == "bis" || word(j) == "a" || word(j) == "à") &&
			j+2 < len(toks) && (toks[j+2].kind == tokPct || percentWords[word(j+2)]) {
			if toks[j+1].num > v {
				v = toks[j+1].num
			}
			j += 2
		}
		// NPK fertiliser grade "34-0-0": nitrogen first.
		if isPunct(j, "-") && j+3 < len(toks) && toks[j+1].kind == tokNum && isPunct(j+2, "-") && toks[j+3].kind == tokNum &&
			toks[j].start == t.end && v <= 46 && toks[j+1].num <= 100 && toks[j+3].num <= 100 {
			out = append(out, strength{first: first, last: j + 3, value: v, kind: strNitrogen})
			i = j + 3
			continue
		}
		var s strength
		switch {
		case j < len(toks) && (toks[j].kind == tokPct || percentWords[word(j)]):
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
			case nitrogenWords[w]:
				s.kind, s.last = strNitrogen, k
			case notStrength[w]:
				continue
			}
			if notStrength[word(first-1)] || notStrength[word(first-2)] && isPunct(first-1, ":") {
				continue
			}
		case volumeWords[word(j)]:
			// "50 vol" is a peroxide volume strength; "70 vol %" is a percentage.
			if j+1 < len(toks) && toks[j+1].kind == tokPct {
				s = strength{first: first, last: j + 1, value: v, kind: strPercent}
			} else {
				s = strength{first: first, last: j, value: v, kind: strVolumes}
			}
		case purityWords[word(first-1)] || isPunct(first-1, ":=") && purityWords[word(first-2)]:
			// "purity: 99" with no unit: a percentage unless a unit follows.
			if j < len(toks) && toks[j].kind == tokWord && quantityUnits[toks[j].word] || v > 100 {
				continue
			}
			s = strength{first: first, last: first, value: v, kind: strPercent}
		default:
			continue
		}
		if nitrogenWords[word(first-1)] && s.kind == strPercent && toks[first-1].start+8 >= t.start {
			s.kind, s.first = strNitrogen, first-1
		}
		out = append(out, s)
		i = s.last
	}
	return out
}

// percentOf converts a stated strength to the unit of the substance's limit:
// % w/w, or % nitrogen when nitrogen is the limit basis. ok is false when
// the strength says nothing about the substance (a "% N" for a substance
// measured by weight).
func percentOf(s strength, nitrogenBasis bool) (float64, bool) {
	var v float64
	switch s.kind {
	case strPercent:
		v = s.value
		// Pure ammonium nitrate holds 35% nitrogen; a purity above that
		// cannot be a nitrogen content, so convert it, as a stated "% w/w".
		// A bare % up to 35 is read as % N, as fertiliser grades are sold.
		if nitrogenBasis && (v > ammoniumNitrateN || s.byWeight) {
			v *= ammoniumNitrateN / 100
		}
	case strVolumes:
		// 10 volumes of oxygen ≈ 3% w/w hydrogen peroxide.
		v = s.value * 0.3
	case strNitrogen:
		if !nitrogenBasis {
			return 0, false
		}
		v = s.value
	}
	if v <= 0 || v > 100 {
		return 0, false
	}
	return v, true
}

// ammoniumNitrateN is the nitrogen content of pure ammonium nitrate, % w/w.
const ammoniumNitrateN = 35.0

// isQuantityAt reports whether a quantity ("500 g", "25kg", "1 L") starts at
// token i.
func isQuantityAt(toks []token, i int) bool {
	return i+1 < len(toks) && toks[i].kind == tokNum && toks[i+1].kind == tokWord && quantityUnits[toks[i+1].word]
}

// isQuantityEndingAt reports whether a quantity ends at token i.
func isQuantityEndingAt(toks []token, i int) bool {
	return i >= 1 && toks[i].kind == tokWord && quantityUnits[toks[i].word] && toks[i-1].kind == tokNum
}
