package extract

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// firstWithID returns the element under root whose id is id.
func firstWithID(root *html.Node, id string) *html.Node {
	for n := root; n != nil; n = Next(root, n) {
		if v, ok := attr(n, "id"); ok && v == id {
			return n
		}
	}
	return nil
}

// TestHiddenText: text a browser does not show inside a selected element
// (hidden attribute, inline style, a class the page's style sheet hides)
// is left out of its fields; block elements and the selected element
// itself are read.
func TestHiddenText(t *testing.T) {
	page := `<html><head><style>
.k9x{display:none}
@media screen { span.m1 { visibility : hidden } }
.z0 { font-size: 0px }
.small { font-size: 0.8em }
.k:hover { display: none }
.title .deep { display:none }
</style></head><body>
<h3 id=a>Nitro<span hidden>xx</span>methane 98%</h3>
<h3 id=b>Hydrogen peroxide <span class=k9x>35% </span>6%</h3>
<h3 id=c>Nettle shampoo<span class="x k9x"> potassium chlorate 99%</span></h3>
<div id=d>€ 2<span style="display: none">7</span>9,00</div>
<h3 id=e>Acetone<span class=m1>-free</span> 99 %</h3>
<h3 id=f>Nitric <b class=z0>x</b>acid <i class=small>65 %</i></h3>
<h3 id=g>Sulfuric <span class=k>acid</span></h3>
<div id=h><p>Intro</p><div style="display:none">Strength 35 %</div></div>
<span id=i style="display:none">12.50</span>
<h3 id=j class=title>Kalium<span class=deep>x</span>nitrat</h3>
</body></html>`
	root, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	ApplyStyles(root)
	for id, want := range map[string]string{
		"a": "Nitromethane 98%",
		"b": "Hydrogen peroxide 6%",
		"c": "Nettle shampoo",
		"d": "€ 29,00",
		"e": "Acetone 99 %",
		"f": "Nitric acid 65 %",     // a zero font hides, 0.8em does not
		"g": "Sulfuric acid",        // hidden only on hover
		"h": "Intro\nStrength 35 %", // a collapsed block is the page's text
		"i": "12.50",                // the selected element itself
		"j": "Kaliumnitrat",
	} {
		n := firstWithID(root, id)
		if n == nil {
			t.Fatalf("no element %s", id)
		}
		if got := keptNodeText(n, maxDescription); got != want {
			t.Errorf("%s: got %q, want %q", id, got, want)
		}
	}
	if got := priceText(firstWithID(root, "d")); got != "€ 29,00" {
		t.Errorf("price: got %q", got)
	}
}

// TestHiddenClassesBounded: a page's style sheets are read up to a bound
// and mark at most maxHiddenClasses classes.
func TestHiddenClassesBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("<style>")
	for i := 0; i < 3*maxHiddenClasses; i++ {
		b.WriteString(".c")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(strings.Repeat("y", i/26))
		b.WriteString("{display:none}")
	}
	b.WriteString("</style>")
	root, err := html.Parse(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(readStyles(root).hidden); n != maxHiddenClasses {
		t.Errorf("%d hidden classes, want the bound %d", n, maxHiddenClasses)
	}
}
