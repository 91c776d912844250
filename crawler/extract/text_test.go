package extract

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// writeRuneByRune is textBuilder.write without its fast path for ASCII
// words: every rune decoded and put on its own.
func writeRuneByRune(t *textBuilder, s string) {
	for i := 0; i < len(s) && !t.full; {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		t.writeRune(r, size)
	}
}

// TestTextFastPath: text written through write's fast path for ASCII
// words is what writing it rune by rune gives, at every limit, whitespace
// kept or collapsed, across several writes and block separators.
func TestTextFastPath(t *testing.T) {
	pieces := []string{"a", "Zq", "word", "~!", " ", "  ", "\n", "\t", " \n ", "\u200b", "\u00ad", "\u202e",
		"é", "\u3000", "\xff", "\x7f", "\x01", "9.50", "x y", "€"}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 20000; n++ {
		limit := rng.IntN(40)
		keep := rng.IntN(2) == 0
		fast, slow := newText(limit), newText(limit)
		fast.keep, slow.keep = keep, keep
		var in []string
		for w := rng.IntN(4); w >= 0; w-- {
			var b strings.Builder
			for k := rng.IntN(12); k >= 0; k-- {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
			s := b.String()
			in = append(in, s)
			if rng.IntN(3) == 0 {
				fast.sep()
				slow.sep()
				in = append(in, "<sep>")
			}
			fast.write(s)
			writeRuneByRune(slow, s)
		}
		if fast.String() != slow.String() || fast.full != slow.full {
			t.Fatalf("limit %d, keep %v, writes %q: %q (full %v), rune by rune %q (full %v)",
				limit, keep, in, fast.String(), fast.full, slow.String(), slow.full)
		}
	}
}
