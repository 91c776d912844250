// Package precwatch holds the domain types of the precursor monitor and the
// interfaces between its parts: sites and listings coming from the crawler,
// watchlists and matches from the matchers, alerts and runs kept by a Store.
//
// It imports no technology (no colly, goquery or go-redis), so every adapter
// package depends on it and never on another adapter.
package precwatch

import (
	"errors"
	"time"
)

// Sentinel errors shared by every backend; check them with errors.Is.
var (
	ErrNotFound = errors.New("precwatch: not found")
	ErrInvalid  = errors.New("precwatch: invalid")
)

// Regime names a regulatory list a substance belongs to; the values are the
// identifiers used in the reference data.
type Regime string

// The regimes of the reference watchlist.
const (
	RegimeEUAnnexI  Regime = "eu-2019-1148-annex-i"
	RegimeEUAnnexII Regime = "eu-2019-1148-annex-ii"
	RegimeCWC1      Regime = "cwc-schedule-1"
	RegimeCWC2      Regime = "cwc-schedule-2"
	RegimeCWC3      Regime = "cwc-schedule-3"
)

// IsCWC reports whether r is one of the Chemical Weapons Convention schedules.
func (r Regime) IsCWC() bool {
	return r == RegimeCWC1 || r == RegimeCWC2 || r == RegimeCWC3
}

// Listing is one offer extracted from a marketplace page.
type Listing struct {
	Site        string    `json:"site"`
	ID          string    `json:"id,omitempty"`
	URL         string    `json:"url"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	Price       float64   `json:"price,omitempty"`
	Currency    string    `json:"currency,omitempty"`
	Vendor      string    `json:"vendor,omitempty"`
	FetchedAt   time.Time `json:"fetched_at,omitzero"`
	// PageSHA256 is the hex SHA-256 of the raw page the listing came from;
	// the page itself is kept in the Store as evidence.
	PageSHA256 string `json:"page_sha256,omitempty"`
	// Tor records that the listing came from a Tor (dark-web) site.
	Tor bool `json:"tor,omitempty"`
	// Vendor profiles (issue 11, vendor.go): the strong identifiers in the
	// listing's text, and the URL of its vendor's profile page.
	Identifiers []VendorID `json:"identifiers,omitempty"`
	VendorURL   string     `json:"vendor_url,omitempty"`
	// Sources are the fetches its fields were read from (issue 11).
	Sources []Source `json:"sources,omitempty"`
}

// Identity is the listing's stable identity within its site: its listing ID
// when the site has one, else its canonical URL.
func (l Listing) Identity() string {
	if l.ID != "" {
		return "id:" + l.ID
	}
	return "url:" + l.URL
}

// Page is a fetched page kept as evidence.
type Page struct {
	SHA256      string    `json:"sha256"`
	Site        string    `json:"site"`
	URL         string    `json:"url"`
	FetchedAt   time.Time `json:"fetched_at"`
	ContentType string    `json:"content_type,omitempty"`
	Body        []byte    `json:"-"`

	// Exact provenance (issue 11): Fetch, when set, is the fetch that got
	// this body, written with it. Stored marks a body not carried (nil
	// Body) because it is kept already: a 304 answer read again from it.
	Fetch  *Fetch `json:"-"`
	Stored bool   `json:"-"`
}

// Run is the record of one crawl of one site.
type Run struct {
	ID          string    `json:"id"`
	Site        string    `json:"site"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end,omitzero"`
	Status      RunStatus `json:"status"`
	Pages       int       `json:"pages"`
	Listings    int       `json:"listings"`
	NewListings int       `json:"new_listings"`
	Alerts      int       `json:"alerts"`
	Errors      []string  `json:"errors,omitempty"`

	// Sessions (issue 8): what stopped a needs_login or blocked run, with
	// the page kept as evidence, and the logins the run made.
	Block  *RunBlock `json:"block,omitempty"`
	Logins int       `json:"logins,omitempty"`
	// Incremental re-crawls (issue 8): what the run cost and saved.
	// Requests counts every HTTP request sent (retries included), Bytes the
	// response body bytes received (as decompressed), NotModified the 304 answers to
	// conditional requests, DetailsSkipped the detail pages not fetched
	// because the listing's index row was unchanged and its last detail
	// fetch recent. StoppedEarly is set when the run stopped paginating
	// after the site's stop_after_unchanged_pages quiet index pages: such a
	// run can end ok, but it did not see the whole site, so it marks
	// nothing gone.
	Requests       int   `json:"requests"`
	Bytes          int64 `json:"bytes"`
	NotModified    int   `json:"not_modified"`
	DetailsSkipped int   `json:"details_skipped"`
	StoppedEarly   bool  `json:"stopped_early,omitempty"`
	// GoneUndecided, on a run that read every page, says why it marked
	// nothing gone all the same: its pages came from a mirror, not the
	// primary, and a mirror may serve an older copy of the site (a lagging
	// replica, a cache), whose missing listings are not gone.
	GoneUndecided string `json:"gone_undecided,omitempty"`
	// Throttling: Throttled counts the 429 and 503 answers the run got
	// (each one widens the gap between the site's requests for a while),
	// ThrottleWait the wall time the site's requests were held for them,
	// by Retry-After or by the wider gap (in a scale-out run, summed over
	// the workers).
	Throttled    int           `json:"throttled"`
	ThrottleWait time.Duration `json:"throttle_wait_ns"`
	// Circuits and mirrors (issue 8).

	// CircuitsReplaced counts circuits given fresh credentials after a
	// request on them failed at the connection level (or Tor refused it).
	CircuitsReplaced int `json:"circuits_replaced,omitempty"`
	// Mirrors is the state of each of a site's origins (primary first)
	// when the site lists mirrors; empty otherwise.
	Mirrors []MirrorStatus `json:"mirrors,omitempty"`
	// WARCs are the archive files of the run's fetches (issue 11), with
	// their SHA-256.
	WARCs []WARCFile `json:"warcs,omitempty"`
}

