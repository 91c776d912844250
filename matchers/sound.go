package matchers

import (
	"encoding/binary"
	"slices"
	"unicode"
	"unicode/utf8"
)

// Names as people misspell them, not as a disguise: spelt by ear
// ("Asetona", "Nitrik", "fozgene", "Nitrato de potacio"), with a letter
// doubled or dropped where it makes no sound ("Acettone", "Nitromethahn"),
// in another language's spelling ("Klorato de sodio", "Wasserstoffperoxyd")
// or romanization ("Perekis Wodoroda", "Azotnaja"), and Russian with the
// vowels it reduces ("Ацитон", "Перекись вадорода", "Силитра"). A word of
// soundMinLetters or more that is no vocabulary word is read as the one
// it sounds like: both are reduced to a sound key (soundKey) that keeps
// every consonant and vowel people hear apart. A Latin vowel changed is
// never read ("nitrite" is not "nitrate", "chlorite" not "chlorate"), nor
// a consonant people hear apart ("ethane" is not "methane").

// soundMinLetters is the shortest word (in letters), as written and as
// read, that is read by its sound: shorter words sound like too many.
const soundMinLetters = 6

// soundKey appends to dst the sound key of w, a word (ASCII letters are
// lower-cased; others must be normalised: lower case, Latin accents
// folded): "ph" and "f", "v" and "w" are one sound; "c" before e, i or y
// is "s" and any other "c", "ch", "kh", "q" and "qu" are "k"; "z" is "s",
// "y" and "j" are "i", "x" is "ks", "ou" is "u"; "h" is silent; a final
// "d" is "t"; in Cyrillic, unstressed vowels merge ("о" with "а", "е",
// "ё", "э" and "й" with "и"), "з" is "с", and the soft and hard signs are
// silent. Doubled letters count once. ok is false when w holds anything
// but letters, and, with a filter f, as soon as the key made so far is
// no prefix f passes, or the whole key is none of its keys: most words
// end a few bytes in (soundRead).
func soundKey(dst []byte, w []byte, f *soundFilter) ([]byte, bool) {
	start := len(dst)
	last := rune(-1)
	h := uint32(fnvOffset32)
	for i := 0; i < len(w); {
		c := w[i]
		if c < utf8.RuneSelf {
			i++
			r := soundASCII[c]
			if r == 0 {
				// A letter whose sound depends on the next one or on
				// where it stands, or no letter.
				next := byte(0)
				if i < len(w) {
					next = lowerASCII[w[i]]
				}
				switch lowerASCII[c] {
				case 'p':
					r = 'p'
					if next == 'h' {
						r = 'f'
						i++
					}
				case 'c':
					r = 'k'
					switch next {
					case 'e', 'i', 'y':
						r = 's'
					case 'h':
						i++
					}
				case 'k':
					r = 'k'
					if next == 'h' {
						i++
					}
				case 'q':
					r = 'k'
					if next == 'u' {
						i++
					}
				case 'x':
					if last != 'k' {
						dst = append(dst, 'k')
						if h = (h ^ 'k') * fnvPrime32; f != nil && !f.hasPrefix(h) {
							return dst[:start], false
						}
					}
					last = 'k'
					r = 's'
				case 'o':
					r = 'o'
					if next == 'u' {
						r = 'u'
						i++
					}
				case 'h':
					continue // silent
				case 'd':
					r = 'd'
					if i == len(w) {
						r = 't'
					}
				default:
					return dst[:start], false // no letter
				}
			}
			if rune(r) != last {
				dst = append(dst, r)
				last = rune(r)
				if h = (h ^ uint32(r)) * fnvPrime32; f != nil && !f.hasPrefix(h) {
					return dst[:start], false
				}
			}
			continue
		}
		r, size := utf8.DecodeRune(w[i:])
		i += size
		switch r {
		case 'о':
			r = 'а'
		case 'е', 'ё', 'э', 'й':
			r = 'и'
		case 'з':
			r = 'с'
		case 'ь', 'ъ':
			continue // silent
		default:
			if !unicode.IsLetter(r) {
				return dst[:start], false
			}
		}
		n := len(dst)
		dst, last = soundPut(dst, last, r)
		for _, b := range dst[n:] {
			if h = (h ^ uint32(b)) * fnvPrime32; f != nil && !f.hasPrefix(h) {
				return dst[:start], false
			}
		}
	}
	if f != nil && !f.hasWhole(h) {
		return dst[:start], false
	}
	return dst, true
}

