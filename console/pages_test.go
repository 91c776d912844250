package console

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/precwatch/precwatch"
)

// page fetches a page and parses it.
func (c *client) page(t *testing.T, path string) *goquery.Document {
	t.Helper()
	resp := c.do("GET", path, nil, nil)
	if resp.code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.code, resp.body)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(resp.body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// onlyOwnScripts checks that a page holds no script, image, frame or link
// but the console's own.
func onlyOwnScripts(t *testing.T, where string, doc *goquery.Document) {
	t.Helper()
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if src, _ := s.Attr("src"); !strings.HasPrefix(src, "/static/") || strings.TrimSpace(s.Text()) != "" {
			t.Errorf("%s: script %q src %q", where, s.Text(), src)
		}
	})
	if n := doc.Find("img, iframe, object, embed").Length(); n != 0 {
		t.Errorf("%s: %d embedded elements", where, n)
	}
	doc.Find("a[href], form[action], link[href]").Each(func(_ int, s *goquery.Selection) {
		u, ok := s.Attr("href")
		if !ok {
			u, _ = s.Attr("action")
		}
		if strings.HasPrefix(u, "#") && len(u) > 1 { // a place on the same page (the skip link)
			return
		}
		if !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") {
			t.Errorf("%s: link off the console: %q", where, u)
		}
	})
}

func TestQueuePage(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	doc := ivy.page(t, "/alerts")
	rows := doc.Find("table.queue tbody tr")
	if rows.Length() != 5 {
		t.Fatalf("%d rows, want 5", rows.Length())
	}
	first := rows.First()
	if got := strings.TrimSpace(first.Find(".sev").Text()); got != "high" {
		t.Errorf("first row severity %q, want high", got)
	}
	for i, want := range []string{"", "high", "71", "Hydrogen peroxide" + "35%, limit 12%" /* name, then strength */, "eu-2019-1148-annex-i", "Wasserstoffperoxid / hydrogen peroxide 30%, 1 L", "chemshop", "=cmd|' /C calc'!A0", "24.00 EUR", "new", "", "2026-03-01 12:01 UTC"} {
		cell := first.Find("td").Eq(i)
		if cell.HasClass("title") {
			cell = cell.Find("a") // the row's secondary columns follow, for narrow windows
		}
		if got := strings.TrimSpace(cell.Text()); got != want {
			t.Errorf("first row column %d: %q, want %q", i, got, want)
		}
	}
	if got, want := strings.Join(strings.Fields(first.Find("td.title .row-meta").Text()), " "), "chemshop · eu-2019-1148-annex-i · =cmd|' /C calc'!A0 · 24.00 EUR"; got != want {
		t.Errorf("first row's line under the title %q, want %q", got, want)
	}
	xss := doc.Find(`tr[data-key="` + e.keys["xss"] + `"] td.title a`)
	if !strings.Contains(xss.Text(), "<script>window.__pwned=1</script>") {
		t.Errorf("hostile title shown as %q", xss.Text())
	}
	onlyOwnScripts(t, "queue", doc)
	// The substance and site filters match exactly, so they offer the
	// watchlist's substance IDs (with their names) and the sites.
	if got := doc.Find(`#substance-ids option[value="hydrogen-peroxide"]`).Text(); got != "Hydrogen peroxide" {
		t.Errorf("substance filter offers hydrogen-peroxide as %q", got)
	}
	if n := doc.Find("#substance-ids option").Length(); n != 3 {
		t.Errorf("substance filter offers %d substances, want 3", n)
	}
	var sites []string
	doc.Find("#site-names option").Each(func(_ int, o *goquery.Selection) { sites = append(sites, o.AttrOr("value", "")) })
	if !slices.Equal(sites, []string{"chemshop", "offline", "silkvault"}) {
		t.Errorf("site filter offers %v", sites)
	}
	// Filters are kept in the form and in the export.
	doc = ivy.page(t, "/alerts?severity=high&q=peroxide&limit=1")
	if v, _ := doc.Find(`#filters input[name=q]`).Attr("value"); v != "peroxide" {
		t.Errorf("search box %q", v)
	}
	if v, _ := doc.Find(`#export input[name=severity]`).Attr("value"); v != "high" {
		t.Errorf("export keeps severity %q", v)
	}
	if got := doc.Find(".pager span").Text(); got != "1–1 of 2 · sorted by severity and score" {
		t.Errorf("pager %q", got)
	}
	if href, _ := doc.Find(`.pager a[rel=next]`).Attr("href"); !strings.Contains(href, "offset=1") || !strings.Contains(href, "severity=high") {
		t.Errorf("next page link %q", href)
	}
	// A page past the last (a stale link after alerts were dismissed)
	// says so and leads back, keeping the filter; no match says no match.
	doc = ivy.page(t, "/alerts?severity=high&offset=50")
	if got := doc.Find("#past-last").Text(); !strings.Contains(got, "matches 2") {
		t.Errorf("past the last page: %q", got)
	}
	if href, _ := doc.Find("#past-last a").Attr("href"); !strings.Contains(href, "severity=high") || strings.Contains(href, "offset") {
		t.Errorf("back to the first page: %q", href)
	}
	doc = ivy.page(t, "/alerts?q=nothingmatchesthis")
	if doc.Find("#past-last").Length() != 0 || !strings.Contains(doc.Find("p.empty").Text(), "No alerts match") {
		t.Errorf("no match: %q", doc.Find("p.empty").Text())
	}
}

