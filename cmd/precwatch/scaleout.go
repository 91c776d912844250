package main

// Scale-out (issue 9): the lease and shared frontier knobs, and the sweep
// of runs left running by dead holders at daemon start.

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/crawler"
)

// scaleOut holds the scale-out flags of run and crawl.
type scaleOut struct {
	holder     string
	leaseTTL   time.Duration
	visibility time.Duration
	frontier   string
	// daemon: runs are the daemon's (run), not a one-shot crawl's.
	daemon bool
}

func (m *Main) scaleOutFlags(fs *flag.FlagSet) {
	fs.StringVar(&m.scale.holder, "holder", "", "this process's lease holder id (default: host name, pid and a random suffix)")
	fs.DurationVar(&m.scale.leaseTTL, "lease-ttl", crawler.DefaultLeaseTTL, "how long a site's run lease lasts unless renewed (renewed every third of it)")
	fs.DurationVar(&m.scale.visibility, "visibility-timeout", crawler.DefaultVisibility, "how long a dead worker's page waits before another worker fetches it (shared frontier)")
	fs.StringVar(&m.scale.frontier, "frontier", "shared", "shared: on Redis, processes starting a site whose run is going join it as workers; local: they skip it")
}

func (m *Main) crawlerOptions() ([]crawler.Option, error) {
	s := m.scale
	if s.frontier != "shared" && s.frontier != "local" {
		return nil, &exitError{code: 2, err: fmt.Errorf("--frontier %q: want shared or local", s.frontier)}
	}
	if s.leaseTTL < 100*time.Millisecond || s.visibility < 100*time.Millisecond {
		return nil, &exitError{code: 2, err: fmt.Errorf("--lease-ttl and --visibility-timeout must be at least 100ms")}
	}
	opts := []crawler.Option{
		crawler.WithLease(s.holder, s.leaseTTL),
		crawler.WithSharedFrontier(s.frontier == "shared"),
		crawler.WithVisibilityTimeout(s.visibility),
	}
	if s.daemon {
		// The daemon lives on: a run's final record the store refused is
		// saved again if it is back soon; else its sweep settles the run.
		opts = append(opts, crawler.WithRunSaveRetry(crawler.DefaultRunSaveRetry))
	}
	return opts, nil
}

// sweepRuns settles the runs left running by holders whose lease is gone,
// of the scheduled sites and of any other site (see crawler.SweepRuns):
// abandoned with the reason, or resumed at once when their shared frontier
// is there and the site is scheduled here. It sweeps at start, then every
// lease TTL until ctx ends, so that no run stays running for long after
// its process died or gave up saving it, whichever process is left.
func (m *Main) sweepRuns(ctx context.Context, store precwatch.Store, sched *crawler.Scheduler) {
	holder := m.scale.holder
	if holder == "" {
		holder = crawler.DefaultHolder()
	}
	sweep := func() {
		var names []string
		for _, s := range sched.Sites() {
			names = append(names, s.Name)
		}
		resume, err := crawler.SweepRuns(ctx, store, names, holder, m.logger)
		if err != nil && ctx.Err() == nil {
			m.logger.Warn("cannot sweep runs left running", "error", err)
		}
		for _, name := range resume {
			m.logger.Info("resuming a run left by a holder gone", "site", name)
			if err := sched.Launch(name); err != nil {
				m.logger.Warn("cannot resume run", "site", name, "error", err)
			}
		}
	}
	sweep()
	go func() {
		t := time.NewTicker(max(m.scale.leaseTTL, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				sweep()
			}
		}
	}()
}
