package extract

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
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

// TestTermValueOneLine: a definition list's term and value, and a table
// row's header cell and value, read on one line as the page shows them.
func TestTermValueOneLine(t *testing.T) {
	for _, c := range []struct{ html, want string }{
		{`<dl><dt>Concentration</dt><dd>6 %</dd><dt>Pack</dt><dd>1 L</dd></dl>`, "Concentration: 6 %\nPack: 1 L"},
		{`<dl><dt>Assay:</dt> <dd>99.5 %</dd></dl>`, "Assay: 99.5 %"},
		{`<table><tr><th>Konzentration</th><td>35 %</td></tr><tr><td>a</td><td>b</td></tr></table>`, "Konzentration: 35 %\na\nb"},
		{`<dl><dd>no term</dd></dl>`, "no term"},
	} {
		doc, err := html.Parse(strings.NewReader(c.html))
		if err != nil {
			t.Fatal(err)
		}
		if got := keptNodeText(doc, 1000); got != c.want {
			t.Errorf("%s: %q, want %q", c.html, got, c.want)
		}
	}
}
