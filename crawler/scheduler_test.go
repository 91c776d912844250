package crawler

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/precwatch/precwatch"
)

func TestSchedulerRunsOnScheduleWithoutOverlap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs, concurrent, maxConcurrent atomic.Int32
		s := NewScheduler(&SchedulerOptions{Location: time.UTC}, nil, func(ctx context.Context, site precwatch.Site) (precwatch.Run, error) {
			runs.Add(1)
			n := concurrent.Add(1)
			defer concurrent.Add(-1)
			if n > maxConcurrent.Load() {
				maxConcurrent.Store(n)
			}
			// Each run outlasts the next tick, which must be skipped.
			select {
			case <-time.After(90 * time.Second):
			case <-ctx.Done():
			}
			return precwatch.Run{Site: site.Name, Status: precwatch.RunOK}, nil
		})
		if err := s.Update([]precwatch.Site{{Name: "a", Schedule: "@every 1m"}}); err != nil {
			t.Fatal(err)
		}
		s.Start()
		time.Sleep(5*time.Minute + time.Second)
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Ticks at 1,2,3,4,5 min; the runs started at 1 and 3 and 5 each
		// cover the following tick.
		if got, want := runs.Load(), int32(3); got != want {
			t.Errorf("runs = %d, want %d", got, want)
		}
		if got := maxConcurrent.Load(); got != 1 {
			t.Errorf("max concurrent runs of one site = %d, want 1", got)
		}
	})
}

// TestSchedulerOnDemandSite: a site with no schedule is never started by
// the clock, has no next run, and runs when asked; giving it a schedule
// later schedules it.
func TestSchedulerOnDemandSite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs atomic.Int32
		s := NewScheduler(&SchedulerOptions{Location: time.UTC}, nil, func(ctx context.Context, site precwatch.Site) (precwatch.Run, error) {
			runs.Add(1)
			return precwatch.Run{Site: site.Name, Status: precwatch.RunOK}, nil
		})
		if err := s.Update([]precwatch.Site{{Name: "once"}, {Name: "blank", Schedule: "  "}}); err != nil {
			t.Fatal(err)
		}
		s.Start()
		time.Sleep(24 * time.Hour)
		if n := runs.Load(); n != 0 {
			t.Errorf("on-demand sites ran %d times by the clock, want 0", n)
		}
		if next := s.Next("once"); !next.IsZero() {
			t.Errorf("Next(on demand) = %v, want zero", next)
		}
		if got := len(s.Sites()); got != 2 {
			t.Errorf("Sites() = %d, want 2: on-demand sites are listed", got)
		}
		if _, err := s.RunNow(context.Background(), "once"); err != nil || runs.Load() != 1 {
			t.Errorf("RunNow(on demand): %v, runs %d, want 1", err, runs.Load())
		}
		if err := s.Update([]precwatch.Site{{Name: "once", Schedule: "@every 1h"}}); err != nil {
			t.Fatal(err)
		}
		if next := s.Next("once"); next.IsZero() {
			t.Error("Next after a schedule was given is zero")
		}
		time.Sleep(time.Hour + time.Second)
		if n := runs.Load(); n != 2 {
			t.Errorf("runs after one scheduled hour = %d, want 2", n)
		}
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSchedulerUpdateIsAllOrNothing(t *testing.T) {
	s := NewScheduler(nil, nil, func(ctx context.Context, site precwatch.Site) (precwatch.Run, error) {
		return precwatch.Run{}, nil
	})
	good := []precwatch.Site{{Name: "a", Schedule: "*/5 * * * *"}, {Name: "b", Schedule: "CRON_TZ=Europe/Paris 0 3 * * *"}}
	if err := s.Update(good); err != nil {
		t.Fatalf("Update(good): %v", err)
	}
	bad := []precwatch.Site{{Name: "c", Schedule: "@every 1m"}, {Name: "d", Schedule: "61 * * * *"}}
	if err := s.Update(bad); err == nil {
		t.Fatal("Update(bad) succeeded, want error")
	}
	got := s.Sites()
	if len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Errorf("sites after a rejected update = %+v, want a and b", got)
	}
	if err := s.Update([]precwatch.Site{{Name: "x", Schedule: "@hourly"}, {Name: "x", Schedule: "@hourly"}}); err == nil {
		t.Error("duplicate site names accepted")
	}
}

