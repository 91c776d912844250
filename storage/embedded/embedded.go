// Package embedded is the single-file precwatch.Store: SQLite through the
// pure-Go modernc.org/sqlite driver (no cgo), in WAL mode so that readers
// never wait for the crawler, with every write in a BEGIN IMMEDIATE
// transaction so that several processes on the same file serialise.
//
// Each record is kept whole as JSON, next to the indexed columns the
// console filters and orders by; the JSON is authoritative.
package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/precwatch/precwatch"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

var (
	_ precwatch.Store        = (*Store)(nil)
	_ precwatch.ConsoleStore = (*Store)(nil)
)

// Store is a precwatch.Store in one SQLite file. It is safe for concurrent
// use, and several processes may open the same file.
type Store struct {
	db     *sql.DB
	logger *slog.Logger
	cache  stmtCache // the write path's statements, prepared once (write.go)

	// Evidence (issue 9): in tests, failPage makes RecordPage's page
	// write fail after its listings and alerts are written.
	failPage func(precwatch.Page) error
}

// busyTimeout is how long a write waits for another writer (in this or
// another process) before failing with SQLITE_BUSY.
const busyTimeout = 30 * time.Second

// Open opens (creating if needed) the store in the file at path and brings
// its schema up to date.
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if path == "" {
		return nil, fmt.Errorf("embedded: open: %w: empty path", precwatch.ErrInvalid)
	}
	// The store holds sessions' cookies and the console's password hashes:
	// a new file is its owner's alone, and SQLite gives the -wal and -shm
	// files it creates beside it the same mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	q := url.Values{}
	// busy_timeout comes first so that the other pragmas already wait.
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	// In WAL mode NORMAL syncs the WAL at each checkpoint, not at each
	// commit. A killed process loses nothing: a commit is in the WAL (the
	// operating system's cache) when COMMIT returns, and the next open
	// replays it. A power cut or kernel crash may lose the last commits
	// since the previous checkpoint, whole transactions only: a page, its
	// listings, alerts and events are all there or all gone, so nothing is
	// half-written, and the next crawl records the lost pages again (as an
	// idempotent retry would); an event delivered before the cut may be
	// delivered again, as delivery is at least once. FULL would sync every
	// commit.
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// 64 MiB of page cache per connection: the alert indexes of a large
	// store stay in memory instead of being re-read for every write.
	q.Add("_pragma", "cache_size(-65536)")
	// Statement journals in memory: with the default (a temporary file)
	// SQLite spills a transaction's statement journal to disk once it
	// passes 64 KiB and writes it with a system call per page from then
	// on. It is scratch space for rolling back one statement, never
	// needed after a crash, so memory loses nothing.
	q.Add("_pragma", "temp_store(MEMORY)")
	// Every database/sql transaction starts with BEGIN IMMEDIATE: it takes
	// the write lock up front, so a read-then-write never fails half-way
	// with SQLITE_BUSY when another process writes in between.
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	s := &Store{db: db, logger: logger.With("store", "embedded", "path", path)}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.cache.mu.Lock()
	for _, st := range s.cache.stmts {
		st.Close()
	}
	s.cache.mu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("embedded: close: %w", err)
	}
	return nil
}

// migrations are applied in order; PRAGMA user_version counts those done.
// Append, never edit: a file in the field has run the earlier ones.
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE listings (
	key         TEXT PRIMARY KEY,
	site        TEXT NOT NULL,
	last_run_id TEXT NOT NULL,
	gone        INTEGER NOT NULL DEFAULT 0,
	title       TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT '',
	json        TEXT NOT NULL
);
CREATE INDEX listings_site_run ON listings(site, last_run_id);

CREATE TABLE alerts (
	key         TEXT PRIMARY KEY,
	listing_key TEXT NOT NULL REFERENCES listings(key),
	site        TEXT NOT NULL,
	substance   TEXT NOT NULL,
	regime      TEXT NOT NULL,
	severity    INTEGER NOT NULL,
	status      TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	json        TEXT NOT NULL
);
-- One index per filter, each in the listing order (severity desc, created
-- desc, key), so a page of any single filter is an index range scan.
CREATE INDEX alerts_order     ON alerts(severity DESC, created_at DESC, key);
CREATE INDEX alerts_status    ON alerts(status, severity DESC, created_at DESC, key);
CREATE INDEX alerts_site      ON alerts(site, severity DESC, created_at DESC, key);
CREATE INDEX alerts_substance ON alerts(substance, severity DESC, created_at DESC, key);
CREATE INDEX alerts_regime    ON alerts(regime, severity DESC, created_at DESC, key);
CREATE INDEX alerts_listing   ON alerts(listing_key);
CREATE INDEX alerts_updated   ON alerts(updated_at DESC);

