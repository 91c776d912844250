package embedded

// Retention (see precwatch.Pruner): a mark over read snapshots (one
// streaming query per table), then sweeps of at most pruneBatch records a
// transaction. Every write here is BEGIN IMMEDIATE, like the crawlers', so
// what a sweep checks in its transaction (a fetch's run still running,
// fetch records naming a body, when a body was last saved) cannot change
// before its delete commits; crawlers in other processes wait at most one
// batch.

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/internal/prune"
)

var _ precwatch.Pruner = (*Store)(nil)

// sqlRetention is migration 13. page_uses holds when a body kept without
// a fetch record (a block page, a vendor page) was last saved: a body's
// use is the latest of that, its first fetch and its fetch records.
const sqlRetention = `
CREATE TABLE page_uses (
	sha256 TEXT PRIMARY KEY,
	at     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX fetches_at ON fetches(at, id);
`

const sqlTouchPage = `INSERT INTO page_uses (sha256, at) VALUES (?, ?)
ON CONFLICT (sha256) DO UPDATE SET at = max(at, excluded.at)`

// touchPage records that page sha was saved, or saved again, at at.
func (s *Store) touchPage(ctx context.Context, tx *sql.Tx, sha string, at time.Time) error {
	st, err := s.stmt(ctx, tx, sqlTouchPage)
	if err == nil {
		_, err = st.ExecContext(ctx, sha, nanos(at))
	}
	if err != nil {
		return fmt.Errorf("mark page %s used: %w", sha, err)
	}
	return nil
}

// pruneBatch is how many records one sweep transaction decides: small
// enough that a crawler's write waits milliseconds, not seconds.
const pruneBatch = 500

// pruneQ is a transaction, or the database for a dry run's reads.
type pruneQ interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// pruner is one Prune call's state.
type pruner struct {
	s     *Store
	p     precwatch.PrunePolicy
	marks *prune.Marks
	rep   precwatch.PruneReport
	// gone are the fetches deleted (or, dry, that would be), and how many
	// of each run's: a dry run decides bodies and runs as if they were.
	gone        *prune.Set
	goneByRun   map[string]int64
	runsDeleted *prune.Set
}

// Prune deletes old fetch records, page bodies and runs that nothing kept
// names; see precwatch.Pruner.
func (s *Store) Prune(ctx context.Context, p precwatch.PrunePolicy) (precwatch.PruneReport, error) {
	if err := p.Check(); err != nil {
		return precwatch.PruneReport{}, fmt.Errorf("embedded: prune: %w", err)
	}
	start := time.Now()
	p = p.Guarded(start)
	marks, err := s.pruneMark(ctx)
	if err != nil {
		return precwatch.PruneReport{}, fmt.Errorf("embedded: prune: mark: %w", err)
	}
	pr := &pruner{s: s, p: p, marks: marks, gone: prune.NewSet(), goneByRun: map[string]int64{}, runsDeleted: prune.NewSet()}
	pr.rep.DryRun = p.DryRun
	for _, step := range []struct {
		name string
		fn   func(context.Context) error
	}{{"fetches", pr.sweepFetches}, {"runs", pr.sweepRuns}, {"run pages", pr.markRunPages}, {"pages", pr.sweepPages}} {
		if err := step.fn(ctx); err != nil {
			return pr.rep, fmt.Errorf("embedded: prune %s: %w", step.name, err)
		}
	}
	s.logger.Debug("prune done", "dry_run", p.DryRun, "fetches", pr.rep.Fetches, "pages", pr.rep.Pages, "runs", pr.rep.Runs,
		"bytes", pr.rep.FetchBytes+pr.rep.PageBytes+pr.rep.RunBytes, "fetches_kept", pr.rep.FetchesKept,
		"marked_fetches", marks.Fetches.Len(), "marked_pages", marks.Pages.Len(), "duration_s", time.Since(start).Seconds())
	return pr.rep, nil
}

