package console

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/precwatch/precwatch"
)

// attachmentHeaders make a response a download that no browser renders:
// an opaque type, no sniffing, and a sandbox CSP in case it is opened.
func attachmentHeaders(w http.ResponseWriter, name, ctype string, size int) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Cache-Control", "no-store")
	if size >= 0 {
		h.Set("Content-Length", strconv.Itoa(size))
	}
}

// downloadPage sends the raw page an alert's listing came from, as bytes:
// it is evidence, never rendered.
func (s *Server) downloadPage(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	a, p, err := s.storedPage(r)
	if err != nil {
		return err
	}
	s.audit(r.Context(), u.Name, "evidence.page", "alert:"+a.Key, p.SHA256)
	attachmentHeaders(w, "page-"+p.SHA256[:min(16, len(p.SHA256))]+".html.txt", "application/octet-stream", len(p.Body))
	_, err = w.Write(p.Body)
	return err
}

// storedPage is the alert the request's path names and its stored page.
func (s *Server) storedPage(r *http.Request) (precwatch.Alert, precwatch.Page, error) {
	a, err := s.store.Alert(r.Context(), r.PathValue("key"))
	if err != nil {
		return a, precwatch.Page{}, err
	}
	if a.Listing.PageSHA256 == "" {
		return a, precwatch.Page{}, errorf(ENOTFOUND, "no page is stored for this alert")
	}
	p, err := s.store.Page(r.Context(), a.Listing.PageSHA256)
	return a, p, err
}

// sourceLimit bounds the stored page shown as text on the console; the
// download has all of it.
const sourceLimit = 512 << 10

// pageSourceView is the stored page of an alert, shown as text.
type pageSourceView struct {
	Key       string
	Page      precwatch.Page
	Size      int
	Text      string
	Truncated bool
}

func (pageSourceView) PageTitle() string { return "Stored page" }

// pageSource shows the raw page an alert was read from as escaped text in
// the console (its source, never rendered: nothing in it runs, loads or
// links), so that an investigator can read the evidence without saving a
// file and opening it elsewhere.
func (s *Server) pageSource(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	a, p, err := s.storedPage(r)
	if err != nil {
		return err
	}
	s.audit(r.Context(), u.Name, "evidence.page.view", "alert:"+a.Key, p.SHA256)
	v := pageSourceView{Key: a.Key, Page: p, Size: len(p.Body)}
	body := p.Body
	if len(body) > sourceLimit {
		body, v.Truncated = body[:sourceLimit], true
	}
	v.Text = strings.ToValidUTF8(string(body), "\uFFFD")
	s.render(w, r, http.StatusOK, "source", v)
	return nil
}

// manifestFile is one file of an evidence bundle.
type manifestFile struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int    `json:"size"`
}

// evidenceBundle sends one alert as a zip: listing.json (the alert and the
// listing's stored state), page.html.txt (the raw bytes of the page the
// listing was last read from), bodies/<sha256>.html.txt (each evidence
// fetch's body, once per body), evidence.warc.gz (the archived WARC
// records of those fetches, when the archive has them) and manifest.json:
// each file's SHA-256 and each evidence fetch (issue 11) with its own
// site, URLs, time, status, headers, body hash and WARC records. Every
// name is one that nothing renders.
func (s *Server) evidenceBundle(w http.ResponseWriter, r *http.Request, u *precwatch.User) error {
	ctx := r.Context()
	a, err := s.store.Alert(ctx, r.PathValue("key"))
	if err != nil {
		return err
	}
	listing := any(nil)
	if st, err := s.store.Listing(ctx, precwatch.ListingKey(a.Site, a.Identity)); err == nil {
		listing = st
	} else if !errors.Is(err, precwatch.ErrNotFound) {
		return err
	}
	lj, err := json.MarshalIndent(map[string]any{"alert": a, "listing": listing}, "", "  ")
	if err != nil {
		return fmt.Errorf("console: bundle: %w", err)
	}
	files := []bundleFile{{"listing.json", lj}}
	var page *precwatch.Page
	if a.Listing.PageSHA256 != "" {
		p, err := s.store.Page(ctx, a.Listing.PageSHA256)
		switch {
		case errors.Is(err, precwatch.ErrNotFound):
		case err != nil:
			return err
		default:
			page = &p
			files = append(files, bundleFile{"page.html.txt", p.Body})
		}
	}
	ev, err := s.evidenceFetches(ctx, a)
	if err != nil {
		return err
	}
	files = append(files, ev.files...)
	m := map[string]any{
		"alert_key":           a.Key,
		"site":                a.Site,
		"listing_url":         a.Listing.URL,
		"listing_fetched_at":  a.Listing.FetchedAt,
		"listing_page_sha256": a.Listing.PageSHA256,
		"exported_at":         s.now().UTC(),
		"exported_by":         u.Name,
		"evidence":            ev.sources,
		"fetches":             ev.fetches,
		"history":             ev.history,
	}
	if page != nil {
		// The page's bytes only: where and when it was fetched is each
		// fetch's own (see "fetches"), the same bytes may come from several.
		m["page"] = map[string]any{"sha256": page.SHA256, "content_type": page.ContentType}
	}
	if len(ev.warcErrors) > 0 {
		m["warc_missing"] = ev.warcErrors
	}
	var mf []manifestFile
	for _, f := range files {
		h := sha256.Sum256(f.body)
		mf = append(mf, manifestFile{Name: f.name, SHA256: hex.EncodeToString(h[:]), Size: len(f.body)})
	}
	m["files"] = mf
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("console: bundle: %w", err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	modified := s.now().UTC()
	for _, f := range append(files, bundleFile{"manifest.json", mj}) {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: modified})
		if err != nil {
			return fmt.Errorf("console: bundle: %w", err)
		}
		if _, err := fw.Write(f.body); err != nil {
			return fmt.Errorf("console: bundle: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("console: bundle: %w", err)
	}
	s.audit(ctx, u.Name, "evidence.bundle", "alert:"+a.Key, "")
	attachmentHeaders(w, "alert-"+a.Key+"-"+s.now().UTC().Format("20060102")+".zip", "application/zip", buf.Len())
	_, err = w.Write(buf.Bytes())
	return err
}

// bundleFile is one file of an evidence bundle.
type bundleFile struct {
	name string
	body []byte
}
