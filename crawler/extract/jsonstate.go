package extract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/precwatch/precwatch"
)

// Embedded JSON state (mode "json"). Shops built on client-side frameworks
// often send their listings only as a JSON blob in a script, rendered by
// the browser: Next.js's <script id="__NEXT_DATA__" type="application/json">,
// or an assignment such as window.__INITIAL_STATE__ = {...}. In this mode
// the rules' listing and field specs are paths into that JSON:
//
//	a.b.c        keys, one after the other
//	a[0], a.0    an array's element
//	a[], a.*     every element of an array (every value of an object)
//	a["x.y"]     a key holding dots or brackets
//
// A spec may list alternatives separated by commas (the first that gives a
// value wins; a description joins them all, as several selected elements
// are joined), or be a template whose {path} placeholders are filled from
// the item ("/p/{slug}"; empty when every placeholder is).

// maxStateScript bounds one script's text; larger ones are not read.
const maxStateScript = 16 << 20

// maxAssignments bounds the "= {" positions tried in one script.
const maxAssignments = 64

// pathStep is one step of a JSON path: a key, an index, or every element.
type pathStep struct {
	key   string
	index int // -1: none
	all   bool
}

type jsonPath []pathStep

// jsonSpec is one compiled field: alternative paths, or a template.
type jsonSpec struct {
	alts []jsonPath
	// A template: tmpl[i] is the text before tmplPth[i]'s value; a last
	// tmpl beyond the paths is the text after them.
	tmpl    []string
	tmplPth []jsonPath
}

// jsonRules is a compiled json-mode field set.
type jsonRules struct {
	script                                             cascadia.Selector
	listing                                            *jsonSpec // nil: the document is the item
	id, title, price, currency, vendor, description, u *jsonSpec
	vendorURL, next                                    *jsonSpec
	variants                                           *jsonSpec // each a line of the description (withVariants)
	minor                                              bool      // price_minor_units
}

// defaultStateScripts are the elements read when the rules name none:
// every inline script.
var defaultStateScripts = cascadia.MustCompile(`script:not([src])`)

// compileJSONRules compiles a json-mode field set; withNext reads
// next_page as a path (the site's own rules, not its detail rules).
func compileJSONRules(prefix string, r precwatch.Extraction, withNext bool) (*jsonRules, error) {
	j := &jsonRules{script: defaultStateScripts}
	if s := strings.TrimSpace(r.Script); s != "" {
		sel, err := cascadia.Compile(s)
		if err != nil {
			return nil, &FieldError{Field: prefix + "script", Err: fmt.Errorf("bad selector %q: %w", s, err)}
		}
		j.script = sel
	}
	specs := []struct {
		name string
		spec string
		dst  **jsonSpec
	}{
		{"listing", r.Listing, &j.listing}, {"id", r.ID, &j.id}, {"title", r.Title, &j.title},
		{"price", r.Price, &j.price}, {"currency", r.Currency, &j.currency}, {"vendor", r.Vendor, &j.vendor},
		{"description", r.Description, &j.description}, {"url", r.URL, &j.u}, {"vendor_url", r.VendorURL, &j.vendorURL},
		{"variants", r.Variants, &j.variants},
	}
	if withNext {
		specs = append(specs, struct {
			name string
			spec string
			dst  **jsonSpec
		}{"next_page", r.NextPage, &j.next})
	}
	for _, f := range specs {
		s, err := compileJSONSpec(f.spec)
		if err != nil {
			return nil, &FieldError{Field: prefix + f.name, Err: err}
		}
		*f.dst = s
	}
	return j, nil
}

