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
// other byte above ASCII against it, whose digits the tokenizer keeps in
// the word, is one word token, its flags those of its lower-cased bytes;
// spaces, tabs and carriage returns make no token; a word of a spelled
// number stays a word unless a percentage follows its number) and answers
// false whenever that reading is in doubt.

// abbrevsDropped reports that every candidate, sorted by start, is an
// abbreviation the rules of matchField drop. The candidates' windows
// (matchField's clusters) must not touch, so that the tokens of each
// window are those of the text there, with no other window's in between.
func (m *Matcher) abbrevsDropped(text string, cands []candidate) bool {
	prevTo := -1
	for i := 0; i < len(cands); {
		from, to, j := clusterWindow(text, cands, i)
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
// model's number glued to it, a bare number before it, a long number
// after it, a competing word next to it) or because nothing around it
// can support it.
func (m *Matcher) abbrevDropped(text string, c candidate) bool {
	start, end := c.start, c.end
	if c.ref.class != classAbbr || start > 0 && (isASCIILetter(text[start-1]) || text[start-1] >= utf8.RuneSelf) ||
		end < len(text) && (isASCIILetter(text[end]) || text[end] >= utf8.RuneSelf) {
		return false
	}
	if m.subs[c.ref.sub].nitrogenBasis && !noNumberAt(text, end) {
		return false // bareGrade may read a grade after it
	}
	// The cheap tests first; then the code's own words, which a spelled
	// number next to it may take in.
	if afterBareNumber(text, start) || modelNumber(text, end) || beforeLongNumber(text, end) ||
		strings.ContainsAny(text[start:end], ",;:|()[]") {
		return true
	}
	for i := start; i < end; {
		if !isAlnum(text[i]) {
			if text[i] >= utf8.RuneSelf {
				return false
			}
			i++
			continue
		}
		j := i + 1
		for j < end && isAlnum(text[j]) {
			j++
		}
		if f, ok := asciiWordFlags(text, i, j); !ok || f&fNumberWord != 0 || percentWord(text[i:j]) {
			return false
		}
		i = j
	}
	return competingNextTo(text, start, end) || unsupportedAround(text, start, end)
}

// isBlank reports a byte the tokenizer skips as white space.
func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return isASCIILetter(c) || isDigit(c) }

// asciiWordFlags returns the flags of the ASCII word text[i:j], as the
// tokenizer looks them up (lower-cased, lookupFlagsAt); ok is false for
// a word too long to fold here.
func asciiWordFlags(text string, i, j int) (f wordFlag, ok bool) {
	var buf [32]byte
	if j-i > len(buf) {
		return 0, false
	}
	b := buf[:j-i]
	for k := range b {
		b[k] = lowerASCII[text[i+k]]
	}
	return lookupFlagsAt(b, text, i, j), true
}

// percentWord reports an ASCII word after which a spelled number is read
// (spelledPercentAt): a percent word or adjective, or "per", "pour" or
// "por" (before "cent"). Each starts with "p".
func percentWord(w string) bool {
	var buf [32]byte
	if len(w) == 0 || w[0]|0x20 != 'p' {
		return false
	}
	if len(w) > len(buf) {
		return true
	}
	b := buf[:len(w)]
	for k := range len(w) {
		b[k] = lowerASCII[w[k]]
	}
	l := string(b)
	return lookupFlags(b)&fPercent != 0 || percentAdjective(l) || l == "per" || l == "pour" || l == "por"
}

// wordFrom returns the end of the word token that starts at text[a], an
// ASCII letter after no letter or digit, and whether the token is the
// whole run of ASCII letters and digits there: its every group of digits
// is the word's (tokenizeRange), and no byte above ASCII, which may be a
// letter of it, follows.
func wordFrom(text string, a int) (int, bool) {
	j := a + 1
	for j < len(text) {
		c := text[j]
		if isASCIILetter(c) {
			j++
			continue
		}
		if !isDigit(c) {
			break
		}
		k := j
		for k < len(text) && isDigit(text[k]) {
			k++
		}
		if !(k < len(text) && isASCIILetter(text[k]) || k-j <= 2 && (k == len(text) || text[k] != '%' && text[k] != '.' && text[k] != ',')) {
			return k, false // the digits are a number
		}
		j = k
	}
	return j, j == len(text) || text[j] < utf8.RuneSelf
}

// wordTo returns the start of the word token that ends at text[p-1], a
// letter or digit before no letter or digit, and whether it is one: the
// run of letters and digits there starts with a letter after no byte
// above ASCII, and is one word (wordFrom).
func wordTo(text string, p int) (int, bool) {
	a := p - 1
	for a > 0 && isAlnum(text[a-1]) {
		a--
	}
	if !isASCIILetter(text[a]) || a > 0 && text[a-1] >= utf8.RuneSelf {
		return a, false
	}
	b, ok := wordFrom(text, a)
	return a, ok && b == p
}

// competingNextTo reports a word giving the code at text[start:end] an
// everyday sense as its next token on either side, or the next but a
// hyphen or slash (abbrevSupported's first test of fCompeting), within the
// candidate's window. A word of a spelled number counts when no
// percentage follows it (the code, no number word, is between on one
// side).
func competingNextTo(text string, start, end int) bool {
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
	if p > 0 && isAlnum(text[p-1]) {
		if j, ok := wordTo(text, p); ok && j >= start-tokenWindow {
			if f, ok := asciiWordFlags(text, j, p); ok && f&fCompeting != 0 {
				return true
			}
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
		if j, ok := wordFrom(text, p); ok && j <= end+tokenWindow {
			if f, ok := asciiWordFlags(text, p, j); ok && f&fCompeting != 0 && (f&fNumberWord == 0 || !percentAfter(text, j)) {
				return true
			}
		}
	}
	return false
}

// percentAfter reports that the token after a word ending at j may be a
// percentage (spelledPercentAt) or a word of a spelled number going on:
// false only for a symbol other than "%", the end, or a word that is
// neither.
func percentAfter(text string, j int) bool {
	for j < len(text) && isBlank(text[j]) {
		j++
	}
	if j == len(text) {
		return false
	}
	c := text[j]
	if c >= utf8.RuneSelf || isDigit(c) || c == '%' || c == '-' {
		return true
	}
	if !isASCIILetter(c) {
		return false
	}
	k, ok := wordFrom(text, j)
	f, fok := asciiWordFlags(text, j, k)
	return !ok || !fok || f&fNumberWord != 0 || percentWord(text[j:k])
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

// beforeLongNumber reports abbrevSupported's model number: right after
// the code, or one blank after it, a number of three or more digits and
// nothing else ("GB 2000", "HP 302XL"), followed by no percent sign and
// no unit, percent or nitrogen word.
func beforeLongNumber(text string, end int) bool {
	p := end
	if p < len(text) && isBlank(text[p]) {
		p++
	}
	k := p
	for k < len(text) && isDigit(text[k]) {
		k++
	}
	if p == end && k < len(text) && isASCIILetter(text[k]) {
		return false // the code's word runs on through the digits
	}
	if k-p < 3 || k < len(text) && (text[k] == 'O' || text[k] >= utf8.RuneSelf) ||
		k+1 < len(text) && (text[k] == '.' || text[k] == ',') && (isDigit(text[k+1]) || text[k+1] >= utf8.RuneSelf) {
		return false // a longer number, or a zero as a capital O
	}
	for k < len(text) && isBlank(text[k]) {
		k++
	}
	if k == len(text) {
		return true
	}
	switch c := text[k]; {
	case c >= utf8.RuneSelf || c == '%' || c == '.':
		return false
	case isASCIILetter(c):
		j, ok := wordFrom(text, k)
		f, fok := asciiWordFlags(text, k, j)
		return ok && fok && f&(fUnit|fPercent|fNitrogen) == 0
	}
	return true
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
		j, ok := wordFrom(text, p)
		f, fok := asciiWordFlags(text, p, j)
		return ok && fok && (f&fNumberWord == 0 || !percentAfter(text, j))
	}
	return true
}

// unsupportedAround reports that abbrevSupported finds no support for the
// code at text[start:end]: within contextReach words on each side there
// is no number (no digit outside a word, "%" or byte above ASCII, which
// may be a digit, a percent sign or part of a word; a spelled number's
// words only where no percentage follows), and no context word, so the
// tokens there are words, symbols and breaks: no strength or amount within
// reach nor next to it (a strength next to it holds its number within
// three words of it), save a strength that starts at its head ("purity:
// 99", "N 34"), which the first word after it is not.
func unsupportedAround(text string, start, end int) bool {
	const heads = fPurity | fContent | fFraction | fNitrogen
	// A byte between words: a digit, "%" or a byte above ASCII ends the
	// reading.
	quiet := func(c byte) bool { return c < utf8.RuneSelf && !isDigit(c) && c != '%' }
	// Before the code, outwards: [pa, pb) is the word after the one being
	// read when only blanks are between, which must be no percent word if
	// that one is a word of a spelled number.
	p, pa, pb := start, 0, 0
	for words := 0; words < contextReach && p > 0; {
		c := text[p-1]
		if !isAlnum(c) {
			if !quiet(c) {
				return false
			}
			if !isBlank(c) {
				pa, pb = 0, 0
			}
			p--
			continue
		}
		j, ok := wordTo(text, p)
		if !ok {
			return false
		}
		f, ok := asciiWordFlags(text, j, p)
		if !ok || f&fContext != 0 || f&fNumberWord != 0 && pb > pa && percentWord(text[pa:pb]) {
			return false
		}
		pa, pb = j, p
		words++
		p = j
	}
	if p > 0 && !quiet(text[p-1]) {
		return false
	}
	// After it: a word of a spelled number is read on past contextReach
	// words until what follows it shows it is no number.
	p = end
	number := false // the last word read is a word of a spelled number
	for words := 0; (words < contextReach || number) && p < len(text); {
		c := text[p]
		if !isASCIILetter(c) {
			if !quiet(c) {
				return false
			}
			if !isBlank(c) && c != '-' {
				number = false // the number's end: "-" may join its words
			}
			p++
			continue
		}
		j, ok := wordFrom(text, p)
		if !ok {
			return false
		}
		f, fok := asciiWordFlags(text, p, j)
		if !fok || words < contextReach && f&fContext != 0 || words == 0 && (f&heads != 0 || strings.EqualFold(text[p:j], "area")) ||
			number && percentWord(text[p:j]) {
			return false
		}
		number = f&fNumberWord != 0
		words++
		p = j
	}
	return p == len(text) || quiet(text[p])
}
