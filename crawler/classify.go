package crawler

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/crawler/extract"
)

// Sessions (issue 8): page classes. A page that is not what the crawl asked
// for (a logged-out page, a captcha, an anti-DDoS interstitial, a queue, an
// HTTP challenge) stops the run with status needs_login or blocked, so that
// a run never ends ok with the listings silently missing.
//
// The built-in rules look only at pages that show no listing content (an
// index page without listings, a detail page without any listing field, an
// HTTP 403/429/503 answer): an ordinary shop page that mentions a login or a
// captcha in its text is never classified.

// verdict is what recognised a page.
type verdict struct {
	class  precwatch.PageClass
	reason string
}

func (v verdict) status() precwatch.RunStatus {
	if v.class == precwatch.PageLoggedOut {
		return precwatch.RunNeedsLogin
	}
	return precwatch.RunBlocked
}

type classRule struct {
	class precwatch.PageClass
	css   string
	sel   cascadia.Selector
}

// classifier holds a site's compiled page-class rules.
type classifier struct {
	rules     []classRule // the site's own selectors, logged-out first
	loginURLs []*url.URL
	builtin   bool
}

func newClassifier(site precwatch.Site) (*classifier, error) {
	pc := site.PageClasses
	cl := &classifier{builtin: !pc.NoBuiltin}
	for _, set := range []struct {
		class precwatch.PageClass
		css   []string
	}{
		{precwatch.PageLoggedOut, pc.LoggedOut}, {precwatch.PageCaptcha, pc.Captcha},
		{precwatch.PageAntiDDoS, pc.AntiDDoS}, {precwatch.PageQueue, pc.Queue},
	} {
		for _, css := range set.css {
			sel, err := cascadia.Compile(css)
			if err != nil {
				return nil, fmt.Errorf("crawler: page_classes.%s selector %q: %w", set.class, css, err)
			}
			cl.rules = append(cl.rules, classRule{class: set.class, css: css, sel: sel})
		}
	}
	urls := pc.LoginURLs
	if site.Login != nil && site.Login.URL != "" {
		urls = append([]string{site.Login.URL}, urls...)
	}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("crawler: login url %q: %w", raw, err)
		}
		cl.loginURLs = append(cl.loginURLs, u)
	}
	return cl, nil
}

// isLoginURL reports whether u is one of the login URLs: same path (and
// host, when the login URL names one).
func (cl *classifier) isLoginURL(u *url.URL) bool {
	if u == nil {
		return false
	}
	for _, l := range cl.loginURLs {
		if l.Host != "" && !strings.EqualFold(l.Hostname(), u.Hostname()) {
			continue
		}
		if strings.TrimSuffix(l.Path, "/") == strings.TrimSuffix(u.Path, "/") {
			return true
		}
	}
	return false
}

// pageFacts is what the classifier is given about one fetched page.
type pageFacts struct {
	status    int      // 200 for a page handed to page()
	requested *url.URL // what the task asked for
	final     *url.URL // where redirects ended
	doc       *goquery.Document
	// noContent reports, lazily (it runs the extractor), that the page
	// shows no listing content.
	noContent func() bool
	// loginForms makes a login form shown instead of listings a logged-out
	// page: set when the site has a login or a saved session.
	loginForms bool
}

// classify returns the page's class, or false for an ordinary page.
func (cl *classifier) classify(p pageFacts) (verdict, bool) {
	if !cl.isLoginURL(p.requested) && cl.isLoginURL(p.final) {
		return verdict{precwatch.PageLoggedOut, "redirected to the login page " + p.final.Path}, true
	}
	if p.doc == nil || len(p.doc.Nodes) == 0 {
		return verdict{}, false
	}
	root := p.doc.Nodes[0]
	for _, r := range cl.rules {
		if cascadia.Query(root, r.sel) != nil {
			return verdict{r.class, fmt.Sprintf("page_classes.%s selector %q matched", r.class, r.css)}, true
		}
	}
	if !cl.builtin {
		return verdict{}, false
	}
	errStatus := p.status == 403 || p.status == 429 || p.status == 503
	// The cheap checks first: only a candidate is run through the
	// extractor to see whether it shows listings.
	v, ok := builtinCandidate(p.doc, errStatus, p.loginForms)
	if !ok {
		return verdict{}, false
	}
	if !errStatus && p.noContent != nil && !p.noContent() {
		return verdict{}, false
	}
	return v, true
}

