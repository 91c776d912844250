package main

import (
	"time"

	"github.com/precwatch/precwatch"
	"github.com/precwatch/precwatch/internal/yamlfile"
)

// negativeNumbers names each negative limit, duration or count of site i,
// each at its own field: "sites[1].limits.max_pages: must be >= 0, got -3".
func negativeNumbers(doc *yamlfile.Doc, i int, s precwatch.Site) yamlfile.Errors {
	var errs yamlfile.Errors
	check := func(v any, negative bool, group, name string) {
		if negative {
			errs = append(errs, doc.Errorf([]any{"sites", i, group, name}, "must be >= 0, got %v", v))
		}
	}
	count := func(v int64, group, name string) { check(v, v < 0, group, name) }
	duration := func(v time.Duration, group, name string) { check(v, v < 0, group, name) }

	p := s.Politeness
	count(int64(p.Parallelism), "politeness", "parallelism")
	duration(p.Delay, "politeness", "delay")
	duration(p.RandomDelay, "politeness", "random_delay")

	l := s.Limits
	count(int64(l.MaxPages), "limits", "max_pages")
	count(int64(l.MaxDepth), "limits", "max_depth")
	count(l.MaxBodyBytes, "limits", "max_body_bytes")
	duration(l.RequestTimeout, "limits", "request_timeout")
	duration(l.RunTimeout, "limits", "run_timeout")
	count(int64(l.Retries), "limits", "retries")
	return errs
}
