// Package extract reads listings and links out of fetched marketplace pages:
// with a site's CSS selectors, or from schema.org Product data (JSON-LD,
// microdata and RDFa Lite) for shops that publish it.
//
// Every text field is trimmed, made valid UTF-8, stripped of control and
// invisible formatting characters and bounded in length, so a hostile page
// can neither hide words from the matchers nor blow up a listing. Titles and
// descriptions keep their whitespace as the seller wrote it (runs of spaces,
// line breaks; block boundaries read as line breaks), so that a crawled
// listing matches as its text does in `precwatch match`; other fields are
// whitespace-collapsed. Script and style contents are never read as text. Text
// that looks like markup ("<script>" in a title) is kept as the plain text it
// is; escaping it is the console's job.
package extract

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/precwatch/precwatch"
)

// Result is what one page yields.
type Result struct {
	// Listings have Site left empty; ID, URL (absolute, canonical), Title,
	// Description, Price, Currency and Vendor are filled as found.
	Listings []precwatch.Listing
	// NextPages are the page's pagination links: next_page matches, or
	// rel="next" links when the site names no next_page selector. A
	// next_page match that is a GET form, or a submit button of one, gives
	// the URL its submission goes to (see formNext).
	NextPages []string
	// NextPosts are the page's pagination by POST forms: the submissions
	// a click on a next_page match that is a POST form, or a submit button
	// of one, makes.
	NextPosts []Submission
	// NextUnfollowed describes the first next_page match that gave no
	// URL to follow (a POST form, an element without a link), for the
	// crawler to report a rule that never leads anywhere; "" when none.
	NextUnfollowed string
	// NextFormUnfollowed is set when that match is a form, or a submit
	// button, whose submission is no URL (a POST form): the pages after
	// this one cannot be read.
	NextFormUnfollowed bool
	// Links are the other absolute URLs to follow: rules.Links matches (and,
	// in jsonld mode without Links or Detail rules, same-host links). A URL is in
	// NextPages or Links, never both. Both keep their query (a site may need
	// its session parameter) but lose their fragment, and are deduplicated
	// by Canonical.
	Links []string
}

// Extractor reads one site's pages. Implementations are safe for concurrent
// use: all state is compiled once by New.
type Extractor interface {
	// Extract reads listings and links from an index/search/product page.
	Extract(doc *goquery.Document, page *url.URL) (Result, error)
	// Detail completes l from its detail page (fields named in rules.Detail
	// override l's); nil Detail rules → l unchanged, except in jsonld mode
	// where the page's schema.org Product fills in what it has.
	Detail(doc *goquery.Document, page *url.URL, l precwatch.Listing) (precwatch.Listing, error)
	// DetailFrame is the URL of the frame the detail rules' frame selects
	// on a detail page, resolved against it; "" when there is none.
	DetailFrame(doc *goquery.Document, page *url.URL) string
	// DetailRead is Detail that also returns what the detail rules read on
	// the page by themselves, before it was merged into l: a field l
	// already had stays set in the merge when its rule matched nothing.
	DetailRead(doc *goquery.Document, page *url.URL, l precwatch.Listing) (merged, read precwatch.Listing, err error)
	// FollowDetails reports whether listings' URLs should be fetched as
	// detail pages.
	FollowDetails() bool
	// ReadsJSON reports whether the rules read JSON (mode json, for the
	// site or its detail pages), so that JSON responses are worth fetching
	// and are given to Extract and Detail as JSONDocument wraps them.
	ReadsJSON() bool
	// VendorText is the text of a vendor profile page to read identifiers
	// from (see rules.VendorPage).
	VendorText(doc *goquery.Document) string
	// Why says, in the rules' own terms, why a page gave no listing: what
	// the listing rule matched and what the title rule found there.
	Why(doc *goquery.Document) string
}

// FieldError is a rule New refused, naming its field as the config does
// ("title", "detail.price", "links[1]").
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return fmt.Sprintf("extract: field %q: %v", e.Field, e.Err) }
func (e *FieldError) Unwrap() error { return e.Err }

// ErrNoDocument is returned when Extract or Detail is given a nil document
// or page URL.
var ErrNoDocument = errors.New("extract: nil document or page url")

// field is one compiled selector: a CSS selector (nil: the context element
// itself) and optionally the attribute to read instead of the text.
type field struct {
	sel  cascadia.Selector
	attr string
	// alts, when set, are the rule's alternatives (see alternatives): the
	// first with a value gives it; a description joins them all.
	alts []*field
	// column, when set, is the header name of a column(NAME) rule: inner
	// is read in the listing row's cell under that header (columnCell).
	column string
	inner  *field
	// page marks a rule that starts at ":root": it reads the page, not
	// the listing element (a vendor named only in the page's heading).
	page bool
}

// cell is where a column rule's inner rule reads: the row's cell under
// its header, nil when there is none.
func (f *field) cell(c *html.Node) *html.Node { return columnCell(c, f.column) }

// fieldSet is a compiled precwatch.Extraction (without links and detail).
type fieldSet struct {
	jsonld                                             bool
	json                                               *jsonRules        // mode json: the rest is unused
	listing                                            cascadia.Selector // nil: the whole document
	siblings                                           cascadia.Selector // listing_siblings: nil, none
	id, title, price, currency, vendor, description, u *field
	vendorURL                                          *field // vendor profiles (issue 11)
	variants                                           *field // each a line of the description
	frame                                              *field // detail rules: the frame holding the text
	minor                                              bool   // price_minor_units
}

type extractor struct {
	fields   fieldSet
	next     *field
	relNext  cascadia.Selector
	links    []*field
	anchors  cascadia.Selector
	base     cascadia.Selector
	detail   *fieldSet
	follow   bool
	hasLinks bool
	foldIDs  bool      // rules.IDIgnoreCase
	more     *loadMore // rules.LoadMore
	graphql  *precwatch.GraphQL
	items    *field // rules.LineItems
	rules    precwatch.Extraction
	// vendorPage is the part of a vendor page read for identifiers
	// (nil: the whole page; vendor profiles, issue 11).
	vendorPage cascadia.Selector
}

var _ Extractor = (*extractor)(nil)

// attrSuffix matches the " @attr" ending of a selector.
var attrSuffix = regexp.MustCompile(`(^|\s)@([A-Za-z_:][-A-Za-z0-9_:.]*)\s*$`)

