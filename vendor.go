package precwatch

// Vendor profiles across markets (issue 11): the identifiers a seller
// cannot share by accident (PGP fingerprints, wallets, contacts), read from
// listings and vendor pages, and the links they make between sellers of
// different markets. Only a shared strong identifier links two vendors; a
// handle seen elsewhere is reported as a weak hint, never as a link.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// VendorID is one strong identifier of a seller: its kind (the values of
// crawler/extract/vendorid: "pgp-fingerprint", "btc", "xmr", "eth",
// "telegram", "session", "xmpp", "wickr", "email") and its normalised value.
type VendorID struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// String is "kind:value".
func (id VendorID) String() string { return id.Kind + ":" + id.Value }

// KindHandle is the index kind of a vendor's folded handle (see
// FoldHandle): it only ever makes a weak hint.
const KindHandle = "handle"

// VendorRef names one seller account: a handle on a site. The empty handle
// is the site itself (a shop selling its own goods).
type VendorRef struct {
	Site   string `json:"site"`
	Handle string `json:"handle"`
}

// VendorOf is the seller account of a listing.
func VendorOf(l Listing) VendorRef { return VendorRef{Site: l.Site, Handle: l.Vendor} }

// String is "handle@site", or the site alone.
func (r VendorRef) String() string {
	if r.Handle == "" {
		return r.Site
	}
	return r.Handle + "@" + r.Site
}

