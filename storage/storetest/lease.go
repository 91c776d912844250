package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
)

func leaseStore(t *testing.T, s precwatch.Store) precwatch.LeaseStore {
	t.Helper()
	ls, ok := s.(precwatch.LeaseStore)
	if !ok {
		t.Fatalf("%T does not implement precwatch.LeaseStore", s)
	}
	return ls
}

// testLeases: one holder at a time, tokens that only grow, renewal that
// fails once another holder took the lease, and the previous lease told to
// the next holder (released or expired).
func testLeases(t *testing.T, factory func() precwatch.Store) {
	ctx := context.Background()
	a, b := leaseStore(t, client(t, factory)), leaseStore(t, client(t, factory))
	const ttl = 10 * time.Second
	for _, bad := range [][2]string{{"", "h"}, {"site", ""}} {
		if _, err := a.AcquireLease(ctx, bad[0], bad[1], ttl); !errors.Is(err, precwatch.ErrInvalid) {
			t.Errorf("AcquireLease(%q, %q): err = %v, want ErrInvalid", bad[0], bad[1], err)
		}
	}
	if _, err := a.CurrentLease(ctx, "silkvault"); !errors.Is(err, precwatch.ErrNotFound) {
		t.Fatalf("CurrentLease of a site never leased: err = %v, want ErrNotFound", err)
	}
	l1, err := a.AcquireLease(ctx, "silkvault", "worker-a", ttl)
	if err != nil {
		t.Fatalf("AcquireLease: %v", err)
	}
	if l1.Holder != "worker-a" || l1.Token <= 0 || l1.Previous != nil || !l1.Expires.After(time.Now()) {
		t.Fatalf("first lease = %+v, want holder worker-a, a positive token, no previous, a future expiry", l1)
	}
	// Another site's lease is independent.
	if _, err := b.AcquireLease(ctx, "agora2", "worker-b", ttl); err != nil {
		t.Fatalf("AcquireLease of another site: %v", err)
	}
	held, err := b.AcquireLease(ctx, "silkvault", "worker-b", ttl)
	if !errors.Is(err, precwatch.ErrLeaseHeld) || held.Holder != "worker-a" || held.Token != l1.Token {
		t.Fatalf("AcquireLease while held = %+v, %v; want worker-a's lease and ErrLeaseHeld", held, err)
	}
	l1.RunID = "run-1"
	if l1, err = a.RenewLease(ctx, l1, ttl); err != nil || l1.RunID != "run-1" {
		t.Fatalf("RenewLease = %+v, %v; want the run id kept", l1, err)
	}
	cur, err := b.CurrentLease(ctx, "silkvault")
	if err != nil || cur.Holder != "worker-a" || cur.Token != l1.Token || cur.RunID != "run-1" {
		t.Fatalf("CurrentLease = %+v, %v; want worker-a's with run-1", cur, err)
	}
	if err := b.ReleaseLease(ctx, precwatch.Lease{Site: "silkvault", Holder: "worker-b", Token: l1.Token}); !errors.Is(err, precwatch.ErrLeaseLost) {
		t.Errorf("ReleaseLease by a non-holder: err = %v, want ErrLeaseLost", err)
	}
	if err := a.ReleaseLease(ctx, l1); err != nil {
		t.Fatalf("ReleaseLease: %v", err)
	}
	if _, err := a.RenewLease(ctx, l1, ttl); !errors.Is(err, precwatch.ErrLeaseLost) {
		t.Errorf("RenewLease after release: err = %v, want ErrLeaseLost", err)
	}
	l2, err := b.AcquireLease(ctx, "silkvault", "worker-b", ttl)
	if err != nil {
		t.Fatalf("AcquireLease after release: %v", err)
	}
	if l2.Token <= l1.Token {
		t.Errorf("token after release = %d, want above %d", l2.Token, l1.Token)
	}
	if p := l2.Previous; p == nil || p.Holder != "worker-a" || p.RunID != "run-1" || !p.Released || p.Token != l1.Token {
		t.Errorf("previous lease = %+v, want worker-a's run-1, released", p)
	}

	// An expired lease is taken by the next holder; the dead holder's
	// renewal then fails, and the new holder learns it expired.
	short := 150 * time.Millisecond
	l2.RunID = "run-2"
	if l2, err = b.RenewLease(ctx, l2, short); err != nil {
		t.Fatalf("RenewLease: %v", err)
	}
	time.Sleep(3 * short)
	if _, err := a.CurrentLease(ctx, "silkvault"); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("CurrentLease after expiry: err = %v, want ErrNotFound", err)
	}
	l3, err := a.AcquireLease(ctx, "silkvault", "worker-a", ttl)
	if err != nil {
		t.Fatalf("AcquireLease after expiry: %v", err)
	}
	if l3.Token <= l2.Token {
		t.Errorf("token after expiry = %d, want above %d", l3.Token, l2.Token)
	}
	if p := l3.Previous; p == nil || p.Holder != "worker-b" || p.RunID != "run-2" || p.Released || p.Expires.After(time.Now()) {
		t.Errorf("previous lease = %+v, want worker-b's run-2, expired, not released", p)
	}
	if _, err := b.RenewLease(ctx, l2, ttl); !errors.Is(err, precwatch.ErrLeaseLost) {
		t.Errorf("RenewLease by the expired holder: err = %v, want ErrLeaseLost", err)
	}
	// An expired lease nobody took is still its holder's to renew.
	l3.RunID = "run-3"
	if l3, err = a.RenewLease(ctx, l3, short); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * short)
	if l3, err = a.RenewLease(ctx, l3, ttl); err != nil || l3.RunID != "run-3" {
		t.Errorf("RenewLease of an expired lease nobody took = %+v, %v; want it renewed", l3, err)
	}
	if err := a.ReleaseLease(ctx, l3); err != nil {
		t.Fatal(err)
	}
}

