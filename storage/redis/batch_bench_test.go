package redis

import (
	"context"
	"testing"
	"time"

	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
)

// BenchmarkRecordPage: listings/s into Redis from one process, a page of
// 50 listings per RecordPage round trip, from 1 and 8 goroutines.
func BenchmarkRecordPage(b *testing.B) {
	for _, workers := range []int{1, 8} {
		s := open(b, redistest.Start(b)+"?stream_maxlen=1000")
		storetest.BenchRecordPage(b, s, 50, workers)
		s.Close()
	}
}

// ServerCPU returns the CPU time the Redis server has used, for
// storetest.ServerCPU.
func (s *Store) ServerCPU(ctx context.Context) (time.Duration, error) {
	return redistest.ServerCPU(ctx, s.rdb)
}

// ServerMemory returns the bytes the Redis server holds, for
// storetest.ServerMemory.
func (s *Store) ServerMemory(ctx context.Context) (int64, error) {
	return redistest.ServerMemory(ctx, s.rdb)
}
