package extract

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/precwatch/precwatch"
)

func TestIsJSON(t *testing.T) {
	for _, c := range []struct {
		ct   string
		want bool
	}{
		{"application/json", true},
		{"application/json; charset=utf-8", true},
		{"Application/JSON", true},
		{"text/json", true},
		{"application/vnd.api+json", true},
		{"application/hal+json", true},
		{"application/ld+json", true},
		{"text/html; charset=utf-8", false},
		{"application/javascript", false},
		{"application/jsonl", false},
		{"image/svg+xml", false},
		{"text/plain+json", false}, // not a JSON structured suffix of an application type
		{"", false},
		{"application/json; charset", false}, // malformed
	} {
		if got := IsJSON(c.ct); got != c.want {
			t.Errorf("IsJSON(%q) = %v, want %v", c.ct, got, c.want)
		}
	}
}

// apiRules read a JSON:API listings endpoint, as the README's example.
var apiRules = precwatch.Extraction{
	Mode: precwatch.ExtractJSON, Listing: "data.items[]", ID: "id", Title: "attributes.title",
	Price: "attributes.price.amount", Currency: "attributes.price.currency", Vendor: "attributes.seller.handle",
	Description: "attributes.body", URL: "links.self", NextPage: "/api/listings?cursor={meta.next}",
	Detail: &precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "data", Description: "attributes.body"},
}

// TestJSONResponse: the body of a JSON response, wrapped by JSONDocument,
// is read whole by mode json (whatever its script rule), on index and
// detail pages, and by nothing else; an HTML page's text that reads like
// JSON is no JSON response.
func TestJSONResponse(t *testing.T) {
	page := &url.URL{Scheme: "http", Host: "api.onion", Path: "/api/listings", RawQuery: "page=1"}
	index := `{"data":{"items":[
	 {"id":"L1","attributes":{"title":"Sodium nitrate 99%, 1 kg","body":"Sodium nitrate 99%…","price":{"amount":"9.90","currency":"EUR"},"seller":{"handle":"farmdepot"}},"links":{"self":"/api/listings/L1"}},
	 {"id":"L2","attributes":{"title":"Citric acid 1 kg","body":"<p>Food grade<script>x()</script></p>","price":{"amount":4.1,"currency":"EUR"}},"links":{"self":"/api/listings/L2"}}]},
	 "meta":{"next":"c_2"}}`
	last := `{"data":{"items":[]},"meta":{"next":null}}`
	detail := `{"data":{"id":"L1","attributes":{"title":"Sodium nitrate 99%, 1 kg","body":"Sodium nitrate 99%, food grade E251, 1 kg pouch."}}}`
	withScript := apiRules
	withScript.Script = "script#__NEXT_DATA__"
	relayRules := precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "data.listings.edges[].node", ID: "id", Title: "title",
		NextPage: "/graphql?after={data.listings.pageInfo.endCursor}"}
	cases := []struct {
		name  string
		rules precwatch.Extraction
		doc   *goquery.Document
		want  []string // "id|title|price currency|vendor|url|description"
		next  []string
	}{
		{"api page", apiRules, JSONDocument([]byte(index)), []string{
			"L1|Sodium nitrate 99%, 1 kg|9.9 EUR|farmdepot|http://api.onion/api/listings/L1|Sodium nitrate 99%…",
			"L2|Citric acid 1 kg|4.1 EUR||http://api.onion/api/listings/L2|Food grade",
		}, []string{"http://api.onion/api/listings?cursor=c_2"}},
		{"script rule ignored", withScript, JSONDocument([]byte(index)), []string{
			"L1|Sodium nitrate 99%, 1 kg|9.9 EUR|farmdepot|http://api.onion/api/listings/L1|Sodium nitrate 99%…",
			"L2|Citric acid 1 kg|4.1 EUR||http://api.onion/api/listings/L2|Food grade",
		}, []string{"http://api.onion/api/listings?cursor=c_2"}},
		{"last page", apiRules, JSONDocument([]byte(last)), nil, nil},
		// Relay's pageInfo: endCursor is set on the last page too, and
		// hasNextPage false ends pagination; true or missing follows it.
		{"relay last page", relayRules, JSONDocument([]byte(`{"data":{"listings":{"edges":[],"pageInfo":{"endCursor":"Y3Vy","hasNextPage":false}}}}`)), nil, nil},
		{"relay next page", relayRules, JSONDocument([]byte(`{"data":{"listings":{"edges":[],"pageInfo":{"endCursor":"Y3Vy","hasNextPage":true}}}}`)), nil,
			[]string{"http://api.onion/graphql?after=Y3Vy"}},
		{"has_more false", apiRules, JSONDocument([]byte(`{"data":{"items":[]},"meta":{"next":"c_9","has_more":false}}`)), nil, nil},
		{"no flag", apiRules, JSONDocument([]byte(`{"data":{"items":[]},"meta":{"next":"c_9"}}`)), nil, []string{"http://api.onion/api/listings?cursor=c_9"}},
		{"not JSON", apiRules, JSONDocument([]byte("<html>oops</html>")), nil, nil},
		{"selectors find nothing", precwatch.Extraction{Listing: "script", Title: "script"}, JSONDocument([]byte(index)), nil, nil},
		{"html body is no response", apiRules, htmlDoc(t, `<html><body><pre>`+index+`</pre></body></html>`), nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ex, err := New(c.rules)
			if err != nil {
				t.Fatal(err)
			}
			res, err := ex.Extract(c.doc, page)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range res.Listings {
				got = append(got, strings.Join([]string{l.ID, l.Title, trimFloat(l.Price) + " " + l.Currency, l.Vendor, l.URL, l.Description}, "|"))
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("listings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if strings.Join(res.NextPages, " ") != strings.Join(c.next, " ") {
				t.Errorf("next = %q, want %q", res.NextPages, c.next)
			}
		})
	}
	ex, err := New(apiRules)
	if err != nil {
		t.Fatal(err)
	}
	if !ex.ReadsJSON() {
		t.Error("ReadsJSON() = false for mode json")
	}
	l, err := ex.Detail(JSONDocument([]byte(detail)), &url.URL{Scheme: "http", Host: "api.onion", Path: "/api/listings/L1"}, precwatch.Listing{ID: "L1", Title: "Sodium nitrate 99%, 1 kg"})
	if err != nil || l.Description != "Sodium nitrate 99%, food grade E251, 1 kg pouch." {
		t.Errorf("Detail = %q, %v", l.Description, err)
	}
	for _, r := range []precwatch.Extraction{{Listing: "div", Title: "h2"}, {Mode: precwatch.ExtractJSONLD}} {
		if ex, err := New(r); err != nil || ex.ReadsJSON() {
			t.Errorf("ReadsJSON() for mode %q = true (err %v)", r.Mode, err)
		}
	}
	if ex, err := New(precwatch.Extraction{Listing: "div", Title: "h2", Detail: &precwatch.Extraction{Mode: precwatch.ExtractJSON, Description: "body"}}); err != nil || !ex.ReadsJSON() {
		t.Errorf("ReadsJSON() with mode json detail rules = false (err %v)", err)
	}
}

