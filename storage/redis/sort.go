package redis

// The queue's other orders (precwatch.AlertSort). No index holds the
// alerts by creation time across severities, or by site, so these orders
// are assembled from the indexes there are, and page at most
// precwatch.MaxSortDepth deep:
//
//   - newest and oldest: for each severity, the first offset+limit
//     matching members in time order, walked on the time index in Redis
//     (scanTime) or, where the matches are sparse, read from the smallest
//     source and sorted here (readSev); then merged here.
//   - site: the sites of P:alerts:sites in name order, each one a query in
//     the default order with that site as a filter, skipped by its count.

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/precwatch/precwatch"
	"github.com/redis/go-redis/v9"
)

// queryBySite returns the page qa asks for in the site order, and how many
// alerts match.
func (s *Store) queryBySite(ctx context.Context, qa queryArgs) ([]string, int, error) {
	for _, f := range qa.filters {
		if f.field == "site" { // one site: the default order
			return s.queryMembers(ctx, qa)
		}
	}
	count := qa
	count.offset, count.limit = 0, 0
	_, total, err := s.queryMembers(ctx, count)
	if err != nil || total == 0 || qa.offset >= total {
		return nil, total, err
	}
	sites, err := s.rdb.ZRange(ctx, s.sitesKey(), 0, -1).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("read sites: %w", err)
	}
	var members []string
	off, need := qa.offset, qa.limit
	for _, site := range sites {
		if need == 0 {
			break
		}
		sq := qa
		sq.filters = append(slices.Clip(qa.filters), filter{"site", site})
		sq.offset, sq.limit = off, need
		ms, n, err := s.queryMembers(ctx, sq)
		if err != nil {
			return nil, 0, fmt.Errorf("site %q: %w", site, err)
		}
		members = append(members, ms...)
		off = max(off-n, 0)
		need -= len(ms)
	}
	return members, total, nil
}

// queryByTime returns the page qa asks for, newest or oldest first, and
// how many alerts match.
func (s *Store) queryByTime(ctx context.Context, qa queryArgs, newest bool) ([]string, int, error) {
	if qa.minSev > 9 {
		return nil, 0, nil
	}
	sevs := sevsFrom(qa.minSev)
	w := newWindow(qa.since, qa.until)
	windowed := !qa.since.IsZero() || !qa.until.IsZero()
	if windowed && w.lo > w.hi {
		return nil, 0, nil
	}
	st, err := s.sevStats(ctx, sevs, qa.filters, w, windowed)
	if err != nil {
		return nil, 0, err
	}
	total := sum(st.totals)
	depth := int64(qa.offset) + int64(qa.limit)
	if qa.limit < 0 {
		depth = total
	}
	if int64(qa.offset) >= total || depth <= int64(qa.offset) {
		return nil, int(total), nil
	}
	var cands []string
	for i, sev := range sevs {
		if st.totals[i] == 0 {
			continue
		}
		want := min(depth, st.totals[i])
		// Without filters every member of the range but those of the
		// window's edge buckets matches: the walk is the page.
		budget := int64(1 << 40)
		switch {
		case qa.plan == planRead: // tests: the sparse path
			budget = 0
		case qa.plan == planWalk:
		case len(qa.filters) > 0:
			budget = 2*st.source[i] + 1000
		}
		est := want * st.all[i] / st.totals[i]
		ms, done, err := s.scanTime(ctx, sev, qa.filters, w, windowed, newest, want, est, budget)
		if err != nil {
			return nil, 0, fmt.Errorf("walk time index: %w", err)
		}
		if !done {
			if ms, err = s.readSev(ctx, sev, qa.filters, w, windowed, st.fromWindow[i]); err != nil {
				return nil, 0, fmt.Errorf("read severity %d: %w", sev, err)
			}
		}
		cands = append(cands, ms...)
	}
	sortByTime(cands, newest)
	end := int64(len(cands))
	if qa.limit >= 0 {
		end = min(end, depth)
	}
	return cands[min(int64(qa.offset), end):end], int(total), nil
}

