package matchers

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// vocab is every word of every watchlist term (normalised), and the words
// the rules read (negators, strength units), indexed three ways for the
// repair pass (repair.go): a set, a trie (a word with masked or
// substituted letters is resolved by walking it, never by comparing it
// with every word) and, for long words, a deletion index (a word with one
// letter dropped looks its own form up).
type vocab struct {
	words map[string]bool
	// trie of words by rune; node 0 is the root.
	nodes []trieNode
	// fuzzyStart holds the first four bytes of every long word as it may
	// be written with one letter dropped, doubled or swapped; fuzzyEnd
	// their last four.
	fuzzyStart, fuzzyEnd quadSet
	fuzzyBits            quadBits // fuzzyStart as a bitset
	fuzzyEndBits         quadBits // fuzzyEnd as a bitset
	// near holds every long word and its forms with one letter (not the
	// first) deleted: a word one edit from a long word is one of them, or
	// becomes one with a letter deleted (fuzzyNear).
	near *nearFilter
	// ocr maps a long word as OCR misreads it to the vocabulary word it
	// stands for ("" when it could stand for two).
	ocr map[string]string
	// ocrStart and ocrEnd are the first and last four bytes of ocr's
	// forms: most candidates fail them before the map is asked.
	ocrStart, ocrEnd quadBits
	// sound maps a sound key (soundKey) to the long word it is the key
	// of, soundAlts a key of several words to all of them; soundGate
	// passes those keys and their prefixes.
	sound      map[string]string
	soundAlts  map[string][]string
	soundGate  *soundFilter
	soundRaw   *[26*26*26/64 + 1]uint64 // soundRawGate
	lowerWords wordSet                  // words, asked in any ASCII case
	// faux maps a long Cyrillic word spelt in Latin letters that look
	// like its letters ("HuTpoMeTaH", "nepekucb") to the word.
	faux    map[string]string
	fauxRaw *[26*26*26/64 + 1]uint64 // faux's first three letters
	// rule holds the words the rules read (negators, units).
	rule map[string]bool
	// maxLen is the longest word in bytes: longer text words are skipped.
	maxLen int
	// pair is the trie node after two ASCII runes (-1: none), so that
	// mayStart spares the root's long binary search for most words.
	pair *[128][128]int32
	// pairNext maps the word before a short word of a many-word term to
	// those short words ("ammonium" → "nitrate"), pairHeads the first
	// four bytes of its keys: a short word misspelt beside the word that
	// heads it is read through them (pairWords).
	pairNext  map[string][]string
	pairHeads quadBits
}

// nearPairMin and nearPairMax bound the words read by the word
// before them (pairWords): longer ones are fuzzyWords', shorter ones too
// close to others.
const (
	nearPairMin = 6
	nearPairMax = 8
)

type trieNode struct {
	kids []trieEdge // sorted by rune
	word string     // the word ending here, if any
}

type trieEdge struct {
	r    rune
	node int32
}

// fuzzyMinLetters is the shortest word (in letters) edited by one dropped,
// doubled or swapped letter: shorter words are too close to others.
const fuzzyMinLetters = 8

// ocrMinLetters is the shortest vocabulary word (in letters) read through
// an OCR confusion; the word as written must also be fuzzyMinLetters
// bytes or more (fuzzyWords looks at no shorter one), which only Cyrillic
// words of seven letters are.
const ocrMinLetters = 7

// ocrConfusions are the letters OCR reads one for another, printed and as
// read: "rn" for "m" and back, "d" for "cl" and back, "n" for "ri", "vv"
// for "w", "ii" for "u" and back, "li" for "h", "i" and "l" for each
// other, "i" for "t", and Cyrillic "н" for "и" and back. Each is a pair
// scanned labels and catalogue PDFs show; a letter changed any other way
// is not read (it makes another chemical: "chlorite" is not "chlorate").
var ocrConfusions = [...]struct{ printed, read string }{
	{"m", "rn"}, {"rn", "m"}, {"cl", "d"}, {"d", "cl"}, {"ri", "n"}, {"w", "vv"},
	{"u", "ii"}, {"ii", "u"}, {"h", "li"},
	{"l", "i"}, {"i", "l"}, {"t", "i"}, {"и", "н"}, {"н", "и"},
}

