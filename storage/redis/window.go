package redis

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/redis/go-redis/v9"
)

// window is a creation-time window as inclusive orderable bounds; a zero
// bound of the query is open.
type window struct {
	lo, hi           uint64 // orderable(since), orderable(until)
	loB, hiB         uint64 // the timeScore buckets they fall in
	checkLo, checkHi bool   // whether the bound is set
}

func newWindow(since, until time.Time) window {
	w := window{hi: math.MaxUint64, hiB: 1<<sevShift - 1}
	if !since.IsZero() {
		w.lo, w.checkLo = orderable(since), true
		w.loB = w.lo >> bucketShift
	}
	if !until.IsZero() {
		w.hi, w.checkHi = orderable(until), true
		w.hiB = w.hi >> bucketShift
	}
	return w
}

// has reports whether an order index member was created in the window,
// to the nanosecond.
func (w window) has(m string) bool {
	c, ok := memberCreated(m)
	return ok && c >= w.lo && c <= w.hi
}

// scoreArg is the time index score of a severity and bucket, as an exact
// integer argument.
func scoreArg(sev int, bucket uint64) string {
	return strconv.FormatUint(uint64(sev)<<sevShift|bucket, 10)
}

// sevLex is the lexicographic range of a severity's members in the order
// indexes.
func sevLex(sev int) (lo, hi string) {
	c := byte('9' - sev)
	return "[" + string(c), "(" + string(c+1)
}

// Walk sizes: members per ZRANGE BYLEX, and per ZMSCORE.
const (
	maxChunk  = 5000
	inAllSize = 5000
)

// queryWindow answers a query with a creation-time window, idx being the
// order indexes of its other filters and ws its words. Nothing is copied.
//
// The window is counted by severity (see windowCounts), so the total is
// exact. A page is then a walk of the severity's range of the smallest
// order index (the all index without filters), keeping the members whose
// encoded creation time is in the window and which are in the other
// filters' indexes (ZMSCORE); when the matches are too sparse there for
// that to be short, the severity's window is read from the time index by
// score, checked against the filters and sorted here instead.
func (s *Store) queryWindow(ctx context.Context, q precwatch.AlertQuery, idx, ws []string) (precwatch.AlertPage, error) {
	page := precwatch.AlertPage{Alerts: []precwatch.Alert{}}
	w := newWindow(q.Since, q.Until)
	if w.lo > w.hi {
		return page, nil
	}
	var sevs []int // most severe first, as the order indexes
	for sev := 9; sev >= clampSeverity(q.MinSeverity); sev-- {
		sevs = append(sevs, sev)
	}
	limit, offset := q.Page()
	walkIdx, others := s.key("alerts", "idx", "all"), []string(nil)
	if len(idx) > 0 {
		cards := make([]*redis.IntCmd, len(idx))
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range idx {
				cards[i] = p.ZCard(ctx, k)
			}
			return nil
		}); err != nil {
			return page, fmt.Errorf("count filters: %w", err)
		}
		smallest := 0
		for i, c := range cards {
			if c.Val() < cards[smallest].Val() {
				smallest = i
			}
		}
		walkIdx = idx[smallest]
		others = slices.Delete(slices.Clone(idx), smallest, smallest+1)
	}
	counts, windows, walkCounts, err := s.windowCounts(ctx, sevs, w, idx, ws, walkIdx)
	if err != nil {
		return page, fmt.Errorf("count window: %w", err)
	}
	page.Total = int(sum(counts))
	if offset >= page.Total {
		return page, nil
	}
	var members []string
	off := int64(offset)
	for i, sev := range sevs {
		if len(members) == limit {
			break
		}
		c := counts[i]
		if off >= c {
			off -= c
			continue
		}
		need := min(int64(limit-len(members)), c-off)
		var ms []string
		done := false
		// Walking scans about (off+need)/density members, reading the
		// severity's window by score all of it: take the shorter.
		if est := (off + need) * walkCounts[i] / c; est <= windows[i] {
			ms, done, err = s.walk(ctx, walkIdx, others, ws, sev, w, off, need, est, 2*windows[i]+1000)
			if err != nil {
				return page, fmt.Errorf("walk index: %w", err)
			}
		}
		if !done {
			all, err := s.windowMembers(ctx, sev, w, idx, ws)
			if err != nil {
				return page, fmt.Errorf("read window: %w", err)
			}
			ms = all[min(off, int64(len(all))):min(off+need, int64(len(all)))]
		}
		members = append(members, ms...)
		off = 0
	}
	return s.loadPage(ctx, page, members)
}

