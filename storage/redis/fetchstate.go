package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/precwatch/precwatch"
	"github.com/redis/go-redis/v9"
)

// fetchKey is the hash of site's fetch states, by canonical URL.
func (s *Store) fetchKey(site string) string { return s.key("fetch", site) }

// SaveFetchState creates or replaces the validators kept for (fs.Site,
// fs.URL); incremental re-crawls send them back in conditional requests.
func (s *Store) SaveFetchState(ctx context.Context, fs precwatch.FetchState) error {
	if fs.Site == "" || fs.URL == "" {
		return fmt.Errorf("redis: save fetch state: %w: empty site or url", precwatch.ErrInvalid)
	}
	raw, err := json.Marshal(fs)
	if err != nil {
		return fmt.Errorf("redis: save fetch state %s %s: %w", fs.Site, fs.URL, err)
	}
	err = s.retry(ctx, func() error { // retried while Redis is unreachable (issue 9)
		return s.rdb.HSet(ctx, s.fetchKey(fs.Site), fs.URL, raw).Err()
	})
	if err != nil {
		return fmt.Errorf("redis: save fetch state %s %s: %w", fs.Site, fs.URL, err)
	}
	return nil
}

// FetchState returns the validators kept for url of site, or ErrNotFound.
func (s *Store) FetchState(ctx context.Context, site, url string) (precwatch.FetchState, error) {
	raw, err := s.rdb.HGet(ctx, s.fetchKey(site), url).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return precwatch.FetchState{}, fmt.Errorf("redis: fetch state %s %s: %w", site, url, precwatch.ErrNotFound)
	case err != nil:
		return precwatch.FetchState{}, fmt.Errorf("redis: fetch state %s %s: %w", site, url, err)
	}
	var fs precwatch.FetchState
	if err := json.Unmarshal(raw, &fs); err != nil {
		return precwatch.FetchState{}, fmt.Errorf("redis: fetch state %s %s: decode: %w", site, url, err)
	}
	return fs, nil
}
