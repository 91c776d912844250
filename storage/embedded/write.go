package embedded

// The write path of Record and RecordPage (issue 9): the observations of
// a page are read, reconciled and written as one batch in the caller's
// transaction, with a few statements per page rather than several per
// listing.
//
// What that buys, measured with BenchmarkRecordPage and a CPU profile:
//   - FTS5 writes a new segment of its index, and later merges it, at each
//     statement savepoint after a full-text write (fts5SavepointMethod
//     flushes its pending terms), and every upsert of a listing or alert
//     opens one (triggers, foreign keys). Written one row a statement,
//     each listing and each alert made its own segment; written many rows
//     a statement, a page makes one or two.
//   - The stored listings of a page are read in one query, and the alerts
//     of a listing are decoded only when Reconcile reads them: a listing
//     seen again unchanged needs only their keys (see alertsRead).
//   - Each record is encoded once: the listing's JSON both decides a plain
//     retry (nothing to write) and is written; an alert's JSON is written
//     to its row and to its outbox event.
//   - Statements are prepared once per connection and shape (rows per
//     statement), not parsed per call.
//   - The listing upsert leaves out the indexed columns a listing seen
//     again keeps (see listingsUpsert), and the vendor index reads columns
//     rather than the JSON (migration 11), so an unchanged listing costs
//     its row and the (site, last run) entry.
//   - Statement journals stay in memory (temp_store, see Open).
//
// What it still costs is mostly SQLite's own: each alert enters about ten
// indexes at random places (the console's filters and orders), so a page
// of new listings dirties hundreds of pages, each written to the WAL and
// later checkpointed to the file.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/precwatch/precwatch"
)

// batchOptions says how recordBatch checks and adjusts what it writes.
type batchOptions struct {
	// page is RecordPage's page: evidence that needs no lookup.
	page *precwatch.Page
	// check makes an observation that writes alerts fail unless its
	// evidence page and fetches are stored (RecordPage; Record does not).
	check bool
	// mutate, when set, may adjust each observation's alerts before they
	// are written (benchmarks use it to spread statuses).
	mutate func([]precwatch.Alert)
}

// alertsRead reports whether Reconcile(prev, existing, o) reads more of
// existing than which keys it holds. It does not when the sighting is
// older than the last one (Reconcile returns prev as it is) or the listing
// is seen unchanged (same fingerprint, not gone): then an existing alert is
// left alone and only a substance without one raises a new alert.
// TestAlertsRead checks the claim against Reconcile.
func alertsRead(prev *precwatch.ListingState, o precwatch.Observation) bool {
	if o.At.Before(prev.LastSeen) {
		return false
	}
	return prev.Gone || prev.Fingerprint != precwatch.Fingerprint(o.Listing)
}

// Rows written by a batch, each with its JSON encoded once.
type (
	listingRow struct {
		st  precwatch.ListingState
		raw string
		// reindex is set when the row is stored with another vendor or
		// other identifiers (see upsertListings).
		reindex bool
	}
	alertRow struct {
		listingKey string
		a          precwatch.Alert
		raw        string
	}
	eventRow struct {
		e   precwatch.Event
		a   *precwatch.Alert
		raw string // a's JSON
	}
)

