package redis

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/internal/words"
	"github.com/redis/go-redis/v9"
)

// tmpTTL bounds the life of a query's intersection if the query dies
// before deleting it.
const tmpTTL = 30 * time.Second

// UpdateAlert applies an investigator's action to an alert in an optimistic
// transaction (see precwatch.ApplyAction), updates its indexes and appends
// the action to the alert stream (event = the action).
func (s *Store) UpdateAlert(ctx context.Context, act precwatch.AlertAction) (precwatch.Alert, error) {
	a, err := s.modifyAlert(ctx, act.Key, func(a *precwatch.Alert) error { return precwatch.ApplyAction(a, act) },
		func(p redis.Pipeliner, a precwatch.Alert, raw []byte) {
			e := a.Timeline[len(a.Timeline)-1]
			args := &redis.XAddArgs{
				Stream: s.StreamKey(),
				Values: []any{
					"key", a.Key, "event", act.Action, "actor", e.Actor, "from", e.From, "to", e.To,
					"site", a.Site, "substance", a.Substance, "severity", a.Severity.String(), "json", raw,
				},
			}
			if s.streamMaxLen > 0 {
				args.MaxLen, args.Approx = s.streamMaxLen, true
			}
			p.XAdd(ctx, args)
		})
	if err != nil {
		return precwatch.Alert{}, fmt.Errorf("redis: update alert %s (%s): %w", act.Key, act.Action, err)
	}
	return a, nil
}

// modifyAlert reads an alert, changes it with change and writes it back
// with its indexes in one optimistic transaction, retried on conflict;
// also, when set, adds more commands to that transaction.
func (s *Store) modifyAlert(ctx context.Context, key string, change func(*precwatch.Alert) error, also func(p redis.Pipeliner, a precwatch.Alert, raw []byte)) (precwatch.Alert, error) {
	rkey := s.alertKey(key)
	var a precwatch.Alert
	err := s.retry(ctx, func() error {
		return s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			raw, err := tx.Get(ctx, rkey).Bytes()
			switch {
			case errors.Is(err, redis.Nil):
				return precwatch.ErrNotFound
			case err != nil:
				return err
			}
			var old precwatch.Alert
			if err := json.Unmarshal(raw, &old); err != nil {
				return fmt.Errorf("decode: %w", err)
			}
			a = old
			if err := change(&a); err != nil {
				return err
			}
			next, err := json.Marshal(a)
			if err != nil {
				return fmt.Errorf("encode: %w", err)
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, rkey, next, 0)
				w := newWrites()
				s.reindex(w, &old, a)
				w.flush(ctx, p)
				if also != nil {
					also(p, a, next)
				}
				return nil
			})
			return err
		}, rkey)
	})
	return a, err
}

// QueryAlerts returns a page of the alerts q selects, ordered as
// precwatch.SortAlerts does, and how many there are. One filter is its
// index; several are intersected (ZINTERSTORE, smallest set first) into a
// key that lives for the query. A minimum severity is a lexicographic
// range of the result, counted with ZLEXCOUNT and paged with ZRANGE BYLEX
// LIMIT. A creation-time window is counted per severity in the time index
// and paged without copying it (see queryWindow). Words are sets, not
// order indexes (see textKey and textPlan).
func (s *Store) QueryAlerts(ctx context.Context, q precwatch.AlertQuery) (precwatch.AlertPage, error) {
	page, err := s.queryAlerts(ctx, q)
	if err != nil {
		return precwatch.AlertPage{}, fmt.Errorf("redis: query alerts: %w", err)
	}
	return page, nil
}

func (s *Store) queryAlerts(ctx context.Context, q precwatch.AlertQuery) (precwatch.AlertPage, error) {
	page := precwatch.AlertPage{Alerts: []precwatch.Alert{}}
	if q.MinSeverity > 9 {
		return page, nil // above any severity an index member can carry
	}
	var idx []string
	for _, f := range []struct{ field, value string }{
		{"status", string(q.Status)}, {"substance", q.Substance}, {"regime", string(q.Regime)},
		{"site", q.Site}, {"vendor", q.Vendor}, {"assignee", q.Assignee},
	} {
		if f.value != "" {
			idx = append(idx, s.idxKey(f.field, f.value))
		}
	}
	ws := words.Split(q.Text)
	how := byIndexes
	if len(ws) > 0 {
		var err error
		if how, err = s.textPlan(ctx, q, idx, ws); err != nil {
			return page, err
		}
	}
	return s.queryBy(ctx, q, idx, ws, how)
}

// queryPlan is how a query with words is answered.
type queryPlan int

const (
	byIndexes queryPlan = iota // from the order indexes, words checked in their sets
	byText                     // from the word sets (queryText)
	byWalk                     // walking an order index, counted in Redis (queryWalk)
)

