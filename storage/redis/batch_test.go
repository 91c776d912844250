package redis

import (
	"context"
	"testing"
	"time"

	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
	"github.com/redis/go-redis/v9"
)

// TestRecordPageConnectionBroken: the connection carrying a RecordPage is
// killed by the server between its reads and its MULTI/EXEC; nothing of
// the page, its listings or their alerts is stored, and the retry stores
// all of it.
func TestRecordPageConnectionBroken(t *testing.T) {
	url := redistest.Start(t)
	s := open(t, url)
	defer s.Close()
	ctx := context.Background()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	killer := redis.NewClient(opts)
	defer killer.Close()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p, obs := storetest.EvidenceBatch("silkvault", at, "K1", "K2", "K3")
	kills := 0
	s.beforeExec = func() {
		n, err := killer.ClientKillByFilter(ctx, "TYPE", "normal", "SKIPME", "yes").Result()
		if err != nil {
			t.Errorf("client kill: %v", err)
		}
		kills += int(n)
	}
	if _, err := s.RecordPage(ctx, p, obs); err == nil {
		t.Fatal("RecordPage on a killed connection succeeded")
	}
	if kills == 0 {
		t.Fatal("no connection killed")
	}
	s.beforeExec = nil
	storetest.NoTrace(t, s, p.SHA256, obs...)

	res, err := s.RecordPage(ctx, p, obs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !r.NewListing || len(r.NewAlerts) != 2 {
			t.Errorf("retry result %d = %+v, want a new listing with 2 alerts", i, r)
		}
	}
	storetest.EvidenceOf(t, s)
	// Every alert raised once on the stream.
	n, err := s.rdb.XLen(ctx, s.StreamKey()).Result()
	if err != nil || n != 6 {
		t.Errorf("stream holds %d events (%v), want 6", n, err)
	}
}
