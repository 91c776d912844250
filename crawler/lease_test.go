package crawler

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/embedded"
)

// A run of a site whose lease another process holds is skipped: nothing
// fetched, no run recorded (the embedded store shares no frontier).
func TestLeaseHeldSkipsRun(t *testing.T) {
	e := newEnv(t)
	site := e.torSite("/")
	if _, err := e.store.(precwatch.LeaseStore).AcquireLease(t.Context(), site.Name, "other-process", time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err := e.run(t, site)
	if !errors.Is(err, ErrLeased) || !strings.Contains(err.Error(), "other-process") {
		t.Fatalf("Run while leased: err = %v, want ErrLeased naming the holder", err)
	}
	if n := e.m.requests(""); n != 0 {
		t.Errorf("market saw %d requests, want none", n)
	}
	if runs, _ := e.store.Runs(t.Context(), site.Name, 0); len(runs) != 0 {
		t.Errorf("runs recorded: %+v, want none", runs)
	}
}

// The next holder after a dead one (its lease expired) marks the dead
// holder's run abandoned with the reason, then runs; its own lease is
// released at the end, with a higher token.
func TestLeaseDeadHolderRunAbandoned(t *testing.T) {
	e := newEnv(t)
	site := e.torSite("/")
	ctx := t.Context()
	dead, err := e.store.(precwatch.LeaseStore).AcquireLease(ctx, site.Name, "dead-holder", 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	dead.RunID = "20260101T000000.000000000Z-dead"
	if dead, err = e.store.(precwatch.LeaseStore).RenewLease(ctx, dead, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SaveRun(ctx, precwatch.Run{ID: dead.RunID, Site: site.Name, Start: time.Now().Add(-time.Hour), Status: precwatch.RunRunning}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(250 * time.Millisecond)
	rec, err := e.run(t, site, WithLease("next-holder", time.Minute))
	if err != nil || rec.Status != precwatch.RunOK {
		t.Fatalf("Run = %s, %v; want ok", rec.Status, err)
	}
	old := e.storedRun(t, dead.RunID)
	if old.Status != precwatch.RunAbandoned || len(old.Errors) == 0 ||
		!strings.Contains(old.Errors[len(old.Errors)-1], "lease of holder dead-holder expired at") || old.End.IsZero() {
		t.Errorf("dead holder's run = %s %v (end %v), want abandoned with the lease's expiry", old.Status, old.Errors, old.End)
	}
	if _, err := e.store.(precwatch.LeaseStore).CurrentLease(ctx, site.Name); !errors.Is(err, precwatch.ErrNotFound) {
		t.Errorf("lease after the run: %v, want released", err)
	}
	next, err := e.store.(precwatch.LeaseStore).AcquireLease(ctx, site.Name, "after", time.Minute)
	if err != nil || next.Token <= dead.Token+1 || next.Previous == nil || next.Previous.Holder != "next-holder" || !next.Previous.Released {
		t.Errorf("lease after the run = %+v, %v; want a higher token after next-holder's released lease", next, err)
	}
}

// lossyStore loses the lease on demand: renewal says another holder took it.
type lossyStore struct {
	*embedded.Store
	lost atomic.Bool
}

func (s *lossyStore) RenewLease(ctx context.Context, l precwatch.Lease, ttl time.Duration) (precwatch.Lease, error) {
	if s.lost.Load() {
		return precwatch.Lease{}, precwatch.ErrLeaseLost
	}
	return s.Store.RenewLease(ctx, l, ttl)
}

// A run whose lease is lost stops at once, abandoned with "lease lost",
// and marks nothing gone.
func TestLeaseLostStopsRun(t *testing.T) {
	e := newEnv(t)
	site := e.torSite("/many")
	store := &lossyStore{Store: e.store.(*embedded.Store)}
	c, err := New(site, store, keywordMatcher{}, nil, WithLease("me", 300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		<-e.m.slow
		store.lost.Store(true)
	}()
	rec, err := c.Run(t.Context())
	if err == nil || rec.Status != precwatch.RunAbandoned || !strings.Contains(strings.Join(rec.Errors, "\n"), "lease lost") {
		t.Fatalf("Run = %s %v, %v; want abandoned, lease lost", rec.Status, rec.Errors, err)
	}
	if got := e.storedRun(t, rec.ID); got.Status != precwatch.RunAbandoned {
		t.Errorf("stored run = %s, want abandoned", got.Status)
	}
}