// textScan is the number of alerts of a query's rarest word above which a
// query without a creation-time window walks an order index (queryWalk)
// rather than read the word's sets (queryText).
const textScan = 2000

// sevsFrom are the severities from 9 down to min (clamped), most severe
// first, as the order indexes hold them.
func sevsFrom(min precwatch.Severity) []int {
	var sevs []int
	for sev := 9; sev >= clampSeverity(min); sev-- {
		sevs = append(sevs, sev)
	}
	return sevs
}

// queryBy answers q, whose filters are the order indexes idx and the
// words ws, as how says. Every plan answers any query; textPlan picks the
// one that reads least.
func (s *Store) queryBy(ctx context.Context, q precwatch.AlertQuery, idx, ws []string, how queryPlan) (precwatch.AlertPage, error) {
	page := precwatch.AlertPage{Alerts: []precwatch.Alert{}}
	switch how {
	case byText:
		return s.queryText(ctx, q, idx, ws)
	case byWalk:
		return s.queryWalk(ctx, q, idx, ws)
	}
	switch {
	case !q.Since.IsZero() || !q.Until.IsZero():
		return s.queryWindow(ctx, q, idx, ws)
	case len(ws) > 0:
		return s.queryWalk(ctx, q, idx, ws) // walks the smallest order index
	}
	base := s.key("alerts", "idx", "all")
	if len(idx) == 1 {
		base = idx[0]
	} else if len(idx) > 1 {
		base = s.tmpKey()
		defer s.dropTmp(ctx, base)
		_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.ZInterStore(ctx, base, &redis.ZStore{Keys: idx})
			p.Expire(ctx, base, tmpTTL)
			return nil
		})
		if err != nil {
			return page, fmt.Errorf("intersect: %w", err)
		}
	}
	lo, hi := "-", "+"
	if q.MinSeverity > precwatch.SeverityNone {
		hi = "(" + string(rune('9'-clampSeverity(q.MinSeverity)+1))
	}
	n, err := s.rdb.ZLexCount(ctx, base, lo, hi).Result()
	if err != nil {
		return page, fmt.Errorf("count: %w", err)
	}
	page.Total = int(n)
	limit, offset := q.Page()
	if int64(offset) >= n {
		return page, nil
	}
	members, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: base, Start: lo, Stop: hi, ByLex: true, Offset: int64(offset), Count: int64(limit)}).Result()
	if err != nil {
		return page, fmt.Errorf("read index: %w", err)
	}
	return s.loadPage(ctx, page, members)
}

