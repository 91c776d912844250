// Package stixmisp writes alerts in the two interchange formats threat
// intelligence tools read: MISP events (MISP core format, JSON) and STIX 2.1
// bundles. Every identifier it writes is a UUIDv5 derived from the alert key
// (or, for STIX cyber-observables, from the observable's own values as the
// STIX specification prescribes), so exporting the same alert again updates
// the copy a MISP instance or a TAXII server holds instead of adding a
// second one.
//
// Seller identifiers (PGP keys, wallets, contacts) come from an
// IdentifierSource: today vendorid over the listing's text at export time,
// wired in cmd/precwatch; later the identifiers the store keeps with each
// listing.
package stixmisp

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/precwatch/precwatch"
)

// Format names an interchange format.
type Format string

// The formats Write knows.
const (
	FormatMISP Format = "misp"
	FormatSTIX Format = "stix"
)

// ParseFormat parses "misp" or "stix".
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case FormatMISP, FormatSTIX:
		return f, nil
	}
	return "", fmt.Errorf("%w: format %q (want misp or stix)", precwatch.ErrInvalid, s)
}

// ContentType is the media type of a document in format f.
func (f Format) ContentType() string {
	if f == FormatSTIX {
		return "application/stix+json;version=2.1"
	}
	return "application/json"
}

// Identifier kinds, as vendorid names them.
const (
	KindPGP      = "pgp-fingerprint"
	KindBTC      = "btc"
	KindXMR      = "xmr"
	KindETH      = "eth"
	KindTelegram = "telegram"
	KindSession  = "session"
	KindXMPP     = "xmpp"
	KindWickr    = "wickr"
	KindEmail    = "email"
)

// kindOrder orders identifiers in exports: keys, wallets, then contacts.
var kindOrder = []string{KindPGP, KindBTC, KindXMR, KindETH, KindEmail, KindXMPP, KindTelegram, KindSession, KindWickr}

// Identifier is one strong seller identifier of an alert's listing.
type Identifier struct {
	// Kind is one of the Kind constants; others are ignored.
	Kind string `json:"kind"`
	// Value is normalised as vendorid does (an upper-case hex
	// fingerprint, a lower-case handle, …).
	Value string `json:"value"`
	// Raw is the text the identifier was read from when known; for a PGP
	// key, its armored public key block, exported as such to MISP.
	Raw string `json:"raw,omitempty"`
}

// IdentifierSource gives the seller identifiers of an alert's listing.
type IdentifierSource interface {
	Identifiers(ctx context.Context, a precwatch.Alert) ([]Identifier, error)
}

// IdentifierFunc adapts a function to IdentifierSource.
type IdentifierFunc func(ctx context.Context, a precwatch.Alert) ([]Identifier, error)

// Identifiers calls f.
func (f IdentifierFunc) Identifiers(ctx context.Context, a precwatch.Alert) ([]Identifier, error) {
	return f(ctx, a)
}

// TLP levels (TLP 1.0, the ones STIX 2.1 predefines marking definitions for).
var tlpLevels = []string{"white", "green", "amber", "red"}

// Options configure an Exporter.
type Options struct {
	// Organisation names the monitoring organisation: the STIX identity
	// that creates every object and the MISP events' creator
	// organisation. Default "precwatch".
	Organisation string
	// TLP marks every export: white, green, amber or red. Default amber.
	TLP string
	// Identifiers finds the seller identifiers of an alert; nil exports
	// none.
	Identifiers IdentifierSource
}

// Exporter turns alerts into MISP events and STIX bundles. It is safe for
// concurrent use.
type Exporter struct {
	org  string
	tlp  string
	ids  IdentifierSource
	orgU string // the organisation's UUID
}

// New returns an Exporter; it fails on an unknown TLP level.
func New(opts Options) (*Exporter, error) {
	e := &Exporter{org: strings.TrimSpace(opts.Organisation), tlp: strings.ToLower(strings.TrimSpace(opts.TLP)), ids: opts.Identifiers}
	if e.org == "" {
		e.org = "precwatch"
	}
	if e.tlp == "" {
		e.tlp = "amber"
	}
	if !slices.Contains(tlpLevels, e.tlp) {
		return nil, fmt.Errorf("%w: stixmisp: tlp %q (want one of %s)", precwatch.ErrInvalid, opts.TLP, strings.Join(tlpLevels, ", "))
	}
	e.orgU = id("organisation", e.org)
	return e, nil
}

// Organisation is the organisation's name.
func (e *Exporter) Organisation() string { return e.org }

// namespace is precwatch's UUIDv5 namespace (a random UUID, fixed forever:
// changing it would change every exported identifier).
var namespace = uuid.MustParse("6c72794c-c9a8-4330-be15-bd4a951ecd2b")

// id is the UUIDv5 of the parts, joined by NUL, in precwatch's namespace.
func id(parts ...string) string {
	return uuid.NewSHA1(namespace, []byte(strings.Join(parts, "\x00"))).String()
}

// maxIdentifiers bounds the identifiers exported per alert.
const maxIdentifiers = 64

