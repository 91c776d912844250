package redistest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ServerCPU returns the CPU time (user and system) the Redis server behind
// rdb has used (INFO cpu), so benchmarks can report Redis's own cost per
// operation beside the client's.
func ServerCPU(ctx context.Context, rdb goredis.UniversalClient) (time.Duration, error) {
	total, err := infoSum(ctx, rdb, "cpu", "used_cpu_sys", "used_cpu_user")
	return time.Duration(total * float64(time.Second)), err
}

// ServerMemory returns the bytes the Redis server behind rdb holds (INFO
// memory, used_memory), so benchmarks can report what a listing costs in
// Redis's memory.
func ServerMemory(ctx context.Context, rdb goredis.UniversalClient) (int64, error) {
	used, err := infoSum(ctx, rdb, "memory", "used_memory")
	return int64(used), err
}

// ServerCommands returns how many commands the Redis server behind rdb
// has run (INFO stats, total_commands_processed; a MULTI's commands each,
// and the MULTI and EXEC).
func ServerCommands(ctx context.Context, rdb goredis.UniversalClient) (int64, error) {
	n, err := infoSum(ctx, rdb, "stats", "total_commands_processed")
	return int64(n), err
}

// infoSum returns the sum of the numeric fields keys of INFO section.
func infoSum(ctx context.Context, rdb goredis.UniversalClient, section string, keys ...string) (float64, error) {
	info, err := rdb.Info(ctx, section).Result()
	if err != nil {
		return 0, fmt.Errorf("redistest: INFO %s: %w", section, err)
	}
	var total float64
	for line := range strings.Lines(info) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && slices.Contains(keys, k) {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("redistest: INFO %s %s: %w", section, k, err)
			}
			total += f
		}
	}
	return total, nil
}

// CommandStat is one command's figures in INFO commandstats: how many
// times the server ran it and the microseconds it spent in it (a MULTI's
// commands each, and again in the EXEC that ran them).
type CommandStat struct {
	Calls, Usec int64
}

// CommandStats returns the server's INFO commandstats by command name
// ("sadd", "exec", "config|resetstat"), so that a benchmark can tell which
// commands a workload's server time goes to; CONFIG RESETSTAT zeroes them.
func CommandStats(ctx context.Context, rdb goredis.UniversalClient) (map[string]CommandStat, error) {
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, fmt.Errorf("redistest: INFO commandstats: %w", err)
	}
	out := map[string]CommandStat{}
	for line := range strings.Lines(info) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		var st CommandStat
		for f := range strings.SplitSeq(rest, ",") {
			k, v, _ := strings.Cut(f, "=")
			var dst *int64
			switch k {
			case "calls":
				dst = &st.Calls
			case "usec":
				dst = &st.Usec
			default:
				continue
			}
			if *dst, err = strconv.ParseInt(v, 10, 64); err != nil {
				return nil, fmt.Errorf("redistest: INFO commandstats %s %s: %w", name, k, err)
			}
		}
		out[strings.TrimPrefix(name, "cmdstat_")] = st
	}
	return out, nil
}
