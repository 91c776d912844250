package matchers

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

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
	start, end int
	word       string  // tokWord: folded text; tokPunct: the symbol
	num        float64 // tokNum
	flags      wordFlag
	kind       tokKind // last, so that it packs with flags
}

// wordFlag classifies a word token, looked up once when tokenizing so the
// rules test bits instead of maps.
type wordFlag uint32

const (
	fPercent wordFlag = 1 << iota
	fVolume
	fNitrogen
	fNotStrength
	fUnit
	fPurity
	fNegator
	fCation
	fQualifier
	fConnector
	fAbbrevDot
	fContext    // a chemical or shop word that supports an abbreviation
	fCompeting  // a word that gives a short code an everyday sense
	fSolution   // a solution's: its percentage is by weight (findStrengths)
	fNumberWord // a word of a number spelled out (numwords.go)
	fForm       // a physical form a substance is offered in (formWords)
	// The flags below only name the word, as the word lists they stand
	// for do: the repair pass leaves them on a piece of a masked word
	// (fixTokens), whose text they are asked of.
	fWeightPct    // a percentage by weight in one word (weightPercent)
	fDistributive // states a strength for a list's every item (distributiveWords)
	fPolicyVerb   // a shop policy's verb (tradeVerbs, containVerbs)
	fStopVerb     // ends a policy verb's object (stopBeforeVerb)
	fWeightWord   // says a percentage is by weight (weightPercentWords)
	fContent      // heads a specification's content (contentWords)
	fFraction     // heads a mass fraction (fractionWords)
	fListed       // a word of some list of ruleLists, asked only then (listed)
)

// wordOnlyFlags are the flags that only name the word (see fWeightPct).
const wordOnlyFlags = fWeightPct | fDistributive | fPolicyVerb | fStopVerb | fWeightWord | fContent | fFraction | fListed

// wordFlags maps a folded word to its flags; built from the word lists.
var wordFlags = func() map[string]wordFlag {
	m := map[string]wordFlag{}
	for _, l := range []struct {
		words map[string]bool
		f     wordFlag
	}{
		{percentWords, fPercent}, {volumeWords, fVolume}, {nitrogenWords, fNitrogen},
		{notStrength, fNotStrength}, {quantityUnits, fUnit}, {purityWords, fPurity},
		{moreNotStrength, fNotStrength}, {negators, fNegator}, {cationWords, fCation}, {strengthQualifiers, fQualifier},
		{listConnectors, fConnector}, {abbrevDot, fAbbrevDot}, {contextWords, fContext},
		{competingWords, fCompeting}, {solutionWords, fSolution}, {spelledNumberWords, fNumberWord},
		{formWords, fForm}, {weightPercent, fWeightPct}, {distributiveWords, fDistributive},
		{tradeVerbs, fPolicyVerb}, {containVerbs, fPolicyVerb}, {stopBeforeVerb, fStopVerb},
		{weightPercentWords, fWeightWord}, {contentWords, fContent}, {fractionWords, fFraction},
	} {
		for w := range l.words {
			m[w] |= l.f
		}
	}
	for _, l := range ruleLists() {
		for w := range l {
			m[w] |= fListed
		}
	}
	return m
}()

// ruleLists are the word lists the rules look a token's word up in
// through listed: a word of none of them, nearly every word, is not
// looked up (fListed).
func ruleLists() []map[string]bool {
	return []map[string]bool{minMax, hazardClassWords, idKindWords, idNumberWords, headConnectors, placardWords,
		absentAfter, notContainedVerbs, contrastNots, withWords, confuseVerbs, freeOfWords, freeWords,
		ofWords, anionHeads, derivativeHeads, genitiveAnionHeads, perCent, resistWords, resistPreps, copulaNots, copulas, articles}
}

// listed reports whether toks[i] is a word of set, one of ruleLists:
// the flag first, so that most words take no map lookup.
func listed(toks []token, i int, set map[string]bool) bool {
	return i >= 0 && i < len(toks) && toks[i].kind == tokWord && toks[i].flags&fListed != 0 && set[toks[i].word]
}

// flagFilter[b] and flagFilterLast[b] have bit n set when some flagged
// word of n bytes starts, or ends, with byte b (bit 0: 32 bytes or more):
// most words folded from non-ASCII text skip the table lookup. ASCII words
// go straight to lookupFlagsAt, where the filter's unpredictable branch
// cost more than it saved.
var flagFilter, flagFilterLast = func() (f, l [256]uint32) {
	for w := range wordFlags {
		bit := uint32(1)
		if len(w) < 32 {
			bit = 1 << len(w)
		}
		f[w[0]] |= bit
		l[w[len(w)-1]] |= bit
	}
	return f, l
}()

func mayHaveFlags[T string | []byte](w T) bool {
	if len(w) == 0 {
		return false
	}
	bit := uint32(1)
	if len(w) < 32 {
		bit = 1 << len(w)
	}
	return flagFilter[w[0]]&flagFilterLast[w[len(w)-1]]&bit != 0
}

// flagTable is wordFlags as an open-addressing hash table (wordHash, linear
// probing, at most a quarter full): tokenizing looks up nearly every word,
// and this costs a fraction of a map lookup with a string key. A slot
// holds its key's first 8 bytes and length, so most lookups compare two
// integers rather than call the string comparison.
var flagTable = func() (t struct {
	keys  []string
	slots []flagSlot
	mask  uint32
}) {
	size := 1
	for size < 4*len(wordFlags) {
		size <<= 1
	}
	t.keys, t.slots, t.mask = make([]string, size), make([]flagSlot, size), uint32(size-1)
	for w, f := range wordFlags {
		i := wordHash(w, prefix8(w)) & t.mask
		for t.keys[i] != "" {
			i = (i + 1) & t.mask
		}
		t.keys[i], t.slots[i] = w, flagSlot{prefix8(w), uint32(len(w)), f}
	}
	return t
}()

// flagSlot is a slot of flagTable; n is 0 in an empty slot.
type flagSlot struct {
	pre   uint64 // prefix8 of the key
	n     uint32 // the key's length
	flags wordFlag
}

// prefix8 packs the first 8 bytes of w, little-endian, zero-padded.
func prefix8[T string | []byte](w T) uint64 {
	var x uint64
	for k := min(len(w), 8) - 1; k >= 0; k-- {
		x = x<<8 | uint64(w[k])
	}
	return x
}

