package redis

// Alert queries (issue 9, throughput). Every filter an alert query can
// name, a field's value or a word of the listing's text, is a plain set
// per severity of the alerts' order index members (filterKey). Only two
// indexes are sorted: the all index, whose members sort as
// precwatch.SortAlerts does, and the creation-time index. A new alert
// enters some twenty filter sets and those two sorted sets: inserting into
// a large sorted set walks a skip list, a set hashes, and sorted filter
// indexes were most of what a new alert cost Redis.
//
// A query is answered severity by severity, most severe first, as the all
// index holds them. A severity's total is the size of the filter's set
// (SCARD) or of the filters' intersection (SINTERCARD), as a sorted index's
// range was counted with ZLEXCOUNT; with a creation-time window it is
// counted in Redis (countSets). Its page is found by walking the all
// index's range of that severity in Redis from the page's start, keeping
// the members in every filter set and in the window (scanSets): short
// where the matches are dense. Where they are sparse, the severity's
// smallest source is read instead, the filters' intersection (SINTER) or
// the window's members of the time index, and sorted here.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/internal/words"
	"github.com/redis/go-redis/v9"
)

// filter is one condition of a query: an alert field's value, or with
// field "word" a word of the listing's title or description.
type filter struct{ field, value string }

// filterKey is the filter set of severity sev (0-9) and filter f: the
// order index members of the alerts of that severity that pass f.
func (s *Store) filterKey(f filter, sev int) string {
	return s.key("alerts", "set", f.field, strconv.Itoa(sev), f.value)
}

// alertFilters are the filters alert a passes, but its words (see
// textWords): status, substance, regime and site, vendor (folded: the
// filter ignores case; schema 9) and assignee when set.
func alertFilters(a *precwatch.Alert) []filter {
	fs := make([]filter, 0, 6)
	for _, f := range []filter{
		{"status", string(a.Status)}, {"substance", a.Substance}, {"regime", string(a.Regime)},
		{"site", a.Site}, {"vendor", precwatch.FoldVendor(a.Listing.Vendor)}, {"assignee", a.Assignee},
	} {
		if f.value != "" {
			fs = append(fs, f)
		}
	}
	return fs
}

// filterSets are the filter sets alert a belongs to, cached in w (when
// not nil) for the rest of its transaction (callers must not change the
// slice).
func (s *Store) filterSets(w *writes, a *precwatch.Alert) []string {
	sev := clampSeverity(a.Severity)
	ws := s.textWords(w, a.Listing.Title, a.Listing.Description)
	fs := alertFilters(a)
	ks := make([]string, 0, len(fs)+len(ws))
	for _, f := range fs {
		ks = append(ks, s.cachedFilterKey(w, f, sev))
	}
	for _, wd := range ws {
		ks = append(ks, s.cachedFilterKey(w, filter{"word", wd}, sev))
	}
	return ks
}

// cachedFilterKey is filterKey(f, sev), cached in w when not nil: a page's
// alerts share their site, status, substance and most words.
func (s *Store) cachedFilterKey(w *writes, f filter, sev int) string {
	if w == nil {
		return s.filterKey(f, sev)
	}
	ck := filterCacheKey{f, sev}
	k, ok := w.fkeys[ck]
	if !ok {
		k = s.filterKey(f, sev)
		w.fkeys[ck] = k
	}
	return k
}

// textWords are the words of a listing's text, cached in w when not nil.
func (s *Store) textWords(w *writes, title, description string) []string {
	if w == nil {
		return words.Split(title, description)
	}
	ws, ok := w.words[[2]string{title, description}]
	if !ok {
		ws = words.Split(title, description)
		w.words[[2]string{title, description}] = ws
	}
	return ws
}

// queryFilters are the filters of q, each once.
func queryFilters(q precwatch.AlertQuery) []filter {
	var fs []filter
	for _, f := range []filter{
		{"status", string(q.Status)}, {"substance", q.Substance}, {"regime", string(q.Regime)},
		{"site", q.Site}, {"vendor", precwatch.FoldVendor(q.Vendor)}, {"assignee", q.Assignee},
	} {
		if f.value != "" {
			fs = append(fs, f)
		}
	}
	for _, wd := range words.Split(q.Text) {
		fs = append(fs, filter{"word", wd})
	}
	return fs
}

// sevsFrom are the severities from 9 down to min (clamped), most severe
// first, as the all index holds them.
func sevsFrom(min precwatch.Severity) []int {
	var sevs []int
	for sev := 9; sev >= clampSeverity(min); sev-- {
		sevs = append(sevs, sev)
	}
	return sevs
}

