package matchers

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Normalize folds s the way the matcher compares text: Unicode compatibility
// decomposition (NFKC/NFKD: ligatures, full-width letters, subscript digits),
// full case folding ("ß" → "ss"), diacritics and invisible format characters
// removed, every run of characters that are neither letters nor digits
// collapsed to one space (no leading or trailing space), and the
// obfuscations described in the package documentation undone.
func Normalize(s string) string {
	n := normalize(s, true, nil)
	return string(n.text)
}

// normText is a normalised field with, for every byte of text, the offset in
// the original string of the character that produced it.
type normText struct {
	text []byte
	offs []int32
}

// ASCII byte classes of normalize: a letter or digit folds to
// asciiFold[c]; asciiFold[c] == 0 is a separator, asciiSpecial a symbol
// that may stand for a letter depending on its neighbours.
const asciiSpecial = 0xFF

var asciiFold = func() (t [128]byte) {
	for c := range 128 {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			t[c] = byte(c)
		case 'A' <= c && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		case c == '@', c == '!', c == '$', c == '|':
			t[c] = asciiSpecial
		}
	}
	return t
}()

// Classes of the bytes normalize's fast path copies: ASCII letters (but
// "I", which may stand for "l"), digits and separators (the other ASCII
// bytes but the symbols that may stand for letters).
const (
	fastLetter = 1
	fastDigit  = 2
	fastSep    = 3
)

// fastByte drives the fast path: for a byte of a fast class, the byte
// written (its fold, or a space for a separator) | class<<8 | isSep<<10,
// so that the loop needs no branch to tell them apart; 0 for the bytes
// left to the per-byte code.
var fastByte = func() (t [256]uint16) {
	for c := range 128 {
		f := uint16(asciiFold[c])
		switch {
		case c == 'I' || c == '_' || f == asciiSpecial:
		case f == 0:
			t[c] = ' ' | fastSep<<8 | 1<<10
		case f <= '9':
			t[c] = f | fastDigit<<8
		default:
			t[c] = f | fastLetter<<8
		}
	}
	return t
}()

// Word shape bits tracked while normalising, to decide cheaply whether
// deobfuscation has anything to do.
const (
	shapeLetter = 1 << iota
	shapeDigit
	shapeWide
)

// normalize folds s; with offsets it also fills the offset map and undoes
// obfuscations. With buf, its slices are reused.
func normalize(s string, offsets bool, buf *normText) normText {
	n, suspicious := normalizeFold(s, offsets, buf)
	if offsets && (suspicious || hasChunkedWord(s)) {
		deobfuscate(&n, s)
	}
	return n
}

// A word cut into pieces ("pot.ass.ium", "chl-or-ate"): minChunks or more
// runs of at most maxChunkLen ASCII letters, joined by one repeated
// separator of chunkSeps, neither letter nor digit on either side.
const (
	chunkSeps   = ".-"
	minChunks   = 3
	maxChunkLen = 4
)

// hasChunkedWord reports whether s holds a word cut into pieces. It runs
// on every text, so it looks only around the separators, which
// strings.IndexByte finds.
func hasChunkedWord(s string) bool {
	for k := range len(chunkSeps) {
		sep := chunkSeps[k]
		for i := 0; ; {
			j := strings.IndexByte(s[i:], sep)
			if j < 0 {
				break
			}
			if chunkLen(s, i+j, sep) >= minChunks {
				return true
			}
			i += j + 1
		}
	}
	return false
}

// chunkLen counts the pieces of a chunked word whose first separator is
// s[j] (0 when the piece before it is not a word's start or too long).
func chunkLen(s string, j int, sep byte) int {
	a := j
	for a > 0 && isASCIILetter(s[a-1]) {
		a--
	}
	if a == j || j-a > maxChunkLen || a > 0 && (isASCIIAlnum(s[a-1]) || s[a-1] == sep) {
		return 0
	}
	pieces := 1
	for j < len(s) && s[j] == sep {
		e := j + 1
		for e < len(s) && isASCIILetter(s[e]) {
			e++
		}
		if e == j+1 || e-j-1 > maxChunkLen || e < len(s) && s[e] >= '0' && s[e] <= '9' {
			break
		}
		pieces++
		j = e
	}
	return pieces
}

func isASCIIAlnum(c byte) bool { return isASCIILetter(c) || c >= '0' && c <= '9' }

