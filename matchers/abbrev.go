package matchers

import (
	"strings"
	"unicode/utf8"
)

// Most fields with candidates name nothing: their only candidates are
// capitals such as "HP", "TEA", "CAN" or "AN" that the rules drop for want
// of support (abbrevSupported, gradeSupports). abbrevsDropped decides that
// from the bytes around each before the field is tokenized, and only where
// the rules certainly drop it: every test below reads the tokens the
// tokenizer would make of those bytes (a run of ASCII letters with no
// digit or other byte above ASCII against it is one word token, its flags
// those of its lower-cased letters; spaces, tabs and carriage returns make
// no token) and answers false whenever that reading is in doubt.

// abbrevsDropped reports that every candidate, sorted by start, is an
// abbreviation the rules of matchField drop. The candidates' windows
// (matchField's clusters) must not touch, so that the tokens of each
// window are those of the text there, with no other window's in between.
func (m *Matcher) abbrevsDropped(text string, cands []candidate) bool {
	prevTo := -1
	for i := 0; i < len(cands); {
		lo, hi := cands[i].start, cands[i].end
		j := i + 1
		for j < len(cands) && cands[j].start < hi+2*tokenWindow {
			hi = max(hi, cands[j].end)
			j++
		}
		from, to := max(0, lo-tokenWindow), min(len(text), hi+tokenWindow)
		for from > 0 && text[from-1] != ' ' && text[from-1] != '\n' {
			from--
		}
		for to < len(text) && text[to] != ' ' && text[to] != '\n' {
			to++
		}
		if from < prevTo {
			return false
		}
		prevTo = to
		for _, c := range cands[i:j] {
			if !m.abbrevDropped(text, c) {
				return false
			}
		}
		i = j
	}
	return true
}

// abbrevDropped reports that the rules drop candidate c: an abbreviation
// that gradeSupports cannot support and abbrevSupported rejects, by one of
// its tests that read no strength (a list's separator in the span, a
// model's number glued to it, a bare number before it, a competing word
// next to it) or because nothing around it can support it.
func (m *Matcher) abbrevDropped(text string, c candidate) bool {
	start, end := c.start, c.end
	if c.ref.class != classAbbr || start > 0 && isASCIILetter(text[start-1]) || end < len(text) && isASCIILetter(text[end]) {
		return false
	}
	if m.subs[c.ref.sub].nitrogenBasis && !noNumberAt(text, end) {
		return false // bareGrade may read a grade after it
	}
	return competingNextTo(text, start, end) || afterBareNumber(text, start) || modelNumber(text, end) ||
		strings.ContainsAny(text[start:end], ",;:|()[]") || unsupportedAround(text, start, end)
}

// isBlank reports a byte the tokenizer skips as white space.
func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// asciiWordFlags returns the flags of the ASCII word w, as the tokenizer
// looks them up (lower-cased); ok is false for a word too long to fold here.
func asciiWordFlags(w string) (f wordFlag, ok bool) {
	var buf [32]byte
	if len(w) > len(buf) {
		return 0, false
	}
	b := buf[:len(w)]
	for k := range len(w) {
		b[k] = lowerASCII[w[k]]
	}
	return lookupFlags(b), true
}

// wordEndingAt returns the start of the run of ASCII letters that ends at
// text[p-1] (a letter), and whether that run is a whole word token: no
// digit or byte above ASCII before it.
func wordEndingAt(text string, p int) (int, bool) {
	j := p - 1
	for j > 0 && isASCIILetter(text[j-1]) {
		j--
	}
	return j, j == 0 || text[j-1] < utf8.RuneSelf && !isDigit(text[j-1])
}

