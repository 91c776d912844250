package precwatch

import (
	"context"
	"time"
)

// Store keeps listings, alerts, runs and evidence pages. Every backend passes
// the conformance suite in storage/storetest, so behaviour does not depend on
// which one is configured.
type Store interface {
	// Record applies one sighting of a listing atomically: a new listing
	// raises an alert per alertable substance; an unchanged one raises
	// nothing; a material change is added to its alerts' history. Applying
	// the same observation twice, or from two processes at once, has the
	// effect of applying it once. Record does not check that the
	// listing's evidence page is stored; the crawler uses RecordPage.
	Record(ctx context.Context, obs Observation) (RecordResult, error)
	// MarkGone marks gone, so that seeing one again is a relisting, the
	// listings of run.Site that run did not see, and that no run saw at or
	// after run.Start (so a listing a parallel or later run saw is kept).
	// Only a complete run decides: run must have ended RunOK and not
	// StoppedEarly, else MarkGone marks nothing and fails with ErrInvalid.
	// Each listing is decided and written atomically against concurrent
	// Record calls. It returns how many listings it marked.
	MarkGone(ctx context.Context, run Run) (int, error)
	// Listing returns the state of a listing by its ListingKey.
	Listing(ctx context.Context, key string) (ListingState, error)
	// Listings calls fn for every stored listing of site (every site when
	// empty), stopping at the first error fn returns.
	Listings(ctx context.Context, site string, fn func(ListingState) error) error

	// Alert returns one alert by key, or ErrNotFound.
	Alert(ctx context.Context, key string) (Alert, error)
	// Alerts lists alerts passing the filter, ordered as SortAlerts does.
	Alerts(ctx context.Context, f AlertFilter) ([]Alert, error)
	// SetAlertStatus moves an alert to a new status.
	SetAlertStatus(ctx context.Context, key string, status AlertStatus, at time.Time) error

	// SaveRun creates or replaces a run record.
	SaveRun(ctx context.Context, r Run) error
	// Runs lists the runs of site (all sites when empty), newest first, at
	// most limit of them (all when limit <= 0).
	Runs(ctx context.Context, site string, limit int) ([]Run, error)

	// SavePage keeps a fetched page as evidence, keyed by its SHA-256;
	// saving the same page again is a no-op.
	SavePage(ctx context.Context, p Page) error
	// Page returns a stored page by its SHA-256, or ErrNotFound.
	Page(ctx context.Context, sha256 string) (Page, error)

	// Incremental re-crawls (issue 8): the validators of each fetched URL.
	// SaveFetchState creates or replaces the state of (fs.Site, fs.URL);
	// FetchState returns it, or ErrNotFound.
	SaveFetchState(ctx context.Context, fs FetchState) error
	FetchState(ctx context.Context, site, url string) (FetchState, error)
	// Sessions (issue 8): each site's cookie jar. SiteSession returns the
	// site's saved session, or ErrNotFound. SaveSiteSession replaces it;
	// saving one without cookies deletes it.
	SiteSession(ctx context.Context, site string) (SiteSession, error)
	SaveSiteSession(ctx context.Context, s SiteSession) error

	// Evidence and batches (issue 9, see batch.go): RecordPage stores
	// page p (when not nil; kept once by its SHA-256, which must be that
	// of p.Body) and applies every observation, as Record does, in one
	// atomic step: all of it is written or none. An observation that
	// writes an alert whose evidence page (Listing.PageSHA256) is neither
	// p nor already stored fails the call with ErrInvalid, so no alert is
	// ever stored without its evidence. Results are in obs's order.
	RecordPage(ctx context.Context, p *Page, obs []Observation) ([]RecordResult, error)
	// ListingStates returns the stored states of the listings of keys
	// (ListingKey), by key, in one read; keys not stored are left out.
	ListingStates(ctx context.Context, keys []string) (map[string]ListingState, error)

	// Exact provenance (issue 11, fetch.go): RecordPage also writes
	// p.Fetch, and an alert write fails with ErrInvalid unless every
	// fetch its listing names (Listing.Sources) is stored or is p.Fetch.
	FetchStore

	// Retention (retention.go): deletes old fetch records, page bodies
	// and run records that no evidence and no current state names.
	Pruner

	Close() error
}

// RecordResult says what Store.Record did.
type RecordResult struct {
	NewListing bool `json:"new_listing"`
	// Changed is true when the listing changed materially or was relisted.
	Changed       bool     `json:"changed"`
	NewAlerts     []string `json:"new_alerts,omitempty"`
	UpdatedAlerts []string `json:"updated_alerts,omitempty"`
}
