package warcfile

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gowarc "github.com/nlnwa/gowarc/v3"

	"github.com/precwatch/precwatch"
)

// warcioVersion is the version of Webrecorder's warcio (npm) the tests
// read the files with, as an implementation independent of gowarc.
const warcioVersion = "2.4.11"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testFetch is fetch i of run "run-1" of site "silkvault", with its body.
func testFetch(i int) (precwatch.Fetch, []byte) {
	body := []byte(fmt.Sprintf("<html><body><h1>Listing %d</h1><p>Hydrogen peroxide 30%%, 1 L, %d EUR, shipping worldwide</p>%s</body></html>",
		i, 20+i, strings.Repeat("<!-- padding -->", 40*i)))
	if i == 2 {
		body = append(body, 0, 0xff, 0xfe, '\r', '\n') // bytes a text reader could mangle
	}
	url := fmt.Sprintf("http://silkvaultxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion/item/%d?ref=a&b=c", i)
	sum := sha256.Sum256(body)
	at := t0.Add(time.Duration(i) * time.Second)
	f := precwatch.Fetch{
		Site: "silkvault", RunID: "run-1", URL: url, FinalURL: url, At: at, Method: http.MethodGet,
		Status: http.StatusOK, Proto: "HTTP/1.1",
		RequestHeaders: http.Header{"User-Agent": {"Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128.0"},
			"Accept": {"text/html"}, "Cookie": {"[redacted]"}},
		ResponseHeaders: http.Header{"Content-Type": {"text/html; charset=utf-8"}, "Server": {"nginx"}},
		BodySHA256:      hex.EncodeToString(sum[:]), BodySize: int64(len(body)),
	}
	switch i {
	case 3:
		f.Status = http.StatusNotFound
	case 4: // the server compressed it; the crawler read it decoded
		f.ResponseHeaders.Set("Content-Encoding", "gzip")
		f.ResponseHeaders.Set("Content-Length", "123")
	}
	f.ID = precwatch.FetchID(f.Site, f.RunID, f.URL, f.At, f.BodySHA256)
	return f, body
}

