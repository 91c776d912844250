package main

// Store faults (issue 9), with real processes: Redis stopped, restarted
// and paused under a running daemon, and under a one-off crawl.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/redis/redistest"
)

// daemonProc is a precwatch process started by the test binary, its
// stdout and stderr collected line by line.
type daemonProc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stdout []string
	stderr []string
	done   chan struct{}
	err    error
}

func startProc(t *testing.T, args string) *daemonProc {
	t.Helper()
	cmd := selfCommand(context.Background(), args)
	outR, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &daemonProc{cmd: cmd, done: make(chan struct{})}
	var readers sync.WaitGroup
	collect := func(r io.Reader, into *[]string) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			*into = append(*into, sc.Text())
			p.mu.Unlock()
		}
	}
	readers.Go(func() { collect(outR, &p.stdout) })
	readers.Go(func() { collect(errR, &p.stderr) })
	go func() {
		readers.Wait()
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *daemonProc) lines(stderr bool) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if stderr {
		return append([]string(nil), p.stderr...)
	}
	return append([]string(nil), p.stdout...)
}

func (p *daemonProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitFor polls cond until it holds, failing the test after timeout or
// when the process exits.
func waitFor(t *testing.T, p *daemonProc, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if p.exited() {
			t.Fatalf("process exited (%v) while waiting for %s; stderr:\n%s", p.err, what, strings.Join(p.lines(true), "\n"))
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s; stderr:\n%s", what, timeout, strings.Join(p.lines(true), "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logLine is a JSON log line of the daemon.
type logLine struct {
	Level  string `json:"level"`
	Msg    string `json:"msg"`
	Site   string `json:"site"`
	RunID  string `json:"run_id"`
	Status string `json:"status"`
}

// parsedLines parses every stderr line as JSON, failing on any that is
// not (go-redis writing to stderr on its own would be one).
func parsedLines(t *testing.T, p *daemonProc) []logLine {
	t.Helper()
	var out []logLine
	for _, l := range p.lines(true) {
		var ll logLine
		if err := json.Unmarshal([]byte(l), &ll); err != nil {
			t.Errorf("stderr line is not JSON (--log-format json): %q", l)
			continue
		}
		out = append(out, ll)
	}
	return out
}

func metricValue(t *testing.T, url, name string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			return v
		}
	}
	return ""
}

// TestDaemonSurvivesRedisFaults runs the daemon on a Redis that the test
// stops while the first crawls run (and the alert listing after them
// fails), starts again empty, then pauses with SIGSTOP during a later run
// until the store check times out.
// The daemon must keep running and scheduling, export precwatch_store_up
// 0 then 1, log only JSON, and its first complete runs after the faults
// must leave exactly the fixtures' reference alerts.
func TestDaemonSurvivesRedisFaults(t *testing.T) {
	// Mostly waiting on Redis restarts and pauses: run beside the crash
	// test, the other long one, in the package's twelve minutes.
	t.Parallel()
	t.Run("redis", func(t *testing.T) {
		srv := redistest.StartServer(t)
		daemonFaults(t, srv.URL(), srv)
	})
	// On a cluster, the faults hit the master that holds the prefix's
	// slot: it rejoins the cluster empty after its restart.
	t.Run("cluster", func(t *testing.T) {
		c := redistest.StartCluster(t)
		daemonFaults(t, c.URL(), c.MasterFor(t, "{faults}"))
	})
}

func daemonFaults(t *testing.T, base string, srv *redistest.Server) {
	markets := startMarkets(t)
	sites := markets.Sites()
	for i := range sites {
		sites[i].Schedule = "@every 2s"
		// Slow enough that the test can act while runs are under way.
		sites[i].Politeness.Delay = 30 * time.Millisecond
	}
	config := writeConfig(t, sites)
	dsn := base + "?prefix=faults&retry_for=1s"

	p := startProc(t, "run --run-on-start --addr= --metrics-addr 127.0.0.1:0 --log-format json --reload-interval 0 --config "+config+" --store "+dsn)
	var metricsURL string
	waitFor(t, p, 30*time.Second, "metrics URL", func() bool {
		for _, l := range p.lines(false) {
			if u, ok := strings.CutPrefix(l, "metrics: "); ok {
				metricsURL = u
				return true
			}
		}
		return false
	})
	has := func(msg string) func() bool {
		return func() bool {
			for _, l := range p.lines(true) {
				if strings.Contains(l, `"msg":"`+msg+`"`) {
					return true
				}
			}
			return false
		}
	}
	waitFor(t, p, 30*time.Second, "run started", has("run started"))

	// 1. Redis goes away while the first crawls run.
	srv.Stop()
	waitFor(t, p, 20*time.Second, "precwatch_store_up 0", func() bool { return metricValue(t, metricsURL, "precwatch_store_up") == "0" })
	// Runs retry each write for retry_for and their final record for up
	// to 10 s, so on a loaded machine the first crawls can take a minute.
	waitFor(t, p, 90*time.Second, "the alert listing after the first crawls failing", has("cannot list the alerts; the daemon goes on"))
	time.Sleep(3 * time.Second) // scheduled runs fail meanwhile
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, 20*time.Second, "precwatch_store_up 1", func() bool { return metricValue(t, metricsURL, "precwatch_store_up") == "1" })

	// 2. Redis hangs (SIGSTOP) during a run started after the restart.
	mark := len(p.lines(true))
	waitFor(t, p, 30*time.Second, "a run started after the restart", func() bool {
		return strings.Contains(strings.Join(p.lines(true)[mark:], "\n"), `"msg":"run started"`)
	})
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	// Longer than go-redis's 3 s read timeout: the check and the run's
	// writes time out, rather than just wait.
	waitFor(t, p, 20*time.Second, "precwatch_store_up 0 while Redis is paused", func() bool { return metricValue(t, metricsURL, "precwatch_store_up") == "0" })
	time.Sleep(2 * time.Second)
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, 20*time.Second, "precwatch_store_up 1 after the pause", func() bool { return metricValue(t, metricsURL, "precwatch_store_up") == "1" })

	// 3. The first runs that start after the faults complete ok, each
	// site's.
	mark = len(p.lines(true))
	waitFor(t, p, 90*time.Second, "an ok run of every site after the faults", func() bool {
		started := map[string]bool{}
		okSites := map[string]bool{}
		for _, l := range p.lines(true)[mark:] {
			var ll logLine
			if json.Unmarshal([]byte(l), &ll) != nil {
				continue
			}
			switch {
			case ll.Msg == "run started":
				started[ll.RunID] = true
			case ll.Msg == "run finished" && ll.Status == string(precwatch.RunOK) && started[ll.RunID]:
				okSites[siteOfRun(p, ll.RunID)] = true
			}
		}
		for _, s := range sites {
			if !okSites[s.Name] {
				return false
			}
		}
		return true
	})
	if p.exited() {
		t.Fatalf("daemon exited: %v", p.err)
	}
	compareSets(t, alertSet(t, listAlerts(t, config, dsn)), expectedAlerts())

	// What the operator saw: errors and warnings, never only debug lines,
	// and JSON throughout.
	levels := map[string]map[string]bool{}
	for _, ll := range parsedLines(t, p) {
		if levels[ll.Msg] == nil {
			levels[ll.Msg] = map[string]bool{}
		}
		levels[ll.Msg][ll.Level] = true
	}
	for msg, level := range map[string]string{
		"store unreachable: runs will fail until it is back": "ERROR",
		"store answers again":                                "WARN",
		"cannot list the alerts; the daemon goes on":         "ERROR",
	} {
		if !levels[msg][level] {
			t.Errorf("no %s log %q (logged: %v)", level, msg, levels[msg])
		}
	}
	if !levels["store write failed"]["ERROR"] && !levels["run failed"]["WARN"] && !levels["scheduled run failed"]["WARN"] {
		t.Errorf("no failed run or store write logged at warn/error during the outage")
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("daemon exit after SIGTERM: %v", p.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("daemon did not stop on SIGTERM")
	}
}

