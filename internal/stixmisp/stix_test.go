package stixmisp

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// specificSchema names the OASIS schema of each standard object type the
// exports use.
var specificSchema = map[string]string{
	"identity": "sdos/identity.json", "observed-data": "sdos/observed-data.json", "report": "sdos/report.json",
	"marking-definition": "common/marking-definition.json", "url": "observables/url.json",
	"user-account": "observables/user-account.json", "email-addr": "observables/email-addr.json",
}

// TestSTIXSchema validates the bundle against the OASIS STIX 2.1 JSON
// schemas (the bundle, then each object against its own type's schema,
// custom observables against the cyber-observable core) with an
// independent JSON Schema implementation, and checks the specification's
// rules the schemas leave out (their README lists them): modified not
// before created, custom object IDs starting with their type, references
// resolving inside the bundle. Broken bundles must fail.
func TestSTIXSchema(t *testing.T) {
	c := stixCompiler(t)
	bundleSchema, err := c.Compile(stixSchemaBase + "common/bundle.json")
	if err != nil {
		t.Fatal(err)
	}
	e := newTestExporter(t)
	b, err := e.STIX(context.Background(), testAlerts())
	if err != nil {
		t.Fatal(err)
	}
	doc := toValue(t, b).(map[string]any)
	if err := bundleSchema.Validate(doc); err != nil {
		t.Fatalf("bundle: %v", err)
	}
	objects := doc["objects"].([]any)
	ids := map[string]bool{}
	types := map[string]int{}
	for _, o := range objects {
		ids[o.(map[string]any)["id"].(string)] = true
	}
	for _, o := range objects {
		m := o.(map[string]any)
		typ, oid := m["type"].(string), m["id"].(string)
		types[typ]++
		loc := specificSchema[typ]
		if loc == "" {
			if !strings.HasPrefix(typ, "x-") {
				t.Errorf("%s: neither a standard type nor x- prefixed", oid)
			}
			loc = "common/cyber-observable-core.json"
		}
		sch, err := c.Compile(stixSchemaBase + loc)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(m); err != nil {
			t.Errorf("%s against %s: %v", oid, loc, err)
		}
		if !strings.HasPrefix(oid, typ+"--") {
			t.Errorf("%s: id does not start with its type", oid)
		}
		if cr, ok := m["created"].(string); ok {
			if md, ok := m["modified"].(string); ok && md < cr {
				t.Errorf("%s: modified %s before created %s", oid, md, cr)
			}
		}
		for k, v := range m {
			var refs []any
			switch {
			case strings.HasSuffix(k, "_ref"):
				refs = []any{v}
			case strings.HasSuffix(k, "_refs"):
				refs = v.([]any)
			}
			for _, r := range refs {
				if !ids[r.(string)] {
					t.Errorf("%s: %s %s is not in the bundle", oid, k, r)
				}
			}
		}
	}
	// 3 alerts: 3 reports, 2 observed-data (the third listing has neither URL
	// nor vendor); one identity, one marking.
	for typ, want := range map[string]int{"identity": 1, "marking-definition": 1, "report": 3, "observed-data": 2,
		"url": 2, "user-account": 2 + 4, "email-addr": 1, TypeWallet: 4, TypePGPKey: 1} {
		if types[typ] != want {
			t.Errorf("%d %s objects, want %d (all: %v)", types[typ], typ, want, types)
		}
	}

	for name, mutate := range map[string]func(objs []any){
		"report without name": func(objs []any) {
			for _, o := range objs {
				if o.(map[string]any)["type"] == "report" {
					delete(o.(map[string]any), "name")
				}
			}
		},
		"timestamp without milliseconds": func(objs []any) {
			objs[0].(map[string]any)["created"] = "2026-01-01T00:00:00Z"
		},
		"id that is no UUID": func(objs []any) { objs[0].(map[string]any)["id"] = "identity--precwatch" },
		"url that is no URI": func(objs []any) {
			for _, o := range objs {
				if o.(map[string]any)["type"] == "url" {
					o.(map[string]any)["value"] = "not a url"
				}
			}
		},
	} {
		broken := toValue(t, b).(map[string]any)
		mutate(broken["objects"].([]any))
		if err := bundleSchema.Validate(broken); err == nil {
			t.Errorf("%s: broken bundle passed the schema", name)
		}
	}
}

