package precwatch

import (
	"fmt"
	"strings"
)

// Severity ranks a match or an alert; a higher value is more severe.
type Severity int

// Severities, from the least to the most severe. A SeverityPolicy decides
// which a match gets (see DefaultSeverityPolicy); the matchers' own are by
// list membership alone.
const (
	SeverityNone Severity = iota
	// SeverityLow: by default EU Annex II, and CWC Schedule 3 without a
	// raising context.
	SeverityLow
	// SeverityMedium: by default EU Annex I with no strength stated, and
	// Schedule 3 raised by one context.
	SeverityMedium
	// SeverityHigh: by default CWC Schedule 2, EU Annex I over its limit,
	// and Schedule 3 raised by two contexts or more.
	SeverityHigh
	// SeverityCritical: by default CWC Schedule 1.
	SeverityCritical
)

var severityNames = [...]string{"none", "low", "medium", "high", "critical"}

// String returns the lower-case name of s.
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// MarshalText encodes s by name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity parses a severity name such as "high".
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(n, name) {
			return Severity(i), nil
		}
	}
	return SeverityNone, fmt.Errorf("%w: severity %q (want one of %s)", ErrInvalid, name, strings.Join(severityNames[:], ", "))
}

// Match is one watchlist substance found in a listing, with its explanation.
type Match struct {
	Substance string   `json:"substance"`
	Name      string   `json:"name"`
	Regime    Regime   `json:"regime"`
	Severity  Severity `json:"severity"`
	// Term is the watchlist term that matched; Kind says what sort of term
	// it is (name, synonym, formula, cas, abbreviation).
	Term string `json:"term"`
	Kind string `json:"kind"`
	// Field, Start and End locate the match in the listing's original text
	// (byte offsets into Title or Description); Text is that span.
	Field string `json:"field"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	Text  string `json:"text"`
	// ConcentrationPercent is the strength stated next to the match in % w/w
	// (for ammonium nitrate, % nitrogen), nil when none is stated.
	ConcentrationPercent *float64 `json:"concentration_percent"`
	LimitPercent         *float64 `json:"limit_percent,omitempty"`
	// OverLimit is nil when no strength is stated or the regime has no limit.
	OverLimit *bool `json:"over_limit"`
	// Quantity is the amount offered of the substance, when stated.
	Quantity *Quantity `json:"quantity,omitempty"`
	// Steps names the normalisation steps that led to the match (e.g.
	// "nfkc", "homoglyph", "leetspeak", "joined-separators").
	Steps []string `json:"normalisation,omitempty"`
	// Score ranks the match (higher is more urgent); Reasons explain it.
	Score   float64  `json:"score"`
	Reasons []string `json:"reasons,omitempty"`
	// Suppressed says why an analyst's suppression silenced the match.
	Suppressed string `json:"suppressed,omitempty"`
}

// Quantity is an amount stated in a listing, as written and in a base unit.
type Quantity struct {
	// Value and Unit are as written ("25", "kg"); Count is a pack
	// multiplier ("x10"), 1 when none.
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	Count int     `json:"count,omitempty"`
	// Grams or Millilitres is the total in its base unit, by dimension.
	Grams       float64 `json:"grams,omitempty"`
	Millilitres float64 `json:"millilitres,omitempty"`
	Text        string  `json:"text"`
}

// Alertable reports whether the match should raise an alert: everything
// except a substance stated to be at or under its regulatory limit, or a
// match an analyst suppressed.
func (m Match) Alertable() bool {
	return m.Severity > SeverityNone && m.Suppressed == "" && (m.OverLimit == nil || *m.OverLimit)
}

// Matcher finds watchlist substances in a listing. Implementations are safe
// for concurrent use and do no I/O.
type Matcher interface {
	Match(l Listing) []Match
}
