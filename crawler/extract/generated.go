package extract

import (
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// A page may write part of what it shows through its style sheet: a
// strength in ".p35::before { content: "35 %" }", a name's letters from an
// attribute ("content: attr(data-n)"). A browser shows that text where the
// element starts or ends, so the fields read it there: ApplyStyles puts
// it into the document as text. Only class selectors count, and only
// content made of string literals and attr() values; counters, quotes and
// images are left out.

// maxGeneratedRules bounds the content rules kept from one page.
const maxGeneratedRules = 1024

// generated is what a ::before (or, with after, ::after) rule writes on
// elements that carry all of classes ("p.pc.p65"): parts, each a literal
// or (attr set) an attribute's name.
type generated struct {
	classes []string
	after   bool
	parts   []contentPart
}

type contentPart struct {
	text string
	attr bool
}

// generate adds to element n, of classes, the content the rules generate.
func (st *styles) generate(n *html.Node, classes []string) {
	for _, f := range classes {
		for _, g := range st.generated[f] {
			if !allIn(g.classes, classes) {
				continue
			}
			switch s := contentText(n, g.parts); {
			case s == "":
			case g.after:
				n.AppendChild(&html.Node{Type: html.TextNode, Data: s})
			default:
				n.InsertBefore(&html.Node{Type: html.TextNode, Data: s}, n.FirstChild)
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

// addGenerated adds the rule's content, when it is the ::before or
// ::after (":before", ":after") of classes.
func (st *styles) addGenerated(selector, decls string) {
	if !strings.Contains(decls, "content") {
		return
	}
	parts, ok := contentValue(decls)
	if !ok {
		return
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
		if len(classes) == 0 || st.nrules >= maxGeneratedRules {
			continue
		}
		if st.generated == nil {
			st.generated = map[string][]*generated{}
		}
		st.generated[classes[0]] = append(st.generated[classes[0]], &generated{classes: classes, after: after, parts: parts})
		st.nrules++
	}
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
