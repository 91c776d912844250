package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/internal/words"
)

// alertWords is what alerts.words holds: the listing's text, normalised.
func alertWords(a precwatch.Alert) string {
	return strings.Join(words.Split(a.Listing.Title, a.Listing.Description), " ")
}

// backfillV2 fills the columns migration 2 added to a version-1 file's
// alerts, then creates their full-text index.
func backfillV2(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "SELECT rowid, json FROM alerts")
	if err != nil {
		return fmt.Errorf("backfill alerts: %w", err)
	}
	type row struct {
		id int64
		a  precwatch.Alert
	}
	var all []row
	for rows.Next() {
		var r row
		var raw []byte
		if err := rows.Scan(&r.id, &raw); err != nil {
			rows.Close()
			return fmt.Errorf("backfill alerts: %w", err)
		}
		if err := json.Unmarshal(raw, &r.a); err != nil {
			rows.Close()
			return fmt.Errorf("backfill alerts: decode: %w", err)
		}
		all = append(all, r)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("backfill alerts: %w", err)
	}
	for _, r := range all {
		if _, err := tx.ExecContext(ctx, "UPDATE alerts SET vendor = ?, assignee = ?, words = ? WHERE rowid = ?",
			precwatch.FoldVendor(r.a.Listing.Vendor), r.a.Assignee, alertWords(r.a), r.id); err != nil {
			return fmt.Errorf("backfill alert %s: %w", r.a.Key, err)
		}
	}
	if _, err := tx.ExecContext(ctx, ftsV2); err != nil {
		return fmt.Errorf("create alerts_fts: %w", err)
	}
	return nil
}

// backfillV14 folds the case of alerts.vendor (migration 14): the vendor
// filter ignores case, and SQLite's lower() folds ASCII only.
func backfillV14(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "SELECT rowid, vendor FROM alerts WHERE vendor != ''")
	if err != nil {
		return fmt.Errorf("fold vendors: %w", err)
	}
	type row struct {
		id     int64
		vendor string
	}
	var fold []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.vendor); err != nil {
			rows.Close()
			return fmt.Errorf("fold vendors: %w", err)
		}
		if f := precwatch.FoldVendor(r.vendor); f != r.vendor {
			fold = append(fold, row{r.id, f})
		}
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("fold vendors: %w", err)
	}
	for _, r := range fold {
		if _, err := tx.ExecContext(ctx, "UPDATE alerts SET vendor = ? WHERE rowid = ?", r.vendor, r.id); err != nil {
			return fmt.Errorf("fold vendor of alert %d: %w", r.id, err)
		}
	}
	return nil
}

// alertOrders are the ORDER BY clauses of the queue's orders (see
// precwatch.AlertSort): alerts_order and the filter indexes serve the
// default, alerts_site the site order, alerts_time both time orders.
var alertOrders = map[precwatch.AlertSort]string{
	precwatch.SortSeverity: alertOrder,
	precwatch.SortNewest:   " ORDER BY created_at DESC, key DESC",
	precwatch.SortOldest:   " ORDER BY created_at, key",
	precwatch.SortSite:     " ORDER BY site, severity DESC, score DESC, created_at DESC, key",
}

// UpdateAlert applies an investigator's action to an alert in one write
// transaction; see precwatch.ApplyAction.
func (s *Store) UpdateAlert(ctx context.Context, act precwatch.AlertAction) (precwatch.Alert, error) {
	var a precwatch.Alert
	err := s.write(ctx, func(tx *sql.Tx) error {
		var raw []byte
		var lkey string
		switch err := tx.QueryRowContext(ctx, "SELECT listing_key, json FROM alerts WHERE key = ?", act.Key).Scan(&lkey, &raw); {
		case errors.Is(err, sql.ErrNoRows):
			return precwatch.ErrNotFound
		case err != nil:
			return err
		}
		if err := json.Unmarshal(raw, &a); err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		if err := precwatch.ApplyAction(&a, act); err != nil {
			return err
		}
		if err := s.putAlert(ctx, tx, lkey, a); err != nil {
			return err
		}
		return s.appendActionEvent(ctx, tx, act, a) // Delivery (issue 11), events.go
	})
	if err != nil {
		return precwatch.Alert{}, fmt.Errorf("embedded: update alert %s (%s): %w", act.Key, act.Action, err)
	}
	return a, nil
}

