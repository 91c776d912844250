package console

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/precwatch/precwatch"
)

// rowKeys are the alert keys of a queue page's rows, in order.
func rowKeys(doc *goquery.Document) []string {
	var ks []string
	doc.Find("table.queue tbody tr").Each(func(_ int, r *goquery.Selection) { ks = append(ks, r.AttrOr("data-key", "")) })
	return ks
}

// TestQueueSort: the queue's sort control and column headers order the
// page, keep the filter, and the order is kept by the pager and the export.
func TestQueueSort(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	k := func(names ...string) []string {
		var ks []string
		for _, n := range names {
			ks = append(ks, e.keys[n])
		}
		return ks
	}
	for _, c := range []struct {
		path string
		want []string
	}{
		{"/alerts", k("peroxide2", "peroxide", "xss", "nitro", "acetone")},
		{"/alerts?sort=severity", k("peroxide2", "peroxide", "xss", "nitro", "acetone")},
		{"/alerts?sort=newest", k("xss", "acetone", "nitro", "peroxide2", "peroxide")},
		{"/alerts?sort=oldest", k("peroxide", "peroxide2", "nitro", "acetone", "xss")},
		{"/alerts?sort=site", k("peroxide2", "acetone", "peroxide", "xss", "nitro")},
		{"/alerts?sort=oldest&site=silkvault", k("peroxide", "nitro", "xss")},
		{"/alerts?sort=newest&limit=2&offset=2", k("nitro", "peroxide2")},
	} {
		if got := rowKeys(ivy.page(t, c.path)); !slices.Equal(got, c.want) {
			t.Errorf("%s: rows %v, want %v", c.path, got, c.want)
		}
	}

	doc := ivy.page(t, "/alerts?sort=newest&severity=medium&limit=1")
	if got := doc.Find(`#sort option[selected]`).AttrOr("value", "?"); got != "newest" {
		t.Errorf("sort control shows %q selected, want newest", got)
	}
	if got := doc.Find(".pager span").Text(); got != "1–1 of 4 · sorted by newest first" {
		t.Errorf("pager %q", got)
	}
	for sel, want := range map[string][]string{
		`.pager a[rel=next]`:         {"sort=newest", "severity=medium", "offset=1", "limit=1"},
		`#sort-raised`:               {"sort=oldest", "severity=medium", "limit=1"}, // flips
		`#sort-site`:                 {"sort=site", "severity=medium"},
		`#export input[name=sort]`:   {"newest"},
		`th[aria-sort=descending] a`: {"sort=oldest"}, // the raised column is the sorted one
	} {
		s := doc.Find(sel)
		got := s.AttrOr("href", s.AttrOr("value", ""))
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s = %q, want it to hold %q", sel, got, w)
			}
		}
	}
	if href := doc.Find("#sort-severity").AttrOr("href", ""); strings.Contains(href, "sort=") || strings.Contains(href, "offset") {
		t.Errorf("severity header %q: the default order is no parameter, and starts at the first page", href)
	}
	if n := doc.Find(`th[aria-sort]:not([aria-sort=none])`).Length(); n != 1 {
		t.Errorf("%d headers marked sorted, want 1", n)
	}
	// The default order leaves sort out of every link.
	doc = ivy.page(t, "/alerts?sort=severity&limit=1")
	if href := doc.Find(`.pager a[rel=next]`).AttrOr("href", ""); strings.Contains(href, "sort") {
		t.Errorf("next link %q names the default order", href)
	}
	if got := doc.Find(`#sort option[selected]`).AttrOr("value", "?"); got != "" {
		t.Errorf("default order shows %q selected", got)
	}

	// The API takes the same parameter.
	var page precwatch.AlertPage
	ivy.do("GET", "/api/alerts?sort=oldest&limit=2", nil, nil).json(t, &page)
	if got := keysOf(page.Alerts); !slices.Equal(got, k("peroxide", "peroxide2")) || page.Total != 5 {
		t.Errorf("API sort=oldest: %v of %d", got, page.Total)
	}

	// An unknown order, or a page past the bound of the others, is refused
	// with what to do.
	for _, path := range []string{"/alerts?sort=price", "/api/alerts?sort=price", "/alerts?sort=newest&offset=9990", "/api/alerts?sort=site&offset=9999&limit=2"} {
		resp := ivy.do("GET", path, nil, nil)
		if resp.code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", path, resp.code)
		}
		if strings.HasPrefix(path, "/api/") && resp.errorCode() != EINVALID {
			t.Errorf("%s: code %q", path, resp.errorCode())
		}
	}
	if resp := ivy.do("GET", "/alerts?offset=9990", nil, nil); resp.code != http.StatusOK {
		t.Errorf("a deep page of the default order: %d", resp.code)
	}
}

func keysOf(as []precwatch.Alert) []string {
	var ks []string
	for _, a := range as {
		ks = append(ks, a.Key)
	}
	return ks
}

// TestQueueFilterCase: the vendor filter ignores case.
func TestQueueFilterCase(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	for _, v := range []string{"fuelking", "FuelKing", "FUELKING"} {
		if got := rowKeys(ivy.page(t, "/alerts?vendor="+v)); !slices.Equal(got, []string{e.keys["nitro"]}) {
			t.Errorf("vendor=%s: %v, want the nitro alert", v, got)
		}
	}
}