// soundASCII is the sound of each ASCII letter that soundKey reads alone,
// in either case; 0 for a letter it reads with the next one or by where it
// stands (p, c, k, q, x, o, h, d), and for any other byte.
var soundASCII = func() (t [utf8.RuneSelf]byte) {
	for c := byte('a'); c <= 'z'; c++ {
		r := c
		switch c {
		case 'p', 'c', 'k', 'q', 'x', 'o', 'h', 'd':
			r = 0
		case 'v', 'w':
			r = 'f'
		case 'z':
			r = 's'
		case 'y', 'j':
			r = 'i'
		}
		t[c], t[c-'a'+'A'] = r, r
	}
	return t
}()

// FNV-1a, byte by byte, hashes a key as soundKey makes it.
const (
	fnvOffset32 = 2166136261
	fnvPrime32  = 16777619
)

// soundFilter holds the FNV-1a hashes of the vocabulary's sound keys and
// of every byte prefix of them, as bitsets (so without false negatives):
// a word whose key so far is no key's prefix ends there, before the key
// is made or looked up.
type soundFilter struct {
	prefix [1 << (soundPrefixBits - 6)]uint64
	whole  [1 << (soundWholeBits - 6)]uint64
}

// The bitsets' sizes (log2 bits): 16 KB and 8 KB, a few per cent false
// positives at some 23,000 prefixes and 3,200 keys.
const (
	soundPrefixBits = 17
	soundWholeBits  = 16
)

func newSoundFilter(keys map[string]string) *soundFilter {
	f := new(soundFilter)
	for k := range keys {
		h := uint32(fnvOffset32)
		for i := 0; i < len(k); i++ {
			h = (h ^ uint32(k[i])) * fnvPrime32
			x := h >> (32 - soundPrefixBits)
			f.prefix[x/64] |= 1 << (x % 64)
		}
		x := h >> (32 - soundWholeBits)
		f.whole[x/64] |= 1 << (x % 64)
	}
	return f
}

func (f *soundFilter) hasPrefix(h uint32) bool {
	x := h >> (32 - soundPrefixBits)
	return f.prefix[x/64]&(1<<(x%64)) != 0
}

func (f *soundFilter) hasWhole(h uint32) bool {
	x := h >> (32 - soundWholeBits)
	return f.whole[x/64]&(1<<(x%64)) != 0
}

// soundMay is soundRead's test of the first three bytes of w (three or
// more): when they are ASCII letters, whether soundRawGate passes them.
// Small enough to be inlined where most words fail it, as walkPlain's do.
func (v *vocab) soundMay(w []byte) bool {
	a, b, c := uint32(letterIndex[w[0]]), uint32(letterIndex[w[1]]), uint32(letterIndex[w[2]])
	x := (a*26+b)*26 + c
	return (a|b|c)&0x80 != 0 || v.soundRaw[x/64]&(1<<(x%64)) != 0
}

// letterIndex is the place of each ASCII letter in the alphabet, in either
// case; 0x80 for any other byte.
var letterIndex = func() (t [256]uint8) {
	for c := range t {
		t[c] = 0x80
		if isASCIILetter(byte(c)) {
			t[c] = lowerASCII[c] - 'a'
		}
	}
	return t
}()