// QueryAlerts returns a page of the alerts q selects, ordered as
// precwatch.SortAlertsBy does with q.Sort, and how many there are. Every
// equality filter has an index in the default order, so a page is a range
// scan; a creation window is counted on its own index; the text is an FTS5
// query over the alerts' normalised words (see matchText).
func (s *Store) QueryAlerts(ctx context.Context, q precwatch.AlertQuery) (precwatch.AlertPage, error) {
	if err := q.Check(); err != nil {
		return precwatch.AlertPage{}, fmt.Errorf("embedded: query alerts: %w", err)
	}
	order, ok := alertOrders[q.Sort]
	if !ok {
		order = alertOrder
	}
	var where []string
	var args []any
	eq := func(col, v string) {
		if v != "" {
			where, args = append(where, col+" = ?"), append(args, v)
		}
	}
	eq("status", string(q.Status))
	eq("substance", q.Substance)
	eq("regime", string(q.Regime))
	eq("site", q.Site)
	eq("vendor", precwatch.FoldVendor(q.Vendor)) // the column holds it folded
	eq("assignee", q.Assignee)
	if q.MinSeverity > precwatch.SeverityNone {
		where, args = append(where, "severity >= ?"), append(args, int(q.MinSeverity))
	}
	// The count of a creation window ranges over alerts_time; the page
	// walks the order index instead (the unary + keeps SQLite from
	// sorting the window, 10 ms for a fifth of 100,000 alerts) and stops
	// at the page.
	var pageWhere []string
	if !q.Since.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, nanos(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "created_at <= ?"), append(args, nanos(q.Until))
	}
	timeOrder := q.Sort == precwatch.SortNewest || q.Sort == precwatch.SortOldest
	for _, w := range where {
		// In a time order, the window is a range of the order index.
		if strings.HasPrefix(w, "created_at ") && !timeOrder {
			w = "+" + w
		}
		pageWhere = append(pageWhere, w)
	}
	limit, offset := q.Page()
	var page precwatch.AlertPage
	var db queryer = s.db
	counted := false
	if ws := words.Split(q.Text); len(ws) > 0 {
		// The matches go once into a rowid-keyed temporary table of one
		// connection, which both the count and the page read: the page
		// walks the order index and probes it by rowid (stopping at the
		// page), and the text alone is counted by the insert itself.
		// Probing the FTS5 match list inline rebuilt it for each query
		// and cost 30-80 ms for a common word in 100,000 alerts.
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return precwatch.AlertPage{}, fmt.Errorf("embedded: query alerts: %w", err)
		}
		defer conn.Close()
		n, err := matchText(ctx, conn, ws)
		defer func() {
			// Its own context: the query's may be what ended it, and
			// the table should not hold a large match list meanwhile.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			defer cancel()
			_, _ = conn.ExecContext(ctx, "DELETE FROM temp.text_match")
		}()
		if err != nil {
			return precwatch.AlertPage{}, fmt.Errorf("embedded: query alerts: text: %w", err)
		}
		db = conn
		where = append(where, "+rowid IN (SELECT id FROM temp.text_match)")
		pageWhere = append(pageWhere, where[len(where)-1])
		if len(where) == 1 {
			page.Total, counted = n, true
		}
	}
	cond, pageCond := "", ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
		pageCond = " WHERE " + strings.Join(pageWhere, " AND ")
	}
	if !counted {
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM alerts"+cond, args...).Scan(&page.Total); err != nil {
			return precwatch.AlertPage{}, fmt.Errorf("embedded: query alerts: count: %w", err)
		}
	}
	page.Alerts = []precwatch.Alert{}
	if offset >= page.Total {
		return page, nil
	}
	rows, err := db.QueryContext(ctx, "SELECT json FROM alerts"+pageCond+
		order+" LIMIT ? OFFSET ?", append(args, limit, offset)...)
	if err != nil {
		return precwatch.AlertPage{}, fmt.Errorf("embedded: query alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a precwatch.Alert
		if err := scanJSON(rows, &a); err != nil {
			return precwatch.AlertPage{}, fmt.Errorf("embedded: query alerts: %w", err)
		}
		page.Alerts = append(page.Alerts, a)
	}
	if err := rows.Err(); err != nil {
		return precwatch.AlertPage{}, fmt.Errorf("embedded: query alerts: %w", err)
	}
	return page, nil
}

