package stixmisp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/precwatch/precwatch"
)

// TestMISPSchema validates every exported event against MISP's own JSON
// schema of the core format (format/2.5/schema.json of the MISP project),
// with an independent JSON Schema implementation; a document broken on
// purpose must fail the same check.
func TestMISPSchema(t *testing.T) {
	sch := mispSchema(t)
	e := newTestExporter(t)
	c, err := e.MISPEvents(context.Background(), testAlerts())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Response) != 3 {
		t.Fatalf("%d events, want 3", len(c.Response))
	}
	for _, d := range c.Response {
		if err := sch.Validate(toValue(t, d)); err != nil {
			t.Errorf("event %s: %v", d.Event.Info, err)
		}
	}
	// The checks can fail: an unknown property, a number where the format
	// has a string.
	for name, mutate := range map[string]func(m map[string]any){
		"unknown property": func(m map[string]any) { m["Event"].(map[string]any)["Severity"] = "critical" },
		"numeric timestamp": func(m map[string]any) {
			m["Event"].(map[string]any)["Attribute"].([]any)[0].(map[string]any)["timestamp"] = json.Number("1")
		},
		"tag without schema": func(m map[string]any) { m["Event"].(map[string]any)["Tag"] = []any{map[string]any{"label": "x"}} },
	} {
		v := toValue(t, c.Response[0]).(map[string]any)
		mutate(v)
		if err := sch.Validate(v); err == nil {
			t.Errorf("%s: broken event passed the schema", name)
		}
	}
}

// describeTypes is PyMISP's describeTypes.json: MISP's attribute types
// and which categories each may be filed under.
type describeTypes struct {
	Result struct {
		Types                []string            `json:"types"`
		CategoryTypeMappings map[string][]string `json:"category_type_mappings"`
	} `json:"result"`
}

// template is a misp-objects definition.json.
type template struct {
	Name         string   `json:"name"`
	UUID         string   `json:"uuid"`
	Version      int      `json:"version"`
	MetaCategory string   `json:"meta-category"`
	Required     []string `json:"required"`
	RequiredOne  []string `json:"requiredOneOf"`
	Attributes   map[string]struct {
		MISPAttribute string `json:"misp-attribute"`
		Multiple      bool   `json:"multiple"`
	} `json:"attributes"`
}

// checkAttribute reports an attribute whose type MISP does not know or
// whose category MISP does not allow for it.
func checkAttribute(dt describeTypes, a MISPAttribute) error {
	if !slices.Contains(dt.Result.Types, a.Type) {
		return fmt.Errorf("attribute type %q is not a MISP type", a.Type)
	}
	if !slices.Contains(dt.Result.CategoryTypeMappings[a.Category], a.Type) {
		return fmt.Errorf("type %q is not allowed in category %q", a.Type, a.Category)
	}
	return nil
}

// checkObject reports how o departs from its misp-objects template.
func checkObject(tmpl template, o MISPObject) []error {
	var errs []error
	if o.Name != tmpl.Name || o.TemplateUUID != tmpl.UUID || o.TemplateVersion != fmt.Sprint(tmpl.Version) || o.MetaCategory != tmpl.MetaCategory {
		errs = append(errs, fmt.Errorf("object %s: name/uuid/version/meta-category %s %s %s %s, template has %s %s %d %s",
			o.Name, o.Name, o.TemplateUUID, o.TemplateVersion, o.MetaCategory, tmpl.Name, tmpl.UUID, tmpl.Version, tmpl.MetaCategory))
	}
	count := map[string]int{}
	for _, a := range o.Attribute {
		count[a.ObjectRelation]++
		def, ok := tmpl.Attributes[a.ObjectRelation]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("object %s: no relation %q in the template", o.Name, a.ObjectRelation))
		case def.MISPAttribute != a.Type:
			errs = append(errs, fmt.Errorf("object %s: %s is a %s, template says %s", o.Name, a.ObjectRelation, a.Type, def.MISPAttribute))
		case !def.Multiple && count[a.ObjectRelation] > 1:
			errs = append(errs, fmt.Errorf("object %s: %s given twice, the template allows one", o.Name, a.ObjectRelation))
		}
	}
	for _, r := range tmpl.Required {
		if count[r] == 0 {
			errs = append(errs, fmt.Errorf("object %s: required %s missing", o.Name, r))
		}
	}
	if len(tmpl.RequiredOne) > 0 && !slices.ContainsFunc(tmpl.RequiredOne, func(r string) bool { return count[r] > 0 }) {
		errs = append(errs, fmt.Errorf("object %s: none of %v", o.Name, tmpl.RequiredOne))
	}
	return errs
}

