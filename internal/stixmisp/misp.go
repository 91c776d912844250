package stixmisp

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/precwatch/precwatch"
)

// MISPEvent is a MISP event in the MISP core format (what /events/add
// takes under "Event"). Numeric fields are strings, as the format has them.
type MISPEvent struct {
	UUID          string          `json:"uuid"`
	Info          string          `json:"info"`
	Date          string          `json:"date"`
	Timestamp     string          `json:"timestamp"`
	ThreatLevelID string          `json:"threat_level_id"`
	Analysis      string          `json:"analysis"`
	Distribution  string          `json:"distribution"`
	Published     bool            `json:"published"`
	Orgc          MISPOrg         `json:"Orgc"`
	Tag           []MISPTag       `json:"Tag"`
	Attribute     []MISPAttribute `json:"Attribute"`
	Object        []MISPObject    `json:"Object"`
}

// MISPOrg is an organisation.
type MISPOrg struct {
	Name string `json:"name"`
	UUID string `json:"uuid"`
}

// MISPTag is a tag, such as "tlp:amber".
type MISPTag struct {
	Name string `json:"name"`
}

// MISPAttribute is an attribute of an event or object.
type MISPAttribute struct {
	UUID           string `json:"uuid"`
	Type           string `json:"type"`
	Category       string `json:"category"`
	ObjectRelation string `json:"object_relation,omitempty"`
	Value          string `json:"value"`
	ToIDS          bool   `json:"to_ids"`
	Comment        string `json:"comment,omitempty"`
	Timestamp      string `json:"timestamp"`
	Distribution   string `json:"distribution"`
	// DisableCorrelation is set on values unrelated listings may share
	// (titles, descriptions, vendor handles), which MISP would otherwise
	// correlate.
	DisableCorrelation bool `json:"disable_correlation,omitempty"`
}

// MISPObject is an object built from a template of the MISP object
// library (misp-objects).
type MISPObject struct {
	UUID            string                `json:"uuid"`
	Name            string                `json:"name"`
	MetaCategory    string                `json:"meta-category"`
	Description     string                `json:"description"`
	TemplateUUID    string                `json:"template_uuid"`
	TemplateVersion string                `json:"template_version"`
	Comment         string                `json:"comment,omitempty"`
	Timestamp       string                `json:"timestamp"`
	Distribution    string                `json:"distribution"`
	Attribute       []MISPAttribute       `json:"Attribute"`
	ObjectReference []MISPObjectReference `json:"ObjectReference,omitempty"`
}

// MISPObjectReference links an object to another object or attribute.
type MISPObjectReference struct {
	UUID             string `json:"uuid"`
	ObjectUUID       string `json:"object_uuid"`
	ReferencedUUID   string `json:"referenced_uuid"`
	RelationshipType string `json:"relationship_type"`
	Timestamp        string `json:"timestamp"`
}

// MISPDocument is one event as MISP reads and writes it.
type MISPDocument struct {
	Event MISPEvent `json:"Event"`
}

// MISPCollection is several events, shaped as MISP's restSearch answers
// (and as its "Import from… MISP JSON" reads).
type MISPCollection struct {
	Response []MISPDocument `json:"response"`
}

// objectTemplate is what an object takes from its misp-objects template.
type objectTemplate struct {
	name, uuid, version, metaCategory, description string
}

// The misp-objects templates used; the tests check each against its
// definition.json. There is no template for a marketplace listing, so a
// listing is a microblog post: a title, a text, the poster's username and
// the post's URL.
var (
	tmplMicroblog = objectTemplate{"microblog", "8ec8c911-ddbe-4f5b-895b-fbff70c42a60", "20", "misc",
		"Microblog post like a Twitter tweet or a post on a Facebook wall."}
	tmplCoinAddress = objectTemplate{"coin-address", "d0e6997e-78da-4815-a6a1-cfc1c1cb8a46", "7", "financial",
		"An address used in a cryptocurrency"}
	tmplTelegram = objectTemplate{"telegram-account", "06f02ecf-5afb-42c5-9cb0-b362e222f52c", "2", "misc",
		"Information related to a telegram account"}
	tmplAnnotation = objectTemplate{"annotation", "5d8dc046-15a1-4ca3-a09f-ed4ede7c4487", "3", "misc",
		"An annotation object allowing analysts to add annotations, comments, executive summary to a MISP event, objects or attributes."}
)

