package extract

import (
	"slices"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// A page may write part of what it shows through its style sheet: a
// strength in ".p35::before { content: "35 %" }", a name's letters from an
// attribute ("content: attr(data-n)"). A browser shows that text where the
// element starts or ends, so the fields read it there: AddGenerated puts
// it into the document as text. Only simple class selectors count, and
// only content made of string literals and attr() values; counters,
// quotes and images are left out.

// maxGeneratedRules bounds the rules kept from one page.
const maxGeneratedRules = 1024

// generated is what a ::before or ::after rule writes on elements that
// carry all of classes ("p.pc.p65"): parts, each a literal or (attr set)
// an attribute's name.
type generated struct {
	classes       []string
	before, after []contentPart
}

type contentPart struct {
	text string
	attr bool
}

// AddGenerated adds, as text, the content the page's own style sheets
// generate before and after the elements of a class.
func AddGenerated(root *html.Node) {
	rules := generatedRules(root)
	if len(rules) == 0 {
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
		has := strings.Fields(c)
		for _, f := range has {
			for _, g := range rules[f] {
				if !allIn(g.classes, has) {
					continue
				}
				if s := contentText(n, g.before); s != "" {
					n.InsertBefore(&html.Node{Type: html.TextNode, Data: s}, n.FirstChild)
				}
				if s := contentText(n, g.after); s != "" {
					n.AppendChild(&html.Node{Type: html.TextNode, Data: s})
				}
			}
		}
	}
}

func allIn(need, has []string) bool {
	for _, c := range need {
		if !slices.Contains(has, c) {
			return false
		}
	}
	return true
}

// contentText is the text parts make on element n.
func contentText(n *html.Node, parts []contentPart) string {
	var b strings.Builder
	for _, p := range parts {
		if p.attr {
			v, _ := attr(n, p.text)
			b.WriteString(v)
			continue
		}
		b.WriteString(p.text)
	}
	return b.String()
}

// generatedRules reads the <style> elements under root for the content
// rules of simple classes' ::before and ::after (":before" too).
func generatedRules(root *html.Node) map[string][]*generated {
	var rules map[string][]*generated
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
			rules = addGeneratedRules(rules, css)
		}
	}
	return rules
}

// addGeneratedRules adds the content rules of css, read flat as
// addHiddenClasses reads them.
func addGeneratedRules(rules map[string][]*generated, css string) map[string][]*generated {
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
			decls := css[i+1 : i+1+end]
			sel = i + 1
			if !strings.Contains(decls, "content") {
				continue
			}
			parts, ok := contentValue(decls)
			if !ok {
				continue
			}
			for _, s := range strings.Split(selector, ",") {
				s = strings.TrimSpace(s)
				after := false
				switch {
				case strings.HasSuffix(s, "::before"):
					s = strings.TrimSuffix(s, "::before")
				case strings.HasSuffix(s, ":before"):
					s = strings.TrimSuffix(s, ":before")
				case strings.HasSuffix(s, "::after"):
					s, after = strings.TrimSuffix(s, "::after"), true
				case strings.HasSuffix(s, ":after"):
					s, after = strings.TrimSuffix(s, ":after"), true
				default:
					continue
				}
				classes := compoundClasses(s)
				if len(classes) == 0 || len(rules) >= maxGeneratedRules {
					continue
				}
				if rules == nil {
					rules = map[string][]*generated{}
				}
				g := &generated{classes: classes}
				if after {
					g.after = parts
				} else {
					g.before = parts
				}
				rules[classes[0]] = append(rules[classes[0]], g)
			}
		}
	}
	return rules
}

// compoundClasses returns the classes of a selector whose last compound
// is classes only, with or without an element name ("span.pc.p65",
// ".card .p35"), or nil.
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

// contentValue reads a declaration block's content: string literals and
// attr() values in a row; anything else (counters, quotes, url(), none)
// is not read.
func contentValue(decls string) ([]contentPart, bool) {
	var value string
	found := false
	for d := range strings.SplitSeq(decls, ";") {
		name, v, ok := strings.Cut(d, ":")
		if ok && strings.EqualFold(strings.TrimSpace(name), "content") {
			value, found = strings.TrimSpace(v), true
		}
	}
	if !found {
		return nil, false
	}
	var parts []contentPart
	for value != "" {
		switch {
		case value[0] == '"' || value[0] == '\'':
			q := value[0]
			end := strings.IndexByte(value[1:], q)
			if end < 0 {
				return nil, false
			}
			parts = append(parts, contentPart{text: value[1 : 1+end]})
			value = strings.TrimSpace(value[2+end:])
		case strings.HasPrefix(value, "attr("):
			end := strings.IndexByte(value, ')')
			if end < 0 {
				return nil, false
			}
			name := strings.ToLower(strings.TrimSpace(value[len("attr("):end]))
			if name == "" || strings.ContainsAny(name, " ,") {
				return nil, false
			}
			parts = append(parts, contentPart{text: name, attr: true})
			value = strings.TrimSpace(value[end+1:])
		default:
			return nil, false
		}
	}
	return parts, len(parts) > 0
}