// FetchState is what a crawl keeps of one URL of a site between runs so as
// to fetch it conditionally (incremental re-crawls, issue 8): the
// validators the server sent and the SHA-256 of the body they validate,
// which is kept as a Page, so that a 304 answer can be read again from it.
type FetchState struct {
	Site string `json:"site"`
	// URL is the canonical URL of the page.
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	// Links are the page's HTTP Link header values, read again with the
	// stored body when the page answers 304 (a next page named only there).
	Links     []string  `json:"links,omitempty"`
	SHA256    string    `json:"sha256"`
	FetchedAt time.Time `json:"fetched_at"`
}

// MirrorStatus is what a run knows of one of a site's origins. LastSuccess
// and Latency carry over from earlier runs when this run made no successful
// request to it.
type MirrorStatus struct {
	URL string `json:"url"`
	// Requests and Failures count this run's requests to the mirror.
	Requests int `json:"requests"`
	Failures int `json:"failures"`
	// LastSuccess is when a request to it last got an answer below 500.
	LastSuccess time.Time `json:"last_success,omitzero"`
	// Latency is the mean time to response headers of the successful
	// requests of the run that last had any.
	Latency time.Duration `json:"latency_ns,omitempty"`
	// Active marks the mirror the run ended on.
	Active bool `json:"active,omitempty"`
}

// RunStatus says how a run ended.
type RunStatus string

// Run statuses. A partial run fetched something but hit errors or a limit, so
// listings it did not see are not taken as gone.
const (
	RunRunning   RunStatus = "running"
	RunOK        RunStatus = "ok"
	RunPartial   RunStatus = "partial"
	RunFailed    RunStatus = "failed"
	RunAbandoned RunStatus = "abandoned"
	// Sessions (issue 8): the site showed a logged-out page (and logging in
	// failed or was not configured), or a captcha, anti-DDoS, queue or
	// challenge page. Neither marks anything gone; Run.Block says why.
	RunNeedsLogin RunStatus = "needs_login"
	RunBlocked    RunStatus = "blocked"
)

// RunStatuses lists every run status, for validation and rendering.
var RunStatuses = []RunStatus{RunRunning, RunOK, RunPartial, RunFailed, RunAbandoned, RunNeedsLogin, RunBlocked}