// siteOfRun finds the site of a run in the daemon's "run started" lines.
func siteOfRun(p *daemonProc, runID string) string {
	for _, l := range p.lines(true) {
		var ll logLine
		if json.Unmarshal([]byte(l), &ll) == nil && ll.Msg == "run started" && ll.RunID == runID {
			return ll.Site
		}
	}
	return ""
}

// TestCrawlFailsWhenRedisGoes: a one-off crawl whose store goes away
// mid-run ends failed, says so, and exits non-zero.
func TestCrawlFailsWhenRedisGoes(t *testing.T) {
	markets := startMarkets(t)
	sites := markets.Sites()
	sites[0].Politeness.Delay = 50 * time.Millisecond
	config := writeConfig(t, sites)
	srv := redistest.StartServer(t)
	dsn := srv.URL() + "?prefix=crawlfault&retry_for=500ms"

	p := startProc(t, "crawl --site "+sites[0].Name+" --log-format json --config "+config+" --store "+dsn)
	// Stopped once a page's listings are stored, so that later pages'
	// writes fail; stopped at "run started", the run could fail at its
	// frontier before writing anything.
	st := openRedis(t, dsn)
	errStored := errors.New("stored")
	waitFor(t, p, 30*time.Second, "a stored listing", func() bool {
		err := st.Listings(t.Context(), sites[0].Name, func(precwatch.ListingState) error { return errStored })
		return errors.Is(err, errStored)
	})
	srv.Stop()
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("crawl did not end")
	}
	var ee *exec.ExitError
	if !errors.As(p.err, &ee) || ee.ExitCode() == 0 {
		t.Errorf("crawl exit: %v; want a non-zero status", p.err)
	}
	out := strings.Join(p.lines(false), "\n")
	if !strings.Contains(out, "status=failed") {
		t.Errorf("crawl output does not say failed:\n%s", out)
	}
	// Every line is JSON, the exit message included.
	found, exitMsg := false, false
	for _, ll := range parsedLines(t, p) {
		found = found || ll.Msg == "store write failed" && ll.Level == "ERROR"
		exitMsg = exitMsg || ll.Msg == "precwatch failed" && ll.Level == "ERROR"
	}
	if !exitMsg {
		t.Errorf("no JSON \"precwatch failed\" exit line")
	}
	if !found {
		t.Errorf("no ERROR \"store write failed\" line; stderr:\n%s", strings.Join(p.lines(true), "\n"))
	}
}
