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
	results := make([]precwatch.RecordResult, len(obs))
	err := s.write(ctx, func(tx *sql.Tx) error {
		for i, o := range obs {
			var missing error
			// record calls this with the alerts it is about to write, in tx,
			// so the check and the writes it guards commit or roll back together.
			check := func(write []precwatch.Alert) {
				if err := s.checkFetches(ctx, tx, p, o, write); err != nil { // issue 11
					missing = err
					return
				}
				sha := precwatch.EvidenceNeeded(p, o, write)
				if sha == "" {
					return
				}
				ok, err := s.hasPage(ctx, tx, sha)
				switch {
				case err != nil:
					missing = err
				case !ok:
					missing = precwatch.ErrNoEvidence(o, sha)
				}
			}
			res, err := s.record(ctx, tx, o, check)
			if err == nil {
				err = missing
			}
			if err != nil {
				return fmt.Errorf("%s %q: %w", o.Listing.Site, o.Listing.Identity(), err)
			}
			results[i] = res
		}
		if p == nil {
			return nil
		}
		if s.failPage != nil {
			if err := s.failPage(*p); err != nil {
				return fmt.Errorf("save page %s: %w", p.SHA256, err)
			}
		}
		return s.insertPageFetch(ctx, tx, *p) // issue 11: the body once, its fetch record
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: record page: %w", err)
	}
	return results, nil
}

func (s *Store) hasPage(ctx context.Context, tx *sql.Tx, sha string) (bool, error) {
	var one int
	switch err := tx.QueryRowContext(ctx, "SELECT 1 FROM pages WHERE sha256 = ?", sha).Scan(&one); {
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
	_, err := tx.ExecContext(ctx, `
INSERT INTO pages (sha256, site, url, fetched_at, content_type, body) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (sha256) DO NOTHING`,
		p.SHA256, p.Site, p.URL, nanos(p.FetchedAt), p.ContentType, body)
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