// recordBatch applies obs in order, as that many calls of Record would,
// inside tx, and returns their results. A listing seen twice in obs sees
// the first sighting's writes.
func (s *Store) recordBatch(ctx context.Context, tx *sql.Tx, obs []precwatch.Observation, opt batchOptions) ([]precwatch.RecordResult, error) {
	results := make([]precwatch.RecordResult, len(obs))
	if len(obs) == 0 {
		return results, nil
	}
	keys := make([]string, len(obs))
	count := make(map[string]int, len(obs))
	for i, o := range obs {
		keys[i] = precwatch.ListingKey(o.Listing.Site, o.Listing.Identity())
		count[keys[i]]++
	}
	stored, err := s.loadListings(ctx, tx, count)
	if err != nil {
		return nil, err
	}
	// The current state of each listing, its JSON and its alerts: as
	// stored at first, then as this batch has written them.
	orig := make(map[string]*precwatch.ListingState, len(stored))
	cur := make(map[string]*precwatch.ListingState, len(stored))
	curRaw := make(map[string]string, len(stored))
	alerts := make(map[string]map[string]precwatch.Alert, len(count))
	var full, stub []string
	for i, o := range obs {
		k := keys[i]
		raw, ok := stored[k]
		if _, done := cur[k]; done || !ok {
			continue
		}
		st := new(precwatch.ListingState)
		if err := json.Unmarshal([]byte(raw), st); err != nil {
			return nil, fmt.Errorf("decode listing %s: %w", k, err)
		}
		orig[k], cur[k], curRaw[k] = st, st, raw
		if count[k] == 1 && !alertsRead(st, o) {
			stub = append(stub, k)
		} else {
			full = append(full, k)
		}
	}
	if err := s.loadAlerts(ctx, tx, full, stub, alerts); err != nil {
		return nil, err
	}

	var (
		listings  []listingRow
		listingAt = map[string]int{} // index in listings
		alertRows []alertRow
		alertAt   = map[string]int{}
		events    []eventRow
	)
	for i, o := range obs {
		k := keys[i]
		prev, existing := cur[k], alerts[k]
		if existing == nil {
			existing = map[string]precwatch.Alert{}
			alerts[k] = existing
		}
		next, write, res := precwatch.Reconcile(prev, existing, o)
		if opt.mutate != nil {
			opt.mutate(write)
		}
		if opt.check {
			if err := s.checkEvidence(ctx, tx, opt.page, o, write); err != nil {
				return nil, fmt.Errorf("%s %q: %w", o.Listing.Site, o.Listing.Identity(), err)
			}
		}
		results[i] = res
		b, err := json.Marshal(next)
		if err != nil {
			return nil, fmt.Errorf("encode listing %s: %w", k, err)
		}
		raw := string(b)
		if prev != nil && len(write) == 0 && raw == curRaw[k] {
			continue // a plain retry: nothing to write
		}
		row := listingRow{next, raw, orig[k] != nil && vendorChanged(orig[k].Listing, next.Listing)}
		if j, ok := listingAt[k]; ok {
			listings[j] = row
		} else {
			listingAt[k] = len(listings)
			listings = append(listings, row)
		}
		cur[k], curRaw[k] = &next, raw
		for _, a := range write {
			b, err := json.Marshal(a)
			if err != nil {
				return nil, fmt.Errorf("encode alert %s: %w", a.Key, err)
			}
			row := alertRow{k, a, string(b)}
			if j, ok := alertAt[a.Key]; ok {
				alertRows[j] = row
			} else {
				alertAt[a.Key] = len(alertRows)
				alertRows = append(alertRows, row)
			}
			// Delivery (issue 11, events.go): the change's event.
			old, had := existing[a.Key]
			if ev := precwatch.RecordEvent(old, had, a); ev != "" {
				events = append(events, eventRow{precwatch.Event{Event: ev}, &row.a, row.raw})
			}
		}
		for _, a := range write {
			existing[a.Key] = a
		}
	}
	// Events first: they touch no full-text index, so their statement
	// flushes no pending terms (see the top of this file).
	if err := s.insertEvents(ctx, tx, events); err != nil {
		return nil, err
	}
	if err := s.upsertListings(ctx, tx, listings); err != nil {
		return nil, err
	}
	if err := s.upsertAlerts(ctx, tx, alertRows); err != nil {
		return nil, err
	}
	return results, nil
}

// checkEvidence fails unless the evidence page and fetches that o's alert
// writes need are stored or are p's (see precwatch.EvidenceNeeded and
// precwatch.FetchesNeeded).
func (s *Store) checkEvidence(ctx context.Context, tx *sql.Tx, p *precwatch.Page, o precwatch.Observation, write []precwatch.Alert) error {
	if err := s.checkFetches(ctx, tx, p, o, write); err != nil { // issue 11
		return err
	}
	sha := precwatch.EvidenceNeeded(p, o, write)
	if sha == "" {
		return nil
	}
	ok, err := s.hasPage(ctx, tx, sha)
	switch {
	case err != nil:
		return err
	case !ok:
		return precwatch.ErrNoEvidence(o, sha)
	}
	return nil
}

// jsonKeys is keys as a JSON array, the argument of the "IN (SELECT value
// FROM json_each(?))" lookups: one prepared statement for any number of
// keys.
func jsonKeys(keys []string) (string, error) {
	b, err := json.Marshal(keys)
	return string(b), err
}

const (
	sqlLoadListings = "SELECT key, json FROM listings WHERE key IN (SELECT value FROM json_each(?))"
	sqlLoadAlerts   = "SELECT listing_key, json FROM alerts WHERE listing_key IN (SELECT value FROM json_each(?))"
	sqlLoadAlertKey = "SELECT listing_key, key FROM alerts WHERE listing_key IN (SELECT value FROM json_each(?))"
)

