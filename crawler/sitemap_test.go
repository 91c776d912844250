package crawler

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

// TestGzipSitemapSite: a shop whose product pages are named only by its
// sitemap index, whose sitemaps are gzip files served as such
// (sitemap-products-1.xml.gz, application/x-gzip, no Content-Encoding),
// is read with links rules selecting <loc>: each .xml.gz is read as the
// XML inside it. Before, the index's <loc>s gave no link and the gzip
// files were skipped as neither HTML nor XML: 0 listings, partial.
func TestGzipSitemapSite(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		fmt.Fprint(w, s)
		w.Close()
		return b.Bytes()
	}
	products := map[string]string{"/p/1": "Hydrogen peroxide 35 % 5 L", "/p/2": "Citric acid 1 kg", "/p/3": "Nitric acid 65 % 1 L", "/p/4": "Acetone 99.5 % 5 L"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := "http://" + shop
		switch r.URL.Path {
		case "/sitemap.xml":
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprintf(w, `<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`+
				`<sitemap><loc>%s/sitemap-1.xml.gz</loc></sitemap><sitemap><loc>%s/sitemap-2.xml.gz</loc></sitemap><sitemap><loc>%s/sitemap-3.xml.gz</loc></sitemap></sitemapindex>`, base, base, base)
		case "/sitemap-1.xml.gz":
			w.Header().Set("Content-Type", "application/x-gzip")
			w.Write(gz(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>` + base + `/p/1</loc></url><url><loc>` + base + `/p/2</loc></url></urlset>`))
		case "/sitemap-2.xml.gz": // as some servers send a file they know no type of
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(gz(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>` + base + `/p/3</loc></url></urlset>`))
		case "/sitemap-3.xml.gz": // compressed again on the way: the coding undone leaves the file
			w.Header().Set("Content-Type", "application/x-gzip")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gz(`<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>` + base + `/p/4</loc></url></urlset>`))
		default:
			name, ok := products[r.URL.Path]
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<html><head><script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":%q,"sku":%q,`+
				`"offers":{"@type":"Offer","price":"19.90","priceCurrency":"EUR"}}</script></head><body><div id="app"></div></body></html>`, name, r.URL.Path[3:])
		}
	}))
	t.Cleanup(srv.Close)
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{shop: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e := &env{store: openStore(t)}
	site := precwatch.Site{Name: "sitemapshop", StartURLs: []string{"http://" + shop + "/sitemap.xml"}, Proxy: p.URL(),
		Extract: precwatch.Extraction{Mode: "jsonld", Links: []string{"sitemap > loc", "url > loc"}},
		Limits:  precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
	run, err := e.run(t, site)
	if err != nil || run.Status != precwatch.RunOK || run.Listings != 4 || run.Alerts != 1 {
		t.Fatalf("run %q %q (%v): %d listings, %d alerts; want ok, 4, 1", run.Status, run.Errors, err, run.Listings, run.Alerts)
	}
	ls := e.listings(t)
	if l := ls["3"].Listing; l.Title != "Nitric acid 65 % 1 L" || l.Price != 19.90 {
		t.Errorf("listing 3 = %+v", l)
	}
}

// TestGzipFileType: a gzip file served as one is read as the file its name
// says it holds; a gzip Content-Encoding is not this (the transport undoes
// it first), nor an archive, nor a page that merely ends in .gz.
func TestGzipFileType(t *testing.T) {
	for _, tc := range []struct {
		path, ct, want string
		ok             bool
	}{
		{"/sitemap-products-1.xml.gz", "application/x-gzip", "application/xml", true},
		{"/SITEMAP.XML.GZ", "application/gzip", "application/xml", true},
		{"/feed.xml.gz", "application/octet-stream", "application/xml", true},
		{"/export/products.json.gz", "", "application/json", true},
		{"/old/catalog.html.gz", "application/x-gzip; charset=binary", "text/html", true},
		{"/backup.tar.gz", "application/gzip", "", false},
		{"/sitemap.xml", "application/octet-stream", "", false},
		{"/sitemap.xml.gz", "text/html", "", false},
	} {
		got, ok := gzipFileType(tc.path, tc.ct)
		if got != tc.want || ok != tc.ok {
			t.Errorf("gzipFileType(%q, %q) = %q, %v; want %q, %v", tc.path, tc.ct, got, ok, tc.want, tc.ok)
		}
	}
}