CREATE TABLE runs (
	id    TEXT PRIMARY KEY,
	site  TEXT NOT NULL,
	start INTEGER NOT NULL,
	json  TEXT NOT NULL
);
CREATE INDEX runs_site_start ON runs(site, start DESC, id);
CREATE INDEX runs_start      ON runs(start DESC, id);

CREATE TABLE pages (
	sha256       TEXT PRIMARY KEY,
	site         TEXT NOT NULL,
	url          TEXT NOT NULL,
	fetched_at   INTEGER NOT NULL,
	content_type TEXT NOT NULL,
	body         BLOB NOT NULL
);
CREATE INDEX pages_site ON pages(site, fetched_at DESC);

-- Full-text search over listings for the console, kept in sync by triggers
-- (external content: the text is stored once, in listings).
CREATE VIRTUAL TABLE listings_fts USING fts5(
	title, description, content='listings', content_rowid='rowid'
);
CREATE TRIGGER listings_fts_insert AFTER INSERT ON listings BEGIN
	INSERT INTO listings_fts(rowid, title, description) VALUES (new.rowid, new.title, new.description);
END;
CREATE TRIGGER listings_fts_delete AFTER DELETE ON listings BEGIN
	INSERT INTO listings_fts(listings_fts, rowid, title, description) VALUES ('delete', old.rowid, old.title, old.description);
END;
CREATE TRIGGER listings_fts_update AFTER UPDATE OF title, description ON listings
WHEN old.title IS NOT new.title OR old.description IS NOT new.description BEGIN
	INSERT INTO listings_fts(listings_fts, rowid, title, description) VALUES ('delete', old.rowid, old.title, old.description);
	INSERT INTO listings_fts(rowid, title, description) VALUES (new.rowid, new.title, new.description);
END;
`,
	// 2: the console: workflow columns and full text on alerts, accounts,
	// sessions, the audit log, watchlist versions and site controls. The
	// new alert columns of a version-1 file are filled by backfillV2.
	`
ALTER TABLE alerts ADD COLUMN vendor   TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
-- The listing's title and description as normalised words (see
-- storage/internal/words), so that both backends search alike.
ALTER TABLE alerts ADD COLUMN words    TEXT NOT NULL DEFAULT '';
CREATE INDEX alerts_vendor   ON alerts(vendor, severity DESC, created_at DESC, key);
CREATE INDEX alerts_assignee ON alerts(assignee, severity DESC, created_at DESC, key);

-- alerts_fts is created by backfillV2, after the words are filled in.

CREATE TABLE users (
	name TEXT PRIMARY KEY,
	json TEXT NOT NULL
);
CREATE TABLE sessions (
	id         TEXT PRIMARY KEY,
	user       TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	json       TEXT NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires_at);
CREATE TABLE audit (
	id   INTEGER PRIMARY KEY AUTOINCREMENT,
	at   INTEGER NOT NULL,
	json TEXT NOT NULL
);
CREATE TABLE watchlist_versions (
	version INTEGER PRIMARY KEY,
	author  TEXT NOT NULL,
	at      INTEGER NOT NULL,
	comment TEXT NOT NULL,
	data    BLOB NOT NULL
);
CREATE TABLE site_states (
	site TEXT PRIMARY KEY,
	json TEXT NOT NULL
);
`,
	// 3: alerts rank by score within a severity (precwatch.SortAlerts):
	// the score column, filled from the authoritative JSON, and every
	// order index rebuilt as (filter, severity desc, score desc, created
	// desc, key). json_extract is NULL for JSON written before scores.
	`
