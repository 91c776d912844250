package matchers

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Obfuscations undone on the normalised text, word by word:
//   - letters spaced out with one repeated separator ("h y d r o", "n.i.t.r.o",
//     "s-u-l-f") are joined when four or more stand in a row, and pieces of
//     up to four letters cut by one repeated separator of chunkSeps when
//     three or more stand in a row ("pot.ass.ium");
//   - homoglyphs: letters of other scripts that look Latin (Cyrillic, Greek,
//     and every other letter Unicode's UTS #39 confusables data maps to one
//     ASCII letter) are read as Latin in a word with no other non-Latin
//     letter ("Ѕаrіn", "Hydrоgen", "ᏚᎪᎡᏆN"), and
//     Latin look-alikes as Cyrillic in a mostly Cyrillic word;
//   - leetspeak digits between letters (0→o, 1→i, 3→e, 4→a, 5→s, 7→t) in a
//     word of three or more letters whose digits are all of those and that
//     does not read as a formula as written ("CH3NO2", "C7H13NO").

// toLatin maps case-folded Cyrillic and Greek look-alikes to Latin.
var toLatin = map[rune]rune{
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c',
	'т': 't', 'у': 'y', 'х': 'x', 'і': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'һ': 'h', 'ӏ': 'l',
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'h', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't',
	'υ': 'u', 'χ': 'x', 'ζ': 'z', 'μ': 'u',
}

// latinLookalikes maps every letter that looks like one ASCII letter to
// it: Unicode's confusables (UTS #39), each also under its case-folded form
// (the text is folded before it is read), with toLatin winning where they
// differ, since it also covers lower-case forms UTS #39 lists only in
// capitals.
var latinLookalikes = func() map[rune]rune {
	m := make(map[rune]rune, 2*len(unicodeConfusables))
	for k, v := range unicodeConfusables {
		m[k] = v
	}
	for k, v := range unicodeConfusables {
		if f := []rune(computeFold(k)); len(f) == 1 && f[0] >= utf8.RuneSelf {
			if _, ok := m[f[0]]; !ok {
				m[f[0]] = v
			}
		}
	}
	for k, v := range toLatin {
		m[k] = v
	}
	return m
}()

// toLatinTable is latinLookalikes below U+0800 (Latin, Greek, Cyrillic,
// Armenian...) as an array, so the common scripts need no map lookup.
var toLatinTable = func() (t [0x800]rune) {
	for k, v := range latinLookalikes {
		if k < rune(len(t)) {
			t[k] = v
		}
	}
	return t
}()

// capitalLLike are the letters UTS #39 lists as confusable with capital
// "L" rather than with "l" or "I" (which are confusable with each other):
// in a word of capitals they stay "l" ("ᏦᎪᏞIUᎷ" is "kalium").
var capitalLLike = map[rune]bool{
	0x13DE: true, 0x14AA: true, 0x2CD0: true, 0xA4E1: true, 0x1041B: true, 0x10526: true,
	0x118A3: true, 0x118B2: true, 0x16F16: true,
}

// latinOf returns the ASCII letter r looks like, or 0.
func latinOf(r rune) rune {
	if r >= 0 && r < rune(len(toLatinTable)) {
		return toLatinTable[r]
	}
	return latinLookalikes[r]
}

// isCyrillic is unicode.Is(unicode.Cyrillic, r), with the main block
// (U+0400–U+052F but the combining U+0485–U+0486) decided without a
// table search.
func isCyrillic(r rune) bool {
	if r >= 0x400 && r <= 0x52F {
		return r != 0x485 && r != 0x486
	}
	return r > 0x52F && unicode.Is(unicode.Cyrillic, r)
}

// toCyrillic maps Latin look-alikes into Cyrillic.
var toCyrillic = map[rune]rune{
	'a': 'а', 'e': 'е', 'o': 'о', 'p': 'р', 'c': 'с', 'y': 'у', 'x': 'х', 'k': 'к', 'm': 'м', 'h': 'н', 't': 'т', 'b': 'в',
}