// compileJSONSpec compiles a field spec; "" yields nil.
func compileJSONSpec(spec string) (*jsonSpec, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	s := &jsonSpec{}
	if strings.ContainsAny(spec, "{}") {
		rest := spec
		for rest != "" {
			open := strings.IndexByte(rest, '{')
			if open < 0 {
				if strings.IndexByte(rest, '}') >= 0 {
					return nil, fmt.Errorf("template %q: unbalanced }", spec)
				}
				s.tmpl = append(s.tmpl, rest)
				break
			}
			end := strings.IndexByte(rest[open:], '}')
			if end < 0 || strings.IndexByte(rest[:open], '}') >= 0 {
				return nil, fmt.Errorf("template %q: unbalanced { or }", spec)
			}
			p, err := compileJSONPath(rest[open+1 : open+end])
			if err != nil {
				return nil, fmt.Errorf("template %q: %w", spec, err)
			}
			s.tmpl = append(s.tmpl, rest[:open])
			s.tmplPth = append(s.tmplPth, p)
			rest = rest[open+end+1:]
		}
		return s, nil
	}
	for alt := range strings.SplitSeq(spec, ",") {
		p, err := compileJSONPath(alt)
		if err != nil {
			return nil, err
		}
		s.alts = append(s.alts, p)
	}
	return s, nil
}

// compileJSONPath parses one path (see the package's json-mode notes).
func compileJSONPath(raw string) (jsonPath, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, fmt.Errorf("empty JSON path in %q", raw)
	}
	bad := func(why string) error { return fmt.Errorf("JSON path %q: %s", s, why) }
	var p jsonPath
	i := 0
	for i < len(s) {
		switch c := s[i]; {
		case c == '.':
			if i == 0 || i == len(s)-1 || s[i+1] == '.' {
				return nil, bad("empty key")
			}
			i++
		case c == '[' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\''):
			// A quoted key, which may hold dots and brackets.
			q := strings.IndexByte(s[i+2:], s[i+1])
			if q < 0 {
				return nil, bad("unclosed quote")
			}
			end := i + 2 + q + 1
			if end >= len(s) || s[end] != ']' {
				return nil, bad("want ] right after a quoted key")
			}
			p = append(p, pathStep{key: s[i+2 : i+2+q], index: -1})
			i = end + 1
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, bad("unclosed [")
			}
			switch in := strings.TrimSpace(s[i+1 : i+end]); in {
			case "", "*":
				p = append(p, pathStep{index: -1, all: true})
			default:
				n, err := strconv.Atoi(in)
				if err != nil || n < 0 {
					return nil, bad(`want [N], [] or ["key"]`)
				}
				p = append(p, pathStep{index: n})
			}
			i += end + 1
		default:
			j := i
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			key := s[i:j]
			if strings.ContainsAny(key, " \t\"'],") {
				return nil, bad("want keys separated by dots")
			}
			switch n, err := strconv.Atoi(key); {
			case key == "*":
				p = append(p, pathStep{index: -1, all: true})
			case err == nil && n >= 0:
				p = append(p, pathStep{key: key, index: n}) // an index, or a key of digits
			default:
				p = append(p, pathStep{key: key, index: -1})
			}
			i = j
		}
	}
	return p, nil
}

// eval returns every value p reaches from v, in document order (an
// object's values by sorted key for a wildcard).
func (p jsonPath) eval(v any) []any {
	if len(p) > 0 {
		if d, ok := opened(v); ok {
			v = d
		}
	}
	cur := []any{v}
	for i, st := range p {
		more := i+1 < len(p) // a step follows: JSON kept in a string is opened
		var next []any
		for _, x := range cur {
			switch t := x.(type) {
			case map[string]any:
				switch {
				case st.all:
					for _, k := range sortedKeys(t) {
						next = append(next, openKey(t, k, more))
					}
				default:
					if _, ok := t[st.key]; ok {
						next = append(next, openKey(t, st.key, more))
					}
				}
			case []any:
				switch {
				case st.all:
					for k := range t {
						next = append(next, openIndex(t, k, more))
					}
				case st.index >= 0 && st.index < len(t):
					next = append(next, openIndex(t, st.index, more))
				}
			}
		}
		cur = next
		if len(cur) == 0 {
			return nil
		}
	}
	return cur
}

// opened returns the JSON v keeps as a string (SvelteKit's fetched data:
// {"body": "{\"products\": [...]}"}), decoded, and whether it is one.
func opened(v any) (any, bool) {
	if s, ok := v.(string); ok {
		return jsonInString(s)
	}
	return nil, false
}

// openKey is m[k], opened (see opened) when more of a path goes into it;
// the decoded JSON replaces the string in m, so that the other paths of
// the page (next_page, the fields) decode it no more.
func openKey(m map[string]any, k string, more bool) any {
	v := m[k]
	if more {
		if d, ok := opened(v); ok {
			m[k] = d
			return d
		}
	}
	return v
}