// queryArgs are what a query selects and which page of it.
type queryArgs struct {
	filters      []filter
	minSev       precwatch.Severity
	since, until time.Time
	offset       int
	limit        int // < 0: every match
	// plan, in tests, forces how pages are found: planWalk walks the all
	// index (reading the source only when the walk gives up), planRead
	// reads the source.
	plan queryPlan
}

type queryPlan int

const (
	planAuto queryPlan = iota
	planWalk
	planRead
)

// queryMembers returns the order index members of the page qa asks for,
// in order, and how many alerts match.
func (s *Store) queryMembers(ctx context.Context, qa queryArgs) ([]string, int, error) {
	if qa.minSev > 9 {
		return nil, 0, nil // above any severity a member can carry
	}
	sevs := sevsFrom(qa.minSev)
	w := newWindow(qa.since, qa.until)
	windowed := !qa.since.IsZero() || !qa.until.IsZero()
	if windowed && w.lo > w.hi {
		return nil, 0, nil
	}
	if len(qa.filters) == 0 && !windowed {
		return s.queryAll(ctx, sevs, qa.offset, qa.limit)
	}
	st, err := s.sevStats(ctx, sevs, qa.filters, w, windowed)
	if err != nil {
		return nil, 0, err
	}
	total := sum(st.totals)
	limit := int64(qa.limit)
	if limit < 0 {
		limit = total
	}
	var members []string
	off, need := int64(max(qa.offset, 0)), limit
	for i, sev := range sevs {
		if need == 0 {
			break
		}
		if off >= st.totals[i] {
			off -= st.totals[i]
			continue
		}
		take := min(need, st.totals[i]-off)
		// A walk reads about (off+take)/density members of the
		// severity's range of the all index, each costing about twice
		// what reading one of the source's does (measured: Lua and a
		// membership check against a transfer and a sort); reading the
		// source, its size. When every member of the range matches (an
		// alert in a filter set or the window is in the all index), the
		// range is the page.
		var ms []string
		done := false
		if st.totals[i] == st.all[i] && qa.plan == planAuto {
			lo, hi := sevLex(sev)
			ms, err = s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: s.key("alerts", "idx", "all"), Start: lo, Stop: hi, ByLex: true, Offset: off, Count: take}).Result()
			if err != nil {
				return nil, 0, fmt.Errorf("read index: %w", err)
			}
			done = true
		} else if est := (off + take) * st.all[i] / st.totals[i]; qa.plan == planWalk || (qa.plan == planAuto && 2*est <= st.source[i]) {
			ms, done, err = s.scanSets(ctx, sev, qa.filters, w, windowed, off, take, est, 2*st.source[i]+1000)
			if err != nil {
				return nil, 0, fmt.Errorf("walk index: %w", err)
			}
		}
		if !done {
			all, err := s.readSev(ctx, sev, qa.filters, w, windowed, st.fromWindow[i])
			if err != nil {
				return nil, 0, fmt.Errorf("read severity %d: %w", sev, err)
			}
			ms = all[min(off, int64(len(all))):min(off+take, int64(len(all)))]
		}
		members = append(members, ms...)
		need -= int64(len(ms))
		off = 0
	}
	return members, int(total), nil
}

// queryAll pages the all index, unfiltered: a lexicographic range.
func (s *Store) queryAll(ctx context.Context, sevs []int, offset, limit int) ([]string, int, error) {
	lo, _ := sevLex(sevs[0])
	_, hi := sevLex(sevs[len(sevs)-1])
	allKey := s.key("alerts", "idx", "all")
	n, err := s.rdb.ZLexCount(ctx, allKey, lo, hi).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("count: %w", err)
	}
	if int64(offset) >= n || limit == 0 {
		return nil, int(n), nil
	}
	count := int64(limit)
	if limit < 0 {
		count = -1
	}
	members, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: allKey, Start: lo, Stop: hi, ByLex: true, Offset: int64(max(offset, 0)), Count: count}).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("read index: %w", err)
	}
	return members, int(n), nil
}

// sevStat are a query's figures by severity (in the order of its sevs).
type sevStat struct {
	totals []int64 // matching alerts
	all    []int64 // the all index's members
	// source is the size of what readSev reads: the filters' smallest
	// set, or the window's members in the time index (whole buckets) when
	// fromWindow.
	source     []int64
	fromWindow []bool
}