// soundRawGate is the set of three ASCII letters that may start a word
// whose sound key starts as a vocabulary word's does: each three with
// every letter after it, or none, is keyed, and kept when the key's first
// three bytes (or all, when fewer) begin some key of keys. Most words
// fail it on three table loads, before any key is made.
func soundRawGate(keys map[string]string) *[26*26*26/64 + 1]uint64 {
	prefixes := map[string]bool{}
	for k := range keys {
		for n := 1; n <= 3 && n <= len(k); n++ {
			prefixes[k[:n]] = true
		}
	}
	gate := new([26*26*26/64 + 1]uint64)
	var w [4]byte
	var buf [16]byte
	for x := range 26 * 26 * 26 {
		w[0], w[1], w[2] = byte('a'+x/676), byte('a'+x/26%26), byte('a'+x%26)
		for c := 'a' - 1; c <= 'z'; c++ {
			word := w[:3]
			if c >= 'a' {
				w[3] = byte(c)
				word = w[:4]
			}
			k, _ := soundKey(buf[:0], word, nil)
			if n := min(3, len(k)); n > 0 && prefixes[string(k[:n])] {
				gate[x/64] |= 1 << (x % 64)
				break
			}
		}
	}
	return gate
}

// soundPut appends r to a sound key unless it repeats the last sound.
func soundPut(dst []byte, last, r rune) ([]byte, rune) {
	if r == last {
		return dst, last
	}
	if r < utf8.RuneSelf {
		return append(dst, byte(r)), r
	}
	return utf8.AppendRune(dst, r), r
}

// soundReadings maps the sound key of every vocabulary word of
// soundMinLetters or more to that word. A key of two or more words (two
// spellings of one name, "peroxide" and "peroxyde"; one name in two
// languages, "amonio" and "ammonio") maps to the first in order, and alts
// holds all of them, in order, for soundRead to choose among.
func soundReadings(words map[string]bool) (m map[string]string, alts map[string][]string) {
	m, alts = map[string]string{}, map[string][]string{}
	var buf []byte
	for w := range words {
		if utf8.RuneCountInString(w) < soundMinLetters {
			continue
		}
		k, ok := soundKey(buf[:0], []byte(w), nil)
		if !ok {
			continue
		}
		buf = k
		prev, had := m[string(k)]
		if !had || w < prev {
			m[string(k)] = w
		}
		if had {
			if alts[string(k)] == nil {
				alts[string(k)] = []string{prev}
			}
			alts[string(k)] = append(alts[string(k)], w)
		}
	}
	for _, ws := range alts {
		slices.Sort(ws)
	}
	return m, alts
}