var (
	// Third-party captcha widgets.
	selCaptchaWidget = cascadia.MustCompile(`.g-recaptcha, .h-captcha, .cf-turnstile, div[data-sitekey], iframe[src*="recaptcha/"], iframe[src*="hcaptcha.com"], iframe[src*="challenges.cloudflare.com"]`)
	// Self-hosted captchas, as onion markets and EndGame serve them: a
	// form input or image named for the captcha.
	selCaptchaForm = cascadia.MustCompile(`form input[name*="captcha" i]:not([type="hidden"]), form input[id*="captcha" i]:not([type="hidden"]), form img[src*="captcha" i], form img[alt*="captcha" i], form img[id*="captcha" i], form img[class*="captcha" i]`)
	selRefresh     = cascadia.MustCompile(`meta[http-equiv="refresh" i]`)
	selHeadings    = cascadia.MustCompile(`title, h1, h2, h3`)
	selScripts     = cascadia.MustCompile(`script`)
	selPassword    = cascadia.MustCompile(`input[type="password" i]`)
)

// Wording of interstitials, looked for in the title and headings only
// (lower case).
var (
	queueWords     = []string{"queue", "waiting room", "you are in line", "please wait"}
	antiDDoSWords  = []string{"ddos", "d.d.o.s", "flood protection", "bot protection", "anti-bot"}
	challengeWords = []string{"checking your browser", "just a moment", "verify you are human", "are you human", "human verification", "security check", "browser check",
		// Age gates, which markets put in front of every page.
		"age verification", "age check", "are you 18", "18 or older", "over 18",
		// Cookie walls, which EU shops put in front of the catalogue: a
		// redirect to a page whose only form is "Accept" / "Only
		// necessary". Phrases, not the bare word: a shop may sell cookies.
		"cookie consent", "cookie settings", "cookie preferences", "consent to cookies", "accept cookies",
		"we use cookies", "this site uses cookies", "this website uses cookies", "we value your privacy",
		"your privacy choices", "privacy preferences", "before you continue",
		"cookie-einstellungen", "wir verwenden cookies", "diese website verwendet cookies", "datenschutzeinstellungen",
		"nous utilisons des cookies", "gestion des cookies", "utilizziamo i cookie", "utilizamos cookies",
		"wij gebruiken cookies", "używamy plików cookie"}
)

// builtinCandidate applies the built-in rules that need no extractor.
func builtinCandidate(doc *goquery.Document, errStatus, loginForms bool) (verdict, bool) {
	root := doc.Nodes[0]
	// One walk says which of the rules' selectors can match at all: most
	// pages have no iframe, captcha class, meta refresh, script or form.
	has := markPage(root)
	if has.widget && cascadia.Query(root, selCaptchaWidget) != nil {
		return verdict{precwatch.PageCaptcha, "built-in: a captcha widget"}, true
	}
	if has.form && cascadia.Query(root, selCaptchaForm) != nil {
		return verdict{precwatch.PageCaptcha, "built-in: a captcha form"}, true
	}
	refresh := (has.meta && cascadia.Query(root, selRefresh) != nil) || (has.script && scriptRefreshes(root))
	form := has.form
	enter := !form && has.link && soleLink(root) != ""
	return interstitial(root, refresh, form, enter, errStatus, loginForms)
}

// interstitial applies the rules for pages that stand in for the listings:
// an interstitial asks the browser to come back (a refresh), to answer (a
// form), to go on by its one link (enter: a queue's plain "Enter the
// market" link, on a page with no form) or says so with its HTTP status;
// a login form means the session ended.
func interstitial(root *html.Node, refresh, form, enter, errStatus, loginForms bool) (verdict, bool) {
	if refresh || form || enter || errStatus {
		// The headings' text, read only here: an index page has one per
		// listing.
		var heads strings.Builder
		for _, n := range cascadia.QueryAll(root, selHeadings) {
			heads.WriteString(strings.ToLower(goquery.NewDocumentFromNode(n).Text()))
			heads.WriteByte(' ')
		}
		h := heads.String()
		for _, set := range []struct {
			class precwatch.PageClass
			words []string
		}{{precwatch.PageQueue, queueWords}, {precwatch.PageAntiDDoS, antiDDoSWords}, {precwatch.PageChallenge, challengeWords}} {
			for _, w := range set.words {
				if strings.Contains(h, w) {
					return verdict{set.class, fmt.Sprintf("built-in: %q in the title or a heading of an interstitial", w)}, true
				}
			}
		}
	}
	if errStatus && (refresh || form) {
		return verdict{precwatch.PageChallenge, "built-in: an HTTP error page asking the browser to wait or answer"}, true
	}
	if loginForms && cascadia.Query(root, selPassword) != nil {
		return verdict{precwatch.PageLoggedOut, "built-in: a login form instead of listings"}, true
	}
	return verdict{}, false
}

