package matchers

import (
	"math/bits"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// The plain-text prefilter: most fields of a market name no precursor, and
// most of those are plain text that normalisation would only fold. For
// such a field the automaton can run over the original bytes, each read
// as the byte(s) normalisation would write, and when it finds nothing and
// the repair pass could change nothing (plainSkip) the field is done
// without normalising, tokenizing or allocating.
//
// A field is plain when normalisation would not deobfuscate it, so that
// its normalised text is exactly its characters folded with every run of
// separators made one space: ASCII, and Latin letters whose fold is ASCII
// letters ("é", "ß"; not in a word with digits), none of the symbols
// that may stand for letters ("@", "!", "$", "|"), no capital I inside a
// lower-case word ("perchIorate"), no letter-digits-letter word
// ("n1tro"), no run of minSpacedRun one-character words, no word cut into
// pieces (hasChunkedWord). Any other field takes the full path, and a
// plain field with a hit the full path's rules, on the candidates of the
// hits the walk records (plainCands), which are the full path's
// (TestPlainCandsAgrees); so the prefilter never changes a result
// (TestPlainPrefilterAgrees checks both paths on the evaluation listings
// and on mutations of them). The one hit plainSkip walks past
// is a dead one: a word that is only an upper-case abbreviation of the
// watchlist, not written in upper case ("Tea", "an"), which the full
// path drops at once (deadHits).
//
// A rule that finds terms without an automaton hit on the normalised text
// (a repair of the text, a fuzzy reading) must make plainNoHit return
// false on the fields it may change.

// plainByte classes of the original bytes.
const (
	pbSep    = 1 << iota // folds to a separator
	pbDigit              // an ASCII digit
	pbUpperI             // "I", which may stand for "l"
	pbStop               // non-ASCII or a symbol that may stand for a letter: not plain
	pbChunk              // a separator of chunkSeps
	pbLetter             // a letter
	pbMask               // a separator the repair pass reads as a masked letter
	pbWide               // (in a word's flags) a Latin letter outside ASCII
)

// pbEnc marks, in plainByte, the separators that mayBeEncoded looks for
// ("&", "[", "%"). It shares pbWide's bit: a word's flags never take a
// separator's class.
const pbEnc = pbWide

// latinFold is the fold of each Latin letter below latinFoldSize whose
// fold is ASCII letters only ("é" → "e", "ß" → "ss", "Ł" → "l"), or ""
// for any other character: such a letter normalises like ASCII letters,
// with no deobfuscation, and a plain field may hold it.
const latinFoldSize = 0x250

var latinFold = func() (t [latinFoldSize]string) {
	for r := rune(utf8.RuneSelf); r < latinFoldSize; r++ {
		f := foldRune(r)
		if f == "" || !unicode.IsLetter(r) || strings.ContainsFunc(f, func(c rune) bool { return c < 'a' || c > 'z' }) {
			continue
		}
		t[r] = f
	}
	return t
}()

// latinLetterAt returns the fold of the Latin letter starting s[i] (see
// latinFold) and its size, or "" when s[i] starts no such letter.
func latinLetterAt(s string, i int) (string, int) {
	c := s[i]
	if c < 0xc2 || c > 0xc9 || i+1 >= len(s) || s[i+1]&0xc0 != 0x80 {
		return "", 1 // not a two-byte character below U+0250
	}
	r := rune(c&0x1f)<<6 | rune(s[i+1]&0x3f)
	if r >= latinFoldSize {
		return "", 2
	}
	return latinFold[r], 2
}

// foldWord appends the fold of a plain word (ASCII letters and Latin
// letters of latinFold) to dst.
func foldWord(dst []byte, w string) []byte {
	for k := 0; k < len(w); {
		if c := w[k]; c < utf8.RuneSelf {
			dst = append(dst, lowerASCII[c])
			k++
			continue
		}
		fold, size := latinLetterAt(w, k)
		dst = append(dst, fold...)
		k += size
	}
	return dst
}

var plainByte = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c >= 0x80 || c < 0x80 && asciiFold[c] == asciiSpecial:
			t[c] = pbStop
		case asciiFold[c] == 0:
			t[c] = pbSep
			// The repair pass's glues too ("Schwefel~säure"): asked
			// below like chunkSeps.
			if strings.IndexByte(chunkSeps, byte(c)) >= 0 || isASCIIGlue(byte(c)) {
				t[c] |= pbChunk
			}
			if repairByte[c] {
				t[c] |= pbMask
			}
			if c == '&' || c == '[' || c == '%' {
				t[c] |= pbEnc
			}
		case c >= '0' && c <= '9':
			t[c] = pbDigit
		case c == 'I':
			t[c] = pbUpperI | pbLetter
		default:
			t[c] = pbLetter
		}
	}
	return t
}()

