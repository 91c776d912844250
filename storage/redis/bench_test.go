package redis

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
	"github.com/redis/go-redis/v9"
)

// seed writes n synthetic new listings through Record's write path, in
// pipelines of 1000, with statuses spread as SpreadStatus does.
func seed(b *testing.B, s *Store, n int) {
	b.Helper()
	ctx := context.Background()
	for chunk := range slices.Chunk(storetest.Synthetic(n, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)), 1000) {
		w := newWrites()
		for _, o := range chunk {
			next, write, _ := precwatch.Reconcile(nil, nil, o)
			storetest.SpreadStatus(write)
			raw, err := json.Marshal(next)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.writeRecord(w, next, raw, write, nil); err != nil {
				b.Fatal(err)
			}
		}
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			w.flush(ctx, p)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRecord(b *testing.B) {
	s := open(b, redistest.Start(b))
	defer s.Close()
	storetest.BenchRecord(b, s)
}

// BenchmarkAlertsList: the console's first page of 50 of 100,000 alerts.
func BenchmarkAlertsList(b *testing.B) {
	s := open(b, redistest.Start(b)+"?stream_maxlen=1000")
	defer s.Close()
	start := time.Now()
	seed(b, s, 87500) // 7 listings raise 8 alerts: 100,000 alerts
	n, err := s.rdb.ZCard(context.Background(), s.key("alerts", "idx", "all")).Result()
	if err != nil || n != 100000 {
		b.Fatalf("seeded %d alerts (%v), want 100000", n, err)
	}
	b.Logf("seeded %d alerts in %v", n, time.Since(start))
	storetest.BenchAlerts(b, s)
}

// BenchmarkQuery: QueryAlerts over 100,000 alerts.
func BenchmarkQuery(b *testing.B) {
	s := open(b, redistest.Start(b)+"?stream_maxlen=1000")
	defer s.Close()
	start := time.Now()
	seed(b, s, 87500)
	b.Logf("seeded in %v", time.Since(start))
	storetest.BenchQuery(b, s)
}
