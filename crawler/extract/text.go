package extract

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Upper bounds on field lengths, in bytes, so that a hostile page cannot blow
// up a listing (or the store and console behind it).
const (
	maxID          = 256
	maxTitle       = 1 << 10
	maxVendor      = 256
	maxCurrency    = 16
	maxPriceText   = 256
	maxDescription = 64 << 10
	maxURL         = 4 << 10
)

// maxSpaceRun bounds a kept run of spaces, in runes, so that padding cannot
// fill a field's budget; the matcher reads at most three separators between
// spaced-out letters, so a longer run means the same as a shorter one.
const maxSpaceRun = 8

// textBuilder accumulates text with control and invisible formatting
// characters dropped and invalid UTF-8 replaced, trimmed, and stops taking
// input once limit bytes are reached. Whitespace is collapsed to one space,
// or, with keep (the title and description, which the matchers read), kept
// as written: a run of spaces stays (up to maxSpaceRun), and a run holding a
// line break, like a block boundary, becomes one "\n". Letter-spaced names
// ("h y d r o  p e r") and line-separated pieces read the same as in
// `precwatch match`.
type textBuilder struct {
	b strings.Builder
	// whole, while b is empty, is the text so far when it was written
	// in one piece: kept as it is, not copied (a field that is one text
	// node, as most are).
	whole string
	// hint is the size b is grown to when it is first written (reserve).
	hint   int
	limit  int
	keep   bool
	space  bool // a separator is pending before the next visible rune
	brk    bool // keep: the pending separator is a line break
	colon  bool // the pending separator is ": " (a term and its value)
	run    [maxSpaceRun * utf8.UTFMax]byte
	runLen int // keep: bytes of the pending run of spaces in run
	runN   int // keep: runes in it
	full   bool
	hasAny bool
	// noStruck skips struck-out text (del, s, strike): a price's former
	// amount, shown crossed out next to the current one; and text only
	// screen readers get, which repeats it ("Original price was: 39,90 €."
	// in WooCommerce's screen-reader-text), before the current one.
	noStruck bool
}

func newText(limit int) *textBuilder { return &textBuilder{limit: limit} }

// newKeptText is a textBuilder that keeps whitespace as written.
func newKeptText(limit int) *textBuilder { return &textBuilder{limit: limit, keep: true} }

// sep requests a word break, as between block elements: a line break when
// whitespace is kept.
func (t *textBuilder) sep() {
	if t.hasAny {
		t.space = true
		t.brk = true
	}
}

func (t *textBuilder) write(s string) {
	for i := 0; i < len(s) && !t.full; {
		if visibleASCII(s[i]) {
			// Words of visible ASCII and the single spaces between them
			// read as written, whether whitespace is kept or collapsed:
			// written at once, as put would write them rune by rune.
			j := i + 1
			for j < len(s) {
				if visibleASCII(s[j]) {
					j++
				} else if s[j] == ' ' && j+1 < len(s) && visibleASCII(s[j+1]) {
					j += 2
				} else {
					break
				}
			}
			t.putASCII(s[i:j])
			i = j
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		t.writeRune(r, size)
	}
}

// writeRune writes one decoded rune (size bytes of the input): invalid
// UTF-8 as U+FFFD, whitespace as a break or, kept, as written, invisible
// characters dropped.
func (t *textBuilder) writeRune(r rune, size int) {
	if r == utf8.RuneError && size == 1 {
		t.put(unicode.ReplacementChar)
		return
	}
	switch {
	case unicode.IsSpace(r):
		if !t.keep || lineBreak(r) {
			t.sep()
		} else if t.hasAny {
			t.space = true
			if t.runN < maxSpaceRun {
				t.runLen += utf8.EncodeRune(t.run[t.runLen:], r)
				t.runN++
			}
		}
	case dropRune(r) && !(t.keep && invisibleLetterBreak(r)):
	default:
		t.put(r)
	}
}

// lineBreak reports the whitespace runes that end a line.
func lineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', '\u0085', '\u2028', '\u2029':
		return true
	}
	return false
}

// pending is the separator to write before the next visible rune.
func (t *textBuilder) pending() []byte {
	switch {
	case !t.space:
		return nil
	case t.colon && t.endsWith(':'):
		return sepSpace // "<dt>Concentration:</dt>"
	case t.colon:
		return sepColon
	case !t.keep:
		return sepSpace
	case t.brk:
		return sepBreak
	}
	return t.run[:t.runLen]
}

// The separators pending returns, never written to.
var sepSpace, sepBreak, sepColon = []byte{' '}, []byte{'\n'}, []byte{':', ' '}

// len is the length of the text so far.
func (t *textBuilder) len() int { return t.b.Len() + len(t.whole) }

// flush readies b to be written: grown to its hint, holding whole.
func (t *textBuilder) flush() {
	if t.hint > t.b.Cap() {
		t.b.Grow(t.hint - t.b.Len())
	}
	if t.whole != "" {
		t.b.WriteString(t.whole)
		t.whole = ""
	}
}

