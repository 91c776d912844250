package extract

// Vendor profiles (issue 11): the text of a vendor's profile page, read for
// identifiers (crawler/extract/vendorid).

import (
	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// maxVendorText bounds the text read from one vendor page (vendorid scans
// at most 4 MiB anyway).
const maxVendorText = 1 << 20

// VendorText returns the text of a vendor page to read identifiers from:
// that of the elements the rules' vendor_page selector matches, else the
// whole body. Scripts and styles are never text; whitespace is collapsed,
// which vendorid's key block reader expects.
func (e *extractor) VendorText(doc *goquery.Document) string {
	if doc == nil || len(doc.Nodes) == 0 {
		return ""
	}
	root := doc.Nodes[0]
	nodes := []*html.Node{root}
	if e.vendorPage != nil {
		nodes = cascadia.QueryAll(root, e.vendorPage)
	}
	t := newText(maxVendorText)
	for _, n := range nodes {
		t.sep()
		appendText(t, n)
	}
	return t.String()
}
