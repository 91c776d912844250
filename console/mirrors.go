package console

import (
	"time"

	"github.com/precwatch/precwatch"
)

// mirrorRow is one of a site's mirrors on the sites and site pages: the
// state recorded by the site's latest finished run that had mirrors.
type mirrorRow struct {
	precwatch.MirrorStatus
}

// LatencyText is the latency rounded for people; empty when unknown.
func (m mirrorRow) LatencyText() string {
	if m.Latency <= 0 {
		return ""
	}
	return m.Latency.Round(time.Millisecond).String()
}

// mirrorRows picks the mirror state from runs, newest first: a running run
// has none yet, so the latest run that recorded mirrors is used.
func mirrorRows(runs []precwatch.Run) []mirrorRow {
	for _, r := range runs {
		if len(r.Mirrors) == 0 {
			continue
		}
		out := make([]mirrorRow, len(r.Mirrors))
		for i, m := range r.Mirrors {
			out[i] = mirrorRow{m}
		}
		return out
	}
	return nil
}