func TestAlertPage(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	doc := ivy.page(t, "/alerts/"+e.keys["xss"])
	onlyOwnScripts(t, "detail", doc)
	if got := doc.Find("#listing-title mark").Text(); got != "Nitromethane" {
		t.Errorf("highlight %q, want Nitromethane", got)
	}
	desc := doc.Find("#listing-description")
	if n := desc.Find("mark").Length(); n != 0 {
		t.Errorf("description has %d highlights; the match is in the title", n)
	}
	if !strings.Contains(desc.Text(), `<a href="javascript:alert(1)">x</a>`) {
		t.Errorf("description %q lacks the markup as text", desc.Text())
	}
	if got := doc.Find("#listing-url").Text(); got != "http://silkvault.onion/item/x1" {
		t.Errorf("URL shown as %q", got)
	}
	if doc.Find(`a[href*="onion"]`).Length() != 0 {
		t.Error("the listing URL is a link")
	}
	if got := ivy.page(t, "/alerts/"+e.keys["acetone"]).Find("#listing-description mark").Text(); got != "acetone" {
		t.Errorf("description highlight %q, want acetone", got)
	}
	// The same handle on another site, with no shared key, wallet or
	// contact: a weak hint, never a link (vendor profiles, issue 11).
	doc = ivy.page(t, "/alerts/"+e.keys["peroxide"])
	if got := doc.Find("#vendor-hints li").Length(); got != 1 || !strings.Contains(doc.Find("#vendor-hints").Text(), "chemshop") {
		t.Errorf("vendor hints: %d, %q", got, doc.Find("#vendor-hints").Text())
	}
	if doc.Find("#vendor-links").Length() != 0 || !strings.Contains(doc.Find("p.hint-label").Text(), "weak hint") {
		t.Errorf("a shared handle was shown as a link: %q", doc.Find("section.listing").Text())
	}
	if !strings.Contains(doc.Find("section.listing").Text(), "35%") || doc.Find("strong.over").Length() != 1 {
		t.Error("strength or over-limit not shown")
	}
	if got, want := strings.Join(strings.Fields(doc.Find("#alert-score").Text()), " "), "Score 71: EU Annex I; 35% w/w, 2.9x the 12% limit; 5 L"; got != want {
		t.Errorf("score line %q, want %q", got, want)
	}
	if matches := doc.Find("section.listing table").Text(); !strings.Contains(matches, "5 L") || !strings.Contains(matches, "casefold") {
		t.Errorf("quantity or normalisation steps missing from the matches table: %q", matches)
	}
	if _, ok := doc.Find("#download-page").Attr("href"); !ok {
		t.Error("no raw page download")
	}
	// new → triaged, escalated or dismissed.
	var buttons []string
	doc.Find(`button[id^="to-"]`).Each(func(_ int, s *goquery.Selection) { buttons = append(buttons, s.AttrOr("id", "")) })
	if want := []string{"to-triaged", "to-escalated", "to-dismissed"}; !slices.Equal(buttons, want) {
		t.Errorf("status buttons %v, want %v", buttons, want)
	}
}