// sevStats counts a query's alerts by severity, in one round trip without
// a window: SCARD of each filter set, SINTERCARD of several; with a window,
// a second one counts in Redis (countSets), or the time index's whole
// buckets (ZCOUNT) less the members of its edge buckets outside the window
// when there are no filters.
func (s *Store) sevStats(ctx context.Context, sevs []int, fs []filter, w window, windowed bool) (sevStat, error) {
	n := len(sevs)
	st := sevStat{totals: make([]int64, n), all: make([]int64, n), source: make([]int64, n), fromWindow: make([]bool, n)}
	allCmds := make([]*redis.IntCmd, n)
	winCmds := make([]*redis.IntCmd, n)
	cards := make([][]*redis.IntCmd, n)
	inters := make([]*redis.IntCmd, n)
	var edges [][]*redis.StringSliceCmd
	allKey := s.key("alerts", "idx", "all")
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, sev := range sevs {
			lo, hi := sevLex(sev)
			allCmds[i] = p.ZLexCount(ctx, allKey, lo, hi)
			if windowed {
				winCmds[i] = p.ZCount(ctx, s.timeKey(), scoreArg(sev, w.loB), scoreArg(sev, w.hiB))
				if len(fs) == 0 {
					// The buckets the bounds fall in hold members on both sides.
					var e []*redis.StringSliceCmd
					if w.checkLo {
						b := scoreArg(sev, w.loB)
						e = append(e, p.ZRangeByScore(ctx, s.timeKey(), &redis.ZRangeBy{Min: b, Max: b}))
					}
					if w.checkHi && (!w.checkLo || w.hiB != w.loB) {
						b := scoreArg(sev, w.hiB)
						e = append(e, p.ZRangeByScore(ctx, s.timeKey(), &redis.ZRangeBy{Min: b, Max: b}))
					}
					edges = append(edges, e)
				}
			}
			keys := make([]string, len(fs))
			for j, f := range fs {
				keys[j] = s.filterKey(f, sev)
				cards[i] = append(cards[i], p.SCard(ctx, keys[j]))
			}
			if !windowed && len(fs) > 1 {
				inters[i] = p.SInterCard(ctx, 0, keys...)
			}
		}
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("count: %w", err)
	}
	for i := range sevs {
		st.all[i] = allCmds[i].Val()
		st.source[i] = -1
		for _, c := range cards[i] {
			if st.source[i] < 0 || c.Val() < st.source[i] {
				st.source[i] = c.Val()
			}
		}
		if windowed && (st.source[i] < 0 || winCmds[i].Val() < st.source[i]) {
			st.source[i], st.fromWindow[i] = winCmds[i].Val(), true
		}
		switch {
		case windowed && len(fs) == 0:
			st.totals[i] = winCmds[i].Val()
			for _, e := range edges[i] {
				for _, m := range e.Val() {
					if !w.has(m) {
						st.totals[i]--
					}
				}
			}
		case windowed:
		case len(fs) == 0:
			st.totals[i] = st.all[i]
		case len(fs) == 1:
			st.totals[i] = cards[i][0].Val()
		default:
			st.totals[i] = inters[i].Val()
		}
	}
	if windowed && len(fs) > 0 {
		if st.totals, err = s.countSets(ctx, sevs, fs, w, st); err != nil {
			return st, err
		}
	}
	return st, nil
}

// windowArgs are a window's bounds as the scripts compare them: the
// inverted creation time of a member (its third field) as alertMember
// writes it, smallest then largest allowed.
func windowArgs(w window) []any {
	var lo, hi [11]byte
	putB64(lo[:], ^w.hi) // the member holds ^orderable(created)
	putB64(hi[:], ^w.lo)
	return []any{string(lo[:]), string(hi[:])}
}

// inWindowLua defines inwin(m, wa) in a script whose ARGV[wa] and
// ARGV[wa+1] are windowArgs: whether alertMember m was created in the
// window. Bytes are compared as numbers: Lua compares strings in the
// server's locale.
const inWindowLua = `
local function cmp11(m, b)
  for i = 0, 10 do
    local x, y = string.byte(m, 15 + i), string.byte(b, 1 + i)
    if x ~= y then
      if x < y then return -1 end
      return 1
    end
  end
  return 0
end
local function inwin(m, wa)
  if #m ~= 48 then return false end
  return cmp11(m, ARGV[wa]) >= 0 and cmp11(m, ARGV[wa + 1]) <= 0
end
`

