package precwatch

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AlertStatus is where an alert is in the investigators' workflow.
type AlertStatus string

// Alert statuses: new → triaged → escalated | dismissed.
const (
	StatusNew       AlertStatus = "new"
	StatusTriaged   AlertStatus = "triaged"
	StatusEscalated AlertStatus = "escalated"
	StatusDismissed AlertStatus = "dismissed"
)

// Valid reports whether st is one of the workflow's statuses.
func (st AlertStatus) Valid() bool {
	switch st {
	case StatusNew, StatusTriaged, StatusEscalated, StatusDismissed:
		return true
	}
	return false
}

// Alert is one substance found in one listing of one site. Its Key is
// derived from (site, listing identity, substance), so every process that
// sees the same listing converges on the same alert.
type Alert struct {
	Key       string   `json:"key"`
	Site      string   `json:"site"`
	Identity  string   `json:"identity"`
	Substance string   `json:"substance"`
	Name      string   `json:"name"`
	Regime    Regime   `json:"regime"`
	Severity  Severity `json:"severity"`
	// Score and Reasons are those of the alert's highest-scoring match.
	Score   float64     `json:"score"`
	Reasons []string    `json:"reasons,omitempty"`
	Status  AlertStatus `json:"status"`
	// Listing is the latest snapshot of the listing; Matches are this
	// substance's matches in it.
	Listing   Listing   `json:"listing"`
	Matches   []Match   `json:"matches"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// History lists the alert's events, oldest first: its raising and every
	// material change of the listing since.
	History []AlertEvent `json:"history"`
	// Assignee is the investigator who claimed the alert; Timeline is every
	// workflow change (see ApplyAction).
	Assignee string          `json:"assignee,omitempty"`
	Timeline []TimelineEntry `json:"timeline,omitempty"`
}

// AlertEvent is one entry of an alert's history.
type AlertEvent struct {
	At         time.Time `json:"at"`
	Kind       string    `json:"kind"`
	Changes    []Change  `json:"changes,omitempty"`
	PageSHA256 string    `json:"page_sha256,omitempty"`
	// Fetches are the fetches the listing's fields were read from at this
	// event (issue 11): the event's evidence.
	Fetches []string `json:"fetches,omitempty"`
}

// Alert event kinds.
const (
	EventRaised   = "raised"
	EventChanged  = "changed"
	EventRelisted = "relisted"
)

// Change is one material field that changed between two sightings.
type Change struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// AlertKey is the idempotency key of the alert for substance in a listing.
func AlertKey(site, identity, substance string) string {
	h := sha256.Sum256([]byte(site + "\x00" + identity + "\x00" + substance))
	return hex.EncodeToString(h[:16])
}

// ListingKey is the store key of a listing: its site and identity, hashed.
func ListingKey(site, identity string) string {
	h := sha256.Sum256([]byte(site + "\x00" + identity))
	return hex.EncodeToString(h[:16])
}

// AlertFilter selects alerts; zero fields select everything.
type AlertFilter struct {
	Status      AlertStatus
	MinSeverity Severity
	Site        string
	Substance   string
	Limit       int
	Offset      int
}

// Matches reports whether a passes the filter (Limit and Offset aside).
func (f AlertFilter) Matches(a Alert) bool {
	return (f.Status == "" || a.Status == f.Status) &&
		a.Severity >= f.MinSeverity &&
		(f.Site == "" || a.Site == f.Site) &&
		(f.Substance == "" || a.Substance == f.Substance)
}

// SortAlerts orders alerts most severe first, then by score, highest first,
// then newest first, then by key, so that every backend returns the same
// order: within a severity the most urgent listing leads the queue.
func SortAlerts(as []Alert) {
	slices.SortFunc(as, func(a, b Alert) int {
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
}

// SortAlertsBy orders alerts as a query with that sort returns them (see
// AlertSort); every backend follows it.
func SortAlertsBy(as []Alert, sort AlertSort) {
	switch sort {
	case SortNewest, SortOldest:
		slices.SortFunc(as, func(a, b Alert) int {
			c := a.CreatedAt.Compare(b.CreatedAt)
			if c == 0 {
				c = strings.Compare(a.Key, b.Key)
			}
			if sort == SortNewest {
				return -c
			}
			return c
		})
	case SortSite:
		SortAlerts(as)
		slices.SortStableFunc(as, func(a, b Alert) int { return strings.Compare(a.Site, b.Site) })
	default:
		SortAlerts(as)
	}
}

// Observation is one sighting of a listing by a crawl, with its matches.
type Observation struct {
	Listing Listing `json:"listing"`
	Matches []Match `json:"matches"`
	// RunID is the run that saw the listing; a later run that ends OK
	// without seeing it marks it gone (see Store.MarkGone).
	RunID string    `json:"run_id"`
	At    time.Time `json:"at"`

	// Incremental re-crawls (issue 8): RowHash is the hash of the listing's
	// row on its index page, DetailFetchedAt when its detail page was last
	// read (zero when this sighting did not come from a detail page read
	// now or earlier). Both are kept in ListingState as given, zero clearing.
	RowHash         string    `json:"row_hash,omitempty"`
	DetailFetchedAt time.Time `json:"detail_fetched_at,omitzero"`
}

// Validate checks what every store needs of an observation: a site, an ID
// or URL to identify the listing by, and the time it was seen.
func (obs Observation) Validate() error {
	if obs.Listing.Site == "" {
		return fmt.Errorf("%w: listing without site", ErrInvalid)
	}
	if obs.Listing.ID == "" && obs.Listing.URL == "" {
		return fmt.Errorf("%w: listing without id or url", ErrInvalid)
	}
	if obs.At.IsZero() {
		return fmt.Errorf("%w: observation without time", ErrInvalid)
	}
	return nil
}

// ListingState is what a store keeps of a listing between sightings.
type ListingState struct {
	Key         string    `json:"key"`
	Listing     Listing   `json:"listing"`
	Fingerprint string    `json:"fingerprint"`
	Material    Material  `json:"material"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	LastRunID   string    `json:"last_run_id"`
	Gone        bool      `json:"gone"`
	// AlertKeys are the listing's alerts, by substance.
	AlertKeys map[string]string `json:"alert_keys,omitempty"`

	// Incremental re-crawls (issue 8): the last sighting's index row hash
	// and detail fetch time (see Observation).
	RowHash         string    `json:"row_hash,omitempty"`
	DetailFetchedAt time.Time `json:"detail_fetched_at,omitzero"`
}