// textPlan picks how to answer a query with words ws and order indexes
// idx: from the order indexes when one of them is the smallest (words
// checked in their sets), else from the word sets when the rarest word has
// few alerts of the query's severities or there is a creation-time window
// (queryText), else by walking an order index (queryWalk): a word most
// alerts have (a substance's name) would have its sets read and sorted.
func (s *Store) textPlan(ctx context.Context, q precwatch.AlertQuery, idx, ws []string) (queryPlan, error) {
	sevs := sevsFrom(q.MinSeverity)
	idxCards := make([]*redis.IntCmd, len(idx))
	wordCards := make([][]*redis.IntCmd, len(ws))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range idx {
			idxCards[i] = p.ZCard(ctx, k)
		}
		for i, w := range ws {
			for _, sev := range sevs {
				wordCards[i] = append(wordCards[i], p.SCard(ctx, s.textKey(sev, w)))
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count filters: %w", err)
	}
	rarest := int64(math.MaxInt64)
	for _, cs := range wordCards {
		n := int64(0)
		for _, c := range cs {
			n += c.Val()
		}
		rarest = min(rarest, n)
	}
	for _, c := range idxCards {
		if c.Val() < rarest {
			return byIndexes, nil
		}
	}
	if rarest <= textScan || !q.Since.IsZero() || !q.Until.IsZero() {
		return byText, nil
	}
	return byWalk, nil
}

// queryText answers a query from its word sets: the alerts of each
// severity that have every word (SINTER), kept when in the creation-time
// window and in every order index idx (ZMSCORE), sorted here by member
// (the order indexes' order). A text query mostly names a rare word (a
// product code, a CAS number, a listing's own reference), whose sets are
// small; the cost is their size, as intersecting order indexes costs.
func (s *Store) queryText(ctx context.Context, q precwatch.AlertQuery, idx, ws []string) (precwatch.AlertPage, error) {
	page := precwatch.AlertPage{Alerts: []precwatch.Alert{}}
	members, err := s.textMembers(ctx, q, idx, ws, -1)
	if err != nil {
		return page, err
	}
	page.Total = len(members)
	limit, offset := q.Page()
	if offset >= len(members) {
		return page, nil
	}
	return s.loadPage(ctx, page, members[offset:min(offset+limit, len(members))])
}

// textMembers returns, sorted, the members queryText finds for q, of
// severity only when not -1.
func (s *Store) textMembers(ctx context.Context, q precwatch.AlertQuery, idx, ws []string, only int) ([]string, error) {
	var cmds []*redis.StringSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, sev := range sevsFrom(q.MinSeverity) {
			if only >= 0 && sev != only {
				continue
			}
			keys := make([]string, len(ws))
			for i, w := range ws {
				keys[i] = s.textKey(sev, w)
			}
			cmds = append(cmds, p.SInter(ctx, keys...))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("intersect words: %w", err)
	}
	w := newWindow(q.Since, q.Until)
	var members []string
	for _, c := range cmds {
		for _, m := range c.Val() {
			if w.has(m) {
				members = append(members, m)
			}
		}
	}
	if len(idx) > 0 {
		kept := members[:0]
		for chunk := range slices.Chunk(members, inAllSize) {
			in, err := s.inAll(ctx, idx, nil, chunk)
			if err != nil {
				return nil, fmt.Errorf("check filters: %w", err)
			}
			for i, m := range chunk {
				if in[i] {
					kept = append(kept, m) // never ahead of chunk: kept is a prefix
				}
			}
		}
		members = kept
	}
	slices.Sort(members)
	return members, nil
}

// countText counts, for each of ARGV[2] groups of ARGV[1] keys (a
// severity's sets of the query's words, KEYS from 1), the alerts in every
// set of the group and in every order index after the groups: a query's
// total by severity, with nothing but the counts leaving the server.
var countText = redis.NewScript(`
local nwords, ngroups = tonumber(ARGV[1]), tonumber(ARGV[2])
local counts = {}
for g = 0, ngroups - 1 do
  local ms
  if nwords == 1 then
    ms = redis.call('SMEMBERS', KEYS[g * nwords + 1])
  else
    ms = redis.call('SINTER', unpack(KEYS, g * nwords + 1, (g + 1) * nwords))
  end
  local n = 0
  for first = 1, #ms, 4000 do
    local chunk = {unpack(ms, first, math.min(first + 3999, #ms))}
    local alive = {}
    for i = 1, #chunk do alive[i] = true end
    for k = ngroups * nwords + 1, #KEYS do
      local sc = redis.call('ZMSCORE', KEYS[k], unpack(chunk))
      for i = 1, #chunk do
        if not sc[i] then alive[i] = false end
      end
    end
    for i = 1, #chunk do
      if alive[i] then n = n + 1 end
    end
  end
  counts[g + 1] = n
end
return counts
`)

// scanText walks the order index KEYS[1] in order over the lexicographic
// range [ARGV[1], ARGV[2]], ARGV[8] members at first, keeping the members
// that are in the ARGV[5] order indexes after it and have each of ARGV[6]
// words: the last keys are the words' sets (textKey), ten per word,
// severity 0 to 9. It returns how many it kept (when ARGV[7] is 1: it
// then reads the whole range; else -1), whether it finished (0 once it
// has read ARGV[9] members without), and the page of them after skipping
// ARGV[3], at most ARGV[4]. Only the page leaves the server. Members of
// one severity are contiguous in the order indexes, and so in each chunk.
var scanText = redis.NewScript(`
local lo, hi = ARGV[1], ARGV[2]
local skip, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
local nidx, nwords, counting = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7] == '1'
local chunk, budget = tonumber(ARGV[8]), tonumber(ARGV[9])
local page, n, start, read, done = {}, 0, lo, 0, 1
while true do
  if not counting and read >= budget then
    done = 0
    break
  end
  local ms = redis.call('ZRANGE', KEYS[1], start, hi, 'BYLEX', 'LIMIT', 0, chunk)
  read = read + #ms
  if #ms == 0 then break end
  local alive = {}
  for i = 1, #ms do alive[i] = true end
  for k = 2, 1 + nidx do
    local sc = redis.call('ZMSCORE', KEYS[k], unpack(ms))
    for i = 1, #ms do
      if not sc[i] then alive[i] = false end
    end
  end
  if nwords > 0 then
    local first = 1
    while first <= #ms do
      local c = string.byte(ms[first], 1)
      local last = first
      while last < #ms and string.byte(ms[last + 1], 1) == c do last = last + 1 end
      local sev = 57 - c -- the member starts with '9' - severity
      if sev < 0 or sev > 9 then
        for i = first, last do alive[i] = false end
      else
        for j = 0, nwords - 1 do
          local found = redis.call('SMISMEMBER', KEYS[2 + nidx + 10 * j + sev], unpack(ms, first, last))
          for x = 1, #found do
            if found[x] == 0 then alive[first + x - 1] = false end
          end
        end
      end
      first = last + 1
    end
  end
  for i = 1, #ms do
    if alive[i] then
      n = n + 1
      if n > skip and #page < limit then page[#page + 1] = ms[i] end
    end
  end
  if (not counting and #page >= limit) or #ms < chunk then break end
  start = '(' .. ms[#ms]
  chunk = math.min(2 * chunk, 4000)
end
if not counting then n = -1 end
return {n, done, page}
`)

// scanResult is what scanText returned (scanWords).
type scanResult struct {
	total   int64 // -1 when not counted
	done    bool
	members []string
}

func (s *Store) scanWords(ctx context.Context, keys []string, lo, hi string, skip, limit int64, nidx, nwords int, counting bool, chunk, budget int64) (scanResult, error) {
	c := 0
	if counting {
		c = 1
	}
	res, err := scanText.Run(ctx, s.rdb, keys, lo, hi, skip, limit, nidx, nwords, c, chunk, budget).Slice()
	if err != nil {
		return scanResult{}, err
	}
	if len(res) != 3 {
		return scanResult{}, fmt.Errorf("scan: %d answers, want 3", len(res))
	}
	r := scanResult{}
	r.total, _ = res[0].(int64)
	done, _ := res[1].(int64)
	r.done = done == 1
	raw, _ := res[2].([]any)
	for _, m := range raw {
		if str, ok := m.(string); ok {
			r.members = append(r.members, str)
		}
	}
	return r, nil
}

// queryWalk answers a query with words and no creation-time window from
// its smallest order index (the all index without one), severity by
// severity. Without order indexes, a severity's total is the size of the
// word's set (SCARD) or of the words' intersection (SINTERCARD); with
// them, the totals are counted in Redis over the rarest word's sets
// (countText) or, when the smallest order index is smaller, by reading
// it all (scanText), which finds the page on the way. Else the page is
// found by walking the order index in Redis from the page's start in its
// severity, keeping the members in every other index and with every word
// (scanText): for a word most alerts have, a short walk. Should the
// matches be too sparse there, the severity's word sets are read
// instead, as queryText reads them.
func (s *Store) queryWalk(ctx context.Context, q precwatch.AlertQuery, idx, ws []string) (precwatch.AlertPage, error) {
	page := precwatch.AlertPage{Alerts: []precwatch.Alert{}}
	if !q.Since.IsZero() || !q.Until.IsZero() || len(ws) == 0 {
		return s.queryText(ctx, q, idx, ws)
	}
	sevs := sevsFrom(q.MinSeverity)
	bases := append(slices.Clone(idx), s.key("alerts", "idx", "all"))
	baseSev := make([][]*redis.IntCmd, len(bases)) // base, severity
	wordSev := make([][]*redis.IntCmd, len(sevs))  // severity, word
	interSev := make([]*redis.IntCmd, len(sevs))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range bases {
			for _, sev := range sevs {
				lo, hi := sevLex(sev)
				baseSev[i] = append(baseSev[i], p.ZLexCount(ctx, k, lo, hi))
			}
		}
		for j, sev := range sevs {
			keys := make([]string, len(ws))
			for i, w := range ws {
				keys[i] = s.textKey(sev, w)
				wordSev[j] = append(wordSev[j], p.SCard(ctx, keys[i]))
			}
			if len(idx) == 0 && len(ws) > 1 {
				interSev[j] = p.SInterCard(ctx, 0, keys...)
			}
		}
		return nil
	})
	if err != nil {
		return page, fmt.Errorf("count: %w", err)
	}
	sumOf := func(cs []*redis.IntCmd) int64 {
		n := int64(0)
		for _, c := range cs {
			n += c.Val()
		}
		return n
	}
	// The all index, or the smallest of idx.
	b := len(bases) - 1
	for i := range idx {
		if i == 0 || sumOf(baseSev[i]) < sumOf(baseSev[b]) {
			b = i
		}
	}
	base, others := bases[b], slices.Delete(slices.Clone(idx), min(b, len(idx)), min(b+1, len(idx)))
	keys := append([]string{base}, others...)
	for _, w := range ws {
		for sev := range 10 {
			keys = append(keys, s.textKey(sev, w))
		}
	}
	rareSev := make([]int64, len(sevs)) // the rarest word's alerts, by severity
	rarest := int64(0)
	for j := range sevs {
		rareSev[j] = wordSev[j][0].Val()
		for _, c := range wordSev[j] {
			rareSev[j] = min(rareSev[j], c.Val())
		}
		rarest += rareSev[j]
	}
	limit, offset := q.Page()
	totals := make([]int64, len(sevs))
	switch {
	case len(idx) == 0:
		for j := range sevs {
			if len(ws) == 1 {
				totals[j] = wordSev[j][0].Val()
			} else {
				totals[j] = interSev[j].Val()
			}
		}
	case sumOf(baseSev[b]) <= rarest:
		// Reading the order index costs no more than the words' sets.
		lo, hi := "-", "+"
		if q.MinSeverity > precwatch.SeverityNone {
			hi = "(" + string(rune('9'-sevs[len(sevs)-1]+1))
		}
		r, err := s.scanWords(ctx, keys, lo, hi, int64(offset), int64(limit), len(others), len(ws), true, maxChunk, 0)
		if err != nil {
			return page, fmt.Errorf("count: %w", err)
		}
		page.Total = int(r.total)
		return s.loadPage(ctx, page, r.members)
	default:
		var tkeys []string
		for _, sev := range sevs {
			for _, w := range ws {
				tkeys = append(tkeys, s.textKey(sev, w))
			}
		}
		counts, err := countText.Run(ctx, s.rdb, append(tkeys, idx...), len(ws), len(sevs)).Int64Slice()
		if err != nil || len(counts) != len(sevs) {
			return page, fmt.Errorf("count: %d counts for %d severities: %w", len(counts), len(sevs), err)
		}
		totals = counts
	}
	page.Total = int(sum(totals))
	var members []string
	off, need := int64(offset), int64(limit)
	for j, sev := range sevs {
		if need == 0 {
			break
		}
		if off >= totals[j] {
			off -= totals[j]
			continue
		}
		take := min(need, totals[j]-off)
		// The walk reads about (off+take)/density members of the
		// severity; reading its word sets, rareSev[j].
		var ms []string
		done := false
		if est := (off + take) * baseSev[b][j].Val() / totals[j]; est <= rareSev[j] {
			lo, hi := sevLex(sev)
			r, err := s.scanWords(ctx, keys, lo, hi, off, take, len(others), len(ws), false, min(max(est+est/4, 64), maxChunk), 2*rareSev[j]+1000)
			if err != nil {
				return page, fmt.Errorf("walk index: %w", err)
			}
			ms, done = r.members, r.done
		}
		if !done {
			sq := q
			sq.MinSeverity, sq.Offset, sq.Limit = precwatch.Severity(sev), 0, 0
			all, err := s.textMembers(ctx, sq, idx, ws, sev)
			if err != nil {
				return page, err
			}
			ms = all[min(off, int64(len(all))):min(off+take, int64(len(all)))]
		}
		members = append(members, ms...)
		need -= int64(len(ms))
		off = 0
	}
	return s.loadPage(ctx, page, members)
}