// identifiers returns the alert's known identifiers, deduplicated and in a
// stable order (kind, then value), keeping the first raw text of each.
func (e *Exporter) identifiers(ctx context.Context, a precwatch.Alert) ([]Identifier, error) {
	if e.ids == nil {
		return nil, nil
	}
	got, err := e.ids.Identifiers(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("stixmisp: identifiers of alert %s: %w", a.Key, err)
	}
	var out []Identifier
	seen := map[[2]string]int{}
	for _, x := range got {
		if !slices.Contains(kindOrder, x.Kind) || x.Value == "" {
			continue
		}
		k := [2]string{x.Kind, x.Value}
		if i, ok := seen[k]; ok {
			if out[i].Raw == "" {
				out[i].Raw = x.Raw
			}
			continue
		}
		seen[k] = len(out)
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b Identifier) int {
		return cmp.Or(cmp.Compare(slices.Index(kindOrder, a.Kind), slices.Index(kindOrder, b.Kind)), cmp.Compare(a.Value, b.Value))
	})
	if len(out) > maxIdentifiers {
		out = out[:maxIdentifiers]
	}
	return out, nil
}

// summary is the alert's match explained in plain text: the MISP
// annotation and the STIX report carry it.
func summary(a precwatch.Alert) string {
	var b strings.Builder
	fmt.Fprintf(&b, "precwatch alert %s: %s (%s), regime %s, severity %s, score %s, status %s.\n",
		a.Key, a.Name, a.Substance, a.Regime, a.Severity, formatFloat(a.Score), a.Status)
	l := a.Listing
	fmt.Fprintf(&b, "Listing %q on %s", l.Title, a.Site)
	if l.Vendor != "" {
		fmt.Fprintf(&b, ", vendor %q", l.Vendor)
	}
	if p := price(l); p != "" {
		fmt.Fprintf(&b, ", price %s", p)
	}
	if l.URL != "" {
		fmt.Fprintf(&b, ", URL %s", l.URL)
	}
	b.WriteString(".\n")
	if len(a.Matches) > 0 {
		b.WriteString("Matches:\n")
	}
	for _, m := range a.Matches {
		fmt.Fprintf(&b, "- %q in the %s (%s term %q)", m.Text, m.Field, m.Kind, m.Term)
		if m.ConcentrationPercent != nil {
			fmt.Fprintf(&b, ", strength %s%%", formatFloat(*m.ConcentrationPercent))
			if m.LimitPercent != nil {
				fmt.Fprintf(&b, " (limit %s%%)", formatFloat(*m.LimitPercent))
			}
		}
		if m.Quantity != nil && m.Quantity.Text != "" {
			fmt.Fprintf(&b, ", quantity %q", m.Quantity.Text)
		}
		b.WriteString("\n")
	}
	if len(a.Reasons) > 0 {
		b.WriteString("Reasons:\n")
	}
	for _, r := range a.Reasons {
		fmt.Fprintf(&b, "- %s\n", r)
	}
	if l.PageSHA256 != "" {
		fmt.Fprintf(&b, "Evidence page SHA-256 %s, fetched %s.\n", l.PageSHA256, l.FetchedAt.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return truncate(strings.TrimRight(b.String(), "\n"), maxText)
}

// maxText bounds a text value of an export (a listing's description, the
// match summary): MISP keeps attribute values up to 64 KiB.
const maxText = 60 << 10

// price is the listing's price as stated, empty when none.
func price(l precwatch.Listing) string {
	if l.Price == 0 {
		return ""
	}
	return strings.TrimSpace(formatFloat(l.Price) + " " + l.Currency)
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Write writes alerts in format f: for MISP, one event per alert in a
// {"response": [...]} collection; for STIX, one bundle.
func (e *Exporter) Write(ctx context.Context, w io.Writer, f Format, as []precwatch.Alert) error {
	var doc any
	var err error
	switch f {
	case FormatMISP:
		doc, err = e.MISPEvents(ctx, as)
	case FormatSTIX:
		doc, err = e.STIX(ctx, as)
	default:
		return fmt.Errorf("%w: format %q", precwatch.ErrInvalid, f)
	}
	if err != nil {
		return err
	}
	return encode(w, doc)
}

// WriteAlert writes one alert in format f: for MISP, the event as
// {"Event": {...}}, which /events/add takes as it is; for STIX, a bundle.
func (e *Exporter) WriteAlert(ctx context.Context, w io.Writer, f Format, a precwatch.Alert) error {
	if f != FormatMISP {
		return e.Write(ctx, w, f, []precwatch.Alert{a})
	}
	ev, err := e.MISP(ctx, a)
	if err != nil {
		return err
	}
	return encode(w, MISPDocument{Event: ev})
}

// encode writes doc as indented JSON. Listing text is hostile: <, > and &
// stay escaped (\u003c…), so that no tool showing the file as it is can
// take it for markup; every JSON reader decodes them alike.
func encode(w io.Writer, doc any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("stixmisp: encode: %w", err)
	}
	return nil
}
