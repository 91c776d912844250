package redis

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
)

// TestFollowAtLeastOnce drives consumer groups on a real redis-server: a
// consumer that fails mid-way leaves its entry pending, another of the
// group claims it once idle, a consumer restarted under its own name gets
// its pending entry first, every group sees every entry, and a group
// created now sees only what comes after.
func TestFollowAtLeastOnce(t *testing.T) {
	s := open(t, redistest.Start(t))
	defer s.Close()
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, o := range storetest.Synthetic(12, t0) {
		if _, err := s.Record(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Client().XRange(ctx, s.StreamKey(), "-", "+").Result()
	if err != nil || len(all) < 5 {
		t.Fatalf("%d stream entries, %v", len(all), err)
	}
	var ids []string
	for _, m := range all {
		ids = append(ids, m.ID)
	}
	collect := func(group, consumer string, opts FollowOptions, failAt int) ([]string, error) {
		var got []string
		err := s.Follow(ctx, group, consumer, opts, func(e StreamEvent) error {
			if len(got) == failAt {
				return errors.New("consumer crashed")
			}
			got = append(got, e.ID)
			return nil
		})
		return got, err
	}

	// a handles two entries, then fails on the third.
	gotA, err := collect("g", "a", FollowOptions{FromStart: true}, 2)
	if err == nil || len(gotA) != 2 {
		t.Fatalf("consumer a: %v, %v; want 2 entries and its failure", gotA, err)
	}
	// b claims a's pending entry once idle, and reads the rest.
	time.Sleep(60 * time.Millisecond)
	gotB, err := collect("g", "b", FollowOptions{ClaimIdle: 50 * time.Millisecond, Max: len(ids) - 2}, -1)
	if err != nil {
		t.Fatal(err)
	}
	union := append(slices.Clone(gotA), gotB...)
	slices.Sort(union)
	if !slices.Equal(union, ids) {
		t.Errorf("group g delivered %v, want each of %v once", union, ids)
	}
	if pending, err := s.Client().XPending(ctx, s.StreamKey(), "g").Result(); err != nil || pending.Count != 0 {
		t.Errorf("group g has %+v pending (%v), want none", pending, err)
	}
	// Another group gets every entry, in order.
	gotH, err := collect("h", "x", FollowOptions{FromStart: true, Max: len(ids)}, -1)
	if err != nil || !slices.Equal(gotH, ids) {
		t.Errorf("group h: %v, %v; want %v", gotH, err, ids)
	}
	// c fails on its first entry; restarted under its name, it gets that
	// entry again first.
	gotC, err := collect("k", "c", FollowOptions{FromStart: true}, 0)
	if err == nil || len(gotC) != 0 {
		t.Fatalf("consumer c: %v, %v", gotC, err)
	}
	if gotC, err = collect("k", "c", FollowOptions{Max: 1}, -1); err != nil || !slices.Equal(gotC, ids[:1]) {
		t.Errorf("restarted c: %v, %v; want its pending %s", gotC, err, ids[0])
	}

	// A live group: only what is recorded after it exists.
	if err := s.Client().XGroupCreateMkStream(ctx, s.StreamKey(), "live", "$").Err(); err != nil {
		t.Fatal(err)
	}
	fresh := storetest.Synthetic(13, t0.Add(time.Hour))[12]
	res, err := s.Record(ctx, fresh)
	if err != nil || len(res.NewAlerts) == 0 {
		t.Fatalf("record: %+v, %v", res, err)
	}
	var live []StreamEvent
	if err := s.Follow(ctx, "live", "l", FollowOptions{Max: 1}, func(e StreamEvent) error { live = append(live, e); return nil }); err != nil {
		t.Fatal(err)
	}
	var a precwatch.Alert
	if len(live) != 1 || live[0].Event != precwatch.EventRaised || json.Unmarshal(live[0].Alert, &a) != nil || a.Key != live[0].Key || a.Site != fresh.Listing.Site {
		t.Errorf("live group got %+v", live)
	}

	// A cancelled context ends a follow that waits for entries.
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- s.Follow(cctx, "live", "l", FollowOptions{Block: 100 * time.Millisecond}, func(StreamEvent) error { return nil })
	}()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("follow after cancel: %v, want nil", err)
	}
}
