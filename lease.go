package precwatch

// Scale-out (issue 9): one run of a site at a time, cluster-wide, through a
// lease per site in the store; and one run shared by several workers
// through a frontier kept in the store (Redis only).

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Lease errors; check them with errors.Is.
var (
	// ErrLeaseHeld is returned by AcquireLease while another holder has
	// the site's lease.
	ErrLeaseHeld = errors.New("precwatch: lease held by another holder")
	// ErrLeaseLost is returned by RenewLease and ReleaseLease once the
	// lease has passed to another holder (or was released).
	ErrLeaseLost = errors.New("precwatch: lease lost")
)

// Lease is a site's run lease: who holds it, its fencing token (which
// grows with every acquisition of the site's lease, never reused), the run
// it covers and when it expires unless renewed.
type Lease struct {
	Site    string    `json:"site"`
	Holder  string    `json:"holder"`
	Token   int64     `json:"token"`
	RunID   string    `json:"run_id,omitempty"`
	Expires time.Time `json:"expires"`
	// Released is set on a Previous lease given back by its holder rather
	// than left to expire.
	Released bool `json:"released,omitempty"`
	// Previous is, on a lease just acquired, the site's lease before it:
	// nil for the first one. A Previous that was not Released expired: its
	// holder died or lost its store.
	Previous *Lease `json:"previous,omitempty"`
}

// LeaseStore keeps one lease per site. Both stores implement it.
type LeaseStore interface {
	// AcquireLease takes site's lease for holder for ttl. While another
	// holder has it, it returns that lease and ErrLeaseHeld.
	AcquireLease(ctx context.Context, site, holder string, ttl time.Duration) (Lease, error)
	// RenewLease extends l by ttl and records l.RunID in it. It returns
	// ErrLeaseLost when l is no longer the site's lease: another holder
	// took it, or it was released. An expired lease nobody took since is
	// renewed (its token is still the site's latest).
	RenewLease(ctx context.Context, l Lease, ttl time.Duration) (Lease, error)
	// ReleaseLease gives l back; ErrLeaseLost when it is no longer held.
	ReleaseLease(ctx context.Context, l Lease) error
	// CurrentLease returns site's lease while one is held, or ErrNotFound.
	CurrentLease(ctx context.Context, site string) (Lease, error)
}

// FrontierStore is a store that can keep a run's frontier, so that several
// workers (processes on any machine) fetch one run's pages. The Redis store
// implements it; the embedded one does not (one process per file).
type FrontierStore interface {
	Frontier(site, runID string) Frontier
}

// FrontierTask is a task taken from a frontier: its entry id and the data
// it was pushed with.
type FrontierTask struct {
	ID   string
	Data []byte
}

// Frontier is one run's shared queue of pages to fetch, with its seen-set,
// counters and errors. A task taken with Next stays pending until Acked;
// one left pending longer than the visibility timeout (its worker died) is
// given to another worker. The run is complete when every pushed task is
// acked.
type Frontier interface {
	// Create makes the frontier if it does not exist.
	Create(ctx context.Context) error
	// Exists reports whether the frontier was created and not deleted.
	Exists(ctx context.Context) (bool, error)
	// Push adds a task under key unless key was pushed before in this run
	// (pushed false) or maxTasks (when > 0) tasks were pushed already
	// (pushed false, limit true; the limit is remembered, see Counters).
	Push(ctx context.Context, key string, data []byte, maxTasks int) (pushed, limit bool, err error)
	// Next returns a task for consumer: one pending longer than visibility
	// first, else a new one, waiting up to block. nil when there is none.
	Next(ctx context.Context, consumer string, visibility, block time.Duration) (*FrontierTask, error)
	// Touch resets the idle time of tasks consumer is still working on, so
	// that a slow worker's tasks are not given to another.
	Touch(ctx context.Context, consumer string, ids []string) error
	// Ack completes a task and adds counters to the run's, once: a task
	// acked twice (it was given to another worker meanwhile) counts once.
	Ack(ctx context.Context, id string, counters map[string]int64) (bool, error)
	// Incr adds counters to the run's at once.
	Incr(ctx context.Context, counters map[string]int64) error
	// Counters returns the run's counters, with "pushed", "acked" and
	// "limit" (1 when a push hit maxTasks) among them.
	Counters(ctx context.Context) (map[string]int64, error)
	// Add adds member to the run's named set; it reports whether it was new.
	Add(ctx context.Context, set, member string) (bool, error)
	// Has reports whether member is in the run's named set.
	Has(ctx context.Context, set, member string) (bool, error)
	// Card counts the run's named set.
	Card(ctx context.Context, set string) (int64, error)
	// AddError keeps a run error, up to max of them; Errors returns them and
	// how many more were not kept.
	AddError(ctx context.Context, msg string, max int) error
	Errors(ctx context.Context) ([]string, int64, error)
	// Stop tells the run's workers to stop taking tasks; Stopped reports it.
	Stop(ctx context.Context) error
	Stopped(ctx context.Context) (bool, error)
	// Delete removes the frontier after ttl (at once when ttl <= 0).
	Delete(ctx context.Context, ttl time.Duration) error
}

// ValidLease checks what every store needs of a lease request: a site, a
// holder and a TTL of at least a millisecond.
func ValidLease(site, holder string, ttl time.Duration) error {
	if site == "" || holder == "" || ttl < time.Millisecond {
		return fmt.Errorf("%w: empty site or holder, or ttl under 1ms", ErrInvalid)
	}
	return nil
}
