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

// normalize folds s; with offsets it also fills the offset map. With buf,
// its slices are reused.
func normalize(s string, offsets bool, buf *normText) normText {
	var n normText
	if buf != nil {
		n.text, n.offs = buf.text[:0], buf.offs[:0]
	} else {
		n.text = make([]byte, 0, len(s))
		if offsets {
			n.offs = make([]int32, 0, len(s))
		}
	}
	pendingSpace := false
	emit := func(b []byte, at int) {
		if pendingSpace && len(n.text) > 0 {
			n.text = append(n.text, ' ')
			if offsets {
				n.offs = append(n.offs, int32(at))
			}
		}
		pendingSpace = false
		n.text = append(n.text, b...)
		if offsets {
			for range b {
				n.offs = append(n.offs, int32(at))
			}
		}
	}
	var one [1]byte
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
				one[0] = c
				emit(one[:], i)
			case 'A' <= c && c <= 'Z':
				one[0] = c + 'a' - 'A'
				emit(one[:], i)
			case (c == '@' || c == '!') && !pendingSpace && endsWithLetter(n.text) && i+1 < len(s) && isASCIILetter(s[i+1]):
				// Leetspeak inside a word: "Hex@mine", "n!tromethane".
				one[0] = 'a'
				if c == '!' {
					one[0] = 'i'
				}
				emit(one[:], i)
			case c == '$' && (pendingSpace || len(n.text) == 0) && i+1 < len(s) && isASCIILetter(s[i+1]):
				one[0] = 's' // "$odium"
				emit(one[:], i)
			default:
				pendingSpace = true
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
		} else {
			// A fold may hold separators itself ("½" → "1 2").
			for j := 0; j < len(f); {
				k := j
				for k < len(f) && f[k] != ' ' {
					k++
				}
				if k > j {
					emit([]byte(f[j:k]), i)
				}
				if k < len(f) {
					pendingSpace = true
					k++
				}
				j = k
			}
		}
		i += size
	}
	if offsets {
		deobfuscate(&n, s)
	}
	return n
}

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
	if v, ok := foldCache.Load(r); ok {
		return v.(string)
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
	foldCache.Store(r, res)
	return res
}