// loadPage fills page with the alerts of members, in their order.
func (s *Store) loadPage(ctx context.Context, page precwatch.AlertPage, members []string) (precwatch.AlertPage, error) {
	as, err := s.alertsByMember(ctx, members)
	if err != nil {
		return page, err
	}
	if as != nil {
		page.Alerts = as
	}
	return page, nil
}

// tmpKey is a fresh key for a query's intermediate set.
func (s *Store) tmpKey() string {
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	return s.key("tmp", hex.EncodeToString(nonce[:]))
}

// dropTmp deletes a query's intermediate set, with its own context: the
// query's may be what ended it.
func (s *Store) dropTmp(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	s.rdb.Del(ctx, key)
}

// CreateUser adds a user; ErrConflict when the name is taken.
func (s *Store) CreateUser(ctx context.Context, u precwatch.User) error {
	if err := u.Validate(); err != nil {
		return fmt.Errorf("redis: create user %q: %w", u.Name, err)
	}
	raw, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("redis: create user %q: %w", u.Name, err)
	}
	ok, err := s.rdb.HSetNX(ctx, s.key("users"), u.Name, raw).Result()
	if err != nil {
		return fmt.Errorf("redis: create user %q: %w", u.Name, err)
	}
	if !ok {
		return fmt.Errorf("redis: create user %q: %w", u.Name, precwatch.ErrConflict)
	}
	return nil
}

