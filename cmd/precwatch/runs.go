package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/precwatch/precwatch"
)

// runRuns is `precwatch runs`: the run records, newest first, with what
// each one's status means for the operator (why it could not get in, why
// it marked nothing gone), so that scheduled runs can be checked without
// the console.
func (m *Main) runRuns(ctx context.Context, args []string) error {
	fs := m.flags("runs")
	site := fs.String("site", "", "only the runs of this site")
	asJSON := fs.Bool("json", false, "print the run records as JSON (one array) instead of a table")
	limit := fs.Int("limit", 20, "at most this many runs, newest first (0: all)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if *limit < 0 {
		return &exitError{code: 2, err: fmt.Errorf("runs: --limit must be >= 0, got %d", *limit)}
	}
	store, err := m.openStoreOnly(ctx, true)
	if err != nil {
		return err
	}
	runs, err := store.Runs(ctx, *site, 0)
	if err != nil {
		return fmt.Errorf("runs: %w", err)
	}
	total := len(runs)
	if *limit > 0 && total > *limit {
		runs = runs[:*limit]
	}
	if *asJSON {
		if runs == nil {
			runs = []precwatch.Run{}
		}
		enc := json.NewEncoder(m.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(runs); err != nil {
			return err
		}
		m.moreNotice(true, len(runs), total, "runs")
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tSITE\tSTATUS\tTOOK\tPAGES\tLISTINGS\tNEW\tALERTS\tREQUESTS\tNOTE")
	for _, r := range runs {
		took := "-"
		if !r.End.IsZero() {
			took = r.End.Sub(r.Start).Round(100 * time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n",
			r.Start.Local().Format("2006-01-02 15:04:05"), printable(r.Site, 20), r.Status, took,
			r.Pages, r.Listings, r.NewListings, r.Alerts, r.Requests, printable(runNote(r), 160))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%d run(s)\n", len(runs))
	m.moreNotice(false, len(runs), total, "runs")
	return nil
}

// runNote says in a line why run r ended as it did: the page that stopped
// it, its first error, or why an ok run marked nothing gone.
func runNote(r precwatch.Run) string {
	switch {
	case r.Block != nil:
		return fmt.Sprintf("stopped by a %s page at %s: %s", r.Block.Class, r.Block.URL, r.Block.Reason)
	case len(r.Errors) > 0:
		if len(r.Errors) > 1 {
			return fmt.Sprintf("%s (and %d more errors)", r.Errors[0], len(r.Errors)-1)
		}
		return r.Errors[0]
	case r.GoneUndecided != "":
		return "nothing marked gone: " + r.GoneUndecided
	case r.StoppedEarly:
		return "stopped early (incremental.stop_after_unchanged_pages): nothing marked gone"
	}
	return ""
}
