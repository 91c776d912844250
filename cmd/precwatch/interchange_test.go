package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/stixmisp"
	"github.com/precwatch/precwatch/storage/embedded"
)

// exportStore seeds an embedded store with two alerts whose listings
// carry a seller's PGP key, wallet and contact, as a crawl would record
// them, and returns its path, the alert keys and the key's fingerprint.
func exportStore(t *testing.T) (string, map[string]string, string, string) {
	t.Helper()
	ent, err := openpgp.NewEntity("Northern Parcel Co", "", "orders@northern-parcel.example", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var kb bytes.Buffer
	w, _ := armor.Encode(&kb, openpgp.PublicKeyType, nil)
	if err := ent.Serialize(w); err != nil {
		t.Fatal(err)
	}
	w.Close()
	block, fpr := kb.String(), strings.ToUpper(hex.EncodeToString(ent.PrimaryKey.Fingerprint))

	path := filepath.Join(t.TempDir(), "precwatch.db")
	ctx := context.Background()
	st, err := embedded.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	keys := map[string]string{}
	for _, ad := range []struct {
		name, site, id, title, desc string
		m                           precwatch.Match
	}{
		{"peroxide", "silkvault", "p1", "Hydrogen peroxide 35% 5 L",
			"Tracked EU shipping. Pay BTC 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa. Telegram: @parcel_desk\nMy key:\n" + block,
			precwatch.Match{Substance: "hydrogen-peroxide", Name: "Hydrogen peroxide", Regime: precwatch.RegimeEUAnnexI, Severity: precwatch.SeverityHigh,
				Term: "hydrogen peroxide", Kind: "name", Field: "title", Start: 0, End: 17, Text: "Hydrogen peroxide", Score: 70, Reasons: []string{"35% w/w, over the 12% limit"}}},
		{"acetone", "chemshop", "a1", "Acetone 5 L", "Lab grade acetone, 5 L can.",
			precwatch.Match{Substance: "acetone", Name: "Acetone", Regime: precwatch.RegimeEUAnnexII, Severity: precwatch.SeverityLow,
				Term: "acetone", Kind: "name", Field: "title", Start: 0, End: 7, Text: "Acetone", Score: 10}},
	} {
		l := precwatch.Listing{Site: ad.site, ID: ad.id, URL: "http://" + ad.site + ".onion/item/" + ad.id, Title: ad.title, Description: ad.desc,
			Price: 0.0019, Currency: "BTC", Vendor: "parcel", FetchedAt: at}
		res, err := st.Record(ctx, precwatch.Observation{Listing: l, Matches: []precwatch.Match{ad.m}, RunID: "r1", At: at})
		if err != nil || len(res.NewAlerts) != 1 {
			t.Fatalf("seed %s: %v %v", ad.name, res.NewAlerts, err)
		}
		keys[ad.name] = res.NewAlerts[0]
	}
	return path, keys, block, fpr
}

// TestExportCommand: `precwatch export` selects with the queue's filters
// or by key and writes MISP events carrying the identifiers vendorid finds
// in the listing (the PGP key block, the wallet, the Telegram contact),
// or a STIX bundle; bad usage exits 2.
func TestExportCommand(t *testing.T) {
	store, keys, block, fpr := exportStore(t)
	ctx := t.Context()
	out, stderr, err := run(t, ctx, "", "export", "--store", store, "--format", "misp", "--severity", "high")
	if err != nil {
		t.Fatalf("export misp: %v\n%s", err, stderr)
	}
	var c stixmisp.MISPCollection
	if err := json.Unmarshal([]byte(out), &c); err != nil || len(c.Response) != 1 {
		t.Fatalf("misp export: %v, %d events:\n%s", err, len(c.Response), out)
	}
	ev := c.Response[0].Event
	var pgp, btc bool
	for _, a := range ev.Attribute {
		pgp = pgp || a.Type == "pgp-public-key" && a.Value == strings.TrimSpace(block) && strings.Contains(a.Comment, fpr)
		btc = btc || a.Type == "btc" && a.Value == "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
	}
	telegram := slices.ContainsFunc(ev.Object, func(o stixmisp.MISPObject) bool {
		return o.Name == "telegram-account" && o.Attribute[0].Value == "parcel_desk"
	})
	if !pgp || !btc || !telegram {
		t.Errorf("event lacks the seller's identifiers: pgp %v btc %v telegram %v\n%s", pgp, btc, telegram, out)
	}

	file := filepath.Join(t.TempDir(), "bundle.json")
	if _, stderr, err := run(t, ctx, "", "export", "--store", store, "--format", "stix", "--key", keys["acetone"], "--out", file); err != nil {
		t.Fatalf("export stix: %v\n%s", err, stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("export file mode %v, want 0600", fi.Mode().Perm())
	}
	var bundle struct {
		Type    string           `json:"type"`
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil || bundle.Type != "bundle" || !strings.Contains(string(b), keys["acetone"]) || strings.Contains(string(b), keys["peroxide"]) {
		t.Errorf("stix export of one key: %v\n%s", err, b)
	}

	for _, args := range [][]string{
		{"export", "--store", store},                    // no format
		{"export", "--store", store, "--format", "csv"}, // not ours
		{"export", "--store", store, "--format", "misp", "--severity", "dire"},
		{"export", "--store", store, "--format", "misp", "--key", keys["acetone"], "--site", "chemshop"},
		{"export", "--store", store, "--format", "stix", "--misp-url", "https://misp.example.org"},
		{"export", "--store", store, "--format", "misp", "--misp-key", "secret"}, // never a flag
	} {
		if _, _, err := run(t, ctx, "", args...); exitCode(err) != 2 {
			t.Errorf("%v: exit %d (%v), want 2", args, exitCode(err), err)
		}
	}
}

// TestExportPushMISP: --misp-url pushes one event per alert to a real HTTP
// server, the key read from $PRECWATCH_MISP_KEY or --misp-key-file and sent
// in the Authorization header; the second push edits what the first added.
func TestExportPushMISP(t *testing.T) {
	store, _, _, _ := exportStore(t)
	const key = "a-misp-key-from-the-environment"
	var mu sync.Mutex
	events := map[string]bool{}
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		switch {
		case r.Method == http.MethodHead:
			if !events[strings.TrimPrefix(r.URL.Path, "/events/view/")] {
				w.WriteHeader(http.StatusNotFound)
			}
		case r.Method == http.MethodPost:
			var doc stixmisp.MISPDocument
			body, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(body, &doc); err != nil || doc.Event.UUID == "" {
				http.Error(w, "bad event", http.StatusBadRequest)
				return
			}
			events[doc.Event.UUID] = true
			_, _ = io.WriteString(w, `{"Event":{"id":"1"}}`)
		}
	}))
	defer srv.Close()

	t.Setenv(mispKeyEnv, key)
	out, stderr, err := run(t, t.Context(), "", "export", "--store", store, "--format", "misp", "--misp-url", srv.URL)
	if err != nil {
		t.Fatalf("push: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "2 event(s) pushed: 2 created, 0 updated, 0 unchanged") {
		t.Errorf("first push printed:\n%s", out)
	}
	keyFile := filepath.Join(t.TempDir(), "misp.key")
	if err := os.WriteFile(keyFile, []byte("a-key-from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err = run(t, t.Context(), "", "export", "--store", store, "--format", "misp", "--misp-url", srv.URL, "--misp-key-file", keyFile)
	if err != nil || !strings.Contains(out, "2 event(s) pushed: 0 created, 2 updated, 0 unchanged") {
		t.Errorf("second push: %v\n%s%s", err, out, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 8 || len(events) != 2 {
		t.Fatalf("%d calls, %d events:\n%s", len(calls), len(events), strings.Join(calls, "\n"))
	}
	for i, c := range calls {
		want := key
		if i >= 4 {
			want = "a-key-from-a-file"
		}
		if !strings.HasSuffix(c, " "+want) {
			t.Errorf("call %q: want the key %q in Authorization", c, want)
		}
	}
	if !strings.HasPrefix(calls[1], "POST /events/add ") || !strings.HasPrefix(calls[5], "POST /events/edit/") {
		t.Errorf("calls:\n%s", strings.Join(calls, "\n"))
	}
	t.Setenv(mispKeyEnv, "")
	if _, _, err := run(t, t.Context(), "", "export", "--store", store, "--format", "misp", "--misp-url", srv.URL); exitCode(err) != 2 {
		t.Errorf("push without a key: exit %d (%v), want 2", exitCode(err), err)
	}
}

// TestExportConfig: the export section names the organisation the console
// and the CLI export as; an unknown TLP level names file:line: field.
func TestExportConfig(t *testing.T) {
	dir := t.TempDir()
	good := siteConfig(t, "", "") + "export:\n  organisation: Customs Intelligence Unit\n  tlp: green\n"
	cfg, err := ParseConfig(writeFile(t, dir, "good.yaml", good), []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := interchange(cfg)
	if err != nil || ex.Organisation() != "Customs Intelligence Unit" {
		t.Fatalf("exporter: %v %v", ex, err)
	}
	bad := siteConfig(t, "", "") + "export:\n  organisation: x\n  tlp: purple\n"
	path := writeFile(t, dir, "bad.yaml", bad)
	_, err = ParseConfig(path, []byte(bad))
	if err == nil || !strings.Contains(err.Error(), path+":9:3: export.tlp") || !strings.Contains(err.Error(), "export.tlp") {
		t.Errorf("tlp purple: %v", err)
	}
}
