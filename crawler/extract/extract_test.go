package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"go.yaml.in/yaml/v3"

	"github.com/precwatch/precwatch"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current output")

// goldenCase is testdata/<name>.rules.yaml: the page's URL, the site's
// extraction rules and, for detail pages, the listing Detail completes.
type goldenCase struct {
	URL         string               `yaml:"url"`
	Extract     precwatch.Extraction `yaml:"extract"`
	DetailInput *struct {
		ID       string  `yaml:"id"`
		URL      string  `yaml:"url"`
		Title    string  `yaml:"title"`
		Price    float64 `yaml:"price"`
		Currency string  `yaml:"currency"`
		Vendor   string  `yaml:"vendor"`
	} `yaml:"detail_input"`
}

// golden is testdata/<name>.golden.json.
type golden struct {
	Listings []precwatch.Listing `json:"listings"`
	Links    []string            `json:"links"`
	Detail   *precwatch.Listing  `json:"detail,omitempty"`
}

func loadCase(t testing.TB, name string) (goldenCase, *goquery.Document, *url.URL, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c goldenCase
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s.rules.yaml: %v", name, err)
	}
	page, err := os.ReadFile(filepath.Join("testdata", name+".html"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c, doc, u, page
}

func caseNames(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".html"))
	}
	if len(names) < 8 {
		t.Fatalf("found %d golden cases, want at least 8", len(names))
	}
	return names
}

func TestGolden(t *testing.T) {
	for _, name := range caseNames(t) {
		t.Run(name, func(t *testing.T) {
			c, doc, page, _ := loadCase(t, name)
			ex, err := New(c.Extract)
			if err != nil {
				t.Fatal(err)
			}
			res, err := ex.Extract(doc, page)
			if err != nil {
				t.Fatal(err)
			}
			got := golden{Listings: res.Listings, Links: append(res.NextPages, res.Links...)}
			if c.DetailInput != nil {
				in := precwatch.Listing{ID: c.DetailInput.ID, URL: c.DetailInput.URL, Title: c.DetailInput.Title,
					Price: c.DetailInput.Price, Currency: c.DetailInput.Currency, Vendor: c.DetailInput.Vendor}
				d, err := ex.Detail(doc, page, in)
				if err != nil {
					t.Fatal(err)
				}
				got.Detail = &d
			}
			checkInvariants(t, got)
			out, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, '\n')
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(path, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./crawler/extract -update to create it)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("%s differs from golden (go test ./crawler/extract -update to accept):\n--- got\n%s\n--- want\n%s", name, out, want)
			}
		})
	}
}

// checkInvariants holds for every page, whatever its markup.
func checkInvariants(t *testing.T, g golden) {
	t.Helper()
	ls := g.Listings
	if g.Detail != nil {
		ls = append(slices.Clip(ls), *g.Detail)
	}
	for _, l := range ls {
		for name, v := range map[string]struct {
			s   string
			max int
		}{"id": {l.ID, maxID}, "title": {l.Title, maxTitle}, "vendor": {l.Vendor, maxVendor},
			"description": {l.Description, maxDescription}, "currency": {l.Currency, maxCurrency}, "url": {l.URL, maxURL}} {
			if !utf8.ValidString(v.s) {
				t.Errorf("listing %q: %s is not valid UTF-8: %q", l.Title, name, v.s)
			}
			if len(v.s) > v.max {
				t.Errorf("listing %q: %s is %d bytes, limit %d", l.Title, name, len(v.s), v.max)
			}
			if name == "title" || name == "description" {
				// Kept as written (see textBuilder): trimmed, runs of spaces
				// bounded, a line break never next to other whitespace.
				if v.s != strings.TrimSpace(v.s) || strings.Contains(v.s, strings.Repeat(" ", maxSpaceRun+1)) ||
					strings.ContainsAny(v.s, "\r\x00") || regexp.MustCompile(`\s\n|\n\s`).MatchString(v.s) {
					t.Errorf("listing %q: %s whitespace not kept tidily: %q", l.Title, name, v.s)
				}
			} else if v.s != strings.TrimSpace(v.s) || strings.Contains(v.s, "  ") || strings.ContainsAny(v.s, "\n\t\r\x00") {
				t.Errorf("listing %q: %s not whitespace-collapsed: %q", l.Title, name, v.s)
			}
		}
		if l.Title == "" {
			t.Errorf("listing without title: %+v", l)
		}
		if l.Site != "" {
			t.Errorf("listing %q: Site = %q, want empty", l.Title, l.Site)
		}
		checkURL(t, l.URL)
		if u, _ := url.Parse(l.URL); u != nil && Canonical(u) != l.URL {
			t.Errorf("listing URL %q is not canonical (%q)", l.URL, Canonical(u))
		}
	}
	seen := map[string]bool{}
	for _, link := range g.Links {
		checkURL(t, link)
		u, _ := url.Parse(link)
		if u == nil {
			continue
		}
		if u.Fragment != "" {
			t.Errorf("link %q keeps its fragment", link)
		}
		if k := Canonical(u); seen[k] {
			t.Errorf("link %q appears twice", link)
		} else {
			seen[k] = true
		}
	}
}

