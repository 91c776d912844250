package extract

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/precwatch/precwatch"
)

// maxJSONLD bounds one script block; larger ones are not product data.
const maxJSONLD = 4 << 20

// maxWalk bounds how deep the JSON-LD walk descends.
const maxWalk = 32

// product is a schema.org Product as read from JSON-LD, microdata or RDFa
// Lite.
type product struct {
	id, title, description, vendor, currency, rawURL string
	price                                            float64
}

// structuredListings returns the schema.org Products of the page, from its
// JSON-LD blocks then its microdata and RDFa Lite, in document order.
func structuredListings(root *html.Node, page, base *url.URL) []precwatch.Listing {
	ps := jsonLDProducts(root)
	ps = append(ps, structuredProducts(root)...)
	if len(ps) == 0 {
		// A page whose only product data is its Open Graph tags.
		if p, ok := openGraphProduct(root); ok {
			ps = append(ps, p)
		}
	}
	out := make([]precwatch.Listing, 0, len(ps))
	single := len(ps) == 1
	for _, p := range ps {
		l := precwatch.Listing{
			ID:          Clean(p.id, maxID),
			Title:       oneLine(keptClean(p.title, maxTitle)),
			Description: keptClean(p.description, maxDescription),
			Vendor:      Clean(p.vendor, maxVendor),
			Price:       p.price,
			Currency:    Clean(p.currency, maxCurrency),
		}
		if l.Title == "" {
			continue
		}
		if l.Currency != "" {
			l.Currency = currencyCode(l.Currency)
		}
		ownURL := false
		if u := resolve(base, p.rawURL); u != nil {
			l.URL, ownURL = Canonical(u), true
		} else {
			l.URL = Canonical(page)
		}
		if l.ID == "" {
			if ownURL || single {
				if u, err := url.Parse(l.URL); err == nil {
					l.ID = idFromURL(u)
				}
			} else {
				l.ID = contentID(l)
			}
		}
		out = append(out, l)
	}
	return out
}

// ---- JSON-LD ----

type ldWalker struct {
	ids      map[string]map[string]any // nodes by @id, to follow references
	products []product
}

func jsonLDProducts(root *html.Node) []product {
	var docs []any
	for _, n := range scriptBlocks(root) {
		docs = append(docs, decodeJSONLD(n)...)
	}
	if len(docs) == 0 {
		return nil
	}
	w := &ldWalker{ids: map[string]map[string]any{}}
	for _, d := range docs {
		w.index(d, 0)
	}
	for _, d := range docs {
		w.walk(d, 0)
	}
	return w.products
}

// jsonLDListURLs returns the URLs of the entries of the page's JSON-LD
// ItemLists that are no Product of their own: the "summary page" markup
// Google asks of category pages, a ListItem with a position and the
// product page's url and nothing else, on shops that render their cards
// with a script. Those pages are where the products are.
func jsonLDListURLs(root *html.Node) []string {
	var out []string
	var walk func(v any, depth int, inList bool)
	walk = func(v any, depth int, inList bool) {
		if depth > maxWalk {
			return
		}
		switch t := v.(type) {
		case string:
			// itemListElement may be a plain list of URLs.
			if inList {
				out = append(out, t)
			}
		case []any:
			for _, x := range t {
				walk(x, depth+1, inList)
			}
		case map[string]any:
			if isType(t, productTypes) {
				return // read as a listing where it is
			}
			if isType(t, listItemTypes) {
				switch item := t["item"].(type) {
				case string:
					out = append(out, item)
					return
				case map[string]any:
					if isType(item, productTypes) {
						return
					}
					if u := str(item["url"]); u != "" {
						out = append(out, u)
						return
					}
					if u, ok := item["@id"].(string); ok {
						out = append(out, u)
						return
					}
				}
				if u := str(t["url"]); u != "" {
					out = append(out, u)
				}
				return
			}
			for _, k := range sortedKeys(t) {
				if k != "@context" {
					walk(t[k], depth+1, k == "itemListElement")
				}
			}
		}
	}
	for _, b := range scriptBlocks(root) {
		for _, d := range decodeJSONLD(b) {
			walk(d, 0, false)
		}
	}
	return out
}

