package matchers_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/precwatch/precwatch"
)

// styledName is a name with its strength, as a shop titles it, in one of
// the languages the watchlist covers.
type styledName struct{ substance, title string }

var styleNames = []styledName{
	{"hydrogen-peroxide", "Hydrogen peroxide 35 %"},
	{"nitromethane", "Nitromethane 98 %"},
	{"potassium-chlorate", "Potassium chlorate 99 %"},
	{"potassium-perchlorate", "Kaliumperchlorat 99 %"},
	{"sodium-chlorate", "Chlorate de sodium 99 %"},
	{"nitric-acid", "Acido nitrico 65 %"},
	{"sulphuric-acid", "Kwas siarkowy 96 %"},
	{"ammonium-nitrate", "Аммиачная селитра 34,4 %"},
	{"acetone", "Acetone 99 %"},
	{"hexamine", "Hexamine 1 kg"},
	{"sodium-perchlorate", "Natriumperchloraat 99 %"},
	{"potassium-nitrate", "Nitrato de potasio 1 kg"},
	{"triethanolamine", "Triethanolamine 99 %"},
	{"thiodiglycol", "Thiodiglycol 98 %"},
	{"aluminium-powder", "Aluminium powder 5 kg"},
}

// mapLetters rewrites ASCII letters and digits with f, which returns the
// rune unchanged when it has no styled form.
func mapLetters(s string, f func(r rune) rune) string { return strings.Map(f, s) }

// eachWordOf applies f to every word of s of more than min letters.
func eachWordOf(s string, min int, f func(w string) string) string {
	ws := strings.Split(s, " ")
	for i, w := range ws {
		if len([]rune(w)) > min && strings.IndexFunc(w, func(r rune) bool { return !unicode.IsLetter(r) }) < 0 {
			ws[i] = f(w)
		}
	}
	return strings.Join(ws, " ")
}

// syllables cuts w into pieces of three letters joined by sep.
func syllables(w, sep string) string {
	rs := []rune(w)
	var parts []string
	for i := 0; i < len(rs); i += 3 {
		parts = append(parts, string(rs[i:min(i+3, len(rs))]))
	}
	return strings.Join(parts, sep)
}

// mathAlphabet writes ASCII letters and digits in one of Unicode's
// mathematical alphabets, starting at its capital A, small a and digit 0.
func mathAlphabet(upper, lower, digit rune) func(string) string {
	return func(s string) string {
		return mapLetters(s, func(r rune) rune {
			switch {
			case r >= 'A' && r <= 'Z':
				return upper + r - 'A'
			case r >= 'a' && r <= 'z':
				return lower + r - 'a'
			case r >= '0' && r <= '9':
				return digit + r - '0'
			}
			return r
		})
	}
}

// afterLetters writes mark after every letter.
func afterLetters(mark string) func(string) string {
	return func(s string) string {
		var b strings.Builder
		for _, r := range s {
			b.WriteRune(r)
			if unicode.IsLetter(r) {
				b.WriteString(mark)
			}
		}
		return b.String()
	}
}

// textStyles are the ways social-media and chat sellers style a title to
// get past keyword filters, each as a text generator would apply it.
var textStyles = map[string]func(string) string{
	"math bold": mathAlphabet(0x1D400, 0x1D41A, 0x1D7CE),
	"monospace": mathAlphabet(0x1D670, 0x1D68A, 0x1D7F6),
	"fullwidth": func(s string) string {
		return mapLetters(s, func(r rune) rune {
			if r >= '!' && r <= '~' {
				return r + 0xFEE0
			}
			return r
		})
	},
	"circled": func(s string) string {
		return mapLetters(s, func(r rune) rune {
			if l := unicode.ToLower(r); l >= 'a' && l <= 'z' {
				return 0x24D0 + l - 'a'
			}
			return r
		})
	},
	"negative squared": func(s string) string {
		return mapLetters(s, func(r rune) rune {
			if l := unicode.ToLower(r); l >= 'a' && l <= 'z' {
				return 0x1F170 + l - 'a'
			}
			return r
		})
	},
	"small capitals": func(s string) string {
		caps := []rune("ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡxʏᴢ")
		return mapLetters(s, func(r rune) rune {
			if l := unicode.ToLower(r); l >= 'a' && l <= 'z' {
				return caps[l-'a']
			}
			return r
		})
	},
	"emoji between letters": func(s string) string {
		return eachWordOf(s, 3, func(w string) string {
			if w[0] >= 0x80 {
				return w // the sweep's emoji go between Latin letters
			}
			return strings.Join(strings.Split(w, ""), "🔥")
		})
	},
	"bullet syllables": func(s string) string {
		return eachWordOf(s, 6, func(w string) string { return syllables(w, "•") })
	},
	"hyphen syllables": func(s string) string {
		return eachWordOf(s, 6, func(w string) string { return syllables(w, "-") })
	},
	"zero-width spaces": afterLetters("\u200b"),
	"stacked marks":     afterLetters("\u0301\u0316"),
	"spaced letters": func(s string) string {
		// One space between letters, two between words.
		ws := strings.Split(s, " ")
		for i, w := range ws {
			if strings.IndexFunc(w, func(r rune) bool { return !unicode.IsLetter(r) }) < 0 {
				ws[i] = strings.Join(strings.Split(w, ""), " ")
			}
		}
		return strings.Join(ws, "  ")
	},
	"dotted letters": func(s string) string {
		return eachWordOf(s, 0, func(w string) string { return strings.Join(strings.Split(w, ""), ".") })
	},
	"capitals": strings.ToUpper,
	"greek look-alikes": func(s string) string {
		greek := map[rune]rune{'A': 'Α', 'E': 'Ε', 'I': 'Ι', 'K': 'Κ', 'M': 'Μ', 'N': 'Ν', 'O': 'Ο', 'P': 'Ρ', 'T': 'Τ', 'X': 'Χ', 'o': 'ο'}
		return mapLetters(s, func(r rune) rune {
			if g, ok := greek[r]; ok {
				return g
			}
			return r
		})
	},
}

// TestStyledNames checks that every name, styled every way, is still read
// as its substance. The styles are those generators apply to whole titles,
// not tuned to any listing.
func TestStyledNames(t *testing.T) {
	m := sharedMatcher(t)
	for style, f := range textStyles {
		for _, n := range styleNames {
			title := f(n.title) + " — 1 pc"
			found := false
			for _, mt := range m.Match(precwatch.Listing{Title: title}) {
				found = found || mt.Substance == n.substance
			}
			if !found {
				t.Errorf("%s: %q (%s) not read as %s", style, title, n.title, n.substance)
			}
		}
	}
}