func checkURL(t *testing.T, s string) {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		t.Errorf("%q is not an absolute http(s) URL", s)
	}
}

func TestNewBadSelector(t *testing.T) {
	tests := []struct {
		rules precwatch.Extraction
		field string
	}{
		{precwatch.Extraction{Listing: "div.card", Title: "div["}, `field "title": bad selector "div["`},
		{precwatch.Extraction{Listing: "div..x"}, `field "listing"`},
		{precwatch.Extraction{Listing: "li", Price: "span:nope(1) @content"}, `field "price": bad selector "span:nope(1)"`},
		{precwatch.Extraction{NextPage: "a[rel=next"}, `field "next_page"`},
		{precwatch.Extraction{Links: []string{"nav a", ")"}}, `field "links[1]"`},
		{precwatch.Extraction{Detail: &precwatch.Extraction{Description: "p >"}}, `field "detail.description"`},
		{precwatch.Extraction{Mode: "xpath"}, `field "mode": unknown mode "xpath"`},
		// Mode json: paths and templates, and the scripts' selector.
		{precwatch.Extraction{Mode: "json", Listing: "props..products"}, `field "listing": JSON path "props..products": empty key`},
		{precwatch.Extraction{Mode: "json", Title: "a[x]"}, `field "title": JSON path "a[x]"`},
		{precwatch.Extraction{Mode: "json", Title: "name", ID: "a[0"}, `field "id": JSON path "a[0": unclosed [`},
		{precwatch.Extraction{Mode: "json", URL: "/p/{slug"}, `field "url": template "/p/{slug"`},
		{precwatch.Extraction{Mode: "json", URL: "/p/slug}"}, `field "url": template "/p/slug}"`},
		{precwatch.Extraction{Mode: "json", Description: "a, ,b"}, `field "description": empty JSON path`},
		{precwatch.Extraction{Mode: "json", NextPage: `a["x]`}, `field "next_page": JSON path`},
		{precwatch.Extraction{Mode: "json", Script: "script#"}, `field "script": bad selector`},
		{precwatch.Extraction{Listing: "li", Script: "script"}, `field "script": only read in mode "json"`},
		{precwatch.Extraction{Mode: "json", Detail: &precwatch.Extraction{Mode: "json", Vendor: "a.[b"}}, `field "detail.vendor"`},
	}
	for _, tt := range tests {
		_, err := New(tt.rules)
		if err == nil {
			t.Errorf("New(%+v) = nil error, want one naming %s", tt.rules, tt.field)
			continue
		}
		if !strings.HasPrefix(err.Error(), "extract: ") || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("New(%+v) error %q, want it to contain %q", tt.rules, err, tt.field)
		}
	}
}

func TestFollowDetails(t *testing.T) {
	for _, tt := range []struct {
		rules precwatch.Extraction
		want  bool
	}{
		{precwatch.Extraction{Listing: "li", Title: "a"}, false},
		{precwatch.Extraction{Listing: "li", Title: "a", Detail: &precwatch.Extraction{Title: "h1"}}, true},
		{precwatch.Extraction{Mode: precwatch.ExtractJSONLD}, false},
	} {
		ex, err := New(tt.rules)
		if err != nil {
			t.Fatal(err)
		}
		if got := ex.FollowDetails(); got != tt.want {
			t.Errorf("FollowDetails() for %+v = %v, want %v", tt.rules, got, tt.want)
		}
	}
}