// UpdateUser changes a user in an optimistic transaction on the users
// hash, retried when any account changed between reading and writing.
func (s *Store) UpdateUser(ctx context.Context, name string, change func(u *precwatch.User, all []precwatch.User) error) error {
	key := s.key("users")
	err := s.retry(ctx, func() error {
		return s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			vals, err := tx.HVals(ctx, key).Result()
			if err != nil {
				return err
			}
			all, err := decodeUsers(vals)
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
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.HSet(ctx, key, name, raw)
				return nil
			})
			return err
		}, key)
	})
	if err != nil {
		return fmt.Errorf("redis: update user %q: %w", name, err)
	}
	return nil
}

// User returns a user by name, or ErrNotFound.
func (s *Store) User(ctx context.Context, name string) (precwatch.User, error) {
	var u precwatch.User
	raw, err := s.rdb.HGet(ctx, s.key("users"), name).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return u, fmt.Errorf("redis: user %q: %w", name, precwatch.ErrNotFound)
	case err != nil:
		return u, fmt.Errorf("redis: user %q: %w", name, err)
	}
	if err := json.Unmarshal(raw, &u); err != nil {
		return u, fmt.Errorf("redis: user %q: decode: %w", name, err)
	}
	return u, nil
}

// Users lists every user by name.
func (s *Store) Users(ctx context.Context) ([]precwatch.User, error) {
	vals, err := s.rdb.HVals(ctx, s.key("users")).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: users: %w", err)
	}
	us, err := decodeUsers(vals)
	if err != nil {
		return nil, fmt.Errorf("redis: users: %w", err)
	}
	return us, nil
}

