package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Cluster is a real Redis Cluster of three masters (no replicas) on
// loopback ports, started by StartCluster.
type Cluster struct {
	// Addrs are the masters' host:port.
	Addrs []string
	nodes []*Server
}

// URL is the cluster's precwatch store URL,
// "redis+cluster://host:port,host:port,host:port/".
func (c *Cluster) URL() string {
	return "redis+cluster://" + strings.Join(c.Addrs, ",") + "/"
}

// StartCluster starts three redis-server processes in cluster mode on free
// ports of 127.0.0.1, joins them with `redis-cli --cluster create` (16,384
// slots over three masters) and waits for cluster_state:ok on each. The
// servers stop in t.Cleanup.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found: apt-get install -y redis-server (%v)", err)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatalf("redis-cli not found: apt-get install -y redis-tools (%v)", err)
	}
	c := &Cluster{}
	for i := 0; i < 3; i++ {
		dir := filepath.Join(t.TempDir(), "node"+strconv.Itoa(i))
		if err := os.MkdirAll(dir, 0o750); err != nil {
			t.Fatal(err)
		}
		var lastErr error
		for attempt := 0; attempt < 5; attempt++ {
			port, err := freePort()
			if err != nil {
				t.Fatalf("redistest: free port: %v", err)
			}
			// The cluster bus listens on port+10000: it must be free too.
			if port+10000 > 65535 || !portFree(port+10000) {
				lastErr = fmt.Errorf("bus port %d taken", port+10000)
				continue
			}
			args := []string{
				"--cluster-enabled", "yes",
				"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
				"--cluster-node-timeout", "2000",
			}
			addr, p, err := launch(bin, dir, port, args...)
			if err == nil {
				node := &Server{t: t, bin: bin, dir: dir, port: port, addr: addr, args: args, p: p}
				t.Cleanup(node.Stop)
				c.Addrs = append(c.Addrs, addr)
				c.nodes = append(c.nodes, node)
				lastErr = nil
				break
			}
			lastErr = err
		}
		if lastErr != nil {
			t.Fatalf("redistest: start cluster node: %v", lastErr)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli %s: %v: %s", strings.Join(args, " "), err, out)
	}
	for _, addr := range c.Addrs {
		for {
			out, err := exec.CommandContext(ctx, cli, "-h", "127.0.0.1", "-p", portOf(addr), "cluster", "info").CombinedOutput()
			if err == nil && strings.Contains(string(out), "cluster_state:ok") {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("redistest: cluster node %s not ok: %v: %s", addr, err, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// MasterFor returns the master that serves key's slot, as a Server a
// fault test can stop, restart (it rejoins the cluster from its
// nodes.conf, empty) and pause.
func (c *Cluster) MasterFor(t testing.TB, key string) *Server {
	t.Helper()
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: c.Addrs})
	defer cc.Close()
	m, err := cc.MasterForKey(context.Background(), key)
	if err != nil {
		t.Fatalf("redistest: master for %q: %v", key, err)
	}
	for _, n := range c.nodes {
		if n.addr == m.Options().Addr {
			return n
		}
	}
	t.Fatalf("redistest: master %s of %q is not one of %v", m.Options().Addr, key, c.Addrs)
	return nil
}