// compileField compiles one selector spec; "" yields nil.
func compileField(name, spec string) (*field, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	if parts := alternatives(spec); parts != nil {
		if !valueField(name) {
			return nil, &FieldError{Field: name, Err: fmt.Errorf("alternatives with attributes of their own (%q) are read only in the fields a listing shows; here a CSS list without them (\"a.next, link[rel=next]\") follows each element's link", spec)}
		}
		f := &field{}
		for _, p := range parts {
			a, err := compileField(name, p)
			if err != nil {
				return nil, err
			}
			f.alts = append(f.alts, a)
		}
		return f, nil
	}
	if col, rest, ok, err := columnRule(spec); ok {
		if err != nil {
			return nil, &FieldError{Field: name, Err: err}
		}
		if !valueField(name) {
			return nil, &FieldError{Field: name, Err: fmt.Errorf("column(...) is read only in the fields a listing shows, not here")}
		}
		inner, err := compileField(name, rest)
		if err != nil {
			return nil, err
		}
		if inner == nil {
			inner = &field{} // the cell itself
		}
		return &field{column: col, inner: inner}, nil
	}
	f := &field{}
	css := spec
	if m := attrSuffix.FindStringSubmatchIndex(spec); m != nil {
		f.attr = strings.ToLower(spec[m[4]:m[5]])
		css = strings.TrimSpace(spec[:m[0]])
	}
	if css == "" {
		return f, nil // "@href": the context element's own attribute
	}
	sel, err := cascadia.Compile(css)
	if err != nil {
		return nil, &FieldError{Field: name, Err: fmt.Errorf("bad selector %q: %w", css, err)}
	}
	f.sel = sel
	f.page = len(css) >= 5 && strings.EqualFold(css[:5], ":root")
	return f, nil
}

// pageFields fills the fields whose rules read the page (":root h1")
// rather than the listing element, where the element gave them none.
func pageFields(fs *fieldSet, root *html.Node, base *url.URL, l precwatch.Listing) precwatch.Listing {
	if f := fs.vendor; f != nil && f.page && l.Vendor == "" {
		l.Vendor = f.text(root, maxVendor)
	}
	if f := fs.price; f != nil && f.page && l.Price == 0 {
		l.Price, l.Currency = f.price(root)
	}
	if f := fs.currency; f != nil && f.page {
		if raw := f.text(root, maxCurrency); raw != "" {
			l.Currency = currencyCode(raw)
		}
	}
	if f := fs.vendorURL; f != nil && f.page && l.VendorURL == "" {
		if u := resolve(base, f.href(root)); u != nil {
			l.VendorURL = Canonical(u)
		}
	}
	return l
}

// alternatives splits a field rule written as alternatives, each with its
// own attribute ("a.tile @aria-label, img @alt": a card's name in its
// link's label, or else in its picture's alt text), at its commas outside
// brackets, parentheses and quotes. It is nil for any other rule: a CSS
// list of selectors ("h2, h3", or "img, a @title" whose attribute is read
// of every element the list selects) is one rule.
func alternatives(spec string) []string {
	var parts []string
	depth, quote, start := 0, byte(0), 0
	for i := 0; i < len(spec); i++ {
		switch c := spec[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, strings.TrimSpace(spec[start:i]))
			start = i + 1
		}
	}
	parts = append(parts, strings.TrimSpace(spec[start:]))
	if len(parts) < 2 {
		return nil
	}
	for i, p := range parts {
		if i < len(parts)-1 && attrSuffix.MatchString(p) || strings.HasPrefix(p, "column(") {
			return parts
		}
	}
	return nil
}

// valueField reports whether the field named (as the config names it,
// "detail.title" too) is one a listing shows, read by field.read, allText,
// price or href, which take alternatives.
func valueField(name string) bool {
	switch name[strings.LastIndexByte(name, '.')+1:] {
	case "id", "title", "price", "currency", "vendor", "description", "url", "vendor_url":
		return true
	}
	return false
}

func compileSelector(name, css string) (cascadia.Selector, error) {
	css = strings.TrimSpace(css)
	if css == "" {
		return nil, nil
	}
	sel, err := cascadia.Compile(css)
	if err != nil {
		return nil, &FieldError{Field: name, Err: fmt.Errorf("bad selector %q: %w", css, err)}
	}
	return sel, nil
}

func parseMode(name, mode string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(mode)) {
	case "", precwatch.ExtractSelectors:
		return precwatch.ExtractSelectors, nil
	case precwatch.ExtractJSONLD, "json-ld", "schema.org", "microdata", "rdfa":
		return precwatch.ExtractJSONLD, nil
	case precwatch.ExtractJSON:
		return precwatch.ExtractJSON, nil
	}
	return "", &FieldError{Field: name, Err: fmt.Errorf("unknown mode %q (want %q, %q or %q)", mode,
		precwatch.ExtractSelectors, precwatch.ExtractJSONLD, precwatch.ExtractJSON)}
}

// compileFieldSet compiles a field set; top says it is the site's own, not
// its detail rules (next_page is then a JSON path in json mode).
func compileFieldSet(prefix string, r precwatch.Extraction, top bool) (fieldSet, error) {
	var fs fieldSet
	mode, err := parseMode(prefix+"mode", r.Mode)
	if err != nil {
		return fs, err
	}
	if strings.TrimSpace(r.Frame) != "" {
		if top {
			return fs, &FieldError{Field: prefix + "frame", Err: fmt.Errorf("only read on detail pages: put it under detail")}
		}
		if fs.frame, err = compileField(prefix+"frame", r.Frame); err != nil {
			return fs, err
		}
	}
	if !top && r.LoadMore != nil {
		return fs, &FieldError{Field: prefix + "load_more", Err: fmt.Errorf("only read on index pages: put it in the site's extract")}
	}
	if !top && strings.TrimSpace(r.Pages) != "" {
		return fs, &FieldError{Field: prefix + "pages", Err: fmt.Errorf("only read on index pages: put it in the site's extract")}
	}
	fs.minor = r.PriceMinorUnits
	if mode == precwatch.ExtractJSON {
		fs.json, err = compileJSONRules(prefix, r, top)
		if fs.json != nil {
			fs.json.minor = fs.minor
		}
		return fs, err
	}
	if strings.TrimSpace(r.Script) != "" {
		return fs, &FieldError{Field: prefix + "script", Err: fmt.Errorf("only read in mode %q", precwatch.ExtractJSON)}
	}
	fs.jsonld = mode == precwatch.ExtractJSONLD
	if fs.listing, err = compileSelector(prefix+"listing", r.Listing); err != nil {
		return fs, err
	}
	if strings.TrimSpace(r.ListingSiblings) != "" {
		if !top || fs.listing == nil {
			return fs, &FieldError{Field: prefix + "listing_siblings", Err: fmt.Errorf("only read with the site's own listing rule")}
		}
		if fs.siblings, err = compileSelector(prefix+"listing_siblings", r.ListingSiblings); err != nil {
			return fs, err
		}
	}
	for _, f := range []struct {
		name string
		spec string
		dst  **field
	}{
		{"id", r.ID, &fs.id}, {"title", r.Title, &fs.title}, {"price", r.Price, &fs.price},
		{"currency", r.Currency, &fs.currency}, {"vendor", r.Vendor, &fs.vendor},
		{"description", r.Description, &fs.description}, {"url", r.URL, &fs.u},
		{"vendor_url", r.VendorURL, &fs.vendorURL}, {"variants", r.Variants, &fs.variants},
	} {
		if *f.dst, err = compileField(prefix+f.name, f.spec); err != nil {
			return fs, err
		}
	}
	return fs, nil
}

