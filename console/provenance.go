package console

// Exact provenance (issue 11): an evidence bundle lists the alert's
// fetches, each with its own site, URLs and time, their bodies once each,
// and their archived WARC records.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/precwatch/precwatch"
)

// bundleFetch is one evidence fetch in a bundle's manifest.
type bundleFetch struct {
	ID              string             `json:"id"`
	Site            string             `json:"site"`
	RunID           string             `json:"run_id,omitempty"`
	URL             string             `json:"url"`
	FinalURL        string             `json:"final_url,omitempty"`
	FetchedAt       time.Time          `json:"fetched_at"`
	Status          int                `json:"status"`
	RequestHeaders  http.Header        `json:"request_headers,omitempty"`
	ResponseHeaders http.Header        `json:"response_headers,omitempty"`
	BodySHA256      string             `json:"body_sha256"`
	BodySize        int64              `json:"body_size"`
	BodyFile        string             `json:"body_file,omitempty"`
	WARC            *precwatch.WARCRef `json:"warc,omitempty"`
	// WARCFile is the bundle's file holding the fetch's WARC records.
	WARCFile string `json:"warc_file,omitempty"`
	Legacy   bool   `json:"legacy,omitempty"`
}

// bundleEvent is an alert history event and the fetches that were its
// evidence.
type bundleEvent struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Fetches []string  `json:"fetches,omitempty"`
}

type bundleEvidence struct {
	sources    []precwatch.Source
	fetches    []bundleFetch
	history    []bundleEvent
	files      []bundleFile
	warcErrors []string
}

// maxBundleFetches bounds the fetches one bundle gathers.
const maxBundleFetches = 200

// evidenceFetches gathers alert a's evidence: the fetches its listing's
// fields came from (a listing stored before fetch records names its page's
// legacy fetch) and those of its history, their bodies once each, and
// their WARC records.
func (s *Server) evidenceFetches(ctx context.Context, a precwatch.Alert) (bundleEvidence, error) {
	var ev bundleEvidence
	ev.sources = a.Listing.Sources
	if len(ev.sources) == 0 && a.Listing.PageSHA256 != "" {
		ev.sources = []precwatch.Source{{Fetch: "page-" + a.Listing.PageSHA256, Role: "page"}}
	}
	var ids []string
	add := func(id string) {
		if id != "" && len(ids) < maxBundleFetches && !contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, src := range ev.sources {
		add(src.Fetch)
	}
	for _, e := range a.History {
		be := bundleEvent{At: e.At, Kind: e.Kind, Fetches: e.Fetches}
		if len(be.Fetches) == 0 && e.PageSHA256 != "" {
			be.Fetches = []string{"page-" + e.PageSHA256}
		}
		for _, id := range be.Fetches {
			add(id)
		}
		ev.history = append(ev.history, be)
	}
	bodies := map[string]string{}
	var warc bytes.Buffer
	for _, id := range ids {
		f, err := s.store.Fetch(ctx, id)
		if errors.Is(err, precwatch.ErrNotFound) {
			ev.warcErrors = append(ev.warcErrors, fmt.Sprintf("fetch %s: not stored", id))
			continue
		}
		if err != nil {
			return ev, err
		}
		bf := bundleFetch{ID: f.ID, Site: f.Site, RunID: f.RunID, URL: f.URL, FinalURL: f.FinalURL, FetchedAt: f.At,
			Status: f.Status, RequestHeaders: f.RequestHeaders, ResponseHeaders: f.ResponseHeaders,
			BodySHA256: f.BodySHA256, BodySize: f.BodySize, WARC: f.WARC, Legacy: f.Legacy}
		if name, ok := bodies[f.BodySHA256]; ok {
			bf.BodyFile = name
		} else if p, err := s.store.Page(ctx, f.BodySHA256); err == nil {
			name := "bodies/" + f.BodySHA256 + ".html.txt"
			bodies[f.BodySHA256], bf.BodyFile = name, name
			ev.files = append(ev.files, bundleFile{name, p.Body})
		} else if !errors.Is(err, precwatch.ErrNotFound) {
			return ev, err
		}
		if f.WARC != nil {
			switch err := s.copyRecords(ctx, &warc, *f.WARC); {
			case err == nil:
				bf.WARCFile = "evidence.warc.gz"
			default:
				ev.warcErrors = append(ev.warcErrors, fmt.Sprintf("fetch %s: %v", f.ID, err))
			}
		}
		ev.fetches = append(ev.fetches, bf)
	}
	if warc.Len() > 0 {
		ev.files = append(ev.files, bundleFile{"evidence.warc.gz", warc.Bytes()})
	}
	return ev, nil
}

// copyRecords appends the WARC records of ref to w, whole or not at all.
func (s *Server) copyRecords(ctx context.Context, w *bytes.Buffer, ref precwatch.WARCRef) error {
	if s.archive == nil {
		return errors.New("no archive configured for the console")
	}
	var one bytes.Buffer
	if err := s.archive.CopyRecords(ctx, &one, ref); err != nil {
		return err
	}
	_, err := w.Write(one.Bytes())
	return err
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// evidenceFetch is one row of the alert page's evidence table.
type evidenceFetch struct {
	precwatch.Fetch
	Role   string
	Fields []string
}

// evidenceList returns the fetches a's listing's fields came from, in the
// order of its sources (a listing stored before fetch records: its page's
// legacy fetch). A fetch not stored is left out.
func (s *Server) evidenceList(ctx context.Context, a precwatch.Alert) ([]evidenceFetch, error) {
	sources := a.Listing.Sources
	if len(sources) == 0 && a.Listing.PageSHA256 != "" {
		sources = []precwatch.Source{{Fetch: "page-" + a.Listing.PageSHA256, Role: "page"}}
	}
	var out []evidenceFetch
	for _, src := range sources {
		if len(out) >= maxBundleFetches {
			break
		}
		f, err := s.store.Fetch(ctx, src.Fetch)
		if errors.Is(err, precwatch.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, evidenceFetch{Fetch: f, Role: src.Role, Fields: src.Fields})
	}
	return out, nil
}
