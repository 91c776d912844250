package console

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/stixmisp"
)

// TestInterchangeExport: the queue's filter and selection exported as MISP
// events and as a STIX bundle, one alert from its page, the same event
// UUID either way; the seller identifiers and organisation the console
// was given are used; only investigators may export.
func TestInterchangeExport(t *testing.T) {
	e := newEnv(t)
	ex, err := stixmisp.New(stixmisp.Options{Organisation: "Customs Intelligence Unit", TLP: "red",
		Identifiers: stixmisp.IdentifierFunc(func(_ context.Context, a precwatch.Alert) ([]stixmisp.Identifier, error) {
			if a.Listing.Vendor == "fuelking" {
				return []stixmisp.Identifier{{Kind: stixmisp.KindBTC, Value: "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"}}, nil
			}
			return nil, nil
		})})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.interchange = ex
	ivy := e.as(precwatch.RoleInvestigator)

	resp := ivy.do("GET", "/api/export?format=misp&severity=high", nil, nil)
	if resp.code != http.StatusOK || resp.header.Get("Content-Type") != "application/json" ||
		!strings.HasSuffix(resp.header.Get("Content-Disposition"), `.misp.json"`) {
		t.Fatalf("misp: %d %s %s", resp.code, resp.header.Get("Content-Type"), resp.header.Get("Content-Disposition"))
	}
	var c stixmisp.MISPCollection
	resp.json(t, &c)
	if len(c.Response) != 2 {
		t.Fatalf("%d events for severity=high, want 2", len(c.Response))
	}
	for _, d := range c.Response {
		if d.Event.Orgc.Name != "Customs Intelligence Unit" || d.Event.Tag[0].Name != "tlp:red" || d.Event.ThreatLevelID != "1" {
			t.Errorf("event %q: org %q, tags %v, threat level %s", d.Event.Info, d.Event.Orgc.Name, d.Event.Tag, d.Event.ThreatLevelID)
		}
	}

	// One alert from its page: the same event, as {"Event": ...}.
	key := e.keys["peroxide"]
	resp = ivy.do("GET", "/api/alerts/"+key+"/misp.json", nil, nil)
	var one stixmisp.MISPDocument
	resp.json(t, &one)
	found := false
	for _, d := range c.Response {
		found = found || d.Event.UUID == one.Event.UUID
	}
	if resp.code != http.StatusOK || !found {
		t.Errorf("alert misp.json: %d, event %s not among the filter's", resp.code, one.Event.UUID)
	}

	// STIX of a selection: the seller's wallet, the alert key, the marking.
	resp = ivy.do("GET", "/api/export?format=stix&key="+e.keys["nitro"], nil, nil)
	if resp.code != http.StatusOK || resp.header.Get("Content-Type") != "application/stix+json;version=2.1" {
		t.Fatalf("stix: %d %s", resp.code, resp.header.Get("Content-Type"))
	}
	var b struct {
		Type    string           `json:"type"`
		Objects []map[string]any `json:"objects"`
	}
	resp.json(t, &b)
	var wallet, report, identity bool
	for _, o := range b.Objects {
		switch o["type"] {
		case stixmisp.TypeWallet:
			wallet = o["address"] == "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
		case "report":
			report = strings.Contains(string(mustJSON(t, o["external_references"])), e.keys["nitro"])
		case "identity":
			identity = o["name"] == "Customs Intelligence Unit"
		}
	}
	if b.Type != "bundle" || !wallet || !report || !identity {
		t.Errorf("stix bundle: type %s, wallet %v, report with key %v, identity %v", b.Type, wallet, report, identity)
	}
	if resp := ivy.do("GET", "/api/alerts/"+key+"/stix.json", nil, nil); resp.code != http.StatusOK || !strings.Contains(string(resp.body), `"type": "bundle"`) {
		t.Errorf("alert stix.json: %d", resp.code)
	}

	if resp := ivy.do("GET", "/api/alerts/nosuchkey/misp.json", nil, nil); resp.code != http.StatusNotFound {
		t.Errorf("unknown alert: %d, want 404", resp.code)
	}
	if resp := e.as(precwatch.RoleAnalyst).do("GET", "/api/alerts/"+key+"/stix.json", nil, nil); resp.code != http.StatusForbidden {
		t.Errorf("analyst: %d, want 403", resp.code)
	}
	audit, err := e.store.Audit(context.Background(), 3)
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, a := range audit {
		details = append(details, a.Detail)
	}
	if got := strings.Join(details, " | "); !strings.Contains(got, "stix, alert "+key) || !slices.Contains(details, "stix, 1 alert") {
		t.Errorf("audit: %s", got)
	}
}

// TestInterchangeButtons: the queue offers MISP and STIX next to CSV and
// JSON in its export form; an alert's page links its two documents.
func TestInterchangeButtons(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	doc := ivy.page(t, "/alerts")
	for id, want := range map[string]string{"#export-misp": "misp", "#export-stix": "stix"} {
		if v, _ := doc.Find(`#export button` + id).Attr("value"); v != want {
			t.Errorf("%s value %q, want %q", id, v, want)
		}
	}
	key := e.keys["peroxide"]
	doc = ivy.page(t, "/alerts/"+key)
	for id, want := range map[string]string{"#download-misp": "/api/alerts/" + key + "/misp.json", "#download-stix": "/api/alerts/" + key + "/stix.json"} {
		if href, _ := doc.Find(id).Attr("href"); href != want {
			t.Errorf("%s href %q, want %q", id, href, want)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
