package extract

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Numbered pages (probe 4). An infinite-scroll catalogue loads its further
// pages from an endpoint its script builds (/ajax/more?page=2), which no
// link of the page names; a site's `pages` template names them: {n} is the
// page number, 2 for the page after a start URL (or any other index page),
// n+1 for the page after page n of the template.

// pageMarker stands for {n} while the template is resolved: letters only,
// so that URL parsing leaves it as it is.
const pageMarker = "PRECWATCHPAGENUMBER"

// NumberedPages is a compiled `pages` template.
type NumberedPages struct {
	tmpl string
}

// CompileNumberedPages checks a `pages` template: a URL, absolute or
// relative to the page, with exactly one {n}. It returns nil for "".
func CompileNumberedPages(tmpl string) (*NumberedPages, error) {
	tmpl = strings.TrimSpace(tmpl)
	if tmpl == "" {
		return nil, nil
	}
	if strings.Count(tmpl, "{n}") != 1 {
		return nil, &FieldError{Field: "pages", Err: fmt.Errorf("want a URL with one {n} (the page number), got %q", tmpl)}
	}
	u, err := url.Parse(strings.Replace(tmpl, "{n}", "2", 1))
	if err != nil {
		return nil, &FieldError{Field: "pages", Err: fmt.Errorf("bad URL %q: %v", tmpl, err)}
	}
	if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return nil, &FieldError{Field: "pages", Err: fmt.Errorf("want an http or https URL, got %q", tmpl)}
	}
	return &NumberedPages{tmpl: tmpl}, nil
}

// pattern resolves the template against page, with a group for {n}.
func (p *NumberedPages) pattern(page *url.URL) (*regexp.Regexp, error) {
	u, err := page.Parse(strings.Replace(p.tmpl, "{n}", pageMarker, 1))
	if err != nil {
		return nil, err
	}
	return regexp.Compile("^" + strings.Replace(regexp.QuoteMeta(u.String()), pageMarker, "([0-9]{1,9})", 1) + "$")
}

// Number reports which page of the template pageURL (as it was asked for,
// resolved against page) is.
func (p *NumberedPages) Number(pageURL string, page *url.URL) (int, bool) {
	if p == nil || page == nil {
		return 0, false
	}
	re, err := p.pattern(page)
	if err != nil {
		return 0, false
	}
	m := re.FindStringSubmatch(pageURL)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// Next returns the URL of the page after pageURL: page n+1 when pageURL is
// page n of the template, else page 2.
func (p *NumberedPages) Next(pageURL string, page *url.URL) (string, bool) {
	if p == nil || page == nil {
		return "", false
	}
	n, ok := p.Number(pageURL, page)
	if !ok {
		n = 1
	}
	u, err := page.Parse(strings.Replace(p.tmpl, "{n}", strconv.Itoa(n+1), 1))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	return u.String(), true
}
