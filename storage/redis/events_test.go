package redis

import (
	"fmt"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
)

func TestEventsConformance(t *testing.T) {
	storetest.RunEvents(t, func(t *testing.T) func() precwatch.Store {
		url := redistest.Start(t) + "?prefix=events"
		return func() precwatch.Store { return open(t, url) }
	})
}

func TestClusterEventsConformance(t *testing.T) {
	c := redistest.StartCluster(t)
	storetest.RunEvents(t, func(t *testing.T) func() precwatch.Store {
		url := clusterFactory(t, c)
		return func() precwatch.Store { return open(t, url) }
	})
}

// TestEventsTrimmed: a cursor whose entry stream_maxlen trimmed reads from
// the oldest entry kept, marked Gap.
func TestEventsTrimmed(t *testing.T) {
	s := open(t, redistest.Start(t)+"?prefix=trim&stream_maxlen=5")
	defer s.Close()
	ctx := t.Context()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	first := ""
	for i := range 400 {
		o := precwatch.Observation{RunID: "r", At: at, Listing: precwatch.Listing{Site: "s", ID: fmt.Sprint(i), Title: "t"},
			Matches: []precwatch.Match{{Substance: "x", Severity: precwatch.SeverityHigh}}}
		if _, err := s.Record(ctx, o); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			es, err := s.Events(ctx, "", 1)
			if err != nil || len(es) != 1 {
				t.Fatal(es, err)
			}
			first = es[0].ID
		}
	}
	kept, err := s.Events(ctx, "", 1000)
	if err != nil || len(kept) == 0 || len(kept) >= 400 || kept[0].ID == first {
		t.Fatalf("%d events kept (%v); want the stream trimmed (approximately)", len(kept), err)
	}
	es, err := s.Events(ctx, first, 3)
	if err != nil || len(es) != 3 || !es[0].Gap || es[1].Gap || es[0].ID != kept[0].ID {
		t.Errorf("Events(trimmed cursor) = %+v, %v; want the oldest kept, marked Gap", es, err)
	}
	es, err = s.Events(ctx, kept[0].ID, 3)
	if err != nil || len(es) != 3 || es[0].Gap || es[0].ID != kept[1].ID {
		t.Errorf("Events(kept cursor) = %v, %v; want the next ones, no gap", es, err)
	}
}
