// Package warcfile writes each run's fetches as WARC/1.1 files (ISO 28500)
// with nlnwa/gowarc, and reads an archived fetch's records back for
// evidence bundles (issue 11).
//
// A run's files are named "<site>-<run id>-<token>-<serial>.warc.gz" under the
// archive directory. Each starts with a warcinfo record (software, run,
// site); each fetch is a request record then a response record carrying
// the headers sent and received and the body, each record its own gzip
// member, so a record can be cut out of its file by offset. A file is
// closed (and a new one opened) once it reaches MaxFileSize; the run's
// last record is a metadata record, and Close lists every file with its
// SHA-256 for the run record.
package warcfile

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	gowarc "github.com/nlnwa/gowarc/v3"

	"github.com/precwatch/precwatch"
)

// DefaultMaxFileSize is the size at which a WARC file is closed and the
// next one started.
const DefaultMaxFileSize = 1 << 30

var _ precwatch.Archive = (*Archive)(nil)
var _ precwatch.EvidenceArchive = (*Archive)(nil)

// Options configure an Archive.
type Options struct {
	// Dir is the directory the WARC files are written to (created when
	// missing).
	Dir string
	// MaxFileSize closes a file once it holds this many (compressed)
	// bytes; DefaultMaxFileSize when zero.
	MaxFileSize int64
	// Software names the writer in warcinfo records.
	Software string
	// Now is the clock of warcinfo and metadata records (time.Now).
	Now func() time.Time
}

// Archive writes runs' WARC files under one directory.
type Archive struct {
	opts Options
}