// rawClasses maps every ASCII letter and digit to the class of its fold
// and every separator to the class of the space, for plainNoHit.
func rawClasses(a *automaton) (t [256]uint8) {
	for c := range 128 {
		switch f := asciiFold[c]; f {
		case 0:
			t[c] = a.class[' ']
		case asciiSpecial:
		default:
			t[c] = a.class[f]
		}
	}
	return t
}

// plainNoHit reports whether text is plain (see above) and the automaton
// finds no pattern in its normalised form, which it reads from text
// itself: the same walk as scanSpaced, with runs of separators read as
// one space. It stops at the first hit or the first sign that the text is
// not plain.
func (a *automaton) plainNoHit(text string) bool { return a.plainWalk(text, nil) }

// plainSkip reports whether the field text needs no more than the
// prefilter: plainNoHit(text) && !mayRepair(text), but for dead hits
// (deadHits) and for words of letters and digits that the repair pass
// reads as no disguise (mayReadDisguised), asked in plainNoHit's one
// walk, which stops at the first sign that the repair pass may read
// something (TestPlainSkipAgrees).
func (m *Matcher) plainSkip(text string) bool { return m.ac.plainWalk(text, m) }

// plainRead asks plainSkip's questions of the whole of text, a hit or
// not: plain is whether text is plain and the repair pass could change
// nothing in it, hit whether the automaton finds a pattern in its
// normalised form (dead hits aside). After the first hit the walk only
// asks the repair pass's questions, with no automaton steps. A plain
// field with a hit takes the full path without deobfuscation or repair
// (matchField), which would change nothing in it
// (TestPlainReadAgrees); a plain field without one is done.
func (m *Matcher) plainRead(text string) (plain, hit bool) { return m.ac.walkPlain(text, m, true, nil) }

// plainReadClean is plainRead, and clean: whether the walk went through
// the whole of text and met none of the bytes mayBeEncoded looks for
// ("&", "[", "%", the 0xC3 that starts "é" and mojibake alike), so that
// mayBeEncoded(text) is false and need not be asked
// (TestPlainCleanAgrees). It appends to hits the automaton's hits in
// text, as walkOut records them: for a plain field with a hit they are
// scanSpaced's on its normalised text, read without normalising it
// (plainCands).
func (m *Matcher) plainReadClean(text string, hits []hit) (plain, hit, clean bool, _ []hit) {
	out := walkOut{hits: hits}
	plain, hit = m.ac.walkPlain(text, m, true, &out)
	return plain, hit, plain && !out.enc, out.hits
}

// walkOut is what walkPlain reports when asked, beyond plain and hit.
type walkOut struct {
	// enc is set when the walk meets a byte mayBeEncoded looks for.
	enc bool
	// hits are the automaton's hits from the word of the first live one
	// on (the dead ones before it are hits the full path drops at once,
	// deadHits), each with end the offset in text where its term ends, or
	// -1 for one that ends inside a Latin letter's fold.
	hits []hit
}

// plainWalk is walkPlain stopping at the first hit: true when the field
// needs no more than the prefilter.
func (a *automaton) plainWalk(text string, m *Matcher) bool {
	plain, hit := a.walkPlain(text, m, false, nil)
	return plain && !hit
}