// scriptBlocks returns the text of every JSON-LD script element.
func scriptBlocks(root *html.Node) []string {
	var out []string
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.Script {
			t, _ := attr(n, "type")
			t = strings.ToLower(strings.TrimSpace(t))
			if t == "application/ld+json" || strings.HasPrefix(t, "application/ld+json;") {
				var b strings.Builder
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if c.Type == html.TextNode {
						b.WriteString(c.Data)
					}
				}
				if b.Len() <= maxJSONLD {
					out = append(out, b.String())
				}
			}
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(root)
	return out
}

// decodeJSONLD decodes one script block leniently: HTML comment and CDATA
// wrappers are removed, raw control characters (invalid inside JSON strings,
// yet common) become spaces, and several concatenated values are all read.
// A malformed block yields what decoded before the error.
func decodeJSONLD(s string) []any {
	s = strings.TrimSpace(s)
	for _, p := range []string{"<!--", "//<![CDATA[", "/*<![CDATA[*/", "<![CDATA["} {
		s = strings.TrimSpace(strings.TrimPrefix(s, p))
	}
	for _, p := range []string{"-->", "//]]>", "/*]]>*/", "]]>"} {
		s = strings.TrimSpace(strings.TrimSuffix(s, p))
	}
	b := []byte(strings.ToValidUTF8(s, "\uFFFD"))
	for i, c := range b {
		if c < 0x20 {
			b[i] = ' '
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out []any
	for {
		var v any
		if err := dec.Decode(&v); err != nil {
			return out
		}
		out = append(out, v)
	}
}

func (w *ldWalker) index(v any, depth int) {
	if depth > maxWalk {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		if id, ok := t["@id"].(string); ok && len(t) > 1 {
			if _, dup := w.ids[id]; !dup {
				w.ids[id] = t
			}
		}
		for _, k := range sortedKeys(t) {
			w.index(t[k], depth+1)
		}
	case []any:
		for _, x := range t {
			w.index(x, depth+1)
		}
	}
}

// deref follows a {"@id": ...} reference to the node it names.
func (w *ldWalker) deref(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if id, ok := m["@id"].(string); ok {
			if n, ok := w.ids[id]; ok {
				return n
			}
		}
	}
	return v
}

func (w *ldWalker) walk(v any, depth int) {
	if depth > maxWalk {
		return
	}
	switch t := w.deref(v).(type) {
	case map[string]any:
		switch {
		case isType(t, productTypes):
			w.products = append(w.products, w.product(t, nil))
			// Variants of a product group are products of their own.
			if hv, ok := t["hasVariant"]; ok {
				w.walk(hv, depth+1)
			}
			return
		case isType(t, offerTypes):
			if item, ok := w.deref(t["itemOffered"]).(map[string]any); ok && isType(item, productTypes) {
				w.products = append(w.products, w.product(item, t))
				return
			}
		}
		for _, k := range sortedKeys(t) {
			if k == "@context" {
				continue
			}
			w.walk(t[k], depth+1)
		}
	case []any:
		for _, x := range t {
			w.walk(x, depth+1)
		}
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var (
	productTypes  = []string{"product", "individualproduct", "productmodel", "someproducts"}
	offerTypes    = []string{"offer", "aggregateoffer"}
	listItemTypes = []string{"listitem"}
)

// isType reports whether the node's @type is one of want (compared
// lower-case, without a schema.org prefix).
func isType(m map[string]any, want []string) bool {
	check := func(s string) bool { return slices.Contains(want, schemaName(s)) }
	switch t := m["@type"].(type) {
	case string:
		return check(t)
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok && check(s) {
				return true
			}
		}
	}
	return false
}

// schemaName strips "https://schema.org/", "schema:" and the like from a type.
func schemaName(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexAny(s, "/:#"); i >= 0 {
		s = s[i+1:]
	}
	return strings.ToLower(s)
}

// str reads a JSON-LD text value: a string, number, {"@value": ...}, or the
// first usable element of an array.
func str(v any) string {
	switch t := v.(type) {
	case string:
		return html.UnescapeString(t)
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	case map[string]any:
		if x, ok := t["@value"]; ok {
			return str(x)
		}
	case []any:
		for _, x := range t {
			if s := str(x); s != "" {
				return s
			}
		}
	}
	return ""
}

// strAll joins every text of a value that may be an array.
func strAll(v any) string {
	a, ok := v.([]any)
	if !ok {
		return str(v)
	}
	var parts []string
	for _, x := range a {
		if s := str(x); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

// name reads a thing's name: a plain string, or the name of a node.
func (w *ldWalker) name(v any) string {
	v = w.deref(v)
	switch t := v.(type) {
	case map[string]any:
		for _, k := range []string{"name", "legalName", "alternateName"} {
			if s := str(t[k]); s != "" {
				return s
			}
		}
		return ""
	case []any:
		for _, x := range t {
			if s := w.name(x); s != "" {
				return s
			}
		}
		return ""
	}
	return str(v)
}

func (w *ldWalker) product(m, offer map[string]any) product {
	p := product{
		title:       str(m["name"]),
		description: strAll(m["description"]),
		rawURL:      str(m["url"]),
	}
	for _, k := range []string{"sku", "productID", "mpn", "gtin13", "gtin", "gtin14", "gtin12", "gtin8", "@id"} {
		if s := strings.TrimSpace(str(m[k])); s != "" {
			p.id = s
			break
		}
	}
	offers := []any{}
	if offer != nil {
		offers = append(offers, offer)
	}
	offers = append(offers, m["offers"])
	var seller string
	for _, o := range offers {
		if price, cur, u, sel, ok := w.offerPrice(o, 0); ok || sel != "" || u != "" {
			if ok && p.price == 0 {
				p.price, p.currency = price, cur
			}
			if p.rawURL == "" {
				p.rawURL = u
			}
			if seller == "" {
				seller = sel
			}
		}
	}
	if seller == "" {
		seller = w.name(m["seller"])
	}
	for _, k := range []string{"brand", "manufacturer"} {
		if seller != "" {
			break
		}
		seller = w.name(m[k])
	}
	p.vendor = seller
	return p
}

// offerPrice reads an Offer, an AggregateOffer or a list of offers: the
// first price found, its currency, the offer's URL and its seller.
func (w *ldWalker) offerPrice(v any, depth int) (price float64, currency, link, seller string, ok bool) {
	if depth > 4 {
		return 0, "", "", "", false
	}
	switch t := w.deref(v).(type) {
	case []any:
		for _, x := range t {
			p, c, u, s, ok := w.offerPrice(x, depth+1)
			if link == "" {
				link = u
			}
			if seller == "" {
				seller = s
			}
			if ok {
				return p, c, link, seller, true
			}
		}
		return 0, "", link, seller, false
	case map[string]any:
		link = str(t["url"])
		seller = w.name(t["seller"])
		currency = str(t["priceCurrency"])
		for _, k := range []string{"price", "lowPrice", "highPrice"} {
			if p, c, ok := jsonPrice(t[k]); ok {
				if currency == "" {
					currency = c
				}
				if seller == "" || link == "" {
					// An AggregateOffer states its price range but names
					// the seller only in the offers it aggregates.
					_, _, u, s, _ := w.offerPrice(t["offers"], depth+1)
					link, seller = cmp.Or(link, u), cmp.Or(seller, s)
				}
				return p, currency, link, seller, true
			}
		}
		for _, k := range []string{"priceSpecification", "offers"} {
			if x, ok := t[k]; ok {
				p, c, u, s, ok := w.offerPrice(x, depth+1)
				if link == "" {
					link = u
				}
				if seller == "" {
					seller = s
				}
				if ok {
					if c == "" {
						c = currency
					}
					return p, c, link, seller, true
				}
			}
		}
		return 0, "", link, seller, false
	}
	return 0, "", "", "", false
}

// jsonPrice reads a schema.org price: a number, a plain decimal string
// ("45.00", as schema.org asks), or failing that any price text.
func jsonPrice(v any) (float64, string, bool) {
	switch t := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(t.String(), 64)
		return f, "", err == nil && f >= 0
	case string:
		s := strings.TrimSpace(t)
		if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 && !strings.ContainsAny(s, "eEnN") {
			return f, "", true
		}
		return ParsePrice(s)
	case []any:
		for _, x := range t {
			if p, c, ok := jsonPrice(x); ok {
				return p, c, ok
			}
		}
	}
	return 0, "", false
}

// ---- microdata and RDFa Lite ----

// syntax is the markup a page's schema.org items are written in: HTML
// microdata (itemscope, itemtype, itemprop) or RDFa Lite (typeof,
// property, with vocab="https://schema.org/" or the schema: prefix), the
// other syntax schema.org documents beside JSON-LD. Both nest items the
// same way: an item's properties are the elements under it that name one,
// not entering nested items, whose properties are theirs.
type syntax bool

const (
	microdata syntax = false
	rdfaLite  syntax = true
)

// isItem reports whether n starts an item in s.
func (s syntax) isItem(n *html.Node) bool {
	key := "itemscope"
	if s == rdfaLite {
		key = "typeof"
	}
	_, ok := attr(n, key)
	return ok
}

// typeIs reports whether the item n is typed as one of want (lower-case
// schema.org type names).
func (s syntax) typeIs(n *html.Node, want []string) bool {
	if s == microdata {
		return itemTypeIs(n, want)
	}
	t, _ := attr(n, "typeof")
	for f := range strings.FieldsSeq(t) {
		if term, ok := rdfaTerm(f); ok && slices.Contains(want, strings.ToLower(term)) {
			return true
		}
	}
	return false
}

// propNames are the property names n gives its item in s.
func (s syntax) propNames(n *html.Node) []string {
	key := "itemprop"
	if s == rdfaLite {
		key = "property"
	}
	v, ok := attr(n, key)
	if !ok {
		return nil
	}
	var names []string
	for f := range strings.FieldsSeq(v) {
		if s == rdfaLite {
			var ok bool
			if f, ok = rdfaTerm(f); !ok {
				continue
			}
		}
		names = append(names, f)
	}
	return names
}

// rdfaTerm is the schema.org term an RDFa Lite typeof or property value
// names: a bare term (the page's vocab), one with the schema: prefix, or
// a schema.org IRI. Other prefixes (og:, the Open Graph tags that share
// the property attribute) name other vocabularies.
func rdfaTerm(v string) (string, bool) {
	lower := strings.ToLower(v)
	for _, p := range []string{"https://schema.org/", "http://schema.org/", "schema:"} {
		if strings.HasPrefix(lower, p) {
			return v[len(p):], len(v) > len(p)
		}
	}
	return v, !strings.Contains(v, ":")
}

// structuredProducts reads the items typed schema.org/Product, in
// microdata or RDFa Lite, that are not nested in another product.
func structuredProducts(root *html.Node) []product {
	var out []product
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.DataAtom == atom.Script || n.DataAtom == atom.Style {
				return
			}
			for _, s := range []syntax{microdata, rdfaLite} {
				if s.isItem(n) && s.typeIs(n, productTypes) {
					out = append(out, structuredProduct(n, s))
					return
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(root)
	return out
}

func itemTypeIs(n *html.Node, want []string) bool {
	t, _ := attr(n, "itemtype")
	for f := range strings.FieldsSeq(t) {
		if slices.Contains(want, schemaName(f)) {
			return true
		}
	}
	return false
}

// itemProps maps the item's property names to their elements, in document
// order, without entering nested items (their properties are theirs).
func itemProps(item *html.Node, s syntax) map[string][]*html.Node {
	props := map[string][]*html.Node{}
	var visit func(*html.Node, int)
	visit = func(n *html.Node, depth int) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			for _, name := range s.propNames(c) {
				props[name] = append(props[name], c)
			}
			if s.isItem(c) {
				continue
			}
			if depth < 256 {
				visit(c, depth+1)
			}
		}
	}
	visit(item, 0)
	return props
}

// propValue is a microdata property's value per the HTML spec: content for
// meta, href for links, src for media, value for data, datetime for time,
// else the text (a content attribute wins, as sites put one on spans, and
// so does an RDFa resource).
func propValue(n *html.Node) string {
	key := ""
	switch n.DataAtom {
	case atom.Meta:
		key = "content"
	case atom.A, atom.Area, atom.Link:
		key = "href"
	case atom.Img, atom.Audio, atom.Embed, atom.Iframe, atom.Source, atom.Track, atom.Video:
		key = "src"
	case atom.Object:
		key = "data"
	case atom.Data, atom.Meter:
		key = "value"
	case atom.Time:
		key = "datetime"
	}
	if key != "" {
		if v, ok := attr(n, key); ok {
			return v
		}
	}
	for _, key := range []string{"content", "resource"} {
		if v, ok := attr(n, key); ok {
			return v
		}
	}
	return keptNodeText(n, maxDescription) // names and descriptions keep their whitespace
}

func firstProp(props map[string][]*html.Node, names ...string) (*html.Node, string) {
	for _, name := range names {
		for _, n := range props[name] {
			if v := strings.TrimSpace(propValue(n)); v != "" {
				return n, v
			}
		}
	}
	return nil, ""
}

// mdName reads a nested item's name, or a plain property's text.
func mdName(props map[string][]*html.Node, s syntax, names ...string) string {
	for _, name := range names {
		for _, n := range props[name] {
			if s.isItem(n) {
				if _, v := firstProp(itemProps(n, s), "name", "legalName"); v != "" {
					return v
				}
				continue
			}
			if v := strings.TrimSpace(propValue(n)); v != "" {
				return v
			}
		}
	}
	return ""
}

func mdPrice(props map[string][]*html.Node) (float64, string, bool) {
	cur := ""
	if _, c := firstProp(props, "priceCurrency"); c != "" {
		cur = c
	}
	for _, name := range []string{"price", "lowPrice", "highPrice"} {
		for _, n := range props[name] {
			if p, c, ok := jsonPrice(Clean(propValue(n), maxPriceText)); ok {
				if cur == "" {
					cur = c
				}
				return p, cur, true
			}
		}
	}
	return 0, cur, false
}

// structuredProduct reads the Product item in syntax s.
func structuredProduct(item *html.Node, s syntax) product {
	props := itemProps(item, s)
	var p product
	_, p.title = firstProp(props, "name")
	_, p.description = firstProp(props, "description")
	_, p.id = firstProp(props, "sku", "productID", "mpn", "gtin13", "gtin", "gtin14", "gtin12", "gtin8")
	_, p.rawURL = firstProp(props, "url")
	if p.rawURL == "" {
		key := "itemid"
		if s == rdfaLite {
			key = "resource"
		}
		p.rawURL, _ = attr(item, key)
	}
	if price, cur, ok := mdPrice(props); ok {
		p.price, p.currency = price, cur
	}
	seller := mdName(props, s, "seller")
	for _, o := range props["offers"] {
		if !s.isItem(o) {
			continue
		}
		op := itemProps(o, s)
		if p.price == 0 {
			if price, cur, ok := mdPrice(op); ok {
				p.price, p.currency = price, cur
			}
		}
		if seller == "" {
			seller = mdName(op, s, "seller")
		}
		if p.rawURL == "" {
			_, p.rawURL = firstProp(op, "url")
		}
		// An AggregateOffer may nest its offers.
		for _, inner := range op["offers"] {
			if p.price == 0 {
				if price, cur, ok := mdPrice(itemProps(inner, s)); ok {
					p.price, p.currency = price, cur
				}
			}
		}
	}
	if seller == "" {
		seller = mdName(props, s, "brand", "manufacturer")
	}
	p.vendor = seller
	return p
}

// openGraphProduct reads a product page's Open Graph tags (og:type
// product, or a product:price:amount beside og:title): the title,
// description, URL, price and currency that link previews show, and the
// brand (product:brand) as the vendor. Shops that render their product
// pages from a script often keep these in the static head, for social
// previews, and nothing else.
func openGraphProduct(root *html.Node) (product, bool) {
	var p product
	props := map[string]string{}
	for n := root; n != nil; n = Next(root, n) {
		if n.Type != html.ElementNode || n.DataAtom != atom.Meta {
			continue
		}
		key, _ := attr(n, "property")
		if key == "" {
			key, _ = attr(n, "name")
		}
		key = strings.ToLower(strings.TrimSpace(key))
		if !strings.HasPrefix(key, "og:") && !strings.HasPrefix(key, "product:") {
			continue
		}
		if v, _ := attr(n, "content"); v != "" {
			if _, seen := props[key]; !seen {
				props[key] = v
			}
		}
	}
	amount := props["product:price:amount"]
	if amount == "" {
		amount = props["og:price:amount"]
	}
	if props["og:title"] == "" || !strings.EqualFold(props["og:type"], "product") && amount == "" {
		return p, false
	}
	p.title, p.description, p.rawURL = props["og:title"], props["og:description"], props["og:url"]
	p.vendor = props["product:brand"]
	p.id = props["product:retailer_item_id"]
	cur := props["product:price:currency"]
	if cur == "" {
		cur = props["og:price:currency"]
	}
	if v, c, ok := ParsePrice(strings.TrimSpace(amount + " " + cur)); ok {
		p.price, p.currency = v, c
	}
	if p.currency == "" {
		p.currency = cur
	}
	return p, true
}