// sortByTime orders order index members by creation time and key, as
// precwatch.SortAlertsBy does: newest (then key descending) or oldest first.
func sortByTime(ms []string, newest bool) {
	slices.SortFunc(ms, func(a, b string) int {
		ca, _ := memberCreated(a)
		cb, _ := memberCreated(b)
		c := cmp.Compare(ca, cb)
		if c == 0 {
			c = strings.Compare(memberKey(a), memberKey(b))
		}
		if newest {
			return -c
		}
		return c
	})
}

// scanTime walks the time index (KEYS[1]) over the score range [ARGV[1],
// ARGV[2]] (one severity's buckets), from the newest when ARGV[3] is 1,
// ARGV[5] members at first, keeping the members in every filter set
// KEYS[2..] and, when ARGV[7] is 1, created in the window (ARGV[8..9],
// windowArgs), until it has ARGV[4] and every match in the bucket of the
// last of them: members of one bucket are not in time order, so the first
// ARGV[4] by time are among those. It returns whether it finished (0 once
// it has read ARGV[6] members without) and the members kept.
var scanTime = redis.NewScript(inWindowLua + inFiltersLua + `
local lo, hi, rev = ARGV[1], ARGV[2], ARGV[3] == '1'
local want, chunk, budget, windowed = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7] == '1'
local page, off, last = {}, 0, nil
while true do
  if off >= budget then return {0, page} end
  local all
  if rev then
    all = redis.call('ZRANGE', KEYS[1], hi, lo, 'BYSCORE', 'REV', 'LIMIT', off, chunk, 'WITHSCORES')
  else
    all = redis.call('ZRANGE', KEYS[1], lo, hi, 'BYSCORE', 'LIMIT', off, chunk, 'WITHSCORES')
  end
  local n = #all / 2
  if n == 0 then break end
  off = off + n
  local ms, idx = {}, {}
  for i = 1, n do
    if not windowed or inwin(all[2 * i - 1], 8) then
      ms[#ms + 1] = all[2 * i - 1]
      idx[#ms] = i
    end
  end
  local alive = infilters(ms)
  local j = 1
  for i = 1, n do
    local score = all[2 * i]
    if last ~= nil and score ~= last then return {1, page} end
    if idx[j] == i then
      if alive[j] then
        page[#page + 1] = ms[j]
        if #page == want then last = score end
      end
      j = j + 1
    end
  end
  if n < chunk then break end
  chunk = math.min(2 * chunk, 4000)
end
return {1, page}
`)

// scanTime runs the scanTime script over severity sev: see there.
func (s *Store) scanTime(ctx context.Context, sev int, fs []filter, w window, windowed, newest bool, want, est, budget int64) ([]string, bool, error) {
	keys := []string{s.timeKey()}
	for _, f := range fs {
		keys = append(keys, s.filterKey(f, sev))
	}
	rev, win := 0, 0
	if newest {
		rev = 1
	}
	if windowed {
		win = 1
	}
	args := append([]any{scoreArg(sev, w.loB), scoreArg(sev, w.hiB), rev, want, min(max(est+est/4, 64), maxChunk), budget, win}, windowArgs(w)...)
	return scanAnswer(scanTime.Run(ctx, s.rdb, keys, args...).Slice())
}

// querySorted dispatches a query by its order.
func (s *Store) querySorted(ctx context.Context, qa queryArgs, sort precwatch.AlertSort) ([]string, int, error) {
	switch sort {
	case precwatch.SortNewest, precwatch.SortOldest:
		return s.queryByTime(ctx, qa, sort == precwatch.SortNewest)
	case precwatch.SortSite:
		return s.queryBySite(ctx, qa)
	}
	return s.queryMembers(ctx, qa)
}
