package extract

import (
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
)

var (
	canonicalLinkSel = cascadia.MustCompile(`link[rel~=canonical i][href]`)
	baseSel          = cascadia.MustCompile(`base[href]`)
)

// CanonicalLink returns the URL a page declares as its canonical one
// (<link rel="canonical" href="...">), resolved against the page and its
// <base href>, in Canonical form; "" when the page declares none or it is
// no http(s) URL. Whether it may stand for a listing (its host, whether
// it names an index page) is the caller's to judge.
func CanonicalLink(doc *goquery.Document, page *url.URL) string {
	if doc == nil || page == nil || len(doc.Nodes) == 0 {
		return ""
	}
	root := doc.Nodes[0]
	n := cascadia.Query(root, canonicalLinkSel)
	if n == nil {
		return ""
	}
	href, _ := attr(n, "href")
	base := page
	if b := cascadia.Query(root, baseSel); b != nil {
		v, _ := attr(b, "href")
		if u, err := page.Parse(strings.TrimSpace(v)); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			base = u
		}
	}
	u := resolve(base, href)
	if u == nil {
		return ""
	}
	return Canonical(u)
}

// IDFromURL is the listing ID an index row without an id rule is given
// from its URL (see the README's "Listing identity"): an id-like query
// parameter, else the last path segment that names no page kind; "" when
// the URL gives none or does not parse.
func IDFromURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return idFromURL(u)
}