// pageMarks says which elements the built-in rules look for a page has;
// each is necessary for the rule's selector to match, not sufficient.
type pageMarks struct {
	// widget: an iframe, a div with data-sitekey, or a class attribute
	// naming a captcha or turnstile (in any case), for selCaptchaWidget.
	widget bool
	form   bool // a form, for selForm and selCaptchaForm
	link   bool // a link, for soleLink
	meta   bool // for selRefresh
	script bool // for scriptRefreshes
}

// markPage walks the elements under root once for pageMarks.
func markPage(root *html.Node) pageMarks {
	var m pageMarks
	for n := root.FirstChild; n != nil; n = extract.Next(root, n) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "iframe":
				m.widget = true
			case "form":
				m.form = true
			case "a":
				m.link = true
			case "meta":
				m.meta = true
			case "script":
				m.script = true
			}
			for _, a := range n.Attr {
				switch {
				case a.Key == "class" && (containsFold(a.Val, "captcha") || containsFold(a.Val, "turnstile")):
					m.widget = true
				case a.Key == "data-sitekey" && n.Data == "div":
					m.widget = true
				}
			}
		}
	}
	return m
}

// containsFold reports whether s contains word (lower-case ASCII) in any
// case.
func containsFold(s, word string) bool {
	for i := 0; i+len(word) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(word)], word) {
			return true
		}
	}
	return false
}

// refreshContent is the content of a page's meta refresh, else its
// Refresh header.
func refreshContent(doc *goquery.Document, header string) string {
	content := header
	if doc != nil && len(doc.Nodes) > 0 {
		if n := cascadia.Query(doc.Nodes[0], selRefresh); n != nil {
			for _, a := range n.Attr {
				if strings.EqualFold(a.Key, "content") {
					content = a.Val
				}
			}
		}
	}
	return content
}

// refreshDelay is the delay a page asks for before it is reloaded: its
// meta refresh's ("3; url=/shop"), else the Refresh header's.
func refreshDelay(doc *goquery.Document, header string) (time.Duration, bool) {
	content := refreshContent(doc, header)
	secs, _, _ := strings.Cut(strings.TrimSpace(content), ";")
	secs, _, _ = strings.Cut(secs, ",")
	f, err := strconv.ParseFloat(strings.TrimSpace(secs), 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return time.Duration(min(f, 1e6) * float64(time.Second)), true
}

// refreshTarget is the URL a page's meta refresh ("0; url=/listing/7"),
// else its Refresh header, sends the browser to, and after how long; ok is
// false when neither names one.
func refreshTarget(doc *goquery.Document, header string) (target string, wait time.Duration, ok bool) {
	content := refreshContent(doc, header)
	wait, ok = refreshDelay(nil, content)
	if !ok {
		return "", 0, false
	}
	i := strings.IndexAny(content, ";,")
	if i < 0 {
		return "", 0, false
	}
	rest := strings.TrimSpace(content[i+1:])
	if len(rest) >= 3 && strings.EqualFold(rest[:3], "url") {
		if r := strings.TrimSpace(rest[3:]); strings.HasPrefix(r, "=") {
			rest = strings.TrimSpace(r[1:])
		}
	}
	rest = strings.Trim(rest, `"' `)
	return rest, wait, rest != ""
}

// scriptRefreshes reports whether an inline script reloads the page, as
// JavaScript interstitials do.
func scriptRefreshes(root *html.Node) bool {
	for _, n := range cascadia.QueryAll(root, selScripts) {
		s := goquery.NewDocumentFromNode(n).Text()
		if strings.Contains(s, "location.reload(") || (strings.Contains(s, "setTimeout(") && strings.Contains(s, "location")) {
			return true
		}
	}
	return false
}

var selLinks = cascadia.MustCompile(`a[href]`)

// soleLink returns the href of the page's links when they all lead to one
// place (the page's only way on, as a queue's "Enter" link), and "" when
// it has none or several. Links within the page and script or mail links
// are not ways on.
func soleLink(root *html.Node) string {
	sole := ""
	for _, n := range cascadia.QueryAll(root, selLinks) {
		href := ""
		for _, a := range n.Attr {
			if a.Key == "href" {
				href = strings.TrimSpace(a.Val)
			}
		}
		low := strings.ToLower(href)
		if href == "" || strings.HasPrefix(href, "#") || strings.HasPrefix(low, "javascript:") || strings.HasPrefix(low, "mailto:") {
			continue
		}
		if sole != "" && href != sole {
			return ""
		}
		sole = href
	}
	return sole
}