func sum(ns []int64) int64 {
	var t int64
	for _, n := range ns {
		t += n
	}
	return t
}

// countWindow counts, by severity, the members of the time index
// (KEYS[1]) in score ranges that are in every sorted set KEYS[3..] but
// the last 10·ARGV[3] and have each of ARGV[3] words: those keys are the
// words' sets (textKey), ten per word, severity 0 to 9. Mode "time" reads
// the ranges (ARGV[4..], min and max by severity from ARGV[2] down) from
// the time index; mode "lex" reads every member of the order index KEYS[2]
// and keeps those whose time score is in a range. Either way nothing
// leaves the server but ten counts.
var countWindow = redis.NewScript(`
local mode, top, nwords = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local nidx = #KEYS - 2 - 10 * nwords
local lo, hi, loArg, hiArg = {}, {}, {}, {}
for i = 4, #ARGV, 2 do
  local sev = top - (i - 4) / 2
  loArg[sev], hiArg[sev] = ARGV[i], ARGV[i + 1]
  lo[sev], hi[sev] = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
end
local counts = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
local function keep(ms, sevs)
  local alive = {}
  for i = 1, #ms do alive[i] = true end
  for k = 3, 2 + nidx do
    local sc = redis.call('ZMSCORE', KEYS[k], unpack(ms))
    for i = 1, #ms do
      if not sc[i] then alive[i] = false end
    end
  end
  if nwords > 0 then
    local groups = {}
    for i = 1, #ms do
      local g = groups[sevs[i]]
      if not g then
        g = {}
        groups[sevs[i]] = g
      end
      g[#g + 1] = i
    end
    for j = 0, nwords - 1 do
      for sev, g in pairs(groups) do
        local args = {}
        for x = 1, #g do args[x] = ms[g[x]] end
        local found = redis.call('SMISMEMBER', KEYS[3 + nidx + 10 * j + sev], unpack(args))
        for x = 1, #g do
          if found[x] == 0 then alive[g[x]] = false end
        end
      end
    end
  end
  for i = 1, #ms do
    if alive[i] then counts[sevs[i] + 1] = counts[sevs[i] + 1] + 1 end
  end
end
local chunk = 4000
if mode == 'time' then
  for sev, min in pairs(loArg) do
    local off = 0
    while true do
      local ms = redis.call('ZRANGE', KEYS[1], min, hiArg[sev], 'BYSCORE', 'LIMIT', off, chunk)
      if #ms == 0 then break end
      local sevs = {}
      for i = 1, #ms do sevs[i] = sev end
      keep(ms, sevs)
      if #ms < chunk then break end
      off = off + chunk
    end
  end
else
  local n = redis.call('ZCARD', KEYS[2])
  for start = 0, n - 1, chunk do
    local all = redis.call('ZRANGE', KEYS[2], start, start + chunk - 1)
    if #all == 0 then break end
    local sc = redis.call('ZMSCORE', KEYS[1], unpack(all))
    local ms, sevs = {}, {}
    for i = 1, #all do
      local v = sc[i] and tonumber(sc[i])
      if v then
        local sev = math.floor(v / 281474976710656)
        if lo[sev] and v >= lo[sev] and v <= hi[sev] then
          ms[#ms + 1], sevs[#sevs + 1] = all[i], sev
        end
      end
    end
    if #ms > 0 then keep(ms, sevs) end
  end
end
return counts
`)