// FoldHandle is the form handles are compared in for weak hints: ASCII
// letters in lower case, the rest as written (both stores fold alike).
func FoldHandle(h string) string {
	b := []byte(h)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// VendorPage is what a store keeps of a vendor's profile page: the
// identifiers read from it over time, each with when it was first and last
// seen there, and the page last fetched.
type VendorPage struct {
	Vendor VendorRef `json:"vendor"`
	URL    string    `json:"url"`
	// PageSHA256 is the evidence page of the latest fetch.
	PageSHA256  string         `json:"page_sha256,omitempty"`
	FirstSeen   time.Time      `json:"first_seen"`
	LastSeen    time.Time      `json:"last_seen"`
	Identifiers []VendorIDSeen `json:"identifiers,omitempty"`
}

// VendorIDSeen is an identifier with the span of time it was seen over.
type VendorIDSeen struct {
	VendorID
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Sources says where it was read: "vendor page", or how many listings.
	Sources []string `json:"sources,omitempty"`
}

// VendorPageSighting is one fetch of a vendor page.
type VendorPageSighting struct {
	Vendor      VendorRef  `json:"vendor"`
	URL         string     `json:"url"`
	PageSHA256  string     `json:"page_sha256,omitempty"`
	At          time.Time  `json:"at"`
	Identifiers []VendorID `json:"identifiers,omitempty"`
}

// MaxVendorIDs bounds the identifiers kept per vendor page or listing; a
// page offering more is hostile or not a vendor's.
const MaxVendorIDs = 64

// MergeVendorPage applies one sighting to the stored page (nil when none).
// Every backend calls it inside its own transaction. Identifiers are never
// dropped (a vendor's old key still links it); a sighting older than the
// stored one only widens first-seen times. Applying a sighting twice has
// the effect of applying it once.
func MergeVendorPage(prev *VendorPage, s VendorPageSighting) VendorPage {
	var next VendorPage
	if prev != nil {
		next = *prev
		next.Identifiers = slices.Clone(prev.Identifiers)
	} else {
		next = VendorPage{Vendor: s.Vendor, FirstSeen: s.At}
	}
	if s.At.Before(next.FirstSeen) {
		next.FirstSeen = s.At
	}
	if prev == nil || !s.At.Before(next.LastSeen) {
		next.LastSeen, next.URL, next.PageSHA256 = s.At, s.URL, s.PageSHA256
	}
	for _, id := range dedupIDs(s.Identifiers) {
		i := slices.IndexFunc(next.Identifiers, func(o VendorIDSeen) bool { return o.VendorID == id })
		if i < 0 {
			if len(next.Identifiers) >= MaxVendorIDs {
				continue
			}
			next.Identifiers = append(next.Identifiers, VendorIDSeen{VendorID: id, FirstSeen: s.At, LastSeen: s.At, Sources: []string{"vendor page"}})
			continue
		}
		seen := &next.Identifiers[i]
		if s.At.Before(seen.FirstSeen) {
			seen.FirstSeen = s.At
		}
		if s.At.After(seen.LastSeen) {
			seen.LastSeen = s.At
		}
	}
	sortSeen(next.Identifiers)
	return next
}

// dedupIDs drops repeats and empty values, keeping the first MaxVendorIDs.
func dedupIDs(ids []VendorID) []VendorID {
	out := make([]VendorID, 0, len(ids))
	for _, id := range ids {
		if id.Kind == "" || id.Value == "" || slices.Contains(out, id) {
			continue
		}
		if len(out) == MaxVendorIDs {
			break
		}
		out = append(out, id)
	}
	return out
}

// VendorIndexEntries are the index entries of a listing or vendor page
// carrying ids for vendor v: one per distinct strong identifier, and the
// folded handle as KindHandle when v has one. Both stores index these.
func VendorIndexEntries(v VendorRef, ids []VendorID) []VendorID {
	out := dedupIDs(ids)
	if v.Handle != "" {
		out = append(out, VendorID{Kind: KindHandle, Value: FoldHandle(v.Handle)})
	}
	return out
}

// VendorStore is what a backend keeps for vendor profiles. Listings carry
// their own identifiers (Listing.Identifiers) and are indexed as Record
// writes them; vendor pages are recorded apart. Both backends pass the
// conformance suite's vendor tests.
type VendorStore interface {
	// RecordVendorPage stores page p (when not nil; kept once by its
	// SHA-256) and merges sighting s into the vendor's page record (see
	// MergeVendorPage), in one atomic step, and returns the record.
	RecordVendorPage(ctx context.Context, p *Page, s VendorPageSighting) (VendorPage, error)
	// VendorPage returns a vendor's page record, or ErrNotFound.
	VendorPage(ctx context.Context, v VendorRef) (VendorPage, error)
	// VendorListings returns the stored listings of v (Listing.Site and
	// Listing.Vendor equal to v's), at most limit of them, by key.
	VendorListings(ctx context.Context, v VendorRef, limit int) ([]ListingState, error)
	// VendorsWith returns the vendors whose listings or vendor page carry
	// the index entry id (see VendorIndexEntries), at most limit of them,
	// ordered by site and handle. It may include a vendor that no longer
	// carries it; LoadVendorProfile checks.
	VendorsWith(ctx context.Context, id VendorID, limit int) ([]VendorRef, error)
}

// VendorReader is what LoadVendorProfile reads.
type VendorReader interface {
	VendorStore
	Alert(ctx context.Context, key string) (Alert, error)
}

// Bounds of one vendor profile.
const (
	// MaxVendorListings is how many of a vendor's listings a profile reads.
	MaxVendorListings = 500
	// MaxLinkedVendors is how many vendors one identifier is followed to;
	// an identifier shared by more (a market's own support address, a
	// payment processor's wallet) is reported as too common to link.
	MaxLinkedVendors = 20
)

// VendorProfile is everything known of one seller account.
type VendorProfile struct {
	Vendor VendorRef `json:"vendor"`
	// FirstSeen and LastSeen span this account's listings and page.
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Accounts are the seller's accounts: Vendor, then the linked ones.
	Accounts []VendorRef `json:"accounts"`
	// Listings and Alerts are those of every account (each names its site
	// and vendor), alerts in SortAlerts order; the timeline covers them
	// all. LoadVendorLinks leaves out alerts, timeline and the linked
	// accounts' listings.
	Listings []ListingState `json:"listings"`
	Alerts   []Alert        `json:"alerts"`
	Page     *VendorPage    `json:"page,omitempty"`
	// Identifiers are the strong identifiers of its listings and its page.
	Identifiers []VendorIDSeen `json:"identifiers"`
	// Links are other vendors sharing a strong identifier: the same
	// seller, whatever its handle there.
	Links []VendorLink `json:"links"`
	// Hints are vendors elsewhere with the same handle and no shared
	// strong identifier: a weak hint, not a link.
	Hints []VendorHint `json:"hints"`
	// Common are identifiers shared by more than MaxLinkedVendors vendors,
	// not followed.
	Common   []VendorID    `json:"common,omitempty"`
	Timeline []VendorEvent `json:"timeline"`
}

// VendorLink is another seller account sharing strong identifiers.
type VendorLink struct {
	Vendor  VendorRef    `json:"vendor"`
	Reasons []LinkReason `json:"reasons"`
	// FirstSeen is when the link was first evident (the earliest of its
	// reasons), LastSeen when it was last confirmed.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Listings and Alerts count the other vendor's.
	Listings int `json:"listings"`
	Alerts   int `json:"alerts"`
}

// LinkReason is one identifier two vendors share. FirstSeen is when both
// had shown it (the later of their first sightings); LastSeen the latest
// sighting of it on either.
type LinkReason struct {
	VendorID
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Text says the reason in words, e.g. "same PGP key 1A2B…".
func (r LinkReason) Text() string { return "same " + KindLabel(r.Kind) + " " + r.Value }

// VendorHint is a seller elsewhere with the same handle (folded), sharing
// no strong identifier.
type VendorHint struct {
	Vendor    VendorRef `json:"vendor"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
}

// VendorEvent is one entry of a vendor's timeline.
type VendorEvent struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"` // listing, alert, identifier, vendor-page
	Text string    `json:"text"`
	// Key is the listing or alert key the event is about, if any.
	Key string `json:"key,omitempty"`
}

// KindLabel names an identifier kind for people.
func KindLabel(kind string) string {
	switch kind {
	case "pgp-fingerprint":
		return "PGP key"
	case "btc":
		return "Bitcoin wallet"
	case "xmr":
		return "Monero wallet"
	case "eth":
		return "Ethereum wallet"
	case "telegram":
		return "Telegram"
	case "session":
		return "Session ID"
	case "xmpp":
		return "XMPP"
	case "wickr":
		return "Wickr"
	case "email":
		return "e-mail"
	case KindHandle:
		return "handle"
	}
	return kind
}

// vendorData is what one vendor's listings and page say, read once.
type vendorData struct {
	listings []ListingState
	page     *VendorPage
	ids      []VendorIDSeen
}

// loadVendor reads v's listings and page and gathers their identifiers.
func loadVendor(ctx context.Context, s VendorReader, v VendorRef) (vendorData, error) {
	var d vendorData
	all, err := s.VendorListings(ctx, v, MaxVendorListings)
	if err != nil {
		return d, fmt.Errorf("precwatch: vendor %s: listings: %w", v, err)
	}
	for _, st := range all {
		if VendorOf(st.Listing) == v { // the index may be ahead of a change of vendor
			d.listings = append(d.listings, st)
		}
	}
	switch p, err := s.VendorPage(ctx, v); {
	case err == nil:
		d.page = &p
	case !isNotFound(err):
		return d, fmt.Errorf("precwatch: vendor %s: page: %w", v, err)
	}
	byID := map[VendorID]*VendorIDSeen{}
	counts := map[VendorID]int{}
	var order []VendorID
	add := func(id VendorID, first, last time.Time, source string) {
		seen, ok := byID[id]
		if !ok {
			seen = &VendorIDSeen{VendorID: id, FirstSeen: first, LastSeen: last}
			byID[id] = seen
			order = append(order, id)
		}
		if first.Before(seen.FirstSeen) {
			seen.FirstSeen = first
		}
		if last.After(seen.LastSeen) {
			seen.LastSeen = last
		}
		if source != "" && !slices.Contains(seen.Sources, source) {
			seen.Sources = append(seen.Sources, source)
		}
	}
	if d.page != nil {
		for _, id := range d.page.Identifiers {
			add(id.VendorID, id.FirstSeen, id.LastSeen, "vendor page")
		}
	}
	for _, st := range d.listings {
		for _, id := range dedupIDs(st.Listing.Identifiers) {
			add(id, st.FirstSeen, st.LastSeen, "")
			counts[id]++
		}
	}
	for _, id := range order {
		seen := byID[id]
		if n := counts[id]; n > 0 {
			seen.Sources = append(seen.Sources, plural(n, "listing"))
		}
		d.ids = append(d.ids, *seen)
	}
	sortSeen(d.ids)
	return d, nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func sortSeen(ids []VendorIDSeen) {
	slices.SortFunc(ids, func(a, b VendorIDSeen) int {
		return cmp.Or(cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Value, b.Value))
	})
}

// kindRank orders identifiers by how strongly they identify: keys first.
func kindRank(kind string) int {
	switch kind {
	case "pgp-fingerprint":
		return 0
	case "btc", "xmr", "eth":
		return 1
	}
	return 2
}

func (d vendorData) span() (first, last time.Time) {
	widen := func(f, l time.Time) {
		if !f.IsZero() && (first.IsZero() || f.Before(first)) {
			first = f
		}
		if l.After(last) {
			last = l
		}
	}
	for _, st := range d.listings {
		widen(st.FirstSeen, st.LastSeen)
	}
	if d.page != nil {
		widen(d.page.FirstSeen, d.page.LastSeen)
	}
	return first, last
}

func (d vendorData) alertCount() int {
	n := 0
	for _, st := range d.listings {
		n += len(st.AlertKeys)
	}
	return n
}

// LoadVendorProfile reads everything known of vendor v: its listings and
// their alerts, its page, identifiers and timeline, the vendors linked to
// it by a shared strong identifier and those sharing only its handle. It
// returns ErrNotFound when nothing of v is stored.
func LoadVendorProfile(ctx context.Context, s VendorReader, v VendorRef) (VendorProfile, error) {
	return loadProfile(ctx, s, v, true)
}

// LoadVendorLinks is LoadVendorProfile without the vendor's alerts and
// timeline, for pages that show only its links and hints (an alert's).
func LoadVendorLinks(ctx context.Context, s VendorReader, v VendorRef) (VendorProfile, error) {
	return loadProfile(ctx, s, v, false)
}

func loadProfile(ctx context.Context, s VendorReader, v VendorRef, full bool) (VendorProfile, error) {
	d, err := loadVendor(ctx, s, v)
	if err != nil {
		return VendorProfile{}, err
	}
	if len(d.listings) == 0 && d.page == nil {
		return VendorProfile{}, fmt.Errorf("precwatch: vendor %s: %w", v, ErrNotFound)
	}
	p := VendorProfile{Vendor: v, Accounts: []VendorRef{v}, Page: d.page, Identifiers: d.ids,
		Listings: []ListingState{}, Alerts: []Alert{}, Links: []VendorLink{}, Hints: []VendorHint{}}
	p.FirstSeen, p.LastSeen = d.span()
	if full {
		if err := p.addAccount(ctx, s, v, d.listings, ""); err != nil {
			return VendorProfile{}, err
		}
	} else {
		p.Listings = d.listings
	}
	if d.page != nil {
		p.Timeline = append(p.Timeline, VendorEvent{At: d.page.FirstSeen, Kind: "vendor-page", Text: "vendor page first read"})
	}
	for _, id := range d.ids {
		p.Timeline = append(p.Timeline, VendorEvent{At: id.FirstSeen, Kind: "identifier", Text: KindLabel(id.Kind) + " " + id.Value + " first seen"})
	}

	// Links: every other vendor carrying one of v's strong identifiers,
	// checked against what it carries now.
	others := map[VendorRef]*vendorData{}
	links := map[VendorRef]*VendorLink{}
	other := func(o VendorRef) (*vendorData, error) {
		if od, ok := others[o]; ok {
			return od, nil
		}
		od, err := loadVendor(ctx, s, o)
		if err != nil {
			return nil, err
		}
		others[o] = &od
		return &od, nil
	}
	for _, id := range d.ids {
		refs, err := s.VendorsWith(ctx, id.VendorID, MaxLinkedVendors+2)
		if err != nil {
			return VendorProfile{}, fmt.Errorf("precwatch: vendor %s: vendors with %s: %w", v, id.VendorID, err)
		}
		refs = slices.DeleteFunc(refs, func(o VendorRef) bool { return o == v })
		if len(refs) > MaxLinkedVendors {
			p.Common = append(p.Common, id.VendorID)
			continue
		}
		for _, o := range refs {
			od, err := other(o)
			if err != nil {
				return VendorProfile{}, err
			}
			i := slices.IndexFunc(od.ids, func(x VendorIDSeen) bool { return x.VendorID == id.VendorID })
			if i < 0 {
				continue // the index was ahead of a change
			}
			theirs := od.ids[i]
			r := LinkReason{VendorID: id.VendorID, FirstSeen: later(id.FirstSeen, theirs.FirstSeen), LastSeen: later(id.LastSeen, theirs.LastSeen)}
			l := links[o]
			if l == nil {
				l = &VendorLink{Vendor: o, FirstSeen: r.FirstSeen, Listings: len(od.listings), Alerts: od.alertCount()}
				links[o] = l
			}
			l.Reasons = append(l.Reasons, r)
			if r.FirstSeen.Before(l.FirstSeen) {
				l.FirstSeen = r.FirstSeen
			}
			l.LastSeen = later(l.LastSeen, r.LastSeen)
		}
	}
	for _, l := range links {
		p.Links = append(p.Links, *l)
		p.Timeline = append(p.Timeline, VendorEvent{At: l.FirstSeen, Kind: "link", Text: "linked to " + l.Vendor.String() + " by " + l.Reasons[0].Text()})
	}
	slices.SortFunc(p.Links, func(a, b VendorLink) int {
		return cmp.Or(cmp.Compare(len(b.Reasons), len(a.Reasons)), cmp.Compare(a.Vendor.Site, b.Vendor.Site), cmp.Compare(a.Vendor.Handle, b.Vendor.Handle))
	})
	// The seller's listings and alerts on the linked accounts too (one
	// hop: an account linked only to a linked account is not followed).
	for _, l := range p.Links {
		p.Accounts = append(p.Accounts, l.Vendor)
		if full {
			if err := p.addAccount(ctx, s, l.Vendor, others[l.Vendor].listings, l.Vendor.String()+": "); err != nil {
				return VendorProfile{}, err
			}
		}
	}
	SortAlerts(p.Alerts)

	// Hints: the same handle elsewhere, with no link.
	if v.Handle != "" {
		refs, err := s.VendorsWith(ctx, VendorID{Kind: KindHandle, Value: FoldHandle(v.Handle)}, MaxLinkedVendors)
		if err != nil {
			return VendorProfile{}, fmt.Errorf("precwatch: vendor %s: same handle: %w", v, err)
		}
		for _, o := range refs {
			if o == v || links[o] != nil || FoldHandle(o.Handle) != FoldHandle(v.Handle) {
				continue
			}
			od, err := other(o)
			if err != nil {
				return VendorProfile{}, err
			}
			if len(od.listings) == 0 && od.page == nil {
				continue
			}
			h := VendorHint{Vendor: o}
			h.FirstSeen, h.LastSeen = od.span()
			p.Hints = append(p.Hints, h)
		}
	}
	slices.SortStableFunc(p.Timeline, func(a, b VendorEvent) int { return a.At.Compare(b.At) })
	return p, nil
}

// addAccount adds the listings of account a, their alerts and their
// timeline events (prefixed with prefix) to p.
func (p *VendorProfile) addAccount(ctx context.Context, s VendorReader, a VendorRef, listings []ListingState, prefix string) error {
	p.Listings = append(p.Listings, listings...)
	for _, st := range listings {
		p.Timeline = append(p.Timeline, VendorEvent{At: st.FirstSeen, Kind: "listing", Text: prefix + "listed " + st.Listing.Title, Key: st.Key})
		if st.Gone {
			p.Timeline = append(p.Timeline, VendorEvent{At: st.LastSeen, Kind: "listing", Text: prefix + "last seen " + st.Listing.Title, Key: st.Key})
		}
		for _, key := range sortedValues(st.AlertKeys) {
			al, err := s.Alert(ctx, key)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("precwatch: vendor %s: alert %s: %w", a, key, err)
			}
			p.Alerts = append(p.Alerts, al)
			p.Timeline = append(p.Timeline, VendorEvent{At: al.CreatedAt, Kind: "alert", Text: prefix + al.Severity.String() + " alert: " + al.Name, Key: al.Key})
		}
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// CheckVendorPage validates a vendor page sighting and its page (nil when
// none): a site, a time, and the page's hash being that of its body.
func CheckVendorPage(p *Page, s VendorPageSighting) error {
	if s.Vendor.Site == "" || s.At.IsZero() {
		return fmt.Errorf("%w: vendor page sighting needs a site and a time", ErrInvalid)
	}
	if p != nil {
		if err := CheckPage(*p); err != nil {
			return err
		}
	}
	return nil
}
