package redis

// Retention (see precwatch.Pruner). Keys, under the prefix P:
//
//	P:pages:seen   sorted set: page SHA-256 → when the body was last stored
//	               or confirmed (Unix ms): by a fetch of it (RecordPage,
//	               304 replays included), SavePage or RecordVendorPage,
//	               each in its own MULTI/EXEC or script (ZADD GT)
//
// Prune marks, then sweeps. The mark reads every listing state, alert,
// stream event, fetch state hash and vendor page (SCAN, SSCAN-free: SCAN
// returns every key present from the scan's start to its end, which
// listings and alerts are, never being deleted), keeping identifiers
// only. The sweeps delete in small batches: fetch records per run, in a
// WATCH of the run's record (MULTI/EXEC); runs in a WATCH of the run and
// its fetch index; bodies in a script that checks P:pages:seen as it
// deletes, so a body fetched again while prune runs (its ZADD lands first)
// is kept, and one fetched again after (its RecordPage finds it missing)
// is written again by that RecordPage. Every key is in the prefix's slot,
// so all of it runs on Redis Cluster as on one Redis. Before each batch
// prune checks the server's run_id: when Redis restarted (or failed over)
// since the mark, what it marked may have changed, so it marks again.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/storage/internal/prune"
	"github.com/redis/go-redis/v9"
)

var _ precwatch.Pruner = (*Store)(nil)

func (s *Store) pagesSeenKey() string { return s.key("pages", "seen") }

// pageUse is the score a page's fetch or save gives it in P:pages:seen.
func pageUse(p precwatch.Page) float64 {
	at := p.FetchedAt
	if p.Fetch != nil && p.Fetch.At.After(at) {
		at = p.Fetch.At
	}
	return float64(at.UnixMilli())
}

// touchPage queues the ZADD GT that marks page p used.
func (s *Store) touchPage(ctx context.Context, pipe redis.Pipeliner, p precwatch.Page) {
	pipe.ZAddArgs(ctx, s.pagesSeenKey(), redis.ZAddArgs{GT: true, Members: []redis.Z{{Score: pageUse(p), Member: p.SHA256}}})
}

// pruneBatch is how many records one sweep transaction or script decides.
const pruneBatch = 200

// errRestarted: Redis restarted or failed over during a prune.
var errRestarted = errors.New("redis restarted during prune")

// maxPruneAttempts bounds the marks a prune starts over after restarts.
const maxPruneAttempts = 4

// Prune deletes old fetch records, page bodies and runs that nothing kept
// names; see precwatch.Pruner.
func (s *Store) Prune(ctx context.Context, p precwatch.PrunePolicy) (precwatch.PruneReport, error) {
	if err := p.Check(); err != nil {
		return precwatch.PruneReport{}, fmt.Errorf("redis: prune: %w", err)
	}
	start := time.Now()
	p = p.Guarded(start)
	var done precwatch.PruneReport // deleted by attempts cut short
	for attempt := 1; ; attempt++ {
		pr := &redisPruner{s: s, p: p, goneByRun: map[string]int64{}}
		pr.rep.DryRun = p.DryRun
		err := pr.run(ctx)
		if err == nil {
			pr.rep.Add(done) // what attempts cut short deleted, not what they kept
			s.logger.Debug("prune done", "dry_run", p.DryRun, "fetches", pr.rep.Fetches, "pages", pr.rep.Pages, "runs", pr.rep.Runs,
				"bytes", pr.rep.FetchBytes+pr.rep.PageBytes+pr.rep.RunBytes, "fetches_kept", pr.rep.FetchesKept,
				"attempts", attempt, "duration_s", time.Since(start).Seconds())
			return pr.rep, nil
		}
		if !p.DryRun { // what it deleted is deleted
			done.Add(precwatch.PruneReport{Fetches: pr.rep.Fetches, FetchBytes: pr.rep.FetchBytes, Pages: pr.rep.Pages,
				PageBytes: pr.rep.PageBytes, Runs: pr.rep.Runs, RunBytes: pr.rep.RunBytes, WARCFiles: pr.rep.WARCFiles})
		}
		if !errors.Is(err, errRestarted) || attempt >= maxPruneAttempts {
			done.DryRun = p.DryRun
			return done, fmt.Errorf("redis: prune: %w", err)
		}
		s.logger.Warn("redis restarted during prune, marking again", "attempt", attempt)
	}
}

