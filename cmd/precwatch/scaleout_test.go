package main

// Scale-out (issue 9): several real worker processes on one Redis crawling
// one fixture site in one run, and the same under SIGKILL.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/fixtures"
	"github.com/precwatch/precwatch/storage/embedded"
	"github.com/precwatch/precwatch/storage/redis"
	"github.com/precwatch/precwatch/storage/redis/redistest"
)

// workerDone is a joined worker's last log line, with its share of pages
// and of throttled answers.
var (
	workerDone      = regexp.MustCompile(`msg="worker done".* pages=(\d+)`)
	workerThrottled = regexp.MustCompile(`msg="worker done".* throttled=(\d+)`)
)

// worker is one precwatch process started by a test.
type worker struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

func startWorker(t *testing.T, args string) *worker {
	t.Helper()
	w := &worker{cmd: selfCommand(context.Background(), args), out: &syncBuffer{}, done: make(chan error, 1)}
	w.cmd.Stdout, w.cmd.Stderr = w.out, w.out
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	go func() { w.done <- w.cmd.Wait() }()
	t.Cleanup(func() {
		_ = w.cmd.Process.Kill()
		<-w.done
		w.done <- nil
	})
	return w
}

// wait waits for the worker to exit and returns its error.
func (w *worker) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-w.done:
		w.done <- err
		return err
	case <-time.After(90 * time.Second):
		// SIGQUIT makes the Go runtime print every goroutine's stack, so
		// that the failure shows where the worker hung.
		_ = w.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case err := <-w.done:
			w.done <- err
		case <-time.After(10 * time.Second):
		}
		t.Fatalf("worker still running after 90s:\n%s", w.out)
		return nil
	}
}

// kill sends SIGKILL; it reports whether the worker was still running.
func (w *worker) kill() bool {
	select {
	case err := <-w.done:
		w.done <- err
		return false
	default:
	}
	return w.cmd.Process.Signal(syscall.SIGKILL) == nil
}

// scaleSite is silkvault (an index and a detail page per listing), crawled
// with a small delay so that a run lasts long enough to be shared, and its
// detail pages due on every run so that every run fetches them all.
func scaleSite(markets *fixtures.Markets) precwatch.Site {
	for _, s := range markets.Sites() {
		if s.Name == fixtures.Silkvault {
			s.Politeness.Delay = 15 * time.Millisecond
			s.Incremental.RefreshAfter = time.Nanosecond
			return s
		}
	}
	panic("no silkvault site")
}