// ocrReadings maps every long vocabulary word with one OCR confusion to
// that word, and to "" a form two words share. A form that is itself a
// vocabulary word is left out.
func ocrReadings(words map[string]bool) map[string]string {
	ocr := map[string]string{}
	for w := range words {
		if utf8.RuneCountInString(w) < ocrMinLetters || !allLetters([]rune(w)) {
			continue
		}
		for _, c := range ocrConfusions {
			for j := 0; ; j += len(c.printed) {
				n := strings.Index(w[j:], c.printed)
				if n < 0 {
					break
				}
				j += n
				k := w[:j] + c.read + w[j+len(c.printed):]
				if len(k) < fuzzyMinLetters || words[k] {
					continue
				}
				if prev, ok := ocr[k]; ok && prev != w {
					ocr[k] = ""
				} else {
					ocr[k] = w
				}
			}
		}
	}
	return ocr
}

// vocabMinLen is the shortest word (in runes) the repair pass resolves a
// text word to: short words ("di", "de", "of") fit too many disguises.
const vocabMinLen = 3

// ruleWords are words the rules read on the text, resolved like terms so
// that a disguised negator ("s1n", "z0nder") or unit ("v0l") still counts.
func ruleWords() []string {
	var ws []string
	for _, m := range []map[string]bool{negators, volumeWords, percentWords} {
		for w := range m {
			ws = append(ws, w)
		}
	}
	return append(ws, "free", "frei", "libre")
}

func newVocab(patterns []string) *vocab {
	v := &vocab{words: map[string]bool{}, rule: map[string]bool{}, nodes: []trieNode{{}}, fuzzyStart: quadSet{}, fuzzyEnd: quadSet{}}
	add := func(w string) {
		if utf8.RuneCountInString(w) < vocabMinLen || v.words[w] || strings.Trim(w, "0123456789") == "" {
			return
		}
		v.words[w] = true
		v.maxLen = max(v.maxLen, len(w))
		n := 0
		for _, r := range w {
			kids := v.nodes[n].kids
			i, ok := slices.BinarySearchFunc(kids, r, func(e trieEdge, r rune) int { return int(e.r - r) })
			if !ok {
				v.nodes = append(v.nodes, trieNode{})
				kids = slices.Insert(kids, i, trieEdge{r, int32(len(v.nodes) - 1)})
				v.nodes[n].kids = kids
			}
			n = int(kids[i].node)
		}
		v.nodes[n].word = w
	}
	v.pairNext = map[string][]string{}
	for _, p := range patterns {
		ws := strings.Fields(p)
		for i, w := range ws {
			add(w)
			if i == 0 || len(ws[i-1]) < 4 || !allLetters([]rune(w)) {
				continue
			}
			if n := utf8.RuneCountInString(w); n >= nearPairMin && n <= nearPairMax && !slices.Contains(v.pairNext[ws[i-1]], w) {
				v.pairNext[ws[i-1]] = append(v.pairNext[ws[i-1]], w)
			}
		}
	}
	for h := range v.pairNext {
		v.pairHeads.add(quad([]byte(h)))
	}
	for _, w := range ruleWords() {
		add(w)
		v.rule[w] = true
	}
	for w := range v.words {
		if utf8.RuneCountInString(w) >= fuzzyMinLetters && allLetters([]rune(w)) {
			v.fuzzyStart.addFuzzy(w, false)
			v.fuzzyEnd.addFuzzy(w, true)
		}
	}
	v.near = newNearFilter(v.words)
	v.faux = fauxForms(v.words)
	for q := range v.fuzzyStart {
		v.fuzzyBits.add(q)
	}
	for q := range v.fuzzyEnd {
		v.fuzzyEndBits.add(q)
	}
	v.ocr = ocrReadings(v.words)
	v.sound, v.soundAlts = soundReadings(v.words)
	v.soundRaw = soundRawGate(v.sound)
	v.fauxRaw = new([26*26*26/64 + 1]uint64)
	for k := range v.faux {
		// soundMay is fauxMay's first gate, where walkPlain asks them.
		x := (uint32(k[0]-'a')*26+uint32(k[1]-'a'))*26 + uint32(k[2]-'a')
		v.soundRaw[x/64] |= 1 << (x % 64)
		v.fauxRaw[x/64] |= 1 << (x % 64)
	}
	v.soundGate = newSoundFilter(v.sound)
	v.lowerWords = newWordSet(v.words)
	// The bitsets also pass the OCR readings (vocab.ocrRead), so that they
	// stay the one gate for both kinds of reading.
	for k := range v.ocr {
		first, last := quad([]byte(k)), quad([]byte(k[len(k)-4:]))
		v.fuzzyBits.add(first)
		v.fuzzyEndBits.add(last)
		v.ocrStart.add(first)
		v.ocrEnd.add(last)
	}
	v.pair = new([128][128]int32)
	for c1 := range rune(128) {
		n1 := v.child(0, c1)
		for c2 := range rune(128) {
			v.pair[c1][c2] = -1
			if n1 >= 0 {
				v.pair[c1][c2] = int32(v.child(n1, c2))
			}
		}
	}
	return v
}

