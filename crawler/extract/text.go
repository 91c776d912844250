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

// textBuilder accumulates text with whitespace collapsed, control and
// invisible formatting characters dropped and invalid UTF-8 replaced, and
// stops taking input once limit bytes are reached.
type textBuilder struct {
	b      strings.Builder
	limit  int
	space  bool // a space is pending before the next visible rune
	full   bool
	hasAny bool
	// noStruck skips struck-out text (del, s, strike): a price's former
	// amount, shown crossed out next to the current one.
	noStruck bool
}

func newText(limit int) *textBuilder { return &textBuilder{limit: limit} }

// sep requests a word break, as between block elements.
func (t *textBuilder) sep() {
	if t.hasAny {
		t.space = true
	}
}

func (t *textBuilder) write(s string) {
	for i := 0; i < len(s) && !t.full; {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			t.put(unicode.ReplacementChar)
			continue
		}
		switch {
		case unicode.IsSpace(r):
			t.sep()
		case dropRune(r):
		default:
			t.put(r)
		}
	}
}

func (t *textBuilder) put(r rune) {
	n := utf8.RuneLen(r)
	if t.space {
		n++
	}
	if t.b.Len()+n > t.limit {
		t.full = true
		return
	}
	if t.space {
		t.b.WriteByte(' ')
		t.space = false
	}
	t.b.WriteRune(r)
	t.hasAny = true
}

func (t *textBuilder) String() string { return t.b.String() }

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
func clean(s string, limit int) string {
	t := newText(limit)
	t.write(s)
	return t.String()
}

// skipElement reports elements whose contents are never page text.
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
	n := root.FirstChild
	for n != nil && !t.full {
		descend := false
		switch n.Type {
		case html.TextNode:
			t.write(n.Data)
		case html.ElementNode:
			if !skipElement(n) && !(t.noStruck && struck(n)) {
				if blockElement(n) {
					t.sep()
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

func struck(n *html.Node) bool {
	return n.DataAtom == atom.Del || n.DataAtom == atom.S || n.DataAtom == atom.Strike
}

// priceText is the text of a price element without struck-out amounts.
func priceText(n *html.Node) string {
	t := newText(maxPriceText)
	t.noStruck = true
	appendText(t, n)
	if s := t.String(); s != "" {
		return s
	}
	return clean(valueAttr(n), maxPriceText)
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
