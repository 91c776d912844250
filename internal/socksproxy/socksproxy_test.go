package socksproxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/proxy"
)

// client returns an HTTP client whose only dialer is the SOCKS5 proxy at
// addr, with host names sent to the proxy unresolved.
func client(t *testing.T, addr string) *http.Client {
	t.Helper()
	d, err := proxy.SOCKS5("tcp", addr, nil, &net.Dialer{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("proxy.SOCKS5: %v", err)
	}
	cd := d.(proxy.ContextDialer)
	return &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{Proxy: nil, DialContext: cd.DialContext, DisableKeepAlives: true},
	}
}

func start(t *testing.T, hosts map[string]string) *Proxy {
	t.Helper()
	p, err := Start(t.Context(), "127.0.0.1:0", hosts, nil)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestProxy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello "+r.Host)
	}))
	defer srv.Close()
	srvAddr := srv.Listener.Addr().String()
	const onion = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvw.onion"

	get := func(c *http.Client, u string) (string, error) {
		resp, err := c.Get(u)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}

	tests := map[string]func(t *testing.T){
		"mapped name reached, name recorded unresolved": func(t *testing.T) {
			p := start(t, map[string]string{onion: srvAddr})
			if got, want := p.URL(), "socks5://"+p.Addr(); got != want {
				t.Errorf("URL() = %q, want %q", got, want)
			}
			body, err := get(client(t, p.Addr()), "http://"+onion+"/")
			if err != nil {
				t.Fatalf("GET through proxy: %v", err)
			}
			if got, want := body, "hello "+onion; got != want {
				t.Errorf("body = %q, want %q", got, want)
			}
			if got, want := p.Names(), []string{onion}; !slices.Equal(got, want) {
				t.Errorf("Names() = %q, want %q", got, want)
			}
		},
		"unmapped name refused": func(t *testing.T) {
			p := start(t, map[string]string{onion: srvAddr})
			_, err := get(client(t, p.Addr()), "http://unknown.onion/")
			if err == nil {
				t.Fatal("GET unmapped name: want error, got nil")
			}
			if got := p.Names(); !slices.Contains(got, "unknown.onion") {
				t.Errorf("Names() = %q, want it to contain the refused name", got)
			}
		},
		"loopback IP literal allowed": func(t *testing.T) {
			p := start(t, nil)
			body, err := get(client(t, p.Addr()), srv.URL+"/")
			if err != nil {
				t.Fatalf("GET %s: %v", srv.URL, err)
			}
			if !strings.HasPrefix(body, "hello 127.0.0.1:") {
				t.Errorf("body = %q", body)
			}
			if got := p.Names(); len(got) != 0 {
				t.Errorf("Names() = %q, want none for an IP literal", got)
			}
		},
		"non-loopback IP literal refused": func(t *testing.T) {
			p := start(t, nil)
			d, _ := proxy.SOCKS5("tcp", p.Addr(), nil, &net.Dialer{Timeout: 2 * time.Second})
			if c, err := d.Dial("tcp", "192.0.2.1:80"); err == nil {
				c.Close()
				t.Fatal("dial to 192.0.2.1 through proxy: want refusal, got connection")
			}
		},
		"SetHost adds and removes": func(t *testing.T) {
			p := start(t, nil)
			c := client(t, p.Addr())
			if _, err := get(c, "http://chemshop.test/"); err == nil {
				t.Fatal("GET before SetHost: want error")
			}
			p.SetHost("chemshop.test", srvAddr)
			if _, err := get(c, "http://chemshop.test/"); err != nil {
				t.Fatalf("GET after SetHost: %v", err)
			}
			p.SetHost("chemshop.test", "")
			if _, err := get(c, "http://chemshop.test/"); err == nil {
				t.Fatal("GET after removing host: want error")
			}
		},
		"dials fail after Close": func(t *testing.T) {
			p := start(t, map[string]string{onion: srvAddr})
			c := client(t, p.Addr())
			if _, err := get(c, "http://"+onion+"/"); err != nil {
				t.Fatalf("GET before Close: %v", err)
			}
			if err := p.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := p.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if _, err := get(c, "http://"+onion+"/"); err == nil {
				t.Fatal("GET after Close: want error")
			}
			if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
				c.Close()
				t.Fatal("TCP dial to closed proxy succeeded")
			}
		},
		"ctx cancel closes": func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			p, err := Start(ctx, "127.0.0.1:0", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			cancel()
			deadline := time.Now().Add(2 * time.Second)
			for {
				c, err := net.DialTimeout("tcp", p.Addr(), time.Second)
				if err != nil {
					break
				}
				c.Close()
				if time.Now().After(deadline) {
					t.Fatal("proxy still accepting after ctx cancel")
				}
				time.Sleep(10 * time.Millisecond)
			}
		},
		"credentials recorded per stream, any accepted": func(t *testing.T) {
			p := start(t, map[string]string{onion: srvAddr})
			for _, user := range []string{"circuit-a", "circuit-b"} {
				d, err := proxy.SOCKS5("tcp", p.Addr(), &proxy.Auth{User: user, Password: "pw-" + user}, &net.Dialer{Timeout: 2 * time.Second})
				if err != nil {
					t.Fatal(err)
				}
				c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: d.(proxy.ContextDialer).DialContext, DisableKeepAlives: true}}
				if _, err := get(c, "http://"+onion+"/"); err != nil {
					t.Fatalf("GET as %s: %v", user, err)
				}
			}
			want := []Stream{
				{Host: onion, Port: 80, Username: "circuit-a", Password: "pw-circuit-a"},
				{Host: onion, Port: 80, Username: "circuit-b", Password: "pw-circuit-b"},
			}
			if got := p.Streams(); !slices.Equal(got, want) {
				t.Errorf("Streams() = %+v, want %+v", got, want)
			}
		},
		"wrap sees every upstream stream": func(t *testing.T) {
			var mu sync.Mutex
			var wrapped []Stream
			p, err := Start(t.Context(), "127.0.0.1:0", map[string]string{onion: srvAddr}, nil, WithWrap(func(st Stream, c net.Conn) net.Conn {
				mu.Lock()
				wrapped = append(wrapped, st)
				mu.Unlock()
				return c
			}))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = p.Close() })
			if _, err := get(client(t, p.Addr()), "http://"+onion+"/x"); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(wrapped) != 1 || wrapped[0].Host != onion || wrapped[0].Username != "" {
				t.Errorf("wrapped = %+v, want one unauthenticated stream to %s", wrapped, onion)
			}
		},
		"bad host address rejected": func(t *testing.T) {
			if _, err := Start(t.Context(), "127.0.0.1:0", map[string]string{"x.onion": "no-port"}, nil); err == nil {
				t.Fatal("Start with bad address: want error")
			}
		},
	}
	for name, tt := range tests {
		t.Run(name, tt)
	}
}