// wordHash hashes a word from its first eight bytes x (prefix8), its
// ninth, its last and its length, mixed by one multiplication: the words
// of spelled numbers ("sechsundzwanzig", "sechsundvierzig") share their
// first, middle and last bytes too often for a hash of three bytes.
func wordHash[T string | []byte](w T, x uint64) uint32 {
	n := uint64(len(w))
	h := (x ^ n<<59 ^ uint64(w[n-1])<<51 ^ uint64(w[min(n-1, 8)])<<43 ^ n) * 0x9E3779B97F4A7C15
	return uint32(h>>32 ^ h>>45)
}

// lookupFlags returns the flags of a folded word, 0 for none.
func lookupFlags[T string | []byte](w T) wordFlag {
	if len(w) == 0 {
		return 0
	}
	return probeFlags(w, prefix8(w))
}

// lookupFlagsAt is lookupFlags(w) for a word w of s[i:j], as folded:
// s[i:j] itself or, for an ASCII word with capitals, lower-cased. The
// prefix is read from s with one load when s has 8 bytes from i.
func lookupFlagsAt[T string | []byte](w T, s string, i, j int) wordFlag {
	if i+8 > len(s) {
		return lookupFlags(w)
	}
	b := s[i : i+8]
	x := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
	// Setting bit 5 lower-cases ASCII letters and leaves digits be.
	x |= 0x2020202020202020
	if n := j - i; n < 8 {
		x &= 1<<(8*n) - 1
	}
	return probeFlags(w, x)
}

// probeFlags looks up non-empty w, whose prefix8 is x, in flagTable.
// Whether a word has flags is as good as random, so the usual slot, a
// short word's own or an empty one, ends the lookup on one branch that
// predicts well, the flags chosen without a branch.
func probeFlags[T string | []byte](w T, x uint64) wordFlag {
	t := &flagTable
	n := uint32(len(w))
	long := (8 - uint64(n)) >> 63 // 1 when n > 8
	for i := wordHash(w, x) & t.mask; ; i = (i + 1) & t.mask {
		sl := &t.slots[i]
		d := sl.pre ^ x | uint64(sl.n^n) // 0 when prefix and length match
		f := sl.flags
		if d != 0 {
			f = 0
		}
		if min(d|long, uint64(sl.n)) == 0 {
			return f
		}
		if d == 0 && t.keys[i][8:] == string(w[8:]) {
			return f
		}
	}
}

// has reports whether token i exists, is a word and has flag f.
func has(toks []token, i int, f wordFlag) bool {
	return i >= 0 && i < len(toks) && toks[i].kind == tokWord && toks[i].flags&f != 0
}

// punctAt reports whether toks[i] is the punctuation p.
func punctAt(toks []token, i int, p string) bool {
	return i >= 0 && i < len(toks) && toks[i].kind == tokPunct && toks[i].word == p
}

// abbrevDot are words after which a full stop does not end a sentence.
var abbrevDot = map[string]bool{
	"vol": true, "conc": true, "approx": true, "ca": true, "min": true, "max": true,
	"tech": true, "techn": true, "no": true, "nr": true, "pcs": true, "incl": true,
	"ref": true, "art": true, "env": true, "z": true, "b": true, "e": true, "g": true, "i": true,
	// "p.a.", Polish "cz.d.a.": an analytical grade.
	"a": true,
	// Units of a percentage: "35 wt. %", "35 масс. %", "35 proc.".
	"wt": true, "масс": true, "proc": true, "prots": true, "проц": true,
}

// wordSpan locates a word token's folded text in the tokenizer's arena.
type wordSpan struct{ tok, a, b int }