// writeRun archives n fetches in a run with files of at most maxSize.
func writeRun(t *testing.T, dir string, n int, maxSize int64) ([]precwatch.Fetch, [][]byte, []precwatch.WARCFile, *Archive) {
	t.Helper()
	a, err := New(Options{Dir: dir, MaxFileSize: maxSize, Software: "precwatch test", Now: func() time.Time { return t0.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	ra, err := a.StartRun(context.Background(), precwatch.Run{ID: "run-1", Site: "silkvault", Start: t0})
	if err != nil {
		t.Fatal(err)
	}
	var fs []precwatch.Fetch
	var bodies [][]byte
	for i := range n {
		f, body := testFetch(i)
		ref, err := ra.Write(f, body)
		if err != nil {
			t.Fatal(err)
		}
		f.WARC = &ref
		fs, bodies = append(fs, f), append(bodies, body)
	}
	files, err := ra.Close()
	if err != nil {
		t.Fatal(err)
	}
	return fs, bodies, files, a
}

// TestRunArchive writes a run rotated over several files and reads them
// back with gowarc: every record where its fetch says, digests valid, the
// headers and bodies as fetched; the run's files listed with their digests.
func TestRunArchive(t *testing.T) {
	dir := t.TempDir()
	const maxSize = 1500
	fs, bodies, files, _ := writeRun(t, dir, 6, maxSize)
	if len(files) < 2 {
		t.Fatalf("%d files, want the run rotated over several", len(files))
	}
	onDisk, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(onDisk) != len(files) {
		t.Errorf("files on disk %v, run lists %d", onDisk, len(files))
	}
	total := 0
	for i, f := range files {
		raw, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(raw)
		if f.SHA256 != hex.EncodeToString(sum[:]) || f.Size != int64(len(raw)) {
			t.Errorf("file %s: listed sha256 %s size %d, is %x size %d", f.Path, f.SHA256, f.Size, sum, len(raw))
		}
		if i < len(files)-1 && f.Size < maxSize {
			t.Errorf("file %s closed at %d bytes, before %d", f.Path, f.Size, maxSize)
		}
		if !strings.HasPrefix(filepath.Base(f.Path), "silkvault-run-1-") || !strings.HasSuffix(f.Path, ".warc.gz") {
			t.Errorf("file name %s", f.Path)
		}
		recs := readGowarc(t, f.Path)
		if len(recs) != f.Records {
			t.Errorf("file %s: %d records, run lists %d", f.Path, len(recs), f.Records)
		}
		if recs[0].typ != "warcinfo" {
			t.Errorf("file %s starts with %s, want warcinfo", f.Path, recs[0].typ)
		}
		total += len(recs)
	}
	if want := 2*len(fs) + len(files) + 1; total != want { // + a warcinfo each, + the metadata
		t.Errorf("%d records in all, want %d", total, want)
	}
	last := readGowarc(t, files[len(files)-1].Path)
	if m := last[len(last)-1]; m.typ != "metadata" || !strings.Contains(string(m.block), "run-id: run-1") {
		t.Errorf("last record %s %q, want the run's metadata", m.typ, m.block)
	}

	byID := map[string]gowarcRecord{}
	for _, f := range files {
		for _, r := range readGowarc(t, f.Path) {
			byID[r.id] = r
		}
	}
	for i, f := range fs {
		req, resp := byID[f.WARC.RequestID], byID[f.WARC.ResponseID]
		if req.typ != "request" || resp.typ != "response" {
			t.Fatalf("fetch %d: records %q %q, want request and response", i, req.typ, resp.typ)
		}
		if req.file != f.WARC.File || req.offset != f.WARC.Offset || resp.file != f.WARC.File {
			t.Errorf("fetch %d: records at %s:%d, ref says %s:%d", i, req.file, req.offset, f.WARC.File, f.WARC.Offset)
		}
		if req.target != f.URL || resp.target != f.URL {
			t.Errorf("fetch %d: targets %s %s, want %s", i, req.target, resp.target, f.URL)
		}
		if !resp.date.Equal(f.At) {
			t.Errorf("fetch %d: WARC-Date %s, want the fetch time %s", i, resp.date, f.At)
		}
		if !bytes.Equal(resp.payload, bodies[i]) {
			t.Errorf("fetch %d: payload differs from the body", i)
		}
		if resp.status != f.Status {
			t.Errorf("fetch %d: status %d, want %d", i, resp.status, f.Status)
		}
		if got := req.http.Get("User-Agent"); got != f.RequestHeaders.Get("User-Agent") {
			t.Errorf("fetch %d: request User-Agent %q", i, got)
		}
		if !strings.HasPrefix(string(req.block), "GET /item/") || req.http.Get("Host") == "" {
			t.Errorf("fetch %d: request block %q", i, req.block)
		}
		if got := resp.http.Get("Server"); got != "nginx" {
			t.Errorf("fetch %d: response Server %q", i, got)
		}
		if i == 4 && (resp.http.Get("Content-Encoding") != "" || resp.http.Get("X-Precwatch-Orig-Content-Encoding") != "gzip") {
			t.Errorf("fetch 4: decoded body archived with headers %v", resp.http)
		}
		sum := sha256.Sum256(bodies[i])
		if want := "sha256:" + hex.EncodeToString(sum[:]); resp.payloadDigest != want || f.WARC.PayloadDigest != want {
			t.Errorf("fetch %d: payload digest %s (ref %s), want %s", i, resp.payloadDigest, f.WARC.PayloadDigest, want)
		}
	}
}

// TestWarcio reads the run's files with Webrecorder's warcio under Node,
// an implementation independent of gowarc, and checks every payload
// digest and every body.
func TestWarcio(t *testing.T) {
	dir := t.TempDir()
	fs, bodies, files, a := writeRun(t, dir, 5, 2000)
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	recs := warcio(t, paths...)
	if want := 2*len(fs) + len(files) + 1; len(recs) != want {
		t.Fatalf("warcio read %d records, want %d", len(recs), want)
	}
	byID := map[string]warcioRecord{}
	digests := 0
	for _, r := range recs {
		if r.Version != "WARC/1.1" {
			t.Errorf("record %s: version %q", r.ID, r.Version)
		}
		if r.PayloadDigest != "" {
			digests++
			if r.DigestOK == nil || !*r.DigestOK {
				t.Errorf("record %s (%s): warcio finds its payload digest %s wrong", r.ID, r.Type, r.PayloadDigest)
			}
		}
		byID[r.ID] = r
	}
	if digests < len(fs) {
		t.Errorf("%d records with a payload digest, want at least %d", digests, len(fs))
	}
	for i, f := range fs {
		resp, req := byID[f.WARC.ResponseID], byID[f.WARC.RequestID]
		if resp.Type != "response" || req.Type != "request" || resp.Concurrent != f.WARC.RequestID {
			t.Errorf("fetch %d: warcio read %+v / %+v", i, req.Type, resp.Type)
		}
		if !bytes.Equal(resp.payload(t), bodies[i]) || resp.Status != f.Status || resp.Target != f.URL {
			t.Errorf("fetch %d: warcio read status %d target %s, body equal %v", i, resp.Status, resp.Target, bytes.Equal(resp.payload(t), bodies[i]))
		}
	}

	// An evidence bundle's records, cut out by CopyRecords, are a valid
	// .warc.gz for warcio too.
	var out bytes.Buffer
	for _, f := range fs {
		if err := a.CopyRecords(context.Background(), &out, *f.WARC); err != nil {
			t.Fatal(err)
		}
	}
	cut := filepath.Join(t.TempDir(), "evidence.warc.gz")
	if err := os.WriteFile(cut, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	got := warcio(t, cut)
	if len(got) != 2*len(fs) {
		t.Fatalf("warcio read %d records from the cut-out records, want %d", len(got), 2*len(fs))
	}
	for i, r := range got {
		if want := []string{fs[i/2].WARC.RequestID, fs[i/2].WARC.ResponseID}[i%2]; r.ID != want {
			t.Errorf("cut-out record %d is %s, want %s", i, r.ID, want)
		}
		if r.PayloadDigest != "" && (r.DigestOK == nil || !*r.DigestOK) {
			t.Errorf("cut-out record %s: payload digest wrong", r.ID)
		}
	}
}

// TestCopyRecords: a bundle gets exactly the fetch's records, checked, and
// a reference that does not name them is refused.
func TestCopyRecords(t *testing.T) {
	fs, _, _, a := writeRun(t, t.TempDir(), 3, DefaultMaxFileSize)
	ctx := context.Background()
	var out bytes.Buffer
	if err := a.CopyRecords(ctx, &out, *fs[1].WARC); err != nil {
		t.Fatal(err)
	}
	ids, err := RecordIDs(&out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{fs[1].WARC.RequestID, fs[1].WARC.ResponseID}) {
		t.Errorf("copied records %v", ids)
	}
	wrong := *fs[1].WARC
	wrong.Offset = fs[2].WARC.Offset
	if err := a.CopyRecords(ctx, io.Discard, wrong); err == nil {
		t.Error("CopyRecords of another fetch's records: no error")
	}
	for _, bad := range []precwatch.WARCRef{
		{File: "../etc/passwd", Length: 10, RequestID: "a", ResponseID: "b"},
		{File: fs[0].WARC.File, Length: 0},
	} {
		if err := a.CopyRecords(ctx, io.Discard, bad); !errors.Is(err, precwatch.ErrInvalid) {
			t.Errorf("CopyRecords(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	missing := *fs[0].WARC
	missing.File = "silkvault-run-9-00001.warc.gz"
	if err := a.CopyRecords(ctx, io.Discard, missing); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("CopyRecords(missing file) = %v, want ErrNotFound", err)
	}
}

// gowarcRecord is what the tests read of a record with gowarc.
type gowarcRecord struct {
	file, typ, id, target, payloadDigest string
	offset                               int64
	date                                 time.Time
	status                               int
	http                                 http.Header
	block, payload                       []byte
}

// readGowarc reads every record of path with gowarc, failing on any
// syntax, specification or digest error.
func readGowarc(t *testing.T, path string) []gowarcRecord {
	t.Helper()
	rd, err := gowarc.NewWarcFileReader(path, 0, gowarc.WithStrictValidation(), gowarc.WithBlockErrorPolicy(gowarc.ErrFail))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var out []gowarcRecord
	for rec, err := range rd.Records() {
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(rec.Validation) > 0 {
			t.Errorf("%s: record at %d: %v", path, rec.Offset, rec.Validation)
		}
		w := rec.WarcRecord
		r := gowarcRecord{file: filepath.Base(path), typ: w.Type().String(), id: w.WarcHeader().Get(gowarc.WarcRecordID), offset: rec.Offset,
			target: w.WarcHeader().Get(gowarc.WarcTargetURI), payloadDigest: w.WarcHeader().Get(gowarc.WarcPayloadDigest)}
		r.date, _ = w.Date()
		raw, err := w.Block().RawBytes()
		if err != nil {
			t.Fatal(err)
		}
		if r.block, err = io.ReadAll(raw); err != nil {
			t.Fatal(err)
		}
		switch b := w.Block().(type) {
		case gowarc.HttpResponseBlock:
			r.status, r.http = b.HttpStatusCode(), *b.HttpHeader()
			p, err := b.PayloadBytes()
			if err != nil {
				t.Fatal(err)
			}
			r.payload, _ = io.ReadAll(p)
		case gowarc.HttpRequestBlock:
			r.http = *b.HttpHeader()
			if req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(r.block))); err == nil {
				r.http.Set("Host", req.Host)
			}
		}
		if _, err := w.ValidateDigest(); err != nil {
			t.Errorf("%s: record %s: %v", path, r.id, err)
		}
		_ = rec.Close()
		out = append(out, r)
	}
	return out
}

// warcioRecord is one line of testdata/check.mjs.
type warcioRecord struct {
	Version       string `json:"version"`
	Type          string `json:"type"`
	ID            string `json:"id"`
	Concurrent    string `json:"concurrent"`
	Target        string `json:"target"`
	Status        int    `json:"status"`
	PayloadDigest string `json:"payload_digest"`
	DigestOK      *bool  `json:"digest_ok"`
	Payload       string `json:"payload"`
}

func (r warcioRecord) payload(t *testing.T) []byte {
	b, err := base64.StdEncoding.DecodeString(r.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// warcio reads paths with Webrecorder's warcio under Node (installed once
// from npm into the user's cache directory).
func warcio(t *testing.T, paths ...string) []warcioRecord {
	t.Helper()
	dir := warcioDir(t)
	script, err := os.ReadFile(filepath.Join("testdata", "check.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	// The script resolves warcio from the node_modules beside it.
	run := filepath.Join(dir, fmt.Sprintf("check-%d.mjs", os.Getpid()))
	if err := os.WriteFile(run, script, 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(run)
	cmd := exec.Command("node", append([]string{run}, paths...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node warcio: %v\n%s", err, stderr.String())
	}
	var recs []warcioRecord
	for line := range strings.Lines(string(out)) {
		var r warcioRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("warcio output %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// warcioDir returns a directory holding node_modules/warcio, installing
// it with npm when missing. A missing node or npm fails the test with the
// command that installs them.
func warcioDir(t *testing.T) string {
	t.Helper()
	for _, bin := range []string{"node", "npm"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s not found: the WARC tests read the archives with Webrecorder's warcio under Node; install it with `sudo apt-get install nodejs npm` (or run `bash .ci/deps`)", bin)
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "precwatch", "warcio-"+warcioVersion)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "warcio", "package.json")); err == nil {
		return dir
	}
	// Installed beside, then moved in place, so that a concurrent test
	// process never sees half an install.
	if err := os.MkdirAll(filepath.Dir(dir), 0o750); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "warcio-install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("npm", "install", "--prefix", tmp, "--no-audit", "--no-fund", "--no-save", "warcio@"+warcioVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install warcio@%s: %v\n%s", warcioVersion, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "node_modules", "warcio", "package.json")); serr != nil {
			t.Fatalf("install warcio: %v", err)
		}
	}
	return dir
}

// BenchmarkWrite archives one fetch of a 42 KB page (request and response
// records, SHA-256 digests, gzip) per iteration.
func BenchmarkWrite(b *testing.B) {
	a, err := New(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	ra, err := a.StartRun(context.Background(), precwatch.Run{ID: "bench", Site: "silkvault", Start: t0})
	if err != nil {
		b.Fatal(err)
	}
	f, _ := testFetch(1)
	body := bytes.Repeat([]byte("<div class=listing><h2>Hydrogen peroxide 30% 1 L</h2><span>25 EUR</span></div>\n"), 42_000/80)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := ra.Write(f, body); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if _, err := ra.Close(); err != nil {
		b.Fatal(err)
	}
}
