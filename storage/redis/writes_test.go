package redis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/precwatch/precwatch/storage/redis/redistest"
	"github.com/redis/go-redis/v9"
)

// TestWritesMergeSortedSets: a transaction's sorted-set operations,
// merged per key (and the writes reused from the pool), leave each set as
// the same operations sent one by one do, whether a set gets few members
// (found by a scan) or many (through an index).
func TestWritesMergeSortedSets(t *testing.T) {
	s := open(t, redistest.Start(t))
	defer s.Close()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 30 {
		w := getWrites()
		var keys []string
		for k := range 1 + rng.IntN(4) {
			merged, single := fmt.Sprintf("m:%d:%d", round, k), fmt.Sprintf("s:%d:%d", round, k)
			keys = append(keys, merged, single)
			n := []int{3, zsetScan, zsetScan + 1, 60}[rng.IntN(4)]
			for range 3 * n {
				m := fmt.Sprintf("member-%d", rng.IntN(n))
				if rng.IntN(3) == 0 {
					w.zRem(merged, m)
					if err := s.rdb.ZRem(ctx, single, m).Err(); err != nil {
						t.Fatal(err)
					}
				} else {
					sc := float64(rng.IntN(5))
					w.zAdd(merged, m, sc)
					if err := s.rdb.ZAdd(ctx, single, redis.Z{Score: sc, Member: m}).Err(); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			w.flush(ctx, p)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		w.release()
		for i := 0; i < len(keys); i += 2 {
			got, err := s.rdb.ZRangeWithScores(ctx, keys[i], 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			want, err := s.rdb.ZRangeWithScores(ctx, keys[i+1], 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("round %d: merged %s = %v, one by one %v", round, keys[i], got, want)
			}
		}
	}
}