// inFiltersLua defines infilters(ms) in a script whose KEYS[2..] are
// filter sets: for each member of the list ms, whether every one of those
// sets holds it.
const inFiltersLua = `
local function infilters(ms)
  local alive = {}
  for i = 1, #ms do alive[i] = true end
  if #ms == 0 then return alive end
  for k = 2, #KEYS do
    local found = redis.call('SMISMEMBER', KEYS[k], unpack(ms))
    for i = 1, #ms do
      if found[i] == 0 then alive[i] = false end
    end
  end
  return alive
end
`

// countSets counts, for each of ARGV[2] severities, the alerts created
// in the window (ARGV[3..4], windowArgs) that are in each of that
// severity's ARGV[1] filter sets (KEYS, ARGV[1] per severity after the
// time index, KEYS[1]). Per severity, ARGV[5+3i] says what it reads: "s"
// the filter sets' intersection, "t" the time index's members scored from
// ARGV[6+3i] to ARGV[7+3i] (the window's whole buckets). Only the counts
// leave the server.
var countSets = redis.NewScript(inWindowLua + `
local nf, nsev = tonumber(ARGV[1]), tonumber(ARGV[2])
local counts = {}
for g = 0, nsev - 1 do
  local first = 2 + g * nf
  local n = 0
  if ARGV[5 + 3 * g] == 's' then
    local ms
    if nf == 1 then
      ms = redis.call('SMEMBERS', KEYS[first])
    else
      ms = redis.call('SINTER', unpack(KEYS, first, first + nf - 1))
    end
    for i = 1, #ms do
      if inwin(ms[i], 3) then n = n + 1 end
    end
  else
    local off = 0
    while true do
      local all = redis.call('ZRANGE', KEYS[1], ARGV[6 + 3 * g], ARGV[7 + 3 * g], 'BYSCORE', 'LIMIT', off, 4000)
      local ms = {}
      for i = 1, #all do
        if inwin(all[i], 3) then ms[#ms + 1] = all[i] end
      end
      if #ms > 0 then
        local alive = {}
        for i = 1, #ms do alive[i] = true end
        for k = first, first + nf - 1 do
          local found = redis.call('SMISMEMBER', KEYS[k], unpack(ms))
          for i = 1, #ms do
            if found[i] == 0 then alive[i] = false end
          end
        end
        for i = 1, #ms do
          if alive[i] then n = n + 1 end
        end
      end
      if #all < 4000 then break end
      off = off + 4000
    end
  end
  counts[g + 1] = n
end
return counts
`)

func (s *Store) countSets(ctx context.Context, sevs []int, fs []filter, w window, st sevStat) ([]int64, error) {
	keys := []string{s.timeKey()}
	args := append([]any{len(fs), len(sevs)}, windowArgs(w)...)
	for i, sev := range sevs {
		for _, f := range fs {
			keys = append(keys, s.filterKey(f, sev))
		}
		mode := "s"
		if st.fromWindow[i] {
			mode = "t"
		}
		args = append(args, mode, scoreArg(sev, w.loB), scoreArg(sev, w.hiB))
	}
	counts, err := countSets.Run(ctx, s.rdb, keys, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("count in window: %w", err)
	}
	if len(counts) != len(sevs) {
		return nil, fmt.Errorf("count in window: %d counts for %d severities", len(counts), len(sevs))
	}
	return counts, nil
}

// scanSets walks the all index (KEYS[1]) in order over the lexicographic
// range [ARGV[1], ARGV[2]] (one severity's members), ARGV[5] members at
// first, keeping the members in every filter set KEYS[2..] (of that
// severity) and, when ARGV[7] is 1, created in the window (ARGV[8..9],
// windowArgs). It returns whether it finished (0 once it has read ARGV[6]
// members without) and the page of the members kept after skipping
// ARGV[3], at most ARGV[4]: only the page leaves the server.
var scanSets = redis.NewScript(inWindowLua + inFiltersLua + `
local lo, hi = ARGV[1], ARGV[2]
local skip, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
local chunk, budget, windowed = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7] == '1'
local page, n, start, read, done = {}, 0, lo, 0, 1
while true do
  if read >= budget then
    done = 0
    break
  end
  local all = redis.call('ZRANGE', KEYS[1], start, hi, 'BYLEX', 'LIMIT', 0, chunk)
  read = read + #all
  if #all == 0 then break end
  local ms = all
  if windowed then
    ms = {}
    for i = 1, #all do
      if inwin(all[i], 8) then ms[#ms + 1] = all[i] end
    end
  end
  if #ms > 0 then
    local alive = infilters(ms)
    for i = 1, #ms do
      if alive[i] then
        n = n + 1
        if n > skip then page[#page + 1] = ms[i] end
        if #page >= limit then break end
      end
    end
  end
  if #page >= limit or #all < chunk then break end
  start = '(' .. all[#all]
  -- The next chunk: what is left to find at the density seen so far.
  local want = math.max(skip - n, 0) + limit - #page
  if n > 0 then
    chunk = math.min(math.max(math.ceil(want * read / n * 1.25), 64), 4000)
  else
    chunk = math.min(2 * chunk, 4000)
  end
end
return {done, page}
`)

