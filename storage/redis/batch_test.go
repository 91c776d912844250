package redis

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
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

// TestRecordPageRetriesOnConflict: RecordPage sends WATCH in the round trip
// of its reads; a write to a watched listing landing before its EXEC still
// aborts the transaction, and the retry works from the new state. Then a
// RecordPage that writes nothing (the same sightings again) leaves no
// WATCH on its pooled connection: the next transaction, whose keys were
// written meanwhile by another client, commits at its first attempt.
func TestRecordPageRetriesOnConflict(t *testing.T) {
	url := redistest.Start(t) + "?pool_size=1"
	s, other := open(t, url), open(t, url)
	defer s.Close()
	defer other.Close()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p, obs := storetest.EvidenceBatch("silkvault", at, "K1", "K2")
	if _, err := s.RecordPage(ctx, p, obs); err != nil {
		t.Fatal(err)
	}
	key := precwatch.AlertKey(obs[0].Listing.Site, obs[0].Listing.Identity(), obs[0].Matches[0].Substance)
	calls := 0
	s.beforeExec = func() {
		calls++
		if calls == 1 {
			if err := other.SetAlertStatus(ctx, key, precwatch.StatusEscalated, at); err != nil {
				t.Error(err)
			}
		}
	}
	changed := slices.Clone(obs)
	changed[0].Listing.Price += 10
	changed[0].At = at.Add(time.Hour)
	res, err := s.RecordPage(ctx, p, changed[:1])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := calls, 2; got != want {
		t.Errorf("%d attempts, want %d (the first must conflict)", got, want)
	}
	if !res[0].Changed {
		t.Errorf("RecordPage = %+v, want Changed", res[0])
	}
	a, err := s.Alert(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != precwatch.StatusEscalated || len(a.History) != 2 {
		t.Errorf("alert status %q, %d events; want escalated with 2 (raised, changed)", a.Status, len(a.History))
	}

	// Nothing to write: no EXEC, and the WATCH must not outlive the call.
	calls = 0
	s.beforeExec = func() { calls++ }
	if _, err := s.RecordPage(ctx, p, changed[:1]); err != nil {
		t.Fatal(err)
	}
	if calls != 0 {
		t.Fatalf("a repeated RecordPage reached EXEC %d times, want 0", calls)
	}
	if err := other.SetAlertStatus(ctx, key, precwatch.StatusTriaged, at); err != nil {
		t.Fatal(err)
	}
	changed[0].At = at.Add(2 * time.Hour)
	if _, err := s.RecordPage(ctx, p, changed[:1]); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("next RecordPage took %d attempts, want 1 (a WATCH left on the connection aborts it)", calls)
	}
}

// TestRecordPageRecrawlReadsNoAlert: a page seen again unchanged reads its
// listings and counts its alerts, but reads none of them whole, and takes
// two round trips (reads, then MULTI/EXEC) whatever its alerts.
func TestRecordPageRecrawlReadsNoAlert(t *testing.T) {
	s := open(t, redistest.Start(t))
	defer s.Close()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p, obs := storetest.EvidenceBatch("silkvault", at, "K1", "K2", "K3")
	if _, err := s.RecordPage(ctx, p, obs); err != nil {
		t.Fatal(err)
	}
	for i := range obs {
		obs[i].At, obs[i].RunID = at.Add(time.Hour), "run-2"
	}
	if err := s.rdb.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordPage(ctx, p, obs); err != nil {
		t.Fatal(err)
	}
	info, err := s.rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]int{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":calls=")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
		calls[name] = n
	}
	// One MGET (the listings), no EVAL (the count told), one EXEC.
	if calls["mget"] != 1 || calls["eval"] != 0 || calls["exec"] != 1 || calls["get"] != 0 {
		t.Errorf("a re-crawled page ran %v, want one MGET (its listings), no EVAL or GET, one EXEC", calls)
	}
	for i := range obs {
		if st, err := s.Listing(ctx, precwatch.ListingKey(obs[i].Listing.Site, obs[i].Listing.Identity())); err != nil || st.LastRunID != "run-2" {
			t.Errorf("listing %d after the re-crawl: %+v, %v", i, st.LastRunID, err)
		}
	}
}
