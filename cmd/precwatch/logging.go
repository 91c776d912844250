package main

import (
	"log/slog"
	"strings"
)

// logOptions are the handler options of every log: a time.Duration is
// written as a number of seconds under a key ending in _s ("wait_s":1.5),
// in JSON (where slog would write nanoseconds) and text alike, so that a
// log pipeline reads one unit everywhere.
func logOptions(level slog.Leveler) *slog.HandlerOptions {
	return &slog.HandlerOptions{Level: level, ReplaceAttr: secondsAttr}
}

func secondsAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindDuration {
		return a
	}
	key := a.Key
	if !strings.HasSuffix(key, "_s") {
		key += "_s"
	}
	return slog.Float64(key, a.Value.Duration().Seconds())
}
