package precwatch

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"time"
)

// DefaultTorProxy is the SOCKS5 address of a local Tor client.
const DefaultTorProxy = "socks5://127.0.0.1:9050"

// Site is one monitored marketplace and how to crawl it.
type Site struct {
	Name      string   `yaml:"name" json:"name"`
	StartURLs []string `yaml:"start_urls" json:"start_urls"`
	// Tor marks a dark-web site: it is only ever fetched through its SOCKS5
	// proxy, with names resolved by the proxy. Any .onion host is Tor
	// whatever this flag says; see IsTor.
	Tor bool `yaml:"tor" json:"tor"`
	// Proxy is the SOCKS5 proxy URL; DefaultTorProxy for Tor sites when empty.
	Proxy string `yaml:"proxy" json:"proxy,omitempty"`
	// Schedule is a robfig/cron spec (five fields, descriptors such as
	// @every 1h, and a CRON_TZ= prefix). Empty: the site is crawled only
	// on demand (precwatch crawl, the console's "Start now").
	Schedule   string     `yaml:"schedule" json:"schedule"`
	Politeness Politeness `yaml:"politeness" json:"politeness"`
	Limits     Limits     `yaml:"limits" json:"limits"`
	Extract    Extraction `yaml:"extract" json:"extract"`

	// Sessions (issue 8): an optional login form, and how to recognise the
	// pages that stop a run (logged out; captcha, anti-DDoS, queue).
	Login       *Login      `yaml:"login" json:"login,omitempty"`
	PageClasses PageClasses `yaml:"page_classes" json:"page_classes,omitzero"`
	// Incremental says when a re-crawl fetches a page again (issue 8).
	Incremental Incremental `yaml:"incremental" json:"incremental"`

	// Circuits and mirrors (issue 8).

	// Circuits is how many isolated Tor circuits the site's requests are
	// spread over (default: Politeness.Parallelism, itself default 1). Each
	// circuit has SOCKS credentials of its own (Tor isolates streams by
	// them) and carries one request at a time, so at most Circuits requests
	// are in flight.
	Circuits int `yaml:"circuits" json:"circuits,omitempty"`
	// Mirrors are other origins (scheme://host[:port]) serving the same
	// site as the host of the first start URL, the primary. A run fails over
	// to the next mirror when one fails; URLs are always stored on the
	// primary host, so listings and alerts do not depend on the mirror.
	Mirrors []string `yaml:"mirrors" json:"mirrors,omitempty"`
	// ExtraHosts (hosts:) are other hosts the site's own pages are on (a second domain
	// its pager redirects to, a host of its product pages): fetched and
	// read as the site's, through its proxy. Unlike a mirror's, a page read
	// there is no reason to leave listings undecided.
	ExtraHosts []string `yaml:"hosts" json:"hosts,omitempty"`

	// Charset is the charset of the site's pages that declare none (no
	// Content-Type charset, byte order mark or <meta>) and are not UTF-8,
	// as a WHATWG label (koi8-r, windows-1251, iso-8859-2, gbk): a
	// browser's fallback encoding. Empty: East Asian multi-byte encodings
	// are sniffed, else windows-1252.
	Charset string `yaml:"charset" json:"charset,omitempty"`
}

// DefaultRefreshAfter is Incremental.RefreshAfter when left at zero.
const DefaultRefreshAfter = 24 * time.Hour

// Incremental tunes incremental re-crawls: a listing's detail page is
// fetched only when the listing is new (or was gone), its index row
// changed, or its last detail fetch is older than RefreshAfter; pages
// with validators are fetched conditionally.
type Incremental struct {
	// RefreshAfter is how old a listing's last detail fetch may be before
	// an unchanged listing's detail page is fetched again
	// (DefaultRefreshAfter when zero).
	RefreshAfter time.Duration `yaml:"refresh_after" json:"refresh_after"`
	// StopAfterUnchangedPages, for markets listing newest first, stops
	// following an index page's links (next page included) once it is the
	// Nth index page in a row, along its chain of links, with no new or
	// changed listing. Zero never stops. A run stopped this way does not
	// mark unseen listings gone.
	StopAfterUnchangedPages int `yaml:"stop_after_unchanged_pages" json:"stop_after_unchanged_pages"`
}