func TestWatchlistEditor(t *testing.T) {
	e := newEnv(t)
	ana := e.as(precwatch.RoleAnalyst)
	doc := ana.page(t, "/watchlist")
	if n := doc.Find("table.watchlist tbody tr").Length(); n != 3 {
		t.Errorf("%d substances, want 3", n)
	}
	// A language without a name and a too-short synonym: both shown at
	// their fields, nothing saved.
	resp := ana.form("/watchlist/substances/acetone", map[string][]string{
		"base_version": {"0"}, "op": {"save"}, "comment": {"x"},
		"name_lang": {"en", "de", "french"}, "name_value": {"Acetone", "Aceton", "Acétone"},
		"synonyms": {"propanone\nab"}, "abbreviations": {""},
	})
	if resp.code != http.StatusBadRequest {
		t.Fatalf("invalid save: %d", resp.code)
	}
	doc, _ = goquery.NewDocumentFromReader(bytes.NewReader(resp.body))
	if got := doc.Find(".namerow.invalid .fielderror").Text(); got != "language: two letters" {
		t.Errorf("name row error %q", got)
	}
	if got := doc.Find(`.fielderror[data-field=synonyms]`).Text(); got != `"ab": shorter than 3 characters` {
		t.Errorf("synonym error %q", got)
	}
	if vs, _ := e.store.WatchlistVersions(context.Background()); len(vs) != 0 {
		t.Errorf("an invalid watchlist was saved: %+v", vs)
	}
	// A stale form is refused.
	resp = ana.form("/watchlist/substances/acetone", map[string][]string{"base_version": {"7"}, "op": {"preview"}})
	if resp.code != http.StatusConflict || !strings.Contains(string(resp.body), "ECONFLICT") {
		t.Errorf("stale form: %d", resp.code)
	}
	// Excludes are edited with the terms, one per line.
	resp = ana.form("/watchlist/substances/acetone", map[string][]string{
		"base_version": {"0"}, "op": {"save"}, "comment": {"nail polish brand"},
		"name_lang": {"en", "de"}, "name_value": {"Acetone", "Aceton"},
		"synonyms": {"propanone"}, "abbreviations": {""}, "excludes": {"acetone nail art\n\n  acetone wipes "},
	})
	if resp.code != http.StatusSeeOther {
		t.Fatalf("save with excludes: %d %s", resp.code, resp.body)
	}
	active, _, _ := e.wl.Active(context.Background())
	if got := active.Substances[2].Excludes; !slices.Equal(got, []string{"acetone nail art", "acetone wipes"}) {
		t.Errorf("excludes saved as %q", got)
	}
	if got := ana.page(t, "/watchlist/substances/acetone").Find("#excludes").Text(); got != "acetone nail art\nacetone wipes" {
		t.Errorf("editor shows excludes %q", got)
	}
}

func TestHighlight(t *testing.T) {
	ms := []precwatch.Match{
		{Field: "title", Start: 0, End: 8, Term: "a"},
		{Field: "title", Start: 4, End: 11, Term: "b"},  // overlaps the first
		{Field: "title", Start: 20, End: 99, Term: "c"}, // past the end
		{Field: "title", Start: 19, End: 20, Term: "d"}, // ends inside "é"
		{Field: "description", Start: 0, End: 3, Term: "e"},
	}
	text := "Wasserstoffperoxid é <b>"
	var got []string
	for _, s := range highlight(text, "title", ms) {
		if s.Mark {
			got = append(got, "["+s.Text+"]")
		} else {
			got = append(got, s.Text)
		}
	}
	if want := []string{"[Wasserstoff]", "peroxid é <b>"}; !slices.Equal(got, want) {
		t.Errorf("segments %q, want %q", got, want)
	}
	if got := highlight("", "title", ms); got != nil {
		t.Errorf("empty text: %v", got)
	}
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{
		"=1+2": "'=1+2", "+49 30": "'+49 30", "-5": "'-5", "@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx",
		"plain": "plain", "": "", "a=b": "a=b",
	} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCSVLeadMatch: an alert found by one term in its title and its
// description names the term once, and its strength columns come from the
// match that scored highest.
func TestCSVLeadMatch(t *testing.T) {
	a := precwatch.Alert{Key: "k", Matches: []precwatch.Match{
		{Term: "Nitric acid", Field: "title", Score: 75, ConcentrationPercent: ptr(65.0), LimitPercent: ptr(3.0), OverLimit: ptr(true)},
		{Term: "Nitric acid", Field: "description", Score: 83, ConcentrationPercent: ptr(68.0), LimitPercent: ptr(3.0), OverLimit: ptr(true),
			Quantity: &precwatch.Quantity{Value: 1, Unit: "L", Count: 1, Millilitres: 1000, Text: "1 L"}},
		{Term: "HNO3", Field: "description", Score: 60},
	}}
	body, err := alertsCSV([]precwatch.Alert{a})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for i, h := range rows[0] {
		got[h] = rows[1][i]
	}
	for k, want := range map[string]string{"matched_terms": "Nitric acid; HNO3", "strength_percent": "68", "limit_percent": "3", "over_limit": "true", "quantity": "1 L"} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q", k, got[k], want)
		}
	}
}

func TestDiffWatchlists(t *testing.T) {
	old := testWatchlist()
	cur := testWatchlist()
	cur.Substances[0].Names["de"] = "H2O2-Lösung"
	cur.Substances[1].Abbreviations = []string{"NM"}
	cur.Substances = cur.Substances[:2]
	cur.Substances = append(cur.Substances, precwatch.Substance{ID: "new-one", Names: map[string]string{"en": "New one"}})
	d := precwatch.DiffWatchlists(old, cur)
	if len(d) != 4 {
		t.Fatalf("%d diffs, want 4: %+v", len(d), d)
	}
	for i, want := range []precwatch.SubstanceDiff{
		{ID: "hydrogen-peroxide", Change: "changed", Added: []string{"name[de]: H2O2-Lösung"}, Removed: []string{"name[de]: Wasserstoffperoxid"}},
		{ID: "nitromethane", Change: "changed", Added: []string{"abbreviation: NM"}},
		{ID: "new-one", Change: "added", Added: []string{"name[en]: New one"}},
		{ID: "acetone", Change: "removed"},
	} {
		if d[i].ID != want.ID || d[i].Change != want.Change || (want.Added != nil && !slices.Equal(d[i].Added, want.Added)) || !slices.Equal(d[i].Removed, want.Removed) && want.Removed != nil {
			t.Errorf("diff %d: %+v, want %+v", i, d[i], want)
		}
	}
	if d := precwatch.DiffWatchlists(old, old); d != nil {
		t.Errorf("no change: %+v", d)
	}
}

