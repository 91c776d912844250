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
		sub    int
		conc   float64
		stated string
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
			best = append(best, stated{st.ref.sub, st.conc, st.stated})
		case st.conc > best[k].conc:
			best[k].conc, best[k].stated = st.conc, st.stated
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
		st.conc, st.stated, st.hasConc, st.shared = best[k].conc, best[k].stated, true, true
		st.over = sub.limit != nil && st.conc > *sub.limit
	}
}

// loneStrength reads a listing that names one substance, never beside a
// strength, and states exactly one strength elsewhere (beside a clipped
// name the matcher did not take, or alone: "K-perc, 99.2% assay",
// "34-0-0, i.e. 34% N"): a reader takes that strength for the substance.
// It is applied only when it puts the substance over its limit: a stray
// figure under the limit must not silence the alert that an unknown
// strength raises.
func (m *Matcher) loneStrength(sc *scratch, l precwatch.Listing) {
	sub := sc.staged[0].ref.sub
	for i := range sc.staged {
		if st := &sc.staged[i]; st.hasConc || st.ref.sub != sub {
			return
		}
	}
	s := &m.subs[sub]
	if s.limit == nil || len(l.Title)+len(l.Description) > loneStrengthMaxBytes {
		return
	}
	// matchField read strengths only around the names; read the listing
	// whole, now that the buffers are free, for its distinct strengths.
	var lone strength
	n := 0
	for _, text := range [2]string{l.Title, l.Description} {
		sc.arena, sc.words, sc.nums = sc.arena[:0], sc.words[:0], sc.nums[:0]
		toks := tokenizeRange(text, 0, len(text), sc.toks[:0], sc)
		finishTokens(toks, sc)
		sc.toks = toks
		sc.strengths = findStrengths(text, toks, sc.nums, sc.strengths[:0])
		for _, x := range sc.strengths {
			x.first, x.last = 0, 0 // token indexes mean nothing across fields
			if n == 0 || x != lone {
				lone, n = x, n+1
			}
		}
		if n > 1 {
			return
		}
	}
	v, ok := percentOf(lone, s)
	if n != 1 || !ok || v <= *s.limit {
		return
	}
	for i := range sc.staged {
		st := &sc.staged[i]
		st.conc, st.hasConc, st.over, st.lone = v, true, true, true
	}
}

// loneStrengthMaxBytes bounds the listings loneStrength reads whole: a
// listing longer than a page of text is a catalogue, whose strengths are
// not one product's.
const loneStrengthMaxBytes = 8 << 10

// The alerting rule, as each match states it (Reasons, last): a match
// alerts unless a strength at or under its regime's limit is stated for it
// (then it is reported by match, and kept with the listing, but raises no
// alert) or an analyst suppressed it (Match.Suppressed says so). It is
// precwatch.Match.Alertable.
const (
	ruleOver      = "alerts: over the limit"
	ruleOverElse  = "alerts: over the limit (strength stated elsewhere in the listing)"
	ruleOverLone  = "alerts: over the limit (the listing's only strength, stated apart from the name)"
	ruleNoStr     = "alerts: no strength stated"
	ruleNoLimit   = "alerts: the regime sets no limit"
	ruleUnder     = "no alert: at or under the limit (reported only)"
	ruleUnderElse = "no alert: at or under the limit, as stated elsewhere in the listing (reported only)"
)

// alertRule says why m alerts or not, before suppressions.
func alertRule(m *precwatch.Match, shared, lone bool) string {
	switch {
	case m.Severity == precwatch.SeverityNone:
		return ""
	case m.LimitPercent == nil:
		return ruleNoLimit
	case m.OverLimit == nil:
		return ruleNoStr
	case *m.OverLimit && lone:
		return ruleOverLone
	case *m.OverLimit && shared:
		return ruleOverElse
	case *m.OverLimit:
		return ruleOver
	case shared:
		return ruleUnderElse
	}
	return ruleUnder
}