// normalizeFold is normalize without deobfuscation, which it reports
// whether the text may need. ASCII bytes take table-driven paths; other
// runes go through foldRune's table.
func normalizeFold(s string, offsets bool, buf *normText) (normText, bool) {
	var n normText
	if buf != nil {
		n.text, n.offs = buf.text[:0], buf.offs[:0]
	}
	if cap(n.text) < len(s)+1 {
		n.text = make([]byte, 0, len(s)+len(s)/8+16)
	}
	if offsets && cap(n.offs) < cap(n.text) {
		n.offs = make([]int32, 0, cap(n.text))
	}
	text, offs := n.text, n.offs
	pendingSpace := false
	// Word shape, for the deobfuscation decision.
	shape, chars, singles := 0, 0, 0
	suspicious := false
	// last is the class of the last byte emitted in the current word
	// (0 none, 1 letter, 2 digit); leet marks a digit after a letter,
	// and a letter after that makes the word worth deobfuscating.
	last, leet := 0, false
	for i := 0; i < len(s); {
		c := s[i]
		// Letters, digits and separators, copied without a branch per
		// byte: the bulk of most listings. The buffers have room for the
		// rest of s and a space whenever earlier folds did not expand it.
		if fastByte[c] != 0 && len(text)+len(s)-i+1 <= cap(text) && (!offsets || len(offs)+len(s)-i+1 <= cap(offs)) {
			k := len(text)
			if k == 0 {
				// No leading space.
				for i < len(s) && fastByte[s[i]]>>10 != 0 {
					pendingSpace = true
					i++
				}
				if i == len(s) || fastByte[s[i]] == 0 {
					continue
				}
				pendingSpace = false
			}
			t := text[:cap(text)]
			var o []int32
			if offsets {
				o = offs[:cap(offs)]
			}
			prevSep := 0
			if pendingSpace {
				t[k] = ' '
				if offsets {
					o[k] = int32(i)
				}
				k++
				prevSep = 1
			}
			// A wide word makes the text suspicious when it ends: the
			// automaton need not know about it.
			st := wordSuspicious
			if !suspicious && shape&shapeWide == 0 {
				st = wordState(pendingSpace, chars, singles, last, leet)
			}
			if offsets {
				i, k, prevSep, st = fastRun(s, i, t, o, k, prevSep, st)
			} else {
				i, k, prevSep, st = fastRunText(s, i, t, k, prevSep, st)
			}
			// A space written by the last separators goes: the per-byte
			// code adds it before the next character, if any.
			pendingSpace = prevSep == 1
			k -= prevSep
			text = t[:k]
			if offsets {
				offs = o[:k]
			}
			if st == wordSuspicious {
				suspicious = true
			} else {
				// Only shapeWide matters in shape, and it is not set.
				_, chars, singles, last, leet = wordStateOf(st)
				shape = 0
			}
			continue
		}
		if c == '_' && !pendingSpace && subscriptMark(s, i) {
			i++ // joins the formula: "H_2SO_4"
			continue
		}
		if c < utf8.RuneSelf && asciiFold[c] == 0 {
			// A separator where the buffers may lack room.
			pendingSpace = true
			i++
			continue
		}
		if c < utf8.RuneSelf {
			f := asciiFold[c]
			if f == asciiSpecial {
				f = specialLetter(s, i, pendingSpace || len(text) == 0, endsWithLetter(text))
				if f != 0 {
					suspicious = true
				}
			} else if c == 'I' && i > 0 && isLower(s[i-1]) && i+1 < len(s) && isLower(s[i+1]) && !pendingSpace {
				// A capital I inside a lower-case word stands for l
				// ("perchIorate").
				f = 'l'
				suspicious = true
			}
			if f == 0 {
				pendingSpace = true
				i++
				continue
			}
			if pendingSpace {
				if len(text) > 0 {
					singles, suspicious = endWord(shape, chars, singles, suspicious)
					shape, chars, last, leet = 0, 0, 0, false
					text = append(text, ' ')
					if offsets {
						offs = append(offs, int32(i))
					}
				}
				pendingSpace = false
			}
			text = append(text, f)
			if offsets {
				offs = append(offs, int32(i))
			}
			chars++
			if f <= '9' {
				shape |= shapeDigit
				if last == 1 {
					leet = true
				}
				last = 2
			} else {
				shape |= shapeLetter
				if leet && last == 2 {
					suspicious = true
				}
				last = 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		f := foldRune(r)
		if len(f) == 0 {
			// Combining marks fold to nothing and join their base letter;
			// other symbols separate words.
			// Format characters (zero-width space, soft hyphen) join too,
			// since they are invisible inside a word.
			// So do an ion's charge signs, written inside a formula
			// ("NH₄⁺NO₃⁻").
			if !unicode.Is(unicode.Mn, r) && !unicode.Is(unicode.Me, r) && !unicode.Is(unicode.Cf, r) && !isChargeSign(r) {
				pendingSpace = true
				// A bullet between letters may cut a word into
				// syllables ("Per•clo•ra•to"), which deobfuscation joins.
				if chunkSep(s[i:i+size]) && endsWithLetter(text) && startsWithLetter(s[i+size:]) {
					suspicious = true
				}
			}
			i += size
			continue
		}
		// A fold may hold separators itself ("½" → "1 2").
		for j := 0; j < len(f); {
			k := j
			for k < len(f) && f[k] != ' ' {
				k++
			}
			if k > j {
				if pendingSpace && len(text) > 0 {
					singles, suspicious = endWord(shape, chars, singles, suspicious)
					shape, chars, last, leet = 0, 0, 0, false
					text = append(text, ' ')
					if offsets {
						offs = append(offs, int32(i))
					}
				}
				pendingSpace = false
				text = append(text, f[j:k]...)
				if offsets {
					for range k - j {
						offs = append(offs, int32(i))
					}
				}
				chars++
				for x := j; x < k; x++ {
					switch b := f[x]; {
					case b >= utf8.RuneSelf:
						shape |= shapeWide
					case b <= '9':
						shape |= shapeDigit
					default:
						shape |= shapeLetter
					}
				}
			}
			if k < len(f) {
				pendingSpace = true
				k++
			}
			j = k
		}
		i += size
	}
	if len(text) > 0 {
		_, suspicious = endWord(shape, chars, singles, suspicious)
	}
	n.text, n.offs = text, offs
	return n, suspicious
}

// The fast path tracks the word state normalize keeps for the
// deobfuscation decision (pending space, chars, singles, last, leet) as one
// small automaton over the three byte classes, with the same rules as the
// per-byte code. chars saturates at 2 and singles at 3, since only
// chars == 1 and singles >= minSpacedRun matter; once the text is
// suspicious nothing else about it does, so that is one absorbing state.
// States are numbered times 16, to index wordNext with a class or a
// pair of classes.
const (
	wordStates     = 2 * 3 * 4 * 3 * 2
	wordSuspicious = wordStates * 16
)

func wordState(pending bool, chars, singles, last int, leet bool) int {
	st := min(chars, 2) + 3*(singles+4*(last+3*b2i(leet)))
	return (2*st + b2i(pending)) * 16
}

func wordStateOf(st int) (pending bool, chars, singles, last int, leet bool) {
	st /= 16
	pending, st = st%2 == 1, st/2
	chars, st = st%3, st/3
	singles, st = st%4, st/4
	last, st = st%3, st/3
	return pending, chars, singles, last, st == 1
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// wordNext is the automaton: wordNext[state+class] is the next state,
// wordNext[state+class<<2+class2] the state after two bytes, which halves
// the chain of dependent loads the fast path waits on. Its length is a
// power of two so that a masked index needs no bounds check.
var wordNext = func() (t [4096]uint16) {
	for i := range t {
		t[i] = wordSuspicious
	}
	for st := 0; st < wordSuspicious; st += 16 {
		pending, chars, singles, last, leet := wordStateOf(st)
		for cls := fastLetter; cls <= fastSep; cls++ {
			if cls == fastSep {
				t[st+cls] = uint16(wordState(true, chars, singles, last, leet))
				continue
			}
			// The per-byte code on a letter or digit.
			suspicious := false
			if pending {
				singles, suspicious = endWord(0, chars, singles, false)
				chars, last, leet = 0, 0, false
			}
			chars++
			if cls == fastDigit {
				if last == 1 {
					leet = true
				}
				last = 2
			} else {
				if leet && last == 2 {
					suspicious = true
				}
				last = 1
			}
			if !suspicious {
				t[st+cls] = uint16(wordState(false, chars, singles, last, leet))
			}
			pending, chars, singles, last, leet = wordStateOf(st)
		}
	}
	for st := 0; st <= wordSuspicious; st += 16 {
		for c := fastLetter; c <= fastSep; c++ {
			for c2 := fastLetter; c2 <= fastSep; c2++ {
				t[st+c<<2+c2] = t[int(t[st+c])+c2]
			}
		}
	}
	return t
}()

// fastRun copies s from i while its bytes are of a fast class, to t[k:]
// and o[k:], and returns where it stopped. Every separator writes a space
// at the same place as the one before it, so a run of them leaves one
// space, with the offset of the byte after the run: the offset of the
// next word's first byte, as in the per-byte code. prevSep (1 after a
// separator, whose space is then t[k-1]) and st, the word state, carry
// over. It takes two bytes a step, for wordNext's pairs. t and o must
// have room for the rest of s.
func fastRun(s string, i int, t []byte, o []int32, k, prevSep, st int) (int, int, int, int) {
	for ; i+1 < len(s); i += 2 {
		e, e2 := fastByte[s[i]], fastByte[s[i+1]]
		if e == 0 || e2 == 0 {
			break
		}
		sep := int(e >> 10)
		pos := k - sep&prevSep
		t[pos] = byte(e)
		o[pos] = int32(i + sep)
		k = pos + 1
		sep2 := int(e2 >> 10)
		pos = k - sep2&sep
		t[pos] = byte(e2)
		o[pos] = int32(i + 1 + sep2)
		k = pos + 1
		prevSep = sep2
		st = int(wordNext[(st+int(e>>6&12)+int(e2>>8&3))&4095])
	}
	if i < len(s) {
		if e := fastByte[s[i]]; e != 0 {
			sep := int(e >> 10)
			pos := k - sep&prevSep
			t[pos] = byte(e)
			o[pos] = int32(i + sep)
			k = pos + 1
			prevSep = sep
			st = int(wordNext[(st+int(e>>8&3))&4095])
			i++
		}
	}
	return i, k, prevSep, st
}

// fastRunText is fastRun without offsets.
func fastRunText(s string, i int, t []byte, k, prevSep, st int) (int, int, int, int) {
	for ; i < len(s); i++ {
		e := fastByte[s[i]]
		if e == 0 {
			break
		}
		sep := int(e >> 10)
		pos := k - sep&prevSep
		t[pos] = byte(e)
		k = pos + 1
		prevSep = sep
		st = int(wordNext[(st+int(e>>8&3))&4095])
	}
	return i, k, prevSep, st
}

// endWord updates the run of single-character words and the suspicion
// that the text is obfuscated when a word of the given shape and length
// ends. A function rather than a closure, so that normalize's word state
// stays in registers.
func endWord(shape, chars, singles int, suspicious bool) (int, bool) {
	if chars == 1 && shape&shapeWide == 0 {
		singles++
	} else {
		singles = 0
	}
	return singles, suspicious || shape&shapeWide != 0 || singles >= minSpacedRun
}

// specialLetter reads an ASCII symbol as the letter it stands for, or 0:
// "@" and "!" inside a word ("Hex@mine", "n!tro"), "@" starting one before
// two more letters or leetspeak digits ("@mm0nium", not "@ 98%" or "@5"),
// "$" starting one ("$odium"), "|" inside one ("perch|orate").
func specialLetter(s string, i int, wordStart, afterLetter bool) byte {
	nextLetter := i+1 < len(s) && isASCIILetter(s[i+1])
	if !nextLetter {
		return 0
	}
	switch s[i] {
	case '@':
		if !wordStart && afterLetter || wordStart && i+2 < len(s) && isASCIIAlnum(s[i+2]) {
			return 'a'
		}
	case '!':
		if !wordStart && afterLetter {
			return 'i'
		}
	case '|':
		if !wordStart && afterLetter {
			return 'l'
		}
	case '$':
		if wordStart {
			return 's'
		}
	}
	return 0
}

// subscriptMark reports whether the "_" at s[i] marks a subscript as TeX
// and chat write formulas ("H_2SO_4", "NaClO_3", "Ca(NO_3)_2"): after a
// letter or ")" and before one or two digits that end there. Longer
// numbers after it are not a formula's ("CAS_7722_84_1").
func subscriptMark(s string, i int) bool {
	if i == 0 || !isASCIILetter(s[i-1]) && s[i-1] != ')' {
		return false
	}
	j := i + 1
	for j < len(s) && j-i <= 3 && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	return j > i+1 && j-i <= 3 && (j == len(s) || s[j] < '0' || s[j] > '9')
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func endsWithLetter(b []byte) bool {
	return len(b) > 0 && (b[len(b)-1] >= 'a' && b[len(b)-1] <= 'z' || b[len(b)-1] >= 0x80)
}

var (
	foldCache sync.Map // rune → string
	foldPool  = sync.Pool{New: func() any { c := cases.Fold(); return &c }}
)

// foldRune folds one non-ASCII rune: compatibility decomposition, marks
// dropped, full case fold; non-alphanumerics become spaces. Results are
// cached since listings reuse few distinct characters.
func foldRune(r rune) string {
	if r >= 0 && r < foldTableSize {
		return foldTable[r]
	}
	if v, ok := foldCache.Load(r); ok {
		return v.(string)
	}
	res := computeFold(r)
	foldCache.Store(r, res)
	return res
}

func computeFold(r rune) string {
	// Letters NFKD keeps apart that sellers write for Latin ones: small
	// capitals ("ʜʏᴅʀᴏɢᴇɴ"), regional indicators ("🇳 🇮 🇹 🇷 🇴") and the
	// negative enclosed capitals below.
	if l, ok := smallCapitals[r]; ok {
		return string(l)
	}
	if r >= 0x1F1E6 && r <= 0x1F1FF {
		return string('a' + (r - 0x1F1E6))
	}
	// Negative circled and squared capitals ("🅝🅘🅣🅡🅞", "🅽🅸🆃🆁🅾"), which
	// NFKD leaves as they are, unlike the plain circled and squared ones.
	if r >= 0x1F150 && r <= 0x1F169 {
		return string('a' + (r - 0x1F150))
	}
	if r >= 0x1F170 && r <= 0x1F189 {
		return string('a' + (r - 0x1F170))
	}
	// Parenthesized letters ("⒜⒞⒠⒯⒪⒩⒠"), whose NFKD parentheses would
	// part every letter from the next.
	if r >= 0x249C && r <= 0x24B5 {
		return string('a' + (r - 0x249C))
	}
	// Letters of pre-1918 Russian spelling, read as today's ("сѣрная").
	if l, ok := preReform[r]; ok {
		return string(l)
	}
	// Letters with a stroke, which NFKD keeps whole: Polish sellers drop
	// the stroke of "ł" as they drop accents ("pyl aluminiowy" for "pył").
	if l, ok := stroked[r]; ok {
		return string(l)
	}
	dec := norm.NFKD.String(string(r))
	var kept []rune
	for _, d := range dec {
		if unicode.Is(unicode.Mn, d) {
			continue
		}
		kept = append(kept, d)
	}
	c := foldPool.Get().(*cases.Caser)
	folded := c.String(string(kept))
	foldPool.Put(c)
	out := make([]rune, 0, len(folded))
	for _, d := range folded {
		if unicode.IsLetter(d) || unicode.IsDigit(d) {
			out = append(out, d)
		} else if len(out) == 0 || out[len(out)-1] != ' ' {
			out = append(out, ' ')
		}
	}
	res := string(out)
	if res == " " {
		res = ""
	}
	return res
}

// preReform maps the letters the 1918 reform of Russian spelling dropped
// to the ones that replaced them.
var preReform = map[rune]rune{'ѣ': 'е', 'Ѣ': 'е', 'ѳ': 'ф', 'Ѳ': 'ф', 'ѵ': 'и', 'Ѵ': 'и'}

// stroked maps the Latin letters with a stroke to the letter without it,
// lower-cased.
var stroked = map[rune]rune{'ł': 'l', 'Ł': 'l', 'đ': 'd', 'Đ': 'd', 'ħ': 'h', 'Ħ': 'h', 'ŧ': 't', 'Ŧ': 't'}

// isChargeSign reports a superscript or subscript plus or minus sign.
func isChargeSign(r rune) bool { return r == '⁺' || r == '⁻' || r == '₊' || r == '₋' }

// smallCapitals are the small capital letters of Unicode's IPA and
// phonetic blocks, by the Latin letter they stand for, and "ǫ", which
// small-capital text generators write for the q that was encoded late
// ("ꜱᴜʟꜰᴜʀɪǫᴜᴇ"); no language the watchlist covers uses it.
var smallCapitals = map[rune]rune{
	'ᴀ': 'a', 'ʙ': 'b', 'ᴄ': 'c', 'ᴅ': 'd', 'ᴇ': 'e', 'ꜰ': 'f', 'ɢ': 'g', 'ʜ': 'h', 'ɪ': 'i', 'ᴊ': 'j',
	'ᴋ': 'k', 'ʟ': 'l', 'ᴍ': 'm', 'ɴ': 'n', 'ᴏ': 'o', 'ᴘ': 'p', 'ꞯ': 'q', 'ǫ': 'q', 'ʀ': 'r', 'ꜱ': 's',
	'ᴛ': 't', 'ᴜ': 'u', 'ᴠ': 'v', 'ᴡ': 'w', 'ʏ': 'y', 'ᴢ': 'z',
}

// foldTableSize covers Latin, Greek and Cyrillic: the scripts of the
// watchlist's names and of most homoglyphs, folded without a map lookup.
const foldTableSize = 0x800

var foldTable = func() (t [foldTableSize]string) {
	for r := rune(utf8.RuneSelf); r < foldTableSize; r++ {
		t[r] = computeFold(r)
	}
	return t
}()
