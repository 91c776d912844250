package matchers

import (
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

// ASCII byte classes for the fast path of normalize: a letter or digit
// folds to asciiFold[c]; asciiFold[c] == 0 is a separator, asciiSpecial a
// symbol that may stand for a letter depending on its neighbours.
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

// letterFold folds the ASCII letters the fast path of normalize copies: all
// but "I", which may stand for "l" (see normalize).
var letterFold = func() (t [256]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = byte(c)
		if c != 'i' {
			t[c-'a'+'A'] = byte(c)
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
// obfuscations. With buf, its slices are reused. ASCII bytes take a
// table-driven path; other runes go through foldRune's table.
func normalize(s string, offsets bool, buf *normText) normText {
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
		if c < utf8.RuneSelf && asciiFold[c] == 0 {
			// A plain ASCII separator.
			pendingSpace = true
			i++
			continue
		}
		// A run of ASCII letters inside a word, written by index: the bulk
		// of most listings. The buffers have room for the rest of s
		// whenever earlier folds did not expand it.
		if letterFold[c] != 0 && len(text)+len(s)-i+1 <= cap(text) && (!offsets || len(offs)+len(s)-i+1 <= cap(offs)) {
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
			k := len(text)
			t := text[:cap(text)]
			j := i
			if offsets {
				o := offs[:cap(offs)]
				for ; j < len(s); j++ {
					f := letterFold[s[j]]
					if f == 0 {
						break
					}
					t[k], o[k] = f, int32(j)
					k++
				}
				offs = o[:k]
			} else {
				for ; j < len(s); j++ {
					f := letterFold[s[j]]
					if f == 0 {
						break
					}
					t[k] = f
					k++
				}
			}
			text = t[:k]
			chars += j - i
			shape |= shapeLetter
			if leet && last == 2 {
				suspicious = true
			}
			last = 1
			i = j
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
			if !unicode.Is(unicode.Mn, r) && !unicode.Is(unicode.Cf, r) {
				pendingSpace = true
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
	if offsets && suspicious {
		deobfuscate(&n, s)
	}
	return n
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
// "@" and "!" inside a word ("Hex@mine", "n!tro"), "$" starting one
// ("$odium"), "|" inside one ("perch|orate").
func specialLetter(s string, i int, wordStart, afterLetter bool) byte {
	nextLetter := i+1 < len(s) && isASCIILetter(s[i+1])
	if !nextLetter {
		return 0
	}
	switch s[i] {
	case '@':
		if !wordStart && afterLetter {
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

// foldTableSize covers Latin, Greek and Cyrillic: the scripts of the
// watchlist's names and of most homoglyphs, folded without a map lookup.
const foldTableSize = 0x800

var foldTable = func() (t [foldTableSize]string) {
	for r := rune(utf8.RuneSelf); r < foldTableSize; r++ {
		t[r] = computeFold(r)
	}
	return t
}()
