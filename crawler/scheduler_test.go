package crawler

import (
	"context"
	"errors"
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
