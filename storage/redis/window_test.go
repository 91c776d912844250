package redis

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
)

// TestWindowQueriesAgainstReference checks time-window queries, whose
// paths (index walk, read-and-sort, server-side count) depend on how dense
// the window is, against a plain filter-and-sort of every alert, on enough
// alerts for the walks to give up and fall back.
func TestWindowQueriesAgainstReference(t *testing.T) {
	ctx := context.Background()
	s := open(t, redistest.Start(t)+"?prefix=window")
	defer s.Close()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, o := range storetest.Synthetic(6000, start) {
		if _, err := s.Record(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Alerts(ctx, precwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// Triage every seventh alert so that status filters are selective.
	for i, a := range all {
		if i%7 == 0 {
			if _, err := s.UpdateAlert(ctx, precwatch.AlertAction{Key: a.Key, Actor: "t", At: start, Action: precwatch.ActionStatus, Status: precwatch.StatusTriaged}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if all, err = s.Alerts(ctx, precwatch.AlertFilter{}); err != nil {
		t.Fatal(err)
	}
	end := start.Add(6000 * time.Second)
	windows := []struct{ since, until time.Time }{
		{start, end},                                                   // everything
		{start.Add(time.Hour), time.Time{}},                            // open-ended, dense
		{time.Time{}, start.Add(90 * time.Second)},                     // open start, narrow
		{start.Add(1000 * time.Second), start.Add(1030 * time.Second)}, // sparse
		{start.Add(3 * time.Second), start.Add(3 * time.Second)},       // one instant
		{end.Add(time.Hour), time.Time{}},                              // empty
	}
	filters := []precwatch.AlertQuery{
		{},
		{Status: precwatch.StatusTriaged},
		{Site: "chemshop"},
		{MinSeverity: precwatch.SeverityHigh},
		{Status: precwatch.StatusNew, Site: "agora2", MinSeverity: precwatch.SeverityMedium},
		{Substance: "hydrogen-peroxide", Offset: 40},
	}
	for wi, w := range windows {
		for fi, f := range filters {
			q := f
			q.Since, q.Until, q.Limit = w.since, w.until, 60
			var want []precwatch.Alert
			for _, a := range all {
				if (q.Status == "" || a.Status == q.Status) && a.Severity >= q.MinSeverity &&
					(q.Site == "" || a.Site == q.Site) && (q.Substance == "" || a.Substance == q.Substance) &&
					(q.Since.IsZero() || !a.CreatedAt.Before(q.Since)) && (q.Until.IsZero() || !a.CreatedAt.After(q.Until)) {
					want = append(want, a)
				}
			}
			precwatch.SortAlerts(want)
			total := len(want)
			want = want[min(q.Offset, len(want)):]
			want = want[:min(q.Limit, len(want))]
			page, err := s.QueryAlerts(ctx, q)
			if err != nil {
				t.Fatalf("window %d filter %d: %v", wi, fi, err)
			}
			keys := func(as []precwatch.Alert) []string {
				var ks []string
				for _, a := range as {
					ks = append(ks, a.Key)
				}
				return ks
			}
			if page.Total != total || !slices.Equal(keys(page.Alerts), keys(want)) {
				t.Errorf("window %d filter %d (%+v): total %d, %d alerts; want total %d, %d alerts%s",
					wi, fi, f, page.Total, len(page.Alerts), total, len(want), firstDiff(keys(page.Alerts), keys(want)))
			}
		}
	}
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("; first difference at %d", i)
		}
	}
	return ""
}