// scratch holds buffers reused across calls through scratchPool.
type scratch struct {
	toks      []token
	words     []wordSpan
	nums      []int32 // tokens that may start a strength or an amount
	spelled   bool    // a token may start a number spelled in words
	arena     []byte
	norm      normText
	cands     []candidate
	kept      []candidate
	hits      []hit
	pairHits  []pairHit
	strengths []strength
	chain     []strength
	specBuf   []int32 // alerting.go: the numbers a specification heads
	quants    []quantity
	support   []span // repair.go: spans that need a strength or amount beside them
	staged    []staged
	reasons   []reasonRef
	rbuf      []byte
	// reasonText is the listing's formatted reasons, which reasons' a:b
	// index.
	reasonText string
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// tokenizeRange splits s[from:to] into tokens for strength and quantity
// parsing (offsets stay those of s), appending to toks; from and to are
// moved out to the nearest white space so no word or number is cut. It
// reads the original text, not the normalised one, because decimal points,
// percent signs and sentence punctuation matter here. Word tokens' text is
// folded into sc.arena; call finishTokens once every range is tokenized.
// The indexes of numbers and of words that may be pack counts ("x10") go
// to sc.nums: strengths and amounts start nowhere else.
func tokenizeRange(s string, from, to int, toks []token, sc *scratch) []token {
	for from > 0 && s[from-1] != ' ' && s[from-1] != '\n' {
		from--
	}
	for to < len(s) && s[to] != ' ' && s[to] != '\n' {
		to++
	}
	for i := from; i < to; {
		c := s[i]
		if c == ' ' { // most tokens end at one: not worth a dispatch
			i++
			continue
		}
		cls := byteClass[c]
		size := 1
		if cls == clsHigh {
			var r rune
			r, size = foldASCII(s[i:])
			cls = runeClass(r)
		}
		switch cls {
		case clsSpace:
		case clsDigit:
			j, v := scanNumber(s, i)
			// A capital O printed for the zero that ends a whole number
			// ("13O volumes", "1O vol."), as OCR reads a label.
			if j < len(s) && s[j] == 'O' && s[j-1]-'0' < 10 && v >= 1 && v == float64(int64(v)) && (j+1 == len(s) || s[j+1] < utf8.RuneSelf && byteKind[s[j+1]]&kindLetter == 0 && s[j+1]-'0' >= 10) {
				j, v = j+1, v*10
			}
			sc.nums = append(sc.nums, int32(len(toks)))
			toks = addToken(toks, tokNum, i, j, "", v, 0)
			i = j
			continue
		case clsLetter, clsWide:
			j := i
			wide := cls == clsWide
			if wide {
				// r is a letter, perhaps only once folded ("Ⓩ" is Z),
				// which the loop below would not take: take it here, so
				// the word is never empty.
				j += size
			}
			var seen byte // byteKind bits of the word's ASCII letters
			for j < len(s) {
				c2 := s[j]
				if k := byteKind[c2]; k&kindLetter != 0 {
					seen |= k
					j++
					continue
				}
				if c2 >= '0' && c2 <= '9' {
					// Digits inside a word belong to it ("chl0rate",
					// "kno3"), not to a strength.
					k := j
					for k < len(s) && s[k] >= '0' && s[k] <= '9' {
						k++
					}
					if k < len(s) && isASCIILetter(s[k]) || k-j <= 2 && (k == len(s) || s[k] != '%' && s[k] != '.' && s[k] != ',') {
						j = k
						continue
					}
					break
				}
				if c2 < utf8.RuneSelf {
					break
				}
				r2, sz := utf8.DecodeRuneInString(s[j:])
				// Invisible format characters inside a word are part of
				// it ("N\u200bi\u200bt\u200br\u200bo"), as
				// normalisation reads them.
				if !unicode.IsLetter(r2) && !unicode.Is(unicode.Mn, r2) && !(unicode.Is(unicode.Cf, r2) && startsWithLetter(s[j+sz:])) {
					break
				}
				wide = true
				j += sz
			}
			var fl wordFlag
			if wide || seen&kindUpper != 0 {
				a := len(sc.arena)
				if wide {
					sc.arena = appendFolded(sc.arena, s[i:j])
					// Latin look-alikes in a Cyrillic word ("бeз") read
					// as Cyrillic, as normalisation reads the terms.
					var buf [64]byte
					if cyr, ok := cyrillicReading(sc.arena[a:], buf[:0]); ok {
						sc.arena = append(sc.arena[:a], cyr...)
					}
				} else {
					// ASCII: lower-cased by index, as appendFolded would.
					arena := slices.Grow(sc.arena, j-i)[:a+j-i]
					for k, c2 := range []byte(s[i:j]) {
						arena[a+k] = lowerASCII[c2]
					}
					sc.arena = arena
				}
				sc.words = append(sc.words, wordSpan{len(toks), a, len(sc.arena)})
				if w := sc.arena[a:]; len(w) >= 2 && w[0] == 'x' {
					sc.nums = append(sc.nums, int32(len(toks)))
				}
				if w := sc.arena[a:]; wide {
					if mayHaveFlags(w) {
						fl = lookupFlags(w)
					}
				} else {
					fl = lookupFlagsAt(w, s, i, j)
				}
				sc.spelled = sc.spelled || fl&fNumberWord != 0
				toks = addToken(toks, tokWord, i, j, "", 0, fl)
				i = j
				continue
			}
			// A lower-case ASCII word is its own folded form: no copy.
			w := s[i:j]
			if len(w) >= 2 && w[0] == 'x' {
				sc.nums = append(sc.nums, int32(len(toks))) // a pack count ("x10")?
			}
			fl = lookupFlagsAt(w, s, i, j)
			sc.spelled = sc.spelled || fl&fNumberWord != 0
			toks = addToken(toks, tokWord, i, j, w, 0, fl)
			i = j
			continue
		case clsPct:
			toks = addToken(toks, tokPct, i, i+size, "", 0, 0)
		case clsBreak:
			toks = addToken(toks, tokBreak, i, i+size, "", 0, 0)
		case clsDot:
			// A full stop ends a sentence unless it closes a known
			// abbreviation ("vol.", "conc.") or is not followed by space.
			next := i + 1
			atEnd := next >= len(s) || s[next] == ' ' || s[next] == '\n' || s[next] == '\t'
			prevAbbrev := len(toks) > 0 && toks[len(toks)-1].end == i && toks[len(toks)-1].flags&fAbbrevDot != 0
			if atEnd && !prevAbbrev {
				toks = addToken(toks, tokBreak, i, next, "", 0, 0)
			}
		default:
			if n := len(toks); s[i] == 0xe2 && strings.HasPrefix(s[i:], "‰") && n > 0 && toks[n-1].kind == tokNum && toks[n-1].num >= 0 {
				// Per mille: a percentage a tenth of the number ("350‰").
				toks[n-1].num /= 10
				toks = addToken(toks, tokPct, i, i+size, "", 0, 0)
				break
			}
			toks = addToken(toks, tokPunct, i, i+size, punctString(s[i:i+size]), 0, 0)
		}
		i += size
	}
	return toks
}

// addToken appends a token by writing its fields in place, where append
// of a composite literal builds the token on the stack and copies it.
func addToken(toks []token, kind tokKind, start, end int, word string, num float64, flags wordFlag) []token {
	n := len(toks)
	if n == cap(toks) {
		toks = slices.Grow(toks, 1)
	}
	toks = toks[:n+1]
	t := &toks[n]
	t.start, t.end, t.word, t.num, t.flags, t.kind = start, end, word, num, flags, kind
	return toks
}

// Byte classes of the tokenizer's dispatch (byteClass, runeClass).
const (
	clsPunct  = iota // any other symbol: a tokPunct
	clsSpace         // skipped
	clsDigit         // starts a number
	clsLetter        // an ASCII letter: starts a word
	clsWide          // a non-ASCII letter or mark: starts a word
	clsPct
	clsBreak
	clsDot
	clsHigh // a byte >= 0x80: decode and see runeClass
)

// byteClass classes ASCII bytes, so the tokenizer dispatches on one
// table load rather than a chain of comparisons.
var byteClass = func() (t [256]byte) {
	for c := range 256 {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = clsHigh
		case isASCIILetter(byte(c)):
			t[c] = clsLetter
		default:
			t[c] = runeClass(rune(c))
		}
	}
	return t
}()

// runeClass classes a rune as folded by foldASCII (which may fold to
// ASCII: "％" is "%"); for ASCII other than letters it is byteClass.
func runeClass(r rune) byte {
	switch {
	case r >= '0' && r <= '9':
		return clsDigit
	case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r):
		// A letter reached by decoding, even one folded to ASCII
		// ("Ⓩ" is Z), is taken whole before the word loop.
		return clsWide
	case r == '%' || r == '％':
		return clsPct
	case r == '\n' || r == '!' || r == '?' || r == ';' || r == '•':
		return clsBreak
	case r == '.':
		return clsDot
	case r == ' ' || r == '\t' || r == '\r' || r >= utf8.RuneSelf && unicode.IsSpace(r):
		return clsSpace
	}
	return clsPunct
}

// byteKind classifies ASCII letters for the tokenizer's word loop.
const (
	kindLetter = 1 << iota
	kindUpper
)

var byteKind = func() (t [256]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = kindLetter
		t[c-'a'+'A'] = kindLetter | kindUpper
	}
	return t
}()

// lowerASCII lower-cases ASCII letters and leaves every other byte be.
var lowerASCII = func() (t [256]byte) {
	for c := range 256 {
		t[c] = byte(c)
		if 'A' <= c && c <= 'Z' {
			t[c] += 'a' - 'A'
		}
	}
	return t
}()

