package precwatch

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Sessions (issue 8): a site's cookie jar kept in the Store, the importers
// of cookies copied from Tor Browser, the per-site login form and the page
// classes that stop a run.
//
// A cookie's value is a credential. Cookie and SiteSession keep it out of
// every rendering but their own wire form (MarshalStore): JSON, fmt and
// slog show names and expiry only.

// Cookie is one cookie of a site's session.
type Cookie struct {
	Name string `json:"name"`
	// Value is never marshalled to JSON, printed or logged; stores keep it
	// through SiteSession.MarshalStore.
	Value string `json:"-"`
	// Domain is the host (HostOnly) or the domain and its subdomains the
	// cookie is sent to, lower case, without a leading dot.
	Domain   string    `json:"domain"`
	HostOnly bool      `json:"host_only,omitempty"`
	Path     string    `json:"path"`
	Expires  time.Time `json:"expires,omitzero"` // zero: a session cookie
	Secure   bool      `json:"secure,omitempty"`
	HTTPOnly bool      `json:"http_only,omitempty"`
}

// String shows the cookie without its value.
func (c Cookie) String() string {
	exp := "session"
	if !c.Expires.IsZero() {
		exp = c.Expires.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("%s (%s%s, expires %s)", c.Name, c.Domain, c.Path, exp)
}

// GoString keeps %#v from printing the value.
func (c Cookie) GoString() string { return "precwatch.Cookie{" + c.String() + "}" }

// LogValue keeps slog from logging the value.
func (c Cookie) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Expired reports whether the cookie has an expiry at or before now.
func (c Cookie) Expired(now time.Time) bool { return !c.Expires.IsZero() && !c.Expires.After(now) }

// MatchesHost reports whether the cookie is sent to host.
func (c Cookie) MatchesHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == c.Domain {
		return true
	}
	return !c.HostOnly && net.ParseIP(host) == nil && strings.HasSuffix(host, "."+c.Domain)
}

// SiteSession is a site's cookie jar as kept in the Store.
type SiteSession struct {
	Site    string   `json:"site"`
	Cookies []Cookie `json:"cookies"`
	// Source says where the cookies came from: "import", "login" or
	// "crawl" (set by the site while crawling).
	Source    string    `json:"source,omitempty"`
	By        string    `json:"by,omitempty"` // who imported it
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// String shows the session without cookie values.
func (s SiteSession) String() string {
	names := make([]string, len(s.Cookies))
	for i, c := range s.Cookies {
		names[i] = c.Name
	}
	return fmt.Sprintf("session of %s: %d cookies [%s] from %s at %s", s.Site, len(s.Cookies),
		strings.Join(names, " "), s.Source, s.UpdatedAt.UTC().Format(time.RFC3339))
}

// GoString keeps %#v from printing cookie values.
func (s SiteSession) GoString() string { return "precwatch.SiteSession{" + s.String() + "}" }

// LogValue keeps slog from logging cookie values.
func (s SiteSession) LogValue() slog.Value { return slog.StringValue(s.String()) }

// storedCookie is a Cookie's wire form in a store: the only form that
// holds the value.
type storedCookie struct {
	Name     string    `json:"name"`
	Value    string    `json:"value"`
	Domain   string    `json:"domain"`
	HostOnly bool      `json:"host_only,omitempty"`
	Path     string    `json:"path"`
	Expires  time.Time `json:"expires,omitzero"`
	Secure   bool      `json:"secure,omitempty"`
	HTTPOnly bool      `json:"http_only,omitempty"`
}

type storedSession struct {
	Site      string         `json:"site"`
	Cookies   []storedCookie `json:"cookies"`
	Source    string         `json:"source,omitempty"`
	By        string         `json:"by,omitempty"`
	UpdatedAt time.Time      `json:"updated_at,omitzero"`
}

// MarshalStore encodes the session with its cookie values, for a Store to
// keep. Nothing else may use it.
func (s SiteSession) MarshalStore() ([]byte, error) {
	st := storedSession{Site: s.Site, Source: s.Source, By: s.By, UpdatedAt: s.UpdatedAt, Cookies: make([]storedCookie, len(s.Cookies))}
	for i, c := range s.Cookies {
		st.Cookies[i] = storedCookie(c)
	}
	return json.Marshal(st)
}

// UnmarshalStoredSession decodes what MarshalStore encoded.
func UnmarshalStoredSession(data []byte) (SiteSession, error) {
	var st storedSession
	if err := json.Unmarshal(data, &st); err != nil {
		return SiteSession{}, fmt.Errorf("precwatch: decode site session: %w", err)
	}
	s := SiteSession{Site: st.Site, Source: st.Source, By: st.By, UpdatedAt: st.UpdatedAt, Cookies: make([]Cookie, len(st.Cookies))}
	for i, c := range st.Cookies {
		s.Cookies[i] = Cookie(c)
	}
	return s, nil
}

// Validate checks what a store needs: a site, and cookies with a name, a
// domain and a path.
func (s SiteSession) Validate() error {
	if s.Site == "" {
		return fmt.Errorf("%w: site session without a site", ErrInvalid)
	}
	for i, c := range s.Cookies {
		if c.Name == "" || c.Domain == "" || !strings.HasPrefix(c.Path, "/") {
			return fmt.Errorf("%w: site session %s: cookie %d needs a name, a domain and a path starting with /", ErrInvalid, s.Site, i+1)
		}
	}
	return nil
}

// validCookieName reports whether name is an RFC 6265 token.
func validCookieName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		if b <= 0x20 || b >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, b) >= 0 {
			return false
		}
	}
	return true
}

