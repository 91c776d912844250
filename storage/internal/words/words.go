// Package words splits listing text into the normalised words both store
// backends index and search by, so that a text query finds the same alerts
// on SQLite (FTS5, unicode61 with remove_diacritics 2) and on Redis (an
// inverted index): letters and digits form words, anything else separates
// them, case and diacritics are dropped.
package words

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxLen bounds a word in bytes: longer runs (base64 blobs, hashes pasted
// into a description) are not words anyone searches for.
const MaxLen = 64

// Split returns the distinct normalised words of the texts, in order of
// first appearance.
func Split(texts ...string) []string {
	var out []string
	var seen map[string]bool // once out is long: a short one is scanned
	var b []byte
	flush := func() {
		if len(b) == 0 || len(b) > MaxLen {
			b = b[:0]
			return
		}
		if seen != nil {
			if seen[string(b)] {
				b = b[:0]
				return
			}
		} else {
			for _, o := range out {
				if o == string(b) {
					b = b[:0]
					return
				}
			}
		}
		w := string(b)
		out = append(out, w)
		switch {
		case seen != nil:
			seen[w] = true
		case len(out) == 32:
			seen = make(map[string]bool, 64)
			for _, o := range out {
				seen[o] = true
			}
		}
		b = b[:0]
	}
	for _, t := range texts {
		if isASCII(t) {
			// Most listing text: NFKD leaves ASCII as it is, and no ASCII
			// rune is a mark, so the bytes are the runes (issue 9,
			// throughput: the store splits every alert's text).
			for i := 0; i < len(t); i++ {
				c := t[i]
				switch {
				case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
					b = append(b, c)
				case 'A' <= c && c <= 'Z':
					b = append(b, c+'a'-'A')
				default:
					flush()
				}
			}
			flush()
			continue
		}
		for _, r := range norm.NFKD.String(t) {
			switch {
			case unicode.Is(unicode.Mn, r):
				// a diacritic of the previous letter: dropped
			case unicode.IsLetter(r) || unicode.IsNumber(r):
				b = utf8.AppendRune(b, unicode.ToLower(r))
			default:
				flush()
			}
		}
		flush()
	}
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