// pruneMark reads every record that may name a fetch or a body. Each
// table is one query, read as it streams (a read snapshot of that table,
// which never holds up writers).
func (s *Store) pruneMark(ctx context.Context) (*prune.Marks, error) {
	m := prune.NewMarks()
	for _, q := range []struct {
		query string
		add   func([]byte) error
	}{
		{"SELECT json FROM listings", m.AddDoc},
		{"SELECT json FROM alerts", m.AddDoc},
		{"SELECT json FROM events", m.AddDoc}, // an event's alert, as the outbox delivers it
		{"SELECT json FROM fetch_states", m.AddFetchState},
		{"SELECT json FROM vendor_pages", m.AddVendorPage},
	} {
		if err := eachRow(ctx, s.db, q.query, func(rows *sql.Rows) error {
			var raw []byte
			if err := rows.Scan(&raw); err != nil {
				return err
			}
			return q.add(raw)
		}); err != nil {
			return nil, fmt.Errorf("%s: %w", q.query, err)
		}
	}
	return m, nil
}

// eachRow runs query and calls fn for each row.
func eachRow(ctx context.Context, q pruneQ, query string, fn func(*sql.Rows) error, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// step runs fn in a write transaction, or on the database when dry.
func (pr *pruner) step(ctx context.Context, fn func(q pruneQ) error) error {
	if pr.p.DryRun {
		return fn(pr.s.db)
	}
	return pr.s.write(ctx, func(tx *sql.Tx) error { return fn(tx) })
}

// sweepFetches deletes the fetch records made before the cutoff that no
// mark names and whose run is not running, oldest first. A kept one's
// body is marked: it is evidence.
func (pr *pruner) sweepFetches(ctx context.Context) error {
	type row struct {
		id, run, body string
		at, size      int64
	}
	cutoff := nanos(pr.p.FetchesBefore)
	afterAt, afterID := int64(math.MinInt64), ""
	for {
		var batch []row
		var rep precwatch.PruneReport
		var kept []bool
		err := pr.step(ctx, func(q pruneQ) error {
			batch, rep, kept = batch[:0], precwatch.PruneReport{}, kept[:0]
			err := eachRow(ctx, q, `SELECT id, run_id, body_sha256, at, length(json) FROM fetches
WHERE at < ? AND (at, id) > (?, ?) ORDER BY at, id LIMIT ?`, func(rows *sql.Rows) error {
				var r row
				if err := rows.Scan(&r.id, &r.run, &r.body, &r.at, &r.size); err != nil {
					return err
				}
				batch = append(batch, r)
				return nil
			}, cutoff, afterAt, afterID, pruneBatch)
			if err != nil || len(batch) == 0 {
				return err
			}
			runs := make([]string, 0, len(batch))
			for _, r := range batch {
				runs = append(runs, r.run)
			}
			running, err := runningRuns(ctx, q, runs)
			if err != nil {
				return err
			}
			var del []string
			for _, r := range batch {
				keep := pr.marks.Fetches.Has(r.id) || running[r.run]
				kept = append(kept, keep)
				if keep {
					rep.FetchesKept++
					continue
				}
				del = append(del, r.id)
				rep.Fetches++
				rep.FetchBytes += r.size
			}
			if len(del) > 0 && !pr.p.DryRun {
				arg, err := jsonKeys(del)
				if err != nil {
					return err
				}
				if _, err := q.ExecContext(ctx, "DELETE FROM fetches WHERE id IN (SELECT value FROM json_each(?))", arg); err != nil {
					return fmt.Errorf("delete fetches: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		// Only once committed: a failed transaction decided nothing.
		pr.rep.Add(rep)
		for i, r := range batch {
			if kept[i] {
				pr.marks.Pages.Add(r.body) // evidence: its body too
			} else {
				if pr.p.DryRun { // a real prune's are gone from the table
					pr.gone.Add(r.id)
				}
				pr.goneByRun[r.run]++
			}
		}
		if len(batch) < pruneBatch {
			return nil
		}
		afterAt, afterID = batch[len(batch)-1].at, batch[len(batch)-1].id
	}
}

// runningRuns returns which of runs are running.
func runningRuns(ctx context.Context, q pruneQ, runs []string) (map[string]bool, error) {
	arg, err := jsonKeys(runs)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	err = eachRow(ctx, q, `SELECT id FROM runs WHERE id IN (SELECT value FROM json_each(?))
AND json_extract(json, '$.status') = 'running'`, func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		out[id] = true
		return nil
	}, arg)
	if err != nil {
		return nil, fmt.Errorf("read run statuses: %w", err)
	}
	return out, nil
}

// sweepRuns deletes ended runs older than the runs cutoff that have no
// fetch record left and are not among their site's newest.
func (pr *pruner) sweepRuns(ctx context.Context) error {
	if pr.p.RunsBefore.IsZero() {
		return nil
	}
	type row struct {
		info  prune.RunInfo
		start int64
		size  int64
	}
	// A run ends after it starts: one that ended before the cutoff
	// started before it.
	cutoff := nanos(pr.p.RunsBefore)
	afterStart, afterID := int64(math.MinInt64), ""
	for {
		var batch []row
		var rep precwatch.PruneReport
		var del []string
		err := pr.step(ctx, func(q pruneQ) error {
			batch, rep, del = batch[:0], precwatch.PruneReport{}, del[:0]
			err := eachRow(ctx, q, `SELECT json, start, length(json) FROM runs
WHERE start < ? AND (start, id) > (?, ?) ORDER BY start, id LIMIT ?`, func(rows *sql.Rows) error {
				var raw []byte
				var r row
				if err := rows.Scan(&raw, &r.start, &r.size); err != nil {
					return err
				}
				info, err := prune.DecodeRun(raw)
				if err != nil {
					return err
				}
				r.info = info
				batch = append(batch, r)
				return nil
			}, cutoff, afterStart, afterID, pruneBatch)
			if err != nil {
				return err
			}
			newest := map[string]map[string]bool{}
			for _, r := range batch {
				ri := r.info
				if !ri.Deletable(pr.p) {
					continue
				}
				if newest[ri.Site] == nil {
					ids, err := newestRuns(ctx, q, ri.Site)
					if err != nil {
						return err
					}
					newest[ri.Site] = ids
				}
				if newest[ri.Site][ri.ID] {
					continue
				}
				var n int64
				if err := q.QueryRowContext(ctx, "SELECT count(*) FROM fetches WHERE run_id = ?", ri.ID).Scan(&n); err != nil {
					return fmt.Errorf("count fetches of run %s: %w", ri.ID, err)
				}
				if pr.p.DryRun {
					n -= pr.goneByRun[ri.ID]
				}
				if n > 0 {
					continue
				}
				del = append(del, ri.ID)
				rep.Runs++
				rep.RunBytes += r.size
				rep.WARCFiles = append(rep.WARCFiles, ri.WARCPaths()...)
			}
			if len(del) > 0 && !pr.p.DryRun {
				arg, err := jsonKeys(del)
				if err != nil {
					return err
				}
				if _, err := q.ExecContext(ctx, "DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?))", arg); err != nil {
					return fmt.Errorf("delete runs: %w", err)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		pr.rep.Add(rep)
		for _, id := range del {
			pr.runsDeleted.Add(id)
		}
		if len(batch) < pruneBatch {
			return nil
		}
		afterStart, afterID = batch[len(batch)-1].start, batch[len(batch)-1].info.ID
	}
}

// newestRuns are the IDs of site's newest precwatch.KeepRunsPerSite runs.
func newestRuns(ctx context.Context, q pruneQ, site string) (map[string]bool, error) {
	out := map[string]bool{}
	err := eachRow(ctx, q, "SELECT id FROM runs WHERE site = ? ORDER BY start DESC, id LIMIT ?", func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		out[id] = true
		return nil
	}, site, precwatch.KeepRunsPerSite)
	if err != nil {
		return nil, fmt.Errorf("newest runs of %s: %w", site, err)
	}
	return out, nil
}

// markRunPages marks the block pages of the runs kept.
func (pr *pruner) markRunPages(ctx context.Context) error {
	return eachRow(ctx, pr.s.db, `SELECT id, json_extract(json, '$.block.page_sha256') FROM runs
WHERE json_extract(json, '$.block.page_sha256') IS NOT NULL`, func(rows *sql.Rows) error {
		var id, sha string
		if err := rows.Scan(&id, &sha); err != nil {
			return err
		}
		if !pr.runsDeleted.Has(id) {
			pr.marks.Pages.Add(sha)
		}
		return nil
	})
}

// sweepPages deletes the bodies first fetched before the cutoff that
// nothing marked names, no fetch record left names, and no save since the
// cutoff used again.
func (pr *pruner) sweepPages(ctx context.Context) error {
	cutoff := nanos(pr.p.FetchesBefore)
	after := ""
	for {
		var shas []string
		var rep precwatch.PruneReport
		err := pr.step(ctx, func(q pruneQ) error {
			shas, rep = shas[:0], precwatch.PruneReport{}
			var sizes []int64
			err := eachRow(ctx, q, `SELECT p.sha256, length(p.body) FROM pages AS p
LEFT JOIN page_uses AS u ON u.sha256 = p.sha256
WHERE p.fetched_at < ? AND coalesce(u.at, ?) < ? AND p.sha256 > ? ORDER BY p.sha256 LIMIT ?`, func(rows *sql.Rows) error {
				var sha string
				var size int64
				if err := rows.Scan(&sha, &size); err != nil {
					return err
				}
				shas, sizes = append(shas, sha), append(sizes, size)
				return nil
			}, cutoff, int64(math.MinInt64), cutoff, after, pruneBatch)
			if err != nil || len(shas) == 0 {
				return err
			}
			var del []string
			for i, sha := range shas {
				recent, named, err := pr.fetchesOfBody(ctx, q, sha, cutoff)
				if err != nil {
					return err
				}
				if recent {
					continue // fetched since the cutoff: not old
				}
				if named || pr.marks.Pages.Has(sha) {
					rep.PagesKept++
					continue
				}
				del = append(del, sha)
				rep.Pages++
				rep.PageBytes += sizes[i]
			}
			if len(del) > 0 && !pr.p.DryRun {
				arg, err := jsonKeys(del)
				if err != nil {
					return err
				}
				for _, table := range []string{"pages", "page_uses"} {
					if _, err := q.ExecContext(ctx, "DELETE FROM "+table+" WHERE sha256 IN (SELECT value FROM json_each(?))", arg); err != nil {
						return fmt.Errorf("delete %s: %w", table, err)
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		pr.rep.Add(rep)
		if len(shas) < pruneBatch {
			return nil
		}
		after = shas[len(shas)-1]
	}
}

// fetchesOfBody reports whether a fetch record kept names body sha: one
// made since cutoff (recent), or any (named). A dry run counts the fetches
// it would have deleted as gone.
func (pr *pruner) fetchesOfBody(ctx context.Context, q pruneQ, sha string, cutoff int64) (recent, named bool, err error) {
	err = eachRow(ctx, q, "SELECT id, at FROM fetches WHERE body_sha256 = ?", func(rows *sql.Rows) error {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return err
		}
		if pr.p.DryRun && pr.gone.Has(id) {
			return nil
		}
		named = true
		recent = recent || at >= cutoff
		return nil
	}, sha)
	if err != nil {
		return false, false, fmt.Errorf("fetches of body %s: %w", sha, err)
	}
	return recent, named, nil
}