// New compiles rules. Every selector is compiled up front, so a bad one is an
// error naming its field (`extract: field "title": bad selector "div[": ...`;
// detail fields are named "detail.title", link rules "links[0]").
func New(rules precwatch.Extraction) (Extractor, error) {
	e := &extractor{
		rules:   rules,
		relNext: cascadia.MustCompile(`link[rel~=next i][href], a[rel~=next i][href]`),
		anchors: cascadia.MustCompile(`a[href], area[href]`),
		base:    cascadia.MustCompile(`base[href]`),
	}
	var err error
	if e.fields, err = compileFieldSet("", rules, true); err != nil {
		return nil, err
	}
	if e.fields.json == nil { // in json mode next_page is a JSON path
		if e.next, err = compileField("next_page", rules.NextPage); err != nil {
			return nil, err
		}
	}
	if _, err = CompileNumberedPages(rules.Pages); err != nil {
		return nil, err
	}
	if rules.LineItems != "" {
		if e.fields.json != nil {
			return nil, &FieldError{Field: "line_items", Err: fmt.Errorf("read only in selector rules, not in mode %q", precwatch.ExtractJSON)}
		}
		if e.items, err = compileField("line_items", rules.LineItems); err != nil {
			return nil, err
		}
	}
	if g := rules.GraphQL; g != nil {
		switch {
		case e.fields.json == nil:
			return nil, &FieldError{Field: "graphql", Err: fmt.Errorf("read only in mode %q: the answers are JSON", precwatch.ExtractJSON)}
		case strings.TrimSpace(g.Query) == "":
			return nil, &FieldError{Field: "graphql.query", Err: errors.New("required: the query POSTed to each start URL")}
		case e.fields.json.next != nil && strings.TrimSpace(g.Cursor) == "":
			return nil, &FieldError{Field: "graphql.cursor", Err: errors.New("required with next_page: the query's variable the next page's cursor goes into (\"after\")")}
		case e.fields.json.next == nil && g.Cursor != "":
			return nil, &FieldError{Field: "next_page", Err: errors.New("required with graphql.cursor: the JSON path of the next page's cursor (\"data.listings.pageInfo.endCursor\")")}
		}
		if _, err := g.Body(""); err != nil {
			return nil, &FieldError{Field: "graphql.variables", Err: err}
		}
		e.graphql = g
	}
	if rules.LoadMore != nil {
		if e.fields.json != nil {
			return nil, &FieldError{Field: "load_more", Err: fmt.Errorf("not read in mode %q: use next_page there", precwatch.ExtractJSON)}
		}
		if e.more, err = compileLoadMore(rules.LoadMore); err != nil {
			return nil, err
		}
	}
	if e.vendorPage, err = compileSelector("vendor_page", rules.VendorPage); err != nil {
		return nil, err
	}
	for i, l := range rules.Links {
		f, err := compileField(fmt.Sprintf("links[%d]", i), l)
		if err != nil {
			return nil, err
		}
		if f != nil {
			e.links = append(e.links, f)
		}
	}
	e.hasLinks = len(e.links) > 0
	e.foldIDs = rules.IDIgnoreCase
	if rules.Detail != nil {
		d, err := compileFieldSet("detail.", *rules.Detail, false)
		if err != nil {
			return nil, err
		}
		e.detail = &d
		e.follow = true
	}
	return e, nil
}

// Why implements Extractor.
func (e *extractor) Why(doc *goquery.Document) string {
	if doc == nil || len(doc.Nodes) == 0 {
		return "no document"
	}
	root := doc.Nodes[0]
	r := e.rules
	if j := e.fields.json; j != nil {
		docs := j.stateDocs(root)
		if len(docs) == 0 {
			if _, ok := jsonResponse(root); ok {
				return "the JSON answer did not parse"
			}
			scripts := "every inline script"
			if r.Script != "" {
				scripts = fmt.Sprintf("script %q", r.Script)
			}
			return fmt.Sprintf("mode json: %s matched %d element(s), none holding JSON", scripts, len(cascadia.QueryAll(root, j.script)))
		}
		items := j.items(docs)
		if len(items) == 0 {
			return fmt.Sprintf("mode json: listing %q matched no object in the %d JSON document(s) found (a path starts at each document's top: name the keys down to the array, [] for every element)", r.Listing, len(docs))
		}
		return fmt.Sprintf("mode json: listing %q matched %d object(s), but title %q is empty in each", r.Listing, len(items), r.Title)
	}
	if e.fields.jsonld {
		return "mode jsonld: no schema.org Product (JSON-LD, microdata or RDFa) on the page"
	}
	if e.fields.listing == nil {
		return fmt.Sprintf("title %q found no text on the page", r.Title)
	}
	cs := cascadia.QueryAll(root, e.fields.listing)
	if len(cs) == 0 {
		return fmt.Sprintf("listing %q matched no element on the page", r.Listing)
	}
	return fmt.Sprintf("listing %q matched %d element(s), but title %q found no text inside any of them", r.Listing, len(cs), r.Title)
}

// FollowDetails reports whether rules.Detail was set.
func (e *extractor) FollowDetails() bool { return e.follow }

// ReadsJSON reports whether the site's or its detail pages' rules are mode json.
func (e *extractor) ReadsJSON() bool {
	return e.fields.json != nil || e.detail != nil && e.detail.json != nil || e.more != nil
}

// Extract reads listings and links from one page.
func (e *extractor) Extract(doc *goquery.Document, page *url.URL) (Result, error) {
	if doc == nil || page == nil || len(doc.Nodes) == 0 {
		return Result{}, ErrNoDocument
	}
	root := doc.Nodes[0]
	if e.more != nil {
		if body, ok := jsonResponse(root); ok {
			return e.loadMoreAnswer(body, page), nil
		}
	}
	base := e.baseURL(root, page)
	var res Result
	var state []any // mode json: the page's state, decoded once
	if e.fields.json != nil {
		state = e.fields.json.stateDocs(root)
		res.Listings = e.fields.json.listings(state, page, base)
	} else if e.fields.jsonld {
		res.Listings = structuredListings(root, page, base)
		// A site in jsonld mode may still name selectors for pages that
		// publish no structured data.
		if len(res.Listings) == 0 && e.fields.listing != nil {
			res.Listings = e.selectorListings(root, page, base)
		}
	} else {
		res.Listings = e.selectorListings(root, page, base)
	}
	res.Listings = e.finishListings(res.Listings)
	res.NextPages, res.NextPosts, res.Links, res.NextUnfollowed, res.NextFormUnfollowed = e.collectLinks(root, page, base, state)
	return res, nil
}

// loadMoreAnswer reads a "Load more" endpoint's JSON answer: its HTML's
// cards with the site's selectors, and the URL of the cards after them.
func (e *extractor) loadMoreAnswer(body string, page *url.URL) Result {
	var res Result
	doc, next, ok := e.more.answer(body)
	if !ok {
		return res
	}
	if e.fields.jsonld {
		res.Listings = structuredListings(doc, page, page)
	}
	if !e.fields.jsonld || len(res.Listings) == 0 && e.fields.listing != nil {
		res.Listings = e.selectorListings(doc, page, page)
	}
	res.Listings = e.finishListings(res.Listings)
	lc := linkCollector{page: Canonical(page), seen: map[string]bool{}}
	if next != "" {
		lc.add(page, next)
	}
	res.NextPages = lc.out
	return res
}

