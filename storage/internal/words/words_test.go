package words

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want []string
	}{
		{[]string{"Peroxyde d'Hydrogène 30%", "HYDROGENE, livraison discrète"}, []string{"peroxyde", "d", "hydrogene", "30", "livraison", "discrete"}},
		{[]string{"Schwefelsäure ＣＡＳ 7664-93-9"}, []string{"schwefelsaure", "cas", "7664", "93", "9"}},
		{[]string{"  ;; --  "}, nil},
		{[]string{"ok " + strings.Repeat("x", MaxLen+1) + " ok"}, []string{"ok"}},
	} {
		if got := Split(c.in...); !slices.Equal(got, c.want) {
			t.Errorf("Split(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// splitRef is Split as it was before its ASCII fast path: every text
// through NFKD, rune by rune.
func splitRef(texts ...string) []string {
	var out []string
	seen := map[string]bool{}
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 && b.Len() <= MaxLen {
			w := b.String()
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
		b.Reset()
	}
	for _, t := range texts {
		for _, r := range norm.NFKD.String(t) {
			switch {
			case unicode.Is(unicode.Mn, r):
			case unicode.IsLetter(r) || unicode.IsNumber(r):
				b.WriteRune(unicode.ToLower(r))
			default:
				flush()
			}
		}
		flush()
	}
	return out
}

// TestSplitSameAsRef: the ASCII fast path splits as NFKD and the rune
// classes do, on random ASCII (every byte below 0x80, controls included),
// mixed with non-ASCII texts in one call.
func TestSplitSameAsRef(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 7))
	alphabet := []byte("aZ09 \t\n.,;:'\"-_/\\!?%&()[]{}<>=+*#@$^`|~\x00\x01\x7f")
	for i := range 128 {
		alphabet = append(alphabet, byte(i))
	}
	for range 20000 {
		texts := make([]string, 1+rng.IntN(3))
		for j := range texts {
			b := make([]byte, rng.IntN(90))
			for k := range b {
				if rng.IntN(4) == 0 {
					b[k] = alphabet[rng.IntN(len(alphabet))]
				} else {
					b[k] = "abcXYZ0 9 "[rng.IntN(10)]
				}
			}
			texts[j] = string(b)
			if rng.IntN(5) == 0 {
				texts[j] += []string{"é", "Ä", "ß", "ｃａｓ", "\u0301", "Σ"}[rng.IntN(6)]
			}
		}
		if rng.IntN(3) == 0 {
			texts = append(texts, strings.Repeat("k", MaxLen-1+rng.IntN(3)))
		}
		if rng.IntN(4) == 0 {
			// Past the 32 distinct words Split scans before using a map.
			var long []string
			for range rng.IntN(120) {
				long = append(long, fmt.Sprintf("W%d", rng.IntN(70)))
			}
			texts = append(texts, strings.Join(long, " "))
		}
		if got, want := Split(texts...), splitRef(texts...); !slices.Equal(got, want) {
			t.Fatalf("Split(%q) = %q, want %q", texts, got, want)
		}
	}
}
