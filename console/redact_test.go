package console

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/precwatch/precwatch"
)

// TestRunRecordsRedacted: a run record written before the crawler redacted
// its errors holds a start URL's user:password; no page or API answer shows
// it (issue 10).
func TestRunRecordsRedacted(t *testing.T) {
	e := newEnv(t)
	const secret = "OldRec0rdSecret"
	run := precwatch.Run{ID: "r-old", Site: "silkvault", Start: t0, End: t0.Add(1e9), Status: precwatch.RunBlocked,
		Errors: []string{"crawler: fetch http://agent:" + secret + "@silkvault.onion/: status 503"},
		Block:  &precwatch.RunBlock{Class: precwatch.PageCaptcha, URL: "http://agent:" + secret + "@silkvault.onion/captcha", Reason: "built-in: a captcha form"}}
	if err := e.store.SaveRun(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	c := e.as(precwatch.RoleOperator)
	for _, path := range []string{"/api/sites/silkvault/runs", "/sites/silkvault", "/sites", "/api/sites"} {
		resp := c.do("GET", path, nil, nil)
		if resp.code != http.StatusOK {
			t.Errorf("GET %s: %d", path, resp.code)
		}
		if strings.Contains(string(resp.body), secret) {
			t.Errorf("GET %s shows a start URL's password", path)
		}
		if path == "/api/sites/silkvault/runs" && !strings.Contains(string(resp.body), "http://agent:xxxxx@silkvault.onion/") {
			t.Errorf("GET %s lost the redacted URL: %s", path, resp.body)
		}
	}
	if got, err := e.store.Runs(context.Background(), "silkvault", 1); err != nil || !strings.Contains(got[0].Errors[0], secret) {
		t.Errorf("the stored record changed: %v %v", got, err)
	}
}
