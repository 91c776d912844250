package embedded

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/storetest"
)

// TestRecordPageFailedPageWrite: the page write fails after the listings
// and alerts of its batch were written in the same transaction; none of
// them stays, and the retry stores all of them.
func TestRecordPageFailedPageWrite(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "precwatch.db"))
	defer s.Close()
	ctx := context.Background()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p, obs := storetest.EvidenceBatch("silkvault", at, "F1", "F2", "F3")
	injected := errors.New("disk full (injected)")
	s.failPage = func(precwatch.Page) error { return injected }
	if _, err := s.RecordPage(ctx, p, obs); !errors.Is(err, injected) {
		t.Fatalf("RecordPage with a failing page write = %v, want the injected error", err)
	}
	storetest.NoTrace(t, s, p.SHA256, obs...)

	s.failPage = nil
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
}
