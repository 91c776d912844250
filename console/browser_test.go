package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/precwatch/precwatch"
)

// chromiumPath is where the browser tests expect Chromium.
const chromiumPath = "/usr/bin/chromium"

// screenshotDir is where the browser test saves its screenshots: the
// README's docs/screenshots with PRECWATCH_SCREENSHOTS=docs (make
// screenshots), else a directory under the system's temporary one, so that
// make test leaves a clone unchanged.
func screenshotDir() string {
	switch dir := os.Getenv("PRECWATCH_SCREENSHOTS"); dir {
	case "docs":
		return "../docs/screenshots"
	case "":
		return filepath.Join(os.TempDir(), "precwatch-screenshots")
	default:
		return dir
	}
}

// browserRun is a headless Chromium on the console, watching every request
// the page makes and every dialog it opens.
type browserRun struct {
	t       *testing.T
	e       *env
	ctx     context.Context
	mu      sync.Mutex
	foreign []string // requests to any host but the console's
	dialogs []string
}

func startBrowser(t *testing.T, e *env) (*browserRun, func()) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("chromium not found at %s (%v): apt-get install chromium", chromiumPath, err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	stop := func() { cancelCtx(); cancelAlloc() }
	b := &browserRun{t: t, e: e, ctx: ctx}
	host := strings.TrimPrefix(e.ts.URL, "http://")
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			u, err := url.Parse(ev.Request.URL)
			if err != nil || (u.Scheme != "data" && u.Host != host) {
				b.mu.Lock()
				b.foreign = append(b.foreign, ev.Request.URL)
				b.mu.Unlock()
			}
		case *page.EventJavascriptDialogOpening:
			b.mu.Lock()
			b.dialogs = append(b.dialogs, string(ev.Type)+": "+ev.Message)
			b.mu.Unlock()
		}
	})
	if err != nil {
		stop()
		t.Fatalf("start chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		stop()
		t.Fatalf("network.enable: %v", err)
	}
	return b, stop
}

// do runs steps, failing the test with what was being done.
func (b *browserRun) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression on the page.
func eval[T any](b *browserRun, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds on a page that has
// finished loading (pages reload after each form post, so a selector alone
// could match the old page, and a new page's URL is there before the rest
// of it: on a loaded machine a table read right after was half parsed).
func (b *browserRun) waitFor(expr string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var lastErr error
	loaded := `document.readyState === "complete" && (` + expr + `)`
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](loaded))
		cancel()
		if err == nil && ok {
			return
		}
		lastErr = err
		time.Sleep(40 * time.Millisecond)
	}
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	b.t.Fatalf("timed out waiting for %s on %s (last error %v)", expr, loc, lastErr)
}

func (b *browserRun) open(path, ready string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.e.ts.URL+path))
	b.waitFor(ready)
}

func (b *browserRun) click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

func (b *browserRun) set(sel, value string) {
	b.t.Helper()
	b.do("set "+sel, chromedp.SetValue(chromedp.CSS(sel), value, chromedp.NodeVisible))
}

func (b *browserRun) login(name, landing string) {
	b.t.Helper()
	b.open("/login", `!!document.querySelector("#signin")`)
	b.set("#name", name)
	b.set("#password", password)
	b.click("#signin")
	b.waitFor(fmt.Sprintf(`location.pathname == %q && !!document.querySelector("header nav")`, landing))
}

func (b *browserRun) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := screenshotDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", path)
}

// noScriptInjected checks the page ran none of the listing's markup.
func (b *browserRun) noScriptInjected(where string) {
	b.t.Helper()
	if got := eval[string](b, `typeof window.__pwned`); got != "undefined" {
		b.t.Errorf("%s: window.__pwned is %s: listing script ran", where, got)
	}
	if n := eval[int](b, `document.images.length + document.querySelectorAll("a[href^='javascript' i], iframe, object, embed").length`); n != 0 {
		b.t.Errorf("%s: %d images, javascript: links or frames in the page", where, n)
	}
	if n := eval[int](b, `[...document.scripts].filter(s => !s.src.startsWith(location.origin + "/static/")).length`); n != 0 {
		b.t.Errorf("%s: %d scripts that are not the console's", where, n)
	}
}

