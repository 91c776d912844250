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