// Material holds the fields whose change is worth an investigator's notice.
type Material struct {
	Price    string `json:"price"`
	Currency string `json:"currency"`
	// Concentrations maps a substance to the strength stated for it.
	Concentrations map[string]string `json:"concentrations,omitempty"`
}

// MaterialOf extracts the material fields of a listing and its matches.
func MaterialOf(l Listing, ms []Match) Material {
	m := Material{Price: formatNumber(l.Price), Currency: l.Currency}
	for _, x := range ms {
		if x.ConcentrationPercent == nil {
			continue
		}
		if m.Concentrations == nil {
			m.Concentrations = map[string]string{}
		}
		if _, ok := m.Concentrations[x.Substance]; !ok {
			m.Concentrations[x.Substance] = formatNumber(*x.ConcentrationPercent) + "%"
		}
	}
	return m
}

// cryptoDrift is how far a cryptocurrency amount may move between two
// sightings and still be the same price. Markets price in fiat and show
// the coin amount at the current rate (or the reverse), so a BTC or XMR
// price moves with the rate on every run; day-to-day rate moves stay well
// under this, a vendor's repricing that matters rarely does.
const cryptoDrift = 0.10

// rateDrift reports whether m's price and next's are one cryptocurrency
// amount moved by the exchange rate (see RateDrift).
func rateDrift(m, next Material) bool {
	if m.Currency != next.Currency {
		return false
	}
	old, err1 := strconv.ParseFloat(m.Price, 64)
	cur, err2 := strconv.ParseFloat(next.Price, 64)
	return err1 == nil && err2 == nil && RateDrift(m.Currency, old, cur)
}

// RateDrift reports whether a price in currency that went from old to cur
// moved by less than cryptoDrift in a cryptocurrency whose rate floats:
// the exchange rate changed it, not the vendor. Stablecoins hold their
// rate, so any change of theirs is the vendor's.
func RateDrift(currency string, old, cur float64) bool {
	c := strings.ToUpper(currency)
	if !cryptoCurrencies[c] || c == "USDT" || c == "USDC" || old <= 0 || cur <= 0 || old == cur {
		return false
	}
	return math.Abs(cur-old) < cryptoDrift*old
}

func formatNumber(f float64) string {
	if f == 0 || math.IsNaN(f) {
		return ""
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// Diff lists the material changes from m to next.
func (m Material) Diff(next Material) []Change {
	var cs []Change
	if m.Price != next.Price && !rateDrift(m, next) {
		cs = append(cs, Change{Field: "price", Old: m.Price, New: next.Price})
	}
	if m.Currency != next.Currency {
		cs = append(cs, Change{Field: "currency", Old: m.Currency, New: next.Currency})
	}
	keys := make([]string, 0, len(m.Concentrations)+len(next.Concentrations))
	for k := range m.Concentrations {
		keys = append(keys, k)
	}
	for k := range next.Concentrations {
		if _, ok := m.Concentrations[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if o, n := m.Concentrations[k], next.Concentrations[k]; o != n {
			cs = append(cs, Change{Field: "concentration:" + k, Old: o, New: n})
		}
	}
	return cs
}

// Fingerprint is the SHA-256 over the listing's content, independent of when
// and from which page it was fetched: unchanged content, same fingerprint.
func Fingerprint(l Listing) string {
	h := sha256.New()
	// "<len>:<field>;" without fmt and without copying the field whole:
	// computed several times per listing per sighting.
	b := make([]byte, 0, 256)
	for _, f := range []string{l.Site, l.Identity(), l.URL, l.Title, l.Description, formatNumber(l.Price), l.Currency, l.Vendor} {
		b = append(strconv.AppendInt(b[:0], int64(len(f)), 10), ':')
		for len(f) > 0 {
			n := min(len(f), cap(b)-len(b))
			b = append(b, f[:n]...)
			f = f[n:]
			if len(f) > 0 {
				h.Write(b)
				b = b[:0]
			}
		}
		h.Write(append(b, ';'))
	}
	// Vendor profiles (issue 11): appended only when present, so the
	// fingerprints of listings without them are unchanged.
	for _, id := range l.Identifiers {
		v := id.String()
		b = append(append(append(append(b[:0], "id"...), strconv.Itoa(len(v))...), ':'), v...)
		h.Write(append(b, ';'))
	}
	if l.VendorURL != "" {
		b = append(append(append(append(b[:0], "vu"...), strconv.Itoa(len(l.VendorURL))...), ':'), l.VendorURL...)
		h.Write(append(b, ';'))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}
