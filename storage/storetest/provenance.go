package storetest

// Exact provenance (issue 11): every fetch is its own record; bodies are
// kept once; an alert's evidence is exactly the fetches its listing's
// fields came from.

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// fetched is a page of body fetched from url by run of site at at, with
// its fetch record, as the crawler builds them.
func fetched(site, run, url string, at time.Time, body []byte) *precwatch.Page {
	digest := sha(body)
	f := &precwatch.Fetch{
		ID: precwatch.FetchID(site, run, url, at, digest), Site: site, RunID: run,
		URL: url, FinalURL: url, At: at, Method: http.MethodGet, Status: http.StatusOK, Proto: "HTTP/1.1",
		RequestHeaders:  http.Header{"User-Agent": {"Mozilla/5.0"}, "Accept": {"text/html"}},
		ResponseHeaders: http.Header{"Content-Type": {"text/html; charset=utf-8"}, "Etag": {`"` + digest[:8] + `"`}},
		BodySHA256:      digest, BodySize: int64(len(body)),
		WARC: &precwatch.WARCRef{File: run + ".warc.gz", Offset: 10, Length: 20, RequestID: "<urn:uuid:1>", ResponseID: "<urn:uuid:2>"},
	}
	return &precwatch.Page{SHA256: digest, Site: site, URL: url, FetchedAt: at, ContentType: "text/html", Body: body, Fetch: f}
}

// fromPage is a sighting of listing id read from index page p.
func fromPage(p *precwatch.Page, id string) precwatch.Observation {
	o := obs(p.Site, id, 25, p.FetchedAt, p.Fetch.RunID, peroxide(30))
	o.Listing.PageSHA256, o.Listing.FetchedAt = p.SHA256, p.FetchedAt
	o.Listing.Sources = precwatch.IndexSources(o.Listing, p.Fetch.ID)
	return o
}

func getFetch(t *testing.T, s precwatch.Store, id string) precwatch.Fetch {
	t.Helper()
	f, err := s.Fetch(context.Background(), id)
	if err != nil {
		t.Fatalf("Fetch(%s): %v", id, err)
	}
	return f
}

func testFetchRecords(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	body := []byte("<html><body><h1>catalogue</h1></body></html>")
	p1 := fetched("silkvault", "run-1", "http://silkvault.test/catalogue", t0, body)
	o := fromPage(p1, "F1")
	for range 2 { // the second call is a retry: one record
		if _, err := s.RecordPage(ctx, p1, []precwatch.Observation{o}); err != nil {
			t.Fatal(err)
		}
	}
	got := getFetch(t, s, p1.Fetch.ID)
	if !reflect.DeepEqual(got, *p1.Fetch) {
		t.Errorf("Fetch = %+v\nwant %+v", got, *p1.Fetch)
	}
	// The same bytes again later, in the same run: a second record, one body.
	p2 := fetched("silkvault", "run-1", "http://silkvault.test/catalogue?page=1", t0.Add(time.Minute), body)
	if _, err := s.RecordPage(ctx, p2, nil); err != nil {
		t.Fatal(err)
	}
	fs, err := s.RunFetches(ctx, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 || fs[0].ID != p1.Fetch.ID || fs[1].ID != p2.Fetch.ID {
		t.Fatalf("RunFetches = %+v, want the two fetches, oldest first", fs)
	}
	if fs[1].URL != p2.URL || !fs[1].At.Equal(p2.FetchedAt) {
		t.Errorf("second fetch = %+v, want its own url and time", fs[1])
	}
	if pg, err := s.Page(ctx, p1.SHA256); err != nil || string(pg.Body) != string(body) {
		t.Errorf("Page = %q, %v; want the body", pg.Body, err)
	}
	// A 304 answer: the body is not carried, it is stored already.
	p3 := fetched("silkvault", "run-2", p1.URL, t0.Add(time.Hour), body)
	p3.Fetch.Status, p3.Fetch.WARC = http.StatusNotModified, nil
	p3.Body, p3.Stored = nil, true
	if _, err := s.RecordPage(ctx, p3, nil); err != nil {
		t.Fatalf("RecordPage(stored body): %v", err)
	}
	if f := getFetch(t, s, p3.Fetch.ID); f.Status != http.StatusNotModified || f.BodySHA256 != p1.SHA256 {
		t.Errorf("304 fetch = %+v", f)
	}
	if _, err := s.Fetch(ctx, "no-such-fetch"); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("Fetch(missing) = %v, want ErrNotFound", err)
	}
	// A fetch whose ID is not that of its fields, or of another body, is refused.
	bad := fetched("silkvault", "run-1", "http://silkvault.test/x", t0, []byte("x"))
	bad.Fetch.URL = "http://silkvault.test/y"
	if _, err := s.RecordPage(ctx, bad, nil); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("RecordPage(fetch id not of its fields) = %v, want ErrInvalid", err)
	}
	other := fetched("silkvault", "run-1", "http://silkvault.test/z", t0, []byte("z"))
	other.Fetch = p1.Fetch
	if _, err := s.RecordPage(ctx, other, nil); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("RecordPage(fetch of another body) = %v, want ErrInvalid", err)
	}
}