func TestSuppressionsPage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ana := e.as(precwatch.RoleAnalyst)
	doc := ana.page(t, "/watchlist/suppressions")
	if doc.Find("#no-suppressions").Length() != 1 {
		t.Error("no empty-state message on a watchlist without suppressions")
	}
	// Without a reason: the error at its field, nothing saved.
	nitro := map[string][]string{"base_version": {"0"}, "term": {"nitromethane"}, "site": {"silkvault"}, "substance": {""}, "reason": {""}, "op": {"save"}}
	resp := ana.form("/watchlist/suppressions", nitro)
	if resp.code != http.StatusBadRequest {
		t.Fatalf("suppression without a reason: %d", resp.code)
	}
	doc, _ = goquery.NewDocumentFromReader(bytes.NewReader(resp.body))
	if got := doc.Find(`.fielderror[data-field=reason]`).Text(); got != "a reason is required" {
		t.Errorf("reason error %q", got)
	}
	if got, _ := doc.Find("#term").Attr("value"); got != "nitromethane" {
		t.Errorf("the form lost its term: %q", got)
	}
	if vs, _ := e.store.WatchlistVersions(ctx); len(vs) != 0 {
		t.Errorf("an invalid suppression was saved: %+v", vs)
	}
	// A misspelt site is refused at its field, naming the sites, rather
	// than saved as a ruling that silences nothing; the form offers them.
	typo := map[string][]string{"base_version": {"0"}, "term": {"nitromethane"}, "site": {"SilkVault"}, "reason": {"RC fuel shop"}, "op": {"preview"}}
	resp = ana.form("/watchlist/suppressions", typo)
	doc, _ = goquery.NewDocumentFromReader(bytes.NewReader(resp.body))
	if got := doc.Find(`.fielderror[data-field=site]`).Text(); resp.code != http.StatusBadRequest || !strings.Contains(got, `no site "SilkVault"`) || !strings.Contains(got, "chemshop, offline, silkvault") {
		t.Errorf("misspelt site: %d, site error %q", resp.code, got)
	}
	if got := doc.Find("#site-names option").Length(); got != 3 {
		t.Errorf("the site field offers %d sites, want 3", got)
	}
	if r := ana.do("POST", "/api/watchlist/suppressions", map[string]any{"term": "nitromethane", "site": "SilkVault", "reason": "RC fuel shop"}, nil); r.code != http.StatusBadRequest || !strings.Contains(string(r.body), `no site \"SilkVault\"`) {
		t.Errorf("API, misspelt site: %d %s", r.code, r.body)
	}
	if vs, _ := e.store.WatchlistVersions(ctx); len(vs) != 0 {
		t.Errorf("a suppression on an unknown site was saved: %+v", vs)
	}
	// The preview names the two silkvault nitromethane listings.
	nitro["reason"], nitro["op"] = []string{"RC fuel shop, checked"}, []string{"preview"}
	resp = ana.form("/watchlist/suppressions", nitro)
	doc, _ = goquery.NewDocumentFromReader(bytes.NewReader(resp.body))
	if resp.code != http.StatusOK || doc.Find("#preview-removed").Text() != "2" || doc.Find("#preview-added").Text() != "0" || doc.Find("#save").Length() != 1 {
		t.Fatalf("preview: %d, removed %q, added %q", resp.code, doc.Find("#preview-removed").Text(), doc.Find("#preview-added").Text())
	}
	nitro["op"] = []string{"save"}
	resp = ana.form("/watchlist/suppressions", nitro)
	if resp.code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.code, resp.body)
	}
	doc = ana.page(t, resp.header.Get("Location"))
	row := doc.Find("#suppression-0").Text()
	if doc.Find("#saved").Length() != 1 || !strings.Contains(row, "nitromethane") || !strings.Contains(row, "ana") || !strings.Contains(row, "RC fuel shop, checked") {
		t.Fatalf("after saving: %d, row %q", resp.code, row)
	}
	active, version, _ := e.wl.Active(ctx)
	if len(active.Suppressions) != 1 || active.Suppressions[0].By != "ana" || active.Suppressions[0].At.IsZero() || version != 1 {
		t.Errorf("active watchlist v%d suppressions %+v", version, active.Suppressions)
	}
	audit, _ := e.store.Audit(ctx, 1)
	if len(audit) != 1 || audit[0].Action != "watchlist.suppress" || audit[0].Actor != "ana" || !strings.Contains(audit[0].Detail, `term "nitromethane" on silkvault`) {
		t.Errorf("audit: %+v", audit)
	}
	// Lifting from a stale page is refused; from the current one it works.
	if resp := ana.form("/watchlist/suppressions", map[string][]string{"base_version": {"0"}, "index": {"0"}, "op": {"lift"}}); resp.code != http.StatusConflict {
		t.Errorf("lift from a stale page: %d, want 409", resp.code)
	}
	resp = ana.form("/watchlist/suppressions", map[string][]string{"base_version": {"1"}, "index": {"0"}, "op": {"lift"}})
	if resp.code != http.StatusSeeOther || ana.page(t, resp.header.Get("Location")).Find("#no-suppressions").Length() != 1 {
		t.Errorf("after lifting: %d, suppressions still listed", resp.code)
	}
	// An admin (who is also an analyst) gets "rule a false positive" links
	// on an alert; an investigator does not.
	adam := e.as(precwatch.RoleAdmin)
	href, _ := adam.page(t, "/alerts/"+e.keys["peroxide"]).Find("#suppress-listing").Attr("href")
	if !strings.Contains(href, "listing=id%3ap1") && !strings.Contains(href, "listing=id%3Ap1") {
		t.Errorf("admin's suppress-listing link %q", href)
	}
	if n := e.as(precwatch.RoleInvestigator).page(t, "/alerts/"+e.keys["peroxide"]).Find("#suppress-listing").Length(); n != 0 {
		t.Error("an investigator is offered an analyst's action")
	}
	// The link's query fills the form.
	if got, _ := adam.page(t, href).Find("#listing").Attr("value"); got != "id:p1" {
		t.Errorf("form prefilled with listing %q", got)
	}
	// A term matched in both the title and the description is one ruling,
	// offered once.
	title, desc := "Acetone 5 L", "Acetone, 5 L can."
	m := precwatch.Match{Substance: "acetone", Name: "Acetone", Regime: precwatch.RegimeEUAnnexII, Severity: precwatch.SeverityLow, Term: "Acetone", Kind: "name"}
	mt, md := m, m
	mt.Field, mt.Start, mt.End, mt.Text = "title", 0, 7, "Acetone"
	md.Field, md.Start, md.End, md.Text = "description", 0, 7, "Acetone"
	res, err := e.store.Record(ctx, precwatch.Observation{Listing: precwatch.Listing{Site: "chemshop", ID: "a2", URL: "http://chemshop.test/a2", Title: title, Description: desc, FetchedAt: t0},
		Matches: []precwatch.Match{mt, md}, RunID: "run-2", At: t0})
	if err != nil || len(res.NewAlerts) != 1 {
		t.Fatalf("record: %v, %d alerts", err, len(res.NewAlerts))
	}
	links := adam.page(t, "/alerts/"+res.NewAlerts[0]).Find("a.suppress-term")
	if links.Length() != 1 || !strings.Contains(links.Text(), "Acetone") {
		t.Errorf("rule-a-false-positive term links: %d (%q), want one for Acetone", links.Length(), links.Text())
	}
}

