package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/socksproxy"
	"github.com/precwatch/precwatch/storage/embedded"
)

func probe(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil).WithContext(t.Context()))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

// TestReadiness: /healthz is liveness (200 whatever the parts say);
// /readyz is 200 only while the store answers and every proxy greets, else
// 503 naming the part that failed and never a proxy's credentials. Before
// issue 10 the console's /healthz answered ok without checking anything and
// there was no /readyz.
func TestReadiness(t *testing.T) {
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	dead := closedAddr(t)

	m := NewMain()
	m.config.Store(&Config{Sites: []precwatch.Site{
		{Name: "a", Proxy: "socks5://alice:Pr0xyPassw0rd@" + p.Addr()},
		{Name: "b", Proxy: "socks5://" + p.Addr()},
	}})
	h := m.withHealth(nil)
	if code, body := probe(t, h, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "store: not open") {
		t.Errorf("/readyz before the store opens = %d %q, want 503 naming the store", code, body)
	}
	st, err := embedded.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	m.store = st
	code, body := probe(t, h, "/readyz")
	if want := "ready\nproxy " + p.Addr() + ": ok\nstore: ok\n"; code != http.StatusOK || body != want {
		t.Errorf("/readyz = %d %q, want 200 %q (one line per proxy)", code, body, want)
	}

	m.config.Store(&Config{Sites: []precwatch.Site{
		{Name: "a", Proxy: "socks5://alice:Pr0xyPassw0rd@" + p.Addr()},
		{Name: "c", Proxy: "socks5://carol:Pr0xyPassw0rd@" + dead},
	}})
	code, body = probe(t, h, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "not ready\n") ||
		!strings.Contains(body, "proxy "+dead+": down") || !strings.Contains(body, "store: ok") {
		t.Errorf("/readyz with a dead proxy = %d %q, want 503 naming %s", code, body, dead)
	}
	if strings.Contains(body, "Pr0xyPassw0rd") || strings.Contains(body, "carol") {
		t.Errorf("/readyz shows a proxy credential: %q", body)
	}
	if code, body := probe(t, h, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz with a dead proxy = %d %q, want 200 ok (liveness)", code, body)
	}

	st.Close()
	if code, body := probe(t, h, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "store: not answering") {
		t.Errorf("/readyz with the store closed = %d %q, want 503 naming the store", code, body)
	}
}

// TestDaemonHealthEndpoints: the daemon serves /healthz and /readyz on the
// console's listener and on the metrics listener.
func TestDaemonHealthEndpoints(t *testing.T) {
	p, err := socksproxy.Start(t.Context(), "127.0.0.1:0", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	config := writeConfig(t, []precwatch.Site{{Name: "a", Tor: true, Proxy: "socks5://u:Pr0xyPassw0rd@" + p.Addr(),
		StartURLs: []string{"http://a.example/"}, Schedule: "@yearly"}})
	var stdout, logs syncBuffer
	m := NewMain()
	m.Stdout, m.Stderr = &stdout, &logs
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"run", "--config", config, "--store", filepath.Join(t.TempDir(), "s.db"),
			"--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
		m.Close()
	}()
	var bases []string
	for deadline := time.Now().Add(20 * time.Second); len(bases) < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not come up:\n%s\n%s", stdout.String(), logs.String())
		}
		bases = nil
		for _, sm := range regexp.MustCompile(`(?m)^(?:console|metrics): (http://[^/\s]+)`).FindAllStringSubmatch(stdout.String(), -1) {
			bases = append(bases, sm[1])
		}
	}
	for _, base := range bases {
		for path, want := range map[string]string{"/healthz": "ok\n", "/readyz": "ready\nproxy " + p.Addr() + ": ok\nstore: ok\n"} {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(body) != want {
				t.Errorf("GET %s%s = %d %q, want 200 %q", base, path, resp.StatusCode, body, want)
			}
		}
	}
}
