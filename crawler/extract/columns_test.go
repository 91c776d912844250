package extract

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/precwatch/precwatch"
	"golang.org/x/net/html"
)

// TestColumnCell: a row's cell under a header, as a browser lays the table
// out: a cell carried down by rowspan, one spanning columns under each of
// its headers, a header in <thead> or of <th> cells, exact name before a
// prefix, rowspans ending with their row group, and nothing for a header
// row, a missing header, or a nested table's rows.
func TestColumnCell(t *testing.T) {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(`<table id="t">
<thead><tr><th>Pack</th><th>Price (EUR)</th><th>Price</th><th>Seller</th></tr></thead>
<tbody>
<tr id="r1"><td rowspan="3">A</td><td>1</td><td>2</td><td rowspan="9">S</td></tr>
<tr id="r2"><td colspan="2">3</td></tr>
<tr id="r3"><td>4</td><td>5</td></tr>
</tbody><tbody>
<tr id="r4"><td>B</td><td>6</td><td>7</td><td><table><tr id="n1"><td>x</td></tr></table></td></tr>
</tbody></table>`))
	if err != nil {
		t.Fatal(err)
	}
	cell := func(row, name string) string {
		n := doc.Find("#" + row).Get(0)
		c := columnCell(n, collapse(name))
		if c == nil {
			return "<nil>"
		}
		return strings.TrimSpace(nodeText(c, 100))
	}
	for _, tc := range []struct{ row, name, want string }{
		{"r1", "Pack", "A"}, {"r1", "price", "2"}, {"r1", "Price (eur)", "1"}, {"r1", "Seller", "S"},
		{"r2", "Pack", "A"}, {"r2", "Price (EUR)", "3"}, {"r2", "Price", "3"}, {"r2", "Seller", "S"},
		{"r3", "Pack", "A"}, {"r3", "Price", "5"},
		{"r4", "Pack", "B"}, {"r4", "Price", "7"}, {"r4", "Seller", "x"}, // S's rowspan ends with its tbody
		{"r1", "Vendor", "<nil>"},
		{"n1", "Pack", "<nil>"}, // the nested table has no header
	} {
		if got := cell(tc.row, tc.name); got != tc.want {
			t.Errorf("%s column(%s) = %q, want %q", tc.row, tc.name, got, tc.want)
		}
	}
	// A header row is no listing row; a row outside a table has no cells.
	if c := columnCell(doc.Find("thead tr").Get(0), "pack"); c != nil {
		t.Errorf("header row's cell %v", c.Data)
	}
	if c := columnCell(&html.Node{Type: html.ElementNode, Data: "div"}, "pack"); c != nil {
		t.Errorf("cell of a div: %v", c.Data)
	}
}

// TestColumnRuleErrors: a column rule names its column, is closed, and is
// read only in a listing's fields.
func TestColumnRuleErrors(t *testing.T) {
	for _, tc := range []struct {
		rules precwatch.Extraction
		field string
	}{
		{precwatch.Extraction{Listing: "tr", Title: "column()"}, `"title"`},
		{precwatch.Extraction{Listing: "tr", Title: "column(Product"}, `"title"`},
		{precwatch.Extraction{Listing: "tr", Title: "a", NextPage: "column(Next) a @href"}, `"next_page"`},
		{precwatch.Extraction{Listing: "tr", Title: "a", Detail: &precwatch.Extraction{Price: "column(Price) span["}}, `"detail.price"`},
	} {
		if _, err := New(tc.rules); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: err %v, want one naming %s", tc.rules, err, tc.field)
		}
	}
}