// TestSitePageRunCounters: the run history shows a run's incremental
// re-crawl counters and whether it stopped early (issue 8), its
// throttled answers with the time held for them, and why a complete run
// marked nothing gone.
func TestSitePageRunCounters(t *testing.T) {
	e := newEnv(t)
	doc := e.as(precwatch.RoleOperator).page(t, "/sites/chemshop")
	row := doc.Find("#runs tbody tr")
	if row.Length() != 1 {
		t.Fatalf("%d run rows, want 1", row.Length())
	}
	for sel, want := range map[string]string{
		"td.requests": "5", "td.bytes": "2048", "td.not-modified": "3", "td.details-skipped": "7", ".stopped-early": "stopped early",
		".throttled": "4", ".throttle-wait": "12.3s", ".gone-undecided": "nothing marked gone",
		// Why, as text: the run record's words are never markup.
		".gone-why": "read from mirror chemshop2.onion: <b>the primary</b> did not answer",
	} {
		if got := strings.TrimSpace(row.Find(sel).Text()); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	quiet := e.as(precwatch.RoleOperator).page(t, "/sites/silkvault").Find("#runs")
	if n := quiet.Find(".stopped-early").Length(); n != 0 {
		t.Errorf("a run that did not stop early shows %d stopped-early marks", n)
	}
	if n := quiet.Find(".gone-undecided").Length(); n != 0 {
		t.Errorf("a run with no gone_undecided shows %d such marks", n)
	}
	if n := row.Find(".gone-why b").Length(); n != 0 {
		t.Errorf("the run's reason was rendered as markup (%d <b> elements)", n)
	}
	if got, n := quiet.Find(".throttled").Text(), quiet.Find(".throttle-wait").Length(); got != "0" || n != 0 {
		t.Errorf("a run never throttled shows %q throttled and %d waits, want 0 and none", got, n)
	}
}

// TestPausedSiteNextRun: a paused site's scheduled runs are skipped, so
// the sites page and its own page say it has no next run instead of the
// time its skipped run is due; an active site shows its next run.
func TestPausedSiteNextRun(t *testing.T) {
	e := newEnv(t)
	otto := e.as(precwatch.RoleOperator)
	if resp := otto.do("POST", "/api/sites/chemshop/pause", nil, nil); resp.code != http.StatusNoContent {
		t.Fatalf("pause: %d %s", resp.code, resp.body)
	}
	due := "2026-03-01 13:00 UTC" // the fake scheduler's next run
	doc := otto.page(t, "/sites")
	if got := strings.TrimSpace(doc.Find("#site-chemshop td.next").Text()); got != "none: paused" {
		t.Errorf("paused site's next run %q, want none: paused", got)
	}
	if got := strings.TrimSpace(doc.Find("#site-silkvault td.next").Text()); got != due {
		t.Errorf("active site's next run %q, want %s", got, due)
	}
	if got := otto.page(t, "/sites/chemshop").Find("#next-run").Text(); got != "none: paused" {
		t.Errorf("paused site page: next run %q", got)
	}
	if got := otto.page(t, "/sites/silkvault").Find("#next-run").Text(); got != due {
		t.Errorf("active site page: next run %q, want %s", got, due)
	}
}

// TestOnDemandSiteNextRun: a site with no schedule runs only when asked,
// so the sites page and its own page say so instead of a time.
func TestOnDemandSiteNextRun(t *testing.T) {
	e := newEnv(t)
	e.op.SitesFn = func() []precwatch.Site {
		ss := testSites()
		ss[1].Schedule = "" // chemshop
		return ss
	}
	e.op.NextFn = func(site string) time.Time {
		if site == "chemshop" {
			return time.Time{}
		}
		return t0.Add(time.Hour)
	}
	otto := e.as(precwatch.RoleOperator)
	doc := otto.page(t, "/sites")
	for sel, want := range map[string]string{"#site-chemshop td.next": "none: on demand", "#site-silkvault td.next": "2026-03-01 13:00 UTC"} {
		if got := strings.TrimSpace(doc.Find(sel).Text()); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	if got := strings.TrimSpace(doc.Find("#site-chemshop td").Eq(1).Text()); got != "on demand" {
		t.Errorf("on-demand site's schedule cell %q", got)
	}
	if got := otto.page(t, "/sites/chemshop").Find("#next-run").Text(); got != "none: on demand" {
		t.Errorf("on-demand site page: next run %q", got)
	}
}

// TestRejectedReload: when the daemon rejected a broken config or
// watchlist file, analysts (watchlist page) and operators (sites page) see
// the error and that the previous version stays in force; once a reload
// takes, the warning is gone.
func TestRejectedReload(t *testing.T) {
	e := newEnv(t)
	ana, otto := e.as(precwatch.RoleAnalyst), e.as(precwatch.RoleOperator)
	for _, c := range []struct {
		who  *client
		path string
	}{{ana, "/watchlist"}, {otto, "/sites"}} {
		if n := c.who.page(t, c.path).Find("#reload-rejected").Length(); n != 0 {
			t.Errorf("%s warns of a rejected reload before any", c.path)
		}
	}
	e.wl.setRejected(t0.Add(time.Hour), errors.New("matchers: configs/watchlist.yaml:5541: did not find expected key"))
	for _, c := range []struct {
		who  *client
		path string
	}{{ana, "/watchlist"}, {otto, "/sites"}} {
		got := c.who.page(t, c.path).Find("#reload-rejected").Text()
		for _, want := range []string{"2026-03-01 13:00 UTC", "stay in force", "configs/watchlist.yaml:5541: did not find expected key"} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: rejected-reload warning %q lacks %q", c.path, got, want)
			}
		}
	}
	e.wl.setRejected(time.Time{}, nil)
	if n := ana.page(t, "/watchlist").Find("#reload-rejected").Length(); n != 0 {
		t.Error("the warning stays after a reload took")
	}
}

