package extract

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/precwatch/precwatch"
)

// TestSitemapLocLinks: a links rule selecting an element with neither an
// href nor links inside, whose text is a URL (a sitemap's <loc>), follows
// that URL; a sitemap index leads to its sitemaps, a sitemap to its pages
// (an image's <image:loc> is "loc" too but sits outside "url > loc").
// Before, such an element was read as a container of links and gave none.
func TestSitemapLocLinks(t *testing.T) {
	ex, err := New(precwatch.Extraction{Mode: "jsonld", Links: []string{"sitemap > loc", "url > loc"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"sitemap_index.xml", []string{"https://shop.example/sitemap-pages.xml", "https://shop.example/sitemap-products-1.xml.gz",
			"https://shop.example/sitemap-products-2.xml.gz"}},
		{"sitemap_products.xml", []string{"https://shop.example/products/hydrogen-peroxide-35-5-l",
			"https://shop.example/products/citric-acid-1-kg", "https://shop.example/products/nitric-acid-65-1-l"}},
	} {
		body, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := XMLDocument(body)
		if err != nil {
			t.Fatal(err)
		}
		res, err := ex.Extract(doc, &url.URL{Scheme: "https", Host: "shop.example", Path: "/sitemap.xml"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Links, tc.want) {
			t.Errorf("%s: links %q, want %q", tc.file, res.Links, tc.want)
		}
	}
	// A label is no URL, even with a dot or a slash in it: a rule
	// selecting a heading follows nothing.
	doc, err := XMLDocument([]byte(`<menu><h>Categories</h><h>Lab acids</h><h>Acids/Bases</h><h>v2.0</h><h>//cdn.example/x</h></menu>`))
	if err != nil {
		t.Fatal(err)
	}
	ex, err = New(precwatch.Extraction{Mode: "jsonld", Links: []string{"h"}})
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := ex.Extract(doc, &url.URL{Scheme: "https", Host: "shop.example", Path: "/"}); len(res.Links) != 0 {
		t.Errorf("labels followed as links: %q", res.Links)
	}
}