// testLeaseContention: clients acquiring one site's lease at once; exactly
// one gets it.
func testLeaseContention(t *testing.T, factory func() precwatch.Store) {
	ctx := context.Background()
	const n = 6
	stores := make([]precwatch.LeaseStore, n)
	for i := range stores {
		stores[i] = leaseStore(t, client(t, factory))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var winners []string
	for i, s := range stores {
		wg.Go(func() {
			holder := fmt.Sprintf("worker-%d", i)
			l, err := s.AcquireLease(ctx, "agora2", holder, time.Minute)
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, l.Holder)
				mu.Unlock()
			case !errors.Is(err, precwatch.ErrLeaseHeld):
				t.Errorf("%s: AcquireLease: %v", holder, err)
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("lease holders = %v, want exactly one", winners)
	}
	cur, err := stores[0].CurrentLease(ctx, "agora2")
	if err != nil || cur.Holder != winners[0] {
		t.Errorf("CurrentLease = %+v, %v; want %s's", cur, err, winners[0])
	}
}

// testFrontier: a shared frontier (stores that implement FrontierStore;
// the embedded store keeps its frontier in process): a key is pushed once,
// the task budget holds, a task left pending past the visibility timeout
// goes to another worker, a task acked twice counts once, and the run is
// complete when every pushed task is acked.
func testFrontier(t *testing.T, factory func() precwatch.Store) {
	s := client(t, factory)
	fs, ok := s.(precwatch.FrontierStore)
	if !ok {
		t.Logf("%T keeps run frontiers in process", s)
		return
	}
	ctx := context.Background()
	f := fs.Frontier("silkvault", "run-f")
	if ok, err := f.Exists(ctx); err != nil || ok {
		t.Fatalf("Exists before Create = %t, %v", ok, err)
	}
	if err := f.Create(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Create(ctx); err != nil {
		t.Fatalf("second Create: %v", err)
	}
	if ok, err := f.Exists(ctx); err != nil || !ok {
		t.Fatalf("Exists after Create = %t, %v", ok, err)
	}
	for i, want := range []struct{ pushed, limit bool }{{true, false}, {false, false}, {true, false}, {false, true}} {
		key := []string{"/a", "/a", "/b", "/c"}[i]
		p, l, err := f.Push(ctx, key, []byte(key), 2)
		if err != nil || p != want.pushed || l != want.limit {
			t.Errorf("Push(%s) = %t, %t, %v; want %t, %t", key, p, l, err, want.pushed, want.limit)
		}
	}
	// Long enough that a loaded machine's late wake-ups (tenths of a
	// second) never reach it between the Touch and the Next below.
	vis := time.Second
	t1, err := f.Next(ctx, "w1", vis, 10*time.Millisecond)
	if err != nil || t1 == nil || string(t1.Data) != "/a" {
		t.Fatalf("Next = %+v, %v; want /a", t1, err)
	}
	t2, err := f.Next(ctx, "w1", vis, 10*time.Millisecond)
	if err != nil || t2 == nil || string(t2.Data) != "/b" {
		t.Fatalf("Next = %+v, %v; want /b", t2, err)
	}
	if t3, err := f.Next(ctx, "w2", vis, 10*time.Millisecond); err != nil || t3 != nil {
		t.Fatalf("Next with every task taken = %+v, %v; want none", t3, err)
	}
	if ok, err := f.Ack(ctx, t1.ID, map[string]int64{"pages": 1}); err != nil || !ok {
		t.Fatalf("Ack = %t, %v", ok, err)
	}
	// w1 dies holding /b: after the visibility timeout it goes to w2.
	time.Sleep(2 * vis)
	t4, err := f.Next(ctx, "w2", vis, 10*time.Millisecond)
	if err != nil || t4 == nil || t4.ID != t2.ID {
		t.Fatalf("Next after the visibility timeout = %+v, %v; want /b again", t4, err)
	}
	// w2 keeps it while it works: no third worker gets it.
	time.Sleep(vis / 2)
	if err := f.Touch(ctx, "w2", []string{t4.ID}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(vis * 3 / 4)
	if t5, err := f.Next(ctx, "w3", vis, 10*time.Millisecond); err != nil || t5 != nil {
		t.Fatalf("Next while w2 keeps /b = %+v, %v; want none", t5, err)
	}
	c, err := f.Counters(ctx)
	if err != nil || c["pushed"] != 2 || c["acked"] != 1 || c["limit"] != 1 {
		t.Fatalf("Counters = %v, %v; want pushed 2, acked 1, limit 1", c, err)
	}
	if ok, err := f.Ack(ctx, t4.ID, map[string]int64{"pages": 1}); err != nil || !ok {
		t.Fatalf("Ack = %t, %v", ok, err)
	}
	if ok, err := f.Ack(ctx, t2.ID, map[string]int64{"pages": 1}); err != nil || ok {
		t.Fatalf("second Ack of one task = %t, %v; want false", ok, err)
	}
	if err := f.Incr(ctx, map[string]int64{"alerts": 2}); err != nil {
		t.Fatal(err)
	}
	c, err = f.Counters(ctx)
	if err != nil || c["pushed"] != 2 || c["acked"] != 2 || c["pages"] != 2 || c["alerts"] != 2 {
		t.Fatalf("Counters = %v, %v; want pushed 2, acked 2, pages 2, alerts 2", c, err)
	}
	if added, err := f.Add(ctx, "listings", "id:1"); err != nil || !added {
		t.Fatalf("Add = %t, %v", added, err)
	}
	if added, err := f.Add(ctx, "listings", "id:1"); err != nil || added {
		t.Fatalf("Add again = %t, %v", added, err)
	}
	if has, err := f.Has(ctx, "listings", "id:1"); err != nil || !has {
		t.Fatalf("Has = %t, %v", has, err)
	}
	if n, err := f.Card(ctx, "listings"); err != nil || n != 1 {
		t.Fatalf("Card = %d, %v", n, err)
	}
	for i := range 3 {
		if err := f.AddError(ctx, fmt.Sprintf("error %d", i), 2); err != nil {
			t.Fatal(err)
		}
	}
	if errs, dropped, err := f.Errors(ctx); err != nil || len(errs) != 2 || dropped != 1 {
		t.Fatalf("Errors = %v, %d, %v; want 2 kept, 1 dropped", errs, dropped, err)
	}
	// Another run's frontier is separate.
	g := fs.Frontier("silkvault", "run-g")
	if ok, err := g.Exists(ctx); err != nil || ok {
		t.Fatalf("other run's frontier Exists = %t, %v", ok, err)
	}
	if err := f.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if stopped, err := f.Stopped(ctx); err != nil || !stopped {
		t.Fatalf("Stopped = %t, %v", stopped, err)
	}
	if err := f.Delete(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.Exists(ctx); err != nil || ok {
		t.Fatalf("Exists after Delete = %t, %v", ok, err)
	}
}
