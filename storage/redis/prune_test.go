package redis

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
)

func TestPruneConformance(t *testing.T) {
	storetest.RunPrune(t, func(t *testing.T) func() precwatch.Store {
		url := redistest.Start(t) + "?prefix=prune"
		return func() precwatch.Store { return open(t, url) }
	})
}

func TestClusterPruneConformance(t *testing.T) {
	c := redistest.StartCluster(t)
	storetest.RunPrune(t, func(t *testing.T) func() precwatch.Store {
		url := clusterFactory(t, c)
		return func() precwatch.Store { return open(t, url) }
	})
}

// TestPruneRacePoints: a write landing exactly between a prune's reads and
// its delete wins: a body fetched again is kept, a fetch whose run is
// resumed is kept, a run that gets a fetch record is kept.
func TestPruneRacePoints(t *testing.T) {
	s := open(t, redistest.Start(t)+"?prefix=races")
	defer s.Close()
	ctx := t.Context()
	now := time.Now().UTC()
	old := now.Add(-200 * 24 * time.Hour)
	policy := precwatch.PrunePolicy{FetchesBefore: now.Add(-90 * 24 * time.Hour), RunsBefore: now.Add(-90 * 24 * time.Hour)}

	// A body saved long ago and named by nothing, fetched again by a crawler
	// after the prune chose it and before its script runs.
	orphan := []byte("<html><body>a catalogue page</body></html>")
	if err := s.SavePage(ctx, precwatch.Page{SHA256: shaOf(orphan), Site: "silkvault", URL: "http://silkvault.test/c", FetchedAt: old, Body: orphan}); err != nil {
		t.Fatal(err)
	}
	// A run that ended long ago with a fetch nothing names, resumed (as a
	// run with a shared frontier is) after the prune read it.
	resumed := precwatch.Run{ID: "r-resumed", Site: "silkvault", Start: old, End: old.Add(time.Hour), Status: precwatch.RunAbandoned}
	if err := s.SaveRun(ctx, resumed); err != nil {
		t.Fatal(err)
	}
	rp := storetest.FetchedPage("silkvault", resumed.ID, "http://silkvault.test/x", old, []byte("<p>x</p>"))
	if _, err := s.RecordPage(ctx, rp, nil); err != nil {
		t.Fatal(err)
	}
	// A run that ended long ago without fetches, getting one after the
	// prune read its (empty) index.
	late := precwatch.Run{ID: "r-late", Site: "agora2", Start: old, End: old.Add(time.Hour), Status: precwatch.RunOK}
	if err := s.SaveRun(ctx, late); err != nil {
		t.Fatal(err)
	}
	for i := range precwatch.KeepRunsPerSite { // newer runs of its site
		r := precwatch.Run{ID: fmt.Sprintf("r-new-%d", i), Site: "agora2", Start: now.Add(-time.Duration(i+2) * time.Hour), Status: precwatch.RunOK}
		r.End = r.Start.Add(time.Minute)
		if err := s.SaveRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	var fresh *precwatch.Page
	hooked := map[string]bool{}
	s.pruneHook = func(stage string) {
		if hooked[stage] {
			return
		}
		hooked[stage] = true
		switch stage {
		case "pages":
			fresh = storetest.FetchedPage("silkvault", "r-now", "http://silkvault.test/c", now, orphan)
			if _, err := s.RecordPage(ctx, fresh, []precwatch.Observation{storetest.AlertingSighting(fresh, "L1")}); err != nil {
				t.Errorf("RecordPage during prune: %v", err)
			}
		case "fetches":
			resumed.Status, resumed.End = precwatch.RunRunning, time.Time{}
			if err := s.SaveRun(ctx, resumed); err != nil {
				t.Error(err)
			}
		case "runs":
			p := storetest.FetchedPage("agora2", late.ID, "http://agora2.test/y", now, []byte("<p>y</p>"))
			if _, err := s.RecordPage(ctx, p, nil); err != nil {
				t.Error(err)
			}
		}
	}
	rep, err := s.Prune(ctx, policy)
	if err != nil {
		t.Fatal(err)
	}
	s.pruneHook = nil
	for _, stage := range []string{"pages", "fetches", "runs"} {
		if !hooked[stage] {
			t.Errorf("prune never reached %s: the race was not run", stage)
		}
	}
	if rep.Pages != 0 || rep.Fetches != 0 || rep.Runs != 0 {
		t.Errorf("Prune = %+v, want nothing deleted: every candidate was used meanwhile", rep)
	}
	if _, err := s.Page(ctx, fresh.SHA256); err != nil {
		t.Errorf("body fetched again during prune: %v", err)
	}
	if _, err := s.Fetch(ctx, rp.Fetch.ID); err != nil {
		t.Errorf("fetch of a resumed run: %v", err)
	}
	if runs, err := s.Runs(ctx, "agora2", 0); err != nil || len(runs) != 1+precwatch.KeepRunsPerSite {
		t.Errorf("runs of agora2 = %v, %v; want the run that got a fetch", runs, err)
	}
	storetest.EvidenceIntact(t, s)
}

// TestPruneRedisRestart: Redis (persisting to its AOF) restarts in the
// middle of a prune's deletes and comes back holding a listing the mark
// did not read; the prune marks again on the restarted Redis, keeps what
// that listing names and deletes the rest.
func TestPruneRedisRestart(t *testing.T) {
	srv := redistest.StartServerWith(t, "--appendonly", "yes", "--appendfsync", "always")
	s := open(t, srv.URL()+"?prefix=restart&retry_for=30s")
	defer s.Close()
	ctx := t.Context()
	now := time.Now().UTC()
	old := now.Add(-200 * 24 * time.Hour)
	// An alert read from an old page, and 450 old fetches of its URL
	// nothing names (three batches).
	first := storetest.FetchedPage("silkvault", "r-old", "http://silkvault.test/c", old, []byte("<p>c</p>"))
	if _, err := s.RecordPage(ctx, first, []precwatch.Observation{storetest.AlertingSighting(first, "L1")}); err != nil {
		t.Fatal(err)
	}
	var oldest *precwatch.Page
	for i := range 450 {
		p := storetest.FetchedPage("silkvault", "r-old", "http://silkvault.test/c", old.Add(time.Duration(i+1)*time.Second), []byte("<p>c</p>"))
		if _, err := s.RecordPage(ctx, p, nil); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			oldest = p
		}
	}
	restarted := false
	s.pruneHook = func(stage string) {
		if stage == "fetches" && !restarted {
			restarted = true
			if err := srv.Restart(); err != nil {
				t.Error(err)
			}
			// The Redis that came back holds what the mark did not read
			// (as one restarted from an older snapshot would): a listing
			// naming a fetch of the batch being deleted.
			o := storetest.AlertingSighting(oldest, "L2")
			o.At = now
			if _, err := s.RecordPage(ctx, nil, []precwatch.Observation{o}); err != nil {
				t.Error(err)
			}
		}
	}
	rep, err := s.Prune(ctx, precwatch.PrunePolicy{FetchesBefore: now.Add(-90 * 24 * time.Hour)})
	s.pruneHook = nil
	if err != nil {
		t.Fatalf("Prune across a restart: %v", err)
	}
	if !restarted {
		t.Fatal("Redis was not restarted during the prune")
	}
	if rep.Fetches != 449 || rep.FetchesKept != 2 {
		t.Errorf("Prune = %+v, want the 449 unnamed fetches deleted and the two alerts' kept", rep)
	}
	if again, err := s.Prune(ctx, precwatch.PrunePolicy{FetchesBefore: now.Add(-90 * 24 * time.Hour)}); err != nil || again.Fetches != 0 {
		t.Errorf("prune after = %+v, %v; want nothing left", again, err)
	}
	if n := storetest.EvidenceIntact(t, s); n != 2 {
		t.Errorf("%d alerts, want 2", n)
	}
}

func shaOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestPruneFigures measures what retention saves (README "Retention"):
// keys and Redis's used memory.
func TestPruneFigures(t *testing.T) {
	s := open(t, redistest.Start(t)+"?prefix=figures")
	defer s.Close()
	storetest.PruneFigures(t, s, func(t *testing.T) storetest.Usage {
		keys, err := s.rdb.DBSize(t.Context()).Result()
		if err != nil {
			t.Fatal(err)
		}
		mem, err := redistest.ServerMemory(t.Context(), s.rdb)
		if err != nil {
			t.Fatal(err)
		}
		return storetest.Usage{Keys: keys, Bytes: mem}
	})
}
