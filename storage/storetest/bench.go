package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// Synthetic returns n observations of distinct listings for benchmarks,
// spread over five sites and the test substances (so over every severity),
// created a second apart from start, each raising one or two alerts.
func Synthetic(n int, start time.Time) []precwatch.Observation {
	sites := []string{"silkvault", "agora2", "chemshop", "darkbay", "nexus"}
	ms := [][]precwatch.Match{
		{peroxide(30)}, {nitromethane()}, {sulphuric()}, {thiodiglycol()},
		{peroxide(40), sulphuric()}, {peroxide(15)}, {nitromethane()},
	}
	out := make([]precwatch.Observation, n)
	for i := range out {
		at := start.Add(time.Duration(i) * time.Second)
		out[i] = obs(sites[i%len(sites)], fmt.Sprintf("B%07d", i), float64(10+i%500), at, "run-bench", ms[i%len(ms)]...)
	}
	return out
}

// SpreadStatus gives alerts the statuses an investigated store has: half
// new, the rest triaged, escalated or dismissed. Benchmarks seed with it.
func SpreadStatus(as []precwatch.Alert) {
	statuses := []precwatch.AlertStatus{
		precwatch.StatusNew, precwatch.StatusTriaged, precwatch.StatusNew, precwatch.StatusEscalated,
		precwatch.StatusNew, precwatch.StatusDismissed,
	}
	for i := range as {
		k := as[i].Key
		as[i].Status = statuses[int(k[0]+k[len(k)-1])%len(statuses)]
	}
}

// BenchRecord measures Record of new listings (each raising alerts) and of
// unchanged retries on s.
func BenchRecord(b *testing.B, s precwatch.Store) {
	ctx := context.Background()
	b.Run("new", func(b *testing.B) {
		sightings := Synthetic(b.N, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		b.ResetTimer()
		for i := range b.N {
			if _, err := s.Record(ctx, sightings[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		sightings := Synthetic(100, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
		for _, o := range sightings {
			if _, err := s.Record(ctx, o); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for i := range b.N {
			if _, err := s.Record(ctx, sightings[i%len(sightings)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchAlerts measures the console's first page of 50 alerts on s, which
// the caller has seeded (with Synthetic and SpreadStatus), in the default
// order and under filters.
func BenchAlerts(b *testing.B, s precwatch.Store) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		f    precwatch.AlertFilter
	}{
		{"default", precwatch.AlertFilter{Limit: 50}},
		{"status", precwatch.AlertFilter{Status: precwatch.StatusTriaged, Limit: 50}},
		{"site", precwatch.AlertFilter{Site: "agora2", Limit: 50}},
		{"page100", precwatch.AlertFilter{Limit: 50, Offset: 5000}},
		{"status+site+minsev", precwatch.AlertFilter{Status: precwatch.StatusNew, Site: "chemshop", MinSeverity: precwatch.SeverityHigh, Limit: 50}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				as, err := s.Alerts(ctx, c.f)
				if err != nil {
					b.Fatal(err)
				}
				if len(as) != 50 {
					b.Fatalf("%d alerts, want 50", len(as))
				}
			}
		})
	}
}