// cursiveCyrillic maps Latin letters that look like Cyrillic ones only in
// handwriting or italics ("нuтрометан"): read so only inside a word that
// is Cyrillic by its other letters, never to make a Latin word Cyrillic.
var cursiveCyrillic = [utf8.RuneSelf]rune{'u': 'и', 'n': 'п', 'r': 'г'}

// cursiveAt reports a letter of cursiveCyrillic inside w, not at its
// edges, where a Latin letter is more often a unit or a code beside the
// word ("селитраN").
func cursiveAt(w []rune, i int) bool {
	return w[i] < utf8.RuneSelf && cursiveCyrillic[w[i]] != 0 && i > 0 && i < len(w)-1
}

var leet = map[rune]rune{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't'}

// minLeetLetters is the fewest letters a word needs for leetspeak reading.
const minLeetLetters = 3

// minSpacedRun is the fewest spaced-out single characters joined as a word.
const minSpacedRun = 4

// deobfuscate rewrites n in place (text and offsets) when it holds any of
// the obfuscations above; orig is the text n was normalised from.
func deobfuscate(n *normText, orig string) { deobfuscateWith(n, orig, true) }

// deobfuscateWith is deobfuscate; copyPlain lets its rebuild copy the
// words fixWord leaves as they are (TestDeobfuscateCopyAgrees runs it
// without, word by word as before).
func deobfuscateWith(n *normText, orig string, copyPlain bool) {
	db := deobPool.Get().(*deobBuf)
	defer deobPool.Put(db)
	text := n.text
	words := db.words[:0]
	defer func() { db.words = words[:0] }()
	for i := 0; i < len(text); {
		j := bytes.IndexByte(text[i:], ' ')
		if j < 0 {
			j = len(text) - i
		}
		words = append(words, word{i, i + j})
		i += j + 1
	}
	// gap returns the original text between word k-1 and word k.
	gap := func(k int) string {
		prev, next := words[k-1], words[k]
		last := int(n.offs[prev.b-1])
		_, size := utf8.DecodeRuneInString(orig[last:])
		if int(n.offs[next.a]) < last+size {
			return "" // both words come from one character ("½" → "1 2")
		}
		return orig[last+size : n.offs[next.a]]
	}
	single := func(k int) bool { return utf8.RuneCount(text[words[k].a:words[k].b]) == 1 }
	join := slices.Grow(db.join[:0], len(words))[:len(words)] // join[k]: no space before word k
	clear(join)
	db.join = join
	// Runs of spaced-out characters: those of minSpacedRun or more are
	// words; a shorter one beside such a run, spaced the same way, is a
	// word of the same name ("N i t r a t o  d e  p o t a s i o",
	// "P.e.r.c.h.l.o.r.a.t.e d.e p.o.t.a.s.s.i.u.m").
	runs := db.runs[:0]
	defer func() { db.runs = runs[:0] }()
	word := func(k int) []byte { return text[words[k].a:words[k].b] }
	for k := 0; k < len(words); {
		if !single(k) {
			k++
			continue
		}
		e := k + 1
		for e < len(words) && single(e) && spacedGap(gap(e), gap(k+1), e == k+1) {
			e++
		}
		if e == k+2 && e < len(words) && single(e) {
			// Two, then another separator: the first may be a price or a
			// count before a run of its own ("£6, K-N-O-3"), cut by one
			// repeated separator that is no space.
			if r := gap(e); strings.TrimSpace(r) != "" {
				f := e + 1
				for f < len(words) && single(f) && gap(f) == r {
					f++
				}
				if f-(k+1) > 2 {
					k++
					continue
				}
			}
		}
		// A pack size written after the name is no part of it: "n i t r
		// o m e t h a n e 1 L", "... 5 kg".
		if e-k > minSpacedRun && isDigitWord(word(e-1)) && e < len(words) && quantityUnits[string(word(e))] {
			e--
		} else if e-k > minSpacedRun+1 && isDigitWord(word(e-2)) && (string(word(e-1)) == "l" || string(word(e-1)) == "g") {
			e -= 2
		}
		g := ""
		if e > k+1 {
			g = gap(k + 1)
		}
		runs = append(runs, spacedRun{k, e, g})
		k = e
	}
	long := func(r spacedRun) bool { return r.e-r.k >= minSpacedRun }
	for i, r := range runs {
		ok := long(r)
		if !ok && r.e-r.k >= 2 {
			ok = i > 0 && runs[i-1].e == r.k && long(runs[i-1]) && runs[i-1].gap == r.gap ||
				i+1 < len(runs) && runs[i+1].k == r.e && long(runs[i+1]) && runs[i+1].gap == r.gap
		}
		if ok {
			for x := r.k + 1; x < r.e; x++ {
				join[x] = true
			}
		}
	}
	// A word cut into pieces by one repeated separator ("pot.ass.ium").
	// A piece is of ASCII or Cyrillic letters ("pot.ass.ium",
	// "Амм-иач-ная").
	piece := func(k int) bool {
		w := text[words[k].a:words[k].b]
		if utf8.RuneCount(w) > maxChunkLen {
			return false
		}
		for _, r := range string(w) {
			if (r < 'a' || r > 'z') && !isCyrillic(r) {
				return false
			}
		}
		return true
	}
	for k := 0; k < len(words); {
		e, sep := k+1, ""
		for e < len(words) {
			g := gap(e)
			if !chunkSep(g) || sep != "" && g != sep || !piece(e-1) || !piece(e) {
				break
			}
			sep = g
			e++
		}
		if e-k >= minChunks {
			for x := k + 1; x < e; x++ {
				join[x] = true
			}
		}
		k = e
	}
	// Rebuild only if some word changes.
	changed := slices.Contains(join, true)
	scratch := db.runes[:0]
	for _, w := range words {
		if changed {
			break
		}
		seg := text[w.a:w.b]
		if !hasWideOrMixed(seg) {
			continue
		}
		scratch = scratch[:0]
		for _, r := range string(seg) {
			scratch = append(scratch, r)
		}
		last := int(n.offs[w.b-1])
		_, size := utf8.DecodeRuneInString(orig[last:])
		changed = fixWord(scratch, orig[n.offs[w.a]:last+size])
	}
	if !changed {
		return
	}
	out := db.out[:0]
	offs := db.offs[:0]
	runes := scratch[:0]
	roffs := db.roffs[:0]
	flush := func() {
		if len(runes) == 0 {
			return
		}
		last := int(roffs[len(roffs)-1])
		_, size := utf8.DecodeRuneInString(orig[last:])
		fixWord(runes, orig[roffs[0]:last+size])
		for i, r := range runes {
			before := len(out)
			out = utf8.AppendRune(out, r)
			for range len(out) - before {
				offs = append(offs, roffs[i])
			}
		}
		runes, roffs = runes[:0], roffs[:0]
	}
	for k, w := range words {
		if k > 0 && !join[k] {
			flush()
			out = append(out, ' ')
			offs = append(offs, n.offs[w.a-1])
		}
		// A word on its own of ASCII letters only, or digits only, is
		// one fixWord leaves as it is: copied, not read rune by rune.
		if copyPlain && len(runes) == 0 && (k+1 == len(words) || !join[k+1]) && lettersOrDigits(text[w.a:w.b]) {
			out = append(out, text[w.a:w.b]...)
			offs = append(offs, n.offs[w.a:w.b]...)
			continue
		}
		for i := w.a; i < w.b; {
			r, size := utf8.DecodeRune(text[i:])
			runes = append(runes, r)
			roffs = append(roffs, n.offs[i])
			i += size
		}
	}
	flush()
	// Copy back into n's own buffers, so the pooled ones stay pooled.
	n.text = append(n.text[:0], out...)
	n.offs = append(n.offs[:0], offs...)
	db.out, db.offs, db.runes, db.roffs = out[:0], offs[:0], runes[:0], roffs[:0]
}

