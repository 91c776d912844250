package crawler

// Exact provenance (issue 11): each fetched page is a fetch record with
// the headers sent and received, archived as WARC records when the
// crawler has an archive, and written with its page (see pipeline.go);
// listings name the fetches their fields came from.

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/precwatch/precwatch"
)

// WithArchive writes every run's fetches as WARC files to a (issue 11);
// the run record lists the files.
func WithArchive(a precwatch.Archive) Option {
	return func(c *Crawler) { c.archive = a }
}

// maxSent bounds the exchanges kept for pages not yet handled (a page
// aborted as non-HTML leaves its exchange behind).
const maxSent = 4096

// sentExchange is what the transport saw of the last exchange for a URL:
// the request headers as sent (with the cookies the client added) and
// the response's status line and headers.
type sentExchange struct {
	method   string
	reqH     http.Header
	proto    string
	status   int
	respH    http.Header
	finalURL string
}

// noteSent keeps the exchange of req, answered by resp, for the page
// handler (called by the run's transport).
func (r *run) noteSent(req *http.Request, resp *http.Response) {
	x := sentExchange{method: req.Method, reqH: req.Header.Clone(), proto: resp.Proto, status: resp.StatusCode,
		respH: asReceived(resp.Header), finalURL: req.URL.String()}
	if resp.Request != nil && resp.Request.URL != nil {
		x.finalURL = resp.Request.URL.String()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sent == nil || len(r.sent) >= maxSent {
		r.sent = make(map[string]sentExchange)
	}
	r.sent[req.URL.String()] = x
}

// asReceived is a copy of response headers h with the Content-Type the
// transport moved aside (see headerContentType) put back as the server
// sent it.
func asReceived(h http.Header) http.Header {
	out := h.Clone()
	if ct, ok := out[headerContentType]; ok {
		out["Content-Type"] = ct
		delete(out, headerContentType)
	}
	return out
}

// takeSent returns and forgets the exchange of url.
func (r *run) takeSent(url string) (sentExchange, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, ok := r.sent[url]
	delete(r.sent, url)
	return x, ok
}

// fetchRecord is the record of the fetch of task t answered by resp, body
// digest, at at; a 304 replay (replay) names the stored body. The
// fetch's records are archived when the run has an archive.
func (r *run) fetchRecord(t task, resp *colly.Response, digest string, at time.Time, replay bool) *precwatch.Fetch {
	final := resp.Request.URL.String()
	requested := t.url
	if requested == "" {
		requested = final
	}
	f := &precwatch.Fetch{Site: r.c.site.Name, RunID: r.rec.ID, URL: requested, FinalURL: final, At: at,
		Method: resp.Request.Method, Status: resp.StatusCode, BodySHA256: digest, BodySize: int64(len(resp.Body))}
	if x, ok := r.takeSent(final); ok {
		f.Method, f.Proto, f.Status = x.method, x.proto, x.status
		f.RequestHeaders, f.ResponseHeaders = precwatch.RedactHeaders(x.reqH), precwatch.RedactHeaders(x.respH)
		f.FinalURL = x.finalURL
	} else {
		if resp.Request.Headers != nil {
			f.RequestHeaders = precwatch.RedactHeaders(*resp.Request.Headers)
		}
		if resp.Headers != nil {
			f.ResponseHeaders = precwatch.RedactHeaders(asReceived(*resp.Headers))
		}
	}
	if f.Method == "" {
		f.Method = http.MethodGet
	}
	if replay {
		f.Status = http.StatusNotModified
	}
	// A start URL's credentials (user:password@) never reach a record or
	// an archive (issue 10); the Authorization they became is redacted.
	f.URL, f.FinalURL = withoutUserinfo(f.URL), withoutUserinfo(f.FinalURL)
	f.ID = precwatch.FetchID(f.Site, f.RunID, f.URL, f.At, f.BodySHA256)
	if r.archive != nil && !replay { // a 304 brought no body to archive
		ref, err := r.archive.Write(*f, resp.Body)
		if err != nil {
			r.addErr(err)
		} else {
			f.WARC = &ref
		}
	}
	return f
}

// withoutUserinfo is raw without its user:password@ part.
func withoutUserinfo(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}

// indexFetch is the fetch a detail task's listing was read from on its
// index page, or "".
func indexFetch(l precwatch.Listing) string {
	for _, s := range l.Sources {
		if s.Role == precwatch.SourceIndex {
			return s.Fetch
		}
	}
	return ""
}

// awaitFetch waits, on a shared frontier, until fetch id (an index page
// another worker read) is stored, at most flushTimeout: a listing naming
// it is refused until then.
func (r *run) awaitFetch(id string) {
	if r.shared == nil || id == "" {
		return
	}
	deadline := time.Now().Add(flushTimeout)
	for {
		_, err := r.c.store.Fetch(r.ctx, id)
		if !errors.Is(err, precwatch.ErrNotFound) || time.Now().After(deadline) {
			return
		}
		if sleep(r.ctx, 50*time.Millisecond) != nil {
			return
		}
	}
}

// openArchive starts the run's WARC output, when the crawler has an
// archive; a run that cannot archive still crawls, with the error kept.
func (r *run) openArchive() {
	if r.c.archive == nil {
		return
	}
	ra, err := r.c.archive.StartRun(r.ctx, r.rec)
	if err != nil {
		r.addErr(err)
		return
	}
	r.archive = ra
}

// closeArchive closes the run's WARC output and returns its files.
func (r *run) closeArchive() ([]precwatch.WARCFile, error) {
	if r.archive == nil {
		return nil, nil
	}
	files, err := r.archive.Close()
	r.archive = nil
	return files, err
}
