package extract

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/precwatch/precwatch"
)

// TestLoadMore: a "Load more" catalogue's first cursor is read on the
// page (a button's data- attribute) and put in the endpoint's URL,
// query-escaped; the endpoint's JSON answer is read as the cards' HTML
// with the site's selectors (links resolved against the endpoint), and its
// next cursor gives the next URL, none where it is null.
func TestLoadMore(t *testing.T) {
	rules := precwatch.Extraction{Listing: "article.tile", ID: "@data-sku", Title: "h3", URL: "a @href", Price: "@data-price", PriceMinorUnits: true, Currency: "@data-currency",
		LoadMore: &precwatch.LoadMore{URL: "/api/more?cursor={cursor}&v=2", Cursor: "button.load-more @data-cursor", HTML: "html, items[]", NextCursor: "next_cursor"}}
	ex := mustNew(rules)
	page, _ := url.Parse("http://shop.example/shop")
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(`<html><body>
<article class="tile" data-sku="1" data-price="1290" data-currency="EUR"><a href="/p/1"><h3>Nitric acid 65 %</h3></a></article>
<button class="load-more" data-cursor="eyJvIjoxfQ==+/">Load more</button></body></html>`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := ex.Extract(doc, page)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Listings) != 1 || !slices.Equal(res.NextPages, []string{"http://shop.example/api/more?cursor=eyJvIjoxfQ%3D%3D%2B%2F&v=2"}) {
		t.Fatalf("page: %d listings, next %q", len(res.Listings), res.NextPages)
	}
	api, _ := url.Parse(res.NextPages[0])
	for _, c := range []struct {
		name, body string
		titles     []string
		next       []string
	}{
		{"html and a cursor", `{"html":"<article class=\"tile\" data-sku=\"2\" data-price=\"4590\" data-currency=\"EUR\"><a href=\"/p/2\"><h3>Beaker<br>250 ml</h3></a></article><template><article class=\"tile\" data-sku=\"9\"><h3>Draft</h3></article></template>","next_cursor":"c2"}`,
			[]string{"Beaker 250 ml"}, []string{"http://shop.example/api/more?cursor=c2&v=2"}},
		{"an array of cards, the end", `{"items":["<article class=\"tile\" data-sku=\"3\"><h3>Gloves</h3></article>","<article class=\"tile\" data-sku=\"4\"><h3>Funnel</h3></article>"],"next_cursor":null}`,
			[]string{"Gloves", "Funnel"}, nil},
		{"not JSON", `<html>oops</html>`, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := ex.Extract(JSONDocument([]byte(c.body)), api)
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, l := range res.Listings {
				titles = append(titles, l.Title)
			}
			if !slices.Equal(titles, c.titles) || !slices.Equal(res.NextPages, c.next) {
				t.Errorf("titles %q next %q, want %q %q", titles, res.NextPages, c.titles, c.next)
			}
			if c.name == "html and a cursor" && (res.Listings[0].URL != "http://shop.example/p/2" || res.Listings[0].Price != 45.90) {
				t.Errorf("listing %+v", res.Listings[0])
			}
		})
	}
	if !ex.ReadsJSON() {
		t.Error("ReadsJSON = false: the endpoint's answers would be skipped")
	}
	for _, c := range []struct {
		rules precwatch.Extraction
		field string
	}{
		{precwatch.Extraction{Title: "h3", LoadMore: &precwatch.LoadMore{URL: "/api/more", Cursor: "b @data-c", HTML: "html", NextCursor: "n"}}, "load_more.url"},
		{precwatch.Extraction{Title: "h3", LoadMore: &precwatch.LoadMore{URL: "/api/more?c={cursor}", Cursor: "b @data-c", NextCursor: "n"}}, "load_more.html"},
		{precwatch.Extraction{Title: "h3", LoadMore: &precwatch.LoadMore{URL: "/api/more?c={cursor}", Cursor: "b[", HTML: "html", NextCursor: "n"}}, "load_more.cursor"},
		{precwatch.Extraction{Mode: precwatch.ExtractJSON, Title: "t", LoadMore: &precwatch.LoadMore{URL: "/m?c={cursor}", Cursor: "b", HTML: "h", NextCursor: "n"}}, "load_more"},
		{precwatch.Extraction{Title: "h3", Detail: &precwatch.Extraction{LoadMore: &precwatch.LoadMore{URL: "/m?c={cursor}", Cursor: "b", HTML: "h", NextCursor: "n"}}}, "detail.load_more"},
	} {
		_, err := New(c.rules)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("New(%+v) = %v, want an error on field %q", c.rules.LoadMore, err, c.field)
		}
	}
}
