package stixmisp

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/precwatch/precwatch"
)

// STIXBundle is a STIX 2.1 bundle. Objects holds the identity, the TLP
// marking definition, and per alert its cyber-observables, an
// observed-data and a report.
type STIXBundle struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Objects []any  `json:"objects"`
}

// stixCommon are the properties every SDO (and the marking) has.
type stixCommon struct {
	Type               string              `json:"type"`
	SpecVersion        string              `json:"spec_version"`
	ID                 string              `json:"id"`
	CreatedByRef       string              `json:"created_by_ref,omitempty"`
	Created            string              `json:"created"`
	Modified           string              `json:"modified,omitempty"`
	Labels             []string            `json:"labels,omitempty"`
	ExternalReferences []externalReference `json:"external_references,omitempty"`
	ObjectMarkingRefs  []string            `json:"object_marking_refs,omitempty"`
}

type externalReference struct {
	SourceName  string `json:"source_name"`
	ExternalID  string `json:"external_id,omitempty"`
	Description string `json:"description,omitempty"`
}

// stixIdentity is the monitoring organisation.
type stixIdentity struct {
	stixCommon
	Name          string `json:"name"`
	IdentityClass string `json:"identity_class"`
}

// stixMarking is a TLP 1.0 marking definition, as the specification
// predefines it.
type stixMarking struct {
	Type           string            `json:"type"`
	SpecVersion    string            `json:"spec_version"`
	ID             string            `json:"id"`
	Created        string            `json:"created"`
	DefinitionType string            `json:"definition_type"`
	Name           string            `json:"name"`
	Definition     map[string]string `json:"definition"`
}

// stixObservedData records the sighting of the listing's observables.
type stixObservedData struct {
	stixCommon
	FirstObserved  string   `json:"first_observed"`
	LastObserved   string   `json:"last_observed"`
	NumberObserved int      `json:"number_observed"`
	ObjectRefs     []string `json:"object_refs"`
}

// stixReport carries the match and its reasons, and refers to the
// observed-data and observables of the listing. (A note would do as well,
// but the OASIS bundle schema rejects every note: its list of object types
// leaves note out, and its fallback for custom objects then matches a note
// twice.)
type stixReport struct {
	stixCommon
	Name        string   `json:"name"`
	Description string   `json:"description"`
	ReportTypes []string `json:"report_types"`
	Published   string   `json:"published"`
	ObjectRefs  []string `json:"object_refs"`
}

// stixSCO is a cyber-observable: the standard url, email-addr and
// user-account, or one of the two custom objects, x-cryptocurrency-wallet
// (currency, address) and x-pgp-key (fingerprint).
type stixSCO struct {
	Type              string   `json:"type"`
	SpecVersion       string   `json:"spec_version"`
	ID                string   `json:"id"`
	ObjectMarkingRefs []string `json:"object_marking_refs,omitempty"`
	// url, email-addr
	Value string `json:"value,omitempty"`
	// user-account
	AccountType  string `json:"account_type,omitempty"`
	UserID       string `json:"user_id,omitempty"`
	AccountLogin string `json:"account_login,omitempty"`
	DisplayName  string `json:"display_name,omitempty"`
	// x-cryptocurrency-wallet
	Currency string `json:"currency,omitempty"`
	Address  string `json:"address,omitempty"`
	// x-pgp-key
	Fingerprint string `json:"fingerprint,omitempty"`
}

// Custom observable types: STIX 2.1 defines no cryptocurrency wallet or
// PGP key object.
const (
	TypeWallet = "x-cryptocurrency-wallet"
	TypePGPKey = "x-pgp-key"
)

// scoNamespace is the namespace STIX 2.1 (section 2.9) prescribes for the
// UUIDv5 of a cyber-observable's deterministic identifier.
var scoNamespace = uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7")

// newSCO builds an observable whose identifier is derived, as STIX 2.1
// prescribes, from the JCS (RFC 8785) serialisation of its ID contributing
// properties, given as name-value pairs.
func newSCO(typ string, contributing ...string) stixSCO {
	props := map[string]string{}
	for i := 0; i+1 < len(contributing); i += 2 {
		if contributing[i+1] != "" {
			props[contributing[i]] = contributing[i+1]
		}
	}
	return stixSCO{Type: typ, SpecVersion: "2.1", ID: typ + "--" + uuid.NewSHA1(scoNamespace, []byte(jcsStrings(props))).String()}
}

// jcsStrings serialises an object of string values as RFC 8785 (JSON
// Canonicalization Scheme) does: members sorted by name (UTF-16 code units,
// the same as bytes for the ASCII names used here), strings escaped as
// ECMAScript's JSON.stringify escapes them, nothing else.
func jcsStrings(props map[string]string) string {
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		jcsString(&b, k)
		b.WriteByte(':')
		jcsString(&b, props[k])
	}
	b.WriteByte('}')
	return b.String()
}