// TestFavicon: every page names the console's own icon, served with the
// other assets, so that browsers do not ask for /favicon.ico (a 404 in the
// developer console on every page).
func TestFavicon(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		who  *client
		path string
	}{{e.anon(), "/login"}, {e.as(precwatch.RoleInvestigator), "/alerts"}} {
		href, ok := c.who.page(t, c.path).Find(`link[rel=icon]`).Attr("href")
		if !ok || !strings.HasPrefix(href, "/static/") {
			t.Fatalf("%s: icon link %q", c.path, href)
		}
		resp := c.who.do("GET", href, nil, nil)
		if resp.code != http.StatusOK || resp.header.Get("Content-Type") != "image/svg+xml" || !bytes.Contains(resp.body, []byte("<svg")) {
			t.Errorf("%s: icon %s: %d %s", c.path, href, resp.code, resp.header.Get("Content-Type"))
		}
	}
}

// TestQueueReadsForNewUsers: the queue counts in words that agree with the
// number ("1 alert"), shows each alert's strength against its limit under
// the substance (or that none is stated, where a limit applies), and names
// each row's checkbox after its alert, so that a screen reader does not
// read "Select" fifty times.
func TestQueueReadsForNewUsers(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	doc := ivy.page(t, "/alerts?vendor=fuelking")
	if got := doc.Find("#queue-total").Text(); got != "1 alert" {
		t.Errorf("one alert counted as %q", got)
	}
	if got := doc.Find("#export-what").Text(); !strings.Contains(got, "the 1 alert of this filter") {
		t.Errorf("export line %q", got)
	}
	if got := ivy.page(t, "/alerts").Find("#queue-total").Text(); got != "5 alerts" {
		t.Errorf("five alerts counted as %q", got)
	}
	doc = ivy.page(t, "/alerts")
	row := func(name string) *goquery.Selection { return doc.Find(fmt.Sprintf(`tr[data-key=%q]`, e.keys[name])) }
	for name, want := range map[string]string{
		"peroxide": "35%, limit 12%",      // over its limit
		"nitro":    "strength not stated", // a limit, no strength
		"acetone":  "",                    // no limit: nothing to compare
	} {
		if got := row(name).Find(".strength").Text(); got != want {
			t.Errorf("%s: strength %q, want %q", name, got, want)
		}
	}
	if !row("peroxide").Find(".strength").HasClass("over") || row("nitro").Find(".strength").HasClass("over") {
		t.Error("over-limit strength not marked, or a missing one marked over")
	}
	if got := row("nitro").Find("input.select").AttrOr("aria-label", ""); got != "Select Nitromethane: Nitromethane 98% 1 L" {
		t.Errorf("checkbox label %q", got)
	}
}

