package matchers

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// soundKeyRef is soundKey as first written (a switch on every letter, no
// filter, at most max bytes of key): the reference the table-driven,
// filtered soundKey must agree with.
func soundKeyRef(dst []byte, w []byte, max int) ([]byte, bool) {
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
				continue
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
			continue
		default:
			if !unicode.IsLetter(r) {
				return dst[:start], false
			}
		}
		dst, last = soundPut(dst, last, r)
	}
	return dst, true
}

// soundReadRef is soundRead as first written: the vocabulary word as a
// set lookup first, then the key by soundKeyRef and a map of keys to
// their first word.
func soundReadRef(v *vocab, keys map[string]string, w []byte) (string, bool) {
	if len(w) < soundMinLetters || len(w) > 64 {
		return "", false
	}
	if v.words[string(lowerBytes(w))] {
		return "", false
	}
	k, ok := soundKeyRef(nil, w, 128)
	if !ok || len(k) < 4 {
		return "", false
	}
	fix, ok := keys[string(k)]
	if !ok {
		return "", false
	}
	// Of several words with the key, the fewest edits from w; the first
	// in order of those as close.
	if ws := v.soundAlts[string(k)]; len(ws) > 0 {
		lw, best := string(lowerBytes(w)), -1
		for _, c := range ws {
			if d := levenshteinRef(lw, c); best < 0 || d < best {
				fix, best = c, d
			}
		}
	}
	return fix, utf8.RuneCount(w) >= soundMinLetters
}

// levenshteinRef is the edit distance in bytes between a and b, by the
// full table.
func levenshteinRef(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			sub := 1
			if a[i-1] == b[j-1] {
				sub = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+sub)
		}
	}
	return d[len(a)][len(b)]
}

func lowerBytes(w []byte) []byte {
	out := make([]byte, len(w))
	for i, c := range w {
		out[i] = lowerASCII[c]
	}
	return out
}

// soundTestWords is every vocabulary word, every word of the evaluation
// and fixture fields, and seeded misspellings of them (letters doubled,
// dropped, swapped, changed for one that sounds alike or not, case
// changed, Cyrillic vowels swapped), and random words.
func soundTestWords(t *testing.T, m *Matcher) []string {
	var ws []string
	for w := range m.vocab.words {
		ws = append(ws, w)
	}
	for _, s := range plainTexts(t, m) {
		ws = append(ws, strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })...)
		ws = append(ws, strings.Fields(s)...)
	}
	r := rand.New(rand.NewPCG(6, 28))
	swaps := []string{"c", "k", "s", "z", "ph", "f", "v", "w", "y", "i", "j", "x", "ks", "ou", "u", "h", "d", "t", "q", "qu", "kh", "ch", "о", "а", "е", "и", "й", "з", "с", "ь", "ъ", "é", "1", "-"}
	base := ws[:len(ws):len(ws)]
	for _, w := range base {
		for range 4 {
			b := []byte(w)
			for range 1 + r.IntN(3) {
				if len(b) == 0 {
					break
				}
				k := r.IntN(len(b))
				switch r.IntN(6) {
				case 0:
					b = append(b[:k+1], b[k:]...)
				case 1:
					b = append(b[:k], b[k+1:]...)
				case 2:
					if k+1 < len(b) {
						b[k], b[k+1] = b[k+1], b[k]
					}
				case 3:
					b = append(b[:k], append([]byte(swaps[r.IntN(len(swaps))]), b[k+1:]...)...)
				case 4:
					b = []byte(strings.ToUpper(string(b)))
				case 5:
					b[k] ^= 0x20
				}
			}
			ws = append(ws, string(b))
		}
	}
	for range 20000 {
		var b strings.Builder
		for range 3 + r.IntN(12) {
			b.WriteString(swaps[r.IntN(len(swaps))])
			b.WriteByte("aeiounrlmtbg"[r.IntN(12)])
		}
		ws = append(ws, b.String())
	}
	return ws
}

// TestSoundReadAgrees checks soundKey without a filter against
// soundKeyRef, lowerWords against the vocabulary's map, and soundRead (the raw gate, the filter, the entries'
// words for the vocabulary lookup) against soundReadRef, on every word
// of soundTestWords: the gates may only end early a word the reference
// would not read.
func TestSoundReadAgrees(t *testing.T) {
	m := sharedInternalMatcher(t)
	v := m.vocab
	keys := v.sound
	read := 0
	for _, w := range soundTestWords(t, m) {
		b := []byte(w)
		want, wok := soundKeyRef(nil, b, 1<<30)
		got, gok := soundKey(nil, b, nil)
		if string(got) != string(want) || gok != wok {
			t.Fatalf("soundKey(%q) = %q, %v; want %q, %v", w, got, gok, want, wok)
		}
		if wok && len(b) <= 64 {
			if k4, _ := soundKeyRef(nil, b, 128); string(k4) != string(want) {
				t.Fatalf("soundKeyRef(%q) cut at 128 bytes", w)
			}
		}
		if len(b) >= 4 && v.lowerWords.has(b) != v.words[string(lowerBytes(b))] {
			t.Fatalf("lowerWords.has(%q) = %v", w, !v.words[string(lowerBytes(b))])
		}
		fix, ok := soundRead(v, b, nil)
		rfix, rok := soundReadRef(v, keys, b)
		if fix != rfix || ok != rok {
			t.Fatalf("soundRead(%q) = %q, %v; want %q, %v", w, fix, ok, rfix, rok)
		}
		if ok {
			read++
		}
	}
	if read < 100 {
		t.Fatalf("%d words read by their sound: the words test too little", read)
	}
	t.Logf("%d words read by their sound", read)
}
