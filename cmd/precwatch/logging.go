package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/precwatch/precwatch/internal/yamlfile"
)

// logOptions are the handler options of every log: a time.Duration is
// written as a number of seconds under a key ending in _s ("wait_s":1.5),
// in JSON (where slog would write nanoseconds) and text alike, so that a
// log pipeline reads one unit everywhere; and the password of any URL in a
// message, a text or an error is hidden, whichever package logged it (a
// start URL's user:password rides along in the crawler's URLs).
func logOptions(level slog.Leveler) *slog.HandlerOptions {
	return &slog.HandlerOptions{Level: level, ReplaceAttr: logAttr}
}

func logAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); strings.Contains(s, "://") {
			return slog.String(a.Key, yamlfile.RedactURLs(s))
		}
		return a
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			return slog.String(a.Key, yamlfile.RedactURLs(err.Error()))
		}
		if s, ok := a.Value.Any().(fmt.Stringer); ok {
			return slog.String(a.Key, yamlfile.RedactURLs(s.String()))
		}
		return a
	case slog.KindDuration:
	default:
		return a
	}
	key := a.Key
	if !strings.HasSuffix(key, "_s") {
		key += "_s"
	}
	return slog.Float64(key, a.Value.Duration().Seconds())
}
