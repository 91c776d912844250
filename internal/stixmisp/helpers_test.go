package stixmisp

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/precwatch/precwatch"
)

// Known-good identifiers: the genesis coinbase address, BIP-173's bech32
// example, the Monero general fund, an EIP-55 address from the EIP.
const (
	btcAddr    = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
	bech32Addr = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
	xmrAddr    = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
	ethAddr    = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
	pgpFpr     = "0123456789ABCDEF0123456789ABCDEF01234567"
	pgpBlock   = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZQAAAAAWCSsGAQQB2kcPAQEHQM\n=AbCd\n-----END PGP PUBLIC KEY BLOCK-----"
)

func ptr[T any](v T) *T { return &v }

var t0 = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

// testAlerts: a CWC alert on a Tor market whose seller gives a key, two
// wallets and contacts; an EU Annex I alert by the same seller handle on
// another market, paying to the same Bitcoin address; an alert with
// neither URL nor vendor.
func testAlerts() []precwatch.Alert {
	a := precwatch.Alert{
		Key: precwatch.AlertKey("silkvault", "id:42", "dimethyl-methylphosphonate"), Site: "silkvault", Identity: "id:42",
		Substance: "dimethyl-methylphosphonate", Name: "Dimethyl methylphosphonate", Regime: precwatch.RegimeCWC2,
		Severity: precwatch.SeverityCritical, Score: 0.97, Reasons: []string{"CWC Schedule 2 chemical", "CAS number given"},
		Status: precwatch.StatusNew,
		Listing: precwatch.Listing{Site: "silkvault", ID: "42", URL: "http://silkvault.onion/item/42", Title: "DMMP 99% <b>1 kg</b>",
			Description: "Purity 99%, 1 kg, tracked shipping. Pay BTC or XMR.", Price: 0.0019, Currency: "BTC", Vendor: "chemking",
			FetchedAt: t0.Add(2 * time.Hour), PageSHA256: strings.Repeat("ab", 32), Tor: true},
		Matches: []precwatch.Match{{Substance: "dimethyl-methylphosphonate", Name: "Dimethyl methylphosphonate", Regime: precwatch.RegimeCWC2,
			Severity: precwatch.SeverityCritical, Term: "DMMP", Kind: "abbreviation", Field: "title", Start: 0, End: 4, Text: "DMMP",
			Quantity: &precwatch.Quantity{Value: 1, Unit: "kg", Count: 1, Grams: 1000, Text: "1 kg"}, Score: 0.97}},
		CreatedAt: t0, UpdatedAt: t0.Add(time.Hour),
		History: []precwatch.AlertEvent{{At: t0, Kind: precwatch.EventRaised}},
	}
	b := precwatch.Alert{
		Key: precwatch.AlertKey("agora2", "id:A-7", "hydrogen-peroxide"), Site: "agora2", Identity: "id:A-7",
		Substance: "hydrogen-peroxide", Name: "Hydrogen peroxide", Regime: precwatch.RegimeEUAnnexI,
		Severity: precwatch.SeverityHigh, Score: 0.8, Reasons: []string{"over the Annex I limit"}, Status: precwatch.StatusTriaged,
		Listing: precwatch.Listing{Site: "agora2", ID: "A-7", URL: "http://agora2.onion/l/A-7", Title: "Hydrogen peroxide 35% 5 L",
			Price: 45, Currency: "EUR", Vendor: "chemking", FetchedAt: t0},
		Matches: []precwatch.Match{{Substance: "hydrogen-peroxide", Name: "Hydrogen peroxide", Regime: precwatch.RegimeEUAnnexI,
			Severity: precwatch.SeverityHigh, Term: "hydrogen peroxide", Kind: "name", Field: "title", Start: 0, End: 17,
			Text: "Hydrogen peroxide", ConcentrationPercent: ptr(35.0), LimitPercent: ptr(12.0), OverLimit: ptr(true), Score: 0.8}},
		CreatedAt: t0.Add(-24 * time.Hour), UpdatedAt: t0,
	}
	c := precwatch.Alert{
		Key: precwatch.AlertKey("chemshop", "id:9", "acetone"), Site: "chemshop", Identity: "id:9", Substance: "acetone",
		Name: "Acetone", Regime: precwatch.RegimeEUAnnexII, Severity: precwatch.SeverityLow, Score: 0.2, Status: precwatch.StatusDismissed,
		Listing:   precwatch.Listing{Site: "chemshop", ID: "9", Title: "Acetone 1 L"},
		CreatedAt: t0, UpdatedAt: t0,
	}
	return []precwatch.Alert{a, b, c}
}

// testIdentifiers: every kind for the first alert (some twice), the shared
// Bitcoin address for the second, none for the third.
var testIdentifiers = IdentifierFunc(func(_ context.Context, a precwatch.Alert) ([]Identifier, error) {
	switch a.Site {
	case "silkvault":
		return []Identifier{
			{Kind: KindPGP, Value: pgpFpr, Raw: pgpBlock},
			{Kind: KindBTC, Value: btcAddr}, {Kind: KindBTC, Value: bech32Addr}, {Kind: KindBTC, Value: btcAddr},
			{Kind: KindXMR, Value: xmrAddr}, {Kind: KindETH, Value: ethAddr},
			{Kind: KindEmail, Value: "desk@parcel.example"}, {Kind: KindXMPP, Value: "chemking@jabber.example"},
			{Kind: KindTelegram, Value: "parcel_desk"}, {Kind: KindSession, Value: "05" + strings.Repeat("a1", 32)},
			{Kind: KindWickr, Value: "chemking99"}, {Kind: "fax", Value: "ignored"},
		}, nil
	case "agora2":
		return []Identifier{{Kind: KindBTC, Value: btcAddr}, {Kind: KindPGP, Value: pgpFpr}}, nil
	}
	return nil, nil
})

func newTestExporter(t *testing.T) *Exporter {
	t.Helper()
	e, err := New(Options{Organisation: "Customs Intelligence Unit", Identifiers: testIdentifiers})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// toValue turns v into the generic JSON value the validator takes, through
// its own decoder (numbers as json.Number).
func toValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// stixSchemaBase is the $id prefix of the OASIS STIX 2.1 schemas.
const stixSchemaBase = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"

// stixCompiler loads every vendored OASIS schema under its $id, so that
// nothing is fetched, and asserts formats (uri, date-time).
func stixCompiler(t *testing.T) *jsonschema.Compiler {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	root := filepath.Join("testdata", "stix2-json-schemas", "schemas")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		return c.AddResource(stixSchemaBase+filepath.ToSlash(rel), doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mispSchema is MISP's JSON schema of the core format (format/2.5).
func mispSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	const id = "https://github.com/MISP/MISP/blob/2.5/format/2.5/schema.json"
	f, err := os.Open(filepath.Join("testdata", "misp", "schema-2.5.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	// The published schema is itself invalid draft-04 in one place: its
	// sharing_group lists "required" among its properties, as an array.
	// That definition describes sharing groups, which exports never
	// carry; the misplaced keyword is dropped so that the rest compiles.
	sg := doc.(map[string]any)["defs"].(map[string]any)["sharing_group"].(map[string]any)["properties"].(map[string]any)
	if _, ok := sg["required"].([]any); !ok {
		t.Fatal("schema-2.5.json: the known sharing_group defect is gone; remove this workaround")
	}
	delete(sg, "required")
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