func TestNilDocument(t *testing.T) {
	ex, err := New(precwatch.Extraction{Listing: "li", Title: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ex.Extract(nil, &url.URL{Scheme: "http", Host: "x.test"}); !errors.Is(err, ErrNoDocument) {
		t.Errorf("Extract(nil) error = %v, want ErrNoDocument", err)
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader("<p>x</p>"))
	if _, err := ex.Detail(doc, nil, precwatch.Listing{}); !errors.Is(err, ErrNoDocument) {
		t.Errorf("Detail(nil page) error = %v, want ErrNoDocument", err)
	}
}

// TestDetailWithoutRules checks that selector mode without Detail rules
// leaves a listing exactly as it was.
func TestDetailWithoutRules(t *testing.T) {
	ex, err := New(precwatch.Extraction{Listing: "div.card", Title: "h3"})
	if err != nil {
		t.Fatal(err)
	}
	_, doc, page, _ := loadCase(t, "detail_page")
	in := precwatch.Listing{ID: "1", URL: "http://x.onion/listing/1", Title: "t", Price: 3, Currency: "EUR"}
	got, err := ex.Detail(doc, page, in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in) {
		t.Errorf("Detail without rules changed the listing: %+v", got)
	}
}

func TestTextHygiene(t *testing.T) {
	tests := []struct{ html, want string }{
		{"<h1> a \n\t b </h1>", "a b"},
		{"<h1>a<script>x()</script>b<style>p{}</style>c</h1>", "abc"},
		{"<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>", "<script>alert(1)</script>"},
		{"<h1><td>a</td><td>b</td></h1>", "ab"},
		{"<h1><p>a</p><p>b</p>c<br>d</h1>", "a b c d"},
		{"<h1>12<span>,90</span> €</h1>", "12,90 €"},
		{"<h1>zero\u200bwidth\u00adsoft\u202eRTL\u202c</h1>", "zerowidthsoftRTL"},
		{"<h1>a\u00a0\u2003b</h1>", "a b"},
	}
	for _, tt := range tests {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(tt.html))
		if err != nil {
			t.Fatal(err)
		}
		n := doc.Find("h1").Nodes
		if len(n) == 0 {
			t.Fatalf("no h1 in %q", tt.html)
		}
		if got := nodeText(n[0], 1024); got != tt.want {
			t.Errorf("nodeText(%q) = %q, want %q", tt.html, got, tt.want)
		}
	}
	// Titles and descriptions keep whitespace as written, for the matchers
	// (issue 12): runs of spaces (bounded), line breaks, word-breaking
	// invisible characters; bidirectional controls still go.
	kept := []struct{ html, want string }{
		{"<h1> a \n\t b </h1>", "a\nb"},
		{"<h1>h y d r o   p e r o x i d e</h1>", "h y d r o   p e r o x i d e"},
		{"<h1><p>a</p><p>b</p>c<br>d</h1>", "a\nb\nc\nd"},
		{"<h1>a <p> b</p></h1>", "a\nb"},
		{"<h1>zero\u200bwidth\u00adsoft\u202eRTL\u202c</h1>", "zero\u200bwidth\u00adsoftRTL"},
		{"<h1>a\u00a0\u2003b\tc</h1>", "a\u00a0\u2003b\tc"},
		{"<h1>a" + strings.Repeat(" ", 50) + "b</h1>", "a" + strings.Repeat(" ", maxSpaceRun) + "b"},
		{"<h1>a \u2028 b\r\nc</h1>", "a\nb\nc"},
	}
	for _, tt := range kept {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(tt.html))
		if err != nil {
			t.Fatal(err)
		}
		if got := keptNodeText(doc.Find("h1").Nodes[0], 1024); got != tt.want {
			t.Errorf("keptNodeText(%q) = %q, want %q", tt.html, got, tt.want)
		}
	}
	// A listing identified by its content keeps the ID it had when titles
	// were whitespace-collapsed.
	spaced := precwatch.Listing{Title: "Acetone\n99%  \u200b5 L", Vendor: "v"}
	if got, want := contentID(spaced), contentID(precwatch.Listing{Title: "Acetone 99% 5 L", Vendor: "v"}); got != want {
		t.Errorf("contentID of a re-spaced title = %s, want %s", got, want)
	}
	if got, want := keptClean("  h y d r o\n\n  x  ", 100), "h y d r o\nx"; got != want {
		t.Errorf("keptClean = %q, want %q", got, want)
	}
	// Bounded on a rune boundary.
	if got := Clean(strings.Repeat("é", 600), maxTitle); len(got) > maxTitle || !utf8.ValidString(got) || len(got) < maxTitle-1 {
		t.Errorf("clean bounded to %d bytes (valid %v), want <= %d", len(got), utf8.ValidString(got), maxTitle)
	}
	if got, want := Clean("a\xffb\x00c", 100), "a\uFFFDbc"; got != want {
		t.Errorf("clean invalid UTF-8 = %q, want %q", got, want)
	}
}