// validCookieValue accepts what net/http sends unaltered: printable ASCII
// but for '"', ';' and '\'. (net/http would otherwise log the bad byte.)
func validCookieValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' {
			return false
		}
	}
	return true
}

// ParseCookieHeader reads a Cookie request header as copied from Tor
// Browser's network panel ("a=1; b=2", with or without "Cookie:"; several
// lines are read as one header each). Each cookie is made a host-only
// session cookie of every host given, on path "/". Errors name the line
// and the cookie's position, never a value.
func ParseCookieHeader(r io.Reader, hosts []string) ([]Cookie, error) {
	if len(hosts) == 0 {
		return nil, fmt.Errorf("%w: cookie header: no host to set the cookies for", ErrInvalid)
	}
	var out []Cookie
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if len(text) >= 7 && strings.EqualFold(text[:7], "cookie:") {
			text = strings.TrimSpace(text[7:])
		}
		if text == "" {
			continue
		}
		for i, pair := range strings.Split(text, ";") {
			pair = strings.TrimSpace(pair)
			if pair == "" {
				continue
			}
			name, value, ok := strings.Cut(pair, "=")
			name = strings.TrimSpace(name)
			switch {
			case !ok:
				return nil, fmt.Errorf("%w: cookie header line %d: cookie %d has no '='", ErrInvalid, line, i+1)
			case !validCookieName(name):
				return nil, fmt.Errorf("%w: cookie header line %d: cookie %d: not a valid cookie name", ErrInvalid, line, i+1)
			}
			value = strings.TrimSpace(value)
			if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
				value = value[1 : len(value)-1]
			}
			if !validCookieValue(value) {
				return nil, fmt.Errorf("%w: cookie header line %d: cookie %q: value has characters a cookie cannot hold", ErrInvalid, line, name)
			}
			for _, h := range hosts {
				out = append(out, Cookie{Name: name, Value: value, Domain: strings.ToLower(h), HostOnly: true, Path: "/"})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: cookie header line %d: %w", ErrInvalid, line+1, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: cookie header: no cookies", ErrInvalid)
	}
	return out, nil
}

// ParseCookiesTxt reads a Netscape cookies.txt file (as exported from Tor
// Browser by a cookies.txt add-on, or written by curl): seven
// tab-separated fields per line, "#HttpOnly_" before the domain of an
// HttpOnly cookie, other lines starting with "#" ignored. Cookies that
// expired by now are left out. Errors name the line, never a value.
func ParseCookiesTxt(r io.Reader, now time.Time) ([]Cookie, error) {
	var out []Cookie
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r\n")
		httpOnly := false
		if rest, ok := strings.CutPrefix(text, "#HttpOnly_"); ok {
			text, httpOnly = rest, true
		}
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) == 6 { // an empty value without its trailing tab
			f = append(f, "")
		}
		if len(f) != 7 {
			return nil, fmt.Errorf("%w: cookies.txt line %d: want 7 tab-separated fields (domain, subdomains, path, secure, expiry, name, value), got %d", ErrInvalid, line, len(f))
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: cookies.txt line %d: %s", ErrInvalid, line, fmt.Sprintf(format, args...))
		}
		domain := strings.ToLower(strings.TrimSpace(f[0]))
		sub, err := parseBool(f[1])
		if err != nil {
			return nil, bad("subdomains field %q: want TRUE or FALSE", f[1])
		}
		secure, err := parseBool(f[3])
		if err != nil {
			return nil, bad("secure field %q: want TRUE or FALSE", f[3])
		}
		exp, err := strconv.ParseInt(strings.TrimSpace(f[4]), 10, 64)
		if err != nil || exp < 0 {
			return nil, bad("expiry %q: want Unix seconds (0 for a session cookie)", f[4])
		}
		c := Cookie{
			Name: f[5], Value: f[6], Domain: strings.TrimPrefix(domain, "."),
			HostOnly: !sub && !strings.HasPrefix(domain, "."), Path: f[2], Secure: secure, HTTPOnly: httpOnly,
		}
		if exp > 0 {
			c.Expires = time.Unix(exp, 0).UTC()
		}
		switch {
		case c.Domain == "" || strings.ContainsAny(c.Domain, " /"):
			return nil, bad("domain %q is not a host name", f[0])
		case !validCookieName(c.Name):
			return nil, bad("not a valid cookie name")
		case !validCookieValue(c.Value):
			return nil, bad("cookie %q: value has characters a cookie cannot hold", c.Name)
		case !strings.HasPrefix(c.Path, "/"):
			return nil, bad("cookie %q: path %q does not start with /", c.Name, c.Path)
		}
		if c.Expired(now) {
			continue
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: cookies.txt line %d: %w", ErrInvalid, line+1, err)
	}
	return out, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "TRUE":
		return true, nil
	case "FALSE":
		return false, nil
	}
	return false, fmt.Errorf("not TRUE or FALSE")
}

