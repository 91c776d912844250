package console

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// TestStartNowFollowsRun: after "Start now" the site page follows the run:
// it reloads (the Refresh header, no script) while waiting for the run and
// while it runs, then says how it ended and stops reloading.
func TestStartNowFollowsRun(t *testing.T) {
	e := newEnv(t)
	otto := e.as(precwatch.RoleOperator)
	resp := otto.form("/sites/chemshop/start", nil)
	loc := resp.header.Get("Location")
	m := regexp.MustCompile(`^/sites/chemshop\?started=(\d+)$`).FindStringSubmatch(loc)
	if resp.code != http.StatusSeeOther || m == nil {
		t.Fatalf("start: %d to %q", resp.code, loc)
	}
	sec, _ := strconv.ParseInt(m[1], 10, 64)
	if d := time.Since(time.Unix(sec, 0)); d < 0 || d > time.Minute {
		t.Errorf("started=%s is not now", m[1])
	}
	page := func(path string) (refresh, notice string) {
		t.Helper()
		r := otto.do("GET", path, nil, nil)
		if r.code != http.StatusOK {
			t.Fatalf("GET %s: %d", path, r.code)
		}
		body := string(r.body)
		i := strings.Index(body, `id="started"`)
		if i < 0 {
			return r.header.Get("Refresh"), ""
		}
		return r.header.Get("Refresh"), body[i:min(len(body), i+400)]
	}
	check := func(what, path, wantRefresh, wantNotice string) {
		t.Helper()
		refresh, notice := page(path)
		if refresh != wantRefresh || !strings.Contains(notice, wantNotice) {
			t.Errorf("%s: Refresh %q, notice %q; want Refresh %q and %q", what, refresh, notice, wantRefresh, wantNotice)
		}
	}
	check("before the run shows", loc, "3", "waiting for it to start")

	ctx := context.Background()
	run := precwatch.Run{ID: "run-now", Site: "chemshop", Start: time.Unix(sec, 0).Add(2 * time.Second), Status: precwatch.RunRunning, Pages: 3, Listings: 7}
	if err := e.store.SaveRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	check("while it runs", loc, "5", "is running: 3 page(s), 7 listing(s) so far")

	run.Status, run.End, run.Pages, run.Alerts = precwatch.RunOK, run.Start.Add(time.Minute), 9, 2
	if err := e.store.SaveRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	check("once it ended", loc, "", "ended <span class=\"status-ok\">ok</span>: 9 page(s), 7 listing(s), 2 alert(s)")

	// A run that never showed: the page stops waiting and says where to
	// look; an old link says only that a run was started.
	stale := strconv.FormatInt(time.Now().Add(-3*time.Minute).Unix(), 10)
	check("no run came", "/sites/silkvault?started="+stale, "", "none has started since")
	check("an old link", "/sites/silkvault?started=1", "", "A run was started.")
	if refresh, notice := page("/sites/silkvault"); refresh != "" || notice != "" {
		t.Errorf("without started: Refresh %q, notice %q", refresh, notice)
	}
}

// TestBrowserStartNow: in Chromium, "Start now" on the sites page leads to
// the site page, which updates itself as the run starts and ends.
func TestBrowserStartNow(t *testing.T) {
	e := newEnv(t)
	b, stop := startBrowser(t, e)
	defer stop()
	b.login("otto", "/sites")
	b.click(`form[action="/sites/chemshop/start"] button`)
	b.waitFor(`location.pathname == "/sites/chemshop" && document.querySelector("#started").textContent.includes("waiting for it to start")`)
	sec, err := strconv.ParseInt(eval[string](b, `new URLSearchParams(location.search).get("started")`), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run := precwatch.Run{ID: "run-now", Site: "chemshop", Start: time.Unix(sec, 0), Status: precwatch.RunRunning, Pages: 1}
	if err := e.store.SaveRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	b.waitFor(`document.querySelector("#started").textContent.includes("is running")`)
	run.Status, run.End = precwatch.RunPartial, run.Start.Add(time.Minute)
	if err := e.store.SaveRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	b.waitFor(`document.querySelector("#started").textContent.includes("ended partial")`)
}