// loadListings returns the stored JSON of the listings of keys, by key.
func (s *Store) loadListings(ctx context.Context, tx *sql.Tx, keys map[string]int) (map[string]string, error) {
	list := make([]string, 0, len(keys))
	for k := range keys {
		list = append(list, k)
	}
	arg, err := jsonKeys(list)
	if err != nil {
		return nil, fmt.Errorf("load listings: %w", err)
	}
	st, err := s.stmt(ctx, tx, sqlLoadListings)
	if err != nil {
		return nil, fmt.Errorf("load listings: %w", err)
	}
	rows, err := st.QueryContext(ctx, arg)
	if err != nil {
		return nil, fmt.Errorf("load listings: %w", err)
	}
	defer rows.Close()
	out := make(map[string]string, len(keys))
	for rows.Next() {
		var k, raw string
		if err := rows.Scan(&k, &raw); err != nil {
			return nil, fmt.Errorf("load listings: %w", err)
		}
		out[k] = raw
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load listings: %w", err)
	}
	return out, nil
}

// loadAlerts fills into, by listing key, the alerts of the listings of
// full, decoded, and of stub, as their keys alone (see alertsRead).
func (s *Store) loadAlerts(ctx context.Context, tx *sql.Tx, full, stub []string, into map[string]map[string]precwatch.Alert) error {
	for _, q := range []struct {
		keys  []string
		query string
	}{{full, sqlLoadAlerts}, {stub, sqlLoadAlertKey}} {
		if len(q.keys) == 0 {
			continue
		}
		arg, err := jsonKeys(q.keys)
		if err != nil {
			return fmt.Errorf("load alerts: %w", err)
		}
		st, err := s.stmt(ctx, tx, q.query)
		if err != nil {
			return fmt.Errorf("load alerts: %w", err)
		}
		rows, err := st.QueryContext(ctx, arg)
		if err != nil {
			return fmt.Errorf("load alerts: %w", err)
		}
		for rows.Next() {
			var lkey, v string
			if err := rows.Scan(&lkey, &v); err != nil {
				rows.Close()
				return fmt.Errorf("load alerts: %w", err)
			}
			a := precwatch.Alert{Key: v}
			if q.query == sqlLoadAlerts {
				a = precwatch.Alert{}
				if err := json.Unmarshal([]byte(v), &a); err != nil {
					rows.Close()
					return fmt.Errorf("load alerts of %s: decode: %w", lkey, err)
				}
			}
			m := into[lkey]
			if m == nil {
				m = map[string]precwatch.Alert{}
				into[lkey] = m
			}
			m[a.Key] = a
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("load alerts: %w", err)
		}
	}
	return nil
}

// multiRow is a statement that writes many rows: head, then row once per
// row (comma-separated), then tail.
type multiRow struct {
	head, row, tail string
	cols            int
}

// maxRows is the most rows one statement writes; bigger batches take
// several. Every row count up to it is a statement of its own, prepared
// once.
const maxRows = 64

