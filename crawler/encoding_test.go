package crawler

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
)

// encoders compress a body in each Content-Encoding a browser accepts;
// "deflate-raw" is "deflate" as some servers send it, without zlib's header.
var encoders = map[string]func([]byte) []byte{
	"gzip": func(b []byte) []byte {
		var out bytes.Buffer
		w := gzip.NewWriter(&out)
		w.Write(b)
		w.Close()
		return out.Bytes()
	},
	"deflate": func(b []byte) []byte {
		var out bytes.Buffer
		w := zlib.NewWriter(&out)
		w.Write(b)
		w.Close()
		return out.Bytes()
	},
	"deflate-raw": func(b []byte) []byte {
		var out bytes.Buffer
		w, _ := flate.NewWriter(&out, flate.BestSpeed)
		w.Write(b)
		w.Close()
		return out.Bytes()
	},
	"br": func(b []byte) []byte {
		var out bytes.Buffer
		w := brotli.NewWriterLevel(&out, 1)
		w.Write(b)
		w.Close()
		return out.Bytes()
	},
	"zstd": func(b []byte) []byte {
		w, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
		return w.EncodeAll(b, nil)
	},
}

// encodedMarket serves one index page per coding, each with one listing,
// the coding sent whatever the request asked for (a misconfigured server's
// brotli_static always), and records the Accept-Encoding it was sent.
func encodedMarket(t *testing.T) (*env, precwatch.Site, *sync.Map) {
	t.Helper()
	codings := [][2]string{ // path, Content-Encoding
		{"br", "br"}, {"deflate", "deflate"}, {"deflate-raw", "deflate"}, {"zstd", "zstd"},
		{"gzip", "gzip"}, {"gzip-br", "gzip, br"}, {"identity", "identity"},
	}
	accepted := &sync.Map{}
	mux := http.NewServeMux()
	for _, c := range codings {
		body := []byte(`<!doctype html><html><body><div class="listing"><span class="id">` + c[0] +
			`</span><h2><a class="title" href="/item/` + c[0] + `">Acetone 99% 5 L (` + c[0] + `)</a></h2></div></body></html>`)
		switch c[0] {
		case "gzip-br":
			body = encoders["br"](encoders["gzip"](body))
		case "identity":
		default:
			body = encoders[c[0]](body)
		}
		mux.HandleFunc("GET /"+c[0], func(w http.ResponseWriter, r *http.Request) {
			accepted.Store(r.Header.Get("Accept-Encoding"), true)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Content-Encoding", c[1])
			w.Write(body)
		})
	}
	mux.HandleFunc("GET /compress", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "compress")
		w.Write([]byte{0x1f, 0x9d, 0x90, 0x3c})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", map[string]string{onionA: srv.Listener.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	e := &env{store: openStore(t), proxy: p}
	ex := rules
	ex.Detail = nil // index pages alone
	site := precwatch.Site{Name: "encoded", Tor: true, Proxy: p.URL(), Extract: ex,
		Limits: precwatch.Limits{RequestTimeout: 3 * time.Second, RunTimeout: 20 * time.Second}}
	for _, c := range codings {
		site.StartURLs = append(site.StartURLs, "http://"+onionA+"/"+c[0])
	}
	site.StartURLs = append(site.StartURLs, "http://"+onionA+"/compress")
	return e, site, accepted
}

// TestCrawlContentEncodings: pages sent in br, deflate (zlib-wrapped or
// raw), zstd, gzip and two codings in a row are read, asked for or not; a
// page in a coding precwatch does not decode fails with an error naming
// it, instead of being parsed as garbage ("no listing read").
func TestCrawlContentEncodings(t *testing.T) {
	e, site, accepted := encodedMarket(t)
	run, err := e.run(t, site)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != precwatch.RunPartial {
		t.Errorf("status = %q, want partial (the compress page)", run.Status)
	}
	errs := strings.Join(run.Errors, "\n")
	if !strings.Contains(errs, `/compress`) || !strings.Contains(errs, `unsupported Content-Encoding "compress"`) {
		t.Errorf("errors %q do not name the compress page and its coding", errs)
	}
	if strings.Count(errs, "\n") != 0 {
		t.Errorf("more errors than the compress page's: %q", errs)
	}
	ls := e.listings(t)
	if got, want := keys(ls), []string{"br", "deflate", "deflate-raw", "gzip", "gzip-br", "identity", "zstd"}; !slices.Equal(got, want) {
		t.Errorf("listings = %q, want %q", got, want)
	}
	for id, st := range ls {
		if want := "Acetone 99% 5 L (" + id + ")"; st.Listing.Title != want {
			t.Errorf("%s: title %q, want %q", id, st.Listing.Title, want)
		}
	}
	var asked []string
	accepted.Range(func(k, _ any) bool { asked = append(asked, k.(string)); return true })
	if !slices.Equal(asked, []string{acceptEncoding}) {
		t.Errorf("Accept-Encoding sent %q, want only %q", asked, acceptEncoding)
	}
	if e.directs.Load() != 0 {
		t.Errorf("direct dials = %d", e.directs.Load())
	}
}

// TestDecodeBodyBombs: every coding is cut at max_body_bytes after
// decoding, not expanded in memory.
func TestDecodeBodyBombs(t *testing.T) {
	zeros := make([]byte, 64<<20)
	for _, enc := range []string{"gzip", "deflate", "deflate-raw", "br", "zstd"} {
		t.Run(enc, func(t *testing.T) {
			bomb := encoders[enc](zeros)
			if len(bomb) > 1<<20 {
				t.Fatalf("bomb is %d bytes", len(bomb))
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Encoding", strings.TrimSuffix(enc, "-raw"))
				w.Write(bomb)
			}))
			defer srv.Close()
			var d DialFunc = (&forwardDialer{}).DialContext
			tr := newTransport(d, 3*time.Second, 1<<20)
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			n, err := io.Copy(io.Discard, resp.Body)
			if err == nil || !strings.Contains(err.Error(), "limit 1048576 (limits.max_body_bytes)") {
				t.Errorf("read %d bytes, error %v; want the body limit", n, err)
			}
			if n > 1<<20 {
				t.Errorf("read %d bytes past the limit", n)
			}
		})
	}
}
