package extract

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
)

// Feeds: a shop's or a board's RSS or Atom feed (WooCommerce's product
// feed, a classifieds board's "newest ads", a forum's topics) lists its
// entries with title, link and description, far cheaper to fetch over Tor
// than the pages. XMLDocument turns one into a tree the site's selectors
// read: an element per XML element, named by its local name, lower case
// (`item`, `title`, `link`, `guid`; `dc:creator` is `creator`,
// `content:encoded` is `encoded`), with its attributes (Atom's
// `link @href`), and the escaped or CDATA HTML of a description parsed as
// HTML, so that its text is the visible text and selectors reach inside it.

// maxFeedDepth bounds the nesting of a feed's elements.
const maxFeedDepth = 64

// XMLDocument parses an XML response, an RSS, RDF or Atom feed as a rule,
// into a document the site's selectors read (see the comment above). A
// feed that breaks off gives what was read before the break.
func XMLDocument(body []byte) (*goquery.Document, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	d.CharsetReader = charset.NewReaderLabel
	root := &html.Node{Type: html.DocumentNode}
	cur, depth, elements := root, 0, 0
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			appendFeedText(cur, text.String())
			text.Reset()
		}
	}
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) || elements > 0 {
				break
			}
			return nil, fmt.Errorf("extract: feed: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			flush()
			elements++
			if depth >= maxFeedDepth {
				d.Skip()
				continue
			}
			n := &html.Node{Type: html.ElementNode, Data: strings.ToLower(t.Name.Local)}
			n.DataAtom = atom.Lookup([]byte(n.Data))
			for _, a := range t.Attr {
				n.Attr = append(n.Attr, html.Attribute{Key: strings.ToLower(a.Name.Local), Val: a.Value})
			}
			cur.AppendChild(n)
			cur, depth = n, depth+1
		case xml.EndElement:
			flush()
			if cur != root {
				cur, depth = cur.Parent, depth-1
			}
		case xml.CharData:
			text.Write(t)
		}
	}
	flush()
	if elements == 0 {
		return nil, errors.New("extract: feed: no XML element")
	}
	return goquery.NewDocumentFromNode(root), nil
}

// appendFeedText appends s to n: as HTML when it holds markup (an RSS
// description's escaped or CDATA HTML), else as text.
func appendFeedText(n *html.Node, s string) {
	if !holdsMarkup(s) {
		n.AppendChild(&html.Node{Type: html.TextNode, Data: s})
		return
	}
	ctx := &html.Node{Type: html.ElementNode, DataAtom: atom.Div, Data: "div"}
	nodes, err := html.ParseFragmentWithOptions(strings.NewReader(s), ctx, html.ParseOptionEnableScripting(false))
	if err != nil {
		n.AppendChild(&html.Node{Type: html.TextNode, Data: s})
		return
	}
	for _, c := range nodes {
		n.AppendChild(c)
	}
}

// holdsMarkup reports whether s has a tag: "<" before a letter or "/".
func holdsMarkup(s string) bool {
	for i := strings.IndexByte(s, '<'); i >= 0 && i+1 < len(s); {
		c := s[i+1]
		if c == '/' || c == '!' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			return true
		}
		j := strings.IndexByte(s[i+1:], '<')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}
