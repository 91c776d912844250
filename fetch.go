package precwatch

// Exact provenance (issue 11): every fetch is its own record, with its own
// site, URLs, time, status and headers; bodies are kept once by their
// SHA-256. A listing names the fetches its fields were read from, and an
// alert's evidence is exactly those fetches.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Fetch is one HTTP exchange of a run, kept as evidence. Its body is the
// Page of SHA-256 BodySHA256, shared by every fetch that got those bytes.
type Fetch struct {
	// ID is FetchID of the fields below: the same fetch written twice (a
	// retried write) is one record.
	ID    string `json:"id"`
	Site  string `json:"site"`
	RunID string `json:"run_id"`
	// URL is the URL requested, FinalURL the one that answered (after
	// redirects; the mirror that served it when the site has mirrors).
	URL      string    `json:"url"`
	FinalURL string    `json:"final_url"`
	At       time.Time `json:"at"`
	Method   string    `json:"method"`
	Status   int       `json:"status"`
	// Proto is the response's protocol ("HTTP/1.1").
	Proto           string      `json:"proto,omitempty"`
	RequestHeaders  http.Header `json:"request_headers,omitempty"`
	ResponseHeaders http.Header `json:"response_headers,omitempty"`
	BodySHA256      string      `json:"body_sha256"`
	BodySize        int64       `json:"body_size"`
	// WARC says where the fetch's records are archived; nil when the run
	// wrote no archive (or, for a 304 answer, nothing new was received).
	WARC *WARCRef `json:"warc,omitempty"`
	// Legacy marks a record made from a page stored before fetch records
	// existed: its site, URL and time are those of the page's first fetch.
	Legacy bool `json:"legacy,omitempty"`
}

// WARCRef is where a fetch's request and response records are in a WARC
// file (issue 11).
type WARCRef struct {
	// File is the WARC file's name, relative to the archive directory.
	File string `json:"file"`
	// Offset is the byte offset of the request record in File; the
	// response record follows it. Length covers both records.
	Offset         int64  `json:"offset"`
	Length         int64  `json:"length"`
	RequestID      string `json:"request_id"`
	ResponseID     string `json:"response_id"`
	PayloadDigest  string `json:"payload_digest,omitempty"`
	ResponseDigest string `json:"block_digest,omitempty"`
}

// WARCFile is one archive file a run wrote, for the run record.
type WARCFile struct {
	// Path is the file's path as written (under the archive directory).
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	Records int    `json:"records"`
}

// secretHeaders carry a session's credentials: their values are not kept
// in fetch records or archives, only that they were there.
var secretHeaders = []string{"Cookie", "Set-Cookie", "Authorization", "Proxy-Authorization"}

// RedactHeaders returns a copy of h with the values of the headers that
// carry credentials (cookies, authorization) replaced by "[redacted]".
func RedactHeaders(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := h.Clone()
	for _, k := range secretHeaders {
		if vs, ok := out[k]; ok {
			for i := range vs {
				vs[i] = "[redacted]"
			}
		}
	}
	return out
}