// walkPlain is plainNoHit, and with m also plainSkip's questions of the
// repair pass (whose answer yes makes plain false), asked of each
// separator and word as the walk meets them: a mask; a "." or "-" the
// repair may read; a word of digits and letters (the only trigger of
// nextTrigger a plain text can hold besides a mask) that it may read as a
// disguise; a long word that passes the fuzzy filters. It returns at the
// first sign that text is not plain, and at the first hit unless through
// is set, when it walks on asking the questions only, and stepping the
// automaton only with out, whose hits it then records (stepRecord). With
// out, it sets out.enc when it meets a byte mayBeEncoded looks for
// (plainReadClean): a pointer, written only on those rare bytes and
// after a hit, so that the word loop keeps its registers.
func (a *automaton) walkPlain(text string, m *Matcher, through bool, out *walkOut) (plain, hit bool) {
	if !a.spaceLed || a.starts == nil {
		return false, false
	}
	var v *vocab
	var upperOnly []bool
	if m != nil {
		v, upperOnly = m.vocab, m.upperOnly
	}
	n := a.nclass
	dense, chain := a.dense, a.chain
	dlen := uint32(len(dense))
	next := func(v, c uint32) uint32 { return step(dense, chain, dlen, v, c) }
	raw := &a.raw
	sp := uint32(a.class[' '])
	// s is the state before the space that precedes the next word (the
	// text's virtual leading space first).
	s := uint32(0)
	singles := 0
	i := 0
	var lower [64]byte // a long word lower-cased, for v.fuzzyCandidate
	var keyBuf [128]byte
	// The word before the current one, and the current one: a hit read at
	// a space ends at the word before it.
	pws, pwe, cws, cwe := 0, 0, 0, 0
	var pf uint8 // the word before's flags
	for {
		for i < len(text) {
			b := plainByte[text[i]]
			if b&pbSep == 0 {
				break
			}
			if b&(pbChunk|pbMask|pbEnc) == 0 {
				i++ // most separators (a space) need no question
				continue
			}
			if b&pbEnc != 0 && out != nil {
				out.enc = true
			}
			// hasChunkedWord, at the separators it looks at.
			// (A piece needs a letter on each side of its separator.)
			if b&pbChunk != 0 && i > 0 && i+1 < len(text) && isASCIILetter(text[i-1]) && isASCIILetter(text[i+1]) &&
				chunkLen(text, i, text[i]) >= minChunks {
				return false, hit
			}
			if b&pbMask != 0 && (v != nil || text[i] == '_' && subscriptMark(text, i)) {
				// A mask the repair pass may read, or a subscript mark
				// normalisation joins ("H_2SO_4").
				return false, hit
			}
			if v != nil && b&pbChunk != 0 {
				if i > 0 && isLetterByte(text[i-1]) && mayJoinOrClip(text, i) && v.mayStart(wordBefore(text, i)) && m.glueMayEdit(text, i) {
					return false, hit
				}
			}
			i++
		}
		if i == len(text) {
			break
		}
		ws := i
		var f uint8
		// Characters (as normalisation counts them) and bytes of the
		// fold, less the word's bytes: non-zero only for Latin letters.
		chars, folded := 0, 0
		for i < len(text) {
			if i+8 <= len(text) {
				// Eight bytes at a time over the word's ASCII letters
				// (letters8), whose class is pbLetter, and pbUpperI
				// too for an "I"; the byte after them goes below.
				x := load8(text, i)
				if nl := ^letters8(x) & swarHigh; nl == 0 {
					f |= pbLetter | upperI8(x, swarHigh)
					i += 8
					continue
				} else if k := bits.TrailingZeros64(nl) / 8; k > 0 {
					f |= pbLetter | upperI8(x, nl-1)
					i += k
				}
			}
			b := plainByte[text[i]]
			if b&pbSep != 0 {
				break
			}
			if b&pbStop != 0 && text[i] >= utf8.RuneSelf {
				// A Latin letter whose fold is ASCII letters ("é",
				// "ß") is plain too; any other character is not.
				fold, size := latinLetterAt(text, i)
				if fold == "" {
					return false, hit
				}
				if text[i] == 0xc3 && out != nil {
					out.enc = true
				}
				f |= pbLetter | pbWide
				chars -= size - 1
				folded += len(fold) - size
				i += size
				continue
			}
			f |= b
			i++
		}
		we := i
		pws, pwe, cws, cwe = cws, cwe, ws, we
		chars += we - ws
		folded += we - ws
		if f != pbLetter {
			// Anything but ASCII letters, "I" aside: most words are
			// asked none of these. A word with no letter (a number) is
			// one plainWord passes: it finds no letter around a digit
			// nor lower-case letters around an "I".
			if f&pbStop != 0 || f&(pbDigit|pbUpperI) != 0 && f&pbLetter != 0 && !plainWord(text, ws, we) {
				return false, hit
			}
			if f&pbWide != 0 && f&pbDigit != 0 {
				return false, hit // normalisation's leetspeak rules, left to the full path
			}
			if v != nil && f&pbDigit != 0 && f&pbLetter != 0 && m.mayReadDisguised(text, ws, we) {
				return false, hit // digits in a word (nextTrigger) that may be a disguise
			}
		}
		if v != nil && folded >= min(fuzzyMinLetters, soundMinLetters) {
			if folded >= fuzzyMinLetters && (f&pbDigit == 0 || f&pbLetter != 0) {
				if folded > len(lower) {
					if folded <= v.maxLen+4 {
						return false, hit // too long to copy: left to the full path
					}
				} else if f&pbWide == 0 {
					// The bitsets of its first and last four bytes first:
					// most long words fail them, and are not copied.
					if v.fuzzyEndsASCII(text[ws:we]) {
						word := lower[:folded]
						for k := range word {
							word[k] = lowerASCII[text[ws+k]]
						}
						if v.fuzzyCandidate(word) {
							return false, hit
						}
					}
				} else if v.fuzzyCandidate(foldWord(lower[:0], text[ws:we])) {
					return false, hit
				}
			}
			if folded >= soundMinLetters && f&pbDigit == 0 {
				// A word that may be a name misspelt by ear (sound.go).
				if f&pbWide == 0 {
					// soundRead's gates, inline (folded is len(w), six or more).
					if w := unsafe.Slice(unsafe.StringData(text[ws:]), we-ws); len(w) <= 64 && v.soundMay(w) {
						if _, ok := soundReadMay(v, w, keyBuf[:0]); ok {
							return false, hit
						}
						if v.fauxMay(w) {
							if _, ok := v.fauxRead(w); ok {
								return false, hit // a Cyrillic word in Latin look-alikes
							}
						}
					}
				} else if folded <= len(lower) {
					if _, ok := soundRead(v, foldWord(lower[:0], text[ws:we]), keyBuf[:0]); ok {
						return false, hit
					}
				}
			}
		}
		if v != nil && folded >= nearPairMin && folded <= nearPairMax+1 && f&pbDigit == 0 && pwe-pws >= 4 &&
			(pf&pbWide != 0 || v.pairHeads.hasQuad(uint32(lower8(uint64(load4(text, pws)))))) && v.pairNear(text[pws:pwe], text[ws:we]) {
			return false, hit // a short word misspelt after the word heading it (pairWords)
		}
		pf = f
		if chars == 1 {
			if singles++; singles >= minSpacedRun {
				return false, hit
			}
		} else {
			singles = 0
		}
		if hit && out == nil {
			continue // the automaton has answered
		}
		if s == 0 && we-ws >= 3 && f&pbWide == 0 {
			// From the root, a word whose first three bytes start no
			// pattern leaves the automaton at the root (scanSpaced's skip).
			x := (uint32(raw[text[ws]])*n+uint32(raw[text[ws+1]]))*n + uint32(raw[text[ws+2]])
			if a.starts[x/64]&(1<<(x%64)) == 0 {
				continue
			}
		}
		if hit {
			s = a.stepRecord(s, text, pwe, ws, we, &out.hits)
			continue
		}
		t := next(s, sp)
		if t&outFlag != 0 && upperOnly != nil && a.deadHits(t&^outFlag, text[pws:pwe], upperOnly) {
			t &^= outFlag
		}
		if f&pbWide == 0 {
			for k := ws; k < we && t&outFlag == 0; k++ {
				if t == 0 {
					break // only a space leaves the root
				}
				t = next(t, uint32(raw[text[k]]))
			}
		} else {
			// The fold of each Latin letter, byte by byte.
		wide:
			for k := ws; k < we && t&outFlag == 0; {
				if text[k] < utf8.RuneSelf {
					if t == 0 {
						break
					}
					t = next(t, uint32(raw[text[k]]))
					k++
					continue
				}
				fold, size := latinLetterAt(text, k)
				for x := 0; x < len(fold); x++ {
					if t == 0 || t&outFlag != 0 {
						break wide
					}
					t = next(t, uint32(a.class[fold[x]]))
				}
				k += size
			}
		}
		if t&outFlag != 0 {
			if !through {
				return true, true
			}
			hit = true
			if out != nil {
				// This word again, recording its hits, from the state
				// before the separator.
				s = a.stepRecord(s, text, pwe, ws, we, &out.hits)
			}
			continue
		}
		s = t
	}
	if !hit || out != nil {
		// The text's virtual closing space.
		t := next(s, sp)
		live := t&outFlag != 0 && (upperOnly == nil || !a.deadHits(t&^outFlag, text[cws:cwe], upperOnly))
		if t&outFlag != 0 && out != nil && (hit || live) {
			out.hits = a.outputs(a.stateOf(t&^outFlag), int32(cwe), out.hits)
		}
		hit = hit || live
	}
	return true, hit
}

