package extract

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/precwatch/precwatch"
)

// TestParseLinkHeader: RFC 8288 links with their rel, several in one value
// or in several values, quoted or bare, a comma inside a URL or a quoted
// parameter kept; a link without rel, or malformed, is skipped.
func TestParseLinkHeader(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []headerLink
	}{
		{`</shop?offset=12&limit=12>; rel="next"`, []headerLink{{"/shop?offset=12&limit=12", "next"}}},
		{`<https://api.example/items?page=3>; rel="next", <https://api.example/items?page=9>; rel="last"`,
			[]headerLink{{"https://api.example/items?page=3", "next"}, {"https://api.example/items?page=9", "last"}}},
		{`</a,b?p=2>;rel=Next;title="a, b; c", </x>; type="text/css"`, []headerLink{{"/a,b?p=2", "next"}}},
		{`<https://cdn.example/app.css>; rel=preload; as=style, garbage, </p/2> ; rel = "next"`,
			[]headerLink{{"https://cdn.example/app.css", "preload"}, {"/p/2", "next"}}},
		{`</broken; rel="next"`, nil},
		{``, nil},
	} {
		if got := parseLinkHeader(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("parseLinkHeader(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestLinkHeaderNext: a page whose next page is named only in its HTTP
// Link header is paged by it as by a <link rel=next>, without a next_page
// rule or with one selecting link[rel=next]; a JSON API's answer too.
// Before, an infinite-scroll shop was read to its first page.
func TestLinkHeaderNext(t *testing.T) {
	page := &url.URL{Scheme: "https", Host: "tiles.example", Path: "/shop", RawQuery: "offset=0&limit=12"}
	header := []string{`</shop?offset=12&limit=12>; rel="next"`, `</shop?offset=0&limit=12>; rel="prev"`}
	want := []string{"https://tiles.example/shop?offset=12&limit=12"}
	html := `<html><body><ul class="grid"><li class="tile"><a class="tile-link" href="/p/1" aria-label="Nitric acid 65 % 1 L"></a></li></ul></body></html>`
	for _, rules := range []precwatch.Extraction{
		{Listing: "li.tile", Title: "a @aria-label", URL: "a @href"},
		{Listing: "li.tile", Title: "a @aria-label", URL: "a @href", NextPage: "link[rel=next] @href"},
	} {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
		if err != nil {
			t.Fatal(err)
		}
		ex, err := New(rules)
		if err != nil {
			t.Fatal(err)
		}
		if res, _ := ex.Extract(doc, page); len(res.NextPages) != 0 {
			t.Fatalf("next pages %q before the header is added", res.NextPages)
		}
		AddLinkHeader(doc, header)
		res, err := ex.Extract(doc, page)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.NextPages, want) || len(res.Listings) != 1 {
			t.Errorf("next_page %q: next pages %q, %d listings; want %q, 1", rules.NextPage, res.NextPages, len(res.Listings), want)
		}
	}
	api := &url.URL{Scheme: "https", Host: "api.example", Path: "/wp-json/wc/store/products", RawQuery: "page=1"}
	doc := JSONDocument([]byte(`[{"id": 7, "name": "Acetone 99.5 % 5 L"}]`))
	AddLinkHeader(doc, []string{`<https://api.example/wp-json/wc/store/products?page=2>; rel="next"`})
	ex, err := New(precwatch.Extraction{Mode: "json", Listing: "[]", ID: "id", Title: "name"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ex.Extract(doc, api)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.NextPages, []string{"https://api.example/wp-json/wc/store/products?page=2"}) || len(res.Listings) != 1 {
		t.Errorf("JSON API: next pages %q, %d listings", res.NextPages, len(res.Listings))
	}
}
