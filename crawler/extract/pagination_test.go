package extract

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/precwatch/precwatch"
)

// TestPaginationApartFromLinks checks that next-page links come in
// NextPages and only there, so the crawler can leave them out of depth.
func TestPaginationApartFromLinks(t *testing.T) {
	page := &url.URL{Scheme: "http", Host: "market.onion", Path: "/cat/1"}
	body := `<a class="next" href="/cat/1?p=2">next</a><a class="cat" href="/cat/2">cat 2</a>` +
		`<a class="cat" href="/cat/1?p=2#top">page 2 again</a><a rel="next" href="/rel-next">r</a>`
	cases := []struct {
		name       string
		rules      precwatch.Extraction
		next, rest []string
	}{
		{"next_page selector", precwatch.Extraction{Listing: "div", Title: "h2", NextPage: "a.next @href", Links: []string{"a.cat @href"}},
			[]string{"http://market.onion/cat/1?p=2"}, []string{"http://market.onion/cat/2"}},
		{"rel=next", precwatch.Extraction{Listing: "div", Title: "h2", Links: []string{"a.cat @href"}},
			[]string{"http://market.onion/rel-next"}, []string{"http://market.onion/cat/2", "http://market.onion/cat/1?p=2"}},
		{"jsonld same-host links", precwatch.Extraction{Mode: precwatch.ExtractJSONLD, NextPage: "a.next @href"},
			[]string{"http://market.onion/cat/1?p=2"}, []string{"http://market.onion/cat/2", "http://market.onion/rel-next"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ex, err := New(c.rules)
			if err != nil {
				t.Fatal(err)
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			res, err := ex.Extract(doc, page)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.NextPages, c.next) {
				t.Errorf("NextPages = %q, want %q", res.NextPages, c.next)
			}
			if !slices.Equal(res.Links, c.rest) {
				t.Errorf("Links = %q, want %q", res.Links, c.rest)
			}
		})
	}
}

// TestNumberedPages checks the `pages` template: page 2 after a start URL
// (or any page that is not one of the template's), n+1 after page n,
// resolved against the page, and bad templates refused.
func TestNumberedPages(t *testing.T) {
	for _, c := range []struct {
		name, tmpl, page string
		next             string
		n                int // the page's own number, 0: not a template page
	}{
		{"start page", "/ajax/more?page={n}&sort=trending", "http://shop.onion/catalog/", "http://shop.onion/ajax/more?page=2&sort=trending", 0},
		{"page 2", "/ajax/more?page={n}&sort=trending", "http://shop.onion/ajax/more?page=2&sort=trending", "http://shop.onion/ajax/more?page=3&sort=trending", 2},
		{"page 9 to 10", "/ajax/more?page={n}", "http://shop.onion/ajax/more?page=9", "http://shop.onion/ajax/more?page=10", 9},
		{"other query", "/ajax/more?page={n}&sort=trending", "http://shop.onion/ajax/more?page=2&sort=price", "http://shop.onion/ajax/more?page=2&sort=trending", 0},
		{"in the path", "/c/chemicals/page/{n}/", "http://shop.onion/c/chemicals/page/4/", "http://shop.onion/c/chemicals/page/5/", 4},
		{"relative", "more?p={n}", "http://shop.onion/list/more?p=3", "http://shop.onion/list/more?p=4", 3},
		{"absolute", "http://shop.onion/x?p={n}", "http://shop.onion/", "http://shop.onion/x?p=2", 0},
		{"dots are literal", "/a.b?p={n}", "http://shop.onion/aXb?p=3", "http://shop.onion/a.b?p=2", 0},
		// An API paginated by offset: past the 24 listings the page showed.
		{"offset start", "/store/products?limit=24&offset={offset}", "http://shop.onion/store/products?limit=24&offset=0", "http://shop.onion/store/products?limit=24&offset=24", 1},
		{"offset 48", "/store/products?limit=24&offset={offset}", "http://shop.onion/store/products?limit=24&offset=48", "http://shop.onion/store/products?limit=24&offset=72", 2},
		{"offset from the shell", "/api/items?start={offset}", "http://shop.onion/", "http://shop.onion/api/items?start=24", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := CompileNumberedPages(c.tmpl)
			if err != nil || p == nil {
				t.Fatalf("CompileNumberedPages(%q) = %v, %v", c.tmpl, p, err)
			}
			u, err := url.Parse(c.page)
			if err != nil {
				t.Fatal(err)
			}
			n, ok := p.Number(c.page, u)
			if (c.n != 0) != ok || n != c.n {
				t.Errorf("Number = %d, %v; want %d", n, ok, c.n)
			}
			if next, ok := p.Next(c.page, u, 24); !ok || next != c.next {
				t.Errorf("Next = %q, %v; want %q", next, ok, c.next)
			}
		})
	}
	for _, bad := range []string{"/ajax/more?page=2", "/a/{n}/b/{n}", "/a?p={n}&o={offset}", "/a?o={offset}&p={offset}", "ftp://x/{n}", "http://[::1/{n}"} {
		if _, err := CompileNumberedPages(bad); err == nil {
			t.Errorf("CompileNumberedPages(%q) accepted", bad)
		}
		if _, err := New(precwatch.Extraction{Listing: "div", Title: "h2", Pages: bad}); err == nil || !strings.Contains(err.Error(), "pages") {
			t.Errorf("New with pages %q: %v, want an error naming pages", bad, err)
		}
	}
	if p, err := CompileNumberedPages(" "); p != nil || err != nil {
		t.Errorf("an empty template = %v, %v; want none", p, err)
	}
	if _, err := New(precwatch.Extraction{Listing: "div", Title: "h2", Detail: &precwatch.Extraction{Pages: "/p/{n}"}}); err == nil || !strings.Contains(err.Error(), "detail.pages") {
		t.Errorf("pages in detail rules: %v, want an error naming detail.pages", err)
	}
}