// stepRecord steps the automaton from the state s over a separator and
// the plain word text[ws:we] as walkPlain does, appending to *hits every
// pattern that ends on the way: one read at the separator ends at pwe,
// the end of the word before; one in the word at the end of the
// character that ends it, or at -1 inside a Latin letter's fold. It
// returns the state after the word.
func (a *automaton) stepRecord(s uint32, text string, pwe, ws, we int, hits *[]hit) uint32 {
	dense, chain := a.dense, a.chain
	dlen := uint32(len(dense))
	t := step(dense, chain, dlen, s, uint32(a.class[' ']))
	if t&outFlag != 0 {
		t &^= outFlag
		*hits = a.outputs(a.stateOf(t), int32(pwe), *hits)
	}
	for k := ws; k < we && t != 0; { // only a space leaves the root
		if c := text[k]; c < utf8.RuneSelf {
			t = step(dense, chain, dlen, t, uint32(a.raw[c]))
			k++
			if t&outFlag != 0 {
				t &^= outFlag
				*hits = a.outputs(a.stateOf(t), int32(k), *hits)
			}
			continue
		}
		fold, size := latinLetterAt(text, k)
		for x := 0; x < len(fold) && t != 0; x++ {
			t = step(dense, chain, dlen, t, uint32(a.class[fold[x]]))
			if t&outFlag != 0 {
				t &^= outFlag
				end := int32(k + size)
				if x+1 < len(fold) {
					end = -1
				}
				*hits = a.outputs(a.stateOf(t), end, *hits)
			}
		}
		k += size
	}
	return t
}