// Politeness bounds how hard a crawl presses on a site.
type Politeness struct {
	// Parallelism is the number of requests in flight at once (default:
	// Site.Circuits, itself default 1). Each circuit carries one request at
	// a time, so it may not exceed Circuits.
	Parallelism int `yaml:"parallelism" json:"parallelism"`
	// Delay is the wait between requests to the site.
	Delay time.Duration `yaml:"delay" json:"delay"`
	// RandomDelay adds up to this much extra wait.
	RandomDelay time.Duration `yaml:"random_delay" json:"random_delay"`
	// MaxDelay caps the wait between requests that 429 and 503 answers
	// widen it to (default 1m; never below Delay).
	MaxDelay time.Duration `yaml:"max_delay" json:"max_delay,omitempty"`
	// UserAgent overrides the crawler's User-Agent.
	UserAgent string `yaml:"user_agent" json:"user_agent,omitempty"`
	// Headers are sent with every request to the site, replacing the
	// crawler's own of the same name (Accept, Accept-Language): what a
	// site requires before it answers ("Accept-Language: pl", a JSON API's
	// "Apollo-Require-Preflight: true"). Headers the crawler manages
	// (Host, Cookie, User-Agent, conditional and hop-by-hop headers) are
	// refused.
	Headers map[string]string `yaml:"headers" json:"headers,omitempty"`
}

// Limits bound one run of a crawl. A run stopped by MaxPages, MaxDepth,
// RunTimeout or MaxRetryAfter ends partial with an error naming the limit
// and its value, and marks nothing gone.
type Limits struct {
	// MaxPages counts every page scheduled in a run, index and detail
	// (retries, redirects and Retry-After waits are not pages; default 200).
	MaxPages int `yaml:"max_pages" json:"max_pages"`
	// MaxDepth counts followed link hops from a start URL other than
	// pagination: a category or links-rule link is one hop, a next-page link
	// and a listing's detail page are none, so a paginated listing index is
	// read to its end whatever the depth (default 5).
	MaxDepth int `yaml:"max_depth" json:"max_depth"`
	// MaxBodyBytes caps one response body after decompression.
	MaxBodyBytes int64 `yaml:"max_body_bytes" json:"max_body_bytes"`
	// RequestTimeout caps one request, to the end of its response headers.
	RequestTimeout time.Duration `yaml:"request_timeout" json:"request_timeout"`
	// RunTimeout caps a whole run, waits included (default 10m).
	RunTimeout time.Duration `yaml:"run_timeout" json:"run_timeout"`
	// Retries is how many times a 5xx or timed-out request is retried, with
	// exponential backoff; negative disables retries.
	Retries int `yaml:"retries" json:"retries"`
	// MaxRetryAfter caps the wait a 429 or 503 answer may ask for with
	// Retry-After (default 5m); a longer wait ends the run partial.
	MaxRetryAfter time.Duration `yaml:"max_retry_after" json:"max_retry_after,omitempty"`
}

// Extraction modes.
const (
	ExtractSelectors = "selectors"
	ExtractJSONLD    = "jsonld"
	// ExtractJSON reads listings from a JSON state blob in a script (a
	// client-rendered shop's __NEXT_DATA__ or window.__INITIAL_STATE__):
	// Listing and the fields are JSON paths, Script selects the scripts.
	ExtractJSON = "json"
)

