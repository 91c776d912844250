package console

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/precwatch/precwatch"
)

// endSessions ends every session of user, as an expiry would.
func (e *env) endSessions(user string) {
	e.t.Helper()
	err := e.store.UpdateUser(context.Background(), user, func(u *precwatch.User, _ []precwatch.User) error {
		u.PasswordChangedAt = time.Now()
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // the next session starts after it
}

// TestDraftSurvivesSessionEnd: a note or dismissal reason sent after the
// session ended is not lost: the login page carries it, and signing in
// there shows the alert with the text back in its box, unsaved.
func TestDraftSurvivesSessionEnd(t *testing.T) {
	e := newEnv(t)
	key := e.keys["nitro"]
	for _, c := range []struct {
		name    string
		form    map[string][]string
		box     string
		dismiss bool
	}{
		{"note", map[string][]string{"action": {"note"}, "text": {"Same seller as on agora: <b>check</b>"}}, "#note-text", false},
		{"dismissal", map[string][]string{"action": {"status"}, "status": {"dismissed"}, "text": {"A hobby shop's fuel, not a precursor sale"}}, "#dismiss-reason", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ivy := e.as(precwatch.RoleInvestigator)
			e.endSessions("ivy")
			text := c.form["text"][0]
			resp := ivy.form("/alerts/"+key+"/actions", c.form)
			if resp.code != http.StatusUnauthorized {
				t.Fatalf("action after the session ended: %d", resp.code)
			}
			doc, _ := goquery.NewDocumentFromReader(bytes.NewReader(resp.body))
			if got := doc.Find("#draft-text").Text(); got != text {
				t.Errorf("login page shows the draft as %q", got)
			}
			if got := doc.Find(`input[name=draft_text]`).AttrOr("value", ""); got != text {
				t.Errorf("login form carries %q", got)
			}
			if got := doc.Find(`input[name=next]`).AttrOr("value", ""); got != "/alerts/"+key {
				t.Errorf("login leads to %q", got)
			}
			login := map[string][]string{"name": {"ivy"}, "password": {"wrong password!"}, "next": {"/alerts/" + key},
				"draft_key": {key}, "draft_text": {text}}
			if c.dismiss {
				login["draft_dismiss"] = []string{"1"}
			}
			// A mistyped password keeps the draft too.
			resp = ivy.form("/login", login)
			doc, _ = goquery.NewDocumentFromReader(bytes.NewReader(resp.body))
			if resp.code != http.StatusUnauthorized || doc.Find(`input[name=draft_text]`).AttrOr("value", "") != text {
				t.Errorf("wrong password: %d, draft %q", resp.code, doc.Find(`input[name=draft_text]`).AttrOr("value", ""))
			}
			login["password"] = []string{password}
			resp = ivy.form("/login", login)
			if resp.code != http.StatusOK {
				t.Fatalf("sign in with the draft: %d", resp.code)
			}
			doc, _ = goquery.NewDocumentFromReader(bytes.NewReader(resp.body))
			if got := doc.Find(c.box).Text(); got != text {
				t.Errorf("%s holds %q, want the draft", c.box, got)
			}
			if !strings.Contains(doc.Find("#draft-restored").Text(), "not saved") {
				t.Errorf("no notice that the text was not saved")
			}
			a, err := e.store.Alert(context.Background(), key)
			if err != nil || len(a.Timeline) != 0 || a.Status != precwatch.StatusNew {
				t.Errorf("the draft was applied: %+v, %v", a.Timeline, err)
			}
			// The new session works.
			if r := ivy.do("GET", "/alerts/"+key, nil, nil); r.code != http.StatusOK {
				t.Errorf("after signing in: %d", r.code)
			}
		})
	}
	// Without text, or another role, it is the plain refusal.
	ivy := e.as(precwatch.RoleInvestigator)
	e.endSessions("ivy")
	if resp := ivy.form("/alerts/"+key+"/actions", map[string][]string{"action": {"claim"}}); resp.code != http.StatusUnauthorized || bytes.Contains(resp.body, []byte("draft_text")) {
		t.Errorf("claim after the session ended: %d", resp.code)
	}
}

// TestTimelineNamesNobody: a claim of an unassigned alert, and a release,
// say "nobody" instead of an empty side.
func TestTimelineNamesNobody(t *testing.T) {
	e := newEnv(t)
	ivy := e.as(precwatch.RoleInvestigator)
	key := e.keys["acetone"]
	for _, act := range []string{"claim", "unclaim"} {
		if r := ivy.form("/alerts/"+key+"/actions", map[string][]string{"action": {act}}); r.code != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", act, r.code, r.body)
		}
	}
	var got []string
	ivy.page(t, "/alerts/"+key).Find("#timeline li .change").Each(func(_ int, s *goquery.Selection) { got = append(got, s.Text()) })
	if want := []string{"nobody → ivy", "ivy → nobody"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("timeline changes %q, want %q", got, want)
	}
}

// TestBrowserDraftSurvivesSessionEnd: in Chromium, a note typed while the
// session ends comes back in its box after signing in again.
func TestBrowserDraftSurvivesSessionEnd(t *testing.T) {
	e := newEnv(t)
	b, stop := startBrowser(t, e)
	defer stop()
	key := e.keys["peroxide"]
	b.login("ivy", "/alerts")
	b.open("/alerts/"+key, `!!document.querySelector("#note-text")`)
	const note = "Seen the same canister photo on chemshop"
	b.set("#note-text", note)
	e.endSessions("ivy")
	b.click("#add-note")
	b.waitFor(`!!document.querySelector("#draft-kept")`)
	if got := eval[string](b, `document.querySelector("#draft-text").textContent`); got != note {
		t.Errorf("login page shows %q", got)
	}
	b.set("#name", "ivy")
	b.set("#password", password)
	b.click("#signin")
	b.waitFor(`!!document.querySelector("#draft-restored")`)
	if got := eval[string](b, `document.querySelector("#note-text").value`); got != note {
		t.Errorf("note box holds %q after signing in", got)
	}
	b.click("#add-note")
	// The address changes before the page is parsed: wait for it whole.
	b.waitFor(`location.pathname == "/alerts/` + key + `" && !document.querySelector("#draft-restored") && document.readyState == "complete"`)
	if got := eval[string](b, `document.querySelector("#timeline").textContent`); !strings.Contains(got, note) {
		t.Errorf("the note sent again is not on the timeline: %q", got)
	}
}
