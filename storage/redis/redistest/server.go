package redistest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
)

// Server is a redis-server a fault test can stop, restart on the same
// port and pause (SIGSTOP), started by StartServer.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	addr string
	args []string // extra redis-server arguments (cluster mode)

	mu sync.Mutex
	p  *proc
}

// StartServer starts a redis-server like Start, under the test's control.
func StartServer(t testing.TB) *Server {
	t.Helper()
	return StartServerWith(t)
}

// StartServerWith is StartServer with extra redis-server arguments, kept
// for restarts ("--appendonly", "yes" makes the data outlive them).
func StartServerWith(t testing.TB, args ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found: apt-get install -y redis-server (%v)", err)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir(), args: args}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: free port: %v", err)
		}
		addr, p, err := launch(bin, s.dir, port, args...)
		if err == nil {
			s.port, s.addr, s.p = port, addr, p
			t.Cleanup(s.Stop)
			return s
		}
		lastErr = err
	}
	t.Fatalf("redistest: start redis-server: %v", lastErr)
	return nil
}

// Addr is "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr }

// URL is "redis://127.0.0.1:port/0".
func (s *Server) URL() string { return "redis://" + s.addr + "/0" }

// Stop kills the server (its data is gone: no persistence).
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p != nil {
		s.resume()
		s.p.stop()
		s.p = nil
	}
}

// Restart starts the server again on the same port: empty, unless its
// arguments made it persist (StartServerWith).
func (s *Server) Restart() error {
	s.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	_, p, err := launch(s.bin, s.dir, s.port, s.args...)
	if err != nil {
		return fmt.Errorf("redistest: restart on port %d: %w", s.port, err)
	}
	s.p = p
	return nil
}

// Pause stops the server process with SIGSTOP: connections stay open and
// nothing answers, as with a hung or swapping Redis.
func (s *Server) Pause() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.p == nil {
		return fmt.Errorf("redistest: pause: server on port %s not running", strconv.Itoa(s.port))
	}
	return s.p.cmd.Process.Signal(syscall.SIGSTOP)
}

// Resume continues a paused server.
func (s *Server) Resume() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resume()
}

func (s *Server) resume() error {
	if s.p == nil {
		return nil
	}
	return s.p.cmd.Process.Signal(syscall.SIGCONT)
}

// StartSentinel starts one redis-sentinel (redis-server --sentinel) on a
// free loopback port monitoring the master host:port under name, with its
// config file at conf, and returns its host:port. It stops in t.Cleanup.
func StartSentinel(t testing.TB, name, host, port, conf string) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found: apt-get install -y redis-server (%v)", err)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		sport, err := freePort()
		if err != nil {
			t.Fatalf("redistest: free port: %v", err)
		}
		cfg := fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel monitor %s %s %s 1\nsentinel down-after-milliseconds %s 2000\n", sport, name, host, port, name)
		if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		// A sentinel answers PING like a server; launch's own flags are
		// valid for it too.
		addr, p, err := launchConf(bin, conf, filepath.Dir(conf), sport, "--sentinel")
		if err == nil {
			t.Cleanup(p.stop)
			return addr
		}
		lastErr = err
	}
	t.Fatalf("redistest: start sentinel: %v", lastErr)
	return ""
}
