package embedded

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/precwatch/precwatch"
)

// SaveFetchState creates or replaces the validators kept for (fs.Site,
// fs.URL); incremental re-crawls send them back in conditional requests.
func (s *Store) SaveFetchState(ctx context.Context, fs precwatch.FetchState) error {
	if fs.Site == "" || fs.URL == "" {
		return fmt.Errorf("embedded: save fetch state: %w: empty site or url", precwatch.ErrInvalid)
	}
	raw, err := json.Marshal(fs)
	if err != nil {
		return fmt.Errorf("embedded: save fetch state %s %s: %w", fs.Site, fs.URL, err)
	}
	_, err = s.db.ExecContext(ctx, `
INSERT INTO fetch_states (site, url, json) VALUES (?, ?, ?)
ON CONFLICT (site, url) DO UPDATE SET json = excluded.json`, fs.Site, fs.URL, string(raw))
	if err != nil {
		return fmt.Errorf("embedded: save fetch state %s %s: %w", fs.Site, fs.URL, err)
	}
	return nil
}

// FetchState returns the validators kept for url of site, or ErrNotFound.
func (s *Store) FetchState(ctx context.Context, site, url string) (precwatch.FetchState, error) {
	var fs precwatch.FetchState
	if err := s.getJSON(ctx, &fs, "SELECT json FROM fetch_states WHERE site = ? AND url = ?", site, url); err != nil {
		return precwatch.FetchState{}, fmt.Errorf("embedded: fetch state %s %s: %w", site, url, err)
	}
	return fs, nil
}