// letters8 has the top bit of each byte of x that is an ASCII letter set,
// and no other bit.
func letters8(x uint64) uint64 {
	// A byte under 0x80, its 0x20 bit set, is 'a' or more when adding
	// 0x80-'a' sets its top bit, and over 'z' when adding 0x80-'z'-1 does
	// (no carry leaves a byte: 0x7f+0x1f < 0x100).
	low := x&swarLow7 | swarOnes*0x20
	return (low + swarOnes*(0x80-'a')) &^ (low + swarOnes*(0x80-'z'-1)) &^ x & swarHigh
}

// upperI8 is pbUpperI when a byte of x under the mask (top bits of
// bytes, or a mask of whole low bytes) is "I", else 0. hasByte's false
// positives fall only above a true "I", so a mask of low bytes is exact.
func upperI8(x, mask uint64) uint8 {
	if hasByte(x, 'I')&mask != 0 {
		return pbUpperI
	}
	return 0
}

// deadHits reports whether every pattern that ends at the state whose
// value is v, read at the space after the word w, is an abbreviation
// written in upper case in the watchlist (upperOnly) that w, not all
// upper case, cannot be: the full path drops such a hit before it makes
// a candidate ("Tea tree oil", "an example"), so the prefilter may walk
// on past it.
func (a *automaton) deadHits(v uint32, w string, upperOnly []bool) bool {
	x := int32(a.stateOf(v))
	if a.own[x] < 0 {
		x = a.dict[x]
	}
	for ; x >= 0; x = a.dict[x] {
		if !upperOnly[a.own[x]] {
			return false
		}
	}
	return !allUpper(w)
}

