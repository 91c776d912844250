package matchers

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// The repair pass undoes disguises that normalisation cannot read alone,
// because the same characters are ordinary text elsewhere. Each reading is
// accepted only when the watchlist's vocabulary (vocab.go) confirms it:
//   - digits and symbols for letters anywhere in a word, its edges
//     included ("$0d1um", "acid0", "0xygénée", "Серн@я"), and inside
//     formulas, zero for O ("HN03", "KCl0₃"): the word must read as exactly
//     one vocabulary word, with no more substitutions than letters; a
//     formula read so must also have a strength or an amount beside it,
//     and a code glued to other characters ("KCl03-B") is a part number;
//   - masked letters ("*", "#", "_", "?", "•"), each standing for one
//     letter, at least three letters per mask, "?", "_" and "#" only inside
//     a word ("f*ck", "C#" and "why?" fit no word);
//   - pieces of a name joined by "-" or "." ("Tri-etan-olamina"), when the
//     pieces together make one vocabulary word;
//   - one dropped, doubled or swapped letter (not the first) in a word of
//     fuzzyMinLetters or more whose corrected form is a vocabulary word of
//     that length (so a dropped letter only in words of nine or more:
//     "ammonia" is not "ammoniya"); never any other changed letter, which
//     makes another chemical ("chlorite" is not "chlorate"), nor a word
//     made of the parts of systematic names ("nitroethane");
//   - one OCR confusion (ocrConfusions: "rn" for "m", "d" for "cl", "n"
//     for "ri", "vv" for "w", "i"/"l", "i" for "t", Cyrillic "н"/"и") in a
//     word of fuzzyMinLetters bytes or more that reads as exactly one
//     vocabulary word of ocrMinLetters or more ("Perdorato", "siarkovvy",
//     "селнтра");
//   - a word of soundMinLetters or more spelt by ear ("Asetona",
//     "Klorato", "Perekis Wodoroda", "вадорода"): one whose sound key
//     (sound.go) is a long vocabulary word's;
//   - a clipped name ending in a full stop ("Nitrométh."), the prefix of
//     words of one substance only, with a strength or amount beside it.
// Edits rewrite the normalised text with offsets back to the original, as
// deobfuscate does; spans that need a strength or amount beside them are
// returned for the rules to check once the field is tokenized.

// repairByte flags the bytes that may start a disguise: digits, the
// symbols read as letters or masks, the lead bytes of "•" and "ø"/"Ø".
var repairByte = func() (t [256]bool) {
	for _, c := range []byte("0123456789*#_?@$!|\xe2\xc3\xc2") {
		t[c] = true
	}
	return t
}()

// leetAlts are the letters a digit or symbol may stand for, Latin and
// Cyrillic.
var leetAlts = map[rune][3]rune{
	'0': {'o', 'о'}, '1': {'i', 'l', 'и'}, '3': {'e', 'е', 'з'}, '4': {'a', 'а', 'ч'}, '5': {'s'}, '6': {'b', 'б'},
	'7': {'t', 'т'}, '@': {'a', 'а', 'o'}, '$': {'s'}, '!': {'i'}, '|': {'l', 'i'}, 'ø': {'o'}, 'Ø': {'o'},
	'€': {'e', 'е'}, '¡': {'i'}, '¢': {'c', 'с'}, '©': {'c', 'с'}, '®': {'r'}, '£': {'l'},
}

// leetASCII is leetAlts for ASCII runes, read without a map lookup for
// every character of a word.
var leetASCII = func() (t [utf8.RuneSelf]struct {
	alts [3]rune
	ok   bool
}) {
	for r, alts := range leetAlts {
		if r < utf8.RuneSelf {
			t[r].alts, t[r].ok = alts, true
		}
	}
	return t
}()

// leetOf is leetAlts[r].
func leetOf(r rune) ([3]rune, bool) {
	if r < utf8.RuneSelf {
		e := &leetASCII[r]
		return e.alts, e.ok
	}
	alts, ok := leetAlts[r]
	return alts, ok
}

func isMask(r rune) bool { return r == '*' || r == '#' || r == '_' || r == '?' || r == '•' }

// edgeMask: a mask that may also stand at a word's edge.
func edgeMask(r rune) bool { return r == '*' || r == '•' }

// repairWordASCII flags the ASCII bytes of a word the repair pass reads.
var repairWordASCII = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		t[c] = isASCIIAlnum(byte(c)) || strings.IndexByte("*#_?@$!|", byte(c)) >= 0
	}
	return t
}()

// isRepairWordRune reports whether r belongs to a word the repair pass reads.
func isRepairWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return repairWordASCII[r]
	}
	_, leet := leetAlts[r]
	return r == '•' || leet || unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) || unicode.IsNumber(r)
}

// span is a range of the original text the repair pass read: needs is
// set when what it reads there needs a strength or amount beside it;
// clipped marks a clipped name, whose full stop at b ends no sentence.
type span struct {
	a, b           int
	needs, clipped bool
}

// repairEdit replaces n.text[na:nb] with text, whose bytes have offs.
type repairEdit struct {
	na, nb int
	text   []byte
	offs   []int32
}