// wordStartingAt returns the end of the run of ASCII letters that starts
// at text[p] (a letter), and whether that run is a whole word token.
func wordStartingAt(text string, p int) (int, bool) {
	j := p + 1
	for j < len(text) && isASCIILetter(text[j]) {
		j++
	}
	return j, j == len(text) || text[j] < utf8.RuneSelf && !isDigit(text[j])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// competingNextTo reports a word giving the code at text[start:end] an
// everyday sense as its next token on either side, or the next but a
// hyphen or slash (abbrevSupported's first test of fCompeting), within the
// candidate's window. A word of a spelled number is left to the rules
// (readSpelledNumbers may make a number of it).
func competingNextTo(text string, start, end int) bool {
	competing := func(w string) bool {
		f, ok := asciiWordFlags(w)
		return ok && f&fCompeting != 0 && f&fNumberWord == 0
	}
	p := start
	for p > 0 && isBlank(text[p-1]) {
		p--
	}
	if p > 0 && (text[p-1] == '-' || text[p-1] == '/') {
		p--
		for p > 0 && isBlank(text[p-1]) {
			p--
		}
	}
	if p > 0 && isASCIILetter(text[p-1]) {
		if j, ok := wordEndingAt(text, p); ok && j >= start-tokenWindow && competing(text[j:p]) {
			return true
		}
	}
	p = end
	for p < len(text) && isBlank(text[p]) {
		p++
	}
	if p < len(text) && (text[p] == '-' || text[p] == '/') {
		p++
		for p < len(text) && isBlank(text[p]) {
			p++
		}
	}
	if p < len(text) && isASCIILetter(text[p]) {
		if j, ok := wordStartingAt(text, p); ok && j <= end+tokenWindow && competing(text[p:j]) {
			return true
		}
	}
	return false
}

// afterBareNumber reports a number token ending at start or one blank
// before it (abbrevSupported's "PS5 825 GB", "150 PS"): a run of digits,
// points and commas that ends in a digit and that no letter, digit or byte
// above ASCII precedes, which the tokenizer reads as numbers whatever
// its points and commas.
func afterBareNumber(text string, start int) bool {
	q := start - 1
	if q >= 0 && isBlank(text[q]) {
		q--
	} else if start < len(text) && text[start] == 'O' {
		return false // a capital O right after a number may be its zero
	}
	if q < 0 || !isDigit(text[q]) {
		return false
	}
	k := q
	for k > 0 && (isDigit(text[k-1]) || text[k-1] == '.' || text[k-1] == ',') {
		k--
	}
	return k == 0 || text[k-1] < utf8.RuneSelf && !isASCIILetter(text[k-1])
}

// noNumberAt reports that the token at or after end, past blanks, is no
// number: bareGrade then reads no grade.
func noNumberAt(text string, end int) bool {
	p := end
	for p < len(text) && isBlank(text[p]) {
		p++
	}
	if p == len(text) {
		return true
	}
	switch c := text[p]; {
	case c >= utf8.RuneSelf || isDigit(c):
		return false
	case isASCIILetter(c):
		j, whole := wordStartingAt(text, p)
		f, ok := asciiWordFlags(text[p:j])
		return whole && ok && f&fNumberWord == 0
	}
	return true
}

// unsupportedAround reports that abbrevSupported finds no support for the
// code at text[start:end]: within contextReach words on each side there
// is no digit, "%" or byte above ASCII (which may be a digit, a percent
// sign or part of a word), and no context word or word of a spelled
// number, so the tokens there are words, symbols and breaks: no number,
// so no strength or amount within reach nor next to it (a strength next
// to it holds its number within three words of it), save a strength that
// starts at its head ("purity: 99", "N 34"), which the first word after
// it is not.
func unsupportedAround(text string, start, end int) bool {
	const heads = fPurity | fContent | fFraction | fNitrogen
	// A byte between words: a digit, "%" or a byte above ASCII ends the
	// reading.
	quiet := func(c byte) bool { return c < utf8.RuneSelf && !isDigit(c) && c != '%' }
	p := start
	for words := 0; words < contextReach; {
		if p == 0 {
			break
		}
		c := text[p-1]
		if !isASCIILetter(c) {
			if !quiet(c) {
				return false
			}
			p--
			continue
		}
		j, _ := wordEndingAt(text, p)
		f, ok := asciiWordFlags(text[j:p])
		if !ok || f&(fContext|fNumberWord) != 0 {
			return false
		}
		words++
		p = j
	}
	if p > 0 && !quiet(text[p-1]) {
		return false
	}
	p = end
	for words := 0; words < contextReach; {
		if p == len(text) {
			break
		}
		c := text[p]
		if !isASCIILetter(c) {
			if !quiet(c) {
				return false
			}
			p++
			continue
		}
		j, _ := wordStartingAt(text, p)
		f, ok := asciiWordFlags(text[p:j])
		if !ok || f&(fContext|fNumberWord) != 0 || words == 0 && (f&heads != 0 || strings.EqualFold(text[p:j], "area")) {
			return false
		}
		words++
		p = j
	}
	return p == len(text) || quiet(text[p])
}
