package storetest

// Delivery (issue 11): the event outbox, delivery cursors and the delivery
// log, the same on every store.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

// RunEvents runs the outbox suite; open is as for Run, its stores
// implementing precwatch.DeliveryStore.
func RunEvents(t *testing.T, open func(t *testing.T) func() precwatch.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, factory func() precwatch.Store)
	}{
		{"EventsOfRecord", testEventsOfRecord},
		{"EventsOfActions", testEventsOfActions},
		{"EventsAtomic", testEventsAtomic},
		{"EventsConcurrent", testEventsConcurrent},
		{"DeliveryCursors", testDeliveryCursors},
		{"DeliveryLog", testDeliveryLog},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

func eventLog(t *testing.T, s precwatch.Store) precwatch.DeliveryStore {
	t.Helper()
	ds, ok := s.(precwatch.DeliveryStore)
	if !ok {
		t.Fatalf("%T is not a precwatch.DeliveryStore", s)
	}
	return ds
}

// AllEvents reads every event after after, in pages of limit, checking
// that IDs increase (as the next page's cursor sees them).
func AllEvents(t testing.TB, s precwatch.EventLog, after string, limit int) []precwatch.Event {
	t.Helper()
	var out []precwatch.Event
	seen := map[string]bool{}
	for {
		page, err := s.Events(context.Background(), after, limit)
		if err != nil {
			t.Fatalf("Events(%q, %d): %v", after, limit, err)
		}
		if len(page) > limit {
			t.Fatalf("Events(%q, %d) returned %d events", after, limit, len(page))
		}
		if len(page) == 0 {
			return out
		}
		for _, e := range page {
			if e.Gap {
				t.Fatalf("Events(%q): event %s marked Gap, but nothing was trimmed", after, e.ID)
			}
			if seen[e.ID] || e.ID == after {
				t.Fatalf("Events(%q): event %s returned twice", after, e.ID)
			}
			seen[e.ID] = true
		}
		out = append(out, page...)
		after = page[len(page)-1].ID
	}
}

func eventKinds(es []precwatch.Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Event + ":" + e.Key
	}
	return out
}

func testEventsOfRecord(t *testing.T, factory func() precwatch.Store) {
	ctx := context.Background()
	s := client(t, factory)
	el := eventLog(t, s)
	if es, err := el.Events(ctx, "", 10); err != nil || len(es) != 0 {
		t.Fatalf("Events of an empty store = %v, %v; want none", es, err)
	}
	o1 := obs("silkvault", "E1", 100, t0, "r1", peroxide(30), nitromethane())
	record(t, s, o1)
	record(t, s, o1) // a retry: no event
	o2 := obs("agora2", "E2", 50, t0.Add(time.Minute), "r1", thiodiglycol())
	record(t, s, o2)
	o1b := obs("silkvault", "E1", 120, t0.Add(time.Hour), "r2", peroxide(30), nitromethane())
	record(t, s, o1b) // a material change: one changed event per alert

	es := AllEvents(t, el, "", 2)
	hp, nm, td := alertKey(o1, "hydrogen-peroxide"), alertKey(o1, "nitromethane"), alertKey(o2, "thiodiglycol")
	// Within one Record, alerts are written in the store's order: compare
	// the raised pair as a set.
	got := eventKinds(es)
	if len(got) != 5 || sorted(got[:2])[0] != sorted([]string{"raised:" + hp, "raised:" + nm})[0] ||
		got[2] != "raised:"+td || sorted(got[3:])[1] != sorted([]string{"changed:" + hp, "changed:" + nm})[1] {
		t.Fatalf("events = %v, want raised %s and %s, raised %s, changed both", got, hp, nm, td)
	}
	e := es[2]
	if e.Site != "agora2" || e.Substance != "thiodiglycol" || e.Severity != precwatch.SeverityCritical.String() ||
		e.Alert.Key != td || e.Alert.Listing.ID != "E2" || !e.At.Equal(t0.Add(time.Minute)) {
		t.Errorf("event of E2 = %+v", e)
	}
	for _, e := range es[3:] {
		if e.Alert.Listing.Price != 120 || len(e.Alert.History) != 2 || !e.At.Equal(t0.Add(time.Hour)) {
			t.Errorf("changed event carries %+v at %v; want the changed alert", e.Alert.History, e.At)
		}
	}
	// A cursor reads after itself; the last one reads nothing; another
	// client sees the same log.
	if rest := AllEvents(t, eventLog(t, client(t, factory)), es[2].ID, 10); len(rest) != 2 || rest[0].ID != es[3].ID {
		t.Errorf("events after %s = %v, want the last two", es[2].ID, eventKinds(rest))
	}
	if rest, err := el.Events(ctx, es[4].ID, 10); err != nil || len(rest) != 0 {
		t.Errorf("events after the last = %v, %v", rest, err)
	}
	if _, err := el.Events(ctx, "not a cursor", 10); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("Events(bad cursor): %v, want ErrInvalid", err)
	}
	// Relisting after gone is an event too.
	run := precwatch.Run{ID: "r3", Site: "agora2", Start: t0.Add(2 * time.Hour), End: t0.Add(3 * time.Hour), Status: precwatch.RunOK}
	if _, err := s.MarkGone(ctx, run); err != nil {
		t.Fatal(err)
	}
	record(t, s, obs("agora2", "E2", 50, t0.Add(4*time.Hour), "r4", thiodiglycol()))
	if rest := AllEvents(t, el, es[4].ID, 10); len(rest) != 1 || rest[0].Event != precwatch.EventRelisted || rest[0].Key != td {
		t.Errorf("events after relisting = %v, want relisted:%s", eventKinds(rest), td)
	}
}