func (t *textBuilder) put(r rune) {
	sep := t.pending()
	if t.len()+len(sep)+utf8.RuneLen(r) > t.limit {
		t.full = true
		return
	}
	t.flush()
	t.b.Write(sep)
	t.space, t.brk, t.colon, t.runLen, t.runN = false, false, false, 0, 0
	t.b.WriteRune(r)
	t.hasAny = true
}

// visibleASCII reports the ASCII characters put writes as they are.
func visibleASCII(c byte) bool { return c > ' ' && c < 0x7f }

// putASCII is write for s, words of visible ASCII with single spaces
// between them (s neither starts nor ends with one): the pending
// separator, then as much of s as the limit leaves room for. As put
// does, a space is written only with the character after it.
func (t *textBuilder) putASCII(s string) {
	sep := t.pending()
	room := t.limit - t.len() - len(sep)
	if room <= 0 {
		t.full = true
		return
	}
	t.space, t.brk, t.colon, t.runLen, t.runN = false, false, false, 0, 0
	t.hasAny = true
	if t.len() == 0 && len(sep) == 0 && len(s) <= room {
		t.whole = s
		return
	}
	t.flush()
	t.b.Write(sep)
	if len(s) > room {
		if s[room-1] == ' ' {
			room--
		}
		t.b.WriteString(s[:room])
		t.full = true
		return
	}
	t.b.WriteString(s)
}

func (t *textBuilder) String() string {
	if t.whole != "" {
		return t.whole
	}
	return t.b.String()
}

// invisibleLetterBreak reports the invisible characters a seller puts inside
// a word to break it for keyword matching ("Potas\u200bsium", or the
// left-to-right and right-to-left marks between letters): kept in text
// the matchers read, which undo them and count them as obfuscation, as
// `precwatch match` does with the text as written. They change nothing an
// investigator sees, unlike the bidirectional embeddings, overrides and
// isolates, which are dropped everywhere.
func invisibleLetterBreak(r rune) bool {
	switch r {
	case '\u00ad', '\u200b', '\u200e', '\u200f', '\u2060', '\ufeff':
		return true
	}
	return false
}

// dropRune reports runes that carry no visible text: C0/C1 controls and the
// zero-width and bidirectional formatting characters used to hide words from
// keyword matching or to reorder what an investigator sees. ZWJ and ZWNJ stay:
// scripts and emoji need them.
func dropRune(r rune) bool {
	if unicode.IsControl(r) {
		return true
	}
	switch r {
	case '\u00ad', '\u200b', '\u200e', '\u200f', '\u2060', '\u2061', '\u2062', '\u2063', '\u2064', '\ufeff':
		return true
	}
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// Clean normalises s as every extracted field is: invalid UTF-8 replaced,
// controls removed, whitespace collapsed and trimmed, and at most limit bytes
// (cut on a rune boundary).
func Clean(s string, limit int) string {
	t := newText(limit)
	t.write(s)
	return t.String()
}

// oneLine is a kept title's text on one line: its line breaks (a <br> or
// a block inside a heading, "Hydrogen peroxide<br>6 % – 1 L") become
// spaces, as every view shows a title. The matcher reads a strength on
// another line than the name as stated apart from it, which does not clear
// a substance at or under its limit: a shop's two-line title raised "no
// strength stated" for a strength in plain sight. Runs of spaces stay.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// keptClean is clean keeping whitespace as written (see textBuilder): for
// titles and descriptions.
func keptClean(s string, limit int) string { return cleanText(s, limit, true) }

func cleanText(s string, limit int, keep bool) string {
	t := newText(limit)
	t.keep = keep
	t.write(s)
	return t.String()
}

// skipElement reports elements whose contents are never page text. A
// <noscript> block's contents are elements (pages are parsed as a browser
// without JavaScript reads them), read when a rule selects inside the
// block; inside a larger element they are left out, so that an "enable
// JavaScript" notice does not become a title or description.
func skipElement(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Iframe, atom.Object, atom.Head:
		return true
	}
	return false
}

// blockElement reports elements that separate words: without a break,
// "<td>a</td><td>b</td>" would read "ab".
func blockElement(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Br, atom.Caption, atom.Dd, atom.Div,
		atom.Dl, atom.Dt, atom.Fieldset, atom.Figcaption, atom.Figure, atom.Footer, atom.Form, atom.H1, atom.H2,
		atom.H3, atom.H4, atom.H5, atom.H6, atom.Header, atom.Hr, atom.Li, atom.Main, atom.Nav, atom.Ol, atom.Option,
		atom.P, atom.Pre, atom.Section, atom.Table, atom.Tbody, atom.Td, atom.Tfoot, atom.Th, atom.Thead, atom.Tr,
		atom.Ul, atom.Img, atom.Input, atom.Select, atom.Textarea, atom.Button, atom.Label:
		return true
	}
	return false
}

// nodeText returns the visible text of n and its descendants, without script
// or style contents, bounded by limit. It walks iteratively so that deeply
// nested hostile markup cannot exhaust the stack, and stops as soon as the
// limit is reached.
func nodeText(n *html.Node, limit int) string {
	t := newText(limit)
	appendText(t, n)
	return t.String()
}