// TestBrowser walks each role's main path in real headless Chromium, and
// proves that hostile listing text stays text: no script runs, no dialog
// opens and no request leaves for any host but the console's.
func TestBrowser(t *testing.T) {
	e := newEnv(t)
	b, stop := startBrowser(t, e)
	defer stop()
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: ptr(true),
	}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	t.Run("investigator", func(t *testing.T) {
		b.t = t
		b.login("ivy", "/alerts")
		b.waitFor(`document.querySelectorAll("table.queue tbody tr").length == 5`)
		b.noScriptInjected("queue")
		if !eval[bool](b, `[...document.querySelectorAll("td.title a")].some(a => a.textContent.includes("<script>window.__pwned=1</script>") && a.textContent.includes("<img src=http://evil.example/x.png>"))`) {
			t.Error("queue: the hostile title is not shown as text")
		}
		b.screenshot("queue.png")

		// Triage one alert end to end.
		key := e.keys["peroxide"]
		b.click(fmt.Sprintf(`tr[data-key=%q] td.title a`, key))
		b.waitFor(`!!document.querySelector("#claim")`)
		if got := eval[string](b, `document.querySelector("#listing-title mark").textContent`); got != "Hydrogen peroxide" {
			t.Errorf("highlighted %q, want Hydrogen peroxide", got)
		}
		if eval[bool](b, `!!document.querySelector("#listing-url").closest("a") || !!document.querySelector("a[href*='onion']")`) {
			t.Error("the listing URL is a link")
		}
		b.click("#claim")
		b.waitFor(`document.querySelector("#alert-assignee")?.textContent == "ivy"`)
		b.click("#to-triaged")
		b.waitFor(`document.querySelector("#alert-status")?.textContent == "triaged"`)
		b.set("#note-text", "same vendor lists on chemshop")
		b.click("#add-note")
		b.waitFor(`document.querySelectorAll("#timeline li").length == 3`)
		b.click("#to-escalated")
		b.waitFor(`document.querySelector("#alert-status")?.textContent == "escalated"`)
		b.screenshot("detail.png")
		a, err := e.store.Alert(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		var steps []string
		for _, te := range a.Timeline {
			steps = append(steps, te.Actor+":"+te.Action+":"+te.To)
		}
		if want := []string{"ivy:claim:ivy", "ivy:status:triaged", "ivy:note:", "ivy:status:escalated"}; !slices.Equal(steps, want) {
			t.Errorf("timeline %v, want %v", steps, want)
		}

		// Dismiss another: the browser will not send it without a reason.
		key = e.keys["acetone"]
		b.open("/alerts/"+key, `!!document.querySelector("#dismiss-reason")`)
		b.click("#to-dismissed")
		time.Sleep(200 * time.Millisecond)
		if a, _ := e.store.Alert(ctx, key); a.Status != precwatch.StatusNew {
			t.Errorf("dismissed without a reason: %s", a.Status)
		}
		b.set("#dismiss-reason", "household solvent at retail strength")
		b.click("#to-dismissed")
		b.waitFor(`document.querySelector("#alert-status")?.textContent == "dismissed"`)
		if a, _ := e.store.Alert(ctx, key); a.Status != precwatch.StatusDismissed || a.Timeline[len(a.Timeline)-1].Text != "household solvent at retail strength" {
			t.Errorf("after dismiss: %s %+v", a.Status, a.Timeline)
		}

		// The hostile listing's detail page shows its markup as text.
		b.open("/alerts/"+e.keys["xss"], `!!document.querySelector("#listing-description")`)
		b.noScriptInjected("detail")
		for _, sel := range []string{"#listing-title", "#listing-description"} {
			text := eval[string](b, fmt.Sprintf(`document.querySelector(%q).innerText`, sel))
			for _, want := range []string{"<script>window.__pwned=1</script>", "<img src=http://evil.example/x.png>", `<a href="javascript:alert(1)">x</a>`} {
				if !strings.Contains(text, want) {
					t.Errorf("%s shows %q, without %q as text", sel, text, want)
				}
			}
		}

		// Its stored page opens as text in the console: the source is
		// readable, and none of it runs or loads.
		b.click("#view-page")
		b.waitFor(`!!document.querySelector("#page-source")`)
		b.noScriptInjected("stored page")
		if got := eval[string](b, `document.querySelector("#page-source").textContent`); !strings.Contains(got, "<script>window.__pwned=1</script>") || !strings.Contains(got, "<h1>Nitromethane ") {
			t.Errorf("the stored page's source is shown as %q", got)
		}
		if got := eval[string](b, `document.querySelector("#source-sha256").textContent`); len(got) != 64 {
			t.Errorf("stored page SHA-256 %q", got)
		}

		// Export the selected alert as CSV.
		b.open("/alerts", `!!document.querySelector("#export-csv")`)
		if got := eval[string](b, `document.querySelector("#export-what").textContent`); !strings.Contains(got, "all 5 alerts of this filter") {
			t.Errorf("export line with nothing ticked: %q", got)
		}
		b.click(fmt.Sprintf(`tr[data-key=%q] input.select`, e.keys["peroxide"]))
		if got := eval[string](b, `document.querySelector("#export-what").textContent`); !strings.HasPrefix(got, "Export the 1 selected alert ") {
			t.Errorf("export line with one alert ticked: %q", got)
		}
		b.click("#export-csv")
		body := waitDownload(t, downloads)
		rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[1][0] != e.keys["peroxide"] || rows[1][4] != "escalated" || rows[1][2] != "71" {
			t.Errorf("exported CSV %q, want the header and the escalated peroxide alert", rows)
		}

		// The same selection as a STIX 2.1 bundle (MISP/STIX export, issue 11).
		if es, err := os.ReadDir(downloads); err == nil {
			for _, de := range es {
				_ = os.Remove(filepath.Join(downloads, de.Name()))
			}
		}
		b.open("/alerts", `!!document.querySelector("#export-stix")`)
		b.click(fmt.Sprintf(`tr[data-key=%q] input.select`, e.keys["peroxide"]))
		b.click("#export-stix")
		stix := waitDownload(t, downloads)
		if !bytes.Contains(stix, []byte(`"type": "bundle"`)) || !bytes.Contains(stix, []byte(`"external_id": "`+e.keys["peroxide"]+`"`)) || bytes.Contains(stix, []byte(e.keys["acetone"])) {
			t.Errorf("exported STIX bundle lacks the selected alert only:\n%.500s", stix)
		}
	})

	t.Run("analyst", func(t *testing.T) {
		b.t = t
		b.login("ana", "/watchlist")
		b.click(`#substance-nitromethane a.edit`)
		b.waitFor(`!!document.querySelector("#synonyms")`)
		// An invalid term is shown next to its field.
		b.set("#synonyms", "x")
		b.click("#preview")
		b.waitFor(`document.querySelector(".fielderror[data-field=synonyms]")?.textContent.includes("shorter than 3")`)
		// A valid one previews, then saves with a comment.
		b.set("#synonyms", "solvent")
		b.click("#preview")
		b.waitFor(`!!document.querySelector("#preview-result")`)
		if got := eval[string](b, `document.querySelector("#preview-added").textContent`); got != "1" {
			t.Errorf("preview adds %s hits, want 1 (the solvent listing)", got)
		}
		b.screenshot("watchlist.png")
		b.set("#comment", "trade name seen on shops")
		b.click("#save")
		b.waitFor(`document.querySelector("#saved")?.textContent.includes("version 1")`)
		// A second change, then a rollback to the first.
		b.open("/watchlist/substances/nitromethane", `!!document.querySelector("#synonyms")`)
		b.set("#synonyms", "solvent\nracing fuel")
		b.click("#preview")
		b.waitFor(`!!document.querySelector("#comment")`)
		b.set("#comment", "racing fuel too")
		b.click("#save")
		b.waitFor(`document.querySelector("#saved")?.textContent.includes("version 2")`)
		b.open("/watchlist/versions/2", `!!document.querySelector("#diff")`)
		if got := eval[string](b, `document.querySelector("#diff").innerText`); !strings.Contains(got, "synonym: racing fuel") || strings.Contains(got, "synonym: solvent") {
			t.Errorf("diff of version 2: %q", got)
		}
		b.open("/watchlist/versions", `!!document.querySelector("#rollback-1")`)
		b.click("#rollback-1")
		b.waitFor(`document.querySelector("#saved")?.textContent.includes("version 3")`)
		if got := eval[string](b, `document.querySelector("#substance-nitromethane").innerText`); !strings.Contains(got, "solvent") || strings.Contains(got, "racing fuel") {
			t.Errorf("after rollback the row reads %q", got)
		}
		// A false positive ruled from the suppressions page: previewed,
		// saved with who and why, then lifted.
		b.click("#suppressions-link")
		b.waitFor(`!!document.querySelector("#no-suppressions")`)
		b.set("#term", "solvent")
		b.set("#site", "chemshop")
		b.set("#reason", "paint thinner shop, checked by phone")
		b.click("#preview")
		b.waitFor(`!!document.querySelector("#preview-result")`)
		if got := eval[string](b, `document.querySelector("#preview-removed").textContent`); got != "1" {
			t.Errorf("the suppression silences %s hits, want 1 (the solvent listing)", got)
		}
		b.click("#save")
		b.waitFor(`document.querySelector("#saved")?.textContent.includes("version 4")`)
		if got := eval[string](b, `document.querySelector("#suppression-0").innerText`); !strings.Contains(got, "solvent") || !strings.Contains(got, "ana") || !strings.Contains(got, "checked by phone") {
			t.Errorf("suppression row %q", got)
		}
		b.screenshot("suppressions.png")
		b.click("#lift-0")
		b.waitFor(`document.querySelector("#saved")?.textContent.includes("version 5") && !!document.querySelector("#no-suppressions")`)
	})

	t.Run("operator", func(t *testing.T) {
		b.t = t
		b.login("otto", "/sites")
		if got := eval[string](b, `document.querySelector("#site-offline").innerText`); !strings.Contains(got, "down") {
			t.Errorf("offline site row %q, want its proxy down", got)
		}
		b.click(`#site-silkvault a`)
		b.waitFor(`!!document.querySelector("#runs")`)
		if got := eval[string](b, `document.querySelector("#runs").innerText`); !strings.Contains(got, "run-1") || !strings.Contains(got, "1 errors") {
			t.Errorf("runs table %q", got)
		}
		b.click("#start")
		b.waitFor(`!!document.querySelector("#started")`)
		e.mu.Lock()
		started := slices.Clone(e.started)
		e.mu.Unlock()
		if !slices.Equal(started, []string{"silkvault"}) {
			t.Errorf("started %v, want [silkvault]", started)
		}
	})

	t.Run("admin", func(t *testing.T) {
		b.t = t
		b.login("adam", "/alerts")
		b.open("/admin/users", `!!document.querySelector("#user-otto")`)
		if eval[bool](b, `!!document.querySelector("#user-adam button.disable")`) {
			t.Error("the admin is offered to disable their own account")
		}
		b.click(`#user-otto button.disable`)
		b.waitFor(`document.querySelector(".notice")?.textContent.includes("Updated otto")`)
		if got := eval[string](b, `document.querySelector("#user-otto").innerText`); !strings.Contains(got, "disabled") {
			t.Errorf("otto's row after disabling: %q", got)
		}
		b.screenshot("users.png")
		b.click(`#user-otto button.enable`)
		b.waitFor(`document.querySelector("#user-otto")?.innerText.includes("active")`)
		// The audit log's filter form narrows it to otto's account.
		b.open("/admin/audit", `!!document.querySelector("#audit-filters")`)
		b.set("#filter-action", "user.disable")
		b.click(`#audit-filters button[type="submit"]`)
		b.waitFor(`location.search.includes("action=user.disable") && document.querySelectorAll("#audit tbody tr").length == 1`)
		if got := eval[string](b, `document.querySelector("#audit tbody tr").innerText`); !strings.Contains(got, "user:otto") || !strings.Contains(got, "adam") {
			t.Errorf("filtered audit log: %q", got)
		}
	})

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.foreign) > 0 {
		t.Errorf("requests left for other hosts: %q", b.foreign)
	}
	if len(b.dialogs) > 0 {
		t.Errorf("dialogs opened: %q", b.dialogs)
	}
}

