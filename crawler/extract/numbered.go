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
// n+1 for the page after page n of the template. An API paginated by
// offset (?limit=24&offset=48, Medusa's, Strapi's start=) is named with
// {offset} instead: the page after one at offset k that showed m listings
// is at offset k+m (a page not of the template is at offset 0), so the
// page size need not be known, and a short count (listings merged as one)
// re-reads some rows rather than skips any.

// pageMarker stands for {n} while the template is resolved: letters only,
// so that URL parsing leaves it as it is.
const pageMarker = "PRECWATCHPAGENUMBER"

// NumberedPages is a compiled `pages` template.
type NumberedPages struct {
	tmpl string
	// ph is the template's placeholder: "{n}" or "{offset}".
	ph string
}

// CompileNumberedPages checks a `pages` template: a URL, absolute or
// relative to the page, with exactly one {n}. It returns nil for "".
func CompileNumberedPages(tmpl string) (*NumberedPages, error) {
	tmpl = strings.TrimSpace(tmpl)
	if tmpl == "" {
		return nil, nil
	}
	ph := "{n}"
	switch n, o := strings.Count(tmpl, "{n}"), strings.Count(tmpl, "{offset}"); {
	case n == 1 && o == 0:
	case n == 0 && o == 1:
		ph = "{offset}"
	default:
		return nil, &FieldError{Field: "pages", Err: fmt.Errorf("want a URL with one {n} (the page number) or one {offset} (the listings before the page), got %q", tmpl)}
	}
	u, err := url.Parse(strings.Replace(tmpl, ph, "2", 1))
	if err != nil {
		return nil, &FieldError{Field: "pages", Err: fmt.Errorf("bad URL %q: %v", tmpl, err)}
	}
	if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return nil, &FieldError{Field: "pages", Err: fmt.Errorf("want an http or https URL, got %q", tmpl)}
	}
	return &NumberedPages{tmpl: tmpl, ph: ph}, nil
}

// pattern resolves the template against page, with a group for {n}.
func (p *NumberedPages) pattern(page *url.URL) (*regexp.Regexp, error) {
	u, err := page.Parse(strings.Replace(p.tmpl, p.ph, pageMarker, 1))
	if err != nil {
		return nil, err
	}
	return regexp.Compile("^" + strings.Replace(regexp.QuoteMeta(u.String()), pageMarker, "([0-9]{1,9})", 1) + "$")
}

// Number reports which page of the template pageURL (as it was asked for,
// resolved against page) is: its number, or for {offset} 1 at offset 0
// and 2 past it.
func (p *NumberedPages) Number(pageURL string, page *url.URL) (int, bool) {
	v, ok := p.value(pageURL, page)
	if ok && p.ph == "{offset}" {
		return 1 + min(v, 1), true
	}
	return v, ok
}

// value is the number the template's placeholder has in pageURL.
func (p *NumberedPages) value(pageURL string, page *url.URL) (int, bool) {
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

// Next returns the URL of the page after pageURL, which showed listings
// listings: page n+1 when pageURL is page n of the template, else page 2;
// for {offset}, the offset past those listings.
func (p *NumberedPages) Next(pageURL string, page *url.URL, listings int) (string, bool) {
	if p == nil || page == nil {
		return "", false
	}
	v, ok := p.value(pageURL, page)
	next := v + 1
	switch {
	case p.ph == "{offset}" && ok:
		next = v + listings
	case p.ph == "{offset}":
		next = listings
	case !ok:
		next = 2
	}
	u, err := page.Parse(strings.Replace(p.tmpl, p.ph, strconv.Itoa(next), 1))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	return u.String(), true
}