ALTER TABLE alerts ADD COLUMN score REAL NOT NULL DEFAULT 0;
UPDATE alerts SET score = coalesce(json_extract(json, '$.score'), 0);
DROP INDEX alerts_order;
DROP INDEX alerts_status;
DROP INDEX alerts_site;
DROP INDEX alerts_substance;
DROP INDEX alerts_regime;
DROP INDEX alerts_vendor;
DROP INDEX alerts_assignee;
CREATE INDEX alerts_order     ON alerts(severity DESC, score DESC, created_at DESC, key);
CREATE INDEX alerts_status    ON alerts(status, severity DESC, score DESC, created_at DESC, key);
CREATE INDEX alerts_site      ON alerts(site, severity DESC, score DESC, created_at DESC, key);
CREATE INDEX alerts_substance ON alerts(substance, severity DESC, score DESC, created_at DESC, key);
CREATE INDEX alerts_regime    ON alerts(regime, severity DESC, score DESC, created_at DESC, key);
CREATE INDEX alerts_vendor    ON alerts(vendor, severity DESC, score DESC, created_at DESC, key);
CREATE INDEX alerts_assignee  ON alerts(assignee, severity DESC, score DESC, created_at DESC, key);
-- Counts a creation window; with the score before the creation time, the
-- order index no longer can (a page still walks the order index).
CREATE INDEX alerts_created   ON alerts(created_at);
`,
	// 4: incremental re-crawls (issue 8): each fetched URL's validators
	// (see fetchstate.go).
	`
CREATE TABLE fetch_states (
	site TEXT NOT NULL,
	url  TEXT NOT NULL,
	json TEXT NOT NULL,
	PRIMARY KEY (site, url)
) WITHOUT ROWID;
`,
	// 5: sessions (issue 8): each site's cookie jar, values included, as the
	// JSON of precwatch.SiteSession.MarshalStore.
	`
CREATE TABLE site_sessions (
	site TEXT PRIMARY KEY,
	json TEXT NOT NULL
);
`,
	// 6: login hardening (issue 10): the audit log's filter columns, filled from the
	// authoritative JSON (a failed sign-in was action login_failed), and
	// the key of an aggregated entry (see CountAudit).
	`
ALTER TABLE audit ADD COLUMN actor   TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN action  TEXT NOT NULL DEFAULT '';
ALTER TABLE audit ADD COLUMN failed  INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit ADD COLUMN agg_key TEXT;
UPDATE audit SET actor = coalesce(json_extract(json, '$.actor'), ''),
	action = coalesce(json_extract(json, '$.action'), ''),
	failed = coalesce(json_extract(json, '$.failed'), 0) OR json_extract(json, '$.action') = 'login_failed';
CREATE INDEX audit_actor  ON audit(actor, id);
CREATE INDEX audit_action ON audit(action, id);
CREATE INDEX audit_failed ON audit(failed, id);
CREATE INDEX audit_at     ON audit(at);
CREATE UNIQUE INDEX audit_agg ON audit(agg_key) WHERE agg_key IS NOT NULL;
`,
	// 7: scale-out (issue 9): one run lease per site (see lease.go); the
	// row stays after release or expiry, so tokens only grow.
	`
CREATE TABLE leases (
	site       TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,
	token      INTEGER NOT NULL,
	run_id     TEXT NOT NULL DEFAULT '',
	expires_at INTEGER NOT NULL,
	released   INTEGER NOT NULL DEFAULT 0
);
`,
	// 8: delivery (issue 11): the event outbox, delivery cursors and log
	// (see events.go).
	migrationEvents,
	// 9: exact provenance (issue 11): one record per fetch (see
	// fetch.go); the pages stored before become legacy fetch records
	// (backfillFetches).
	sqlFetches,
	// 10: vendor profiles (issue 11): vendor pages and the identifier
	// index (see vendor.go).
	vendorSchema,
	// 11: the write path (issue 9): listings' vendor and identifiers as
	// columns, for the vendor index (see vendor.go).
	vendorColumns,
	// 12: the write path (issue 9): a listing seen again unchanged needs
	// only the keys of its alerts (see alertsRead); with the key in the
	// listing index, they are read from the index alone instead of from
	// each alert's row.
	`
CREATE INDEX alerts_listing_key ON alerts(listing_key, key);
DROP INDEX alerts_listing;
`,
	// 13: retention (prune.go): when a page body kept without a fetch
	// record was last saved, and fetch records by time.
	sqlRetention,
	// 14: the queue's orders and a vendor filter that ignores case:
	// creation time with the key, for the newest and oldest orders (the
	// site order has alerts_site); alerts.vendor is folded (backfillV14).
	`
