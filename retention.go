package precwatch

// Retention (prune): the stores grow with every crawl (a fetch record per
// request, 304s included; every changed page body; every run record), so
// an operator running precwatch for months deletes what no evidence and no
// current state needs any more. Listing states and alerts are never
// deleted: a gone listing's state is what makes its next sighting a
// relisting, and an alert is the investigators' record.

import (
	"context"
	"fmt"
	"time"
)

// PrunePolicy says what Store.Prune may delete.
type PrunePolicy struct {
	// FetchesBefore is the cutoff of fetch records and page bodies: a
	// fetch made before it, and a body no fetch, page save or vendor page
	// stored or confirmed since it, is deleted unless something kept
	// names it (see Pruner). Required.
	FetchesBefore time.Time
	// RunsBefore is the cutoff of run records: an ended run that ended
	// (or, without an end, started) before it is deleted once no fetch
	// record of it is left, unless it is one of its site's newest
	// KeepRunsPerSite runs. Zero deletes no run.
	RunsBefore time.Time
	// DryRun deletes nothing and reports what would be deleted.
	DryRun bool
}

// KeepRunsPerSite is how many of each site's newest runs Prune keeps
// whatever their age: the crawler carries a site's mirror state over from
// its last runs, and the console shows them.
const KeepRunsPerSite = 5

// PruneGuard is how recent a record Prune never takes for old, whatever
// the cutoffs say. Records carry the crawling host's time of the fetch,
// and are written a little later (after parsing, behind an index page,
// through the store's retries while Redis is away), possibly by a host
// whose clock is a little off: a record written while a prune runs is
// never one it deletes, so a prune's mark, read before, needs nothing of
// it.
const PruneGuard = time.Hour

// Check returns ErrInvalid unless p can be applied.
func (p PrunePolicy) Check() error {
	if p.FetchesBefore.IsZero() {
		return fmt.Errorf("%w: prune without a fetch cutoff", ErrInvalid)
	}
	return nil
}

// Guarded returns p with both cutoffs no later than PruneGuard before
// now (see PruneGuard).
func (p PrunePolicy) Guarded(now time.Time) PrunePolicy {
	limit := now.Add(-PruneGuard)
	if p.FetchesBefore.After(limit) {
		p.FetchesBefore = limit
	}
	if p.RunsBefore.After(limit) {
		p.RunsBefore = limit
	}
	return p
}

// PruneReport says what Store.Prune deleted (or, with DryRun, would have).
// Bytes are those of the stored records: fetch and run records as JSON,
// page bodies as stored (compressed, on Redis).
type PruneReport struct {
	DryRun     bool  `json:"dry_run,omitempty"`
	Fetches    int64 `json:"fetches"`
	FetchBytes int64 `json:"fetch_bytes"`
	Pages      int64 `json:"pages"`
	PageBytes  int64 `json:"page_bytes"`
	Runs       int64 `json:"runs"`
	RunBytes   int64 `json:"run_bytes"`
	// FetchesKept counts fetch records older than the cutoff kept because
	// an alert, a listing, an event names them or their run is running;
	// PagesKept the bodies older than the cutoff kept because something
	// kept names them.
	FetchesKept int64 `json:"fetches_kept"`
	PagesKept   int64 `json:"pages_kept"`
	// WARCFiles are the archive files of the runs deleted (as their run
	// records named them): no record left in the store points into them,
	// so an operator may move them to cold storage. Prune never touches
	// files.
	WARCFiles []string `json:"warc_files,omitempty"`
}

// Add adds o's counts to r.
func (r *PruneReport) Add(o PruneReport) {
	r.Fetches += o.Fetches
	r.FetchBytes += o.FetchBytes
	r.Pages += o.Pages
	r.PageBytes += o.PageBytes
	r.Runs += o.Runs
	r.RunBytes += o.RunBytes
	r.FetchesKept += o.FetchesKept
	r.PagesKept += o.PagesKept
	r.WARCFiles = append(r.WARCFiles, o.WARCFiles...)
}

// Pruner is the retention of a store (both stores implement it, and pass
// storetest.RunPrune). Prune is a mark and sweep: it reads every listing
// state, alert (its listing and each history event), outbox event, fetch
// state and vendor page for the fetches and bodies they name, then deletes
//   - fetch records made before FetchesBefore that none of those names and
//     whose run is not running (checked in the deleting transaction);
//   - page bodies no kept fetch, none of those and no kept run (its block
//     page) names, and that nothing stored or confirmed since
//     FetchesBefore: every fetch of a body, a 304 replay included, and
//     every page save marks it used (checked in the deleting transaction,
//     so a body fetched again while prune runs is kept);
//   - ended runs as PrunePolicy.RunsBefore says.
//
// It never deletes listing states, alerts, fetch states, vendor pages,
// events or sessions, and never a file. Deleting is done in small
// transactions, so crawls in other processes go on; prunes may overlap,
// and a prune cut short (a restart, a lost connection) is simply run
// again: it is idempotent.
type Pruner interface {
	Prune(ctx context.Context, p PrunePolicy) (PruneReport, error)
}