// queryer is what *sql.DB and *sql.Conn share.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// matchText fills the connection's temporary table text_match with the
// rowids of the alerts whose words hold every one of ws, and returns how
// many there are.
func matchText(ctx context.Context, conn *sql.Conn, ws []string) (int, error) {
	if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE IF NOT EXISTS text_match (id INTEGER PRIMARY KEY)"); err != nil {
		return 0, err
	}
	if _, err := conn.ExecContext(ctx, "DELETE FROM temp.text_match"); err != nil {
		return 0, err
	}
	// Quoted, each word is a term of its own; side by side, all are
	// required.
	match := `"` + strings.Join(ws, `" "`) + `"`
	res, err := conn.ExecContext(ctx, "INSERT INTO temp.text_match (id) SELECT rowid FROM alerts_fts WHERE alerts_fts MATCH ?", match)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// CreateUser adds a user; ErrConflict when the name is taken.
func (s *Store) CreateUser(ctx context.Context, u precwatch.User) error {
	if err := u.Validate(); err != nil {
		return fmt.Errorf("embedded: create user %q: %w", u.Name, err)
	}
	raw, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("embedded: create user %q: %w", u.Name, err)
	}
	res, err := s.db.ExecContext(ctx, "INSERT INTO users (name, json) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", u.Name, string(raw))
	if err != nil {
		return fmt.Errorf("embedded: create user %q: %w", u.Name, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("embedded: create user %q: %w", u.Name, errors.Join(precwatch.ErrConflict, err))
	}
	return nil
}

// UpdateUser changes a user in one BEGIN IMMEDIATE transaction: no other
// writer runs between reading the users and writing the change.
func (s *Store) UpdateUser(ctx context.Context, name string, change func(u *precwatch.User, all []precwatch.User) error) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		all, err := queryJSON[precwatch.User](ctx, tx, "SELECT json FROM users ORDER BY name")
		if err != nil {
			return err
		}
		u, err := precwatch.ChangeUser(name, all, change)
		if err != nil {
			return err
		}
		raw, err := json.Marshal(u)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE users SET json = ? WHERE name = ?", string(raw), name)
		return err
	})
	if err != nil {
		return fmt.Errorf("embedded: update user %q: %w", name, err)
	}
	return nil
}

// User returns a user by name, or ErrNotFound.
func (s *Store) User(ctx context.Context, name string) (precwatch.User, error) {
	var u precwatch.User
	if err := s.getJSON(ctx, &u, "SELECT json FROM users WHERE name = ?", name); err != nil {
		return u, fmt.Errorf("embedded: user %q: %w", name, err)
	}
	return u, nil
}

// Users lists every user by name.
func (s *Store) Users(ctx context.Context) ([]precwatch.User, error) {
	us, err := queryJSON[precwatch.User](ctx, s.db, "SELECT json FROM users ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("embedded: users: %w", err)
	}
	return us, nil
}

// querier is a database or a transaction in it.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryJSON decodes the single JSON column of every row the query returns.
func queryJSON[T any](ctx context.Context, db querier, query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := scanJSON(rows, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// CreateSession stores a session, replacing one with the same ID. Sessions
// expired by the new session's creation time are deleted on the way.
func (s *Store) CreateSession(ctx context.Context, se precwatch.Session) error {
	if se.ID == "" || se.User == "" {
		return fmt.Errorf("embedded: create session: %w: empty id or user", precwatch.ErrInvalid)
	}
	raw, err := json.Marshal(se)
	if err != nil {
		return fmt.Errorf("embedded: create session: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		// The caller's clock, not ours: the console may run on a test clock.
		if !se.CreatedAt.IsZero() {
			if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at <= ?", nanos(se.CreatedAt)); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user, expires_at, json) VALUES (?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET user = excluded.user, expires_at = excluded.expires_at, json = excluded.json`,
			se.ID, se.User, nanos(se.ExpiresAt), string(raw))
		return err
	})
	if err != nil {
		return fmt.Errorf("embedded: create session for %q: %w", se.User, err)
	}
	return nil
}

// Session returns the session id if it has not expired at now, else
// ErrNotFound.
func (s *Store) Session(ctx context.Context, id string, now time.Time) (precwatch.Session, error) {
	var se precwatch.Session
	if err := s.getJSON(ctx, &se, "SELECT json FROM sessions WHERE id = ? AND expires_at > ?", id, nanos(now)); err != nil {
		return se, fmt.Errorf("embedded: session: %w", err)
	}
	return se, nil
}

// DeleteSession removes a session; deleting a missing one is no error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM sessions WHERE id = ?", id); err != nil {
		return fmt.Errorf("embedded: delete session: %w", err)
	}
	return nil
}

