package extract

import (
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxLinkHeaderLinks bounds the links one response's Link headers add.
const maxLinkHeaderLinks = 32

// AddLinkHeader adds the links of a response's HTTP Link header values
// (RFC 8288: `</shop?offset=12&limit=12>; rel="next"`) to doc as <link>
// elements with their rel, as browsers treat such a header as the same
// element in the page's head: an infinite-scroll catalogue or a REST API
// (WordPress, GitHub) that names its next page only there is paged by the
// rel=next links read without a next_page rule, and a next_page rule
// "link[rel=next] @href" selects them too. The links go in the document's
// <head>, or at the end of its root element where it has none (a JSON or
// XML document).
func AddLinkHeader(doc *goquery.Document, values []string) {
	if doc == nil || len(values) == 0 {
		return
	}
	var parent *html.Node
	if h := doc.Find("head").First(); h.Length() > 0 {
		parent = h.Get(0)
	} else {
		for n := doc.Get(0).FirstChild; n != nil && parent == nil; n = n.NextSibling {
			if n.Type == html.ElementNode {
				parent = n
			}
		}
	}
	if parent == nil {
		return
	}
	added := 0
	for _, v := range values {
		for _, l := range parseLinkHeader(v) {
			if added == maxLinkHeaderLinks {
				return
			}
			added++
			parent.AppendChild(&html.Node{Type: html.ElementNode, DataAtom: atom.Link, Data: "link",
				Attr: []html.Attribute{{Key: "href", Val: l.href}, {Key: "rel", Val: l.rel}}})
		}
	}
}

type headerLink struct{ href, rel string }

// parseLinkHeader reads one Link header value: links separated by commas
// outside their <...>, each with parameters; only those with a rel are
// kept. A malformed link is skipped, not the others.
func parseLinkHeader(v string) []headerLink {
	var out []headerLink
	for len(v) > 0 {
		v = strings.TrimLeft(v, " \t,")
		if !strings.HasPrefix(v, "<") {
			// Not a link: skip to the next one.
			i := strings.IndexByte(v, ',')
			if i < 0 {
				break
			}
			v = v[i+1:]
			continue
		}
		end := strings.IndexByte(v, '>')
		if end < 0 {
			break
		}
		l := headerLink{href: strings.TrimSpace(v[1:end])}
		v = v[end+1:]
		// Parameters up to the next comma outside a quoted string.
		for {
			v = strings.TrimLeft(v, " \t")
			if !strings.HasPrefix(v, ";") {
				break
			}
			v = strings.TrimLeft(v[1:], " \t")
			i := strings.IndexAny(v, "=;,")
			if i < 0 {
				v = ""
				break
			}
			name := strings.ToLower(strings.TrimSpace(v[:i]))
			if v[i] != '=' {
				v = v[i:]
				continue
			}
			v = strings.TrimLeft(v[i+1:], " \t")
			var val string
			if strings.HasPrefix(v, `"`) {
				j := strings.IndexByte(v[1:], '"')
				if j < 0 {
					val, v = v[1:], ""
				} else {
					val, v = v[1:j+1], v[j+2:]
				}
			} else {
				j := strings.IndexAny(v, ";,")
				if j < 0 {
					j = len(v)
				}
				val, v = strings.TrimSpace(v[:j]), v[j:]
			}
			if name == "rel" && l.rel == "" {
				l.rel = strings.ToLower(val)
			}
		}
		if l.rel != "" && l.href != "" {
			out = append(out, l)
		}
	}
	return out
}
