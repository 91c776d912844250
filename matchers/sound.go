package matchers

import (
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
// folded), up to max bytes of key: "ph" and "f", "v" and "w" are one
// sound; "c" before e, i or y is "s" and any other "c", "ch", "kh", "q"
// and "qu" are "k"; "z" is "s", "y" and "j" are "i", "x" is "ks", "ou" is
// "u"; "h" is silent; a final "d" is "t"; in Cyrillic, unstressed vowels
// merge ("о" with "а", "е", "ё", "э" and "й" with "и"), "з" is "с", and
// the soft and hard signs are silent. Doubled letters count once. ok is
// false when w holds anything but letters.
func soundKey(dst []byte, w []byte, max int) ([]byte, bool) {
	start := len(dst)
	last := rune(-1)
	for i := 0; i < len(w) && len(dst)-start < max; {
		if w[i] < utf8.RuneSelf {
			c := lowerASCII[w[i]]
			next := byte(0)
			if i+1 < len(w) {
				next = lowerASCII[w[i+1]]
			}
			i++
			var r rune
			switch c {
			case 'p':
				r = 'p'
				if next == 'h' {
					r = 'f'
					i++
				}
			case 'v', 'w', 'f':
				r = 'f'
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
			case 'z', 's':
				r = 's'
			case 'y', 'j', 'i':
				r = 'i'
			case 'x':
				if last != 'k' {
					dst = append(dst, 'k')
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
				if !isASCIILetter(c) {
					return dst[:start], false
				}
				r = rune(c)
			}
			if r != last {
				dst = append(dst, byte(r))
				last = r
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
		dst, last = soundPut(dst, last, r)
	}
	return dst, true
}

// rawTriple indexes w's first three bytes when they are ASCII letters.
func rawTriple(w []byte) (uint32, bool) {
	a, b, c := lowerASCII[w[0]]-'a', lowerASCII[w[1]]-'a', lowerASCII[w[2]]-'a'
	if a >= 26 || b >= 26 || c >= 26 {
		return 0, false
	}
	return (uint32(a)*26+uint32(b))*26 + uint32(c), true
}

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
			k, _ := soundKey(buf[:0], word, 16)
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
		k, ok := soundKey(buf[:0], []byte(w), 1<<30)
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
// soundMinLetters or more; buf is scratch for the key. The key's first
// four bytes are made and checked first: most words go no further.
func soundRead(v *vocab, w []byte, buf []byte) (string, bool) {
	if len(w) < soundMinLetters || len(w) > 64 {
		return "", false
	}
	if x, ok := rawTriple(w); ok && v.soundRaw[x/64]&(1<<(x%64)) == 0 {
		return "", false
	}
	if wordSetHas(&v.lowerWords, w) {
		return "", false // spelt as the watchlist spells it
	}
	k, ok := soundKey(buf[:0], w, 4)
	if !ok || len(k) < 4 || !v.soundStart.has(k) {
		return "", false
	}
	if k, ok = soundKey(buf[:0], w, 128); !ok || !v.soundEnd.has(k[len(k)-4:]) {
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

// wordSet is a set of normalised words as an open-addressing table, asked
// of a word in any ASCII case without a copy (soundRead asks it of nearly
// every long word of a field, and most names are spelt right).
type wordSet struct {
	keys []string
	mask uint32
}

func newWordSet(words map[string]bool) wordSet {
	size := 1
	for size < 4*len(words) {
		size <<= 1
	}
	s := wordSet{keys: make([]string, size), mask: uint32(size - 1)}
	for w := range words {
		if w == "" {
			continue
		}
		i := lowerWordHash(w) & s.mask
		for s.keys[i] != "" {
			i = (i + 1) & s.mask
		}
		s.keys[i] = w
	}
	return s
}

// lowerWordHash is wordHash of w with its ASCII letters lower-cased.
func lowerWordHash[T string | []byte](w T) uint32 {
	var x uint64
	for k := min(len(w), 8) - 1; k >= 0; k-- {
		x = x<<8 | uint64(lowerASCII[w[k]])
	}
	n := uint64(len(w))
	h := (x ^ n<<59 ^ uint64(lowerASCII[w[n-1]])<<51) * 0x9E3779B97F4A7C15
	return uint32(h>>32 ^ h>>45)
}

// wordSetHas reports whether w, its ASCII letters lower-cased, is in s.
func wordSetHas(s *wordSet, w []byte) bool {
	if len(w) == 0 {
		return false
	}
	for i := lowerWordHash(w) & s.mask; ; i = (i + 1) & s.mask {
		k := s.keys[i]
		if k == "" {
			return false
		}
		if len(k) != len(w) {
			continue
		}
		j := 0
		for j < len(k) && k[j] == lowerASCII[w[j]] {
			j++
		}
		if j == len(k) {
			return true
		}
	}
}
