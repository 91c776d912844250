package console

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/precwatch/precwatch"
)

// fillPattern turns a route pattern into a method and a concrete path.
func (e *env) fillPattern(pattern string) (string, string) {
	method, path, _ := strings.Cut(pattern, " ")
	path = strings.NewReplacer(
		"{key}", e.keys["acetone"], "{id}", "acetone", "{version}", "1",
		"{site}", "chemshop", "{op}", "pause", "{$}", "", "{file...}", "x/y",
	).Replace(path)
	return method, path
}

// TestPermissions walks the permission table: every role gets 403 on each
// route it may not use and something else on the routes it may; without a
// session every protected route is 401 (or a redirect to the login page).
func TestPermissions(t *testing.T) {
	e := newEnv(t)
	clients := map[precwatch.Role]*client{}
	for _, r := range precwatch.Roles {
		clients[r] = e.as(r)
	}
	anon := e.anon()
	checked := 0
	for _, rt := range e.srv.table() {
		if rt.roles == nil {
			continue
		}
		method, path := e.fillPattern(rt.pattern)
		api := strings.HasPrefix(path, "/api/")
		send := func(c *client) response {
			if method == "POST" && !api {
				return c.form(path, map[string][]string{"text": {"x"}})
			}
			var body any
			if method == "POST" {
				body = map[string]any{}
			}
			return c.do(method, path, body, nil)
		}
		for _, role := range precwatch.Roles {
			if allows(rt.roles, role) {
				continue
			}
			checked++
			resp := send(clients[role])
			if resp.code != http.StatusForbidden {
				t.Errorf("%s as %s: %d, want 403", rt.pattern, role, resp.code)
			}
			if api && resp.errorCode() != EFORBIDDEN {
				t.Errorf("%s as %s: code %q, want EFORBIDDEN", rt.pattern, role, resp.errorCode())
			}
		}
		resp := send(anon)
		switch {
		case api && (resp.code != http.StatusUnauthorized || resp.errorCode() != EUNAUTHORIZED):
			t.Errorf("%s without session: %d %s, want 401 EUNAUTHORIZED", rt.pattern, resp.code, resp.errorCode())
		case !api && method == "GET" && (resp.code != http.StatusSeeOther || !strings.HasPrefix(resp.header.Get("Location"), "/login")):
			t.Errorf("%s without session: %d to %q, want a redirect to /login", rt.pattern, resp.code, resp.header.Get("Location"))
		case !api && method == "POST" && resp.code != http.StatusUnauthorized:
			t.Errorf("%s without session: %d, want 401", rt.pattern, resp.code)
		}
		// The allowed roles get past the check (logout is left out: it
		// would end the session the other checks use).
		if strings.Contains(path, "logout") {
			continue
		}
		for _, role := range rt.roles {
			if resp := send(clients[role]); resp.code == http.StatusForbidden || resp.code == http.StatusUnauthorized {
				t.Errorf("%s as %s: %d %s, want it allowed", rt.pattern, role, resp.code, resp.body)
			}
		}
	}
	if checked < 60 {
		t.Errorf("checked %d forbidden (route, role) pairs; the table shrank?", checked)
	}
}

