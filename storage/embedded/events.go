package embedded

// Delivery (issue 11): the event outbox, the delivery cursors and the
// delivery log. Events are written by recordBatch (write.go) and
// appendActionEvent inside the transaction of the alert change they
// describe, so an event exists exactly when its change does.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/precwatch/precwatch"
)

var _ precwatch.DeliveryStore = (*Store)(nil)

// eventsMaxLen caps the event table like the Redis store's stream_maxlen
// default: the oldest events go once it holds that many more; trimEvery
// spreads the trimming: one append in trimEvery deletes. Variables for
// the tests.
var (
	eventsMaxLen int64 = 100000
	trimEvery    int64 = 1024
)

// migrationEvents is migration 8 (see migrations).
const migrationEvents = `
CREATE TABLE events (
	id        INTEGER PRIMARY KEY AUTOINCREMENT,
	at        INTEGER NOT NULL,
	event     TEXT NOT NULL,
	key       TEXT NOT NULL,
	site      TEXT NOT NULL,
	substance TEXT NOT NULL,
	severity  TEXT NOT NULL,
	actor     TEXT NOT NULL DEFAULT '',
	from_     TEXT NOT NULL DEFAULT '',
	to_       TEXT NOT NULL DEFAULT '',
	json      TEXT NOT NULL
);
CREATE TABLE delivery_cursors (
	dest       TEXT PRIMARY KEY,
	cursor     TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE TABLE deliveries (
	id   INTEGER PRIMARY KEY AUTOINCREMENT,
	dest TEXT NOT NULL,
	json TEXT NOT NULL
);
CREATE INDEX deliveries_dest ON deliveries(dest, id);
`

// appendActionEvent appends, in tx, the event of an investigator's action
// on a (its latest timeline entry).
func (s *Store) appendActionEvent(ctx context.Context, tx *sql.Tx, act precwatch.AlertAction, a precwatch.Alert) error {
	e := precwatch.Event{Event: act.Action}
	if n := len(a.Timeline); n > 0 {
		last := a.Timeline[n-1]
		e.Actor, e.From, e.To = last.Actor, last.From, last.To
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode event of alert %s: %w", a.Key, err)
	}
	return s.insertEvents(ctx, tx, []eventRow{{e, &a, string(raw)}})
}

// insertEvents appends rows to the outbox, in order, and trims it: ids are
// consecutive within a statement, and the rows whose id is a multiple of
// trimEvery each delete what is more than eventsMaxLen behind them.
func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, rows []eventRow) error {
	err := s.execRows(ctx, tx, &eventsInsert, len(rows), func(dst []any, i int) []any {
		e, a := rows[i].e, rows[i].a
		return append(dst, nanos(precwatch.EventTime(e.Event, *a)), e.Event, a.Key, a.Site, a.Substance, a.Severity.String(),
			e.Actor, e.From, e.To, rows[i].raw)
	}, func(res sql.Result, from, to int) error {
		last, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("trim events: %w", err)
		}
		if m := last - last%trimEvery; m > last-int64(to-from) {
			if _, err := tx.ExecContext(ctx, "DELETE FROM events WHERE id <= ?", m-eventsMaxLen); err != nil {
				return fmt.Errorf("trim events: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append events: %w", err)
	}
	return nil
}

// Events returns the events after cursor after; see precwatch.EventLog.
// IDs are the table's AUTOINCREMENT ids in decimal: assigned under the
// write lock, so they increase in commit order and a reader that saw id n
// never sees a smaller one committed later.
func (s *Store) Events(ctx context.Context, after string, limit int) ([]precwatch.Event, error) {
	var from int64
	if after != "" {
		var err error
		if from, err = strconv.ParseInt(after, 10, 64); err != nil || from < 0 {
			return nil, fmt.Errorf("embedded: events: %w: cursor %q", precwatch.ErrInvalid, after)
		}
	}
	if limit <= 0 {
		limit = 100
	}
	// Ids are consecutive but for trimming: a first id past from+1 means
	// the events in between were trimmed.
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, event, key, site, substance, severity, actor, from_, to_, json
FROM events WHERE id > ? ORDER BY id LIMIT ?`, from, limit)
	if err != nil {
		return nil, fmt.Errorf("embedded: events: %w", err)
	}
	defer rows.Close()
	var out []precwatch.Event
	for rows.Next() {
		var (
			e   precwatch.Event
			id  int64
			at  int64
			raw []byte
		)
		if err := rows.Scan(&id, &at, &e.Event, &e.Key, &e.Site, &e.Substance, &e.Severity, &e.Actor, &e.From, &e.To, &raw); err != nil {
			return nil, fmt.Errorf("embedded: events: %w", err)
		}
		if err := json.Unmarshal(raw, &e.Alert); err != nil {
			return nil, fmt.Errorf("embedded: events: decode %d: %w", id, err)
		}
		e.ID, e.At = strconv.FormatInt(id, 10), fromNanos(at)
		e.Gap = len(out) == 0 && after != "" && id > from+1
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("embedded: events: %w", err)
	}
	return out, nil
}

// DeliveryCursor returns dest's cursor; see precwatch.DeliveryStore.
func (s *Store) DeliveryCursor(ctx context.Context, dest string) (string, error) {
	var c string
	err := s.db.QueryRowContext(ctx, "SELECT cursor FROM delivery_cursors WHERE dest = ?", dest).Scan(&c)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("embedded: delivery cursor %q: %w", dest, precwatch.ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("embedded: delivery cursor %q: %w", dest, err)
	}
	return c, nil
}

// SaveDeliveryCursor records dest's cursor.
func (s *Store) SaveDeliveryCursor(ctx context.Context, dest, id string) error {
	if dest == "" {
		return fmt.Errorf("embedded: save delivery cursor: %w: empty destination", precwatch.ErrInvalid)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO delivery_cursors (dest, cursor, updated_at) VALUES (?, ?, ?)
ON CONFLICT (dest) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`, dest, id, nanos(time.Now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("embedded: save delivery cursor %q: %w", dest, err)
	}
	return nil
}

// LogDelivery keeps an attempt, and the newest precwatch.MaxDeliveryLog of
// its destination.
func (s *Store) LogDelivery(ctx context.Context, d precwatch.Delivery) error {
	if d.Destination == "" {
		return fmt.Errorf("embedded: log delivery: %w: empty destination", precwatch.ErrInvalid)
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("embedded: log delivery: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO deliveries (dest, json) VALUES (?, ?)", d.Destination, string(raw))
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM deliveries WHERE dest = ? AND id <= (
	SELECT id FROM deliveries WHERE dest = ? AND id <= ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
			d.Destination, d.Destination, id, precwatch.MaxDeliveryLog)
		return err
	})
	if err != nil {
		return fmt.Errorf("embedded: log delivery to %q: %w", d.Destination, err)
	}
	return nil
}

// Deliveries returns the latest attempts, newest first.
func (s *Store) Deliveries(ctx context.Context, dest string, limit int) ([]precwatch.Delivery, error) {
	if limit <= 0 || limit > precwatch.MaxDeliveryLog {
		limit = precwatch.MaxDeliveryLog
	}
	q, args := "SELECT json FROM deliveries ORDER BY id DESC LIMIT ?", []any{limit}
	if dest != "" {
		q, args = "SELECT json FROM deliveries WHERE dest = ? ORDER BY id DESC LIMIT ?", []any{dest, limit}
	}
	out, err := queryJSON[precwatch.Delivery](ctx, s.db, q, args...)
	if err != nil {
		return nil, fmt.Errorf("embedded: deliveries: %w", err)
	}
	return out, nil
}
