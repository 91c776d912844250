// Package redistest starts a real redis-server for tests: on a free loopback
// port, with no persistence, in the test's temporary directory.
package redistest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Start starts a redis-server on a free port of 127.0.0.1 in t.TempDir() and
// returns its URL, "redis://127.0.0.1:port/0". The server stops in
// t.Cleanup. When redis-server is not installed the test fails with the
// command that installs it: integration tests run, they do not skip.
func Start(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found: apt-get install -y redis-server (%v)", err)
	}
	dir := t.TempDir()
	var lastErr error
	// Another process may take the port between our probe and the server's
	// bind, so retry with a fresh port a few times.
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("redistest: free port: %v", err)
		}
		addr, err := start(t, bin, dir, port)
		if err == nil {
			return "redis://" + addr + "/0"
		}
		lastErr = err
	}
	t.Fatalf("redistest: start redis-server: %v", lastErr)
	return ""
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer collects the server's output for error messages; the process
// writes it from another goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start starts redis-server on port, with extra arguments (cluster mode),
// and stops it in t.Cleanup.
func start(t testing.TB, bin, dir string, port int, extra ...string) (string, error) {
	addr, p, err := launch(bin, dir, port, extra...)
	if err != nil {
		return "", err
	}
	t.Cleanup(p.stop)
	return addr, nil
}

// proc is a running redis-server.
type proc struct {
	cmd  *exec.Cmd
	stop func()
}

// launch starts redis-server and waits for it to answer PING.
func launch(bin, dir string, port int, extra ...string) (string, *proc, error) {
	return launchConf(bin, "", dir, port, extra...)
}

// launchConf is launch with a config file (a sentinel's), which must come
// first on the command line.
func launchConf(bin, conf, dir string, port int, extra ...string) (string, *proc, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var args []string
	if conf != "" {
		args = append(args, conf)
	}
	args = append(args, []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
		"--protected-mode", "yes",
	}...)
	cmd := exec.Command(bin, append(args, extra...)...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("redistest: exec %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			<-exited
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		select {
		case err := <-exited:
			exited <- err // let stop() return
			return "", nil, fmt.Errorf("redistest: redis-server on port %d exited: %v: %s", port, err, out.String())
		case <-ctx.Done():
			stop()
			return "", nil, fmt.Errorf("redistest: redis-server on port %d did not answer PING: %s", port, out.String())
		case <-time.After(10 * time.Millisecond):
		}
		if ping(addr, cmd.Process.Pid) {
			return addr, &proc{cmd: cmd, stop: stop}, nil
		}
	}
}

// ping speaks just enough RESP to know the server is ready, and that it is
// our server rather than another process that took the port meanwhile.
func ping(addr string, pid int) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("PING\r\nINFO server\r\n")); err != nil {
		return false
	}
	r := bufio.NewReader(c)
	if line, err := r.ReadString('\n'); err != nil || line != "+PONG\r\n" {
		return false
	}
	head, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(head, "$") {
		return false
	}
	n, err := strconv.Atoi(strings.TrimSpace(head[1:]))
	if err != nil || n < 0 {
		return false
	}
	info := make([]byte, n)
	if _, err := io.ReadFull(r, info); err != nil {
		return false
	}
	return strings.Contains(string(info), "process_id:"+strconv.Itoa(pid)+"\r\n")
}