// New returns an Archive writing under opts.Dir, which is created by the
// first run that writes (a reader, such as the console, creates nothing).
func New(opts Options) (*Archive, error) {
	if opts.Dir == "" {
		return nil, errors.New("warcfile: no directory")
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	if opts.Software == "" {
		opts.Software = "precwatch"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Archive{opts: opts}, nil
}

// Dir is the directory the archive writes to.
func (a *Archive) Dir() string { return a.opts.Dir }

// libMu serialises every call into gowarc that may make record options,
// and every uuid.NewString: gowarc v3.1.0 sets google/uuid's global
// rand-pool flag each time it makes them (options.go), a data race with
// any concurrent use of either. Taken before any runArchive's mu.
var libMu sync.Mutex

// recordOpts are the options of every record written: WARC/1.1, SHA-256
// block and payload digests, lengths computed by the library.
var recordOpts = []gowarc.WarcRecordOption{
	gowarc.WithVersion(gowarc.V1_1),
	gowarc.WithAddMissingDigest(true),
	gowarc.WithDefaultDigestAlgorithm("sha256"),
	gowarc.WithAddMissingContentLength(true),
	gowarc.WithAddMissingRecordId(true),
	gowarc.WithFixContentLength(true),
	gowarc.WithFixDigest(true),
}

// StartRun opens the archive of run r; see precwatch.Archive. Files are
// created when the first fetch is written.
func (a *Archive) StartRun(_ context.Context, r precwatch.Run) (precwatch.RunArchive, error) {
	if err := os.MkdirAll(a.opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("warcfile: %w", err)
	}
	ra := &runArchive{a: a, run: r, records: map[string]int{}}
	// A token of the process's own: workers of one run on other
	// processes (scale-out) may write to the same directory.
	var tok [3]byte
	_, _ = rand.Read(tok[:])
	names := &names{dir: a.opts.Dir, prefix: safeName(r.Site) + "-" + safeName(r.ID) + "-" + hex.EncodeToString(tok[:])}
	libMu.Lock()
	defer libMu.Unlock()
	ra.w = gowarc.NewWarcFileWriter(
		gowarc.WithFileNameGenerator(names),
		gowarc.WithMaxFileSize(0), // rotated here, between fetches (see Write)
		gowarc.WithCompression(true),
		gowarc.WithRecordOptions(recordOpts...),
		gowarc.WithWarcInfoFunc(ra.warcinfo),
		gowarc.WithAfterFileCreationHook(ra.closed),
	)
	return ra, nil
}

// names generates a run's file names; gowarc's pattern generator would
// look up the host's outbound address.
type names struct {
	dir, prefix string
	mu          sync.Mutex
	serial      int
}

func (n *names) NewWarcfileName() (string, string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.serial++
	return n.dir, fmt.Sprintf("%s-%05d.warc", n.prefix, n.serial)
}

// safeName keeps letters, digits, '.', '_' and '-' of s for a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}

// runArchive is one run's WARC output.
type runArchive struct {
	a   *Archive
	run precwatch.Run
	w   *gowarc.WarcFileWriter

	mu      sync.Mutex // one fetch's records at a time, so they share a file
	current string     // the open file's name
	records map[string]int
	files   []precwatch.WARCFile
	failed  error // a file that could not be hashed
	closedW bool
}

// warcinfo fills each file's warcinfo record.
func (ra *runArchive) warcinfo(rb gowarc.WarcRecordBuilder) error {
	_, err := rb.WriteString(warcFields(
		"software", ra.a.opts.Software,
		"format", "WARC File Format 1.1",
		"conformsTo", "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
		"isPartOf", ra.run.ID,
		"description", "precwatch run "+ra.run.ID+" of site "+ra.run.Site,
		"x-precwatch-site", ra.run.Site,
		"x-precwatch-run-start", ra.run.Start.UTC().Format(time.RFC3339Nano)))
	return err
}

// warcFields formats name, value pairs as an application/warc-fields
// block; values lose line breaks.
func warcFields(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		v := strings.NewReplacer("\r", " ", "\n", " ").Replace(kv[i+1])
		fmt.Fprintf(&b, "%s: %s\r\n", kv[i], v)
	}
	return b.String()
}

// closed is called by gowarc once a file is complete and renamed: its
// digest goes to the run record.
func (ra *runArchive) closed(path string, size int64, _ string) error {
	sum, err := fileSHA256(path)
	ra.mu.Lock()
	defer ra.mu.Unlock()
	if err != nil {
		ra.failed = errors.Join(ra.failed, err)
	}
	name := filepath.Base(path)
	ra.files = append(ra.files, precwatch.WARCFile{Path: path, Size: size, SHA256: sum, Records: ra.records[name] + 1}) // + its warcinfo
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("warcfile: hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("warcfile: hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Write archives fetch f with body: a request record, then a response
// record that refers to it; see precwatch.RunArchive.
func (ra *runArchive) Write(f precwatch.Fetch, body []byte) (precwatch.WARCRef, error) {
	target := f.FinalURL
	if target == "" {
		target = f.URL
	}
	u, err := url.Parse(target)
	if err != nil {
		return precwatch.WARCRef{}, fmt.Errorf("warcfile: fetch %s: url: %w", f.ID, err)
	}
	libMu.Lock()
	defer libMu.Unlock()
	reqID, respID := "<urn:uuid:"+uuid.NewString()+">", "<urn:uuid:"+uuid.NewString()+">"

	req := gowarc.NewRecordBuilder(gowarc.Request, recordOpts...)
	req.AddWarcHeader(gowarc.WarcRecordID, reqID)
	req.AddWarcHeaderTime(gowarc.WarcDate, f.At)
	req.AddWarcHeader(gowarc.WarcTargetURI, target)
	req.AddWarcHeader(gowarc.ContentType, "application/http;msgtype=request")
	req.AddWarcHeader(gowarc.WarcConcurrentTo, respID)
	if _, err := req.Write(requestBlock(f, u)); err != nil {
		return precwatch.WARCRef{}, fmt.Errorf("warcfile: fetch %s: %w", f.ID, err)
	}
	resp := gowarc.NewRecordBuilder(gowarc.Response, recordOpts...)
	resp.AddWarcHeader(gowarc.WarcRecordID, respID)
	resp.AddWarcHeaderTime(gowarc.WarcDate, f.At)
	resp.AddWarcHeader(gowarc.WarcTargetURI, target)
	resp.AddWarcHeader(gowarc.ContentType, "application/http;msgtype=response")
	resp.AddWarcHeader(gowarc.WarcConcurrentTo, reqID)
	resp.AddWarcHeader("X-Precwatch-Fetch-ID", f.ID)
	if _, err := resp.Write(responseBlock(f, body)); err != nil {
		return precwatch.WARCRef{}, fmt.Errorf("warcfile: fetch %s: %w", f.ID, err)
	}
	reqRec, _, err := req.Build()
	if err != nil {
		return precwatch.WARCRef{}, fmt.Errorf("warcfile: fetch %s: request record: %w", f.ID, err)
	}
	respRec, _, err := resp.Build()
	if err != nil {
		_ = reqRec.Close()
		return precwatch.WARCRef{}, fmt.Errorf("warcfile: fetch %s: response record: %w", f.ID, err)
	}
	ref := precwatch.WARCRef{RequestID: reqID, ResponseID: respID,
		PayloadDigest: respRec.WarcHeader().Get(gowarc.WarcPayloadDigest), ResponseDigest: respRec.WarcHeader().Get(gowarc.WarcBlockDigest)}

	ra.mu.Lock()
	defer ra.mu.Unlock()
	if ra.closedW {
		_, _ = reqRec.Close(), respRec.Close()
		return precwatch.WARCRef{}, errors.New("warcfile: run archive closed")
	}
	res := ra.w.Write(reqRec, respRec)
	if len(res) != 2 {
		return precwatch.WARCRef{}, errors.New("warcfile: writer closed")
	}
	for _, r := range res {
		if r.Err != nil {
			return precwatch.WARCRef{}, fmt.Errorf("warcfile: fetch %s: write: %w", f.ID, r.Err)
		}
	}
	ref.File, ref.Offset = res[0].FileName, res[0].FileOffset
	ra.records[ref.File] += 2
	// Each record is flushed whole to the open file: its size now ends
	// the fetch's records.
	open := filepath.Join(ra.a.opts.Dir, ref.File+".open")
	st, err := os.Stat(open)
	if err != nil {
		return precwatch.WARCRef{}, fmt.Errorf("warcfile: fetch %s: %w", f.ID, err)
	}
	ref.Length = st.Size() - ref.Offset
	if st.Size() >= ra.a.opts.MaxFileSize {
		ra.mu.Unlock() // the file's hook takes mu
		err := ra.w.Rotate()
		ra.mu.Lock()
		if err != nil {
			return ref, fmt.Errorf("warcfile: rotate: %w", err)
		}
	}
	return ref, nil
}

// requestBlock is the HTTP request as sent: request line, Host, then the
// headers.
func requestBlock(f precwatch.Fetch, u *url.URL) []byte {
	var b bytes.Buffer
	method := f.Method
	if method == "" {
		method = http.MethodGet
	}
	fmt.Fprintf(&b, "%s %s %s\r\n", method, u.RequestURI(), proto(f))
	fmt.Fprintf(&b, "Host: %s\r\n", u.Host)
	h := f.RequestHeaders.Clone()
	h.Del("Host")
	_ = h.Write(&b)
	b.WriteString("\r\n")
	return b.Bytes()
}

// responseBlock is the HTTP response: status line, headers and the body
// as the crawler read it. The body is already decoded, so a
// Content-Encoding or Transfer-Encoding the server sent is kept under
// X-Precwatch-Orig- (the fetch record keeps the headers as received) and
// Content-Length is that of the body, for replay tools to read it as is.
func responseBlock(f precwatch.Fetch, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %d %s\r\n", proto(f), f.Status, http.StatusText(f.Status))
	h := f.ResponseHeaders.Clone()
	if h == nil {
		h = http.Header{}
	}
	for _, k := range []string{"Content-Encoding", "Transfer-Encoding", "Content-Length"} {
		if v, ok := h[k]; ok {
			h["X-Precwatch-Orig-"+k] = v
			h.Del(k)
		}
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	_ = h.Write(&b)
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

func proto(f precwatch.Fetch) string {
	if f.Proto == "" || !strings.HasPrefix(f.Proto, "HTTP/") {
		return "HTTP/1.1"
	}
	return f.Proto
}

// Close writes the run's metadata record, closes its files and lists
// them; see precwatch.RunArchive.
func (ra *runArchive) Close() ([]precwatch.WARCFile, error) {
	ra.mu.Lock()
	if ra.closedW {
		ra.mu.Unlock()
		return nil, errors.New("warcfile: run archive closed twice")
	}
	wrote := len(ra.records) > 0
	ra.mu.Unlock()
	var err error
	if wrote {
		err = ra.metadata()
	}
	ra.mu.Lock()
	ra.closedW = true
	ra.mu.Unlock()
	libMu.Lock()
	err = errors.Join(err, ra.w.Close())
	libMu.Unlock()
	ra.mu.Lock()
	defer ra.mu.Unlock()
	files := slices.Clone(ra.files)
	return files, errors.Join(err, ra.failed)
}

// metadata writes a metadata record describing the run into its last file.
func (ra *runArchive) metadata() error {
	libMu.Lock()
	defer libMu.Unlock()
	rb := gowarc.NewRecordBuilder(gowarc.Metadata, recordOpts...)
	rb.AddWarcHeader(gowarc.WarcRecordID, "<urn:uuid:"+uuid.NewString()+">")
	rb.AddWarcHeaderTime(gowarc.WarcDate, ra.a.opts.Now())
	rb.AddWarcHeader(gowarc.WarcTargetURI, "urn:precwatch:run:"+ra.run.ID)
	rb.AddWarcHeader(gowarc.ContentType, gowarc.ApplicationWarcFields)
	fields := warcFields("run-id", ra.run.ID, "site", ra.run.Site,
		"start", ra.run.Start.UTC().Format(time.RFC3339Nano), "software", ra.a.opts.Software)
	if _, err := rb.WriteString(fields); err != nil {
		return fmt.Errorf("warcfile: metadata: %w", err)
	}
	rec, _, err := rb.Build()
	if err != nil {
		return fmt.Errorf("warcfile: metadata: %w", err)
	}
	ra.mu.Lock()
	defer ra.mu.Unlock()
	res := ra.w.Write(rec)
	if len(res) != 1 {
		return errors.New("warcfile: metadata: writer closed")
	}
	if res[0].Err != nil {
		return fmt.Errorf("warcfile: metadata: %w", res[0].Err)
	}
	ra.records[res[0].FileName]++
	return nil
}

// maxRecordsBytes bounds what CopyRecords copies: two records of a page
// the crawler caps at far less.
const maxRecordsBytes = 256 << 20

// CopyRecords writes the records of ref exactly as archived (their gzip
// members, so the output is itself a valid .warc.gz); see
// precwatch.EvidenceArchive. It checks that they are the records ref
// names before copying.
func (a *Archive) CopyRecords(_ context.Context, w io.Writer, ref precwatch.WARCRef) error {
	if ref.File == "" || ref.Length <= 0 || ref.Length > maxRecordsBytes || filepath.Base(ref.File) != ref.File {
		return fmt.Errorf("warcfile: %w: bad reference %+v", precwatch.ErrInvalid, ref)
	}
	path := filepath.Join(a.opts.Dir, ref.File)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) { // the run is still writing it
		f, err = os.Open(path + ".open")
	}
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("warcfile: %s: %w", ref.File, precwatch.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("warcfile: %w", err)
	}
	defer f.Close()
	buf := make([]byte, ref.Length)
	if _, err := f.ReadAt(buf, ref.Offset); err != nil {
		return fmt.Errorf("warcfile: read %s at %d: %w", ref.File, ref.Offset, err)
	}
	ids, err := RecordIDs(bytes.NewReader(buf))
	if err != nil {
		return fmt.Errorf("warcfile: %s at %d: %w", ref.File, ref.Offset, err)
	}
	if !slices.Equal(ids, []string{ref.RequestID, ref.ResponseID}) {
		return fmt.Errorf("warcfile: %s at %d holds records %v, not %s and %s", ref.File, ref.Offset, ids, ref.RequestID, ref.ResponseID)
	}
	_, err = w.Write(buf)
	return err
}

// RecordIDs reads a WARC stream (gzipped or not) with gowarc, validating
// every record's digests, and returns their record IDs in order.
func RecordIDs(r io.Reader) ([]string, error) {
	libMu.Lock()
	defer libMu.Unlock()
	rd, err := gowarc.NewWarcFileReaderFromStream(bufio.NewReader(r), 0,
		gowarc.WithBlockErrorPolicy(gowarc.ErrFail), gowarc.WithSyntaxErrorPolicy(gowarc.ErrFail), gowarc.WithSpecViolationPolicy(gowarc.ErrFail))
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var ids []string
	for rec, err := range rd.Records() {
		if err != nil {
			return nil, err
		}
		ids = append(ids, rec.WarcRecord.WarcHeader().Get(gowarc.WarcRecordID))
		// Reading the block through validates its digests.
		if _, err := rec.WarcRecord.ValidateDigest(); err != nil {
			_ = rec.Close()
			return nil, err
		}
		_ = rec.Close()
	}
	return ids, nil
}