func testEventsOfActions(t *testing.T, factory func() precwatch.Store) {
	ctx := context.Background()
	s := client(t, factory)
	cs, ok := s.(precwatch.ConsoleStore)
	if !ok {
		t.Fatalf("%T is not a ConsoleStore", s)
	}
	o := obs("silkvault", "A1", 100, t0, "r1", thiodiglycol())
	record(t, s, o)
	key := alertKey(o, "thiodiglycol")
	if _, err := cs.UpdateAlert(ctx, precwatch.AlertAction{Key: key, Actor: "otto", At: t0.Add(time.Minute), Action: precwatch.ActionClaim}); err != nil {
		t.Fatal(err)
	}
	es := AllEvents(t, eventLog(t, s), "", 10)
	if len(es) != 2 || es[0].Event != precwatch.EventRaised || es[1].Event != precwatch.ActionClaim {
		t.Fatalf("events = %v, want raised then claim", eventKinds(es))
	}
	if e := es[1]; e.Actor != "otto" || e.To != "otto" || e.Alert.Assignee != "otto" || !e.At.Equal(t0.Add(time.Minute)) {
		t.Errorf("claim event = actor %q to %q assignee %q at %v", e.Actor, e.To, e.Alert.Assignee, e.At)
	}
	// A refused action writes nothing, its event neither.
	if _, err := cs.UpdateAlert(ctx, precwatch.AlertAction{Key: key, Actor: "otto", At: t0.Add(2 * time.Minute), Action: "bogus"}); err == nil {
		t.Fatal("UpdateAlert(bogus action) succeeded")
	}
	if es := AllEvents(t, eventLog(t, s), "", 10); len(es) != 2 {
		t.Errorf("events after a refused action = %v", eventKinds(es))
	}
}

func testEventsAtomic(t *testing.T, factory func() precwatch.Store) {
	ctx := context.Background()
	s := client(t, factory)
	// A batch refused for a missing evidence page writes no alert and no
	// event, the alerts of its other listings included.
	good := obs("silkvault", "B1", 10, t0, "r1", thiodiglycol())
	bad := obs("silkvault", "B2", 10, t0, "r1", thiodiglycol())
	p := &precwatch.Page{SHA256: good.Listing.PageSHA256, Site: "silkvault", URL: good.Listing.URL, FetchedAt: t0, Body: []byte("silkvault" + "B1" + t0.String())}
	if _, err := s.RecordPage(ctx, p, []precwatch.Observation{good, bad}); !errors.Is(err, precwatch.ErrInvalid) {
		t.Fatalf("RecordPage without B2's evidence: %v, want ErrInvalid", err)
	}
	if es := AllEvents(t, eventLog(t, s), "", 10); len(es) != 0 {
		t.Fatalf("events of a refused batch = %v", eventKinds(es))
	}
	if _, err := s.RecordPage(ctx, p, []precwatch.Observation{good}); err != nil {
		t.Fatal(err)
	}
	if es := AllEvents(t, eventLog(t, s), "", 10); len(es) != 1 || es[0].Key != alertKey(good, "thiodiglycol") {
		t.Fatalf("events of a stored batch = %v", eventKinds(es))
	}
}