// testSameBytesTwoSites: two sites serve the same bytes; each alert's
// evidence is its own site's fetch, with its own URL and time.
func testSameBytesTwoSites(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	body := []byte("<html><body><ul><li>Hydrogen peroxide 30% 1 L, 25 EUR</li></ul></body></html>")
	pa := fetched("web-alpha", "run-a", "http://alphaxxxxxxxxxxxxxxxx.onion/shop", t0, body)
	pb := fetched("web-hostile", "run-b", "http://hostilexxxxxxxxxxxxxx.onion/list", t0.Add(37*time.Minute), body)
	oa, ob := fromPage(pa, "S1"), fromPage(pb, "S1")
	for _, x := range []struct {
		p *precwatch.Page
		o precwatch.Observation
	}{{pa, oa}, {pb, ob}} {
		if _, err := s.RecordPage(ctx, x.p, []precwatch.Observation{x.o}); err != nil {
			t.Fatal(err)
		}
	}
	for _, x := range []struct {
		p *precwatch.Page
		o precwatch.Observation
	}{{pa, oa}, {pb, ob}} {
		a := getAlert(t, s, alertKey(x.o, "hydrogen-peroxide"))
		if got := a.History[0].Fetches; len(got) != 1 || got[0] != x.p.Fetch.ID {
			t.Fatalf("alert of %s: raised with fetches %v, want [%s]", x.p.Site, got, x.p.Fetch.ID)
		}
		if got := a.Listing.FetchIDs(); len(got) != 1 || got[0] != x.p.Fetch.ID {
			t.Errorf("alert of %s: listing names fetches %v, want [%s]", x.p.Site, got, x.p.Fetch.ID)
		}
		f := getFetch(t, s, a.History[0].Fetches[0])
		if f.Site != x.p.Site || f.URL != x.p.URL || !f.At.Equal(x.p.FetchedAt) || f.RunID != x.p.Fetch.RunID {
			t.Errorf("alert of %s: evidence fetch %s %s %s %s, want its own site, url, time and run",
				x.p.Site, f.Site, f.URL, f.At, f.RunID)
		}
		if f.BodySHA256 != pa.SHA256 {
			t.Errorf("alert of %s: body %s, want %s", x.p.Site, f.BodySHA256, pa.SHA256)
		}
	}
}