// repair rewrites n (normalised from orig) where the rules above read a
// disguised word, and returns the spans that need a strength or amount
// beside them (appended to support).
func (m *Matcher) repair(n *normText, orig string, support []span) []span {
	v := m.vocab
	var edits []repairEdit
	var ambiguous []ambiguousWord
	// Words with digits, symbols or masks.
	for i := nextTrigger(orig, 0); i < len(orig); i = nextTrigger(orig, i+1) {
		a, b := repairWordAt(orig, i)
		if b <= a {
			continue
		}
		i = max(i, b-1)
		if b-a > 4*v.maxLen {
			continue
		}
		var alts []altWord
		e, needs, ok := m.repairWord(n, orig, a, b, &alts)
		if len(alts) > 1 {
			ambiguous = append(ambiguous, ambiguousWord{span{a: a, b: b}, alts})
		}
		if !ok {
			continue
		}
		edits = append(edits, e)
		support = append(support, span{a: a, b: b, needs: needs})
	}
	// Clipped names: a word ending in "." directly, or several in a row.
	for i := strings.IndexByte(orig, '.'); i >= 0; {
		if !mayClip(orig, i) || !m.vocab.mayStart(wordBefore(orig, i)) {
			// Not the start of a vocabulary word: no clipped name.
		} else if es, a, ok := m.clippedRun(n, orig, i); ok {
			edits = append(edits, es...)
			support = append(support, span{a: a, b: i, needs: true, clipped: true})
		} else if e, ok := m.clipped(n, orig, i); ok {
			edits = append(edits, e)
			support = append(support, span{a: int(e.offs[0]), b: i, needs: true, clipped: true})
		}
		j := strings.IndexByte(orig[i+1:], '.')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	if len(edits) > 0 {
		slices.SortStableFunc(edits, func(x, y repairEdit) int { return x.na - y.na })
		applyEdits(n, edits)
	}
	if len(ambiguous) > 0 {
		support = m.resolveByTerm(n, ambiguous, support)
	}
	m.joinPieces(n, orig)
	m.fuzzyWords(n)
	m.pairWords(n)
	m.soundWords(n)
	slices.SortFunc(support, func(x, y span) int { return x.a - y.a })
	return support
}

// nextTrigger returns the index of the first byte of s at or after i that
// may start a disguised word (a digit, symbol or mask; digits only when
// they are not a number standing alone, such as "25 kg" or "10.5", the
// usual case), or len(s).
func nextTrigger(s string, i int) int {
	for ; i < len(s); i++ {
		// Eight bytes at a time where none may start a disguise: most
		// text is letters, spaces and common punctuation.
		for i+8 <= len(s) && !mayTrigger8(load8(s, i)) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		if !repairByte[s[i]] {
			// The eight bytes may hold one further on: find it before
			// loading them again.
			e := min(i+8, len(s))
			for i++; i < e && !repairByte[s[i]]; i++ {
			}
			if i == e {
				i--
				continue
			}
		}
		if c := s[i]; c >= utf8.RuneSelf && !disguiseRune(s, i) {
			// A lead byte of a symbol disguiseRune reads that starts
			// another character: an accented letter ("é", "ä"), which disguises
			// nothing (readDisguised needs a digit, symbol or mask).
			continue
		}
		if c := s[i]; c >= '0' && c <= '9' {
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if (i == 0 || !wordy(s[i-1])) && (j == len(s) || !wordy(s[j])) {
				i = j - 1
				continue
			}
		}
		return i
	}
	return len(s)
}

// disguiseRune reports whether s[i:] starts with one of the non-ASCII
// characters readDisguised reads as a letter or a mask: "•" (E2 80 A2),
// "€" (E2 82 AC), "ø" (C3 B8), "Ø" (C3 98), "¡", "¢", "£", "©" or "®"
// (C2 A1, A2, A3, A9, AE).
func disguiseRune(s string, i int) bool {
	switch s[i] {
	case 0xc2:
		return i+1 < len(s) && (s[i+1] == 0xa1 || s[i+1] == 0xa2 || s[i+1] == 0xa3 || s[i+1] == 0xa9 || s[i+1] == 0xae)
	case 0xc3:
		return i+1 < len(s) && (s[i+1] == 0xb8 || s[i+1] == 0x98)
	case 0xe2:
		return i+2 < len(s) && (s[i+1] == 0x80 && s[i+2] == 0xa2 || s[i+1] == 0x82 && s[i+2] == 0xac)
	}
	return false
}

// fuzzyCandidate reports whether word (lower case, as normalised) passes
// the exact filters on its length, first and last four bytes that spare
// the fuzzy trie walk for most words, and is no vocabulary word itself.
func (v *vocab) fuzzyCandidate(word []byte) bool {
	n := len(word)
	// Most long words that pass the bitsets are vocabulary words (names in
	// a listing that names a precursor), so the set is asked next. The
	// quad sets are part of the rule, not only a filter: they leave out a
	// doubled first letter ("llewisite"), which the trie walk allows.
	if n < fuzzyMinLetters || n > v.maxLen+4 || !v.fuzzyBits.has(word) || !v.fuzzyEndBits.has(word[n-4:]) {
		return false
	}
	if v.lowerWords.has(word) {
		return false // no OCR form is a vocabulary word either
	}
	if v.fuzzyStart.hasStart(word) && v.fuzzyEnd.hasEnd(word) && v.near.mayBeNear(word) {
		return true
	}
	_, ok := v.ocrRead(word)
	return ok
}

// repairWordAt returns the word around orig[i], without the edge
// characters that are punctuation there.
func repairWordAt(orig string, i int) (int, int) {
	a, b := i, i
	for a > 0 {
		r, size := utf8.DecodeLastRuneInString(orig[:a])
		if !isRepairWordRune(r) {
			break
		}
		a -= size
	}
	for b < len(orig) {
		r, size := utf8.DecodeRuneInString(orig[b:])
		if !isRepairWordRune(r) {
			break
		}
		b += size
	}
	for a < b {
		r, size := utf8.DecodeRuneInString(orig[a:])
		if r != '?' && r != '_' && r != '#' && r != '!' && r != '|' {
			break
		}
		a += size
	}
	for a < b {
		r, size := utf8.DecodeLastRuneInString(orig[:b])
		if r != '?' && r != '_' && r != '#' && r != '!' && r != '|' && r != '$' {
			break
		}
		b -= size
	}
	return a, b
}

// repairWord reads orig[a:b] as a disguised vocabulary word; needs is set
// when the reading is a formula, which must have a strength or amount
// beside it.
func (m *Matcher) repairWord(n *normText, orig string, a, b int, alts *[]altWord) (e repairEdit, needs, ok bool) {
	w, offs, formula, ok := m.readDisguised(orig, a, b, alts)
	if !ok {
		return e, false, false
	}
	na, nb, ok := normRange(n, a, b)
	if !ok {
		return e, false, false
	}
	return repairEdit{na: na, nb: nb, text: []byte(w), offs: offs}, formula, true
}

// readDisguised reads orig[a:b] as a disguised vocabulary word: the word,
// the original offset of each of its bytes, and whether it is a formula.
// When several words fit and alts is not nil, they go to *alts.
func (m *Matcher) readDisguised(orig string, a, b int, alts *[]altWord) (w string, offs []int32, formula, ok bool) {
	fail := func() (string, []int32, bool, bool) { return "", nil, false, false }
	if !hasLetter(orig[a:b]) {
		return fail() // a number ("25", "10:30")
	}
	slots := slotPool.Get().(*[48]slot)
	defer slotPool.Put(slots)
	ss := slots[:0]
	letters, masks, others := 0, 0, 0
	for i := a; i < b; {
		r, size := utf8.DecodeRuneInString(orig[i:])
		s := slot{off: int32(i), own: unicode.ToLower(r)}
		switch alts, leet := leetOf(r); {
		case isMask(r):
			if (i == a || i+size == b) && !edgeMask(r) {
				return fail()
			}
			s.mask = true
			masks++
		case leet:
			s.subst = true
			k := 0
			if r < utf8.RuneSelf && r >= '0' && r <= '9' || r == 'ø' || r == 'Ø' {
				s.alts[0], k = unicode.ToLower(r), 1
			}
			for _, x := range alts {
				if x != 0 {
					s.alts[k] = x
					k++
				}
			}
			if r == '4' && i > a && i+size < b && isASCIILetter(orig[i-1]) && isASCIILetter(orig[i+size]) {
				s.alts[k] = altCh // between Latin letters: chat translit
			}
			others++
		default:
			var f string
			if r < utf8.RuneSelf {
				f = string(rune(asciiFold[r]))
				if asciiFold[r] == 0 || asciiFold[r] == asciiSpecial {
					return fail()
				}
			} else {
				f = foldRune(r)
			}
			if f == "" {
				i += size
				continue // a combining mark
			}
			for _, x := range f {
				if s.nlit == len(s.lit) {
					return fail()
				}
				s.lit[s.nlit] = x
				s.nlit++
			}
			if unicode.IsLetter(r) {
				letters++
			}
		}
		if len(ss) == cap(ss) {
			return fail()
		}
		ss = append(ss, s)
		i += size
	}
	if letters == 0 || masks == 0 && others == 0 || masks > 0 && letters < 3*masks {
		return fail()
	}
	fits, found := m.vocab.resolve(ss)
	if !found || len(fits) > 1 && alts == nil {
		return fail()
	}
	if len(fits) > 1 {
		// Several words fit: the term around it decides (ambiguous).
		for _, f := range fits {
			if o, ok := m.substitutions(ss, f, letters); ok {
				*alts = append(*alts, altWord{f, o})
			}
		}
		return fail()
	}
	w = fits[0]
	offs, ok = m.substitutions(ss, w, letters)
	if !ok {
		return fail()
	}
	formula = strings.ContainsAny(w, "0123456789")
	if formula && gluedToCode(orig, a, b) {
		return fail()
	}
	return w, offs, formula, true
}

var slotPool = sync.Pool{New: func() any { return new([48]slot) }}

// hasLetter reports whether s has a letter.
func hasLetter(s string) bool {
	for _, r := range s {
		if r < utf8.RuneSelf && isASCIILetter(byte(r)) || r >= utf8.RuneSelf && unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// altWord is one of the words a disguised text word may stand for.
type altWord struct {
	w    string
	offs []int32
}

// substitutions checks that w reads ss with no more substitutions than
// letters, and maps w's bytes to the slots' offsets.
func (m *Matcher) substitutions(ss []slot, w string, letters int) (offs []int32, ok bool) {
	// Count substitutions and map the word's bytes to the slots.
	rs := []rune(w)
	offs = make([]int32, 0, len(w))
	subst, k := 0, 0
	for _, s := range ss {
		switch {
		case s.nlit > 0:
			for range s.lit[:s.nlit] {
				offs = appendOffs(offs, rs[k], s.off)
				k++
			}
		case s.own == '4' && rs[k] == 'c' && k+1 < len(rs) && rs[k+1] == 'h':
			// altCh: the only alternative of "4" that starts with "c".
			offs = append(offs, s.off, s.off)
			subst++
			k += 2
		default:
			if s.mask || rs[k] != s.own {
				subst++
			}
			offs = appendOffs(offs, rs[k], s.off)
			k++
		}
	}
	// A disguised code of three letters ("T3A") is more often a model
	// code than a term: short words are read for the rules only ("s1n").
	if subst == 0 || subst > letters || len(rs) < vocabMinLen || len(rs) <= shortTermMax && !m.vocab.rule[w] {
		return nil, false
	}
	return offs, true
}

func appendOffs(offs []int32, r rune, off int32) []int32 {
	for range utf8.RuneLen(r) {
		offs = append(offs, off)
	}
	return offs
}

// gluedToCode reports whether orig[a:b] is joined to other letters or
// digits by "-", "/", "_" or ".": a part number or SKU ("KCl03-B").
func gluedToCode(orig string, a, b int) bool {
	if a >= 2 && strings.IndexByte("-/_.", orig[a-1]) >= 0 && isASCIIAlnum(orig[a-2]) {
		return true
	}
	return b+1 < len(orig) && strings.IndexByte("-/_.", orig[b]) >= 0 && isASCIIAlnum(orig[b+1])
}

// normRange returns the bytes of n.text that orig[a:b] became, when they
// are whole words.
func normRange(n *normText, a, b int) (int, int, bool) {
	na, _ := slices.BinarySearch(n.offs, int32(a))
	for na < len(n.text) && n.text[na] == ' ' {
		na++
	}
	nb, _ := slices.BinarySearch(n.offs[na:], int32(b))
	nb += na
	if na >= nb || na > 0 && n.text[na-1] != ' ' || nb < len(n.text) && n.text[nb] != ' ' {
		return 0, 0, false
	}
	return na, nb, true
}

// editBufs holds the buffers applyEdits writes into: it swaps them with
// the field's and keeps the old ones for the next call, so that a
// rewrite allocates nothing once the buffers have grown.
var editBufs = sync.Pool{New: func() any { return new(normText) }}

// applyEdits rewrites n with edits, which are ordered and disjoint.
func applyEdits(n *normText, edits []repairEdit) {
	buf := editBufs.Get().(*normText)
	text, offs := buf.text[:0], buf.offs[:0]
	last := 0
	for _, e := range edits {
		if e.na < last {
			continue
		}
		text = append(text, n.text[last:e.na]...)
		offs = append(offs, n.offs[last:e.na]...)
		text = append(text, e.text...)
		offs = append(offs, e.offs...)
		last = e.nb
	}
	text = append(text, n.text[last:]...)
	offs = append(offs, n.offs[last:]...)
	n.text, buf.text = text, n.text[:0]
	n.offs, buf.offs = offs, n.offs[:0]
	if cap(buf.text) <= maxPooledBytes {
		editBufs.Put(buf)
	}
}

// joinPieces joins words of n written apart by one glue (joinGlues) in
// orig when together they make one vocabulary word of fuzzyMinLetters or
// more letters ("Tri-etan-olamina", "K@lk-Amm0n-S@lpeter",
// "Water·stof·per·oxide").
func (m *Matcher) joinPieces(n *normText, orig string) {
	var edits []repairEdit
	// A text that glues one long word's pieces is written so throughout:
	// then shorter words glued the same way are joined too ("per.chlo.rate
	// de so.dium"), which alone would be an abbreviation's dots.
	for pass := range 2 {
		short := pass == 1
		if short && len(edits) == 0 && !hasChunkedWord(orig) { // normalising joins runs of many pieces
			break
		}
		for i := 1; i < len(orig); i++ {
			if !glueLead[orig[i]] {
				continue
			}
			// The joined word starts with the piece before the first glue.
			// A piece glued on before it ("Am-mo-nium-nitraat") was joined
			// by normalising, so the word may start further back.
			if gluedAt(orig, i) > 0 && (m.vocab.mayStart(wordBefore(orig, i)) || gluedBefore(orig, i)) {
				edits = m.joinRun(n, orig, i, short, edits)
			}
		}
	}
	if len(edits) > 0 {
		slices.SortFunc(edits, func(x, y repairEdit) int { return x.na - y.na })
		edits = slices.CompactFunc(edits, func(x, y repairEdit) bool { return x.na == y.na })
		applyEdits(n, edits)
	}
}

// joinGlues are the characters that glue the pieces of one word: a hyphen
// (also at a line's end: "Perchlo-\nrate"), a full stop, the tilde and
// plus sellers put in a word against filters ("Schwefel~säure",
// "Ni+tro+me+ta+no"), and the middle dots of syllabified print (U+00B7,
// U+2027, U+2219, U+22C5, U+30FB, U+FF65), which, unlike "•", no list
// puts between two words without spaces. The ASCII ones come first.
var joinGlues = []string{"-", ".", "~", "+", "\u00b7", "\u2027", "\u2219", "\u22c5", "\u30fb", "\uff65"}

// asciiGlues is how many of joinGlues are one ASCII byte.
const asciiGlues = 4

// glueLead flags the first bytes of joinGlues.
var glueLead = func() (t [256]bool) {
	for _, g := range joinGlues {
		t[g[0]] = true
	}
	return t
}()

func isASCIIGlue(c byte) bool { return c == '-' || c == '.' || c == '~' || c == '+' }

// glueAt returns the length of the glue that starts at orig[i], or 0.
func glueAt(orig string, i int) int {
	switch c := orig[i]; {
	case c == '-' && strings.HasPrefix(orig[i+1:], "\n"):
		return 2
	case c == '-' && strings.HasPrefix(orig[i+1:], "\r\n"):
		return 3
	case isASCIIGlue(c):
		return 1
	case c < utf8.RuneSelf:
		return 0
	}
	return wideGlue(orig[i:], strings.HasPrefix)
}

// glueEndingAt returns the length of the glue that ends just before
// orig[e], or 0.
func glueEndingAt(orig string, e int) int {
	if e <= 0 || e > len(orig) {
		return 0
	}
	switch c := orig[e-1]; {
	case strings.HasSuffix(orig[:e], "-\n"):
		return 2
	case strings.HasSuffix(orig[:e], "-\r\n"):
		return 3
	case isASCIIGlue(c):
		return 1
	case c < utf8.RuneSelf:
		return 0
	}
	return wideGlue(orig[:e], strings.HasSuffix)
}

// wideGlue returns the length of the middle dot of joinGlues that s has
// (at its start or end, as has asks), or 0.
func wideGlue(s string, has func(s, g string) bool) int {
	for _, g := range joinGlues[asciiGlues:] {
		if has(s, g) {
			return len(g)
		}
	}
	return 0
}

// maxPieces is the most pieces joinRun joins into one word: a name
// written in syllables ("Ka·li·um·per·chlo·rat").
const maxPieces = 8

// gluedBefore reports whether the letters before orig[i] are glued to
// a piece before them.
func gluedBefore(orig string, i int) bool {
	a := i
	for a > 0 && isASCIILetter(orig[a-1]) {
		a--
	}
	if a == i {
		return false
	}
	g := glueEndingAt(orig, a)
	return g > 0 && gluedAt(orig, a-g) > 0
}

// gluedAt returns the length of the glue at orig[i] when it stands
// between letters, or 0.
func gluedAt(orig string, i int) int {
	if i <= 0 || i >= len(orig) {
		return 0
	}
	g := glueAt(orig, i)
	if g == 0 || i+g >= len(orig) || !isLetterByte(orig[i-1]) || !isLetterByte(orig[i+g]) {
		return 0
	}
	return g
}

// gluedEndingAt reports whether a glue between letters ends just before
// orig[e].
func gluedEndingAt(orig string, e int) bool {
	g := glueEndingAt(orig, e)
	return g > 0 && gluedAt(orig, e-g) == g
}

// joinRun looks at the run of pieces glued by the separator at orig[g],
// when g is its first glue, and appends the edits that join the longest
// run of pieces from its start that makes a vocabulary word.
func (m *Matcher) joinRun(n *normText, orig string, g int, short bool, edits []repairEdit) []repairEdit {
	t := n.text
	// The space of n.text that the separator became.
	sp, _ := slices.BinarySearch(n.offs, int32(g+gluedAt(orig, g)))
	if sp == 0 || sp >= len(t) || t[sp] != ' ' {
		return edits
	}
	a := sp
	for a > 0 && t[a-1] != ' ' {
		a--
	}
	// Only from the run's first glue: the piece before is not glued on.
	if a > 0 && gluedEndingAt(orig, int(n.offs[a])) {
		return edits
	}
	var ends [maxPieces]int
	k := 0
	for e := a; k < len(ends); {
		for e < len(t) && t[e] != ' ' {
			e++
		}
		ends[k] = e
		k++
		if e >= len(t) || !gluedEndingAt(orig, int(n.offs[e+1])) {
			break
		}
		e++
	}
	// A hyphen or full stop between letters is also a compound's or an
	// abbreviation's ("e-mail", "U.S."), a plus or tilde a list's: only
	// long words are joined. No one writes a middle dot inside a word but
	// to syllabify it, nor ends a line on a hyphen but to break a word.
	minLetters := fuzzyMinLetters
	if glueAt(orig, g) > 1 {
		minLetters = 4 // a middle dot or a line's end
	} else if short {
		minLetters = 5 // the text glued a long word already
	}
	var buf [64]byte
	for x := k - 1; x >= 1; x-- {
		w := buf[:0]
		for p := a; p < ends[x] && len(w) < len(buf); p++ {
			if t[p] != ' ' {
				w = append(w, t[p])
			}
		}
		if m.vocab.words[string(w)] && utf8.RuneCount(w) >= minLetters {
			for y := 0; y < x; y++ {
				edits = append(edits, repairEdit{na: ends[y], nb: ends[y] + 1})
			}
			break
		}
	}
	return edits
}

// wordy reports whether c may belong to a word beside a digit: a letter,
// a symbol read as one or a mask, or a byte of a non-ASCII character.
func wordy(c byte) bool { return c >= utf8.RuneSelf || repairWordASCII[c] }

// isLetterByte: an ASCII letter or a byte of a non-ASCII character.
func isLetterByte(c byte) bool { return isASCIILetter(c) || c >= utf8.RuneSelf }

// fuzzyWords corrects one dropped, doubled or swapped letter (not the
// first) in words of fuzzyMinLetters or more letters that are not
// vocabulary words, when exactly one long vocabulary word is that close.
// Exact filters on a word's first and last four bytes spare the trie walk
// for most words.
func (m *Matcher) fuzzyWords(n *normText) {
	v := m.vocab
	var edits []repairEdit
	t := n.text
	for i := 0; i < len(t); {
		// Every word that ends within the eight bytes from a word's start
		// is too short (fuzzyMinLetters is 8 or more, checked below): on
		// to the one after their last space.
		if i+8 <= len(t) {
			// Exact per byte (no borrow runs between bytes), as the last
			// space is wanted, not only the first.
			x := binary.LittleEndian.Uint64(t[i:]) ^ swarOnes*' '
			if z := ^((x&^swarHigh + swarLow7) | x) & swarHigh; z != 0 {
				i += (63-bits.LeadingZeros64(z))/8 + 1
				continue
			}
		}
		a, b := i, nextSpace(t, i)
		i = b + 1
		if b-a < fuzzyMinLetters || !v.fuzzyCandidate(t[a:b]) {
			continue
		}
		fix, ok := v.ocrRead(t[a:b])
		if !ok {
			fix, ok = v.fuzzy(t[a:b])
		}
		// A word wholly made of the parts of systematic names is a name
		// of its own ("nitroethane" is not "nitromethane").
		if !ok || isSystematicName(t[a:b]) {
			continue
		}
		edits = append(edits, wordFix(n, a, b, fix))
	}
	if len(edits) > 0 {
		applyEdits(n, edits)
	}
}

// wordFix is the edit that writes fix over the normalised word
// n.text[a:b]. Offsets: the corrected word's runes map to the written
// ones in order, the last one to the last written (for a letter the text
// dropped).
func wordFix(n *normText, a, b int, fix string) repairEdit {
	t := n.text
	var ro []int32
	for x := a; x < b; x++ {
		if utf8.RuneStart(t[x]) {
			ro = append(ro, n.offs[x])
		}
	}
	offs := make([]int32, 0, len(fix))
	k := 0
	last := utf8.RuneCountInString(fix) - 1
	for _, r := range fix {
		o := ro[min(k, len(ro)-1)]
		if k == last {
			o = ro[len(ro)-1]
		}
		offs = appendOffs(offs, r, o)
		k++
	}
	return repairEdit{na: a, nb: b, text: []byte(fix), offs: offs}
}

// pairWords corrects one dropped, doubled or swapped letter (not the
// first) in a word of nearPairMin to nearPairMax letters right after the
// word that heads it in a many-word term ("Ammonium nitrtae", "perekis
// vodroda"): the term's other word makes the short word's reading safe
// where alone it would not be (fuzzyWords reads only long words).
func (m *Matcher) pairWords(n *normText) {
	v := m.vocab
	var edits []repairEdit
	t := n.text
	pa, pb := -1, -1 // the word before
	for i := 0; i < len(t); {
		a, b := i, nextSpace(t, i)
		i = b + 1
		prevA, prevB := pa, pb
		pa, pb = a, b
		if prevA < 0 || b-a < nearPairMin || prevB-prevA < 4 || !v.pairHeads.has(t[prevA:prevB]) {
			continue
		}
		if fix, ok := v.pairRead(t[prevA:prevB], t[a:b]); ok {
			edits = append(edits, wordFix(n, a, b, fix))
		}
	}
	if len(edits) > 0 {
		applyEdits(n, edits)
	}
}

// pairRead reads w, after the word head, as the one short word of a term
// that head heads that w is one dropped, doubled or swapped letter (not
// the first) from.
func (v *vocab) pairRead(head, w []byte) (string, bool) {
	cands := v.pairNext[string(head)]
	if len(cands) == 0 || v.words[string(w)] {
		return "", false
	}
	found := ""
	for _, c := range cands {
		if oneEdit(string(w), c) {
			if found != "" {
				return "", false
			}
			found = c
		}
	}
	return found, found != ""
}

// pairNear is pairRead's question of plain words as written (foldWord).
func (v *vocab) pairNear(head, w string) bool {
	var hb, wb [64]byte
	if len(head) > len(hb)/2 || len(w) > len(wb)/2 {
		return false
	}
	h := foldWord(hb[:0], head)
	if len(h) < 4 || !v.pairHeads.has(h) {
		return false
	}
	_, ok := v.pairRead(h, foldWord(wb[:0], w))
	return ok
}

// oneEdit reports whether w is c with one letter dropped, doubled or
// swapped with the next, never the first letter.
func oneEdit(w, c string) bool {
	a, b := []rune(w), []rune(c)
	if len(a) == 0 || len(b) == 0 || a[0] != b[0] {
		return false
	}
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	switch len(a) - len(b) {
	case -1: // dropped b[p]
		return slices.Equal(a[p:], b[p+1:])
	case 1: // doubled: a[p] repeats the letter before it
		return p > 0 && a[p] == a[p-1] && slices.Equal(a[p+1:], b[p:])
	case 0: // swapped a[p] and a[p+1]
		return p+1 < len(a) && a[p] == b[p+1] && a[p+1] == b[p] && slices.Equal(a[p+2:], b[p+2:])
	}
	return false
}

// soundWords reads each word of soundMinLetters or more that is no
// vocabulary word as the one it sounds like (sound.go).
func (m *Matcher) soundWords(n *normText) {
	v := m.vocab
	var edits []repairEdit
	var buf [128]byte
	t := n.text
	for i := 0; i < len(t); {
		a, b := i, nextSpace(t, i)
		i = b + 1
		if b-a < soundMinLetters {
			continue
		}
		// A Cyrillic word in Latin look-alikes ("HuTpoMeTaH") first.
		fix, ok := v.fauxRead(t[a:b])
		if !ok {
			fix, ok = soundRead(v, t[a:b], buf[:0])
		}
		if !ok || isSystematicName(t[a:b]) {
			continue
		}
		edits = append(edits, wordFix(n, a, b, fix))
	}
	if len(edits) > 0 {
		applyEdits(n, edits)
	}
}

// ocrRead reads w through one OCR confusion ("NITRORNETHANE",
// "Perdorato", "селнтра"): the one vocabulary word it stands for.
func (v *vocab) ocrRead(w []byte) (string, bool) {
	if len(w) < fuzzyMinLetters || !v.ocrStart.has(w) || !v.ocrEnd.has(w[len(w)-4:]) {
		return "", false
	}
	fix, ok := v.ocr[string(w)]
	return fix, ok && fix != ""
}

// This fails to compile when fuzzyMinLetters is under 8, for which
// fuzzyWords' eight-byte skip would pass over candidates.
const _ = uint(fuzzyMinLetters - 8)

// quadBits is a bitset over hashed first-four-byte quads: most words
// fail it before the exact quadSet lookups.
type quadBits [1 << 10]uint64

func quadHash(q uint32) uint32 { return (q * 0x9E3779B1) >> 16 }

func (s *quadBits) add(q uint32) { h := quadHash(q); s[h>>6] |= 1 << (h & 63) }

func (s *quadBits) has(w []byte) bool { return s.hasQuad(quad(w)) }

func (s *quadBits) hasQuad(q uint32) bool { h := quadHash(q); return s[h>>6]&(1<<(h&63)) != 0 }

// fuzzyEndsASCII is fuzzyCandidate's bitset tests on an ASCII word of
// four bytes or more as written, lower-casing only the eight bytes they
// read: a word that fails them is no candidate.
func (v *vocab) fuzzyEndsASCII(w string) bool {
	// Both quads in one number, lower-cased at once (lower8 is lowerASCII
	// on every byte).
	x := lower8(uint64(load4(w, 0)) | uint64(load4(w, len(w)-4))<<32)
	return v.fuzzyBits.hasQuad(uint32(x)) && v.fuzzyEndBits.hasQuad(uint32(x>>32))
}

// load4 reads s[i:i+4] as a little-endian word (one load once compiled).
func load4(s string, i int) uint32 {
	s = s[i : i+4]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// quadSet holds words' first (or last) four bytes: an exact filter, as
// general text shares three-byte starts and ends ("tra", "ion") with the
// vocabulary too often.
type quadSet map[uint32]struct{}

func quad(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func (s quadSet) hasStart(w []byte) bool { _, ok := s[quad(w)]; return ok }

func (s quadSet) hasEnd(w []byte) bool { _, ok := s[quad(w[len(w)-4:])]; return ok }

// addFuzzy adds the first four bytes of w (with end, the last four) as it
// may be written with one letter dropped, doubled or swapped near that end
// (never the first letter).
func (s quadSet) addFuzzy(w string, end bool) {
	r := []rune(w)
	add := func(x []rune) {
		b := []byte(string(x))
		if len(b) < 4 {
			return
		}
		if end {
			b = b[len(b)-4:]
		}
		s[quad(b)] = struct{}{}
	}
	add(r)
	lo, hi := 1, min(5, len(r)) // edit positions near the start
	if end {
		lo, hi = max(1, len(r)-5), len(r)
	}
	for i := lo; i < hi; i++ {
		add(slices.Concat(r[:i], r[i+1:])) // dropped
		add(slices.Concat(r[:i+1], r[i:])) // doubled
		if i+1 < len(r) {
			x := slices.Clone(r)
			x[i], x[i+1] = x[i+1], x[i] // swapped
			add(x)
		}
	}
}

// fuzzy returns the one long vocabulary word that word is one dropped,
// doubled or swapped letter (not the first) away from, by a walk of the
// trie that allows one such edit.
func (v *vocab) fuzzy(word []byte) (string, bool) {
	f := fuzzerPool.Get().(*fuzzer)
	defer fuzzerPool.Put(f)
	*f = fuzzer{v: v, budget: 2048}
	f.rs = f.buf[:0]
	for _, r := range string(word) {
		if len(f.rs) == len(f.buf) || !unicode.IsLetter(r) {
			return "", false
		}
		f.rs = append(f.rs, r)
	}
	if len(f.rs) < fuzzyMinLetters || v.words[string(word)] {
		return "", false
	}
	if !f.walk(0, 0, false) || f.n == 0 {
		return "", false
	}
	return f.inflections()
}

// inflections returns the one word found, or of several found the
// longest when they are all one word's inflected forms (one the other
// with at most two ending letters more: "перхлорат", "перхлората" for
// "перхлорта", a swap of the one and a dropped letter of the other);
// words of different stems are ambiguous.
func (f *fuzzer) inflections() (string, bool) {
	found := f.found[:f.n]
	long := found[0]
	for _, w := range found[1:] {
		if len(w) > len(long) {
			long = w
		}
	}
	for _, w := range found {
		end, ok := strings.CutPrefix(long, w)
		if !ok || utf8.RuneCountInString(end) > 2 || strings.Trim(end, inflectionLetters) != "" {
			return "", false
		}
	}
	return long, true
}

// inflectionLetters make up the case and number endings a word takes in
// the watchlist's languages ("-a", "-om", "-es", "-ы"): a longer form
// ending otherwise is another word ("vitriolo" and "vitriolol", oil of
// vitriol, are not one word inflected).
const inflectionLetters = "aeiouyаеиоуыяюэёsmnхй"

// fuzzerPool keeps fuzzers, which the recursive walk would otherwise
// make escape to the heap for every word it looks at.
var fuzzerPool = sync.Pool{New: func() any { return new(fuzzer) }}

// fuzzer is the state of one fuzzy walk.
type fuzzer struct {
	v         *vocab
	buf       [64]rune
	rs        []rune
	found     [4]string // the words that fit, each once
	n, budget int
}

// walk returns false to stop: a fifth word fits, or out of budget.
func (f *fuzzer) walk(node, i int, edited bool) bool {
	if f.budget--; f.budget < 0 || f.n > len(f.found) {
		return false
	}
	v, rs := f.v, f.rs
	if i == len(rs) {
		if w := v.nodes[node].word; w != "" && edited && !slices.Contains(f.found[:min(f.n, len(f.found))], w) && utf8.RuneCountInString(w) >= fuzzyMinLetters {
			if f.n < len(f.found) {
				f.found[f.n] = w
			}
			f.n++
		}
		return f.n <= len(f.found)
	}
	if c := v.child(node, rs[i]); c >= 0 && !f.walk(c, i+1, edited) {
		return false
	}
	if edited || i == 0 {
		return true
	}
	// The text dropped a letter here.
	for _, e := range v.nodes[node].kids {
		if unicode.IsLetter(e.r) && e.r != rs[i] && !f.walk(int(e.node), i, true) {
			return false
		}
	}
	// The text doubled the letter before.
	if rs[i] == rs[i-1] && !f.walk(node, i+1, true) {
		return false
	}
	// The text swapped this letter and the next.
	if i+1 < len(rs) && rs[i] != rs[i+1] {
		if c := v.child(node, rs[i+1]); c >= 0 {
			if c2 := v.child(c, rs[i]); c2 >= 0 && !f.walk(c2, i+2, true) {
				return false
			}
		}
	}
	return true
}

// clipped reads the word ending at orig[dot] (a "." followed by a space
// or the end) as a clipped name: four letters or more, the prefix of
// single-word terms of one substance only.
func (m *Matcher) clipped(n *normText, orig string, dot int) (repairEdit, bool) {
	var e repairEdit
	if dot == 0 || dot+1 < len(orig) && orig[dot+1] != ' ' {
		return e, false
	}
	a := dot
	for a > 0 {
		r, size := utf8.DecodeLastRuneInString(orig[:a])
		if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) {
			break
		}
		a -= size
	}
	if dot-a < 4 || a > 0 && orig[a-1] != ' ' && orig[a-1] != '(' || !m.vocab.mayStart(orig[a:dot]) {
		return e, false
	}
	na, nb, ok := normRange(n, a, dot)
	if !ok {
		return e, false
	}
	prefix := string(n.text[na:nb])
	if utf8.RuneCountInString(prefix) < 4 || m.vocab.words[prefix] {
		return e, false
	}
	// Walk to the prefix's node and gather the words below it.
	node := 0
	for _, r := range prefix {
		kids := m.vocab.nodes[node].kids
		j, ok := slices.BinarySearchFunc(kids, r, func(e trieEdge, r rune) int { return int(e.r - r) })
		if !ok {
			return e, false
		}
		node = int(kids[j].node)
	}
	sub, word := -1, ""
	var walk func(int) bool
	budget := clipBudget
	walk = func(x int) bool {
		budget--
		if budget < 0 {
			return false
		}
		if w := m.vocab.nodes[x].word; w != "" {
			if p, ok := m.patIndex[w]; ok {
				for _, ref := range m.patterns[p].refs {
					if ref.class == classExclude {
						continue
					}
					if sub >= 0 && ref.sub != sub {
						return false
					}
					sub, word = ref.sub, w
				}
			}
		}
		for _, k := range m.vocab.nodes[x].kids {
			if !walk(int(k.node)) {
				return false
			}
		}
		return true
	}
	if !walk(node) || word == "" {
		return e, false
	}
	// One offset per byte of word (not per rune: a non-ASCII word's text
	// and offsets would differ in length).
	offs := make([]int32, 0, len(word))
	last := n.offs[nb-1]
	for i := 0; i < len(word); i++ {
		if i < nb-na {
			offs = append(offs, n.offs[na+i])
		} else {
			offs = append(offs, last)
		}
	}
	return repairEdit{na: na, nb: nb, text: []byte(word), offs: offs}, true
}

// fixTokens makes the tokens of the repaired spans read as repaired: a
// mask that the tokenizer took for a sentence break ("chl•rate") and the
// full stop of a clipped name ("Nitrométh. 99 %") break no sentence, and
// a disguised rule word ("130 v0l") gets the flags of the word it stands
// for, its pieces none.
func (m *Matcher) fixTokens(text string, toks []token, spans []span) {
	for _, s := range spans {
		for i := tokenAt(toks, s.a); i < len(toks) && toks[i].start <= s.b; i++ {
			t := &toks[i]
			switch {
			case t.kind == tokBreak && (t.start < s.b || s.clipped && t.start == s.b):
				t.kind, t.word = tokPunct, text[t.start:t.end]
			case t.kind == tokWord && t.end <= s.b:
				// A piece of a masked word is no word of its own
				// ("chl*rate" holds no "rate"). fSolution stays that of
				// the word as written, which findStrengths reads, and
				// so do the flags that only name it (wordOnlyFlags).
				const kept = fSolution | wordOnlyFlags
				t.flags &= kept
				if w, _, _, ok := m.readDisguised(text, t.start, t.end, nil); ok {
					t.flags |= lookupFlags(w) &^ kept
				}
			}
		}
	}
}

// besideSupport reports whether candidate c, which a repair marked as
// needing it, has a strength or amount directly before or after it; a
// clipped name's full stop may stand between.
func besideSupport(text string, toks []token, strengths []strength, c candidate) bool {
	after := c.tokAfter
	if after < len(toks) && toks[after].kind != tokWord && toks[after].start == c.end && text[c.end] == '.' {
		after++
	}
	return nextToStrengthOrQuantity(toks, strengths, c.tokFirst, after)
}

// needsSupport reports whether c overlaps one of the spans that need a
// strength or amount beside them.
// spans are sorted by start and disjoint (repair sorts them).
func needsSupport(spans []span, c candidate) bool {
	i, _ := slices.BinarySearchFunc(spans, c.start, func(s span, x int) int { return s.b - x - 1 })
	for ; i < len(spans) && spans[i].a < c.end; i++ {
		if spans[i].needs && c.start < spans[i].b {
			return true
		}
	}
	return false
}

// disguisedNegator reports whether the word before orig[start] is a
// negator written with digits or symbols ("s1n acet0na", "z0nder").
func (m *Matcher) disguisedNegator(orig string, start int) bool {
	i := start
	for i > 0 && (orig[i-1] == ' ' || orig[i-1] == '\t') {
		i--
	}
	if i == 0 || i == start {
		return false
	}
	a, b := repairWordAt(orig, i-1)
	if b != i || b-a > 16 || !strings.ContainsFunc(orig[a:b], func(r rune) bool { return r < utf8.RuneSelf && repairByte[r] }) {
		return false
	}
	w, _, _, ok := m.readDisguised(orig, a, b, nil)
	return ok && negators[w]
}

// ambiguousWord is a disguised text word several vocabulary words fit.
type ambiguousWord struct {
	at   span
	alts []altWord
}

// termWindow bounds, in bytes, the text read around an ambiguous word.
const termWindow = 160

// maxTermWords is the most words of a term resolveByTerm reads around a
// disguised word.
const maxTermWords = 4

// resolveByTerm reads each ambiguous word as the one of its alternatives
// that makes, with the words around it, a watchlist term ("nitrat* di
// potassio": "nitrato di potassio", not "nitrate di potassio"); a word
// two or more alternatives fit this way stays as written.
func (m *Matcher) resolveByTerm(n *normText, ambiguous []ambiguousWord, spans []span) []span {
	var edits []repairEdit
	for _, aw := range ambiguous {
		na, nb, ok := normRange(n, aw.at.a, aw.at.b)
		if !ok {
			continue
		}
		// A term's words are near: a window keeps this linear in the text.
		before := strings.Fields(string(n.text[max(0, na-termWindow):na]))
		after := strings.Fields(string(n.text[nb:min(len(n.text), nb+termWindow)]))
		before = before[max(0, len(before)-maxTermWords+1):]
		after = after[:min(len(after), maxTermWords-1)]
		fit := -1
		for k, alt := range aw.alts {
			if m.makesTerm(before, alt.w, after) {
				if fit >= 0 {
					fit = -2
					break
				}
				fit = k
			}
		}
		if fit >= 0 {
			edits = append(edits, repairEdit{na: na, nb: nb, text: []byte(aw.alts[fit].w), offs: aw.alts[fit].offs})
			spans = append(spans, aw.at)
		}
	}
	if len(edits) > 0 {
		applyEdits(n, edits)
	}
	return spans
}

// makesTerm reports whether w, with some of the words directly before and
// after it, is a watchlist term of more than one word.
func (m *Matcher) makesTerm(before []string, w string, after []string) bool {
	for i := 0; i <= len(before); i++ {
		for j := 0; j <= len(after); j++ {
			if i == len(before) && j == 0 || len(before)-i+1+j > maxTermWords {
				continue
			}
			words := append(append(append([]string{}, before[i:]...), w), after[:j]...)
			if _, ok := m.patIndex[strings.Join(words, " ")]; ok {
				return true
			}
		}
	}
	return false
}

// Several clipped words in a row ("Ác. sulfúr."): each a prefix of the
// words of a term of several words, the terms they may complete to all of
// one substance.
const (
	maxClippedWords   = 3
	minClippedLetters = 6   // in all the words
	maxCompletions    = 128 // "nitr" completes to 74 vocabulary words
)

// clipBudget is the most trie nodes clipped walks below a prefix: a
// prefix of more words than that names no one substance.
const clipBudget = 256

// clipVerdicts returns, for each node of the vocabulary trie, whether
// clipped's walk from it succeeds: its subtree is within clipBudget nodes
// and its words that are patterns name exactly one substance (exclusions
// aside). Computed bottom-up, children after their parents.
func (m *Matcher) clipVerdicts() []bool {
	nodes := m.vocab.nodes
	const none, many = -1, -2
	size := make([]int32, len(nodes))
	sub := make([]int32, len(nodes))
	merge := func(a, b int32) int32 {
		switch {
		case a == none:
			return b
		case b == none || a == b:
			return a
		}
		return many
	}
	ok := make([]bool, len(nodes))
	for x := len(nodes) - 1; x >= 0; x-- {
		size[x], sub[x] = 1, none
		if w := nodes[x].word; w != "" {
			if p, found := m.patIndex[w]; found {
				for _, ref := range m.patterns[p].refs {
					if ref.class != classExclude {
						sub[x] = merge(sub[x], int32(ref.sub))
					}
				}
			}
		}
		for _, k := range nodes[x].kids {
			size[x] = min(size[x]+size[k.node], clipBudget+1)
			sub[x] = merge(sub[x], sub[k.node])
		}
		ok[x] = size[x] <= clipBudget && sub[x] >= 0
	}
	return ok
}

// clippedRun reads the clipped words ending at orig[dot], the last of a
// run of two or more each directly followed by "." and a space, as one
// term: the edits, and where the run starts.
func (m *Matcher) clippedRun(n *normText, orig string, dot int) ([]repairEdit, int, bool) {
	if dot+1 < len(orig) && orig[dot+1] != ' ' {
		return nil, 0, false
	}
	// The words of the run, last first.
	type clip struct{ a, b, na, nb int }
	var run [maxClippedWords]clip
	k, end, letters := 0, dot, 0
	for k < maxClippedWords {
		a := end
		for a > 0 {
			r, size := utf8.DecodeLastRuneInString(orig[:a])
			if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) {
				break
			}
			a -= size
		}
		if end-a < 2 || a > 0 && orig[a-1] != ' ' && orig[a-1] != '(' || k == 0 && (a < 3 || orig[a-1] != ' ' || orig[a-2] != '.') {
			break // the last word, with no clipped word before it
		}
		na, nb, ok := normRange(n, a, end)
		if !ok {
			break
		}
		run[k] = clip{a, end, na, nb}
		letters += utf8.RuneCount(n.text[na:nb])
		k++
		// The word before, if it ends in ". ".
		if a < 3 || orig[a-1] != ' ' || orig[a-2] != '.' {
			break
		}
		end = a - 2
	}
	if k < 2 || letters < minClippedLetters {
		return nil, 0, false
	}
	words := run[:k]
	slices.Reverse(words)
	comps := make([][]string, k)
	for i, w := range words {
		comps[i] = m.vocab.completions(string(n.text[w.na:w.nb]), maxCompletions)
		if len(comps[i]) == 0 {
			return nil, 0, false
		}
	}
	// Every combination that is a term: all of one substance.
	sub, found := -1, []string(nil)
	pick := make([]string, k)
	var try func(i int) bool
	try = func(i int) bool {
		if i == k {
			p, ok := m.patIndex[strings.Join(pick, " ")]
			if !ok {
				return true
			}
			for _, ref := range m.patterns[p].refs {
				if ref.class == classExclude {
					continue
				}
				if sub >= 0 && ref.sub != sub {
					return false
				}
				sub = ref.sub
				if found == nil {
					found = slices.Clone(pick)
				}
			}
			return true
		}
		for _, c := range comps[i] {
			pick[i] = c
			if !try(i + 1) {
				return false
			}
		}
		return true
	}
	if !try(0) || found == nil {
		return nil, 0, false
	}
	edits := make([]repairEdit, k)
	for i, w := range words {
		offs := make([]int32, len(found[i]))
		for x := range offs {
			offs[x] = n.offs[min(w.na+x, w.nb-1)]
		}
		edits[i] = repairEdit{na: w.na, nb: w.nb, text: []byte(found[i]), offs: offs}
	}
	return edits, words[0].a, true
}

// completions returns the vocabulary words that start with prefix (the
// prefix itself included when it is one), at most limit; none when there
// are more.
func (v *vocab) completions(prefix string, limit int) []string {
	node := 0
	for _, r := range prefix {
		if node = v.child(node, r); node < 0 {
			return nil
		}
	}
	var out []string
	var walk func(int) bool
	walk = func(x int) bool {
		if w := v.nodes[x].word; w != "" {
			if len(out) == limit {
				return false
			}
			out = append(out, w)
		}
		for _, e := range v.nodes[x].kids {
			if !walk(int(e.node)) {
				return false
			}
		}
		return true
	}
	if !walk(node) {
		return nil
	}
	return out
}

// mayStart reports whether an ASCII word, lower-cased, starts some
// vocabulary word: a quick test on the text as written, before its
// normalised form is looked up. Words with other characters pass.
func (v *vocab) mayStart(w string) bool {
	if w == "" {
		return false
	}
	node, i := 0, 0
	if len(w) >= 2 && w[0] < utf8.RuneSelf && w[1] < utf8.RuneSelf {
		if node = int(v.pair[lowerASCII[w[0]]][lowerASCII[w[1]]]); node < 0 {
			return false
		}
		i = 2
	}
	for ; i < len(w); i++ {
		c := w[i]
		if c >= utf8.RuneSelf {
			return true
		}
		if node = v.child(node, rune(lowerASCII[c])); node < 0 {
			return false
		}
	}
	return true
}

// isSystematicName reports whether w is wholly made of two or more
// nameParts (splitName without its allocations; words of up to 63 bytes).
func isSystematicName(w []byte) bool {
	if len(w) >= 64 {
		return splitName(string(w)) != nil
	}
	// parts[i]: the fewest parts that make w[:i] (0: not reached).
	var parts [64]uint8
	parts[0] = 1
	for i := 0; i < len(w); i++ {
		if parts[i] == 0 {
			continue
		}
		for _, p := range nameParts {
			if j := i + len(p); j <= len(w) && string(w[i:j]) == p && (parts[j] == 0 || parts[i]+1 < parts[j]) {
				parts[j] = parts[i] + 1
			}
		}
	}
	return parts[len(w)] >= 3 // two parts or more (counts start at 1)
}

// wordBefore returns the ASCII letters directly before orig[i], or a
// non-ASCII byte when a non-ASCII letter, digit or symbol stands among them (mayStart then lets the word
// pass to the full check on its normalised form).
func wordBefore(orig string, i int) string {
	a := i
	for a > 0 && isASCIILetter(orig[a-1]) {
		a--
	}
	if a > 0 && wordy(orig[a-1]) {
		return "\x80" // a non-ASCII letter, digit or symbol: decide later
	}
	return orig[a:i]
}

// load8 reads s[i:i+8] as a little-endian word (one load once compiled).
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
	swarLow7 = 0x7F7F7F7F7F7F7F7F
)

// mayTrigger8 reports whether one of the eight bytes in x may be a
// repairByte: a byte from '!' to '$' or from '0' to '@' (digits and
// symbols, with '"', ':', ';', '<', '=', '>'), '*', '_', '|', or the lead
// byte of "•", "ø" or "Ø" (0xE2, 0xC3). It may say yes for bytes that are
// not, never no for one that is; the common punctuation (",", ".", "-",
// "(", "%") and the other non-ASCII bytes (Cyrillic, Greek) pass.
func mayTrigger8(x uint64) bool {
	if x&swarHigh != 0 {
		if hasByte(x, 0xc2)|hasByte(x, 0xc3)|hasByte(x, 0xe2) != 0 {
			return true
		}
		// Zero the non-ASCII bytes, which the range tests below need
		// (they hold for bytes under 0x80) and which are none of them.
		x &^= (x & swarHigh >> 7) * 0xff
	}
	return hasBetween(x, ' ', '%')|hasBetween(x, '/', 'A')|hasByte(x, '*')|hasByte(x, '_')|hasByte(x, '|') != 0
}

// hasBetween is non-zero when a byte b of x (all below 0x80) has
// m < b < n (Bit Twiddling Hacks).
func hasBetween(x, m, n uint64) uint64 {
	return (swarOnes*(127+n) - x) & ^x & (x + swarOnes*(127-m)) & swarHigh
}

// hasByte is non-zero when a byte of x is c.
func hasByte(x, c uint64) uint64 {
	y := x ^ swarOnes*c
	return (y - swarOnes) & ^y & swarHigh
}

// nextSpace returns the index of the first space in t at or after i, or
// len(t): eight bytes at a time, as words are short and a call to
// bytes.IndexByte costs more than the search.
func nextSpace(t []byte, i int) int {
	for ; i+8 <= len(t); i += 8 {
		x := binary.LittleEndian.Uint64(t[i:]) ^ swarOnes*' '
		if z := (x - swarOnes) & ^x & swarHigh; z != 0 {
			return i + bits.TrailingZeros64(z)/8
		}
	}
	for ; i < len(t) && t[i] != ' '; i++ {
	}
	return i
}