func openRedis(t *testing.T, dsn string) *redis.Store {
	t.Helper()
	st, err := redis.Open(t.Context(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// siteAlerts is the reference alert set of one market.
func siteAlerts(market string) map[string]bool {
	want := map[string]bool{}
	for k := range expectedAlerts() {
		if strings.HasPrefix(k, market+"/") {
			want[k] = true
		}
	}
	return want
}

// checkTruth checks the store against the fixtures: the reference alert
// set, no duplicate, each alert raised once with its evidence page, one
// raised event per alert on the stream and no other event (prices do not
// change, so a changed or relisted event is false), no listing gone.
func checkTruth(t *testing.T, st *redis.Store, config, dsn, site string) {
	t.Helper()
	ctx := t.Context()
	alerts := listAlerts(t, config, dsn)
	compareSets(t, alertSet(t, alerts), siteAlerts(site))
	for _, a := range alerts {
		if len(a.History) != 1 || a.History[0].Kind != precwatch.EventRaised {
			t.Errorf("alert %s history %+v, want one raised event", a.Key, a.History)
		}
		if _, err := st.Page(ctx, a.Listing.PageSHA256); err != nil {
			t.Errorf("alert %s: evidence page %q: %v", a.Key, a.Listing.PageSHA256, err)
		}
	}
	events, err := st.Client().XRange(ctx, st.StreamKey(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	raised := map[string]int{}
	for _, e := range events {
		key, _ := e.Values["key"].(string)
		kind, _ := e.Values["event"].(string)
		if kind != precwatch.EventRaised {
			t.Errorf("stream event %s for %s: want only raised events", kind, key)
			continue
		}
		raised[key]++
	}
	for _, a := range alerts {
		if raised[a.Key] != 1 {
			t.Errorf("stream holds %d raised events for %s, want 1", raised[a.Key], a.Key)
		}
	}
	if len(raised) != len(alerts) {
		t.Errorf("stream raised %d alerts, store holds %d", len(raised), len(alerts))
	}
	gone := 0
	if err := st.Listings(ctx, site, func(ls precwatch.ListingState) error {
		if ls.Gone {
			gone++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if gone > 0 {
		t.Errorf("%d listings marked gone; the market removed none", gone)
	}
}

func crawlArgs(site precwatch.Site, config, dsn string, extra string) string {
	return "crawl --site " + site.Name + " --config " + config + " --store " + dsn + " --log-level info " + extra
}

// TestScaleOutFourWorkers: 4 worker processes on one Redis crawl one site
// in one run, twice: each page fetched once per run, one ok run per round
// with exact counters, the reference alerts once each, nothing false.
func TestScaleOutFourWorkers(t *testing.T) {
	t.Parallel() // see TestMain
	for name, server := range redisBackends {
		t.Run(name, func(t *testing.T) { scaleOutFourWorkers(t, server(t)+"?prefix=scale") })
	}
}

// redisBackends start the Redis that tests of several processes run on:
// one redis-server, and a 3-master Redis Cluster.
var redisBackends = map[string]func(t *testing.T) string{
	"redis":         func(t *testing.T) string { return redistest.Start(t) },
	"redis-cluster": func(t *testing.T) string { return redistest.StartCluster(t).URL() },
}

func scaleOutFourWorkers(t *testing.T, dsn string) {
	markets := startMarkets(t)
	site := scaleSite(markets)
	// A run of a few seconds, so that the four processes, started at
	// once, all start within it on a loaded machine too: one started
	// after the run ended rightly runs the site again, as a new run
	// (seen under load with 15 ms, a 1.4 s run: two runs in a round).
	site.Politeness.Delay = 60 * time.Millisecond
	config := writeConfig(t, []precwatch.Site{site})
	st := openRedis(t, dsn)

	prev := map[string]int{}
	for round := 1; round <= 2; round++ {
		var ws []*worker
		for range 4 {
			ws = append(ws, startWorker(t, crawlArgs(site, config, dsn, "--lease-ttl 3s --visibility-timeout 5s")))
		}
		joined, workerPages := 0, 0
		for i, w := range ws {
			if err := w.wait(t); err != nil {
				t.Fatalf("round %d: worker %d: %v\n%s", round, i, err, w.out)
			}
			out := w.out.String()
			if strings.Contains(out, "joined run as a worker") {
				joined++
			}
			if m := workerDone.FindStringSubmatch(out); m != nil {
				n, _ := strconv.Atoi(m[1])
				workerPages += n
			}
		}
		t.Logf("round %d: %d of 4 processes joined the holder's run, fetching %d of its pages", round, joined, workerPages)
		if joined == 0 || workerPages == 0 {
			t.Errorf("round %d: %d processes joined the run, fetching %d pages: want the run shared", round, joined, workerPages)
		}

		// Each page fetched once in the round.
		byPath := markets.RequestsByPath(site.Name)
		fetched := 0
		for p, n := range byPath {
			if d := n - prev[p]; d != 1 {
				t.Errorf("round %d: %s fetched %d times, want once", round, p, d)
			}
			fetched++
		}
		prev = byPath

		runs, err := st.Runs(t.Context(), site.Name, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != round {
			t.Fatalf("round %d: %d runs recorded, want %d (one run per round, shared): %+v", round, len(runs), round, runs)
		}
		r := runs[0]
		if r.Status != precwatch.RunOK || r.Pages != fetched || r.Listings != len(fixtures.MarketListings(site.Name)) {
			t.Errorf("round %d: run %s status %s pages %d listings %d errors %v; want ok, %d pages, %d listings",
				round, r.ID, r.Status, r.Pages, r.Listings, r.Errors, fetched, len(fixtures.MarketListings(site.Name)))
		}
		wantAlerts := 0
		if round == 1 {
			wantAlerts = len(siteAlerts(site.Name))
		}
		if r.Alerts != wantAlerts {
			t.Errorf("round %d: run counted %d new alerts, want %d", round, r.Alerts, wantAlerts)
		}
		checkTruth(t, st, config, dsn, site.Name)
	}
}

// TestScaleOutThrottleCounts: three worker processes share one run of a
// market that answers every fifth request 429 (Retry-After: 1). Each
// process waits out the refusals it gets (its own pacer), and the one
// run record counts every refusal, every request the market saw and the
// time held, whichever process sent it; each page is still served once,
// and the alerts are the reference set.
func TestScaleOutThrottleCounts(t *testing.T) {
	t.Parallel()
	dsn := redistest.Start(t) + "?prefix=throttle"
	markets := startMarkets(t)
	site := scaleSite(markets)
	site.Politeness.Delay = 60 * time.Millisecond
	// A refusal with Retry-After is waited out, not widening the gap; the
	// cap keeps the run short should one be read otherwise.
	site.Politeness.MaxDelay = 300 * time.Millisecond
	markets.RefuseEvery(site.Name, 5)
	config := writeConfig(t, []precwatch.Site{site})
	st := openRedis(t, dsn)

	var ws []*worker
	for range 3 {
		ws = append(ws, startWorker(t, crawlArgs(site, config, dsn, "--lease-ttl 3s --visibility-timeout 5s")))
	}
	joined, workerPages, workerThrottledSum := 0, 0, 0
	for i, w := range ws {
		if err := w.wait(t); err != nil {
			t.Fatalf("worker %d: %v\n%s", i, err, w.out)
		}
		out := w.out.String()
		if !strings.Contains(out, "joined run as a worker") {
			continue
		}
		joined++
		if m := workerDone.FindStringSubmatch(out); m != nil {
			n, _ := strconv.Atoi(m[1])
			workerPages += n
		}
		if m := workerThrottled.FindStringSubmatch(out); m != nil {
			n, _ := strconv.Atoi(m[1])
			workerThrottledSum += n
		}
	}
	if joined == 0 || workerPages == 0 {
		t.Errorf("%d processes joined the run, fetching %d pages: want the run shared", joined, workerPages)
	}
	refused, requests := markets.Refused(site.Name), markets.Requests(site.Name)
	t.Logf("%d of %d requests refused; %d joined workers fetched %d pages and got %d refusals",
		refused, requests, joined, workerPages, workerThrottledSum)

	runs, err := st.Runs(t.Context(), site.Name, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("%d runs recorded, want one shared run: %+v", len(runs), runs)
	}
	r := runs[0]
	if r.Status != precwatch.RunOK || refused == 0 || r.Throttled != refused || r.Requests != requests || r.ThrottleWait <= 0 {
		t.Errorf("run %s: %d requests, %d throttled, held %v; want ok, the market's %d requests and %d refusals, a wait",
			r.Status, r.Requests, r.Throttled, r.ThrottleWait, requests, refused)
	}
	if r.Throttled < workerThrottledSum {
		t.Errorf("run counted %d refusals, fewer than its joined workers' %d", r.Throttled, workerThrottledSum)
	}
	for p, n := range markets.RequestsByPath(site.Name) {
		if n != 1 {
			t.Errorf("%s served %d times, want once", p, n)
		}
	}
	checkTruth(t, st, config, dsn, site.Name)
}

// TestScaleOutCrashes kills workers with SIGKILL at random moments across
// runs (the seed is logged; PRECWATCH_CRASH_SEED replays one), restarts
// them, and checks that nothing is lost, doubled or invented, that no run
// stays running, and that a run whose workers all died is resumed under
// its id without fetching its done pages again.
func TestScaleOutCrashes(t *testing.T) {
	t.Parallel() // beside TestDaemonSurvivesRedisFaults
	for name, server := range redisBackends {
		t.Run(name, func(t *testing.T) { scaleOutCrashes(t, server(t)+"?prefix=crash") })
	}
}

func scaleOutCrashes(t *testing.T, dsn string) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("PRECWATCH_CRASH_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (PRECWATCH_CRASH_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 9))

	markets := startMarkets(t)
	site := scaleSite(markets)
	config := writeConfig(t, []precwatch.Site{site})
	st := openRedis(t, dsn)
	args := crawlArgs(site, config, dsn, "--lease-ttl 1500ms --visibility-timeout 1500ms")
	total := func() int { return markets.Requests(site.Name) }

	kills, round := 0, 0
	resumedChecked := false
	for kills < 10 && round < 12 {
		round++
		// Round 2 loses every worker of its run; the others one or two.
		all := round == 2
		start := total()
		before := markets.RequestsByPath(site.Name)
		ws := []*worker{startWorker(t, args), startWorker(t, args), startWorker(t, args)}
		// A random moment once the run has fetched a few pages.
		for total()-start < 5 {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
		var runID string
		if l, err := st.CurrentLease(t.Context(), site.Name); err == nil {
			runID = l.RunID
		}
		victims := 1 + rng.IntN(2)
		if all {
			victims = 3
		}
		killed := 0
		for _, i := range rng.Perm(3)[:victims] {
			if ws[i].kill() {
				killed++
			}
		}
		kills += killed
		t.Logf("round %d: %d worker(s) killed at %d requests into run %s", round, killed, total()-start, runID)
		for _, w := range ws {
			_ = w.wait(t)
		}
		atKill := markets.RequestsByPath(site.Name)
		// Restarted: a new worker ends the run, resuming it when every
		// worker died.
		w := startWorker(t, args)
		if err := w.wait(t); err != nil && !strings.Contains(w.out.String(), "leased by another process") {
			t.Fatalf("round %d: restarted worker: %v\n%s", round, err, w.out)
		}
		after := markets.RequestsByPath(site.Name)
		if all && killed == 3 && runID != "" {
			resumedChecked = true
			checkResumed(t, st, site.Name, runID, before, atKill, after, w.out.String())
		}
		if t.Failed() {
			return
		}
	}
	if kills < 10 {
		t.Errorf("only %d kills landed on running workers in %d rounds", kills, round)
	}
	if !resumedChecked {
		t.Errorf("no round lost every worker of a run: resumption not checked")
	}
	// A last, undisturbed run converges.
	if err := startWorker(t, args).wait(t); err != nil {
		t.Fatalf("final crawl: %v", err)
	}
	runs, err := st.Runs(t.Context(), site.Name, 0)
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[precwatch.RunStatus]int{}
	for _, r := range runs {
		statuses[r.Status]++
		switch r.Status {
		case precwatch.RunRunning:
			t.Errorf("run %s left running", r.ID)
		case precwatch.RunAbandoned:
			if len(r.Errors) == 0 {
				t.Errorf("run %s abandoned without a reason", r.ID)
			}
		}
	}
	t.Logf("%d runs over %d rounds: %v", len(runs), round, statuses)
	if runs[0].Status != precwatch.RunOK {
		t.Errorf("final run %s: %s %v, want ok", runs[0].ID, runs[0].Status, runs[0].Errors)
	}
	checkTruth(t, st, config, dsn, site.Name)
}

// checkResumed: run runID, whose workers were all killed, was resumed and
// ended ok under its id; the pages it had done were not fetched again (only
// those in flight at the kill may be).
func checkResumed(t *testing.T, st *redis.Store, site, runID string, before, atKill, after map[string]int, out string) {
	t.Helper()
	runs, err := st.Runs(context.WithoutCancel(t.Context()), site, 0)
	if err != nil {
		t.Fatal(err)
	}
	var rec *precwatch.Run
	for i := range runs {
		if runs[i].ID == runID {
			rec = &runs[i]
		}
	}
	if rec == nil || rec.Status != precwatch.RunOK {
		t.Fatalf("interrupted run %s after restart: %+v, want it resumed and ok", runID, rec)
	}
	if !strings.Contains(out, "resuming run of a holder gone") && !strings.Contains(out, "joined run as a worker") {
		t.Errorf("restarted worker did not continue run %s:\n%s", runID, out)
	}
	doneBefore, again, fetchedAfter := 0, 0, 0
	for p, n := range after {
		early := atKill[p] - before[p]
		late := n - atKill[p]
		if early > 0 {
			doneBefore++
		}
		if late > 0 {
			fetchedAfter++
		}
		if early > 0 && late > 0 {
			again++
		}
	}
	// At most one page in flight per circuit of each killed worker.
	const inFlight = 3 * 2
	t.Logf("run %s: %d pages fetched before the kill, %d after, %d of them again", runID, doneBefore, fetchedAfter, again)
	if again > inFlight {
		t.Errorf("resumed run fetched %d pages again, want at most the %d in flight at the kill", again, inFlight)
	}
	if doneBefore == 0 || fetchedAfter == 0 {
		t.Errorf("run %s: %d pages before the kill, %d after: want the kill mid-run", runID, doneBefore, fetchedAfter)
	}
	if got := fmt.Sprint(rec.Pages); rec.Pages < doneBefore {
		t.Errorf("resumed run counts %s pages, want at least the %d done before the kill", got, doneBefore)
	}
}

// TestDaemonSweepsDeadHoldersRuns: a daemon starting on an embedded store
// marks a run whose holder died (its lease expired) abandoned with the
// reason, without waiting for the site's next run.
func TestDaemonSweepsDeadHoldersRuns(t *testing.T) {
	markets := startMarkets(t)
	site := scaleSite(markets)
	site.Schedule = "@every 24h"
	config := writeConfig(t, []precwatch.Site{site})
	path := filepath.Join(t.TempDir(), "precwatch.db")
	ctx := t.Context()
	st, err := embedded.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := st.AcquireLease(ctx, site.Name, "dead-holder", 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	l.RunID = "20260101T000000.000000000Z-dead"
	if _, err := st.RenewLease(ctx, l, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveRun(ctx, precwatch.Run{ID: l.RunID, Site: site.Name, Start: time.Now(), Status: precwatch.RunRunning}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	time.Sleep(100 * time.Millisecond)

	dctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	var out, errOut syncBuffer
	go func() {
		m := NewMain()
		m.Stdout, m.Stderr = &out, &errOut
		err := m.Run(dctx, []string{"run", "--config", config, "--store", path, "--addr", "", "--reload-interval", "0"})
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(errOut.String(), "precwatch running") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("daemon: %v\n%s", err, errOut.String())
	}
	st, err = embedded.Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(ctx, site.Name, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Status != precwatch.RunAbandoned || len(runs[0].Errors) == 0 ||
		!strings.Contains(runs[0].Errors[0], "lease of holder dead-holder expired at") {
		t.Fatalf("runs after the daemon's start = %+v, want the dead holder's run abandoned with the reason\n%s", runs, errOut.String())
	}
	if n := markets.Requests(site.Name); n != 0 {
		t.Errorf("market saw %d requests: the sweep must not crawl", n)
	}
}

// TestDaemonSweepsPeriodically: on Redis, a run left running after the
// daemon started (its holder, another process, died: its lease expired) is
// marked abandoned by the daemon's periodic sweep, every lease TTL, though
// its site is not even scheduled by this daemon.
func TestDaemonSweepsPeriodically(t *testing.T) {
	markets := startMarkets(t)
	site := scaleSite(markets)
	site.Schedule = "@every 24h"
	config := writeConfig(t, []precwatch.Site{site})
	url := redistest.Start(t)
	ctx := t.Context()
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	var out, errOut syncBuffer
	go func() {
		m := NewMain()
		m.Stdout, m.Stderr = &out, &errOut
		err := m.Run(dctx, []string{"run", "--config", config, "--store", url, "--addr", "", "--reload-interval", "0", "--lease-ttl", "300ms"})
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(errOut.String(), "precwatch running") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	st, err := redis.Open(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l, err := st.AcquireLease(ctx, "elsewhere", "dead-holder", 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	l.RunID = "20260101T000000.000000000Z-dead"
	if _, err := st.RenewLease(ctx, l, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveRun(ctx, precwatch.Run{ID: l.RunID, Site: "elsewhere", Start: time.Now(), Status: precwatch.RunRunning}); err != nil {
		t.Fatal(err)
	}
	var runs []precwatch.Run
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if runs, err = st.Runs(ctx, "elsewhere", 0); err == nil && len(runs) == 1 && runs[0].Status != precwatch.RunRunning {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("daemon: %v\n%s", err, errOut.String())
	}
	if len(runs) != 1 || runs[0].Status != precwatch.RunAbandoned || len(runs[0].Errors) == 0 ||
		!strings.Contains(runs[0].Errors[0], "lease of holder dead-holder expired at") {
		t.Fatalf("runs = %+v, want the dead holder's run abandoned by the periodic sweep\n%s", runs, errOut.String())
	}
}