// mayReadDisguised reports whether the repair pass may read the plain
// word text[ws:we] of ASCII letters and digits as a disguised word: the
// question its first loop asks of the word (readDisguised), answered no
// only when no vocabulary word fits or the word is too long to be read,
// so that model numbers and the like ("PS5", "E202", "x60") end at the
// prefilter too.
func (m *Matcher) mayReadDisguised(text string, ws, we int) bool {
	a, b := repairWordAt(text, ws)
	if a != ws || b != we {
		return true // not the word the walk read: left to the full path
	}
	if b-a > 4*m.vocab.maxLen {
		return false
	}
	var alts []altWord
	_, _, _, ok := m.readDisguised(text, a, b, &alts)
	return ok || len(alts) > 1
}

// plainWord reports whether text[ws:we], a word of ASCII letters and
// digits, is one normalisation leaves as it is: no digits between
// letters, no capital I between lower-case letters.
func plainWord(text string, ws, we int) bool {
	for k := ws; k < we; k++ {
		c := text[k]
		if c == 'I' && k > ws && k+1 < we && isLower(text[k-1]) && isLower(text[k+1]) {
			return false
		}
		if c >= '0' && c <= '9' && k > ws && isASCIILetter(text[k-1]) {
			e := k
			for e < we && text[e] >= '0' && text[e] <= '9' {
				e++
			}
			if e < we {
				return false // letter, digits, letter
			}
			k = e - 1
		}
	}
	return true
}

// mayRepair reports whether the repair pass (repair.go) may rewrite the
// plain text s: it asks, on the bytes as written, each question the
// repair asks before it edits anything (a digit, symbol or mask in a
// word; a "." or "-" after the start of a vocabulary word; a long word
// that passes the fuzzy filters). The prefilter may end a field early only
// when the answer is no, so it never hides a repaired reading
// (TestPlainSkipsNoRepair).
func (m *Matcher) mayRepair(s string) bool {
	v := m.vocab
	if nextTrigger(s, 0) < len(s) {
		return true
	}
	// isLetterAt: an ASCII letter or a Latin letter of latinFold.
	isLetterAt := func(i int) (bool, int) {
		if s[i] < utf8.RuneSelf {
			return isASCIILetter(s[i]), 1
		}
		fold, size := latinLetterAt(s, i)
		return fold != "", size
	}
	var w, pw [64]byte
	prev := pw[:0] // the word before, folded
	for i := 0; i < len(s); {
		if c := s[i]; isASCIIGlue(c) && i > 0 && isLetterByte(s[i-1]) && mayJoinOrClip(s, i) && v.mayStart(wordBefore(s, i)) {
			return true
		}
		ok, size := isLetterAt(i)
		if !ok {
			i += size
			continue
		}
		j := i
		for j < len(s) {
			ok, size := isLetterAt(j)
			if !ok {
				break
			}
			j += size
		}
		word := foldWord(w[:0], s[i:j])
		if n := len(word); n >= fuzzyMinLetters && n <= len(w) && v.fuzzyCandidate(word) || n > len(w) && n <= v.maxLen+4 {
			return true
		}
		var key [128]byte
		if _, ok := soundRead(v, word, key[:0]); ok {
			return true
		}
		if _, ok := v.pairRead(prev, word); ok && len(prev) >= 4 {
			return true
		}
		if len(word) <= len(pw) {
			prev = append(pw[:0], word...)
		} else {
			prev = pw[:0]
		}
		i = j
	}
	return false
}