// decodeUsers decodes the users hash's values, sorted by name.
func decodeUsers(vals []string) ([]precwatch.User, error) {
	var us []precwatch.User
	for _, v := range vals {
		var u precwatch.User
		if err := json.Unmarshal([]byte(v), &u); err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		us = append(us, u)
	}
	slices.SortFunc(us, func(a, b precwatch.User) int { return cmp.Compare(a.Name, b.Name) })
	return us, nil
}

func (s *Store) sessionKey(id string) string { return s.key("session", id) }

// CreateSession stores a session, replacing one with the same ID. Redis
// expires it after its lifetime (ExpiresAt - CreatedAt, measured on the
// caller's clock, which may be a test's).
func (s *Store) CreateSession(ctx context.Context, se precwatch.Session) error {
	if se.ID == "" || se.User == "" {
		return fmt.Errorf("redis: create session: %w: empty id or user", precwatch.ErrInvalid)
	}
	raw, err := json.Marshal(se)
	if err != nil {
		return fmt.Errorf("redis: create session: %w", err)
	}
	var ttl time.Duration
	if se.CreatedAt.IsZero() {
		ttl = time.Until(se.ExpiresAt)
	} else {
		ttl = se.ExpiresAt.Sub(se.CreatedAt)
	}
	if ttl <= 0 {
		// Already expired: nothing to keep, and nothing stale left behind.
		if err := s.rdb.Del(ctx, s.sessionKey(se.ID)).Err(); err != nil {
			return fmt.Errorf("redis: create session for %q: %w", se.User, err)
		}
		return nil
	}
	if err := s.rdb.Set(ctx, s.sessionKey(se.ID), raw, ttl).Err(); err != nil {
		return fmt.Errorf("redis: create session for %q: %w", se.User, err)
	}
	return nil
}

// Session returns the session id if it has not expired at now, else
// ErrNotFound.
func (s *Store) Session(ctx context.Context, id string, now time.Time) (precwatch.Session, error) {
	var se precwatch.Session
	if err := s.getJSON(ctx, s.sessionKey(id), &se); err != nil {
		return precwatch.Session{}, fmt.Errorf("redis: session: %w", err)
	}
	if !now.Before(se.ExpiresAt) {
		return precwatch.Session{}, fmt.Errorf("redis: session: %w", precwatch.ErrNotFound)
	}
	return se, nil
}

// DeleteSession removes a session; deleting a missing one is no error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := s.rdb.Del(ctx, s.sessionKey(id)).Err(); err != nil {
		return fmt.Errorf("redis: delete session: %w", err)
	}
	return nil
}

