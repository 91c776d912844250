package crawler

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/warcfile"
)

// TestProvenanceTwoSitesSameBytes (issue 11): two sites serve the same
// bytes; each alert's evidence is its own site's fetches, with their own
// URLs, runs and times, each field credited to the page it was read from,
// and each fetch archived in its own run's WARC files.
func TestProvenanceTwoSitesSameBytes(t *testing.T) {
	e := newEnv(t)
	archive, err := warcfile.New(warcfile.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	alpha := e.torSite("/page/2")
	alpha.Name = "web-alpha"
	hostile := e.torSite()
	hostile.Name, hostile.StartURLs = "web-hostile", []string{"http://" + onionB + "/page/2"}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(time.Second); return now }
	runs := map[string]precwatch.Run{}
	for _, site := range []precwatch.Site{alpha, hostile} {
		run, err := e.run(t, site, WithArchive(archive), WithClock(clock))
		if err != nil || run.Status != precwatch.RunOK {
			t.Fatalf("run %s: %v %s %v", site.Name, err, run.Status, run.Errors)
		}
		if len(run.WARCs) == 0 || run.WARCs[0].SHA256 == "" {
			t.Errorf("run %s lists WARC files %+v", site.Name, run.WARCs)
		}
		if stored := e.storedRun(t, run.ID); !slices.Equal(stored.WARCs, run.WARCs) {
			t.Errorf("stored run %s WARCs %+v, want %+v", run.ID, stored.WARCs, run.WARCs)
		}
		runs[site.Name] = run
	}

	ctx := t.Context()
	var indexBodies []string
	for site, host := range map[string]string{"web-alpha": onionA, "web-hostile": onionB} {
		as, err := e.store.Alerts(ctx, precwatch.AlertFilter{Site: site})
		if err != nil || len(as) != 1 {
			t.Fatalf("%s: alerts %v, %v; want one", site, as, err)
		}
		a := as[0]
		ids := a.History[0].Fetches
		if len(ids) != 2 {
			t.Fatalf("%s: evidence fetches %v, want the index and the detail page", site, ids)
		}
		for i, id := range ids {
			f, err := e.store.Fetch(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(f.URL)
			wantPath := []string{"/page/2", "/item/A3"}[i]
			if f.Site != site || u.Host != host || u.Path != wantPath || f.RunID != runs[site].ID {
				t.Errorf("%s: evidence fetch %d is %s %s (run %s), want its own site, %s%s and run %s", site, i, f.Site, f.URL, f.RunID, host, wantPath, runs[site].ID)
			}
			if f.At.Before(runs[site].Start) || f.At.After(runs[site].End) {
				t.Errorf("%s: fetch %d at %s, outside its run %s–%s", site, i, f.At, runs[site].Start, runs[site].End)
			}
			if f.Status != http.StatusOK || f.RequestHeaders.Get("User-Agent") == "" || f.RequestHeaders.Get("Accept") == "" ||
				f.ResponseHeaders.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("%s: fetch %d status %d, request headers %v, response headers %v", site, i, f.Status, f.RequestHeaders, f.ResponseHeaders)
			}
			if i == 0 {
				indexBodies = append(indexBodies, f.BodySHA256)
			}
			if f.WARC == nil {
				t.Fatalf("%s: fetch %d not archived", site, i)
			}
			var buf bytes.Buffer
			if err := archive.CopyRecords(ctx, &buf, *f.WARC); err != nil {
				t.Fatalf("%s: fetch %d records: %v", site, i, err)
			}
			if !slices.ContainsFunc(runs[site].WARCs, func(w precwatch.WARCFile) bool { return w.Path == archive.Dir()+"/"+f.WARC.File }) {
				t.Errorf("%s: fetch %d archived in %s, not a file of its run %+v", site, i, f.WARC.File, runs[site].WARCs)
			}
		}
		for _, src := range a.Listing.Sources {
			switch src.Role {
			case precwatch.SourceIndex:
				if src.Fetch != ids[0] || !slices.Contains(src.Fields, "title") || slices.Contains(src.Fields, "description") {
					t.Errorf("%s: index source %+v", site, src)
				}
			case precwatch.SourceDetail:
				if src.Fetch != ids[1] || !slices.Equal(src.Fields, []string{"description"}) {
					t.Errorf("%s: detail source %+v", site, src)
				}
			}
		}
	}
	if len(indexBodies) != 2 || indexBodies[0] != indexBodies[1] {
		t.Errorf("index bodies %v, want the same bytes on both sites", indexBodies)
	}
}

// TestProvenanceNotModified (issue 11): a 304 answer is a fetch record of
// its own run, with the conditional request's headers, naming the stored
// body it confirms; nothing new is archived for it.
func TestProvenanceNotModified(t *testing.T) {
	forEachStore(t, func(t *testing.T, st precwatch.Store) {
		e := newIncEnv(t, st, 6, 3)
		site := e.m.site(precwatch.Incremental{})
		first := e.run(t, site)
		again := e.run(t, site)
		ctx := t.Context()
		firstFetches, err := st.RunFetches(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		bodies := map[string]string{} // url → body sha256 of the first run
		for _, f := range firstFetches {
			if f.Status != http.StatusOK {
				t.Errorf("first run fetch %s: status %d", f.URL, f.Status)
			}
			bodies[f.URL] = f.BodySHA256
		}
		if len(firstFetches) != first.Pages {
			t.Errorf("first run: %d fetch records for %d pages", len(firstFetches), first.Pages)
		}
		fs, err := st.RunFetches(ctx, again.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != again.NotModified || len(fs) == 0 {
			t.Fatalf("re-crawl: %d fetch records, want one per 304 (%d)", len(fs), again.NotModified)
		}
		for _, f := range fs {
			if f.Status != http.StatusNotModified || f.RunID != again.ID || f.RequestHeaders.Get("If-None-Match") == "" || f.WARC != nil {
				t.Errorf("re-crawl fetch %s: status %d run %s If-None-Match %q warc %v", f.URL, f.Status, f.RunID, f.RequestHeaders.Get("If-None-Match"), f.WARC)
			}
			if f.BodySHA256 != bodies[f.URL] {
				t.Errorf("re-crawl fetch %s names body %s, want the first run's %s", f.URL, f.BodySHA256, bodies[f.URL])
			}
			if _, err := st.Page(ctx, f.BodySHA256); err != nil {
				t.Errorf("re-crawl fetch %s: body: %v", f.URL, err)
			}
		}
	})
}