// redisPruner is one attempt of a Prune.
type redisPruner struct {
	s      *Store
	p      precwatch.PrunePolicy
	marks  *prune.Marks
	server string // the run_id of the Redis the mark read
	rep    precwatch.PruneReport
	// goneByRun counts each run's fetches deleted (or, dry, that would
	// be): a dry run decides runs as if they were.
	goneByRun map[string]int64
}

func (pr *redisPruner) run(ctx context.Context) error {
	id, err := pr.s.serverID(ctx)
	if err != nil {
		return err
	}
	pr.server = id
	if pr.marks, err = pr.mark(ctx); err != nil {
		return fmt.Errorf("mark: %w", err)
	}
	if err := pr.sweepFetches(ctx); err != nil {
		return fmt.Errorf("fetches: %w", err)
	}
	if err := pr.sweepRuns(ctx); err != nil {
		return fmt.Errorf("runs: %w", err)
	}
	if err := pr.sweepPages(ctx); err != nil {
		return fmt.Errorf("pages: %w", err)
	}
	return nil
}

// node is where the prefix's keys are: the master of its slot on a
// cluster (SCAN and INFO are not routed by key), the client otherwise.
func (s *Store) node(ctx context.Context) (redis.Cmdable, error) {
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		n, err := cc.MasterForKey(ctx, s.key("schema"))
		if err != nil {
			return nil, fmt.Errorf("find the prefix's master: %w", err)
		}
		return n, nil
	}
	return s.rdb, nil
}

// serverID is the run_id of the Redis holding the prefix: it changes when
// that Redis restarts or another takes over.
func (s *Store) serverID(ctx context.Context) (string, error) {
	var id string
	err := s.retry(ctx, func() error {
		n, err := s.node(ctx)
		if err != nil {
			return err
		}
		info, err := n.Info(ctx, "server").Result()
		if err != nil {
			return err
		}
		for line := range strings.Lines(info) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
				id = v
				return nil
			}
		}
		return fmt.Errorf("INFO server without run_id")
	})
	if err != nil {
		return "", fmt.Errorf("read server id: %w", err)
	}
	return id, nil
}

// hook runs the test hook at stage.
func (s *Store) hook(stage string) {
	if s.pruneHook != nil {
		s.pruneHook(stage)
	}
}

// checkServer fails with errRestarted when Redis is not the one the mark
// read.
func (pr *redisPruner) checkServer(ctx context.Context) error {
	id, err := pr.s.serverID(ctx)
	if err != nil {
		return err
	}
	if id != pr.server {
		return errRestarted
	}
	return nil
}

