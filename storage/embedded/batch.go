package embedded

// Evidence and batches (issue 9): a page, its listings and their alerts in
// one transaction.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/precwatch/precwatch"
)

// RecordPage stores page p and applies obs in one transaction; see
// precwatch.Store.
func (s *Store) RecordPage(ctx context.Context, p *precwatch.Page, obs []precwatch.Observation) ([]precwatch.RecordResult, error) {
	if err := precwatch.CheckBatch(p, obs); err != nil {
		return nil, fmt.Errorf("embedded: record page: %w", err)
	}
	var results []precwatch.RecordResult
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		results, err = s.recordBatch(ctx, tx, obs, batchOptions{page: p, check: true})
		if err != nil {
			return err
		}
		if p == nil {
			return nil
		}
		if s.failPage != nil {
			if err := s.failPage(*p); err != nil {
				return fmt.Errorf("save page %s: %w", p.SHA256, err)
			}
		}
		if err := s.insertPageFetch(ctx, tx, *p); err != nil { // issue 11: the body once, its fetch record
			return err
		}
		if p.Fetch == nil {
			// Retention: a body kept without a fetch record is marked
			// used here (a fetch record marks its body by itself).
			return s.touchPage(ctx, tx, p.SHA256, p.FetchedAt)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: record page: %w", err)
	}
	return results, nil
}

func (s *Store) hasPage(ctx context.Context, tx *sql.Tx, sha string) (bool, error) {
	st, err := s.stmt(ctx, tx, "SELECT 1 FROM pages WHERE sha256 = ?")
	if err != nil {
		return false, fmt.Errorf("look up page %s: %w", sha, err)
	}
	var one int
	switch err := st.QueryRowContext(ctx, sha).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look up page %s: %w", sha, err)
	}
	return true, nil
}

// insertPage keeps p unless a page of the same SHA-256 is kept already.
func (s *Store) insertPage(ctx context.Context, tx *sql.Tx, p precwatch.Page) error {
	body := p.Body
	if body == nil {
		body = []byte{}
	}
	st, err := s.stmt(ctx, tx, `
INSERT INTO pages (sha256, site, url, fetched_at, content_type, body) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (sha256) DO NOTHING`)
	if err == nil {
		_, err = st.ExecContext(ctx, p.SHA256, p.Site, p.URL, nanos(p.FetchedAt), p.ContentType, body)
	}
	if err != nil {
		return fmt.Errorf("save page %s: %w", p.SHA256, err)
	}
	return nil
}

// ListingStates returns the stored states of the listings of keys; see
// precwatch.Store.
func (s *Store) ListingStates(ctx context.Context, keys []string) (map[string]precwatch.ListingState, error) {
	out := make(map[string]precwatch.ListingState, len(keys))
	for chunk := range slices.Chunk(keys, 500) {
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = k
		}
		q := "SELECT json FROM listings WHERE key IN (?" + strings.Repeat(", ?", len(chunk)-1) + ")"
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("embedded: listing states: %w", err)
		}
		for rows.Next() {
			var st precwatch.ListingState
			if err := scanJSON(rows, &st); err != nil {
				rows.Close()
				return nil, fmt.Errorf("embedded: listing states: %w", err)
			}
			out[st.Key] = st
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("embedded: listing states: %w", err)
		}
	}
	return out, nil
}
