package redis

// Scale-out (issue 9): a run's shared frontier, so that several workers
// fetch one run's pages.
//
//	P:frontier:<run>:tasks      Stream of tasks (field t: the task's JSON),
//	                            read through the consumer group "workers"
//	P:frontier:<run>:seen       set of the keys pushed (canonical URLs)
//	P:frontier:<run>:state      hash: pushed, acked, limit, stop and the
//	                            run's counters summed over its workers
//	P:frontier:<run>:errors     list of run errors (capped)
//	P:frontier:<run>:set:<n>    the run's named sets (listings recorded,
//	                            detail pages claimed)
//
// A task is taken with XREADGROUP and acked with XACK once processed; one
// pending longer than the visibility timeout (its worker died) is taken
// again with XAUTOCLAIM. A worker keeps its slow tasks with XCLAIM (Touch).

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/precwatch/precwatch"
	"github.com/redis/go-redis/v9"
)

var _ precwatch.FrontierStore = (*Store)(nil)

const frontierGroup = "workers"

// Frontier returns the frontier of run runID of site.
func (s *Store) Frontier(site, runID string) precwatch.Frontier {
	return &frontier{s: s, site: site, run: runID}
}

type frontier struct {
	s         *Store
	site, run string
}

func (f *frontier) key(parts ...string) string {
	return f.s.key(append([]string{"frontier", f.run}, parts...)...)
}

func (f *frontier) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("redis: frontier %s of run %s: %w", op, f.run, err)
}

func (f *frontier) Create(ctx context.Context) error {
	err := f.s.rdb.XGroupCreateMkStream(ctx, f.key("tasks"), frontierGroup, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return f.wrap("create", err)
	}
	return f.wrap("create", f.s.rdb.HSetNX(ctx, f.key("state"), "pushed", 0).Err())
}

func (f *frontier) Exists(ctx context.Context) (bool, error) {
	n, err := f.s.rdb.Exists(ctx, f.key("state")).Result()
	if err != nil {
		return false, f.wrap("exists", err)
	}
	if n == 0 {
		return false, nil
	}
	stop, err := f.s.rdb.HGet(ctx, f.key("state"), "stop").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, f.wrap("exists", err)
	}
	return stop != "1", nil
}

// pushTask: 1 pushed, 0 seen, -1 over the task budget.
var pushTask = redis.NewScript(`
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 0 end
local max = tonumber(ARGV[3])
local n = tonumber(redis.call('HGET', KEYS[3], 'pushed') or '0')
if max > 0 and n >= max then
	redis.call('HSET', KEYS[3], 'limit', 1)
	return -1
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], '*', 't', ARGV[2])
redis.call('HINCRBY', KEYS[3], 'pushed', 1)
return 1
`)

func (f *frontier) Push(ctx context.Context, key string, data []byte, maxTasks int) (bool, bool, error) {
	n, err := pushTask.Run(ctx, f.s.rdb, []string{f.key("seen"), f.key("tasks"), f.key("state")}, key, data, maxTasks).Int()
	if err != nil {
		return false, false, f.wrap("push", err)
	}
	return n == 1, n == -1, nil
}

func (f *frontier) Next(ctx context.Context, consumer string, visibility, block time.Duration) (*precwatch.FrontierTask, error) {
	msgs, _, err := f.s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: f.key("tasks"), Group: frontierGroup, Consumer: consumer,
		MinIdle: visibility, Start: "0-0", Count: 1,
	}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, f.wrap("autoclaim", err)
	}
	if len(msgs) == 0 {
		if block < time.Millisecond {
			block = time.Millisecond
		}
		streams, err := f.s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: frontierGroup, Consumer: consumer, Streams: []string{f.key("tasks"), ">"},
			Count: 1, Block: block,
		}).Result()
		switch {
		case errors.Is(err, redis.Nil):
			return nil, nil
		case err != nil:
			return nil, f.wrap("read", err)
		}
		for _, st := range streams {
			msgs = append(msgs, st.Messages...)
		}
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	data, _ := msgs[0].Values["t"].(string)
	return &precwatch.FrontierTask{ID: msgs[0].ID, Data: []byte(data)}, nil
}

func (f *frontier) Touch(ctx context.Context, consumer string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return f.wrap("touch", f.s.rdb.XClaimJustID(ctx, &redis.XClaimArgs{
		Stream: f.key("tasks"), Group: frontierGroup, Consumer: consumer, MinIdle: 0, Messages: ids,
	}).Err())
}

// ackTask acks once: the counters are added only when XACK acked.
var ackTask = redis.NewScript(`
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[2], 'acked', 1)
for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i+1]) end
return 1
`)

