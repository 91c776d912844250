package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/fixtures"
)

// seedVendors records, as a crawl of the fixture markets would, one seller
// with two handles: OxyDirect on silkvault and dr_oxy on agora2, whose
// listings carry the same PGP key and whose vendor pages show the same
// wallet; and a KaliKing on each market sharing only the handle. It returns
// the OxyDirect alert's key and the shared key's fingerprint and wallet.
func seedVendors(t testing.TB, e *env) (alertKey, fingerprint, wallet string) {
	t.Helper()
	ctx := context.Background()
	vs := e.store.(precwatch.VendorStore)
	profiles := map[string]fixtures.VendorProfile{}
	for _, p := range fixtures.VendorProfiles() {
		profiles[p.Market+"/"+p.Vendor] = p
	}
	id := func(p fixtures.VendorProfile) (precwatch.VendorID, precwatch.VendorID) {
		return precwatch.VendorID{Kind: "pgp-fingerprint", Value: p.Fingerprint},
			precwatch.VendorID{Kind: "btc", Value: strings.TrimPrefix(p.Payments[0], "BTC ")}
	}
	peroxide := func(title string, conc float64) precwatch.Match {
		return precwatch.Match{Substance: "hydrogen-peroxide", Name: "Hydrogen peroxide", Regime: precwatch.RegimeEUAnnexI,
			Severity: precwatch.SeverityHigh, Term: "hydrogen peroxide", Kind: "name", Field: "title",
			Start: 0, End: 17, Text: title[:17], ConcentrationPercent: ptr(conc), LimitPercent: ptr(12.0), OverLimit: ptr(conc > 12), Score: 60}
	}
	type ad struct {
		site, id, vendor, title string
		price                   float64
		currency                string
		conc                    float64
		key                     string // profile whose key the listing shows
		at                      time.Time
	}
	ads := []ad{
		{"silkvault", "sv-1001", "OxyDirect", "Hydrogen peroxide 35% food grade, 5 L", 45, "EUR", 35, "silkvault/OxyDirect", t0},
		{"silkvault", "sv-1002", "OxyDirect", "Hydrogen peroxide 50% technical, 1 L", 0.0021, "BTC", 50, "silkvault/OxyDirect", t0.Add(time.Hour)},
		{"agora2", "ag-7001", "dr_oxy", "Hydrogen peroxide 40%, 2 x 1 L", 0.35, "XMR", 40, "agora2/dr_oxy", t0.Add(26 * time.Hour)},
		{"silkvault", "sv-1050", "KaliKing", "Hydrogen peroxide 30%, 1 L", 19, "EUR", 30, "silkvault/KaliKing", t0.Add(2 * time.Hour)},
		{"agora2", "ag-7050", "KaliKing", "Hydrogen peroxide 20%, 500 ml", 12, "USD", 20, "agora2/KaliKing", t0.Add(30 * time.Hour)},
	}
	for _, a := range ads {
		body := []byte("<html><body><h1>" + a.title + "</h1></body></html>")
		h := sha256.Sum256(body)
		sum := hex.EncodeToString(h[:])
		key, _ := id(profiles[a.key])
		l := precwatch.Listing{Site: a.site, ID: a.id, URL: "http://" + a.site + ".onion/listing/" + a.id, Title: a.title,
			Description: "Sealed bottle, tracked shipping, escrow.", Price: a.price, Currency: a.currency, Vendor: a.vendor,
			FetchedAt: a.at, PageSHA256: sum, Tor: true, Identifiers: []precwatch.VendorID{key}}
		page := &precwatch.Page{SHA256: sum, Site: a.site, URL: l.URL, FetchedAt: a.at, ContentType: "text/html", Body: body}
		res, err := e.store.RecordPage(ctx, page, []precwatch.Observation{{Listing: l, Matches: []precwatch.Match{peroxide(a.title, a.conc)}, RunID: "run-v", At: a.at}})
		if err != nil {
			t.Fatal(err)
		}
		if a.id == "sv-1001" {
			alertKey = res[0].NewAlerts[0]
		}
	}
	// The vendor pages: both OxyDirect accounts show the same wallet.
	for _, name := range []string{"silkvault/OxyDirect", "agora2/dr_oxy", "silkvault/KaliKing", "agora2/KaliKing"} {
		p := profiles[name]
		key, btc := id(p)
		at := t0.Add(48 * time.Hour)
		if p.Market == "agora2" {
			at = at.Add(time.Hour)
		}
		body := []byte("<html><body><pre>" + p.PGP + "</pre><p>" + p.Payments[0] + "</p></body></html>")
		h := sha256.Sum256(body)
		page := &precwatch.Page{SHA256: hex.EncodeToString(h[:]), Site: p.Market, URL: "http://" + p.Market + ".onion/vendor/" + p.Vendor, FetchedAt: at, ContentType: "text/html", Body: body}
		if _, err := vs.RecordVendorPage(ctx, page, precwatch.VendorPageSighting{Vendor: precwatch.VendorRef{Site: p.Market, Handle: p.Vendor},
			URL: page.URL, PageSHA256: page.SHA256, At: at, Identifiers: []precwatch.VendorID{key, btc}}); err != nil {
			t.Fatal(err)
		}
	}
	key, btc := id(profiles["silkvault/OxyDirect"])
	return alertKey, key.Value, btc.Value
}

