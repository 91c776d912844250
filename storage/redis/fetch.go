package redis

// Exact provenance (issue 11): fetch records, written with their page in
// RecordPage's transaction. A fetch is a JSON string under fetchrec:<id>,
// indexed by run in the sorted set fetches:run:<run id> (score: time in
// nanoseconds). Fetch records are never changed once written, so a
// RecordPage reads whether they exist without watching them.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/precwatch/precwatch"
	"github.com/redis/go-redis/v9"
)

var _ precwatch.FetchStore = (*Store)(nil)

func (s *Store) fetchRecordKey(id string) string { return s.key("fetchrec", id) }
func (s *Store) runFetchesKey(id string) string  { return s.key("fetches", "run", id) }

// fetchIDsOf returns the fetches a RecordPage names (p's and its
// listings' sources), each once; RecordPage asks which are stored in the
// round trip of its reads.
func fetchIDsOf(p *precwatch.Page, obs []precwatch.Observation) []string {
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if p != nil && p.Fetch != nil {
		add(p.Fetch.ID)
	}
	for _, o := range obs {
		for _, id := range o.Listing.FetchIDs() {
			add(id)
		}
	}
	return ids
}

// fetchesNeeded returns ErrNoFetch unless every fetch o names, other than
// p's own, is stored, when o writes alerts.
func fetchesNeeded(p *precwatch.Page, o precwatch.Observation, write []precwatch.Alert, stored map[string]bool) error {
	for _, id := range precwatch.FetchesNeeded(p, o, write) {
		if !stored[id] {
			return precwatch.ErrNoFetch(o, id)
		}
	}
	return nil
}

// writeFetch queues f's record and its run index entry.
func (s *Store) writeFetch(ctx context.Context, pipe redis.Pipeliner, f precwatch.Fetch) error {
	raw, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode fetch %s: %w", f.ID, err)
	}
	pipe.SetNX(ctx, s.fetchRecordKey(f.ID), raw, 0)
	pipe.ZAdd(ctx, s.runFetchesKey(f.RunID), redis.Z{Score: float64(f.At.UnixNano()), Member: f.ID})
	return nil
}

// Fetch returns a fetch record by ID; see precwatch.FetchStore. Redis
// data has no migration: an ID "page-<sha256>" (a listing stored before
// fetch records) is answered from the stored page.
func (s *Store) Fetch(ctx context.Context, id string) (precwatch.Fetch, error) {
	raw, err := s.rdb.Get(ctx, s.fetchRecordKey(id)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		if sha, ok := strings.CutPrefix(id, "page-"); ok {
			p, err := s.Page(ctx, sha)
			if err != nil {
				return precwatch.Fetch{}, fmt.Errorf("redis: fetch %s: %w", id, err)
			}
			return precwatch.LegacyFetch(p), nil
		}
		return precwatch.Fetch{}, fmt.Errorf("redis: fetch %s: %w", id, precwatch.ErrNotFound)
	case err != nil:
		return precwatch.Fetch{}, fmt.Errorf("redis: fetch %s: %w", id, err)
	}
	var f precwatch.Fetch
	if err := json.Unmarshal(raw, &f); err != nil {
		return precwatch.Fetch{}, fmt.Errorf("redis: fetch %s: decode: %w", id, err)
	}
	return f, nil
}

// RunFetches lists a run's fetch records, oldest first.
func (s *Store) RunFetches(ctx context.Context, runID string) ([]precwatch.Fetch, error) {
	ids, err := s.rdb.ZRange(ctx, s.runFetchesKey(runID), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: run fetches %s: %w", runID, err)
	}
	var out []precwatch.Fetch
	for chunk := range slices.Chunk(ids, 500) {
		keys := make([]string, len(chunk))
		for i, id := range chunk {
			keys[i] = s.fetchRecordKey(id)
		}
		vals, err := s.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, fmt.Errorf("redis: run fetches %s: %w", runID, err)
		}
		fs, err := decodeAll[precwatch.Fetch](vals)
		if err != nil {
			return nil, fmt.Errorf("redis: run fetches %s: decode: %w", runID, err)
		}
		out = append(out, fs...)
	}
	return out, nil
}
