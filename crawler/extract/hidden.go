package extract

import (
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

// MarkHidden marks the inline elements of the document under root that
// carry a class the page's own style sheets hide (".k9x{display:none}"),
// for hiddenInline. Only simple class selectors count: a rule with a
// pseudo-class or an attribute hides under conditions.
func MarkHidden(root *html.Node) {
	classes := hiddenClasses(root)
	if len(classes) == 0 {
		return
	}
	for n := root; n != nil; n = Next(root, n) {
		if n.Type != html.ElementNode || blockElement(n) {
			continue
		}
		if c, ok := attr(n, "class"); ok {
			for _, f := range strings.Fields(c) {
				if classes[f] {
					n.Attr = append(n.Attr, html.Attribute{Namespace: hiddenMark, Key: "hidden"})
					break
				}
			}
		}
	}
}

// hiddenClasses reads the <style> elements under root for classes whose
// rules hide their elements.
func hiddenClasses(root *html.Node) map[string]bool {
	var classes map[string]bool
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
			classes = addHiddenClasses(classes, css)
		}
	}
	return classes
}

// addHiddenClasses adds to classes those the rules of css hide. Rules are
// read flat: a selector is the text since the last brace or semicolon, so
// the rules inside an @media block are read as any others.
func addHiddenClasses(classes map[string]bool, css string) map[string]bool {
	sel := 0
	for i := 0; i < len(css); i++ {
		switch css[i] {
		case ';', '}':
			sel = i + 1
		case '{':
			selector := css[sel:i]
			end := strings.IndexAny(css[i+1:], "{}")
			if end < 0 {
				end = len(css) - i - 1
			}
			if styleHides(css[i+1 : i+1+end]) {
				for _, s := range strings.Split(selector, ",") {
					if c := simpleClass(s); c != "" && len(classes) < maxHiddenClasses {
						if classes == nil {
							classes = map[string]bool{}
						}
						classes[c] = true
					}
				}
			}
			sel = i + 1
		}
	}
	return classes
}

// simpleClass returns the class of a selector whose last compound is one
// class, with or without an element name ("span.k9x", ".title .k9x"), or "".
func simpleClass(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexAny(s, " >+~"); i >= 0 {
		s = s[i+1:]
	}
	dot := strings.IndexByte(s, '.')
	if dot < 0 || strings.Count(s, ".") != 1 || dot+1 == len(s) {
		return ""
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return ""
		}
	}
	return s[dot+1:]
}
