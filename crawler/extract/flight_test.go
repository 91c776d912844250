package extract

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"

	"github.com/precwatch/precwatch"
)

// flightPage is a Next.js App Router page as it is sent: no listing in
// the HTML, the data in flight rows pushed as string chunks, one row cut
// across two pushes, beside module, hint and text rows.
func flightPage(t *testing.T) string {
	t.Helper()
	row := `3:["$","$L2",null,{"products":[{"id":"p1","name":"Hydrogen peroxide 35%","price":{"amount":42.5},"specs":{"purity":"35 %"}},{"id":"p2","name":"Glass funnel","price":{"amount":"3.10"}}],"nextPage":2}]` + "\n"
	chunks := []string{
		`1:HL["/_next/static/css/app.css","style"]` + "\n" + `2:I["(app-pages-browser)/./app/Grid.tsx",["app/page"],"Grid"]` + "\n",
		row[:40], row[40:],
		"4:T1e,a text row: 30 bytes long\n" + `0:["$","html",null,{"lang":"en","children":["$","main",null,{"children":"$3"}]}]` + "\n",
	}
	var b strings.Builder
	b.WriteString(`<html><body><div id="grid">Loading…</div><script>(self.__next_f=self.__next_f||[]).push([0])</script>`)
	for _, c := range chunks {
		call, _ := json.Marshal([]any{1, c})
		b.WriteString(`<script>self.__next_f.push(` + string(call) + `)</script>`)
	}
	b.WriteString(`<script src="/_next/static/chunks/main.js" async></script></body></html>`)
	return b.String()
}

