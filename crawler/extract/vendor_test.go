package extract

import (
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/precwatch/precwatch"
)

func TestVendorRules(t *testing.T) {
	ex, err := New(precwatch.Extraction{Listing: "div.card", Title: "h3", Vendor: "a.v",
		VendorURL: "a.v @href", VendorPage: "section.about",
		Detail: &precwatch.Extraction{VendorURL: "div.box a @href"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := url.Parse("http://x.onion/list?p=1")
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(`<div class="card"><a class="v" href="/vendor/Oxy#top">Oxy</a><h3><a href="/l/1">Item</a></h3></div>`))
	res, err := ex.Extract(doc, page)
	if err != nil || len(res.Listings) != 1 {
		t.Fatalf("Extract: %v, %+v", err, res.Listings)
	}
	l := res.Listings[0]
	if l.VendorURL != "http://x.onion/vendor/Oxy" || l.URL != "http://x.onion/l/1" {
		t.Errorf("vendor url %q, url %q", l.VendorURL, l.URL)
	}
	detail, _ := goquery.NewDocumentFromReader(strings.NewReader(`<div class="box"><a href="/u/oxy2">Oxy</a></div>`))
	if d, err := ex.Detail(detail, page, l); err != nil || d.VendorURL != "http://x.onion/u/oxy2" {
		t.Errorf("Detail vendor url %q (%v)", d.VendorURL, err)
	}
	vp, _ := goquery.NewDocumentFromReader(strings.NewReader(`<body><section class="about"><p>Session:</p><p>05ab</p><script>x="secret"</script></section><footer>help@market.example</footer></body>`))
	if got := ex.VendorText(vp); got != "Session: 05ab" {
		t.Errorf("VendorText = %q, want the about section only", got)
	}
	whole, _ := New(precwatch.Extraction{Listing: "div.card", Title: "h3"})
	if got := whole.VendorText(vp); !strings.Contains(got, "help@market.example") {
		t.Errorf("VendorText without vendor_page = %q, want the whole page", got)
	}
	if _, err := New(precwatch.Extraction{VendorPage: "div["}); err == nil || !strings.Contains(err.Error(), `"vendor_page"`) {
		t.Errorf("bad vendor_page: %v", err)
	}
	if _, err := New(precwatch.Extraction{VendorURL: "a[ @href"}); err == nil || !strings.Contains(err.Error(), `"vendor_url"`) {
		t.Errorf("bad vendor_url: %v", err)
	}
}
