package embedded

// Exact provenance (issue 11): fetch records, written with their page in
// RecordPage's transaction.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/precwatch/precwatch"
)

var _ precwatch.FetchStore = (*Store)(nil)

// sqlFetches is migration 9. A fetch record is kept as JSON, with the
// columns it is looked up by.
const sqlFetches = `
CREATE TABLE fetches (
	id          TEXT PRIMARY KEY,
	site        TEXT NOT NULL,
	run_id      TEXT NOT NULL,
	at          INTEGER NOT NULL,
	body_sha256 TEXT NOT NULL,
	json        TEXT NOT NULL
);
CREATE INDEX fetches_run  ON fetches(run_id, at, id);
CREATE INDEX fetches_body ON fetches(body_sha256);
`

// backfillFetches makes each page stored before migration 9 a legacy
// fetch record (precwatch.LegacyFetch), so that old evidence is read the
// same way as new.
func backfillFetches(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "SELECT sha256, site, url, fetched_at, content_type, length(body) FROM pages")
	if err != nil {
		return fmt.Errorf("backfill fetches: %w", err)
	}
	var fs []precwatch.Fetch
	for rows.Next() {
		var p precwatch.Page
		var at, size int64
		if err := rows.Scan(&p.SHA256, &p.Site, &p.URL, &at, &p.ContentType, &size); err != nil {
			rows.Close()
			return fmt.Errorf("backfill fetches: %w", err)
		}
		p.FetchedAt = fromNanos(at)
		f := precwatch.LegacyFetch(p)
		f.BodySize = size
		fs = append(fs, f)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("backfill fetches: %w", err)
	}
	for _, f := range fs {
		if err := insertFetch(ctx, tx, f); err != nil {
			return fmt.Errorf("backfill fetches: %w", err)
		}
	}
	return nil
}

const sqlInsertFetch = `
INSERT INTO fetches (id, site, run_id, at, body_sha256, json) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO NOTHING`

// insertFetch keeps f unless it is kept already (a retried write).
func insertFetch(ctx context.Context, tx *sql.Tx, f precwatch.Fetch) error {
	return execFetch(f, func(args ...any) error {
		_, err := tx.ExecContext(ctx, sqlInsertFetch, args...)
		return err
	})
}

// insertFetch is the package's insertFetch with the statement prepared.
func (s *Store) insertFetch(ctx context.Context, tx *sql.Tx, f precwatch.Fetch) error {
	return execFetch(f, func(args ...any) error {
		st, err := s.stmt(ctx, tx, sqlInsertFetch)
		if err != nil {
			return err
		}
		_, err = st.ExecContext(ctx, args...)
		return err
	})
}

func execFetch(f precwatch.Fetch, exec func(args ...any) error) error {
	raw, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode fetch %s: %w", f.ID, err)
	}
	if err := exec(f.ID, f.Site, f.RunID, nanos(f.At), f.BodySHA256, string(raw)); err != nil {
		return fmt.Errorf("save fetch %s: %w", f.ID, err)
	}
	return nil
}

// insertPageFetch keeps page p's body (unless p.Stored, when it must be
// kept already) and its fetch record.
func (s *Store) insertPageFetch(ctx context.Context, tx *sql.Tx, p precwatch.Page) error {
	if p.Stored {
		ok, err := s.hasPage(ctx, tx, p.SHA256)
		if err != nil {
			return err
		}
		if !ok {
			return precwatch.ErrNoBody(p)
		}
	} else if err := s.insertPage(ctx, tx, p); err != nil {
		return err
	}
	if p.Fetch == nil {
		return nil
	}
	return s.insertFetch(ctx, tx, *p.Fetch)
}

// checkFetches returns ErrNoFetch unless every fetch o's listing names,
// other than p's own, is stored, when o writes alerts.
func (s *Store) checkFetches(ctx context.Context, tx *sql.Tx, p *precwatch.Page, o precwatch.Observation, write []precwatch.Alert) error {
	for _, id := range precwatch.FetchesNeeded(p, o, write) {
		st, err := s.stmt(ctx, tx, "SELECT 1 FROM fetches WHERE id = ?")
		if err != nil {
			return fmt.Errorf("look up fetch %s: %w", id, err)
		}
		var one int
		switch err := st.QueryRowContext(ctx, id).Scan(&one); {
		case errors.Is(err, sql.ErrNoRows):
			return precwatch.ErrNoFetch(o, id)
		case err != nil:
			return fmt.Errorf("look up fetch %s: %w", id, err)
		}
	}
	return nil
}

// Fetch returns a fetch record by ID; see precwatch.FetchStore.
func (s *Store) Fetch(ctx context.Context, id string) (precwatch.Fetch, error) {
	var raw string
	switch err := s.db.QueryRowContext(ctx, "SELECT json FROM fetches WHERE id = ?", id).Scan(&raw); {
	case errors.Is(err, sql.ErrNoRows):
		// A page saved without a fetch (SavePage) is read as its legacy fetch.
		if sha, ok := strings.CutPrefix(id, "page-"); ok {
			p, err := s.Page(ctx, sha)
			if err != nil {
				return precwatch.Fetch{}, fmt.Errorf("embedded: fetch %s: %w", id, err)
			}
			return precwatch.LegacyFetch(p), nil
		}
		return precwatch.Fetch{}, fmt.Errorf("embedded: fetch %s: %w", id, precwatch.ErrNotFound)
	case err != nil:
		return precwatch.Fetch{}, fmt.Errorf("embedded: fetch %s: %w", id, err)
	}
	var f precwatch.Fetch
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		return precwatch.Fetch{}, fmt.Errorf("embedded: fetch %s: decode: %w", id, err)
	}
	return f, nil
}

// RunFetches lists a run's fetch records, oldest first.
func (s *Store) RunFetches(ctx context.Context, runID string) ([]precwatch.Fetch, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT json FROM fetches WHERE run_id = ? ORDER BY at, id", runID)
	if err != nil {
		return nil, fmt.Errorf("embedded: run fetches %s: %w", runID, err)
	}
	defer rows.Close()
	var out []precwatch.Fetch
	for rows.Next() {
		var f precwatch.Fetch
		if err := scanJSON(rows, &f); err != nil {
			return nil, fmt.Errorf("embedded: run fetches %s: %w", runID, err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: run fetches %s: %w", runID, err)
	}
	return out, nil
}