// TestHostileLimits feeds a page whose description is far beyond the
// bound and nests elements deeply.
func TestHostileLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("<div class=l><h2>t</h2><div class=d>")
	for range 400 { // the parser refuses more than 512 open elements
		b.WriteString("<span>")
	}
	b.WriteString(strings.Repeat("word ", 40000))
	b.WriteString("</div></div>")
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := New(precwatch.Extraction{Listing: "div.l", Title: "h2", Description: "div.d"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ex.Extract(doc, &url.URL{Scheme: "http", Host: "h.onion", Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Listings) != 1 {
		t.Fatalf("got %d listings, want 1", len(res.Listings))
	}
	if d := res.Listings[0].Description; len(d) > maxDescription || len(d) < maxDescription-8 {
		t.Errorf("description is %d bytes, want just under %d", len(d), maxDescription)
	}
}

// FuzzExtract checks that no page, however broken, makes either mode (or
// Detail) panic, and that what comes out keeps the invariants.
func FuzzExtract(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.html"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<script type="application/ld+json">{"@graph":[{"@id":"a","@type":"Product","name":"x","offers":{"@id":"a"}}]}</script>`))
	f.Add([]byte(`<div itemscope itemtype="schema.org/Product"><span itemprop="name offers" itemscope>x</span></div>`))
	f.Add([]byte(`<div class="card"><h3>x</h3><a href="http://[::1">y</a><base href="javascript:1"></div>`))
	f.Fuzz(func(t *testing.T, data []byte) { runOne(t, data) })
}

var (
	fuzzSelectors = mustNew(precwatch.Extraction{Listing: "div, li, tr, article, dl", Title: "h1, h2, h3, h4, .title, .t, dd, td", Price: ".price, .p, td", Vendor: ".vendor, .v",
		Description: "p", ID: "@data-id", NextPage: "a.next, a[rel=next]", Links: []string{"nav"},
		Detail: &precwatch.Extraction{Listing: "main", Title: "h1", Price: ".price @content", Mode: "jsonld"}})
	fuzzJSONLD = mustNew(precwatch.Extraction{Mode: precwatch.ExtractJSONLD})
	fuzzJSON   = mustNew(precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "props.pageProps.products[], catalog.items.*, [], *",
		ID: "id, sku", Title: "name, title", Price: "price.amount, price", Currency: "price.currency", Vendor: "seller.handle, vendor.name",
		Description: "shortDescription, body, tags, specs[].text", URL: "/p/{slug}", NextPage: "props.pageProps.pagination.next",
		Detail: &precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "props.pageProps.product", Description: "specs[].text", VendorURL: "seller.url"}})
)

func mustNew(r precwatch.Extraction) Extractor {
	ex, err := New(r)
	if err != nil {
		panic(err)
	}
	return ex
}

// runOne extracts data in both modes and checks the invariants.
func runOne(t *testing.T, data []byte) {
	page := &url.URL{Scheme: "http", Host: "fuzz.onion", Path: "/c/1"}
	selectors, jsonld, state := fuzzSelectors, fuzzJSONLD, fuzzJSON
	{
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, ex := range []Extractor{selectors, jsonld, state} {
			res, err := ex.Extract(doc, page)
			if err != nil {
				t.Fatal(err)
			}
			g := golden{Listings: res.Listings, Links: append(res.NextPages, res.Links...)}
			if len(res.Listings) > 0 {
				d, err := ex.Detail(doc, page, res.Listings[0])
				if err != nil {
					t.Fatal(err)
				}
				g.Detail = &d
			}
			checkInvariants(t, g)
		}
	}
}