// TestReopenLabels: the button that takes a dismissed or escalated alert
// back to triaged says so, rather than "Mark triaged" as on a new alert.
func TestReopenLabels(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	key := e.keys["peroxide"]
	label := func() string { return strings.TrimSpace(ivy.page(t, "/alerts/"+key).Find("#to-triaged").Text()) }
	if got := label(); got != "Mark triaged" {
		t.Errorf("new alert: %q", got)
	}
	for _, c := range []struct{ status, text, want string }{
		{"escalated", "", "De-escalate to triaged"},
		{"dismissed", "duplicate of another listing", "Reopen as triaged"},
	} {
		if resp := ivy.do("POST", "/api/alerts/"+key+"/actions", map[string]string{"action": "status", "status": c.status, "text": c.text}, nil); resp.code != http.StatusOK {
			t.Fatalf("%s: %d %s", c.status, resp.code, resp.body)
		}
		if got := label(); got != c.want {
			t.Errorf("%s alert: %q, want %q", c.status, got, c.want)
		}
	}
}

// TestWatchlistTableReadable: a substance with many synonyms shows the
// first ones and folds the rest away, limits are shown with the regimes,
// the table scrolls in its own box, each row's ID opens its editor and
// each Edit link names its substance.
func TestWatchlistTableReadable(t *testing.T) {
	e := newEnv(t)
	wl := testWatchlist()
	for i := range 30 {
		wl.Substances[0].Synonyms = append(wl.Substances[0].Synonyms, fmt.Sprintf("peroxide spelling %02d", i))
	}
	e.wl.ActiveFn = func(context.Context) (*precwatch.Watchlist, int, error) { return wl, 0, nil }
	doc := e.as(precwatch.RoleAnalyst).page(t, "/watchlist")
	if got := doc.Find("#watchlist-version").Text(); !strings.Contains(got, "as in the file, no version saved yet") {
		t.Errorf("version %q", got)
	}
	if doc.Find("div.scroll > table.watchlist").Length() != 1 {
		t.Error("the watchlist table is not in a scrolling box")
	}
	peroxide := doc.Find("#substance-hydrogen-peroxide")
	cell := peroxide.Find("td.synonyms")
	if got := cell.Find("summary").Text(); got != "19 more" {
		t.Errorf("folded synonyms: %q, want 19 more", got)
	}
	if shown := strings.Split(strings.TrimSpace(cell.Clone().Children().Remove().End().Text()), ", "); len(shown) != shownSynonyms || shown[0] != "hydrogen dioxide" {
		t.Errorf("shown synonyms %q", shown)
	}
	if !strings.Contains(cell.Find("details").Text(), "peroxide spelling 29") {
		t.Error("the last synonym is not in the folded part")
	}
	if got := doc.Find("#substance-acetone td.synonyms details").Length(); got != 0 {
		t.Error("one synonym folded away")
	}
	if got := peroxide.Find("td.regime").Text(); got != "eu-2019-1148-annex-i (limit 12%)" {
		t.Errorf("regimes %q", got)
	}
	if got := peroxide.Find("a.edit-id").AttrOr("href", ""); got != "/watchlist/substances/hydrogen-peroxide" {
		t.Errorf("ID links to %q", got)
	}
	if got := peroxide.Find("a.edit").AttrOr("aria-label", ""); got != "Edit hydrogen-peroxide" {
		t.Errorf("edit link label %q", got)
	}
}