// punctString returns a symbol as a string without allocating for ASCII.
func punctString(b string) string {
	if len(b) == 1 {
		return b
	}
	return strings.Clone(b)
}

// finishTokens points word tokens at their folded text. The strings alias
// sc.arena without copying: tokens live only while the scratch is held,
// and no word outlives the call to Match (matches quote the original text).
func finishTokens(toks []token, sc *scratch) {
	if len(sc.arena) == 0 {
		return
	}
	all := unsafe.String(&sc.arena[0], len(sc.arena))
	for _, w := range sc.words {
		toks[w.tok].word = all[w.a:w.b]
	}
}

// finishTokensAndNumbers is finishTokens, then numbers spelled in words
// before a percentage read as numbers (numwords.go).
func finishTokensAndNumbers(toks []token, sc *scratch) []token {
	finishTokens(toks, sc)
	if sc.spelled {
		sc.spelled = false
		toks, sc.nums = readSpelledNumbers(toks, sc.nums)
	}
	return toks
}

// cyrillicReading is w (folded) with its Latin look-alikes read as
// Cyrillic, appended to buf, when w is a Cyrillic word with some
// (readsAsCyrillic, as fixWord decides it).
func cyrillicReading(w, buf []byte) ([]byte, bool) {
	latin, cyr, cyrOnly := 0, 0, 0
	latinOnly := false
	if !hasASCIILetter(w) {
		return nil, false
	}
	for _, r := range string(w) {
		switch {
		case r < utf8.RuneSelf:
			if isASCIILetter(byte(r)) {
				latin++
				latinOnly = latinOnly || toCyrillic[r] == 0
			}
		case isCyrillic(r):
			cyr++
			if latinOf(r) == 0 {
				cyrOnly++
			}
		}
	}
	if !readsAsCyrillic(latin, cyr, cyrOnly, latinOnly) {
		return nil, false
	}
	for _, r := range string(w) {
		if c := toCyrillic[r]; r < utf8.RuneSelf && c != 0 {
			r = c
		}
		buf = utf8.AppendRune(buf, r)
	}
	return buf, true
}

func hasASCIILetter(w []byte) bool {
	for _, c := range w {
		if isASCIILetter(c) {
			return true
		}
	}
	return false
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
	if len(s) > 0 && s[0] < utf8.RuneSelf {
		return rune(s[0]), 1
	}
	r, size := utf8.DecodeRuneInString(s)
	if r < utf8.RuneSelf || unicode.IsLetter(r) {
		return r, size
	}
	if v, ok := asciiOfCache.Load(r); ok {
		return v.(rune), size
	}
	f := r
	if d := norm.NFKC.String(string(r)); len(d) == 1 {
		f = rune(d[0])
	}
	asciiOfCache.Store(r, f)
	return f, size
}

// asciiOfCache holds foldASCII's results for non-letter runes.
var asciiOfCache sync.Map

// scanNumber reads a number at s[i:]: digits with one decimal point or
// comma ("34.5", "34,5"); a comma followed by exactly three digits is a
// thousands separator ("1,000").
func scanNumber(s string, i int) (int, float64) {
	// The usual number, ASCII digits and at most 15 of them, is read in
	// one pass, with the value parseDecimal would give: the same exact
	// mantissa over the same power of ten.
	j := i
	var mant uint64
	for j < len(s) && s[j]-'0' < 10 {
		mant = mant*10 + uint64(s[j]-'0')
		j++
	}
	nd, scale := j-i, 0
	if j+1 < len(s) && (s[j] == '.' || s[j] == ',') && s[j+1]-'0' < 10 {
		k := j + 1
		for k < len(s) && s[k]-'0' < 10 {
			mant = mant*10 + uint64(s[k]-'0')
			k++
		}
		scale = k - j - 1
		if s[j] == ',' && scale == 3 {
			scale = 0 // "1,000"
		}
		nd += k - j - 1
		j = k
	}
	// Otherwise (a full-width digit or separator may follow, or there
	// are too many digits) scanNumberSlow reads it.
	if nd == 0 || nd > 15 || j < len(s) && s[j] >= utf8.RuneSelf || j+1 < len(s) && (s[j] == '.' || s[j] == ',') && s[j+1] >= utf8.RuneSelf {
		return scanNumberSlow(s, i)
	}
	return j, float64(mant) / pow10[scale]
}

// scanNumberSlow is scanNumber for any number.
func scanNumberSlow(s string, i int) (int, float64) {
	var buf [24]byte
	j, n, overflow := scanDigits(s, i, &buf, 0)
	// A middle dot is a decimal point in British print ("34·5 N").
	if sep, size := foldASCIIAt(s, j); sep == '.' || sep == ',' || sep == '·' {
		if d, _ := foldASCIIAt(s, j+size); d >= '0' && d <= '9' {
			before := n
			buf[n] = '.' // scanDigits leaves buf's last byte free for it
			n++
			var over bool
			j, n, over = scanDigits(s, j+size, &buf, n)
			overflow = overflow || over
			// A comma before exactly three digits separates thousands.
			if sep == ',' && n-before-1 == 3 {
				copy(buf[before:], buf[before+1:n])
				n--
			}
		}
	}
	if overflow {
		return j, -1
	}
	return j, parseDecimal(buf[:n])
}

// scanDigits appends the digits at s[j:], full-width ones folded, to
// buf[:n], keeping the last byte of buf free; overflow reports digits
// that did not fit. A function, not a closure, so that j and n stay in
// registers.
func scanDigits(s string, j int, buf *[24]byte, n int) (int, int, bool) {
	overflow := false
	for j < len(s) {
		c, size := s[j], 1
		if c >= utf8.RuneSelf {
			r, sz := foldASCII(s[j:])
			if r < '0' || r > '9' {
				break
			}
			c, size = byte(r), sz
		} else if c < '0' || c > '9' {
			break
		}
		if n < len(buf)-1 {
			buf[n] = c
			n++
		} else {
			overflow = true
		}
		j += size
	}
	return j, n, overflow
}

// foldASCIIAt is foldASCII(s[j:]) with ASCII read in place.
func foldASCIIAt(s string, j int) (rune, int) {
	if j < len(s) && s[j] < utf8.RuneSelf {
		return rune(s[j]), 1
	}
	return foldASCII(s[j:])
}

// parseDecimal reads digits with at most one '.', exactly as
// strconv.ParseFloat would (an integer of at most 22 digits divided by a
// power of ten is correctly rounded), without allocating.
func parseDecimal(b []byte) float64 {
	var mant uint64
	scale := 0
	seenDot := false
	for _, c := range b {
		if c == '.' {
			seenDot = true
			continue
		}
		mant = mant*10 + uint64(c-'0')
		if seenDot {
			scale++
		}
	}
	v := float64(mant)
	if mant >= 1<<53 {
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return -1
		}
		return f
	}
	return v / pow10[scale]
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23}