// finishListings gives a page's listings their final identity: ids
// folded where the site says so, shared session parameters dropped from
// their URLs, duplicates merged.
func (e *extractor) finishListings(ls []precwatch.Listing) []precwatch.Listing {
	if e.foldIDs {
		for i := range ls {
			ls[i].ID = strings.ToLower(ls[i].ID)
		}
	}
	dropSharedSessionParams(ls)
	return dedupListings(ls)
}

// baseURL honours <base href>, against which the page's relative links resolve.
func (e *extractor) baseURL(root *html.Node, page *url.URL) *url.URL {
	if n := cascadia.Query(root, e.base); n != nil {
		href, _ := attr(n, "href")
		if u, err := page.Parse(strings.TrimSpace(href)); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			return u
		}
	}
	return page
}

func (e *extractor) selectorListings(root *html.Node, page, base *url.URL) []precwatch.Listing {
	var containers []*html.Node
	kind := readContainer
	if e.fields.listing == nil {
		containers, kind = []*html.Node{root}, readPage
	} else {
		containers = cascadia.QueryAll(root, e.fields.listing)
		if e.fields.siblings != nil {
			containers = withSiblings(containers, e.fields.siblings)
		}
	}
	var out []precwatch.Listing
	var derived []bool
	if len(containers) > 0 {
		out, derived = make([]precwatch.Listing, 0, len(containers)), make([]bool, 0, len(containers))
	}
	for _, c := range containers {
		if l, d, ok := readListing(&e.fields, c, page, base, kind); ok {
			l = withVariants(&e.fields, c, l)
			l = pageFields(&e.fields, root, base, l)
			if e.items != nil {
				var items []precwatch.Listing
				if l, items = lineItems(e.items, c, l); len(items) > 0 {
					out = append(out, items...)
					derived = append(derived, make([]bool, len(items))...)
				}
			}
			out = append(out, l)
			derived = append(derived, d)
		}
	}
	uniqueIDs(out, derived)
	if len(out) == 0 {
		return nil // as without containers
	}
	return out
}

// maxSiblingNodes bounds the nodes withSiblings copies for one page, so
// that a hostile page's listing rule cannot have it copied over and over.
const maxSiblingNodes = 1 << 20

// withSiblings makes each listing element one with the siblings after it
// that match sel, up to the next listing element: a new element holding
// copies of them in order, with the listing element's attributes (so a
// bare "@data-id" still reads it). The page is left as it is.
func withSiblings(containers []*html.Node, sel cascadia.Selector) []*html.Node {
	isListing := make(map[*html.Node]bool, len(containers))
	for _, c := range containers {
		isListing[c] = true
	}
	budget := maxSiblingNodes
	out := make([]*html.Node, 0, len(containers))
	for _, c := range containers {
		row := &html.Node{Type: html.ElementNode, Data: c.Data, DataAtom: c.DataAtom, Namespace: c.Namespace, Attr: c.Attr}
		row.AppendChild(cloneTree(c, &budget))
		for s := c.NextSibling; s != nil && !isListing[s]; s = s.NextSibling {
			if s.Type == html.ElementNode && sel.Match(s) {
				row.AppendChild(cloneTree(s, &budget))
			}
		}
		out = append(out, row)
	}
	return out
}

// cloneTree copies n and its descendants, iteratively (hostile nesting
// cannot exhaust the stack), while *budget nodes remain: past it the
// copy is cut.
func cloneTree(n *html.Node, budget *int) *html.Node {
	root := &html.Node{Type: n.Type, DataAtom: n.DataAtom, Data: n.Data, Namespace: n.Namespace, Attr: n.Attr}
	type pair struct{ src, dst *html.Node }
	stack := []pair{{n, root}}
	for len(stack) > 0 && *budget > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for c := p.src.FirstChild; c != nil && *budget > 0; c = c.NextSibling {
			*budget--
			d := &html.Node{Type: c.Type, DataAtom: c.DataAtom, Data: c.Data, Namespace: c.Namespace, Attr: c.Attr}
			p.dst.AppendChild(d)
			if c.FirstChild != nil {
				stack = append(stack, pair{c, d})
			}
		}
	}
	return root
}

// readKind says what a readListing context element is.
type readKind int

const (
	readContainer readKind = iota // one listing's container on an index page
	readPage                      // the whole page is one listing (no listing rule)
	readDetail                    // a detail page: only the fields the rules name
)

// readListing reads fs's fields relative to the context element c. A
// container or page without a title yields nothing (ok false); derivedID
// reports an ID derived from the listing's URL.
func readListing(fs *fieldSet, c *html.Node, page, base *url.URL, kind readKind) (l precwatch.Listing, derivedID, ok bool) {
	needTitle := kind != readDetail
	l.Title = oneLine(fs.title.keptText(c, maxTitle))
	if needTitle && l.Title == "" {
		return l, false, false
	}
	l.Description = fs.description.allText(c, maxDescription)
	l.Vendor = fs.vendor.text(c, maxVendor)
	l.Price, l.Currency = fs.price.price(c)
	if fs.currency != nil {
		if raw := fs.currency.text(c, maxCurrency); raw != "" {
			l.Currency = currencyCode(raw)
		}
	}
	if fs.minor {
		l.Price = fromMinorUnits(l.Price, l.Currency)
	}
	fromContainer := false
	if fs.u != nil {
		if u := resolve(base, fs.u.href(c)); u != nil {
			l.URL, fromContainer = Canonical(u), true
		}
	} else if kind == readContainer { // a listing container: its own link
		if u := resolve(base, defaultHref(c, fs.vendor)); u != nil {
			l.URL, fromContainer = Canonical(u), true
		}
	}
	if fs.vendorURL != nil { // vendor profiles (issue 11)
		if u := resolve(base, fs.vendorURL.href(c)); u != nil {
			l.VendorURL = Canonical(u)
		}
	}
	l.ID = fs.id.text(c, maxID)
	if !needTitle {
		return l, false, true // detail: only what the rules named
	}
	if l.URL == "" {
		// The page itself is the listing's only URL; its ID can come from it
		// when the page is this one listing's.
		l.URL, fromContainer = Canonical(page), kind == readPage
	}
	if l.ID == "" {
		derivedID = fallbackID(&l, fromContainer)
	}
	return l, derivedID, true
}

// fallbackID gives a listing the rules found no ID for one: from its own
// URL (ownURL: the listing's link, not the page's), else from its
// content. It reports an ID read from the URL.
func fallbackID(l *precwatch.Listing, ownURL bool) bool {
	if !ownURL {
		l.ID = contentID(*l)
		return false
	}
	if u, err := url.Parse(l.URL); err == nil {
		l.ID = idFromURL(u)
	}
	return l.ID != ""
}

// currencyCode normalises the text of an explicit currency selector.
func currencyCode(raw string) string {
	if code := NormalizeCurrency(raw); code != "" {
		return code
	}
	if len(raw) == 3 && strings.IndexFunc(raw, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') }) < 0 {
		return strings.ToUpper(raw)
	}
	return raw
}

