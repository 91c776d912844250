package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/yamlfile"
)

// readyTimeout bounds each readiness check: a probe must answer before the
// orchestrator's own timeout.
const readyTimeout = 2 * time.Second

// withHealth serves /healthz and /readyz before next (the console, or the
// metrics mux). /healthz is liveness: 200 "ok" whenever the process serves
// HTTP. /readyz is readiness: 200 when the store answers a cheap query and
// every configured SOCKS5 proxy answers a greeting, else 503 naming the
// part that failed (by proxy address, never with credentials).
func (m *Main) withHealth(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		healthHeaders(w)
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		lines, ok := m.readiness(r.Context())
		healthHeaders(w)
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready")
		} else {
			fmt.Fprintln(w, "ready")
		}
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
	})
	if next != nil {
		mux.Handle("/", next)
	}
	return mux
}

func healthHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

// readiness checks the store and each proxy at once; each line names one
// part and its state.
func (m *Main) readiness(ctx context.Context) (lines []string, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		bad bool
	)
	report := func(part string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			lines = append(lines, part+": ok")
			return
		}
		bad = true
		lines = append(lines, part+": "+m.redactSecrets(err.Error()))
	}
	wg.Go(func() { report("store", m.storeReady(ctx)) })
	for _, host := range m.proxyHosts() {
		wg.Go(func() {
			err := checkProxy(ctx, precwatch.Site{Proxy: "socks5://" + host})
			if err != nil {
				err = fmt.Errorf("down: %w", err)
			}
			report("proxy "+host, err)
		})
	}
	wg.Wait()
	slices.Sort(lines)
	return lines, !bad
}

// storeReady asks the store for an alert that does not exist: one key
// lookup in either store, answered ErrNotFound when all is well.
func (m *Main) storeReady(ctx context.Context) error {
	m.mu.Lock()
	st := m.store
	m.mu.Unlock()
	if st == nil {
		return errors.New("not open")
	}
	_, err := st.Alert(ctx, "readyz-probe")
	switch {
	case err == nil, errors.Is(err, precwatch.ErrNotFound):
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("no answer within %s", readyTimeout)
	}
	return fmt.Errorf("not answering: %w", err)
}

// proxyHosts are the host:port of the SOCKS5 proxies the configured sites
// use, without their credentials.
func (m *Main) proxyHosts() []string {
	cfg := m.config.Load()
	if cfg == nil {
		return nil
	}
	var hosts []string
	for _, s := range cfg.Sites {
		if u, err := url.Parse(s.ProxyURL()); err == nil && u.Host != "" && !slices.Contains(hosts, u.Host) {
			hosts = append(hosts, u.Host)
		}
	}
	return hosts
}

// redactSecrets hides URL passwords and the store's password in s.
func (m *Main) redactSecrets(s string) string {
	cfg := m.config.Load()
	if u, err := url.Parse(m.storeDSN(cfg)); err == nil {
		if pw, ok := u.User.Password(); ok && len(pw) >= 4 {
			s = strings.ReplaceAll(s, pw, yamlfile.Redacted)
		}
	}
	return yamlfile.RedactURLs(s)
}