// openIndex is openKey for an array's element.
func openIndex(a []any, i int, more bool) any {
	v := a[i]
	if more {
		if d, ok := opened(v); ok {
			a[i] = d
			return d
		}
	}
	return v
}

// values returns the spec's values on item: with all, every value of every
// alternative in turn; else the first scalar value that is not empty, the
// alternatives tried in order; or a template's one text.
func (s *jsonSpec) values(item any, all bool) []any {
	if s == nil {
		return nil
	}
	if s.tmplPth != nil || s.tmpl != nil {
		var b strings.Builder
		filled := false
		for i, lit := range s.tmpl {
			b.WriteString(lit)
			if i < len(s.tmplPth) {
				for _, v := range flatten(s.tmplPth[i].eval(item)) {
					if t := scalarText(v); t != "" {
						b.WriteString(t)
						filled = true
						break
					}
				}
			}
		}
		if !filled {
			return nil
		}
		return []any{b.String()}
	}
	var out []any
	for _, p := range s.alts {
		vs := flatten(p.eval(item))
		if !all {
			for _, v := range vs {
				if scalarText(v) != "" {
					return []any{v}
				}
			}
			continue
		}
		out = append(out, vs...)
	}
	return out
}

// flatten opens arrays of scalars ("tags": ["a", "b"]) into their values.
func flatten(vs []any) []any {
	var out []any
	for _, v := range vs {
		if a, ok := v.([]any); ok {
			for _, x := range a {
				if _, nested := x.([]any); !nested {
					out = append(out, x)
				}
			}
			continue
		}
		out = append(out, v)
	}
	return out
}

// scalarText is a JSON scalar as text; objects, arrays and null give "".
func scalarText(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	}
	return ""
}

// looksHTML reports a string that carries markup ("<p>35 %</p>"), read as
// a page fragment's text.
var looksHTML = regexp.MustCompile(`<(?:[A-Za-z][A-Za-z0-9]*|/[A-Za-z][A-Za-z0-9]*)(?:\s[^<>]*)?/?>`)

// stateText writes a state value's text: an HTML string by its visible
// text (block elements as line breaks, scripts skipped), others as they are.
func stateText(t *textBuilder, s string) {
	if !looksHTML.MatchString(s) {
		t.write(s)
		return
	}
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragmentWithOptions(strings.NewReader(s), body, html.ParseOptionEnableScripting(false))
	if err != nil {
		t.write(s)
		return
	}
	for _, n := range nodes {
		body.AppendChild(n)
	}
	appendText(t, body)
}

// text is the spec's first value as text, whitespace kept or collapsed.
func (s *jsonSpec) text(item any, limit int, keep bool) string {
	for _, v := range s.values(item, false) {
		t := newText(limit)
		t.keep = keep
		stateText(t, scalarText(v))
		if out := t.String(); out != "" {
			return out
		}
	}
	return ""
}

// allText joins every value of the spec, a line each.
func (s *jsonSpec) allText(item any, limit int) string {
	t := newKeptText(limit)
	write := func(key string, v any) {
		if x := scalarText(v); x != "" {
			t.sep()
			stateText(t, labelled(key, x))
			return
		}
		switch v.(type) {
		case map[string]any, []any:
			// A rich-text document (Contentful's nodes, Sanity's
			// Portable Text blocks) named whole: read as its text.
			richText(t, v, 0)
		}
	}
	if s == nil {
		return ""
	}
	if s.tmplPth != nil || s.tmpl != nil {
		for _, v := range s.values(item, true) {
			write("", v)
		}
		return t.String()
	}
	for _, p := range s.alts {
		key := ""
		if last := p[len(p)-1]; !last.all && last.index < 0 {
			key = last.key
		}
		for _, v := range flatten(p.eval(item)) {
			if t.full {
				break
			}
			write(key, v)
		}
	}
	return t.String()
}

