package extract

import (
	"math"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestParsePrice(t *testing.T) {
	tests := []struct {
		in     string
		amount float64
		cur    string
		ok     bool
	}{
		{"€ 45,00", 45, "EUR", true},
		{"Glass beakers, set of 5 €18.00", 18, "EUR", true}, // the symbol is glued to the price
		{"25,02 € 5 kg", 25.02, "EUR", true},
		{"$1,200.50", 1200.5, "USD", true},
		{"USD 120", 120, "USD", true},
		{"0.0021 BTC", 0.0021, "BTC", true},
		{"45.00 EUR", 45, "EUR", true},
		{"1.200,50 €", 1200.5, "EUR", true},
		{"Price: 45 EUR", 45, "EUR", true},
		{"ab 12,90 €", 12.9, "EUR", true},
		{"£9.99", 9.99, "GBP", true},
		{"¥1,200", 1200, "JPY", true},
		{"1 500 ₽", 1500, "RUB", true},
		{"1\u00a0299,00\u00a0zł", 1299, "PLN", true},
		{"CHF 1'200.50", 1200.5, "CHF", true},
		{"Fr. 45.–", 45, "CHF", true},
		{"0,35 XMR", 0.35, "XMR", true},
		{"1.200 XMR", 1.2, "XMR", true},
		{"1.200 €", 1200, "EUR", true},
		{"1,234,567.89 USD", 1234567.89, "USD", true},
		{"1.234.567,89 EUR", 1234567.89, "EUR", true},
		{"EUR45", 45, "EUR", true},
		{"45EUR", 45, "EUR", true},
		{"eur 7.5", 7.5, "EUR", true},
		{"₿0.00153", 0.00153, "BTC", true},
		{"US$ 30", 30, "USD", true},
		{"500 ml - 24,95 €", 24.95, "EUR", true},
		{"2 x 45 EUR", 45, "EUR", true},
		{"Hydrogen peroxide 35% 1 l 19,90 EUR", 19.9, "EUR", true},
		{"0.0021 BTC (≈ 45 USD)", 0.0021, "BTC", true},
		{"Preis: 12.90", 12.9, "", true},
		{"Цена: 1 200 руб.", 1200, "RUB", true},
		{"Cena: 45,50 PLN", 45.5, "PLN", true},
		{"from $10/g", 10, "USD", true},
		{"12", 12, "", true},
		{"Preis (EUR): 45", 45, "EUR", true},
		{"", 0, "", false},
		{"free", 0, "", false},
		{"N/A", 0, "", false},
		{"500ml", 0, "", false},
		{"35%", 0, "", false},
		{"H2O2", 0, "", false},
	}
	for _, tt := range tests {
		amount, cur, ok := ParsePrice(tt.in)
		if ok != tt.ok || cur != tt.cur || math.Abs(amount-tt.amount) > 1e-9 {
			t.Errorf("ParsePrice(%q) = %v, %q, %v; want %v, %q, %v", tt.in, amount, cur, ok, tt.amount, tt.cur, tt.ok)
		}
	}
}

func TestNormalizeCurrency(t *testing.T) {
	for in, want := range map[string]string{
		"€": "EUR", "eur": "EUR", "Euro": "EUR", "$": "USD", "US$": "USD", "zł": "PLN", "BTC": "BTC",
		"monero": "XMR", "₽": "RUB", "Fr.": "CHF", "kg": "", "": "",
	} {
		if got := NormalizeCurrency(in); got != want {
			t.Errorf("NormalizeCurrency(%q) = %q, want %q", in, got, want)
		}
	}
}

var codeRE = regexp.MustCompile(`^[A-Z]{3,5}$`)

// FuzzParsePrice checks that any input parses without panicking to a
// finite, non-negative amount and a currency code or nothing.
func FuzzParsePrice(f *testing.F) {
	for _, s := range []string{"€ 45,00", "$1,200.50", "1.200,50 €", "0.0021 BTC", "1 200 ₽", "CHF 1'200.50",
		"9999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999 EUR",
		"1.2.3,4,5", "\xff\xfe€1", "EUR EUR 1 1", "1\u00a0\u00a0200"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		amount, cur, ok := ParsePrice(s)
		if !ok {
			if amount != 0 || cur != "" {
				t.Fatalf("ParsePrice(%q) not ok but returned %v %q", s, amount, cur)
			}
			return
		}
		if math.IsNaN(amount) || math.IsInf(amount, 0) || amount < 0 {
			t.Fatalf("ParsePrice(%q) amount %v", s, amount)
		}
		if cur != "" && !codeRE.MatchString(cur) {
			t.Fatalf("ParsePrice(%q) currency %q", s, cur)
		}
	})
}

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"HTTP://Example.COM:80/a?b=2&a=1#frag", "http://example.com/a?a=1&b=2"},
		{"https://shop.test:443", "https://shop.test/"},
		{"https://shop.test:8443/x", "https://shop.test:8443/x"},
		{"http://abc.onion/item/5?utm_source=x&utm_medium=y&ref=home&id=5&sid=abc", "http://abc.onion/item/5?id=5"},
		{"http://user:pw@host.test/p", "http://host.test/p"},
		{"http://host.test/a/./b/../c/", "http://host.test/a/c/"},
		{"http://host.test/p;jsessionid=ABC?x=1", "http://host.test/p?x=1"},
		{"http://forum.test/index.php;PHPSESSID=abc123?topic=5.0", "http://forum.test/index.php?topic=5.0"},
		{"http://shop.test/product_info.php?products_id=7&osCsid=9f8e7d", "http://shop.test/product_info.php?products_id=7"},
		{"http://shop.test/index.php?main_page=product_info&products_id=7&zenid=abc", "http://shop.test/index.php?main_page=product_info&products_id=7"},
		{"http://host.test/search?q=a+b&q=c%20d&page=2", "http://host.test/search?page=2&q=a+b&q=c%20d"},
		{"http://host.test./p?", "http://host.test/p"},
		{"http://[::1]:80/p", "http://[::1]/p"},
		{"http://host.test/caf%C3%A9", "http://host.test/caf%C3%A9"},
		{"http://host.test/?FBCLID=1&b", "http://host.test/?b"},
		// vBulletin's session hash, new on each visit, is dropped; a search is not.
		{"http://f.onion/showthread.php?t=77&s=0123456789abcdef0123456789ABCDEF", "http://f.onion/showthread.php?t=77"},
		{"http://f.onion/search.php?s=nitric+acid&t=1", "http://f.onion/search.php?s=nitric+acid&t=1"},
		{"http://f.onion/search.php?s=0123456789abcdef0123456789abcdeg", "http://f.onion/search.php?s=0123456789abcdef0123456789abcdeg"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatalf("parse %q: %v", tt.in, err)
		}
		if got := Canonical(u); got != tt.want {
			t.Errorf("Canonical(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Canonical(nil); got != "" {
		t.Errorf("Canonical(nil) = %q, want empty", got)
	}
}

func TestIDFromURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://m.onion/listing/12345":              "12345",
		"http://m.onion/item.php?id=77&cat=3":       "77",
		"http://m.onion/item/abc-def/view":          "abc-def",
		"http://shop.test/products/acetone-1l.html": "acetone-1l",
		"http://shop.test/?product_id=9":            "9",
		"http://shop.test/":                         "",
		// A script named by its query: its name is every thread's.
		"http://f.onion/viewtopic.php?t=5&sid=0123abcd":     "",
		"http://f.onion/forum/showthread.php?t=77":          "",
		"http://f.onion/viewtopic.php?sid=0123abcd":         "viewtopic", // only a session left: the script is the page
		"http://m.onion/offer/nitric-acid-65.php":           "nitric-acid-65",
		"http://m.onion/ad/nitric-acid-65-1009.html?slot=1": "nitric-acid-65-1009",
		// A number and its slug: two vendors' "nitric-acid-65" are two listings.
		"http://m.onion/listing/201/nitric-acid-65":    "201",
		"http://m.onion/listing/101/nitric-acid-65":    "101",
		"http://m.onion/item/7/nitric-acid-65-1l.html": "7",
		"http://m.onion/artikel/4713/ansicht":          "4713",
		"http://blog.test/2024/05/nitric-acid-65":      "nitric-acid-65", // a date, not an ID
		"http://m.onion/vendor/alice/nitric-acid-65":   "nitric-acid-65",
		"http://m.onion/c/12/34":                       "34",
	} {
		u, _ := url.Parse(in)
		if got := idFromURL(u); got != want {
			t.Errorf("idFromURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPriceElement reads the current price from a price element as shops
// show it: a sale's former price struck out, and repeated, with the
// current one, in text only screen readers get (WooCommerce).
func TestPriceElement(t *testing.T) {
	for _, tt := range []struct {
		name, html string
		want       float64
		cur        string
	}{
		{"woocommerce sale", `<span class="price"><del aria-hidden="true"><span class="woocommerce-Price-amount amount"><bdi>39,90&nbsp;<span class="woocommerce-Price-currencySymbol">&euro;</span></bdi></span></del> ` +
			`<span class="screen-reader-text">Original price was: 39,90&nbsp;&euro;.</span><ins aria-hidden="true"><span class="woocommerce-Price-amount amount"><bdi>34,90&nbsp;<span class="woocommerce-Price-currencySymbol">&euro;</span></bdi></span></ins>` +
			`<span class="screen-reader-text">Current price is: 34,90&nbsp;&euro;.</span></span>`, 34.90, "EUR"},
		{"bootstrap sr-only", `<div class="price"><s>$45.00</s><span class="sr-only">was $45.00, now</span> $39.00</div>`, 39, "USD"},
		{"variable from", `<span class="price">from <span class="amount"><bdi>12,90&nbsp;&euro;</bdi></span></span>`, 12.90, "EUR"},
		{"thousands", `<span class="price"><bdi>1.234,56&nbsp;&euro;</bdi></span>`, 1234.56, "EUR"},
		{"hidden attribute", `<p class="price"><span hidden>€ 99,00</span> € 7,49</p>`, 7.49, "EUR"},
		{"only screen-reader text", `<span class="price"><span class="screen-reader-text">€ 5,00</span></span>`, 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := compileField("price", "span.price, div.price, p.price")
			if err != nil {
				t.Fatal(err)
			}
			doc, err := html.Parse(strings.NewReader(tt.html))
			if err != nil {
				t.Fatal(err)
			}
			v, cur := f.price(doc)
			if v != tt.want || cur != tt.cur {
				t.Errorf("price = %v %q, want %v %q", v, cur, tt.want, tt.cur)
			}
		})
	}
}