// contentID identifies a listing that has neither an ID nor a URL of its
// own (every listing on the page would share the page's URL) by a hash of
// what does not change when its price does.
func contentID(l precwatch.Listing) string {
	// The title whitespace-collapsed, as it was read before titles kept
	// their whitespace (issue 12): a listing keeps its identity, and its
	// alerts, across that change and across re-spacing by its seller.
	h := sha256.Sum256([]byte(strings.ToLower(Clean(l.Title, maxTitle)) + "\x00" + strings.ToLower(l.Vendor)))
	return "h-" + hex.EncodeToString(h[:8])
}

// nodes returns the elements f selects within c: c itself for an
// attribute-only field, else c's matching descendants.
func (f *field) nodes(c *html.Node) []*html.Node {
	if f.column != "" {
		if cell := f.cell(c); cell != nil {
			return f.inner.nodes(cell)
		}
		return nil
	}
	if f.alts != nil {
		var out []*html.Node
		for _, a := range f.alts {
			out = append(out, a.nodes(c)...)
		}
		return out
	}
	if f.sel == nil {
		return []*html.Node{c}
	}
	return cascadia.QueryAll(c, f.sel)
}

func (f *field) first(c *html.Node) *html.Node {
	if f.column != "" {
		if cell := f.cell(c); cell != nil {
			return f.inner.first(cell)
		}
		return nil
	}
	for _, a := range f.alts {
		if n := a.first(c); n != nil {
			return n
		}
	}
	if f.alts != nil {
		return nil
	}
	if f.sel == nil {
		return c
	}
	return cascadia.Query(c, f.sel)
}

// text reads the field's first non-empty value within c, whitespace
// collapsed.
func (f *field) text(c *html.Node, limit int) string { return f.read(c, limit, false) }

// keptText is text keeping whitespace as written, for the fields the
// matchers read.
func (f *field) keptText(c *html.Node, limit int) string { return f.read(c, limit, true) }

func (f *field) read(c *html.Node, limit int, keep bool) string {
	if f == nil {
		return ""
	}
	if f.column != "" {
		if cell := f.cell(c); cell != nil {
			return f.inner.read(cell, limit, keep)
		}
		return ""
	}
	for _, a := range f.alts {
		if v := a.read(c, limit, keep); v != "" {
			return v
		}
	}
	if f.alts != nil {
		return ""
	}
	if f.attr == "" {
		if n := f.first(c); n != nil {
			return elementText(n, limit, keep)
		}
		return ""
	}
	for _, n := range f.nodes(c) {
		if v, ok := attr(n, f.attr); ok {
			if s := cleanText(v, limit, keep); s != "" {
				return s
			}
		}
	}
	return ""
}

// allText joins the values of every element the field selects, for
// descriptions spread over several paragraphs, whitespace kept as written.
func (f *field) allText(c *html.Node, limit int) string {
	if f == nil {
		return ""
	}
	if f.column != "" {
		if cell := f.cell(c); cell != nil {
			return f.inner.allText(cell, limit)
		}
		return ""
	}
	if f.alts != nil {
		t := newKeptText(limit)
		var seen []string
		column := false
		for _, a := range f.alts {
			// Two columns of one cell (colspan) are written once.
			if v := a.allText(c, limit); v != "" && !slices.Contains(seen, v) {
				seen = append(seen, v)
				if column && a.column != "" {
					// Cells of one row read on one line, as the row
					// shows them, so a strength is read beside the
					// name ("Hydrogen peroxide" | "6 %" | "1 L").
					t.write(" ")
				} else {
					t.sep()
				}
				t.write(v)
				column = a.column != ""
			}
		}
		return t.String()
	}
	t := newKeptText(limit)
	written := map[*html.Node]bool{}
	for _, n := range f.nodes(c) {
		if t.full {
			break
		}
		if f.attr != "" {
			v, _ := attr(n, f.attr)
			t.sep()
			t.write(labelled(strings.TrimPrefix(f.attr, "data-"), v))
			continue
		}
		// A match nested in an earlier one ("div, p") was written with it.
		if insideAny(n, written, c) {
			continue
		}
		written[n] = true
		t.sep()
		appendElementText(t, n)
	}
	return t.String()
}

func insideAny(n *html.Node, set map[*html.Node]bool, stop *html.Node) bool {
	for p := n.Parent; p != nil && p != stop; p = p.Parent {
		if set[p] {
			return true
		}
	}
	return false
}

// elementText is an element's text, or for elements without text (meta,
// input, img) the attribute that carries their value.
func elementText(n *html.Node, limit int, keep bool) string {
	t := newText(limit)
	t.keep = keep
	appendText(t, n)
	if s := t.String(); s != "" {
		return s
	}
	return cleanText(valueAttr(n), limit, keep)
}