func htmlDoc(t *testing.T, s string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// TestGraphQLRules: graphql rules are refused, naming the field, outside
// mode json, without a query, and with a cursor variable but no next_page
// (or the reverse); a next page is the same query POSTed with the cursor.
func TestGraphQLRules(t *testing.T) {
	q := &precwatch.GraphQL{Query: "query($after: String) { items(after: $after) { id } }", Cursor: "after"}
	for _, c := range []struct {
		rules precwatch.Extraction
		field string
	}{
		{precwatch.Extraction{Listing: "div", Title: "h2", GraphQL: q}, "graphql"},
		{precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "items[]", Title: "t", GraphQL: &precwatch.GraphQL{Cursor: "after"}, NextPage: "next"}, "graphql.query"},
		{precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "items[]", Title: "t", GraphQL: &precwatch.GraphQL{Query: "{ items { id } }"}, NextPage: "next"}, "graphql.cursor"},
		{precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "items[]", Title: "t", GraphQL: q}, "next_page"},
	} {
		_, err := New(c.rules)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field {
			t.Errorf("New(%+v) = %v, want an error at %s", c.rules, err, c.field)
		}
	}
	rules := precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "data.items[]", ID: "id", Title: "t", GraphQL: q, NextPage: "data.next"}
	ex, err := New(rules)
	if err != nil {
		t.Fatal(err)
	}
	start, ok := GraphQLStart(rules)
	if !ok || start != `{"query":"query($after: String) { items(after: $after) { id } }","variables":{}}` {
		t.Errorf("GraphQLStart = %q, %v", start, ok)
	}
	page := &url.URL{Scheme: "http", Host: "api.onion", Path: "/graphql"}
	res, err := ex.Extract(JSONDocument([]byte(`{"data":{"items":[{"id":"1","t":"Acetone 5 L"}],"next":"abc"}}`)), page)
	if err != nil || len(res.Listings) != 1 || len(res.NextPages) != 0 || len(res.NextPosts) != 1 {
		t.Fatalf("Extract: %v, %d listings, next %q, posts %+v", err, len(res.Listings), res.NextPages, res.NextPosts)
	}
	want := Submission{URL: "http://api.onion/graphql", Post: true, JSON: true,
		Body: `{"query":"query($after: String) { items(after: $after) { id } }","variables":{"after":"abc"}}`}
	if res.NextPosts[0] != want {
		t.Errorf("next post = %+v, want %+v", res.NextPosts[0], want)
	}
}
