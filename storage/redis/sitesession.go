package redis

import (
	"context"
	"errors"
	"fmt"

	"github.com/precwatch/precwatch"
	"github.com/redis/go-redis/v9"
)

// Sessions (issue 8): each site's cookie jar in the hash P:sitesessions.

func (s *Store) siteSessionsKey() string { return s.key("sitesessions") }

// SiteSession returns the site's saved cookie jar, or ErrNotFound.
func (s *Store) SiteSession(ctx context.Context, site string) (precwatch.SiteSession, error) {
	raw, err := s.rdb.HGet(ctx, s.siteSessionsKey(), site).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return precwatch.SiteSession{}, fmt.Errorf("redis: site session %s: %w", site, precwatch.ErrNotFound)
	case err != nil:
		return precwatch.SiteSession{}, fmt.Errorf("redis: site session %s: %w", site, err)
	}
	ss, err := precwatch.UnmarshalStoredSession(raw)
	if err != nil {
		return precwatch.SiteSession{}, fmt.Errorf("redis: site session %s: %w", site, err)
	}
	return ss, nil
}

// SaveSiteSession replaces the site's cookie jar; without cookies it
// deletes it.
func (s *Store) SaveSiteSession(ctx context.Context, ss precwatch.SiteSession) error {
	if err := ss.Validate(); err != nil {
		return fmt.Errorf("redis: save site session: %w", err)
	}
	if len(ss.Cookies) == 0 {
		if err := s.rdb.HDel(ctx, s.siteSessionsKey(), ss.Site).Err(); err != nil {
			return fmt.Errorf("redis: clear site session %s: %w", ss.Site, err)
		}
		return nil
	}
	raw, err := ss.MarshalStore()
	if err != nil {
		return fmt.Errorf("redis: save site session %s: %w", ss.Site, err)
	}
	if err := s.rdb.HSet(ctx, s.siteSessionsKey(), ss.Site, raw).Err(); err != nil {
		return fmt.Errorf("redis: save site session %s: %w", ss.Site, err)
	}
	return nil
}
