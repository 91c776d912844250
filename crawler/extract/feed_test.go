package extract

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// TestXMLDocument: a feed cut off mid-item gives the items read before the
// cut; text with no tag stays text ("a < b" is no markup); nesting past
// maxFeedDepth is dropped, not followed; a body with no element is an error.
func TestXMLDocument(t *testing.T) {
	doc, err := XMLDocument([]byte(`<rss><channel><item><title>Nitric acid 65 % &amp; more</title><description>a &lt; b</description></item><item><title>Beaker`))
	if err != nil {
		t.Fatal(err)
	}
	titles := doc.Find("item > title").Map(func(_ int, s *goquery.Selection) string { return s.Text() })
	if len(titles) != 2 || titles[0] != "Nitric acid 65 % & more" || titles[1] != "Beaker" {
		t.Errorf("titles %q", titles)
	}
	if d := doc.Find("description"); d.Text() != "a < b" || d.Children().Length() != 0 {
		t.Errorf("description %q with %d children, want the text alone", d.Text(), d.Children().Length())
	}
	deep := strings.Repeat("<x>", 5000) + "deep" + strings.Repeat("</x>", 5000)
	doc, err = XMLDocument([]byte("<feed>" + deep + "</feed>"))
	if err != nil {
		t.Fatal(err)
	}
	if n := doc.Find("x").Length(); n >= maxFeedDepth {
		t.Errorf("%d nested elements kept, want under %d", n, maxFeedDepth)
	}
	if _, err := XMLDocument([]byte("no xml here")); err == nil {
		t.Error("a body with no element: want an error")
	}
}
