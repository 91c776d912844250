package precwatch

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseCookieHeader(t *testing.T) {
	cs, err := ParseCookieHeader(strings.NewReader("Cookie: sid=abc=; theme=\"dark\"\n\ncookie:  x=1 ;\n"), []string{"A.onion", "b.onion"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, fmt.Sprintf("%s=%s@%s%s host-only=%t", c.Name, c.Value, c.Domain, c.Path, c.HostOnly))
	}
	want := "sid=abc=@a.onion/ host-only=true|sid=abc=@b.onion/ host-only=true|theme=dark@a.onion/ host-only=true|theme=dark@b.onion/ host-only=true|x=1@a.onion/ host-only=true|x=1@b.onion/ host-only=true"
	if strings.Join(got, "|") != want {
		t.Errorf("got %s", strings.Join(got, "|"))
	}
	for in, msg := range map[string]string{
		"a=1; s3cret":          "line 1: cookie 2 has no '='",
		"a=1\nb c=s3cret":      "line 2: cookie 1: not a valid cookie name",
		"a=1\n\nok=s3cret\x01": `line 3: cookie "ok": value has characters`,
		"   \n":                "no cookies",
	} {
		_, err := ParseCookieHeader(strings.NewReader(in), []string{"a.onion"})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), msg) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: err %v, want ErrInvalid with %q and no value", in, err, msg)
		}
	}
}

func TestParseCookiesTxt(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	in := "# Netscape HTTP Cookie File\n" +
		"#HttpOnly_.market.onion\tTRUE\t/\tTRUE\t1893456000\tsid\ts3cret\n" +
		"market.onion\tFALSE\t/shop\tFALSE\t0\tlang\n" + // six fields: empty value
		"market.onion\tFALSE\t/\tFALSE\t1000\told\tgone\n" + // expired
		"other.onion\tFALSE\t/\tFALSE\t0\tx\ty\n"
	cs, err := ParseCookiesTxt(strings.NewReader(in), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 {
		t.Fatalf("%d cookies, want 3: %v", len(cs), cs)
	}
	if c := cs[0]; c.Name != "sid" || c.Value != "s3cret" || c.Domain != "market.onion" || c.HostOnly || !c.Secure || !c.HTTPOnly || !c.Expires.Equal(time.Unix(1893456000, 0)) {
		t.Errorf("sid = %#v", c)
	}
	if c := cs[1]; c.Name != "lang" || c.Value != "" || !c.HostOnly || c.Path != "/shop" || !c.Expires.IsZero() {
		t.Errorf("lang = %v", c)
	}
	kept, dropped := CookiesFor(cs, []string{"www.market.onion"})
	if len(kept) != 1 || kept[0].Name != "sid" || dropped != 2 {
		t.Errorf("CookiesFor www.market.onion: %v, %d dropped", kept, dropped)
	}
	for in, msg := range map[string]string{
		"# c\nm.onion\tTRUE\t/\n":                      "line 2: want 7 tab-separated fields",
		"m.onion\tYES\t/\tFALSE\t0\ta\ts3cret\n":       `line 1: subdomains field "YES"`,
		"\nm.onion\tTRUE\t/\tFALSE\tsoon\ta\ts3cret\n": `line 2: expiry "soon"`,
		"m.onion\tTRUE\tshop\tFALSE\t0\ta\ts3cret\n":   `line 1: cookie "a": path "shop"`,
		"m.onion\tTRUE\t/\tFALSE\t0\ta\ts3cret;\n":     `line 1: cookie "a": value has characters`,
		"m.onion\tTRUE\t/\tFALSE\t0\ta b\ts3cret\n":    "line 1: not a valid cookie name",
		"bad host\tTRUE\t/\tFALSE\t0\ta\ts3cret\n":     `line 1: domain "bad host"`,
	} {
		_, err := ParseCookiesTxt(strings.NewReader(in), now)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), msg) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%q: err %v, want ErrInvalid with %q and no value", in, err, msg)
		}
	}
}

func TestCookieMatchesHost(t *testing.T) {
	host := Cookie{Name: "a", Domain: "m.onion", HostOnly: true, Path: "/"}
	dom := Cookie{Name: "a", Domain: "m.onion", Path: "/"}
	for _, tc := range []struct {
		c    Cookie
		host string
		want bool
	}{
		{host, "m.onion", true}, {host, "M.ONION.", true}, {host, "www.m.onion", false},
		{dom, "www.m.onion", true}, {dom, "xm.onion", false}, {dom, "m.onion", true},
	} {
		if got := tc.c.MatchesHost(tc.host); got != tc.want {
			t.Errorf("%v MatchesHost(%s) = %t", tc.c, tc.host, got)
		}
	}
}

// TestSiteHostsMirrors: a session imported from Tor Browser on a mirror
// belongs to the site, so the site's hosts include its mirrors'.
func TestSiteHostsMirrors(t *testing.T) {
	s := Site{StartURLs: []string{"http://P.onion/shop", "http://p.onion/other"}, Mirrors: []string{"http://m.onion", "https://m.onion:8443", "http://n.onion/"}}
	if got, want := strings.Join(s.Hosts(), " "), "p.onion m.onion n.onion"; got != want {
		t.Errorf("Hosts() = %q, want %q", got, want)
	}
	cs, err := ParseCookiesTxt(strings.NewReader("m.onion\tFALSE\t/\tFALSE\t0\tsid\tv\nelsewhere.onion\tFALSE\t/\tFALSE\t0\tsid\tw\n"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if kept, dropped := CookiesFor(cs, s.Hosts()); len(kept) != 1 || kept[0].Domain != "m.onion" || dropped != 1 {
		t.Errorf("CookiesFor kept %v, dropped %d; want the mirror's cookie only", kept, dropped)
	}
}
