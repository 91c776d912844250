package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/precwatch/precwatch"
)

// ErrBusy is returned when a run of a site is asked for while one is going.
var ErrBusy = errors.New("crawler: a run of this site is already in progress")

// ErrUnknownSite is returned for a site name the scheduler does not have.
var ErrUnknownSite = errors.New("crawler: unknown site")

// RunFunc runs one crawl of a site. The scheduler cancels ctx on Stop.
type RunFunc func(ctx context.Context, site precwatch.Site) (precwatch.Run, error)

// cronParser accepts five-field specs, descriptors (@hourly, @every 10m)
// and a CRON_TZ= or TZ= prefix.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a site's cron spec as the scheduler will.
func ParseSchedule(spec string) (cron.Schedule, error) {
	s, err := cronParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("crawler: schedule %q: %w", spec, err)
	}
	return s, nil
}

// SchedulerOptions configure a Scheduler.
type SchedulerOptions struct {
	// Location is the time zone of specs without a CRON_TZ= prefix
	// (default time.Local).
	Location *time.Location
	// Paused, when set, is asked before each scheduled run; a paused site's
	// scheduled runs are skipped (RunNow still runs it).
	Paused func(ctx context.Context, site string) bool
}

// Scheduler runs each site's crawl on its cron schedule, never two runs of
// one site at once. It is a manager: NewScheduler, Update, Start, Stop.
type Scheduler struct {
	logger *slog.Logger
	run    RunFunc
	paused func(ctx context.Context, site string) bool
	cron   *cron.Cron

	ctx    context.Context // cancelled by Stop; parent of every run
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	entries map[string]scheduled
	busy    map[string]bool
}

type scheduled struct {
	id   cron.EntryID // 0 for a site crawled only on demand
	site precwatch.Site
}

// OnDemand reports whether site has no schedule: the daemon never starts
// it, only RunNow, Launch or a one-off crawl.
func OnDemand(site precwatch.Site) bool { return strings.TrimSpace(site.Schedule) == "" }