// TestNextFlight: a path names the data as a server component received it
// (products[]), across a row split over two pushes; text, module and hint
// rows are skipped; the element props are state documents too.
func TestNextFlight(t *testing.T) {
	ex, err := New(precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "products[]", ID: "id", Title: "name",
		Price: "price.amount", Description: "specs", NextPage: "/products?page={nextPage}"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ex.Extract(htmlDoc(t, flightPage(t)), &url.URL{Scheme: "http", Host: "shop.onion", Path: "/products"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range res.Listings {
		got = append(got, l.ID+"|"+l.Title+"|"+trimFloat(l.Price)+"|"+l.Description)
	}
	want := "p1|Hydrogen peroxide 35%|42.5|purity: 35 %\np2|Glass funnel|3.1|"
	if strings.Join(got, "\n") != want {
		t.Errorf("listings:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	if len(res.NextPages) != 1 || res.NextPages[0] != "http://shop.onion/products?page=2" {
		t.Errorf("next = %q", res.NextPages)
	}
	// A text row whose length runs past the stream, and rows that are no
	// JSON, end the read without a panic.
	for _, s := range []string{"4:Tffff,short\n", "5:{not json\n6:[1,2]\n", ":\n", "zz:[1]\n", strings.Repeat("7:[\n", 10)} {
		flightDocs(s)
	}
}

// nuxtPage holds a Nuxt 3 payload in devalue's flattened form, with a
// shared value (the currency, written once), a Set, a Date and negative
// specials (undefined).
const nuxtPage = `<html><body><div id="__nuxt"></div><script type="application/json" id="__NUXT_DATA__" data-ssr="true">` +
	`[["ShallowReactive",1],{"data":2,"state":14,"once":15,"serverRendered":16},["ShallowReactive",3],{"catalog-1":4},{"items":5,"page":13},[6,11],` +
	`{"sku":7,"title":8,"price":9,"currency":10,"purity":-1},"n-1","Nitromethane 99%, 1 L",54.5,"EUR",` +
	`{"sku":12,"title":8,"price":9,"currency":10},"n-2",1,{},["Set"],true]</script></body></html>`

// TestNuxtDevalue: the payload is rebuilt, so paths name it as the app
// holds it; the same array's entries read by index as written would be
// numbers, not the listings.
func TestNuxtDevalue(t *testing.T) {
	ex, err := New(precwatch.Extraction{Mode: precwatch.ExtractJSON, Script: "script#__NUXT_DATA__", Listing: "data[].items[]",
		ID: "sku", Title: "title", Price: "price", Currency: "currency"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ex.Extract(htmlDoc(t, nuxtPage), &url.URL{Scheme: "http", Host: "shop.onion", Path: "/catalog"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range res.Listings {
		got = append(got, l.ID+"|"+l.Title+"|"+trimFloat(l.Price)+" "+l.Currency)
	}
	if want := "n-1|Nitromethane 99%, 1 L|54.5 EUR\nn-2|Nitromethane 99%, 1 L|54.5 EUR"; strings.Join(got, "\n") != want {
		t.Errorf("listings:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	// Without the id, the payload's shape alone marks it (default scripts).
	ex, _ = New(precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "data[].items[]", ID: "sku", Title: "title"})
	res, _ = ex.Extract(htmlDoc(t, strings.Replace(nuxtPage, ` id="__NUXT_DATA__"`, "", 1)), &url.URL{Scheme: "http", Host: "shop.onion", Path: "/"})
	if len(res.Listings) != 2 {
		t.Errorf("by shape: %d listings, want 2", len(res.Listings))
	}
	// A cycle and an index out of range are cut, not followed.
	var cyclic []any
	json.Unmarshal([]byte(`[{"self":0,"next":1,"far":99},[0,1]]`), &cyclic)
	if v, ok := unflatten(cyclic).(map[string]any); !ok || v["self"] != nil || v["far"] != nil {
		t.Errorf("cyclic payload = %v", unflatten(cyclic))
	}
}

// TestLabelled: a short value with a digit keeps the name of its field.
func TestLabelled(t *testing.T) {
	for _, c := range []struct{ key, v, want string }{
		{"purity", "3 %", "purity: 3 %"},
		{"purityPercent", "99", "purity percent: 99"},
		{"net_weight", "25 kg", "net weight: 25 kg"},
		{"purity", "Purity 99 %", "Purity 99 %"},
		{"body_html", "100 strips.", "100 strips."},
		{"description", "3 %", "3 %"},
		{"grade", "technical", "technical"},
		{"shipping", "ships from Kraków in 2 days, tracked, insured, signed", "ships from Kraków in 2 days, tracked, insured, signed"},
		{"", "35 %", "35 %"},
	} {
		if got := labelled(c.key, c.v); got != c.want {
			t.Errorf("labelled(%q, %q) = %q, want %q", c.key, c.v, got, c.want)
		}
	}
}

// TestStoreAPITerms: WooCommerce Store API attributes (a name and terms
// as objects) read as one line each, "Concentration: 12 %".
func TestStoreAPITerms(t *testing.T) {
	doc := JSONDocument([]byte(`[{"id":7,"name":"Hydrogen peroxide","short_description":"<p>Lab grade.</p>",
	 "attributes":[{"id":1,"name":"Concentration","taxonomy":"pa_concentration","has_variations":false,"terms":[{"id":31,"name":"12 %","slug":"12"}]}],
	 "prices":{"price":"1490","currency_code":"EUR"}}]`))
	ex, err := New(precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "[]", ID: "id", Title: "name",
		Description: "short_description, attributes", Price: "prices.price", Currency: "prices.currency_code", PriceMinorUnits: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ex.Extract(doc, &url.URL{Scheme: "http", Host: "shop.test", Path: "/wp-json/wc/store/v1/products"})
	if err != nil || len(res.Listings) != 1 {
		t.Fatalf("%v, %d listings", err, len(res.Listings))
	}
	l := res.Listings[0]
	if !strings.Contains(l.Description, "Concentration: 12 %") || l.Price != 14.9 {
		t.Errorf("description %q, price %v; want Concentration: 12 %% on one line, 14.9", l.Description, l.Price)
	}
}

// TestStateEscapesAndStrings: Angular's escaped TransferState, and JSON
// kept as a string inside JSON (SvelteKit's fetched data), are read.
func TestStateEscapesAndStrings(t *testing.T) {
	page := &url.URL{Scheme: "http", Host: "shop.test", Path: "/"}
	angular := `<html><body><script id="serverApp-state" type="application/json">{&q;G.http://api/products?page=1&a;size=10&q;:{&q;body&q;:{&q;items&q;:[{&q;id&q;:&q;a1&q;,&q;title&q;:&q;Acetone 99 &l;5 L&g;&q;}]}}}</script></body></html>`
	ex, _ := New(precwatch.Extraction{Mode: precwatch.ExtractJSON, Script: "script#serverApp-state", Listing: "*.body.items[]", ID: "id", Title: "title"})
	res, err := ex.Extract(htmlDoc(t, angular), page)
	if err != nil || len(res.Listings) != 1 || res.Listings[0].Title != "Acetone 99 <5 L>" {
		t.Errorf("angular: %v %+v", err, res.Listings)
	}
	svelte := `<html><body><script type="application/json" data-sveltekit-fetched data-url="/api/products?page=1">{"status":200,"statusText":"","headers":{},"body":"{\"products\":[{\"id\":\"s1\",\"name\":\"Nitromethane 99%\"},{\"id\":\"s2\",\"name\":\"Glass funnel\"}],\"next\":\"/api/products?page=2\"}"}</script></body></html>`
	ex, _ = New(precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "body.products[]", ID: "id", Title: "name", NextPage: "body.next"})
	res, err = ex.Extract(htmlDoc(t, svelte), page)
	if err != nil || len(res.Listings) != 2 || res.Listings[0].Title != "Nitromethane 99%" || len(res.NextPages) != 1 || res.NextPages[0] != "http://shop.test/api/products?page=2" {
		t.Errorf("sveltekit: %v %+v next %q", err, res.Listings, res.NextPages)
	}
	// A path ending at a string that holds JSON reads the string.
	ex, _ = New(precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "items[]", ID: "id", Title: "t", Description: "raw"})
	res, _ = ex.Extract(JSONDocument([]byte(`{"items":[{"id":"1","t":"Acetone 5 L","raw":"[1,2]"}]}`)), page)
	if len(res.Listings) != 1 || res.Listings[0].Description != "raw: [1,2]" {
		t.Errorf("string value: %+v", res.Listings)
	}
}

// TestWhy: why a page gave no listing, in the rules' terms.
func TestWhy(t *testing.T) {
	page := `<html><body><div class="card"><span>x</span></div><div class="card"></div><script>window.__S = {"items": [{"name": "a"}]};</script></body></html>`
	for _, c := range []struct {
		rules precwatch.Extraction
		want  string
	}{
		{precwatch.Extraction{Listing: "li.item", Title: "h2"}, `listing "li.item" matched no element on the page`},
		{precwatch.Extraction{Listing: "div.card", Title: "h2"}, `listing "div.card" matched 2 element(s), but title "h2" found no text inside any of them`},
		{precwatch.Extraction{Mode: precwatch.ExtractJSON, Script: "script#state", Listing: "items[]", Title: "name"}, `mode json: script "script#state" matched 0 element(s), none holding JSON`},
		{precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "products[]", Title: "name"}, `mode json: listing "products[]" matched no object in the 1 JSON document(s) found`},
		{precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "items[]", Title: "title"}, `mode json: listing "items[]" matched 1 object(s), but title "title" is empty in each`},
	} {
		ex, err := New(c.rules)
		if err != nil {
			t.Fatal(err)
		}
		if got := ex.Why(htmlDoc(t, page)); !strings.HasPrefix(got, c.want) {
			t.Errorf("%+v: %q, want %q", c.rules, got, c.want)
		}
	}
}

// TestOpenGraphProduct: in mode jsonld, a product page whose only data is
// its Open Graph tags is read from them; a page with no product tags
// gives nothing.
func TestOpenGraphProduct(t *testing.T) {
	page := `<html><head><meta property="og:type" content="product"><meta property="og:title" content="Nitromethane 99 %, 1 L">
<meta property="og:description" content="Racing fuel component, 1 L tin, ships in 48 h."><meta property="og:url" content="https://shop.test/p/nm-1l">
<meta property="product:price:amount" content="42.50"><meta property="product:price:currency" content="EUR"><meta property="product:brand" content="FuelDepot">
</head><body><div id="app"></div></body></html>`
	ex, _ := New(precwatch.Extraction{Mode: precwatch.ExtractJSONLD})
	res, err := ex.Extract(htmlDoc(t, page), &url.URL{Scheme: "https", Host: "shop.test", Path: "/p/nm-1l", RawQuery: "utm_source=x"})
	if err != nil || len(res.Listings) != 1 {
		t.Fatalf("%v, %d listings", err, len(res.Listings))
	}
	l := res.Listings[0]
	if l.Title != "Nitromethane 99 %, 1 L" || l.Price != 42.5 || l.Currency != "EUR" || l.Vendor != "FuelDepot" || l.URL != "https://shop.test/p/nm-1l" || !strings.Contains(l.Description, "1 L tin") {
		t.Errorf("listing %+v", l)
	}
	res, _ = ex.Extract(htmlDoc(t, `<html><head><meta property="og:type" content="website"><meta property="og:title" content="Home"></head></html>`), &url.URL{Scheme: "https", Host: "shop.test", Path: "/"})
	if len(res.Listings) != 0 {
		t.Errorf("a website's Open Graph tags gave %+v", res.Listings)
	}
}

// TestPageLevelField: a rule starting at :root reads the page, for a
// vendor named only in the page's heading; without it the vendor is
// empty.
func TestPageLevelField(t *testing.T) {
	page := `<html><body><h1>Vendor: NordChem</h1><div class="item"><a class="name" href="/l/1">Acetone 5 L</a><span class="cost">20 €</span></div>
<div class="item"><a class="name" href="/l/2">Glass funnel</a><span class="cost">3 €</span></div></body></html>`
	for _, c := range []struct{ vendor, want string }{{":root h1", "Vendor: NordChem"}, {"h1", ""}} {
		ex, err := New(precwatch.Extraction{Listing: "div.item", Title: "a.name", URL: "a.name @href", Price: "span.cost", Vendor: c.vendor})
		if err != nil {
			t.Fatal(err)
		}
		res, _ := ex.Extract(htmlDoc(t, page), &url.URL{Scheme: "http", Host: "m.onion", Path: "/vendor/nordchem"})
		if len(res.Listings) != 2 || res.Listings[0].Vendor != c.want || res.Listings[1].Vendor != c.want || res.Listings[0].Price != 20 {
			t.Errorf("vendor %q: %+v", c.vendor, res.Listings)
		}
	}
}

// TestGeneratedContent: text a page's style sheet writes before or after
// a class's elements (string literals, attr()) is read where a browser
// shows it; other content values are not.
func TestGeneratedContent(t *testing.T) {
	page := `<html><head><style>.p35::before{content:"35 %"} span.pc.p65::before{content:"65 %"} .pct:after { content: " " attr(data-pct) " %" } .q::before{content:counter(item)} .x::before{content: url(a.png)}</style></head><body>
<div class="card"><h2>Hydrogen peroxide <span class="p35"></span></h2></div>
<div class="card"><h2>Nitric acid<span class="pct" data-pct="65"></span></h2></div>
<div class="card"><h2><span class="q"></span>Acetone<span class="x"></span></h2></div>
<div class="card"><h2>Sulphuric acid <span class="pc p65"></span> <span class="pc"></span></h2></div></body></html>`
	root, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	ApplyStyles(root)
	ex, _ := New(precwatch.Extraction{Listing: "div.card", Title: "h2"})
	res, err := ex.Extract(goquery.NewDocumentFromNode(root), &url.URL{Scheme: "http", Host: "s.test", Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range res.Listings {
		got = append(got, l.Title)
	}
	if want := "Hydrogen peroxide 35 %|Nitric acid 65 %|Acetone|Sulphuric acid 65 %"; strings.Join(got, "|") != want {
		t.Errorf("titles %q, want %q", strings.Join(got, "|"), want)
	}
}