// testEventsConcurrent: clients writing at once (as processes would) give
// one event per alert raised, none lost or doubled, read with a cursor
// while they write.
func testEventsConcurrent(t *testing.T, factory func() precwatch.Store) {
	const writers, each = 4, 15
	reader := eventLog(t, client(t, factory))
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		s := client(t, factory)
		wg.Go(func() {
			for i := range each {
				// Two writers see every listing, so that they race on it.
				o := obs("silkvault", fmt.Sprintf("C%d", (w/2)*each+i), 10, t0, "r1", thiodiglycol())
				if _, err := s.Record(context.Background(), o); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// Read while they write: the cursor must not skip what commits later.
	var got []precwatch.Event
	after := ""
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		page := AllEvents(t, reader, after, 7)
		if len(page) > 0 {
			got, after = append(got, page...), page[len(page)-1].ID
		}
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got = append(got, AllEvents(t, reader, after, 7)...)
	keys := map[string]int{}
	for _, e := range got {
		keys[e.Key]++
	}
	if want := writers / 2 * each; len(got) != want || len(keys) != want {
		t.Fatalf("%d events for %d alerts, want %d of each", len(got), len(keys), want)
	}
}

func testDeliveryCursors(t *testing.T, factory func() precwatch.Store) {
	ctx := context.Background()
	s := client(t, factory)
	ds := eventLog(t, s)
	if _, err := ds.DeliveryCursor(ctx, "soc"); !errors.Is(err, precwatch.ErrNotFound) {
		t.Fatalf("DeliveryCursor of a new destination: %v, want ErrNotFound", err)
	}
	o := obs("silkvault", "D1", 10, t0, "r1", thiodiglycol())
	record(t, s, o)
	es := AllEvents(t, ds, "", 10)
	if err := ds.SaveDeliveryCursor(ctx, "soc", es[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := ds.SaveDeliveryCursor(ctx, "", es[0].ID); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("SaveDeliveryCursor without destination: %v, want ErrInvalid", err)
	}
	// Another client, and a reopened one, resume from it.
	s.Close()
	other := eventLog(t, client(t, factory))
	c, err := other.DeliveryCursor(ctx, "soc")
	if err != nil || c != es[0].ID {
		t.Fatalf("DeliveryCursor = %q, %v; want %q", c, err, es[0].ID)
	}
	if _, err := other.DeliveryCursor(ctx, "chat"); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("another destination's cursor: %v, want ErrNotFound", err)
	}
	if rest, err := other.Events(ctx, c, 10); err != nil || len(rest) != 0 {
		t.Errorf("events after the saved cursor = %v, %v", rest, err)
	}
}

func testDeliveryLog(t *testing.T, factory func() precwatch.Store) {
	ctx := context.Background()
	ds := eventLog(t, client(t, factory))
	if got, err := ds.Deliveries(ctx, "", 10); err != nil || len(got) != 0 {
		t.Fatalf("Deliveries of an empty store = %v, %v", got, err)
	}
	n := precwatch.MaxDeliveryLog + 5
	for i := range n {
		d := precwatch.Delivery{Destination: "soc", EventID: fmt.Sprint(i), Event: "raised", Key: "k", At: t0.Add(time.Duration(i) * time.Second),
			Attempt: 1 + i%3, Status: 503, Error: "503 Service Unavailable", Duration: 1500 * time.Millisecond}
		if i == n-1 {
			d.Status, d.Error, d.Delivered = 204, "", true
		}
		if err := ds.LogDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := ds.LogDelivery(ctx, precwatch.Delivery{Destination: "chat", EventID: "x", At: t0}); err != nil {
		t.Fatal(err)
	}
	if err := ds.LogDelivery(ctx, precwatch.Delivery{}); !errors.Is(err, precwatch.ErrInvalid) {
		t.Errorf("LogDelivery without destination: %v, want ErrInvalid", err)
	}
	soc, err := ds.Deliveries(ctx, "soc", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(soc) != precwatch.MaxDeliveryLog {
		t.Fatalf("soc's log holds %d attempts, want the newest %d", len(soc), precwatch.MaxDeliveryLog)
	}
	first := soc[0]
	if first.EventID != fmt.Sprint(n-1) || !first.Delivered || first.Status != 204 || first.Duration != 1500*time.Millisecond ||
		!first.At.Equal(t0.Add(time.Duration(n-1)*time.Second)) || soc[len(soc)-1].EventID != "5" {
		t.Errorf("soc's log runs %+v ... %+v", first, soc[len(soc)-1])
	}
	all, err := ds.Deliveries(ctx, "", 2)
	if err != nil || len(all) != 2 || all[0].Destination != "chat" || all[1].Destination != "soc" {
		t.Errorf("Deliveries(all, 2) = %+v, %v", all, err)
	}
}