// strengthKind says how a stated strength is expressed.
type strengthKind uint8

const (
	strPercent  strengthKind = iota // % (w/w assumed)
	strVolumes                      // peroxide volume strength ("50 vol")
	strNitrogen                     // % nitrogen ("34.5% N", NPK grade "34-0-0")
	strMolar                        // mol per litre ("0.1 M", "1 mol/L")
	strNormal                       // equivalents per litre ("2 N")
)

// strength is a concentration expression found in a field's tokens.
type strength struct {
	first, last int // token indexes, inclusive
	value       float64
	kind        strengthKind
	byWeight    bool // "% w/w" stated explicitly
	// distributive: stated for a list ("all 99%", "99% each"), so it is
	// every listed substance's, whatever is written between (strengthFor).
	distributive bool
}

// distributiveWords, just before a strength ("all 99%") or just after it
// ("99% each"), state it for every item of a list.
var distributiveWords = foldedSetOf(`all each both alle jeweils beide tous toutes chacun chacune todos todas
cada tutti tutte ciascuno allemaal elk wszystkie każdy все каждый vse`)

// distributiveAround reports whether the strength of toks[first:last+1]
// is stated for a list: a distributive word right before or after it.
func distributiveAround(toks []token, first, last int) bool {
	w := func(i int) bool {
		return has(toks, i, fDistributive)
	}
	return w(first-1) || w(last+1)
}

var (
	percentWords = map[string]bool{"percent": true, "pct": true, "prozent": true, "pourcent": true, "procent": true, "porcentaje": true,
		// Russian and Polish abbreviations ("98 проц.", "35 proc."), and the
		// Russian noun romanized.
		"проц": true, "proc": true, "prots": true, "protsent": true, "процент": true}
	volumeWords   = map[string]bool{"vol": true, "vols": true, "volume": true, "volumes": true, "volumen": true, "volumenes": true, "volumi": true, "volumina": true}
	nitrogenWords = map[string]bool{"n": true, "nitrogen": true, "azote": true, "stickstoff": true, "nitrogeno": true}
	// notStrength are words that turn a percentage into a marketing claim
	// or price ("10% off", "100% reship", "VAT 20%").
	notStrength = map[string]bool{
		"off": true, "discount": true, "rabatt": true, "remise": true, "descuento": true, "reduction": true,
		"скидка": true, "скидки": true, "скидкой": true, "skidka": true, "rabat": true, "znizka": true, "promocja": true,
		"korting": true, "sconto": true, "ндс": true, "nds": true, // Russian VAT
		"cashback": true, "refund": true, "reship": true, "reshipping": true, "feedback": true, "positive": true,
		"satisfaction": true, "satisfied": true, "guarantee": true, "guaranteed": true, "stealth": true, "escrow": true,
		"success": true, "safe": true, "delivery": true, "vat": true, "tva": true, "iva": true, "mwst": true,
		"tax": true, "bonus": true, "sale": true, "extra": true, "more": true, "free": true, "rate": true,
		"legit": true, "genuine": true, "authentic": true, "original": true, "natural": true, "organic": true,
		"money": true, "moneyback": true, "trusted": true, "secure": true, "anonymous": true, "discreet": true,
		"customer": true, "customers": true, "buyer": true, "buyers": true, "orders": true, "uptime": true,
		"of": true, "cheaper": true, "less": true, "save": true, "deposit": true, "upfront": true, "fe": true,
		"finalize": true, "fee": true, "commission": true, "humidity": true, "moisture": true, "water": true,
		"rating": true, "ratings": true, "rated": true, "score": true, "reviews": true,
		// A stock level ("Stock 96 %", "31 % of the last delivery remaining").
		"stock": true, "lagerbestand": true, "voorraad": true, "остаток": true, "ostatok": true, "remaining": true, "claimed": true,
		// Shoppers who recommend it ("92 % recommend", "94 % raadt aan").
		"recommend": true, "recommended": true, "recommends": true, "empfehlen": true, "recommandent": true,
		"recomiendan": true, "raccomandano": true, "raadt": true, "poleca": true, "polecaja": true, "рекомендуют": true, "rekomenduyut": true,
		// Payment terms ("30% deposit and 70% against B/L", "50 % Vorkasse").
		"against": true, "balance": true, "advance": true, "prepayment": true, "payment": true, "vorkasse": true,
		"anzahlung": true, "acompte": true, "anticipo": true, "zaliczka": true, "предоплата": true, "predoplata": true,
		// A battery's health or charge ("accu 85 %", "Akku 90 %").
		"accu": true, "akku": true, "battery": true, "batterie": true, "batterij": true, "bateria": true, "batteria": true,
	}
	// moreNotStrength are notStrength's claims in every language, written
	// as a listing writes them: "100 % soluble", "100 % origineel", "99 %
	// positieve beoordelingen", "Feuchte: max. 0,2 %",
	// "verzendverzekering 3 %".
	moreNotStrength = foldedSetOf(`soluble solubility löslich wasserlöslich löslichkeit solubilité solubilidad
solubile solubilità oplosbaar oplosbaarheid rozpuszczalny rozpuszczalna rozpuszczalne rozpuszczalność
растворимый растворимая растворимость rastvorimyy rastvorimost
origineel originale originali originales originaux oryginał oryginalny oryginalne оригинал оригинальный originalnyy echt echte authentique autentico autentica
positif positifs positiv positieve positief positivo positivos positiva positivi pozytywne pozytywnych положительных положительные polozhitelnykh
zufrieden zufriedenheit satisfait satisfaits satisfecho satisfechos soddisfatti soddisfatto tevreden tevredenheid zadowolonych zadowolenie довольных довольны dovolnykh
natürlich naturel naturelle naturale naturali natuurlijk naturalny naturalne натуральный натуральная naturalnyy
feuchte feuchtigkeit restfeuchte wassergehalt humidité humedad umidità vocht vochtigheid vochtgehalte wilgotność влажность влажности влага vlazhnost vlazhnosti
insurance versicherung assurance seguro assicurazione verzekering verzendverzekering ubezpieczenie страховка strakhovka`)
	// quantityUnits are the units an amount may be stated in (see units).
	quantityUnits = func() map[string]bool {
		m := map[string]bool{}
		for u := range units {
			m[u] = true
		}
		return m
	}()
	// weightPercent are percentages by weight written as one word.
	weightPercent = map[string]bool{
		"gewichtsprozent": true, "gewichtsprocent": true, "massenprozent": true, "massaprocent": true,
		"gewichtsprozente": true, "massaprocenten": true,
	}
	// weightPercentWords, written between a number and its percent sign,
	// say the percentage is by weight.
	weightPercentWords = map[string]bool{"wt": true, "gew": true, "mass": true, "masse": true, "масс": true, "mass'": true}
	// formWords are the physical forms one substance is offered in, side
	// by side in a variant list ("solution 25 % | cristaux 99 %",
	// "oplossing 30 % of kristallen 99 %"): between two strengths, they
	// keep the second the same substance's (strengthFor's chain).
	formWords = foldedSetOf(`crystals crystal crystalline powder granules granular prills pellets flakes liquid aqueous
cristaux cristal cristallise poudre granules granule paillettes liquide aqueuse aqueux
kristalle kristall kristallin pulver granulat granulate schuppen flussig flussigkeit wassrig wassrige
cristales cristal cristalino polvo granulado granulos escamas liquido acuosa acuoso
cristalli cristallo cristallino polvere granulato granuli scaglie liquido acquosa acquoso
kristallen kristal poeder granulaat korrels schilfers vloeibaar vloeistof waterig waterige
krysztaly krysztal krystaliczny proszek granulat granulki platki plyn ciekly wodny wodna
кристаллы кристалл кристаллический порошок гранулы гранулированный чешуйки жидкость жидкий водный
kristally kristallicheskiy poroshok granuly cheshuyki zhidkost zhidkiy vodnyy`)
	// solutionWords say a percentage is a solution's, by weight.
	solutionWords = map[string]bool{
		"solution": true, "losung": true, "solucion": true, "soluzione": true, "oplossing": true,
		"roztwor": true, "раствор": true, "solucao": true,
	}
	// purityWords introduce a strength that may be written without a
	// percent sign ("purity: 99", "concentration: 70").
	purityWords = map[string]bool{
		"purity": true, "assay": true, "concentration": true, "conc": true, "strength": true, "reinheit": true,
		"konzentration": true, "gehalt": true, "purete": true, "pureza": true, "purezza": true, "concentracion": true,
		"concentrazione": true, "zuiverheid": true, "titre": true,
		// A mass fraction ("массовая доля"), and the word in Polish,
		// Russian, Dutch, Spanish and Italian (Russian also in Latin letters).
		"доля": true, "dolya": true, "концентрация": true, "kontsentratsiya": true, "чистота": true, "chistota": true,
		"stezenie": true, "czystosc": true, "concentratie": true, "sterkte": true, "riqueza": true, "titolo": true,
		// The active ingredient's content, as German labels write it.
		"wirkstoffgehalt": true, "wirkstoffkonzentration": true, "wirkstoffanteil": true,
	}
)