// waitDownload returns the first completed download in dir.
func waitDownload(t *testing.T, dir string) []byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		es, _ := os.ReadDir(dir)
		for _, e := range es {
			if strings.HasSuffix(e.Name(), ".crdownload") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err == nil && len(b) > 0 {
				return b
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no download arrived")
	return nil
}

// TestBrowserLayout: on a 1366x768 screen the alert page's evidence table
// stays inside its column (a long onion URL and WARC name used to push it
// over the workflow column), and on a phone-sized one no page scrolls
// sideways as a whole: wide tables scroll inside their own box.
func TestBrowserLayout(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	onion := "http://silkvaultkuwguu5mjstemyppo4eistwwfxfrdiiwwn6lpw2of3hous2.onion"
	url := onion + "/listing/sv-1025-potassium-perchlorate-one-kilogram-bag-ships-worldwide?ref=index-page-2&session=0123456789abcdef"
	body := []byte("<html><body><h1>Potassium perchlorate 99%, 1 kg</h1></body></html>")
	h := sha256.Sum256(body)
	sum := hex.EncodeToString(h[:])
	if err := e.store.SavePage(ctx, precwatch.Page{SHA256: sum, Site: "silkvault", URL: url, FetchedAt: t0, ContentType: "text/html", Body: body}); err != nil {
		t.Fatal(err)
	}
	l := precwatch.Listing{Site: "silkvault", ID: "sv-1025", URL: url, Title: "Potassium perchlorate 99%, 1 kg", Description: "Potassium perchlorate 99%, 1 kg bag.",
		Price: 0.0025, Currency: "BTC", Vendor: "StealthLab", FetchedAt: t0, PageSHA256: sum, Tor: true}
	m := precwatch.Match{Substance: "potassium-perchlorate", Name: "Potassium perchlorate", Regime: precwatch.RegimeEUAnnexI, Severity: precwatch.SeverityHigh,
		Term: "potassium perchlorate", Kind: "name", Field: "title", Start: 0, End: 21, Text: "Potassium perchlorate", ConcentrationPercent: ptr(99.0), LimitPercent: ptr(40.0), OverLimit: ptr(true)}
	res, err := e.store.Record(ctx, precwatch.Observation{Listing: l, Matches: []precwatch.Match{m}, RunID: "run-1", At: t0})
	if err != nil || len(res.NewAlerts) != 1 {
		t.Fatalf("record: %v, %d new alerts", err, len(res.NewAlerts))
	}
	key := res.NewAlerts[0]

	b, stop := startBrowser(t, e)
	defer stop()
	b.do("viewport 1366x768", chromedp.EmulateViewport(1366, 768))
	b.login("ivy", "/alerts")
	b.open("/alerts/"+key, `!!document.querySelector("#evidence-fetches")`)
	if !eval[bool](b, `document.querySelector("#evidence-fetches").innerText.includes("sv-1025-potassium")`) {
		t.Fatal("the evidence table does not list the long URL")
	}
	over := eval[float64](b, `document.querySelector("#evidence-fetches").getBoundingClientRect().right - document.querySelector("section.listing").getBoundingClientRect().right`)
	if over > 1 {
		t.Errorf("at 1366x768 the evidence table sticks %.0f px out of its column, over the workflow", over)
	}
	if got := eval[string](b, `String(document.documentElement.scrollWidth - innerWidth)`); got != "0" {
		t.Errorf("at 1366x768 the alert page is %s px wider than the window", got)
	}

	// An analyst's preview opens scrolled to its result, below a long
	// form, where the hits it adds and removes are.
	b.login("ana", "/watchlist")
	b.open("/watchlist/substances/nitromethane", `!!document.querySelector("#synonyms")`)
	b.set("#synonyms", "solvent")
	b.click("#preview")
	b.waitFor(`!!document.querySelector("#preview-result")`)
	if top := eval[float64](b, `document.querySelector("#preview-result").getBoundingClientRect().top`); top < 0 || top > 768-150 {
		t.Errorf("at 1366x768 the preview's result opens %.0f px from the top of the window, below the fold", top)
	}

	b.do("viewport 390x844", chromedp.EmulateViewport(390, 844))
	b.login("ivy", "/alerts")
	for _, path := range []string{"/alerts", "/alerts/" + key} {
		b.open(path, `document.readyState == "complete"`)
		if got := eval[float64](b, `document.documentElement.scrollWidth - innerWidth`); got > 0 {
			t.Errorf("at 390x844 %s is %.0f px wider than the window", path, got)
		}
	}
	b.login("adam", "/alerts") // the admin's header holds every link
	for _, path := range []string{"/sites", "/sites/silkvault", "/watchlist/suppressions"} {
		b.open(path, `document.readyState == "complete"`)
		if got := eval[float64](b, `document.documentElement.scrollWidth - innerWidth`); got > 0 {
			t.Errorf("at 390x844 %s is %.0f px wider than the window: %s", path, got, eval[string](b, `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > innerWidth).slice(0,8).map(e => e.tagName+"."+e.className+"#"+e.id+" "+Math.round(e.getBoundingClientRect().right)).join(", ")`))
		}
	}
}

// TestBrowserWidths: at 1400 and 800 px, as the console is used on a
// laptop and in half a screen, the queue's titles keep a readable width
// (breaking them anywhere squeezed them to a letter or two per line), the
// run history fits a wide window with a full-length run ID, and the
// watchlist page, long synonym lists and all, never scrolls sideways as a
// whole, with each substance's editor reachable from its first column;
// nor does any other page.
func TestBrowserWidths(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.store.SaveRun(ctx, precwatch.Run{ID: "20261207T151054.689671306Z-99a70225", Site: "silkvault", Start: t0.Add(time.Hour), End: t0.Add(61 * time.Minute),
		Status: precwatch.RunOK, Pages: 21, Listings: 63, NewListings: 63, Alerts: 39, Requests: 21, Bytes: 58959}); err != nil {
		t.Fatal(err)
	}
	wl := testWatchlist()
	for i := range 60 {
		wl.Substances[0].Synonyms = append(wl.Substances[0].Synonyms, fmt.Sprintf("peroxide spelling number %02d", i))
	}
	e.wl.ActiveFn = func(context.Context) (*precwatch.Watchlist, int, error) { return wl, 0, nil }
	// Audit entries naming alerts by key, as casework writes them.
	ivy := e.as(precwatch.RoleInvestigator)
	for _, name := range []string{"peroxide", "nitro"} {
		if resp := ivy.do("POST", "/api/alerts/"+e.keys[name]+"/actions", map[string]string{"action": "claim"}, nil); resp.code != http.StatusOK {
			t.Fatalf("claim %s: %d %s", name, resp.code, resp.body)
		}
		if resp := ivy.do("GET", "/api/alerts/"+e.keys[name]+"/page", nil, nil); resp.code != http.StatusOK { // audited with the page's SHA-256
			t.Fatalf("page of %s: %d", name, resp.code)
		}
	}
	b, stop := startBrowser(t, e)
	defer stop()
	overflow := func() float64 { return eval[float64](b, `document.documentElement.scrollWidth - innerWidth`) }
	for _, width := range []int64{1400, 800} {
		b.do(fmt.Sprintf("viewport %dx1000", width), chromedp.EmulateViewport(width, 1000))
		b.login("adam", "/alerts")
		b.open("/alerts", `document.readyState == "complete"`)
		if narrow := eval[float64](b, `Math.min(...[...document.querySelectorAll("td.title")].map(td => td.getBoundingClientRect().width))`); narrow < 150 {
			t.Errorf("at %d px a title cell is %.0f px wide", width, narrow)
		}
		if got := overflow(); got > 0 {
			t.Errorf("at %d px the queue is %.0f px wider than the window", width, got)
		}
		// Nor does the queue scroll sideways in its box: at 800 px the
		// columns an alert's page shows anyway give way to the title.
		if got := eval[float64](b, `(box => box.scrollWidth - box.clientWidth)(document.querySelector("table.queue").parentElement)`); got > 0 {
			t.Errorf("at %d px the queue's table is %.0f px wider than its box", width, got)
		}
		b.open("/watchlist", `document.readyState == "complete"`)
		if got := overflow(); got > 0 {
			t.Errorf("at %d px the watchlist page is %.0f px wider than the window", width, got)
		}
		if right := eval[float64](b, `document.querySelector("#substance-hydrogen-peroxide a.edit-id").getBoundingClientRect().right`); right > float64(width) {
			t.Errorf("at %d px the editor link is off the window (right edge %.0f)", width, right)
		}
		if h := eval[float64](b, `document.querySelector("#substance-hydrogen-peroxide").getBoundingClientRect().height`); h > 500 {
			t.Errorf("at %d px the row of a substance with 61 synonyms is %.0f px tall", width, h)
		}
		// Every other page's tables scroll in their own box too (the audit
		// log's pushed the page 559 px wide at 800 px).
		for _, path := range []string{"/admin/audit", "/admin/users", "/deliveries", "/watchlist/suppressions", "/watchlist/versions",
			"/vendor?site=silkvault&handle=fuelking", "/sites", "/sites/silkvault", "/alerts/" + e.keys["peroxide"]} {
			b.open(path, `document.readyState == "complete"`)
			if got := overflow(); got > 0 {
				t.Errorf("at %d px %s is %.0f px wider than the window", width, path, got)
			}
		}
	}
	b.do("viewport 1400x1000", chromedp.EmulateViewport(1400, 1000))
	b.open("/sites/silkvault", `!!document.querySelector("#runs")`)
	if got := eval[float64](b, `(box => box.scrollWidth - box.clientWidth)(document.querySelector("#runs").parentElement)`); got > 0 {
		t.Errorf("at 1400 px the run history is %.0f px wider than its box", got)
	}
	b.screenshot("site-1400.png")
}

// TestBrowserBackToQueue: "← Queue" on an alert's page returns to the
// queue with the filter and sort it was opened from, also after an action
// reloaded the alert; and the keyboard's first stop is a link past the
// header and the filters.
func TestBrowserBackToQueue(t *testing.T) {
	e := newEnv(t)
	b, stop := startBrowser(t, e)
	defer stop()
	b.login("ivy", "/alerts")
	const filtered = "?site=silkvault&sort=newest"
	b.open("/alerts"+filtered, `document.readyState == "complete"`)
	b.do("tab", chromedp.KeyEvent("\t"))
	if got := eval[string](b, `document.activeElement.textContent + " " + (document.activeElement.getBoundingClientRect().left >= 0)`); got != "Skip to content true" {
		t.Errorf("first keyboard stop: %q, want the visible skip link", got)
	}
	b.click(fmt.Sprintf(`tr[data-key=%q] td.title a`, e.keys["nitro"]))
	b.waitFor(`!!document.querySelector("#claim") && document.readyState == "complete"`)
	if got := eval[string](b, `document.querySelector("#back-to-queue").getAttribute("href")`); got != "/alerts"+filtered {
		t.Errorf("back link %q, want the filtered queue", got)
	}
	b.click("#claim")
	b.waitFor(`document.querySelector("#alert-assignee")?.textContent == "ivy" && document.readyState == "complete"`)
	b.click("#back-to-queue")
	b.waitFor(`location.pathname == "/alerts" && document.readyState == "complete"`)
	if got := eval[string](b, `location.search`); got != filtered {
		t.Errorf("back at the queue with %q, want %q", got, filtered)
	}
	if n := eval[int](b, `document.querySelectorAll("table.queue tbody tr").length`); n != 3 {
		t.Errorf("%d rows, want silkvault's 3", n)
	}
}
