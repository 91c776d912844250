package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// Sessions (issue 8): the per-site cookie jar and the run record's block.

func jar(site string) precwatch.SiteSession {
	return precwatch.SiteSession{
		Site: site, Source: "import", By: "otto", UpdatedAt: t0.Add(42 * time.Second),
		Cookies: []precwatch.Cookie{
			{Name: "PHPSESSID", Value: "s3cr3t-" + site, Domain: site + ".onion", HostOnly: true, Path: "/", HTTPOnly: true},
			{Name: "dcap", Value: "Zm9vYmFy==", Domain: site + ".onion", Path: "/market", Expires: t0.Add(24 * time.Hour), Secure: true},
		},
	}
}

func testSiteSessions(t *testing.T, factory func() precwatch.Store) {
	ctx := context.Background()
	s := client(t, factory)
	if _, err := s.SiteSession(ctx, "silkvault"); !errors.Is(err, precwatch.ErrNotFound) {
		t.Fatalf("SiteSession of a site without one: err %v, want ErrNotFound", err)
	}
	want := jar("silkvault")
	if err := s.SaveSiteSession(ctx, want); err != nil {
		t.Fatalf("SaveSiteSession: %v", err)
	}
	if err := s.SaveSiteSession(ctx, jar("agora2")); err != nil {
		t.Fatalf("SaveSiteSession: %v", err)
	}
	check := func(s precwatch.Store, site string, want precwatch.SiteSession) {
		t.Helper()
		got, err := s.SiteSession(ctx, site)
		if err != nil {
			t.Fatalf("SiteSession(%s): %v", site, err)
		}
		if got.Site != want.Site || got.Source != want.Source || got.By != want.By || !got.UpdatedAt.Equal(want.UpdatedAt) || len(got.Cookies) != len(want.Cookies) {
			t.Fatalf("SiteSession(%s) = %v, want %v", site, got, want)
		}
		for i, c := range got.Cookies {
			w := want.Cookies[i]
			if c.Name != w.Name || c.Value != w.Value || c.Domain != w.Domain || c.HostOnly != w.HostOnly || c.Path != w.Path ||
				!c.Expires.Equal(w.Expires) || c.Secure != w.Secure || c.HTTPOnly != w.HTTPOnly {
				t.Errorf("SiteSession(%s) cookie %d = %v, want %v (values equal: %t)", site, i, c, w, c.Value == w.Value)
			}
		}
	}
	check(s, "silkvault", want)
	// Another client (process) and a reopened one see it.
	check(client(t, factory), "silkvault", want)
	s.Close()
	s = client(t, factory)
	check(s, "agora2", jar("agora2"))

	// Replacing is whole: the old cookies go.
	repl := precwatch.SiteSession{Site: "silkvault", Source: "crawl", UpdatedAt: t0.Add(time.Hour),
		Cookies: []precwatch.Cookie{{Name: "sid", Value: "new", Domain: "silkvault.onion", HostOnly: true, Path: "/"}}}
	if err := s.SaveSiteSession(ctx, repl); err != nil {
		t.Fatal(err)
	}
	check(s, "silkvault", repl)

	// Saving none clears; clearing again is no error; other sites stay.
	for range 2 {
		if err := s.SaveSiteSession(ctx, precwatch.SiteSession{Site: "silkvault"}); err != nil {
			t.Fatalf("clear: %v", err)
		}
	}
	if _, err := s.SiteSession(ctx, "silkvault"); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("cleared session: err %v, want ErrNotFound", err)
	}
	check(s, "agora2", jar("agora2"))

	for name, bad := range map[string]precwatch.SiteSession{
		"no site":    {Cookies: jar("x").Cookies},
		"no name":    {Site: "x", Cookies: []precwatch.Cookie{{Value: "v", Domain: "x.onion", Path: "/"}}},
		"no domain":  {Site: "x", Cookies: []precwatch.Cookie{{Name: "n", Value: "v", Path: "/"}}},
		"bad path":   {Site: "x", Cookies: []precwatch.Cookie{{Name: "n", Value: "v", Domain: "x.onion", Path: "market"}}},
		"clear none": {},
	} {
		err := s.SaveSiteSession(ctx, bad)
		if !errors.Is(err, precwatch.ErrInvalid) {
			t.Errorf("SaveSiteSession(%s): err %v, want ErrInvalid", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "v") && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("SaveSiteSession(%s) error shows a value: %v", name, err)
		}
	}

	// The session's every rendering but the store's own hides the values.
	got, _ := s.SiteSession(ctx, "agora2")
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{string(b), fmt.Sprint(got), fmt.Sprintf("%+v %#v %v", got, got, got.Cookies), fmt.Sprintf("%+v", got.Cookies[0])} {
		if strings.Contains(text, "s3cr3t") || strings.Contains(text, "Zm9vYmFy") {
			t.Errorf("a cookie value is shown: %s", text)
		}
		if !strings.Contains(text, "PHPSESSID") {
			t.Errorf("the cookie's name is not shown: %s", text)
		}
	}
}

func testRunBlock(t *testing.T, factory func() precwatch.Store) {
	ctx := context.Background()
	s := client(t, factory)
	body := []byte("<html><title>DDoS protection</title><meta http-equiv=refresh content=5></html>")
	if err := s.SavePage(ctx, precwatch.Page{SHA256: sha(body), Site: "silkvault", URL: "http://silkvault.onion/", FetchedAt: t0, Body: body}); err != nil {
		t.Fatal(err)
	}
	for i, st := range []precwatch.RunStatus{precwatch.RunBlocked, precwatch.RunNeedsLogin} {
		r := precwatch.Run{ID: fmt.Sprintf("blocked-%d", i), Site: "silkvault", Start: t0.Add(time.Duration(i) * time.Hour), End: t0.Add(time.Duration(i)*time.Hour + time.Minute),
			Status: st, Pages: 1, Logins: i,
			Block: &precwatch.RunBlock{Class: precwatch.PageAntiDDoS, Reason: "built-in: interstitial", URL: "http://silkvault.onion/", PageSHA256: sha(body), Status: 503}}
		if err := s.SaveRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := s.Runs(ctx, "silkvault", 0)
	if err != nil || len(rs) != 2 {
		t.Fatalf("Runs: %v %v", rs, err)
	}
	if r := rs[0]; r.Status != precwatch.RunNeedsLogin || r.Logins != 1 || r.Block == nil || r.Block.PageSHA256 != sha(body) || r.Block.Class != precwatch.PageAntiDDoS || r.Block.Status != 503 {
		t.Errorf("newest run = %+v (block %+v)", r, r.Block)
	}
	if r := rs[1]; r.Status != precwatch.RunBlocked || r.Block == nil {
		t.Errorf("older run = %+v", r)
	}
	p, err := s.Page(ctx, rs[1].Block.PageSHA256)
	if err != nil || string(p.Body) != string(body) {
		t.Errorf("evidence page: %v %q", err, p.Body)
	}
}