// TestCrossSite: a state-changing request from another site is refused
// before it reaches a handler, and changes nothing.
func TestCrossSite(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	key := e.keys["peroxide"]
	for name, h := range map[string]http.Header{
		"sec-fetch-site": {"Sec-Fetch-Site": {"cross-site"}},
		"origin":         {"Origin": {"http://evil.example"}},
		"same-site":      {"Sec-Fetch-Site": {"same-site"}, "Origin": {"http://sub.127.0.0.1"}},
	} {
		t.Run(name, func(t *testing.T) {
			resp := ivy.do("POST", "/api/alerts/"+key+"/actions", map[string]string{"action": "claim"}, h)
			if resp.code != http.StatusForbidden || resp.errorCode() != EFORBIDDEN {
				t.Errorf("cross-site API post: %d %s, want 403 EFORBIDDEN", resp.code, resp.body)
			}
			req, _ := http.NewRequest("POST", e.ts.URL+"/alerts/"+key+"/actions", strings.NewReader("action=claim"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range h {
				req.Header[k] = v
			}
			r, err := ivy.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r.Body.Close()
			if r.StatusCode != http.StatusForbidden {
				t.Errorf("cross-site form post: %d, want 403", r.StatusCode)
			}
		})
	}
	// A form post with no origin information at all is refused too.
	req, _ := http.NewRequest("POST", e.ts.URL+"/alerts/"+key+"/actions", strings.NewReader("action=claim"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r, err := ivy.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusForbidden {
		t.Errorf("form post without Origin: %d, want 403", r.StatusCode)
	}
	// A JSON API post must say it is JSON (a form cannot, cross-site).
	req, _ = http.NewRequest("POST", e.ts.URL+"/api/alerts/"+key+"/actions", strings.NewReader(`{"action":"claim"}`))
	req.Header.Set("Content-Type", "text/plain")
	r, err = ivy.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusBadRequest {
		t.Errorf("text/plain API post: %d, want 400", r.StatusCode)
	}
	// Login CSRF: a cross-site login form is refused.
	resp := e.anon().do("POST", "/login", nil, http.Header{"Sec-Fetch-Site": {"cross-site"}, "Content-Type": {"application/x-www-form-urlencoded"}})
	if resp.code != http.StatusForbidden {
		t.Errorf("cross-site login: %d, want 403", resp.code)
	}
	a, err := e.store.Alert(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if a.Assignee != "" || len(a.Timeline) != 0 {
		t.Errorf("alert changed by refused requests: assignee %q, timeline %v", a.Assignee, a.Timeline)
	}
}

// TestTriagePath walks an alert through the workflow over the API.
func TestTriagePath(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	key := e.keys["peroxide"]
	act := func(body map[string]string) precwatch.Alert {
		t.Helper()
		resp := ivy.do("POST", "/api/alerts/"+key+"/actions", body, nil)
		if resp.code != http.StatusOK {
			t.Fatalf("%v: %d %s", body, resp.code, resp.body)
		}
		var a precwatch.Alert
		resp.json(t, &a)
		return a
	}
	if a := act(map[string]string{"action": "claim"}); a.Assignee != "ivy" {
		t.Errorf("after claim, assignee %q, want ivy", a.Assignee)
	}
	if a := act(map[string]string{"action": "status", "status": "triaged"}); a.Status != precwatch.StatusTriaged {
		t.Errorf("status %s, want triaged", a.Status)
	}
	act(map[string]string{"action": "note", "text": "vendor also on chemshop"})
	a := act(map[string]string{"action": "status", "status": "escalated", "text": "over the limit, EU shipping"})
	if a.Status != precwatch.StatusEscalated {
		t.Errorf("status %s, want escalated", a.Status)
	}
	var got []string
	for _, te := range a.Timeline {
		if te.Actor != "ivy" || te.At.IsZero() {
			t.Errorf("timeline entry %+v: want actor ivy and a time", te)
		}
		got = append(got, te.Action+":"+te.To)
	}
	if want := []string{"claim:ivy", "status:triaged", "note:", "status:escalated"}; !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
	// new → escalated → new is not a transition.
	if resp := ivy.do("POST", "/api/alerts/"+key+"/actions", map[string]string{"action": "status", "status": "new"}, nil); resp.code != http.StatusBadRequest || resp.errorCode() != EINVALID {
		t.Errorf("escalated → new: %d %s, want 400 EINVALID", resp.code, resp.body)
	}
	// The queue finds it by status and assignee; the detail shows it.
	var page precwatch.AlertPage
	ivy.do("GET", "/api/alerts?status=escalated&assignee=ivy", nil, nil).json(t, &page)
	if page.Total != 1 || len(page.Alerts) != 1 || page.Alerts[0].Key != key {
		t.Errorf("escalated queue: total %d, %d alerts, want just %s", page.Total, len(page.Alerts), key)
	}
	// Every change is in the audit log, with its actor.
	var audit precwatch.AuditPage
	e.as(precwatch.RoleAdmin).do("GET", "/api/audit", nil, nil).json(t, &audit)
	var actions []string
	for _, en := range audit.Entries {
		if en.Target == "alert:"+key {
			if en.Actor != "ivy" {
				t.Errorf("audit %+v: actor %q, want ivy", en, en.Actor)
			}
			actions = append(actions, en.Action)
		}
	}
	if want := []string{"alert.status", "alert.note", "alert.status", "alert.claim"}; !slices.Equal(actions, want) {
		t.Errorf("audit actions (newest first) %v, want %v", actions, want)
	}
}

// TestDismissNeedsReason: dismissing without a reason is 400 EINVALID, and
// the alert stays as it was; with one, it is dismissed.
func TestDismissNeedsReason(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	key := e.keys["acetone"]
	for _, text := range []string{"", "   "} {
		resp := ivy.do("POST", "/api/alerts/"+key+"/actions", map[string]string{"action": "status", "status": "dismissed", "text": text}, nil)
		if resp.code != http.StatusBadRequest || resp.errorCode() != EINVALID {
			t.Errorf("dismiss with reason %q: %d %s, want 400 EINVALID", text, resp.code, resp.body)
		}
	}
	// The form shows the error on the page, with its code.
	resp := ivy.form("/alerts/"+key+"/actions", map[string][]string{"action": {"status"}, "status": {"dismissed"}})
	if resp.code != http.StatusBadRequest || !strings.Contains(string(resp.body), "EINVALID") || !strings.Contains(string(resp.body), "reason is required") {
		t.Errorf("form dismiss without reason: %d, want 400 with EINVALID and the message", resp.code)
	}
	if a, _ := e.store.Alert(context.Background(), key); a.Status != precwatch.StatusNew {
		t.Errorf("status %s after refused dismissals, want new", a.Status)
	}
	resp = ivy.form("/alerts/"+key+"/actions", map[string][]string{"action": {"status"}, "status": {"dismissed"}, "text": {"household solvent, legal"}})
	if resp.code != http.StatusSeeOther {
		t.Fatalf("form dismiss with reason: %d %s", resp.code, resp.body)
	}
	a, _ := e.store.Alert(context.Background(), key)
	if a.Status != precwatch.StatusDismissed || len(a.Timeline) != 1 || a.Timeline[0].Text != "household solvent, legal" {
		t.Errorf("after dismiss: status %s, timeline %+v", a.Status, a.Timeline)
	}
}

// TestStaleAction: two investigators open the same new alert and both
// claim it. The first claim takes; the second, made on the page that
// showed nobody, is refused (409 ECONFLICT on the page, naming who claimed
// it) instead of silently taking the alert over, and so is a reopen made
// on a page from before another's dismissal. The refused reason is kept.
func TestStaleAction(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hash, err := passwordHash()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateUser(ctx, precwatch.User{Name: "ian", Role: precwatch.RoleInvestigator, PasswordHash: hash, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	ivy := e.as(precwatch.RoleInvestigator)
	ian := e.anon()
	if resp := ian.do("POST", "/api/login", map[string]string{"name": "ian", "password": password}, nil); resp.code != http.StatusOK {
		t.Fatalf("login ian: %d %s", resp.code, resp.body)
	}
	key := e.keys["nitro"]
	path := "/alerts/" + key
	// Both pages post back what they showed.
	seen := func(c *client) map[string][]string {
		doc := c.page(t, path)
		form := doc.Find("#claim").Closest("form")
		st, ok1 := form.Find("input[name=seen_status]").Attr("value")
		as, ok2 := form.Find("input[name=seen_assignee]").Attr("value")
		if !ok1 || !ok2 {
			t.Fatal("the claim form does not send the state it showed")
		}
		return map[string][]string{"action": {"claim"}, "seen_status": {st}, "seen_assignee": {as}}
	}
	ivyForm, ianForm := seen(ivy), seen(ian)
	if resp := ivy.form(path+"/actions", ivyForm); resp.code != http.StatusSeeOther {
		t.Fatalf("ivy's claim: %d %s", resp.code, resp.body)
	}
	resp := ian.form(path+"/actions", ianForm)
	if resp.code != http.StatusConflict || !strings.Contains(string(resp.body), "ECONFLICT") || !strings.Contains(string(resp.body), "ivy claimed it") {
		t.Errorf("ian's stale claim: %d, want 409 ECONFLICT naming ivy:\n%.2000s", resp.code, resp.body)
	}
	a, err := e.store.Alert(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if a.Assignee != "ivy" || len(a.Timeline) != 1 {
		t.Errorf("after both claims: assignee %q, timeline %+v; want ivy's claim only", a.Assignee, a.Timeline)
	}
	// The page ian gets back shows ivy and offers to take over, on purpose.
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(resp.body))
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Find("#alert-assignee").Text(); got != "ivy" {
		t.Errorf("ian's page shows assignee %q, want ivy", got)
	}
	if got := strings.TrimSpace(doc.Find("#claim").Text()); got != "Take over" {
		t.Errorf("ian is offered %q, want Take over", got)
	}
	if resp := ian.form(path+"/actions", seen(ian)); resp.code != http.StatusSeeOther {
		t.Errorf("ian's take-over on the fresh page: %d %s", resp.code, resp.body)
	}

	// ivy dismisses; ian, on a page from before, tries to reopen it.
	stale := ian.page(t, path)
	dismiss := map[string][]string{"action": {"status"}, "status": {"dismissed"}, "text": {"hobby fuel at retail strength"},
		"seen_status": {"new"}, "seen_assignee": {"ian"}}
	if resp := ivy.form(path+"/actions", dismiss); resp.code != http.StatusSeeOther {
		t.Fatalf("ivy's dismissal: %d %s", resp.code, resp.body)
	}
	if stale.Find("#to-triaged").Length() != 1 {
		t.Fatal("the stale page offers no triage")
	}
	resp = ian.form(path+"/actions", map[string][]string{"action": {"status"}, "status": {"triaged"}, "seen_status": {"new"}, "seen_assignee": {"ian"}})
	if resp.code != http.StatusConflict || !strings.Contains(string(resp.body), "ivy moved it to dismissed") {
		t.Errorf("ian's stale triage: %d, want 409 naming ivy's dismissal", resp.code)
	}
	if a, _ := e.store.Alert(ctx, key); a.Status != precwatch.StatusDismissed {
		t.Errorf("status %s after the stale triage, want dismissed", a.Status)
	}
	// A refused dismissal keeps its reason: in the note box, as the alert
	// can no longer be dismissed.
	resp = ian.form(path+"/actions", map[string][]string{"action": {"status"}, "status": {"dismissed"}, "text": {"duplicate of case 17"}, "seen_status": {"new"}, "seen_assignee": {"ian"}})
	if resp.code != http.StatusConflict {
		t.Errorf("stale dismissal: %d, want 409", resp.code)
	} else if doc, err := goquery.NewDocumentFromReader(bytes.NewReader(resp.body)); err != nil || doc.Find("#note-text").Text() != "duplicate of case 17" || doc.Find("#dismiss-reason").Length() != 0 {
		t.Errorf("the refused reason is not offered again (err %v)", err)
	}
	// The refused action's page is at the form's URL: opening that URL
	// again leads to the alert, not to "no such page".
	if r := ian.do("GET", path+"/actions", nil, nil); r.code != http.StatusSeeOther || r.header.Get("Location") != path {
		t.Errorf("GET %s/actions: %d to %q, want 303 to %s", path, r.code, r.header.Get("Location"), path)
	}
	// The API takes the same view, as "seen".
	r := ian.do("POST", "/api/alerts/"+key+"/actions", map[string]any{"action": "unclaim", "seen": map[string]string{"status": "dismissed", "assignee": "nobody"}}, nil)
	if r.code != http.StatusConflict || r.errorCode() != ECONFLICT {
		t.Errorf("API stale unclaim: %d %s, want 409 ECONFLICT", r.code, r.body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	for _, path := range []string{"/login", "/alerts", "/alerts/" + e.keys["xss"], "/api/alerts", "/nowhere", "/api/alerts/nope"} {
		resp := ivy.do("GET", path, nil, nil)
		for k, want := range map[string]string{
			"Content-Security-Policy": "default-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
		} {
			if got := resp.header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", path, k, got, want)
			}
		}
	}
	if resp := ivy.do("GET", "/api/alerts/nope", nil, nil); resp.code != http.StatusNotFound || resp.errorCode() != ENOTFOUND {
		t.Errorf("unknown alert: %d %s, want 404 ENOTFOUND", resp.code, resp.body)
	}
}

func TestQueueFilters(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{"peroxide2", "peroxide", "xss", "nitro", "acetone"}},
		{"severity=high", []string{"peroxide2", "peroxide"}},
		{"site=chemshop", []string{"peroxide2", "acetone"}},
		{"vendor=fuelking", []string{"nitro"}},
		{"substance=nitromethane&regime=eu-2019-1148-annex-i", []string{"xss", "nitro"}},
		{"q=acetone", []string{"acetone"}},
		{"q=canister+tracked", []string{"peroxide"}},
		{"since=2026-03-02", nil},
		{"until=2026-03-01", []string{"peroxide2", "peroxide", "xss", "nitro", "acetone"}},
		{"limit=2&offset=2", []string{"xss", "nitro"}},
	} {
		var page precwatch.AlertPage
		resp := ivy.do("GET", "/api/alerts?"+c.query, nil, nil)
		if resp.code != http.StatusOK {
			t.Errorf("%s: %d %s", c.query, resp.code, resp.body)
			continue
		}
		resp.json(t, &page)
		var got []string
		for _, a := range page.Alerts {
			for n, k := range e.keys {
				if k == a.Key {
					got = append(got, n)
				}
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.query, got, c.want)
		}
		if wantTotal := len(c.want); c.query == "limit=2&offset=2" {
			if page.Total != 5 {
				t.Errorf("%s: total %d, want 5", c.query, page.Total)
			}
		} else if page.Total != wantTotal {
			t.Errorf("%s: total %d, want %d", c.query, page.Total, wantTotal)
		}
	}
	for _, bad := range []string{"severity=extreme", "status=closed", "since=yesterday", "limit=0", "limit=501", "offset=-1"} {
		if resp := ivy.do("GET", "/api/alerts?"+bad, nil, nil); resp.code != http.StatusBadRequest || resp.errorCode() != EINVALID {
			t.Errorf("%s: %d %s, want 400 EINVALID", bad, resp.code, resp.body)
		}
	}
}

func TestPageDownload(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	resp := ivy.do("GET", "/api/alerts/"+e.keys["xss"]+"/page", nil, nil)
	if resp.code != http.StatusOK {
		t.Fatalf("%d %s", resp.code, resp.body)
	}
	for k, want := range map[string]string{
		"Content-Type":            "application/octet-stream",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "sandbox; default-src 'none'",
	} {
		if got := resp.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if cd := resp.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".html.txt") {
		t.Errorf("Content-Disposition %q, want an attachment named .html.txt", cd)
	}
	a, _ := e.store.Alert(context.Background(), e.keys["xss"])
	h := sha256.Sum256(resp.body)
	if got := hex.EncodeToString(h[:]); got != a.Listing.PageSHA256 {
		t.Errorf("downloaded page hashes to %s, want %s", got, a.Listing.PageSHA256)
	}
}

// TestPageSource: the stored page shown in the console is its source as
// escaped text, under the console's own CSP, audited like a download; a
// page over the limit is cut, saying so.
func TestPageSource(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ivy := e.as(precwatch.RoleInvestigator)
	doc := ivy.page(t, "/alerts/"+e.keys["xss"]+"/page")
	onlyOwnScripts(t, "stored page", doc)
	if got := doc.Find("#page-source").Text(); !strings.Contains(got, "<script>window.__pwned=1</script>") {
		t.Errorf("source shown as %q", got)
	}
	if doc.Find("#page-source script").Length() != 0 || doc.Find("#source-truncated").Length() != 0 {
		t.Error("the source is rendered, or said to be cut")
	}
	audit, _ := e.store.Audit(ctx, 1)
	if len(audit) != 1 || audit[0].Action != "evidence.page.view" || audit[0].Actor != "ivy" || audit[0].Target != "alert:"+e.keys["xss"] {
		t.Errorf("audit %+v", audit)
	}
	// A page over 512 KiB, with bytes that are not UTF-8.
	body := append([]byte("<html><body>\xff\xfe"), bytes.Repeat([]byte("Nitromethane 1 L. "), 40000)...)
	h := sha256.Sum256(body)
	sum := hex.EncodeToString(h[:])
	if err := e.store.SavePage(ctx, precwatch.Page{SHA256: sum, Site: "chemshop", URL: "http://chemshop.test/big", FetchedAt: t0, Body: body}); err != nil {
		t.Fatal(err)
	}
	l := precwatch.Listing{Site: "chemshop", ID: "big", URL: "http://chemshop.test/big", Title: "Nitromethane 1 L", FetchedAt: t0, PageSHA256: sum}
	m := precwatch.Match{Substance: "nitromethane", Name: "Nitromethane", Regime: precwatch.RegimeEUAnnexI, Severity: precwatch.SeverityMedium, Term: "nitromethane", Kind: "name", Field: "title", Start: 0, End: 12, Text: "Nitromethane"}
	res, err := e.store.Record(ctx, precwatch.Observation{Listing: l, Matches: []precwatch.Match{m}, RunID: "run-2", At: t0})
	if err != nil || len(res.NewAlerts) != 1 {
		t.Fatalf("record: %v", err)
	}
	doc = ivy.page(t, "/alerts/"+res.NewAlerts[0]+"/page")
	if got := len(doc.Find("#page-source").Text()); doc.Find("#source-truncated").Length() != 1 || got < 500<<10 || got > 513<<10 {
		t.Errorf("a %d-byte page: %d bytes shown, truncation said %d times", len(body), got, doc.Find("#source-truncated").Length())
	}
	if resp := ivy.do("GET", "/alerts/nope/page", nil, nil); resp.code != http.StatusNotFound {
		t.Errorf("unknown alert: %d", resp.code)
	}
}

func TestExport(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	resp := ivy.do("GET", "/api/export?format=csv&key="+e.keys["peroxide"]+"&key="+e.keys["acetone"], nil, nil)
	if resp.code != http.StatusOK || !strings.HasPrefix(resp.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", resp.code, resp.header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(bytes.NewReader(resp.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want header and 2", len(rows))
	}
	col := func(name string) int { return slices.Index(rows[0], name) }
	if got := rows[1][col("key")]; got != e.keys["peroxide"] {
		t.Errorf("first row key %s, want the peroxide alert", got)
	}
	if got, want := rows[1][col("vendor")], "'=cmd|' /C calc'!A0"; got != want {
		t.Errorf("vendor cell %q, want %q (defused)", got, want)
	}
	// The strength, limit and quantity are columns of their own, not only
	// words in the reasons; acetone (no limit) leaves them empty.
	for name, want := range map[string][2]string{
		"strength_percent": {"35", ""}, "limit_percent": {"12", ""}, "over_limit": {"true", ""}, "quantity": {"5 L", ""},
		"matched_terms": {"hydrogen peroxide", "acetone"},
	} {
		if c := col(name); c < 0 || rows[1][c] != want[0] || rows[2][c] != want[1] {
			t.Errorf("column %s (at %d): %q", name, c, rows)
		}
	}
	for _, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("cell %q starts a formula", cell)
			}
		}
	}
	// The audit log counts in words that agree with the number.
	if resp := ivy.do("GET", "/api/export?format=csv&key="+e.keys["nitro"], nil, nil); resp.code != http.StatusOK {
		t.Fatalf("export of one alert: %d", resp.code)
	}
	var audit struct{ Entries []precwatch.AuditEntry }
	e.as(precwatch.RoleAdmin).do("GET", "/api/audit?action=alerts.export", nil, nil).json(t, &audit)
	var details []string
	for _, a := range audit.Entries {
		details = append(details, a.Detail)
	}
	if !slices.Equal(details, []string{"csv, 1 alert", "csv, 2 alerts"}) {
		t.Errorf("export audit entries %q", details)
	}
	// JSON of the current filter.
	resp = ivy.do("GET", "/api/export?format=json&severity=high", nil, nil)
	var as []precwatch.Alert
	resp.json(t, &as)
	if len(as) != 2 || as[0].Severity != precwatch.SeverityHigh {
		t.Errorf("json export of severity=high: %d alerts", len(as))
	}
	if resp := ivy.do("GET", "/api/export?format=xml", nil, nil); resp.code != http.StatusBadRequest {
		t.Errorf("format=xml: %d, want 400", resp.code)
	}
}

func TestEvidenceBundle(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	key := e.keys["peroxide"]
	resp := ivy.do("GET", "/api/alerts/"+key+"/bundle.zip", nil, nil)
	if resp.code != http.StatusOK || resp.header.Get("Content-Type") != "application/zip" {
		t.Fatalf("%d %s", resp.code, resp.header.Get("Content-Type"))
	}
	zr, err := zip.NewReader(bytes.NewReader(resp.body), int64(len(resp.body)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	for _, n := range []string{"listing.json", "page.html.txt", "manifest.json"} {
		if _, ok := files[n]; !ok {
			t.Errorf("bundle lacks %s", n)
		}
	}
	var m struct {
		AlertKey string `json:"alert_key"`
		Files    []manifestFile
		Page     struct {
			SHA256 string `json:"sha256"`
		}
		ListingFetchedAt time.Time `json:"listing_fetched_at"`
		Fetches          []bundleFetch
	}
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	if m.AlertKey != key || !m.ListingFetchedAt.Equal(t0) {
		t.Errorf("manifest %+v", m)
	}
	// A page kept before fetch records: its legacy fetch, with the body.
	if len(m.Fetches) != 1 || !m.Fetches[0].Legacy || !m.Fetches[0].FetchedAt.Equal(t0) || m.Fetches[0].BodySHA256 != m.Page.SHA256 {
		t.Errorf("manifest fetches %+v, want the page's legacy fetch", m.Fetches)
	}
	if len(m.Files) != 3 {
		t.Errorf("manifest lists %d files, want 3", len(m.Files))
	}
	for _, f := range m.Files {
		h := sha256.Sum256(files[f.Name])
		if hex.EncodeToString(h[:]) != f.SHA256 {
			t.Errorf("manifest sha256 of %s does not match the file", f.Name)
		}
	}
	if h := sha256.Sum256(files["page.html.txt"]); hex.EncodeToString(h[:]) != m.Page.SHA256 {
		t.Errorf("page.html.txt is not the stored page")
	}
	var lj struct {
		Alert   precwatch.Alert
		Listing precwatch.ListingState
	}
	if err := json.Unmarshal(files["listing.json"], &lj); err != nil || lj.Alert.Key != key || lj.Listing.Listing.Title == "" {
		t.Errorf("listing.json: %v %+v", err, lj)
	}
}

func TestWatchlistAPI(t *testing.T) {
	e := newEnv(t)
	ana := e.as(precwatch.RoleAnalyst)
	var cur struct {
		Version   int
		Watchlist precwatch.Watchlist
	}
	ana.do("GET", "/api/watchlist", nil, nil).json(t, &cur)
	if len(cur.Watchlist.Substances) != 3 || cur.Version != 0 {
		t.Fatalf("active watchlist: version %d, %d substances", cur.Version, len(cur.Watchlist.Substances))
	}
	bad := cur.Watchlist
	bad.Substances = slices.Clone(bad.Substances)
	bad.Substances[1].Synonyms = []string{"ok term", "x"}
	var v struct {
		Valid  bool
		Errors []FieldError
	}
	ana.do("POST", "/api/watchlist/validate", bad, nil).json(t, &v)
	if v.Valid || len(v.Errors) != 1 || v.Errors[0].Field != "substances[1].synonyms[1]" {
		t.Errorf("validate: %+v", v)
	}
	if resp := ana.do("POST", "/api/watchlist", map[string]any{"watchlist": bad, "comment": "x"}, nil); resp.code != http.StatusBadRequest || resp.errorCode() != EINVALID {
		t.Errorf("apply invalid: %d %s", resp.code, resp.body)
	}
	good := cur.Watchlist
	good.Substances = slices.Clone(good.Substances)
	good.Substances[1].Synonyms = []string{"solvent"} // finds the acetone listing
	good.Substances[2].Synonyms = nil                 // propanone: in no listing
	var p Preview
	ana.do("POST", "/api/watchlist/preview", good, nil).json(t, &p)
	if p.Listings != 5 || len(p.Added) != 1 || p.Added[0].Term != "solvent" || len(p.Removed) != 0 {
		t.Errorf("preview: %+v", p)
	}
	if resp := ana.do("POST", "/api/watchlist", map[string]any{"watchlist": good}, nil); resp.code != http.StatusBadRequest {
		t.Errorf("apply without comment: %d", resp.code)
	}
	var saved struct{ Version int }
	ana.do("POST", "/api/watchlist", map[string]any{"watchlist": cur.Watchlist, "comment": "baseline"}, nil).json(t, &saved)
	ana.do("POST", "/api/watchlist", map[string]any{"watchlist": good, "comment": "solvent as synonym", "base_version": 1}, nil).json(t, &saved)
	if saved.Version != 2 {
		t.Fatalf("saved version %d, want 2", saved.Version)
	}
	if resp := ana.do("POST", "/api/watchlist", map[string]any{"watchlist": good, "comment": "stale", "base_version": 1}, nil); resp.code != http.StatusConflict || resp.errorCode() != ECONFLICT {
		t.Errorf("apply on a stale base: %d %s, want 409 ECONFLICT", resp.code, resp.body)
	}
	var ver versionView
	ana.do("GET", "/api/watchlist/versions/2", nil, nil).json(t, &ver)
	if len(ver.Diff) != 2 || ver.Diff[0].ID != "nitromethane" || !slices.Equal(ver.Diff[0].Added, []string{"synonym: solvent"}) || ver.Diff[0].Removed != nil ||
		ver.Diff[1].ID != "acetone" || ver.Diff[1].Added != nil || !slices.Equal(ver.Diff[1].Removed, []string{"synonym: propanone"}) {
		t.Errorf("diff of version 2: %+v", ver.Diff)
	}
	ana.do("POST", "/api/watchlist/versions/1/rollback", nil, nil).json(t, &saved)
	var after struct {
		Version   int
		Watchlist precwatch.Watchlist
	}
	ana.do("GET", "/api/watchlist", nil, nil).json(t, &after)
	if saved.Version != 3 || after.Version != 3 || !slices.Equal(after.Watchlist.Substances[2].Synonyms, []string{"propanone"}) || after.Watchlist.Substances[1].Synonyms != nil {
		t.Errorf("after rollback: version %d, substances %+v", after.Version, after.Watchlist.Substances)
	}
	var vs []precwatch.WatchlistVersion
	ana.do("GET", "/api/watchlist/versions", nil, nil).json(t, &vs)
	if len(vs) != 3 || vs[0].Comment != "rollback to version 1" || vs[0].Author != "ana" {
		t.Errorf("versions: %+v", vs)
	}
}

func TestSitesAPI(t *testing.T) {
	e := newEnv(t)
	otto := e.as(precwatch.RoleOperator)
	var rows []siteRow
	otto.do("GET", "/api/sites", nil, nil).json(t, &rows)
	if len(rows) != 3 {
		t.Fatalf("%d sites, want 3", len(rows))
	}
	by := map[string]siteRow{}
	for _, r := range rows {
		by[r.Name] = r
	}
	if r := by["silkvault"]; r.ProxyOK == nil || !*r.ProxyOK || r.LastRun == nil || r.LastRun.Pages != 12 || !r.Tor {
		t.Errorf("silkvault: %+v", r)
	}
	if r := by["offline"]; r.ProxyOK == nil || *r.ProxyOK || strings.Contains(r.Proxy, "secret") {
		t.Errorf("offline: proxy %q ok %v: want down, credentials hidden", r.Proxy, r.ProxyOK)
	}
	if r := by["chemshop"]; r.ProxyOK != nil || r.LastRun == nil || r.LastRun.Status != precwatch.RunOK {
		t.Errorf("chemshop (direct): %+v", r)
	}
	if resp := otto.do("POST", "/api/sites/chemshop/pause", nil, nil); resp.code != http.StatusNoContent {
		t.Fatalf("pause: %d %s", resp.code, resp.body)
	}
	st, _ := e.store.SiteStates(context.Background())
	if !st["chemshop"].Paused || st["chemshop"].By != "otto" {
		t.Errorf("site state after pause: %+v", st["chemshop"])
	}
	otto.do("POST", "/api/sites/chemshop/resume", nil, nil)
	if st, _ := e.store.SiteStates(context.Background()); st["chemshop"].Paused {
		t.Errorf("still paused after resume")
	}
	if resp := otto.do("POST", "/api/sites/chemshop/start", nil, nil); resp.code != http.StatusNoContent {
		t.Errorf("start: %d %s", resp.code, resp.body)
	}
	if resp := otto.do("POST", "/api/sites/chemshop/start", nil, nil); resp.code != http.StatusConflict || resp.errorCode() != ECONFLICT {
		t.Errorf("second start: %d %s, want 409 ECONFLICT", resp.code, resp.body)
	}
	if resp := otto.do("POST", "/api/sites/nowhere/start", nil, nil); resp.code != http.StatusNotFound {
		t.Errorf("unknown site: %d, want 404", resp.code)
	}
	var runs []precwatch.Run
	otto.do("GET", "/api/sites/silkvault/runs", nil, nil).json(t, &runs)
	if len(runs) != 1 || len(runs[0].Errors) != 1 {
		t.Errorf("runs: %+v", runs)
	}
}

func TestSessions(t *testing.T) {
	e := newEnv(t)
	c := e.anon()
	if resp := c.do("POST", "/api/login", map[string]string{"name": "ivy", "password": "wrong password"}, nil); resp.code != http.StatusUnauthorized || resp.errorCode() != EUNAUTHORIZED {
		t.Errorf("wrong password: %d %s", resp.code, resp.body)
	}
	if resp := c.do("POST", "/api/login", map[string]string{"name": "nobody", "password": password}, nil); resp.code != http.StatusUnauthorized {
		t.Errorf("unknown user: %d", resp.code)
	}
	resp := c.do("POST", "/api/login", map[string]string{"name": "ivy", "password": password}, nil)
	var cookie *http.Cookie
	for _, ck := range (&http.Response{Header: resp.header}).Cookies() {
		if ck.Name == "precwatch_session" {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.MaxAge != 12*3600 || len(cookie.Value) < 43 {
		t.Fatalf("session cookie %+v", cookie)
	}
	// The store keeps the token's hash, never the token.
	if _, err := e.store.Session(context.Background(), cookie.Value, time.Now()); err == nil {
		t.Errorf("the store knows the raw token")
	}
	sess, err := e.store.Session(context.Background(), sessionID(cookie.Value), time.Now())
	if err != nil || sess.User != "ivy" {
		t.Errorf("stored session: %+v %v", sess, err)
	}
	if resp := c.do("GET", "/api/me", nil, nil); resp.code != http.StatusOK || !strings.Contains(string(resp.body), `"investigator"`) {
		t.Errorf("me: %d %s", resp.code, resp.body)
	}
	// Twelve hours later the session has expired.
	later, err := New(Options{Store: e.store, Now: func() time.Time { return time.Now().Add(sessionTTL + time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "/api/me", nil)
	req.AddCookie(cookie)
	rec := newRecorder()
	later.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("after 12h: %d, want 401", rec.Code)
	}
	// Disabling an account ends its sessions at once.
	setDisabled := func(v bool) {
		t.Helper()
		if err := e.store.UpdateUser(context.Background(), "ivy", func(u *precwatch.User, _ []precwatch.User) error {
			u.Disabled = v
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	setDisabled(true)
	if resp := c.do("GET", "/api/me", nil, nil); resp.code != http.StatusUnauthorized {
		t.Errorf("disabled user: %d, want 401", resp.code)
	}
	setDisabled(false)
	if resp := c.do("POST", "/api/logout", nil, nil); resp.code != http.StatusNoContent {
		t.Errorf("logout: %d", resp.code)
	}
	if resp := c.do("GET", "/api/me", nil, nil); resp.code != http.StatusUnauthorized {
		t.Errorf("after logout: %d, want 401", resp.code)
	}
	// The old cookie is dead on the server, not only in the jar.
	req, _ = http.NewRequest("GET", "/api/me", nil)
	req.AddCookie(cookie)
	rec = newRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("replayed cookie after logout: %d, want 401", rec.Code)
	}
	// A page redirects to the login, keeping where the user was going.
	resp = e.anon().do("GET", "/alerts?severity=high", nil, nil)
	if loc := resp.header.Get("Location"); resp.code != http.StatusSeeOther || loc != "/login?next="+url.QueryEscape("/alerts?severity=high") {
		t.Errorf("page without session: %d to %q", resp.code, loc)
	}
	// The form login goes to the page asked for, and never off the console.
	c = e.anon()
	resp = c.form("/login", map[string][]string{"name": {"ivy"}, "password": {password}, "next": {"//evil.example/x"}})
	if loc := resp.header.Get("Location"); resp.code != http.StatusSeeOther || loc != "/alerts" {
		t.Errorf("login with an off-site next: %d to %q, want /alerts", resp.code, loc)
	}
}

func TestHashPassword(t *testing.T) {
	if _, err := HashPassword("short"); err == nil {
		t.Error("a 5-character password was accepted")
	}
	h, err := HashPassword("long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$2a$12$") {
		t.Errorf("hash %q, want bcrypt at cost 12", h)
	}
}

func TestUsersAdmin(t *testing.T) {
	e := newEnv(t)
	adam := e.as(precwatch.RoleAdmin)
	if resp := adam.do("POST", "/api/users", map[string]string{"name": "nina", "role": "analyst", "password": "another long one"}, nil); resp.code != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.code, resp.body)
	}
	if resp := adam.do("POST", "/api/users", map[string]string{"name": "nina", "role": "analyst", "password": "another long one"}, nil); resp.code != http.StatusConflict {
		t.Errorf("duplicate: %d, want 409", resp.code)
	}
	if resp := adam.do("POST", "/api/users", map[string]string{"name": "olga", "role": "boss", "password": "another long one"}, nil); resp.code != http.StatusBadRequest {
		t.Errorf("unknown role: %d, want 400", resp.code)
	}
	if resp := adam.do("GET", "/api/users", nil, nil); strings.Contains(string(resp.body), "$2a$") {
		t.Errorf("the users API shows password hashes")
	}
	c := e.anon()
	if resp := c.do("POST", "/api/login", map[string]string{"name": "nina", "password": "another long one"}, nil); resp.code != http.StatusOK {
		t.Errorf("new user login: %d", resp.code)
	}
	doc := adam.page(t, "/admin/audit")
	if got := doc.Find("#audit tbody tr").First().Text(); !strings.Contains(got, "login") || !strings.Contains(got, "nina") {
		t.Errorf("newest audit entry %q, want nina's login", got)
	}
	if !strings.Contains(doc.Find("#audit").Text(), "user.create") {
		t.Error("the audit page lacks the account creation")
	}
}

// TestUserChanges: an admin disables and enables an account, changes its
// role and sets its password, through the API and the page's forms; a
// disabled account and a session opened before a new password stop
// working at once; an admin cannot lock the console out of admins.
func TestUserChanges(t *testing.T) {
	e := newEnv(t)
	adam := e.as(precwatch.RoleAdmin)
	ivy := e.as(precwatch.RoleInvestigator)
	if resp := ivy.do("GET", "/api/me", nil, nil); resp.code != http.StatusOK {
		t.Fatalf("ivy before: %d", resp.code)
	}
	if resp := ivy.do("POST", "/api/users/ana", map[string]any{"disabled": true}, nil); resp.code != http.StatusForbidden {
		t.Errorf("investigator changing a user: %d, want 403", resp.code)
	}

	// Disable: ivy's open session ends, and she cannot sign in again.
	resp := adam.do("POST", "/api/users/ivy", map[string]any{"disabled": true}, nil)
	var view struct{ Disabled bool }
	if resp.json(t, &view); resp.code != http.StatusOK || !view.Disabled {
		t.Fatalf("disable: %d %s", resp.code, resp.body)
	}
	if resp := ivy.do("GET", "/api/me", nil, nil); resp.code != http.StatusUnauthorized {
		t.Errorf("disabled user's session: %d, want 401", resp.code)
	}
	if resp := e.anon().do("POST", "/api/login", map[string]string{"name": "ivy", "password": password}, nil); resp.code != http.StatusUnauthorized {
		t.Errorf("disabled user's login: %d, want 401", resp.code)
	}
	// Enable through the page's form.
	if resp := adam.form("/admin/users/ivy", map[string][]string{"op": {"enable"}}); resp.code != http.StatusSeeOther {
		t.Fatalf("enable form: %d %s", resp.code, resp.body)
	}
	ivy = e.as(precwatch.RoleInvestigator)

	// A new password ends the sessions opened before it.
	const newPassword = "a brand new passphrase"
	if resp := adam.form("/admin/users/ivy", map[string][]string{"op": {"password"}, "password": {"short"}}); resp.code != http.StatusBadRequest {
		t.Errorf("short password: %d, want 400", resp.code)
	}
	if resp := adam.form("/admin/users/ivy", map[string][]string{"op": {"password"}, "password": {newPassword}}); resp.code != http.StatusSeeOther {
		t.Fatalf("password form: %d %s", resp.code, resp.body)
	}
	if resp := ivy.do("GET", "/api/me", nil, nil); resp.code != http.StatusUnauthorized {
		t.Errorf("session from before the new password: %d, want 401", resp.code)
	}
	if resp := e.anon().do("POST", "/api/login", map[string]string{"name": "ivy", "password": password}, nil); resp.code != http.StatusUnauthorized {
		t.Errorf("old password: %d, want 401", resp.code)
	}
	fresh := e.anon()
	if resp := fresh.do("POST", "/api/login", map[string]string{"name": "ivy", "password": newPassword}, nil); resp.code != http.StatusOK {
		t.Fatalf("new password: %d %s", resp.code, resp.body)
	}
	if resp := fresh.do("GET", "/api/me", nil, nil); resp.code != http.StatusOK {
		t.Errorf("session after the new password: %d", resp.code)
	}

	// Role change takes effect on the next request.
	if resp := adam.do("POST", "/api/users/ivy", map[string]any{"role": "analyst"}, nil); resp.code != http.StatusOK {
		t.Fatalf("role: %d %s", resp.code, resp.body)
	}
	if resp := fresh.do("GET", "/api/alerts", nil, nil); resp.code != http.StatusForbidden {
		t.Errorf("alerts as the new analyst: %d, want 403", resp.code)
	}
	if resp := fresh.do("GET", "/api/watchlist", nil, nil); resp.code != http.StatusOK {
		t.Errorf("watchlist as the new analyst: %d, want 200", resp.code)
	}

	// No lock-out: not one's own account, not the last admin.
	if resp := adam.do("POST", "/api/users/adam", map[string]any{"disabled": true}, nil); resp.code != http.StatusBadRequest {
		t.Errorf("disabling oneself: %d, want 400", resp.code)
	}
	if resp := adam.do("POST", "/api/users", map[string]string{"name": "zoe", "role": "admin", "password": "another long one"}, nil); resp.code != http.StatusCreated {
		t.Fatalf("second admin: %d", resp.code)
	}
	zoe := e.anon()
	if resp := zoe.do("POST", "/api/login", map[string]string{"name": "zoe", "password": "another long one"}, nil); resp.code != http.StatusOK {
		t.Fatalf("zoe login: %d", resp.code)
	}
	if resp := zoe.do("POST", "/api/users/adam", map[string]any{"role": "analyst"}, nil); resp.code != http.StatusOK {
		t.Errorf("demoting another admin: %d %s", resp.code, resp.body)
	}
	if resp := zoe.do("POST", "/api/users/zoe", map[string]any{"role": "analyst"}, nil); resp.code != http.StatusBadRequest {
		t.Errorf("demoting oneself, the last admin: %d, want 400", resp.code)
	}
	if resp := zoe.do("POST", "/api/users/nobody", map[string]any{"disabled": true}, nil); resp.code != http.StatusNotFound {
		t.Errorf("unknown user: %d, want 404", resp.code)
	}
	if resp := zoe.do("POST", "/api/users/ivy", map[string]any{}, nil); resp.code != http.StatusBadRequest {
		t.Errorf("empty change: %d, want 400", resp.code)
	}

	doc := zoe.page(t, "/admin/audit")
	audit := doc.Find("#audit").Text()
	for _, want := range []string{"user.disable", "user.enable", "user.password", "user.role"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit log lacks %s", want)
		}
	}
	if strings.Contains(audit, newPassword) {
		t.Error("the audit log shows a password")
	}
}

// TestWithoutCollaborators: with no scheduler the sites come from the
// stored runs, read-only; with no watchlist service its pages say so.
func TestWithoutCollaborators(t *testing.T) {
	e := newEnv(t)
	srv, err := New(Options{Store: e.store})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.ts.Config.Handler = srv.Handler()
	otto := e.as(precwatch.RoleOperator)
	var rows []siteRow
	otto.do("GET", "/api/sites", nil, nil).json(t, &rows)
	if len(rows) != 2 || rows[0].Name != "chemshop" || rows[1].Name != "silkvault" || rows[1].LastRun == nil {
		t.Errorf("sites from runs: %+v", rows)
	}
	if resp := otto.do("POST", "/api/sites/chemshop/pause", nil, nil); resp.code != http.StatusBadRequest || resp.errorCode() != EINVALID {
		t.Errorf("pause without a scheduler: %d %s", resp.code, resp.body)
	}
	if doc := otto.page(t, "/sites"); doc.Find("td.controls form").Length() != 0 {
		t.Error("read-only sites page offers controls")
	}
	ana := e.as(precwatch.RoleAnalyst)
	if resp := ana.do("GET", "/api/watchlist", nil, nil); resp.code != http.StatusNotFound || resp.errorCode() != ENOTFOUND {
		t.Errorf("watchlist without a service: %d %s", resp.code, resp.body)
	}
}
