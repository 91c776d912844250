package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/redis/go-redis/v9"
)

// DefaultAuditMax caps the audit log: older entries are dropped.
const DefaultAuditMax = 100000

// The audit log: each entry is a hash (its JSON; the filter indexes it is
// in; an aggregated entry's key, count and last time) under an ID from a
// counter. Sorted sets scored by ID index every entry, each actor, action
// and outcome; another, scored by the entry's time in microseconds, serves
// time windows; a hash maps aggregation keys to IDs.
func (s *Store) auditEntryPrefix() string { return s.key("audit", "e") + ":" }
func (s *Store) auditAll() string         { return s.key("audit", "all") }
func (s *Store) auditAt() string          { return s.key("audit", "at") }
func (s *Store) auditLegacy() string      { return s.key("audit") }

// auditIndexes are the filter indexes an entry belongs to.
func (s *Store) auditIndexes(e precwatch.AuditEntry) []string {
	outcome := precwatch.AuditOK
	if e.Failed {
		outcome = precwatch.AuditFailed
	}
	return []string{s.key("audit", "actor", e.Actor), s.key("audit", "action", e.Action), s.key("audit", "outcome", outcome)}
}

func (s *Store) auditMaxLen() int64 {
	if s.auditMax > 0 {
		return s.auditMax
	}
	return DefaultAuditMax
}

// appendAudit appends an entry, or counts one more event of an aggregated
// one, and drops the entry that falls off the cap, in one step. With an
// expected legacy tail it first pops that from the old list, and does
// nothing (returning -1) when the tail is another: the migration of two
// processes at once moves each entry once.
//
// KEYS: counter, all-index, time index, aggregation map, legacy list.
// ARGV: entry key prefix, JSON, time score, cap, aggregation key, last
// time, expected legacy tail, then the filter index keys.
var appendAudit = redis.NewScript(`
if ARGV[7] ~= '' then
  if redis.call('LINDEX', KEYS[5], -1) ~= ARGV[7] then return -1 end
  redis.call('RPOP', KEYS[5])
end
if ARGV[5] ~= '' then
  local had = redis.call('HGET', KEYS[4], ARGV[5])
  if had then
    redis.call('HINCRBY', ARGV[1] .. had, 'count', 1)
    redis.call('HSET', ARGV[1] .. had, 'last', ARGV[6])
    return tonumber(had)
  end
end
local id = redis.call('INCR', KEYS[1])
local idx = {}
for i = 8, #ARGV do
  idx[#idx + 1] = ARGV[i]
  redis.call('ZADD', ARGV[i], id, id)
end
local e = ARGV[1] .. id
redis.call('HSET', e, 'json', ARGV[2], 'idx', table.concat(idx, '\n'), 'agg', ARGV[5])
if ARGV[5] ~= '' then
  redis.call('HSET', e, 'count', 1, 'last', ARGV[6])
  redis.call('HSET', KEYS[4], ARGV[5], id)
end
redis.call('ZADD', KEYS[2], id, id)
redis.call('ZADD', KEYS[3], ARGV[3], id)
local old = id - tonumber(ARGV[4])
if old > 0 then
  local oe = ARGV[1] .. old
  local oidx = redis.call('HGET', oe, 'idx')
  if oidx then
    for k in string.gmatch(oidx, '[^\n]+') do redis.call('ZREM', k, old) end
  end
  local oagg = redis.call('HGET', oe, 'agg')
  if oagg and oagg ~= '' and redis.call('HGET', KEYS[4], oagg) == tostring(old) then
    redis.call('HDEL', KEYS[4], oagg)
  end
  redis.call('ZREM', KEYS[2], old)
  redis.call('ZREM', KEYS[3], old)
  redis.call('DEL', oe)
end
return id
`)

