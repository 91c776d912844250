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

// TestWritesMergeSortedSets: a transaction's index operations, merged
// per key (and the writes reused from the pool), leave each sorted set or
// plain set as the same operations sent one by one do, whether a set gets
// few members (found by a scan) or many (through an index), and when the
// caller says no member is written twice (unique).
func TestWritesMergeSortedSets(t *testing.T) {
	s := open(t, redistest.Start(t))
	defer s.Close()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 40 {
		w := getWrites()
		w.unique = round%4 == 3
		var keys []string
		var plain []bool
		for k := range 1 + rng.IntN(4) {
			merged, single := fmt.Sprintf("m:%d:%d", round, k), fmt.Sprintf("s:%d:%d", round, k)
			isSet := rng.IntN(2) == 0
			keys, plain = append(keys, merged, single), append(plain, isSet)
			n := []int{3, zsetScan, zsetScan + 1, 60}[rng.IntN(4)]
			ops := 3 * n
			if w.unique {
				ops = n
			}
			for i := range ops {
				m := fmt.Sprintf("member-%d", rng.IntN(n))
				if w.unique {
					m = fmt.Sprintf("member-%d", i)
				}
				var err error
				switch rem := rng.IntN(3) == 0; {
				case isSet && rem:
					w.setRem(merged, m)
					err = s.rdb.SRem(ctx, single, m).Err()
				case isSet:
					w.setAdd(merged, m)
					err = s.rdb.SAdd(ctx, single, m).Err()
				case rem:
					w.zRem(merged, m)
					err = s.rdb.ZRem(ctx, single, m).Err()
				default:
					sc := float64(rng.IntN(5))
					w.zAdd(merged, m, sc)
					err = s.rdb.ZAdd(ctx, single, redis.Z{Score: sc, Member: m}).Err()
				}
				if err != nil {
					t.Fatal(err)
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
			if plain[i/2] {
				got, err := s.rdb.SMembers(ctx, keys[i]).Result()
				if err != nil {
					t.Fatal(err)
				}
				want, err := s.rdb.SMembers(ctx, keys[i+1]).Result()
				if err != nil {
					t.Fatal(err)
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Fatalf("round %d: merged %s = %v, one by one %v", round, keys[i], got, want)
				}
				continue
			}
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
