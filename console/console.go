// Package console is precwatch's web interface and JSON API for
// investigators (the alert queue), analysts (the watchlist), operators
// (sites and runs) and admins (accounts and the audit log).
//
// It is built on the standard library only: a ServeMux with method
// patterns, html/template parsed once from embedded files, static assets
// under checksum URLs and a little vanilla JavaScript. What a role may do is
// decided in one place, the routes table, and enforced before any handler
// runs; every state change is written to the store's audit log.
//
// Nothing the console serves makes an investigator's browser contact a
// monitored site: listing text is escaped, URLs are shown as text, raw pages
// are only ever downloaded as attachments or shown as escaped source text,
// and the Content-Security-Policy allows nothing but the console itself.
package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/stixmisp"
)

// Options configure a Server.
type Options struct {
	// Store holds alerts, accounts, sessions, the audit log, watchlist
	// versions and site states. Required.
	Store precwatch.ConsoleStore
	// Logger receives request errors; nil discards.
	Logger *slog.Logger
	// Operator is the crawl scheduler; nil makes the sites pages read-only,
	// built from the store's runs.
	Operator Operator
	// Watchlists edits the watchlist; nil disables the watchlist pages.
	Watchlists WatchlistService
	// SecureCookies sets Secure on cookies; set it when served over TLS.
	SecureCookies bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Interchange writes the MISP and STIX exports; nil: organisation
	// "precwatch", TLP amber, no seller identifiers.
	Interchange *stixmisp.Exporter
	// Archive reads the WARC records of fetches for evidence bundles
	// (issue 11); nil leaves them out of bundles.
	Archive precwatch.EvidenceArchive
}

// Operator is the crawl scheduler as the console sees it.
type Operator interface {
	// Sites lists the configured sites.
	Sites() []precwatch.Site
	// Next is when the site's next scheduled run starts (zero if none).
	Next(site string) time.Time
	// Start starts a run of site now, in the background. It returns an
	// error wrapping precwatch.ErrConflict when a run is already going and
	// precwatch.ErrNotFound for an unknown site.
	Start(site string) error
	// ProxyCheck returns nil when the site's proxy answers.
	ProxyCheck(ctx context.Context, site precwatch.Site) error
}

// WatchlistService edits the watchlist in force. Pausing a site is stored
// with Store.SetSiteState; the scheduler skips paused sites.
type WatchlistService interface {
	// Active returns the watchlist in force and its version number (0 if
	// it was never saved through the service).
	Active(ctx context.Context) (*precwatch.Watchlist, int, error)
	// Validate returns the problems of w; empty when valid.
	Validate(w *precwatch.Watchlist) []FieldError
	// Preview runs w over the stored listings and reports the hits it adds
	// and removes compared with the active watchlist.
	Preview(ctx context.Context, w *precwatch.Watchlist) (Preview, error)
	// Apply validates w, saves it as a new version and puts it in force,
	// returning the version number.
	Apply(ctx context.Context, w *precwatch.Watchlist, author, comment string) (int, error)
	// Load returns an earlier saved version.
	Load(ctx context.Context, version int) (*precwatch.Watchlist, error)
}

// ReloadStatus is implemented by a WatchlistService whose files a daemon
// reads again when they change: the watchlist and sites pages show a
// rejected reload, so that a broken file edit does not pass unseen while
// the previous watchlist and config stay in force.
type ReloadStatus interface {
	// RejectedReload returns when the latest reload of the config and
	// watchlist files was rejected and why; a zero time when it took, or
	// when none was tried.
	RejectedReload() (time.Time, error)
}

// FieldError is one problem of a watchlist, located by a path such as
// "substances[3].names.de".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Preview is what a watchlist change would do to the stored listings.
type Preview struct {
	Added    []PreviewHit `json:"added"`
	Removed  []PreviewHit `json:"removed"`
	Listings int          `json:"listings"` // listings scanned
}

// PreviewHit is one substance found (or no longer found) in one listing.
type PreviewHit struct {
	Site       string `json:"site"`
	ListingKey string `json:"listing_key"`
	Title      string `json:"title"`
	Substance  string `json:"substance"`
	Term       string `json:"term"`
}

// Server is the console: pages, the JSON API and static assets.
type Server struct {
	store    precwatch.ConsoleStore
	logger   *slog.Logger
	op       Operator
	wl       WatchlistService
	secure   bool
	now      func() time.Time
	pages    map[string]*template.Template
	static   *staticFiles
	handler  http.Handler
	throttle signins
	// hashCost is the bcrypt cost of new accounts (tests lower it).
	hashCost int
	// dummyHash is compared against when a login names no user, so that
	// the answer takes as long as for a wrong password.
	dummyHash []byte
	// interchange writes MISP and STIX exports.
	interchange *stixmisp.Exporter
	// archive reads fetches' WARC records (issue 11); nil: none.
	archive precwatch.EvidenceArchive
}

// New builds a Server. It parses the templates once and fails if any is
// broken.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("console: new: nil store")
	}
	s := &Server{
		store:  opts.Store,
		logger: opts.Logger,
		op:     opts.Operator,
		wl:     opts.Watchlists,
		secure: opts.SecureCookies,
		now:    opts.Now,

		hashCost: bcryptCost,
		archive:  opts.Archive,
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.logger = s.logger.With("component", "console")
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if s.interchange = opts.Interchange; s.interchange == nil {
		if s.interchange, err = stixmisp.New(stixmisp.Options{}); err != nil {
			return nil, fmt.Errorf("console: new: %w", err)
		}
	}
	if s.static, err = loadStatic(); err != nil {
		return nil, fmt.Errorf("console: new: %w", err)
	}
	if s.pages, err = s.parseTemplates(); err != nil {
		return nil, fmt.Errorf("console: new: %w", err)
	}
	if s.dummyHash, err = dummyHash(); err != nil {
		return nil, fmt.Errorf("console: new: %w", err)
	}
	if s.throttle, err = newSignins(); err != nil {
		return nil, fmt.Errorf("console: new: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the console's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// dummyHash is computed once per process: bcrypt is slow on purpose.
var dummyHash = sync.OnceValues(func() ([]byte, error) {
	h, err := HashPassword("not a password, only compared against")
	return []byte(h), err
})

// allows reports whether role may use a route open to roles; admin may use
// every route.
func allows(roles []precwatch.Role, role precwatch.Role) bool {
	return role == precwatch.RoleAdmin || slices.Contains(roles, role)
}
