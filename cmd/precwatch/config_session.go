package main

import (
	"net/url"
	"strings"

	"github.com/andybalholm/cascadia"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/yamlfile"
)

// checkSessionConfig validates a site's login form and page classes
// (Sessions, issue 8). Secrets never sit in the config: an inline password
// is refused by name, and its value is never repeated.
func checkSessionConfig(doc *yamlfile.Doc, s precwatch.Site, at func(field ...any) []any) yamlfile.Errors {
	var errs yamlfile.Errors
	selector := func(path []any, css string) {
		if _, err := cascadia.Compile(css); err != nil {
			errs = append(errs, doc.Errorf(path, "bad CSS selector %q: %v", css, err))
		}
	}
	pc := s.PageClasses
	for name, list := range map[string][]string{"logged_out": pc.LoggedOut, "captcha": pc.Captcha, "anti_ddos": pc.AntiDDoS, "queue": pc.Queue} {
		for j, css := range list {
			selector(at("page_classes", name, j), css)
		}
	}
	lg := s.Login
	if lg == nil {
		return errs
	}
	if lg.Password != "" {
		errs = append(errs, doc.Errorf(at("login", "password"), "a password is never written in the config: put it in a file (password_file) or an environment variable (password_env)"))
	}
	hosts := map[string]bool{}
	for _, h := range s.Hosts() {
		hosts[h] = true
	}
	if u, err := url.Parse(lg.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || !hosts[strings.ToLower(u.Hostname())] {
		errs = append(errs, doc.Errorf(at("login", "url"), "want an absolute http(s) URL on one of the site's hosts (start URLs and mirrors), got %q", lg.URL))
	}
	count := func(vs ...string) int {
		n := 0
		for _, v := range vs {
			if v != "" {
				n++
			}
		}
		return n
	}
	if n := count(lg.Username, lg.UsernameEnv, lg.UsernameFile); n != 1 {
		errs = append(errs, doc.Errorf(at("login"), "give exactly one of username, username_env or username_file"))
	}
	if lg.Password == "" && count(lg.PasswordEnv, lg.PasswordFile) != 1 {
		errs = append(errs, doc.Errorf(at("login"), "give exactly one of password_env or password_file"))
	}
	if lg.Form != "" {
		selector(at("login", "form"), lg.Form)
	}
	if lg.Success != "" {
		selector(at("login", "success"), lg.Success)
	}
	return errs
}