// FetchID is the ID of the fetch of url by run runID of site at time at
// that got the body of SHA-256 body.
func FetchID(site, runID, url string, at time.Time, body string) string {
	h := sha256.New()
	for _, f := range []string{site, runID, url, strconv.FormatInt(at.UnixNano(), 10), body} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// CheckFetch returns nil when f can be kept: an ID that is FetchID of its
// fields, a site, a URL, a time and a body SHA-256.
func CheckFetch(f Fetch) error {
	switch {
	case f.Site == "" || f.URL == "" || f.At.IsZero() || f.BodySHA256 == "":
		return fmt.Errorf("%w: fetch %s without site, url, time or body sha256", ErrInvalid, f.ID)
	case f.Legacy:
		return nil
	case f.ID != FetchID(f.Site, f.RunID, f.URL, f.At, f.BodySHA256):
		return fmt.Errorf("%w: fetch %s: id is not that of its fields", ErrInvalid, f.ID)
	}
	return nil
}

// LegacyFetch is the fetch record made of a page stored before fetch
// records existed (issue 11 migration): the page's first site, URL and
// time, with no headers; its ID is "page-" and the page's SHA-256.
func LegacyFetch(p Page) Fetch {
	return Fetch{ID: "page-" + p.SHA256, Site: p.Site, URL: p.URL, FinalURL: p.URL, At: p.FetchedAt,
		Method: http.MethodGet, Status: http.StatusOK, BodySHA256: p.SHA256, BodySize: int64(len(p.Body)),
		ResponseHeaders: contentTypeHeader(p.ContentType), Legacy: true}
}

func contentTypeHeader(ct string) http.Header {
	if ct == "" {
		return nil
	}
	return http.Header{"Content-Type": {ct}}
}

// Source roles: which page of a listing a fetch was.
const (
	SourceIndex  = "index"
	SourceDetail = "detail"
)

// Source says which fetch some of a listing's fields were read from.
type Source struct {
	Fetch  string   `json:"fetch"`
	Role   string   `json:"role"`
	Fields []string `json:"fields"`
}

// listingFields are the fields of a listing a Source accounts for.
var listingFields = []string{"id", "url", "title", "description", "price", "currency", "vendor"}

func fieldValues(l Listing) []string {
	return []string{l.ID, l.URL, l.Title, l.Description, formatNumber(l.Price), l.Currency, l.Vendor}
}

// IndexSources credits every non-empty field of l to index fetch id.
func IndexSources(l Listing, id string) []Source {
	var fs []string
	for i, v := range fieldValues(l) {
		if v != "" {
			fs = append(fs, listingFields[i])
		}
	}
	return []Source{{Fetch: id, Role: SourceIndex, Fields: fs}}
}

// DetailSources credits the fields of detail (a listing completed from its
// detail page) to the fetches they were read from: a field the index row
// gave and the detail page left alike to index fetch indexID, the others
// to detail fetch detailID. Without an index fetch everything is the
// detail page's.
func DetailSources(index Listing, indexID string, detail Listing, detailID string) []Source {
	iv, dv := fieldValues(index), fieldValues(detail)
	var fromIndex, fromDetail []string
	for i, v := range dv {
		switch {
		case v == "":
		case indexID != "" && iv[i] == v:
			fromIndex = append(fromIndex, listingFields[i])
		default:
			fromDetail = append(fromDetail, listingFields[i])
		}
	}
	var out []Source
	if len(fromIndex) > 0 {
		out = append(out, Source{Fetch: indexID, Role: SourceIndex, Fields: fromIndex})
	}
	return append(out, Source{Fetch: detailID, Role: SourceDetail, Fields: fromDetail})
}

// FrameSources credits the fields of framed (a listing completed from the
// frame of its detail page) to the fetches they were read from: a field
// with the value page (the listing as the detail page completed it) had
// keeps page's source, the others go to the frame's fetch frameID, as a
// detail source.
func FrameSources(page Listing, framed Listing, frameID string) []Source {
	pv, fv := fieldValues(page), fieldValues(framed)
	owner := map[string]int{} // field → index in out
	out := make([]Source, 0, len(page.Sources)+1)
	for _, s := range page.Sources {
		out = append(out, Source{Fetch: s.Fetch, Role: s.Role})
		for _, f := range s.Fields {
			owner[f] = len(out) - 1
		}
	}
	frame := Source{Fetch: frameID, Role: SourceDetail}
	for i, v := range fv {
		name := listingFields[i]
		if j, ok := owner[name]; ok && v != "" && pv[i] == v {
			out[j].Fields = append(out[j].Fields, name)
		} else if v != "" {
			frame.Fields = append(frame.Fields, name)
		}
	}
	kept := out[:0]
	for _, s := range out {
		if len(s.Fields) > 0 {
			kept = append(kept, s)
		}
	}
	return append(kept, frame)
}

// FetchIDs returns the IDs of the fetches l's fields came from, in order,
// once each.
func (l Listing) FetchIDs() []string {
	var ids []string
	for _, s := range l.Sources {
		if s.Fetch != "" && !contains(ids, s.Fetch) {
			ids = append(ids, s.Fetch)
		}
	}
	return ids
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// FetchesNeeded returns the fetch records an observation must have stored
// before its alert writes are: its listing's sources, except the batch's
// own fetch (p.Fetch). Empty when no alert is written.
func FetchesNeeded(p *Page, o Observation, write []Alert) []string {
	if len(write) == 0 {
		return nil
	}
	var out []string
	for _, id := range o.Listing.FetchIDs() {
		if p != nil && p.Fetch != nil && p.Fetch.ID == id {
			continue
		}
		out = append(out, id)
	}
	return out
}

// ErrNoFetch is the error of an alert write whose evidence fetch is not
// stored.
func ErrNoFetch(o Observation, id string) error {
	return fmt.Errorf("%w: listing %s %q: evidence fetch %s is not stored", ErrInvalid, o.Listing.Site, o.Listing.Identity(), id)
}

// FetchStore is what a Store keeps of fetches (issue 11). RecordPage
// writes a page's fetch record (Page.Fetch) with it.
type FetchStore interface {
	// Fetch returns one fetch record by ID, or ErrNotFound. An ID
	// "page-<sha256>" not stored as a fetch (a page stored before fetch
	// records, or by SavePage) is answered from the stored page (see
	// LegacyFetch).
	Fetch(ctx context.Context, id string) (Fetch, error)
	// RunFetches lists the fetch records of run runID, oldest first.
	RunFetches(ctx context.Context, runID string) ([]Fetch, error)
}

// EvidenceArchive reads the archived WARC records of fetches (issue 11),
// for evidence bundles.
type EvidenceArchive interface {
	// CopyRecords writes the WARC records of ref, exactly as archived, to w.
	CopyRecords(ctx context.Context, w io.Writer, ref WARCRef) error
}

// Archive writes the WARC files of runs (issue 11).
type Archive interface {
	// StartRun opens the archive of run r; its records go to files of
	// its own.
	StartRun(ctx context.Context, r Run) (RunArchive, error)
}

// RunArchive is the WARC output of one run. Write may be called from
// several goroutines.
type RunArchive interface {
	// Write archives fetch f with body (its request and response records)
	// and returns where.
	Write(f Fetch, body []byte) (WARCRef, error)
	// Close closes the run's files and lists them with their digests.
	Close() ([]WARCFile, error)
}