// valueAttr is the attribute that carries the value of an element without
// text, or the alt text of the first image inside it (a name shown as a
// picture).
func valueAttr(n *html.Node) string {
	for _, key := range []string{"content", "value", "title", "alt", "aria-label"} {
		if v, ok := attr(n, key); ok && strings.TrimSpace(v) != "" {
			return v
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && !skipElement(c) {
			if c.DataAtom == atom.Img {
				if v, ok := attr(c, "alt"); ok && strings.TrimSpace(v) != "" {
					return v
				}
			}
			if v := valueAttr(c); v != "" {
				return v
			}
		}
	}
	return ""
}

func appendElementText(t *textBuilder, n *html.Node) {
	before := t.len()
	appendText(t, n)
	if t.len() == before {
		t.write(valueAttr(n))
	}
}

// price reads the first value of the field that parses as a price.
func (f *field) price(c *html.Node) (float64, string) {
	if f == nil {
		return 0, ""
	}
	if f.column != "" {
		if cell := f.cell(c); cell != nil {
			return f.inner.price(cell)
		}
		return 0, ""
	}
	for _, a := range f.alts {
		if v, cur := a.price(c); v != 0 || cur != "" {
			return v, cur
		}
	}
	if f.alts != nil {
		return 0, ""
	}
	nodes := f.nodes(c)
	if len(nodes) > 16 {
		nodes = nodes[:16]
	}
	for _, n := range nodes {
		var raw string
		if f.attr != "" {
			raw, _ = attr(n, f.attr)
			raw = Clean(raw, maxPriceText)
		} else {
			raw = priceText(n)
		}
		if v, cur, ok := ParsePrice(raw); ok {
			return v, cur
		}
	}
	return 0, ""
}

// href reads a URL field: the attribute when one is named, else the
// element's own href, the first link inside it, or its text.
func (f *field) href(c *html.Node) string {
	if f == nil {
		return ""
	}
	if f.column != "" {
		if cell := f.cell(c); cell != nil {
			return f.inner.href(cell)
		}
		return ""
	}
	for _, a := range f.alts {
		if v := a.href(c); v != "" {
			return v
		}
	}
	if f.alts != nil {
		return ""
	}
	if f.attr != "" {
		return f.text(c, maxURL)
	}
	n := f.first(c)
	if n == nil {
		return ""
	}
	return linkOf(n)
}

// linkOf is n's href, the first href inside it, or its text.
func linkOf(n *html.Node) string {
	h, _ := linkOrText(n)
	return h
}

// linkOrText is linkOf, and whether it is n's text for want of a link.
func linkOrText(n *html.Node) (string, bool) {
	if h, ok := attr(n, "href"); ok {
		return h, false
	}
	if a := firstLink(n, nil); a != nil {
		h, _ := attr(a, "href")
		return h, false
	}
	return nodeText(n, maxURL), true
}

// urlLike reports whether text written on a page may be a URL: one word
// with a slash, a query, a dot or a scheme ("/c/2", "?p=3",
// "page-3.html"), not a label such as "Next »" or "Next".
func urlLike(text string) bool {
	text = strings.TrimSpace(text)
	return text != "" && !strings.ContainsAny(text, " \t\n") && strings.ContainsAny(text, "/?.=:")
}

// textURL reports whether an element's text is a URL to follow: one word,
// absolute (http, https) or from the host's root ("/c/acids"), not a
// label that merely holds a dot or a slash ("v2.0", "Acids/Bases").
func textURL(text string) bool {
	lower := strings.ToLower(text)
	return urlLike(text) && (strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") ||
		strings.HasPrefix(text, "/") && !strings.HasPrefix(text, "//"))
}

// firstLink is the first element under (or at) n with a followable href,
// skipping those inside skip.
func firstLink(n *html.Node, skip []*html.Node) *html.Node {
	var found *html.Node
	var walk func(*html.Node) bool
	walk = func(x *html.Node) bool {
		for _, s := range skip {
			if x == s {
				return false
			}
		}
		if x.Type == html.ElementNode && (x.DataAtom == atom.A || x.DataAtom == atom.Area) {
			if h, ok := attr(x, "href"); ok && followable(h) {
				found = x
				return true
			}
		}
		for ch := x.FirstChild; ch != nil; ch = ch.NextSibling {
			if walk(ch) {
				return true
			}
		}
		return false
	}
	walk(n)
	return found
}

// defaultHref is the container's own href, else its first link that is not
// the vendor's (a profile link often comes before the item's).
func defaultHref(c *html.Node, vendor *field) string {
	if h, ok := attr(c, "href"); ok && followable(h) {
		return h
	}
	var skip []*html.Node
	if vendor != nil {
		if v := vendor.first(c); v != nil && v != c {
			skip = append(skip, v)
			for p := v.Parent; p != nil && p != c; p = p.Parent {
				if p.DataAtom == atom.A {
					skip = append(skip, p)
				}
			}
		}
	}
	if a := firstLink(c, skip); a != nil {
		h, _ := attr(a, "href")
		return h
	}
	return ""
}

// followable rejects hrefs that lead to no page: script, mail, data and
// fragment-only links.
func followable(h string) bool {
	h = strings.TrimSpace(h)
	if h == "" || strings.HasPrefix(h, "#") {
		return false
	}
	lh := strings.ToLower(h)
	for _, p := range []string{"javascript:", "mailto:", "data:", "tel:", "sms:", "about:", "blob:", "file:", "vbscript:"} {
		if strings.HasPrefix(lh, p) {
			return false
		}
	}
	return true
}

// resolve makes ref absolute against base; nil unless the result is an
// http(s) URL of sane length.
func resolve(base *url.URL, ref string) *url.URL {
	// Browsers strip surrounding whitespace and drop tabs and newlines.
	if strings.ContainsAny(ref, "\t\n\r") {
		ref = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, ref)
	}
	ref = strings.TrimSpace(ref)
	if !followable(ref) || len(ref) > maxURL {
		return nil
	}
	u, err := base.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil
	}
	return u
}

// idLikeParams are query keys that carry an item's identifier.
var idLikeParams = []string{
	"id", "item", "itemid", "item_id", "listing", "listingid", "listing_id", "lid", "product", "productid",
	"product_id", "pid", "offer", "offerid", "offer_id", "ad", "adid", "ad_id", "sku", "article", "art", "aid", "uuid",
}

// genericSegments are path segments that name a page kind, not an item.
var genericSegments = map[string]bool{
	"index": true, "view": true, "show": true, "item": true, "items": true, "product": true, "products": true,
	"listing": true, "listings": true, "offer": true, "offers": true, "detail": true, "details": true, "page": true,
	"p": true, "i": true, "l": true, "ad": true, "ads": true, "shop": true, "store": true, "default": true,
}

// idFromURL derives a listing ID from its URL, so that sites without visible
// IDs still deduplicate: an id-like query parameter, else the last path
// segment that is not a page kind, without a file extension. A segment
// after a numeric one is that number's slug or an action in the site's
// language: the number is the ID ("/listing/201/nitric-acid-65" and
// "/artikel/4713/ansicht" → "201", "4713"). A server script named by its
// query ("/viewtopic.php?t=123", "/showthread.php?t=9") gives none: the
// script's name is every thread's, and the URL, query and all, identifies.
func idFromURL(u *url.URL) string {
	q := u.Query()
	for _, k := range idLikeParams {
		for qk, vs := range q {
			if strings.EqualFold(qk, k) && len(vs) > 0 {
				if v := Clean(vs[0], maxID); v != "" {
					return v
				}
			}
		}
	}
	var segs []string
	script := false // the last segment is a server script's
	for s := range strings.SplitSeq(u.Path, "/") {
		script = false
		if dot := strings.LastIndexByte(s, '.'); dot > 0 {
			switch ext := strings.ToLower(s[dot+1:]); ext {
			case "html", "htm", "php", "asp", "aspx", "jsp", "cgi", "shtml", "xhtml":
				s = s[:dot]
				script = ext != "html" && ext != "htm" && ext != "shtml" && ext != "xhtml"
			}
		}
		if s != "" && !genericSegments[strings.ToLower(s)] {
			segs = append(segs, s)
		}
	}
	if script && canonicalQuery(u.RawQuery) != "" {
		return ""
	}
	if n := len(segs); n > 0 {
		i := n - 1
		if i > 0 && !numeric(segs[i]) && numeric(segs[i-1]) && (i < 2 || !numeric(segs[i-2])) {
			// A number then a slug ("/listing/201/nitric-acid-65"): the
			// number is the listing's ID, the slug its title's; two
			// vendors' ads of one title share the slug, and an edited
			// title changes it. After two numbers ("/2024/05/slug") the
			// numbers are a date and the slug names the page.
			i--
		}
		return Clean(segs[i], maxID)
	}
	return ""
}

func plainWord(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) < 0
}

func numeric(s string) bool {
	return s != "" && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
}

// uniqueIDs undoes derived IDs that turn out to be shared by different
// listings on one page (a path ending in a common word): those listings
// are identified by their URL instead. Rows whose URLs differ only in the
// query and that show the same title are one listing shown twice (a
// sponsored slot's "?promo=top" copy of a grid row) and keep the ID, as
// the incremental crawl compares such URLs without their query; rows of
// one path and different titles (items told apart by a query key that is
// not id-like) are different listings.
func uniqueIDs(ls []precwatch.Listing, derived []bool) {
	first := map[string]int{} // ID -> its first row
	shared := map[string]bool{}
	for i, l := range ls {
		if !derived[i] {
			continue
		}
		j, ok := first[l.ID]
		if !ok {
			first[l.ID] = i
		} else if !sameListing(ls[j], l) {
			shared[l.ID] = true
		}
	}
	for i := range ls {
		if derived[i] && shared[ls[i].ID] {
			ls[i].ID = ""
		}
	}
}