// runAppendAudit runs appendAudit for e (see there for key and legacy).
func (s *Store) runAppendAudit(ctx context.Context, e precwatch.AuditEntry, key, legacy string) (int64, error) {
	e.ID = 0
	if key != "" {
		// An aggregated entry's count and last time are hash fields.
		e.Count, e.Last = 0, time.Time{}
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return 0, err
	}
	last := ""
	if key != "" {
		last = e.At.UTC().Format(time.RFC3339Nano)
	}
	args := []any{s.auditEntryPrefix(), raw, e.At.UnixMicro(), s.auditMaxLen(), key, last, legacy}
	for _, k := range s.auditIndexes(e) {
		args = append(args, k)
	}
	return appendAudit.Run(ctx, s.rdb,
		[]string{s.key("audit", "seq"), s.auditAll(), s.auditAt(), s.key("audit", "agg"), s.auditLegacy()}, args...).Int64()
}

// AppendAudit appends an entry to the audit log, which keeps the latest
// DefaultAuditMax entries.
func (s *Store) AppendAudit(ctx context.Context, e precwatch.AuditEntry) error {
	if _, err := s.runAppendAudit(ctx, e, "", ""); err != nil {
		return fmt.Errorf("redis: append audit %s %s: %w", e.Action, e.Target, err)
	}
	return nil
}

// CountAudit appends e as the aggregated entry of key, or counts one more
// event in it, atomically.
func (s *Store) CountAudit(ctx context.Context, key string, e precwatch.AuditEntry) error {
	if key == "" {
		return fmt.Errorf("redis: count audit: %w: empty key", precwatch.ErrInvalid)
	}
	if _, err := s.runAppendAudit(ctx, e, key, ""); err != nil {
		return fmt.Errorf("redis: count audit %s %s: %w", e.Action, e.Target, err)
	}
	return nil
}

// migrateAudit moves the entries of the list earlier versions kept,
// oldest first, into the indexed log. It is cheap when there are none.
func (s *Store) migrateAudit(ctx context.Context) error {
	n := 0
	for {
		raw, err := s.rdb.LIndex(ctx, s.auditLegacy(), -1).Result()
		if errors.Is(err, redis.Nil) {
			break
		}
		if err != nil {
			return fmt.Errorf("migrate audit log: %w", err)
		}
		var e precwatch.AuditEntry
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return fmt.Errorf("migrate audit log: decode: %w", err)
		}
		e.Failed = e.Failed || e.Action == "login_failed"
		id, err := s.runAppendAudit(ctx, e, "", raw)
		if err != nil {
			return fmt.Errorf("migrate audit log: %w", err)
		}
		if id > 0 {
			n++
		}
	}
	if n > 0 {
		s.logger.Info("audit log migrated", "entries", n)
	}
	return nil
}

// Audit returns the latest appended entries first, at most limit of them
// (all kept when limit <= 0).
func (s *Store) Audit(ctx context.Context, limit int) ([]precwatch.AuditEntry, error) {
	stop := int64(-1)
	if limit > 0 {
		stop = int64(limit) - 1
	}
	ids, err := s.rdb.ZRevRange(ctx, s.auditAll(), 0, stop).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: audit: %w", err)
	}
	es, err := s.auditEntries(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("redis: audit: %w", err)
	}
	return es, nil
}

// QueryAudit returns a page of the entries q selects, newest first. The
// filters' indexes are intersected (with a time window copied out of the
// time index and weighted 0, so that the result stays scored by ID) into a
// key that lives for the query; a page is a reverse score range of it
// below the cursor.
func (s *Store) QueryAudit(ctx context.Context, q precwatch.AuditQuery) (precwatch.AuditPage, error) {
	page, err := s.queryAudit(ctx, q)
	if err != nil {
		return precwatch.AuditPage{}, fmt.Errorf("redis: query audit: %w", err)
	}
	return page, nil
}

