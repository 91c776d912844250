package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
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

// ServerCPU returns the CPU time (user and system) the Redis server has
// used (INFO cpu), for storetest.ServerCPU.
func (s *Store) ServerCPU(ctx context.Context) (time.Duration, error) {
	info, err := s.rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, err
	}
	var total float64
	for line := range strings.Lines(info) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("INFO cpu %s: %w", k, err)
			}
			total += f
		}
	}
	return time.Duration(total * float64(time.Second)), nil
}
