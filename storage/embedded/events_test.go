package embedded

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/storetest"
)

func TestEventsConformance(t *testing.T) {
	storetest.RunEvents(t, func(t *testing.T) func() precwatch.Store {
		path := filepath.Join(t.TempDir(), "precwatch.db")
		return func() precwatch.Store { return open(t, path) }
	})
}

// TestEventsTrimmed: the outbox keeps its newest eventsMaxLen events; a
// cursor whose event was trimmed reads from the oldest kept, marked Gap.
func TestEventsTrimmed(t *testing.T) {
	defer func(n, every int64) { eventsMaxLen, trimEvery = n, every }(eventsMaxLen, trimEvery)
	eventsMaxLen, trimEvery = 5, 1
	s := open(t, filepath.Join(t.TempDir(), "precwatch.db"))
	defer s.Close()
	ctx := t.Context()
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 12 {
		o := precwatch.Observation{RunID: "r", At: at, Listing: precwatch.Listing{Site: "s", ID: fmt.Sprint(i), Title: "t"},
			Matches: []precwatch.Match{{Substance: "x", Severity: precwatch.SeverityHigh}}}
		if _, err := s.Record(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Events(ctx, "", 100)
	if err != nil || len(all) != 5 || all[0].ID != "8" || all[0].Gap {
		t.Fatalf("events kept = %d from %v (%v), want 5 from 8, no gap", len(all), all, err)
	}
	for after, want := range map[string]bool{"3": true, "7": false, "8": false} {
		es, err := s.Events(ctx, after, 2)
		if err != nil || len(es) == 0 || es[0].Gap != want || (len(es) > 1 && es[1].Gap) {
			t.Errorf("Events(%s): %v, %v; want gap %t on the first only", after, es, err, want)
		}
	}
}