// saveWatchlistVersion numbers and stores a version in one step, so that
// concurrent saves get distinct numbers. KEYS: seq, versions set, version
// key prefix; ARGV: author, at, comment, data.
var saveWatchlistVersion = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
redis.call('HSET', KEYS[3] .. n, 'author', ARGV[1], 'at', ARGV[2], 'comment', ARGV[3], 'data', ARGV[4])
redis.call('ZADD', KEYS[2], n, tostring(n))
return n
`)

func (s *Store) watchlistKey(n int) string { return s.key("watchlist", "v", strconv.Itoa(n)) }

// SaveWatchlistVersion stores v as the version after the latest.
func (s *Store) SaveWatchlistVersion(ctx context.Context, v precwatch.WatchlistVersion) (int, error) {
	at := ""
	if !v.At.IsZero() {
		at = v.At.UTC().Format(time.RFC3339Nano)
	}
	data := v.Data
	if data == nil {
		data = []byte{}
	}
	n, err := saveWatchlistVersion.Run(ctx, s.rdb,
		[]string{s.key("watchlist", "seq"), s.key("watchlist", "versions"), s.key("watchlist", "v") + ":"},
		v.Author, at, v.Comment, data).Int()
	if err != nil {
		return 0, fmt.Errorf("redis: save watchlist version: %w", err)
	}
	return n, nil
}

func parseVersion(n int, h map[string]string) (precwatch.WatchlistVersion, error) {
	v := precwatch.WatchlistVersion{Version: n, Author: h["author"], Comment: h["comment"]}
	if at := h["at"]; at != "" {
		var err error
		if v.At, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return v, fmt.Errorf("version %d: at: %w", n, err)
		}
	}
	return v, nil
}

// WatchlistVersions lists the saved versions newest first, without Data.
func (s *Store) WatchlistVersions(ctx context.Context) ([]precwatch.WatchlistVersion, error) {
	ns, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: s.key("watchlist", "versions"), Start: 0, Stop: -1, Rev: true}).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: watchlist versions: %w", err)
	}
	nums := make([]int, len(ns))
	cmds := make([]*redis.SliceCmd, len(ns))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, str := range ns {
			if nums[i], err = strconv.Atoi(str); err != nil {
				return fmt.Errorf("version %q: %w", str, err)
			}
			cmds[i] = p.HMGet(ctx, s.watchlistKey(nums[i]), "author", "at", "comment")
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("redis: watchlist versions: %w", err)
	}
	out := make([]precwatch.WatchlistVersion, 0, len(ns))
	for i, c := range cmds {
		vals := c.Val()
		h := map[string]string{}
		for j, f := range []string{"author", "at", "comment"} {
			if str, ok := vals[j].(string); ok {
				h[f] = str
			}
		}
		v, err := parseVersion(nums[i], h)
		if err != nil {
			return nil, fmt.Errorf("redis: watchlist versions: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

// WatchlistVersion returns one version with its Data, or ErrNotFound.
func (s *Store) WatchlistVersion(ctx context.Context, version int) (precwatch.WatchlistVersion, error) {
	h, err := s.rdb.HGetAll(ctx, s.watchlistKey(version)).Result()
	if err != nil {
		return precwatch.WatchlistVersion{}, fmt.Errorf("redis: watchlist version %d: %w", version, err)
	}
	if len(h) == 0 {
		return precwatch.WatchlistVersion{}, fmt.Errorf("redis: watchlist version %d: %w", version, precwatch.ErrNotFound)
	}
	v, err := parseVersion(version, h)
	if err != nil {
		return precwatch.WatchlistVersion{}, fmt.Errorf("redis: watchlist version %d: %w", version, err)
	}
	v.Data = []byte(h["data"])
	return v, nil
}

// SetSiteState creates or replaces the operator's state of a site.
func (s *Store) SetSiteState(ctx context.Context, st precwatch.SiteState) error {
	if st.Site == "" {
		return fmt.Errorf("redis: set site state: %w: empty site", precwatch.ErrInvalid)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("redis: set site state %s: %w", st.Site, err)
	}
	if err := s.rdb.HSet(ctx, s.key("sitestates"), st.Site, raw).Err(); err != nil {
		return fmt.Errorf("redis: set site state %s: %w", st.Site, err)
	}
	return nil
}

// SiteStates returns every site's state by site.
func (s *Store) SiteStates(ctx context.Context) (map[string]precwatch.SiteState, error) {
	h, err := s.rdb.HGetAll(ctx, s.key("sitestates")).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: site states: %w", err)
	}
	out := make(map[string]precwatch.SiteState, len(h))
	for site, v := range h {
		var st precwatch.SiteState
		if err := json.Unmarshal([]byte(v), &st); err != nil {
			return nil, fmt.Errorf("redis: site states: decode %s: %w", site, err)
		}
		out[site] = st
	}
	return out, nil
}

// schemaVersion is the key layout this package writes. Version 2 added
// the regime, vendor, assignee and word indexes; version 3 the score in
// the order index members and the creation-time index; version 4 the
// severity in the creation-time index's scores; version 5 the vendor
// indexes (vendor.go); version 6 compressed page bodies (encodeBody),
// which an older program would serve as they are stored, and so must not
// open; version 7 marks every page's use in P:pages:seen (prune.go): an
// older program fetching a body again would not, and a prune could then
// delete a body a fresh fetch names, so it must not open either; version
// 8 keeps the word indexes as sets under P:alerts:text (textKey), which
// an older program would neither read nor keep up to date.
const schemaVersion = 8

// migrate brings the indexes of data written by an older version up to
// date. Two processes may do it at once: reindexing is idempotent.
func (s *Store) migrate(ctx context.Context) error {
	v, err := s.rdb.Get(ctx, s.key("schema")).Int()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > schemaVersion {
		return fmt.Errorf("schema version %d is newer than this program's %d", v, schemaVersion)
	}
	if v == schemaVersion {
		return nil
	}
	n := 0
	if v < 4 {
		if n, err = s.Reindex(ctx); err != nil {
			return err
		}
	}
	if v < 5 { // vendor profiles (issue 11)
		if err := s.reindexVendors(ctx); err != nil {
			return err
		}
	}
	if v < 8 { // word indexes as sets (issue 9)
		if err := s.migrateText(ctx); err != nil {
			return err
		}
	}
	if err := s.rdb.Set(ctx, s.key("schema"), schemaVersion, 0).Err(); err != nil {
		return fmt.Errorf("set schema version: %w", err)
	}
	if n > 0 {
		s.logger.Info("alert indexes rebuilt", "alerts", n, "version", schemaVersion)
	}
	return nil
}

// Reindex puts every stored alert in every index it belongs to, under its
// current member, reaching the alerts through the listings, and returns
// how many it indexed. It removes the member schema 1 and 2 wrote (without
// the score) from the alert's indexes; other stale entries it leaves,
// writes keep those right. Each listing's alerts are reindexed in an
// optimistic transaction, so a concurrent write is never undone.
func (s *Store) Reindex(ctx context.Context) (int, error) {
	n := 0
	err := s.Listings(ctx, "", func(st precwatch.ListingState) error {
		if len(st.AlertKeys) == 0 {
			return nil
		}
		var rkeys []string
		for _, k := range st.AlertKeys {
			rkeys = append(rkeys, s.alertKey(k))
		}
		slices.Sort(rkeys)
		done := 0
		err := s.retry(ctx, func() error {
			return s.rdb.Watch(ctx, func(tx *redis.Tx) error {
				vals, err := tx.MGet(ctx, rkeys...).Result()
				if err != nil {
					return err
				}
				as, err := decodeAll[precwatch.Alert](vals)
				if err != nil {
					return fmt.Errorf("decode alert: %w", err)
				}
				if len(as) == 0 {
					return nil
				}
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					w := newWrites()
					for _, a := range as {
						legacy := legacyMember(a)
						for _, idx := range s.alertIndexes(a) {
							w.zRem(idx, legacy)
						}
						s.reindex(w, nil, a)
					}
					w.flush(ctx, p)
					return nil
				})
				if err == nil {
					done = len(as)
				}
				return err
			}, rkeys...)
		})
		n += done
		return err
	})
	if err != nil {
		return n, fmt.Errorf("redis: reindex: %w", err)
	}
	return n, nil
}

// migrateText puts every stored alert in the word sets of its listing's
// text (schema 8, see textKey) and deletes the sorted sets schema 7 and
// older kept them in. The alerts of up to textBatch listings are read and
// indexed in one optimistic transaction, so that a concurrent write (which
// moves an alert's member) is never undone by a stale one. Running it
// twice, or from two processes, adds nothing twice.
func (s *Store) migrateText(ctx context.Context) error {
	const textBatch = 200
	oldKeys := map[string]bool{}
	var rkeys []string
	flush := func() error {
		if len(rkeys) == 0 {
			return nil
		}
		slices.Sort(rkeys)
		err := s.retry(ctx, func() error {
			return s.rdb.Watch(ctx, func(tx *redis.Tx) error {
				vals, err := tx.MGet(ctx, rkeys...).Result()
				if err != nil {
					return err
				}
				as, err := decodeAll[precwatch.Alert](vals)
				if err != nil {
					return fmt.Errorf("decode alert: %w", err)
				}
				if len(as) == 0 {
					return nil
				}
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					w := newWrites()
					for _, a := range as {
						var member any = alertMember(a)
						for _, wd := range words.Split(a.Listing.Title, a.Listing.Description) {
							w.setAdd(s.textKey(clampSeverity(a.Severity), wd), member)
							oldKeys[s.idxKey("word", wd)] = true
						}
					}
					w.flush(ctx, p)
					return nil
				})
				return err
			}, rkeys...)
		})
		rkeys = rkeys[:0]
		return err
	}
	err := s.Listings(ctx, "", func(st precwatch.ListingState) error {
		for _, k := range st.AlertKeys {
			rkeys = append(rkeys, s.alertKey(k))
		}
		if len(rkeys) >= textBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		// Only now: until every set is written, a process that opened the
		// store before still finds alerts by text in the old indexes.
		for chunk := range slices.Chunk(slices.Sorted(maps.Keys(oldKeys)), 500) {
			if err = s.rdb.Unlink(ctx, chunk...).Err(); err != nil {
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("redis: migrate word indexes: %w", err)
	}
	if len(oldKeys) > 0 {
		s.logger.Info("word indexes moved to sets", "words", len(oldKeys), "version", schemaVersion)
	}
	return nil
}