DROP INDEX IF EXISTS alerts_created;
CREATE INDEX alerts_time ON alerts(created_at, key);
`,
}

// alertOrder is precwatch.SortAlerts's order in SQL; every order index
// above ends in it.
const alertOrder = " ORDER BY severity DESC, score DESC, created_at DESC, key"

// ftsV2 is the full-text index of alerts' words, created once the words
// of existing alerts are filled in (an external-content index must never
// be told to delete what it was not given).
const ftsV2 = `
CREATE VIRTUAL TABLE alerts_fts USING fts5(
	words, content='alerts', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER alerts_fts_insert AFTER INSERT ON alerts BEGIN
	INSERT INTO alerts_fts(rowid, words) VALUES (new.rowid, new.words);
END;
CREATE TRIGGER alerts_fts_delete AFTER DELETE ON alerts BEGIN
	INSERT INTO alerts_fts(alerts_fts, rowid, words) VALUES ('delete', old.rowid, old.words);
END;
CREATE TRIGGER alerts_fts_update AFTER UPDATE OF words ON alerts
WHEN old.words IS NOT new.words BEGIN
	INSERT INTO alerts_fts(alerts_fts, rowid, words) VALUES ('delete', old.rowid, old.words);
	INSERT INTO alerts_fts(rowid, words) VALUES (new.rowid, new.words);
END;
INSERT INTO alerts_fts(alerts_fts) VALUES ('rebuild');
`

// backfills run after the migration of the same index, in its transaction,
// for what SQL alone cannot compute.
var backfills = map[int]func(ctx context.Context, tx *sql.Tx) error{
	2:  backfillV2,
	9:  backfillFetches,
	14: backfillV14,
}

// migrate applies the migrations the file has not run yet, in one
// transaction, so that two processes opening a new file do it once.
func (s *Store) migrate(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var version int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if version > len(migrations) {
			return fmt.Errorf("schema version %d is newer than this program's %d", version, len(migrations))
		}
		for i := version; i < len(migrations); i++ {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
			if fn := backfills[i+1]; fn != nil {
				if err := fn(ctx, tx); err != nil {
					return fmt.Errorf("migration %d: %w", i+1, err)
				}
			}
			s.logger.Info("schema migrated", "version", i+1)
		}
		// PRAGMA takes no bound parameters; the value is our own integer.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
			return fmt.Errorf("set schema version: %w", err)
		}
		return nil
	})
}

// write runs fn in a write transaction (BEGIN IMMEDIATE, see Open).
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

var (
	minNanos = time.Unix(0, math.MinInt64)
	maxNanos = time.Unix(0, math.MaxInt64)
)

// nanos is the stored form of a time: Unix nanoseconds, which order like
// time.Time.Compare; times outside 1678-2262 (the zero time among them)
// clamp to the ends.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(minNanos):
		return math.MinInt64
	case t.After(maxNanos):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// fromNanos undoes nanos, returning the zero time for the lower end.
func fromNanos(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// Record applies one sighting of a listing; see precwatch.Store.
func (s *Store) Record(ctx context.Context, obs precwatch.Observation) (precwatch.RecordResult, error) {
	if err := obs.Validate(); err != nil {
		return precwatch.RecordResult{}, fmt.Errorf("embedded: record: %w", err)
	}
	var res []precwatch.RecordResult
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = s.recordBatch(ctx, tx, []precwatch.Observation{obs}, batchOptions{})
		return err
	})
	if err != nil {
		return precwatch.RecordResult{}, fmt.Errorf("embedded: record %s %q: %w", obs.Listing.Site, obs.Listing.Identity(), err)
	}
	return res[0], nil
}

func scanJSON(rows *sql.Rows, v any) error {
	var raw []byte
	if err := rows.Scan(&raw); err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// MarkGone marks gone the listings of run.Site that complete run run did
// not see and no run saw at or after its start (see precwatch.GoneAfter),
// deciding and writing every one in one transaction.
func (s *Store) MarkGone(ctx context.Context, run precwatch.Run) (int, error) {
	if err := run.DecidesGone(); err != nil {
		return 0, fmt.Errorf("embedded: mark gone: %w", err)
	}
	n := 0
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT json FROM listings WHERE site = ? AND last_run_id <> ? AND gone = 0", run.Site, run.ID)
		if err != nil {
			return err
		}
		var gone []precwatch.ListingState
		for rows.Next() {
			var st precwatch.ListingState
			if err := scanJSON(rows, &st); err != nil {
				rows.Close()
				return err
			}
			if precwatch.GoneAfter(st, run) {
				gone = append(gone, st)
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		marked := make([]listingRow, len(gone))
		for i, st := range gone {
			st.Gone = true
			raw, err := json.Marshal(st)
			if err != nil {
				return fmt.Errorf("encode listing %s: %w", st.Key, err)
			}
			marked[i] = listingRow{st: st, raw: string(raw)}
		}
		if err := s.upsertListings(ctx, tx, marked); err != nil {
			return err
		}
		n = len(gone)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("embedded: mark gone %s (run %s): %w", run.Site, run.ID, err)
	}
	return n, nil
}

// Listing returns the state of a listing by its ListingKey, or ErrNotFound.
func (s *Store) Listing(ctx context.Context, key string) (precwatch.ListingState, error) {
	var st precwatch.ListingState
	if err := s.getJSON(ctx, &st, "SELECT json FROM listings WHERE key = ?", key); err != nil {
		return st, fmt.Errorf("embedded: listing %s: %w", key, err)
	}
	return st, nil
}

// getJSON decodes the single JSON column the query returns into v.
func (s *Store) getJSON(ctx context.Context, v any, query string, args ...any) error {
	var raw []byte
	switch err := s.db.QueryRowContext(ctx, query, args...).Scan(&raw); {
	case errors.Is(err, sql.ErrNoRows):
		return precwatch.ErrNotFound
	case err != nil:
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// Listings calls fn for every listing of site (every site when empty), in
// key order, stopping at the first error fn returns. Listings are read in
// batches and fn is called between reads, so fn may use the store and no
// read transaction stays open for long.
func (s *Store) Listings(ctx context.Context, site string, fn func(precwatch.ListingState) error) error {
	const batch = 500
	after := ""
	for {
		var rows *sql.Rows
		var err error
		if site == "" {
			rows, err = s.db.QueryContext(ctx, "SELECT json FROM listings WHERE key > ? ORDER BY key LIMIT ?", after, batch)
		} else {
			rows, err = s.db.QueryContext(ctx, "SELECT json FROM listings WHERE site = ? AND key > ? ORDER BY key LIMIT ?", site, after, batch)
		}
		if err != nil {
			return fmt.Errorf("embedded: listings %q: %w", site, err)
		}
		var page []precwatch.ListingState
		for rows.Next() {
			var st precwatch.ListingState
			if err := scanJSON(rows, &st); err != nil {
				rows.Close()
				return fmt.Errorf("embedded: listings %q: %w", site, err)
			}
			page = append(page, st)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("embedded: listings %q: %w", site, err)
		}
		for _, st := range page {
			if err := fn(st); err != nil {
				return err
			}
		}
		if len(page) < batch {
			return nil
		}
		after = page[len(page)-1].Key
	}
}

// Alert returns one alert by key, or ErrNotFound.
func (s *Store) Alert(ctx context.Context, key string) (precwatch.Alert, error) {
	var a precwatch.Alert
	if err := s.getJSON(ctx, &a, "SELECT json FROM alerts WHERE key = ?", key); err != nil {
		return a, fmt.Errorf("embedded: alert %s: %w", key, err)
	}
	return a, nil
}

// Alerts lists the alerts passing f, ordered as precwatch.SortAlerts does.
func (s *Store) Alerts(ctx context.Context, f precwatch.AlertFilter) ([]precwatch.Alert, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if f.MinSeverity > precwatch.SeverityNone {
		where, args = append(where, "severity >= ?"), append(args, int(f.MinSeverity))
	}
	if f.Site != "" {
		where, args = append(where, "site = ?"), append(args, f.Site)
	}
	if f.Substance != "" {
		where, args = append(where, "substance = ?"), append(args, f.Substance)
	}
	q := "SELECT json FROM alerts"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	q += alertOrder + " LIMIT ? OFFSET ?"
	args = append(args, limit, max(f.Offset, 0))
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("embedded: alerts: %w", err)
	}
	defer rows.Close()
	var out []precwatch.Alert
	for rows.Next() {
		var a precwatch.Alert
		if err := scanJSON(rows, &a); err != nil {
			return nil, fmt.Errorf("embedded: alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: alerts: %w", err)
	}
	return out, nil
}

// SetAlertStatus moves an alert to status, stamping its UpdatedAt with at.
func (s *Store) SetAlertStatus(ctx context.Context, key string, status precwatch.AlertStatus, at time.Time) error {
	if !status.Valid() {
		return fmt.Errorf("embedded: set alert %s status: %w: status %q", key, precwatch.ErrInvalid, status)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var raw []byte
		var lkey string
		switch err := tx.QueryRowContext(ctx, "SELECT listing_key, json FROM alerts WHERE key = ?", key).Scan(&lkey, &raw); {
		case errors.Is(err, sql.ErrNoRows):
			return precwatch.ErrNotFound
		case err != nil:
			return err
		}
		var a precwatch.Alert
		if err := json.Unmarshal(raw, &a); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		a.Status, a.UpdatedAt = status, at
		return s.putAlert(ctx, tx, lkey, a)
	})
	if err != nil {
		return fmt.Errorf("embedded: set alert %s status %s: %w", key, status, err)
	}
	return nil
}

// SaveRun creates or replaces a run record.
func (s *Store) SaveRun(ctx context.Context, r precwatch.Run) error {
	if r.ID == "" {
		return fmt.Errorf("embedded: save run: %w: empty id", precwatch.ErrInvalid)
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("embedded: save run %s: %w", r.ID, err)
	}
	_, err = s.db.ExecContext(ctx, `
INSERT INTO runs (id, site, start, json) VALUES (?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET site = excluded.site, start = excluded.start, json = excluded.json`,
		r.ID, r.Site, nanos(r.Start), string(raw))
	if err != nil {
		return fmt.Errorf("embedded: save run %s: %w", r.ID, err)
	}
	return nil
}

// Runs lists the runs of site (all sites when empty), newest start first
// (ties by id), at most limit of them (all when limit <= 0).
func (s *Store) Runs(ctx context.Context, site string, limit int) ([]precwatch.Run, error) {
	if limit <= 0 {
		limit = -1
	}
	var rows *sql.Rows
	var err error
	if site == "" {
		rows, err = s.db.QueryContext(ctx, "SELECT json FROM runs ORDER BY start DESC, id LIMIT ?", limit)
	} else {
		rows, err = s.db.QueryContext(ctx, "SELECT json FROM runs WHERE site = ? ORDER BY start DESC, id LIMIT ?", site, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("embedded: runs %q: %w", site, err)
	}
	defer rows.Close()
	var out []precwatch.Run
	for rows.Next() {
		var r precwatch.Run
		if err := scanJSON(rows, &r); err != nil {
			return nil, fmt.Errorf("embedded: runs %q: %w", site, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: runs %q: %w", site, err)
	}
	return out, nil
}

// SavePage keeps a page as evidence; saving the same SHA-256 again is a
// no-op, so the first fetch of a page is the one kept.
func (s *Store) SavePage(ctx context.Context, p precwatch.Page) error {
	if p.SHA256 == "" {
		return fmt.Errorf("embedded: save page: %w: empty sha256", precwatch.ErrInvalid)
	}
	body := p.Body
	if body == nil {
		body = []byte{} // body is NOT NULL; an empty page is still evidence
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `
INSERT INTO pages (sha256, site, url, fetched_at, content_type, body) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (sha256) DO NOTHING`,
			p.SHA256, p.Site, p.URL, nanos(p.FetchedAt), p.ContentType, body)
		if err != nil {
			return err
		}
		// Retention: saved again (a block page seen again) is used again.
		return s.touchPage(ctx, tx, p.SHA256, p.FetchedAt)
	})
	if err != nil {
		return fmt.Errorf("embedded: save page %s: %w", p.SHA256, err)
	}
	return nil
}

// Page returns a stored page by its SHA-256, or ErrNotFound.
func (s *Store) Page(ctx context.Context, sha256 string) (precwatch.Page, error) {
	p := precwatch.Page{SHA256: sha256}
	var fetched int64
	err := s.db.QueryRowContext(ctx, "SELECT site, url, fetched_at, content_type, body FROM pages WHERE sha256 = ?", sha256).
		Scan(&p.Site, &p.URL, &fetched, &p.ContentType, &p.Body)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return precwatch.Page{}, fmt.Errorf("embedded: page %s: %w", sha256, precwatch.ErrNotFound)
	case err != nil:
		return precwatch.Page{}, fmt.Errorf("embedded: page %s: %w", sha256, err)
	}
	p.FetchedAt = fromNanos(fetched)
	return p, nil
}