// keptNodeText is nodeText keeping whitespace as written.
func keptNodeText(n *html.Node, limit int) string {
	t := newKeptText(limit)
	appendText(t, n)
	return t.String()
}

func appendText(t *textBuilder, root *html.Node) {
	if root == nil {
		return
	}
	if root.Type == html.TextNode {
		t.write(root.Data)
		return
	}
	if root.Type == html.ElementNode && skipElement(root) && root.DataAtom != atom.Head {
		return
	}
	t.reserve(root)
	n := root.FirstChild
	for n != nil && !t.full {
		descend := false
		switch n.Type {
		case html.TextNode:
			t.write(n.Data)
		case html.ElementNode:
			if !skipElement(n) && !(t.noStruck && struck(n)) && !hiddenInline(n) {
				if blockElement(n) {
					t.sep()
					if valueAfterTerm(n) && t.space {
						// "<dt>Concentration</dt><dd>6 %</dd>" reads as
						// the page shows the pair, on one line, so that a
						// strength keeps the word that makes it one.
						t.colon = true
					}
				}
				descend = n.FirstChild != nil
			}
		case html.DocumentNode:
			descend = n.FirstChild != nil
		}
		if descend {
			n = n.FirstChild
			continue
		}
		// Climb until a next sibling exists, closing block elements on the way.
		for n != root && n.NextSibling == nil {
			n = n.Parent
			if n != root && n.Type == html.ElementNode && blockElement(n) {
				t.sep()
			}
		}
		if n == root {
			return
		}
		if n.Type == html.ElementNode && blockElement(n) {
			t.sep()
		}
		n = n.NextSibling
	}
}

// valueAfterTerm reports a definition list's value right after its term
// (<dd> after <dt>) or a table row's cell after its header cell (<td>
// after <th>).
func valueAfterTerm(n *html.Node) bool {
	if n.DataAtom != atom.Dd && n.DataAtom != atom.Td {
		return false
	}
	p := n.PrevSibling
	for p != nil && p.Type == html.TextNode && strings.TrimSpace(p.Data) == "" {
		p = p.PrevSibling
	}
	return p != nil && p.Type == html.ElementNode && (n.DataAtom == atom.Dd && p.DataAtom == atom.Dt || n.DataAtom == atom.Td && p.DataAtom == atom.Th)
}

// endsWith reports whether the text so far ends with c.
func (t *textBuilder) endsWith(c byte) bool {
	if t.whole != "" {
		return t.whole[len(t.whole)-1] == c
	}
	b := t.b.String()
	return b != "" && b[len(b)-1] == c
}

// reserve sizes t for the text under root, up to t's limit, so that a
// long description is not copied as its builder doubles.
func (t *textBuilder) reserve(root *html.Node) {
	room := t.limit - t.len()
	if room <= 0 || max(t.hint, t.b.Cap())-t.len() >= room {
		return
	}
	size := 16 // the separators between blocks
	for n := root.FirstChild; n != nil && size < room; n = Next(root, n) {
		if n.Type == html.TextNode {
			size += len(n.Data)
		}
	}
	t.hint = max(t.hint, t.len()+min(size, room))
}

// Next is the node after n under root in document order (children before
// siblings), or nil after the last: a walk of a tree without recursion, so
// that a hostile page's depth costs no stack.
func Next(root, n *html.Node) *html.Node {
	if n.FirstChild != nil {
		return n.FirstChild
	}
	for n != root && n.NextSibling == nil {
		n = n.Parent
	}
	if n == root {
		return nil
	}
	return n.NextSibling
}

func struck(n *html.Node) bool {
	return n.DataAtom == atom.Del || n.DataAtom == atom.S || n.DataAtom == atom.Strike || screenReaderOnly(n)
}

// screenReaderOnly reports whether n is hidden from the page as shown: the
// hidden attribute, or a class that CSS frameworks use for text only
// screen readers get (WordPress's screen-reader-text, Bootstrap's and
// Tailwind's sr-only and visually-hidden).
func screenReaderOnly(n *html.Node) bool {
	for _, a := range n.Attr {
		switch {
		case a.Namespace != "":
		case a.Key == "hidden":
			return true
		case a.Key == "class":
			for _, c := range strings.Fields(a.Val) {
				switch strings.ToLower(c) {
				case "screen-reader-text", "sr-only", "visually-hidden", "visuallyhidden", "screenreader-only":
					return true
				}
			}
		}
	}
	return false
}

// priceText is the text of a price element without struck-out amounts.
func priceText(n *html.Node) string {
	t := newText(maxPriceText)
	t.noStruck = true
	appendText(t, n)
	if s := t.String(); s != "" {
		return s
	}
	return Clean(valueAttr(n), maxPriceText)
}

// attr returns the value of n's attribute key (keys are lower-case in the
// parsed tree), and whether it is present.
func attr(n *html.Node, key string) (string, bool) {
	if n == nil || n.Type != html.ElementNode {
		return "", false
	}
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// truncate cuts s to at most limit bytes on a rune boundary.
func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	s = s[:limit]
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-size]
	}
	return strings.ToValidUTF8(s, "")
}