// TestMISPTypesAndTemplates checks every attribute against MISP's type
// and category table (PyMISP's describeTypes.json) and every object
// against its published template (misp-objects), and that the event
// carries what an investigator needs.
func TestMISPTypesAndTemplates(t *testing.T) {
	var dt describeTypes
	readJSON(t, filepath.Join("testdata", "misp", "describeTypes.json"), &dt)
	templates := map[string]template{}
	for _, n := range []string{"microblog", "coin-address", "telegram-account", "annotation"} {
		var tm template
		readJSON(t, filepath.Join("testdata", "misp", "objects", n, "definition.json"), &tm)
		templates[n] = tm
	}
	// The checkers can fail.
	if checkAttribute(dt, MISPAttribute{Type: "btc", Category: "Network activity"}) == nil {
		t.Error("btc in Network activity passed")
	}
	if checkAttribute(dt, MISPAttribute{Type: "wallet", Category: "Financial fraud"}) == nil {
		t.Error("unknown type passed")
	}
	if len(checkObject(templates["microblog"], MISPObject{Name: "microblog", TemplateUUID: tmplMicroblog.uuid, TemplateVersion: "20",
		MetaCategory: "misc", Attribute: []MISPAttribute{{ObjectRelation: "title", Type: "url"}}})) == 0 {
		t.Error("a microblog with a url-typed title and no post passed")
	}

	e := newTestExporter(t)
	ev, err := e.MISP(context.Background(), testAlerts()[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range ev.Attribute {
		if err := checkAttribute(dt, a); err != nil {
			t.Error(err)
		}
	}
	objects := map[string]int{}
	for _, o := range ev.Object {
		objects[o.Name]++
		tm, ok := templates[o.Name]
		if !ok {
			t.Errorf("object %s has no vendored template", o.Name)
			continue
		}
		for _, err := range checkObject(tm, o) {
			t.Error(err)
		}
		for _, a := range o.Attribute {
			if err := checkAttribute(dt, a); err != nil {
				t.Errorf("object %s: %v", o.Name, err)
			}
		}
		for _, r := range o.ObjectReference {
			if r.ObjectUUID != o.UUID || !slices.ContainsFunc(ev.Object, func(x MISPObject) bool { return x.UUID == r.ReferencedUUID }) {
				t.Errorf("object %s: reference %+v does not resolve", o.Name, r)
			}
		}
	}
	if want := map[string]int{"microblog": 1, "annotation": 1, "coin-address": 1, "telegram-account": 1}; fmt.Sprint(objects) != fmt.Sprint(want) {
		t.Errorf("objects %v, want %v", objects, want)
	}
	got := map[string][]string{}
	for _, a := range ev.Attribute {
		got[a.Type] = append(got[a.Type], a.Value)
	}
	for typ, want := range map[string][]string{
		"url": {"http://silkvault.onion/item/42"}, "btc": {btcAddr, bech32Addr}, "xmr": {xmrAddr},
		"pgp-public-key": {pgpBlock}, "email": {"desk@parcel.example"}, "jabber-id": {"chemking@jabber.example"},
		"text": {"05" + strings.Repeat("a1", 32), "chemking99"},
	} {
		if !slices.Equal(got[typ], want) {
			t.Errorf("%s attributes %q, want %q", typ, got[typ], want)
		}
	}
	var tags []string
	for _, tg := range ev.Tag {
		tags = append(tags, tg.Name)
	}
	if want := []string{"tlp:amber", `precwatch:regime="cwc-schedule-2"`, `precwatch:severity="critical"`, `precwatch:substance="dimethyl-methylphosphonate"`}; !slices.Equal(tags, want) {
		t.Errorf("tags %q, want %q", tags, want)
	}
	if ev.ThreatLevelID != "1" || ev.Analysis != "0" || ev.Date != "2026-11-02" || ev.Timestamp != fmt.Sprint(t0.Add(time.Hour).Unix()) || ev.Orgc.Name != "Customs Intelligence Unit" {
		t.Errorf("event fields: threat %s analysis %s date %s timestamp %s org %q", ev.ThreatLevelID, ev.Analysis, ev.Date, ev.Timestamp, ev.Orgc.Name)
	}
	var note string
	for _, o := range ev.Object {
		if o.Name == "annotation" {
			note = o.Attribute[0].Value
		}
	}
	for _, want := range []string{"CWC Schedule 2 chemical", `"DMMP" in the title`, `quantity "1 kg"`, "price 0.0019 BTC", strings.Repeat("ab", 32)} {
		if !strings.Contains(note, want) {
			t.Errorf("annotation lacks %q:\n%s", want, note)
		}
	}
}

// TestMISPDeterministic: the same alert, exported again after it changed,
// names the same event, attributes and objects (so a MISP instance
// updates it); another alert names other ones.
func TestMISPDeterministic(t *testing.T) {
	ctx := context.Background()
	e := newTestExporter(t)
	as := testAlerts()
	var b1, b2 bytes.Buffer
	if err := e.Write(ctx, &b1, FormatMISP, as); err != nil {
		t.Fatal(err)
	}
	if err := e.Write(ctx, &b2, FormatMISP, as); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Error("two exports of the same alerts differ")
	}
	first, _ := e.MISP(ctx, as[0])
	changed := as[0]
	changed.Status, changed.UpdatedAt = precwatch.StatusEscalated, t0.Add(48*time.Hour)
	changed.Listing.Price = 0.0021
	again, _ := e.MISP(ctx, changed)
	if first.UUID != again.UUID || first.Object[0].UUID != again.Object[0].UUID || first.Attribute[0].UUID != again.Attribute[0].UUID {
		t.Errorf("re-export changed identifiers: %s/%s %s/%s", first.UUID, again.UUID, first.Object[0].UUID, again.Object[0].UUID)
	}
	if again.Timestamp == first.Timestamp || again.Analysis != "1" {
		t.Errorf("re-export timestamp %s (was %s), analysis %s", again.Timestamp, first.Timestamp, again.Analysis)
	}
	other, _ := e.MISP(ctx, as[1])
	if other.UUID == first.UUID {
		t.Error("two alerts share an event UUID")
	}
	uuids := map[string]bool{}
	for _, d := range []MISPEvent{first, other} {
		for _, a := range d.Attribute {
			if uuids[a.UUID] {
				t.Errorf("attribute UUID %s used twice", a.UUID)
			}
			uuids[a.UUID] = true
		}
	}
	// One alert alone is {"Event": ...}, which /events/add takes.
	var one bytes.Buffer
	if err := e.WriteAlert(ctx, &one, FormatMISP, as[0]); err != nil {
		t.Fatal(err)
	}
	var doc MISPDocument
	if err := json.Unmarshal(one.Bytes(), &doc); err != nil || doc.Event.UUID != first.UUID {
		t.Errorf("single export: %v, uuid %s", err, doc.Event.UUID)
	}
}

func TestNewOptions(t *testing.T) {
	for name, test := range map[string]func(t *testing.T){
		"defaults": func(t *testing.T) {
			e, err := New(Options{})
			if err != nil || e.Organisation() != "precwatch" || e.tlp != "amber" {
				t.Errorf("New(Options{}) = %+v, %v", e, err)
			}
		},
		"tlp": func(t *testing.T) {
			e, err := New(Options{TLP: "RED"})
			if err != nil || e.tlp != "red" {
				t.Fatalf("TLP RED: %v", err)
			}
			ev, _ := e.MISP(context.Background(), testAlerts()[2])
			if ev.Tag[0].Name != "tlp:red" {
				t.Errorf("tag %s", ev.Tag[0].Name)
			}
			if _, err := New(Options{TLP: "purple"}); err == nil {
				t.Error("TLP purple accepted")
			}
		},
		"identifiers error": func(t *testing.T) {
			e, _ := New(Options{Identifiers: IdentifierFunc(func(context.Context, precwatch.Alert) ([]Identifier, error) {
				return nil, fmt.Errorf("store down")
			})})
			if _, err := e.MISP(context.Background(), testAlerts()[0]); err == nil || !strings.Contains(err.Error(), "store down") {
				t.Errorf("err = %v", err)
			}
		},
		"format": func(t *testing.T) {
			if f, err := ParseFormat(" STIX "); err != nil || f != FormatSTIX {
				t.Errorf("ParseFormat: %v %v", f, err)
			}
			if _, err := ParseFormat("csv"); err == nil {
				t.Error("csv accepted")
			}
		},
	} {
		t.Run(name, test)
	}
}

// TestMISPHandleDoesNotCorrelate: the same handle on two markets must not
// make MISP correlate the two events; the shared wallet may.
func TestMISPHandleDoesNotCorrelate(t *testing.T) {
	e := newTestExporter(t)
	for _, a := range testAlerts()[:2] {
		ev, err := e.MISP(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range ev.Object[0].Attribute {
			if at.ObjectRelation == "username" && !at.DisableCorrelation {
				t.Errorf("%s: username %q correlates", a.Site, at.Value)
			}
		}
		for _, at := range ev.Attribute {
			if at.Type == "btc" && at.DisableCorrelation {
				t.Errorf("%s: wallet %s does not correlate", a.Site, at.Value)
			}
		}
	}
}

// TestHostileText: listing markup never appears as markup in the files,
// and an oversized description is cut to what MISP keeps.
func TestHostileText(t *testing.T) {
	e := newTestExporter(t)
	a := testAlerts()[0]
	a.Listing.Description = "<script>alert(1)</script>" + strings.Repeat("é", 80<<10)
	for _, f := range []Format{FormatMISP, FormatSTIX} {
		var buf bytes.Buffer
		if err := e.Write(context.Background(), &buf, f, []precwatch.Alert{a}); err != nil {
			t.Fatal(err)
		}
		if bytes.ContainsAny(buf.Bytes(), "<>") || !strings.Contains(buf.String(), `\u003cb\u003e1 kg`) {
			t.Errorf("%s: markup not escaped", f)
		}
	}
	ev, _ := e.MISP(context.Background(), a)
	for _, at := range ev.Object[0].Attribute {
		if at.ObjectRelation == "post" && (len(at.Value) > maxText+len("…") || !utf8.ValidString(at.Value)) {
			t.Errorf("post of %d bytes (valid UTF-8 %v), want at most %d", len(at.Value), utf8.ValidString(at.Value), maxText)
		}
	}
}
