package redis

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
	"github.com/redis/go-redis/v9"
)

// Redis Cluster and Sentinel (issue 9): the conformance suites on a real
// three-master cluster. One cluster serves every subtest; each gets a
// prefix of its own, so a fresh empty store, and the prefixes spread over
// the masters.

var clusterPrefixes atomic.Int64

func clusterFactory(t *testing.T, c *redistest.Cluster) string {
	return fmt.Sprintf("%s?prefix=c%d", c.URL(), clusterPrefixes.Add(1))
}

func TestClusterConformance(t *testing.T) {
	c := redistest.StartCluster(t)
	storetest.Run(t, func(t *testing.T) func() precwatch.Store {
		url := clusterFactory(t, c)
		return func() precwatch.Store { return open(t, url) }
	})
}

func TestClusterConsoleConformance(t *testing.T) {
	c := redistest.StartCluster(t)
	storetest.RunConsole(t, func(t *testing.T) func() precwatch.ConsoleStore {
		url := clusterFactory(t, c)
		return func() precwatch.ConsoleStore { return open(t, url) }
	})
}

// TestClusterHashTags: every key one store writes (records, alerts and
// their indexes, runs, pages, users, audit, watchlist versions, the
// stream) is in the slot of its prefix's hash tag, and several prefixes
// spread over more than one master.
func TestClusterHashTags(t *testing.T) {
	c := redistest.StartCluster(t)
	ctx := t.Context()
	nodes := map[string]bool{}
	for i := range 6 {
		prefix := fmt.Sprintf("tags%d", i)
		s := open(t, c.URL()+"?prefix="+prefix)
		defer s.Close()
		for _, o := range storetest.Synthetic(5, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
			if _, err := s.Record(ctx, o); err != nil {
				t.Fatalf("Record on the cluster: %v", err)
			}
		}
		if err := s.SaveRun(ctx, precwatch.Run{ID: "r1", Site: "s", Start: time.Now(), Status: precwatch.RunOK}); err != nil {
			t.Fatal(err)
		}
		if err := s.SavePage(ctx, precwatch.Page{SHA256: "abc", Site: "s", URL: "http://x/", Body: []byte("b")}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveWatchlistVersion(ctx, precwatch.WatchlistVersion{Author: "a", At: time.Now(), Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		gone := precwatch.Run{ID: "r1", Site: "market-0", Status: precwatch.RunOK,
			Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)}
		if _, err := s.MarkGone(ctx, gone); err != nil {
			t.Fatal(err)
		}
		slot := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
		defer slot.Close()
		want, err := slot.ClusterKeySlot(ctx, "{"+prefix+"}").Result()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		err = slot.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			keys, err := m.Keys(ctx, "*"+prefix+"*").Result()
			if err != nil {
				return err
			}
			if len(keys) > 0 {
				nodes[m.Options().Addr] = true
			}
			for _, k := range keys {
				n++
				if !strings.HasPrefix(k, "{"+prefix+"}:") {
					t.Errorf("key %q lacks the hash tag {%s}", k, prefix)
				}
				if got, err := m.ClusterKeySlot(ctx, k).Result(); err != nil || got != want {
					t.Errorf("key %q in slot %d (%v), want %d", k, got, err, want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < 20 {
			t.Errorf("prefix %s: %d keys found on the masters, want at least 20", prefix, n)
		}
	}
	if len(nodes) < 2 {
		t.Errorf("6 prefixes all on %d master(s), want them spread", len(nodes))
	}
}

// TestClusterFollow: the alert stream and its consumer groups work on the
// cluster.
func TestClusterFollow(t *testing.T) {
	c := redistest.StartCluster(t)
	s := open(t, c.URL()+"?prefix=follow")
	defer s.Close()
	ctx := t.Context()
	for _, o := range storetest.Synthetic(8, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) {
		if _, err := s.Record(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	as, err := s.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil || len(as) == 0 {
		t.Fatalf("alerts: %d, %v", len(as), err)
	}
	raised := map[string]int{}
	err = s.Follow(ctx, "g", "c1", FollowOptions{FromStart: true, Max: len(as), Block: 100 * time.Millisecond}, func(e StreamEvent) error {
		if e.Event == precwatch.EventRaised {
			raised[e.Key]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if raised[a.Key] != 1 {
			t.Errorf("alert %s raised %d times on the stream, want 1", a.Key, raised[a.Key])
		}
	}
}

// TestOpenURLForms: the URL forms Open accepts and refuses.
func TestOpenURLForms(t *testing.T) {
	for _, tc := range []struct {
		url, mode string
		addrs     int
	}{
		{"redis://127.0.0.1:6379/0", "single", 1},
		{"redis+cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002/", "cluster", 3},
		{"redis+cluster://u:p@127.0.0.1:7000?addr=127.0.0.1:7001&dial_timeout=1s", "cluster", 2},
		{"rediss+cluster://127.0.0.1:7000", "cluster", 1},
		{"redis+sentinel://127.0.0.1:26379,127.0.0.1:26380/0?master=mymaster", "sentinel", 2},
		{"redis+sentinel://:pw@127.0.0.1:26379?master_name=m&sentinel_password=sp", "sentinel", 1},
	} {
		cc, err := parseClient(tc.url)
		if err != nil || cc.mode != tc.mode || len(cc.addrs) != tc.addrs {
			t.Errorf("parseClient(%s) = %s %v, %v; want %s with %d addresses", tc.url, cc.mode, cc.addrs, err, tc.mode, tc.addrs)
		}
	}
	for _, bad := range []string{
		"redis+cluster://127.0.0.1:7000/3",         // no databases on a cluster
		"redis+cluster://127.0.0.1,127.0.0.1:7001", // no port
		"redis+sentinel://127.0.0.1:26379/0",       // no master name
		"redis+ring://127.0.0.1:6379",
	} {
		if _, err := parseClient(bad); err == nil {
			t.Errorf("parseClient(%s) succeeded", bad)
		}
	}
	if got := hashTag("p"); got != "{p}" {
		t.Errorf("hashTag(p) = %q", got)
	}
	if got := hashTag("app:{eu}"); got != "app:{eu}" {
		t.Errorf("hashTag keeps a tag the prefix has: got %q", got)
	}
}

// TestMigrateKeyNames: data an older precwatch wrote under "P:..." is
// renamed to "{P}:..." at Open, once, and reads back; keys of another
// prefix starting with P are left alone.
func TestMigrateKeyNames(t *testing.T) {
	base := redistest.Start(t)
	ctx := t.Context()
	s := open(t, base+"?prefix=legacy")
	obs := storetest.Synthetic(6, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	for _, o := range obs {
		if _, err := s.Record(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	want, err := s.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil || len(want) == 0 {
		t.Fatalf("alerts %d, %v", len(want), err)
	}
	// Back to the untagged names, as the previous version wrote them.
	rdb := s.Client()
	keys, err := rdb.Keys(ctx, "{legacy}:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k == s.key("keys", "tagged") {
			rdb.Del(ctx, k)
			continue
		}
		if err := rdb.Rename(ctx, k, "legacy:"+strings.TrimPrefix(k, "{legacy}:")).Err(); err != nil {
			t.Fatal(err)
		}
	}
	rdb.Set(ctx, "legacy:eu:listing:x", "another deployment's", 0)
	s.Close()

	s2 := open(t, base+"?prefix=legacy")
	defer s2.Close()
	got, err := s2.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil || len(got) != len(want) {
		t.Fatalf("after migration: %d alerts, %v; want %d", len(got), err, len(want))
	}
	left, _ := s2.Client().Keys(ctx, "legacy:*").Result()
	if len(left) != 1 || left[0] != "legacy:eu:listing:x" {
		t.Errorf("old names left: %v; want only the other deployment's key", left)
	}
	if n, _ := s2.Client().Exists(ctx, s2.key("keys", "tagged")).Result(); n != 1 {
		t.Error("no layout marker after the migration")
	}
}

// TestSentinelSmoke: a master and one sentinel on loopback; the store
// finds the master through the sentinel and round-trips an alert.
func TestSentinelSmoke(t *testing.T) {
	master := redistest.Start(t)
	maddr := strings.TrimSuffix(strings.TrimPrefix(master, "redis://"), "/0")
	host, port, _ := strings.Cut(maddr, ":")
	sentinel := redistest.StartSentinel(t, "pwmaster", host, port, filepath.Join(t.TempDir(), "sentinel.conf"))
	s := open(t, "redis+sentinel://"+sentinel+"/0?master=pwmaster&prefix=sent")
	defer s.Close()
	if s.Mode() != "sentinel" {
		t.Errorf("mode %q", s.Mode())
	}
	ctx := t.Context()
	o := storetest.Synthetic(1, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))[0]
	if _, err := s.Record(ctx, o); err != nil {
		t.Fatal(err)
	}
	// The alert is on the master the sentinel named.
	out, err := exec.CommandContext(ctx, "redis-cli", "-h", host, "-p", port, "exists", "{sent}:alerts:idx:all").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Errorf("alert index on the master: %q, %v", out, err)
	}
}