// windowCounts returns, for each severity of sevs (most severe first, in
// steps of one), how many alerts are in the window, in every index of idx
// and have every word of ws, about how many are in the window (whole buckets,
// no filters), and how many members of that severity the order index
// lexIdx holds. Without idx they are ZCOUNTs of the time index; with idx,
// the countWindow script reads the smaller of the window and lexIdx (the
// smallest of idx). Either counts the whole buckets the window's bounds
// fall in; their members outside the window are then taken off.
func (s *Store) windowCounts(ctx context.Context, sevs []int, w window, idx, ws []string, lexIdx string) (counts, windows, lexCounts []int64, err error) {
	zc := make([]*redis.IntCmd, len(sevs))
	lc := make([]*redis.IntCmd, len(sevs))
	var edgeCmds []*redis.StringSliceCmd
	var card *redis.IntCmd
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, sev := range sevs {
			zc[i] = p.ZCount(ctx, s.timeKey(), scoreArg(sev, w.loB), scoreArg(sev, w.hiB))
			// The buckets the bounds fall in hold members on both sides.
			if w.checkLo {
				b := scoreArg(sev, w.loB)
				edgeCmds = append(edgeCmds, p.ZRangeByScore(ctx, s.timeKey(), &redis.ZRangeBy{Min: b, Max: b}))
			}
			if w.checkHi && (!w.checkLo || w.hiB != w.loB) {
				b := scoreArg(sev, w.hiB)
				edgeCmds = append(edgeCmds, p.ZRangeByScore(ctx, s.timeKey(), &redis.ZRangeBy{Min: b, Max: b}))
			}
			lo, hi := sevLex(sev)
			lc[i] = p.ZLexCount(ctx, lexIdx, lo, hi)
		}
		card = p.ZCard(ctx, lexIdx)
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	counts = make([]int64, len(sevs))
	windows = make([]int64, len(sevs))
	lexCounts = make([]int64, len(sevs))
	for i := range sevs {
		counts[i], windows[i], lexCounts[i] = zc[i].Val(), zc[i].Val(), lc[i].Val()
	}
	if len(idx)+len(ws) > 0 && sum(counts) > 0 {
		keys := []string{s.timeKey(), lexIdx}
		mode := "time"
		if sum(counts) > card.Val() {
			mode = "lex"
			for _, k := range idx {
				if k != lexIdx {
					keys = append(keys, k)
				}
			}
		} else {
			keys = append(keys, idx...)
		}
		for _, wd := range ws {
			for sev := range 10 {
				keys = append(keys, s.textKey(sev, wd))
			}
		}
		args := []any{mode, sevs[0], len(ws)}
		for _, sev := range sevs {
			args = append(args, scoreArg(sev, w.loB), scoreArg(sev, w.hiB))
		}
		bySev, err := countWindow.Run(ctx, s.rdb, keys, args...).Int64Slice()
		if err != nil {
			return nil, nil, nil, fmt.Errorf("count script: %w", err)
		}
		for i, sev := range sevs {
			counts[i] = bySev[sev]
		}
	}
	var outside []string
	for _, e := range edgeCmds {
		for _, m := range e.Val() {
			if !w.has(m) {
				outside = append(outside, m)
			}
		}
	}
	in, err := s.inAll(ctx, idx, ws, outside)
	if err != nil {
		return nil, nil, nil, err
	}
	for i, m := range outside {
		if j := slices.Index(sevs, int('9')-int(m[0])); in[i] && j >= 0 {
			counts[j]--
		}
	}
	return counts, windows, lexCounts, nil
}

// windowMembers returns, in member order, the members of severity sev of
// the time index created in the window, in every index of idx and with
// every word of ws.
func (s *Store) windowMembers(ctx context.Context, sev int, w window, idx, ws []string) ([]string, error) {
	ms, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: s.timeKey(), Start: scoreArg(sev, w.loB), Stop: scoreArg(sev, w.hiB), ByScore: true}).Result()
	if err != nil {
		return nil, err
	}
	ms = slices.DeleteFunc(ms, func(m string) bool { return !w.has(m) })
	slices.Sort(ms) // one bucket's members sort by member, not the window's
	var out []string
	for chunk := range slices.Chunk(ms, inAllSize) {
		in, err := s.inAll(ctx, idx, ws, chunk)
		if err != nil {
			return nil, err
		}
		for i, m := range chunk {
			if in[i] {
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// walk returns, in order, the members of severity sev of the order index
// idx that are in the window, in every sorted set of others and have
// every word of ws, skipping
// the first skip of them and returning at most n. It reads est members
// first, more as needed, and gives up (false) once it has read budget
// members.
func (s *Store) walk(ctx context.Context, idx string, others, ws []string, sev int, w window, skip, n, est, budget int64) ([]string, bool, error) {
	start, stop := sevLex(sev)
	chunk := min(max(est+est/4, 64), maxChunk)
	var out []string
	for read := int64(0); read < budget; chunk = min(2*chunk, maxChunk) {
		ms, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: idx, Start: start, Stop: stop, ByLex: true, Count: chunk}).Result()
		if err != nil {
			return nil, false, err
		}
		read += int64(len(ms))
		if len(ms) > 0 {
			start = "(" + ms[len(ms)-1] // continue after the last one read
		}
		cand := slices.DeleteFunc(slices.Clone(ms), func(m string) bool { return !w.has(m) })
		in, err := s.inAll(ctx, others, ws, cand)
		if err != nil {
			return nil, false, err
		}
		for i, m := range cand {
			if !in[i] {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			out = append(out, m)
			if int64(len(out)) == n {
				return out, true, nil
			}
		}
		if int64(len(ms)) < chunk {
			return out, true, nil // the end of the severity
		}
	}
	return nil, false, nil
}
