package matchers

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The fast path of normalizeFold is held to normalizeFoldReference, the
// per-byte code it replaced on letters, digits and separators: same text,
// same offsets, same decision to deobfuscate.

func TestNormalizeMatchesReferenceOnFixtures(t *testing.T) {
	var buf normText
	for _, s := range listingTexts(t) {
		checkNormalize(t, s, &buf)
	}
}

// normAlphabet mixes the byte classes of the fast path with everything
// that leaves it: "I", the symbols read as letters, and runes that fold to
// a letter, to a wide letter, to two letters, to "1 2", or to nothing.
var normAlphabet = []string{
	"a", "b", "e", "l", "o", "x", "z", "A", "B", "I", "L", "Z", "0", "1", "3", "4", "9",
	" ", "  ", ".", "-", "_", "\n", "%", "@", "!", "$", "|",
	"é", "а", "ß", "½", "\u200b", "\u0301", "ﬁ", "Ж", "€",
}

func TestNormalizeMatchesReferenceRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	n := 60000
	if testing.Short() {
		n = 5000
	}
	var buf normText
	var b strings.Builder
	for range n {
		b.Reset()
		// Short alphabets make runs of one class, long texts cross the
		// fast path's entry and exit many times.
		alpha := normAlphabet
		if rng.IntN(2) == 0 {
			alpha = make([]string, 2+rng.IntN(5))
			for i := range alpha {
				alpha[i] = normAlphabet[rng.IntN(len(normAlphabet))]
			}
		}
		for range rng.IntN(40) {
			b.WriteString(alpha[rng.IntN(len(alpha))])
		}
		s := b.String()
		if rng.IntN(4) == 0 {
			checkNormalize(t, s, nil)
		} else {
			checkNormalize(t, s, &buf)
		}
		if t.Failed() {
			return
		}
	}
}

func TestNormalizeMatchesReferenceCases(t *testing.T) {
	for _, s := range []string{
		"", " ", "a", "  a  ", "a b c d", "a b c d e", "a.b.c", "h y d r o", "a1b", "a1 b", "1a1", "ab12cd",
		"H_2SO_4", "a_1", "a _1", "a_123", "1_2", "(x)_2", "_1", "a__1",
		"aIb", "I", " I ", "perchIorate", "Hex@mine", "n!tro", "$odium", "perch|orate", "a @ b",
		"é", "é a b c", "a é b c", "ß", "½", "a½b", "x\u200by", "a b\u200bc d e", "Ѕаrіn", "aé1b",
		"4c3t0n3", "kclo3", "500ml", "CH3NO2", "a b c ½ d", "a  b  c  d", "a.b.c.d.e", "a-1-b-2",
	} {
		checkNormalize(t, s, nil)
	}
}

// checkNormalize compares normalizeFold with the reference on s, with and
// without offsets, and the text deobfuscate makes of them.
func checkNormalize(t *testing.T, s string, buf *normText) {
	t.Helper()
	for _, offsets := range []bool{false, true} {
		got, gotSusp := normalizeFold(s, offsets, buf)
		want, wantSusp := normalizeFoldReference(s, offsets, nil)
		if string(got.text) != string(want.text) {
			t.Errorf("normalizeFold(%q, %v) = %q, want %q", s, offsets, got.text, want.text)
			return
		}
		if gotSusp != wantSusp {
			t.Errorf("normalizeFold(%q, %v): suspicious %v, want %v", s, offsets, gotSusp, wantSusp)
			return
		}
		if !offsets {
			continue
		}
		if !slices.Equal(got.offs, want.offs) {
			t.Errorf("normalizeFold(%q): offsets %v, want %v", s, got.offs, want.offs)
			return
		}
		if gotSusp {
			// A fold holding a space ("½" → "1 2") in a run of single
			// characters once made deobfuscate panic.
			if deobfuscateRecover(&got, s) || deobfuscateRecover(&want, s) {
				t.Errorf("deobfuscate(%q) panicked", s)
				return
			}
		}
		if string(got.text) != string(want.text) || !slices.Equal(got.offs, want.offs) {
			t.Errorf("deobfuscated %q: %q %v, want %q %v", s, got.text, got.offs, want.text, want.offs)
			return
		}
		if buf != nil {
			*buf = got
		}
	}
}

func deobfuscateRecover(n *normText, s string) (panicked bool) {
	defer func() { panicked = recover() != nil }()
	deobfuscate(n, s)
	return false
}

// refLetterFold folds the ASCII letters normalizeFoldReference copies as
// a run: all but "I".
var refLetterFold = func() (t [256]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = byte(c)
		if c != 'i' {
			t[c-'a'+'A'] = byte(c)
		}
	}
	return t
}()

// normalizeFoldReference is normalizeFold before its fast path over
// letters, digits and separators (commit b2cef07), when a run of ASCII
// letters was its only fast path.
func normalizeFoldReference(s string, offsets bool, buf *normText) (normText, bool) {
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
		if c == '_' && !pendingSpace && subscriptMark(s, i) {
			i++
			continue
		}
		if c < utf8.RuneSelf && asciiFold[c] == 0 {
			// A plain ASCII separator.
			pendingSpace = true
			i++
			continue
		}
		// A run of ASCII letters inside a word, written by index: the bulk
		// of most listings. The buffers have room for the rest of s
		// whenever earlier folds did not expand it.
		if refLetterFold[c] != 0 && len(text)+len(s)-i+1 <= cap(text) && (!offsets || len(offs)+len(s)-i+1 <= cap(offs)) {
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
					f := refLetterFold[s[j]]
					if f == 0 {
						break
					}
					t[k], o[k] = f, int32(j)
					k++
				}
				offs = o[:k]
			} else {
				for ; j < len(s); j++ {
					f := refLetterFold[s[j]]
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
	return n, suspicious
}