// sameListing reports whether two rows of one page that derive the same ID
// show one listing: the same URL, or URLs of one path and the same title,
// or a numeric ID and the same title and vendor under two paths (one ad
// linked from two categories, "/c/acids/102" and "/c/lab/102": a number
// is the market's own ID, where a slug may be any vendor's).
func sameListing(a, b precwatch.Listing) bool {
	if a.URL == b.URL {
		return true
	}
	if !strings.EqualFold(Clean(a.Title, maxTitle), Clean(b.Title, maxTitle)) {
		return false
	}
	pa, _, _ := strings.Cut(a.URL, "?")
	pb, _, _ := strings.Cut(b.URL, "?")
	return pa == pb || numeric(a.ID) && a.Vendor == b.Vendor
}

// dedupListings merges listings of the same identity (a featured item shown
// twice, JSON-LD and microdata of one product), filling empty fields of the
// first from the later ones.
func dedupListings(ls []precwatch.Listing) []precwatch.Listing {
	if len(ls) < 2 {
		return ls
	}
	// Keyed as Identity is, without building its string.
	type identity struct {
		byURL bool
		key   string
	}
	seen := make(map[identity]int, len(ls))
	// In place: out[i] is written only once ls[i] has been read.
	out := ls[:0]
	for _, l := range ls {
		k := identity{key: l.ID}
		if l.ID == "" {
			k = identity{byURL: true, key: l.URL}
		}
		i, ok := seen[k]
		if !ok {
			seen[k] = len(out)
			out = append(out, l)
			continue
		}
		out[i] = Fill(out[i], l)
	}
	return out
}

// Fill sets dst's empty fields from src.
func Fill(dst, src precwatch.Listing) precwatch.Listing {
	if dst.Title == "" {
		dst.Title = src.Title
	}
	if dst.Description == "" {
		dst.Description = src.Description
	}
	if dst.Vendor == "" {
		dst.Vendor = src.Vendor
	}
	if dst.VendorURL == "" {
		dst.VendorURL = src.VendorURL
	}
	if dst.Price == 0 && src.Price != 0 {
		dst.Price, dst.Currency = src.Price, src.Currency
	}
	if dst.Currency == "" {
		dst.Currency = src.Currency
	}
	return dst
}

// collectLinks gathers the page's links to follow: pagination first, then
// the others.
func (e *extractor) collectLinks(root *html.Node, page, base *url.URL, state []any) (next []string, posts []Submission, links []string, unfollowed string, unfollowedForm bool) {
	lc := linkCollector{page: Canonical(page), seen: map[string]bool{}}
	if j := e.fields.json; j != nil && j.next != nil && e.graphql != nil {
		// The same query again, for the page after each cursor.
		for _, cursor := range j.nextPages(state) {
			if body, err := e.graphql.Body(cursor); err == nil {
				u := *page // fetchURL rewrites it
				lc.addPost(&u, body, true)
			}
		}
	} else if j != nil && j.next != nil {
		for _, ref := range j.nextPages(state) {
			lc.add(base, ref)
		}
	} else if e.next != nil {
		for _, n := range e.next.nodes(root) {
			var ref, why string
			isForm := false
			if e.next.attr != "" {
				ref, _ = attr(n, e.next.attr)
			} else if sub, reason, form := formNext(root, n, page, base); form {
				if sub.Post {
					if u := resolve(base, sub.URL); u != nil {
						lc.addPost(u, sub.Body, false)
						continue
					}
				}
				ref, why, isForm = sub.URL, reason, true
			} else if h, text := linkOrText(n); !text || urlLike(h) {
				// A pager's "Next" shown as a plain label on the last page
				// is no link to a page named "Next".
				ref = h
			}
			if resolve(base, ref) == nil && unfollowed == "" {
				if why == "" {
					why = "no link"
				}
				unfollowed, unfollowedForm = fmt.Sprintf("<%s> (%s)", n.Data, why), isForm
			}
			lc.add(base, ref)
		}
	} else {
		for _, n := range cascadia.QueryAll(root, e.relNext) {
			v, _ := attr(n, "href")
			lc.add(base, v)
		}
	}
	if e.more != nil {
		for _, ref := range e.more.pageCursors(root) {
			lc.add(base, ref)
		}
	}
	n := len(lc.out)
	for _, f := range e.links {
		for _, n := range f.nodes(root) {
			if f.attr != "" {
				v, _ := attr(n, f.attr)
				lc.add(base, v)
			} else if h, ok := attr(n, "href"); ok {
				lc.add(base, h)
			} else if as := cascadia.QueryAll(n, e.anchors); len(as) > 0 {
				// A container (a category menu): every link inside it.
				for _, a := range as {
					v, _ := attr(a, "href")
					lc.add(base, v)
				}
			} else if t := strings.TrimSpace(nodeText(n, maxURL)); textURL(t) {
				// An element whose text is the URL: a sitemap's <loc>.
				lc.add(base, t)
			}
		}
	}
	// A jsonld shop with neither links nor detail rules is explored by
	// its own links. With detail rules its products are rows of the index
	// pages, read as details and skipped when unchanged: following every
	// link as well would fetch each product page again on every run, and
	// the whole site's menus and footers with them.
	// A jsonld page's ItemList names its products' pages, where a shop
	// that renders its cards with a script has no link to them: they are
	// followed on the page's host whatever the other rules say.
	if e.fields.jsonld {
		host := canonicalHost(page.Scheme, page.Host)
		for _, v := range jsonLDListURLs(root) {
			if u := resolve(base, v); u != nil && canonicalHost(u.Scheme, u.Host) == host {
				lc.add(base, v)
			}
		}
	}
	if e.fields.jsonld && !e.hasLinks && !e.follow {
		host := canonicalHost(page.Scheme, page.Host)
		for _, a := range cascadia.QueryAll(root, e.anchors) {
			v, _ := attr(a, "href")
			if u := resolve(base, v); u != nil && canonicalHost(u.Scheme, u.Host) == host {
				lc.add(base, v)
			}
		}
	}
	return lc.out[:n:n], lc.posts, lc.out[n:], unfollowed, unfollowedForm
}

type linkCollector struct {
	page  string
	seen  map[string]bool
	out   []string
	posts []Submission
}

// addPost adds a POST to u with body, once per URL and body: a form's
// urlencoded submission, or with isJSON a JSON body (a GraphQL query).
func (lc *linkCollector) addPost(u *url.URL, body string, isJSON bool) {
	k := "POST " + Canonical(u) + "\x00" + body
	if lc.seen[k] {
		return
	}
	lc.seen[k] = true
	lc.posts = append(lc.posts, Submission{URL: fetchURL(u), Post: true, Body: body, JSON: isJSON})
}

