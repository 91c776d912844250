package console

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/warcfile"
)

// TestEvidenceBundleProvenance (issue 11): two sites serve the same bytes;
// each alert's bundle lists its own site's fetch, with its own URL, time
// and headers, the body once, and the fetch's WARC records as archived.
func TestEvidenceBundleProvenance(t *testing.T) {
	e := newEnv(t)
	archive, err := warcfile.New(warcfile.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.archive = archive
	ctx := context.Background()
	body := []byte("<html><body><h2>Hydrogen peroxide 30% 1 L</h2><p>25 EUR, shipping EU</p></body></html>")
	h := sha256.Sum256(body)
	digest := hex.EncodeToString(h[:])
	peroxide := precwatch.Match{Substance: "hydrogen-peroxide", Name: "Hydrogen peroxide", Regime: precwatch.RegimeEUAnnexI,
		Severity: precwatch.SeverityHigh, Term: "hydrogen peroxide", Kind: "name", Field: "title", Start: 0, End: 17, Text: "Hydrogen peroxide"}
	type site struct{ name, url, run string }
	sites := []site{
		{"web-alpha", "http://alphaxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion/shop", "run-a"},
		{"web-hostile", "http://hostilexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion/list", "run-b"},
	}
	keys := map[string]string{}
	fetches := map[string]precwatch.Fetch{}
	for i, s := range sites {
		at := t0.Add(time.Duration(i) * 37 * time.Minute)
		f := precwatch.Fetch{Site: s.name, RunID: s.run, URL: s.url, FinalURL: s.url, At: at, Method: http.MethodGet,
			Status: http.StatusOK, Proto: "HTTP/1.1", RequestHeaders: http.Header{"User-Agent": {"Mozilla/5.0"}},
			ResponseHeaders: http.Header{"Content-Type": {"text/html"}, "Server": {s.name + "-server"}},
			BodySHA256:      digest, BodySize: int64(len(body))}
		f.ID = precwatch.FetchID(f.Site, f.RunID, f.URL, f.At, f.BodySHA256)
		ra, err := archive.StartRun(ctx, precwatch.Run{ID: s.run, Site: s.name, Start: at})
		if err != nil {
			t.Fatal(err)
		}
		ref, err := ra.Write(f, body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ra.Close(); err != nil {
			t.Fatal(err)
		}
		f.WARC = &ref
		l := precwatch.Listing{Site: s.name, ID: "L1", URL: s.url + "/L1", Title: "Hydrogen peroxide 30% 1 L", Price: 25, Currency: "EUR",
			FetchedAt: at, PageSHA256: digest, Tor: true}
		l.Sources = precwatch.IndexSources(l, f.ID)
		p := &precwatch.Page{SHA256: digest, Site: s.name, URL: s.url, FetchedAt: at, ContentType: "text/html", Body: body, Fetch: &f}
		res, err := e.store.RecordPage(ctx, p, []precwatch.Observation{{Listing: l, Matches: []precwatch.Match{peroxide}, RunID: s.run, At: at}})
		if err != nil || len(res[0].NewAlerts) != 1 {
			t.Fatalf("record %s: %v %+v", s.name, err, res)
		}
		keys[s.name], fetches[s.name] = res[0].NewAlerts[0], f
	}

	ivy := e.as(precwatch.RoleInvestigator)
	for _, s := range sites {
		resp := ivy.do("GET", "/api/alerts/"+keys[s.name]+"/bundle.zip", nil, nil)
		if resp.code != http.StatusOK {
			t.Fatalf("%s: bundle %d", s.name, resp.code)
		}
		files := unzip(t, resp.body)
		var m struct {
			Site     string
			Evidence []precwatch.Source
			Fetches  []bundleFetch
			Files    []manifestFile
			Missing  []string `json:"warc_missing"`
		}
		if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
			t.Fatal(err)
		}
		want := fetches[s.name]
		if m.Site != s.name || len(m.Fetches) != 1 || len(m.Evidence) != 1 || m.Evidence[0].Fetch != want.ID {
			t.Fatalf("%s: manifest site %s, evidence %+v, fetches %+v", s.name, m.Site, m.Evidence, m.Fetches)
		}
		f := m.Fetches[0]
		if f.ID != want.ID || f.Site != s.name || f.URL != s.url || !f.FetchedAt.Equal(want.At) || f.RunID != s.run ||
			f.ResponseHeaders.Get("Server") != s.name+"-server" || f.BodySHA256 != digest {
			t.Errorf("%s: manifest fetch %+v, want its own site, url, time, run and headers", s.name, f)
		}
		if got := files[f.BodyFile]; !bytes.Equal(got, body) {
			t.Errorf("%s: body file %s is not the body", s.name, f.BodyFile)
		}
		if len(m.Missing) > 0 || f.WARCFile != "evidence.warc.gz" {
			t.Fatalf("%s: WARC records missing: %v", s.name, m.Missing)
		}
		ids, err := warcfile.RecordIDs(bytes.NewReader(files["evidence.warc.gz"]))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids, []string{want.WARC.RequestID, want.WARC.ResponseID}) {
			t.Errorf("%s: evidence.warc.gz holds %v, want the fetch's request and response", s.name, ids)
		}
		for _, mf := range m.Files {
			h := sha256.Sum256(files[mf.Name])
			if hex.EncodeToString(h[:]) != mf.SHA256 {
				t.Errorf("%s: manifest sha256 of %s does not match", s.name, mf.Name)
			}
		}
		if !slices.ContainsFunc(m.Files, func(mf manifestFile) bool { return mf.Name == "evidence.warc.gz" }) {
			t.Errorf("%s: manifest does not list evidence.warc.gz", s.name)
		}

		// The alert page shows the same evidence: its own site's fetch.
		doc := ivy.page(t, "/alerts/"+keys[s.name])
		rows := doc.Find("#evidence-fetches tr.fetch")
		if rows.Length() != 1 || rows.AttrOr("data-fetch", "") != want.ID ||
			rows.Find(".fetch-site").Text() != s.name || rows.Find(".fetch-url").Text() != s.url ||
			rows.Find(".fetch-time").Text() != formatTime(want.At) {
			t.Errorf("%s: alert page evidence %q", s.name, rows.Text())
		}
	}
}

func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return files
}
