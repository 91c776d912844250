package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/precwatch/precwatch"
)

// Sessions (issue 8): `precwatch session import|show|clear --site S`.

const sessionUsage = `usage: precwatch session import --site S (--cookies-file FILE|- | --cookie-header FILE|-)
       precwatch session show --site S
       precwatch session clear --site S
cookie values are read from a file or stdin ("-"), never from the command line`

func (m *Main) runSession(ctx context.Context, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		return m.groupHelp("session")
	}
	if len(args) == 0 {
		return &exitError{code: 2, err: errors.New(sessionUsage)}
	}
	sub, rest := args[0], args[1:]
	fs := m.flags("session " + sub)
	name := fs.String("site", "", "the site (required)")
	var cookiesFile, headerFile *string
	if sub == "import" {
		cookiesFile = fs.String("cookies-file", "", "a Netscape cookies.txt file (as exported from Tor Browser), or - for stdin")
		headerFile = fs.String("cookie-header", "", "a file holding a Cookie request header copied from Tor Browser, or - for stdin")
	}
	switch sub {
	case "import", "show", "clear":
	default:
		return &exitError{code: 2, err: fmt.Errorf("unknown session command %q\n%s", sub, sessionUsage)}
	}
	if err := m.parse(fs, rest); err != nil {
		return err
	}
	if *name == "" {
		return &exitError{code: 2, err: fmt.Errorf("session %s: --site is required", sub)}
	}
	cfg, err := LoadConfig(m.ConfigPath)
	if err != nil {
		return err
	}
	site, ok := cfg.Site(*name)
	if !ok {
		return fmt.Errorf("session %s: no site %q in %s", sub, *name, m.ConfigPath)
	}
	store, err := m.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	switch sub {
	case "show":
		ss, err := store.SiteSession(ctx, site.Name)
		if errors.Is(err, precwatch.ErrNotFound) {
			fmt.Fprintf(m.Stdout, "site %s has no session\n", site.Name)
			return nil
		}
		if err != nil {
			return fmt.Errorf("session show: %w", err)
		}
		printSession(m.Stdout, ss)
		return nil
	case "clear":
		if err := store.SaveSiteSession(ctx, precwatch.SiteSession{Site: site.Name}); err != nil {
			return fmt.Errorf("session clear: %w", err)
		}
		fmt.Fprintf(m.Stdout, "session of %s cleared\n", site.Name)
		return nil
	}
	if (*cookiesFile == "") == (*headerFile == "") {
		return &exitError{code: 2, err: errors.New("session import: give one of --cookies-file or --cookie-header (a file, or - for stdin)")}
	}
	from := *cookiesFile + *headerFile
	rd, closeFn, err := m.openInput(from)
	if err != nil {
		return fmt.Errorf("session import: %w", err)
	}
	defer closeFn()
	var cookies []precwatch.Cookie
	if *cookiesFile != "" {
		cookies, err = precwatch.ParseCookiesTxt(rd, time.Now())
	} else {
		cookies, err = precwatch.ParseCookieHeader(rd, site.Hosts())
	}
	if err != nil {
		return fmt.Errorf("session import %s: %w", inputName(from), err)
	}
	kept, dropped := precwatch.CookiesFor(cookies, site.Hosts())
	if len(kept) == 0 {
		return fmt.Errorf("session import %s: no unexpired cookie for %s (hosts %s)", inputName(from), site.Name, strings.Join(site.Hosts(), ", "))
	}
	ss := precwatch.SiteSession{Site: site.Name, Cookies: kept, Source: "import", By: "cli", UpdatedAt: time.Now().UTC()}
	if err := store.SaveSiteSession(ctx, ss); err != nil {
		return fmt.Errorf("session import: %w", err)
	}
	fmt.Fprintf(m.Stdout, "imported %d cookie(s) for %s", len(kept), site.Name)
	if dropped > 0 {
		fmt.Fprintf(m.Stdout, " (%d for other sites left out)", dropped)
	}
	fmt.Fprintln(m.Stdout)
	printSession(m.Stdout, ss)
	return nil
}

func inputName(from string) string {
	if from == "-" {
		return "stdin"
	}
	return from
}

// openInput opens a file, or stdin for "-".
func (m *Main) openInput(from string) (io.Reader, func(), error) {
	if from == "-" {
		return m.Stdin, func() {}, nil
	}
	f, err := os.Open(from)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// printSession lists cookie names and expiry, never values.
func printSession(w io.Writer, ss precwatch.SiteSession) {
	fmt.Fprintf(w, "site %s: %d cookie(s), from %s, updated %s\n", ss.Site, len(ss.Cookies), ss.Source, ss.UpdatedAt.Local().Format("2006-01-02 15:04"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDOMAIN\tPATH\tEXPIRES")
	for _, c := range ss.Cookies {
		exp := "session"
		if !c.Expires.IsZero() {
			exp = c.Expires.Local().Format("2006-01-02 15:04")
		}
		dom := c.Domain
		if !c.HostOnly {
			dom = "." + dom
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", printable(c.Name, 40), printable(dom, 70), printable(c.Path, 30), exp)
	}
	tw.Flush()
}