func (s *Store) queryAudit(ctx context.Context, q precwatch.AuditQuery) (precwatch.AuditPage, error) {
	page := precwatch.AuditPage{Entries: []precwatch.AuditEntry{}}
	if err := q.Validate(); err != nil {
		return page, err
	}
	var idx []string
	if q.Actor != "" {
		idx = append(idx, s.key("audit", "actor", q.Actor))
	}
	if q.Action != "" {
		idx = append(idx, s.key("audit", "action", q.Action))
	}
	if q.Outcome != "" {
		idx = append(idx, s.key("audit", "outcome", q.Outcome))
	}
	window := !q.Since.IsZero() || !q.Until.IsZero()
	base := s.auditAll()
	switch {
	case len(idx) == 1 && !window:
		base = idx[0]
	case len(idx) > 1 || window:
		base = s.tmpKey()
		defer s.dropTmp(ctx, base)
		keys, weights := idx, make([]float64, len(idx))
		for i := range weights {
			weights[i] = 1
		}
		if len(keys) == 0 {
			keys, weights = []string{s.auditAll()}, []float64{1}
		}
		at := base + ":at"
		_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			if window {
				// Microsecond scores: the bounds are widened to whole
				// microseconds here and applied exactly below.
				lo, hi := "-inf", "+inf"
				if !q.Since.IsZero() {
					lo = strconv.FormatInt(q.Since.UnixMicro()-1, 10)
				}
				if !q.Until.IsZero() {
					hi = strconv.FormatInt(q.Until.UnixMicro()+1, 10)
				}
				p.ZRangeStore(ctx, at, redis.ZRangeArgs{Key: s.auditAt(), Start: lo, Stop: hi, ByScore: true})
				p.Expire(ctx, at, tmpTTL)
				keys, weights = append(keys, at), append(weights, 0)
			}
			p.ZInterStore(ctx, base, &redis.ZStore{Keys: keys, Weights: weights, Aggregate: "MAX"})
			p.Expire(ctx, base, tmpTTL)
			p.Del(ctx, at)
			return nil
		})
		if err != nil {
			return page, fmt.Errorf("intersect: %w", err)
		}
	}
	limit := q.Page()
	start := "+inf"
	if q.Before > 0 {
		start = "(" + strconv.FormatInt(q.Before, 10)
	}
	ids, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: base, Start: start, Stop: "-inf", ByScore: true, Rev: true, Count: int64(limit) + 1}).Result()
	if err != nil {
		return page, fmt.Errorf("read index: %w", err)
	}
	if len(ids) > limit {
		ids = ids[:limit]
		if page.Next, err = strconv.ParseInt(ids[limit-1], 10, 64); err != nil {
			return page, fmt.Errorf("entry id %q: %w", ids[limit-1], err)
		}
	}
	es, err := s.auditEntries(ctx, ids)
	if err != nil {
		return page, err
	}
	for _, e := range es {
		if (q.Since.IsZero() || !e.At.Before(q.Since)) && (q.Until.IsZero() || !e.At.After(q.Until)) {
			page.Entries = append(page.Entries, e)
		}
	}
	return page, nil
}

// auditEntries reads the entries of ids, in their order; an entry dropped
// meanwhile is left out.
func (s *Store) auditEntries(ctx context.Context, ids []string) ([]precwatch.AuditEntry, error) {
	cmds := make([]*redis.SliceCmd, len(ids))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, s.auditEntryPrefix()+id, "json", "count", "last")
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var out []precwatch.AuditEntry
	for i, c := range cmds {
		vals := c.Val()
		raw, ok := vals[0].(string)
		if !ok {
			continue
		}
		var e precwatch.AuditEntry
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return nil, fmt.Errorf("decode entry %s: %w", ids[i], err)
		}
		var err error
		if e.ID, err = strconv.ParseInt(ids[i], 10, 64); err != nil {
			return nil, fmt.Errorf("entry id %q: %w", ids[i], err)
		}
		if n, ok := vals[1].(string); ok {
			if e.Count, err = strconv.Atoi(n); err != nil {
				return nil, fmt.Errorf("entry %s: count: %w", ids[i], err)
			}
		}
		if t, ok := vals[2].(string); ok && t != "" {
			if e.Last, err = time.Parse(time.RFC3339Nano, t); err != nil {
				return nil, fmt.Errorf("entry %s: last: %w", ids[i], err)
			}
		}
		out = append(out, e)
	}
	return out, nil
}