// labelled is a short value read from a field named key ("purity": "3 %",
// data-concentration="35 %") as a description line: "purity: 3 %", so
// that the word that makes a bare number a strength is kept beside it.
// Long texts, values without a digit, and keys that name text itself
// (body, description, value) are written as they are.
func labelled(key, v string) string {
	if key == "" || len(v) > 40 || len(key) > 32 || !strings.ContainsAny(v, "0123456789") {
		return v
	}
	var b strings.Builder
	for i, r := range key {
		switch {
		case r == '_' || r == '-' || r == '.':
			b.WriteByte(' ')
		case unicode.IsUpper(r) && i > 0: // camelCase: purityPercent
			b.WriteByte(' ')
			b.WriteRune(unicode.ToLower(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			return v
		}
	}
	label := strings.TrimSpace(b.String())
	if label == "" || strings.ContainsAny(v, "<\n") || strings.HasPrefix(strings.ToLower(v), strings.ToLower(label)) {
		return v
	}
	for w := range strings.FieldsSeq(label) {
		if textKeys[strings.ToLower(w)] { // body_html, short_description
			return v
		}
	}
	return label + ": " + v
}

// textKeys name fields whose value is text in its own right, not a value
// of the thing the key names.
var textKeys = map[string]bool{
	"description": true, "desc": true, "body": true, "text": true, "content": true, "contents": true,
	"summary": true, "details": true, "detail": true, "html": true, "markdown": true, "excerpt": true,
	"name": true, "title": true, "value": true, "values": true, "label": true, "caption": true,
	"subtitle": true, "info": true, "note": true, "notes": true, "line": true, "lines": true, "copy": true,
}

// richTextMeta are the keys of a rich-text document's nodes that say what a
// node is or where it links, not what it reads.
var richTextMeta = map[string]bool{
	"type": true, "nodetype": true, "style": true, "marks": true, "markdefs": true, "id": true, "key": true,
	"listitem": true, "level": true, "url": true, "href": true, "uri": true, "src": true, "lang": true,
}

// maxRichTextDepth bounds how deep richText walks a hostile document.
const maxRichTextDepth = 32

// richText writes the text of the string values in v, a description
// whose path names an object or an array of objects (a rich-text
// document): depth first, arrays in order, an object's keys sorted, each
// string a line; the keys of richTextMeta and those starting with "_",
// "@" or "$" (node kinds, keys, links) are left out.
func richText(t *textBuilder, v any, depth int) {
	if depth > maxRichTextDepth || t.full {
		return
	}
	switch x := v.(type) {
	case string:
		if strings.TrimSpace(x) != "" {
			t.sep()
			stateText(t, x)
		}
	case []any:
		for _, e := range x {
			richText(t, e, depth+1)
		}
	case map[string]any:
		// A specification's attribute ({"label": "Concentration",
		// "value": "6 %"}) is one line, as the page shows it: its
		// label apart from its value would be no strength's head.
		lk, vk := pairKeys(x)
		if lk != "" {
			t.sep()
			stateText(t, scalarText(x[lk]))
			t.write(": ")
			for i, e := range scalarList(x[vk]) {
				if i > 0 {
					t.write(", ")
				}
				stateText(t, e)
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			if k == "" || k == lk || k == vk || strings.ContainsRune("_@$", rune(k[0])) || richTextMeta[strings.ToLower(k)] {
				continue
			}
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			// A specification's value keeps its field's name ("purity:
			// 35 %"); a number is read only so.
			switch v := x[k].(type) {
			case string:
				if strings.TrimSpace(v) != "" {
					t.sep()
					stateText(t, labelled(k, v))
				}
				continue
			case json.Number:
				if l := labelled(k, v.String()); l != v.String() {
					t.sep()
					t.write(l)
				}
				continue
			}
			richText(t, x[k], depth+1)
		}
	}
}

// pairLabels and pairValues are the keys of a name–value pair, as shops'
// APIs write a product's attributes (Magento's label and value,
// WooCommerce's name and options, schema.org's name and value).
var (
	pairLabels = []string{"label", "name", "attribute", "property", "title"}
	pairValues = []string{"value", "values", "options", "text", "terms"}
)

// pairKeys returns the label and value keys of x when it is a name–value
// pair: a text label and a scalar value or a list of them.
func pairKeys(x map[string]any) (label, value string) {
	for _, l := range pairLabels {
		if v, ok := x[l].(string); ok && strings.TrimSpace(v) != "" {
			label = l
			break
		}
	}
	if label == "" {
		return "", ""
	}
	for _, k := range pairValues {
		if v, ok := x[k]; ok && len(scalarList(v)) > 0 {
			return label, k
		}
	}
	return "", ""
}

// scalarList is v's text as a list: a scalar's, or each scalar's of an
// array of them; nil for anything else.
func scalarList(v any) []string {
	switch x := v.(type) {
	case string, json.Number, bool:
		if s := scalarText(x); strings.TrimSpace(s) != "" {
			return []string{s}
		}
	case []any:
		var out []string
		for _, e := range x {
			switch o := e.(type) {
			case string, json.Number, bool:
				if s := scalarText(e); strings.TrimSpace(s) != "" {
					out = append(out, s)
				}
			case map[string]any:
				// An option as an object (WooCommerce Store API's terms:
				// {"id": 31, "name": "12 %", "slug": "12"}): its name.
				s := ""
				for _, k := range []string{"name", "label", "value", "title"} {
					if s = scalarText(o[k]); strings.TrimSpace(s) != "" {
						break
					}
				}
				if strings.TrimSpace(s) == "" {
					return nil
				}
				out = append(out, s)
			default:
				return nil
			}
		}
		return out
	}
	return nil
}

// price reads a number as the amount, or parses a price text ("€ 39,90").
func (s *jsonSpec) price(item any) (float64, string) {
	for _, v := range s.values(item, false) {
		if n, ok := v.(json.Number); ok {
			if f, err := n.Float64(); err == nil && f >= 0 {
				return f, ""
			}
			continue
		}
		if f, cur, ok := ParsePrice(Clean(scalarText(v), maxPriceText)); ok {
			return f, cur
		}
	}
	return 0, ""
}

// jsonResponseNS marks the element JSONDocument keeps a JSON response's
// body in. The HTML parser gives elements no namespace but svg and math, so
// no fetched page can pass itself off as a JSON response.
const jsonResponseNS = "precwatch:json-response"

// IsJSON reports whether a Content-Type names a JSON body: application/json,
// text/json, or a JSON-based type such as application/vnd.api+json or
// application/ld+json.
func IsJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || mt == "text/json" ||
		strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// MaybeJSON reports whether a response of Content-Type contentType may be
// JSON sent under another type, to be told by its body (LooksJSON): an
// endpoint that never set its type (PHP's default text/html, a missing
// header) or set a text or script type.
func MaybeJSON(contentType string) bool {
	if strings.TrimSpace(contentType) == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch mt {
	case "text/html", "text/plain", "text/javascript", "application/javascript", "application/x-javascript":
		return true
	}
	return false
}

// LooksJSON reports whether body is a JSON object or array (after a byte
// order mark and whitespace): no HTML page is.
func LooksJSON(body []byte) bool {
	b := bytes.TrimLeft(bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF")), " \t\r\n")
	return len(b) > 0 && (b[0] == '{' || b[0] == '[') && json.Valid(b)
}

// JSONDocument wraps the body of a JSON response (a market's listings API)
// as a document that mode json reads whole, as it reads a state script;
// selectors find nothing in it. JSON is UTF-8 (RFC 8259); invalid bytes
// become U+FFFD when it is decoded.
func JSONDocument(body []byte) *goquery.Document {
	root := &html.Node{Type: html.DocumentNode}
	el := &html.Node{Type: html.ElementNode, DataAtom: atom.Script, Data: "script", Namespace: jsonResponseNS}
	el.AppendChild(&html.Node{Type: html.TextNode, Data: string(body)})
	root.AppendChild(el)
	return goquery.NewDocumentFromNode(root)
}

// jsonResponse returns the body JSONDocument wrapped in root, if it is one.
func jsonResponse(root *html.Node) (string, bool) {
	el := root.FirstChild
	if root.Type != html.DocumentNode || el == nil || el.Type != html.ElementNode || el.Namespace != jsonResponseNS {
		return "", false
	}
	if el.FirstChild == nil {
		return "", true
	}
	return el.FirstChild.Data, true
}

// APIErrors returns the messages of a JSON response's top-level "errors"
// (GraphQL's, JSON:API's "title" or "detail"), joined by "; ", up to 300
// bytes: what an API that answered 200 with no data says went wrong
// (an unknown field in the query, a missing variable).
func APIErrors(doc *goquery.Document) string {
	if doc == nil || len(doc.Nodes) == 0 {
		return ""
	}
	body, ok := jsonResponse(doc.Nodes[0])
	if !ok || len(body) > maxStateScript {
		return ""
	}
	v, _, ok := decodeFirst(strings.TrimSpace(body))
	obj, _ := v.(map[string]any)
	errs, _ := obj["errors"].([]any)
	if !ok || len(errs) == 0 {
		return ""
	}
	var msgs []string
	for _, e := range errs {
		switch e := e.(type) {
		case string:
			msgs = append(msgs, e)
		case map[string]any:
			for _, k := range []string{"message", "detail", "title"} {
				if m, ok := e[k].(string); ok && m != "" {
					msgs = append(msgs, m)
					break
				}
			}
		}
	}
	out := strings.Join(msgs, "; ")
	if len(out) > 300 {
		out = strings.ToValidUTF8(out[:300], "") + "…"
	}
	return out
}

// stateDocs returns the JSON values of the page's state scripts, or the
// body of a JSON response (see JSONDocument).
func (j *jsonRules) stateDocs(root *html.Node) []any {
	if body, ok := jsonResponse(root); ok {
		if len(body) > maxStateScript {
			return nil
		}
		if v, _, ok := decodeFirst(strings.TrimSpace(body)); ok {
			return []any{v}
		}
		return nil
	}
	var docs []any
	var flight []string // Next.js flight chunks (flight.go)
	size := 0
	for _, n := range cascadia.QueryAll(root, j.script) {
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.TextNode {
				b.WriteString(c.Data)
			}
		}
		if b.Len() > maxStateScript {
			continue
		}
		text := b.String()
		if strings.Contains(text, nextFlightPush) {
			if size += len(text); size <= maxStateScript {
				flight = appendFlightChunks(flight, text)
			}
			continue
		}
		for _, v := range decodeState(text) {
			if id, _ := attr(n, "id"); id == "__NUXT_DATA__" || looksDevalue(v) {
				if a, ok := v.([]any); ok {
					v = unflatten(a)
				}
			}
			docs = append(docs, v)
		}
	}
	if len(flight) > 0 {
		docs = append(docs, flightDocs(strings.Join(flight, ""))...)
	}
	return docs
}

// angularUnescape undoes Angular TransferState's escaping.
var angularUnescape = strings.NewReplacer("&q;", `"`, "&s;", "'", "&l;", "<", "&g;", ">", "&a;", "&")

// assignment finds where a script assigns a JSON value: "= {", "= [", or
// "= JSON.parse(" with a string in either quotes.
var assignment = regexp.MustCompile(`=\s*(?:[\[{]|JSON\.parse\(\s*["'])`)

// decodeState reads a script's JSON: its whole text (a JSON script
// element), else the value of each of its assignments that decodes
// (window.__INITIAL_STATE__ = {...};), a JSON.parse("...") string
// included. An assignment inside a value already read is part of it.
func decodeState(s string) []any {
	if v, _, ok := decodeFirst(strings.TrimSpace(s)); ok {
		return []any{v}
	}
	// Angular's TransferState before version 16 (<script id="serverApp-
	// state">) escapes its JSON's quotes and markup as &q; &a; &s; &l; &g;.
	if strings.Contains(s, "&q;") {
		if v, _, ok := decodeFirst(strings.TrimSpace(angularUnescape.Replace(s))); ok {
			return []any{v}
		}
	}
	var out []any
	readTo := 0
	for _, m := range assignment.FindAllStringIndex(s, maxAssignments) {
		at := m[1] - 1
		if at < readTo {
			continue
		}
		if s[at] == '\'' { // JSON.parse('...'): a JavaScript string
			inner, n, ok := jsSingleQuoted(s[at:])
			if !ok {
				continue
			}
			if v, _, ok := decodeFirst(inner); ok {
				out = append(out, v)
				readTo = at + n
			}
			continue
		}
		if s[at] == '"' { // JSON.parse("..."): a JSON string holding the JSON
			dec := json.NewDecoder(strings.NewReader(s[at:]))
			var inner string
			if err := dec.Decode(&inner); err != nil {
				continue
			}
			if v, _, ok := decodeFirst(inner); ok {
				out = append(out, v)
				readTo = at + int(dec.InputOffset())
			}
			continue
		}
		if v, n, ok := decodeFirst(s[at:]); ok {
			out = append(out, v)
			readTo = at + n
		}
	}
	return out
}

// jsSingleQuoted decodes the single-quoted JavaScript string literal s
// starts with, and says how many bytes it took; ok is false when it does
// not end. Its escapes are JavaScript's: \', \", \\, \n and the other
// letters, \xHH, \uHHHH and \u{H...}.
func jsSingleQuoted(s string) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(s); {
		c := s[i]
		switch {
		case c == '\'':
			return b.String(), i + 1, true
		case c == '\n' || c == '\r':
			return "", 0, false
		case c != '\\':
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", 0, false
		}
		e := s[i+1]
		i += 2
		switch e {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '0':
			b.WriteByte(0)
		case '\n':
			// A line continuation.
		case 'x', 'u':
			var hex string
			switch {
			case e == 'x' && i+2 <= len(s):
				hex, i = s[i:i+2], i+2
			case e == 'u' && i < len(s) && s[i] == '{':
				end := strings.IndexByte(s[i:], '}')
				if end < 2 || end > 7 {
					return "", 0, false
				}
				hex, i = s[i+1:i+end], i+end+1
			case e == 'u' && i+4 <= len(s):
				hex, i = s[i:i+4], i+4
			default:
				return "", 0, false
			}
			r, err := strconv.ParseUint(hex, 16, 32)
			if err != nil {
				return "", 0, false
			}
			// A surrogate pair written as two escapes is one character.
			if utf16.IsSurrogate(rune(r)) && i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
				if lo, err := strconv.ParseUint(s[i+2:i+6], 16, 32); err == nil {
					if c := utf16.DecodeRune(rune(r), rune(lo)); c != utf8.RuneError {
						r, i = uint64(c), i+6
					}
				}
			}
			b.WriteRune(rune(r))
		default:
			b.WriteByte(e) // \' \" \\ \/ and any other character stand for themselves
		}
	}
	return "", 0, false
}

// jsonInString decodes a string holding a JSON object or array.
func jsonInString(s string) (any, bool) {
	t := strings.TrimSpace(s)
	if len(t) < 2 || len(t) > maxStateScript || (t[0] != '{' || t[len(t)-1] != '}') && (t[0] != '[' || t[len(t)-1] != ']') {
		return nil, false
	}
	v, n, ok := decodeFirst(t)
	return v, ok && n == len(t)
}

// decodeFirst decodes the JSON object or array s starts with, and says how
// many bytes it took.
func decodeFirst(s string) (any, int, bool) {
	if s == "" || (s[0] != '{' && s[0] != '[') {
		return nil, 0, false
	}
	dec := json.NewDecoder(strings.NewReader(strings.ToValidUTF8(s, "\uFFFD")))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, 0, false
	}
	return v, int(dec.InputOffset()), true
}