func counterArgs(counters map[string]int64) []any {
	var args []any
	for k, v := range counters {
		if v != 0 {
			args = append(args, k, v)
		}
	}
	return args
}

func (f *frontier) Ack(ctx context.Context, id string, counters map[string]int64) (bool, error) {
	args := append([]any{frontierGroup, id}, counterArgs(counters)...)
	n, err := ackTask.Run(ctx, f.s.rdb, []string{f.key("tasks"), f.key("state")}, args...).Int()
	if err != nil {
		return false, f.wrap("ack", err)
	}
	return n == 1, nil
}

func (f *frontier) Incr(ctx context.Context, counters map[string]int64) error {
	args := counterArgs(counters)
	if len(args) == 0 {
		return nil
	}
	_, err := f.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := 0; i < len(args); i += 2 {
			p.HIncrBy(ctx, f.key("state"), args[i].(string), args[i+1].(int64))
		}
		return nil
	})
	return f.wrap("incr", err)
}

func (f *frontier) Counters(ctx context.Context) (map[string]int64, error) {
	h, err := f.s.rdb.HGetAll(ctx, f.key("state")).Result()
	if err != nil {
		return nil, f.wrap("counters", err)
	}
	out := make(map[string]int64, len(h))
	for k, v := range h {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		out[k] = n
	}
	return out, nil
}

func (f *frontier) Add(ctx context.Context, set, member string) (bool, error) {
	n, err := f.s.rdb.SAdd(ctx, f.key("set", set), member).Result()
	return n == 1, f.wrap("add", err)
}

func (f *frontier) Has(ctx context.Context, set, member string) (bool, error) {
	ok, err := f.s.rdb.SIsMember(ctx, f.key("set", set), member).Result()
	return ok, f.wrap("has", err)
}

// AddAll adds members to the run's named set in one command (the crawler
// notes a page's listings at once).
func (f *frontier) AddAll(ctx context.Context, set string, members []string) error {
	if len(members) == 0 {
		return nil
	}
	return f.wrap("add", f.s.rdb.SAdd(ctx, f.key("set", set), toAny(members)...).Err())
}

// HasAll reports which of members are in the run's named set, in one
// command (SMISMEMBER).
func (f *frontier) HasAll(ctx context.Context, set string, members []string) ([]bool, error) {
	if len(members) == 0 {
		return nil, nil
	}
	ok, err := f.s.rdb.SMIsMember(ctx, f.key("set", set), toAny(members)...).Result()
	return ok, f.wrap("has", err)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (f *frontier) Card(ctx context.Context, set string) (int64, error) {
	n, err := f.s.rdb.SCard(ctx, f.key("set", set)).Result()
	return n, f.wrap("card", err)
}

var addError = redis.NewScript(`
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[2]) then
	redis.call('HINCRBY', KEYS[2], 'errors_dropped', 1)
	return 0
end
redis.call('RPUSH', KEYS[1], ARGV[1])
return 1
`)

func (f *frontier) AddError(ctx context.Context, msg string, maxErrors int) error {
	return f.wrap("add error", addError.Run(ctx, f.s.rdb, []string{f.key("errors"), f.key("state")}, msg, maxErrors).Err())
}

func (f *frontier) Errors(ctx context.Context) ([]string, int64, error) {
	errs, err := f.s.rdb.LRange(ctx, f.key("errors"), 0, -1).Result()
	if err != nil {
		return nil, 0, f.wrap("errors", err)
	}
	dropped, err := f.s.rdb.HGet(ctx, f.key("state"), "errors_dropped").Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, f.wrap("errors", err)
	}
	return errs, dropped, nil
}

func (f *frontier) Stop(ctx context.Context) error {
	return f.wrap("stop", f.s.rdb.HSet(ctx, f.key("state"), "stop", 1).Err())
}

func (f *frontier) Stopped(ctx context.Context) (bool, error) {
	v, err := f.s.rdb.HGet(ctx, f.key("state"), "stop").Result()
	if errors.Is(err, redis.Nil) {
		// Deleted: nothing more to do either.
		n, err := f.s.rdb.Exists(ctx, f.key("state")).Result()
		return err == nil && n == 0, f.wrap("stopped", err)
	}
	return v == "1", f.wrap("stopped", err)
}

func (f *frontier) Delete(ctx context.Context, ttl time.Duration) error {
	keys := []string{f.key("tasks"), f.key("seen"), f.key("state"), f.key("errors"),
		f.key("set", "listings"), f.key("set", "details")}
	_, err := f.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			if ttl <= 0 {
				p.Del(ctx, k)
			} else {
				p.PExpire(ctx, k, ttl)
			}
		}
		return nil
	})
	return f.wrap("delete", err)
}