// CookiesFor keeps the cookies sent to at least one of hosts (a cookies.txt
// export holds every site's) and reports how many it left out.
func CookiesFor(cs []Cookie, hosts []string) (kept []Cookie, dropped int) {
	for _, c := range cs {
		ok := false
		for _, h := range hosts {
			if c.MatchesHost(h) {
				ok = true
				break
			}
		}
		if ok {
			kept = append(kept, c)
		} else {
			dropped++
		}
	}
	return kept, dropped
}

// Hosts returns the distinct hosts of the site's start URLs, mirrors and
// hosts, lower case: a session imported from Tor Browser on a mirror is the
// site's (the crawler sends it to whichever mirror serves the site).
func (s Site) Hosts() []string {
	var out []string
	seen := map[string]bool{}
	add := func(h string) {
		if h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	for _, raw := range slices.Concat(s.StartURLs, s.Mirrors) {
		if u, err := url.Parse(raw); err == nil {
			add(strings.ToLower(u.Hostname()))
		}
	}
	for _, raw := range s.ExtraHosts {
		h, _ := SiteHost(raw)
		add(h)
	}
	return out
}

// Login is a site's login form. The crawler logs in when it has no session
// at the start of a run, or when it finds itself logged out, at most once
// per run. Credentials come from the environment or a file, never from the
// config itself.
type Login struct {
	// URL is the page holding the form.
	URL string `yaml:"url" json:"url"`
	// Form is a CSS selector of the form; default: the form holding a
	// password input.
	Form string `yaml:"form" json:"form,omitempty"`
	// UsernameField and PasswordField name the inputs (their name
	// attribute, or a CSS selector); default: the form's first text or
	// email input and its password input.
	UsernameField string `yaml:"username_field" json:"username_field,omitempty"`
	PasswordField string `yaml:"password_field" json:"password_field,omitempty"`
	// The user name: inline (it is not a secret), or from an environment
	// variable or a file.
	Username     string `yaml:"username" json:"-"`
	UsernameEnv  string `yaml:"username_env" json:"username_env,omitempty"`
	UsernameFile string `yaml:"username_file" json:"username_file,omitempty"`
	// The password: from an environment variable or a file only.
	PasswordEnv  string `yaml:"password_env" json:"password_env,omitempty"`
	PasswordFile string `yaml:"password_file" json:"password_file,omitempty"`
	// Password is never accepted; it exists so that the config check can
	// reject an inline password by name.
	Password string `yaml:"password" json:"-"`
	// Success is a CSS selector found on the page after a successful
	// login (a logout link, say); default: the page has no password input
	// and is not a logged-out page.
	Success string `yaml:"success" json:"success,omitempty"`
}

// PageClasses tells the crawler how to recognise pages that stop a run:
// CSS selectors per class, in addition to the built-in recognition.
type PageClasses struct {
	// LoggedOut are selectors of a page shown to a logged-out visitor.
	LoggedOut []string `yaml:"logged_out" json:"logged_out,omitempty"`
	// LoginURLs are URLs (or paths) that a redirect to means logged out;
	// the login form's URL always does.
	LoginURLs []string `yaml:"login_urls" json:"login_urls,omitempty"`
	Captcha   []string `yaml:"captcha" json:"captcha,omitempty"`
	AntiDDoS  []string `yaml:"anti_ddos" json:"anti_ddos,omitempty"`
	Queue     []string `yaml:"queue" json:"queue,omitempty"`
	// NoBuiltin turns the built-in recognition of captcha, anti-DDoS,
	// queue and challenge pages off for a site whose pages it mistakes.
	NoBuiltin bool `yaml:"no_builtin" json:"no_builtin,omitempty"`
}

// PageClass is the kind of page that stopped a run.
type PageClass string

// Page classes. A logged-out page ends a run needs_login; the others end
// it blocked.
const (
	PageLoggedOut PageClass = "logged_out"
	PageCaptcha   PageClass = "captcha"
	PageAntiDDoS  PageClass = "anti_ddos"
	PageQueue     PageClass = "queue"
	PageChallenge PageClass = "challenge"
)

// RunBlock says what stopped a run that ended needs_login or blocked.
type RunBlock struct {
	Class PageClass `json:"class"`
	// Reason is what recognised the page (a selector, a redirect, a
	// built-in rule) or why the login failed.
	Reason string `json:"reason"`
	URL    string `json:"url"`
	// PageSHA256 names the stored page kept as evidence.
	PageSHA256 string `json:"page_sha256,omitempty"`
	Status     int    `json:"status,omitempty"` // the HTTP status of the page
}