func allLetters(rs []rune) bool {
	for _, r := range rs {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// slot is one character of a text word as the repair pass reads it: the
// runes it may stand for, or any one letter (a mask).
type slot struct {
	alts  [5]rune // alternatives; 0 ends the list; altCh stands for "ch"
	lit   [3]rune // a letter's fold as written (may be several runes: "ß")
	nlit  int     // runes in lit; 0 for a digit, symbol or mask
	mask  bool    // "*", "#", "_", "?", "•": any one letter
	subst bool    // a digit or symbol read as a letter
	own   rune    // the character as written, lower case
	off   int32   // offset of the character in the original text
}

// altCh is the alternative "ch": chat transliteration of Russian writes
// "ч" as "4" ("ammia4naya" for "ammiachnaya").
const altCh rune = -1

// maxFits is the most words resolve reports as fitting a text word.
const maxFits = 4

// resolve walks the trie with slots and returns the words they fit, up to
// maxFits (ok is false when none, or more, fit, or the walk ran out of its
// budget).
func (v *vocab) resolve(slots []slot) ([]string, bool) {
	r := resolver{v: v, slots: slots, budget: 4096}
	if !r.walk(0, 0) || len(r.fits) == 0 {
		return nil, false
	}
	return r.fits, true
}

// resolver is the state of one resolve walk (a type rather than a
// recursive closure, which would allocate).
type resolver struct {
	v      *vocab
	slots  []slot
	fits   []string
	budget int
}

// child returns the node under node by r, or -1.
func (v *vocab) child(node int, r rune) int {
	kids := v.nodes[node].kids
	lo, hi := 0, len(kids)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if kids[h].r < r {
			lo = h + 1
		} else {
			hi = h
		}
	}
	if lo < len(kids) && kids[lo].r == r {
		return int(kids[lo].node)
	}
	return -1
}

// walk returns false to stop: too many fits, or out of budget.
func (r *resolver) walk(node, i int) bool {
	if r.budget--; r.budget < 0 {
		return false
	}
	v := r.v
	if i == len(r.slots) {
		if w := v.nodes[node].word; w != "" && !slices.Contains(r.fits, w) {
			r.fits = append(r.fits, w)
			return len(r.fits) <= maxFits
		}
		return true
	}
	s := &r.slots[i]
	switch {
	case s.nlit > 0:
		for _, x := range s.lit[:s.nlit] {
			if node = v.child(node, x); node < 0 {
				return true
			}
		}
		return r.walk(node, i+1)
	case s.mask:
		for _, e := range v.nodes[node].kids {
			if unicode.IsLetter(e.r) && !r.walk(int(e.node), i+1) {
				return false
			}
		}
	default:
		for _, x := range s.alts {
			if x == 0 {
				break
			}
			c := -1
			if x == altCh {
				if c = v.child(node, 'c'); c >= 0 {
					c = v.child(c, 'h')
				}
			} else {
				c = v.child(node, x)
			}
			if c >= 0 && !r.walk(c, i+1) {
				return false
			}
		}
	}
	return true
}

// nodeOf returns the trie node the word leads to, or -1.
func (v *vocab) nodeOf(word []byte) int {
	node := 0
	for _, r := range string(word) {
		if node = v.child(node, r); node < 0 {
			return -1
		}
	}
	return node
}

// fauxMinLetters is the shortest Cyrillic word read from Latin look-alikes.
const fauxMinLetters = 6

// fauxLatin maps Cyrillic letters to the Latin ones that look like them in
// print, capitals or handwriting ("и" as "u", "п" as "n", "т" as "T").
var fauxLatin = map[rune]byte{
	'а': 'a', 'в': 'b', 'г': 'r', 'е': 'e', 'ё': 'e', 'и': 'u', 'к': 'k', 'м': 'm', 'н': 'h',
	'о': 'o', 'п': 'n', 'р': 'p', 'с': 'c', 'т': 't', 'у': 'y', 'х': 'x', 'ь': 'b',
}

// fauxByte flags the Latin letters of fauxLatin: a word with any other
// byte spells no Cyrillic word.
var fauxByte = func() (t [256]bool) {
	for _, c := range fauxLatin {
		t[c] = true
	}
	return t
}()

// fauxForms returns the Latin look-alike spelling of every Cyrillic word
// of fauxMinLetters or more that has one, leaving out spellings two words
// share ("в" and "ь" are both "b"). A Cyrillic word whose every letter
// looks Latin is a vocabulary word already in the Latin letters
// normalisation reads it as ("нитрометан" as "hvtpometah"), but with "v"
// for "и", which faux spelling writes "u".
func fauxForms(words map[string]bool) map[string]string {
	out := map[string]string{}
	var b []byte
	for w := range words {
		b = b[:0]
		for _, r := range w {
			c, ok := fauxLatin[r]
			if !ok {
				b = nil
				break
			}
			b = append(b, c)
		}
		if b == nil && strings.IndexByte(w, 'v') >= 0 && strings.Trim(w, "abcehkmoprtvxy") == "" {
			b = []byte(strings.ReplaceAll(w, "v", "u"))
		}
		if len(b) < fauxMinLetters {
			continue
		}
		if prev, ok := out[string(b)]; ok && prev != w {
			out[string(b)] = ""
			continue
		}
		out[string(b)] = w
	}
	for k, w := range out {
		if w == "" || words[k] {
			delete(out, k) // ambiguous, or a Latin word itself
		}
	}
	return out
}

// fauxMay is fauxRead's test of the first three bytes of w (three or
// more), small enough to be inlined: whether they are ASCII letters that
// start a word of faux.
func (v *vocab) fauxMay(w []byte) bool {
	a, b, c := uint32(letterIndex[w[0]]), uint32(letterIndex[w[1]]), uint32(letterIndex[w[2]])
	x := (a*26+b)*26 + c
	return (a|b|c)&0x80 == 0 && v.fauxRaw[x/64]&(1<<(x%64)) != 0
}

// fauxRead returns the vocabulary word an ASCII word of fauxMinLetters or
// more spells in Cyrillic look-alikes, in any case ("HuTpoMeTaH").
func (v *vocab) fauxRead(w []byte) (string, bool) {
	if len(w) < fauxMinLetters || len(w) > v.maxLen || !v.fauxMay(w) {
		return "", false
	}
	var buf [64]byte
	if len(w) > len(buf) {
		return "", false
	}
	for i := range len(w) {
		c := lowerASCII[w[i]]
		if !fauxByte[c] {
			return "", false
		}
		buf[i] = c
	}
	fix, ok := v.faux[string(buf[:len(w)])]
	return fix, ok
}
