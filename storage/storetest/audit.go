package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// Login hardening: the audit log's paging, filters and aggregated entries.

// testAuditQuery pages through a log of 130 entries by every filter and
// their combinations, each page checked against the log filtered here.
func testAuditQuery(t *testing.T, factory func() precwatch.ConsoleStore) {
	s := consoleClient(t, factory)
	ctx := context.Background()
	actors := []string{"ana", "adam", "otto"}
	actions := []string{"login", "login_failed", "alert.status", "user.create"}
	var log []precwatch.AuditEntry // oldest first
	for i := range 130 {
		e := precwatch.AuditEntry{
			// Times go back now and then: the log is in the order of
			// appending, a window selects by time.
			At:     t0.Add(time.Duration(i%40) * time.Minute).Add(time.Duration(i) * time.Microsecond),
			Actor:  actors[i%len(actors)],
			Action: actions[i%len(actions)],
			Target: fmt.Sprintf("t-%d", i),
		}
		e.Failed = e.Action == "login_failed"
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		log = append(log, e)
	}
	since, until := t0.Add(10*time.Minute), t0.Add(20*time.Minute)
	cases := []precwatch.AuditQuery{
		{},
		{Actor: "ana"},
		{Action: "login_failed"},
		{Outcome: precwatch.AuditFailed},
		{Outcome: precwatch.AuditOK},
		{Since: since},
		{Until: until},
		{Since: since, Until: until},
		{Actor: "otto", Outcome: precwatch.AuditOK},
		{Actor: "adam", Action: "login", Since: since},
		{Actor: "ana", Action: "user.create", Outcome: precwatch.AuditFailed}, // nothing
		{Actor: "nobody"},
		// A bound exactly on an entry's time includes it.
		{Since: log[77].At, Until: log[77].At},
	}
	for _, q := range cases {
		var want []string
		for _, e := range slices.Backward(log) {
			if (q.Actor == "" || e.Actor == q.Actor) && (q.Action == "" || e.Action == q.Action) &&
				(q.Outcome == "" || (q.Outcome == precwatch.AuditFailed) == e.Failed) &&
				(q.Since.IsZero() || !e.At.Before(q.Since)) && (q.Until.IsZero() || !e.At.After(q.Until)) {
				want = append(want, e.Target)
			}
		}
		for _, limit := range []int{7, 50} {
			q.Limit, q.Before = limit, 0
			var got []string
			lastID := int64(0)
			for pages := 0; ; pages++ {
				if pages > 40 {
					t.Fatalf("%+v: more than 40 pages", q)
				}
				p, err := s.QueryAudit(ctx, q)
				if err != nil {
					t.Fatalf("QueryAudit(%+v): %v", q, err)
				}
				if len(p.Entries) > limit {
					t.Errorf("%+v: %d entries on a page of %d", q, len(p.Entries), limit)
				}
				for _, e := range p.Entries {
					if lastID != 0 && e.ID >= lastID {
						t.Errorf("%+v: id %d after %d, want decreasing", q, e.ID, lastID)
					}
					lastID = e.ID
					got = append(got, e.Target)
				}
				if p.Next == 0 {
					break
				}
				if p.Next != lastID {
					t.Errorf("%+v: next cursor %d, want the last entry's id %d", q, p.Next, lastID)
				}
				q.Before = p.Next
			}
			if !slices.Equal(got, want) {
				t.Errorf("QueryAudit(%+v) paged by %d = %v, want %v", q, limit, got, want)
			}
		}
	}
	// Entries come back whole.
	p, err := s.QueryAudit(ctx, precwatch.AuditQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := p.Entries[0]
	got.ID = 0
	if jsonOf(t, got) != jsonOf(t, log[len(log)-1]) || p.Next == 0 {
		t.Errorf("newest entry %s (next %d), want %s", jsonOf(t, got), p.Next, jsonOf(t, log[len(log)-1]))
	}
	// An appended entry keeps what it is given, count included.
	counted := precwatch.AuditEntry{At: t0, Actor: "cli", Action: "import", Count: 3, Last: t0.Add(time.Minute)}
	if err := s.AppendAudit(ctx, counted); err != nil {
		t.Fatal(err)
	}
	if p, err := s.QueryAudit(ctx, precwatch.AuditQuery{Actor: "cli"}); err != nil || len(p.Entries) != 1 || p.Entries[0].Count != 3 || !p.Entries[0].Last.Equal(counted.Last) {
		t.Errorf("appended entry with a count: %+v, %v", p.Entries, err)
	}
	// The default page is DefaultPageSize.
	if p, err := s.QueryAudit(ctx, precwatch.AuditQuery{}); err != nil || len(p.Entries) != precwatch.DefaultPageSize {
		t.Errorf("default page: %d entries, %v", len(p.Entries), err)
	}
	for _, q := range []precwatch.AuditQuery{{Outcome: "maybe"}, {Before: -1}} {
		if _, err := s.QueryAudit(ctx, q); !errors.Is(err, precwatch.ErrInvalid) {
			t.Errorf("QueryAudit(%+v) error = %v, want ErrInvalid", q, err)
		}
	}
}

// testAuditCount: an aggregated entry counts its events in place; a new
// key starts a new entry; concurrent counts are all kept.
func testAuditCount(t *testing.T, factory func() precwatch.ConsoleStore) {
	s := consoleClient(t, factory)
	ctx := context.Background()
	flood := func(at time.Time) precwatch.AuditEntry {
		return precwatch.AuditEntry{At: at, Action: "login_failed_unknown", Target: "client:203.0.113.7", Failed: true}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.AppendAudit(ctx, precwatch.AuditEntry{At: t0, Actor: "ana", Action: "login"}))
	must(s.CountAudit(ctx, "w1", flood(t0.Add(time.Second))))
	must(s.AppendAudit(ctx, precwatch.AuditEntry{At: t0.Add(2 * time.Second), Actor: "ana", Action: "logout"}))
	for i := range 5 {
		must(s.CountAudit(ctx, "w1", flood(t0.Add(time.Duration(3+i)*time.Second))))
	}
	must(s.CountAudit(ctx, "w2", flood(t0.Add(time.Hour))))
	es, err := s.Audit(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		action string
		count  int
		at     time.Time
		last   time.Time
	}
	var got []row
	for _, e := range es {
		got = append(got, row{e.Action, e.Count, e.At.UTC(), e.Last.UTC()})
	}
	want := []row{
		{"login_failed_unknown", 1, t0.Add(time.Hour), t0.Add(time.Hour)},
		{"logout", 0, t0.Add(2 * time.Second), time.Time{}},
		{"login_failed_unknown", 6, t0.Add(time.Second), t0.Add(7 * time.Second)},
		{"login", 0, t0, time.Time{}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("log = %v, want %v", got, want)
	}
	// The aggregated entries are found by their filters.
	p, err := s.QueryAudit(ctx, precwatch.AuditQuery{Action: "login_failed_unknown", Outcome: precwatch.AuditFailed})
	if err != nil || len(p.Entries) != 2 || p.Entries[1].Count != 6 || p.Entries[1].Target != "client:203.0.113.7" {
		t.Errorf("aggregated entries by filter: %+v, %v", p.Entries, err)
	}
	// Concurrent counts from several clients of one store are all kept.
	const workers, each = 4, 10
	var wg sync.WaitGroup
	for range workers {
		c := consoleClient(t, factory)
		wg.Go(func() {
			for i := range each {
				if err := c.CountAudit(ctx, "w3", flood(t0.Add(2*time.Hour+time.Duration(i)*time.Second))); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	p, err = s.QueryAudit(ctx, precwatch.AuditQuery{Since: t0.Add(2 * time.Hour)})
	if err != nil || len(p.Entries) != 1 || p.Entries[0].Count != workers*each {
		t.Errorf("after concurrent counts: %+v, %v; want one entry counting %d", p.Entries, err, workers*each)
	}
	if err := s.CountAudit(ctx, "", flood(t0)); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("CountAudit without a key error = %v, want ErrInvalid", err)
	}
}