// BenchmarkExtract measures parse + extract of the testdata pages of each
// mode, every page with its own case's rules as a crawl would have them.
func BenchmarkExtract(b *testing.B) {
	type page struct {
		raw []byte
		u   *url.URL
		ex  Extractor
	}
	byMode := map[string][]page{}
	for _, name := range caseNames(b) {
		c, _, u, raw := loadCase(b, name)
		ex, err := New(c.Extract)
		if err != nil {
			b.Fatal(err)
		}
		mode := "selectors"
		if c.Extract.Mode == precwatch.ExtractJSONLD || c.Extract.Mode == precwatch.ExtractJSON {
			mode = c.Extract.Mode
		}
		byMode[mode] = append(byMode[mode], page{raw, u, ex})
	}
	for _, mode := range []string{"selectors", "jsonld"} {
		pages := byMode[mode]
		b.Run(mode, func(b *testing.B) {
			total := 0
			for _, p := range pages {
				total += len(p.raw)
			}
			b.SetBytes(int64(total / len(pages)))
			b.ReportAllocs()
			listings := 0
			i := 0
			for b.Loop() {
				p := pages[i%len(pages)]
				doc, err := goquery.NewDocumentFromReader(bytes.NewReader(p.raw))
				if err != nil {
					b.Fatal(err)
				}
				res, err := p.ex.Extract(doc, p.u)
				if err != nil {
					b.Fatal(err)
				}
				listings += len(res.Listings)
				i++
			}
			if listings == 0 {
				b.Fatal("no listings extracted")
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
		})
	}
}

// TestJSONLDAndMicrodataMerge checks that one product published both ways
// is one listing, with fields from both.
func TestJSONLDAndMicrodataMerge(t *testing.T) {
	page := `<script type="application/ld+json">{"@type":"Product","name":"Acetone 1 L","sku":"A1","offers":{"price":"9.50","priceCurrency":"EUR"}}</script>
	<div itemscope itemtype="https://schema.org/Product"><meta itemprop="sku" content="A1"><span itemprop="name">Acetone 1 L</span>
	<div itemprop="offers" itemscope itemtype="https://schema.org/Offer"><span itemprop="seller">LabPure</span><span itemprop="price">9.50</span></div></div>`
	l := jsonLDOne(t, page, "/p/a1")
	if l.ID != "A1" || l.Price != 9.5 || l.Currency != "EUR" || l.Vendor != "LabPure" || l.URL != "https://shop.test/p/a1" {
		t.Errorf("merged listing = %+v", l)
	}
}

// TestJSONLDAggregateOfferSeller checks that a product whose AggregateOffer
// states the price range takes its seller from the offers aggregated, as
// shops publishing several offers of one product write it.
func TestJSONLDAggregateOfferSeller(t *testing.T) {
	page := `<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"Potassium nitrate 500 g","sku":"KN5",
	"offers":{"@type":"AggregateOffer","lowPrice":"6.50","highPrice":"19.50","priceCurrency":"EUR","offerCount":2,
	"offers":[{"@type":"Offer","price":"6.50","priceCurrency":"EUR","url":"https://shop.test/p/kn5?o=1","seller":{"@type":"Organization","name":"PantryChem"}}]}}</script>`
	if l := jsonLDOne(t, page, "/p/kn5"); l.Vendor != "PantryChem" || l.Price != 6.5 || l.Currency != "EUR" {
		t.Errorf("listing = %+v, want vendor PantryChem, 6.50 EUR", l)
	}
}

// jsonLDOne extracts page, served at https://shop.test+path, in jsonld
// mode and returns its one listing.
func jsonLDOne(t *testing.T, page, path string) precwatch.Listing {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := New(precwatch.Extraction{Mode: precwatch.ExtractJSONLD})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ex.Extract(doc, &url.URL{Scheme: "https", Host: "shop.test", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Listings) != 1 {
		t.Fatalf("got %d listings, want 1: %+v", len(res.Listings), res.Listings)
	}
	return res.Listings[0]
}

// TestVariants checks the variants rule: each variant a shop offers (a
// <select>'s options, a data attribute) becomes a line "title — variant"
// of the description, on index rows and on detail pages (jsonld too),
// without the select's placeholder or repeats.
func TestVariants(t *testing.T) {
	const wooProduct = `<html><head><script type="application/ld+json">{"@context":"https://schema.org/","@graph":[{"@type":"Product","name":"Hydrogen peroxide solution",` +
		`"description":"Technical grade, stabilised.","offers":[{"@type":"AggregateOffer","lowPrice":"12.90","highPrice":"189.00","priceCurrency":"EUR"}]}]}</script></head><body>` +
		`<h1 class="product_title">Hydrogen peroxide solution</h1><form class="variations_form cart"><select name="attribute_pa_size">` +
		`<option value="">Choose an option</option><option value="1-l-12">1 L – 12 %</option><option value="5-l-35">5 L – 35 %</option>` +
		`<option value="25-l-50">25 L – 50 %</option><option value="5-l-35">5 L – 35 %</option></select></form></body></html>`
	page := &url.URL{Scheme: "http", Host: "shop.test", Path: "/product/hp/"}
	for _, tt := range []struct {
		name   string
		rules  precwatch.Extraction
		body   string
		detail bool
		want   string // the description
	}{
		{"detail jsonld, select options", precwatch.Extraction{Listing: "li", Title: "img @alt",
			Detail: &precwatch.Extraction{Mode: precwatch.ExtractJSONLD, Variants: "form.variations_form select option"}}, wooProduct, true,
			"Technical grade, stabilised.\nHydrogen peroxide solution — 1 L – 12 %\nHydrogen peroxide solution — 5 L – 35 %\nHydrogen peroxide solution — 25 L – 50 %"},
		{"index rows, an attribute", precwatch.Extraction{Listing: "li", Title: "h2", Description: "p", Variants: "span.v @data-size"},
			`<ul><li><h2>Cream developer (hydrogen peroxide)</h2><p>For hair colour.</p><span class="v" data-size="1 L 6 %"></span><span class="v" data-size=" 1 L   12 % "></span></li></ul>`, false,
			"For hair colour.\nCream developer (hydrogen peroxide) — 1 L 6 %\nCream developer (hydrogen peroxide) — 1 L 12 %"},
		{"no variants", precwatch.Extraction{Listing: "li", Title: "h2", Description: "p", Variants: "select option"},
			`<ul><li><h2>Nitrile gloves</h2><p>Box of 100.</p></li></ul>`, false, "Box of 100."},
		{"without a description", precwatch.Extraction{Listing: "li", Title: "h2", Variants: "option"},
			`<ul><li><h2>Acetone</h2><select><option>1 L</option><option>5 L</option></select></li></ul>`, false, "Acetone — 1 L\nAcetone — 5 L"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ex, err := New(tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			var got precwatch.Listing
			if tt.detail {
				got, err = ex.Detail(doc, page, precwatch.Listing{ID: "1", URL: page.String(), Title: "Hydrogen peroxide solution"})
			} else {
				var res Result
				res, err = ex.Extract(doc, page)
				if err == nil && len(res.Listings) != 1 {
					t.Fatalf("%d listings, want 1", len(res.Listings))
				}
				if err == nil {
					got = res.Listings[0]
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Description != tt.want {
				t.Errorf("description = %q, want %q", got.Description, tt.want)
			}
		})
	}
	if _, err := New(precwatch.Extraction{Listing: "li", Title: "h2", Variants: "option["}); err == nil || !strings.Contains(err.Error(), "variants") {
		t.Errorf("a bad variants selector: %v, want an error naming variants", err)
	}
}

// TestDetailFrame: a detail rule's frame is the selected element's src (or
// the attribute named), resolved against the page and its <base>; the
// site's own rules may not name one.
func TestDetailFrame(t *testing.T) {
	page, _ := url.Parse("http://exporter.onion/product/1010.html")
	for _, tc := range []struct {
		rule, html, want string
	}{
		{"iframe", `<iframe src="/detail_frame.html?id=1010#top"></iframe>`, "http://exporter.onion/detail_frame.html?id=1010"},
		{"iframe.desc", `<iframe class="ad" src="http://ads.example/x"></iframe><iframe class="desc" src="frame/1010"></iframe>`, "http://exporter.onion/product/frame/1010"},
		{"iframe @data-src", `<iframe data-src="/lazy/1010" src="about:blank"></iframe>`, "http://exporter.onion/lazy/1010"},
		{"iframe", `<base href="http://exporter.onion/cn/"><iframe src="d.html"></iframe>`, "http://exporter.onion/cn/d.html"},
		{"iframe", `<iframe src="javascript:void(0)"></iframe>`, ""},
		{"iframe", `<p>no frame</p>`, ""},
	} {
		ex, err := New(precwatch.Extraction{Listing: "li", Title: "h2", Detail: &precwatch.Extraction{Frame: tc.rule, Description: "p"}})
		if err != nil {
			t.Fatal(err)
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(tc.html))
		if err != nil {
			t.Fatal(err)
		}
		if got := ex.DetailFrame(doc, page); got != tc.want {
			t.Errorf("%s on %s: frame %q, want %q", tc.rule, tc.html, got, tc.want)
		}
	}
	if _, err := New(precwatch.Extraction{Listing: "li", Title: "h2", Frame: "iframe"}); err == nil || !strings.Contains(err.Error(), `"frame"`) {
		t.Errorf("frame in the site's rules: %v, want an error naming it", err)
	}
	if _, err := New(precwatch.Extraction{Listing: "li", Title: "h2", Detail: &precwatch.Extraction{Frame: "iframe["}}); err == nil || !strings.Contains(err.Error(), "detail.frame") {
		t.Errorf("bad frame selector: %v, want an error naming detail.frame", err)
	}
}

// TestListingSiblings: listing_siblings leaves the page as it was (a
// second read gives the same rows) and is refused without the site's own
// listing rule.
func TestListingSiblings(t *testing.T) {
	c, doc, page, _ := loadCase(t, "dtdd_rows")
	ex, err := New(c.Extract)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := goquery.OuterHtml(doc.Selection)
	first, err := ex.Extract(doc, page)
	if err != nil {
		t.Fatal(err)
	}
	second, _ := ex.Extract(doc, page)
	after, _ := goquery.OuterHtml(doc.Selection)
	if before != after || !reflect.DeepEqual(first, second) || len(first.Listings) != 3 {
		t.Errorf("page changed %v, reads differ %v, %d rows", before != after, !reflect.DeepEqual(first, second), len(first.Listings))
	}
	for _, r := range []precwatch.Extraction{
		{Title: "a", ListingSiblings: "dd"},
		{Listing: "dt", Title: "a", Detail: &precwatch.Extraction{Listing: "dt", ListingSiblings: "dd"}},
	} {
		if _, err := New(r); err == nil || !strings.Contains(err.Error(), "listing_siblings") {
			t.Errorf("%+v: %v, want an error naming listing_siblings", r, err)
		}
	}
}

// TestDerivedIDRepeatedRow: a sponsored slot repeating a grid row under its
// own query is one listing with the ID its URL gives; rows that only share
// a path's common last word, or one path told apart by a query key, are
// identified by their URLs.
func TestDerivedIDRepeatedRow(t *testing.T) {
	ex, err := New(precwatch.Extraction{Listing: "div.card", Title: "a.t", URL: "a.t @href"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(`<html><body>
<aside><div class="card"><a class="t" href="/c/chemicals/item/8812?promo=top">Nitromethane 98 % 1 L</a></div></aside>
<div class="card"><a class="t" href="/c/chemicals/item/8812">Nitromethane 98 % 1 L</a></div>
<div class="card"><a class="t" href="/c/chemicals/item/8813">Hydrogen peroxide 50 % 10 L</a></div>
<div class="card"><a class="t" href="/u/alice/buy">Beaker set</a></div>
<div class="card"><a class="t" href="/u/bob/buy">Beaker set</a></div>
<div class="card"><a class="t" href="/shop/catalog?prod=5">Glass funnel</a></div>
<div class="card"><a class="t" href="/shop/catalog?prod=6">Steel spatula</a></div>
</body></html>`))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := url.Parse("http://m.onion/c/chemicals?offset=0&limit=20")
	res, err := ex.Extract(doc, page)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range res.Listings {
		got = append(got, l.Identity())
	}
	want := []string{
		"id:8812", "id:8813",
		"url:http://m.onion/u/alice/buy", "url:http://m.onion/u/bob/buy",
		"url:http://m.onion/shop/catalog?prod=5", "url:http://m.onion/shop/catalog?prod=6",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("identities %q, want %q", got, want)
	}
}
