package console

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// TestSiteSession: operators import and clear a site's cookies on its
// page; names and expiry are shown, values never (page, API, audit, errors).
func TestSiteSession(t *testing.T) {
	e := newEnv(t)
	otto := e.as(precwatch.RoleOperator)
	const secret = "con-s3cret-value"
	noSecret := func(where string, b []byte) {
		t.Helper()
		if strings.Contains(string(b), secret) || strings.Contains(string(b), "txt-s3cret") {
			t.Errorf("%s shows a cookie value", where)
		}
	}
	if doc := otto.page(t, "/sites/silkvault"); doc.Find("#no-session").Length() != 1 || doc.Find("form#session-import").Length() != 1 {
		t.Fatal("site page: no empty session notice or no import form")
	}

	// Not for other roles, not cross-origin.
	for _, role := range []precwatch.Role{precwatch.RoleInvestigator, precwatch.RoleAnalyst} {
		if resp := e.as(role).form("/sites/silkvault/session", map[string][]string{"format": {"header"}, "cookies": {"sid=" + secret}}); resp.code != http.StatusForbidden {
			t.Errorf("%s import: %d, want 403", role, resp.code)
		}
	}
	req, _ := http.NewRequest("POST", e.ts.URL+"/sites/silkvault/session", strings.NewReader("format=header&cookies=sid%3D"+secret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	if resp, err := otto.http.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin import: %v %v, want 403", resp.StatusCode, err)
	}
	if _, err := e.store.SiteSession(context.Background(), "silkvault"); err == nil {
		t.Fatal("a refused import was saved")
	}

	resp := otto.form("/sites/silkvault/session", map[string][]string{"format": {"header"}, "cookies": {"Cookie: sid=" + secret + "; lang=en"}})
	if resp.code != http.StatusSeeOther || resp.header.Get("Location") != "/sites/silkvault?imported=2" {
		t.Fatalf("import: %d %s %s", resp.code, resp.header.Get("Location"), resp.body)
	}
	ss, err := e.store.SiteSession(context.Background(), "silkvault")
	if err != nil || len(ss.Cookies) != 2 || ss.Cookies[0].Value != secret || ss.Cookies[0].Domain != "silkvault.onion" || ss.By != "otto" {
		t.Fatalf("stored session: %v %v", ss, err)
	}
	page := otto.do("GET", "/sites/silkvault?imported=2", nil, nil)
	noSecret("site page", page.body)
	doc := otto.page(t, "/sites/silkvault?imported=2")
	if got := doc.Find("#cookies tbody tr").Length(); got != 2 {
		t.Errorf("%d cookie rows, want 2", got)
	}
	if txt := doc.Find("#cookies").Text(); !strings.Contains(txt, "sid") || !strings.Contains(txt, "lang") || !strings.Contains(txt, "end of session") {
		t.Errorf("cookie table: %s", txt)
	}
	if doc.Find("#imported").Length() != 1 || doc.Find("form#session-clear").Length() != 1 {
		t.Error("no import notice or clear form")
	}
	api := otto.do("GET", "/api/sites/silkvault/session", nil, nil)
	noSecret("session API", api.body)
	var info struct {
		Cookies []map[string]any `json:"cookies"`
	}
	api.json(t, &info)
	if api.code != http.StatusOK || len(info.Cookies) != 2 || info.Cookies[0]["name"] != "sid" || info.Cookies[0]["value"] != nil {
		t.Errorf("session API: %d %s", api.code, api.body)
	}

	// A cookies.txt export through the API; a bad one names its line.
	exp := time.Now().Add(time.Hour).Unix()
	txt := fmt.Sprintf("# Netscape HTTP Cookie File\n.silkvault.onion\tTRUE\t/\tFALSE\t%d\tsid\ttxt-s3cret\n", exp)
	if r := otto.do("POST", "/api/sites/silkvault/session", map[string]string{"format": "cookies.txt", "text": txt}, nil); r.code != http.StatusOK {
		t.Errorf("API import: %d %s", r.code, r.body)
	}
	bad := otto.do("POST", "/api/sites/silkvault/session", map[string]string{"format": "cookies.txt", "text": txt + "silkvault.onion\tFALSE\t/\n"}, nil)
	if bad.code != http.StatusBadRequest || !strings.Contains(string(bad.body), "line 3") {
		t.Errorf("bad cookies.txt: %d %s", bad.code, bad.body)
	}
	noSecret("error answer", bad.body)
	badForm := otto.form("/sites/silkvault/session", map[string][]string{"format": {"header"}, "cookies": {"a=1; " + secret}})
	if badForm.code != http.StatusBadRequest || !strings.Contains(string(badForm.body), "cookie 2 has no") {
		t.Errorf("bad header form: %d", badForm.code)
	}
	noSecret("error page", badForm.body)

	if r := otto.form("/sites/silkvault/session/clear", nil); r.code != http.StatusSeeOther {
		t.Fatalf("clear: %d %s", r.code, r.body)
	}
	if doc := otto.page(t, "/sites/silkvault?cleared=1"); doc.Find("#no-session").Length() != 1 || doc.Find("#cleared").Length() != 1 {
		t.Error("session still shown after clear")
	}
	audit := e.as(precwatch.RoleAdmin).do("GET", "/api/audit", nil, nil)
	noSecret("audit log", audit.body)
	for _, want := range []string{"site.session_import", "site.session_clear"} {
		if !strings.Contains(string(audit.body), want) {
			t.Errorf("audit log has no %s", want)
		}
	}
}

// TestBlockedRunShown: a blocked run's class, reason and evidence hash are
// on the site and sites pages.
func TestBlockedRunShown(t *testing.T) {
	e := newEnv(t)
	sha := strings.Repeat("ab", 32)
	run := precwatch.Run{ID: "run-9", Site: "chemshop", Start: t0.Add(time.Hour), End: t0.Add(time.Hour + time.Minute), Status: precwatch.RunBlocked, Pages: 1,
		Block: &precwatch.RunBlock{Class: precwatch.PageCaptcha, Reason: "built-in: a captcha form", URL: "http://chemshop.test/", PageSHA256: sha}}
	if err := e.store.SaveRun(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	otto := e.as(precwatch.RoleOperator)
	doc := otto.page(t, "/sites/chemshop")
	cell := doc.Find("#runs tbody tr").First().Text()
	for _, want := range []string{"blocked", "captcha", "a captcha form", sha[:12]} {
		if !strings.Contains(cell, want) {
			t.Errorf("run row %q lacks %q", cell, want)
		}
	}
	if doc.Find("#runs .run-blocked").Length() != 1 {
		t.Error("no run-blocked class")
	}
	if txt := otto.page(t, "/sites").Find("#site-chemshop").Text(); !strings.Contains(txt, "blocked") || !strings.Contains(txt, "captcha") {
		t.Errorf("sites row: %s", txt)
	}
}