// mayJoinOrClip reports whether the glue (joinGlues) at s[i], after a
// letter, is one the repair pass may read: between letters (joinPieces),
// or a "." ending the text or followed by a space after a word of four
// letters or more (clipped) or of two or more after another such word
// (clippedRun). "1 L. Shipping", "size L." and "from BE." are none.
func mayJoinOrClip(s string, i int) bool {
	if g := glueAt(s, i); g > 0 && i+g < len(s) && isLetterByte(s[i+g]) {
		return true
	}
	return s[i] == '.' && mayClip(s, i)
}

// mayClip reports whether the "." at s[i] may end a clipped name that
// clipped or clippedRun reads: it ends the text or a space follows, after
// a word of four letters or more, or of two or more after another word
// ending in ". ". Letters are counted in bytes, so a non-ASCII letter
// counts more, never fewer.
func mayClip(s string, i int) bool {
	if i+1 < len(s) && s[i+1] != ' ' {
		return false
	}
	a := i
	for a > 0 && isLetterByte(s[a-1]) {
		a--
	}
	return i-a >= 4 || i-a >= 2 && a >= 3 && s[a-1] == ' ' && s[a-2] == '.'
}

// glueMayEdit reports whether the repair pass may edit the plain text at
// the glue text[i], which follows a letter: join the run of pieces it
// starts into a vocabulary word (joinRun), or read the word it ends as a
// clipped name (clipped, clippedRun). It answers as those do, on the
// folded bytes, so that a hyphen or full stop that edits nothing ("e-mail",
// "acetone-free", "in stock.") keeps a field on the prefilter; it answers
// yes where it cannot tell cheaply (a run of clipped words, a piece with a
// letter outside ASCII, a run too long for its buffer).
func (m *Matcher) glueMayEdit(text string, i int) bool {
	if g := gluedAt(text, i); g > 0 {
		return m.joinMayEdit(text, i, g)
	}
	if text[i] != '.' || !mayClip(text, i) {
		return false
	}
	a := i
	for a > 0 && isLetterByte(text[a-1]) {
		a--
	}
	if a >= 3 && text[a-1] == ' ' && text[a-2] == '.' {
		return true // the last of a run of clipped words (clippedRun)
	}
	if i-a < 4 || a > 0 && text[a-1] != ' ' && text[a-1] != '(' {
		return false
	}
	var buf [64]byte
	if i-a > len(buf) {
		return true
	}
	word := foldWord(buf[:0], text[a:i])
	node := m.vocab.nodeOf(word)
	if node < 0 || utf8.RuneCount(word) < 4 || m.vocab.nodes[node].word != "" {
		return false
	}
	return m.clipOne[node]
}

