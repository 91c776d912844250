package crawler

import (
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"

	"github.com/precwatch/precwatch"
)

// TestBuiltinCandidate: the built-in rules, which skip the selectors a
// page cannot match (markPage), classify every page as running each
// selector over the page does.
func TestBuiltinCandidate(t *testing.T) {
	pages := map[string]string{
		"recaptcha":         `<div class="box g-recaptcha" data-x="1"></div>`,
		"hcaptcha":          `<div class="h-captcha"></div>`,
		"turnstile":         `<div class="cf-turnstile"></div>`,
		"class other case":  `<div class="G-RECAPTCHA"></div>`,
		"captcha in a word": `<div class="nocaptchahere"></div>`,
		"sitekey":           `<div data-sitekey="abc"></div>`,
		"sitekey on a span": `<span data-sitekey="abc"></span>`,
		"iframe":            `<iframe src="https://www.google.com/recaptcha/api2/anchor"></iframe>`,
		"other iframe":      `<iframe src="/frame"></iframe>`,
		"captcha form":      `<form><input name="captcha_code"></form>`,
		"captcha image":     `<form><img src="/Captcha.php"></form>`,
		"captcha no form":   `<input name="captcha_code">`,
		"hidden captcha":    `<form><input type="hidden" name="captcha"></form>`,
		"queue refresh":     `<head><meta http-equiv="Refresh" content="5"><title>Queue</title></head><h1>You are in line</h1>`,
		"script reload":     `<h2>Just a moment</h2><script>setTimeout(function(){location.reload()}, 5000)</script>`,
		"script other":      `<h2>Just a moment</h2><script>var x = 1;</script>`,
		"form challenge":    `<h1>Checking your browser</h1><form method="post"><button>Go</button></form>`,
		"ddos words":        `<title>DDoS protection</title><form></form>`,
		"login form":        `<form><input type="password" name="p"></form>`,
		"shop":              `<main><div class="product"><h2>Acetone</h2><p>Please wait for shipping</p></div></main>`,
		"svg form":          `<svg><form></form><iframe></iframe></svg>`,
		"error page":        `<p>Service unavailable</p>`,
	}
	for name, body := range pages {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader("<html>" + body + "</html>"))
		if err != nil {
			t.Fatal(err)
		}
		for _, errStatus := range []bool{false, true} {
			for _, loginForms := range []bool{false, true} {
				v, ok := builtinCandidate(doc, errStatus, loginForms)
				rv, rok := builtinCandidateEverySelector(doc, errStatus, loginForms)
				if v != rv || ok != rok {
					t.Errorf("%s (error status %v, login forms %v): %v %v, every selector run: %v %v", name, errStatus, loginForms, v, ok, rv, rok)
				}
			}
		}
	}
	// The cases do exercise the rules.
	for name, want := range map[string]precwatch.PageClass{
		"recaptcha": precwatch.PageCaptcha, "sitekey": precwatch.PageCaptcha, "iframe": precwatch.PageCaptcha,
		"captcha form": precwatch.PageCaptcha, "queue refresh": precwatch.PageQueue,
		"script reload": precwatch.PageChallenge, "form challenge": precwatch.PageChallenge,
	} {
		doc, _ := goquery.NewDocumentFromReader(strings.NewReader("<html>" + pages[name] + "</html>"))
		if v, ok := builtinCandidate(doc, false, false); !ok || v.class != want {
			t.Errorf("%s: %v %v, want class %s", name, v, ok, want)
		}
	}
}

// builtinCandidateEverySelector is builtinCandidate running every
// selector over the page.
func builtinCandidateEverySelector(doc *goquery.Document, errStatus, loginForms bool) (verdict, bool) {
	root := doc.Nodes[0]
	if n := cascadia.Query(root, selCaptchaWidget); n != nil {
		return verdict{precwatch.PageCaptcha, "built-in: a captcha widget"}, true
	}
	if cascadia.Query(root, selCaptchaForm) != nil {
		return verdict{precwatch.PageCaptcha, "built-in: a captcha form"}, true
	}
	refresh := cascadia.Query(root, selRefresh) != nil || scriptRefreshes(root)
	form := cascadia.Query(root, cascadia.MustCompile(`form`)) != nil
	enter := !form && soleLink(root) != ""
	return interstitial(root, refresh, form, enter, errStatus, loginForms)
}

// TestRefreshTarget reads where a refresh sends the browser, in the forms
// pages write it.
func TestRefreshTarget(t *testing.T) {
	for _, c := range []struct {
		meta, header, want string
		wait               time.Duration
		ok                 bool
	}{
		{`<meta http-equiv="refresh" content="0; url=/listing/7">`, "", "/listing/7", 0, true},
		{`<meta http-equiv="Refresh" content="2;URL='../item/8'">`, "", "../item/8", 2 * time.Second, true},
		{`<meta http-equiv="refresh" content="0,url=http://m.test/x">`, "", "http://m.test/x", 0, true},
		{`<meta http-equiv="refresh" content="30">`, "", "", 0, false}, // a reload, not a redirect
		{"", "1; url=/next", "/next", time.Second, true},
		{"", "", "", 0, false},
	} {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader("<html><head>" + c.meta + "</head><body>x</body></html>"))
		if err != nil {
			t.Fatal(err)
		}
		got, wait, ok := refreshTarget(doc, c.header)
		if got != c.want || ok != c.ok || (ok && wait != c.wait) {
			t.Errorf("refreshTarget(%q, %q) = %q %v %v, want %q %v %v", c.meta, c.header, got, wait, ok, c.want, c.wait, c.ok)
		}
	}
}
