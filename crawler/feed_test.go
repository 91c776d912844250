package crawler

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

// TestFeedSite: a board's RSS or Atom feed is read with selectors like a
// page: items, their title, link (RSS's text, Atom's @href), guid or id,
// and a description whose escaped or CDATA HTML reads as its visible text;
// a namespaced element by its local name (dc:creator is "creator"). The
// run read nothing before: the feed's type was no page's.
func TestFeedSite(t *testing.T) {
	rss := `<?xml version="1.0" encoding="ISO-8859-1"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Newest ads</title><link>http://` + onionA + `/</link>
<item><title>Hydrogen peroxide 35 %, 5 L</title><link>http://` + onionA + `/ad/101</link><guid isPermaLink="false">ad-101</guid>
<description>&lt;p&gt;&lt;b&gt;Purity&lt;/b&gt;: 35 %&lt;br/&gt;Price: 49.90 EUR&lt;/p&gt;</description><dc:creator>Chemik` + "\xE4" + `</dc:creator></item>
<item><title>Glass beaker 250 ml</title><link>http://` + onionA + `/ad/102</link><guid isPermaLink="false">ad-102</guid>
<description><![CDATA[<p>Borosilicate, <i>ships from DE</i></p>]]></description><dc:creator>labguy</dc:creator></item>
</channel></rss>`
	atom := `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Topics</title>
<entry><title type="text">Hydrogen peroxide 35 %, 5 L</title><link rel="alternate" href="/ad/101"/><id>tag:board,2026:ad-101</id>
<content type="html">&lt;p&gt;&lt;b&gt;Purity&lt;/b&gt;: 35 %&lt;br/&gt;Price: 49.90 EUR&lt;/p&gt;</content><author><name>Chemikä</name></author></entry>
<entry><title type="text">Glass beaker 250 ml</title><link rel="alternate" href="/ad/102"/><id>tag:board,2026:ad-102</id>
<content type="html">&lt;p&gt;Borosilicate, &lt;i&gt;ships from DE&lt;/i&gt;&lt;/p&gt;</content><author><name>labguy</name></author></entry>
</feed>`
	for _, tc := range []struct {
		name, ct, body string
		rules          precwatch.Extraction
		id             string
	}{
		{"RSS", "application/rss+xml", rss, precwatch.Extraction{Listing: "item", Title: "title", URL: "link", ID: "guid", Description: "description", Vendor: "creator"}, "ad-101"},
		{"RSS as text/xml", "text/xml", rss, precwatch.Extraction{Listing: "item", Title: "title", URL: "link", ID: "guid", Description: "description", Vendor: "creator"}, "ad-101"},
		{"Atom", "application/atom+xml; charset=utf-8", atom, precwatch.Extraction{Listing: "entry", Title: "title", URL: "link[rel=alternate] @href", ID: "id", Description: "content", Vendor: "author name"}, "tag:board,2026:ad-101"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/feed" {
					http.NotFound(w, r)
					return
				}
				w.Header().Set("Content-Type", tc.ct)
				fmt.Fprint(w, tc.body)
			}))
			t.Cleanup(srv.Close)
			p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
			e := &env{store: openStore(t)}
			site := precwatch.Site{Name: "board", StartURLs: []string{"http://" + onionA + "/feed"}, Proxy: p.URL(), Extract: tc.rules,
				Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
			run, err := e.run(t, site)
			if err != nil || run.Status != precwatch.RunOK || run.Listings != 2 || run.Alerts != 1 {
				t.Fatalf("run %q %q (%v): %d listings, %d alerts; want ok, 2, 1", run.Status, run.Errors, err, run.Listings, run.Alerts)
			}
			ls := e.listings(t)
			l := ls[tc.id].Listing
			if l.URL != "http://"+onionA+"/ad/101" || l.Title != "Hydrogen peroxide 35 %, 5 L" || l.Vendor != "Chemikä" {
				t.Errorf("listing %s = %+v", tc.id, l)
			}
			if strings.Contains(l.Description, "<") || !strings.Contains(l.Description, "Purity: 35 %") {
				t.Errorf("description %q: want the HTML's visible text", l.Description)
			}
		})
	}
}
