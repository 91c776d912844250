package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/precwatch/precwatch"
)

// Sessions (issue 8): each site's cookie jar in the site_sessions table.

// SiteSession returns the site's saved cookie jar, or ErrNotFound.
func (s *Store) SiteSession(ctx context.Context, site string) (precwatch.SiteSession, error) {
	var raw []byte
	switch err := s.db.QueryRowContext(ctx, "SELECT json FROM site_sessions WHERE site = ?", site).Scan(&raw); {
	case errors.Is(err, sql.ErrNoRows):
		return precwatch.SiteSession{}, fmt.Errorf("embedded: site session %s: %w", site, precwatch.ErrNotFound)
	case err != nil:
		return precwatch.SiteSession{}, fmt.Errorf("embedded: site session %s: %w", site, err)
	}
	ss, err := precwatch.UnmarshalStoredSession(raw)
	if err != nil {
		return precwatch.SiteSession{}, fmt.Errorf("embedded: site session %s: %w", site, err)
	}
	return ss, nil
}

// SaveSiteSession replaces the site's cookie jar; without cookies it
// deletes it.
func (s *Store) SaveSiteSession(ctx context.Context, ss precwatch.SiteSession) error {
	if err := ss.Validate(); err != nil {
		return fmt.Errorf("embedded: save site session: %w", err)
	}
	if len(ss.Cookies) == 0 {
		if _, err := s.db.ExecContext(ctx, "DELETE FROM site_sessions WHERE site = ?", ss.Site); err != nil {
			return fmt.Errorf("embedded: clear site session %s: %w", ss.Site, err)
		}
		return nil
	}
	raw, err := ss.MarshalStore()
	if err != nil {
		return fmt.Errorf("embedded: save site session %s: %w", ss.Site, err)
	}
	_, err = s.db.ExecContext(ctx, `
INSERT INTO site_sessions (site, json) VALUES (?, ?)
ON CONFLICT (site) DO UPDATE SET json = excluded.json`, ss.Site, string(raw))
	if err != nil {
		return fmt.Errorf("embedded: save site session %s: %w", ss.Site, err)
	}
	return nil
}