func TestVendorPage(t *testing.T) {
	e := newEnv(t)
	hostile := `<img src=http://evil.example/v.png onerror=alert(1)>`
	// A third account sharing the wallet, under a handle that is markup.
	o := precwatch.Observation{Listing: precwatch.Listing{Site: "chemshop", ID: "h1", URL: "http://chemshop.test/product/h1",
		Title: "Citric acid 1 kg", Vendor: hostile, Tor: false}, RunID: "run-h", At: t0.Add(72 * time.Hour)}
	alertKey, fp, wallet := seedVendors(t, e)
	o.Listing.Identifiers = []precwatch.VendorID{{Kind: "btc", Value: wallet}}
	if _, err := e.store.Record(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	ivy := e.as(precwatch.RoleInvestigator)

	// The alert detail links to the vendor page and shows the links with
	// their reasons, and no hint for a linked account.
	doc := ivy.page(t, "/alerts/"+alertKey)
	href, _ := doc.Find("#vendor-link").Attr("href")
	if href != "/vendor?handle=OxyDirect&site=silkvault" {
		t.Errorf("vendor link %q", href)
	}
	links := doc.Find("#vendor-links li")
	if links.Length() != 2 || !strings.Contains(links.First().Text(), "dr_oxy") ||
		!strings.Contains(links.First().Text(), "same PGP key "+fp) || !strings.Contains(links.First().Text(), "same Bitcoin wallet "+wallet) {
		t.Errorf("alert vendor links: %q", doc.Find("#vendor-links").Text())
	}
	if doc.Find("#vendor-hints").Length() != 0 {
		t.Errorf("alert vendor hints: %q", doc.Find("#vendor-hints").Text())
	}

	resp := ivy.do("GET", href, nil, nil)
	if resp.code != http.StatusOK || !strings.Contains(resp.header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("GET %s: %d, CSP %q", href, resp.code, resp.header.Get("Content-Security-Policy"))
	}
	doc = ivy.page(t, href)
	onlyOwnScripts(t, "vendor", doc)
	rows := doc.Find("table#vendor-links tbody tr")
	if rows.Length() != 2 {
		t.Fatalf("vendor links: %d rows: %q", rows.Length(), doc.Find("#vendor-links").Text())
	}
	first := rows.First()
	if got := first.Find("td").First().Text(); got != "dr_oxy" {
		t.Errorf("first link %q, want dr_oxy (two reasons)", got)
	}
	if got := first.Find("li.reason").Length(); got != 2 || first.Find("li.reason-pgp-fingerprint code").Text() != fp || first.Find("li.reason-btc code").Text() != wallet {
		t.Errorf("reasons %q", first.Find("ul.reasons").Text())
	}
	// The hostile handle is text, not markup.
	if got := rows.Eq(1).Find("td").First().Text(); got != hostile {
		t.Errorf("hostile handle shown as %q", got)
	}
	if doc.Find(`img[src*="evil"]`).Length() != 0 {
		t.Error("a vendor handle became markup")
	}
	// The seller's alerts on both markets.
	if got := doc.Find("table#vendor-alerts tbody tr").Length(); got != 3 || !strings.Contains(doc.Find("table#vendor-alerts").Text(), "dr_oxy") {
		t.Errorf("alerts: %d rows, want 3: %q", got, doc.Find("table#vendor-alerts").Text())
	}
	if got := doc.Find("table#identifiers code.identifier").Length(); got != 2 {
		t.Errorf("identifiers: %d, want the key and the wallet", got)
	}
	if doc.Find("#vendor-timeline li").Length() < 5 {
		t.Errorf("timeline: %q", doc.Find("#vendor-timeline").Text())
	}

	// KaliKing: the same handle on two markets is a hint, never a link.
	doc = ivy.page(t, "/vendor?site=silkvault&handle=KaliKing")
	if doc.Find("table#vendor-links").Length() != 0 || doc.Find("#vendor-hints li").Length() != 1 ||
		!strings.Contains(doc.Find("section.vendor-links-section").Text(), "weak hint only, not a link") {
		t.Errorf("KaliKing: %q", doc.Find("section.vendor-links-section").Text())
	}

	// The API says the same.
	var p precwatch.VendorProfile
	ivy.do("GET", "/api/vendor?site=agora2&handle=dr_oxy", nil, nil).json(t, &p)
	if len(p.Links) != 2 || p.Links[0].Vendor != (precwatch.VendorRef{Site: "silkvault", Handle: "OxyDirect"}) || len(p.Links[0].Reasons) != 2 {
		t.Errorf("API links = %+v", p.Links)
	}
	for path, code := range map[string]int{
		"/vendor?site=agora2&handle=nobody": http.StatusNotFound,
		"/vendor?handle=dr_oxy":             http.StatusBadRequest,
	} {
		if got := ivy.do("GET", path, nil, nil).code; got != code {
			t.Errorf("GET %s: %d, want %d", path, got, code)
		}
	}
	if got := e.as(precwatch.RoleAnalyst).do("GET", href, nil, nil).code; got != http.StatusForbidden {
		t.Errorf("analyst: %d, want 403", got)
	}
}

// TestBrowserVendor follows an alert to its vendor's page in headless
// Chromium: the page links OxyDirect on silkvault to dr_oxy on agora2 by
// their PGP key and wallet, runs nothing but the console's own script and
// contacts no other host. It saves the README's vendor.png.
func TestBrowserVendor(t *testing.T) {
	e := newEnv(t)
	alertKey, fp, wallet := seedVendors(t, e)
	b, stop := startBrowser(t, e)
	defer stop()
	b.login("ivy", "/alerts")
	b.open("/alerts/"+alertKey, `!!document.querySelector("#vendor-link")`)
	if got := eval[string](b, `document.querySelector("#vendor-links li").textContent`); !strings.Contains(got, "dr_oxy") || !strings.Contains(got, fp) {
		t.Errorf("alert detail vendor links %q", got)
	}
	b.click("#vendor-link")
	b.waitFor(`location.pathname == "/vendor" && document.querySelectorAll("table#vendor-links tbody tr").length == 1`)
	b.noScriptInjected("vendor")
	row := eval[string](b, `document.querySelector("table#vendor-links tbody tr").textContent`)
	for _, want := range []string{"dr_oxy", "agora2", "same PGP key " + fp, "same Bitcoin wallet " + wallet} {
		if !strings.Contains(row, want) {
			t.Errorf("vendor link row %q lacks %q", row, want)
		}
	}
	b.open("/vendor?site=silkvault&handle=KaliKing", `!!document.querySelector("#vendor-hints")`)
	if eval[bool](b, `!!document.querySelector("table#vendor-links")`) {
		t.Error("KaliKing: a shared handle was shown as a link")
	}
	b.open("/vendor?site=silkvault&handle=OxyDirect", `!!document.querySelector("table#vendor-links")`)
	b.screenshot("vendor.png")
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.foreign) > 0 || len(b.dialogs) > 0 {
		t.Errorf("requests to other hosts %q, dialogs %q", b.foreign, b.dialogs)
	}
}
