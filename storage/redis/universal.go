package redis

// Redis Cluster and Sentinel (issue 9): the store runs on go-redis's
// UniversalClient, every key carries the prefix as a hash tag, and a
// store that loses Redis retries with backoff instead of failing at once.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultRetryFor is how long a store operation keeps retrying while Redis
// is unreachable (the retry_for URL option).
const DefaultRetryFor = 15 * time.Second

// The URL schemes of the three deployments.
const (
	schemeCluster  = "redis+cluster"
	schemeSentinel = "redis+sentinel"
)

// clientConfig is a parsed store URL: the go-redis client, and what the
// logs may show of it (addresses, never credentials).
type clientConfig struct {
	mode  string // "single", "cluster" or "sentinel"
	addrs []string
	open  func() redis.UniversalClient
}

// IsURL reports whether dsn names a Redis store in any of the forms Open
// accepts.
func IsURL(dsn string) bool {
	for _, p := range []string{"redis://", "rediss://", schemeCluster + "://", "rediss+cluster://", schemeSentinel + "://", "rediss+sentinel://"} {
		if strings.HasPrefix(dsn, p) {
			return true
		}
	}
	return false
}

// parseClient turns a store URL whose precwatch options were removed into
// a go-redis client configuration:
//
//	redis://[user:pass@]host:port[/db]                       one Redis
//	redis+cluster://[user:pass@]host:port[,host:port...][/]  a Redis Cluster
//	redis+sentinel://[user:pass@]host:port[,host:port...][/db]?master=NAME
//
// (rediss+ for TLS). A cluster or sentinel URL lists its seed nodes or
// sentinels comma-separated in the host part (go-redis's repeated addr=
// query works too). The URL's user and password are the data nodes'
// (the master's, for Sentinel); sentinel_username and sentinel_password
// authenticate to the sentinels themselves.
func parseClient(rawURL string) (clientConfig, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return clientConfig{}, fmt.Errorf("not a URL: missing scheme")
	}
	mode := "single"
	base := scheme
	switch scheme {
	case "redis", "rediss":
		opts, err := redis.ParseURL(rawURL)
		if err != nil {
			return clientConfig{}, err
		}
		return clientConfig{mode: mode, addrs: []string{opts.Addr}, open: func() redis.UniversalClient { return redis.NewClient(opts) }}, nil
	case schemeCluster, "rediss+cluster":
		mode, base = "cluster", strings.TrimSuffix(scheme, "+cluster")
	case schemeSentinel, "rediss+sentinel":
		mode, base = "sentinel", strings.TrimSuffix(scheme, "+sentinel")
	default:
		return clientConfig{}, fmt.Errorf("unknown scheme %q (want redis, rediss, redis+cluster or redis+sentinel)", scheme)
	}
	// The host list is not a valid URL host: take it out, parse the rest
	// with the first host, and add the others as addr= parameters.
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo := ""
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, authority = authority[:i+1], authority[i+1:]
	}
	hosts := strings.Split(authority, ",")
	for _, h := range hosts {
		if hh, p, err := net.SplitHostPort(h); err != nil || hh == "" || p == "" {
			return clientConfig{}, fmt.Errorf("%s: host %q: want host:port", mode, h)
		}
	}
	u, err := url.Parse(base + "://" + userinfo + hosts[0] + tail)
	if err != nil {
		return clientConfig{}, err
	}
	q := u.Query()
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	if mode == "cluster" {
		if u.Path != "" && u.Path != "/" {
			return clientConfig{}, fmt.Errorf("cluster: a cluster has no database number (path %q)", u.Path)
		}
		u.Path = ""
		u.RawQuery = q.Encode()
		opts, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return clientConfig{}, err
		}
		return clientConfig{mode: mode, addrs: opts.Addrs, open: func() redis.UniversalClient { return redis.NewClusterClient(opts) }}, nil
	}
	// Sentinel: master= names the master set; the URL's credentials are
	// the master's, sentinel_* the sentinels'.
	if v := q.Get("master"); v != "" {
		q.Set("master_name", v)
		q.Del("master")
	}
	if q.Get("master_name") == "" {
		return clientConfig{}, errors.New("sentinel: master=NAME is required")
	}
	sentUser, sentPass := q.Get("sentinel_username"), q.Get("sentinel_password")
	q.Del("sentinel_username")
	q.Del("sentinel_password")
	u.RawQuery = q.Encode()
	opts, err := redis.ParseFailoverURL(u.String())
	if err != nil {
		return clientConfig{}, err
	}
	if opts.Username == "" && opts.Password == "" {
		opts.Username, opts.Password = opts.SentinelUsername, opts.SentinelPassword
	}
	opts.SentinelUsername, opts.SentinelPassword = sentUser, sentPass
	return clientConfig{mode: mode, addrs: opts.SentinelAddrs, open: func() redis.UniversalClient { return redis.NewFailoverClient(opts) }}, nil
}