// findStrengths finds every concentration expression in toks, tokens of
// text; nums lists the tokens that may start one (see tokenizeRange).
func findStrengths(text string, toks []token, nums []int32, out []strength) []strength {
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
	// percentAfter is the index of a percent sign at k, after any "." and
	// "-" ("wt.%", "Gew.-%"), else -1.
	percentAfter := func(k int) int {
		for isPunct(k, ".-") {
			k++
		}
		if k < len(toks) && (toks[k].kind == tokPct || is(k, fPercent)) {
			return k
		}
		return -1
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
		// A range rises: "UN 1830 – 96 %" is a number, then a strength.
		if !code && j+1 < len(toks) && toks[j+1].kind == tokNum && (isPunct(j, "-–~") || word(j) == "to" || word(j) == "bis" || word(j) == "a" || word(j) == "à") &&
			j+2 < len(toks) && (toks[j+2].kind == tokPct || is(j+2, fPercent)) && v <= toks[j+1].num {
			// An assay's range may pass 100 ("98.0–102.0%", ACS grade).
			v = min(toks[j+1].num, max(v, 100))
			j += 2
		}
		// A tolerance, "37 ± 1 %" or "35 +/- 0,5 %": the nominal value.
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
		// "99+%" and vendors' "99+": a purity of at least the number, the
		// plus glued to it. Without a percent sign only a purity (90 to
		// 99.x) reads so, and only before a word that may follow a
		// strength, an amount, punctuation or nothing: "18+" is an age,
		// "5+ kg" an amount, "100+ sales" and "99+ reviews" a vendor's
		// record.
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
		switch perVolume, perVolumeLast := perVolumeAt(toks, j); {
		case perVolume > 0:
			// "500 g/L": grams per litre as % w/v; "6 g/100 g" as %.
			if notStrengthBefore(toks, first) {
				continue
			}
			s = strength{first: first, last: perVolumeLast, value: v * perVolume, kind: strPercent}
		case word(j) == "ppm" && v >= minPPM && v <= 1e6:
			// "350,000 ppm": parts per million of the whole. Less than
			// 1 % is an impurity's or a stabiliser's, not the content.
			s = strength{first: first, last: j, value: v / 1e4, kind: strPercent}
		case word(j) == "n" && toks[j].start == t.end && v >= 2 && v <= 6 && v == float64(int(v)) && (is(j+1, fPurity) || is(first-1, fPurity)):
			// "3N purity": the count of nines, as metals are graded.
			s = strength{first: first, last: j, value: 100 - math.Pow(10, 2-v), kind: strPercent}
		case molarAt(text, toks, j, t.end) && v <= maxMolar && !is(j+1, fUnit) && !is(j+1, fVolume):
			// "0.1 M", "1M": a solution's molarity, as labs write it.
			s = strength{first: first, last: j, value: v, kind: strMolar}
		case perLitreMol(toks, j) > 0 && v <= maxMolar*1000:
			// "0.1 mol/L", "100 mmol/l", "1 моль/л".
			f, last := perLitreMolAt(toks, j)
			s = strength{first: first, last: last, value: v * f, kind: strMolar}
		case word(j) == "n" && upperLetterAt(text, toks[j], t.end) && v < minNitrogenGrade && !is(j+1, fUnit) &&
			!is(first-1, fNitrogen) && !is(first-1, fPurity) && !is(j+1, fPurity):
			// "1 N", "0.1N": normality, equivalents per litre. A nitrogen
			// grade is no less than minNitrogenGrade, and "3N purity"
			// counts nines (above).
			s = strength{first: first, last: j, value: v, kind: strNormal}
		case percentAdjective(word(j)) || isPunct(j, "-") && toks[j].start == t.end && percentAdjective(word(j+1)):
			// "3-procentowy", "35-процентная", "35-prozentig": the
			// percentage as an adjective.
			last := j
			if isPunct(j, "-") {
				last = j + 1
			}
			if notStrengthBefore(toks, first) || is(last+1, fNotStrength) {
				continue
			}
			s = strength{first: first, last: last, value: v, kind: strPercent}
		case (word(j) == "per" || word(j) == "pour" || word(j) == "por") && listed(toks, j+1, perCent) && !notStrengthBefore(toks, first) && !is(j+2, fNotStrength):
			// "35 per cent", as British English writes it; Italian "per
			// cento", pharmacopoeia Latin "per centum", French "pour cent",
			// Spanish "por ciento".
			s = strength{first: first, last: j + 1, value: v, kind: strPercent}
		case is(j, fWeightPct) && !notStrengthBefore(toks, first):
			// "5 gewichtsprocent", "5 Gewichtsprozent": % by weight in a word.
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
		case is(j, fWeightWord) && percentAfter(j+1) > 0:
			// "50 wt%", "50 wt.%", "35 Gew.-%", "30 mass%": by weight.
			if notStrengthBefore(toks, first) {
				continue
			}
			s = strength{first: first, last: percentAfter(j + 1), value: v, kind: strPercent, byWeight: true}
		case is(j, fVolume):
			// "50 vol" is a peroxide volume strength; "70 vol %" and
			// "16 Vol.-%" (German for % by volume) are percentages.
			if p := percentAfter(j + 1); p > 0 {
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
			// "purity: 99", "Assay (%): 65", "GC area% 99.3" with no unit
			// after: a percentage unless a unit follows; "mass fraction
			// 0.98" a fraction of 1.
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
		if s.kind == strPercent && (is(first-1, fSolution) || is(s.last+1, fSolution)) {
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

// What heads a number in a specification (purityHead).
const (
	headPercent  = 1 // a purity or content word: the number is a percentage
	headFraction = 2 // "mass fraction": the number is a fraction of 1
)

// contentWords head a content stated in a specification with its percent
// sign ("Content, %: 35"); unlike purityWords, a word of notStrength before
// them makes the content another's ("Water content (%): 0.5").
var contentWords = foldedSetOf(`content teneur contenuto contenido gehalte zawartosc содержание soderzhanie`)

// fractionWords head a mass fraction ("mass fraction ≥ 0.98").
var fractionWords = foldedSetOf(`fraction massenanteil frazione fraccion ulamek massafractie`)

// massAdjectives follow a fraction word in the languages that put the
// adjective after its noun.
var massAdjectives = foldedSetOf(`massique massica masica masowy`)

// bareRange reports a purity range with no percent sign at
// toks[first:j+2] (see findStrengths).
func bareRange(toks []token, first, j int) bool {
	if j+1 >= len(toks) || !(toks[j].kind == tokPunct && (toks[j].word == "-" || toks[j].word == "–")) ||
		toks[j].start != toks[first].end || toks[j+1].kind != tokNum || toks[j+1].start != toks[j].end {
		return false
	}
	lo, hi := toks[first].num, toks[j+1].num
	if lo < 90 || hi <= lo || hi > 100 || first == 0 || toks[first-1].kind != tokWord {
		return false
	}
	k := j + 2
	if k >= len(toks) {
		return true
	}
	switch t := toks[k]; t.kind {
	case tokBreak:
		return true
	case tokWord:
		return t.flags&(fUnit|fNotStrength|fPercent|fNitrogen|fVolume) == 0
	case tokPunct:
		return t.word == "," || t.word == ";" || t.word == ":" || t.word == "!" || t.word == ")" || t.word == "|" || t.word == "–" || t.word == "—"
	}
	return false
}

// spacedLetterAt reports whether toks[i], one letter, ends a run of
// letters spaced out ("n i t r o m e t a n 98%"): the last letter of a
// name, not the N of a nitrogen grade.
func spacedLetterAt(toks []token, i int) bool {
	one := func(k int) bool {
		return k >= 0 && toks[k].kind == tokWord && toks[k].end-toks[k].start == 1
	}
	return one(i) && one(i-1) && one(i-2) && toks[i].start-toks[i-1].end <= 3 && toks[i-1].start-toks[i-2].end <= 3
}

// specHead is the word that heads a number in a specification: its kind
// (headPercent, headFraction; 0 for none) and token index.
type specHead struct{ kind, at int }

// purityHead returns what heads the number at toks[first] across a
// specification's punctuation, a percent sign and a "min." between:
// "purity: 99", "Assay (%): 65", "Content, %: 35", "Gehalt (%) 35",
// "GC area% 99.3", "Reinheit ≥ 99", "mass fraction ≥ 0.98".
func purityHead(toks []token, first int) specHead {
	k, pct := first-1, false
	for n := 0; k >= 0 && n < 6; n, k = n+1, k-1 {
		t := &toks[k]
		if t.kind == tokPct {
			pct = true
			continue
		}
		if t.kind == tokPunct && len(t.word) > 0 && strings.Contains(":=,()≥>", t.word) ||
			t.kind == tokWord && (t.word == "min" || t.word == "minimum") {
			continue
		}
		// The method in parentheses: "Czystość (GC): 99,5", "Assay (HPLC) 98".
		if t.kind == tokWord && punctAt(toks, k-1, "(") && punctAt(toks, k+1, ")") && len(t.word) <= 6 {
			continue
		}
		break
	}
	if k < 0 || toks[k].kind != tokWord {
		return specHead{}
	}
	w := toks[k].word
	// The adjective after a fraction word: "fraction massique 0,52",
	// "frazione massica", "ułamek masowy".
	if massAdjectives[w] && k > 0 && has(toks, k-1, fFraction) {
		k--
		w = toks[k].word
	}
	switch {
	case w == "w" && k+1 < first && toks[k+1].kind == tokPunct && toks[k+1].word == "=":
		// The symbol of a mass fraction: "w = 0,52".
		return specHead{headFraction, k}
	case has(toks, k, fPurity):
		return specHead{headPercent, k}
	case pct && (has(toks, k, fContent) && !has(toks, k-1, fNotStrength) || w == "area"):
		// A content word only with its percent sign: "Content: 12 x 1 L"
		// is a pack.
		return specHead{headPercent, k}
	case has(toks, k, fFraction) && !has(toks, k-1, fNotStrength):
		return specHead{headFraction, k}
	}
	return specHead{}
}

// maxMolar bounds a molarity: no liquid on the watchlist holds more
// (neat nitric acid is about 24 mol/L); a larger "M" is something else
// ("10 M views").
const maxMolar = 30

// upperLetterAt reports whether the word token w is one capital letter, as
// written, directly after the number ending at numEnd or one space
// after it: "1 M", "0.1N", not "1 m" (a metre) or "1 Mio".
func upperLetterAt(text string, w token, numEnd int) bool {
	if w.start > numEnd+1 || w.start >= len(text) {
		return false
	}
	r, size := utf8.DecodeRuneInString(text[w.start:])
	return w.end == w.start+size && unicode.IsUpper(r)
}

// molarAt reports whether toks[j] states a molarity for the number ending
// at numEnd: a capital M (Latin or Cyrillic) or the word "molar".
func molarAt(text string, toks []token, j, numEnd int) bool {
	if j >= len(toks) || toks[j].kind != tokWord {
		return false
	}
	switch toks[j].word {
	case "m", "м":
		return upperLetterAt(text, toks[j], numEnd)
	case "molar", "molaire", "molare":
		return true
	}
	return false
}

// perLitreMolAt returns the factor to mol/L of the unit "mol/L" (or
// "mmol/L", "mol/dm", "моль/л") starting at toks[j], and the index of its
// last token; a factor of 0 when there is none. Romanized Russian keeps
// the soft sign as an apostrophe ("1 mol'/l").
func perLitreMolAt(toks []token, j int) (float64, int) {
	if j >= len(toks) || toks[j].kind != tokWord {
		return 0, 0
	}
	var f float64
	switch toks[j].word {
	case "mol", "моль":
		f = 1
	case "mmol", "ммоль":
		f = 1e-3
	default:
		return 0, 0
	}
	k := j + 1
	if k < len(toks) && toks[k].kind == tokPunct && (toks[k].word == "'" || toks[k].word == "’") && toks[k].start == toks[j].end {
		k++
	}
	if k+1 >= len(toks) || toks[k].kind != tokPunct || toks[k].word != "/" || toks[k+1].kind != tokWord {
		return 0, 0
	}
	switch toks[k+1].word {
	case "l", "dm", "л", "дм":
		return f, k + 1
	}
	return 0, 0
}

// perLitreMol is perLitreMolAt's factor.
func perLitreMol(toks []token, j int) float64 {
	f, _ := perLitreMolAt(toks, j)
	return f
}

// notStrengthBefore reports whether a claim word ("VAT", "Feuchte")
// heads the number toks[first], directly or across a colon and a bound
// ("VAT: 20 %", "Feuchte: max. 0,2 %").
func notStrengthBefore(toks []token, first int) bool {
	k := first - 1
	for n := 0; n < 4 && k >= 0; n, k = n+1, k-1 {
		t := &toks[k]
		switch {
		case t.kind == tokWord && t.flags&fNotStrength != 0:
			// "5 % of 10 %": Dutch "of" ("or") between two strengths.
			return n > 0 || t.word != "of" || k == 0 || toks[k-1].kind != tokPct
		case t.kind == tokPunct && strings.Contains(":.≤<~", t.word):
		case listed(toks, k, minMax):
		default:
			return false
		}
	}
	return false
}

// toleranceAt returns the index of a tolerance's number when toks[j]
// starts one ("± 1", "+/- 0,5", "+- 2"), else -1.
func toleranceAt(toks []token, j int) int {
	k := j
	switch {
	case punctAt(toks, k, "±"):
		k++
	case punctAt(toks, k, "+") && punctAt(toks, k+1, "/") && punctAt(toks, k+2, "-"):
		k += 3
	case punctAt(toks, k, "+") && punctAt(toks, k+1, "-"):
		k += 2
	default:
		return -1
	}
	if k < len(toks) && toks[k].kind == tokNum {
		return k
	}
	return -1
}

// perCent are the words after "per" that make a percentage.
var perCent = map[string]bool{"cent": true, "cento": true, "centum": true, "ciento": true}

// minPPM is the least parts per million read as a content (1 %).
const minPPM = 1e4

// percentAdjective reports a percentage made an adjective ("procentowy",
// "процентная", "prozentige", "percenter"), in any of its endings.
func percentAdjective(w string) bool {
	// Every stem starts with "p" or "п" (0xd0 0xbf) and is 7 bytes or
	// more: most words are none, and are not compared five times.
	if len(w) < 8 || w[0] != 'p' && w[0] != 0xd0 {
		return false
	}
	for _, stem := range [...]string{"procent", "процент", "prozent", "percent", "protsent"} {
		if len(w) > len(stem) && strings.HasPrefix(w, stem) && w != "percentage" && w != "percentages" {
			return true
		}
	}
	return false
}

// percentOf converts a stated strength to the unit of the substance's limit:
// % w/w, or % nitrogen when nitrogen is the limit basis. ok is false when
// the strength says nothing about the substance (a "% N" for a substance
// measured by weight, a molarity of a substance without a formula).
func percentOf(s strength, sub *compiledSubstance) (float64, bool) {
	nitrogenBasis := sub.nitrogenBasis
	var v float64
	switch s.kind {
	case strMolar, strNormal:
		// Grams per litre from the molar mass, as % w/v, read as % w/w
		// like "500 g/L" (a solution denser than water holds a little
		// less by weight); over 100 a concentrated liquid's. Normality
		// counts the formula's leading hydrogens as its equivalents
		// (H2SO4: 2 N is 1 M).
		molar := s.value
		if s.kind == strNormal {
			if sub.equivalents == 0 {
				return 0, false
			}
			molar /= float64(sub.equivalents)
		}
		if sub.molarMass == 0 {
			return 0, false
		}
		v = min(math.Round(molar*sub.molarMass*10)/100, 100) // to 0.01 %: the reading is no more exact
		if nitrogenBasis {
			v *= ammoniumNitrateN / 100
		}
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

// minNitrogenGrade and maxNitrogenGrade bound a nitrogen grade written
// with a bare "N" and no percent sign: the highest a fertiliser is sold at
// (urea, 46 % N), and a floor under which "N 1" is more likely a number
// ("Lot N 1") than a grade, which would clear the listing.
const (
	minNitrogenGrade = 10
	maxNitrogenGrade = 46
)

// ammoniumNitrateN is the nitrogen content of pure ammonium nitrate, % w/w.
const ammoniumNitrateN = 35.0

// isQuantityAt reports whether a quantity ("500 g", "25kg", "1 L") starts at
// token i.
func isQuantityAt(toks []token, i int) bool {
	return i+1 < len(toks) && toks[i].kind == tokNum && has(toks, i+1, fUnit)
}

// isQuantityEndingAt reports whether a quantity ends at token i.
func isQuantityEndingAt(toks []token, i int) bool {
	return i >= 1 && has(toks, i, fUnit) && toks[i-1].kind == tokNum
}