// TestSaveAfterRejectedReload: while a hand edit of the files is rejected,
// the substance editor warns that saving replaces it; once a version is
// saved, the pages say the file was rewritten since, instead of asking
// the analyst to fix an edit that is no longer there.
func TestSaveAfterRejectedReload(t *testing.T) {
	e := newEnv(t)
	ana, otto := e.as(precwatch.RoleAnalyst), e.as(precwatch.RoleOperator)
	e.wl.setRejected(time.Now().Add(-time.Minute), errors.New("matchers: configs/watchlist.yaml:89:28: substances[0].regimes[0].limit_percent_w_w: want a number"))
	doc := ana.page(t, "/watchlist/substances/acetone")
	if doc.Find("#reload-rejected").Length() != 1 || !strings.Contains(doc.Find("#save-replaces-edit").Text(), "replaced, not kept") {
		t.Errorf("the editor does not warn that saving replaces the rejected edit: %q", doc.Find("main").Text())
	}
	if doc.Find("#reload-saved-since").Length() != 0 {
		t.Error("a save is reported before any")
	}
	resp := ana.form("/watchlist/substances/acetone", map[string][]string{
		"base_version": {"0"}, "op": {"save"}, "comment": {"add a spelling"},
		"name_lang": {"en", "de"}, "name_value": {"Acetone", "Aceton"}, "synonyms": {"propanone\ndimethylketon"},
	})
	if resp.code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", resp.code, resp.body)
	}
	// The redirect names its own place on the page: the browser would
	// otherwise keep the form's #preview-result, which the watchlist page
	// does not have.
	if got := resp.header.Get("Location"); got != "/watchlist?saved=1#saved" {
		t.Errorf("save redirects to %q", got)
	}
	for _, c := range []struct {
		who  *client
		path string
	}{{ana, "/watchlist"}, {otto, "/sites"}} {
		doc := c.who.page(t, c.path)
		if got := doc.Find("#reload-saved-since").Text(); !strings.Contains(got, "version 1 was saved from the console") {
			t.Errorf("%s: %q", c.path, doc.Find("#reload-rejected").Text())
		}
	}
	if got := ana.page(t, "/watchlist/substances/acetone").Find("#save-replaces-edit").Length(); got != 0 {
		t.Error("the editor still warns after the save replaced the edit")
	}
}

// TestSiteControlsNamed: the sites table's buttons name their site, and the
// session import's text box has a label.
func TestSiteControlsNamed(t *testing.T) {
	e := newEnv(t)
	otto := e.as(precwatch.RoleOperator)
	doc := otto.page(t, "/sites")
	var labels []string
	doc.Find("table button").Each(func(_ int, b *goquery.Selection) { labels = append(labels, b.AttrOr("aria-label", "")) })
	for _, want := range []string{"Start a run of silkvault now", "Pause chemshop"} {
		if !slices.Contains(labels, want) {
			t.Errorf("no button labelled %q among %q", want, labels)
		}
	}
	doc = otto.page(t, "/sites/silkvault")
	if doc.Find(`label[for="session-cookies"]`).Length() != 1 || doc.Find("textarea#session-cookies").Length() != 1 {
		t.Error("the cookies box has no label")
	}
}

// TestNavCurrent: the header marks the section a page is in, for screen
// readers (aria-current) and the eye, with the longest link winning.
func TestNavCurrent(t *testing.T) {
	e := newEnv(t)
	admin := e.as(precwatch.RoleAdmin)
	for path, want := range map[string]string{
		"/alerts/" + e.keys["nitro"]: "/alerts",
		"/watchlist":                 "/watchlist",
		"/watchlist/versions":        "/watchlist/versions",
		"/watchlist/suppressions":    "/watchlist/suppressions",
		"/sites/silkvault":           "/sites",
		"/admin/audit":               "/admin/audit",
	} {
		var current []string
		admin.page(t, path).Find(`header nav a[aria-current="page"]`).Each(func(_ int, a *goquery.Selection) { current = append(current, a.AttrOr("href", "")) })
		if !slices.Equal(current, []string{want}) {
			t.Errorf("%s: current %q, want %s", path, current, want)
		}
	}
}