// scan calls fn with the keys of the prefix matching "{P}:" + pattern, a
// SCAN page at a time.
func (s *Store) scan(ctx context.Context, pattern string, fn func(keys []string) error) error {
	match := globEscape(s.tag) + ":" + pattern
	var cursor uint64
	for {
		var keys []string
		err := s.retry(ctx, func() error {
			n, err := s.node(ctx)
			if err != nil {
				return err
			}
			var next uint64
			keys, next, err = n.Scan(ctx, cursor, match, 1000).Result()
			if err == nil {
				cursor = next
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("scan %s: %w", match, err)
		}
		if len(keys) > 0 {
			if err := fn(keys); err != nil {
				return err
			}
		}
		if cursor == 0 {
			return nil
		}
	}
}

// mget reads keys, chunked.
func (s *Store) mget(ctx context.Context, keys []string, fn func(key string, raw []byte) error) error {
	for i := 0; i < len(keys); i += 500 {
		chunk := keys[i:min(i+500, len(keys))]
		var vals []any
		err := s.retry(ctx, func() error {
			var err error
			vals, err = s.rdb.MGet(ctx, chunk...).Result()
			return err
		})
		if err != nil {
			return err
		}
		for j, v := range vals {
			if str, ok := v.(string); ok {
				if err := fn(chunk[j], []byte(str)); err != nil {
					return fmt.Errorf("%s: %w", chunk[j], err)
				}
			}
		}
	}
	return nil
}

// mark reads what names fetches and bodies: listing states, alerts, the
// stream's events, fetch states, vendor pages.
func (pr *redisPruner) mark(ctx context.Context) (*prune.Marks, error) {
	s, m := pr.s, prune.NewMarks()
	docs := func(keys []string) error {
		return s.mget(ctx, keys, func(_ string, raw []byte) error { return m.AddDoc(raw) })
	}
	if err := s.scan(ctx, "listing:*", docs); err != nil {
		return nil, err
	}
	if err := s.scan(ctx, "alert:*", docs); err != nil {
		return nil, err
	}
	if err := pr.markStream(ctx, m); err != nil {
		return nil, err
	}
	if err := s.scan(ctx, "fetch:*", func(keys []string) error {
		for _, k := range keys {
			if err := s.hscan(ctx, k, m.AddFetchState); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := s.scan(ctx, "vendorpage:*", func(keys []string) error {
		return s.mget(ctx, keys, func(_ string, raw []byte) error { return m.AddVendorPage(raw) })
	}); err != nil {
		return nil, err
	}
	return m, nil
}

// markStream marks what the alerts of the stream's events name.
func (pr *redisPruner) markStream(ctx context.Context, m *prune.Marks) error {
	s := pr.s
	start := "-"
	for {
		var msgs []redis.XMessage
		err := s.retry(ctx, func() error {
			var err error
			msgs, err = s.rdb.XRangeN(ctx, s.StreamKey(), start, "+", 500).Result()
			return err
		})
		if err != nil {
			return fmt.Errorf("read stream: %w", err)
		}
		for _, msg := range msgs {
			if raw, ok := msg.Values["json"].(string); ok {
				if err := m.AddDoc([]byte(raw)); err != nil {
					return fmt.Errorf("stream event %s: %w", msg.ID, err)
				}
			}
		}
		if len(msgs) < 500 {
			return nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// hscan calls fn with every value of hash key.
func (s *Store) hscan(ctx context.Context, key string, fn func([]byte) error) error {
	var cursor uint64
	for {
		var kv []string
		err := s.retry(ctx, func() error {
			var next uint64
			var err error
			kv, next, err = s.rdb.HScan(ctx, key, cursor, "", 500).Result()
			if err == nil {
				cursor = next
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("hscan %s: %w", key, err)
		}
		for i := 1; i < len(kv); i += 2 {
			if err := fn([]byte(kv[i])); err != nil {
				return fmt.Errorf("%s %s: %w", key, kv[i-1], err)
			}
		}
		if cursor == 0 {
			return nil
		}
	}
}

// sweepFetches deletes, run by run, the fetch records made before the
// cutoff that no mark names and whose run is not running.
func (pr *redisPruner) sweepFetches(ctx context.Context) error {
	s := pr.s
	idxPrefix := s.runFetchesKey("")
	var indexes []string
	if err := s.scan(ctx, "fetches:run:*", func(keys []string) error {
		indexes = append(indexes, keys...)
		return nil
	}); err != nil {
		return err
	}
	max := "(" + strconv.FormatInt(pr.p.FetchesBefore.UnixNano(), 10)
	for _, idx := range indexes {
		runID := strings.TrimPrefix(idx, idxPrefix)
		var ids []string
		err := s.retry(ctx, func() error {
			var err error
			ids, err = s.rdb.ZRangeByScore(ctx, idx, &redis.ZRangeBy{Min: "-inf", Max: max}).Result()
			return err
		})
		if err != nil {
			return fmt.Errorf("fetches of run %s: %w", runID, err)
		}
		for i := 0; i < len(ids); i += pruneBatch {
			if err := pr.fetchBatch(ctx, runID, ids[i:min(i+pruneBatch, len(ids))]); err != nil {
				return err
			}
		}
	}
	return nil
}

// fetchBatch decides fetch records ids of run runID in one transaction,
// watching the run's record: were it to change (a run resumed), the
// batch is decided again.
func (pr *redisPruner) fetchBatch(ctx context.Context, runID string, ids []string) error {
	s := pr.s
	rkey, idx := s.runKey(runID), s.runFetchesKey(runID)
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = s.fetchRecordKey(id)
	}
	type fetchRow struct {
		id, body string
		size     int64
		stale    bool // indexed, but no record (or not old after all)
	}
	var rows []fetchRow
	var rep precwatch.PruneReport
	var kept []string // bodies of the fetches kept
	err := s.retry(ctx, func() error {
		// In the retried step: a retry after Redis came back must not
		// delete on a mark of the Redis before.
		if err := pr.checkServer(ctx); err != nil {
			return err
		}
		return s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			rows, rep, kept = rows[:0], precwatch.PruneReport{}, kept[:0]
			running := false
			raw, err := tx.Get(ctx, rkey).Bytes()
			switch {
			case errors.Is(err, redis.Nil):
			case err != nil:
				return err
			default:
				ri, err := prune.DecodeRun(raw)
				if err != nil {
					return err
				}
				running = ri.Status == precwatch.RunRunning
			}
			vals, err := tx.MGet(ctx, keys...).Result()
			if err != nil {
				return err
			}
			for i, v := range vals {
				str, ok := v.(string)
				if !ok {
					rows = append(rows, fetchRow{id: ids[i], stale: true})
					continue
				}
				f, err := prune.DecodeFetch([]byte(str))
				if err != nil {
					return fmt.Errorf("fetch %s: %w", ids[i], err)
				}
				switch {
				case !f.At.Before(pr.p.FetchesBefore):
					continue // the index's float score is coarser than the time
				case running || pr.marks.Fetches.Has(ids[i]):
					rep.FetchesKept++
					kept = append(kept, f.BodySHA256)
					continue
				}
				rows = append(rows, fetchRow{id: ids[i], body: f.BodySHA256, size: int64(len(str))})
			}
			if len(rows) == 0 || pr.p.DryRun {
				for _, r := range rows {
					if !r.stale {
						rep.Fetches++
						rep.FetchBytes += r.size
					}
				}
				return nil
			}
			s.hook("fetches")
			dels := make([]*redis.IntCmd, len(rows))
			_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
				members := make([]any, len(rows))
				for i, r := range rows {
					dels[i] = pipe.Del(ctx, s.fetchRecordKey(r.id))
					members[i] = r.id
				}
				pipe.ZRem(ctx, idx, members...)
				return nil
			})
			if err != nil {
				return err
			}
			for i, r := range rows {
				if dels[i].Val() == 1 { // not deleted meanwhile by another prune
					rep.Fetches++
					rep.FetchBytes += r.size
				}
			}
			return nil
		}, rkey)
	})
	if err != nil {
		return fmt.Errorf("run %s: %w", runID, err)
	}
	pr.rep.Add(rep)
	for _, b := range kept {
		pr.marks.Pages.Add(b) // evidence: its body too
	}
	for _, r := range rows {
		if !r.stale {
			pr.goneByRun[runID]++
		}
	}
	return nil
}

// sweepRuns deletes the ended runs older than the runs cutoff that have
// no fetch record left and are not among their site's newest, and marks
// the block pages of the runs kept.
func (pr *redisPruner) sweepRuns(ctx context.Context) error {
	s := pr.s
	all := s.key("runs", "all")
	newest := map[string]map[string]bool{}
	var cursor uint64
	for {
		var members []string
		err := s.retry(ctx, func() error {
			var next uint64
			var err error
			members, next, err = s.rdb.ZScan(ctx, all, cursor, "", 500).Result()
			if err == nil {
				cursor = next
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("scan runs: %w", err)
		}
		var keys []string
		byKey := map[string]string{}           // run key → its index member
		for i := 0; i < len(members); i += 2 { // member, score
			m := members[i]
			if len(m) < 18 {
				continue
			}
			k := s.runKey(m[17:])
			keys = append(keys, k)
			byKey[k] = m
		}
		var candidates []prune.RunInfo
		if err := s.mget(ctx, keys, func(key string, raw []byte) error {
			ri, err := prune.DecodeRun(raw)
			if err != nil {
				return err
			}
			if !ri.Deletable(pr.p) {
				pr.marks.Pages.Add(ri.BlockPage())
				return nil
			}
			candidates = append(candidates, ri)
			return nil
		}); err != nil {
			return fmt.Errorf("read runs: %w", err)
		}
		for _, ri := range candidates {
			if newest[ri.Site] == nil {
				ids, err := pr.newestRuns(ctx, ri.Site)
				if err != nil {
					return err
				}
				newest[ri.Site] = ids
			}
			if newest[ri.Site][ri.ID] {
				pr.marks.Pages.Add(ri.BlockPage())
				continue
			}
			if err := pr.runDelete(ctx, ri, byKey[s.runKey(ri.ID)]); err != nil {
				return err
			}
		}
		if cursor == 0 {
			return nil
		}
	}
}

// newestRuns are the IDs of site's newest precwatch.KeepRunsPerSite runs.
func (pr *redisPruner) newestRuns(ctx context.Context, site string) (map[string]bool, error) {
	var members []string
	err := pr.s.retry(ctx, func() error {
		var err error
		members, err = pr.s.rdb.ZRange(ctx, pr.s.key("runs", "site", site), 0, precwatch.KeepRunsPerSite-1).Result()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("newest runs of %s: %w", site, err)
	}
	out := map[string]bool{}
	for _, m := range members {
		if len(m) > 17 {
			out[m[17:]] = true
		}
	}
	return out, nil
}

// runDelete deletes run ri unless, in a WATCH of its record and fetch
// index, it turns out running, recent or with fetch records left. A kept
// run's block page is marked.
func (pr *redisPruner) runDelete(ctx context.Context, ri prune.RunInfo, member string) error {
	s := pr.s
	rkey, idx := s.runKey(ri.ID), s.runFetchesKey(ri.ID)
	var rep precwatch.PruneReport
	keep := false
	err := s.retry(ctx, func() error {
		if err := pr.checkServer(ctx); err != nil {
			return err
		}
		return s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			rep, keep = precwatch.PruneReport{}, true
			raw, err := tx.Get(ctx, rkey).Bytes()
			if errors.Is(err, redis.Nil) {
				keep = false // deleted meanwhile
				return nil
			}
			if err != nil {
				return err
			}
			cur, err := prune.DecodeRun(raw)
			if err != nil {
				return err
			}
			ri = cur
			if !cur.Deletable(pr.p) {
				return nil
			}
			n, err := tx.ZCard(ctx, idx).Result()
			if err != nil {
				return err
			}
			if pr.p.DryRun {
				n -= pr.goneByRun[cur.ID]
			}
			if n > 0 {
				return nil
			}
			keep = false
			rep = precwatch.PruneReport{Runs: 1, RunBytes: int64(len(raw)), WARCFiles: cur.WARCPaths()}
			if pr.p.DryRun {
				return nil
			}
			s.hook("runs")
			var del *redis.IntCmd
			_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
				del = pipe.Del(ctx, rkey)
				pipe.ZRem(ctx, s.key("runs", "all"), member)
				pipe.ZRem(ctx, s.key("runs", "site", cur.Site), member)
				return nil
			})
			if err == nil && del.Val() == 0 {
				rep = precwatch.PruneReport{}
			}
			return err
		}, rkey, idx)
	})
	if err != nil {
		return fmt.Errorf("run %s: %w", ri.ID, err)
	}
	pr.rep.Add(rep)
	if keep {
		pr.marks.Pages.Add(ri.BlockPage())
	}
	return nil
}

// prunePages deletes, of the pages of ARGV[3...], those P:pages:seen
// (KEYS[1]) says were last used before ARGV[1] (Unix ms), with both their
// keys (KEYS[2i], KEYS[2i+1]); with ARGV[2] "1" (a dry run) it deletes
// nothing. Each answer is the body's stored size when deleted (or, dry,
// when it would be), -1 when the page was used since (or has no use
// recorded: a page of an older precwatch, kept), -2 when only its use was
// left.
var prunePages = redis.NewScript(`
local out = {}
for i = 3, #ARGV do
	local sha = ARGV[i]
	local pz, p = KEYS[2*(i-2)], KEYS[2*(i-2)+1]
	local used = redis.call('ZSCORE', KEYS[1], sha)
	if not used or tonumber(used) >= tonumber(ARGV[1]) then
		out[#out+1] = -1
	else
		local size = redis.call('HSTRLEN', pz, 'body') + redis.call('HSTRLEN', p, 'body')
		local n = redis.call('EXISTS', pz, p)
		if ARGV[2] ~= '1' then
			redis.call('DEL', pz, p)
			redis.call('ZREM', KEYS[1], sha)
		end
		if n > 0 then out[#out+1] = size else out[#out+1] = -2 end
	end
end
return out
`)

// sweepPages deletes the bodies last used before the cutoff that no mark
// names. Pages stored by an older precwatch, without a use recorded, are
// given the time of this prune (kept a whole retention period from now).
func (pr *redisPruner) sweepPages(ctx context.Context) error {
	s := pr.s
	seen := s.pagesSeenKey()
	if err := pr.recordLegacyPages(ctx); err != nil {
		return err
	}
	cutoff := float64(pr.p.FetchesBefore.UnixMilli())
	var cursor uint64
	var batch []string
	for {
		var members []string
		err := s.retry(ctx, func() error {
			var next uint64
			var err error
			members, next, err = s.rdb.ZScan(ctx, seen, cursor, "", 500).Result()
			if err == nil {
				cursor = next
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("scan page uses: %w", err)
		}
		for i := 0; i+1 < len(members); i += 2 {
			sha := members[i]
			used, err := strconv.ParseFloat(members[i+1], 64)
			if err != nil || used >= cutoff {
				continue
			}
			if pr.marks.Pages.Has(sha) {
				pr.rep.PagesKept++
				continue
			}
			batch = append(batch, sha)
			if len(batch) == pruneBatch {
				if err := pr.pageBatch(ctx, batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		if cursor == 0 {
			break
		}
	}
	if len(batch) > 0 {
		return pr.pageBatch(ctx, batch)
	}
	return nil
}

// pageBatch runs prunePages on shas. ZSCAN may return a member twice; a
// page deleted already answers -2 and counts nothing.
func (pr *redisPruner) pageBatch(ctx context.Context, shas []string) error {
	s := pr.s
	keys := make([]string, 0, 1+2*len(shas))
	keys = append(keys, s.pagesSeenKey())
	args := make([]any, 0, 2+len(shas))
	dry := "0"
	if pr.p.DryRun {
		dry = "1"
	}
	args = append(args, pr.p.FetchesBefore.UnixMilli(), dry)
	for _, sha := range shas {
		keys = append(keys, s.pageZKey(sha), s.pageKey(sha))
		args = append(args, sha)
	}
	var res []int64
	err := s.retry(ctx, func() error {
		if err := pr.checkServer(ctx); err != nil {
			return err
		}
		s.hook("pages")
		var err error
		res, err = prunePages.Run(ctx, s.rdb, keys, args...).Int64Slice()
		return err
	})
	if err != nil {
		return fmt.Errorf("delete pages: %w", err)
	}
	for _, n := range res {
		if n >= 0 {
			pr.rep.Pages++
			pr.rep.PageBytes += n
		}
	}
	return nil
}

// recordLegacyPages gives the pages P:pages:seen does not hold (stored by
// a precwatch before retention) this prune's time as their use: nothing
// says when they were last fetched, and a kept fetch may name them.
func (pr *redisPruner) recordLegacyPages(ctx context.Context) error {
	s := pr.s
	now := float64(time.Now().UnixMilli())
	zPrefix, pPrefix := s.pageZKey(""), s.pageKey("")
	return s.scan(ctx, "page*", func(keys []string) error {
		var shas []string
		for _, k := range keys {
			if sha, ok := strings.CutPrefix(k, zPrefix); ok {
				shas = append(shas, sha)
			} else if sha, ok := strings.CutPrefix(k, pPrefix); ok {
				shas = append(shas, sha)
			}
		}
		if len(shas) == 0 {
			return nil
		}
		args := make([]any, 0, 2+len(shas))
		args = append(args, "zmscore", s.pagesSeenKey())
		for _, sha := range shas {
			args = append(args, sha)
		}
		var scores []any
		err := s.retry(ctx, func() error {
			var err error
			scores, err = s.rdb.Do(ctx, args...).Slice()
			return err
		})
		if err != nil {
			return fmt.Errorf("page uses: %w", err)
		}
		var add []redis.Z
		for i, sc := range scores {
			if sc == nil && i < len(shas) {
				add = append(add, redis.Z{Score: now, Member: shas[i]})
			}
		}
		if len(add) == 0 || pr.p.DryRun {
			return nil
		}
		return s.retry(ctx, func() error {
			return s.rdb.ZAddArgs(ctx, s.pagesSeenKey(), redis.ZAddArgs{NX: true, Members: add}).Err()
		})
	})
}