// SaveWatchlistVersion stores v as the version after the latest, in one
// write transaction so that concurrent saves get distinct numbers.
func (s *Store) SaveWatchlistVersion(ctx context.Context, v precwatch.WatchlistVersion) (int, error) {
	data := v.Data
	if data == nil {
		data = []byte{}
	}
	var n int
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) + 1 FROM watchlist_versions").Scan(&n); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO watchlist_versions (version, author, at, comment, data) VALUES (?, ?, ?, ?, ?)",
			n, v.Author, nanos(v.At), v.Comment, data)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("embedded: save watchlist version: %w", err)
	}
	return n, nil
}

// WatchlistVersions lists the saved versions newest first, without Data.
func (s *Store) WatchlistVersions(ctx context.Context) ([]precwatch.WatchlistVersion, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT version, author, at, comment FROM watchlist_versions ORDER BY version DESC")
	if err != nil {
		return nil, fmt.Errorf("embedded: watchlist versions: %w", err)
	}
	defer rows.Close()
	var out []precwatch.WatchlistVersion
	for rows.Next() {
		var v precwatch.WatchlistVersion
		var at int64
		if err := rows.Scan(&v.Version, &v.Author, &at, &v.Comment); err != nil {
			return nil, fmt.Errorf("embedded: watchlist versions: %w", err)
		}
		v.At = fromNanos(at)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: watchlist versions: %w", err)
	}
	return out, nil
}

// WatchlistVersion returns one version with its Data, or ErrNotFound.
func (s *Store) WatchlistVersion(ctx context.Context, version int) (precwatch.WatchlistVersion, error) {
	v := precwatch.WatchlistVersion{Version: version}
	var at int64
	err := s.db.QueryRowContext(ctx, "SELECT author, at, comment, data FROM watchlist_versions WHERE version = ?", version).
		Scan(&v.Author, &at, &v.Comment, &v.Data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return precwatch.WatchlistVersion{}, fmt.Errorf("embedded: watchlist version %d: %w", version, precwatch.ErrNotFound)
	case err != nil:
		return precwatch.WatchlistVersion{}, fmt.Errorf("embedded: watchlist version %d: %w", version, err)
	}
	v.At = fromNanos(at)
	return v, nil
}

// SetSiteState creates or replaces the operator's state of a site.
func (s *Store) SetSiteState(ctx context.Context, st precwatch.SiteState) error {
	if st.Site == "" {
		return fmt.Errorf("embedded: set site state: %w: empty site", precwatch.ErrInvalid)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("embedded: set site state %s: %w", st.Site, err)
	}
	if _, err := s.db.ExecContext(ctx, "INSERT INTO site_states (site, json) VALUES (?, ?) ON CONFLICT (site) DO UPDATE SET json = excluded.json",
		st.Site, string(raw)); err != nil {
		return fmt.Errorf("embedded: set site state %s: %w", st.Site, err)
	}
	return nil
}

// SiteStates returns every site's state by site.
func (s *Store) SiteStates(ctx context.Context) (map[string]precwatch.SiteState, error) {
	sts, err := queryJSON[precwatch.SiteState](ctx, s.db, "SELECT json FROM site_states")
	if err != nil {
		return nil, fmt.Errorf("embedded: site states: %w", err)
	}
	out := make(map[string]precwatch.SiteState, len(sts))
	for _, st := range sts {
		out[st.Site] = st
	}
	return out, nil
}