// TestJSONLDItemListLinks: a category page whose cards a script renders
// has no link to its products; its JSON-LD ItemList of ListItems (url,
// item as a URL or as a node with @id) names their pages, and a jsonld site
// follows them, on its own host only, with or without links and detail
// rules. A ListItem holding a Product is read where it is.
func TestJSONLDItemListLinks(t *testing.T) {
	page := &url.URL{Scheme: "http", Host: "shop.example", Path: "/c/lab"}
	body := `<html><head><link rel="next" href="/c/lab?page=2"><script type="application/ld+json">
{"@context":"https://schema.org","@type":"ItemList","itemListElement":[
 {"@type":"ListItem","position":1,"url":"http://shop.example/p/1-nitric-acid"},
 {"@type":"ListItem","position":2,"item":"/p/2-beaker"},
 {"@type":"ListItem","position":3,"item":{"@id":"http://shop.example/p/3-gloves","name":"Gloves"}},
 {"@type":"ListItem","position":4,"url":"http://elsewhere.example/p/4"},
 {"@type":"ListItem","position":5,"item":{"@type":"Product","name":"Citric acid 1 kg","url":"/p/5-citric","offers":{"price":"9.90","priceCurrency":"EUR"}}}]}
</script></head><body><div id="app"></div></body></html>`
	want := []string{"http://shop.example/p/1-nitric-acid", "http://shop.example/p/2-beaker", "http://shop.example/p/3-gloves"}
	for _, rules := range []precwatch.Extraction{
		{Mode: precwatch.ExtractJSONLD},
		{Mode: precwatch.ExtractJSONLD, Detail: &precwatch.Extraction{Mode: precwatch.ExtractJSONLD}},
		{Mode: precwatch.ExtractJSONLD, Links: []string{"nav a"}},
	} {
		ex := mustNew(rules)
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res, err := ex.Extract(doc, page)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Links, want) {
			t.Errorf("%+v: Links = %q, want %q", rules, res.Links, want)
		}
		if !slices.Equal(res.NextPages, []string{"http://shop.example/c/lab?page=2"}) {
			t.Errorf("%+v: NextPages = %q", rules, res.NextPages)
		}
		if len(res.Listings) != 1 || res.Listings[0].Title != "Citric acid 1 kg" {
			t.Errorf("%+v: listings %+v, want the ListItem's Product", rules, res.Listings)
		}
	}
}