// word is a word's span in normalised text.
type word struct{ a, b int }

// spacedRun is a run of spaced-out characters, words[k:e], and the
// separators of its first gap.
type spacedRun struct {
	k, e int
	gap  string
}

// isDigitWord reports whether a normalised word is ASCII digits.
func isDigitWord(w []byte) bool {
	for _, c := range w {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(w) > 0
}

// deobBuf holds deobfuscate's buffers between calls.
type deobBuf struct {
	words []word
	runs  []spacedRun
	join  []bool
	runes []rune
	roffs []int32
	out   []byte
	offs  []int32
}

var deobPool = sync.Pool{New: func() any { return new(deobBuf) }}

// chunkSep reports whether g may join the pieces of a word cut into
// syllables: one of chunkSeps, or a bullet or middle dot alone
// ("Per•clo•ra•to"); spaced, a bullet separates items of a list.
func chunkSep(g string) bool {
	return len(g) == 1 && strings.Contains(chunkSeps, g) || g == "•" || g == "·"
}

// spacedGap reports whether g, the separators between two spaced-out
// letters, continues a run whose first gap is first: at most three
// separator characters (an emoji is one: "K🔥h🔥l🔥o"), no line break,
// as many as in the first (so "h y d r o   g e n" keeps its word break)
// but not necessarily the same ones ("n.i-t.r_o").
func spacedGap(g, first string, isFirst bool) bool {
	// An apostrophe elides a word's end: "d'a.m.m.o.n.i.u.m" is "d'" and
	// a word.
	n := utf8.RuneCountInString(g)
	if n == 0 || n > 3 || strings.ContainsAny(g, "\n\r'’") {
		return false
	}
	// Letters dotted out and words split by a space ("h.y.d.r.o p.e.r"):
	// the space is a word break.
	if !isFirst && strings.TrimSpace(first) != "" && strings.TrimSpace(g) == "" {
		return false
	}
	return isFirst || n == utf8.RuneCountInString(first)
}

// lettersOrDigits reports whether b is all ASCII lower-case letters or
// all ASCII digits: a word fixWord does not change (no look-alike, no
// Cyrillic, and digits only with letters).
func lettersOrDigits(b []byte) bool {
	letters, digits := 0, 0
	for _, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			letters++
		case '0' <= c && c <= '9':
			digits++
		default:
			return false
		}
	}
	return letters == 0 || digits == 0
}