// GraphQLStart is the first request of a start URL for rules with a
// graphql query: its body, and whether there is one.
func GraphQLStart(rules precwatch.Extraction) (string, bool) {
	if rules.GraphQL == nil || rules.Mode != precwatch.ExtractJSON {
		return "", false
	}
	body, err := rules.GraphQL.Body("")
	return body, err == nil
}

// fetchURL is u as it is fetched: scheme and host normalised, fragment
// and user info dropped; the query stays as written, session parameter
// included.
func fetchURL(u *url.URL) string {
	u.Fragment, u.RawFragment, u.User = "", "", nil
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = canonicalHost(u.Scheme, u.Host)
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String()
}

func (lc *linkCollector) add(base *url.URL, ref string) {
	u := resolve(base, ref)
	if u == nil {
		return
	}
	k := Canonical(u)
	if k == lc.page || lc.seen[k] {
		return
	}
	lc.seen[k] = true
	lc.out = append(lc.out, fetchURL(u))
}

// Detail completes l from its detail page.
func (e *extractor) Detail(doc *goquery.Document, page *url.URL, l precwatch.Listing) (precwatch.Listing, error) {
	l, _, err := e.DetailRead(doc, page, l)
	return l, err
}

// DetailFrame returns the URL of the frame the detail rules name on a
// detail page: the selected element's src (or its " @attr"), resolved
// against the page; "" without a frame rule or a frame.
func (e *extractor) DetailFrame(doc *goquery.Document, page *url.URL) string {
	if e.detail == nil || e.detail.frame == nil || doc == nil || page == nil || len(doc.Nodes) == 0 {
		return ""
	}
	root := doc.Nodes[0]
	f := e.detail.frame
	for _, n := range f.nodes(root) {
		key := f.attr
		if key == "" {
			key = "src"
		}
		if v, ok := attr(n, key); ok {
			if u := resolve(e.baseURL(root, page), v); u != nil {
				u.Fragment, u.RawFragment = "", ""
				return u.String()
			}
		}
	}
	return ""
}

// DetailRead completes l from its detail page, and returns what the
// page's rules read.
func (e *extractor) DetailRead(doc *goquery.Document, page *url.URL, l precwatch.Listing) (merged, read precwatch.Listing, err error) {
	merged, read, err = e.detail1(doc, page, l)
	if e.foldIDs {
		merged.ID = strings.ToLower(merged.ID)
	}
	return merged, read, err
}

func (e *extractor) detail1(doc *goquery.Document, page *url.URL, l precwatch.Listing) (merged, read precwatch.Listing, err error) {
	if doc == nil || page == nil || len(doc.Nodes) == 0 {
		return l, read, ErrNoDocument
	}
	root := doc.Nodes[0]
	base := e.baseURL(root, page)
	if e.fields.jsonld || (e.detail != nil && e.detail.jsonld) {
		if p, ok := pickProduct(structuredListings(root, page, base), l, page); ok {
			l, read = override(l, p, false), p
		}
	}
	if e.detail == nil {
		return l, read, nil
	}
	if e.detail.json != nil {
		if d, variants, ok := e.detail.json.detail(root, page, base, l); ok {
			l, read = addVariantLines(override(l, d, true), variants), d
		}
		return l, read, nil
	}
	c := root
	if e.detail.listing != nil {
		if n := cascadia.Query(root, e.detail.listing); n != nil {
			c = n
		}
	}
	d, _, _ := readListing(e.detail, c, page, base, readDetail)
	return withVariants(e.detail, c, override(l, d, true)), d, nil
}

// maxVariants bounds the variants one listing is given lines for.
const maxVariants = 64

// withVariants adds to l's description a line "title — variant" for each
// variant fs's variants rule reads in c (a shop's <select> of sizes and
// strengths: "5 L – 35 %"), so that the matcher reads each strength beside
// the product's name, as it would in a listing per variant: a product
// sold at 3 to 12 % is under the limit, one sold at 12 to 50 % over it.
// An <option value=""> is a select's placeholder ("Choose an option") and
// is left out, as are repeats.
func withVariants(fs *fieldSet, c *html.Node, l precwatch.Listing) precwatch.Listing {
	if fs.variants == nil {
		return l
	}
	return addVariantLines(l, variantLines(fs, c))
}

// variantLines are the variants fs's rule reads in c, placeholders and
// repeats left out, at most maxVariants.
func variantLines(fs *fieldSet, c *html.Node) []string {
	var lines []string
	seen := map[string]bool{}
	for _, n := range fs.variants.nodes(c) {
		if n.Data == "option" {
			if v, ok := attr(n, "value"); ok && strings.TrimSpace(v) == "" {
				continue
			}
		}
		var v string
		if fs.variants.attr != "" {
			raw, _ := attr(n, fs.variants.attr)
			v = cleanText(raw, maxTitle, false)
		} else {
			v = elementText(n, maxTitle, false)
		}
		if key := strings.ToLower(v); v != "" && !seen[key] {
			seen[key] = true
			lines = append(lines, v)
			if len(lines) == maxVariants {
				break
			}
		}
	}
	return lines
}

// addVariantLines adds a line "title — variant" to l's description for
// each of lines.
func addVariantLines(l precwatch.Listing, lines []string) precwatch.Listing {
	if len(lines) == 0 {
		return l
	}
	title := Clean(l.Title, maxTitle)
	var b strings.Builder
	b.WriteString(l.Description)
	for _, v := range lines {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		if title != "" {
			b.WriteString(title)
			b.WriteString(" — ")
		}
		b.WriteString(v)
	}
	l.Description = truncateUTF8(b.String(), maxDescription)
	return l
}

// truncateUTF8 cuts s to at most n bytes, on a rune boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// override sets l's fields from the non-empty ones of d. Identity (ID and
// URL) changes only when the rules named it: a product's sku must not
// replace the ID its index page gave, or a listing would be new each time
// its detail page failed to load.
func override(l, d precwatch.Listing, identity bool) precwatch.Listing {
	if d.Title != "" {
		l.Title = d.Title
	}
	if d.Description != "" {
		l.Description = d.Description
	}
	if d.Vendor != "" {
		l.Vendor = d.Vendor
	}
	if d.VendorURL != "" {
		l.VendorURL = d.VendorURL
	}
	if d.Price != 0 {
		l.Price = d.Price
		if d.Currency != "" {
			l.Currency = d.Currency
		}
	} else if d.Currency != "" && identity {
		l.Currency = d.Currency
	}
	if identity {
		if d.ID != "" {
			l.ID = d.ID
		}
		if d.URL != "" {
			l.URL = d.URL
		}
	} else if l.ID == "" {
		l.ID = d.ID
	}
	return l
}

// pickProduct chooses the product a detail page is about: the one with l's
// URL or ID, else the first.
func pickProduct(ps []precwatch.Listing, l precwatch.Listing, page *url.URL) (precwatch.Listing, bool) {
	if len(ps) == 0 {
		return precwatch.Listing{}, false
	}
	pageURL := Canonical(page)
	for _, p := range ps {
		if (l.URL != "" && p.URL == l.URL) || (l.ID != "" && p.ID == l.ID) {
			return p, true
		}
	}
	for _, p := range ps {
		if p.URL == pageURL {
			return p, true
		}
	}
	return ps[0], true
}