// MISP codes of the event fields.
const (
	distributionOrgOnly = "0" // your organisation only
	distributionInherit = "5" // attributes and objects: as the event
)

// threatLevel maps a severity to MISP's threat level: 1 high, 2 medium,
// 3 low, 4 undefined.
func threatLevel(s precwatch.Severity) string {
	switch {
	case s >= precwatch.SeverityHigh:
		return "1"
	case s == precwatch.SeverityMedium:
		return "2"
	case s == precwatch.SeverityLow:
		return "3"
	}
	return "4"
}

// analysis maps a workflow status to MISP's analysis level: 0 initial,
// 1 ongoing, 2 completed.
func analysis(st precwatch.AlertStatus) string {
	switch st {
	case precwatch.StatusTriaged, precwatch.StatusEscalated:
		return "1"
	case precwatch.StatusDismissed:
		return "2"
	}
	return "0"
}

// maxInfo bounds the event's title.
const maxInfo = 240

// MISP returns the alert as a MISP event. Its UUID, and those of its
// attributes and objects, are derived from the alert key and the values,
// so that a later export of the same alert names the same event.
func (e *Exporter) MISP(ctx context.Context, a precwatch.Alert) (MISPEvent, error) {
	ids, err := e.identifiers(ctx, a)
	if err != nil {
		return MISPEvent{}, err
	}
	ts := unix(a.UpdatedAt, a.CreatedAt)
	l := a.Listing
	ev := MISPEvent{
		UUID:          id("misp-event", a.Key),
		Info:          truncate(fmt.Sprintf("precwatch: %s offered on %s: %s", a.Name, a.Site, l.Title), maxInfo),
		Date:          a.CreatedAt.UTC().Format("2006-01-02"),
		Timestamp:     ts,
		ThreatLevelID: threatLevel(a.Severity),
		Analysis:      analysis(a.Status),
		Distribution:  distributionOrgOnly,
		Orgc:          MISPOrg{Name: e.org, UUID: e.orgU},
		Tag: []MISPTag{
			{Name: "tlp:" + e.tlp},
			{Name: fmt.Sprintf("precwatch:regime=%q", a.Regime)},
			{Name: fmt.Sprintf("precwatch:severity=%q", a.Severity)},
			{Name: fmt.Sprintf("precwatch:substance=%q", a.Substance)},
		},
		Attribute: []MISPAttribute{},
		Object:    []MISPObject{},
	}
	attr := func(owner, relation, typ, category, value, comment string) MISPAttribute {
		return MISPAttribute{
			UUID: id("misp-attribute", a.Key, owner, relation, typ, value), Type: typ, Category: category,
			ObjectRelation: relation, Value: value, Comment: comment, Timestamp: ts, Distribution: distributionInherit,
		}
	}
	object := func(t objectTemplate, key, comment string, attrs ...MISPAttribute) MISPObject {
		return MISPObject{
			UUID: id("misp-object", a.Key, t.name, key), Name: t.name, MetaCategory: t.metaCategory, Description: t.description,
			TemplateUUID: t.uuid, TemplateVersion: t.version, Comment: comment, Timestamp: ts, Distribution: distributionInherit,
			Attribute: attrs,
		}
	}

	if l.URL != "" {
		ev.Attribute = append(ev.Attribute, attr("event", "", "url", "Network activity", l.URL, "listing page on "+a.Site))
	}
	// The listing.
	listingKey := "listing"
	var la []MISPAttribute
	add := func(relation, typ, value string, noCorrelate bool) {
		if value == "" {
			return
		}
		at := attr(listingKey, relation, typ, "Other", value, "")
		if typ == "url" {
			at.Category = "Network activity"
		}
		at.DisableCorrelation = noCorrelate
		la = append(la, at)
	}
	add("title", "text", truncate(l.Title, maxText), true)
	post := l.Description
	if post == "" && l.URL == "" {
		post = l.Title // the template needs a post or a URL
	}
	add("post", "text", truncate(post, maxText), true)
	add("url", "url", l.URL, false)
	// A handle is no identity across markets: MISP must not correlate
	// two events on it.
	add("username", "text", l.Vendor, true)
	add("type", "text", "marketplace listing", true)
	comment := "listing " + l.Identity() + " on " + a.Site
	if p := price(l); p != "" {
		comment += ", price " + p
	}
	listing := object(tmplMicroblog, listingKey, comment, la...)
	ev.Object = append(ev.Object, listing)

	note := object(tmplAnnotation, "match", "why precwatch raised this alert",
		attr("match", "text", "text", "Other", summary(a), ""),
		attr("match", "type", "text", "Other", "precwatch match", ""),
		attr("match", "format", "text", "Other", "text", ""),
	)
	note.ObjectReference = []MISPObjectReference{{
		UUID: id("misp-reference", a.Key, "match", "annotates"), ObjectUUID: note.UUID, ReferencedUUID: listing.UUID,
		RelationshipType: "annotates", Timestamp: ts,
	}}
	ev.Object = append(ev.Object, note)

	for _, x := range ids {
		switch x.Kind {
		case KindBTC:
			ev.Attribute = append(ev.Attribute, attr("event", "", "btc", "Financial fraud", x.Value, "Bitcoin address in the listing"))
		case KindXMR:
			ev.Attribute = append(ev.Attribute, attr("event", "", "xmr", "Financial fraud", x.Value, "Monero address in the listing"))
		case KindETH:
			k := "eth:" + x.Value
			ev.Object = append(ev.Object, object(tmplCoinAddress, k, "Ethereum address in the listing",
				attr(k, "address-crypto", "text", "Financial fraud", x.Value, ""),
				attr(k, "symbol", "text", "Financial fraud", "ETH", "")))
		case KindPGP:
			if strings.Contains(x.Raw, "BEGIN PGP PUBLIC KEY BLOCK") {
				ev.Attribute = append(ev.Attribute, attr("event", "", "pgp-public-key", "Person", x.Raw, "seller's PGP key, fingerprint "+x.Value))
			} else {
				ev.Attribute = append(ev.Attribute, attr("event", "", "text", "Person", x.Value, "seller's PGP key fingerprint"))
			}
		case KindEmail:
			ev.Attribute = append(ev.Attribute, attr("event", "", "email", "Social network", x.Value, "seller's e-mail contact"))
		case KindXMPP:
			ev.Attribute = append(ev.Attribute, attr("event", "", "jabber-id", "Social network", x.Value, "seller's XMPP contact"))
		case KindTelegram:
			k := "telegram:" + x.Value
			ev.Object = append(ev.Object, object(tmplTelegram, k, "seller's Telegram contact",
				attr(k, "username", "text", "Social network", x.Value, "")))
		case KindSession:
			ev.Attribute = append(ev.Attribute, attr("event", "", "text", "Social network", x.Value, "seller's Session ID"))
		case KindWickr:
			ev.Attribute = append(ev.Attribute, attr("event", "", "text", "Social network", x.Value, "seller's Wickr handle"))
		}
	}
	return ev, nil
}

// MISPEvents returns one event per alert.
func (e *Exporter) MISPEvents(ctx context.Context, as []precwatch.Alert) (MISPCollection, error) {
	c := MISPCollection{Response: make([]MISPDocument, 0, len(as))}
	for _, a := range as {
		ev, err := e.MISP(ctx, a)
		if err != nil {
			return MISPCollection{}, err
		}
		c.Response = append(c.Response, MISPDocument{Event: ev})
	}
	return c, nil
}

// unix is t (else fallback) in Unix seconds, as MISP timestamps are.
func unix(t, fallback time.Time) string {
	if t.IsZero() {
		t = fallback
	}
	return strconv.FormatInt(t.Unix(), 10)
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