// TestEmptyFilterParams: a filter form sends every field; empty ones are
// dropped by a redirect, so the address and every link the page builds
// name only the filters in use.
func TestEmptyFilterParams(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	for path, want := range map[string]string{
		"/alerts?q=&status=&severity=&regime=&substance=&site=&vendor=&assignee=&since=&until=&sort=": "/alerts",
		"/alerts?site=&vendor=&severity=medium&q=+":                                                   "/alerts?severity=medium",
		"/alerts?site=silkvault&vendor=&sort=newest&limit=":                                           "/alerts?site=silkvault&sort=newest",
	} {
		resp := ivy.do("GET", path, nil, nil)
		if resp.code != http.StatusSeeOther || resp.header.Get("Location") != want {
			t.Errorf("GET %s: %d to %q, want 303 to %q", path, resp.code, resp.header.Get("Location"), want)
		}
	}
	// Empty parameters are absent in the API too (it answers; no redirect).
	var page precwatch.AlertPage
	ivy.do("GET", "/api/alerts?site=&vendor=&severity=&sort=&limit=", nil, nil).json(t, &page)
	if page.Total != 5 || len(page.Alerts) != 5 {
		t.Errorf("API with empty parameters: %d of %d, want all 5", len(page.Alerts), page.Total)
	}
	// The links a filtered page builds hold no empty parameter, and a page
	// without filters links to /alerts, not /alerts?.
	doc := ivy.page(t, "/alerts?site=silkvault&limit=1&offset=1")
	doc.Find("a[href^='/alerts?'], #export input").Each(func(_ int, s *goquery.Selection) {
		if href, ok := s.Attr("href"); ok && (strings.Contains(href, "=&") || strings.HasSuffix(href, "=")) {
			t.Errorf("link %q has an empty parameter", href)
		}
		if v, ok := s.Attr("value"); ok && s.AttrOr("type", "") == "hidden" && v == "" {
			t.Errorf("export carries empty %s", s.AttrOr("name", ""))
		}
	})
	if href := ivy.page(t, "/alerts?limit=1&offset=1").Find(`.pager a[rel=prev]`).AttrOr("href", ""); href != "/alerts?limit=1" {
		t.Errorf("previous page %q", href)
	}
	if href := ivy.page(t, "/alerts?offset=1").Find(`#sort-severity`).AttrOr("href", ""); href != "/alerts" {
		t.Errorf("severity header %q, want /alerts", href)
	}
	// The audit log's filter form alike.
	admin := e.as(precwatch.RoleAdmin)
	resp := admin.do("GET", "/admin/audit?actor=&action=&outcome=&since=&until=", nil, nil)
	if resp.code != http.StatusSeeOther || resp.header.Get("Location") != "/admin/audit" {
		t.Errorf("audit with empty filters: %d to %q", resp.code, resp.header.Get("Location"))
	}
}

// TestBrowserQueueSort: in Chromium, the sort control and the column
// headers reorder the queue, the filter form's empty fields do not end up
// in the address, and the sorted column is marked.
func TestBrowserQueueSort(t *testing.T) {
	e := newEnv(t)
	b, stop := startBrowser(t, e)
	defer stop()
	b.login("ivy", "/alerts")
	first := `document.querySelector("table.queue tbody tr").dataset.key`
	// The address changes when the next page commits, before it is parsed:
	// wait for the page to be complete too.
	const loaded = ` && document.readyState == "complete"`
	b.set("#sort", "newest")
	b.click(`#filters button[type=submit]`)
	b.waitFor(`location.search == "?sort=newest"` + loaded)
	if got := eval[string](b, first); got != e.keys["xss"] {
		t.Errorf("newest first: first row %s, want the xss alert", got)
	}
	if got := eval[string](b, `document.querySelector("#sort").value`); got != "newest" {
		t.Errorf("sort control shows %q after filtering", got)
	}
	if got := eval[string](b, `document.querySelector("th[aria-sort=descending]").textContent.trim()`); got != "Raised" {
		t.Errorf("sorted column %q, want Raised", got)
	}
	b.screenshot("queue-sort.png")

	// The Raised header flips to oldest first, keeping the filter.
	b.set(`#filters select[name=severity]`, "medium")
	b.click(`#filters button[type=submit]`)
	b.waitFor(`location.search == "?severity=medium&sort=newest"` + loaded)
	b.click("#sort-raised")
	b.waitFor(`new URLSearchParams(location.search).get("sort") == "oldest"` + loaded)
	if got := eval[string](b, `location.search`); !strings.Contains(got, "severity=medium") {
		t.Errorf("header link dropped the filter: %s", got)
	}
	if got := eval[string](b, first); got != e.keys["peroxide"] {
		t.Errorf("oldest first: first row %s, want the first peroxide alert", got)
	}
	b.click("#sort-site")
	b.waitFor(`new URLSearchParams(location.search).get("sort") == "site"` + loaded)
	if got := eval[[]string](b, `[...document.querySelectorAll("table.queue tbody tr td:nth-child(7)")].map(td => td.textContent)`); !slices.IsSorted(got) || len(got) != 4 {
		t.Errorf("site order: sites %v", got)
	}
	b.click("#sort-severity")
	b.waitFor(`location.search == "?severity=medium"` + loaded)
}