// TestSchedulerUpdateKeepsNextRun: reloading the same sites (the daemon
// does on every config or watchlist change, a console save included) keeps
// each unchanged site's next run, so reloads more frequent than a site's
// interval do not starve it; a changed schedule starts afresh, and the
// site's new settings are the ones its runs get.
func TestSchedulerUpdateKeepsNextRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		runs := map[string][]string{} // site: the start URL of each run
		s := NewScheduler(&SchedulerOptions{Location: time.UTC}, nil, func(ctx context.Context, site precwatch.Site) (precwatch.Run, error) {
			mu.Lock()
			runs[site.Name] = append(runs[site.Name], site.StartURLs[0])
			mu.Unlock()
			return precwatch.Run{Site: site.Name, Status: precwatch.RunOK}, nil
		})
		sites := func(url, bSchedule string) []precwatch.Site {
			return []precwatch.Site{{Name: "a", Schedule: "@every 5m", StartURLs: []string{url}}, {Name: "b", Schedule: bSchedule, StartURLs: []string{url}}}
		}
		if err := s.Update(sites("http://v1.test/", "@every 5m")); err != nil {
			t.Fatal(err)
		}
		s.Start()
		nextA := s.Next("a")
		// Reloads every 2 minutes for 11 minutes: a keeps its schedule
		// (runs at 5 and 10 min), b's changes at 4 min to 3-minute runs.
		for i := 1; i <= 5; i++ {
			time.Sleep(2 * time.Minute)
			bSchedule := "@every 5m"
			if i >= 2 {
				bSchedule = "@every 3m"
			}
			url := "http://v1.test/"
			if i >= 3 {
				url = "http://v2.test/"
			}
			if err := s.Update(sites(url, bSchedule)); err != nil {
				t.Fatal(err)
			}
			if i == 1 {
				if got := s.Next("a"); !got.Equal(nextA) {
					t.Errorf("a's next run moved from %v to %v on a reload", nextA, got)
				}
			}
		}
		time.Sleep(time.Minute + time.Second)
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		// a: 5 min (v1, before the 6-min reload) and 10 min (v2).
		if got, want := runs["a"], []string{"http://v1.test/", "http://v2.test/"}; !slices.Equal(got, want) {
			t.Errorf("a's runs %v, want %v", got, want)
		}
		// b: rescheduled at 4 min to every 3 min: 7 and 10 min.
		if got := len(runs["b"]); got != 2 {
			t.Errorf("b ran %d times (%v), want 2", got, runs["b"])
		}
	})
}

func TestSchedulerRunNowBusyAndStopCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		started := make(chan struct{})
		var once sync.Once
		var cancelled atomic.Bool
		s := NewScheduler(nil, nil, func(ctx context.Context, site precwatch.Site) (precwatch.Run, error) {
			once.Do(func() { close(started) })
			<-ctx.Done()
			cancelled.Store(true)
			return precwatch.Run{Status: precwatch.RunAbandoned}, ctx.Err()
		})
		if err := s.Update([]precwatch.Site{{Name: "a", Schedule: "@yearly"}}); err != nil {
			t.Fatal(err)
		}
		s.Start()
		go s.RunNow(context.Background(), "a")
		<-started
		if _, err := s.RunNow(context.Background(), "a"); !errors.Is(err, ErrBusy) {
			t.Errorf("second RunNow err = %v, want ErrBusy", err)
		}
		if _, err := s.RunNow(context.Background(), "nope"); !errors.Is(err, ErrUnknownSite) {
			t.Errorf("RunNow(unknown) err = %v, want ErrUnknownSite", err)
		}
		if err := s.Launch("a"); !errors.Is(err, ErrBusy) {
			t.Errorf("Launch while running err = %v, want ErrBusy", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		if !cancelled.Load() {
			t.Error("run in flight was not cancelled by Stop")
		}
	})
}

func TestSchedulerSkipsPausedSites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var paused atomic.Bool
		paused.Store(true)
		var runs atomic.Int32
		s := NewScheduler(&SchedulerOptions{Paused: func(ctx context.Context, site string) bool { return paused.Load() }}, nil,
			func(ctx context.Context, site precwatch.Site) (precwatch.Run, error) {
				runs.Add(1)
				return precwatch.Run{}, nil
			})
		if err := s.Update([]precwatch.Site{{Name: "a", Schedule: "@every 1m"}}); err != nil {
			t.Fatal(err)
		}
		s.Start()
		time.Sleep(3*time.Minute + time.Second)
		if got := runs.Load(); got != 0 {
			t.Errorf("paused site ran %d times", got)
		}
		paused.Store(false)
		time.Sleep(2 * time.Minute)
		if got := runs.Load(); got != 2 {
			t.Errorf("resumed site ran %d times in 2 minutes, want 2", got)
		}
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSchedulerLaunchRunsInBackground(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		done := make(chan string, 1)
		s := NewScheduler(nil, nil, func(ctx context.Context, site precwatch.Site) (precwatch.Run, error) {
			time.Sleep(time.Minute)
			done <- site.Name
			return precwatch.Run{}, nil
		})
		if err := s.Update([]precwatch.Site{{Name: "a", Schedule: "@yearly"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Launch("a"); err != nil {
			t.Fatalf("Launch: %v", err)
		}
		if err := s.Launch("b"); !errors.Is(err, ErrUnknownSite) {
			t.Errorf("Launch(unknown) err = %v", err)
		}
		if got := <-done; got != "a" {
			t.Errorf("ran %q", got)
		}
		synctest.Wait()
		if err := s.Launch("a"); err != nil {
			t.Errorf("Launch after the run ended: %v", err)
		}
		if err := s.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}