// hasWideOrMixed reports whether a normalised word has non-ASCII letters or
// both letters and digits.
func hasWideOrMixed(b []byte) bool {
	digit, letter := false, false
	for _, c := range b {
		switch {
		case c >= 0x80:
			return true
		case c >= '0' && c <= '9':
			digit = true
		default:
			letter = true
		}
	}
	return digit && letter
}

// isFoldedFormula reports a formula written in lower case ("nh4no3",
// "ch3no2"): letters that are all one-letter element symbols, with a
// count inside the word. Such a word keeps its digits, as its capitals
// would have kept them; a word with any other letter ("n1tr0") does not
// read as one.
func isFoldedFormula(orig string) bool {
	inner := false
	for i := 0; i < len(orig); i++ {
		c := orig[i] | 0x20
		switch {
		case orig[i] >= '0' && orig[i] <= '9':
			inner = inner || i > 0 && i < len(orig)-1
		case !strings.ContainsRune("hbcnofpskvyiwu", rune(c)) || orig[i] >= 0x80:
			return false
		}
	}
	return inner && orig[0] > '9'
}

// formulaPack reports a formula with a pack multiplier glued to it
// ("KNO3x5kg", "nh4no3x2"): its digits are counts, not letters.
func formulaPack(orig string) bool {
	i := strings.LastIndexByte(orig, 'x')
	if i <= 0 || i+1 >= len(orig) || orig[i+1] < '0' || orig[i+1] > '9' {
		return false
	}
	return isFormula(orig[:i]) || isFoldedFormula(orig[:i])
}

// readsAsCyrillic decides a word with Latin look-alikes among Cyrillic
// letters: it is Cyrillic when most of its letters are, or when it has a
// letter only Cyrillic has ("л" in "ceлитpa") and every Latin letter has
// a Cyrillic twin. latin counts its ASCII letters, cyr its Cyrillic ones
// and cyrOnly those with no Latin look-alike; latinOnly says a Latin
// letter has no Cyrillic twin.
func readsAsCyrillic(latin, cyr, cyrOnly int, latinOnly bool) bool {
	return latin > 0 && (cyr > latin || cyrOnly > 0 && !latinOnly)
}

