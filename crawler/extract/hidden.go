package extract

import (
	"slices"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Sellers hide text inside a title or a price so that a keyword filter
// reads something else than a buyer sees: letters inside a name
// ("Nitro<span hidden>xx</span>methane"), a false strength or a chemical's
// name beside harmless goods, a digit inside a price. A browser shows none
// of it, so neither do the fields read from an element: an inline element
// under it that the hidden attribute, its own style or a class the page's
// style sheet hides is skipped. Block elements are kept (a description
// collapsed behind "read more", a tab of specifications: the page's text,
// shown on a click), and so is an element a rule selects itself (a hidden
// microdata span holding the price).

// hiddenMark is the attribute namespace MarkHidden marks elements with; no
// parsed HTML attribute has it.
const hiddenMark = "precwatch"

// Bounds on reading a page's style sheets: hostile pages cannot make the
// scan costly.
const (
	maxStyleBytes    = 256 << 10
	maxHiddenClasses = 1024
)

// hiddenInline reports an inline element under a selected one that the
// page does not show (see above).
func hiddenInline(n *html.Node) bool {
	if blockElement(n) {
		return false
	}
	for _, a := range n.Attr {
		switch {
		case a.Namespace == hiddenMark:
			return true
		case a.Namespace != "":
		case a.Key == "hidden":
			return true
		case a.Key == "style":
			if styleHides(a.Val) {
				return true
			}
		}
	}
	return false
}

// styleHides reports CSS declarations that hide an element's text:
// display:none, visibility:hidden or a zero font size.
func styleHides(decls string) bool {
	d := strings.ToLower(strings.Join(strings.Fields(decls), ""))
	if strings.Contains(d, "display:none") || strings.Contains(d, "visibility:hidden") {
		return true
	}
	for rest := d; ; {
		i := strings.Index(rest, "font-size:0")
		if i < 0 {
			return false
		}
		rest = rest[i+len("font-size:0"):]
		if rest == "" || rest[0] != '.' && (rest[0] < '0' || rest[0] > '9') {
			return true
		}
	}
}

// ApplyStyles reads the page's own style sheets once and puts in force,
// on the document under root, what they do to the text a browser shows:
// inline elements of a class they hide (".k9x{display:none}") are marked
// for hiddenInline, and the content they generate before and after a
// class's elements (generated.go) is added as text. Only class selectors
// count: a rule with a pseudo-class or an attribute applies under
// conditions.
func ApplyStyles(root *html.Node) {
	st := readStyles(root)
	if len(st.hidden) == 0 && len(st.generated) == 0 {
		return
	}
	for n := root; n != nil; n = Next(root, n) {
		if n.Type != html.ElementNode {
			continue
		}
		c, ok := attr(n, "class")
		if !ok {
			continue
		}
		classes := strings.Fields(c)
		if !blockElement(n) && slices.ContainsFunc(classes, func(f string) bool { return st.hidden[f] }) {
			n.Attr = append(n.Attr, html.Attribute{Namespace: hiddenMark, Key: "hidden"})
		}
		st.generate(n, classes)
	}
}

// styles is what a page's style sheets do to its text.
type styles struct {
	hidden    map[string]bool         // classes whose rules hide their elements
	generated map[string][]*generated // content rules, by their first class
	nrules    int                     // rules in generated
}

// readStyles reads the <style> elements under root, up to maxStyleBytes
// of them. Rules are read flat: a selector is the text since the last
// brace or semicolon, so the rules inside an @media block are read as any
// others.
func readStyles(root *html.Node) styles {
	var st styles
	read := 0
	for n := root; n != nil && read < maxStyleBytes; n = Next(root, n) {
		if n.Type != html.ElementNode || n.DataAtom != atom.Style {
			continue
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.TextNode {
				continue
			}
			css := c.Data[:min(len(c.Data), maxStyleBytes-read)]
			read += len(css)
			sel := 0
			for i := 0; i < len(css); i++ {
				switch css[i] {
				case ';', '}':
					sel = i + 1
				case '{':
					end := strings.IndexAny(css[i+1:], "{}")
					if end < 0 {
						end = len(css) - i - 1
					}
					st.addRule(css[sel:i], css[i+1:i+1+end])
					sel = i + 1
				}
			}
		}
	}
	return st
}

// addRule adds what one rule does: hide a class's elements, or generate
// content before or after them.
func (st *styles) addRule(selector, decls string) {
	if styleHides(decls) {
		for _, s := range strings.Split(selector, ",") {
			if cs := compoundClasses(s); len(cs) == 1 && len(st.hidden) < maxHiddenClasses {
				if st.hidden == nil {
					st.hidden = map[string]bool{}
				}
				st.hidden[cs[0]] = true
			}
		}
	}
	st.addGenerated(selector, decls)
}

// compoundClasses returns the classes of a selector whose last compound
// is classes only, with or without an element name ("span.k9x", ".title
// .k9x", "span.pc.p65"), or nil.
func compoundClasses(s string) []string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexAny(s, " >+~"); i >= 0 {
		s = s[i+1:]
	}
	dot := strings.IndexByte(s, '.')
	if dot < 0 {
		return nil
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return nil
		}
	}
	var out []string
	for c := range strings.SplitSeq(s[dot+1:], ".") {
		if c == "" {
			return nil
		}
		out = append(out, c)
	}
	return out
}
