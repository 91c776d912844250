package extract

import (
	"net/url"
	"strings"
	"testing"

	"github.com/precwatch/precwatch"
)

// TestLineItems: a vendor's post listing products a line each is read as
// one listing per product line (bulleted, numbered, or stating a price),
// each with the post's vendor and the line's price, keyed by the line
// without its price; the post keeps its other lines.
func TestLineItems(t *testing.T) {
	page := `<div class="post" id="p1"><h3>Price list, EU shipping</h3><a class="username" href="/u/7">NordChem</a>
<div class="content">Restocked. PM for bulk.<br>
- Nitromethane 1 L 99 % €42.79<br>
• Glass beakers, set of 5 €18.00<br>
2) Hydrogen peroxide 5 L 35 % — 45 EUR<br>
Acetone 5 L 99.5 % 25,02 €<br>
- Nitromethane 1 L 99 % €42.79<br>
Escrow accepted, ships in 48 h.</div></div>
<div class="post" id="p2"><h3>Re: question</h3><a class="username" href="/u/9">buyer</a><div class="content">Do you ship to Norway?</div></div>`
	rules := precwatch.Extraction{Listing: "div.post", ID: "@id", Title: "h3", Vendor: "a.username", Description: "div.content", LineItems: "div.content"}
	ex, err := New(rules)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ex.Extract(htmlDoc(t, page), &url.URL{Scheme: "http", Host: "forum.onion", Path: "/viewtopic.php", RawQuery: "t=7"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range res.Listings {
		got = append(got, l.ID+"|"+l.Title+"|"+trimFloat(l.Price)+" "+l.Currency+"|"+l.Vendor+"|"+strings.ReplaceAll(l.Description, "\n", "/"))
	}
	want := []string{
		"p1#nitromethane 1 l 99 %|Nitromethane 1 L 99 % €42.79|42.79 EUR|NordChem|",
		"p1#glass beakers set of 5|Glass beakers, set of 5 €18.00|18 EUR|NordChem|",
		"p1#hydrogen peroxide 5 l 35 % —|Hydrogen peroxide 5 L 35 % — 45 EUR|45 EUR|NordChem|",
		"p1#acetone 5 l 99.5 %|Acetone 5 L 99.5 % 25,02 €|25.02 EUR|NordChem|",
		"p1|Price list, EU shipping|0 |NordChem|Restocked. PM for bulk./Escrow accepted, ships in 48 h.",
		"p2|Re: question|0 |buyer|Do you ship to Norway?",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("listings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A new price is the same product line.
	if itemKey("Nitromethane 1 L 99 % €39.00") != itemKey("Nitromethane 1 L 99 % €42.79") || itemKey("Acetone 5 L 20 EUR") != itemKey("Acetone 5 L EUR 24") {
		t.Error("a line's key changes with its price")
	}
	if _, err := New(precwatch.Extraction{Mode: precwatch.ExtractJSON, Listing: "items[]", Title: "t", LineItems: "body"}); err == nil {
		t.Error("line_items accepted in mode json")
	}
}