// fixWord undoes homoglyphs and leetspeak in one word, in place, and
// reports whether it changed anything; orig is the word as written, which
// keeps its digits when it reads as a formula.
func fixWord(w []rune, orig string) bool {
	changed := false
	latin, cyr, cyrOnly, confusable, other, digits := 0, 0, 0, 0, 0, 0
	// A Latin letter with no Cyrillic twin ("n", "r") makes the word
	// Latin whatever else it holds.
	latinOnly := false
	for i, r := range w {
		switch {
		case r < 0x80 && unicode.IsLetter(r):
			latin++
			latinOnly = latinOnly || toCyrillic[r] == 0 && !cursiveAt(w, i)
		case r < 0x80 && unicode.IsDigit(r):
			digits++
		case latinOf(r) != 0:
			confusable++
			if isCyrillic(r) {
				cyr++
			} else {
				// A Greek or other look-alike among Cyrillic letters
				// stands for the Cyrillic twin of the Latin letter it
				// looks like ("αммиачная селитρа"), as a Latin one does.
				latin++
				latinOnly = latinOnly || toCyrillic[latinOf(r)] == 0
			}
		case isCyrillic(r):
			cyr++
			cyrOnly++
			other++
		case unicode.IsLetter(r):
			other++
		}
	}
	switch {
	case confusable > 0 && other == 0:
		// A capital is read as written, before folding: Greek "Υ" looks
		// like "Y", its lower case "υ" like "u" ("DΙΜΕΤΗΥL").
		// In capitals, a glyph like "I" is an I, though UTS #39 reads it
		// as "l" ("ΝΙΤRΟ").
		var written []rune
		caps := false
		if utf8.RuneCountInString(orig) == len(w) {
			written = []rune(orig)
			caps = !slices.ContainsFunc(written, unicode.IsLower)
		}
		for i, r := range w {
			l := latinOf(r)
			if written != nil && unicode.IsUpper(written[i]) {
				if c := latinOf(written[i]); c != 0 {
					l = c
				}
				if l == 'l' && caps && !capitalLLike[written[i]] {
					l = 'i'
				}
			} else if written != nil && caps && l == 'l' && !capitalLLike[written[i]] && !unicode.IsLower(written[i]) && !unicode.IsUpper(written[i]) {
				// An uncased look-alike in a word of capitals (Lisu
				// "ꓠꓲꓔꓣꓲꓚ") stands for a capital too.
				l = 'i'
			}
			if l != 0 {
				w[i], changed = l, true
			}
		}
	case readsAsCyrillic(latin, cyr, cyrOnly, latinOnly):
		for i, r := range w {
			if c := toCyrillic[r]; c != 0 {
				w[i], changed = c, true
			} else if cursiveAt(w, i) {
				w[i], changed = cursiveCyrillic[r], true
			} else if c := toCyrillic[latinOf(r)]; c != 0 && r >= 0x80 && !isCyrillic(r) {
				w[i], changed = c, true
			}
		}
	}
	if digits == 0 || len(w)-digits < minLeetLetters || isFormula(orig) || isFoldedFormula(orig) || formulaPack(orig) {
		return changed
	}
	// Every digit must read as a letter, and at least one must stand
	// between two letters; then digits at the word's edges are letters
	// too ("4c3t0n3"), but "kclo3" or "500ml" stay as written.
	inner := false
	for i, r := range w {
		if r < '0' || r > '9' {
			continue
		}
		if leet[r] == 0 {
			return changed
		}
		if i > 0 && i < len(w)-1 && unicode.IsLetter(w[i-1]) && (unicode.IsLetter(w[i+1]) || leet[w[i+1]] != 0) {
			inner = true
		}
	}
	if !inner {
		return changed
	}
	for i, r := range w {
		if l := leet[r]; l != 0 {
			w[i] = l
		}
	}
	return true
}
