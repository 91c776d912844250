package embedded

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/precwatch/precwatch/storage/storetest"
)

// seed records n synthetic listings in large transactions, with statuses
// spread as SpreadStatus does: Record's own path, batched.
func seed(b *testing.B, s *Store, n int) {
	b.Helper()
	ctx := context.Background()
	for chunk := range slices.Chunk(storetest.Synthetic(n, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)), 5000) {
		err := s.write(ctx, func(tx *sql.Tx) error {
			_, err := s.recordBatch(ctx, tx, chunk, batchOptions{mutate: storetest.SpreadStatus})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRecord(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "precwatch.db"))
	defer s.Close()
	storetest.BenchRecord(b, s)
}

// BenchmarkAlertsList: the console's first page of 50 of 100,000 alerts.
func BenchmarkAlertsList(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "precwatch.db"))
	defer s.Close()
	start := time.Now()
	seed(b, s, 87500) // 7 listings raise 8 alerts: 100,000 alerts
	var n int
	if err := s.db.QueryRow("SELECT count(*) FROM alerts").Scan(&n); err != nil || n != 100000 {
		b.Fatalf("seeded %d alerts (%v), want 100000", n, err)
	}
	b.Logf("seeded %d alerts in %v", n, time.Since(start))
	if _, err := s.db.Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
	storetest.BenchAlerts(b, s)
}

// BenchmarkQuery: QueryAlerts over 100,000 alerts.
func BenchmarkQuery(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "precwatch.db"))
	defer s.Close()
	start := time.Now()
	seed(b, s, 87500)
	b.Logf("seeded in %v", time.Since(start))
	if _, err := s.db.Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
	storetest.BenchQuery(b, s)
}
