package redis

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/precwatch/precwatch/storage/storetest"
	"github.com/redis/go-redis/v9"
)

// BenchmarkRecordPage: listings/s into Redis from one process, a page of
// 50 listings per RecordPage, from 1 and 8 goroutines, with the round
// trips and the server's commands per page.
func BenchmarkRecordPage(b *testing.B) {
	for _, workers := range []int{1, 8} {
		s := open(b, redistest.Start(b)+"?stream_maxlen=1000")
		rt := &roundTrips{}
		s.rdb.AddHook(rt)
		storetest.BenchRecordPage(b, countedStore{s, rt}, 50, workers)
		s.Close()
	}
}

// countedStore is a Store that counts its round trips, for
// storetest.RoundTrips.
type countedStore struct {
	*Store
	rt *roundTrips
}

func (c countedStore) RoundTrips() int64 { return c.rt.n.Load() }

// roundTrips is a go-redis hook counting round trips: a command, or a
// pipeline or transaction (its commands go in one write).
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// ServerCommands returns how many commands the Redis server has run, for
// storetest.ServerCommands.
func (s *Store) ServerCommands(ctx context.Context) (int64, error) {
	return redistest.ServerCommands(ctx, s.rdb)
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

// BenchmarkServerWork: where the Redis server's time goes when
// every listing is new and raises an alert (pages of 50 from
// storetest.BenchPages, 8 workers), by command, from INFO commandstats:
// calls per page and microseconds per listing of the main commands, and
// the server's CPU per listing. Commandstats count wall time (a busy
// machine inflates them); the calls are exact. Not named Record*: make
// bench's pattern leaves it out (run it with -benchtime 200x).
func BenchmarkServerWork(b *testing.B) {
	ctx := context.Background()
	s := open(b, redistest.Start(b)+"?stream_maxlen=1000")
	defer s.Close()
	const perPage = 50
	pages := storetest.BenchPages(b.N, perPage, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if err := s.rdb.ConfigResetStat(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	cpu0, err := s.ServerCPU(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if err := storetest.RecordPages(ctx, s, pages, 8); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	cpu1, err := s.ServerCPU(ctx)
	if err != nil {
		b.Fatal(err)
	}
	stats, err := redistest.CommandStats(ctx, s.rdb)
	if err != nil {
		b.Fatal(err)
	}
	listings := float64(b.N * perPage)
	var calls int64
	for name, st := range stats {
		if name != "config|resetstat" && name != "exec" { // EXEC's time is its commands'
			calls += st.Calls
		}
	}
	b.ReportMetric(float64(calls)/float64(b.N), "server_cmds/page")
	b.ReportMetric(float64((cpu1-cpu0).Microseconds())/listings, "server_cpu_us/listing")
	for _, name := range []string{"exec", "sadd", "zadd", "xadd", "mset"} {
		st := stats[name]
		b.ReportMetric(float64(st.Calls)/float64(b.N), name+"_calls/page")
		b.ReportMetric(float64(st.Usec)/listings, name+"_us/listing")
	}
}
