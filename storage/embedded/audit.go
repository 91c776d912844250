package embedded

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/precwatch/precwatch"
)

// auditRow is an entry's columns: the JSON (without the ID, which is the
// row's) and what the log is filtered by.
func auditRow(e precwatch.AuditEntry) (raw string, failed int, err error) {
	e.ID = 0
	b, err := json.Marshal(e)
	if e.Failed {
		failed = 1
	}
	return string(b), failed, err
}

// AppendAudit appends an entry to the audit log.
func (s *Store) AppendAudit(ctx context.Context, e precwatch.AuditEntry) error {
	raw, failed, err := auditRow(e)
	if err != nil {
		return fmt.Errorf("embedded: append audit: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, "INSERT INTO audit (at, actor, action, failed, json) VALUES (?, ?, ?, ?, ?)",
		nanos(e.At), e.Actor, e.Action, failed, raw); err != nil {
		return fmt.Errorf("embedded: append audit %s %s: %w", e.Action, e.Target, err)
	}
	return nil
}

// CountAudit appends e as the aggregated entry of key, or counts one more
// event in it: one upsert, so concurrent counts are never lost.
func (s *Store) CountAudit(ctx context.Context, key string, e precwatch.AuditEntry) error {
	if key == "" {
		return fmt.Errorf("embedded: count audit: %w: empty key", precwatch.ErrInvalid)
	}
	e.Count, e.Last = 1, e.At
	raw, failed, err := auditRow(e)
	if err != nil {
		return fmt.Errorf("embedded: count audit: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO audit (at, actor, action, failed, agg_key, json) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (agg_key) WHERE agg_key IS NOT NULL DO UPDATE SET json = json_set(audit.json,
	'$.count', coalesce(json_extract(audit.json, '$.count'), 1) + 1,
	'$.last', json_extract(excluded.json, '$.last'))`,
		nanos(e.At), e.Actor, e.Action, failed, key, raw)
	if err != nil {
		return fmt.Errorf("embedded: count audit %s %s: %w", e.Action, e.Target, err)
	}
	return nil
}

// Audit returns the latest appended entries first, at most limit of them
// (all when limit <= 0).
func (s *Store) Audit(ctx context.Context, limit int) ([]precwatch.AuditEntry, error) {
	if limit <= 0 {
		limit = -1
	}
	es, err := s.auditRows(ctx, "SELECT id, json FROM audit ORDER BY id DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("embedded: audit: %w", err)
	}
	return es, nil
}

// QueryAudit returns a page of the entries q selects, newest first. Each
// equality filter has an index ending in the ID, so a page is a range
// scan of it; a time window alone uses the time index.
func (s *Store) QueryAudit(ctx context.Context, q precwatch.AuditQuery) (precwatch.AuditPage, error) {
	if err := q.Validate(); err != nil {
		return precwatch.AuditPage{}, fmt.Errorf("embedded: query audit: %w", err)
	}
	var where []string
	var args []any
	add := func(cond string, v any) { where, args = append(where, cond), append(args, v) }
	if q.Actor != "" {
		add("actor = ?", q.Actor)
	}
	if q.Action != "" {
		add("action = ?", q.Action)
	}
	switch q.Outcome {
	case precwatch.AuditOK:
		add("failed = ?", 0)
	case precwatch.AuditFailed:
		add("failed = ?", 1)
	}
	if !q.Since.IsZero() {
		add("at >= ?", nanos(q.Since))
	}
	if !q.Until.IsZero() {
		add("at <= ?", nanos(q.Until))
	}
	if q.Before > 0 {
		add("id < ?", q.Before)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	limit := q.Page()
	// One more than the page tells whether another follows.
	es, err := s.auditRows(ctx, "SELECT id, json FROM audit"+cond+" ORDER BY id DESC LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return precwatch.AuditPage{}, fmt.Errorf("embedded: query audit: %w", err)
	}
	page := precwatch.AuditPage{Entries: es}
	if len(es) > limit {
		page.Entries = es[:limit]
		page.Next = es[limit-1].ID
	}
	if page.Entries == nil {
		page.Entries = []precwatch.AuditEntry{}
	}
	return page, nil
}

// auditRows decodes rows of (id, json).
func (s *Store) auditRows(ctx context.Context, query string, args ...any) ([]precwatch.AuditEntry, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []precwatch.AuditEntry
	for rows.Next() {
		var id int64
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			return nil, err
		}
		var e precwatch.AuditEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("decode entry %d: %w", id, err)
		}
		e.ID = id
		out = append(out, e)
	}
	return out, rows.Err()
}
