package main

// Store faults (issue 9): go-redis's own log lines go through the
// command's slog logger, so --log-format json stays JSON during an outage;
// the daemon checks the store every second, exports precwatch_store_up and
// logs when the store goes away and when it is back.

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/yamlfile"
	goredis "github.com/redis/go-redis/v9"
)

// redisSlog is go-redis's logger: each line becomes a warning of the
// logger of the command that opened the store.
type redisSlog struct {
	logger atomic.Pointer[slog.Logger]
}

func (r *redisSlog) Printf(ctx context.Context, format string, v ...any) {
	l := r.logger.Load()
	if l == nil {
		return
	}
	if ctx == nil {
		ctx = context.Background()
	}
	msg := strings.TrimSpace(yamlfile.RedactURLs(fmt.Sprintf(format, v...)))
	l.Log(ctx, slog.LevelWarn, "redis client", "store", "redis", "message", msg)
}

var (
	redisLog     = &redisSlog{}
	redisLogOnce sync.Once
)

// useRedisLogger sends go-redis's log lines to logger. go-redis has one
// logger per process; the last command to open a Redis store owns it.
func useRedisLogger(logger *slog.Logger) {
	redisLog.logger.Store(logger)
	redisLogOnce.Do(func() { goredis.SetLogger(redisLog) })
}

// storeCheckEvery is how often the daemon checks that the store answers.
const storeCheckEvery = time.Second

// pinger is a store that can say whether it answers (Redis; a file store
// is always there).
type pinger interface {
	Ping(ctx context.Context) error
}

// watchStore exports precwatch_store_up (1 when the store answers its last
// check) and logs at error when the store stops answering, at warn every
// 30 s while it stays down, and when it answers again. It returns when ctx
// is done.
func (m *Main) watchStore(ctx context.Context, store precwatch.Store, reg *prometheus.Registry) {
	up := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "precwatch_store_up",
		Help: "Whether the store answered its last check (1) or not (0); checked every second.",
	})
	reg.MustRegister(up)
	up.Set(1)
	p, ok := store.(pinger)
	if !ok {
		return
	}
	go func() {
		t := time.NewTicker(storeCheckEvery)
		defer t.Stop()
		var downSince, lastLog time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			pctx, cancel := context.WithTimeout(ctx, storeCheckEvery)
			err := p.Ping(pctx)
			cancel()
			if ctx.Err() != nil {
				return
			}
			now := time.Now()
			switch {
			case err == nil && !downSince.IsZero():
				up.Set(1)
				m.logger.Warn("store answers again", "down_for", now.Sub(downSince).Round(time.Millisecond))
				downSince = time.Time{}
			case err == nil:
				up.Set(1)
			case downSince.IsZero():
				up.Set(0)
				downSince, lastLog = now, now
				m.logger.Error("store unreachable: runs will fail until it is back", "error", yamlfile.RedactError(err))
			case now.Sub(lastLog) >= 30*time.Second:
				lastLog = now
				m.logger.Error("store still unreachable", "down_for", now.Sub(downSince).Round(time.Second), "error", yamlfile.RedactError(err))
			}
		}
	}()
}