// joinMayEdit is glueMayEdit for a glue of g bytes between letters at
// text[i]: whether the run of pieces it starts joins into a vocabulary
// word of the letters joinRun asks for. A glue inside a run is asked at
// the run's first one.
func (m *Matcher) joinMayEdit(text string, i, g int) bool {
	a := i
	for a > 0 && isASCIILetter(text[a-1]) {
		a--
	}
	if a > 0 && text[a-1] >= utf8.RuneSelf {
		return true // a piece with a letter outside ASCII
	}
	if gb := glueEndingAt(text, a); gb > 0 && gluedAt(text, a-gb) > 0 {
		return false // not the run's first glue
	}
	minLetters := fuzzyMinLetters
	if g > 1 {
		minLetters = 4 // a line's end
	}
	var buf [64]byte
	w := buf[:0]
	for k, e := 0, a; k < maxPieces; k++ {
		s := e
		for e < len(text) && plainByte[text[e]]&pbSep == 0 {
			if text[e] >= utf8.RuneSelf {
				return true
			}
			e++
		}
		if len(w)+e-s > len(buf) {
			return true
		}
		for x := s; x < e; x++ {
			w = append(w, lowerASCII[text[x]])
		}
		if k >= 1 && len(w) >= minLetters && m.vocab.words[string(w)] {
			return true
		}
		gl := gluedAt(text, e)
		if e >= len(text) || gl == 0 {
			return false
		}
		e += gl
	}
	return false
}

// plainCands appends the candidates of hits, the automaton's hits in the
// plain field text as plainReadClean records them, that scanCands would
// append reading text's normalised form, which it does without: a plain
// text's normalised form is its words folded, one space for each run of
// separators, so a term's end maps to the text as recorded, its start is
// found counting back (plainStart), and its digits are the text's. It
// reports false, with cands to be dropped, at a hit that scanCands
// decides on the normalised text after it: a compound pattern's that
// runs on into its word, or one that ends inside a Latin letter's fold,
// and a pair trigger beside a cation or class word that no term found
// covers (pairs.go).
func (m *Matcher) plainCands(text string, hits []hit, cands []candidate) ([]candidate, bool) {
	var pairBuf [4][2]int
	pairs := pairBuf[:0]
	for _, h := range hits {
		p := &m.patterns[h.pat]
		end := int(h.end)
		if end < 0 || p.compound && end < len(text) && plainByte[text[end]]&pbSep == 0 {
			return cands, false
		}
		nlen := int(m.ac.lens[h.pat]) - 1 // less the leading space
		if !p.compound {
			nlen-- // and the closing one
		}
		start, ok := plainStart(text, end, nlen)
		if !ok {
			return cands, false
		}
		if p.pair {
			// A pair the terms found do not already cover is read on
			// the normalised text (mixedPairs).
			spans, n := pairSpans(text, start, end)
			for _, sp := range spans[:n] {
				if len(pairs) == cap(pairs) {
					return cands, false
				}
				pairs = append(pairs, sp)
			}
		}
		cands = appendRefs(cands, p, text, text[start:end], start, end, nlen, false, false)
	}
	for _, sp := range pairs {
		if !slices.ContainsFunc(cands, func(c candidate) bool { return c.start <= sp[0] && sp[1] <= c.end }) {
			return cands, false
		}
	}
	return cands, true
}

// plainStart returns where the term of nlen normalised bytes that ends at
// end of the plain text starts: counting back one byte for an ASCII
// letter or digit, one for a run of separators and the fold's length for
// a Latin letter. ok is false when the count ends inside a fold or a
// word, which a term read by the automaton never does.
func plainStart(text string, end, nlen int) (start int, ok bool) {
	i := end
	for nlen > 0 && i > 0 {
		c := text[i-1]
		switch {
		case c >= utf8.RuneSelf:
			// Plain text holds no other: a two-byte Latin letter.
			if i < 2 {
				return 0, false
			}
			fold, _ := latinLetterAt(text, i-2)
			nlen -= len(fold)
			i -= 2
		case plainByte[c]&pbSep != 0:
			for i > 0 && plainByte[text[i-1]]&pbSep != 0 {
				i--
			}
			nlen--
		default:
			nlen--
			i--
		}
	}
	return i, nlen == 0 && (i == 0 || plainByte[text[i-1]]&pbSep != 0)
}
