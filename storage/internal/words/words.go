// Package words splits listing text into the normalised words both store
// backends index and search by, so that a text query finds the same alerts
// on SQLite (FTS5, unicode61 with remove_diacritics 2) and on Redis (an
// inverted index): letters and digits form words, anything else separates
// them, case and diacritics are dropped.
package words

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MaxLen bounds a word in bytes: longer runs (base64 blobs, hashes pasted
// into a description) are not words anyone searches for.
const MaxLen = 64

// Split returns the distinct normalised words of the texts, in order of
// first appearance.
func Split(texts ...string) []string {
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
				// a diacritic of the previous letter: dropped
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