func jcsString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hex[r>>4])
				b.WriteByte(hex[r&0xf])
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// tlpMarkings are the TLP 1.0 marking definitions STIX 2.1 predefines
// (section 7.2.1.4).
var tlpMarkings = map[string]string{
	"white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
	"green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
	"amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
	"red":   "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}

// identityCreated is the fixed creation time of the organisation's
// identity, so that every export carries the same version of it.
var identityCreated = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// stixTime formats t as STIX timestamps are: UTC, milliseconds.
func stixTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// STIX returns the alerts as one STIX 2.1 bundle. An observable shared by
// several alerts (a wallet, a contact) appears once, referenced by each.
// The bundle's own ID is derived from the alert keys, so the same set
// gives the same document.
func (e *Exporter) STIX(ctx context.Context, as []precwatch.Alert) (STIXBundle, error) {
	marking := tlpMarkings[e.tlp]
	identityID := "identity--" + id("stix-identity", e.org)
	keys := make([]string, 0, len(as))
	for _, a := range as {
		keys = append(keys, a.Key)
	}
	slices.Sort(keys)
	b := STIXBundle{Type: "bundle", ID: "bundle--" + id(append([]string{"stix-bundle", e.org}, keys...)...)}
	b.Objects = append(b.Objects,
		stixIdentity{
			stixCommon: stixCommon{Type: "identity", SpecVersion: "2.1", ID: identityID,
				Created: stixTime(identityCreated), Modified: stixTime(identityCreated)},
			Name: e.org, IdentityClass: "organization",
		},
		stixMarking{Type: "marking-definition", SpecVersion: "2.1", ID: marking, Created: "2017-01-20T00:00:00.000Z",
			DefinitionType: "tlp", Name: "TLP:" + strings.ToUpper(e.tlp), Definition: map[string]string{"tlp": e.tlp}},
	)
	seen := map[string]bool{}
	for _, a := range as {
		ids, err := e.identifiers(ctx, a)
		if err != nil {
			return STIXBundle{}, err
		}
		var refs []string
		addSCO := func(o stixSCO) {
			o.ObjectMarkingRefs = []string{marking}
			if !slices.Contains(refs, o.ID) {
				refs = append(refs, o.ID)
			}
			if !seen[o.ID] {
				seen[o.ID] = true
				b.Objects = append(b.Objects, o)
			}
		}
		l := a.Listing
		if absoluteURL(l.URL) {
			o := newSCO("url", "value", l.URL)
			o.Value = l.URL
			addSCO(o)
		}
		if l.Vendor != "" {
			// The handle is the seller's account on this site only: the
			// site is part of its user_id, so that the same handle on two
			// sites is two accounts.
			o := newSCO("user-account", "account_type", "marketplace", "user_id", a.Site+"/"+l.Vendor, "account_login", l.Vendor)
			o.AccountType, o.UserID, o.AccountLogin, o.DisplayName = "marketplace", a.Site+"/"+l.Vendor, l.Vendor, l.Vendor
			addSCO(o)
		}
		for _, x := range ids {
			switch x.Kind {
			case KindBTC, KindXMR, KindETH:
				cur := strings.ToUpper(x.Kind)
				o := newSCO(TypeWallet, "currency", cur, "address", x.Value)
				o.Currency, o.Address = cur, x.Value
				addSCO(o)
			case KindPGP:
				o := newSCO(TypePGPKey, "fingerprint", x.Value)
				o.Fingerprint = x.Value
				addSCO(o)
			case KindEmail:
				o := newSCO("email-addr", "value", x.Value)
				o.Value = x.Value
				addSCO(o)
			case KindTelegram, KindXMPP, KindWickr:
				o := newSCO("user-account", "account_type", x.Kind, "account_login", x.Value)
				o.AccountType, o.AccountLogin = x.Kind, x.Value
				addSCO(o)
			case KindSession:
				o := newSCO("user-account", "account_type", x.Kind, "user_id", x.Value)
				o.AccountType, o.UserID = x.Kind, x.Value
				addSCO(o)
			}
		}

		created := a.CreatedAt
		modified := a.UpdatedAt
		if modified.Before(created) {
			modified = created
		}
		last := l.FetchedAt
		for _, h := range a.History {
			if h.At.After(last) {
				last = h.At
			}
		}
		if last.Before(created) {
			last = created
		}
		common := func(typ string) stixCommon {
			return stixCommon{
				Type: typ, SpecVersion: "2.1", ID: typ + "--" + id("stix-"+typ, a.Key), CreatedByRef: identityID,
				Created: stixTime(created), Modified: stixTime(modified),
				Labels:             []string{"precwatch", "severity:" + a.Severity.String(), "regime:" + string(a.Regime), "substance:" + a.Substance},
				ExternalReferences: []externalReference{{SourceName: "precwatch", ExternalID: a.Key, Description: "precwatch alert key"}},
				ObjectMarkingRefs:  []string{marking},
			}
		}
		reportRefs := []string{identityID} // when the listing has no observable
		if len(refs) > 0 {
			od := stixObservedData{
				stixCommon:    common("observed-data"),
				FirstObserved: stixTime(created), LastObserved: stixTime(last),
				NumberObserved: max(1, len(a.History)), ObjectRefs: refs,
			}
			b.Objects = append(b.Objects, od)
			reportRefs = append([]string{od.ID}, refs...)
		}
		b.Objects = append(b.Objects, stixReport{
			stixCommon:  common("report"),
			Name:        fmt.Sprintf("%s: %s (%s) offered on %s", a.Severity, a.Name, a.Regime, a.Site),
			Description: summary(a),
			ReportTypes: []string{"observed-data"},
			Published:   stixTime(created),
			ObjectRefs:  reportRefs,
		})
	}
	return b, nil
}

// absoluteURL reports whether s is an absolute URL, as STIX's url value
// must be (a listing identified by its ID alone may have none).
func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}
