package crawler

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/redis"
	"github.com/precwatch/precwatch/storage/redis/redistest"
)

// pausedFinalSave is a Redis store whose server is paused (SIGSTOP) for
// pause when a run's final record is first saved: that save fails, as it
// does when Redis is down at the end of a run.
type pausedFinalSave struct {
	*redis.Store
	srv   *redistest.Server
	pause time.Duration
	once  sync.Once
}

func (s *pausedFinalSave) SaveRun(ctx context.Context, r precwatch.Run) error {
	if r.Status != precwatch.RunRunning {
		s.once.Do(func() {
			if err := s.srv.Pause(); err != nil {
				panic(err)
			}
			time.AfterFunc(s.pause, func() { _ = s.srv.Resume() })
		})
	}
	return s.Store.SaveRun(ctx, r)
}

// A run whose final record Redis refused: the daemon's crawler
// (WithRunSaveRetry) saves it once Redis is back, so the run ends `ok`;
// a one-shot crawl's run is left `running`, and the next sweep by any
// process (SweepRuns; the site need not be scheduled there) marks it
// abandoned, its lease having been released.
func TestRunFinalSaveRefused(t *testing.T) {
	e := newEnv(t)
	srv := redistest.StartServer(t)
	url := srv.URL() + "?read_timeout=200ms&write_timeout=200ms&retry_for=50ms"
	open := func(t *testing.T, prefix string) *redis.Store {
		st, err := redis.Open(t.Context(), url+"&prefix="+prefix, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	site := e.torSite("/")
	run := func(t *testing.T, st *pausedFinalSave, opts ...Option) (precwatch.Run, error) {
		opts = append([]Option{WithDirectDialer(e.directDialer()), WithRetryBackoff(time.Millisecond, 5*time.Millisecond), WithThrottleFloor(time.Millisecond),
			WithLease("holder-a", 2*time.Second)}, opts...)
		c, err := New(site, st, keywordMatcher{}, nil, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return c.Run(t.Context())
	}
	stored := func(t *testing.T, st precwatch.Store, id string) precwatch.Run {
		t.Helper()
		runs, err := st.Runs(t.Context(), site.Name, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.ID == id {
				return r
			}
		}
		t.Fatalf("run %s not stored (runs: %+v)", id, runs)
		return precwatch.Run{}
	}

	t.Run("daemon retries", func(t *testing.T) {
		st := &pausedFinalSave{Store: open(t, "retry"), srv: srv, pause: 700 * time.Millisecond}
		rec, err := run(t, st, WithRunSaveRetry(5*time.Second))
		if err != nil || rec.Status != precwatch.RunOK {
			t.Fatalf("Run = %s, %v; want ok once Redis is back", rec.Status, err)
		}
		if got := stored(t, st, rec.ID); got.Status != precwatch.RunOK || got.End.IsZero() {
			t.Errorf("stored run = %s (end %v), want ok with its end", got.Status, got.End)
		}
	})

	t.Run("daemon gives up after its budget", func(t *testing.T) {
		st := &pausedFinalSave{Store: open(t, "budget"), srv: srv, pause: 2 * time.Second}
		start := time.Now()
		rec, err := run(t, st, WithSharedFrontier(false), WithRunSaveRetry(400*time.Millisecond))
		if err == nil || !strings.Contains(err.Error(), "gave up after") {
			t.Fatalf("Run = %s, %v; want the save given up", rec.Status, err)
		}
		if d := time.Since(start); d > st.pause+time.Second {
			t.Errorf("Run took %v, want the retries bounded by their budget", d)
		}
		time.Sleep(st.pause) // Redis back
		if got := stored(t, st, rec.ID); got.Status != precwatch.RunRunning {
			t.Fatalf("stored run = %s, want running (every save was refused)", got.Status)
		}
	})

	t.Run("one-shot crawl, then sweep", func(t *testing.T) {
		st := &pausedFinalSave{Store: open(t, "oneshot"), srv: srv, pause: 700 * time.Millisecond}
		rec, err := run(t, st, WithSharedFrontier(false))
		if err == nil || !strings.Contains(err.Error(), "save run") {
			t.Fatalf("Run = %s, %v; want the failed save in its error", rec.Status, err)
		}
		time.Sleep(st.pause) // Redis back
		if got := stored(t, st, rec.ID); got.Status != precwatch.RunRunning {
			t.Fatalf("stored run = %s, want running (the save was refused)", got.Status)
		}
		// The lease's release may have been refused too: the sweep rightly
		// leaves a run alone while its holder's lease lives, so wait for
		// the lease to expire (its TTL is 2 s).
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			_, err := st.CurrentLease(t.Context(), site.Name)
			if errors.Is(err, precwatch.ErrNotFound) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("lease of %s still held 5 s after the run: %v", site.Name, err)
			}
		}
		// A live holder's run of another site is left alone.
		live, err := st.AcquireLease(t.Context(), "live-site", "holder-b", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		liveRun := precwatch.Run{ID: "20260101T000000.000000000Z-live", Site: "live-site", Start: time.Now(), Status: precwatch.RunRunning}
		if err := st.SaveRun(t.Context(), liveRun); err != nil {
			t.Fatal(err)
		}
		resume, err := SweepRuns(t.Context(), st, nil, "sweeper", nil)
		if err != nil || len(resume) != 0 {
			t.Fatalf("SweepRuns = %v, %v; want nothing to resume", resume, err)
		}
		// The reason names the released lease's gone holder or, when the
		// release was refused too, the lease's expiry.
		got := stored(t, st, rec.ID)
		reason := ""
		if len(got.Errors) > 0 {
			reason = got.Errors[len(got.Errors)-1]
		}
		if got.Status != precwatch.RunAbandoned || got.End.IsZero() ||
			!strings.Contains(reason, "left running by a holder gone") && !strings.Contains(reason, "lease of holder holder-a expired at") {
			t.Errorf("swept run = %s %q (end %v), want abandoned with the reason", got.Status, got.Errors, got.End)
		}
		runs, err := st.Runs(t.Context(), "live-site", 0)
		if err != nil || len(runs) != 1 || runs[0].Status != precwatch.RunRunning {
			t.Errorf("live holder's runs = %+v, %v; want its one run still running", runs, err)
		}
		if cur, err := st.CurrentLease(t.Context(), "live-site"); err != nil || cur.Token != live.Token {
			t.Errorf("live lease = %+v, %v; want untouched", cur, err)
		}
	})
}

// SweepRuns settles a dead holder's run (its lease expired, never
// released) of a site it is given, with the lease's expiry as the reason,
// and leaves the site's lease free.
func TestSweepRunsDeadHolder(t *testing.T) {
	st, err := redis.Open(t.Context(), redistest.Start(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	dead, err := st.AcquireLease(ctx, "shop", "dead-holder", 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	dead.RunID = "20260101T000000.000000000Z-dead"
	if dead, err = st.RenewLease(ctx, dead, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveRun(ctx, precwatch.Run{ID: dead.RunID, Site: "shop", Start: time.Now().Add(-time.Hour), Status: precwatch.RunRunning}); err != nil {
		t.Fatal(err)
	}
	// While the lease lives, the run is the holder's.
	if _, err := SweepRuns(ctx, st, []string{"shop"}, "sweeper", nil); err != nil {
		t.Fatal(err)
	}
	if runs, _ := st.Runs(ctx, "shop", 0); len(runs) != 1 || runs[0].Status != precwatch.RunRunning {
		t.Fatalf("runs while the lease lives = %+v, want running", runs)
	}
	time.Sleep(250 * time.Millisecond)
	if _, err := SweepRuns(ctx, st, []string{"shop"}, "sweeper", nil); err != nil {
		t.Fatal(err)
	}
	runs, err := st.Runs(ctx, "shop", 0)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
	if got := runs[0]; got.Status != precwatch.RunAbandoned || len(got.Errors) == 0 ||
		!strings.Contains(got.Errors[len(got.Errors)-1], "lease of holder dead-holder expired at") {
		t.Errorf("swept run = %s %q, want abandoned with the lease's expiry", got.Status, got.Errors)
	}
	if _, err := st.CurrentLease(ctx, "shop"); err == nil {
		t.Error("the sweep kept the site's lease")
	}
}
