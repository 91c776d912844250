package extract

import (
	"net/url"
	"testing"

	"github.com/precwatch/precwatch"
)

// TestJSONDetailVariants: a product's own JSON (Shopify's /products/x.js)
// read as its detail page gives a line per variant under the merged title,
// the index row's when the detail rules name none.
func TestJSONDetailVariants(t *testing.T) {
	ex, err := New(precwatch.Extraction{Listing: "li", Title: "a", URL: "a @href",
		Detail: &precwatch.Extraction{Mode: precwatch.ExtractJSON, Description: "description", Variants: "variants[].title"}})
	if err != nil {
		t.Fatal(err)
	}
	doc := JSONDocument([]byte(`{"id":7,"description":"Technical grade.","variants":[{"title":"5 L / 35 %"},{"title":"25 L / 50 %"}]}`))
	page := &url.URL{Scheme: "https", Host: "labstore.example", Path: "/products/hp.js"}
	got, err := ex.Detail(doc, page, precwatch.Listing{ID: "7", URL: page.String(), Title: "Hydrogen peroxide"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Technical grade.\nHydrogen peroxide — 5 L / 35 %\nHydrogen peroxide — 25 L / 50 %"; got.Description != want {
		t.Errorf("description %q, want %q", got.Description, want)
	}
}