// TestSTIXIdentifiers: observables get the identifiers STIX 2.1 (section
// 2.9) prescribes, computed here independently (Python's uuid.uuid5 over
// the JCS form); a wallet two alerts share appears once, referenced by
// both; one handle on two sites is two accounts; a re-export is identical.
func TestSTIXIdentifiers(t *testing.T) {
	ctx := context.Background()
	e := newTestExporter(t)
	as := testAlerts()
	b, err := e.STIX(ctx, as)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]map[string]any{}
	var observed []map[string]any
	for _, o := range toValue(t, b).(map[string]any)["objects"].([]any) {
		m := o.(map[string]any)
		if byID[m["id"].(string)] != nil {
			t.Errorf("object %s twice", m["id"])
		}
		byID[m["id"].(string)] = m
		if m["type"] == "observed-data" {
			observed = append(observed, m)
		}
	}
	// uuid.uuid5(uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7"), '{"value":"http://silkvault.onion/item/42"}')
	const urlID = "url--4650262a-ac68-535d-8c64-399396fd4621"
	// ... '{"address":"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa","currency":"BTC"}'
	const walletID = TypeWallet + "--10a1c061-4417-5f0e-8e2f-a3e4038ae70e"
	if byID[urlID] == nil || byID[walletID] == nil {
		t.Fatalf("missing %s or %s", urlID, walletID)
	}
	if len(observed) != 2 {
		t.Fatalf("%d observed-data", len(observed))
	}
	var vendors []string
	for _, od := range observed {
		refs := od["object_refs"].([]any)
		if !slices.Contains(refs, any(walletID)) {
			t.Errorf("%s does not reference the shared wallet", od["id"])
		}
		for _, r := range refs {
			if o := byID[r.(string)]; o["account_type"] == "marketplace" {
				vendors = append(vendors, r.(string))
			}
		}
	}
	if len(vendors) != 2 || vendors[0] == vendors[1] {
		t.Errorf("vendor accounts %v: want two distinct accounts for the handle on two sites", vendors)
	}
	var b1, b2 bytes.Buffer
	_ = e.Write(ctx, &b1, FormatSTIX, as)
	_ = e.Write(ctx, &b2, FormatSTIX, as)
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Error("two exports of the same alerts differ")
	}
	// An update of the alert keeps the report's and observed-data's IDs
	// and moves their modified time.
	changed := as[0]
	changed.UpdatedAt = t0.Add(72 * time.Hour)
	b3, _ := e.STIX(ctx, []precwatch.Alert{changed})
	b4, _ := e.STIX(ctx, as[:1])
	n3, n4 := b3.Objects[len(b3.Objects)-1].(stixReport), b4.Objects[len(b4.Objects)-1].(stixReport)
	if n3.ID != n4.ID || n3.Modified == n4.Modified || n3.Created != n4.Created {
		t.Errorf("report after update: %s %s %s, before %s %s %s", n3.ID, n3.Created, n3.Modified, n4.ID, n4.Created, n4.Modified)
	}
	if !strings.Contains(n4.Description, "CWC Schedule 2 chemical") || n4.Name != "critical: Dimethyl methylphosphonate (cwc-schedule-2) offered on silkvault" {
		t.Errorf("report %q: %s", n4.Name, n4.Description)
	}
}

// TestJCS checks the canonical form against RFC 8785's string rules:
// members sorted, only the short escapes and \u00xx for other controls,
// everything else (HTML characters, U+2028) as is.
func TestJCS(t *testing.T) {
	got := jcsStrings(map[string]string{"value": "a\"b\\c\n\x01<>&é\u2028", "account_login": "x\ty"})
	want := `{"account_login":"x\ty","value":"a\"b\\c\n\u0001<>&é` + "\u2028" + `"}`
	if got != want {
		t.Errorf("jcs = %s, want %s", got, want)
	}
	var back map[string]string
	if err := json.Unmarshal([]byte(got), &back); err != nil || back["value"] != "a\"b\\c\n\x01<>&é\u2028" {
		t.Errorf("not JSON of the same value: %v %q", err, back)
	}
}
