package tornet

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// blocker holds the port the first start-up of the shared network finds
// taken, so that TestNetwork sees it start again on new ports.
var blocker net.Listener

func TestMain(m *testing.M) {
	portsHook = func(ports []int) []int {
		if blocker != nil {
			return ports
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		blocker = ln
		ports[0] = ln.Addr().(*net.TCPAddr).Port // the first authority's ORPort
		return ports
	}
	code := Main(m)
	if blocker != nil {
		blocker.Close()
	}
	os.Exit(code)
}

func get(t *testing.T, n *Network, host, user string) (string, error) {
	t.Helper()
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return n.Client().Dial(ctx, addr, user)
		},
	}}
	resp, err := client.Get("http://" + host + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestNetwork brings the shared network up and checks each of its parts:
// an onion service answers through the client, the control port shows
// circuits, Tor's extended errors come back for an unpublished and for a
// stopped service, a stopped service comes back with the same address, and
// a stopped client refuses connections until restarted.
func TestNetwork(t *testing.T) {
	n := Shared(t)
	t.Logf("network up in %s, %d attempts", n.StartupTime.Round(time.Millisecond), n.Attempts)
	if n.Attempts != 2 {
		t.Errorf("attempts = %d, want 2: the first start-up found a port taken", n.Attempts)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s", r.Host)
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	begin := time.Now()
	o, err := n.AddOnionService(ctx, srv.Listener.Addr().String())
	if err != nil {
		t.Fatalf("AddOnionService: %v", err)
	}
	t.Logf("onion %s up in %s", o.Hostname(), time.Since(begin).Round(time.Millisecond))
	if len(o.Hostname()) != 62 || !strings.HasSuffix(o.Hostname(), ".onion") {
		t.Fatalf("hostname %q is not a v3 onion address", o.Hostname())
	}

	t.Run("onion answers through the client", func(t *testing.T) {
		body, err := get(t, n, o.Hostname(), "get")
		if err != nil {
			t.Fatalf("GET through tor: %v", err)
		}
		if want := "hello from " + o.Hostname(); body != want {
			t.Errorf("body = %q, want %q", body, want)
		}
	})

	t.Run("control port", func(t *testing.T) {
		c, err := n.Client().Control(ctx)
		if err != nil {
			t.Fatalf("Control: %v", err)
		}
		defer c.Close()
		circs, err := c.GetInfo(ctx, "circuit-status")
		if err != nil {
			t.Fatalf("GetInfo: %v", err)
		}
		if !strings.Contains(circs, "BUILT") {
			t.Errorf("circuit-status has no built circuit:\n%s", circs)
		}
		if _, err := c.GetInfo(ctx, "no-such-key"); err == nil {
			t.Error("GETINFO of an unknown key: no error")
		}
	})

	t.Run("unpublished onion is descriptor not found", func(t *testing.T) {
		addr := UnpublishedOnion()
		code, err := n.Client().ConnectReply(ctx, true, addr, 80, "unpublished")
		if err != nil {
			t.Fatalf("socks: %v", err)
		}
		if code != 0xF0 {
			t.Errorf("extended port reply = %#x, want 0xf0 (descriptor not found)", code)
		}
		code, err = n.Client().ConnectReply(ctx, false, addr, 80, "unpublished")
		if err != nil {
			t.Fatalf("socks: %v", err)
		}
		if code == 0 || code >= 0xF0 {
			t.Errorf("plain port reply = %#x, want a standard failure code", code)
		}
	})

	t.Run("bad checksum is bad address", func(t *testing.T) {
		addr := UnpublishedOnion()
		bad := "a" + addr[1:]
		if bad == addr {
			bad = "b" + addr[1:]
		}
		code, err := n.Client().ConnectReply(ctx, true, bad, 80, "bad")
		if err != nil {
			t.Fatalf("socks: %v", err)
		}
		if code != 0xF6 {
			t.Errorf("reply = %#x, want 0xf6 (bad address)", code)
		}
	})

	t.Run("stopped onion fails with an onion error, then comes back", func(t *testing.T) {
		if err := o.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		begin := time.Now()
		rctx, rcancel := context.WithTimeout(ctx, 40*time.Second)
		code, err := n.Client().ConnectReply(rctx, true, o.Hostname(), 80, "after-stop")
		rcancel()
		if err != nil {
			t.Fatalf("socks: %v after %s", err, time.Since(begin))
		}
		t.Logf("stopped onion: reply %#x after %s", code, time.Since(begin).Round(time.Millisecond))
		if code < 0xF0 || code > 0xF7 {
			t.Errorf("reply = %#x, want an onion error 0xf0–0xf7", code)
		}
		begin = time.Now()
		if err := o.Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		t.Logf("onion restarted in %s", time.Since(begin).Round(time.Millisecond))
		body, err := get(t, n, o.Hostname(), "after-start")
		if err != nil {
			t.Fatalf("GET after restart: %v", err)
		}
		if !strings.HasPrefix(body, "hello") {
			t.Errorf("body after restart = %q", body)
		}
	})

	t.Run("stopped client refuses, restarted client answers", func(t *testing.T) {
		if err := n.Client().Stop(); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		var d net.Dialer
		if c, err := d.DialContext(ctx, "tcp", n.Client().SOCKSAddr()); err == nil {
			c.Close()
			t.Fatal("stopped client still accepts connections")
		}
		begin := time.Now()
		if err := n.Client().Start(ctx); err != nil {
			t.Fatalf("Start: %v", err)
		}
		t.Logf("client restarted in %s", time.Since(begin).Round(time.Millisecond))
		if _, err := get(t, n, o.Hostname(), "after-client-restart"); err != nil {
			t.Fatalf("GET after client restart: %v", err)
		}
	})
}

func TestOnionAddress(t *testing.T) {
	// The address of the all-zero key, computed with Tor's algorithm in
	// rend-spec-v3 by an independent implementation (Python hashlib).
	pub := make(ed25519.PublicKey, ed25519.PublicKeySize)
	if got, want := OnionAddress(pub), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaam2dqd.onion"; got != want {
		t.Errorf("OnionAddress(zero key) = %s, want %s", got, want)
	}
	if a, b := UnpublishedOnion(), UnpublishedOnion(); a == b {
		t.Errorf("two fresh onion addresses are equal: %s", a)
	}
}

func TestMissingTor(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := binDirs
	binDirs = nil
	t.Cleanup(func() { binDirs = saved })
	_, err := Start(t.Context(), Options{Dir: t.TempDir()})
	if err == nil {
		t.Fatal("Start without tor: no error")
	}
	if !strings.Contains(err.Error(), "apt-get install -y tor") {
		t.Errorf("error %q does not say how to install tor", err)
	}
}
