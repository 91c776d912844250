package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// Synthetic returns n observations of distinct listings for benchmarks,
// spread over five sites and the test substances (so over every severity),
// created a second apart from start, each raising one or two alerts, with
// match scores spread over [0, 100).
func Synthetic(n int, start time.Time) []precwatch.Observation {
	sites := []string{"silkvault", "agora2", "chemshop", "darkbay", "nexus"}
	ms := [][]precwatch.Match{
		{peroxide(30)}, {nitromethane()}, {sulphuric()}, {thiodiglycol()},
		{peroxide(40), sulphuric()}, {peroxide(15)}, {nitromethane()},
	}
	// Shop-style titles and descriptions from a small vocabulary, and 200
	// vendors, so that text and vendor queries select realistic shares.
	products := []string{"Hydrogen peroxide", "Peroxyde d'hydrogène", "Nitromethane", "Sulphuric acid", "Thiodiglycol", "Acetone", "Schwefelsäure"}
	grades := []string{"lab grade", "technical", "99% pure", "food grade", "bulk drum", "sample pack", "industrial", "reagent", "certified", "stock"}
	descs := []string{
		"Fast shipping worldwide. Escrow accepted.", "Discreet packaging, tracked delivery.",
		"Livraison rapide et discrète.", "Bulk discounts available. PGP required.", "Stealth shipping within the EU.",
	}
	out := make([]precwatch.Observation, n)
	for i := range out {
		at := start.Add(time.Duration(i) * time.Second)
		o := obs(sites[i%len(sites)], fmt.Sprintf("B%07d", i), float64(10+i%500), at, "run-bench", ms[i%len(ms)]...)
		o.Listing.Title = fmt.Sprintf("%s %s %dL", products[i%len(products)], grades[(i/7)%len(grades)], 1+i%5)
		o.Listing.Description = descs[(i/3)%len(descs)] + fmt.Sprintf(" Ref %d.", i)
		o.Listing.Vendor = fmt.Sprintf("vendor-%03d", (i*7919)%200)
		// Scores spread over [0, 100) in steps of 0.1, unrelated to the
		// creation order, so that the order indexes rank by score.
		o.Matches = slices.Clone(o.Matches)
		for k := range o.Matches {
			o.Matches[k].Score = float64((i*7919+k*331)%1000) / 10
		}
		out[i] = o
	}
	return out
}

// SpreadStatus gives alerts the statuses an investigated store has: half
// new, the rest triaged, escalated or dismissed, and claimed by one of five
// investigators. Benchmarks seed with it.
func SpreadStatus(as []precwatch.Alert) {
	statuses := []precwatch.AlertStatus{
		precwatch.StatusNew, precwatch.StatusTriaged, precwatch.StatusNew, precwatch.StatusEscalated,
		precwatch.StatusNew, precwatch.StatusDismissed,
	}
	for i := range as {
		k := as[i].Key
		as[i].Status = statuses[int(k[0]+k[len(k)-1])%len(statuses)]
		if as[i].Status != precwatch.StatusNew {
			as[i].Assignee = fmt.Sprintf("inv%d", int(k[1])%5)
		}
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

// BenchQuery measures QueryAlerts pages of 50 on s, which the caller has
// seeded with 100,000 alerts (87,500 Synthetic listings from 2025-06-01,
// spread with SpreadStatus): the default order, each filter alone, text,
// a deep page and combinations, creation windows wide, narrow, open and
// deep, alone and with filters.
func BenchQuery(b *testing.B, s precwatch.ConsoleStore) {
	ctx := context.Background()
	start := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		q    precwatch.AlertQuery
	}{
		{"first", precwatch.AlertQuery{}},
		{"status", precwatch.AlertQuery{Status: precwatch.StatusTriaged}},
		{"minsev", precwatch.AlertQuery{MinSeverity: precwatch.SeverityHigh}},
		{"site", precwatch.AlertQuery{Site: "agora2"}},
		{"regime", precwatch.AlertQuery{Regime: precwatch.RegimeCWC2}},
		{"vendor", precwatch.AlertQuery{Vendor: "vendor-017"}},
		{"assignee", precwatch.AlertQuery{Assignee: "inv3"}},
		{"since", precwatch.AlertQuery{Since: start.Add(40000 * time.Second), Until: start.Add(60000 * time.Second)}},
		{"since+filters", precwatch.AlertQuery{Status: precwatch.StatusNew, Site: "chemshop", MinSeverity: precwatch.SeverityHigh, Since: start.Add(40000 * time.Second), Until: start.Add(60000 * time.Second)}},
		{"since+status", precwatch.AlertQuery{Status: precwatch.StatusNew, Since: start.Add(40000 * time.Second), Until: start.Add(60000 * time.Second)}},
		{"since-narrow", precwatch.AlertQuery{Since: start.Add(40000 * time.Second), Until: start.Add(40300 * time.Second)}},
		{"since-narrow+status", precwatch.AlertQuery{Status: precwatch.StatusNew, Since: start.Add(40000 * time.Second), Until: start.Add(41000 * time.Second)}},
		{"since-open", precwatch.AlertQuery{Since: start.Add(10000 * time.Second)}},
		{"since+offset5000", precwatch.AlertQuery{Since: start.Add(40000 * time.Second), Until: start.Add(60000 * time.Second), Offset: 5000}},
		{"text", precwatch.AlertQuery{Text: "peroxide"}},
		{"text2", precwatch.AlertQuery{Text: "Hydrogène discrète"}},
		{"text-common", precwatch.AlertQuery{Text: "shipping"}},
		{"offset5000", precwatch.AlertQuery{Offset: 5000}},
		{"status+site+minsev", precwatch.AlertQuery{Status: precwatch.StatusNew, Site: "chemshop", MinSeverity: precwatch.SeverityHigh}},
		{"status+vendor", precwatch.AlertQuery{Status: precwatch.StatusNew, Vendor: "vendor-017", Limit: 10}},
		{"combined+text", precwatch.AlertQuery{Status: precwatch.StatusNew, Site: "silkvault", MinSeverity: precwatch.SeverityMedium, Text: "shipping lab"}},
		{"combined+text+since", precwatch.AlertQuery{Status: precwatch.StatusTriaged, Assignee: "inv1", Text: "peroxide", Since: start.Add(10000 * time.Second), Limit: 10}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var total int
			for b.Loop() {
				p, err := s.QueryAlerts(ctx, c.q)
				if err != nil {
					b.Fatal(err)
				}
				want := c.q.Limit
				if want == 0 {
					want = 50
				}
				if len(p.Alerts) != want {
					b.Fatalf("%d alerts (total %d), want %d", len(p.Alerts), p.Total, want)
				}
				total = p.Total
			}
			b.ReportMetric(float64(total), "total")
		})
	}
}