var (
	listingsUpsert = multiRow{
		head: "INSERT INTO listings (key, site, last_run_id, gone, title, description, vendor, identifiers, json) VALUES ",
		row:  "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
		// The update leaves out the indexed columns that a listing seen
		// again keeps: SQLite rewrites the entries of every index on a
		// column the SET names, changed or not (23 of the 42 pages a page
		// of 50 unchanged listings wrote). A listing's site is part of its
		// key; its vendor and identifiers are set apart when they change.
		tail: ` ON CONFLICT (key) DO UPDATE SET last_run_id = excluded.last_run_id, gone = excluded.gone,
	title = excluded.title, description = excluded.description, json = excluded.json`,
		cols: 9,
	}
	alertsUpsert = multiRow{
		head: "INSERT INTO alerts (key, listing_key, site, substance, regime, severity, score, status, created_at, updated_at, vendor, assignee, words, json) VALUES ",
		row:  "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		tail: ` ON CONFLICT (key) DO UPDATE SET regime = excluded.regime, severity = excluded.severity, score = excluded.score,
	status = excluded.status, updated_at = excluded.updated_at, vendor = excluded.vendor, assignee = excluded.assignee,
	words = excluded.words, json = excluded.json`,
		cols: 14,
	}
	eventsInsert = multiRow{
		head: "INSERT INTO events (at, event, key, site, substance, severity, actor, from_, to_, json) VALUES ",
		row:  "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		cols: 10,
	}
)

// sqlFor returns m's statement for n rows.
func (m *multiRow) sqlFor(n int) string {
	var b strings.Builder
	b.Grow(len(m.head) + n*(len(m.row)+2) + len(m.tail))
	b.WriteString(m.head)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.row)
	}
	b.WriteString(m.tail)
	return b.String()
}

// stmtCache holds the statements prepared on the database, by SQL text;
// database/sql prepares each once per connection.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
	multi map[multiKey]string // SQL text of a multiRow for n rows
}

type multiKey struct {
	m *multiRow
	n int
}

// stmt returns query prepared, inside tx.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	c := &s.cache
	c.mu.Lock()
	st, ok := c.stmts[query]
	c.mu.Unlock()
	if !ok {
		var err error
		if st, err = s.db.PrepareContext(ctx, query); err != nil {
			return nil, fmt.Errorf("prepare: %w", err)
		}
		c.mu.Lock()
		if prior, ok := c.stmts[query]; ok {
			st.Close() // prepared meanwhile by another call
			st = prior
		} else {
			if c.stmts == nil {
				c.stmts = map[string]*sql.Stmt{}
			}
			c.stmts[query] = st
		}
		c.mu.Unlock()
	}
	return tx.StmtContext(ctx, st), nil
}

// multiStmt returns m's statement for n rows, prepared, inside tx.
func (s *Store) multiStmt(ctx context.Context, tx *sql.Tx, m *multiRow, n int) (*sql.Stmt, error) {
	c := &s.cache
	c.mu.Lock()
	q, ok := c.multi[multiKey{m, n}]
	if !ok {
		q = m.sqlFor(n)
		if c.multi == nil {
			c.multi = map[multiKey]string{}
		}
		c.multi[multiKey{m, n}] = q
	}
	c.mu.Unlock()
	return s.stmt(ctx, tx, q)
}

// execRows writes n rows with m, maxRows a statement; args appends the
// arguments of row i to dst. after, when set, is called with each
// statement's result and the rows it wrote.
func (s *Store) execRows(ctx context.Context, tx *sql.Tx, m *multiRow, n int, args func(dst []any, i int) []any, after func(res sql.Result, from, to int) error) error {
	buf := make([]any, 0, min(n, maxRows)*m.cols)
	for from := 0; from < n; from += maxRows {
		to := min(from+maxRows, n)
		st, err := s.multiStmt(ctx, tx, m, to-from)
		if err != nil {
			return err
		}
		buf = buf[:0]
		for i := from; i < to; i++ {
			buf = args(buf, i)
		}
		res, err := st.ExecContext(ctx, buf...)
		if err != nil {
			return err
		}
		if after != nil {
			if err := after(res, from, to); err != nil {
				return err
			}
		}
	}
	return nil
}

// upsertListings writes rows (each key once).
func (s *Store) upsertListings(ctx context.Context, tx *sql.Tx, rows []listingRow) error {
	err := s.execRows(ctx, tx, &listingsUpsert, len(rows), func(dst []any, i int) []any {
		st := rows[i].st
		return append(dst, st.Key, st.Listing.Site, st.LastRunID, st.Gone, st.Listing.Title, st.Listing.Description,
			st.Listing.Vendor, identifiersColumn(st.Listing), rows[i].raw)
	}, nil)
	if err != nil {
		return fmt.Errorf("write listings: %w", err)
	}
	for _, r := range rows {
		if !r.reindex {
			continue
		}
		st, err := s.stmt(ctx, tx, "UPDATE listings SET vendor = ?, identifiers = ? WHERE key = ?")
		if err == nil {
			_, err = st.ExecContext(ctx, r.st.Listing.Vendor, identifiersColumn(r.st.Listing), r.st.Key)
		}
		if err != nil {
			return fmt.Errorf("write listing %s vendor: %w", r.st.Key, err)
		}
	}
	return nil
}

// vendorChanged reports whether next's vendor columns differ from prev's.
func vendorChanged(prev, next precwatch.Listing) bool {
	return prev.Vendor != next.Vendor || !slices.Equal(prev.Identifiers, next.Identifiers)
}

// identifiersColumn is what listings.identifiers holds: the listing's
// vendor identifiers as JSON, NULL when it has none (migration 11).
func identifiersColumn(l precwatch.Listing) any {
	if len(l.Identifiers) == 0 {
		return nil
	}
	b, err := json.Marshal(l.Identifiers)
	if err != nil {
		return nil // a VendorID is two strings: cannot fail
	}
	return string(b)
}

// upsertAlerts writes rows (each key once).
func (s *Store) upsertAlerts(ctx context.Context, tx *sql.Tx, rows []alertRow) error {
	err := s.execRows(ctx, tx, &alertsUpsert, len(rows), func(dst []any, i int) []any {
		a := &rows[i].a
		return append(dst, a.Key, rows[i].listingKey, a.Site, a.Substance, string(a.Regime), int(a.Severity), a.Score, string(a.Status),
			nanos(a.CreatedAt), nanos(a.UpdatedAt), precwatch.FoldVendor(a.Listing.Vendor), a.Assignee, alertWords(*a), rows[i].raw)
	}, nil)
	if err != nil {
		return fmt.Errorf("write alerts: %w", err)
	}
	return nil
}

// putAlert writes one alert, encoding it.
func (s *Store) putAlert(ctx context.Context, tx *sql.Tx, listingKey string, a precwatch.Alert) error {
	raw, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode alert %s: %w", a.Key, err)
	}
	return s.upsertAlerts(ctx, tx, []alertRow{{listingKey, a, string(raw)}})
}