// items returns the listings' JSON objects in the page's state documents.
func (j *jsonRules) items(docs []any) []any {
	var out []any
	for _, d := range docs {
		if j.listing == nil {
			out = append(out, d)
			continue
		}
		for _, v := range j.listing.values(d, true) {
			if a, ok := v.([]any); ok { // the path named the array itself
				out = append(out, a...)
			} else {
				out = append(out, v)
			}
		}
	}
	return slices.DeleteFunc(out, func(v any) bool { _, ok := v.(map[string]any); return !ok })
}

// listings reads the page's listings from its state.
func (j *jsonRules) listings(state []any, page, base *url.URL) []precwatch.Listing {
	items := j.items(state)
	var out []precwatch.Listing
	var derived []bool
	for _, it := range items {
		if l, d, ok := j.read(it, page, base, readContainer); ok {
			out = append(out, l)
			derived = append(derived, d)
		}
	}
	uniqueIDs(out, derived)
	return out
}

// nextPages are the state's pagination URLs.
func (j *jsonRules) nextPages(state []any) []string {
	if j.next == nil {
		return nil
	}
	var out []string
	for _, d := range state {
		if j.next.lastPage(d) {
			continue
		}
		for _, v := range j.next.values(d, true) {
			if s := scalarText(v); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// noMorePages are the flags an API sets false beside its cursor on the
// last page (Relay's pageInfo.hasNextPage, has_more, ...): many keep
// endCursor set there, and following it costs a request for an empty
// page, or loops where the cursor is the same.
var noMorePages = []string{"hasNextPage", "has_next_page", "hasNext", "has_next", "hasMore", "has_more", "moreAvailable", "more_available"}

// lastPage reports that the object holding a path of s in d (the
// cursor's parent: pageInfo for pageInfo.endCursor) says there is no next
// page: one of noMorePages is false.
func (s *jsonSpec) lastPage(d any) bool {
	paths := s.alts
	if s.tmplPth != nil {
		paths = s.tmplPth
	}
	for _, p := range paths {
		if len(p) == 0 {
			continue
		}
		for _, parent := range p[:len(p)-1].eval(d) {
			obj, ok := parent.(map[string]any)
			if !ok {
				continue
			}
			for _, k := range noMorePages {
				if v, ok := obj[k]; ok && (v == false || v == "false") {
					return true
				}
			}
		}
	}
	return false
}

// read is readListing for one state item: the same identity rules, fields
// read by path.
func (j *jsonRules) read(item any, page, base *url.URL, kind readKind) (l precwatch.Listing, derivedID, ok bool) {
	needTitle := kind != readDetail
	l.Title = oneLine(j.title.text(item, maxTitle, true))
	if needTitle && l.Title == "" {
		return l, false, false
	}
	l.Description = j.description.allText(item, maxDescription)
	if kind != readDetail { // a detail's are added once merged (detail), under the merged title
		l = addVariantLines(l, j.variantLines(item))
	}
	l.Vendor = j.vendor.text(item, maxVendor, false)
	l.Price, l.Currency = j.price.price(item)
	if raw := j.currency.text(item, maxCurrency, false); raw != "" {
		l.Currency = currencyCode(raw)
	}
	if j.minor {
		l.Price = fromMinorUnits(l.Price, l.Currency)
	}
	fromItem := false
	if u := resolve(base, j.u.text(item, maxURL, false)); u != nil {
		l.URL, fromItem = Canonical(u), true
	}
	if u := resolve(base, j.vendorURL.text(item, maxURL, false)); u != nil {
		l.VendorURL = Canonical(u)
	}
	l.ID = j.id.text(item, maxID, false)
	if !needTitle {
		return l, false, true
	}
	if l.URL == "" {
		l.URL = Canonical(page)
	}
	if l.ID == "" {
		derivedID = fallbackID(&l, fromItem)
	}
	return l, derivedID, true
}

// detail reads a detail page's state: the item with the listing's ID when
// the rules name a listing path and an id, else the first item.
func (j *jsonRules) detail(root *html.Node, page, base *url.URL, l precwatch.Listing) (precwatch.Listing, []string, bool) {
	items := j.items(j.stateDocs(root))
	if len(items) == 0 {
		return precwatch.Listing{}, nil, false
	}
	pick := items[0]
	if j.id != nil && l.ID != "" {
		for _, it := range items {
			if j.id.text(it, maxID, false) == l.ID {
				pick = it
				break
			}
		}
	}
	d, _, _ := j.read(pick, page, base, readDetail)
	return d, j.variantLines(pick), true
}

// variantLines are the values the variants path names in item (Shopify's
// "variants[].title": "1 L / 35 %"), repeats left out, at most
// maxVariants: a line "title — variant" each, as withVariants writes them
// for a page's <select>.
func (j *jsonRules) variantLines(item any) []string {
	if j.variants == nil {
		return nil
	}
	var lines []string
	seen := map[string]bool{}
	for _, v := range j.variants.values(item, true) {
		t := newText(maxTitle)
		stateText(t, scalarText(v))
		if s := t.String(); s != "" && !seen[strings.ToLower(s)] {
			seen[strings.ToLower(s)] = true
			if lines = append(lines, s); len(lines) == maxVariants {
				break
			}
		}
	}
	return lines
}