// NewScheduler returns a scheduler that calls run for each due site.
func NewScheduler(opts *SchedulerOptions, logger *slog.Logger, run RunFunc) *Scheduler {
	if opts == nil {
		opts = &SchedulerOptions{}
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if logger == nil {
		logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{
		logger:  logger.With("component", "scheduler"),
		run:     run,
		paused:  opts.Paused,
		cron:    cron.New(cron.WithParser(cronParser), cron.WithLocation(opts.Location)),
		ctx:     ctx,
		cancel:  cancel,
		entries: map[string]scheduled{},
		busy:    map[string]bool{},
	}
}

// Update replaces the scheduled sites. Every spec is parsed before anything
// changes, so a bad one leaves the previous schedule in force; a site
// whose spec is unchanged keeps its next run.
func (s *Scheduler) Update(sites []precwatch.Site) error {
	parsed := make([]cron.Schedule, len(sites))
	seen := map[string]bool{}
	for i, site := range sites {
		if seen[site.Name] {
			return fmt.Errorf("crawler: site %q listed twice", site.Name)
		}
		seen[site.Name] = true
		if OnDemand(site) {
			continue
		}
		sch, err := ParseSchedule(site.Schedule)
		if err != nil {
			return fmt.Errorf("crawler: site %q: %w", site.Name, err)
		}
		parsed[i] = sch
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// A site whose schedule is unchanged keeps its cron entry, and so its
	// next run: a reload (each watchlist save from the console is one)
	// must not restart every "@every" interval, or sites reloaded more
	// often than their interval would never be crawled.
	keep := map[string]bool{}
	for _, site := range sites {
		if e, ok := s.entries[site.Name]; ok && e.site.Schedule == site.Schedule {
			keep[site.Name] = true
		}
	}
	for name, e := range s.entries {
		if !keep[name] {
			if e.id != 0 {
				s.cron.Remove(e.id)
			}
			delete(s.entries, name)
		}
	}
	for i, site := range sites {
		name := site.Name
		if keep[name] {
			s.entries[name] = scheduled{id: s.entries[name].id, site: site}
			continue
		}
		if parsed[i] == nil {
			s.entries[name] = scheduled{site: site} // on demand: no cron entry
			continue
		}
		id := s.cron.Schedule(parsed[i], cron.FuncJob(func() { s.scheduledRun(name) }))
		s.entries[name] = scheduled{id: id, site: site}
	}
	return nil
}

// Sites returns the scheduled sites in name order.
func (s *Scheduler) Sites() []precwatch.Site {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]precwatch.Site, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, e.site)
	}
	slices.SortFunc(out, func(a, b precwatch.Site) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Next returns when the site runs next; zero when unknown, on demand or
// not started.
func (s *Scheduler) Next(name string) time.Time {
	s.mu.Lock()
	e, ok := s.entries[name]
	s.mu.Unlock()
	if !ok || e.id == 0 {
		return time.Time{}
	}
	return s.cron.Entry(e.id).Next
}

// Start starts scheduling in the background.
func (s *Scheduler) Start() { s.cron.Start() }

// RunNow runs the named site at once in the caller's goroutine. It returns
// ErrBusy when a run of that site is already going.
func (s *Scheduler) RunNow(ctx context.Context, name string) (precwatch.Run, error) {
	site, err := s.acquire(name)
	if err != nil {
		return precwatch.Run{}, err
	}
	return s.runAcquired(ctx, site)
}

// Launch starts a run of the named site in the background and returns at
// once: ErrUnknownSite or ErrBusy when it cannot.
func (s *Scheduler) Launch(name string) error {
	site, err := s.acquire(name)
	if err != nil {
		return err
	}
	go func() {
		run, err := s.runAcquired(s.ctx, site)
		if err != nil {
			s.logger.Warn("run failed", "site", name, "run_id", run.ID, "error", err)
		}
	}()
	return nil
}

// acquire marks the site busy, so that no other run of it starts.
func (s *Scheduler) acquire(name string) (precwatch.Site, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[name]
	if !ok {
		return precwatch.Site{}, fmt.Errorf("%w %q", ErrUnknownSite, name)
	}
	if s.busy[name] || s.ctx.Err() != nil {
		return precwatch.Site{}, fmt.Errorf("%w: %q", ErrBusy, name)
	}
	s.busy[name] = true
	s.wg.Add(1)
	return e.site, nil
}

// runAcquired runs an acquired site and releases it.
func (s *Scheduler) runAcquired(ctx context.Context, site precwatch.Site) (precwatch.Run, error) {
	defer func() {
		s.mu.Lock()
		delete(s.busy, site.Name)
		s.mu.Unlock()
		s.wg.Done()
	}()
	// Stop cancels the scheduler's context; tie this run to it too.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	return s.run(ctx, site)
}

func (s *Scheduler) scheduledRun(name string) {
	logger := s.logger.With("site", name)
	if s.paused != nil && s.paused(s.ctx, name) {
		logger.Info("scheduled run skipped: site paused")
		return
	}
	run, err := s.RunNow(s.ctx, name)
	switch {
	case errors.Is(err, ErrBusy):
		logger.Info("scheduled run skipped: previous run still going")
	case errors.Is(err, ErrLeased): // Scale-out (issue 9)
		logger.Info("scheduled run skipped: another process holds the site's lease", "run_id", run.ID, "error", err)
	case err != nil:
		// A failed crawl is data: it is in the run record; the loop goes on.
		logger.Warn("scheduled run failed", "run_id", run.ID, "error", err)
	default:
		logger.Info("scheduled run done", "run_id", run.ID, "status", run.Status,
			"pages", run.Pages, "listings", run.Listings, "new_alerts", run.Alerts)
	}
}

// Stop stops scheduling, cancels the runs in flight (each records itself as
// abandoned) and waits for them until ctx is done.
func (s *Scheduler) Stop(ctx context.Context) error {
	cronDone := s.cron.Stop().Done()
	s.cancel()
	done := make(chan struct{})
	go func() {
		<-cronDone
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("crawler: stop scheduler: %w", ctx.Err())
	}
}