// hashTag is the prefix as a Redis Cluster hash tag: every key of one
// prefix hashes to one slot, so WATCH/MULTI transactions, Lua scripts and
// multi-key commands never cross slots. A prefix that already holds a
// tag ("{x}" or "app:{x}") is used as it is.
func hashTag(prefix string) string {
	if i := strings.IndexByte(prefix, '{'); i >= 0 {
		if j := strings.IndexByte(prefix[i+1:], '}'); j > 0 {
			return prefix
		}
	}
	return "{" + prefix + "}"
}

// legacyTops are the first key segments the store wrote under the untagged
// prefix, before hash tags: only these move, so that another deployment
// whose prefix starts with this one ("p" and "p:eu") is left alone.
var legacyTops = map[string]bool{
	"listing": true, "listings": true, "alert": true, "alerts": true, "tmp": true,
	"users": true, "session": true, "audit": true, "watchlist": true, "sitestates": true,
	"sitesessions": true, "schema": true, "run": true, "runs": true, "page": true, "fetch": true,
	// Vendor profiles (issue 11): no untagged store wrote these, but a
	// layout moved back by hand (as the tests do) moves whole.
	"vendor": true, "vendorid": true, "vendorpage": true,
}

// migrateKeyNames renames, once, the keys an older precwatch wrote as
// "P:..." to "{P}:...". The marker key is written when every key moved;
// two processes may rename at once (a key already moved is skipped). A
// cluster never held the old names: the old store did not run on one.
func (s *Store) migrateKeyNames(ctx context.Context) error {
	if s.cluster || s.tag == s.prefix {
		return nil
	}
	marker := s.key("keys", "tagged")
	if n, err := s.rdb.Exists(ctx, marker).Result(); err != nil {
		return fmt.Errorf("read key layout marker: %w", err)
	} else if n == 1 {
		return nil
	}
	old := s.prefix + ":"
	pattern := globEscape(old) + "*"
	moved := 0
	var cursor uint64
	for {
		keys, next, err := s.rdb.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return fmt.Errorf("scan old keys: %w", err)
		}
		for _, k := range keys {
			rest := k[len(old):]
			top, _, _ := strings.Cut(rest, ":")
			if !legacyTops[top] {
				continue
			}
			err := s.rdb.RenameNX(ctx, k, s.tag+":"+rest).Err()
			switch {
			case err == nil:
				moved++
			case strings.Contains(err.Error(), "no such key"):
			default:
				return fmt.Errorf("rename %s: %w", k, err)
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if err := s.rdb.Set(ctx, marker, time.Now().UTC().Format(time.RFC3339), 0).Err(); err != nil {
		return fmt.Errorf("write key layout marker: %w", err)
	}
	if moved > 0 {
		s.logger.Warn("redis keys renamed to the hash-tagged layout", "keys", moved, "from", old+"*", "to", s.tag+":*")
	}
	return nil
}

func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// transient reports whether err is Redis being unreachable, restarting or
// failing over, rather than an answer: the operation may succeed later.
func transient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, redis.ErrClosed) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // a closed client stays closed; the caller gave up
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, redis.ErrPoolTimeout) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"LOADING", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "READONLY", "BUSY ", "connection refused", "connection reset", "broken pipe", "i/o timeout"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// outageBackoff is the wait before the attempt-th retry while Redis is
// unreachable: exponential from 50 ms to 2 s, with jitter.
func outageBackoff(attempt int) time.Duration {
	d := 50 * time.Millisecond << min(attempt, 6)
	d = min(d, 2*time.Second)
	return d/2 + rand.N(d/2+1)
}

// Ping reports whether Redis answers (for the daemon's store-up gauge). It
// reads a key of the prefix rather than sending PING, so that on a cluster
// it asks the master that holds this prefix's slot, not any node.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Exists(ctx, s.key("schema")).Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

// Mode is the deployment the store talks to: single, cluster or sentinel.
func (s *Store) Mode() string { return s.mode }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