// Walk sizes: members per ZRANGE BYLEX at most, and per SMISMEMBER.
const (
	maxChunk  = 4000
	inAllSize = 5000
)

// scanSets runs the scanSets script over severity sev: see there.
func (s *Store) scanSets(ctx context.Context, sev int, fs []filter, w window, windowed bool, skip, limit, est, budget int64) ([]string, bool, error) {
	keys := []string{s.key("alerts", "idx", "all")}
	for _, f := range fs {
		keys = append(keys, s.filterKey(f, sev))
	}
	lo, hi := sevLex(sev)
	win := 0
	if windowed {
		win = 1
	}
	args := append([]any{lo, hi, skip, limit, min(max(est+est/4, 64), maxChunk), budget, win}, windowArgs(w)...)
	return scanAnswer(scanSets.Run(ctx, s.rdb, keys, args...).Slice())
}

// scanAnswer reads a scanning script's answer, {done, members}: the
// members found and whether the scan reached the end of its source.
func scanAnswer(res []any, err error) ([]string, bool, error) {
	if err != nil {
		return nil, false, err
	}
	if len(res) != 2 {
		return nil, false, fmt.Errorf("%d answers, want 2", len(res))
	}
	done, _ := res[0].(int64)
	raw, _ := res[1].([]any)
	members := make([]string, 0, len(raw))
	for _, m := range raw {
		if str, ok := m.(string); ok {
			members = append(members, str)
		}
	}
	return members, done == 1, nil
}

// readSev returns, sorted, every member of severity sev that passes the
// filters and was created in the window: read from the filters'
// intersection (SINTER), or, when fromWindow, from the window's whole
// buckets of the time index, checked against the filter sets.
func (s *Store) readSev(ctx context.Context, sev int, fs []filter, w window, windowed, fromWindow bool) ([]string, error) {
	var ms []string
	if fromWindow || len(fs) == 0 {
		all, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: s.timeKey(), Start: scoreArg(sev, w.loB), Stop: scoreArg(sev, w.hiB), ByScore: true}).Result()
		if err != nil {
			return nil, err
		}
		for _, m := range all {
			if w.has(m) {
				ms = append(ms, m)
			}
		}
		kept := ms[:0]
		for chunk := range slices.Chunk(ms, inAllSize) {
			in, err := s.inSets(ctx, sev, fs, chunk)
			if err != nil {
				return nil, err
			}
			for i, m := range chunk {
				if in[i] {
					kept = append(kept, m) // never ahead of chunk: kept is a prefix
				}
			}
		}
		ms = kept
	} else {
		keys := make([]string, len(fs))
		for i, f := range fs {
			keys[i] = s.filterKey(f, sev)
		}
		all, err := s.rdb.SInter(ctx, keys...).Result()
		if err != nil {
			return nil, err
		}
		for _, m := range all {
			if !windowed || w.has(m) {
				ms = append(ms, m)
			}
		}
	}
	slices.Sort(ms)
	return ms, nil
}

// inSets reports which members (of severity sev) are in every filter set
// of fs at that severity.
func (s *Store) inSets(ctx context.Context, sev int, fs []filter, members []string) ([]bool, error) {
	in := make([]bool, len(members))
	for i := range in {
		in[i] = true
	}
	if len(members) == 0 || len(fs) == 0 {
		return in, nil
	}
	cmds := make([]*redis.BoolSliceCmd, len(fs))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		ms := make([]any, len(members))
		for i, m := range members {
			ms[i] = m
		}
		for i, f := range fs {
			cmds[i] = p.SMIsMember(ctx, s.filterKey(f, sev), ms...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, c := range cmds {
		found := c.Val()
		if len(found) != len(members) {
			return nil, fmt.Errorf("smismember: %d answers for %d members", len(found), len(members))
		}
		for i, ok := range found {
			if !ok {
				in[i] = false
			}
		}
	}
	return in, nil
}

func sum(ns []int64) int64 {
	var t int64
	for _, n := range ns {
		t += n
	}
	return t
}