// closestSpelling returns the word of ws (in order) fewest edits away
// from w, its ASCII letters lower-cased: of the words one sound key
// reads, the one the writer most likely meant ("tionille" is Italian
// "tionile", not French "thionyle"; "amonnio" Spanish "amonio", not
// Italian "ammonio"). Of two as close, the first.
func closestSpelling(w []byte, ws []string) string {
	best, bestD := ws[0], -1
	var row []int
	for _, c := range ws {
		var d int
		if d, row = editDistance(w, c, row); bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance in bytes between w (ASCII
// letters lower-cased as read) and c, with row as scratch.
func editDistance(w []byte, c string, row []int) (int, []int) {
	row = slices.Grow(row[:0], len(c)+1)[:len(c)+1]
	for j := range row {
		row[j] = j
	}
	for i := range w {
		diag := row[0]
		row[0] = i + 1
		for j := 1; j <= len(c); j++ {
			up := row[j]
			cost := 1
			if lowerASCII[w[i]] == c[j-1] {
				cost = 0
			}
			row[j] = min(row[j]+1, row[j-1]+1, diag+cost)
			diag = up
		}
	}
	return row[len(c)], row
}

// soundRead returns the vocabulary word w sounds like, when w (a word,
// normalised but for ASCII capitals) is none itself and has
// soundMinLetters or more; buf is scratch for the key. The key is made
// through the vocabulary's soundFilter: most words go no further than a
// few bytes of it.
func soundRead(v *vocab, w []byte, buf []byte) (string, bool) {
	if len(w) < soundMinLetters || len(w) > 64 || !v.soundMay(w) {
		return "", false
	}
	return soundReadMay(v, w, buf)
}

// soundReadMay is soundRead for a word that passed its gates (a length of
// soundMinLetters to 64 bytes, soundMay), as walkPlain asks them inline.
func soundReadMay(v *vocab, w []byte, buf []byte) (string, bool) {
	if v.lowerWords.has(w) {
		return "", false // spelt as the watchlist spells it
	}
	k, ok := soundKey(buf[:0], w, v.soundGate)
	if !ok || len(k) < 4 {
		return "", false
	}
	fix, ok := v.sound[string(k)]
	if !ok {
		return "", false
	}
	if ws, ok := v.soundAlts[string(k)]; ok {
		fix = closestSpelling(w, ws)
	}
	return fix, utf8.RuneCount(w) >= soundMinLetters
}

// wordSet is the set of vocabulary words of four bytes or more, asked of
// a word in any ASCII case without a copy (soundRead asks it of nearly
// every long word of a field, and most names are spelt right): an
// open-addressing table keyed by a word's length and its first and last
// eight bytes (four for a shorter word), which are the whole word up to
// sixteen bytes, so that most lookups compare two numbers.
type wordSet struct {
	slots []wordSlot
	mask  uint32
}

type wordSlot struct {
	head, tail uint64 // wordEnds
	n          int    // len(w); 0 for an empty slot
	w          string
}

func newWordSet(words map[string]bool) wordSet {
	size := 1
	for size < 4*len(words) {
		size <<= 1
	}
	s := wordSet{slots: make([]wordSlot, size), mask: uint32(size - 1)}
	for w := range words {
		if len(w) < 4 {
			continue
		}
		head, tail := wordEnds([]byte(w))
		i := wordSetHash(head, tail, len(w)) & s.mask
		for s.slots[i].n != 0 {
			i = (i + 1) & s.mask
		}
		s.slots[i] = wordSlot{head, tail, len(w), w}
	}
	return s
}

// wordEnds returns w's first and last eight bytes (for a word of four to
// seven bytes, its first and last four in one number, and 0) with ASCII
// capitals lower-cased: with len(w), all of a word of sixteen bytes or
// fewer.
func wordEnds(w []byte) (head, tail uint64) {
	if n := len(w); n >= 8 {
		return lower8(binary.LittleEndian.Uint64(w)), lower8(binary.LittleEndian.Uint64(w[n-8:]))
	}
	x := uint64(binary.LittleEndian.Uint32(w)) | uint64(binary.LittleEndian.Uint32(w[len(w)-4:]))<<32
	return lower8(x), 0
}

func wordSetHash(head, tail uint64, n int) uint32 {
	h := (head*0x9E3779B97F4A7C15 ^ tail) * 0xC2B2AE3D27D4EB4F
	return uint32(h>>32) ^ uint32(n)
}

// lower8 lower-cases the ASCII capitals among the eight bytes of x.
func lower8(x uint64) uint64 {
	// A byte under 0x80 is 'A' or more when adding 0x80-'A' sets its top
	// bit, and over 'Z' when adding 0x80-'Z'-1 does (no carry leaves a
	// byte: 0x7f+0x3f < 0x100).
	low := x & swarLow7
	upper := (low + swarOnes*(0x80-'A')) &^ (low + swarOnes*(0x80-'Z'-1)) &^ x & swarHigh
	return x | upper>>2
}

// has reports whether w, of four bytes or more, its ASCII letters
// lower-cased, is in s.
func (s *wordSet) has(w []byte) bool {
	head, tail := wordEnds(w)
	for i := wordSetHash(head, tail, len(w)) & s.mask; ; i = (i + 1) & s.mask {
		e := &s.slots[i]
		if e.n == 0 {
			return false
		}
		if e.n != len(w) || e.head != head || e.tail != tail {
			continue
		}
		j := 8
		for j < len(w)-8 && e.w[j] == lowerASCII[w[j]] {
			j++
		}
		if j >= len(w)-8 {
			return true
		}
	}
}
