package redis

// Scale-out (issue 9): a run lease per site.
//
//	P:lease:<site>        the held lease, JSON {holder, token, run,
//	                      expires_ms}, expiring with it (SET PX)
//	P:lease:<site>:info   hash: token (the site's fencing token counter)
//	                      and the last lease's holder, run, expires_ms and
//	                      released, kept after it expires

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

var _ precwatch.LeaseStore = (*Store)(nil)

func (s *Store) leaseKeys(site string) []string {
	return []string{s.key("lease", site), s.key("lease", site, "info")}
}

// acquireLease: {1, lease, previous info} when taken, {0, lease} when held.
var acquireLease = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then return {0, cur} end
local prev = redis.call('HMGET', KEYS[2], 'token', 'holder', 'run', 'expires_ms', 'released')
local tok = redis.call('HINCRBY', KEYS[2], 'token', 1)
local exp = tonumber(ARGV[3]) + tonumber(ARGV[2])
local val = cjson.encode({holder = ARGV[1], token = tostring(tok), run = '', expires_ms = tostring(exp)})
redis.call('SET', KEYS[1], val, 'PX', ARGV[2])
redis.call('HSET', KEYS[2], 'holder', ARGV[1], 'run', '', 'expires_ms', tostring(exp), 'released', '0')
return {1, val, prev[1] or false, prev[2] or false, prev[3] or false, prev[4] or false, prev[5] or false}
`)

// renewLease: the lease JSON when renewed, false when lost. An expired
// lease whose token is still the site's latest is taken again.
var renewLease = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
	local v = cjson.decode(cur)
	if v.holder ~= ARGV[1] or v.token ~= ARGV[2] then return false end
else
	local info = redis.call('HMGET', KEYS[2], 'token', 'holder', 'released')
	if info[1] ~= ARGV[2] or info[2] ~= ARGV[1] or info[3] == '1' then return false end
end
local exp = tonumber(ARGV[4]) + tonumber(ARGV[3])
local val = cjson.encode({holder = ARGV[1], token = ARGV[2], run = ARGV[5], expires_ms = tostring(exp)})
redis.call('SET', KEYS[1], val, 'PX', ARGV[3])
redis.call('HSET', KEYS[2], 'run', ARGV[5], 'expires_ms', tostring(exp))
return val
`)

var releaseLease = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local v = cjson.decode(cur)
if v.holder ~= ARGV[1] or v.token ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[2], 'released', '1')
return 1
`)

type leaseJSON struct {
	Holder    string `json:"holder"`
	Token     string `json:"token"`
	Run       string `json:"run"`
	ExpiresMS string `json:"expires_ms"`
}

func decodeLease(site, raw string) (precwatch.Lease, error) {
	var v leaseJSON
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return precwatch.Lease{}, fmt.Errorf("decode lease: %w", err)
	}
	tok, _ := strconv.ParseInt(v.Token, 10, 64)
	ms, _ := strconv.ParseInt(v.ExpiresMS, 10, 64)
	return precwatch.Lease{Site: site, Holder: v.Holder, Token: tok, RunID: v.Run, Expires: time.UnixMilli(ms).UTC()}, nil
}

// AcquireLease takes site's lease; see precwatch.LeaseStore.
func (s *Store) AcquireLease(ctx context.Context, site, holder string, ttl time.Duration) (precwatch.Lease, error) {
	if err := precwatch.ValidLease(site, holder, ttl); err != nil {
		return precwatch.Lease{}, fmt.Errorf("redis: acquire lease: %w", err)
	}
	res, err := acquireLease.Run(ctx, s.rdb, s.leaseKeys(site), holder, ttl.Milliseconds(), time.Now().UnixMilli()).Slice()
	if err != nil || len(res) < 2 {
		return precwatch.Lease{}, fmt.Errorf("redis: acquire lease %s: %w", site, err)
	}
	l, err := decodeLease(site, fmt.Sprint(res[1]))
	if err != nil {
		return precwatch.Lease{}, fmt.Errorf("redis: acquire lease %s: %w", site, err)
	}
	if n, _ := res[0].(int64); n == 0 {
		return l, fmt.Errorf("redis: acquire lease %s: held by %s: %w", site, l.Holder, precwatch.ErrLeaseHeld)
	}
	str := func(i int) string {
		if i < len(res) {
			if v, ok := res[i].(string); ok {
				return v
			}
		}
		return ""
	}
	if tok := str(2); tok != "" && str(3) != "" {
		p := &precwatch.Lease{Site: site, Holder: str(3), RunID: str(4), Released: str(6) == "1"}
		p.Token, _ = strconv.ParseInt(tok, 10, 64)
		ms, _ := strconv.ParseInt(str(5), 10, 64)
		p.Expires = time.UnixMilli(ms).UTC()
		l.Previous = p
	}
	return l, nil
}

// RenewLease extends l; see precwatch.LeaseStore.
func (s *Store) RenewLease(ctx context.Context, l precwatch.Lease, ttl time.Duration) (precwatch.Lease, error) {
	if err := precwatch.ValidLease(l.Site, l.Holder, ttl); err != nil {
		return precwatch.Lease{}, fmt.Errorf("redis: renew lease: %w", err)
	}
	raw, err := renewLease.Run(ctx, s.rdb, s.leaseKeys(l.Site), l.Holder, strconv.FormatInt(l.Token, 10),
		ttl.Milliseconds(), time.Now().UnixMilli(), l.RunID).Text()
	switch {
	case errors.Is(err, redis.Nil):
		return precwatch.Lease{}, fmt.Errorf("redis: renew lease %s (token %d): %w", l.Site, l.Token, precwatch.ErrLeaseLost)
	case err != nil:
		return precwatch.Lease{}, fmt.Errorf("redis: renew lease %s: %w", l.Site, err)
	}
	next, err := decodeLease(l.Site, raw)
	if err != nil {
		return precwatch.Lease{}, fmt.Errorf("redis: renew lease %s: %w", l.Site, err)
	}
	return next, nil
}

// ReleaseLease gives l back; see precwatch.LeaseStore.
func (s *Store) ReleaseLease(ctx context.Context, l precwatch.Lease) error {
	n, err := releaseLease.Run(ctx, s.rdb, s.leaseKeys(l.Site), l.Holder, strconv.FormatInt(l.Token, 10)).Int()
	if err != nil {
		return fmt.Errorf("redis: release lease %s: %w", l.Site, err)
	}
	if n == 0 {
		return fmt.Errorf("redis: release lease %s (token %d): %w", l.Site, l.Token, precwatch.ErrLeaseLost)
	}
	return nil
}

// CurrentLease returns site's held lease, or ErrNotFound.
func (s *Store) CurrentLease(ctx context.Context, site string) (precwatch.Lease, error) {
	raw, err := s.rdb.Get(ctx, s.leaseKeys(site)[0]).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return precwatch.Lease{}, fmt.Errorf("redis: lease %s: %w", site, precwatch.ErrNotFound)
	case err != nil:
		return precwatch.Lease{}, fmt.Errorf("redis: lease %s: %w", site, err)
	}
	l, err := decodeLease(site, raw)
	if err != nil {
		return precwatch.Lease{}, fmt.Errorf("redis: lease %s: %w", site, err)
	}
	return l, nil
}