// Extraction says how listings are read from a site's pages. A selector is
// CSS; a trailing " @attr" reads that attribute instead of the text, as in
// "a.title @href", and a bare "@attr" reads the listing container's own.
type Extraction struct {
	// Mode is ExtractSelectors (default), ExtractJSONLD (schema.org Product
	// in JSON-LD, microdata or RDFa Lite) or ExtractJSON (a script's JSON state).
	Mode string `yaml:"mode" json:"mode"`
	// Script, in ExtractJSON mode, is the CSS selector of the scripts
	// holding the state (default: every inline script).
	Script  string `yaml:"script" json:"script,omitempty"`
	Listing string `yaml:"listing" json:"listing,omitempty"`
	ID      string `yaml:"id" json:"id,omitempty"`
	Title   string `yaml:"title" json:"title,omitempty"`
	Price   string `yaml:"price" json:"price,omitempty"`
	// PriceMinorUnits says the price is written in the currency's minor
	// units, as shop APIs and data- attributes often keep it (5400 for
	// 54.00 EUR, Stripe's and Medusa's amounts): it is divided by 100, or
	// by 1 or 1000 for the currencies ISO 4217 gives no or three decimals.
	PriceMinorUnits bool   `yaml:"price_minor_units" json:"price_minor_units,omitempty"`
	Currency        string `yaml:"currency" json:"currency,omitempty"`
	Vendor          string `yaml:"vendor" json:"vendor,omitempty"`
	Description     string `yaml:"description" json:"description,omitempty"`
	URL             string `yaml:"url" json:"url,omitempty"`
	NextPage        string `yaml:"next_page" json:"next_page,omitempty"`
	// IDIgnoreCase compares listing IDs (the id rule's, or those taken from
	// URLs) without regard to case, for a market that links one listing
	// as /l/AbC123 and /l/abc123; IDs are then stored in lower case.
	IDIgnoreCase bool `yaml:"id_ignore_case" json:"id_ignore_case,omitempty"`
	// ListingSiblings selects the siblings after each listing element that
	// belong to its listing, up to the next listing element: rows made of
	// a <dt> and its <dd>, or a title row and a details row of a table.
	ListingSiblings string `yaml:"listing_siblings" json:"listing_siblings,omitempty"`
	// Frame, in detail rules only, selects the frame (an <iframe>'s src,
	// or " @attr") of a detail page whose document holds the listing's
	// text: it is fetched too, and the detail rules read there win over
	// those read on the page.
	Frame string `yaml:"frame" json:"frame,omitempty"`
	// Pages, when set, is a URL template of index pages no link names (an
	// infinite-scroll catalogue's /ajax/more?page={n}): {n} counts from 2,
	// page by page, while each page shows a listing new to the run; an
	// API paginated by offset names {offset} instead, the listings read
	// before the page (?limit=24&offset={offset}).
	Pages string `yaml:"pages" json:"pages,omitempty"`
	// Variants selects a listing's variants (a shop's size or strength
	// options, each with its own strength): each adds a line "title —
	// variant" to the description, so that each strength is read beside
	// the product's name. A CSS selector, or in mode json a path
	// ("variants[].title").
	Variants string `yaml:"variants" json:"variants,omitempty"`
	// LineItems, in the site's selector rules, selects the element inside
	// each listing element (a forum post) whose lines each offer one
	// product ("- Nitromethane 99 % 1 L €60"): every line led by a bullet
	// or an item number, or stating a price, becomes a listing of its own,
	// with the post's vendor and link; the post keeps its other lines.
	LineItems string `yaml:"line_items" json:"line_items,omitempty"`
	// LoadMore, in the site's own selector or jsonld rules, reads a
	// catalogue whose "Load more" button asks an endpoint for its next
	// cards: the endpoint answers JSON carrying them as HTML and an opaque
	// cursor to the cards after them.
	LoadMore *LoadMore `yaml:"load_more" json:"load_more,omitempty"`
	// GraphQL, in the site's mode json rules, asks each start URL by POST
	// with a GraphQL query, as an API that refuses GET does; next_page is
	// then the path of the next page's cursor, sent in the same query.
	GraphQL *GraphQL `yaml:"graphql" json:"graphql,omitempty"`
	// Detail, when set, follows each listing's URL and reads the fields it
	// names from the detail page, overriding those of the index page.
	Detail *Extraction `yaml:"detail" json:"detail,omitempty"`
	// Links are extra selectors of pages to follow (categories, say).
	Links []string `yaml:"links" json:"links,omitempty"`

	// Vendor profiles (issue 11). VendorURL selects the listing's link to
	// its vendor's profile page, whose identifiers (PGP keys, wallets,
	// contacts) the crawler reads once per run; VendorPage, when set, is
	// the part of that page to read (default: the whole body), so that a
	// market's own footer contact is not taken for the vendor's.
	VendorURL  string `yaml:"vendor_url" json:"vendor_url,omitempty"`
	VendorPage string `yaml:"vendor_page" json:"vendor_page,omitempty"`
}

