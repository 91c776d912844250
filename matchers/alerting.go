package matchers

import (
	"slices"

	"github.com/precwatch/precwatch"
)

// One strength per substance per listing: a seller states it once, often
// in the title, and names the substance again without it. A match with no
// strength of its own takes the one stated for the same substance
// elsewhere in the listing (the highest, when several are), so that the
// listing is judged against the limit once, not alerted for the mention
// that lacks it.
func (m *Matcher) shareStrengths(staged []staged) {
	// The usual listing names a few substances: a linear scan per match
	// without a strength, over the distinct substances with one.
	type stated struct {
		sub  int
		conc float64
	}
	var buf [8]stated
	best := buf[:0]
	missing := false
	for i := range staged {
		st := &staged[i]
		if !st.hasConc {
			missing = true
			continue
		}
		k := slices.IndexFunc(best, func(b stated) bool { return b.sub == st.ref.sub })
		switch {
		case k < 0:
			best = append(best, stated{st.ref.sub, st.conc})
		case st.conc > best[k].conc:
			best[k].conc = st.conc
		}
	}
	if !missing || len(best) == 0 {
		return
	}
	for i := range staged {
		st := &staged[i]
		if st.hasConc {
			continue
		}
		k := slices.IndexFunc(best, func(b stated) bool { return b.sub == st.ref.sub })
		if k < 0 {
			continue
		}
		sub := &m.subs[st.ref.sub]
		st.conc, st.hasConc, st.shared = best[k].conc, true, true
		st.over = sub.limit != nil && st.conc > *sub.limit
	}
}

// The alerting rule, as each match states it (Reasons, last): a match
// alerts unless a strength at or under its regime's limit is stated for it
// (then it is reported by match, and kept with the listing, but raises no
// alert) or an analyst suppressed it (Match.Suppressed says so). It is
// precwatch.Match.Alertable.
const (
	ruleOver      = "alerts: over the limit"
	ruleOverElse  = "alerts: over the limit (strength stated elsewhere in the listing)"
	ruleNoStr     = "alerts: no strength stated"
	ruleNoLimit   = "alerts: the regime sets no limit"
	ruleUnder     = "no alert: at or under the limit (reported only)"
	ruleUnderElse = "no alert: at or under the limit, as stated elsewhere in the listing (reported only)"
)

// alertRule says why m alerts or not, before suppressions.
func alertRule(m *precwatch.Match, shared bool) string {
	switch {
	case m.Severity == precwatch.SeverityNone:
		return ""
	case m.LimitPercent == nil:
		return ruleNoLimit
	case m.OverLimit == nil:
		return ruleNoStr
	case *m.OverLimit && shared:
		return ruleOverElse
	case *m.OverLimit:
		return ruleOver
	case shared:
		return ruleUnderElse
	}
	return ruleUnder
}
