package extract

import (
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/precwatch/precwatch"
)

// "Load more" catalogues: a shop's first page shows some cards and a
// button whose script asks an endpoint for the next ones with an opaque
// cursor (`/api/more?cursor=eyJvIjoxMn0`); the endpoint answers JSON
// carrying the cards as HTML and the cursor after them
// ({"html": "<article ...>", "next_cursor": "..."}). The cards are read
// with the site's selectors wherever they come from.

// loadMore is a compiled precwatch.LoadMore.
type loadMore struct {
	before, after string // the URL template around {cursor}
	inQuery       bool   // {cursor} is in the query: query-escaped
	cursor        *field
	html, next    *jsonSpec
}

const cursorPlaceholder = "{cursor}"

func compileLoadMore(r *precwatch.LoadMore) (*loadMore, error) {
	bad := func(field string, err error) error { return &FieldError{Field: "load_more." + field, Err: err} }
	tmpl := strings.TrimSpace(r.URL)
	if strings.Count(tmpl, cursorPlaceholder) != 1 {
		return nil, bad("url", fmt.Errorf("want a URL with one %s, got %q", cursorPlaceholder, tmpl))
	}
	i := strings.Index(tmpl, cursorPlaceholder)
	m := &loadMore{before: tmpl[:i], after: tmpl[i+len(cursorPlaceholder):]}
	m.inQuery = strings.Contains(m.before, "?")
	if u, err := url.Parse(m.before + "x" + m.after); err != nil || u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return nil, bad("url", fmt.Errorf("want an http(s) URL or a path, got %q", tmpl))
	}
	var err error
	for _, f := range []struct{ name, spec string }{{"cursor", r.Cursor}, {"html", r.HTML}, {"next_cursor", r.NextCursor}} {
		if strings.TrimSpace(f.spec) == "" {
			return nil, bad(f.name, fmt.Errorf("required"))
		}
	}
	if m.cursor, err = compileField("load_more.cursor", r.Cursor); err != nil {
		return nil, err
	}
	if m.html, err = compileJSONSpec(r.HTML); err != nil {
		return nil, bad("html", err)
	}
	if m.next, err = compileJSONSpec(r.NextCursor); err != nil {
		return nil, bad("next_cursor", err)
	}
	return m, nil
}

// url fills the template with cursor.
func (m *loadMore) url(cursor string) string {
	if m.inQuery {
		cursor = url.QueryEscape(cursor)
	} else {
		cursor = url.PathEscape(cursor)
	}
	return m.before + cursor + m.after
}

// pageCursors are the first cursors an HTML page gives.
func (m *loadMore) pageCursors(root *html.Node) []string {
	var out []string
	for _, n := range m.cursor.nodes(root) {
		var v string
		if m.cursor.attr != "" {
			v, _ = attr(n, m.cursor.attr)
		} else {
			v = textContent(n)
		}
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, m.url(v))
		}
	}
	return out
}

// answer reads an endpoint's JSON answer: the document of the HTML it
// carries, and the URL of the cards after them ("" at the end).
func (m *loadMore) answer(body string) (*html.Node, string, bool) {
	if len(body) > maxStateScript {
		return nil, "", false
	}
	v, _, ok := decodeFirst(strings.TrimSpace(body))
	if !ok {
		return nil, "", false
	}
	var b strings.Builder
	for _, h := range m.html.values(v, true) {
		if s, ok := h.(string); ok {
			b.WriteString(s)
			b.WriteByte('\n')
		}
	}
	doc := &html.Node{Type: html.DocumentNode}
	body0 := &html.Node{Type: html.ElementNode, DataAtom: atom.Body, Data: "body"}
	doc.AppendChild(body0)
	nodes, err := html.ParseFragmentWithOptions(strings.NewReader(b.String()), body0, html.ParseOptionEnableScripting(false))
	if err != nil {
		return nil, "", false
	}
	for _, n := range nodes {
		body0.AppendChild(n)
	}
	DropTemplates(doc)
	next := ""
	for _, c := range m.next.values(v, false) {
		if s := strings.TrimSpace(scalarText(c)); s != "" {
			next = m.url(s)
			break
		}
	}
	return doc, next, true
}

// DropTemplates empties every <template> under root: the parser puts a
// template's contents among its children, where selectors would find
// them, while browsers keep them in a separate fragment that shows
// nothing. A declarative shadow root (<template shadowrootmode="open">,
// or the older shadowroot attribute) is the exception: a browser shows
// it in place, without scripts, so its contents take its place in the
// host element (a web component's product card). Iterative, so hostile
// nesting cannot exhaust the stack.
func DropTemplates(root *html.Node) {
	for n := root; n != nil; {
		if n.Type != html.ElementNode || n.DataAtom != atom.Template {
			n = Next(root, n)
			continue
		}
		p := n.Parent
		unwrap := p != nil && p.Type == html.ElementNode && shadowRoot(n)
		first := n.FirstChild
		for c := n.FirstChild; c != nil; c = n.FirstChild {
			n.RemoveChild(c)
			if unwrap {
				p.InsertBefore(c, n) // the contents go before the template
			}
		}
		next := Next(root, n) // n is empty now: what follows it
		if unwrap {
			// The template goes; the walk goes on from the first of its
			// contents.
			p.RemoveChild(n)
			if first != nil {
				next = first
			}
		}
		n = next
	}
}

// shadowRoot reports whether a template declares a shadow root.
func shadowRoot(n *html.Node) bool {
	for _, a := range n.Attr {
		if (a.Key == "shadowrootmode" || a.Key == "shadowroot") && (a.Val == "open" || a.Val == "closed") {
			return true
		}
	}
	return false
}