// LoadMore is a "Load more" endpoint (see Extraction.LoadMore).
type LoadMore struct {
	// URL is the endpoint's URL with {cursor} where the cursor goes
	// ("/api/more?cursor={cursor}"), resolved against the page.
	URL string `yaml:"url" json:"url"`
	// Cursor is the rule (CSS, with " @attr") reading the first cursor on
	// an HTML page: the button's data- attribute, say.
	Cursor string `yaml:"cursor" json:"cursor"`
	// HTML is the JSON path(s) of the HTML the endpoint answers (a string,
	// or an array of strings), read with the site's selectors.
	HTML string `yaml:"html" json:"html"`
	// NextCursor is the JSON path of the next cursor in the answer; where
	// it is null, empty or missing the catalogue ends.
	NextCursor string `yaml:"next_cursor" json:"next_cursor"`
}

// GraphQL is a query POSTed as JSON ({"query": ..., "variables": ...},
// Content-Type application/json) to each start URL, and again with
// Cursor set to each next page's cursor.
type GraphQL struct {
	Query string `yaml:"query" json:"query"`
	// Variables are sent with every request (page sizes, filters).
	Variables map[string]any `yaml:"variables" json:"variables,omitempty"`
	// Cursor names the variable next_page's cursor goes into ("after");
	// the first request leaves it out.
	Cursor string `yaml:"cursor" json:"cursor,omitempty"`
}

// Body is the request body asking for the page after cursor ("" for the
// first). Its keys are in sorted order, so one page's body is always
// the same bytes.
func (g GraphQL) Body(cursor string) (string, error) {
	vars := make(map[string]any, len(g.Variables)+1)
	maps.Copy(vars, g.Variables)
	if cursor != "" && g.Cursor != "" {
		vars[g.Cursor] = cursor
	}
	b, err := json.Marshal(struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}{g.Query, vars})
	if err != nil {
		return "", fmt.Errorf("graphql body: %w", err)
	}
	return string(b), nil
}

// SiteHost is the host name an entry of a site's hosts names: a bare host
// ("shop-eu.onion") or an origin ("http://shop-eu.onion:8080"), in lower
// case.
func SiteHost(h string) (string, error) {
	h = strings.TrimSpace(h)
	raw := h
	if !strings.Contains(h, "://") {
		raw = "http://" + h
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("want a host name or an http(s) origin, got %q", h)
	}
	return strings.ToLower(u.Hostname()), nil
}

// IsTor reports whether the site must be fetched through Tor: it is marked
// so, or one of its start URLs or mirrors is on a .onion host.
func (s Site) IsTor() bool {
	if s.Tor {
		return true
	}
	for _, u := range append(s.StartURLs[:len(s.StartURLs):len(s.StartURLs)], s.Mirrors...) {
		if p, err := url.Parse(u); err == nil && IsOnion(p.Hostname()) {
			return true
		}
	}
	return false
}

// ProxyURL is the proxy the site is fetched through; empty means direct,
// which a Tor site never is.
func (s Site) ProxyURL() string {
	if s.Proxy == "" && s.IsTor() {
		return DefaultTorProxy
	}
	return s.Proxy
}

// IsOnion reports whether host is a Tor onion service name.
func IsOnion(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return host == "onion" || strings.HasSuffix(host, ".onion")
}

// UnmarshalYAML accepts the shorthand `extract: jsonld` as well as a map of
// selectors. It uses yaml.v3's function form so the root package needs no
// YAML import; strict decoding (unknown fields) still applies to the map.
func (e *Extraction) UnmarshalYAML(unmarshal func(any) error) error {
	var mode string
	if err := unmarshal(&mode); err == nil {
		*e = Extraction{Mode: mode}
		return nil
	}
	type plain Extraction
	return unmarshal((*plain)(e))
}
