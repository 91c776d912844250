package storetest

import (
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// testRunMirrors checks that a run record keeps its circuit and mirror
// state (issue 8): the next run seeds each mirror's last success from it,
// and the console shows it.
func testRunMirrors(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	ctx := t.Context()
	r := precwatch.Run{ID: "r1", Site: "m", Start: t0, End: t0.Add(time.Minute), Status: precwatch.RunOK, CircuitsReplaced: 3,
		Mirrors: []precwatch.MirrorStatus{
			{URL: "http://a.onion", Requests: 2, Failures: 2, LastSuccess: t0.Add(-time.Hour), Latency: 900 * time.Millisecond},
			{URL: "http://b.onion", Requests: 40, LastSuccess: t0.Add(50 * time.Second), Latency: 1234567 * time.Microsecond, Active: true},
		}}
	if err := s.SaveRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	runs, err := s.Runs(ctx, "m", 1)
	if err != nil || len(runs) != 1 {
		t.Fatalf("Runs: %v %d", err, len(runs))
	}
	got := runs[0]
	if got.CircuitsReplaced != 3 || len(got.Mirrors) != 2 {
		t.Fatalf("run = %+v", got)
	}
	for i, want := range r.Mirrors {
		m := got.Mirrors[i]
		if m.URL != want.URL || m.Requests != want.Requests || m.Failures != want.Failures || !m.LastSuccess.Equal(want.LastSuccess) ||
			m.Latency != want.Latency || m.Active != want.Active {
			t.Errorf("mirror %d = %+v, want %+v", i, m, want)
		}
	}
}