func testNoAlertWithoutFetch(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	p := fetched("silkvault", "run-1", "http://silkvault.test/item/N1", t0, []byte("<p>N1</p>"))
	o := fromPage(p, "N1")
	// Its sources also name an index fetch that was never stored.
	o.Listing.Sources = append(o.Listing.Sources, precwatch.Source{Fetch: "0123456789abcdef0123456789abcdef", Role: precwatch.SourceIndex, Fields: []string{"title"}})
	if _, err := s.RecordPage(ctx, p, []precwatch.Observation{o}); !errors.Is(err, precwatch.ErrInvalid) {
		t.Fatalf("RecordPage(listing naming a fetch not stored) = %v, want ErrInvalid", err)
	}
	noTrace(t, s, p.SHA256, o)
	if _, err := s.Fetch(ctx, p.Fetch.ID); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("fetch %s stored (%v) by a failed RecordPage", p.Fetch.ID, err)
	}
	// A 304 fetch whose body is not stored is refused too.
	q := fetched("silkvault", "run-1", "http://silkvault.test/item/N2", t0, []byte("<p>N2</p>"))
	q.Body, q.Stored = nil, true
	if _, err := s.RecordPage(ctx, q, nil); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("RecordPage(stored body not stored) = %v, want ErrInvalid", err)
	}
	if _, err := s.Fetch(ctx, q.Fetch.ID); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("fetch %s stored (%v) by a failed RecordPage", q.Fetch.ID, err)
	}
}

// testDetailSources: a listing read from an index page and completed from
// its detail page names both fetches, each field with the page it came
// from, and its alert's evidence is both.
func testDetailSources(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	index := fetched("silkvault", "run-1", "http://silkvault.test/catalogue", t0, []byte("<li>D1</li>"))
	if _, err := s.RecordPage(ctx, index, nil); err != nil {
		t.Fatal(err)
	}
	detail := fetched("silkvault", "run-1", "http://silkvault.test/item/D1", t0.Add(time.Second), []byte("<h1>D1</h1>"))
	o := fromPage(detail, "D1")
	row := o.Listing
	row.Description, row.Vendor = "", "" // the index row shows neither
	o.Listing.Sources = precwatch.DetailSources(row, index.Fetch.ID, o.Listing, detail.Fetch.ID)
	if _, err := s.RecordPage(ctx, detail, []precwatch.Observation{o}); err != nil {
		t.Fatal(err)
	}
	a := getAlert(t, s, alertKey(o, "hydrogen-peroxide"))
	want := []string{index.Fetch.ID, detail.Fetch.ID}
	if got := a.History[0].Fetches; !reflect.DeepEqual(got, want) {
		t.Fatalf("evidence fetches %v, want %v", got, want)
	}
	for _, src := range a.Listing.Sources {
		switch src.Role {
		case precwatch.SourceIndex:
			if src.Fetch != index.Fetch.ID || !reflect.DeepEqual(src.Fields, []string{"id", "url", "title", "price", "currency"}) {
				t.Errorf("index source = %+v", src)
			}
		case precwatch.SourceDetail:
			if src.Fetch != detail.Fetch.ID || !reflect.DeepEqual(src.Fields, []string{"description", "vendor"}) {
				t.Errorf("detail source = %+v", src)
			}
		default:
			t.Errorf("source of role %q", src.Role)
		}
	}
}

// testLegacyFetch: a page stored without a fetch record answers as its
// legacy fetch, so that evidence kept before fetch records reads alike.
func testLegacyFetch(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := context.Background()
	body := []byte("<p>kept before fetch records</p>")
	p := precwatch.Page{SHA256: sha(body), Site: "silkvault", URL: "http://silkvault.test/old", FetchedAt: t0, ContentType: "text/html", Body: body}
	if err := s.SavePage(ctx, p); err != nil {
		t.Fatal(err)
	}
	f := getFetch(t, s, "page-"+p.SHA256)
	if !f.Legacy || f.Site != p.Site || f.URL != p.URL || !f.At.Equal(t0) || f.BodySHA256 != p.SHA256 || f.BodySize != int64(len(body)) {
		t.Errorf("legacy fetch = %+v", f)
	}
	if _, err := s.Fetch(ctx, "page-"+sha([]byte("never stored"))); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("legacy fetch of a page not stored: %v, want ErrNotFound", err)
	}
}
